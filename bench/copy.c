/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The copy pairs: a udax copy call against the copy it wraps, every size,
 * hot and cold, 1 and 2 threads (see bench.h for what hot, cold and the
 * threads mean).  Sections "read" (copy_to_iter) and "rw" (pread/pwrite)
 * are here; "write" (the persistent copies) is in persist.c.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

struct copy_pools cp;

struct tjob {
	const struct copy_kind *kind;
	uint64_t size;
	bool cold;
	int nthreads;
	uint64_t iters;
	int pairs, warmup;
	pthread_barrier_t bar;
	double *ta[2], *tb[2];	/* per thread, per pair: ns */
};

struct tctx {
	struct tjob *j;
	int t;
	struct copy_ctx c;
};

/* ---- the kinds ----------------------------------------------------------- */

static void loop_to_iter(struct copy_ctx *c, uint64_t n, char *k)
{
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);
		struct iovec iov = { cp.user + off, S };
		struct udax_iter it;

		udax_iter_init(&it, &iov, 1, S);
		if (udax__unlikely(udax_copy_to_iter(cp.dev, off >> 12,
				k + off, S, &it) != S))
			c->err++;
	}
}

static void loop_failfast(struct copy_ctx *c, uint64_t n)
{
	loop_to_iter(c, n, cp.kff);
}

static void loop_recovery(struct copy_ctx *c, uint64_t n)
{
	loop_to_iter(c, n, cp.krec);
}

void copy_loop_memcpy_from_base(struct copy_ctx *c, uint64_t n)
{
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		memcpy(cp.user + off, cp.base + off, S);
	}
}

static void loop_pread(struct copy_ctx *c, uint64_t n)
{
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		if (udax__unlikely(udax_pread(cp.dev, cp.user + off, S, off) !=
				   (ssize_t)S))
			c->err++;
	}
}

static void loop_pwrite(struct copy_ctx *c, uint64_t n)
{
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		if (udax__unlikely(udax_pwrite(cp.dev, cp.user + off, S, off) !=
				   (ssize_t)S))
			c->err++;
	}
}

static void loop_memcpy_to_base(struct copy_ctx *c, uint64_t n)
{
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		memcpy(cp.base + off, cp.user + off, S);
	}
}

/* goals (issue 4) */
static void goal_failfast(struct fig *f, uint64_t size, bool cold)
{
	if (size >= 64 * KiB)
		fig_goal(f, G_RATIO_GE, 0.95);
}

static void goal_recovery(struct fig *f, uint64_t size, bool cold)
{
	if (size == 4 * KiB || size == 2 * MiB)
		fig_goal(f, G_RATIO_GE, 0.90);
}

const struct copy_kind kind_failfast = {
	.pair = "failfast copy_to_iter / memcpy",
	.a = loop_failfast,
	.b = copy_loop_memcpy_from_base,
	.goal = goal_failfast,
};

const struct copy_kind kind_recovery = {
	.pair = "recovery copy_to_iter / memcpy",
	.a = loop_recovery,
	.b = copy_loop_memcpy_from_base,
	.goal = goal_recovery,
};

const struct copy_kind kind_pread = {
	.pair = "udax_pread / memcpy",
	.a = loop_pread,
	.b = copy_loop_memcpy_from_base,
};

const struct copy_kind kind_pwrite = {
	.pair = "udax_pwrite / memcpy",
	.a = loop_pwrite,
	.b = loop_memcpy_to_base,
};

/* ---- the pairs ----------------------------------------------------------- */

/* One sample: @n iterations of side @b (0: udax, 1: baseline).  ns. */
static double run_sample(struct tctx *t, int b, uint64_t n)
{
	copy_loop_fn *fn = b ? t->j->kind->b : t->j->kind->a;
	double t0 = now_ns();

	fn(&t->c, n);
	return now_ns() - t0;
}

static void tctx_init(struct tctx *c, struct tjob *j, int t)
{
	uint64_t half = cfg.pool / (uint64_t)j->nthreads;
	uint64_t slots = half / j->size;

	memset(c, 0, sizeof(*c));
	c->j = j;
	c->t = t;
	c->c.size = j->size;
	c->c.cold = j->cold;
	c->c.region = half * (uint64_t)t;
	c->c.slots_mask = slots - 1;
	c->c.bits = 0;
	while ((1ULL << c->c.bits) < slots)
		c->c.bits++;
	/* different but fixed starting points per thread */
	c->c.cursor = (uint64_t)t * 7919;
}

static void *pair_thread(void *arg)
{
	struct tctx *c = arg;
	struct tjob *j = c->j;

	pin_to(c->t % cfg.ncpu);
	for (int p = -j->warmup; p < j->pairs; p++) {
		double a, b;

		pthread_barrier_wait(&j->bar);
		a = run_sample(c, 0, j->iters);
		pthread_barrier_wait(&j->bar);
		b = run_sample(c, 1, j->iters);
		if (p >= 0) {
			j->ta[c->t][p] = a;
			j->tb[c->t][p] = b;
		}
	}
	return NULL;
}

/* Iterations per sample so that the faster side takes cfg.sample_ns. */
static uint64_t calibrate(struct tjob *j)
{
	struct tctx c;
	uint64_t n = 1;

	tctx_init(&c, j, 0);
	pin_to(0);
	for (;;) {
		double a = run_sample(&c, 0, n), b = run_sample(&c, 1, n);
		double m = a < b ? a : b;

		if (c.c.err)
			return 0;
		if (m >= cfg.sample_ns / 8 || n >= (1ULL << 34)) {
			double k = cfg.sample_ns / (m > 1 ? m : 1);
			uint64_t r = (uint64_t)ceil((double)n * k);

			return r ? r : 1;
		}
		n *= 8;
	}
}

static void run_copy(const char *section, const struct copy_kind *k,
		     uint64_t size, bool cold, int nthreads)
{
	struct tjob j;
	struct tctx ctx[2];
	pthread_t th[2];
	char sz[32];
	struct fig *f;
	double *ratios, *ga, *gb;
	const char *why;
	int np, t;

	size_name(sz, sizeof(sz), size);
	f = fig_new(section, k->pair, sz, cold ? "cold" : "hot", nthreads);
	snprintf(f->unit, sizeof(f->unit), "GB/s");
	f->has_ratio = true;
	why = k->unbuilt ? k->unbuilt() : NULL;
	if (why) {
		snprintf(f->note, sizeof(f->note), "baseline not built: %s", why);
		f->has_ratio = false;
		fig_print(f);
		return;
	}

	memset(&j, 0, sizeof(j));
	j.kind = k;
	j.size = size;
	j.cold = cold;
	j.nthreads = nthreads;
	j.pairs = cfg.pairs;
	j.warmup = cfg.warmup;
	j.iters = calibrate(&j);
	if (!j.iters) {
		fail("%s %s: udax copy came back short", k->pair, sz);
		snprintf(f->note, sizeof(f->note), "udax copy failed");
		fig_print(f);
		return;
	}
	np = j.pairs;
	for (t = 0; t < nthreads; t++) {
		j.ta[t] = calloc((size_t)np, sizeof(double));
		j.tb[t] = calloc((size_t)np, sizeof(double));
		if (!j.ta[t] || !j.tb[t])
			abort();
	}
	pthread_barrier_init(&j.bar, NULL, (unsigned int)nthreads);
	for (t = 0; t < nthreads; t++) {
		tctx_init(&ctx[t], &j, t);
		if (pthread_create(&th[t], NULL, pair_thread, &ctx[t]))
			abort();
	}
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&j.bar);

	ratios = calloc((size_t)(np * nthreads), sizeof(double));
	ga = calloc((size_t)np, sizeof(double));
	gb = calloc((size_t)np, sizeof(double));
	if (!ratios || !ga || !gb)
		abort();
	for (int p = 0; p < np; p++) {
		double wa = 0, wb = 0;

		for (t = 0; t < nthreads; t++) {
			ratios[p * nthreads + t] = j.tb[t][p] / j.ta[t][p];
			if (j.ta[t][p] > wa)
				wa = j.ta[t][p];
			if (j.tb[t][p] > wb)
				wb = j.tb[t][p];
		}
		/* aggregate GB/s over the threads, by the slower thread */
		ga[p] = (double)(j.iters * size * (uint64_t)nthreads) / wa;
		gb[p] = (double)(j.iters * size * (uint64_t)nthreads) / wb;
	}
	f->ratio = stats(ratios, np * nthreads);
	f->a = stats(ga, np);
	f->b = stats(gb, np);
	{
		struct stat3 ta = stats(j.ta[0], np), tb = stats(j.tb[0], np);

		f->a_ns_op = ta.med / (double)j.iters;
		f->b_ns_op = tb.med / (double)j.iters;
	}
	f->pairs = np;
	f->iters = j.iters;
	for (t = 0; t < nthreads; t++) {
		if (ctx[t].c.err) {
			fail("%s %s %s %dT: %d short udax copies", k->pair,
			     sz, f->mode, nthreads, ctx[t].c.err);
			snprintf(f->note, sizeof(f->note), "udax copy failed");
		}
		free(j.ta[t]);
		free(j.tb[t]);
	}
	if (size < 64 * KiB)
		snprintf(f->note + strlen(f->note),
			 sizeof(f->note) - strlen(f->note),
			 "%sper op: udax %.1f ns, baseline %.1f ns",
			 f->note[0] ? "; " : "", f->a_ns_op, f->b_ns_op);
	if (k->goal)
		k->goal(f, size, cold);
	free(ratios);
	free(ga);
	free(gb);
	fig_print(f);
}

static const uint64_t sizes_all[] = { 64, 4 * KiB, 64 * KiB, 2 * MiB, 64 * MiB };

void copy_kinds(const char *section, const struct copy_kind *const *k,
		int nk)
{
	for (int i = 0; i < nk; i++)
		for (int th = 1; th <= cfg.max_threads; th++)
			for (int cold = 0; cold < 2; cold++)
				for (size_t s = 0; s < 5; s++) {
					uint64_t sz = sizes_all[s];

					if (sz > cfg.pool / 2 / 2 ||
					    (cfg.quick && sz > 2 * MiB))
						continue;
					run_copy(section, k[i], sz, cold, th);
				}
}

void bench_read(void)
{
	static const struct copy_kind *const k[] = {
		&kind_failfast, &kind_recovery,
	};

	copy_kinds("read", k, 2);
}

void bench_rw(void)
{
	static const struct copy_kind *const k[] = {
		&kind_pread, &kind_pwrite,
	};

	copy_kinds("rw", k, 2);
}

/* ---- the pools ----------------------------------------------------------- */

int copy_setup(void)
{
	void *k;
	long n;

	cp.dev = dev_make("dev.img", cfg.pool);
	if (!cp.dev)
		return -1;
	/* One mapping of the whole span, as a file system maps an extent. */
	k = NULL;
	n = udax_direct_access(cp.dev, 0, (long)(cfg.pool / UDAX_PAGE_SIZE),
			       &k, NULL);
	if (n != (long)(cfg.pool / UDAX_PAGE_SIZE)) {
		fail("udax_direct_access failfast over the device: %ld", n);
		return -1;
	}
	cp.kff = k;
	k = (void *)UDAX_OP_RECOVERY;
	n = udax_direct_access(cp.dev, 0, (long)(cfg.pool / UDAX_PAGE_SIZE),
			       &k, NULL);
	if (n != (long)(cfg.pool / UDAX_PAGE_SIZE)) {
		fail("udax_direct_access recovery over the device: %ld", n);
		return -1;
	}
	cp.krec = k;
	/* Fault the device's pages in before anything is timed. */
	memset(udax_kaddr_untag(cp.kff), 0x3c, cfg.pool);

	cp.base = shared_map("base.img", cfg.pool, &cp.base_fd);
	cp.user = anon_map(cfg.pool);
	if (!cp.base || !cp.user)
		return -1;
	persist_setup();
	return 0;
}

void copy_teardown(void)
{
	persist_teardown();
	if (cp.base)
		munmap(cp.base, cfg.pool);
	if (cp.user)
		munmap(cp.user, cfg.pool);
	if (cp.base_fd > 0)
		close(cp.base_fd);
	udax_close(cp.dev);
	rm_image("dev.img");
	memset(&cp, 0, sizeof(cp));
}
