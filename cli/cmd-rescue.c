/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax rescue DEV OUT MAPFILE [--reverse] [--retries N] [--json]
 *
 * Copy every readable byte of DEV to OUT, keeping a GNU ddrescue map.
 * Everything that can be checked without touching DEV or OUT is checked
 * first (usage errors, exit 2): the arguments, that OUT is a regular file,
 * that the three names are different files, that an existing map parses,
 * fits the device, and does not claim data OUT does not have.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <udax/udax.h>

#include "cli.h"
#include "json.h"
#include "mapfile.h"
#include "rescue.h"
#include "util.h"

#define DEFAULT_CLUSTER (64u << 10)
#define UDAX_SECTORS_PER_PAGE_CLI (UDAX_PAGE_SIZE / UDAX_SECTOR_SIZE)
#define DEFAULT_MAP_INTERVAL 1.0

static int rescue_check(struct cli_args *a)
{
	/* ddrescue's -c counts 512-byte sectors; poison makes whole pages
	 * unreadable, so a cluster is whole pages. */
	if (a->seen & OPTF(OPT_CLUSTER)) {
		if (!a->cluster || a->cluster % UDAX_SECTORS_PER_PAGE_CLI ||
		    a->cluster > (256u << 20) / UDAX_SECTOR_SIZE)
			return cli_usage_err("--cluster-size",
					     "must be a multiple of %d sectors (a page), at most 256Mi bytes",
					     UDAX_SECTORS_PER_PAGE_CLI);
		a->cluster *= UDAX_SECTOR_SIZE;
	} else {
		a->cluster = DEFAULT_CLUSTER;
	}
	if ((a->seen & OPTF(OPT_DOMAIN)) && !a->domain)
		return cli_usage_err("--size", "must not be 0");
	if (a->quiet && a->progress && strcmp(a->progress, "none"))
		return cli_usage_err("--progress", "and --quiet: choose one");
	if ((a->seen & OPTF(OPT_MAX_RATE)) && a->max_rate < UDAX_PAGE_SIZE)
		return cli_usage_err("--max-rate", "must be at least %d bytes per second",
				     UDAX_PAGE_SIZE);
	if (!(a->seen & OPTF(OPT_MAP_INTERVAL)))
		a->map_interval = DEFAULT_MAP_INTERVAL;
	return EXIT_OK;
}

/* The same file under two names? */
static bool same_file(const struct stat *x, const struct stat *y)
{
	return x->st_dev == y->st_dev && x->st_ino == y->st_ino;
}

/* "# Mapfile. ...", "# Command line: ...", "# Start time: ..." */
static char *header_comments(struct cli_args *a)
{
	size_t cap = 256, len;
	char *s, now[64];
	time_t t = time(NULL);
	struct tm tm;

	for (int i = 0; i < a->argc; i++)
		cap += strlen(a->argv[i]) + 1;
	s = malloc(cap);
	if (!s)
		return NULL;
	len = (size_t)snprintf(s, cap, "# Mapfile. Created by udax %s (GNU ddrescue mapfile format)\n# Command line:",
			       udax_version());
	for (int i = 0; i < a->argc; i++) {
		s[len++] = ' ';
		/* A newline in a file name must not end the comment. */
		for (const char *p = a->argv[i]; *p; p++)
			s[len++] = (*p == '\n' || *p == '\r') ? '?' : *p;
	}
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	snprintf(s + len, cap - len, "\n# Start time:   %s\n", now);
	return s;
}

/* Bytes per status within [lo, hi), and the bad areas there. */
struct dom_totals {
	uint64_t by[256];
	struct udax_range *areas;
	size_t na;
};

static int dom_totals(const struct map *m, uint64_t lo, uint64_t hi,
		      struct dom_totals *t)
{
	memset(t->by, 0, sizeof(t->by));
	t->na = 0;
	t->areas = calloc(m->n + 1, sizeof(*t->areas));
	if (!t->areas)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t a = m->b[i].pos > lo ? m->b[i].pos : lo;
		uint64_t b = m->b[i].pos + m->b[i].size < hi ? m->b[i].pos + m->b[i].size : hi;

		if (a >= b)
			continue;
		t->by[(unsigned char)m->b[i].status] += b - a;
		if (m->b[i].status == MAP_BAD)
			t->areas[t->na++] = (struct udax_range){ a, b - a };
	}
	return 0;
}

/* Percent rescued, never shown as 100 while bytes are lost. */
static double pct(uint64_t fin, uint64_t size)
{
	double p = size ? 100.0 * (double)fin / (double)size : 100.0;

	return fin < size && p > 99.99 ? 99.99 : p;
}

static int summary(struct cli_args *a, const struct map *m,
		   const struct rescue_stats *st, uint64_t lo, uint64_t hi)
{
	struct dom_totals t;
	uint64_t fin;
	int rc = EXIT_OK;

	if (dom_totals(m, lo, hi, &t)) {
		cli_err(a->pos[0], "out of memory");
		return EXIT_FAIL;
	}
	fin = t.by[MAP_FINISHED];
	if (a->json) {
		struct json_object *o = json_object_new_object();

		json_add_str(o, "dev", a->pos[0]);
		json_add_str(o, "output", a->pos[1]);
		json_add_str(o, "mapfile", a->pos[2]);
		json_add_hex(o, "domain_offset_bytes", lo);
		json_add_size(o, "size", hi - lo);
		json_add_size(o, "rescued_bytes", fin);
		json_add(o, "pct_rescued", json_object_new_double(pct(fin, hi - lo)));
		json_add_size(o, "bad_bytes", t.by[MAP_BAD]);
		json_add_size(o, "non_tried_bytes", t.by[MAP_NONTRIED]);
		json_add_size(o, "non_trimmed_bytes", t.by[MAP_NONTRIMMED]);
		json_add_size(o, "non_scraped_bytes", t.by[MAP_NONSCRAPED]);
		json_add_size(o, "rescued_this_run_bytes", st->rescued_run);
		json_add_u64(o, "read_errors", st->read_errors);
		json_add(o, "seconds", json_object_new_double(st->seconds));
		json_add_bool(o, "finished", m->current_status == MAP_FINISHED);
		json_add_u64(o, "bad_area_count", t.na);
		json_add(o, "bad_areas", json_ranges(t.areas, t.na));
		rc = json_print(o);
	} else if (!a->quiet) {
		char x[32], y[32];

		printf("rescued %llu of %llu bytes (%.2f%%: %s of %s)\n"
		       "bad areas: %zu (%llu bytes); map: %s\n",
		       (unsigned long long)fin, (unsigned long long)(hi - lo),
		       pct(fin, hi - lo), fmt_size(fin, x), fmt_size(hi - lo, y), t.na,
		       (unsigned long long)t.by[MAP_BAD], a->pos[2]);
		if (t.by[MAP_NONTRIMMED] || t.by[MAP_NONSCRAPED])
			printf("not tried further (-N/-n): %llu bytes\n",
			       (unsigned long long)(t.by[MAP_NONTRIMMED] + t.by[MAP_NONSCRAPED]));
	}
	free(t.areas);
	return rc;
}

static int rescue_run(struct cli_args *a)
{
	const char *dpath = a->pos[0], *opath = a->pos[1], *mpath = a->pos[2];
	struct stat dst, ost, mst;
	bool have_out, have_map;
	struct rescue_stats st;
	struct rescue_opts ro;
	struct udax_dev *dev = NULL;
	struct map map;
	uint64_t size, claimed = 0, lo, hi, out_end;
	int64_t delta;
	FILE *events = NULL, *rates = NULL;
	int rc, fd = -1;

	map_init(&map);
	memset(&st, 0, sizeof(st));
	/* Checks that touch nothing. */
	if (stat(dpath, &dst))
		return cli_errno(dpath, -errno);
	have_out = !stat(opath, &ost);
	if (!have_out && errno != ENOENT)
		return cli_errno(opath, -errno);
	if (have_out && !S_ISREG(ost.st_mode))
		return cli_usage_err(opath, "not a regular file");
	have_map = !stat(mpath, &mst);
	if (!have_map && errno != ENOENT)
		return cli_errno(mpath, -errno);
	if (have_map && !S_ISREG(mst.st_mode))
		return cli_usage_err(mpath, "not a regular file");
	if ((have_out && same_file(&dst, &ost)) || (have_map && same_file(&dst, &mst)) ||
	    (have_out && have_map && same_file(&ost, &mst)) || !strcmp(opath, mpath))
		return cli_usage_err(mpath, "DEV, OUT and MAPFILE must be three different files");
	/* Opening the device reads its state; nothing is written yet. */
	rc = cli_open(dpath, CLI_OPEN_READ, &dev);
	if (rc)
		goto out;
	/* Overwriting the device's poison state forgets known poison. */
	{
		const char *sp = udax_state_path(dev);
		struct stat sst;

		if (sp && !stat(sp, &sst) &&
		    ((have_out && same_file(&sst, &ost)) ||
		     (have_map && same_file(&sst, &mst)))) {
			rc = cli_usage_err(have_out && same_file(&sst, &ost) ? opath : mpath,
					   "is %s's poison state file: choose another name",
					   dpath);
			goto out;
		}
	}
	if (have_map) {
		size_t line;
		const char *why;

		rc = map_load(mpath, &map, &line, &why);
		if (rc == -EINVAL || rc == -ERANGE) {
			if (line)
				cli_usage_err(mpath, "line %zu: %s: not a ddrescue map file", line,
					      why ? why : "malformed");
			else
				cli_usage_err(mpath, "%s", why ? why : "not a ddrescue map file");
			rc = EXIT_USAGE;
			goto out;
		}
		if (rc) {
			rc = cli_errno(mpath, rc);
			goto out;
		}
		for (size_t i = 0; i < map.n; i++)
			if (map.b[i].status == MAP_FINISHED)
				claimed = map.b[i].pos + map.b[i].size;
		/* The OUT position of DEV position p is p - ipos + opos. */
		if (claimed && (!have_out || (int64_t)ost.st_size <
				(int64_t)claimed + (int64_t)((a->seen & OPTF(OPT_OPOS) ?
							     a->opos : a->ipos) - a->ipos))) {
			rc = cli_usage_err(mpath, "claims %llu bytes rescued, but %s %s",
					   (unsigned long long)claimed, opath,
					   have_out ? "is shorter" : "does not exist");
			goto out;
		}
	}

	size = udax_size(dev);
	/* The rescue domain: [ipos, ipos + size) of DEV; its data goes to OUT
	 * from opos on (ddrescue's -i, -s, -o). */
	if (a->ipos >= size) {
		rc = cli_usage_err("--input-position", "%llu is past the end of %s (%llu bytes)",
				   (unsigned long long)a->ipos, dpath, (unsigned long long)size);
		goto out;
	}
	lo = a->ipos;
	hi = (a->seen & OPTF(OPT_DOMAIN)) && a->domain < size - lo ? lo + a->domain : size;
	if (!(a->seen & OPTF(OPT_OPOS)))
		a->opos = a->ipos;
	if (a->opos > (uint64_t)INT64_MAX - (hi - lo)) {
		rc = cli_usage_err("--output-position", "is too large");
		goto out;
	}
	delta = (int64_t)a->opos - (int64_t)a->ipos;
	out_end = (uint64_t)((int64_t)hi + delta);
	if (map_extent(&map) > size) {
		rc = cli_usage_err(mpath, "is for a device of %llu bytes; %s has %llu",
				   (unsigned long long)map_extent(&map), dpath,
				   (unsigned long long)size);
		goto out;
	}
	if (!have_map && map_reset(&map, size)) {
		rc = cli_errno(mpath, -ENOMEM);
		goto out;
	}
	if (map_extend(&map, size)) {
		rc = cli_errno(mpath, -ENOMEM);
		goto out;
	}
	if (have_map)
		cli_info("resuming from %s", mpath);

	/* OUT: created if missing, never truncated, at least the device's size. */
	fd = open(opath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = cli_errno(opath, -errno);
		goto out;
	}
	if (fstat(fd, &ost)) {
		rc = cli_errno(opath, -errno);
		goto out;
	}
	if (!S_ISREG(ost.st_mode)) {
		rc = cli_usage_err(opath, "not a regular file");
		goto out;
	}
	/* Two rescues into one OUT would undo each other's map. */
	{
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		if (fcntl(fd, F_OFD_SETLK, &fl)) {
			if (errno == EAGAIN || errno == EACCES)
				cli_err(opath, "in use by another udax rescue");
			else
				cli_errno(opath, -errno);
			rc = EXIT_FAIL;
			goto out;
		}
	}
	if ((uint64_t)ost.st_size < out_end && ftruncate(fd, (off_t)out_end)) {
		rc = cli_errno(opath, -errno);
		goto out;
	}

	memset(&ro, 0, sizeof(ro));
	ro.dev = dev;
	ro.dev_path = dpath;
	ro.out_path = opath;
	ro.map_path = mpath;
	ro.out_fd = fd;
	ro.reverse = a->reverse;
	ro.no_trim = a->no_trim;
	ro.no_scrape = a->no_scrape;
	ro.retries = (unsigned int)a->retries;
	ro.cluster = a->cluster;
	ro.map_interval = a->map_interval;
	ro.max_rate = a->max_rate;
	ro.dom_lo = lo;
	ro.dom_hi = hi;
	ro.out_delta = delta;
	ro.progress = a->quiet ? PROGRESS_NONE :
		      !a->progress ? (isatty(2) ? PROGRESS_TTY : PROGRESS_NONE) :
		      !strcmp(a->progress, "json") ? PROGRESS_JSON :
		      !strcmp(a->progress, "tty") ? PROGRESS_TTY : PROGRESS_NONE;
	if (a->log_events && !(events = fopen(a->log_events, "ae"))) {
		rc = cli_errno(a->log_events, -errno);
		goto out;
	}
	if (a->log_rates && !(rates = fopen(a->log_rates, "ae"))) {
		rc = cli_errno(a->log_rates, -errno);
		goto out;
	}
	ro.events = events;
	ro.rates = rates;
	ro.comments = header_comments(a);
	if (events) {
		fprintf(events, "%s# Local time       Run time  Ipos            Rescued bytes   Event\n",
			ro.comments ? ro.comments : "");
		rescue_event(events, 0, lo, 0, "Starting: domain %#llx+%#llx of %s",
			     (unsigned long long)lo, (unsigned long long)(hi - lo), dpath);
	}
	if (!ro.comments) {
		rc = cli_errno(mpath, -ENOMEM);
		goto out;
	}
	rc = rescue(&ro, &map, &st);
	free((char *)ro.comments);
	if (rc == -EINTR) {
		/* The map is saved: say so, then die of the signal, as ddrescue
		 * does, so that the caller sees 128 + n. */
		cli_err(dpath, "interrupted by signal %d; run the same command again to resume from %s",
			st.signo, mpath);
		rc = EXIT_FAIL;
		goto out;
	}
	if (rc == -ENXIO || !udax_alive(dev)) {
		rc = cli_errno(dpath, -ENXIO);
		goto out;
	}
	if (rc) {
		rc = cli_errno(rc == -ENOSPC || rc == -EIO ? opath : dpath, rc);
		goto out;
	}
	rc = summary(a, &map, &st, lo, hi);
	if (!rc) {
		struct dom_totals t;

		if (dom_totals(&map, lo, hi, &t)) {
			rc = cli_errno(dpath, -ENOMEM);
			goto out;
		}
		free(t.areas);
		if (t.by[MAP_FINISHED] < hi - lo) {
			/* The summary first, then the error line, even when
			 * both go to one file. */
			fflush(stdout);
			cli_err(dpath, "%llu bytes could not be read (bad areas in %s)",
				(unsigned long long)(hi - lo - t.by[MAP_FINISHED]), mpath);
			rc = EXIT_PARTIAL;
		}
	}
out:
	if (events)
		fclose(events);
	if (rates)
		fclose(rates);
	if (fd >= 0 && close(fd) && !rc)
		rc = cli_errno(opath, -errno);
	udax_close(dev);
	map_free(&map);
	if (st.signo) {
		fflush(stdout);
		signal(st.signo, SIG_DFL);
		raise(st.signo);
	}
	return rc;
}

static const char *const rescue_pos[] = { "DEV", "OUT", "MAPFILE" };

const struct cli_cmd cmd_rescue = {
	.name = "rescue",
	.synopsis = "DEV OUT MAPFILE [-R] [-r N] [-n] [-N] [-d] [-q] [-i POS] [-o POS] [-s SIZE] [-c SECTORS] [--json [-u]] [--progress tty|json|none] [--log-events FILE] [--log-rates FILE] [--map-interval SECONDS] [--max-rate SIZE]",
	.summary = "copy every readable byte of DEV to OUT, keeping a GNU ddrescue map (resumable)",
	.opts = OPTF(OPT_REVERSE) | OPTF(OPT_RETRIES) | OPTF(OPT_JSON) | OPTF(OPT_HUMAN) |
		OPTF(OPT_MAP_INTERVAL) | OPTF(OPT_CLUSTER) | OPTF(OPT_MAX_RATE) |
		OPTF(OPT_IPOS) | OPTF(OPT_OPOS) | OPTF(OPT_DOMAIN) | OPTF(OPT_NO_SCRAPE) |
		OPTF(OPT_NO_TRIM) | OPTF(OPT_QUIET) | OPTF(OPT_LOG_EVENTS) |
		OPTF(OPT_LOG_RATES) | OPTF(OPT_PROGRESS) | OPTF(OPT_IDIRECT),
	.pos_names = rescue_pos,
	.min_pos = 3,
	.max_pos = 3,
	.check = rescue_check,
	.run = rescue_run,
};
