/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rescue engine: GNU ddrescue's passes over a udax device, at page
 * granularity (poison makes a whole page unreadable, never less).
 *
 *  1 copying  '?'  cluster by cluster, udax_pread(): it returns the bytes
 *                  before the first poisoned page (known poison is skipped
 *                  with recovery reads, latent poison is found by the
 *                  guarded copy and becomes known).  The rest of a cluster
 *                  that stopped short becomes '*', and the pass goes on:
 *                  good areas first.
 *  2 trimming '*'  read forward from the leading edge up to the poisoned
 *                  page ('-'), then page by page back from the trailing
 *                  edge to the next poisoned page; what is between is '/'.
 *  3 scraping '/'  every page of what is left: read or '-'.
 *  4 retrying '-'  --retries N times, every bad page again.
 *
 * --reverse runs every pass from the end.  Crash safety: OUT data is
 * written, then OUT is fsync'd, then the map claiming it is saved (temp
 * file, fsync, rename).  A map on disk never claims data that OUT does not
 * hold, so a run killed at any point resumes from its map, redoes at most
 * what it did since the last save, and ends with the same OUT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <udax/udax.h>

#include "rescue.h"
#include "util.h"

struct rescue {
	const struct rescue_opts *o;
	struct map *map;
	struct rescue_stats *st;
	uint64_t size;
	char *buf;
	size_t bufsize;
	double t_start, t_save, t_progress;
	bool progress_shown;
	uint64_t tried;			/* bytes read or tried, for --max-rate */
	const char *phase;		/* for the map's comment */
};

static volatile sig_atomic_t rescue_stop;

static void on_signal(int sig)
{
	(void)sig;
	rescue_stop = 1;
}

/* ---- saving and progress ------------------------------------------------- */

static int save(struct rescue *r)
{
	char comments[4096], now[64];
	time_t t = time(NULL);
	struct tm tm;
	size_t len;
	char *text;
	int rc;

	/* The map may claim only what OUT holds durably. */
	if (fdatasync(r->o->out_fd))
		return -errno;
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	snprintf(comments, sizeof(comments), "%s# Current time: %s\n# %s\n",
		 r->o->comments ? r->o->comments : "", now, r->phase);
	text = map_format(r->map, comments, &len);
	if (!text)
		return -ENOMEM;
	rc = map_save(r->o->map_path, text, len);
	free(text);
	r->t_save = now_seconds();
	return rc;
}

static void progress(struct rescue *r, bool last)
{
	uint64_t nt, ntr, ns, bad, fin, left;
	size_t areas = 0;
	double el = now_seconds() - r->t_start, rate;
	char a[32], b[32], c[32], d[32], eta[32];

	map_totals(r->map, &nt, &ntr, &ns, &bad, &fin);
	for (size_t i = 0; i < r->map->n; i++)
		areas += r->map->b[i].status == MAP_BAD;
	rate = el > 0 ? (double)r->st->rescued_run / el : 0;
	left = nt + ntr + ns;
	if (last || !left)
		snprintf(eta, sizeof(eta), "done");
	else if (rate < 1)
		snprintf(eta, sizeof(eta), "ETA --:--:--");
	else {
		unsigned long s = (unsigned long)((double)left / rate);

		snprintf(eta, sizeof(eta), "ETA %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	}
	fprintf(stderr, "\rrescued %s of %s, %zu bad area%s (%s), %s/s, %s   ",
		fmt_size(fin, a), fmt_size(r->size, b), areas, areas == 1 ? "" : "s",
		fmt_size(bad, c), fmt_size((uint64_t)rate, d), eta);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
	r->progress_shown = true;
	r->t_progress = now_seconds();
}

/* Between steps: stop when asked, show progress, save when due. */
static int tick(struct rescue *r)
{
	double now;

	if (rescue_stop)
		return -EINTR;
	now = now_seconds();
	if (r->o->progress && now - r->t_progress >= 0.2)
		progress(r, false);
	if (now - r->t_save >= r->o->map_interval)
		return save(r);
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

/*
 * Read [@pos, @pos + @len) (@len <= bufsize); the readable prefix goes to
 * OUT and becomes finished.  Return: bytes rescued, or -errno (fatal).
 */
static int64_t rescue_read(struct rescue *r, uint64_t pos, size_t len)
{
	ssize_t n;
	int rc;

	if (r->o->max_rate) {
		double due = (double)r->tried / (double)r->o->max_rate -
			     (now_seconds() - r->t_start);

		if (due > 0) {
			struct timespec ts = { (time_t)due, (long)((due - (double)(time_t)due) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	r->tried += len;
	n = udax_pread(r->o->dev, r->buf, len, pos);
	if (n == -EIO)
		n = 0;
	if (n < 0)
		return n;
	if (n) {
		rc = pwrite_full(r->o->out_fd, r->buf, (size_t)n, (off_t)pos);
		if (rc)
			return rc;
		rc = map_set(r->map, pos, (uint64_t)n, MAP_FINISHED);
		if (rc)
			return rc;
		r->st->rescued_run += (uint64_t)n;
	}
	if ((size_t)n < len)
		r->st->read_errors++;
	return n;
}

/* Read forward from @pos until @end or the first unreadable page: its
 * position (@end when none) in *@stop. */
static int run_forward(struct rescue *r, uint64_t pos, uint64_t end, uint64_t *stop)
{
	*stop = pos;
	while (pos < end) {
		size_t len = end - pos < r->bufsize ? (size_t)(end - pos) : r->bufsize;
		int64_t n = rescue_read(r, pos, len);
		int rc;

		if (n < 0)
			return (int)n;
		pos += (uint64_t)n;
		*stop = pos;
		if ((size_t)n < len)
			break;
		rc = tick(r);
		if (rc)
			return rc;
	}
	*stop = pos;
	return 0;
}

/* The page holding @p, clipped to [@lo, @hi). */
static uint64_t unit_start(uint64_t p, uint64_t lo)
{
	uint64_t s = p - p % UDAX_PAGE_SIZE;

	return s < lo ? lo : s;
}

static uint64_t unit_end(uint64_t p, uint64_t hi)
{
	uint64_t e = p - p % UDAX_PAGE_SIZE + UDAX_PAGE_SIZE;

	return e > hi ? hi : e;
}

/* One unit [@a, @b) within a page: read it, or mark the rest of it bad. */
static int read_unit(struct rescue *r, uint64_t a, uint64_t b, bool *ok)
{
	int64_t n = rescue_read(r, a, (size_t)(b - a));

	if (n < 0)
		return (int)n;
	*ok = (uint64_t)n == b - a;
	if (!*ok)
		return map_set(r->map, a + (uint64_t)n, b - a - (uint64_t)n, MAP_BAD);
	return 0;
}

/* ---- walking the map ----------------------------------------------------- */

/* Forward: the first block with @status ending after @pos, from @pos on. */
static bool next_fwd(struct rescue *r, char status, uint64_t pos,
		     uint64_t *a, uint64_t *b)
{
	for (size_t i = map_find(r->map, pos); i < r->map->n; i++) {
		const struct map_block *k = &r->map->b[i];

		if (k->status != status)
			continue;
		*a = k->pos > pos ? k->pos : pos;
		*b = k->pos + k->size;
		return true;
	}
	return false;
}

/* Reverse: the last block with @status starting before @pos, up to @pos. */
static bool next_rev(struct rescue *r, char status, uint64_t pos,
		     uint64_t *a, uint64_t *b)
{
	size_t i;

	if (!pos)
		return false;
	i = map_find(r->map, pos - 1);
	if (i == r->map->n)
		return false;
	for (;; i--) {
		const struct map_block *k = &r->map->b[i];

		if (k->status == status) {
			*a = k->pos;
			*b = k->pos + k->size < pos ? k->pos + k->size : pos;
			return true;
		}
		if (!i)
			return false;
	}
}

static bool next_block(struct rescue *r, char status, uint64_t pos,
		       uint64_t *a, uint64_t *b)
{
	return r->o->reverse ? next_rev(r, status, pos, a, b)
			     : next_fwd(r, status, pos, a, b);
}

static void set_phase(struct rescue *r, char status, unsigned int pass,
		      const char *phase)
{
	r->map->current_status = status;
	r->map->current_pass = pass;
	r->phase = phase;
	cli_info("%s", phase);
}

/* Pass 1: copy non-tried blocks, a cluster at a time. */
static int pass_copy(struct rescue *r)
{
	uint64_t c = r->o->cluster, pos = r->o->reverse ? r->size : 0, a, b, ca, cb, stop;
	int rc;

	set_phase(r, MAP_NONTRIED, 1, r->o->reverse ?
		  "Copying non-tried blocks... Pass 1 (backwards)" :
		  "Copying non-tried blocks... Pass 1 (forwards)");
	while (next_block(r, MAP_NONTRIED, pos, &a, &b)) {
		/* Clusters are aligned to the cluster size, so that forward,
		 * reverse and resumed runs cut the device the same way. */
		if (r->o->reverse) {
			cb = b;
			ca = (b - 1) - (b - 1) % c;
			if (ca < a)
				ca = a;
			pos = ca;
		} else {
			ca = a;
			cb = a - a % c + c;
			if (cb > b)
				cb = b;
			pos = cb;
		}
		r->map->current_pos = r->o->reverse ? cb : ca;
		rc = run_forward(r, ca, cb, &stop);
		if (!rc && stop < cb)
			rc = map_set(r->map, stop, cb - stop, MAP_NONTRIMMED);
		if (!rc)
			rc = tick(r);
		if (rc)
			return rc;
	}
	return 0;
}

/* Back from @b towards @lo page by page until a page fails: the start of
 * the failed page (marked bad), or @lo. */
static int trim_back(struct rescue *r, uint64_t lo, uint64_t b, uint64_t *edge)
{
	uint64_t q = b;
	bool ok = true;
	int rc;

	while (q > lo && ok) {
		uint64_t u = unit_start(q - 1, lo);

		rc = read_unit(r, u, q, &ok);
		if (!rc)
			rc = tick(r);
		if (rc)
			return rc;
		q = u;
	}
	*edge = q;
	return 0;
}

/* Pass 2: trim non-trimmed blocks from both edges. */
static int pass_trim(struct rescue *r)
{
	uint64_t pos = r->o->reverse ? r->size : 0, a, b, stop, ue, edge;
	int rc;

	set_phase(r, MAP_NONTRIMMED, 1, r->o->reverse ?
		  "Trimming failed blocks... (backwards)" :
		  "Trimming failed blocks... (forwards)");
	while (next_block(r, MAP_NONTRIMMED, pos, &a, &b)) {
		r->map->current_pos = r->o->reverse ? b : a;
		pos = r->o->reverse ? a : b;
		if (r->o->reverse) {
			/* Trailing edge first, then the leading one. */
			rc = trim_back(r, a, b, &edge);
			if (rc)
				return rc;
			if (edge == a)
				continue;
			rc = run_forward(r, a, edge, &stop);
			if (rc)
				return rc;
			if (stop == edge)
				continue;
			ue = unit_end(stop, edge);
			rc = map_set(r->map, stop, ue - stop, MAP_BAD);
			if (!rc)
				rc = map_set(r->map, ue, edge - ue, MAP_NONSCRAPED);
		} else {
			rc = run_forward(r, a, b, &stop);
			if (rc)
				return rc;
			if (stop == b)
				continue;
			ue = unit_end(stop, b);
			rc = map_set(r->map, stop, ue - stop, MAP_BAD);
			if (!rc)
				rc = trim_back(r, ue, b, &edge);
			if (!rc)
				rc = map_set(r->map, ue, edge - ue, MAP_NONSCRAPED);
		}
		if (!rc)
			rc = tick(r);
		if (rc)
			return rc;
	}
	return 0;
}

/* Pass 3: scrape non-scraped blocks page by page. */
static int pass_scrape(struct rescue *r)
{
	uint64_t pos = r->o->reverse ? r->size : 0, a, b, stop;
	bool ok;
	int rc;

	set_phase(r, MAP_NONSCRAPED, 1, r->o->reverse ?
		  "Scraping failed blocks... (backwards)" :
		  "Scraping failed blocks... (forwards)");
	while (next_block(r, MAP_NONSCRAPED, pos, &a, &b)) {
		if (r->o->reverse) {
			uint64_t u = unit_start(b - 1, a);

			r->map->current_pos = b;
			rc = read_unit(r, u, b, &ok);
			pos = u;
		} else {
			/* udax_pread() stops at the first poisoned page: the
			 * pages before it are read in one go. */
			r->map->current_pos = a;
			rc = run_forward(r, a, b, &stop);
			pos = stop;
			if (!rc && stop < b) {
				pos = unit_end(stop, b);
				rc = map_set(r->map, stop, pos - stop, MAP_BAD);
			}
		}
		if (!rc)
			rc = tick(r);
		if (rc)
			return rc;
	}
	return 0;
}

/* Pass 4: retry bad pages. */
static int pass_retry(struct rescue *r, unsigned int pass)
{
	uint64_t pos = r->o->reverse ? r->size : 0, a, b, u, ue;
	char phase[64];
	bool ok;
	int rc;

	snprintf(phase, sizeof(phase), "Retrying bad sectors... Retry %u (%s)", pass,
		 r->o->reverse ? "backwards" : "forwards");
	set_phase(r, MAP_BAD, pass, phase);
	while (next_block(r, MAP_BAD, pos, &a, &b)) {
		if (r->o->reverse) {
			u = unit_start(b - 1, a);
			ue = b;
			pos = u;
		} else {
			u = a;
			ue = unit_end(a, b);
			pos = ue;
		}
		r->map->current_pos = u;
		rc = read_unit(r, u, ue, &ok);
		if (!rc)
			rc = tick(r);
		if (rc)
			return rc;
	}
	return 0;
}

int rescue(const struct rescue_opts *o, struct map *map, struct rescue_stats *st)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	struct rescue r = {
		.o = o, .map = map, .st = st, .size = map_extent(map),
		.phase = "Starting",
	};
	int rc;

	memset(st, 0, sizeof(*st));
	r.bufsize = o->cluster > (1u << 20) ? (size_t)o->cluster : (1u << 20);
	r.buf = malloc(r.bufsize);
	if (!r.buf)
		return -ENOMEM;
	rescue_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	r.t_start = r.t_progress = now_seconds();

	/* The map exists on disk from the start (OUT is sized already). */
	rc = save(&r);
	if (!rc)
		rc = pass_copy(&r);
	if (!rc)
		rc = pass_trim(&r);
	if (!rc)
		rc = pass_scrape(&r);
	for (unsigned int i = 1; !rc && i <= o->retries; i++)
		rc = pass_retry(&r, i);
	if (!rc) {
		map->current_status = MAP_FINISHED;
		map->current_pass = 1;
		map->current_pos = 0;
		r.phase = "Finished";
	} else {
		r.phase = rc == -EINTR ? "Interrupted" : "Stopped by an error";
	}
	/* Save whatever happened: the map claims only synced data. */
	{
		int src = save(&r);

		if (!rc)
			rc = src;
	}
	st->seconds = now_seconds() - r.t_start;
	st->interrupted = rc == -EINTR;
	if (o->progress && (r.progress_shown || !rc))
		progress(&r, true);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(r.buf);
	return rc;
}
