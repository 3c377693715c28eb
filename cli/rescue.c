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
 * --reverse runs every pass from the end; -N (no trim) leaves '*' blocks to
 * the scraping pass, -n (no scrape) skips it; -i and -s bound the rescue
 * domain, -o moves where its data goes in OUT (map positions stay DEV's,
 * as ddrescue's).  Crash safety: OUT data is
 * written, then OUT is fsync'd, then the map claiming it is saved (temp
 * file, fsync, rename).  A map on disk never claims data that OUT does not
 * hold, so a run killed at any point resumes from its map, redoes at most
 * what it did since the last save, and ends with the same OUT.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
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
	double t_start, t_save, t_progress, t_rates, t_good;
	unsigned int progress_lines;	/* of the block on the terminal */
	uint64_t tried;			/* bytes read or tried, for --max-rate */
	uint64_t rescued_at_rate;	/* rescued_run at the last rate sample */
	double rate;			/* bytes/s over the last sample */
	uint64_t ipos;			/* where the pass is */
	const char *phase;		/* for the map's comment */
};

static volatile sig_atomic_t rescue_stop;

static void on_signal(int sig)
{
	rescue_stop = sig;
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

/* ---- what the run shows: progress, events, rates ------------------------- */

struct totals {
	uint64_t nt, ntr, ns, bad, fin;
	size_t areas;
};

static void totals_of(const struct rescue *r, struct totals *t)
{
	map_totals(r->map, &t->nt, &t->ntr, &t->ns, &t->bad, &t->fin);
	t->areas = 0;
	for (size_t i = 0; i < r->map->n; i++)
		t->areas += r->map->b[i].status == MAP_BAD;
}

/* Percent of the device rescued, never shown as 100 while bytes are lost. */
static double pct_of(uint64_t fin, uint64_t size)
{
	double p = size ? 100.0 * (double)fin / (double)size : 100.0;

	return fin < size && p > 99.99 ? 99.99 : p;
}

static const char *hms(double s, char *buf, size_t n)
{
	unsigned long v = s > 0 ? (unsigned long)s : 0;

	if (v >= 3600)
		snprintf(buf, n, "%luh %02lum %02lus", v / 3600, v / 60 % 60, v % 60);
	else if (v >= 60)
		snprintf(buf, n, "%lum %02lus", v / 60, v % 60);
	else
		snprintf(buf, n, "%lus", v);
	return buf;
}

void rescue_event(FILE *f, double elapsed, uint64_t ipos, uint64_t rescued,
		  const char *fmt, ...)
{
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (!f)
		return;
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	fprintf(f, "%s %8.1f  0x%012llX  %14llu  ", now, elapsed,
		(unsigned long long)ipos, (unsigned long long)rescued);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

static void event(struct rescue *r, const char *fmt, const char *what)
{
	struct totals t;

	if (!r->o->events)
		return;
	totals_of(r, &t);
	rescue_event(r->o->events, now_seconds() - r->t_start, r->ipos, t.fin,
		     fmt, what);
}

/* --log-rates: one line a second. */
static void rates(struct rescue *r, double now)
{
	struct totals t;

	if (!r->o->rates || now - r->t_rates < 1.0)
		return;
	totals_of(r, &t);
	fprintf(r->o->rates, "%8.1f  0x%012llX  %12.0f  %12.0f  %8zu  %14llu\n",
		now - r->t_start, (unsigned long long)r->ipos, r->rate,
		now > r->t_start ? (double)r->st->rescued_run / (now - r->t_start) : 0.0,
		t.areas, (unsigned long long)t.bad);
	fflush(r->o->rates);
	r->t_rates = now;
}

static void progress(struct rescue *r, bool last)
{
	double now = now_seconds(), el = now - r->t_start, avg;
	struct totals t;
	uint64_t left;
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];

	totals_of(r, &t);
	if (now - r->t_progress > 0)
		r->rate = (double)(r->st->rescued_run - r->rescued_at_rate) /
			  (now - r->t_progress);
	r->rescued_at_rate = r->st->rescued_run;
	avg = el > 0 ? (double)r->st->rescued_run / el : 0;
	left = t.nt + t.ntr + t.ns;
	if (r->o->progress == PROGRESS_JSON) {
		fprintf(stderr, "{\"pass\":\"%s\",\"ipos\":%llu,\"opos\":%llu,"
			"\"non_tried_bytes\":%llu,\"non_trimmed_bytes\":%llu,"
			"\"non_scraped_bytes\":%llu,\"bad_bytes\":%llu,\"bad_areas\":%zu,"
			"\"rescued_bytes\":%llu,\"size\":%llu,\"pct_rescued\":%.2f,"
			"\"read_errors\":%llu,\"current_rate\":%.0f,\"average_rate\":%.0f,"
			"\"run_time\":%.1f,\"remaining_time\":%.0f,\"finished\":%s}\n",
			r->phase, (unsigned long long)r->ipos,
			(unsigned long long)((int64_t)r->ipos + r->o->out_delta),
			(unsigned long long)t.nt, (unsigned long long)t.ntr,
			(unsigned long long)t.ns, (unsigned long long)t.bad, t.areas,
			(unsigned long long)t.fin, (unsigned long long)r->size,
			pct_of(t.fin, r->size), (unsigned long long)r->st->read_errors,
			r->rate, avg, el, avg >= 1 && !last ? (double)left / avg : 0,
			last ? "true" : "false");
	} else {
		/* Redraw the block in place (cursor up over the last one). */
		if (r->progress_lines)
			fprintf(stderr, "\033[%uA", r->progress_lines);
		fprintf(stderr,
			"     ipos: %10s, non-trimmed: %10s,  current rate: %8s/s\033[K\n"
			"     opos: %10s, non-scraped: %10s,  average rate: %8s/s\033[K\n"
			"non-tried: %10s,  bad-sector: %10s,   bad areas: %8zu\033[K\n"
			"  rescued: %10s, read errors: %10llu,      run time: %10s\033[K\n"
			"pct rescued: %7.2f%%,   remaining time: %10s,  since last read: %s\033[K\n"
			"%s\033[K\n",
			fmt_size(r->ipos, a), fmt_size(t.ntr, b), fmt_size((uint64_t)r->rate, c),
			fmt_size((uint64_t)((int64_t)r->ipos + r->o->out_delta), d),
			fmt_size(t.ns, e), fmt_size((uint64_t)avg, f),
			fmt_size(t.nt, g), fmt_size(t.bad, h), t.areas,
			fmt_size(t.fin, a), (unsigned long long)r->st->read_errors, hms(el, b, sizeof(b)),
			pct_of(t.fin, r->size),
			last || !left ? "-" : avg >= 1 ? hms((double)left / avg, c, sizeof(c)) : "n/a",
			hms(now - r->t_good, d, sizeof(d)), r->phase);
		r->progress_lines = 6;
	}
	fflush(stderr);
	r->t_progress = now;
}

/* Between steps: stop when asked, show progress, save when due. */
static int tick(struct rescue *r)
{
	double now;

	if (rescue_stop)
		return -EINTR;
	now = now_seconds();
	if (r->o->progress && now - r->t_progress >= (r->o->progress == PROGRESS_JSON ? 1.0 : 0.2))
		progress(r, false);
	rates(r, now);
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
	r->ipos = pos;
	n = udax_pread(r->o->dev, r->buf, len, pos);
	if (n == -EIO)
		n = 0;
	if (n < 0)
		return n;
	if (n) {
		r->t_good = now_seconds();
		rc = pwrite_full(r->o->out_fd, r->buf, (size_t)n,
				 (off_t)((int64_t)pos + r->o->out_delta));
		if (rc)
			return rc;
		rc = map_set(r->map, pos, (uint64_t)n, MAP_FINISHED);
		if (rc)
			return rc;
		r->st->rescued_run += (uint64_t)n;
	}
	if ((size_t)n < len) {
		r->st->read_errors++;
		if (r->o->events) {
			char at[64];

			snprintf(at, sizeof(at), "%#llx", (unsigned long long)(pos + (uint64_t)n));
			event(r, "read error: the page at %s holds poison", at);
		}
	}
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

/* Forward: the first block with a status in @status ending after @pos,
 * from @pos on, clipped to the rescue domain. */
static bool next_fwd(struct rescue *r, const char *status, uint64_t pos,
		     uint64_t *a, uint64_t *b)
{
	if (pos < r->o->dom_lo)
		pos = r->o->dom_lo;
	for (size_t i = map_find(r->map, pos); i < r->map->n; i++) {
		const struct map_block *k = &r->map->b[i];

		if (k->pos >= r->o->dom_hi)
			return false;
		if (!strchr(status, k->status))
			continue;
		*a = k->pos > pos ? k->pos : pos;
		*b = k->pos + k->size < r->o->dom_hi ? k->pos + k->size : r->o->dom_hi;
		return true;
	}
	return false;
}

/* Reverse: the last such block starting before @pos, up to @pos. */
static bool next_rev(struct rescue *r, const char *status, uint64_t pos,
		     uint64_t *a, uint64_t *b)
{
	size_t i;

	if (pos > r->o->dom_hi)
		pos = r->o->dom_hi;
	if (pos <= r->o->dom_lo)
		return false;
	i = map_find(r->map, pos - 1);
	if (i == r->map->n)
		return false;
	for (;; i--) {
		const struct map_block *k = &r->map->b[i];

		if (k->pos + k->size <= r->o->dom_lo)
			return false;
		if (strchr(status, k->status)) {
			*a = k->pos > r->o->dom_lo ? k->pos : r->o->dom_lo;
			*b = k->pos + k->size < pos ? k->pos + k->size : pos;
			return true;
		}
		if (!i)
			return false;
	}
}

static bool next_block(struct rescue *r, const char *status, uint64_t pos,
		       uint64_t *a, uint64_t *b)
{
	return r->o->reverse ? next_rev(r, status, pos, a, b)
			     : next_fwd(r, status, pos, a, b);
}

/* Where a pass starts. */
static uint64_t pass_start(const struct rescue *r)
{
	return r->o->reverse ? r->o->dom_hi : r->o->dom_lo;
}

static void set_phase(struct rescue *r, char status, unsigned int pass,
		      const char *phase)
{
	r->map->current_status = status;
	r->map->current_pass = pass;
	r->phase = phase;
	cli_info("%s", phase);
	event(r, "%s", phase);
}

/* Pass 1: copy non-tried blocks, a cluster at a time. */
static int pass_copy(struct rescue *r)
{
	uint64_t c = r->o->cluster, pos = pass_start(r), a, b, ca, cb, stop;
	int rc;

	set_phase(r, MAP_NONTRIED, 1, r->o->reverse ?
		  "Copying non-tried blocks... Pass 1 (backwards)" :
		  "Copying non-tried blocks... Pass 1 (forwards)");
	while (next_block(r, "?", pos, &a, &b)) {
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
	uint64_t pos = pass_start(r), a, b, stop, ue, edge;
	int rc;

	set_phase(r, MAP_NONTRIMMED, 1, r->o->reverse ?
		  "Trimming failed blocks... (backwards)" :
		  "Trimming failed blocks... (forwards)");
	while (next_block(r, "*", pos, &a, &b)) {
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

/* Pass 3: scrape non-scraped blocks page by page (and non-trimmed ones
 * when trimming was skipped). */
static int pass_scrape(struct rescue *r)
{
	const char *which = r->o->no_trim ? "/*" : "/";
	uint64_t pos = pass_start(r), a, b, stop;
	bool ok;
	int rc;

	set_phase(r, MAP_NONSCRAPED, 1, r->o->reverse ?
		  "Scraping failed blocks... (backwards)" :
		  "Scraping failed blocks... (forwards)");
	while (next_block(r, which, pos, &a, &b)) {
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
	uint64_t pos = pass_start(r), a, b, u, ue;
	char phase[64];
	bool ok;
	int rc;

	snprintf(phase, sizeof(phase), "Retrying bad sectors... Retry %u (%s)", pass,
		 r->o->reverse ? "backwards" : "forwards");
	set_phase(r, MAP_BAD, pass, phase);
	while (next_block(r, "-", pos, &a, &b)) {
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
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term, old_hup;
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
	sigaction(SIGHUP, &sa, &old_hup);
	r.t_start = r.t_progress = r.t_rates = r.t_good = now_seconds();
	r.ipos = o->reverse ? o->dom_hi : o->dom_lo;
	if (o->rates)
		fprintf(o->rates, "#  Time  Ipos            Current_rate  Average_rate  Bad_areas  Bad_size\n");

	/* The map exists on disk from the start (OUT is sized already). */
	rc = save(&r);
	if (!rc)
		rc = pass_copy(&r);
	if (!rc && !o->no_trim)
		rc = pass_trim(&r);
	if (!rc && !o->no_scrape)
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
	st->signo = rc == -EINTR ? (int)rescue_stop : 0;
	if (o->progress)
		progress(&r, true);
	rates(&r, now_seconds() + 1.0);
	event(&r, "%s", r.phase);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	free(r.buf);
	return rc;
}
