/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad-block table under concurrency: readers never block and always see a
 * consistent table while a writer sets, clears, grows and shrinks it, and
 * then while a writer replaces whole tables whose sizes cross the layout's
 * leaf, node and height boundaries (in place and into new arrays), on one
 * table per lookup code path, and last while a writer swings the bucket
 * index (its base, width and tree entries) between uniform, clustered and
 * sector-space-wide layouts.  Run under ThreadSanitizer in CI (label
 * "threads"), where every table takes the scalar path.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "harness.h"
#include "private.h"

/* A range the writer never touches: every reader must always see it. */
#define FIXED_S 1000005
#define FIXED_N 3
#define WRITER_SPAN 100000
#define SNAP_MAX 70000

static struct udax_bb *bb;
static atomic_bool stop;
static atomic_ulong reads;

static void *reader(void *arg)
{
	struct udax_range *r = malloc(SNAP_MAX * sizeof(*r));
	uint64_t rs = (uintptr_t)arg;
	unsigned long k;

	t_assert(r);
	for (k = 0; !atomic_load(&stop); k++) {
		uint64_t s = t_rand(&rs) % WRITER_SPAN, fb;
		size_t n, i;
		bool fixed = false;

		fb = udax__bb_first_bad(bb, s, 64);
		t_assert(fb == UINT64_MAX || (fb >= s && fb < s + 64));
		t_ueq(udax__bb_first_bad(bb, FIXED_S - 5, 5), UINT64_MAX);
		t_ueq(udax__bb_first_bad(bb, FIXED_S - 5, 100), FIXED_S);
		t_ueq(udax__bb_first_bad(bb, FIXED_S + 1, 1), FIXED_S + 1);
		t_ueq(udax__bb_count_in(bb, FIXED_S - 100, 200), FIXED_N);
		if (k % 16)
			continue;
		n = udax__bb_snapshot(bb, r, SNAP_MAX);
		t_assert(n >= 1 && n <= SNAP_MAX);
		for (i = 0; i < n; i++) {
			t_assert(r[i].len > 0);
			if (i)
				t_assert(r[i - 1].off + r[i - 1].len <
					 r[i].off);
			if (r[i].off == FIXED_S && r[i].len == FIXED_N)
				fixed = true;
		}
		t_assert(fixed);
		t_ueq(r[n - 1].off, FIXED_S);
	}
	atomic_fetch_add(&reads, k);
	free(r);
	return NULL;
}

/* ---- phase 2: whole tables ----------------------------------------------- */

#define BIG_MAX 300001

static const char *const isas[] = { "scalar", "avx2", "avx512" };
static struct udax_bb *tables[3];
static atomic_bool stop2;
static atomic_ulong reads2;

/* Ranges [10i, 10i + 5) for i < n, except near FIXED, plus FIXED. */
static size_t make_table(struct udax_range *r, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (10 * i + 10 > FIXED_S - 5 && 10 * i < FIXED_S + FIXED_N + 5)
			continue;
		if (10 * i > FIXED_S && (!o || r[o - 1].off < FIXED_S))
			r[o++] = (struct udax_range){ FIXED_S, FIXED_N };
		r[o++] = (struct udax_range){ 10 * i, 5 };
	}
	if (!o || r[o - 1].off < FIXED_S)
		r[o++] = (struct udax_range){ FIXED_S, FIXED_N };
	return o;
}

static void *reader2(void *arg)
{
	struct udax_range *r = malloc(BIG_MAX * sizeof(*r));
	uint64_t rs = (uintptr_t)arg;
	unsigned long k;

	t_assert(r);
	for (k = 0; !atomic_load(&stop2); k++) {
		struct udax_bb *t = tables[k % 3];
		uint64_t x = t_rand(&rs), s = x % 4000000, fb;
		size_t n, i;
		bool fixed = false;

		/* Every table is [10i, 10i + 5) around FIXED, but for the
		 * writer's brief [0, 7) at the front. */
		fb = udax__bb_first_bad(t, s, 64);
		t_assert(fb == UINT64_MAX || (fb >= s && fb < s + 64));
		t_assert(fb == UINT64_MAX || fb < 7 || fb % 10 < 5 ||
			 (fb >= FIXED_S && fb < FIXED_S + FIXED_N));
		t_ueq(udax__bb_first_bad(t, FIXED_S - 5, 5), UINT64_MAX);
		t_ueq(udax__bb_first_bad(t, FIXED_S - 5, 100), FIXED_S);
		t_ueq(udax__bb_first_bad(t, FIXED_S + 2, 1), FIXED_S + 2);
		t_ueq(udax__bb_first_bad(t, FIXED_S + FIXED_N, 5), UINT64_MAX);
		t_ueq(udax__bb_count_in(t, FIXED_S - 5, FIXED_N + 10),
		      FIXED_N);
		if (k % 64)
			continue;
		n = udax__bb_snapshot(t, r, BIG_MAX);
		t_assert(n >= 1 && n <= BIG_MAX);
		for (i = 0; i < n; i++) {
			t_assert(r[i].len > 0);
			if (i)
				t_assert(r[i - 1].off + r[i - 1].len <
					 r[i].off);
			if (r[i].off == FIXED_S && r[i].len == FIXED_N)
				fixed = true;
		}
		t_assert(fixed);
	}
	atomic_fetch_add(&reads2, k);
	free(r);
	return NULL;
}

static double now(void);

/* Phases 2 and 3: one table per code path, each holding FIXED, and two
 * readers running @fn (seeds @seed, @seed + 1). */
static void tables_start(pthread_t th[2], void *(*fn)(void *), int seed)
{
	for (int i = 0; i < 3; i++) {
		t_ok(setenv("UDAX_BB_ISA", isas[i], 1));
		t_ok(udax__bb_new(&tables[i]));
		t_ok(udax__bb_set(tables[i], FIXED_S, FIXED_N));
	}
	t_ok(unsetenv("UDAX_BB_ISA"));
	for (int i = 0; i < 2; i++)
		t_ok(pthread_create(&th[i], NULL, fn,
				    (void *)(uintptr_t)(i + seed)));
}

static void tables_stop(pthread_t th[2], atomic_bool *done, const char *what,
			unsigned long writes, atomic_ulong *iters)
{
	atomic_store(done, true);
	for (int i = 0; i < 2; i++)
		t_ok(pthread_join(th[i], NULL));
	printf("threads, %s: %lu writes, %lu reader iterations\n", what,
	       writes, atomic_load(iters));
	for (int i = 0; i < 3; i++)
		udax__bb_free(tables[i]);
}

static void phase2(void)
{
	/* Leaf (16), node (17 leaves = 272 with the padding slot), next
	 * level (4624) and the one above (78608), up and down, and big
	 * enough (300000) that trimming gives pages back. */
	static const size_t sizes[] = {
		0, 1, 15, 16, 17, 271, 272, 273, 4623, 4624, 4625, 16, 78607,
		78608, 300000, 3, 300000, 272, 78609, 0,
	};
	struct udax_range *r = malloc(BIG_MAX * sizeof(*r));
	pthread_t th[2];
	unsigned long writes = 0;
	double end;

	t_assert(r);
	tables_start(th, reader2, 7);
	end = now() + 1.0;
	for (size_t j = 0; now() < end; j++) {
		size_t n = make_table(r, sizes[j % (sizeof(sizes) /
						   sizeof(sizes[0]))]);

		t_ok(udax__bb_assign(tables[j % 3], r, n));
		t_ueq(udax__bb_count(tables[j % 3]), n);
		/* And splices at the front of big tables. */
		t_ok(udax__bb_set(tables[j % 3], 0, 7));
		t_ok(udax__bb_clear(tables[j % 3], 0, 10));
		writes += 3;
	}
	tables_stop(th, &stop2, "whole tables", writes, &reads2);
	free(r);
}

/* ---- phase 3: bucket shapes ---------------------------------------------- */

/* Sectors no layout ever marks: readers check that no lookup finds them. */
#define CLEAN_LO (FIXED_S + 100)
#define CLEAN_HI 2000000
#define TOP_CLEAN (UINT64_MAX - 200)

static atomic_bool stop3;
static atomic_ulong reads3;

/*
 * Layout @k (0..3), always with FIXED: uniform ranges below it; a dense
 * cluster above CLEAN_HI (thousands of ranges to a bucket); that cluster
 * and one range at the top of the sector space (one bucket for nearly
 * all); FIXED and the top range alone.
 */
static size_t make_layout(struct udax_range *r, unsigned int k)
{
	size_t o = 0;

	if (k == 0)
		for (uint64_t i = 1; 10 * i + 10 < FIXED_S - 5; i += 3)
			r[o++] = (struct udax_range){ 10 * i, 5 };
	r[o++] = (struct udax_range){ FIXED_S, FIXED_N };
	if (k == 1 || k == 2)
		for (uint64_t i = 0; i < 40000; i++)
			r[o++] = (struct udax_range){ CLEAN_HI + 3 * i, 1 };
	if (k >= 2)
		r[o++] = (struct udax_range){ UINT64_MAX - 100, 50 };
	return o;
}

static void *reader3(void *arg)
{
	uint64_t rs = (uintptr_t)arg;
	unsigned long k;

	for (k = 0; !atomic_load(&stop3); k++) {
		struct udax_bb *t = tables[k % 3];
		uint64_t x = t_rand(&rs), fb;

		t_ueq(udax__bb_first_bad(t, FIXED_S - 5, 100), FIXED_S);
		t_ueq(udax__bb_first_bad(t, FIXED_S + 2, 1), FIXED_S + 2);
		t_ueq(udax__bb_first_bad(t, CLEAN_LO + x % (CLEAN_HI - CLEAN_LO),
					 1), UINT64_MAX);
		t_ueq(udax__bb_first_bad(t, TOP_CLEAN + x % 100, 1),
		      UINT64_MAX);
		t_ueq(udax__bb_first_bad(t, CLEAN_LO, CLEAN_HI - CLEAN_LO),
		      UINT64_MAX);
		fb = udax__bb_first_bad(t, CLEAN_HI + x % 200000, 64);
		t_assert(fb == UINT64_MAX || fb >= CLEAN_HI + x % 200000);
		t_ueq(udax__bb_count_in(t, FIXED_S - 5, FIXED_N + 10),
		      FIXED_N);
	}
	atomic_fetch_add(&reads3, k);
	return NULL;
}

static void phase3(void)
{
	struct udax_range *r = malloc(BIG_MAX * sizeof(*r));
	pthread_t th[2];
	unsigned long writes = 0;
	double end;

	t_assert(r);
	tables_start(th, reader3, 11);
	end = now() + 1.0;
	for (size_t j = 0; now() < end; j++) {
		struct udax_bb *t = tables[j % 3];
		size_t n = make_layout(r, (j / 3) % 4);

		t_ok(udax__bb_assign(t, r, n));
		t_ueq(udax__bb_count(t), n);
		/* In place: a first range far below moves the base, a top
		 * range widens the buckets, and both go again. */
		t_ok(udax__bb_set(t, 1, 2));
		t_ok(udax__bb_set(t, UINT64_MAX - 10, 5));
		t_ok(udax__bb_clear(t, 0, 5));
		t_ok(udax__bb_clear(t, UINT64_MAX - 10, 5));
		writes += 5;
	}
	tables_stop(th, &stop3, "bucket shapes", writes, &reads3);
	free(r);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
	pthread_t th[2];
	uint64_t rs = 42;
	unsigned long writes = 0, rounds = 0;
	double end;

	t_ok(udax__bb_new(&bb));
	t_ok(udax__bb_set(bb, FIXED_S, FIXED_N));
	for (int i = 0; i < 2; i++)
		t_ok(pthread_create(&th[i], NULL, reader,
				    (void *)(uintptr_t)(i + 1)));

	end = now() + 1.0;
	while (now() < end) {
		/* Grow: many small ranges force new arrays and retirement. */
		for (uint64_t i = 0; i < 3000 && now() < end; i++, writes++)
			t_ok(udax__bb_set(bb, 2 * i * 5, 5));
		/* Churn: random sets and clears, merges and splits. */
		for (int i = 0; i < 2000; i++, writes++) {
			uint64_t x = t_rand(&rs);
			uint64_t s = x % WRITER_SPAN, n = 1 + (x >> 40) % 300;

			if (x & (1ULL << 63))
				t_ok(udax__bb_set(bb, s, n));
			else
				t_ok(udax__bb_clear(bb, s, n));
		}
		/* Shrink back. */
		t_ok(udax__bb_clear(bb, 0, WRITER_SPAN + 300));
		t_ueq(udax__bb_count(bb), 1);
		writes++;
		rounds++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		t_ok(pthread_join(th[i], NULL));
	printf("threads: %lu writes in %lu rounds, %lu reader iterations\n",
	       writes, rounds, atomic_load(&reads));
	udax__bb_free(bb);
	phase2();
	phase3();
	return 0;
}
