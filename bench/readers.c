/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "readers": two threads looking up one bad-block table at once
 * against each of them alone (the table's readers take no lock).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct rjob {
	const struct udax_bb *bb;
	uint64_t span, n;
	int pairs, warmup;
	pthread_barrier_t bar;
	double *alone[2], *both[2];
};

struct rctx {
	struct rjob *j;
	int t;
	uint64_t seed, sink;
};

static void *reader_thread(void *arg)
{
	struct rctx *c = arg;
	struct rjob *j = c->j;

	pin_to(c->t % cfg.ncpu);
	for (int p = -j->warmup; p < j->pairs; p++) {
		double al = 0, bo;

		/* A: each thread alone in turn; B: both at once */
		for (int who = 0; who < 2; who++) {
			pthread_barrier_wait(&j->bar);
			if (who == c->t)
				al = lookups_udax(j->bb, j->span, j->n, &c->seed,
						  false, &c->sink);
		}
		pthread_barrier_wait(&j->bar);
		bo = lookups_udax(j->bb, j->span, j->n, &c->seed, false, &c->sink);
		if (p >= 0) {
			j->alone[c->t][p] = al;
			j->both[c->t][p] = bo;
		}
	}
	return NULL;
}

static void readers_fig(size_t nr)
{
	struct rjob j;
	struct rctx c[2];
	pthread_t th[2];
	char sz[32];
	struct fig *f;
	double *r, *a;
	int np = cfg.pairs;
	uint64_t seed = 42;

	snprintf(sz, sizeof(sz), "%zu ranges", nr);
	f = fig_new("readers", "2 concurrent readers / 1 reader alone", sz,
		    "rand", 2);
	snprintf(f->unit, sizeof(f->unit), "ns");
	snprintf(f->ratio_kind, sizeof(f->ratio_kind), "slowdown");
	if (cfg.ncpu < 2 || cfg.max_threads < 2) {
		snprintf(f->note, sizeof(f->note), "skipped: one CPU");
		fig_print(f);
		return;
	}
	memset(&j, 0, sizeof(j));
	j.bb = bb_build(nr, &j.span);
	if (!j.bb)
		return;
	j.n = lookup_iters(lookups_udax(j.bb, j.span, 100000, &seed, false, &sink));
	j.pairs = np;
	j.warmup = cfg.warmup;
	for (int t = 0; t < 2; t++) {
		j.alone[t] = calloc((size_t)np, sizeof(double));
		j.both[t] = calloc((size_t)np, sizeof(double));
	}
	pthread_barrier_init(&j.bar, NULL, 2);
	for (int t = 0; t < 2; t++) {
		c[t].j = &j;
		c[t].t = t;
		c[t].seed = 0x1000 + (uint64_t)t * 0x9e37;
		c[t].sink = 0;
		pthread_create(&th[t], NULL, reader_thread, &c[t]);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&j.bar);
	r = calloc((size_t)(2 * np), sizeof(double));
	a = calloc((size_t)(2 * np), sizeof(double));
	for (int p = 0; p < np; p++)
		for (int t = 0; t < 2; t++) {
			r[2 * p + t] = j.both[t][p] / j.alone[t][p];
			a[2 * p + t] = j.both[t][p];
		}
	f->has_ratio = true;
	f->ratio = stats(r, 2 * np);
	f->a = stats(a, 2 * np);
	for (int t = 0; t < 2; t++)
		memcpy(a + t * np, j.alone[t], sizeof(double) * (size_t)np);
	f->b = stats(a, 2 * np);
	f->iters = j.n;
	f->pairs = np;
	snprintf(f->note, sizeof(f->note),
		 "ratio = ns per lookup with both reading / alone (slowdown); "
		 "udax = both, baseline = alone");
	fig_goal(f, G_RATIO_LE, 1.3);
	sink += c[0].sink + c[1].sink;
	for (int t = 0; t < 2; t++) {
		free(j.alone[t]);
		free(j.both[t]);
	}
	free(r);
	free(a);
	udax__bb_free((struct udax_bb *)j.bb);
	fig_print(f);
}


void bench_readers(void)
{
	readers_fig(65536);
	if (!cfg.quick)
		readers_fig(1048576);
}
