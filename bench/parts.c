/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "parts": where the fixed cost of a small udax call goes, one
 * internal step at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "bench.h"
#include "backends/emul.h"

#define PART_LOOP(res, n, body)						\
	do {								\
		double t0_ = now_ns();					\
		for (uint64_t i_ = 0; i_ < (n); i_++) {			\
			body;						\
		}							\
		(res) = (now_ns() - t0_) / (double)(n);			\
	} while (0)

static void part_fig(const char *what, const double *v, int np, uint64_t n,
		     const char *note)
{
	struct fig *f = fig_new("parts", what, "-", "hot", 1);

	snprintf(f->unit, sizeof(f->unit), "ns");
	f->a = stats(v, np);
	f->pairs = np;
	f->iters = n;
	snprintf(f->note, sizeof(f->note), "%s", note);
	fig_print(f);
}

void bench_parts(void)
{
	int np = cfg.pairs, wake = 0;
	struct emul_map *em;
	uint64_t n = cfg.quick ? 200000 : 2000000;
	double *v = calloc((size_t)np, sizeof(double));
	double *w = calloc((size_t)np, sizeof(double));
	double *r = calloc((size_t)np, sizeof(double));
	double *d = calloc((size_t)np, sizeof(double));
	char *m = anon_map(2 * UDAX_PAGE_SIZE);
	struct udax_bb *bb;
	uint64_t pages[16], acc = 0;
	struct iovec iov = { m, 64 };
	struct udax_iter it;
	struct udax_fault flt;
	struct fig *f;

	if (!v || !w || !r || !d || !m || udax__bb_new(&bb))
		abort();
	pin_to(0);
	if (udax__emul_map_register(m, 2 * UDAX_PAGE_SIZE, PROT_READ | PROT_WRITE,
				    bb, &wake, &em))
		abort();
	for (int p = -cfg.warmup; p < np; p++) {
		double t;

		PART_LOOP(t, n, acc += udax__emul_map_drain(em, pages, 16);
			  __asm__ volatile("" : "+r"(acc)));
		if (p >= 0)
			v[p] = t;
	}
	part_fig("udax__poison_map_drain (nothing pending)", v, np, n,
		 "udax__emul_map_drain(): the emulated device's load_known runs it");
	udax__emul_map_unregister(em);

	for (int p = -cfg.warmup; p < np; p++) {
		double t;

		PART_LOOP(t, n, acc += udax__bb_first_bad(bb, i_ * 8, 8);
			  __asm__ volatile("" : "+r"(acc)));
		if (p >= 0)
			v[p] = t;
	}
	part_fig("udax__bb_first_bad (empty table)", v, np, n, "");

	for (int p = -cfg.warmup; p < np; p++) {
		double t;

		PART_LOOP(t, n, udax_iter_init(&it, &iov, 1, 64);
			  __asm__ volatile("" : : "r"(&it) : "memory"));
		if (p >= 0)
			v[p] = t;
	}
	part_fig("udax_iter_init (1 segment)", v, np, n, "");

	for (int p = -cfg.warmup; p < np; p++) {
		double a, b;

		PART_LOOP(a, n, acc += udax__mc_copy(m + 2048, m, 64, false, &flt);
			  __asm__ volatile("" : "+r"(acc) : : "memory"));
		PART_LOOP(b, n, memcpy(m + 2048 + (acc & 1), m, 64);
			  __asm__ volatile("" : "+r"(acc) : : "memory"));
		if (p >= 0) {
			v[p] = a;
			w[p] = b;
			r[p] = b / a;
			d[p] = a - b;
		}
	}
	f = fig_new("parts", "udax__mc_copy 64 B / memcpy 64 B", "64 B", "hot", 1);
	snprintf(f->unit, sizeof(f->unit), "ns");
	f->has_ratio = true;
	f->ratio = stats(r, np);
	f->a = stats(v, np);
	f->b = stats(w, np);
	f->has_over = true;
	f->over = stats(d, np);
	f->pairs = np;
	f->iters = n;
	snprintf(f->note, sizeof(f->note),
		 "the guard: %s; overhead %+.2f ns [%+.2f..%+.2f] per call",
#if defined(__x86_64__)
		 "a routine whose faults the handler's table resumes, "
		 "nothing set up per call",
#else
		 "sigsetjmp(env, 0) and the TLS guard pointer",
#endif
		 f->over.med,
		 f->over.min, f->over.max);
	/* issue 12: the guard alone, no fault, at most 2 ns per call */
	fig_goal(f, G_OVER_LE, 2);
	fig_print(f);
	sink += acc;
	udax__bb_free(bb);
	munmap(m, 2 * UDAX_PAGE_SIZE);
	free(v);
	free(w);
	free(r);
	free(d);
}
