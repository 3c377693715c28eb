/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guarded copies against real faults, no hardware needed: a shared file
 * mapping past EOF (SIGBUS), PROT_NONE pages (SIGSEGV) on either side; the
 * chain to handlers found at init; emulated poison turned into
 * SIGBUS/BUS_MCEERR_AR (emul-fault.c); default actions checked in
 * re-executed children, and SIGSEGV left alone until something asks.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

static void expect_death(const char *what, int sig)
{
	int st;
	pid_t pid = fork();

	t_assert(pid >= 0);
	if (!pid) {
		execl(self_exe, self_exe, "--child", what, (char *)NULL);
		_exit(98);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	if (!WIFSIGNALED(st))
		t_fail("child %s: exit %d, want death by signal %d", what,
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1, sig);
	t_eq(WTERMSIG(st), sig);
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
	}
	free(self_exe);
	return 0;
}
