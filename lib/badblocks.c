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
 * Memory layout.  Two parallel arrays in Eytzinger (BFS) order: node k's
 * children are 2k and 2k + 1, end[k] and start[k] describe one range, and an
 * in-order walk of the nodes gives the ranges sorted.  Readers descend the
 * ends (8 per cache line, so one prefetch covers the great-grandchildren
 * three levels ahead) without a branch, then read one start.  16 bytes per
 * range and no separate index: a sorted array plus an Eytzinger index of the
 * ends costs 24 and needs a rank to get back to the array.  Measured against
 * one 64-byte block of four ranges per node with a key index (18 bytes per
 * range), this was as fast at 65,536 and 1,048,576 ranges and faster at 512.
 * Node 0 is a sentinel: end[0] == 0 sends a descent right (how a missing
 * node on the last level is read), start[0] == UINT64_MAX makes "no range
 * ends after s" read as "no bad sector" without a branch.
 *   Any insertion moves every later range's node, so writers rebuild the
 * layout on every change: set and clear are O(n), which is why bulk loads
 * should go through udax__bb_assign() (O(n) once).
 *   Each array generation is one mmap: a 64-byte header holding its
 * capacity, then end[0..cap], then start[0..cap].  Capacity grows by 1.5x;
 * pages of it that were never written are not resident.
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
 * All shared words are accessed through __atomic builtins so that a reader
 * racing a writer is not a data race (ThreadSanitizer stays quiet; on x86
 * and arm64 relaxed accesses are plain loads and stores).  The array
 * pointer alone is published with release and read with acquire: a reader
 * that loads a new array's address mid-section must not read the array
 * before its mmap and header (a plain read race without it; on x86 it is
 * still a plain load).
 *   A torn read may pair a new count with an old array, or see half a
 * rebuild: readers clamp every index to the capacity recorded inside the
 * array they are reading and bound every walk, so they may compute garbage
 * but never fault, and the sequence check throws the garbage away.
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

#define BB_PAGE		4096
#define BB_HUGE		(2u << 20)
#define BB_HDR		64

struct bb_rng {
	uint64_t start, end;		/* [start, end), sectors */
};

/* Start of every array generation; end[] follows at +BB_HDR. */
struct bb_arr {
	uint64_t cap;			/* nodes 1..cap */
	uint64_t bytes;			/* mapping size */
	struct bb_arr *next;		/* retire list */
};

struct udax_bb {
	pthread_mutex_t lock;		/* serializes writers */
	unsigned long seq;		/* odd while a writer is in section */
	struct bb_arr *arr;		/* NULL until the first range */
	size_t nr;			/* ranges */
	struct bb_arr *retired;		/* replaced arrays, writer-only */
};

#if defined(__x86_64__) || defined(__i386__)
#define bb_cpu_relax()	__builtin_ia32_pause()
#elif defined(__aarch64__)
#define bb_cpu_relax()	__asm__ __volatile__("yield")
#else
#define bb_cpu_relax()	do { } while (0)
#endif

#define ld(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define st(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline uint64_t *bb_ends(const struct bb_arr *a)
{
	return (uint64_t *)((char *)a + BB_HDR);
}

static inline uint64_t *bb_starts(const struct bb_arr *a, size_t cap)
{
	return bb_ends(a) + cap + 1;
}

static inline uint64_t bb_end_of(uint64_t s, uint64_t n)
{
	return n > UINT64_MAX - s ? UINT64_MAX : s + n;
}

/* Leftmost (first in-order) node of a tree of @n nodes, 0 if empty. */
static inline size_t bb_first_node(size_t n)
{
	size_t k = 1;

	if (!n)
		return 0;
	while (2 * k <= n)
		k = 2 * k;
	return k;
}

/* In-order successor of node @k, 0 after the last. */
static inline size_t bb_next_node(size_t k, size_t n)
{
	if (2 * k + 1 <= n) {
		k = 2 * k + 1;
		while (2 * k <= n)
			k = 2 * k;
		return k;
	}
	while (k & 1)
		k >>= 1;
	return k >> 1;
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

/* A consistent-or-retried view of the table: arrays and clamped count. */
struct bb_view {
	const uint64_t *end, *start;
	size_t nr;
};

static const uint64_t bb_empty_end[1] = { 0 };
static const uint64_t bb_empty_start[1] = { UINT64_MAX };

static inline void bb_view(const struct udax_bb *bb, struct bb_view *v)
{
	const struct bb_arr *a = __atomic_load_n(&bb->arr, __ATOMIC_ACQUIRE);
	size_t nr = ld(&bb->nr), cap;

	if (!a) {
		v->end = bb_empty_end;
		v->start = bb_empty_start;
		v->nr = 0;
		return;
	}
	cap = ld(&a->cap);
	v->end = bb_ends(a);
	v->start = bb_starts(a, cap);
	v->nr = nr < cap ? nr : cap;
}

/* Node of the first range that ends after @s; 0 when there is none. */
static inline size_t bb_find(const struct bb_view *v, uint64_t s)
{
	const uint64_t *end = v->end;
	size_t k = 1, kk, n = v->nr;
	int h, l;

	if (!n)
		return 0;
	/*
	 * Branchless descent: go right while the range ends at or before s.
	 * Levels 1..h-1 are full; the last one may not be, and a missing node
	 * reads end[0] == 0, which sends the search right: that leaves the
	 * decoded answer what it would have been had the search stopped
	 * above.  The loop count is fixed per table, so nothing mispredicts
	 * and the CPU can overlap consecutive lookups.
	 */
	h = 64 - __builtin_clzll(n);
	for (l = 1; l < h; l++) {
		__builtin_prefetch(end + 8 * k);
		k = 2 * k + (ld(&end[k]) <= s);
	}
	kk = k <= n ? k : 0;
	k = 2 * k + (ld(&end[kk]) <= s);
	/* Undo the trailing right turns and the last left turn. */
	return k >> (__builtin_ctzll(~(unsigned long long)k) + 1);
}

static inline uint64_t bb_first_bad_view(const struct bb_view *v, uint64_t s,
					 uint64_t e)
{
	uint64_t rs = ld(&v->start[bb_find(v, s)]);
	/* Whether the range starts before @e is random: no branch. */
	uint64_t mask = -(uint64_t)(rs < e);

	return ((rs > s ? rs : s) & mask) | ~mask;
}

uint64_t udax__bb_first_bad(const struct udax_bb *bb, uint64_t s, uint64_t n)
{
	struct bb_view v;
	unsigned long seq;
	uint64_t e = bb_end_of(s, n), ret;

	/* The common case, a clean device, in one load: writers store nr once
	 * per change, so a zero is the count of some version of the table. */
	if (!n || !ld(&bb->nr))
		return UINT64_MAX;
	do {
		seq = bb_read_begin(bb);
		bb_view(bb, &v);
		ret = bb_first_bad_view(&v, s, e);
	} while (bb_read_retry(bb, seq));
	return ret;
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
	size_t k, steps;

	k = bb_find(v, s);
	/* Bound the walk: a torn view may not be a tree in order. */
	for (steps = 0; k && steps < v->nr; steps++) {
		uint64_t rs = ld(&v->start[k]), re = ld(&v->end[k]);

		if (rs >= e)
			break;
		if (rs < s)
			rs = s;
		if (re > e)
			re = e;
		if (re > rs)
			sum += re - rs;
		k = bb_next_node(k, v->nr);
	}
	return sum;
}

uint64_t udax__bb_count_in(const struct udax_bb *bb, uint64_t s, uint64_t n)
{
	struct bb_view v;
	unsigned long seq;
	uint64_t e = bb_end_of(s, n), ret;

	if (!n)
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
	size_t i, k;

	do {
		seq = bb_read_begin(bb);
		bb_view(bb, &v);
		k = bb_first_node(v.nr);
		for (i = 0; i < v.nr && i < max && k; i++) {
			uint64_t rs = ld(&v.start[k]);

			out[i].off = rs;
			out[i].len = ld(&v.end[k]) - rs;
			k = bb_next_node(k, v.nr);
		}
	} while (bb_read_retry(bb, seq));
	return v.nr;
}

/* ---- writers ------------------------------------------------------------ */

static struct bb_arr *bb_arr_alloc(size_t cap)
{
	size_t bytes, per = 2 * sizeof(uint64_t);
	struct bb_arr *a;

	if (cap > (SIZE_MAX - BB_PAGE - BB_HDR) / per - 1)
		return NULL;
	bytes = BB_HDR + (cap + 1) * per;
	bytes = (bytes + BB_PAGE - 1) & ~(size_t)(BB_PAGE - 1);
	a = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	/* Lookups probe big tables at random: with 4 KiB pages most levels
	 * of the descent also miss the TLB.  Only written 2 MiB regions
	 * become resident, so this costs at most 2 MiB past the data. */
	if (bytes >= BB_HUGE)
		madvise(a, bytes, MADV_HUGEPAGE);
	/* Use the page rounding: it is mapped anyway. */
	cap = (bytes - BB_HDR) / per - 1;
	st(&a->cap, cap);
	st(&a->bytes, bytes);
	a->next = NULL;
	st(&bb_ends(a)[0], 0);
	st(&bb_starts(a, cap)[0], UINT64_MAX);
	return a;
}

/* Drop a replaced array's data pages; keep it mapped for late readers. */
static void bb_retire(struct udax_bb *bb, struct bb_arr *a)
{
	if (a->bytes > BB_PAGE)
		madvise((char *)a + BB_PAGE, a->bytes - BB_PAGE,
			MADV_DONTNEED);
	a->next = bb->retired;
	bb->retired = a;
}

/* Sorted ranges of the table into @v (room for bb->nr).  Writer only. */
static void bb_unlayout(const struct udax_bb *bb, struct bb_rng *v)
{
	const struct bb_arr *a = bb->arr;
	size_t n = bb->nr, k = bb_first_node(n), i;
	const uint64_t *end, *start;

	if (!n)
		return;
	end = bb_ends(a);
	start = bb_starts(a, a->cap);
	for (i = 0; i < n; i++) {
		v[i].start = start[k];
		v[i].end = end[k];
		k = bb_next_node(k, n);
	}
}

/*
 * Make @v (n sorted, disjoint, merged ranges) the table's contents.  Fails
 * only before anything visible changed.
 */
static int bb_publish(struct udax_bb *bb, const struct bb_rng *v, size_t n)
{
	struct bb_arr *old = bb->arr, *a = old;
	unsigned long seq = bb->seq;
	uint64_t *end, *start;
	size_t k, i;

	if (n && (!a || n > a->cap)) {
		size_t cap = old ? old->cap : 0;

		cap += cap / 2;
		a = bb_arr_alloc(cap > n ? cap : n);
		if (!a)
			return -ENOMEM;
	}
	if (!a)
		return 0;	/* empty, and never was anything else */
	end = bb_ends(a);
	start = bb_starts(a, a->cap);

	st(&bb->seq, seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	k = bb_first_node(n);
	for (i = 0; i < n; i++) {
		st(&start[k], v[i].start);
		st(&end[k], v[i].end);
		k = bb_next_node(k, n);
	}
	/* Release: a reader that sees a new array sees it initialized. */
	__atomic_store_n(&bb->arr, a, __ATOMIC_RELEASE);
	st(&bb->nr, n);
	__atomic_store_n(&bb->seq, seq + 2, __ATOMIC_RELEASE);

	if (old && a != old)
		bb_retire(bb, old);
	return 0;
}

/* Set: absorb every range that overlaps or touches [s, e). */
static size_t bb_apply_set(const struct bb_rng *in, size_t n,
			   struct bb_rng *out, uint64_t s, uint64_t e)
{
	size_t i, o = 0;
	bool done = false;

	for (i = 0; i < n; i++) {
		if (in[i].end < s) {
			out[o++] = in[i];
		} else if (in[i].start > e) {
			if (!done)
				out[o++] = (struct bb_rng){ s, e };
			done = true;
			out[o++] = in[i];
		} else {
			if (in[i].start < s)
				s = in[i].start;
			if (in[i].end > e)
				e = in[i].end;
		}
	}
	if (!done)
		out[o++] = (struct bb_rng){ s, e };
	return o;
}

/* Clear: keep whatever of each range lies outside [s, e). */
static size_t bb_apply_clear(const struct bb_rng *in, size_t n,
			     struct bb_rng *out, uint64_t s, uint64_t e)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i].end <= s || in[i].start >= e) {
			out[o++] = in[i];
			continue;
		}
		if (in[i].start < s)
			out[o++] = (struct bb_rng){ in[i].start, s };
		if (in[i].end > e)
			out[o++] = (struct bb_rng){ e, in[i].end };
	}
	return o;
}

static int bb_modify(struct udax_bb *bb, uint64_t s, uint64_t n, bool set)
{
	struct bb_view v;
	struct bb_rng *in, *out;
	uint64_t e = bb_end_of(s, n);
	size_t nr;
	int ret;

	if (!n || s == UINT64_MAX)
		return 0;
	pthread_mutex_lock(&bb->lock);
	/* Skip no-ops: they would cost a rebuild and make readers retry. */
	bb_view(bb, &v);
	if (set ? bb_count_in_view(&v, s, e) == e - s :
		  bb_first_bad_view(&v, s, e) == UINT64_MAX) {
		pthread_mutex_unlock(&bb->lock);
		return 0;
	}
	ret = -ENOMEM;
	in = malloc((2 * bb->nr + 1) * sizeof(*in));
	if (!in)
		goto out_unlock;
	out = in + bb->nr;
	bb_unlayout(bb, in);
	if (set)
		nr = bb_apply_set(in, bb->nr, out, s, e);
	else
		nr = bb_apply_clear(in, bb->nr, out, s, e);
	ret = bb_publish(bb, out, nr);
	free(in);
out_unlock:
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

/*
 * The ranges need not be sorted or merged: they are normalized the way set
 * would leave them.  Lengths past UINT64_MAX are clamped like set's.
 */
int udax__bb_assign(struct udax_bb *bb, const struct udax_range *r, size_t n)
{
	struct bb_rng *v = NULL;
	size_t i;
	int ret;

	if (n > SIZE_MAX / sizeof(*v))
		return -ENOMEM;
	if (n) {
		v = malloc(n * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		v[i].start = r[i].off;
		v[i].end = bb_end_of(r[i].off, r[i].len);
	}
	n = bb_normalize(v, n);
	pthread_mutex_lock(&bb->lock);
	ret = bb_publish(bb, v, n);
	pthread_mutex_unlock(&bb->lock);
	free(v);
	return ret;
}

int udax__bb_new(struct udax_bb **out)
{
	struct udax_bb *bb = calloc(1, sizeof(*bb));

	if (!bb)
		return -ENOMEM;
	if (pthread_mutex_init(&bb->lock, NULL)) {
		free(bb);
		return -ENOMEM;
	}
	*out = bb;
	return 0;
}

void udax__bb_free(struct udax_bb *bb)
{
	struct bb_arr *a, *next;

	if (!bb)
		return;
	if (bb->arr)
		munmap(bb->arr, bb->arr->bytes);
	for (a = bb->retired; a; a = next) {
		next = a->next;
		munmap(a, a->bytes);
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
