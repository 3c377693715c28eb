/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "write": udax_copy_from_iter against the persistent copies of
 * libpmem (pmem_memcpy_persist) and libpmem2 (its memcpy_fn), over the
 * copy pools of copy.c.  Either library is optional: without it the figure
 * says "baseline not built".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "bench.h"

#ifdef UDAX_BENCH_HAVE_PMEM
#include <libpmem.h>
#endif
#ifdef UDAX_BENCH_HAVE_PMEM2
#include <libpmem2.h>
#endif

static struct {
	char *base2;		/* libpmem2's file (cp.base_fd), mapped by it */
#ifdef UDAX_BENCH_HAVE_PMEM2
	struct pmem2_map *p2map;
	pmem2_memcpy_fn p2memcpy;
#endif
	bool have_pmem2;
	char pmem2_note[128];
} pm;

static uint64_t loop_copy_from_iter(void *ctx, uint64_t n)
{
	struct copy_ctx *c = ctx;
	size_t S = c->size;
	uint64_t err = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);
		struct iovec iov = { cp.user + off, S };
		struct udax_iter it;

		udax_iter_init(&it, &iov, 1, S);
		if (udax__unlikely(udax_copy_from_iter(cp.dev, off >> 12,
				cp.kff + off, S, &it) != S))
			err++;
	}
	return err;
}

static uint64_t loop_pmem(void *ctx, uint64_t n)
{
#ifdef UDAX_BENCH_HAVE_PMEM
	struct copy_ctx *c = ctx;
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		pmem_memcpy_persist(cp.base + off, cp.user + off, S);
	}
#endif
	return 0;
}

static uint64_t loop_pmem2(void *ctx, uint64_t n)
{
#ifdef UDAX_BENCH_HAVE_PMEM2
	struct copy_ctx *c = ctx;
	size_t S = c->size;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		pm.p2memcpy(pm.base2 + off, cp.user + off, S, 0);
	}
#endif
	return 0;
}

/* The parts of loop_copy_from_iter, for the breakdown kinds below: the
 * persistent copy alone, and the same under udax's fault guard. */
static uint64_t loop_raw_persist(void *ctx, uint64_t n)
{
	struct copy_ctx *c = ctx;
	size_t S = c->size;
	char *dev = udax_kaddr_untag(cp.kff);

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		udax__memcpy_persist(dev + off, cp.user + off, S);
	}
	return 0;
}

static uint64_t loop_guarded_persist(void *ctx, uint64_t n)
{
	struct copy_ctx *c = ctx;
	size_t S = c->size;
	char *dev = udax_kaddr_untag(cp.kff);
	struct udax_fault f;
	uint64_t err = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = slot_off(c);

		if (udax__unlikely(udax__mc_copy(dev + off, cp.user + off, S,
						 true, &f) != S))
			err++;
	}
	return err;
}

static const char *unbuilt_pmem(void)
{
#ifdef UDAX_BENCH_HAVE_PMEM
	return NULL;
#else
	return "libpmem missing";
#endif
}

static const char *unbuilt_pmem2(void)
{
	if (pm.have_pmem2)
		return NULL;
	return pm.pmem2_note[0] ? pm.pmem2_note : "libpmem2 missing";
}

/* Goals: >= 1.00 at every size (issue 4, 12), >= 1.30 cold from 2 MiB
 * (issue 4), >= 1.10 at 64 B cold (issue 12). */
static void goal_persist(struct fig *f, uint64_t size, bool cold)
{
	double g = 1.00;

	if (cold && size >= 2 * MiB)
		g = 1.30;
	else if (cold && size == 64)
		g = 1.10;
	fig_goal(f, G_RATIO_GE, g);
}

const struct copy_kind kind_persist = {
	.pair = "persist copy_from_iter / pmem_memcpy_persist",
	.a = loop_copy_from_iter,
	.b = loop_pmem,
	.unbuilt = unbuilt_pmem,
	.goal = goal_persist,
};

const struct copy_kind kind_persist2 = {
	.pair = "persist copy_from_iter / pmem2 memcpy_fn",
	.a = loop_copy_from_iter,
	.b = loop_pmem2,
	.unbuilt = unbuilt_pmem2,
};

/*
 * Where copy_from_iter's time goes (no goals): udax's persistent copy
 * alone against libpmem's, and the fault guard's share.  Together with
 * kind_persist they split the call into copy, guard and the rest.
 */
const struct copy_kind kind_persist_raw = {
	.pair = "persistent copy alone / pmem_memcpy_persist",
	.a = loop_raw_persist,
	.b = loop_pmem,
	.unbuilt = unbuilt_pmem,
};

const struct copy_kind kind_persist_guard = {
	.pair = "guarded persistent copy / persistent copy alone",
	.a = loop_guarded_persist,
	.b = loop_raw_persist,
};

void bench_write(void)
{
	static const struct copy_kind *const k[] = {
		&kind_persist, &kind_persist2, &kind_persist_raw,
		&kind_persist_guard,
	};

	copy_kinds("write", k, 4);
}

void persist_setup(void)
{
#ifdef UDAX_BENCH_HAVE_PMEM2
	struct pmem2_config *c = NULL;
	struct pmem2_source *s = NULL;
	int rc;

	/*
	 * tmpfs is not pmem: left alone, libpmem2 picks page granularity and
	 * a memcpy that ends in msync.  Force the cache-line path a real DAX
	 * mapping gets (read by each pmem2_map_new()).
	 */
	setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
	rc = pmem2_config_new(&c);
	if (!rc)
		rc = pmem2_config_set_required_store_granularity(c,
				PMEM2_GRANULARITY_CACHE_LINE);
	if (!rc)
		rc = pmem2_source_from_fd(&s, cp.base_fd);
	if (!rc)
		rc = pmem2_map_new(&pm.p2map, c, s);
	if (!rc) {
		pm.base2 = pmem2_map_get_address(pm.p2map);
		pm.p2memcpy = pmem2_get_memcpy_fn(pm.p2map);
		pm.have_pmem2 = pm.base2 && pm.p2memcpy;
		/* a mapping of its own: faulted in as the others are */
		for (uint64_t off = 0; pm.have_pmem2 && off < cfg.pool;
		     off += UDAX_PAGE_SIZE)
			((volatile char *)pm.base2)[off] = pm.base2[off];
	} else {
		snprintf(pm.pmem2_note, sizeof(pm.pmem2_note),
			 "libpmem2 map failed: %s", pmem2_errormsg());
	}
	if (s)
		pmem2_source_delete(&s);
	if (c)
		pmem2_config_delete(&c);
#endif
}

void persist_teardown(void)
{
#ifdef UDAX_BENCH_HAVE_PMEM2
	if (pm.p2map)
		pmem2_map_delete(&pm.p2map);
#endif
	memset(&pm, 0, sizeof(pm));
}
