/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad-block table under concurrency: readers never block and always see a
 * consistent table while a writer sets, clears, grows and shrinks it.  Run
 * under ThreadSanitizer in CI (label "threads").
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
	return 0;
}
