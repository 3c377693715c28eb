/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guarded copies against real faults, no hardware needed: a shared file
 * mapping past EOF (SIGBUS), PROT_NONE pages (SIGSEGV) on either side; the
 * chain to handlers found at init; emulated poison turned into
 * SIGBUS/BUS_MCEERR_AR (emul-fault.c); default actions checked in
 * re-executed children, and SIGSEGV left alone until something asks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "harness.h"
#include "private.h"
#include "backends/emul.h"

#define PG 4096UL

static uint64_t seed = 0x6d63736166ULL;

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

static void prot_none(char *base, const size_t *bad, size_t nbad)
{
	for (size_t i = 0; i < nbad; i++)
		t_ok(mprotect(base + bad[i] * PG, PG, PROT_NONE));
}

/* Bytes of [off, off + len) before the first bad page (a page index). */
static size_t good_prefix(size_t off, size_t len, const size_t *bad,
			  size_t nbad)
{
	size_t best = len;

	for (size_t i = 0; i < nbad; i++) {
		size_t ps = bad[i] * PG, pe = ps + PG;

		if (pe <= off || ps >= off + len)
			continue;
		if ((ps > off ? ps - off : 0) < best)
			best = ps > off ? ps - off : 0;
	}
	return best;
}

/* ---- the program's own handlers, installed before udax's ---------------- */

static sigjmp_buf prog_env;
static volatile sig_atomic_t prog_armed;
static volatile sig_atomic_t prog_signo, prog_code, prog_lsb;
static void *volatile prog_addr;
/* Loads go somewhere: valgrind drops loads whose value is unused. */
static volatile char sink;

static void prog_handler(int sig, siginfo_t *si, void *uc)
{
	if (!prog_armed) {
		static const char msg[] = "unexpected signal in the test\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(99);
	}
	prog_armed = 0;
	prog_signo = sig;
	prog_code = si->si_code;
	prog_addr = si->si_addr;
	prog_lsb = sig == SIGBUS ? si->si_addr_lsb : 0;
	siglongjmp(prog_env, 1);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *),
		    struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	t_ok(sigaction(sig, &sa, old));
}

/* Touch @p outside any guarded copy; true if prog_handler caught it. */
static bool touch(volatile char *p, bool store)
{
	prog_signo = 0;
	if (sigsetjmp(prog_env, 1))
		return true;
	prog_armed = 1;
	if (store)
		*p = 1;
	else
		sink = *p;
	prog_armed = 0;
	return false;
}

static void check_mask_sane(void)
{
	sigset_t m;

	t_ok(sigprocmask(SIG_BLOCK, NULL, &m));
	t_assert(!sigismember(&m, SIGSEGV));
	t_assert(!sigismember(&m, SIGBUS));
}

/* ---- (a) SIGBUS: a shared file mapping past EOF ------------------------- */

static void test_eof(const char *dir)
{
	char path[256];
	size_t fsize = 2 * PG + 100, mpages = 8;
	char *map, *ref = malloc(mpages * PG), *dst = malloc(mpages * PG);
	struct udax_fault f;
	int fd;

	snprintf(path, sizeof(path), "%s/eof", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	t_assert(fd >= 0);
	memset(ref, 0, mpages * PG);
	fill(ref, fsize);
	t_eq(write(fd, ref, fsize), (ssize_t)fsize);
	map = mmap(NULL, mpages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t_assert(map != MAP_FAILED);

	/* Page 2 holds EOF and reads as zeros after it; page 3 is SIGBUS. */
	static const size_t offs[] = { 0, 1, 100, PG - 1, PG, 2 * PG, 2 * PG + 99,
				       2 * PG + 100, 3 * PG - 1, 3 * PG, 3 * PG + 5 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t len = 1; offs[i] + len <= mpages * PG; len = len * 3 + 1) {
			size_t want = offs[i] >= 3 * PG ? 0 :
				      offs[i] + len <= 3 * PG ? len : 3 * PG - offs[i];
			bool persist = len & 1;
			size_t got;

			memset(dst, 0xee, mpages * PG);
			got = udax__mc_copy(dst, map + offs[i], len, persist, &f);
			t_ueq(got, want);
			t_assert(!memcmp(dst, ref + offs[i], got));
			if (want < len) {
				t_eq(f.signo, SIGBUS);
				t_eq(f.code, BUS_ADRERR);
				t_assert(f.in_src);
				t_ueq((uintptr_t)f.addr & ~(PG - 1),
				      (uintptr_t)map + 3 * PG);
			} else {
				t_eq(f.signo, 0);
			}
		}
	}

	/* The file mapping as destination. */
	memset(dst, 0x5a, mpages * PG);
	t_ueq(udax__mc_copy(map + PG + 7, dst, 4 * PG, true, &f), 2 * PG - 7);
	t_assert(!f.in_src);
	t_eq(f.signo, SIGBUS);
	t_assert(!memcmp(map + PG + 7, dst, 2 * PG - 7));

	munmap(map, mpages * PG);
	close(fd);
	free(ref);
	free(dst);
}

/* ---- (b)-(e) SIGSEGV: PROT_NONE pages ----------------------------------- */

#define RPAGES 2048		/* 8 MiB */
static const size_t bad[] = { 5, 6, 300, 1024, 1500, 2047 };
#define NBAD (sizeof(bad) / sizeof(bad[0]))

static size_t rand_len(void)
{
	/* log-uniform 1 B .. 4 MiB */
	unsigned int bits = t_rand(&seed) % 23;

	return 1 + (t_rand(&seed) & ((1UL << bits) - 1));
}

static void one_src(char *src, char *dst, char *ref, size_t off, size_t len,
		    bool persist)
{
	struct udax_fault f;
	size_t want, got;

	if (off + len > RPAGES * PG)
		len = RPAGES * PG - off;
	want = good_prefix(off, len, bad, NBAD);
	got = udax__mc_copy(dst, src + off, len, persist, &f);
	if (got != want)
		t_fail("src off=%zu len=%zu persist=%d: got %zu want %zu",
		       off, len, persist, got, want);
	if (memcmp(dst, ref + off, got))
		t_fail("src off=%zu len=%zu: prefix differs", off, len);
	if (want < len) {
		t_eq(f.signo, SIGSEGV);
		t_eq(f.code, SEGV_ACCERR);
		t_assert(f.in_src);
		t_ueq((uintptr_t)f.addr & ~(PG - 1),
		      ((uintptr_t)src + off + want) & ~(PG - 1));
	} else {
		t_eq(f.signo, 0);
	}
}

static void one_dst(char *dst, const char *src, size_t off, size_t len,
		    int mode)
{
	struct udax_fault f;
	size_t want, got;

	if (off + len > RPAGES * PG)
		len = RPAGES * PG - off;
	want = good_prefix(off, len, bad, NBAD);
	got = mode == 2 ? udax__mc_zero(dst + off, len, &f) :
	      udax__mc_copy(dst + off, src, len, mode, &f);
	if (got != want)
		t_fail("dst off=%zu len=%zu mode=%d: got %zu want %zu",
		       off, len, mode, got, want);
	for (size_t i = 0; i < got; i++)
		if (dst[off + i] != (mode == 2 ? 0 : src[i]))
			t_fail("dst off=%zu len=%zu mode=%d: byte %zu",
			       off, len, mode, i);
	if (want < len) {
		t_eq(f.signo, SIGSEGV);
		t_assert(!f.in_src);
		t_ueq((uintptr_t)f.addr & ~(PG - 1),
		      ((uintptr_t)dst + off + want) & ~(PG - 1));
	} else {
		t_eq(f.signo, 0);
	}
}

static void test_prot_none(int iters)
{
	char *src = map_anon(RPAGES), *ref = malloc(RPAGES * PG);
	char *dst = map_anon(RPAGES), *good = map_anon(RPAGES);

	fill(src, RPAGES * PG);
	memcpy(ref, src, RPAGES * PG);
	fill(good, RPAGES * PG);
	prot_none(src, bad, NBAD);
	prot_none(dst, bad, NBAD);

	/* Exhaustive near the edges of a bad run and a single bad page. */
	for (int persist = 0; persist < 2; persist++)
		for (size_t e = 0; e < 3; e++) {
			size_t edge = (e == 0 ? 5 : e == 1 ? 7 : 300) * PG;

			for (size_t off = edge - 80; off < edge + 80; off += 3)
				for (size_t len = 1; len < 300; len += 7) {
					one_src(src, good, ref, off, len, persist);
					one_dst(dst, good, off, len, persist);
				}
		}
	/* Starting inside the bad page gives 0. */
	one_src(src, good, ref, 300 * PG, 1, false);
	one_src(src, good, ref, 300 * PG + 4095, 10000, true);
	one_dst(dst, good, 5 * PG + 17, 3, 2);

	for (int i = 0; i < iters; i++) {
		size_t off = t_rand(&seed) % (RPAGES * PG), len = rand_len();
		int mode = (int)(t_rand(&seed) % 3);

		one_src(src, good, ref, off, len, mode & 1);
		one_dst(dst, good, off, len, mode);
	}
	/* Whole-region copies: multi-MiB, many faults each. */
	one_src(src, good, ref, 0, RPAGES * PG, false);
	one_src(src, good, ref, 7 * PG + 1, (300 - 7) * PG + 5, false);
	one_src(src, good, ref, 7 * PG + 1, (300 - 7) * PG + 5, true);
	one_dst(dst, good, 301 * PG + 3, 4 << 20, 0);
	one_dst(dst, good, 301 * PG + 3, 4 << 20, 1);
	one_dst(dst, good, 301 * PG + 3, 4 << 20, 2);

	munmap(src, RPAGES * PG);
	munmap(dst, RPAGES * PG);
	munmap(good, RPAGES * PG);
	free(ref);
}

/* ---- (f) chain: a fault outside a copy reaches the program's handler ---- */

static void test_chain(void)
{
	char *p = map_anon(2);
	struct udax_fault f;
	char buf[64];

	t_ok(mprotect(p + PG, PG, PROT_NONE));
	for (int i = 0; i < 3; i++) {
		t_assert(touch(p + PG + 5, true));
		t_eq(prog_signo, SIGSEGV);
		t_eq(prog_code, SEGV_ACCERR);
		t_assert(prog_addr == p + PG + 5);
		/* and guarded copies still work in between */
		t_ueq(udax__mc_copy(buf, p + PG - 8, 64, false, &f), 8);
		t_assert(!touch(p + 3, true));
	}
	check_mask_sane();
	munmap(p, 2 * PG);
}

/* ---- (g) emulated poison becomes SIGBUS / BUS_MCEERR_AR ----------------- */

static void expect_poison(char *page, volatile char *at, bool store)
{
	t_assert(touch(at, store));
	t_eq(prog_signo, SIGBUS);
	t_eq(prog_code, BUS_MCEERR_AR);
	t_assert(prog_addr == page);
	t_eq(prog_lsb, 12);
}

/* A media table with page @pg bad (one sector in it). */
static struct udax_bb *media_with(uint64_t pg)
{
	struct udax_bb *m;

	t_ok(udax__bb_new(&m));
	t_ok(udax__bb_set(m, pg * 8 + 3, 1));
	return m;
}

static void test_poison(void)
{
	char *p = map_anon(4);
	uint64_t pages[8];
	struct udax_fault f;
	struct sigaction ours;
	static char buf[2 * PG];
	struct udax_bb *media = media_with(2);
	struct emul_map *m, *many[200];
	int wake = 0;

	t_ok(mprotect(p + 2 * PG, PG, PROT_NONE));
	t_ok(udax__emul_map_register(p, 4 * PG, PROT_READ | PROT_WRITE, media,
				     &wake, &m));

	/* SIGBUS reaches the handler found at init, through ours. */
	expect_poison(p + 2 * PG, p + 2 * PG + 123, false);
	t_eq(wake, 1);
	t_eq(udax__emul_map_drain(m, pages, 8), 1);
	t_ueq(pages[0], 2);
	t_eq(udax__emul_map_drain(m, pages, 8), 0);
	expect_poison(p + 2 * PG, p + 3 * PG - 1, true);
	expect_poison(p + 2 * PG, p + 2 * PG, false);	/* noted once */
	t_eq(udax__emul_map_drain(m, pages, 8), 1);
	t_ueq(pages[0], 2);

	/* A program that replaced our SIGBUS handler gets it directly. */
	install(SIGBUS, prog_handler, &ours);
	expect_poison(p + 2 * PG, p + 2 * PG + 4000, false);
	t_ok(sigaction(SIGBUS, &ours, NULL));
	t_eq(udax__emul_map_drain(m, pages, 8), 1);

	/* Inside a guarded copy it is an ordinary fault, not noted. */
	t_ueq(udax__mc_copy(buf, p + PG + 10, 2 * PG, false, &f), PG - 10);
	t_eq(f.signo, SIGSEGV);
	t_eq(udax__emul_map_drain(m, pages, 8), 0);

	/* A clean page protected only because runs were coalesced opens on
	 * the first touch: no signal, the load goes through. */
	p[PG + 7] = 42;
	t_ok(mprotect(p + PG, PG, PROT_NONE));
	t_assert(!touch(p + PG + 7, false));
	t_eq(p[PG + 7], 42);

	/* Ordinary faults elsewhere are untouched; none after unregister. */
	udax__emul_map_unregister(m);
	t_assert(touch(p + 2 * PG + 1, false));
	t_eq(prog_signo, SIGSEGV);

	/* No limit on how many devices: 200 registrations, each found. */
	for (int i = 0; i < 200; i++)
		t_ok(udax__emul_map_register(p, 4 * PG, PROT_READ | PROT_WRITE,
					     media, &wake, &many[i]));
	expect_poison(p + 2 * PG, p + 2 * PG + 1, false);
	for (int i = 0; i < 200; i++)
		udax__emul_map_unregister(many[i]);
	udax__bb_free(media);
	check_mask_sane();
	munmap(p, 4 * PG);
}

/* More pages consumed between two drains than any ring would hold. */
static void test_poison_many(void)
{
	size_t n = 3000, i, got = 0;
	char *p = map_anon(n);
	static uint64_t pages[512];
	struct udax_bb *media;
	struct emul_map *m;
	int wake = 0;

	t_ok(udax__bb_new(&media));
	t_ok(udax__bb_set(media, 0, n * 8));
	t_ok(mprotect(p, n * PG, PROT_NONE));
	t_ok(udax__emul_map_register(p, n * PG, PROT_READ | PROT_WRITE, media,
				     &wake, &m));
	for (i = 0; i < n; i++)
		expect_poison(p + i * PG, p + i * PG + 1, false);
	for (;;) {
		size_t k = udax__emul_map_drain(m, pages, 512);

		if (!k)
			break;
		for (size_t j = 0; j < k; j++)
			t_ueq(pages[j], got + j);
		got += k;
	}
	t_ueq(got, n);
	udax__emul_map_unregister(m);
	udax__bb_free(media);
	munmap(p, n * PG);
}

/* ---- (j) memory-failure reports during a copy, in re-executed children -- */

/*
 * A SIGBUS that arrives while a guarded copy runs is the copy's only if an
 * instruction raised it (not the SI_KERNEL SIGBUS of Linux's kill) and,
 * for a memory-failure report (AR, AO), if it names the copy's memory, a
 * huge page's report anywhere the page overlaps it.  Otherwise it is the
 * program's, and the copy goes on.  A SIGSEGV handler of the test's own
 * (udax takes no SIGSEGV in these children) makes the report arrive at the
 * copy's own instruction: a load or store of the trap page (PROT_NONE)
 * opens the page and queues the case's SIGBUS to the thread, blocked until
 * the handler returns, so delivered at the interrupted instruction: on
 * x86-64 a listed instruction of a table routine (the program's handler
 * checks that it was), or a copy under the sigsetjmp guard.
 */
#define HUGE_PG (2UL << 20)

static char *trap;
static siginfo_t trap_si;
static volatile sig_atomic_t trap_hits;
static volatile sig_atomic_t bus_hits, bus_code, bus_listed, bus_in_text;
static char *th_src, *th_dst;
static void *volatile bus_addr;

#if defined(__x86_64__)
#define HIDDEN __attribute__((visibility("hidden")))
extern size_t udax__mc_movsb_min HIDDEN, udax__mc_movsb_max HIDDEN;
extern const char udax__mc_text_start[] HIDDEN;
extern const int32_t udax__mc_extable[] HIDDEN, udax__mc_extable_end[] HIDDEN;
extern const char udax__mc_text_end[] HIDDEN;

/* A listed instruction of mc_copy_x86_64.S (entries: site, fixup, regs). */
static bool listed(uintptr_t ip)
{
	for (const int32_t *e = udax__mc_extable; e < udax__mc_extable_end;
	     e += 3)
		if ((uintptr_t)udax__mc_text_start + (uintptr_t)e[0] == ip)
			return true;
	return false;
}
#endif

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;

	(void)sig;
	(void)uc;
	if (!trap || a < trap || a >= trap + PG) {
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	trap_hits++;
	mprotect(trap, PG, PROT_READ | PROT_WRITE);
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
		SIGBUS, &trap_si);
}

/* The program's SIGBUS handler: udax chains to it what is not a copy's. */
static void on_bus(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	bus_addr = si->si_addr;
#if defined(__x86_64__)
	if (listed((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]))
		bus_listed++;
	/* between listed instructions of the routines */
	if ((uintptr_t)uc->uc_mcontext.gregs[REG_RIP] -
	    (uintptr_t)udax__mc_text_start <
	    (uintptr_t)(udax__mc_text_end - udax__mc_text_start) &&
	    !listed((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]))
		bus_in_text++;
#endif
	bus_hits++;
}

static void trap_handlers(bool prog_bus)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	if (prog_bus) {
		sa.sa_sigaction = on_bus;
		sa.sa_flags = SA_SIGINFO;
		t_ok(sigaction(SIGBUS, &sa, NULL));
	}
	t_ok(udax__mcsafe_init());
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaddset(&sa.sa_mask, SIGBUS);
	t_ok(sigaction(SIGSEGV, &sa, NULL));
}

/* A 2 MiB boundary with 2 MiB of room below it and above. */
static char *huge_area(void)
{
	char *p = mmap(NULL, 3 * HUGE_PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	t_assert(p != MAP_FAILED);
	return (char *)(((uintptr_t)p + HUGE_PG - 1) & ~(HUGE_PG - 1)) +
	       HUGE_PG;
}

static void queue_at(char *page, int code, void *addr, int lsb)
{
	memset(&trap_si, 0, sizeof(trap_si));
	trap_si.si_signo = SIGBUS;
	trap_si.si_code = code;
	trap_si.si_addr = addr;
	trap_si.si_addr_lsb = (short)lsb;
	trap = page;
	trap_hits = 0;
	bus_hits = 0;
	bus_listed = 0;
	t_ok(mprotect(trap, PG, PROT_NONE));
}

typedef size_t copy_fn(void *dst, const void *src, size_t len,
		       struct udax_fault *f);

static size_t cp_plain(void *d, const void *s, size_t n, struct udax_fault *f)
{
	return udax__mc_copy(d, s, n, false, f);
}

static size_t cp_persist(void *d, const void *s, size_t n,
			 struct udax_fault *f)
{
	return udax__mc_copy(d, s, n, true, f);
}

#if defined(__x86_64__)
static size_t cp_read(void *d, const void *s, size_t n, struct udax_fault *f)
{
	return udax__mc_read(d, s, n, f);
}

/* The persistent copy's cached family for every length. */
static size_t cp_persist_cached(void *d, const void *s, size_t n,
				struct udax_fault *f)
{
	size_t was = udax__mc_pnt_min, got;

	udax__mc_pnt_min = SIZE_MAX;
	got = udax__mc_copy(d, s, n, true, f);
	udax__mc_pnt_min = was;
	return got;
}

/* The persistent copy under the sigsetjmp guard, its route without the
 * table (under valgrind, and on other architectures). */
static size_t cp_persist_jmp(void *d, const void *s, size_t n,
			     struct udax_fault *f)
{
	int was = udax__mc_pisa;
	size_t got;

	udax__mc_pisa = 0;
	got = udax__mc_copy(d, s, n, true, f);
	udax__mc_pisa = was;
	return got;
}

/* rep movsb alone, settled as the routines' fixups settle. */
static size_t cp_movsb(void *d, const void *s, size_t n, struct udax_fault *f)
{
	struct udax_mc_raw raw;
	size_t rem = udax__mc_movsb_raw(d, s, n, &raw, 0);

	return rem ? udax__mc_settle(d, s, n, rem, &raw, f) : n;
}
#endif

struct way {
	const char *name;
	copy_fn *fn;
	int movsb;		/* -1: as chosen, 0: never, 1: from 0 bytes */
	bool table;		/* a table routine when the table is on */
	bool zero;		/* a zeroing: no source, zeros written */
};

static size_t cp_zero(void *d, const void *s, size_t n, struct udax_fault *f)
{
	(void)s;
	return udax__mc_zero(d, n, f);
}

enum { FAR, FAR_HUGE, INSIDE, INSIDE_HUGE };

struct mce_case {
	const char *name;
	int code, where;
	bool stops;
};

static const struct mce_case mce_cases[] = {
	{ "AO elsewhere", BUS_MCEERR_AO, FAR, false },
	{ "AR elsewhere", BUS_MCEERR_AR, FAR, false },
	{ "AR elsewhere, a 2 MiB page", BUS_MCEERR_AR, FAR_HUGE, false },
	{ "SI_KERNEL (Linux's kill)", SI_KERNEL, INSIDE, false },
	{ "AR in the copy", BUS_MCEERR_AR, INSIDE, true },
	{ "AO in the copy", BUS_MCEERR_AO, INSIDE, true },
	{ "AR in the copy, a 2 MiB page", BUS_MCEERR_AR, INSIDE_HUGE, true },
};

static void set_movsb(int m, size_t cpu_min, size_t cpu_max)
{
#if defined(__x86_64__)
	udax__mc_movsb_min = m < 0 ? cpu_min : m ? 0 : SIZE_MAX;
	udax__mc_movsb_max = m < 0 ? cpu_max : m ? SIZE_MAX : 0;
#else
	(void)m;
	(void)cpu_min;
	(void)cpu_max;
#endif
}

/* One copy of @len bytes with the trap page @k bytes into it, in the
 * source or the destination, and the report of case @c. */
static void mce_one(const struct way *w, bool table, const struct mce_case *c,
		    char *h_src, char *h_dst, char *far, size_t len, size_t k,
		    bool in_src)
{
	char *h = in_src ? h_src : h_dst, *page = h + PG;
	char *other = (in_src ? h_dst : h_src) + 16 * PG + (k * 7 % 64);
	char *src = in_src ? page - k : other, *dst = in_src ? other : page - k;
	struct udax_fault f;
	void *addr;
	int lsb = c->code == SI_KERNEL ? 0 : 12;
	size_t want = len, got;

	if (c->where == FAR) {
		addr = far + 5 * PG + 100;
	} else if (c->where == FAR_HUGE) {
		addr = far;		/* a 2 MiB page of its own */
		lsb = 21;
	} else if (c->where == INSIDE) {
		addr = page + 8;
	} else {
		addr = h;		/* the trap page's 2 MiB page */
		lsb = 21;
	}
	if (c->stops)
		want = c->where == INSIDE ? k
		     : (uintptr_t)h > (uintptr_t)(page - k) ? (size_t)(h - (page - k))
		     : 0;
	memset(&f, 0, sizeof(f));
	memset(dst, 0x5a, len);
	queue_at(page, c->code, addr, lsb);
	got = w->fn(dst, src, len, &f);
	trap = NULL;
	if (got != want)
		t_fail("%s, %s in the %s: len %zu, trap page %zu bytes in: got %zu, want %zu",
		       w->name, c->name, in_src ? "source" : "destination",
		       len, k, got, want);
	if (w->zero) {
		for (size_t i = 0; i < got; i++)
			if (dst[i])
				t_fail("%s: byte %zu of %zu not zeroed", w->name, i, got);
	} else {
		t_assert(!memcmp(dst, src, got));
	}
	if (trap_hits != 1)
		t_fail("%s, %s in the %s: len %zu, k %zu: the trap page was hit %d times",
		       w->name, c->name, in_src ? "source" : "destination",
		       len, k, (int)trap_hits);
	if (!c->stops) {
		t_eq(bus_hits, 1);
		t_eq(bus_code, c->code);
		t_assert(bus_addr == addr);
		t_eq(f.signo, 0);
		if (table && w->table)
			t_eq(bus_listed, 1);
		return;
	}
	t_eq(bus_hits, 0);
	t_eq(f.signo, SIGBUS);
	t_eq(f.code, c->code);
	t_eq(f.lsb, lsb);
	t_assert(f.addr == addr);
	t_eq(f.in_src, in_src);
}

static void mce_in_copies(void)
{
	static const struct { size_t len, k; } sizes[] = {
		{ 200, 100 },			/* short paths */
		{ 3 * PG + 100, 2 * PG + 50 },	/* loop or rep movsb */
		{ 64 * 1024, 2 * PG + 3 },
		/* a zeroing's second 64 KiB piece starts inside the trap
		 * page's 2 MiB page (and the 4 KiB page before the trap) */
		{ 64 * 1024 + 300, 64 * 1024 + 100 },
	};
	struct way ways[14];
	int nways = 0;
	bool table = false;
	size_t cpu_min = 0, cpu_max = 0;
	char *h_src = huge_area(), *h_dst = huge_area(), *far = huge_area();

	ways[nways++] = (struct way){ "udax__mc_copy", cp_plain, -1, true, false };
	ways[nways++] = (struct way){ "persistent", cp_persist, -1, true, false };
	ways[nways++] = (struct way){ "zeroing", cp_zero, -1, true, true };
#if defined(__x86_64__)
	table = udax__mc_isa != 0;
	cpu_min = udax__mc_movsb_min;
	cpu_max = udax__mc_movsb_max;
	if (table) {
		ways[nways++] = (struct way){ "udax__mc_read, rep movsb", cp_read, 1, true, false };
		ways[nways++] = (struct way){ "udax__mc_read, vectors", cp_read, 0, true, false };
		ways[nways++] = (struct way){ "sse2", udax__mc_copy_sse2, 0, true, false };
		if (__builtin_cpu_supports("avx2"))
			ways[nways++] = (struct way){ "avx2", udax__mc_copy_avx2, 0, true, false };
		if (__builtin_cpu_supports("avx512f") &&
		    __builtin_cpu_supports("avx512vl"))
			ways[nways++] = (struct way){ "avx512", udax__mc_copy_avx512, 0, true, false };
		ways[nways++] = (struct way){ "rep movsb, settled", cp_movsb, -1, true, false };
		ways[nways++] = (struct way){ "persistent, cached", cp_persist_cached, -1, true, false };
		ways[nways++] = (struct way){ "persistent, sigsetjmp guard", cp_persist_jmp, -1, false, false };
	}
#endif
	for (int i = 0; i < nways; i++) {
		set_movsb(ways[i].movsb, cpu_min, cpu_max);
		for (size_t c = 0; c < sizeof(mce_cases) / sizeof(mce_cases[0]); c++)
			for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
				for (int in_src = 0;
				     in_src < (ways[i].zero ? 1 : 2); in_src++)
					mce_one(&ways[i], table, &mce_cases[c],
						h_src, h_dst, far, sizes[s].len,
						sizes[s].k, in_src);
	}
	set_movsb(-1, cpu_min, cpu_max);
	printf("in copies: %d ways x %zu reports: the copy's stop it, others reach the program's handler%s\n",
	       nways, sizeof(mce_cases) / sizeof(mce_cases[0]),
	       table ? " (from listed instructions of the table routines)" : "");
}

/*
 * Reports at a thread that copies through udax__mc_read() (the table
 * routines on x86-64) without end, at whatever instruction it is at: none
 * is the copy's (AO elsewhere, AR for another 2 MiB page, SI_KERNEL), every
 * copy completes, and each report reaches the program's handler.  Linux
 * lets only the thread itself queue a signal with a kernel's si_code, so
 * another thread interrupts it with SIGUSR1, whose handler queues the
 * report (SIGBUS blocked meanwhile: it arrives at the interrupted
 * instruction, as a kernel's report would).
 */
#define TH_LEN (1024 * 1024)

static volatile int th_stop, th_bad;
static volatile pid_t th_tid;
static volatile long th_copies;

static siginfo_t th_si;

static void on_usr1_report(int sig)
{
	(void)sig;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
		SIGBUS, &th_si);
}

static void *copier(void *arg)
{
	struct udax_fault f;

	(void)arg;
	th_tid = (pid_t)syscall(SYS_gettid);
	while (!__atomic_load_n(&th_stop, __ATOMIC_ACQUIRE)) {
		memset(&f, 0, sizeof(f));
		if (udax__mc_read(th_dst, th_src, TH_LEN, &f) != TH_LEN ||
		    f.signo)
			th_bad = 1;
		th_copies++;
	}
	return NULL;
}

static void mce_at_thread(void)
{
	static const int codes[] = { BUS_MCEERR_AO, BUS_MCEERR_AR, SI_KERNEL };
	char *far = huge_area();
	size_t cpu_min = 0, cpu_max = 0;
	int sent = 0, listed_total = 0;

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_report;
	sigaddset(&sa.sa_mask, SIGBUS);
	t_ok(sigaction(SIGUSR1, &sa, NULL));
	th_src = malloc(TH_LEN);
	th_dst = malloc(TH_LEN);
	t_assert(th_src && th_dst);
	fill(th_src, TH_LEN);
#if defined(__x86_64__)
	cpu_min = udax__mc_movsb_min;
	cpu_max = udax__mc_movsb_max;
#endif
	for (int phase = 0; phase < 2; phase++) {
		pthread_t t;
		int landed = 0;

		set_movsb(phase, cpu_min, cpu_max);	/* vectors, rep movsb */
		th_stop = 0;
		th_tid = 0;
		bus_listed = 0;
		t_ok(pthread_create(&t, NULL, copier, NULL));
		while (!th_tid)
			sched_yield();
		for (int r = 0; r < 3000 && bus_listed < 60; r++) {
			int before = bus_hits;

			memset(&th_si, 0, sizeof(th_si));
			th_si.si_signo = SIGBUS;
			th_si.si_code = codes[r % 3];
			th_si.si_addr = th_si.si_code == BUS_MCEERR_AO ? far + 100
								       : far;
			th_si.si_addr_lsb = th_si.si_code == BUS_MCEERR_AR ? 21 : 12;
			t_ok(pthread_kill(t, SIGUSR1));
			sent++;
			for (long spin = 0; bus_hits == before; spin++) {
				t_assert(spin < 100000000L);
				sched_yield();
			}
			landed++;
		}
		__atomic_store_n(&th_stop, 1, __ATOMIC_RELEASE);
		t_ok(pthread_join(t, NULL));
		t_eq(th_bad, 0);
		t_assert(!memcmp(th_dst, th_src, TH_LEN));
		t_assert(landed > 0);
		listed_total += bus_listed;
#if defined(__x86_64__)
		if (udax__mc_isa)
			t_assert(bus_listed > 0);
#endif
	}
	set_movsb(-1, cpu_min, cpu_max);
	printf("at a copying thread: %d reports sent, all handled by the program's handler, %d at listed instructions, %ld copies complete\n",
	       sent, listed_total, (long)th_copies);
	free(th_src);
	free(th_dst);
}

/*
 * An "action required" report about the copy's own memory, a watched
 * mapping as a real device's is, at whatever instruction the copying
 * thread is at, as a machine check injected into a running CPU comes
 * (QEMU's; hardware reports the consuming load): at a listed instruction it
 * stops the copy there; at any other instruction of the routines it is
 * udax's: the watch marks it (and wakes the device), never the program's
 * handler or the default action (which killed the reader of a 2 MiB
 * device-dax in the kernel lab); outside the routines it is the program's,
 * as any report outside a copy.
 */
static volatile int th_stopped;
static volatile sig_atomic_t usr1_hits;

static void on_usr1_own(int sig)
{
	(void)sig;
	usr1_hits++;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
		SIGBUS, &th_si);
}

static void *copier_own(void *arg)
{
	struct udax_fault f;
	size_t c;

	(void)arg;
	th_tid = (pid_t)syscall(SYS_gettid);
	while (!__atomic_load_n(&th_stop, __ATOMIC_ACQUIRE)) {
		memset(&f, 0, sizeof(f));
		c = udax__mc_read(th_dst, th_src, TH_LEN, &f);
		if (c != TH_LEN) {
			/* stopped by the report: at or before its page */
			if (f.signo != SIGBUS || f.code != BUS_MCEERR_AR ||
			    c > (size_t)((char *)th_si.si_addr - th_src))
				th_bad = 1;
			th_stopped++;
		}
		th_copies++;
	}
	return NULL;
}

static void mce_own_at_thread(void)
{
	struct sigaction sa;
	struct udax_watch *w;
	pthread_t t;
	int sent = 0, prog_before = bus_hits, wake = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1_own;
	sigaddset(&sa.sa_mask, SIGBUS);
	t_ok(sigaction(SIGUSR1, &sa, NULL));
	th_src = malloc(TH_LEN);
	th_dst = malloc(TH_LEN);
	t_assert(th_src && th_dst);
	fill(th_src, TH_LEN);
	memset(&th_si, 0, sizeof(th_si));
	th_si.si_signo = SIGBUS;
	th_si.si_code = BUS_MCEERR_AR;
	th_si.si_addr = th_src + TH_LEN / 2;
	th_si.si_addr_lsb = 12;
	t_ok(udax__watch_add(th_src, TH_LEN, &wake, &w));
	th_stop = 0;
	th_tid = 0;
	th_bad = 0;
	bus_in_text = 0;
	t_ok(pthread_create(&t, NULL, copier_own, NULL));
	while (!th_tid)
		sched_yield();
	for (int r = 0; r < 400; r++) {
		int before = usr1_hits;

		t_ok(pthread_kill(t, SIGUSR1));
		sent++;
		for (long spin = 0; usr1_hits == before; spin++) {
			t_assert(spin < 100000000L);
			sched_yield();
		}
		/* Let the report be taken before the next SIGUSR1: one that
		 * comes first would queue a second report into udax's
		 * handler itself (SA_NODEFER), outside the routines.  No
		 * result depends on the pause being long enough. */
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	}
	__atomic_store_n(&th_stop, 1, __ATOMIC_RELEASE);
	t_ok(pthread_join(t, NULL));
	t_eq(th_bad, 0);
	/* none reached the program's handler from between the routines'
	 * listed instructions (a listed one's goes there when the report is
	 * not about what that copy touches, as in a settling re-copy) */
	t_eq(bus_in_text, 0);
	t_eq(wake, 1);		/* the watch has it */
	udax__watch_del(w);
	printf("own-memory AR at a copying thread: %d sent, %d stopped a copy, %d went to the program, the rest stayed the copy's\n",
	       sent, th_stopped, bus_hits - prog_before);
#if defined(__x86_64__)
	/* some arrived between listed instructions, or this tested nothing */
	if (udax__mc_isa)
		t_assert(th_stopped + (bus_hits - prog_before) < sent);
#endif
	free(th_src);
	free(th_dst);
}

/* The children of this section: "in-copy" runs the cases above; the others
 * show the default action (or SIG_IGN) of a report that is not the copy's
 * arriving inside a table copy. */
static int in_copy_child(const char *what)
{
	static char buf[4 * PG];
	char *h = huge_area(), *far = huge_area();
	struct udax_fault f;

	fill(h - PG, 3 * PG);
	if (!strcmp(what, "in-copy")) {
		trap_handlers(true);
		mce_in_copies();
		mce_at_thread();
		mce_own_at_thread();
		return 7;
	}
	if (!strcmp(what, "in-copy-ao-ignored"))
		signal(SIGBUS, SIG_IGN);
	trap_handlers(false);
	if (!strcmp(what, "in-copy-kill"))
		queue_at(h + PG, SI_KERNEL, h + PG, 0);
	else if (!strcmp(what, "in-copy-ar-elsewhere"))
		queue_at(h + PG, BUS_MCEERR_AR, far, 21);
	else
		queue_at(h + PG, BUS_MCEERR_AO, far + 100, 12);
	t_ueq(udax__mc_copy(buf, h - PG - 50, 3 * PG + 100, false, &f),
	      3 * PG + 100);
	t_eq(trap_hits, 1);
	return strcmp(what, "in-copy-ao-ignored") ? 0 : 7;
}

/* ---- (h) default actions, in re-executed children ----------------------- */

static char *self_exe;

static int child(const char *what)
{
	char *p = map_anon(2);
	struct udax_fault f;
	char buf[64];
	sigset_t m;

	/* No inherited handlers (a sanitizer's, say): plain defaults. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	if (!strncmp(what, "in-copy", 7))
		return in_copy_child(what);
	if (!strcmp(what, "bus-ignored") || !strcmp(what, "mce-ao-ignored"))
		signal(SIGBUS, SIG_IGN);
	if (!strncmp(what, "mce", 3)) {
		/*
		 * What a MADV_HWPOISON caller (or, for AO, a process that maps
		 * the page) gets from memory_failure(): a SIGBUS that no
		 * instruction raised, so none re-raises it.
		 */
		siginfo_t si;

		t_ok(udax__mcsafe_init());
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGBUS;
		si.si_code = !strcmp(what, "mce-ao-ignored") ? BUS_MCEERR_AO
			   : !strcmp(what, "mce-kill") ? SI_KERNEL
			   : BUS_MCEERR_AR;
		si.si_addr = p;
		si.si_addr_lsb = 21;
		syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
			SIGBUS, &si);
		/* the ignored AO is dropped, and udax's handler stays */
		{
			struct sigaction cur;

			sigaction(SIGBUS, NULL, &cur);
			t_assert(cur.sa_flags & SA_SIGINFO);
		}
		t_ueq(udax__mc_copy(buf, p, 64, false, &f), 64);
		return 7;
	}
	t_ok(mprotect(p + PG, PG, PROT_NONE));
	if (!strcmp(what, "segv-not-taken")) {
		/* Without an emulated device udax leaves SIGSEGV alone: a
		 * guarded copy from an unmapped page dies as memcpy would. */
		t_ok(udax__mcsafe_init());
		udax__mc_copy(buf, p + PG - 8, 64, false, &f);
		return 0;
	}
	t_ok(udax__mcsafe_init_segv(udax__emul_fault_hook));
	/* guarded copies still work */
	t_ueq(udax__mc_copy(buf, p + PG - 8, 64, false, &f), 8);

	if (!strcmp(what, "segv")) {
		*(volatile char *)(p + PG) = 1;
	} else if (!strcmp(what, "segv-sent")) {
		kill(getpid(), SIGSEGV);
	} else {
		struct emul_map *em;
		static int wake;

		t_ok(udax__emul_map_register(p, 2 * PG, PROT_READ | PROT_WRITE,
					     media_with(1), &wake, &em));
		if (!strcmp(what, "bus-blocked")) {
			sigemptyset(&m);
			sigaddset(&m, SIGBUS);
			sigprocmask(SIG_BLOCK, &m, NULL);
		}
		sink = *(volatile char *)(p + PG + 9);
	}
	return 0;	/* survived: wrong */
}

/* Run "--child @what" in a fresh process; its wait status. */
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

static void expect_death(const char *what, int sig)
{
	int st = run_child(what);

	if (!WIFSIGNALED(st))
		t_fail("child %s: exit %d, want death by signal %d", what,
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1, sig);
	t_eq(WTERMSIG(st), sig);
}

static void expect_exit(const char *what, int code)
{
	int st = run_child(what);

	if (!WIFEXITED(st))
		t_fail("child %s: killed by signal %d, want exit %d", what,
		       WIFSIGNALED(st) ? WTERMSIG(st) : -1, code);
	t_eq(WEXITSTATUS(st), code);
}

/* ---- (i) many faulting copies keep the mask sane ------------------------ */

static void test_many(int n)
{
	char *p = map_anon(4), *buf = malloc(3 * PG);
	struct udax_fault f;

	t_assert(buf);

	t_ok(mprotect(p + 2 * PG, PG, PROT_NONE));
	for (int i = 0; i < n; i++) {
		size_t off = (size_t)i % (2 * PG);

		t_ueq(udax__mc_copy(buf, p + off, 3 * PG - off, i & 1, &f),
		      2 * PG - off);
	}
	check_mask_sane();
	munmap(p, 4 * PG);
	free(buf);
}

static bool on_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "vgpreload");
}

int main(int argc, char **argv)
{
	struct sigaction old;
	char *dir;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child(argv[2]);
	self_exe = realpath("/proc/self/exe", NULL);
	t_assert(self_exe);

	/* The program's handlers come first; udax must chain to them. */
	install(SIGSEGV, prog_handler, &old);
	install(SIGBUS, prog_handler, &old);
	t_ok(udax__mcsafe_init());
	t_ok(udax__mcsafe_init_segv(udax__emul_fault_hook));
	t_ok(udax__mcsafe_init_segv(udax__emul_fault_hook));

	dir = t_tmpdir();
	test_eof(dir);
	t_tmpdir_rm(dir);
	test_prot_none(getenv("UDAX_TEST_QUICK") ? 100 : 1000);
	test_chain();
	/*
	 * Valgrind 3.19 takes a SIGBUS with a positive si_code that the
	 * program queued to itself for a fault of its own and aborts.
	 */
	if (on_valgrind())
		printf("valgrind: emulated poison translation not tested\n");
	else {
		test_poison();
		test_poison_many();
	}
	test_many(10000);
	check_mask_sane();

	expect_death("segv", SIGSEGV);
	expect_death("segv-sent", SIGSEGV);
	expect_death("segv-not-taken", SIGSEGV);
	expect_death("bus", SIGBUS);
	expect_death("bus-blocked", SIGBUS);
	expect_death("bus-ignored", SIGBUS);
	if (!on_valgrind()) {
		int st;
		pid_t pid;

		expect_death("mce-once", SIGBUS);
		/* how Linux kills after a machine check it could not recover */
		expect_death("mce-kill", SIGBUS);
		pid = fork();
		t_assert(pid >= 0);
		if (!pid) {
			execl(self_exe, self_exe, "--child", "mce-ao-ignored",
			      (char *)NULL);
			_exit(98);
		}
		t_eq(waitpid(pid, &st, 0), pid);
		t_assert(WIFEXITED(st));
		t_eq(WEXITSTATUS(st), 7);
		/* Reports that arrive during a copy (section j). */
		expect_exit("in-copy", 7);
		expect_death("in-copy-kill", SIGBUS);
		expect_death("in-copy-ar-elsewhere", SIGBUS);
		expect_exit("in-copy-ao-ignored", 7);
	} else {
		printf("valgrind: reports during a copy not tested (self-queued SIGBUS)\n");
	}
	free(self_exe);
	return 0;
}
