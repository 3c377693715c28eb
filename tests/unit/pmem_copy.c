/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persistent copies against memcpy/memset: every dst/src alignment 0..63 for
 * lengths 0..300, then large sizes; bytes around the target must not change.
 * The implementation is chosen once per process, so each one runs in its own
 * forked child with UDAX_PERSIST / UDAX_NT_MIN set before the first call.
 *
 * Each child runs everything twice: plain, then through the fault-guarded
 * route of the same implementation (udax__mc_copy() with persist).
 * Besides the full sweep per implementation: lengths on both sides of the
 * cached/non-temporal threshold at every alignment, one line written in
 * pieces by consecutive calls (head, middle and tail fragments of
 * neighbouring copies share lines), and source and destination sharing
 * cache lines.
 */
#include <sys/wait.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "harness.h"
#include "private.h"

#define PAD 128
#define SMALL 300
#define SMALL_TOTAL (2 * PAD + SMALL + 64)

static uint64_t seed = 0x5eed;
/* Copies through udax__mc_copy(persist): the fault-guarded route of the
 * same implementation (on x86-64 the routines of mc_copy_x86_64.S). */
static bool guarded;

static void pcopy(void *d, const void *s, size_t n)
{
	struct udax_fault f;

	if (!guarded) {
		udax__memcpy_persist(d, s, n);
		return;
	}
	if (udax__mc_copy(d, s, n, true, &f) != n)
		t_fail("%s, guarded: copy of %zu bytes stopped", udax__persist_impl(), n);
	t_eq(f.signo, 0);
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)t_rand(&seed);
}

static void check_copy(unsigned char *dbuf, unsigned char *ref,
		       const unsigned char *sbuf, size_t da, size_t sa,
		       size_t len, size_t total)
{
	memcpy(ref, dbuf, total);
	memcpy(ref + PAD + da, sbuf + sa, len);
	pcopy(dbuf + PAD + da, sbuf + sa, len);
	if (memcmp(dbuf, ref, total)) {
		size_t i = 0;

		while (dbuf[i] == ref[i])
			i++;
		t_fail("%s%s: copy da=%zu sa=%zu len=%zu: byte %zd differs",
		       udax__persist_impl(), guarded ? ", guarded" : "",
		       da, sa, len, (ssize_t)i - PAD - (ssize_t)da);
	}
}

static void check_set(unsigned char *dbuf, unsigned char *ref, size_t da,
		      int c, size_t len, size_t total)
{
	struct udax_fault f;

	/* guarded: the zeroing (udax__mc_zero()), so zeros */
	if (guarded)
		c = 0;
	memcpy(ref, dbuf, total);
	memset(ref + PAD + da, c, len);
	if (!guarded)
		udax__memset_persist(dbuf + PAD + da, c, len);
	else if (udax__mc_zero(dbuf + PAD + da, len, &f) != len)
		t_fail("%s, guarded: zeroing of %zu bytes stopped",
		       udax__persist_impl(), len);
	if (memcmp(dbuf, ref, total))
		t_fail("%s: set da=%zu c=%#x len=%zu", udax__persist_impl(),
		       da, c, len);
}

/* Every alignment pair for each length in [lo, hi]. */
static void sweep(unsigned char *dbuf, unsigned char *ref,
		  const unsigned char *sbuf, size_t lo, size_t hi)
{
	for (size_t da = 0; da < 64; da++)
		for (size_t sa = 0; sa < 64; sa++)
			for (size_t len = lo; len <= hi; len++)
				check_copy(dbuf, ref, sbuf, da, sa, len,
					   SMALL_TOTAL);
	for (size_t da = 0; da < 64; da++)
		for (size_t len = lo; len <= hi; len++)
			check_set(dbuf, ref, da, (int)(da * 37 + len), len,
				  SMALL_TOTAL);
}

/*
 * Three lines written by consecutive calls cut at a and b, so that the tail
 * fragment of one call and the head fragment of the next share a line, in
 * every combination of word-aligned and unaligned cuts.
 */
static void check_pieces(unsigned char *dbuf, unsigned char *ref,
			 const unsigned char *sbuf)
{
	unsigned char *d = dbuf + PAD;

	for (size_t a = 0; a <= 192; a++) {
		for (size_t b = a; b <= 192; b += (b % 8) ? 1 : 3) {
			memcpy(ref, dbuf, SMALL_TOTAL);
			memcpy(ref + PAD, sbuf + 5, 192);
			pcopy(d, sbuf + 5, a);
			pcopy(d + a, sbuf + 5 + a, b - a);
			pcopy(d + b, sbuf + 5 + b, 192 - b);
			if (memcmp(dbuf, ref, SMALL_TOTAL))
				t_fail("%s: pieces a=%zu b=%zu",
				       udax__persist_impl(), a, b);

			memcpy(ref, dbuf, SMALL_TOTAL);
			memset(ref + PAD, 0x11, a);
			memset(ref + PAD + a, 0x22, b - a);
			memset(ref + PAD + b, 0x33, 192 - b);
			udax__memset_persist(d + b, 0x33, 192 - b);
			udax__memset_persist(d, 0x11, a);
			udax__memset_persist(d + a, 0x22, b - a);
			if (memcmp(dbuf, ref, SMALL_TOTAL))
				t_fail("%s: set pieces a=%zu b=%zu",
				       udax__persist_impl(), a, b);
		}
	}
}

/* Source and destination in one buffer, sharing cache lines (not bytes). */
static void check_shared_lines(unsigned char *buf, unsigned char *ref)
{
	static const size_t lens[] = { 1, 3, 8, 13, 60, 64, 65, 100, 128, 200 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];

		for (size_t gap = 0; gap < 64; gap++) {
			for (int dst_first = 0; dst_first < 2; dst_first++) {
				size_t d = PAD + gap % 7;
				size_t s = d + len + gap;

				if (!dst_first) {
					s = PAD + gap % 5;
					d = s + len + gap;
				}
				fill(buf, SMALL_TOTAL + SMALL);
				memcpy(ref, buf, SMALL_TOTAL + SMALL);
				memcpy(ref + d, buf + s, len);
				pcopy(buf + d, buf + s, len);
				if (memcmp(buf, ref, SMALL_TOTAL + SMALL))
					t_fail("%s: shared lines len=%zu gap=%zu dst_first=%d",
					       udax__persist_impl(), len, gap,
					       dst_first);
			}
		}
	}
}

/*
 * The threshold in force, from the name (see pmem_copy.c): "cached-*" for
 * every length, "<nt>, <cached> below N B", or non-temporal throughout.
 */
static size_t nt_min_of(const char *impl)
{
	const char *p = strstr(impl, " below ");

	if (!strncmp(impl, "cached", 6))
		return SIZE_MAX;
	return p ? strtoull(p + 7, NULL, 10) : 0;
}

enum { FULL, BOUNDARY };

static int run_checks(const char *want, int what)
{
	static const size_t big[] = { 4095, 4096, 4097, 65536 + 13, 1 << 20,
				      (2 << 20) + 4095, 8 << 20 };
	size_t total = (8 << 20) + 2 * PAD + 64;
	unsigned char *sbuf = malloc(total), *dbuf = malloc(total);
	unsigned char *ref = malloc(total);
	const char *impl = udax__persist_impl();
	size_t t = nt_min_of(impl);

	t_assert(sbuf && dbuf && ref);
	if (want && strncmp(impl, want, strlen(want))) {
		printf("SKIP %s: this CPU runs %s instead\n", want, impl);
		return T_SKIP;
	}
	printf("impl %s%s\n", impl, guarded ? ", guarded" : "");
	fill(sbuf, total);
	fill(dbuf, total);

	if (what == BOUNDARY) {
		/* both sides of the switch, every alignment */
		t_assert(t > 0 && t < SIZE_MAX);
		sweep(dbuf, ref, sbuf, t > 2 ? t - 2 : 0,
		      t + 2 <= SMALL ? t + 2 : SMALL);
		if (t > SMALL - 2)
			for (size_t len = t - 2; len <= t + 2; len++)
				for (size_t da = 0; da < 64; da += 5)
					check_copy(dbuf, ref, sbuf, da,
						   63 - da, len, total);
		goto out;
	}
	sweep(dbuf, ref, sbuf, 0, SMALL);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		for (size_t da = 0; da < 64; da += 7)
			check_copy(dbuf, ref, sbuf, da, (da * 5) % 64, big[i],
				   total);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		check_set(dbuf, ref, i * 9, 0, big[i], total);
	/* memset takes an int and uses its low byte */
	check_set(dbuf, ref, 3, 0x1ff, 200, SMALL_TOTAL);
	check_pieces(dbuf, ref, sbuf);
	check_shared_lines(dbuf, ref);
out:
	free(sbuf);
	free(dbuf);
	free(ref);
	return 0;
}

/* Run the checks in a child with @env set; returns its exit status. */
static int run_child(const char *persist, const char *nt_min, int what)
{
	int st;
	pid_t pid;

	fflush(stdout);		/* or the child repeats what is buffered */
	pid = fork();
	t_assert(pid >= 0);
	if (!pid) {
		if (persist)
			setenv("UDAX_PERSIST", persist, 1);
		if (nt_min)
			setenv("UDAX_NT_MIN", nt_min, 1);
		/* "cached-*" then a threshold: non-temporal, with that
		 * write-back for partial lines; any name will do */
		const char *want = !persist || !strcmp(persist, "nt") ||
				   (nt_min && !strncmp(persist, "cached-", 7))
				   ? NULL : persist;
		int rc = run_checks(want, what);

		/* again through the guarded route, armed by the handler */
		if (!rc) {
			t_ok(udax__mcsafe_init());
			guarded = true;
#if defined(__x86_64__)
			/* the table's routine, unless none has the stores
			 * (movdir64b) or there is no table (valgrind) */
			t_assert(udax__mc_pisa || !udax__mc_isa ||
				 !strncmp(udax__persist_impl(), "nt-movdir64b", 12));
#endif
			rc = run_checks(want, what);
		}

		fflush(stdout);
		_exit(rc);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		t_fail("UDAX_PERSIST=%s UDAX_NT_MIN=%s: killed by signal %d",
		       persist ? persist : "(unset)", nt_min ? nt_min : "(unset)",
		       WTERMSIG(st));
	return WEXITSTATUS(st);
}

int main(void)
{
	static const char *const impls[] = {
		"nt-sse2", "nt-avx2", "nt-avx512", "nt-movdir64b",
		"cached-clwb", "cached-clflushopt", "cached-clflush",
	};
	/* around a line, a word, and libpmem's 256; 4096 reaches `big` */
	static const char *const thresholds[] = {
		"1", "4", "8", "63", "64", "65", "128", "256", "4096",
	};
	int ran = 0;

	/* Nothing here calls the persist functions before the children. */
	t_eq(run_child(NULL, NULL, FULL), 0);
	t_eq(run_child("nt", NULL, FULL), 0);
	t_eq(run_child(NULL, "129", FULL), 0);	/* short ones: cached */
	for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
		int rc = run_child(impls[i], NULL, FULL);

		if (rc == 0)
			ran++;
		else if (rc == T_SKIP)
			printf("%s: not on this CPU, skipped\n", impls[i]);
		else
			t_fail("%s failed: %d", impls[i], rc);
	}
	t_assert(ran > 0);
#if defined(__x86_64__)
	/* "cached" is always available, whatever it flushes with */
	t_eq(run_child("cached", NULL, FULL), 0);
	/* the non-temporal family's partial lines written back with
	 * clflushopt and clflush (the routines' other two branches) */
	if (__builtin_cpu_supports("sse2")) {
		unsigned int a, b = 0, c, d;

		if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_CLFLUSHOPT))
			t_eq(run_child("cached-clflushopt", "0", FULL), 0);
		else
			printf("no clflushopt: its write-back branch is not tested\n");
		t_eq(run_child("cached-clflush", "0", FULL), 0);
	}
	for (size_t i = 0; i < sizeof(thresholds) / sizeof(thresholds[0]); i++) {
		t_eq(run_child(NULL, thresholds[i], BOUNDARY), 0);
		t_eq(run_child("nt-sse2", thresholds[i], BOUNDARY), 0);
	}
#endif
	return 0;
}
