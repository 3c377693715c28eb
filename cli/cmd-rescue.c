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
#define DEFAULT_MAP_INTERVAL 1.0

static int rescue_check(struct cli_args *a)
{
	if (a->seen & OPTF(OPT_CLUSTER)) {
		if (!a->cluster || a->cluster % UDAX_PAGE_SIZE || a->cluster > (256u << 20))
			return cli_usage_err("--cluster-size",
					     "must be a multiple of %d, at most 256M",
					     UDAX_PAGE_SIZE);
	} else {
		a->cluster = DEFAULT_CLUSTER;
	}
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

static int summary(struct cli_args *a, const struct map *m,
		   const struct rescue_stats *st)
{
	uint64_t nt, ntr, ns, bad, fin;
	struct udax_range *areas;
	size_t na = 0;
	int rc = EXIT_OK;

	map_totals(m, &nt, &ntr, &ns, &bad, &fin);
	areas = calloc(m->n + 1, sizeof(*areas));
	if (!areas) {
		cli_err(a->pos[0], "out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->b[i].status == MAP_BAD)
			areas[na++] = (struct udax_range){ m->b[i].pos, m->b[i].size };

	if (a->json) {
		struct json_object *o = json_object_new_object();

		json_add_str(o, "dev", a->pos[0]);
		json_add_str(o, "output", a->pos[1]);
		json_add_str(o, "mapfile", a->pos[2]);
		json_add_size(o, "size", map_extent(m));
		json_add_size(o, "rescued_bytes", fin);
		json_add_size(o, "bad_bytes", bad);
		json_add_size(o, "non_tried_bytes", nt);
		json_add_size(o, "non_trimmed_bytes", ntr);
		json_add_size(o, "non_scraped_bytes", ns);
		json_add_size(o, "rescued_this_run_bytes", st->rescued_run);
		json_add_u64(o, "read_errors", st->read_errors);
		json_add(o, "seconds", json_object_new_double(st->seconds));
		json_add_bool(o, "finished", m->current_status == MAP_FINISHED);
		json_add_u64(o, "bad_area_count", na);
		json_add(o, "bad_areas", json_ranges(areas, na));
		rc = json_print(o);
	} else {
		char x[32], y[32];

		printf("rescued %llu of %llu bytes (%s of %s)\n"
		       "bad areas: %zu (%llu bytes); map: %s\n",
		       (unsigned long long)fin, (unsigned long long)map_extent(m),
		       fmt_size(fin, x), fmt_size(map_extent(m), y), na,
		       (unsigned long long)bad, a->pos[2]);
	}
	free(areas);
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
	uint64_t size, claimed = 0;
	int rc, fd = -1;

	map_init(&map);
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
		if (claimed && (!have_out || (uint64_t)ost.st_size < claimed)) {
			rc = cli_usage_err(mpath, "claims %llu bytes rescued, but %s %s",
					   (unsigned long long)claimed, opath,
					   have_out ? "is shorter" : "does not exist");
			goto out;
		}
	}

	size = udax_size(dev);
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
	if ((uint64_t)ost.st_size < size && ftruncate(fd, (off_t)size)) {
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
	ro.retries = (unsigned int)a->retries;
	ro.cluster = a->cluster;
	ro.map_interval = a->map_interval;
	ro.max_rate = a->max_rate;
	ro.progress = isatty(2);
	ro.comments = header_comments(a);
	if (!ro.comments) {
		rc = cli_errno(mpath, -ENOMEM);
		goto out;
	}
	rc = rescue(&ro, &map, &st);
	free((char *)ro.comments);
	if (rc == -EINTR) {
		cli_err(dpath, "interrupted; run the same command again to resume from %s", mpath);
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
	rc = summary(a, &map, &st);
	if (!rc) {
		uint64_t nt, ntr, ns, bad, fin;

		map_totals(&map, &nt, &ntr, &ns, &bad, &fin);
		if (fin < size) {
			cli_err(dpath, "%llu bytes could not be read (bad areas in %s)",
				(unsigned long long)(size - fin), mpath);
			rc = EXIT_PARTIAL;
		}
	}
out:
	if (fd >= 0 && close(fd) && !rc)
		rc = cli_errno(opath, -errno);
	udax_close(dev);
	map_free(&map);
	return rc;
}

static const char *const rescue_pos[] = { "DEV", "OUT", "MAPFILE" };

const struct cli_cmd cmd_rescue = {
	.name = "rescue",
	.synopsis = "DEV OUT MAPFILE [--reverse] [--retries N] [--json] [--map-interval SECONDS] [--cluster-size SIZE] [--max-rate SIZE]",
	.summary = "copy every readable byte of DEV to OUT, keeping a GNU ddrescue map (resumable)",
	.opts = OPTF(OPT_REVERSE) | OPTF(OPT_RETRIES) | OPTF(OPT_JSON) |
		OPTF(OPT_MAP_INTERVAL) | OPTF(OPT_CLUSTER) | OPTF(OPT_MAX_RATE),
	.pos_names = rescue_pos,
	.min_pos = 3,
	.max_pos = 3,
	.check = rescue_check,
	.run = rescue_run,
};
