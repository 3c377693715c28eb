/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent copies: when udax__memcpy_persist() returns, the bytes have left
 * the CPU caches (or sit in the ADR/eADR-protected write path), as Linux's
 * memcpy_flushcache() + pmem_wmb() promise.
 *
 * Two families, chosen by length against a threshold (nt_min):
 *
 *  cached  len < nt_min: plain stores (memcpy/memset), a write-back of every
 *          line touched (clwb > clflushopt > clflush), one sfence.
 *  nt      len >= nt_min: the copy is cut at cache-line boundaries,
 *
 *            d                                                  d + len
 *            | head  |  whole lines                     |  tail  |
 *          --+-------+----------------------------------+--------+--
 *             line L0  L1 ...                       Lk    Lk+1
 *
 *          whole lines take the widest non-temporal stores the CPU has
 *          (movdir64b > AVX-512 > AVX2 > SSE2, from cpuid at the first call);
 *          a partial line (head, tail, or the only one) takes movnti when it
 *          starts and ends on 4-byte boundaries, and otherwise plain stores
 *          for all of its bytes and a write-back of that line.  One sfence
 *          orders everything at the end.
 *
 * A line is never written both ways: plain and non-temporal stores to one
 * line before the sfence made a copy 3-4x slower here (100 B aligned:
 * 516 ns against 166; 64 B at offset 13: 642 against 253), which the
 * previous version did whenever a copy's ends were not 8-byte aligned.
 * Non-temporal stores also lose when the destination is already cached as
 * the copy starts (the caller has just read it): 4 KiB took ~1000 ns
 * against ~450 for memcpy + clwb.  That cannot be seen from here;
 * UDAX_NT_MIN lets a caller who knows move the threshold.
 *
 * The threshold, measured (see NT_MIN_* below and the commit message):
 * on AMD Zen 4 (family 19h) non-temporal stores win from the first whole
 * 8-byte word on, for destinations that are not in the cache, hot or cold
 * source alike:
 *   64 B aligned, hot:  nt 88 ns, memcpy+clwb 147-165 ns, libpmem 167-171 ns
 *   64 B aligned, cold: nt 100-125 ns, memcpy+clwb 166-177, libpmem 171-225
 *   8 B aligned:        nt 106-118 ns, memcpy+clwb 154-166
 * so the default there is 0.  Other CPUs get PMDK's default of 256 B
 * (libpmem's MOVNT_THRESHOLD), not measured by us.
 *
 * Environment, read once at the first call:
 *   UDAX_PERSIST=nt          non-temporal for every length (nt_min 0)
 *   UDAX_PERSIST=cached      the cached family for every length
 *   UDAX_PERSIST=<impl>      nt-sse2, nt-avx2, nt-avx512, nt-movdir64b,
 *                            cached-clwb, cached-clflushopt, cached-clflush:
 *                            that one for every length; a name this CPU
 *                            cannot run is ignored (the default stays)
 *   UDAX_NT_MIN=<bytes>      the threshold (after UDAX_PERSIST): shorter
 *                            copies take the cached family
 * udax__persist_impl() names the result, e.g. "nt-avx512" or
 * "nt-avx2, cached-clwb below 256 B".
 *
 * Where the copies run.  On x86-64 udax's guarded copies take this choice
 * through mc_copy_x86_64.S (udax__persist_route()): the non-temporal
 * family written again there as routines whose faults are listed in a
 * table, the cached family as its plain routine and udax__persist_flush().
 * The C below is what runs without that table (under valgrind, other
 * architectures) and the reference both are tested against: a change to
 * either family changes both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define LINE 64

/* See the header comment for how these were found. */
#define NT_MIN_AMD_ZEN	0
#define NT_MIN_OTHER	256

enum pc_flush { PC_CLWB, PC_CLFLUSHOPT, PC_CLFLUSH };
enum pc_nt { PC_NT_SSE2, PC_NT_AVX2, PC_NT_AVX512, PC_NT_MOVDIR64B, PC_NT_NR };

static const char *const nt_names[PC_NT_NR] = {
	"nt-sse2", "nt-avx2", "nt-avx512", "nt-movdir64b",
};
static const char *const cached_names[] = {
	[PC_CLWB] = "cached-clwb",
	[PC_CLFLUSHOPT] = "cached-clflushopt",
	[PC_CLFLUSH] = "cached-clflush",
};

/* Whole lines: d is 64-byte aligned, k >= 1 lines. */
typedef void copy_lines_fn(char *d, const char *s, size_t k);
typedef void set_lines_fn(char *d, uint64_t w, size_t k);

/* Written once by pc_choose(), read-only after pc_ready is set. */
static struct {
	size_t nt_min;
	enum pc_flush flush;
	copy_lines_fn *copy_lines;
	set_lines_fn *set_lines;
	enum pc_nt nt;
	char name[64];
} pc;
static bool pc_ready;
static pthread_once_t pc_once = PTHREAD_ONCE_INIT;
/* pc.flush, for mc_copy_x86_64.S's persistent copies (enum pc_flush). */
unsigned char udax__mc_pflush UDAX__HIDDEN;

static inline void clwb(const void *p)
{
	__asm__ volatile("clwb %0" : "+m"(*(volatile char *)p));
}

static inline void clflushopt(const void *p)
{
	__asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)p));
}

static inline void clflush(const void *p)
{
	__asm__ volatile("clflush %0" : "+m"(*(volatile char *)p));
}

static inline void flush_line(const void *p)
{
	switch (pc.flush) {
	case PC_CLWB:
		clwb(p);
		break;
	case PC_CLFLUSHOPT:
		clflushopt(p);
		break;
	default:
		clflush(p);
		break;
	}
}

/* Write back every line that [p, p + n) touches: none when n is 0 (the
 * line of p may not even be mapped, after a copy that stopped there). */
static void flush_range(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(LINE - 1);
	uintptr_t end = (uintptr_t)p + n;

	if (!n)
		return;

	switch (pc.flush) {
	case PC_CLWB:
		for (; a < end; a += LINE)
			clwb((const void *)a);
		break;
	case PC_CLFLUSHOPT:
		for (; a < end; a += LINE)
			clflushopt((const void *)a);
		break;
	default:
		for (; a < end; a += LINE)
			clflush((const void *)a);
		break;
	}
}

static inline void sfence(void)
{
	__asm__ volatile("sfence" ::: "memory");
}

static inline void nt8(char *d, const char *s)
{
	long long v;

	memcpy(&v, s, 8);
	_mm_stream_si64((long long *)d, v);
}

static inline void nt4(char *d, const char *s)
{
	int v;

	memcpy(&v, s, 4);
	_mm_stream_si32((int *)d, v);
}

/* n < 64 bytes with plain stores, overlapping where that saves a branch. */
static inline void small_copy(char *d, const char *s, size_t n)
{
	if (n >= 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + n - 16));

		if (n > 32) {
			__m128i c = _mm_loadu_si128((const __m128i *)(s + 16));
			__m128i e = _mm_loadu_si128((const __m128i *)(s + n - 32));

			_mm_storeu_si128((__m128i *)(d + 16), c);
			_mm_storeu_si128((__m128i *)(d + n - 32), e);
		}
		_mm_storeu_si128((__m128i *)d, a);
		_mm_storeu_si128((__m128i *)(d + n - 16), b);
	} else if (n >= 8) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n) {
		char a = s[0], b = s[n / 2], c = s[n - 1];

		d[0] = a;
		d[n / 2] = b;
		d[n - 1] = c;
	}
}

/*
 * [d, d + n) inside one line, 0 < n < 64.  Whole 4-byte words go
 * non-temporal; anything finer sends the whole fragment through the cache
 * and writes the line back (never both ways in one line, see the top).
 */
static inline void edge_copy(char *d, const char *s, size_t n)
{
	if (((uintptr_t)d | n) & 3) {
		small_copy(d, s, n);
		flush_line(d);
		return;
	}
	if ((uintptr_t)d & 4) {
		nt4(d, s);
		d += 4, s += 4, n -= 4;
	}
	for (; n >= 8; d += 8, s += 8, n -= 8)
		nt8(d, s);
	if (n)
		nt4(d, s);
}

static inline void edge_set(char *d, int c, uint64_t w, size_t n)
{
	if (((uintptr_t)d | n) & 3) {
		memset(d, c, n);
		flush_line(d);
		return;
	}
	if ((uintptr_t)d & 4) {
		_mm_stream_si32((int *)d, (int)w);
		d += 4, n -= 4;
	}
	for (; n >= 8; d += 8, n -= 8)
		_mm_stream_si64((long long *)d, (long long)w);
	if (n)
		_mm_stream_si32((int *)d, (int)w);
}

/* ---- whole lines, one function per store width --------------------------- */

static void copy_lines_sse2(char *d, const char *s, size_t k)
{
	for (; k; k--, d += LINE, s += LINE) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));

		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
	}
}

static void set_lines_sse2(char *d, uint64_t w, size_t k)
{
	__m128i v = _mm_set1_epi64x((long long)w);

	for (; k; k--, d += LINE) {
		_mm_stream_si128((__m128i *)d, v);
		_mm_stream_si128((__m128i *)(d + 16), v);
		_mm_stream_si128((__m128i *)(d + 32), v);
		_mm_stream_si128((__m128i *)(d + 48), v);
	}
}

__attribute__((target("avx2")))
static void copy_lines_avx2(char *d, const char *s, size_t k)
{
	for (; k >= 2; k -= 2, d += 2 * LINE, s += 2 * LINE) {
		__m256i a = _mm256_loadu_si256((const __m256i *)s);
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(s + 64));
		__m256i e = _mm256_loadu_si256((const __m256i *)(s + 96));

		_mm256_stream_si256((__m256i *)d, a);
		_mm256_stream_si256((__m256i *)(d + 32), b);
		_mm256_stream_si256((__m256i *)(d + 64), c);
		_mm256_stream_si256((__m256i *)(d + 96), e);
	}
	if (k) {
		__m256i a = _mm256_loadu_si256((const __m256i *)s);
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));

		_mm256_stream_si256((__m256i *)d, a);
		_mm256_stream_si256((__m256i *)(d + 32), b);
	}
}

__attribute__((target("avx2")))
static void set_lines_avx2(char *d, uint64_t w, size_t k)
{
	__m256i v = _mm256_set1_epi64x((long long)w);

	for (; k; k--, d += LINE) {
		_mm256_stream_si256((__m256i *)d, v);
		_mm256_stream_si256((__m256i *)(d + 32), v);
	}
}

__attribute__((target("avx512f")))
static void copy_lines_avx512(char *d, const char *s, size_t k)
{
	for (; k >= 4; k -= 4, d += 4 * LINE, s += 4 * LINE) {
		__m512i a = _mm512_loadu_si512((const void *)s);
		__m512i b = _mm512_loadu_si512((const void *)(s + 64));
		__m512i c = _mm512_loadu_si512((const void *)(s + 128));
		__m512i e = _mm512_loadu_si512((const void *)(s + 192));

		_mm512_stream_si512((void *)d, a);
		_mm512_stream_si512((void *)(d + 64), b);
		_mm512_stream_si512((void *)(d + 128), c);
		_mm512_stream_si512((void *)(d + 192), e);
	}
	for (; k; k--, d += LINE, s += LINE)
		_mm512_stream_si512((void *)d,
				    _mm512_loadu_si512((const void *)s));
}

__attribute__((target("avx512f")))
static void set_lines_avx512(char *d, uint64_t w, size_t k)
{
	__m512i v = _mm512_set1_epi64((long long)w);

	for (; k; k--, d += LINE)
		_mm512_stream_si512((void *)d, v);
}

/*
 * movdir64b: one 64-byte direct store per line, write-combining ordered
 * like the other non-temporal stores (sfence).  Not on the reference CPU:
 * compiled always, chosen by cpuid, tested where a CPU has it.
 */
__attribute__((target("movdir64b")))
static void copy_lines_movdir64b(char *d, const char *s, size_t k)
{
	for (; k; k--, d += LINE, s += LINE)
		_movdir64b(d, s);
}

__attribute__((target("movdir64b")))
static void set_lines_movdir64b(char *d, uint64_t w, size_t k)
{
	uint64_t v[8] __attribute__((aligned(LINE)));

	for (int i = 0; i < 8; i++)
		v[i] = w;
	for (; k; k--, d += LINE)
		_movdir64b(d, v);
}

static copy_lines_fn *const copy_lines[PC_NT_NR] = {
	copy_lines_sse2, copy_lines_avx2, copy_lines_avx512,
	copy_lines_movdir64b,
};
static set_lines_fn *const set_lines[PC_NT_NR] = {
	set_lines_sse2, set_lines_avx2, set_lines_avx512, set_lines_movdir64b,
};

/* ---- the two families ------------------------------------------------------ */

static void copy_nt(char *d, const char *s, size_t n)
{
	size_t h = -(uintptr_t)d & (LINE - 1);

	if (h) {
		if (h > n)
			h = n;
		if (h)
			edge_copy(d, s, h);
		d += h, s += h, n -= h;
	}
	if (n >= LINE) {
		size_t k = n / LINE;

		pc.copy_lines(d, s, k);
		d += k * LINE, s += k * LINE, n -= k * LINE;
	}
	if (n)
		edge_copy(d, s, n);
	sfence();
}

static void set_nt(char *d, int c, size_t n)
{
	uint64_t w = 0x0101010101010101ULL * (unsigned char)c;
	size_t h = -(uintptr_t)d & (LINE - 1);

	if (h) {
		if (h > n)
			h = n;
		if (h)
			edge_set(d, c, w, h);
		d += h, n -= h;
	}
	if (n >= LINE) {
		size_t k = n / LINE;

		pc.set_lines(d, w, k);
		d += k * LINE, n -= k * LINE;
	}
	if (n)
		edge_set(d, c, w, n);
	sfence();
}

static void copy_cached(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
	flush_range(dst, n);
	sfence();
}

static void set_cached(void *dst, int c, size_t n)
{
	memset(dst, c, n);
	flush_range(dst, n);
	sfence();
}

/* ---- the choice ------------------------------------------------------------ */

static size_t default_nt_min(void)
{
	unsigned int a = 0, b = 0, c = 0, d = 0;
	char vendor[13];

	__get_cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	__get_cpuid(1, &a, &b, &c, &d);
	/* family 19h (Zen 3/4) = base 0xf + extended 0xa: the measured class */
	if (!strcmp(vendor, "AuthenticAMD") && ((a >> 8) & 0xf) == 0xf &&
	    ((a >> 20) & 0xff) == 0xa)
		return NT_MIN_AMD_ZEN;
	return NT_MIN_OTHER;
}

static void pc_choose(void)
{
	unsigned int a = 0, b = 0, c = 0, d = 0, b7 = 0, c7 = 0;
	bool have[PC_NT_NR] = { false }, have_clwb, have_clflushopt;
	int nt = -1;
	const char *env;

	__get_cpuid(1, &a, &b, &c, &d);
	have[PC_NT_SSE2] = d & bit_SSE2;
	if (__get_cpuid_max(0, NULL) >= 7)
		__get_cpuid_count(7, 0, &a, &b7, &c7, &d);
	/* Vector NT stores need the OS to save the wider state (XCR0). */
	if ((c & bit_OSXSAVE) && (c & bit_AVX)) {
		unsigned int lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		if ((lo & 0x6) == 0x6)
			have[PC_NT_AVX2] = b7 & bit_AVX2;
		if ((lo & 0xe6) == 0xe6)
			have[PC_NT_AVX512] = b7 & bit_AVX512F;
	}
	have[PC_NT_MOVDIR64B] = have[PC_NT_SSE2] && (c7 & bit_MOVDIR64B);
	have_clwb = b7 & bit_CLWB;
	have_clflushopt = b7 & bit_CLFLUSHOPT;
	pc.flush = have_clwb ? PC_CLWB :
		   have_clflushopt ? PC_CLFLUSHOPT : PC_CLFLUSH;

	for (int i = 0; i < PC_NT_NR; i++)
		if (have[i])
			nt = i;		/* the widest: the enum is in that order */
	pc.nt_min = nt < 0 ? SIZE_MAX : default_nt_min();

	env = getenv("UDAX_PERSIST");
	if (!env) {
		/* the default */
	} else if (!strcmp(env, "nt")) {
		if (nt >= 0)
			pc.nt_min = 0;
	} else if (!strcmp(env, "cached")) {
		pc.nt_min = SIZE_MAX;
	} else if (!strcmp(env, "cached-clflush")) {
		pc.nt_min = SIZE_MAX;
		pc.flush = PC_CLFLUSH;
	} else if (!strcmp(env, "cached-clflushopt") && have_clflushopt) {
		pc.nt_min = SIZE_MAX;
		pc.flush = PC_CLFLUSHOPT;
	} else if (!strcmp(env, "cached-clwb") && have_clwb) {
		pc.nt_min = SIZE_MAX;
	} else {
		for (int i = 0; i < PC_NT_NR; i++) {
			if (have[i] && !strcmp(env, nt_names[i])) {
				nt = i;
				pc.nt_min = 0;
			}
		}
	}
	env = getenv("UDAX_NT_MIN");
	if (env && *env && nt >= 0)
		pc.nt_min = strtoull(env, NULL, 0);

	if (nt < 0) {
		/* x86-64 always has SSE2; kept for completeness */
		pc.nt_min = SIZE_MAX;
		nt = PC_NT_SSE2;
	}
	pc.copy_lines = copy_lines[nt];
	pc.set_lines = set_lines[nt];
	pc.nt = nt;
	udax__mc_pflush = (unsigned char)pc.flush;
	if (pc.nt_min == 0)
		snprintf(pc.name, sizeof(pc.name), "%s", nt_names[nt]);
	else if (pc.nt_min == SIZE_MAX)
		snprintf(pc.name, sizeof(pc.name), "%s", cached_names[pc.flush]);
	else
		snprintf(pc.name, sizeof(pc.name), "%s, %s below %zu B",
			 nt_names[nt], cached_names[pc.flush], pc.nt_min);
	__atomic_store_n(&pc_ready, true, __ATOMIC_RELEASE);
}

/* One load on the fast path; pthread_once only until the choice is made. */
static inline void pc_init(void)
{
	if (udax__unlikely(!__atomic_load_n(&pc_ready, __ATOMIC_ACQUIRE)))
		pthread_once(&pc_once, pc_choose);
}

void udax__memcpy_persist(void *dst, const void *src, size_t len)
{
	pc_init();
	if (len >= pc.nt_min)
		copy_nt(dst, src, len);
	else
		copy_cached(dst, src, len);
}

void udax__memset_persist(void *dst, int c, size_t len)
{
	pc_init();
	if (len >= pc.nt_min)
		set_nt(dst, c, len);
	else
		set_cached(dst, c, len);
}

const char *udax__persist_impl(void)
{
	pc_init();
	return pc.name;
}

void udax__persist_flush(const void *p, size_t len)
{
	pc_init();
	flush_range(p, len);
	sfence();
}

void udax__persist_route(size_t *nt_min, int *mc_isa)
{
	static const int isa[PC_NT_NR] = {
		[PC_NT_SSE2] = UDAX_MC_SSE2,
		[PC_NT_AVX2] = UDAX_MC_AVX2,
		[PC_NT_AVX512] = UDAX_MC_AVX512,
		[PC_NT_MOVDIR64B] = UDAX_MC_MOVDIR64B,
	};

	pc_init();
	*nt_min = pc.nt_min;
	*mc_isa = isa[pc.nt];
}

#else /* !__x86_64__ */

/*
 * Portable fallback: no cache maintenance from user space here, so this only
 * orders the stores.  Enough for the emulated backend (a file mapping, whose
 * durability comes from msync); real pmem on other architectures needs a port.
 */
void udax__memcpy_persist(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void udax__memset_persist(void *dst, int c, size_t len)
{
	memset(dst, c, len);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

const char *udax__persist_impl(void)
{
	return "portable";
}

void udax__persist_flush(const void *p, size_t len)
{
	(void)p;
	(void)len;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif
