/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "da": what udax_direct_access() adds to the bad-block lookup it
 * makes, with an empty list and with one bad sector in every 4th page.
 */
#include <stdlib.h>

#include "bench.h"

static double da_loop(struct udax_dev *d, uint64_t npg, uint64_t n,
		      uint64_t *seed, bool holes)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		/* with holes: pages 4k + 1..3 are good, 4k bad */
		uint64_t pg = holes ? 4 * rng_below(&x, npg / 4) + 1 + (i & 1)
				    : rng_below(&x, npg);
		void *k = NULL;

		acc += (uint64_t)udax_direct_access(d, pg, 1, &k, NULL) +
		       (uintptr_t)k;
	}
	sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static double da_lookup_loop(struct udax_bb *bb, uint64_t npg, uint64_t n,
			     uint64_t *seed, bool holes)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t pg = holes ? 4 * rng_below(&x, npg / 4) + 1 + (i & 1)
				    : rng_below(&x, npg);

		acc += udax__bb_first_bad(bb, pg * UDAX_SECTORS_PER_PAGE,
					  UDAX_SECTORS_PER_PAGE);
	}
	sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static void da_fig(size_t nr)
{
	uint64_t npg = (uint64_t)nr * 4, seed = 99;
	struct udax_dev *d;
	struct udax_range *r;
	int np = cfg.pairs;
	double *ta, *tl, *diff;
	uint64_t n;
	char sz[32];

	d = dev_make("da.img", npg * UDAX_PAGE_SIZE);
	if (!d)
		return;
	ta = calloc((size_t)np, sizeof(double));
	tl = calloc((size_t)np, sizeof(double));
	diff = calloc((size_t)np, sizeof(double));
	pin_to(0);
	for (int with = 0; with < 2; with++) {
		struct fig *f;
		struct stat3 sa, sl;

		if (with) {
			/* One bad sector at the start of every 4th page.  Set
			 * in one step: udax_badblocks_import() of 1 M lines
			 * is quadratic (see the memory/import figure). */
			r = malloc(sizeof(*r) * nr);
			for (size_t i = 0; i < nr; i++) {
				r[i].off = (uint64_t)i * 4 * UDAX_SECTORS_PER_PAGE;
				r[i].len = 1;
			}
			if (udax__bb_assign(d->bb, r, nr))
				fail("udax__bb_assign on the device failed");
			free(r);
		}
		snprintf(sz, sizeof(sz), "%zu ranges", with ? nr : (size_t)0);
		f = fig_new("da", "direct_access - its lookup", sz, "rand", 1);
		snprintf(f->unit, sizeof(f->unit), "ns");
		n = lookup_iters(da_loop(d, npg, 100000, &seed, with));
		for (int p = -cfg.warmup; p < np; p++) {
			double a = da_loop(d, npg, n, &seed, with);
			double l = da_lookup_loop(d->bb, npg, n, &seed, with);

			if (p < 0)
				continue;
			ta[p] = a;
			tl[p] = l;
			diff[p] = a - l;
		}
		f->a = stats(diff, np);
		sa = stats(ta, np);
		sl = stats(tl, np);
		f->a_ns_op = sa.med;
		f->b_ns_op = sl.med;
		f->iters = n;
		f->pairs = np;
		snprintf(f->note, sizeof(f->note),
			 "direct_access %.2f ns, its lookup (bb_first_bad, 1 page) "
			 "%.2f ns; value = median pair difference [%.2f-%.2f]",
			 sa.med, sl.med, f->a.min, f->a.max);
		fig_goal(f, G_ABS_LE, 3);
		fig_print(f);
	}
	free(ta);
	free(tl);
	free(diff);
	udax_close(d);
	rm_image("da.img");
}

void bench_da(void)
{
	da_fig(cfg.quick ? 65536 : 1048576);
}
