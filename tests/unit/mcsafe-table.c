/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table-guarded copies of mc_copy_x86_64.S against real faults: every
 * routine (sse2, avx2, avx512 as the CPU has them; the dispatch with rep
 * movsb on, off and as chosen; rep movsb alone, settled; the persistent
 * copies, each non-temporal routine and both families) with the fault at
 * every position near each size class's boundaries, the other buffer at
 * every alignment, in source and destination, as SIGSEGV (PROT_NONE) and
 * SIGBUS (a file mapping past EOF); many bad pages on both sides at once;
 * copies nested in signal handlers, synchronous and interrupting copies,
 * and jumps out of interrupted copies; io.c's fast paths for a clean
 * device; SIGSEGV left to its default until udax__mcsafe_init_segv().  The contract checked is private.h's: a count c
 * with dst[0, c) copied and the faulting page at src + c or dst + c, *f
 * describing it, and *f untouched by a routine that did not fault.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "harness.h"
#include "private.h"

#if !defined(__x86_64__)
int main(void)
{
	t_skip("no table-guarded copies on this architecture");
}
#else
#include <cpuid.h>

#define PG 4096UL
#define HIDDEN __attribute__((visibility("hidden")))

extern size_t udax__mc_movsb_min HIDDEN, udax__mc_movsb_max HIDDEN;
extern const char udax__mc_text_start[] HIDDEN, udax__mc_text_end[] HIDDEN;
extern const int32_t udax__mc_extable[] HIDDEN, udax__mc_extable_end[] HIDDEN;

static uint64_t seed = 0x7461626c65ULL;
static bool vg;			/* under valgrind: fewer cases */

/* ---- the routines -------------------------------------------------------- */

typedef size_t copy_fn(void *dst, const void *src, size_t len,
		       struct udax_fault *f);

static size_t via_dispatch(void *d, const void *s, size_t n,
			   struct udax_fault *f)
{
	return udax__mc_copy(d, s, n, false, f);
}

/* The persistent copies: as chosen, and each family for every length. */
static size_t via_persist(void *d, const void *s, size_t n,
			  struct udax_fault *f)
{
	return udax__mc_copy(d, s, n, true, f);
}

static size_t via_persist_at(void *d, const void *s, size_t n,
			     struct udax_fault *f, size_t nt_min)
{
	size_t was = udax__mc_pnt_min, got;

	udax__mc_pnt_min = nt_min;
	got = udax__mc_copy(d, s, n, true, f);
	udax__mc_pnt_min = was;
	return got;
}

static size_t via_persist_nt(void *d, const void *s, size_t n,
			     struct udax_fault *f)
{
	return via_persist_at(d, s, n, f, 0);
}

static size_t via_persist_cached(void *d, const void *s, size_t n,
				 struct udax_fault *f)
{
	return via_persist_at(d, s, n, f, SIZE_MAX);
}

/* rep movsb alone, settled as the routines' fixups settle. */
static size_t via_movsb(void *d, const void *s, size_t n, struct udax_fault *f)
{
	struct udax_mc_raw raw;
	size_t rem = udax__mc_movsb_raw(d, s, n, &raw, 0);

	if (!rem)
		return n;
	t_assert(rem <= n);
	return udax__mc_settle(d, s, n, rem, &raw, f);
}

enum { MOVSB_CPU, MOVSB_ALL, MOVSB_NEVER };

struct routine {
	const char *name;
	copy_fn *fn;
	int movsb;		/* thresholds while it runs */
	bool zeroes_f;		/* udax__mc_copy() clears *f when all is well */
};

static struct routine routines[16];
static int nroutines;
static size_t cpu_min, cpu_max;

static void add(const char *name, copy_fn *fn, int movsb, bool zeroes)
{
	routines[nroutines++] = (struct routine){ name, fn, movsb, zeroes };
}

static void set_movsb(int m)
{
	udax__mc_movsb_min = m == MOVSB_ALL ? 0 : m == MOVSB_NEVER ? SIZE_MAX
								  : cpu_min;
	udax__mc_movsb_max = m == MOVSB_ALL ? SIZE_MAX : m == MOVSB_NEVER ? 0
								   : cpu_max;
}

static void pick_routines(void)
{
	bool avx2 = __builtin_cpu_supports("avx2");
	bool avx512 = __builtin_cpu_supports("avx512f") &&
		      __builtin_cpu_supports("avx512vl");
	unsigned int a, b, c = 0, d;
	bool movdir64b = __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
			 (c & (1u << 28));

	t_ok(udax__mcsafe_init());
	cpu_min = udax__mc_movsb_min;
	cpu_max = udax__mc_movsb_max;
	add("dispatch", via_dispatch, MOVSB_CPU, true);
	add("persistent", via_persist, MOVSB_CPU, true);
	if (vg) {
		/* mcsafe.c says why; what remains is the sigsetjmp guard. */
		t_eq(udax__mc_isa, 0);
		printf("valgrind: the table is not used under valgrind (its registers are not exact at a fault): the routines are not tested, udax__mc_copy() is, on its sigsetjmp guard\n");
		return;
	}
	/* The dispatch takes the widest routine this CPU has. */
	t_eq(udax__mc_isa, avx512 ? UDAX_MC_AVX512 : avx2 ? UDAX_MC_AVX2
						  : UDAX_MC_SSE2);
	add("dispatch, rep movsb above 8 vectors", via_dispatch, MOVSB_ALL, true);
	add("dispatch, no rep movsb", via_dispatch, MOVSB_NEVER, true);
	add("sse2", udax__mc_copy_sse2, MOVSB_NEVER, false);
	if (avx2)
		add("avx2", udax__mc_copy_avx2, MOVSB_NEVER, false);
	if (avx512)
		add("avx512", udax__mc_copy_avx512, MOVSB_NEVER, false);
	add("rep movsb, settled", via_movsb, MOVSB_CPU, false);
	t_assert(udax__mc_pisa);
	add("persistent, non-temporal", via_persist_nt, MOVSB_CPU, true);
	add("persistent, cached", via_persist_cached, MOVSB_CPU, true);
	add("persistent sse2", udax__mc_pcopy_sse2, MOVSB_CPU, false);
	if (avx2)
		add("persistent avx2", udax__mc_pcopy_avx2, MOVSB_CPU, false);
	if (avx512)
		add("persistent avx512", udax__mc_pcopy_avx512, MOVSB_CPU,
		    false);
	if (movdir64b)
		add("persistent movdir64b", udax__mc_pcopy_movdir64b,
		    MOVSB_CPU, false);
	else
		printf("no movdir64b on this CPU: its persistent routine is not tested\n");
}

/* ---- memory -------------------------------------------------------------- */

static char *map_anon(size_t pages)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	t_assert(p != MAP_FAILED);
	return p;
}

static void fill(char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = t_rand(&seed);

		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* Pages [0, bad) are good; page bad faults with (signo, code). */
struct region {
	const char *what;
	char *base;
	size_t bad;
	int signo, code;
};

#define GOOD_PAGES 20	/* room for the largest copy before the bad page */

static void region_segv(struct region *g)
{
	g->what = "PROT_NONE";
	g->base = map_anon(GOOD_PAGES + 2);
	g->bad = GOOD_PAGES;
	g->signo = SIGSEGV;
	g->code = SEGV_ACCERR;
	fill(g->base, GOOD_PAGES * PG);
	t_ok(mprotect(g->base + g->bad * PG, PG, PROT_NONE));
}

static void region_bus(struct region *g, const char *dir)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/past-eof", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	t_assert(fd >= 0);
	t_ok(ftruncate(fd, GOOD_PAGES * PG));
	g->what = "past EOF";
	g->base = mmap(NULL, (GOOD_PAGES + 2) * PG, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	t_assert(g->base != MAP_FAILED);
	close(fd);
	g->bad = GOOD_PAGES;
	g->signo = SIGBUS;
	g->code = BUS_ADRERR;
	fill(g->base, GOOD_PAGES * PG);
}

/* ---- one copy ------------------------------------------------------------ */

static const struct udax_fault sentinel = {
	(const void *)0x5e5e, 0x5e, 0x5e, 0x5e, true
};

/*
 * Copy @len bytes with @r from @src to @dst, one of them ending @k bytes
 * into page g->bad (the other in good memory): want min(len, k).
 */
static void one(const struct routine *r, const struct region *g, bool in_src,
		char *dst, const char *src, size_t len, size_t k)
{
	struct udax_fault f = sentinel;
	size_t want = len < k ? len : k, got;
	const char *edge = g->base + g->bad * PG;

	got = r->fn(dst, src, len, &f);
	if (got != want)
		t_fail("%s, %s %s: len %zu, %zu bytes before the bad page, src %%64 = %zu, dst %%64 = %zu: got %zu",
		       r->name, g->what, in_src ? "source" : "destination",
		       len, k, (size_t)((uintptr_t)src % 64),
		       (size_t)((uintptr_t)dst % 64), got);
	if (memcmp(dst, src, got))
		t_fail("%s, %s: len %zu, k %zu: the copied prefix differs",
		       r->name, g->what, len, k);
	if (want == len) {
		if (r->zeroes_f)
			t_eq(f.signo, 0);
		else if (memcmp(&f, &sentinel, sizeof(f)))
			t_fail("%s: *f written by a copy that did not fault",
			       r->name);
		return;
	}
	t_eq(f.signo, g->signo);
	t_eq(f.code, g->code);
	t_eq(f.lsb, 0);
	t_eq(f.in_src, in_src);
	t_ueq((uintptr_t)f.addr & ~(PG - 1), (uintptr_t)edge);
}

/* ---- (a) the sweep: every fault position near every size class ---------- */

static const size_t big_lens[] = {
	161, 191, 192, 193, 255, 256, 257, 300, 383, 384, 511, 512, 513,
	1000, 1024, 2111, 2112, 2113, 4095, 4096, 4097, 8191, 8192, 8193,
	16383, 16384, 16385, 20000, 65536, 70001,
};

static void sweep_len(const struct routine *r, const struct region *g,
		      bool in_src, char *other, size_t len)
{
	char *edge = g->base + g->bad * PG;
	size_t kmax = len + 1, band = vg ? 40 : 136;

	for (size_t k = 0; k <= kmax; k++) {
		/* All of k near either end (past 2 x 4 vectors of 16 bytes
		 * and the loop's first iterations); beyond, a stride. */
		size_t o;

		if (k > band && k + band < len) {
			if ((k - band) % 331)
				continue;
		}
		/* The other buffer's alignment walks all 64 values. */
		o = (k * 7 + len) % 64;
		if (in_src)
			one(r, g, true, other + o, edge - k, len, k);
		else
			one(r, g, false, edge - k, other + o, len, k);
	}
}

/*
 * Every length up to 130 (all the short paths of every routine: head and
 * tail words and vectors up to 2 x 64 bytes) with every k, then the longer
 * paths' boundaries.  @part: a lighter pass (the second signal).
 */
static void sweep(const struct region *g, char *other, bool part)
{
	size_t small = vg ? 70 : part ? 70 : 130;

	for (int i = 0; i < nroutines; i++) {
		const struct routine *r = &routines[i];

		set_movsb(r->movsb);
		for (int side = 0; side < 2; side++) {
			for (size_t len = 1; len <= small; len++)
				sweep_len(r, g, side == 0, other, len);
			for (size_t j = 0; j < sizeof(big_lens) / sizeof(big_lens[0]);
			     j++) {
				if ((vg || part) && j % 4)
					continue;
				sweep_len(r, g, side == 0, other, big_lens[j]);
			}
		}
	}
	set_movsb(MOVSB_CPU);
}

/* ---- (b) many bad pages, both sides ------------------------------------- */

#define MPAGES 512
static const size_t src_bad[] = { 3, 4, 100, 101, 300, 511 };
static const size_t dst_bad[] = { 7, 150, 151, 152, 400 };

static size_t first_bad(size_t off, size_t len, const size_t *bad, size_t n,
			size_t *page)
{
	size_t best = len;

	for (size_t i = 0; i < n; i++) {
		size_t ps = bad[i] * PG, c;

		if (ps + PG <= off || ps >= off + len)
			continue;
		c = ps > off ? ps - off : 0;
		if (c < best) {
			best = c;
			*page = bad[i];
		}
	}
	return best;
}

static void test_many_bad(int iters)
{
	char *src = map_anon(MPAGES), *dst = map_anon(MPAGES);
	char *ref = malloc(MPAGES * PG);

	t_assert(ref);
	fill(src, MPAGES * PG);
	memcpy(ref, src, MPAGES * PG);
	for (size_t i = 0; i < sizeof(src_bad) / sizeof(src_bad[0]); i++)
		t_ok(mprotect(src + src_bad[i] * PG, PG, PROT_NONE));
	for (size_t i = 0; i < sizeof(dst_bad) / sizeof(dst_bad[0]); i++)
		t_ok(mprotect(dst + dst_bad[i] * PG, PG, PROT_NONE));

	for (int it = 0; it < iters; it++) {
		const struct routine *r = &routines[it % nroutines];
		unsigned int bits = (unsigned int)(t_rand(&seed) % 22);
		size_t len = 1 + (t_rand(&seed) & ((1UL << bits) - 1));
		size_t so = t_rand(&seed) % (MPAGES * PG);
		size_t dof = t_rand(&seed) % (MPAGES * PG);
		size_t sp = 0, dp = 0, sc, dc, want, got;
		struct udax_fault f = sentinel;

		if (len > MPAGES * PG - so)
			len = MPAGES * PG - so;
		if (len > MPAGES * PG - dof)
			len = MPAGES * PG - dof;
		sc = first_bad(so, len, src_bad, sizeof(src_bad) / sizeof(src_bad[0]), &sp);
		dc = first_bad(dof, len, dst_bad, sizeof(dst_bad) / sizeof(dst_bad[0]), &dp);
		want = sc < dc ? sc : dc;
		set_movsb(r->movsb);
		got = r->fn(dst + dof, src + so, len, &f);
		if (got != want)
			t_fail("%s: src +%zu dst +%zu len %zu: got %zu want %zu",
			       r->name, so, dof, len, got, want);
		if (memcmp(dst + dof, ref + so, got))
			t_fail("%s: src +%zu dst +%zu len %zu: prefix differs",
			       r->name, so, dof, len);
		if (want == len)
			continue;
		t_eq(f.signo, SIGSEGV);
		/* Both sides may stop at the same offset: either is right. */
		if (f.in_src) {
			t_assert(sc == want);
			t_ueq((uintptr_t)f.addr & ~(PG - 1), (uintptr_t)(src + sp * PG));
		} else {
			t_assert(dc == want);
			t_ueq((uintptr_t)f.addr & ~(PG - 1), (uintptr_t)(dst + dp * PG));
		}
	}
	set_movsb(MOVSB_CPU);
	munmap(src, MPAGES * PG);
	munmap(dst, MPAGES * PG);
	free(ref);
}

/* ---- (c) nesting ---------------------------------------------------------- */

/* Buffers of the handlers' own copies: page 1 of nest_src is bad. */
static char *nest_src, *nest_dst;
/*
 * Under ASan, siglongjmp (the sigsetjmp guard's way out of the handler)
 * first calls __asan_handle_no_return, which takes a lock in
 * pthread_getattr_np: a signal that interrupts it and jumps again waits
 * on it for ever.  So asynchronous nesting leaves the persistent copies
 * out there; the table copies never jump.
 */
#ifdef UDAX__ASAN
static const bool nest_persist = false;
#else
static const bool nest_persist = true;
#endif
static volatile sig_atomic_t nest_bad, nest_runs, nest_inside, nest_jumps;
static sigjmp_buf nest_env;
static volatile sig_atomic_t nest_armed;

/* A faulting copy of each kind, checked; from a signal handler. */
static void nested_copies(void)
{
	struct udax_fault f;
	size_t off = PG - 100 - (size_t)(nest_runs % 64);

	if (udax__mc_copy(nest_dst, nest_src + off, 3000, false, &f) != PG - off ||
	    !f.in_src || f.signo != SIGSEGV ||
	    memcmp(nest_dst, nest_src + off, PG - off))
		nest_bad = 1;
	if (nest_persist &&
	    (udax__mc_copy(nest_dst, nest_src + off, 3000, true, &f) != PG - off ||
	     f.signo != SIGSEGV))
		nest_bad = 1;
	if (udax__mc_copy(nest_dst, nest_src, 200, false, &f) != 200 ||
	    f.signo != 0)
		nest_bad = 1;
	nest_runs++;
}

static void on_usr1(int sig)
{
	(void)sig;
	nested_copies();
}

static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

	(void)sig;
	(void)si;
	if (ip >= (uintptr_t)udax__mc_text_start &&
	    ip < (uintptr_t)udax__mc_text_end)
		nest_inside++;
	nested_copies();
	/* Now and then, leave the interrupted copy for good. */
	if (nest_armed && nest_runs % 5 == 0) {
		nest_jumps++;
		siglongjmp(nest_env, 1);
	}
}

static void test_nesting(void)
{
	size_t pages = 300, bad = 256;
	volatile size_t rounds;
	char *src = map_anon(pages), *dst = map_anon(pages);
	struct sigaction sa;
	struct itimerval tv = { { 0, 0 }, { 0, 0 } };
	struct udax_fault f;

	nest_src = map_anon(2);
	nest_dst = map_anon(1);
	fill(nest_src, PG);
	fill(src, bad * PG);
	t_ok(mprotect(nest_src + PG, PG, PROT_NONE));
	t_ok(mprotect(src + bad * PG, PG, PROT_NONE));

	/* Synchronous: copies in a handler of a signal raised by hand. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	t_ok(sigaction(SIGUSR1, &sa, NULL));
	for (int i = 0; i < 20; i++)
		t_ok(raise(SIGUSR1));
	t_eq(nest_runs, 20);
	t_eq(nest_bad, 0);
	if (vg) {
		/* Valgrind 3.19 cannot extend the stack for a fault in a
		 * handler that interrupted a fault's handler, and dies. */
		printf("valgrind: copies interrupted by signals not tested\n");
		goto out;
	}

	/*
	 * Asynchronous: a timer interrupts long faulting copies (and the
	 * handlers' own fault handling), its handler copies and faults too,
	 * and sometimes jumps out of the copy it interrupted.  One shot per
	 * round, at a delay that walks over the copy, so that a slow handler
	 * (a sanitizer's) cannot be interrupted by the next one without end.
	 * Rounds are bounded; the count of interruptions that hit a copy is
	 * reported.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_alarm;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	t_ok(sigaction(SIGALRM, &sa, NULL));
	for (rounds = 0; rounds < 20000u; rounds++) {
		size_t r = rounds, off = (r * 67) % (4 * PG);
		size_t len = (bad - 4) * PG - off + 3 * PG;
		bool persist = nest_persist && r % 3 == 2;
		size_t got;

		if (nest_inside >= 200 && nest_jumps >= 20)
			break;
		if (sigsetjmp(nest_env, 1))
			continue;	/* jumped out of the copy: next */
		tv.it_value.tv_usec = 1 + (long)(r * 7 % 97);
		t_ok(setitimer(ITIMER_REAL, &tv, NULL));
		nest_armed = 1;
		got = udax__mc_copy(dst, src + 4 * PG + off, len, persist, &f);
		nest_armed = 0;
		if (got != len - 3 * PG)
			t_fail("round %zu: got %zu want %zu", r, got,
			       len - 3 * PG);
		t_assert(!memcmp(dst, src + 4 * PG + off, got));
		t_eq(f.signo, SIGSEGV);
		t_assert(f.in_src);
	}
	nest_armed = 0;
	tv.it_value.tv_usec = 0;
	t_ok(setitimer(ITIMER_REAL, &tv, NULL));
	signal(SIGALRM, SIG_IGN);
	t_eq(nest_bad, 0);
	printf("nesting: %zu rounds, %d handler runs, %d inside a table copy, %d jumps out\n",
	       (size_t)rounds, (int)nest_runs, (int)nest_inside, (int)nest_jumps);
	/* After all of it, copies still work and the mask is as it was. */
	t_ueq(udax__mc_copy(dst, src + (bad - 1) * PG, 2 * PG, false, &f), PG);
	{
		sigset_t m;

		t_ok(sigprocmask(SIG_BLOCK, NULL, &m));
		t_assert(!sigismember(&m, SIGSEGV) && !sigismember(&m, SIGBUS) &&
			 !sigismember(&m, SIGALRM));
	}
out:
	munmap(src, pages * PG);
	munmap(dst, pages * PG);
	munmap(nest_src, 2 * PG);
	munmap(nest_dst, PG);
}

/* ---- (d) the table itself ------------------------------------------------- */

static void test_table(void)
{
	const int32_t *e = udax__mc_extable;
	size_t n = (size_t)(udax__mc_extable_end - udax__mc_extable) / 3;
	int32_t text = (int32_t)(udax__mc_text_end - udax__mc_text_start);

	t_assert(n > 50);
	t_ueq((size_t)(udax__mc_extable_end - udax__mc_extable), 3 * n);
	for (size_t i = 0; i < n; i++) {
		t_assert(e[3 * i] >= 0 && e[3 * i] < text);
		t_assert(e[3 * i + 1] >= 0 && e[3 * i + 1] < text);
		t_assert(e[3 * i + 2] >= 0 && e[3 * i + 2] <= 2);  /* MC_REGS_* */
		if (i)
			t_assert(e[3 * i] > e[3 * i - 3]);	/* in order */
	}
}

/* ---- (e) io.c's fast paths: a clean device, the table copy -------------- */

static void test_io_clean(const char *dir)
{
	char path[256], *buf = map_anon(4), *pat = map_anon(16);
	struct udax_dev *dev;
	struct udax_iter it;
	struct iovec iov[3];
	void *k = NULL;

	snprintf(path, sizeof(path), "%s/dev.img", dir);
	t_ok(udax_create(path, 16 * PG));
	t_ok(udax_open(path, 0, &dev));
	fill(pat, 16 * PG);
	t_eq(udax_pwrite(dev, pat, 16 * PG, 0), 16 * PG);
	t_eq(udax_direct_access(dev, 0, 16, &k, NULL), 16);
	t_ok(mprotect(buf + 2 * PG, PG, PROT_NONE));

	/* Part of a segment, then the rest of it: offset, count, and the
	 * step to the next segment past an empty one. */
	iov[0] = (struct iovec){ buf, 1000 };
	iov[1] = (struct iovec){ buf + 1000, 0 };
	iov[2] = (struct iovec){ buf + 1500, 600 };
	udax_iter_init(&it, iov, 3, 1600);
	t_eq(udax_copy_to_iter(dev, 0, (char *)k + 5, 300, &it), 300);
	t_assert(it.iov == &iov[0] && it.nr_segs == 3);
	t_ueq(it.iov_offset, 300);
	t_ueq(it.count, 1300);
	t_eq(udax_copy_to_iter(dev, 0, (char *)k + 305, 700, &it), 700);
	t_assert(it.iov == &iov[2] && it.nr_segs == 1);
	t_ueq(it.iov_offset, 0);
	t_ueq(it.count, 600);
	t_assert(!memcmp(buf, pat + 5, 1000));
	/* More than the segment holds: the loop, the same result. */
	iov[0] = (struct iovec){ buf, 100 };
	iov[1] = (struct iovec){ buf + 100, 200 };
	udax_iter_init(&it, iov, 2, 300);
	t_eq(udax_copy_to_iter(dev, 1, (char *)k + PG + 7, 300, &it), 300);
	t_assert(it.nr_segs == 0 && it.count == 0);
	t_assert(!memcmp(buf, pat + PG + 7, 300));

	/* A destination that faults: the caller's, so nothing is known bad. */
	iov[0] = (struct iovec){ buf + 100, 3 * PG - 100 };
	udax_iter_init(&it, iov, 1, iov[0].iov_len);
	t_eq(udax_copy_to_iter(dev, 0, k, iov[0].iov_len, &it), 2 * PG - 100);
	t_ueq(it.iov_offset, 2 * PG - 100);
	t_ueq(it.count, PG);
	t_assert(!memcmp(buf + 100, pat, 2 * PG - 100));
	t_eq(udax_pread(dev, buf + PG - 10, 3 * PG, 0), PG + 10);
	t_assert(!memcmp(buf + PG - 10, pat, PG + 10));
	t_eq(udax_pread(dev, buf + 2 * PG, 100, 0), -EFAULT);
	t_eq(udax_read(dev, buf + PG, 2 * PG, 0, UDAX_OP_FAILFAST), -EFAULT);
	t_eq(udax_read(dev, buf + PG, 2 * PG, 0, UDAX_OP_RECOVERY), PG);
	t_eq(udax_read(dev, buf, 2 * PG, 3 * PG, UDAX_OP_FAILFAST), 2 * PG);
	t_assert(!memcmp(buf, pat + 3 * PG, 2 * PG));
	t_eq(udax_badblocks(dev, NULL, 0), 0);

	/* Poison anywhere on the device takes the lookups again. */
	t_ok(udax_inject(dev, 9 * PG, 512, 0));
	t_eq(udax_pread(dev, buf, 2 * PG, 8 * PG), PG);
	t_eq(udax_read(dev, buf, 2 * PG, 8 * PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_read(dev, buf, 2 * PG, 0, UDAX_OP_FAILFAST), 2 * PG);
	t_assert(!memcmp(buf, pat, 2 * PG));
	udax_close(dev);
	munmap(buf, 4 * PG);
	munmap(pat, 16 * PG);
}

/* ---- (f) SIGSEGV only once asked for, in re-executed children ------------ */

static int child(const char *what)
{
	char *p = map_anon(2);
	struct udax_fault f;
	static char buf[256];

	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	t_ok(mprotect(p + PG, PG, PROT_NONE));
	if (!strcmp(what, "segv-not-taken")) {
		t_ok(udax__mcsafe_init());
		udax__mc_copy_sse2(buf, p + PG - 8, 200, &f);
		return 0;	/* survived: wrong */
	}
	t_ok(udax__mcsafe_init_segv(NULL));
	t_ueq(udax__mc_copy_sse2(buf, p + PG - 8, 200, &f), 8);
	t_eq(f.signo, SIGSEGV);
	return 42;
}

static char *self_exe;

static int run_child(const char *what)
{
	int st;
	pid_t pid = fork();

	t_assert(pid >= 0);
	if (!pid) {
		execl(self_exe, self_exe, "--child", what, (char *)NULL);
		_exit(98);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	return st;
}

int main(int argc, char **argv)
{
	struct region segv, bus;
	char *other, *dir;
	int st;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child(argv[2]);
	self_exe = realpath("/proc/self/exe", NULL);
	t_assert(self_exe);
	vg = t_under_valgrind();
	if (vg)
		printf("valgrind: fewer sizes and positions\n");

	t_ok(udax__mcsafe_init_segv(NULL));
	pick_routines();
	if (!vg)
		test_table();

	other = map_anon(GOOD_PAGES + 1);
	fill(other, (GOOD_PAGES + 1) * PG);
	region_segv(&segv);
	sweep(&segv, other, false);
	dir = t_tmpdir();
	region_bus(&bus, dir);
	sweep(&bus, other, true);
	munmap(bus.base, (GOOD_PAGES + 2) * PG);
	test_io_clean(dir);
	t_tmpdir_rm(dir);

	test_many_bad(vg ? 300 : 20000);
	test_nesting();

	if (vg)
		return 0;	/* the children call a routine directly */
	st = run_child("segv-not-taken");
	t_assert(WIFSIGNALED(st));
	t_eq(WTERMSIG(st), SIGSEGV);
	st = run_child("segv-taken");
	t_assert(WIFEXITED(st));
	t_eq(WEXITSTATUS(st), 42);
	free(self_exe);
	return 0;
}
#endif
