/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad-block table: a sorted, disjoint, merged set of sector ranges with no
 * size limit, lock-free readers and mutex-serialized writers.
 *
 * Ranges are half-open [start, end) in sectors.  "Merged" means no two
 * ranges overlap or touch: r[i].end < r[i + 1].start.  A request [s, s + n)
 * whose end would pass UINT64_MAX is clamped to [s, UINT64_MAX): sector
 * UINT64_MAX can never be marked, and no caller can address it anyway.
 *
 * Set: B is the new range, E existing ones.  Every E that overlaps or
 * touches B is absorbed into B; the rest are kept as they are.
 *
 *   1. disjoint          E:  +----+                   E:          +----+
 *                        B:          +----+           B:  +----+
 *                        -> two ranges (B inserted in order)
 *
 *   2. touching          E:  +----+                   E:       +----+
 *      (merge)           B:       +----+              B:  +----+
 *                        R:  +---------+              R:  +---------+
 *
 *   3. overlap front     E:      +------+             4. overlap back
 *                        B:  +------+                 E:  +------+
 *                        R:  +----------+             B:      +------+
 *                                                     R:  +----------+
 *
 *   5. B inside E        E:  +----------+             6. B covers E
 *      (no change)       B:     +----+                E:     +----+
 *                        R:  +----------+             B:  +----------+
 *                                                     R:  +----------+
 *
 *   7. B bridges several E:  +--+  +--+  +--+
 *                        B:    +--------+
 *                        R:  +--------------+
 *
 * Clear: C is the cleared range.  Every E that overlaps C loses the overlap;
 * touching is not overlapping, so a clear never merges anything.
 *
 *   1. disjoint or       E:  +----+                   E:  +----+
 *      touching          C:         +----+            C:       +----+
 *                        R:  +----+  (unchanged)      R:  +----+
 *
 *   2. cut the back      E:  +--------+               3. cut the front
 *                        C:       +--------+          E:       +--------+
 *                        R:  +----+                   C:  +--------+
 *                                                     R:           +----+
 *
 *   4. split             E:  +------------+           5. C covers E
 *                        C:      +----+               E:     +----+
 *                        R:  +---+    +---+           C:  +----------+
 *                                                     R:  (removed)
 *
 *   6. C spans several   E:  +----+  +--+  +-----+
 *                        C:     +-------------+
 *                        R:  +--+             +--+
 *
 * Memory layout: a bucket table indexed by the sector, in front of a
 * static B+ tree of 16-key nodes searched with vector compares (the "S+
 * tree" of Slotin's "Static B-Trees"), over leaves that keep each range's
 * start and end in one cache line.
 *
 *   leaf (128 B):   line 0: end0 end1 end2 end3 | start0 start1 start2 start3
 *                   line 1: end4 end5 end6 end7 | start4 start5 start6 start7
 *   node (128 B):   key0 .. key15; key c = the last end under child c
 *   bucket (4 B):   a leaf line, or a tree node (level, index)
 *
 *          buckets: [b0][b1][b2][b3] ...    b = (s - first start) >> shift
 *                     |   |    \
 *                     |   |     +--> line 9 .. 12: rank 16 ends ("window")
 *                     |   +--> tree node (1, 0) ----+
 *                     +--> line 0 .. 3              |
 *                            [ root: 16 keys ]      v
 *                           /     |      ...  \          17 children
 *               [ 16 keys ] [ 16 keys ] ...               level 1
 *               /  |  ... \
 *          leaf leaf ... leaf  leaf ...                   leaves, in order
 *
 * Leaves are contiguous and sorted: range i is slot i, in line i / 4.  A
 * level's nodes are contiguous too, and child c of node j is node 17j + c
 * of the level below: no pointers, so a node is all keys.  Every table has
 * one padding slot past its last range (start = end = UINT64_MAX), and
 * the rest of its leaf and BB_XLEAF leaves more are padding too.
 *   Bucket b covers sectors base + (b << shift) on (base: the first
 * range's start; the last bucket runs to UINT64_MAX, sectors below base go
 * to bucket 0), with the shift that puts between half and twice
 * BB_BK_RANGES ranges in a bucket by the average.  The lookups of a
 * bucket end at slots i..j (i: the first range ending after its first
 * sector, j: after its last).  When line i / 4 and the next
 * BB_WIN - 1 hold them, the entry names line i / 4: a lookup ranks the 16
 * ends of those four lines (AVX-512: four compares from memory, one mask,
 * one popcount; AVX2: four compares; otherwise 16 compare-and-adds, no
 * branch on the data), and rank r is slot 4 * line + r, whose start is in
 * the line of its end, or in the line after the window when r = 16, all
 * four ends being <= s: the window reaches one slot past its ends.  Slots
 * before i in the first line end at or before the bucket's first sector,
 * so they are counted whatever s is, and padding ends at UINT64_MAX, so
 * it never is (but for s = UINT64_MAX, where no range can answer).
 *   Otherwise the bucket is crowded (a cluster of ranges: media errors
 * come in runs) and its entry names the lowest tree node above the leaves
 * of slots i and j; the lookup descends from there: counts the keys <= s
 * in each node, goes to that child, and at the leaf counts the ends <= s.
 * A crowded bucket costs a walk of the subtree its ranges fill, not of
 * the whole tree, and count_in() and snapshot() use the tree alone.
 *   Why: independent lookups are limited by how many fit in the reorder
 * buffer while their lines come from memory, so what counts is the number
 * of dependent misses and of instructions per lookup.  The tree alone (5
 * nodes and a leaf at a million ranges) measured 8.0 / 16.8 / 96-107 ns
 * a lookup at 512 / 65,536 / 1,048,576 ranges (udax-bench --only lookup,
 * Zen 4 VM, 2 CPUs, three runs interleaved); the bucket table and window,
 * 4.3 / 6.8 / 39-42 ns (and 25 / 50-59 / 228-275 -> 16 / 27 / 183-200 ns
 * for dependent lookups).  At
 * a million ranges the 16 MiB of leaves come from DRAM (~150 ns a miss
 * here), so what is left is one bucket load, one window and ~40
 * instructions.  Measured and dropped (medians of interleaved runs at a
 * million ranges): windows of 2 and 3 lines with 1 or 2 ranges a bucket
 * (a bigger bucket table that misses the caches more: 41-46 ns against
 * 36) and of 5 and 6 lines with 8 (more instructions: 42-45 ns).
 *   Memory: 16 bytes per range in the leaves, one 8-byte key per leaf (8
 * ranges) in level 1 and 1/17 of that above, 4 bytes per 2 to 8 ranges
 * in buckets: 18.1 bytes per range (RSS at a million; 17.0 without the
 * buckets).  Leaves of 8 ranges, not 16: when chosen, as fast at 65,536
 * and 1,048,576 ranges and a third faster at 512 (fewer compares).
 *   Writers keep the layout static: a set or clear moves the ranges after
 * the change by the net count difference (one slot right at most, a merge
 * may pull many left), writes the new ones, pads, and rebuilds the inner
 * levels (1/8 of the leaf work) and the buckets (one per 2 to 8 ranges):
 * O(n), which
 * is why bulk loads should go through udax__bb_assign() (O(n) once; input
 * already sorted and merged, the usual case, is laid out without a copy).
 *   Each array generation is one mmap: a 512-byte header holding its
 * capacity and where each level starts (never changed once published) and
 * the bucket base, shift and last bucket of the version in it (changed in
 * write sections), the inner levels root first (small and hot, together),
 * the bucket room, then the leaves.  Inner level h has room for 17^(height
 * - h) nodes, all that the level above could name, so that a search needs
 * no bound until the leaves (this took about a sixth off tree lookups at a
 * million ranges).  The room past the nodes in use is never written, so
 * never resident: it costs address space only, at most about as much as
 * the leaves.  The bucket room is a power of 2 of at least cap / 4
 * entries.  Capacity grows by 1.5x; arrays of 2 MiB or more are 2 MiB-
 * aligned and ask for huge pages from their buckets on (lookups probe
 * them at random; at a million ranges all 18 MiB of them are huge pages).
 * A table that shrinks in place to less than half of its leaves, by 2 MiB
 * or more, gives those pages back.
 *   The vector code is chosen per table at udax__bb_new() from CPUID (and
 * XCR0): AVX-512F+VL+BW (and BMI2), else AVX2 (which compares signed, so
 * both sides get their sign bit flipped), else portable C, the only path
 * on other architectures.  UDAX_BB_ISA=scalar|avx2|avx512 picks a lower
 * one.  A lookup is one function per code path, with the tree descent out
 * of line.
 *
 * Concurrency: a seqlock.  Writers take bb->lock, then
 *
 *	seq = s + 1 (relaxed); fence(release); data stores (relaxed);
 *	seq = s + 2 (release)
 *
 * and readers do
 *
 *	s1 = seq (acquire); if odd, retry; data loads (relaxed);
 *	fence(acquire); s2 = seq (relaxed); if s1 != s2, retry
 *
 * If a reader saw any store of a write section, the fences order that
 * section's "seq = s + 1" before its second read of seq, so it retries.
 * Changes that fit the current array are made in place inside the section;
 * a new array is filled before it, unseen, and the section only publishes
 * it.  All shared words are accessed through __atomic builtins so that a
 * reader racing a writer is not a data race (ThreadSanitizer stays quiet;
 * on x86 and arm64 relaxed accesses are plain loads and stores).  The
 * array pointer alone is published with release and read with acquire: a
 * reader that loads a new array's address mid-section must not read the
 * array before its mmap and header (a plain read race without it; on x86
 * it is still a plain load).  The vector paths load keys with volatile
 * vector loads (the AVX-512 window: compares whose memory operand is an
 * inline-assembly input, read once), which no compiler splits or repeats
 * but which are not C11 atomics: a ThreadSanitizer build therefore takes the portable path,
 * whose every load is an __atomic one, so that the protocol is what TSan
 * checks.
 *   A torn read may pair a new count or height with an old array, an
 * array with the bucket base, shift and last bucket of another version of
 * it, or see half a rebuild.  Bucket parameters and entries are only ever
 * written with values that fit the array they are in (a last bucket in its
 * room; a line whose window and the line after it are in its leaves; a
 * node at a level it has, in that level's room; a fresh or dropped page
 * reads zero, line 0), so a bucket index clamped to the last bucket and
 * what its entry names stay inside the array whatever the mix.  From a
 * node every child index stays in its level's room; readers clamp the
 * height to the one the array has room for, the leaf index to the leaves
 * and the leaf rank to the leaf, and bound every walk by the count
 * clamped to the array's capacity, all read from the array they are
 * reading, so they may compute garbage but never fault, and the sequence
 * check throws the garbage away.  A lookup that must retry does
 * so on the portable path: same answer, and the vector path stays a
 * straight line.
 *   An array replaced by a larger one may still be in use by a reader, so
 * it is never unmapped before udax__bb_free().  Its pages past the header
 * are dropped with MADV_DONTNEED instead: a late reader reads zeros (and
 * retries), and retired arrays cost one resident page each, O(log n) pages
 * in all, far below the live array.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "private.h"

#if defined(__SANITIZE_THREAD__)
#define BB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BB_TSAN 1
#endif
#endif

/* The vector paths: x86-64, and not under TSan (see the top comment). */
#if defined(__x86_64__) && !defined(BB_TSAN)
#define BB_SIMD 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#define BB_KEYS		16		/* keys per inner node */
#define BB_FAN		(BB_KEYS + 1)	/* children per inner node */
#define BB_LEAF		8		/* ranges per leaf */
#define BB_LINE		4		/* ranges per leaf line */
#define BB_LINES	(BB_LEAF / BB_LINE)
#define BB_MAXLV	16		/* inner levels (14: 2^55 leaves) */
#define BB_PAGE		4096
#define BB_HUGE		(2u << 20)
#define BB_HDR		512
#define BB_WIN		4		/* leaf lines a bucket's window ranks */
#define BB_WSLOTS	(BB_WIN * BB_LINE)
#define BB_XLEAF	((BB_WIN + 1) / 2)	/* padding leaves windows reach */
#define BB_BK_RANGES	4		/* ranges per bucket aimed at */
#define BB_BK_TREE	0x80000000u	/* entry: descend from a tree node */
#define BB_BK_LV	27		/* entry: the node's level from here */
#define BB_BK_NODE	((1u << BB_BK_LV) - 1)
/* Bounds every size computation below away from overflow. */
#define BB_CAP_MAX	(SIZE_MAX / 64)

struct bb_rng {
	uint64_t start, end;		/* [start, end), sectors */
};

/* One cache line, four ranges: the ends are the half a search compares. */
struct bb_line {
	uint64_t end[BB_LINE];
	uint64_t start[BB_LINE];
} __attribute__((aligned(64)));

struct bb_leaf {
	struct bb_line l[BB_LINES];
} __attribute__((aligned(128)));

/* key[c] is the last end under child c; child BB_KEYS needs none. */
struct bb_node {
	uint64_t key[BB_KEYS];
} __attribute__((aligned(128)));

/* Start of every array generation; the nodes and leaves follow. */
struct bb_arr {
	/* Set before the array is first published and never changed, so
	 * readers read them plainly. */
	size_t cap;			/* ranges; slot cap is padding */
	size_t bytes;			/* mapping size */
	unsigned int nlev;		/* inner levels at cap ranges */
	struct bb_leaf *leaf;
	size_t nleaf;			/* not counting BB_XLEAF */
	struct bb_node *lv[BB_MAXLV + 1];	/* level h's nodes, 1..nlev */
	uint32_t *bk;			/* bucket entries */
	size_t bmask;			/* bucket room - 1 (a power of 2) */
	/* The buckets of the version in the array: written in sections,
	 * and only with values that fit this array, so that a torn view
	 * needs no bound on them (see bb_bucket()). */
	uint64_t bbase;			/* bucket b: sectors bbase + (b << */
	unsigned int bshift;		/*   bshift) on */
	size_t bmax;			/* the last bucket, open-ended */
	/* Writer only. */
	struct bb_arr *next;		/* retire list */
	size_t used;			/* leaves that may be resident */
};

_Static_assert(sizeof(struct bb_arr) <= BB_HDR, "bb_arr header");
_Static_assert(BB_HDR % sizeof(struct bb_node) == 0, "node alignment");

enum bb_isa { BB_ISA_C, BB_ISA_AVX2, BB_ISA_AVX512 };

struct udax_bb;
typedef uint64_t bb_lookup_fn(const struct udax_bb *bb, uint64_t s,
			      uint64_t e, unsigned long seq);

struct udax_bb {
	/* What readers load, in one cache line. */
	unsigned long seq;		/* odd while a writer is in section */
	struct bb_arr *arr;		/* never NULL: bb_empty at first */
	size_t nr;			/* ranges */
	unsigned int height;		/* inner levels in use */
	bb_lookup_fn *lookup;		/* per code path, set at creation */
	/* Writers only. */
	pthread_mutex_t lock;
	struct bb_arr *retired;		/* replaced arrays */
};

#define BB_PAD_LINE { { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX }, \
		      { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } }

/* The empty table: one leaf of padding and the two a window may reach,
 * one bucket naming line 0.  Read only; never written. */
_Static_assert(BB_LINES == 2, "bb_empty_leaf");
static const struct bb_leaf bb_empty_leaf[1 + BB_XLEAF] = {
	[0 ... BB_XLEAF] = { { BB_PAD_LINE, BB_PAD_LINE } },
};
static const uint32_t bb_empty_bk;
static const struct bb_arr bb_empty = {
	.leaf = (struct bb_leaf *)bb_empty_leaf,
	.nleaf = 1,
	.bk = (uint32_t *)&bb_empty_bk,
};
#define BB_EMPTY ((struct bb_arr *)&bb_empty)

#if defined(__x86_64__) || defined(__i386__)
#define bb_cpu_relax()	__builtin_ia32_pause()
#elif defined(__aarch64__)
#define bb_cpu_relax()	__asm__ __volatile__("yield")
#else
#define bb_cpu_relax()	do { } while (0)
#endif

#define ld(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define st(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define bb_inline	static inline __attribute__((always_inline))

static inline uint64_t bb_end_of(uint64_t s, uint64_t n)
{
	return n > UINT64_MAX - s ? UINT64_MAX : s + n;
}

/* Leaves for @n ranges: slot n always exists and is padding. */
static inline size_t bb_leaves(size_t n)
{
	return n / BB_LEAF + 1;
}

/* Leaves are contiguous, so slot i is in line i / 4 counted from leaf 0. */
static inline struct bb_line *bb_line(const struct bb_arr *a, size_t i)
{
	return (struct bb_line *)a->leaf + i / BB_LINE;
}

/* ---- readers ------------------------------------------------------------ */

static inline unsigned long bb_read_begin(const struct udax_bb *bb)
{
	unsigned long s;

	while ((s = __atomic_load_n(&bb->seq, __ATOMIC_ACQUIRE)) & 1)
		bb_cpu_relax();
	return s;
}

static inline bool bb_read_retry(const struct udax_bb *bb, unsigned long s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return ld(&bb->seq) != s;
}

/* A consistent-or-retried view: an array, and a count and a height that
 * are safe to use with it whatever they are. */
struct bb_view {
	const struct bb_arr *a;
	size_t nr;
	unsigned int h;
};

bb_inline void bb_view(const struct udax_bb *bb, struct bb_view *v)
{
	const struct bb_arr *a = __atomic_load_n(&bb->arr, __ATOMIC_ACQUIRE);
	size_t nr = ld(&bb->nr);
	unsigned int h = ld(&bb->height);

	v->a = a;
	v->nr = nr < a->cap ? nr : a->cap;
	v->h = h < a->nlev ? h : a->nlev;
}

/*
 * Rank functions: how many of a node's 16 keys, or of a leaf's 8 ends, are
 * <= s.  All of them are compared, no early exit: the count is the child
 * (or slot) to take, and there is no branch to mispredict.
 */
typedef unsigned int bb_rank_fn(const void *p, uint64_t s);

bb_inline unsigned int bb_rank_node_c(const void *p, uint64_t s)
{
	const uint64_t *k = p;
	unsigned int c = 0;

	for (int i = 0; i < BB_KEYS; i++)
		c += ld(&k[i]) <= s;
	return c;
}

bb_inline unsigned int bb_rank_leaf_c(const void *p, uint64_t s)
{
	const struct bb_line *l = p;
	unsigned int c = 0;

	for (int i = 0; i < BB_LINES; i++)
		for (int j = 0; j < BB_LINE; j++)
			c += ld(&l[i].end[j]) <= s;
	return c;
}

/* A bucket's window: the ends of BB_WIN lines from the one it names. */
bb_inline unsigned int bb_rank_win_c(const void *p, uint64_t s)
{
	const struct bb_line *l = p;
	unsigned int c = 0;

	for (int i = 0; i < BB_WIN; i++)
		for (int j = 0; j < BB_LINE; j++)
			c += ld(&l[i].end[j]) <= s;
	return c;
}

#ifdef BB_SIMD
/*
 * Vector loads go through a volatile pointer: one load instruction that the
 * compiler may neither repeat nor split, the READ_ONCE of a vector.  A torn
 * vector (some lanes old, some new) is one more garbage result that the
 * sequence check throws away.
 */
#define BB_AVX512 \
	__attribute__((target("avx512f,avx512vl,avx512bw,popcnt,bmi2")))
#define BB_AVX2 __attribute__((target("avx2,popcnt,bmi2")))

BB_AVX512 bb_inline unsigned int bb_rank_node_avx512(const void *p,
						     uint64_t s)
{
	const volatile __m512i *k = p;
	__m512i sv = _mm512_set1_epi64((long long)s);

	/* One mask of 16 bits, one move out of the mask registers. */
	return _mm_popcnt_u32(_cvtmask16_u32(_mm512_kunpackb(
			_mm512_cmple_epu64_mask(k[1], sv),
			_mm512_cmple_epu64_mask(k[0], sv))));
}

/* A leaf line is one zmm: ends in lanes 0-3, compared under mask 0xf. */
BB_AVX512 bb_inline unsigned int bb_rank_leaf_avx512(const void *p,
						     uint64_t s)
{
	const volatile __m512i *l = p;
	__m512i sv = _mm512_set1_epi64((long long)s);

	return _mm_popcnt_u32(_cvtmask16_u32(_mm512_kunpackb(
			_mm512_mask_cmple_epu64_mask(0xf, l[1], sv),
			_mm512_mask_cmple_epu64_mask(0xf, l[0], sv))));
}

/*
 * The window's ends are the first ymm of each line.  Each is compared
 * straight from memory: inline assembly reads the operand once, as a
 * volatile load would, but load and compare stay one instruction (a lookup
 * is limited by how many fit in the reorder buffer while their lines come
 * from memory).  Predicate 5, not less than: s >= end.
 */
BB_AVX512 bb_inline __mmask8 bb_le4_avx512(const void *p, __m256i sv)
{
	__mmask8 k;

	__asm__("vpcmpuq $5, %1, %2, %0"
		: "=k"(k) : "m"(*(const __m256i *)p), "v"(sv));
	return k;
}

_Static_assert(BB_WIN == 4, "bb_rank_win_avx512");
BB_AVX512 bb_inline unsigned int bb_rank_win_avx512(const void *p, uint64_t s)
{
	const struct bb_line *l = p;
	__m256i sv = _mm256_set1_epi64x((long long)s);

	return _mm_popcnt_u32(_cvtmask32_u32(_mm512_kunpackw(
			_mm512_kunpackb(bb_le4_avx512(&l[3], sv),
					bb_le4_avx512(&l[2], sv)),
			_mm512_kunpackb(bb_le4_avx512(&l[1], sv),
					bb_le4_avx512(&l[0], sv)))));
}

/* AVX2 compares signed only: flip the sign bits to compare unsigned.
 * Counting keys > s and subtracting keeps one compare per vector. */
BB_AVX2 bb_inline unsigned int bb_rank4_gt_avx2(const volatile __m256i *k,
						__m256i sv)
{
	__m256i bias = _mm256_set1_epi64x(INT64_MIN);
	__m256i gt = _mm256_cmpgt_epi64(_mm256_xor_si256(*k, bias), sv);

	return (unsigned int)_mm256_movemask_pd(_mm256_castsi256_pd(gt));
}

BB_AVX2 bb_inline unsigned int bb_rank_node_avx2(const void *p, uint64_t s)
{
	const volatile __m256i *k = p;
	__m256i sv = _mm256_set1_epi64x((long long)(s ^ (1ULL << 63)));
	unsigned int m = 0;

#pragma GCC unroll 4
	for (int i = 0; i < BB_KEYS / 4; i++)
		m |= bb_rank4_gt_avx2(&k[i], sv) << (4 * i);
	return BB_KEYS - _mm_popcnt_u32(m);
}

BB_AVX2 bb_inline unsigned int bb_rank_leaf_avx2(const void *p, uint64_t s)
{
	const volatile __m256i *l = p;
	__m256i sv = _mm256_set1_epi64x((long long)(s ^ (1ULL << 63)));
	/* Lines are two ymm each: the ends are the even ones. */
	unsigned int m = bb_rank4_gt_avx2(&l[0], sv) |
			 bb_rank4_gt_avx2(&l[2], sv) << 4;

	return BB_LEAF - _mm_popcnt_u32(m);
}

BB_AVX2 bb_inline unsigned int bb_rank_win_avx2(const void *p, uint64_t s)
{
	const volatile __m256i *l = p;
	__m256i sv = _mm256_set1_epi64x((long long)(s ^ (1ULL << 63)));
	unsigned int m = 0;

	/* Lines are two ymm each: the ends are the even ones. */
#pragma GCC unroll 4
	for (int i = 0; i < BB_WIN; i++)
		m |= bb_rank4_gt_avx2(&l[2 * i], sv) << (4 * i);
	return BB_WSLOTS - _mm_popcnt_u32(m);
}
#endif /* BB_SIMD */

/*
 * A tree search ends at the first range that ends after @s: the padding
 * slot after the last range when none does.  Node j of a level names
 * children up to 17j + 16, inside the room of the level below whatever the
 * keys say; the leaf is clamped to the leaves and the leaf rank taken mod
 * 8, so a torn view reads inside the array whatever it holds.  On a
 * consistent view neither bites: each node's last existing child holds an
 * end > s (the padding ends at UINT64_MAX, and s < UINT64_MAX for every
 * range that can hold a bad sector), so the rank never passes it.
 */
/* Node offsets are in bytes from the start of their level: a node and a
 * leaf are both 128 bytes, so the offset a search ends with is the
 * leaf's, and no step turns an index into an address. */
_Static_assert(sizeof(struct bb_node) == 128 && sizeof(struct bb_leaf) == 128,
	       "node and leaf size");

bb_inline size_t bb_step(const struct bb_arr *a, unsigned int h, size_t o,
			 uint64_t s, bb_rank_fn *rank_node)
{
	size_t c = rank_node((const char *)a->lv[h] + o, s);

	return o * BB_FAN + c * sizeof(struct bb_node);
}

/* Byte offset, from a->leaf, of the leaf to search for @s, from the node
 * at byte offset @o of level @h (@h <= a->nlev, @o inside its room). */
bb_inline size_t bb_descend(const struct bb_arr *a, unsigned int h, size_t o,
			    uint64_t s, bb_rank_fn *rank_node)
{
	size_t last = (a->nleaf - 1) * sizeof(struct bb_leaf);

	for (; h > 0; h--)
		o = bb_step(a, h, o, s, rank_node);
	return o < last ? o : last;
}

/* Slot of the first range that ends after @s, from the root. */
bb_inline size_t bb_search(const struct bb_arr *a, unsigned int h, uint64_t s,
			   bb_rank_fn *rank_node, bb_rank_fn *rank_leaf)
{
	size_t o = bb_descend(a, h, 0, s, rank_node);
	unsigned int p = rank_leaf((const char *)a->leaf + o, s);

	return o / sizeof(struct bb_leaf) * BB_LEAF + (p & (BB_LEAF - 1));
}

/*
 * The result from the first range that ends after @s, which starts at @rs:
 * @s if it starts at or before s, else its start, if before @e.
 */
bb_inline uint64_t bb_result(uint64_t rs, uint64_t s, uint64_t e)
{
	uint64_t m = rs > s ? rs : s;

	return m < e ? m : UINT64_MAX;
}

/*
 * The bucket entry for @s.  A torn view may pair the array with a base,
 * shift and last bucket of another version of it, but only with ones
 * written for it: the bucket is in its room, and so is whatever its entry
 * names.
 */
bb_inline uint32_t bb_bucket(const struct bb_arr *a, uint64_t s)
{
	uint64_t bmax = ld(&a->bmax), b;

	/* Below the first range: bucket 0.  (sub, then cmov on its carry) */
	if (__builtin_sub_overflow(s, ld(&a->bbase), &b))
		b = 0;
	b >>= ld(&a->bshift) & 63;
	b = b < bmax ? b : bmax;
	return ld(&a->bk[b]);
}

/*
 * A window entry names line A: rank the ends of the lines from there.  The
 * range at slot 4A + r starts at word 8 (A + r / 4) + 4 + r % 4 of the
 * leaves, word 4 + r + (r & ~3) from line A.
 */
bb_inline uint64_t bb_win(const struct bb_arr *a, uint32_t ent, uint64_t s,
			  uint64_t e, bb_rank_fn *rank_win)
{
	const uint64_t *w = (const uint64_t *)bb_line(a, (size_t)ent * BB_LINE);
	unsigned int r = rank_win(w, s);

	return bb_result(ld(&w[BB_LINE + r + (r & ~(BB_LINE - 1))]), s, e);
}

/* A tree entry: descend from the node it names. */
bb_inline uint64_t bb_tree(const struct bb_arr *a, uint32_t ent, uint64_t s,
			   uint64_t e, bb_rank_fn *rank_node,
			   bb_rank_fn *rank_leaf)
{
	unsigned int h = ent >> BB_BK_LV & 15, p;
	size_t o = (size_t)(ent & BB_BK_NODE) * sizeof(struct bb_node);

	/* Never so on any view (see bb_bucket); one compare keeps it so. */
	if (udax__unlikely(h > a->nlev)) {
		h = a->nlev;
		o = 0;
	}
	o = bb_descend(a, h, o, s, rank_node);
	p = rank_leaf((const char *)a->leaf + o, s) & (BB_LEAF - 1);
	o = o / sizeof(struct bb_leaf) * BB_LEAF + p;
	return bb_result(ld(&bb_line(a, o)->start[o % BB_LINE]), s, e);
}

static uint64_t bb_lookup_retry(const struct udax_bb *bb, uint64_t s,
				uint64_t e);

/*
 * One lookup function per code path.  The tree descent is out of line
 * (and ends the read section itself): the window path, nearly every
 * lookup, stays a straight line with nothing live across a call.
 */
#define BB_LOOKUP(isa, attr)						\
attr __attribute__((noinline))						\
static uint64_t bb_tree_##isa(const struct udax_bb *bb,		\
			      const struct bb_arr *a, uint32_t ent,	\
			      uint64_t s, uint64_t e, unsigned long seq) \
{									\
	uint64_t ret = bb_tree(a, ent, s, e, bb_rank_node_##isa,	\
			       bb_rank_leaf_##isa);			\
									\
	if (udax__unlikely(bb_read_retry(bb, seq)))			\
		return bb_lookup_retry(bb, s, e);			\
	return ret;							\
}									\
attr static uint64_t bb_lookup_##isa(const struct udax_bb *bb,		\
				     uint64_t s, uint64_t e,		\
				     unsigned long seq)			\
{									\
	const struct bb_arr *a = __atomic_load_n(&bb->arr,		\
						 __ATOMIC_ACQUIRE);	\
	uint32_t ent = bb_bucket(a, s);					\
	uint64_t ret;							\
									\
	if (udax__unlikely(ent & BB_BK_TREE))				\
		return bb_tree_##isa(bb, a, ent, s, e, seq);		\
	ret = bb_win(a, ent, s, e, bb_rank_win_##isa);			\
	if (udax__unlikely(bb_read_retry(bb, seq)))			\
		return bb_lookup_retry(bb, s, e);			\
	return ret;							\
}

BB_LOOKUP(c, )
#ifdef BB_SIMD
BB_LOOKUP(avx2, BB_AVX2)
BB_LOOKUP(avx512, BB_AVX512)
#endif

/* Retries, rare, take the portable path: the answer is the same. */
__attribute__((noinline, cold))
static uint64_t bb_lookup_retry(const struct udax_bb *bb, uint64_t s,
				uint64_t e)
{
	const struct bb_arr *a;
	unsigned long seq;
	uint64_t ret;
	uint32_t ent;

	do {
		seq = bb_read_begin(bb);
		a = __atomic_load_n(&bb->arr, __ATOMIC_ACQUIRE);
		ent = bb_bucket(a, s);
		ret = ent & BB_BK_TREE ?
		      bb_tree(a, ent, s, e, bb_rank_node_c, bb_rank_leaf_c) :
		      bb_win(a, ent, s, e, bb_rank_win_c);
	} while (bb_read_retry(bb, seq));
	return ret;
}

uint64_t udax__bb_first_bad(const struct udax_bb *bb, uint64_t s, uint64_t n)
{
	uint64_t e = bb_end_of(s, n);
	unsigned long seq;

	/* The common case, a clean device, in one load: writers store nr once
	 * per change, so a zero is the count of some version of the table.
	 * (n = 0 needs no test: e = s, and no result is below e.) */
	if (!ld(&bb->nr))
		return UINT64_MAX;
	/* The lookup ends the section itself, and there is no loop around
	 * the first try (a retry goes out of line): nothing to keep live
	 * across a call, so nothing to save on the path nearly every lookup
	 * takes. */
	seq = bb_read_begin(bb);
	return ld(&bb->lookup)(bb, s, e, seq);
}

size_t udax__bb_count(const struct udax_bb *bb)
{
	/* One word: always a count that some version of the table had. */
	return ld(&bb->nr);
}

const size_t *udax__bb_count_word(const struct udax_bb *bb)
{
	return &bb->nr;
}

static uint64_t bb_count_in_view(const struct bb_view *v, uint64_t s,
				 uint64_t e)
{
	uint64_t sum = 0;
	size_t i;

	/* Bounded by the clamped count: a torn view may not be in order. */
	for (i = bb_search(v->a, v->h, s, bb_rank_node_c, bb_rank_leaf_c);
	     i < v->nr; i++) {
		const struct bb_line *l = bb_line(v->a, i);
		uint64_t rs = ld(&l->start[i % BB_LINE]);
		uint64_t re = ld(&l->end[i % BB_LINE]);

		if (rs >= e)
			break;
		if (rs < s)
			rs = s;
		if (re > e)
			re = e;
		if (re > rs)
			sum += re - rs;
	}
	return sum;
}

uint64_t udax__bb_count_in(const struct udax_bb *bb, uint64_t s, uint64_t n)
{
	struct bb_view v;
	unsigned long seq;
	uint64_t e = bb_end_of(s, n), ret;

	if (!n || s == UINT64_MAX)
		return 0;
	do {
		seq = bb_read_begin(bb);
		bb_view(bb, &v);
		ret = bb_count_in_view(&v, s, e);
	} while (bb_read_retry(bb, seq));
	return ret;
}

size_t udax__bb_snapshot(const struct udax_bb *bb, struct udax_range *out,
			 size_t max)
{
	struct bb_view v;
	unsigned long seq;
	size_t i;

	do {
		seq = bb_read_begin(bb);
		bb_view(bb, &v);
		for (i = 0; i < v.nr && i < max; i++) {
			const struct bb_line *l = bb_line(v.a, i);
			uint64_t rs = ld(&l->start[i % BB_LINE]);

			out[i].off = rs;
			out[i].len = ld(&l->end[i % BB_LINE]) - rs;
		}
	} while (bb_read_retry(bb, seq));
	return v.nr;
}

/* ---- writers ------------------------------------------------------------ */

/* Inner levels above @leaves leaves; m[h] = nodes on level h, m[0] leaves. */
static unsigned int bb_levels(size_t leaves, size_t *m)
{
	unsigned int h = 0;

	m[0] = leaves;
	while (m[h] > 1) {
		m[h + 1] = (m[h] + BB_FAN - 1) / BB_FAN;
		h++;
	}
	return h;
}

/* @bytes of zeroes, 2 MiB-aligned with huge pages from @leaves on when
 * that big. */
static void *bb_map(size_t bytes, size_t huge)
{
	char *p, *q;

	if (bytes < BB_HUGE) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/*
	 * Lookups probe big tables at random: with 4 KiB pages the leaves
	 * also miss the TLB.  Only written 2 MiB regions become resident,
	 * so this costs at most 2 MiB past the data (and past the buckets
	 * in use).  The inner levels keep small pages: their rooms are
	 * mostly never written, and a huge page would make the gaps
	 * resident.
	 */
	p = mmap(NULL, bytes + BB_HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	q = (char *)(((uintptr_t)p + BB_HUGE - 1) & ~(uintptr_t)(BB_HUGE - 1));
	if (q > p)
		munmap(p, q - p);
	if (p + bytes + BB_HUGE > q + bytes)
		munmap(q + bytes, p + bytes + BB_HUGE - (q + bytes));
	madvise(q + huge, bytes - huge, MADV_HUGEPAGE);
	return q;
}

/*
 * A new array for at least @want ranges: the header, the inner levels
 * root first (small and hot, together), the buckets, then the leaves and
 * BB_XLEAF more.  Inner level h has room for 17^(nlev - h) nodes, every
 * node its parent's 17 children could name, so that no index needs a
 * bound but the leaf's; only the nodes in use are ever written, and the
 * rest is never resident.  The bucket room is a power of 2, at least
 * cap / BB_BK_RANGES; one bucket when a line index would not fit an entry.
 */
static struct bb_arr *bb_arr_alloc(size_t want)
{
	size_t nleaf, room = 1, nodes = 0, boff, off, bytes, nbk = 1;
	size_t m[BB_MAXLV + 1];
	struct bb_arr *a;
	unsigned int h, i;
	char *p;

	if (want > BB_CAP_MAX)
		return NULL;
	nleaf = bb_leaves(want);
	h = bb_levels(nleaf, m);
	for (i = h; i >= 1; i--) {
		nodes += room;
		room *= BB_FAN;
	}
	if ((nleaf + BB_XLEAF) * BB_LINES <= BB_BK_TREE)
		while (nbk < (nleaf * BB_LEAF - 1) / BB_BK_RANGES)
			nbk *= 2;
	boff = BB_HDR + nodes * sizeof(struct bb_node);
	boff = (boff + BB_PAGE - 1) & ~(size_t)(BB_PAGE - 1);
	off = boff + nbk * sizeof(uint32_t);
	off = (off + BB_PAGE - 1) & ~(size_t)(BB_PAGE - 1);
	bytes = off + (nleaf + BB_XLEAF) * sizeof(struct bb_leaf);
	if (bytes >= BB_HUGE) {
		boff = (boff + BB_HUGE - 1) & ~(size_t)(BB_HUGE - 1);
		off = boff + nbk * sizeof(uint32_t);
		off = (off + BB_PAGE - 1) & ~(size_t)(BB_PAGE - 1);
		bytes = off + (nleaf + BB_XLEAF) * sizeof(struct bb_leaf);
	}
	bytes = (bytes + BB_PAGE - 1) & ~(size_t)(BB_PAGE - 1);
	a = bb_map(bytes, boff);
	if (!a)
		return NULL;
	/* Plain stores: no reader sees the array before its release. */
	a->cap = nleaf * BB_LEAF - 1;	/* the last leaf's room is free */
	a->bytes = bytes;
	a->nlev = h;
	a->leaf = (struct bb_leaf *)((char *)a + off);
	a->nleaf = nleaf;
	a->bk = (uint32_t *)((char *)a + boff);
	a->bmask = nbk - 1;
	p = (char *)a + BB_HDR;
	room = 1;
	for (i = h; i >= 1; i--) {
		a->lv[i] = (struct bb_node *)p;
		p += room * sizeof(struct bb_node);
		room *= BB_FAN;
	}
	a->next = NULL;
	a->used = 0;
	return a;
}

static void bb_unmap(struct bb_arr *a)
{
	if (a != BB_EMPTY)
		munmap(a, a->bytes);
}

/* Drop a replaced array's data pages; keep it mapped for late readers. */
static void bb_retire(struct udax_bb *bb, struct bb_arr *a)
{
	if (a == BB_EMPTY)
		return;
	if (a->bytes > BB_PAGE)
		madvise((char *)a + BB_PAGE, a->bytes - BB_PAGE,
			MADV_DONTNEED);
	a->next = bb->retired;
	bb->retired = a;
}

/*
 * After a table shrank to @n ranges in place: give back the pages of the
 * leaves it no longer uses, once they are many.  Late readers of those
 * leaves read zeros, and only on a torn view.
 */
static void bb_trim(struct bb_arr *a, size_t n)
{
	size_t keep = bb_leaves(n) + BB_XLEAF;
	uintptr_t from, to;

	if (keep >= a->used) {
		a->used = keep;
		return;
	}
	if (keep > a->used / 2 ||
	    (a->used - keep) * sizeof(struct bb_leaf) < BB_HUGE)
		return;
	from = ((uintptr_t)(a->leaf + keep) + BB_PAGE - 1) &
	       ~(uintptr_t)(BB_PAGE - 1);
	to = (uintptr_t)(a->leaf + a->used) & ~(uintptr_t)(BB_PAGE - 1);
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
	a->used = keep;
}

static inline void bb_put(struct bb_arr *a, size_t i, uint64_t s, uint64_t e)
{
	struct bb_line *l = bb_line(a, i);

	st(&l->start[i % BB_LINE], s);
	st(&l->end[i % BB_LINE], e);
}

/* Writer-side reads: only writers store, and they hold the lock. */
static inline uint64_t bb_start(const struct bb_arr *a, size_t i)
{
	return bb_line(a, i)->start[i % BB_LINE];
}

static inline uint64_t bb_end(const struct bb_arr *a, size_t i)
{
	return bb_line(a, i)->end[i % BB_LINE];
}

static inline void bb_copy(struct bb_arr *to, size_t i, const struct bb_arr *a,
			   size_t j)
{
	bb_put(to, i, bb_start(a, j), bb_end(a, j));
}


/*
 * The entry of a bucket whose lookups end at slots @i..@j: the line of
 * slot i when the window from there reaches slot j, else the lowest node
 * above the leaves of both (level > 0: they differ, or the window would
 * reach).  A window of BB_WSLOTS ends reaches one slot past them: when all
 * are <= s, the answer is that slot, and bb_win() reads its start from the
 * line after the window.
 */
static uint32_t bb_bk_entry(size_t i, size_t j)
{
	size_t l0 = i / BB_LEAF, l1 = j / BB_LEAF;
	uint32_t lv = 0;

	if (j <= i / BB_LINE * BB_LINE + BB_WSLOTS)
		return i / BB_LINE;
	for (; l0 != l1; lv++) {
		l0 /= BB_FAN;
		l1 /= BB_FAN;
	}
	return BB_BK_TREE | lv << BB_BK_LV | (uint32_t)l0;
}

/*
 * Buckets over slots 0..n-1 of @a: bucket b holds sectors base + (b <<
 * shift) on, base the first start, as few as fit 1 to 2 x BB_BK_RANGES
 * ranges each (by the average), at most the room; the last one runs to
 * UINT64_MAX.
 */
static void bb_index(struct bb_arr *a, size_t n)
{
	uint64_t base = n ? bb_start(a, 0) : 0;
	uint64_t span = n ? bb_end(a, n - 1) - base : 1;
	size_t nb = 1, b, bmax, i = 0, j = 0;
	unsigned int sh = 0;

	while (nb <= a->bmask && nb < n / BB_BK_RANGES)
		nb *= 2;
	while (sh < 63 && (span - 1) >> sh >= nb)
		sh++;
	bmax = (span - 1) >> sh < nb - 1 ? (span - 1) >> sh : nb - 1;
	st(&a->bbase, base);
	st(&a->bshift, sh);
	st(&a->bmax, bmax);
	for (b = 0; b <= bmax; b++) {
		uint64_t lo = base + ((uint64_t)b << sh);
		uint64_t hi = b == bmax ? UINT64_MAX :
			      lo + ((uint64_t)1 << sh) - 1;

		/* Its lookups end at i (for s = lo) to j (s = hi). */
		while (i < n && bb_end(a, i) <= lo)
			i++;
		if (j < i)
			j = i;
		while (j < n && bb_end(a, j) <= hi)
			j++;
		st(&a->bk[b], bb_bk_entry(i, j));
	}
}

/*
 * Slots 0..n-1 of @a hold the ranges: pad the rest of the last leaf and
 * the BB_XLEAF after it, build the inner levels over the leaves, then the
 * buckets.
 */
static unsigned int bb_build(struct bb_arr *a, size_t n)
{
	size_t m[BB_MAXLV + 1], nleaf = bb_leaves(n), span = 1, i, j;
	unsigned int h, lv, c;

	for (i = n; i < (nleaf + BB_XLEAF) * BB_LEAF; i++)
		bb_put(a, i, UINT64_MAX, UINT64_MAX);
	h = bb_levels(nleaf, m);
	for (lv = 1; lv <= h; lv++) {
		struct bb_node *nd = a->lv[lv];

		/* Child c of node j is node 17j + c below, and spans leaves
		 * up to (17j + c + 1) * span - 1.  A child past the end gets
		 * the last leaf's, UINT64_MAX: the padding ends there. */
		for (j = 0; j < m[lv]; j++) {
			for (c = 0; c < BB_KEYS; c++) {
				size_t last = (j * BB_FAN + c + 1) * span;

				last = (last < nleaf ? last : nleaf) - 1;
				st(&nd[j].key[c], bb_end(a, last * BB_LEAF +
							 BB_LEAF - 1));
			}
		}
		span *= BB_FAN;
	}
	if (nleaf + BB_XLEAF > a->used)
		a->used = nleaf + BB_XLEAF;
	bb_index(a, n);
	return h;
}

/*
 * Write sections (bb->lock held).  Stores between begin and end are seen
 * by no reader that does not retry.
 */
static void bb_write_begin(struct udax_bb *bb)
{
	st(&bb->seq, bb->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void bb_write_end(struct udax_bb *bb, struct bb_arr *a, size_t n,
			 unsigned int h)
{
	/* Release: a reader that sees a new array sees it initialized. */
	__atomic_store_n(&bb->arr, a, __ATOMIC_RELEASE);
	st(&bb->nr, n);
	st(&bb->height, h);
	__atomic_store_n(&bb->seq, bb->seq + 1, __ATOMIC_RELEASE);
}

/* An array for @n ranges: the current one, or a new one grown by 1.5x. */
static struct bb_arr *bb_room(struct udax_bb *bb, size_t n)
{
	size_t cap = bb->arr->cap;

	if (n <= cap)
		return bb->arr;
	cap += cap / 2;
	cap = cap > n ? cap : n;
	return bb_arr_alloc(cap <= BB_CAP_MAX ? cap : n);
}

/* Finish a change whose ranges are in @a: pad, index, publish. */
static void bb_commit(struct udax_bb *bb, struct bb_arr *a, size_t n)
{
	struct bb_arr *old = bb->arr;
	unsigned int h = bb_build(a, n);

	/* A new array was filled unseen; only its publication is a section
	 * (readers may have the old array with the new count). */
	if (a != old)
		bb_write_begin(bb);
	bb_write_end(bb, a, n, h);
	if (a != old)
		bb_retire(bb, old);
	else
		bb_trim(a, n);
}

/*
 * Replace ranges [i0, i1) with the @k ranges of @mid.  Fails only before
 * anything visible changed.
 */
static int bb_splice(struct udax_bb *bb, size_t i0, size_t i1,
		     const struct bb_rng *mid, size_t k)
{
	struct bb_arr *old = bb->arr, *a;
	size_t n = bb->nr, nn = n - (i1 - i0) + k, i;

	a = bb_room(bb, nn);
	if (!a)
		return -ENOMEM;
	if (a != old) {
		for (i = 0; i < i0; i++)
			bb_copy(a, i, old, i);
		for (i = i1; i < n; i++)
			bb_copy(a, i - i1 + i0 + k, old, i);
	} else {
		bb_write_begin(bb);
		/* Move the tail like memmove: a set or a split adds one
		 * range at most, a merge or a clear may remove many. */
		if (i0 + k > i1)
			for (i = n; i-- > i1;)
				bb_copy(a, i + (i0 + k - i1), a, i);
		else if (i0 + k < i1)
			for (i = i1; i < n; i++)
				bb_copy(a, i - (i1 - i0 - k), a, i);
	}
	for (i = 0; i < k; i++)
		bb_put(a, i0 + i, mid[i].start, mid[i].end);
	bb_commit(bb, a, nn);
	return 0;
}

/* First slot among the first @n whose start (or end) is > @x, else n. */
static size_t bb_after(const struct bb_arr *a, size_t n, uint64_t x,
		       bool by_start)
{
	size_t lo = 0, hi = n;

	/* Invariant: slots [0, lo) are <= x, slots [hi, n) are > x. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((by_start ? bb_start(a, mid) : bb_end(a, mid)) <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bb_modify(struct udax_bb *bb, uint64_t s, uint64_t n, bool set)
{
	uint64_t e = bb_end_of(s, n);
	struct bb_rng mid[2];
	struct bb_arr *a;
	size_t nr, i0, i1, k = 0;
	int ret = 0;

	if (!n || s == UINT64_MAX)
		return 0;
	pthread_mutex_lock(&bb->lock);
	a = bb->arr;
	nr = bb->nr;
	/* Skip no-ops: they would cost a rebuild and make readers retry. */
	if (set) {
		/* Absorb every range that overlaps or touches [s, e). */
		i0 = s ? bb_after(a, nr, s - 1, false) : 0;
		i1 = bb_after(a, nr, e, true);
		if (i1 - i0 == 1 && bb_start(a, i0) <= s && bb_end(a, i0) >= e)
			goto out;
		mid[0].start = s;
		mid[0].end = e;
		if (i0 < i1 && bb_start(a, i0) < s)
			mid[0].start = bb_start(a, i0);
		if (i0 < i1 && bb_end(a, i1 - 1) > e)
			mid[0].end = bb_end(a, i1 - 1);
		k = 1;
	} else {
		/* Keep what lies outside [s, e) of each range it overlaps. */
		i0 = bb_after(a, nr, s, false);
		i1 = bb_after(a, nr, e - 1, true);
		if (i0 == i1)
			goto out;
		if (bb_start(a, i0) < s)
			mid[k++] = (struct bb_rng){ bb_start(a, i0), s };
		if (bb_end(a, i1 - 1) > e)
			mid[k++] = (struct bb_rng){ e, bb_end(a, i1 - 1) };
	}
	ret = bb_splice(bb, i0, i1, mid, k);
out:
	pthread_mutex_unlock(&bb->lock);
	return ret;
}

int udax__bb_set(struct udax_bb *bb, uint64_t s, uint64_t n)
{
	return bb_modify(bb, s, n, true);
}

int udax__bb_clear(struct udax_bb *bb, uint64_t s, uint64_t n)
{
	return bb_modify(bb, s, n, false);
}

static int bb_rng_cmp(const void *a, const void *b)
{
	const struct bb_rng *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Sort and merge @n ranges in place (empty ones dropped); returns the new
 * count.  Sorting is skipped when the input is already in order, the usual
 * case for both callers.
 */
static size_t bb_normalize(struct bb_rng *v, size_t n)
{
	size_t i, o = 0;

	for (i = 1; i < n; i++)
		if (v[i].start < v[i - 1].start)
			break;
	if (i < n)
		qsort(v, n, sizeof(*v), bb_rng_cmp);
	for (i = 0; i < n; i++) {
		if (v[i].start >= v[i].end)
			continue;
		if (o && v[i].start <= v[o - 1].end) {
			if (v[i].end > v[o - 1].end)
				v[o - 1].end = v[i].end;
			continue;
		}
		v[o++] = v[i];
	}
	return o;
}

/* Whether @r is already what the table would keep: sorted, non-empty,
 * neither overlapping nor touching, no end past UINT64_MAX. */
static bool bb_is_normal(const struct udax_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!r[i].len || r[i].len > UINT64_MAX - r[i].off)
			return false;
		if (i && r[i].off <= r[i - 1].off + r[i - 1].len)
			return false;
	}
	return true;
}

/*
 * The ranges need not be sorted or merged: they are normalized the way set
 * would leave them.  Lengths past UINT64_MAX are clamped like set's.  Input
 * that is already normal (the usual case) is laid out without a copy.
 */
int udax__bb_assign(struct udax_bb *bb, const struct udax_range *r, size_t n)
{
	struct bb_rng *v = NULL;
	struct bb_arr *old, *a;
	size_t i;
	int ret = 0;

	if (!bb_is_normal(r, n)) {
		if (n > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = malloc(n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			v[i].start = r[i].off;
			v[i].end = bb_end_of(r[i].off, r[i].len);
		}
		n = bb_normalize(v, n);
	}
	pthread_mutex_lock(&bb->lock);
	old = bb->arr;
	if (old == BB_EMPTY && !n)
		goto out;	/* empty, and never was anything else */
	a = bb_room(bb, n);
	if (!a) {
		ret = -ENOMEM;
		goto out;
	}
	if (a == old)
		bb_write_begin(bb);
	for (i = 0; i < n; i++) {
		if (v)
			bb_put(a, i, v[i].start, v[i].end);
		else
			bb_put(a, i, r[i].off, r[i].off + r[i].len);
	}
	bb_commit(bb, a, n);
out:
	pthread_mutex_unlock(&bb->lock);
	free(v);
	return ret;
}

/* ---- instruction set ---------------------------------------------------- */

static const char *const bb_isa_names[] = {
	[BB_ISA_C] = "scalar",
	[BB_ISA_AVX2] = "avx2",
	[BB_ISA_AVX512] = "avx512",
};

static pthread_once_t bb_isa_once = PTHREAD_ONCE_INIT;
static unsigned int bb_isa_best;

static void bb_isa_probe(void)
{
#ifdef BB_SIMD
	unsigned int a, b, c, d, b7 = 0, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    !(c & bit_AVX) || !(c & bit_POPCNT))
		return;
	/* The vector registers also need the OS to save them (XCR0). */
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if (!__get_cpuid_count(7, 0, &a, &b7, &c, &d))
		return;
	if ((lo & 0x6) != 0x6 || !(b7 & bit_AVX2) || !(b7 & bit_BMI2))
		return;
	bb_isa_best = BB_ISA_AVX2;
	if ((lo & 0xe6) == 0xe6 && (b7 & bit_AVX512F) &&
	    (b7 & bit_AVX512VL) && (b7 & bit_AVX512BW))
		bb_isa_best = BB_ISA_AVX512;
#endif
}

/* The best the CPU runs, or UDAX_BB_ISA=scalar|avx2|avx512 if it runs it. */
static unsigned int bb_isa_pick(void)
{
	const char *env = getenv("UDAX_BB_ISA");

	pthread_once(&bb_isa_once, bb_isa_probe);
	if (env)
		for (unsigned int i = 0; i <= bb_isa_best; i++)
			if (!strcmp(env, bb_isa_names[i]))
				return i;
	return bb_isa_best;
}

int udax__bb_new(struct udax_bb **out)
{
	struct udax_bb *bb;

	/* The reader fields in one cache line. */
	if (posix_memalign((void **)&bb, 64, sizeof(*bb)))
		return -ENOMEM;
	memset(bb, 0, sizeof(*bb));
	if (pthread_mutex_init(&bb->lock, NULL)) {
		free(bb);
		return -ENOMEM;
	}
	bb->arr = BB_EMPTY;
	switch (bb_isa_pick()) {
#ifdef BB_SIMD
	case BB_ISA_AVX512:
		bb->lookup = bb_lookup_avx512;
		break;
	case BB_ISA_AVX2:
		bb->lookup = bb_lookup_avx2;
		break;
#endif
	default:
		bb->lookup = bb_lookup_c;
	}
	*out = bb;
	return 0;
}

void udax__bb_free(struct udax_bb *bb)
{
	struct bb_arr *a, *next;

	if (!bb)
		return;
	bb_unmap(bb->arr);
	for (a = bb->retired; a; a = next) {
		next = a->next;
		bb_unmap(a);
	}
	pthread_mutex_destroy(&bb->lock);
	free(bb);
}

/* ---- sysfs text --------------------------------------------------------- */

static inline bool bb_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decimal u64 at *p (< end).  0, or -EINVAL (no digits, too big). */
static int bb_parse_u64(const char **p, const char *end, uint64_t *val)
{
	const char *q = *p;
	uint64_t v = 0;

	if (q == end || *q < '0' || *q > '9')
		return -EINVAL;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		unsigned int d = *q - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*p = q;
	*val = v;
	return 0;
}

/*
 * A number too big for 64 bits is malformed (-EINVAL); a well-formed range
 * whose end overflows or passes @limit is out of range (-ERANGE).
 */
static int bb_parse_line(const char *p, const char *end, uint64_t limit,
			 struct bb_rng *r, bool *blank)
{
	uint64_t first, count;
	const char *q;
	int ret;

	while (p < end && bb_blank(*p))
		p++;
	*blank = p == end;
	if (*blank)
		return 0;
	ret = bb_parse_u64(&p, end, &first);
	if (ret)
		return ret;
	for (q = p; p < end && bb_blank(*p); p++)
		;
	if (p == q)
		return -EINVAL;
	ret = bb_parse_u64(&p, end, &count);
	if (ret)
		return ret;
	while (p < end && bb_blank(*p))
		p++;
	if (p != end || !count)
		return -EINVAL;
	if (count > UINT64_MAX - first || first + count > limit)
		return -ERANGE;
	r->start = first;
	r->end = first + count;
	return 0;
}

int udax__bb_parse(const char *text, size_t len, uint64_t limit,
		   struct udax_range **out, size_t *nr)
{
	const char *p = text, *end = text + len;
	struct bb_rng *v = NULL, *t;
	struct udax_range *res;
	size_t n = 0, cap = 0, i;
	int ret;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;
		struct bb_rng r;
		bool blank;

		ret = bb_parse_line(p, le, limit, &r, &blank);
		if (ret)
			goto err;
		p = nl ? nl + 1 : end;
		if (blank)
			continue;
		if (n == cap) {
			cap = cap ? cap + cap / 2 : 16;
			t = cap < SIZE_MAX / sizeof(*v) ?
				realloc(v, cap * sizeof(*v)) : NULL;
			if (!t) {
				ret = -ENOMEM;
				goto err;
			}
			v = t;
		}
		v[n++] = r;
	}
	n = bb_normalize(v, n);

	/* udax_range has the same size: convert in place, then shrink. */
	res = (struct udax_range *)v;
	for (i = 0; i < n; i++) {
		struct bb_rng r = v[i];

		res[i].off = r.start;
		res[i].len = r.end - r.start;
	}
	if (!n) {
		free(v);
		res = NULL;
	} else if (n < cap) {
		t = realloc(v, n * sizeof(*res));
		if (t)
			res = (struct udax_range *)t;
	}
	*out = res;
	*nr = n;
	return 0;
err:
	free(v);
	return ret;
}

size_t udax__bb_format(const struct udax_range *r, size_t n, char *buf,
		       size_t size)
{
	size_t total = 0, i;

	for (i = 0; i < n; i++) {
		char line[48];
		int l = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64
				 "\n", r[i].off, r[i].len);

		if (total < size) {
			size_t room = size - 1 - total;

			memcpy(buf + total, line,
			       (size_t)l < room ? (size_t)l : room);
		}
		total += l;
	}
	if (size)
		buf[total < size ? total : size - 1] = '\0';
	return total;
}

int udax__bb_copy(const struct udax_bb *bb, struct udax_range **out, size_t *n)
{
	size_t cap = udax__bb_count(bb) + 16, total;
	struct udax_range *r;

	for (;;) {
		r = malloc(cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		total = udax__bb_snapshot(bb, r, cap);
		if (total <= cap)
			break;
		free(r);
		cap = total + total / 4;	/* a writer grew it meanwhile */
	}
	*out = r;
	*n = total;
	return 0;
}

/* ---- range lists ---------------------------------------------------------- */

static int range_cmp(const void *a, const void *b)
{
	const struct udax_range *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

size_t udax__ranges_merge(struct udax_range *r, size_t n)
{
	size_t i, o = 0;

	if (!n)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++) {
		uint64_t end = r[o].off + r[o].len;

		if (r[i].off <= end) {
			if (r[i].off + r[i].len > end)
				r[o].len = r[i].off + r[i].len - r[o].off;
		} else {
			r[++o] = r[i];
		}
	}
	return o + 1;
}
