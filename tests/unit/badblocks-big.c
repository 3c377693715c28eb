/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad-block table at 10,000,000 ranges: udax__bb_assign() takes them in one
 * linear pass, and every lookup agrees with the input.  A binary of its own
 * so that valgrind, which runs the other table tests, is spared 300 MB.
 */
#include <time.h>

#include "harness.h"
#include "private.h"

#define BIG_N 10000000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Index of the first range ending after @s, or @n. */
static size_t ref_find(const struct udax_range *r, size_t n, uint64_t s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].off + r[mid].len <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t ref_first_bad(const struct udax_range *r, size_t n,
			      uint64_t s, uint64_t len)
{
	size_t i = ref_find(r, n, s);

	if (i == n || r[i].off >= s + len)
		return UINT64_MAX;
	return r[i].off > s ? r[i].off : s;
}

int main(void)
{
	struct udax_range *r, *snap;
	struct udax_bb *bb;
	uint64_t rs = 0xb16b16, s = 0, sum = 0;
	size_t n = BIG_N, i;
	double t0, t_assign, t_sweep, t_random;

	r = malloc(n * sizeof(*r));
	t_assert(r);
	/* Gaps of 1..64 sectors, lengths of 1..8: never touching. */
	for (i = 0; i < n; i++) {
		uint64_t x = t_rand(&rs);

		s += 1 + x % 64;
		r[i].off = s;
		r[i].len = 1 + (x >> 8) % 8;
		s += r[i].len;
		sum += r[i].len;
	}

	t_ok(udax__bb_new(&bb));
	t0 = now();
	t_ok(udax__bb_assign(bb, r, n));
	t_assign = now() - t0;
	t_ueq(udax__bb_count(bb), n);
	t_ueq(udax__bb_count_in(bb, 0, UINT64_MAX), sum);

	/* In order: the sector before each range is good and its first is
	 * bad, its last is bad, and the gap after it is good up to the next
	 * range. */
	t0 = now();
	for (i = 0; i < n; i++) {
		uint64_t a = r[i].off, e = a + r[i].len;
		uint64_t next = i + 1 < n ? r[i + 1].off : UINT64_MAX;

		t_ueq(udax__bb_first_bad(bb, a - 1, 2), a);
		t_ueq(udax__bb_first_bad(bb, e - 1, 1), e - 1);
		t_ueq(udax__bb_first_bad(bb, e, UINT64_MAX), next);
	}
	t_sweep = now() - t0;

	/* At random, against a binary search of the input. */
	t0 = now();
	for (i = 0; i < 500000; i++) {
		uint64_t x = t_rand(&rs), q = x % (s + 10), len = 1 + (x >> 50);

		if (udax__bb_first_bad(bb, q, len) !=
		    ref_first_bad(r, n, q, len))
			t_fail("first_bad(%" PRIu64 ", %" PRIu64 ") = %" PRIu64
			       " want %" PRIu64, q, len,
			       udax__bb_first_bad(bb, q, len),
			       ref_first_bad(r, n, q, len));
		if (i % 64 == 0) {
			size_t k = ref_find(r, n, q), m;
			uint64_t c = 0, e = q + 4096;

			for (m = k; m < n && r[m].off < e; m++) {
				uint64_t a = r[m].off > q ? r[m].off : q;
				uint64_t b = r[m].off + r[m].len;

				c += (b < e ? b : e) - a;
			}
			t_ueq(udax__bb_count_in(bb, q, 4096), c);
		}
	}
	t_random = now() - t0;

	snap = malloc(n * sizeof(*snap));
	t_assert(snap);
	t_ueq(udax__bb_snapshot(bb, snap, n), n);
	t_ok(memcmp(snap, r, n * sizeof(*r)));

	/* One set in the middle of the big table, then its undo. */
	t_ok(udax__bb_set(bb, r[n / 2].off - 1, 1));
	t_ueq(udax__bb_count(bb), n);
	t_ueq(udax__bb_first_bad(bb, r[n / 2].off - 1, 1), r[n / 2].off - 1);
	t_ok(udax__bb_clear(bb, r[n / 2].off - 1, 1));
	t_ueq(udax__bb_snapshot(bb, snap, n), n);
	t_ok(memcmp(snap, r, n * sizeof(*r)));

	printf("big: %zu ranges: assign %.3f s, %zu ordered lookups %.3f s, "
	       "500000 random %.3f s\n", n, t_assign, 3 * n, t_sweep, t_random);
	free(snap);
	free(r);
	udax__bb_free(bb);
	return 0;
}
