/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad-block table: every set/clear overlap case, spec vectors V17, V23 (the
 * table part) and V24, the sysfs text parser and formatter, and a long
 * random run of set/clear/lookups checked against a bitmap model.
 */
#include <stdbool.h>
#include <time.h>

#include "harness.h"
#include "private.h"

static struct udax_bb *bb_new(void)
{
	struct udax_bb *bb;

	t_ok(udax__bb_new(&bb));
	return bb;
}

/* The table in sysfs text form (static buffer). */
static const char *bb_text(struct udax_bb *bb)
{
	static char buf[4096];
	struct udax_range r[128];
	size_t n = udax__bb_snapshot(bb, r, 128);

	t_assert(n <= 128);
	t_assert(udax__bb_format(r, n, buf, sizeof(buf)) < sizeof(buf));
	return buf;
}

#define t_text(bb, want) do {						\
	const char *got_ = bb_text(bb);					\
	if (strcmp(got_, (want)))					\
		t_fail("table \"%s\" != \"%s\"", got_, (want));		\
} while (0)

/* Sorted, disjoint, merged: no two ranges overlap or touch. */
static void check_invariants(const struct udax_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		t_assert(r[i].len > 0);
		t_assert(r[i].off + r[i].len >= r[i].off);
		if (i)
			t_assert(r[i - 1].off + r[i - 1].len < r[i].off);
	}
}

/* ---- overlap cases ------------------------------------------------------ */

struct op {
	char what;		/* 's'et, 'c'lear, 0 = end */
	uint64_t s, n;
};

static const struct {
	const char *name;
	struct op ops[6];
	const char *want;
} cases[] = {
	{ "set disjoint after", { { 's', 10, 5 }, { 's', 20, 5 } },
	  "10 5\n20 5\n" },
	{ "set disjoint before", { { 's', 20, 5 }, { 's', 10, 5 } },
	  "10 5\n20 5\n" },
	{ "set gap of one", { { 's', 10, 5 }, { 's', 16, 5 } },
	  "10 5\n16 5\n" },
	{ "set touching after", { { 's', 10, 5 }, { 's', 15, 5 } },
	  "10 10\n" },
	{ "set touching before", { { 's', 15, 5 }, { 's', 10, 5 } },
	  "10 10\n" },
	{ "set overlap front", { { 's', 12, 8 }, { 's', 10, 5 } },
	  "10 10\n" },
	{ "set overlap back", { { 's', 10, 5 }, { 's', 12, 8 } },
	  "10 10\n" },
	{ "set inside", { { 's', 10, 10 }, { 's', 12, 2 } }, "10 10\n" },
	{ "set equal", { { 's', 10, 10 }, { 's', 10, 10 } }, "10 10\n" },
	{ "set covers", { { 's', 12, 2 }, { 's', 10, 10 } }, "10 10\n" },
	{ "set bridges", { { 's', 10, 2 }, { 's', 14, 2 }, { 's', 18, 2 },
			   { 's', 11, 8 } }, "10 10\n" },
	{ "set fills gaps", { { 's', 10, 2 }, { 's', 14, 2 }, { 's', 18, 2 },
			      { 's', 12, 2 }, { 's', 16, 2 } }, "10 10\n" },
	{ "set bridges some", { { 's', 0, 1 }, { 's', 10, 2 }, { 's', 14, 2 },
				{ 's', 30, 1 }, { 's', 12, 5 } },
	  "0 1\n10 7\n30 1\n" },
	{ "set zero length", { { 's', 10, 0 } }, "" },
	{ "clear disjoint", { { 's', 10, 5 }, { 'c', 20, 5 } }, "10 5\n" },
	{ "clear touching after", { { 's', 10, 5 }, { 'c', 15, 5 } },
	  "10 5\n" },
	{ "clear touching before", { { 's', 10, 5 }, { 'c', 5, 5 } },
	  "10 5\n" },
	{ "clear cut back", { { 's', 10, 10 }, { 'c', 15, 10 } }, "10 5\n" },
	{ "clear cut front", { { 's', 10, 10 }, { 'c', 5, 10 } }, "15 5\n" },
	{ "clear split", { { 's', 10, 10 }, { 'c', 12, 2 } },
	  "10 2\n14 6\n" },
	{ "clear split by one", { { 's', 10, 3 }, { 'c', 11, 1 } },
	  "10 1\n12 1\n" },
	{ "clear covers", { { 's', 12, 2 }, { 'c', 10, 10 } }, "" },
	{ "clear equal", { { 's', 12, 2 }, { 'c', 12, 2 } }, "" },
	{ "clear spans", { { 's', 10, 4 }, { 's', 16, 2 }, { 's', 20, 6 },
			   { 'c', 12, 10 } }, "10 2\n22 4\n" },
	{ "clear empty table", { { 'c', 0, 100 } }, "" },
	{ "clear zero length", { { 's', 10, 5 }, { 'c', 10, 0 } }, "10 5\n" },
	/* V17 */
	{ "V17 set", { { 's', 10, 5 }, { 's', 15, 5 } }, "10 10\n" },
	{ "V17 clear", { { 's', 10, 5 }, { 's', 15, 5 }, { 'c', 12, 2 } },
	  "10 2\n14 6\n" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct udax_bb *bb = bb_new();

		for (const struct op *o = cases[i].ops; o->what; o++) {
			if (o->what == 's')
				t_ok(udax__bb_set(bb, o->s, o->n));
			else
				t_ok(udax__bb_clear(bb, o->s, o->n));
		}
		if (strcmp(bb_text(bb), cases[i].want))
			t_fail("%s: \"%s\" != \"%s\"", cases[i].name,
			       bb_text(bb), cases[i].want);
		udax__bb_free(bb);
	}
}

static void test_lookups(void)
{
	struct udax_bb *bb = bb_new();

	t_ueq(udax__bb_first_bad(bb, 0, 100), UINT64_MAX);
	t_ueq(udax__bb_count_in(bb, 0, 100), 0);
	t_ueq(udax__bb_count(bb), 0);
	t_ok(udax__bb_set(bb, 10, 5));
	t_ok(udax__bb_set(bb, 30, 5));
	t_ueq(udax__bb_count(bb), 2);
	t_ueq(udax__bb_first_bad(bb, 0, 10), UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, 0, 11), 10);
	t_ueq(udax__bb_first_bad(bb, 12, 1), 12);
	t_ueq(udax__bb_first_bad(bb, 15, 15), UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, 15, 16), 30);
	t_ueq(udax__bb_first_bad(bb, 14, 0), UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, 35, UINT64_MAX), UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, 0, UINT64_MAX), 10);
	t_ueq(udax__bb_count_in(bb, 0, UINT64_MAX), 10);
	t_ueq(udax__bb_count_in(bb, 12, 20), 5);
	t_ueq(udax__bb_count_in(bb, 12, 0), 0);

	/* s + n past UINT64_MAX is clamped to [s, UINT64_MAX). */
	t_ok(udax__bb_set(bb, UINT64_MAX - 5, 100));
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX - 1, 10), UINT64_MAX - 1);
	t_ueq(udax__bb_count_in(bb, UINT64_MAX - 10, 100), 5);
	t_ok(udax__bb_set(bb, UINT64_MAX, 1));
	t_ueq(udax__bb_count(bb), 3);
	t_ok(udax__bb_clear(bb, UINT64_MAX - 3, UINT64_MAX));
	t_text(bb, "10 5\n30 5\n18446744073709551610 2\n");
	udax__bb_free(bb);
	udax__bb_free(NULL);
}

/* V23, table part: 1000 single-sector ranges at 0, 16, 32, ... */
static void test_v23(void)
{
	struct udax_bb *bb = bb_new();
	struct udax_range r[1001];

	for (uint64_t i = 0; i < 1000; i++)
		t_ok(udax__bb_set(bb, 16 * i, 1));
	t_ueq(udax__bb_count(bb), 1000);
	t_ueq(udax__bb_snapshot(bb, r, 1001), 1000);
	for (uint64_t i = 0; i < 1000; i++) {
		t_ueq(r[i].off, 16 * i);
		t_ueq(r[i].len, 1);
		t_ueq(udax__bb_first_bad(bb, 16 * i, 16), 16 * i);
		t_ueq(udax__bb_first_bad(bb, 16 * i + 1, 15), UINT64_MAX);
	}
	t_ueq(udax__bb_count_in(bb, 0, 4096 * 8), 1000);
	/* A short snapshot still reports the total. */
	t_ueq(udax__bb_snapshot(bb, r, 3), 1000);
	t_ueq(r[2].off, 32);
	t_ueq(udax__bb_snapshot(bb, NULL, 0), 1000);
	udax__bb_free(bb);
}

static void test_assign(void)
{
	struct udax_bb *bb = bb_new();
	struct udax_range in[] = {
		{ 40, 2 }, { 10, 5 }, { 15, 1 }, { 12, 1 }, { 50, 0 },
		{ 100, 1 },
	};
	struct udax_range *big;
	size_t n = 300000;

	t_ok(udax__bb_set(bb, 1000, 1));
	t_ok(udax__bb_assign(bb, in, 6));
	t_text(bb, "10 6\n40 2\n100 1\n");
	t_ok(udax__bb_assign(bb, NULL, 0));
	t_text(bb, "");
	t_ueq(udax__bb_first_bad(bb, 0, UINT64_MAX), UINT64_MAX);

	/* Growth through several arrays, then back to small. */
	big = malloc(n * sizeof(*big));
	t_assert(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (struct udax_range){ 3 * i, 2 };
	for (size_t m = 1; m <= n; m = m * 3 + 1) {
		t_ok(udax__bb_assign(bb, big, m));
		t_ueq(udax__bb_count(bb), m);
		t_ueq(udax__bb_first_bad(bb, 3 * (m - 1) + 1, 10),
		      3 * (m - 1) + 1);
		t_ueq(udax__bb_first_bad(bb, 3 * (m - 1) + 2, 10),
		      UINT64_MAX);
	}
	t_ok(udax__bb_assign(bb, big, n));
	t_ueq(udax__bb_count_in(bb, 0, UINT64_MAX), 2 * n);
	for (size_t i = 0; i < n; i += 997) {
		t_ueq(udax__bb_first_bad(bb, 3 * i, 1), 3 * i);
		t_ueq(udax__bb_first_bad(bb, 3 * i + 2, 1), UINT64_MAX);
		t_ueq(udax__bb_first_bad(bb, 3 * i + 2, 2), 3 * i + 3 <
		      3 * n ? 3 * i + 3 : UINT64_MAX);
	}
	t_ok(udax__bb_set(bb, 2, 1));
	t_ueq(udax__bb_count(bb), n - 1);
	t_ok(udax__bb_assign(bb, in, 2));
	t_text(bb, "10 5\n40 2\n");
	free(big);
	udax__bb_free(bb);
}

/* ---- layout edges -------------------------------------------------------- */

/* Lookups take a per-table code path; a name this CPU lacks falls back. */
static const char *const isas[] = { "scalar", "avx2", "avx512" };

static struct udax_bb *bb_new_isa(const char *isa)
{
	struct udax_bb *bb;

	t_ok(setenv("UDAX_BB_ISA", isa, 1));
	t_ok(udax__bb_new(&bb));
	t_ok(unsetenv("UDAX_BB_ISA"));
	return bb;
}

/*
 * The table holds exactly @r: count, snapshot, and lookups around every
 * @stride-th range, and always the first and last two of every 16, where
 * leaves and nodes meet whatever their size (stride 0: no lookups).
 */
static void check_table(struct udax_bb *bb, const struct udax_range *r,
			size_t n, size_t stride)
{
	static struct udax_range snap[80000];
	uint64_t total = 0, before = 0;

	t_assert(n <= 80000);
	for (size_t i = 0; i < n; i++)
		total += r[i].len;
	t_ueq(udax__bb_count(bb), n);
	t_ueq(udax__bb_snapshot(bb, snap, n), n);
	t_ok(n ? memcmp(snap, r, n * sizeof(*r)) : 0);
	t_ueq(udax__bb_count_in(bb, 0, UINT64_MAX), total);
	t_ueq(udax__bb_first_bad(bb, 0, UINT64_MAX), n ? r[0].off : UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX, UINT64_MAX), UINT64_MAX);
	for (size_t i = 0; i < n; i++) {
		uint64_t a = r[i].off, e = a + r[i].len;
		uint64_t prev = i ? r[i - 1].off + r[i - 1].len : 0;
		uint64_t next = i + 1 < n ? r[i + 1].off : UINT64_MAX;

		before += r[i].len;
		if (!stride || (i % stride && i % 16 > 1 && i % 16 < 14 &&
				i + 2 < n))
			continue;
		if (a > prev) {
			t_ueq(udax__bb_first_bad(bb, a - 1, 1), UINT64_MAX);
			t_ueq(udax__bb_first_bad(bb, prev, a - prev),
			      UINT64_MAX);
		}
		t_ueq(udax__bb_first_bad(bb, prev, a - prev + 1), a);
		t_ueq(udax__bb_first_bad(bb, a, 1), a);
		t_ueq(udax__bb_first_bad(bb, e - 1, 1), e - 1);
		t_ueq(udax__bb_first_bad(bb, e - 1, UINT64_MAX), e - 1);
		t_ueq(udax__bb_first_bad(bb, e, next - e), UINT64_MAX);
		t_ueq(udax__bb_first_bad(bb, e, UINT64_MAX), next);
		t_ueq(udax__bb_count_in(bb, prev, next - prev), r[i].len);
		/* A walk over every later range: small tables only. */
		if (n <= 64)
			t_ueq(udax__bb_count_in(bb, a + 1, UINT64_MAX),
			      total - (before - r[i].len) - 1);
	}
}

/* @n ranges of 1..5 sectors, gaps of 5..7, from @base; with @top the last
 * one ends at UINT64_MAX, the highest end a range can have. */
static void make_list(struct udax_range *r, size_t n, uint64_t base, bool top)
{
	for (size_t i = 0; i < n; i++) {
		r[i].off = base + 10 * i + i % 3;
		r[i].len = 1 + i % 5;
	}
	if (top && n)
		r[n - 1].len = UINT64_MAX - r[n - 1].off;
}

/*
 * Sizes on both sides of every boundary of the layout: a leaf's 16 ranges,
 * a node's 17 children (272 ranges fill 17 leaves with the padding slot
 * past the last range), the next level (17 * 17 leaves: 4624), and one
 * more (78608).
 */
static void test_sizes(void)
{
	static const size_t big[] = {
		511, 512, 513, 4095, 4096, 4097, 4607, 4608, 4623, 4624, 4625,
		78591, 78592, 78607, 78608, 78609,
	};
	static struct udax_range r[80000];
	const uint64_t top = UINT64_MAX - 10 * 80000 - 20;

	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		struct udax_bb *bb = bb_new_isa(isas[k]);

		for (size_t n = 0; n <= 300; n++) {
			make_list(r, n, 3, false);
			t_ok(udax__bb_assign(bb, r, n));
			check_table(bb, r, n, 1);
		}
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			make_list(r, big[i], 1000, false);
			t_ok(udax__bb_assign(bb, r, big[i]));
			check_table(bb, r, big[i], 97);
		}
		/* Near the end of the sector space, down through the sizes
		 * so that the same array is rebuilt smaller each time. */
		for (size_t n = 300; n-- > 0;) {
			if (n > 20 && n % 16 > 1 && n % 16 < 15)
				continue;
			make_list(r, n, top, n % 2);
			t_ok(udax__bb_assign(bb, r, n));
			check_table(bb, r, n, 1);
		}
		udax__bb_free(bb);
	}
}

/* Built one set at a time, then cleared one range at a time: every splice
 * position, through every height up to 600 ranges. */
static void test_grow_shrink(void)
{
	enum { N = 600 };
	static struct udax_range all[N], cur[N];
	uint64_t rs = 0x9b0c5;
	size_t order[N];

	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		struct udax_bb *bb = bb_new_isa(isas[k]);
		bool in[N] = { false };
		size_t n = 0;

		make_list(all, N, 1, false);
		for (size_t i = 0; i < N; i++)
			order[i] = i;
		for (size_t i = N - 1; i > 0; i--) {
			size_t j = t_rand(&rs) % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < N; i++) {
				const struct udax_range *x = &all[order[i]];

				t_ok(pass ? udax__bb_clear(bb, x->off, x->len)
					  : udax__bb_set(bb, x->off, x->len));
				in[order[i]] = pass == 0;
				n = 0;
				for (size_t j = 0; j < N; j++)
					if (in[j])
						cur[n++] = all[j];
				check_table(bb, cur, n, i % 37 ? 0 : 1);
			}
		}
		t_ueq(udax__bb_count(bb), 0);
		udax__bb_free(bb);
	}
}

/* Sets and clears at the very end of the sector space. */
static void test_top(void)
{
	struct udax_bb *bb = bb_new();

	t_ok(udax__bb_set(bb, UINT64_MAX - 1, 1));
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX - 1, 1), UINT64_MAX - 1);
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX - 1, UINT64_MAX),
	      UINT64_MAX - 1);
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX - 2, 1), UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX, 1), UINT64_MAX);
	t_ueq(udax__bb_count_in(bb, UINT64_MAX - 1, 1), 1);
	t_ueq(udax__bb_count_in(bb, UINT64_MAX, 1), 0);
	for (uint64_t i = 2; i < 60; i += 2)
		t_ok(udax__bb_set(bb, UINT64_MAX - 1 - i, 1));
	t_ueq(udax__bb_count(bb), 30);
	t_ueq(udax__bb_count_in(bb, 0, UINT64_MAX), 30);
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX - 4, 1), UINT64_MAX);
	t_ueq(udax__bb_first_bad(bb, UINT64_MAX - 4, 2), UINT64_MAX - 3);
	/* Fill every gap: one range to the end. */
	t_ok(udax__bb_set(bb, UINT64_MAX - 70, UINT64_MAX));
	t_text(bb, "18446744073709551545 70\n");
	t_ok(udax__bb_clear(bb, UINT64_MAX - 69, 68));
	t_text(bb, "18446744073709551545 1\n18446744073709551614 1\n");
	/* [0, UINT64_MAX) holds every sector a range can have. */
	t_ok(udax__bb_clear(bb, 0, UINT64_MAX));
	t_text(bb, "");
	udax__bb_free(bb);
}

/* A big table shrunk in place gives its pages back; growing it again in the
 * same array must find them zeroed and rewrite them. */
static void test_shrink_regrow(void)
{
	size_t n = 200000;
	struct udax_range *r = malloc(n * sizeof(*r));

	t_assert(r);
	make_list(r, n, 7, false);
	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		struct udax_bb *bb = bb_new_isa(isas[k]);

		t_ok(udax__bb_assign(bb, r, n));
		t_ok(udax__bb_assign(bb, r, 3));
		check_table(bb, r, 3, 1);
		t_ok(udax__bb_assign(bb, r + 1000, n - 1000));
		t_ueq(udax__bb_count(bb), n - 1000);
		for (size_t i = 1000; i < n; i += 1013) {
			t_ueq(udax__bb_first_bad(bb, r[i].off - 1, 2),
			      r[i].off);
			t_ueq(udax__bb_first_bad(bb, r[i].off + r[i].len, 2),
			      UINT64_MAX);
		}
		t_ueq(udax__bb_first_bad(bb, 0, UINT64_MAX), r[1000].off);
		udax__bb_free(bb);
	}
	free(r);
}

/* ---- buckets -------------------------------------------------------------- */

/* What first_bad must answer for the sorted, merged list @r. */
static uint64_t ref_first_bad(const struct udax_range *r, size_t n,
			      uint64_t s, uint64_t len)
{
	uint64_t e = len > UINT64_MAX - s ? UINT64_MAX : s + len, m;
	size_t lo = 0, hi = n;

	/* The first range that ends after s. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].off + r[mid].len <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!len || lo == n)
		return UINT64_MAX;
	m = r[lo].off > s ? r[lo].off : s;
	return m < e ? m : UINT64_MAX;
}

static void check_lookup(struct udax_bb *bb, const struct udax_range *r,
			 size_t n, uint64_t s)
{
	static const uint64_t lens[] = { 0, 1, 2, 64, UINT64_MAX };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t want = ref_first_bad(r, n, s, lens[i]);
		uint64_t got = udax__bb_first_bad(bb, s, lens[i]);

		if (got != want)
			t_fail("%zu ranges: first_bad(%" PRIu64 ", %" PRIu64
			       ") = %" PRIu64 " want %" PRIu64, n, s, lens[i],
			       got, want);
	}
}

/* Every edge of every range, the sectors between, and @extra random ones
 * over the whole sector space and over the ranges' span. */
static void check_edges(struct udax_bb *bb, const struct udax_range *r,
			size_t n, size_t extra, uint64_t *rs)
{
	static const uint64_t fixed[] = { 0, 1, 2, UINT64_MAX - 2,
					  UINT64_MAX - 1, UINT64_MAX };
	uint64_t lo = n ? r[0].off : 0;
	uint64_t span = n ? r[n - 1].off + r[n - 1].len - lo : 1;

	t_ueq(udax__bb_count(bb), n);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_lookup(bb, r, n, fixed[i]);
	for (size_t i = 0; i < n; i++) {
		uint64_t a = r[i].off, e = a + r[i].len;

		if (a)
			check_lookup(bb, r, n, a - 1);
		check_lookup(bb, r, n, a);
		check_lookup(bb, r, n, e - 1);
		check_lookup(bb, r, n, e);
		if (i + 1 < n)
			check_lookup(bb, r, n, e + (r[i + 1].off - e) / 2);
	}
	for (size_t i = 0; i < extra; i++) {
		check_lookup(bb, r, n, t_rand(rs));
		check_lookup(bb, r, n, lo + t_rand(rs) % span);
	}
}

/* Append [off, off + len) to @r if it lies after the last range and does
 * not touch it. */
static void put_range(struct udax_range *r, size_t *n, uint64_t off,
		      uint64_t len)
{
	if (!len || len > UINT64_MAX - off)
		return;
	if (*n && off <= r[*n - 1].off + r[*n - 1].len)
		return;
	r[(*n)++] = (struct udax_range){ off, len };
}

/*
 * A random layout of up to @max ranges: clusters of dense ranges (gap 1 or
 * 2, so that one bucket can hold thousands and must send its lookups down
 * the tree) between wide gaps, from 0 or not, to UINT64_MAX or not.
 */
static size_t make_skewed(struct udax_range *r, size_t max, uint64_t *rs)
{
	uint64_t x = t_rand(rs), pos = x & 1 ? 0 : t_rand(rs) % 1000;
	unsigned int gap_bits = 8 + t_rand(rs) % 50;
	size_t n = 0, clusters = 1 + t_rand(rs) % 8;

	for (size_t c = 0; c < clusters && n < max; c++) {
		size_t k = t_rand(rs) % (max / clusters + 1);

		for (size_t i = 0; i < k && n < max; i++) {
			uint64_t len = 1 + t_rand(rs) % 3;

			put_range(r, &n, pos, len);
			if (len + 2 > UINT64_MAX - pos)
				break;
			pos += len + 1 + t_rand(rs) % 2;
		}
		/* A wide gap before the next cluster. */
		x = t_rand(rs) % ((uint64_t)1 << gap_bits);
		if (x > UINT64_MAX / 2 - pos)
			break;
		pos += 2 + x;
	}
	if ((x & 6) == 6 && n < max)
		put_range(r, &n, UINT64_MAX - 1 - t_rand(rs) % 3, UINT64_MAX);
	return n;
}

/* @n ranges at a steady density: (len, gap) drawn from [1, @d] each. */
static size_t make_uniform(struct udax_range *r, size_t n, uint64_t d,
			   uint64_t *rs)
{
	uint64_t pos = t_rand(rs) % 4;

	for (size_t i = 0; i < n; i++) {
		uint64_t len = 1 + t_rand(rs) % d;

		r[i] = (struct udax_range){ pos, len };
		pos += len + 1 + t_rand(rs) % d;
	}
	return n;
}

/*
 * The bucket index in front of the tree: one range (at 0, in the middle,
 * at the top), uniform layouts at densities on both sides of what a
 * bucket's window holds, skewed ones whose crowded buckets descend the
 * tree, and in-place sets and clears that move the first start and the
 * span (the bucket base and width) of a table already built.
 */
static void test_buckets(void)
{
	enum { MAX = 20000 };
	static struct udax_range r[MAX + 2];
	static const uint64_t one[][2] = {
		{ 0, 1 }, { 0, 1000 }, { 1, 1 }, { 12345, 7 },
		{ UINT64_MAX - 1, 1 }, { UINT64_MAX - 5, 5 },
		{ 0, UINT64_MAX }, { 1ULL << 63, 1ULL << 62 },
	};
	uint64_t rs = 0xb0c4e75ULL;

	for (size_t k = 0; k < sizeof(isas) / sizeof(isas[0]); k++) {
		struct udax_bb *bb = bb_new_isa(isas[k]);

		check_edges(bb, r, 0, 100, &rs);
		for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
			r[0] = (struct udax_range){ one[i][0], one[i][1] };
			t_ok(udax__bb_assign(bb, r, 1));
			check_edges(bb, r, 1, 100, &rs);
			t_ok(udax__bb_clear(bb, 0, UINT64_MAX));
			check_edges(bb, r, 0, 10, &rs);
			t_ok(udax__bb_set(bb, one[i][0], one[i][1]));
			check_edges(bb, r, 1, 100, &rs);
		}
		for (uint64_t d = 1; d <= 64; d *= 2) {
			size_t n = make_uniform(r, 1 + t_rand(&rs) % MAX, d,
						&rs);

			t_ok(udax__bb_assign(bb, r, n));
			check_edges(bb, r, n, 1000, &rs);
		}
		for (int round = 0; round < 40; round++) {
			size_t n = make_skewed(r, round % 4 ? MAX / 16 : MAX,
					       &rs);

			t_ok(udax__bb_assign(bb, r, n));
			check_edges(bb, r, n, 1000, &rs);
			if (!n || r[0].off < 10 ||
			    r[n - 1].off + r[n - 1].len > UINT64_MAX - 20)
				continue;
			/* A new first range far below, then a last one at
			 * the top: base and width change in place. */
			memmove(r + 1, r, n * sizeof(*r));
			r[0] = (struct udax_range){ 3, 2 };
			t_ok(udax__bb_set(bb, 3, 2));
			check_edges(bb, r, n + 1, 300, &rs);
			r[n + 1] = (struct udax_range){ UINT64_MAX - 9, 9 };
			t_ok(udax__bb_set(bb, UINT64_MAX - 9, 9));
			check_edges(bb, r, n + 2, 300, &rs);
			t_ok(udax__bb_clear(bb, 0, 5));
			t_ok(udax__bb_clear(bb, UINT64_MAX - 9, 9));
			check_edges(bb, r + 1, n, 300, &rs);
		}
		udax__bb_free(bb);
	}
}

/* ---- sysfs text --------------------------------------------------------- */

static const struct {
	const char *text;
	uint64_t limit;
	int ret;
	const char *want;		/* formatted result when ret == 0 */
} parse_cases[] = {
	{ "", 100, 0, "" },
	{ "\n\n", 100, 0, "" },
	{ " \t \n", 100, 0, "" },
	{ "8 1\n", 100, 0, "8 1\n" },
	{ "8 1", 100, 0, "8 1\n" },
	{ "  8 \t 1 \t\n", 100, 0, "8 1\n" },
	{ "\n8 1\n\n16 2\n\n", 100, 0, "8 1\n16 2\n" },
	{ "16 2\n8 1\n", 100, 0, "8 1\n16 2\n" },
	{ "8 2\n10 2\n", 100, 0, "8 4\n" },
	{ "8 5\n10 2\n", 100, 0, "8 5\n" },
	{ "10 5\n8 4\n", 100, 0, "8 7\n" },
	{ "99 1\n", 100, 0, "99 1\n" },
	{ "0 18446744073709551615\n", UINT64_MAX, 0,
	  "0 18446744073709551615\n" },
	{ "007 01\n", 100, 0, "7 1\n" },
	/* V24 */
	{ "8 1\n16 x\n", 100, -EINVAL, NULL },
	{ "x", 100, -EINVAL, NULL },
	{ "8\n", 100, -EINVAL, NULL },
	{ "8 \n", 100, -EINVAL, NULL },
	{ "8 1 2\n", 100, -EINVAL, NULL },
	{ "8 1x\n", 100, -EINVAL, NULL },
	{ "8x 1\n", 100, -EINVAL, NULL },
	{ "8,1\n", 100, -EINVAL, NULL },
	{ "8  1\r\n", 100, -EINVAL, NULL },
	{ "+8 1\n", 100, -EINVAL, NULL },
	{ "-8 1\n", 100, -EINVAL, NULL },
	{ "8 -1\n", 100, -EINVAL, NULL },
	{ "8 +1\n", 100, -EINVAL, NULL },
	{ "0x8 1\n", 100, -EINVAL, NULL },
	{ "8 0x1\n", 100, -EINVAL, NULL },
	{ "8 0\n", 100, -EINVAL, NULL },
	{ "18446744073709551616 1\n", UINT64_MAX, -EINVAL, NULL },
	{ "1 18446744073709551616\n", UINT64_MAX, -EINVAL, NULL },
	{ "18446744073709551615 1\n", UINT64_MAX, -ERANGE, NULL },
	{ "2 18446744073709551614\n", UINT64_MAX, -ERANGE, NULL },
	{ "99 2\n", 100, -ERANGE, NULL },
	{ "100 1\n", 100, -ERANGE, NULL },
	{ "8 1\n100 1\n", 100, -ERANGE, NULL },
	{ "8 1\n\n9", 100, -EINVAL, NULL },
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const char *text = parse_cases[i].text;
		size_t len = strlen(text), nr = 12345;
		struct udax_range *r = (void *)&nr;
		char buf[256];
		int ret;

		/* Not NUL-terminated: a heap copy of exactly @len bytes. */
		char *copy = malloc(len ? len : 1);

		t_assert(copy);
		memcpy(copy, text, len);
		ret = udax__bb_parse(copy, len, parse_cases[i].limit, &r, &nr);
		free(copy);
		if (ret != parse_cases[i].ret)
			t_fail("parse \"%s\": %d != %d", text, ret,
			       parse_cases[i].ret);
		if (ret) {
			/* All or nothing: outputs untouched. */
			t_ueq(nr, 12345);
			t_assert(r == (void *)&nr);
			continue;
		}
		check_invariants(r, nr);
		if (!nr)
			t_assert(r == NULL);
		udax__bb_format(r, nr, buf, sizeof(buf));
		if (strcmp(buf, parse_cases[i].want))
			t_fail("parse \"%s\": \"%s\" != \"%s\"", text, buf,
			       parse_cases[i].want);
		free(r);
	}
}

/* V24 end to end: a failed import leaves the table empty. */
static void test_v24(void)
{
	struct udax_bb *bb = bb_new();
	const char text[] = "8 1\n16 x\n";
	struct udax_range *r = NULL;
	size_t nr = 0;

	t_eq(udax__bb_parse(text, sizeof(text) - 1, 1 << 20, &r, &nr),
	     -EINVAL);
	t_assert(r == NULL);
	t_ueq(nr, 0);
	t_ueq(udax__bb_count(bb), 0);
	t_text(bb, "");
	udax__bb_free(bb);
}

static void test_format(void)
{
	struct udax_range r[] = {
		{ 8, 1 }, { 16, 2 }, { UINT64_MAX - 1, 1 },
	};
	const char *want = "8 1\n16 2\n18446744073709551614 1\n";
	size_t len = strlen(want);
	char buf[128];

	t_ueq(udax__bb_format(r, 3, NULL, 0), len);
	t_ueq(udax__bb_format(r, 0, NULL, 0), 0);
	buf[0] = 'x';
	t_ueq(udax__bb_format(r, 0, buf, sizeof(buf)), 0);
	t_ueq(buf[0], 0);
	for (size_t size = 1; size <= len + 2; size++) {
		memset(buf, 'z', sizeof(buf));
		t_ueq(udax__bb_format(r, 3, buf, size), len);
		t_ueq(strlen(buf), size - 1 < len ? size - 1 : len);
		t_ok(strncmp(buf, want, strlen(buf)));
		t_ueq(buf[size], 'z');
	}

	/* Round trip through the parser. */
	{
		struct udax_range *p;
		size_t n;

		udax__bb_format(r, 3, buf, sizeof(buf));
		t_ok(udax__bb_parse(buf, len, UINT64_MAX, &p, &n));
		t_ueq(n, 3);
		t_ok(memcmp(p, r, sizeof(r)));
		free(p);
	}
}

/* ---- random run against a bitmap model ---------------------------------- */

#define MODEL_SECTORS 65536
#define MODEL_OPS 1000000
#define MODEL_CHECK_EVERY 4096

static unsigned char model[MODEL_SECTORS];

static uint64_t model_first_bad(uint64_t s, uint64_t n)
{
	for (uint64_t i = s; i < s + n && i < MODEL_SECTORS; i++)
		if (model[i])
			return i;
	return UINT64_MAX;
}

static uint64_t model_count_in(uint64_t s, uint64_t n)
{
	uint64_t c = 0;

	for (uint64_t i = s; i < s + n && i < MODEL_SECTORS; i++)
		c += model[i];
	return c;
}

static void model_check_all(struct udax_bb *bb, struct udax_range *r,
			    size_t max)
{
	size_t n = udax__bb_snapshot(bb, r, max), j = 0;
	uint64_t i = 0;

	t_assert(n <= max);
	t_ueq(udax__bb_count(bb), n);
	check_invariants(r, n);
	while (i < MODEL_SECTORS) {
		uint64_t s;

		if (!model[i]) {
			i++;
			continue;
		}
		for (s = i; i < MODEL_SECTORS && model[i]; i++)
			;
		t_assert(j < n);
		t_ueq(r[j].off, s);
		t_ueq(r[j].len, i - s);
		j++;
	}
	t_ueq(j, n);
}

static void test_model(void)
{
	struct udax_bb *bb = bb_new();
	struct udax_range *r;
	size_t max = MODEL_SECTORS / 2 + 1;
	const char *env = getenv("UDAX_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eedbadb10c5ULL;
	uint64_t rs = seed, ops = MODEL_OPS;
	struct timespec t0, t1;

	printf("model: seed 0x%" PRIx64 " (UDAX_TEST_SEED), %" PRIu64
	       " ops over %d sectors\n", seed, ops, MODEL_SECTORS);
	fflush(stdout);
	r = malloc(max * sizeof(*r));
	t_assert(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t k = 0; k < ops; k++) {
		uint64_t x = t_rand(&rs);
		unsigned int op = x % 8;
		/* Mostly short ranges, sometimes long ones that merge. */
		uint64_t n = (x >> 8) % 16 ? 1 + (x >> 16) % 32 :
			     1 + (x >> 16) % 2048;
		uint64_t s = (x >> 32) % MODEL_SECTORS;

		if (s + n > MODEL_SECTORS)
			n = MODEL_SECTORS - s;
		switch (op) {
		case 0: case 1: case 2:
			t_ok(udax__bb_set(bb, s, n));
			memset(model + s, 1, n);
			break;
		case 3: case 4: case 5:
			t_ok(udax__bb_clear(bb, s, n));
			memset(model + s, 0, n);
			break;
		case 6:
			if (udax__bb_first_bad(bb, s, n) !=
			    model_first_bad(s, n))
				t_fail("op %" PRIu64 ": first_bad(%" PRIu64
				       ", %" PRIu64 ") = %" PRIu64 " want %"
				       PRIu64, k, s, n,
				       udax__bb_first_bad(bb, s, n),
				       model_first_bad(s, n));
			break;
		case 7:
			t_ueq(udax__bb_count_in(bb, s, n),
			      model_count_in(s, n));
			break;
		}
		if (k % MODEL_CHECK_EVERY == 0)
			model_check_all(bb, r, max);
	}
	model_check_all(bb, r, max);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("model: ok, %zu ranges at the end, %.2f s\n",
	       udax__bb_count(bb), (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(r);
	udax__bb_free(bb);
}

int main(void)
{
	test_cases();
	test_lookups();
	test_v23();
	test_assign();
	test_sizes();
	test_grow_shrink();
	test_top();
	test_shrink_regrow();
	test_buckets();
	test_parse();
	test_v24();
	test_format();
	test_model();
	return 0;
}
