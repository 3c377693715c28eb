/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "lookup": random single-sector lookups in udax's bad-block table
 * against the table Linux keeps per block device (linux-badblocks.c), as
 * throughput (independent lookups) and as latency (each query depends on
 * the previous answer).  The tables built here serve readers.c, memory.c
 * and da.c too.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "linux-badblocks.h"

/*
 * @n disjoint, non-touching ranges (sectors) of 1..8 sectors with gaps of
 * 1..63 sectors, from sector @first.  Returns the end of the last range.
 */
uint64_t make_ranges(struct udax_range *r, size_t n, uint64_t first,
		     uint64_t seed)
{
	uint64_t x = seed | 1, s = first;

	for (size_t i = 0; i < n; i++) {
		s += 1 + rng_below(&x, 63);
		r[i].off = s;
		r[i].len = 1 + rng_below(&x, 8);
		s += r[i].len;
	}
	return s + 1;
}

/* Random single-sector lookups: independent (throughput) or each query
 * depending on the previous answer (latency).  ns per lookup. */
double lookups_udax(const struct udax_bb *bb, uint64_t span, uint64_t n,
		    uint64_t *seed, bool dep, uint64_t *total)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	/*
	 * Two loops, not one with "if (dep)" inside: gcc -O2 turns that test
	 * into a data dependency (x ^= r & 1 & -dep), which serializes the
	 * independent lookups too (measured: 31 ns instead of 16 at 512).
	 */
	if (dep) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t r = udax__bb_first_bad(bb, rng_below(&x, span), 1);

			acc += r;
			x ^= r & 1;
		}
	} else {
		for (uint64_t i = 0; i < n; i++)
			acc += udax__bb_first_bad(bb, rng_below(&x, span), 1);
	}
	*total += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static double lookups_linux(const struct lbb *bb, uint64_t span, uint64_t n,
			    uint64_t *seed, bool dep, uint64_t *total)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	/* Two loops, as in lookups_udax(). */
	if (dep) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t fb = 0;
			int nb = 0;
			int r = lbb_check(bb, rng_below(&x, span), 1, &fb, &nb);

			acc += (uint64_t)r + fb;
			x ^= (uint64_t)r & 1;
		}
	} else {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t fb = 0;
			int nb = 0;
			int r = lbb_check(bb, rng_below(&x, span), 1, &fb, &nb);

			acc += (uint64_t)r + fb;
		}
	}
	*total += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static double lookups_empty_loop(uint64_t span, uint64_t n, uint64_t *seed,
				 uint64_t *total)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		acc += rng_below(&x, span);
		__asm__ volatile("" : "+r"(acc));
	}
	*total += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

uint64_t lookup_iters(double ns_each)
{
	uint64_t n = (uint64_t)(cfg.sample_ns / (ns_each > 0.5 ? ns_each : 0.5));

	return n < 1000 ? 1000 : n;
}

struct udax_bb *bb_build(size_t n, uint64_t *span)
{
	struct udax_range *r = malloc(sizeof(*r) * (n ? n : 1));
	struct udax_bb *bb;

	if (!r)
		abort();
	*span = make_ranges(r, n, 0, 0x1234567 + n);
	if (udax__bb_new(&bb) || udax__bb_assign(bb, r, n)) {
		fail("udax__bb_assign %zu ranges failed", n);
		free(r);
		return NULL;
	}
	free(r);
	return bb;
}

static void lookup_fig(size_t nr, double goal, bool dep)
{
	char sz[32];
	uint64_t span, seed = 0x9e3779b97f4a7c15ULL, n;
	struct udax_bb *bb;
	struct lbb lbb = { 0 };
	bool linux_ok = false;
	struct fig *f;
	double *a, *b, *ra;
	int np = cfg.pairs;

	snprintf(sz, sizeof(sz), "%zu ranges", nr);
	f = fig_new("lookup", dep ? "bb_first_bad latency / linux check"
				  : "bb_first_bad / linux badblocks_check",
		    sz, "rand", 1);
	snprintf(f->unit, sizeof(f->unit), "ns");
	bb = bb_build(nr, &span);
	if (!bb)
		return;
	if (nr <= LBB_MAX) {
		struct udax_range *r = malloc(sizeof(*r) * nr);

		make_ranges(r, nr, 0, 0x1234567 + nr);
		linux_ok = !lbb_load(&lbb, r, nr);
		free(r);
	}
	pin_to(0);
	n = lookup_iters(lookups_udax(bb, span, 100000, &seed, dep, &sink));
	a = calloc((size_t)np, sizeof(double));
	b = calloc((size_t)np, sizeof(double));
	ra = calloc((size_t)np, sizeof(double));
	for (int p = -cfg.warmup; p < np; p++) {
		double ta = lookups_udax(bb, span, n, &seed, dep, &sink);
		double tb = linux_ok ? lookups_linux(&lbb, span, n, &seed, dep,
						     &sink)
				     : lookups_empty_loop(span, n, &seed, &sink);

		if (p < 0)
			continue;
		a[p] = ta;
		b[p] = tb;
		ra[p] = tb / ta;
	}
	f->a = stats(a, np);
	f->iters = n;
	f->pairs = np;
	if (linux_ok) {
		f->has_ratio = true;
		f->ratio = stats(ra, np);
		f->b = stats(b, np);
	} else {
		struct stat3 e = stats(b, np);

		snprintf(f->note, sizeof(f->note),
			 "a Linux table holds at most %d ranges: no baseline; "
			 "loop+rng alone %.2f ns", LBB_MAX, e.med);
	}
	if (linux_ok && !dep) {
		struct stat3 e;

		for (int p = 0; p < np; p++)
			b[p] = lookups_empty_loop(span, n, &seed, &sink);
		e = stats(b, np);
		snprintf(f->note, sizeof(f->note),
			 "ratio = linux ns / udax ns; loop+rng alone %.2f ns",
			 e.med);
	}
	if (!dep)
		fig_goal(f, G_ABS_LE, goal);
	free(a);
	free(b);
	free(ra);
	lbb_free(&lbb);
	udax__bb_free(bb);
	fig_print(f);
}


/* Goals (issue 12; issue 4 had 10 / 25 / 60 ns). */
void bench_lookup(void)
{
	lookup_fig(512, 8, false);
	lookup_fig(65536, 15, false);
	if (!cfg.quick)
		lookup_fig(1048576, 30, false);
	lookup_fig(512, 0, true);
	lookup_fig(65536, 0, true);
	if (!cfg.quick)
		lookup_fig(1048576, 0, true);
}
