/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every vector of ../shared/spec/vectors.md, verbatim, as a table, run on
 * every backend of the matrix (tests/matrix.h): the emulated device, the
 * mock with a mapping, the mock without one.  Device: 16 pages unless a
 * vector says otherwise.  "bad S+C" = known-bad sectors (media poison on
 * the known list, t_bad()); "latent S+C" = media poison only (t_latent()).
 *
 * Per backend: a device without a mapping answers udax_direct_access()
 * with an address wanted by -EOPNOTSUPP where the vector expects pages
 * (the policy checks, -EIO -ERANGE -EINVAL, still come first: t_da()).
 * Vectors about one backend's own machinery say so in their table entry:
 *
 *              emulated  mock  mock-nomap
 *   V1-V14        x       x       x        (V1: pfn per backend; V14:
 *                                           sector or page, see there)
 *   V15 V16       x       -       -        the backend's poison ops
 *   V17 V18       x       x       x
 *   V19-V21       x       x       -        need a mapping
 *   V22-V24       x       x       x        (V24: -EOPNOTSUPP without
 *                                           poison ops)
 *   V25           x       -       -        emulated poison's own SIGBUS
 *
 * The image-file checks (V12, V19: "page 1 unchanged") read the bytes
 * under poison through the adapter: the image file, the mock's memfd.  A
 * backend that cannot (on a real device reading poison is the fault
 * itself) skips those vectors with t_raw_read()'s reason.
 *
 *   test-vectors [V<n>|all] [backend]
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>

#include "matrix.h"

#define F 0	/* failfast: *kaddr == NULL */
#define R 1	/* recovery: *kaddr == (void *)UDAX_OP_RECOVERY */
#define N 2	/* kaddr == NULL: pfn only */

static void *kaddr;
static uint64_t pfn;

static void bad(uint64_t s, uint64_t c)
{
	t_bad(t_dev, s, c);
}

static void latent(uint64_t s, uint64_t c)
{
	t_latent(t_dev, s, c);
}

static long da(uint64_t pg, long n, int mode)
{
	pfn = UINT64_MAX;
	kaddr = NULL;
	if (mode == N)
		return udax_direct_access(t_dev, pg, n, NULL, &pfn);
	kaddr = mode == R ? (void *)UDAX_OP_RECOVERY : NULL;
	return udax_direct_access(t_dev, pg, n, &kaddr, &pfn);
}

/* da() == @want, where a device without a mapping cannot give the
 * address that pages would come with. */
#define t_da(pg, n, mode, want) do {					\
	long w_ = (want);						\
	if (w_ > 0 && (mode) != N && !t_has(T_MAP))			\
		w_ = -EOPNOTSUPP;					\
	t_eq(da(pg, n, mode), w_);					\
} while (0)

#define t_list(want) t_list_is(t_dev, want)
#define t_own(want) t_own_list_is(t_dev, want)

/* Page @pg as stored, poisoned or not. */
static void raw_page(uint64_t pg, char *out)
{
	t_raw_read(t_dev, pg * UDAX_PAGE_SIZE, out, UDAX_PAGE_SIZE);
}

/* Write a pattern over the whole device, before any poison. */
static void pattern(void)
{
	static char buf[16 * UDAX_PAGE_SIZE];

	t_fill(buf, sizeof(buf), 1);
	t_eq(udax_pwrite(t_dev, buf, sizeof(buf), 0), sizeof(buf));
}

static void v1(void)
{
	t_da(0, 4, F, 4);
	if (t_has(T_MAP)) {
		t_eq(udax_kaddr_mode(kaddr), UDAX_OP_FAILFAST);
		t_assert(udax_kaddr_untag(kaddr) == kaddr);
	} else {
		t_da(0, 4, N, 4);
	}
	/* "pfn 0" on the emulated device; a device's own frames elsewhere. */
	if (t_b->pfn)
		t_ueq(pfn, t_b->pfn(t_dev, 0));
}

static void v2(void) { t_da(14, 4, F, 2); }
static void v3(void) { t_da(16, 1, F, -ERANGE); }
static void v4(void) { t_da(0, -1, F, -EINVAL); }

static void v5(void)
{
	kaddr = (void *)2;
	t_eq(udax_direct_access(t_dev, 0, 1, &kaddr, NULL), -EINVAL);
}

static void v6(void)
{
	bad(9, 1);
	t_da(0, 4, F, -EIO);
	t_da(2, 2, F, 2);
	t_da(0, 1, F, 1);
	t_da(0, 4, N, -EIO);
}

static void v7(void)
{
	bad(9, 1);
	t_da(0, 4, R, 2);
	if (t_has(T_MAP))
		t_eq(udax_kaddr_mode(kaddr), UDAX_OP_RECOVERY);
}

static void v8(void)
{
	bad(8, 1);
	t_da(0, 4, R, 1);
	t_da(1, 4, R, 1);
}

static void v9(void)
{
	static char buf[16384];

	bad(9, 1);
	t_eq(udax_pread(t_dev, buf, 16384, 0), 4096);
}

static void v10(void)
{
	static char buf[4096];

	bad(9, 1);
	t_eq(udax_pread(t_dev, buf, 4096, 4096), -EIO);
}

static void v11(void)
{
	static char in[4096], out[4096];

	bad(9, 1);
	t_fill(in, sizeof(in), 11);
	t_eq(udax_pwrite(t_dev, in, 4096, 4096), 4096);
	t_list("");
	t_own("");	/* cleared where the device keeps it, not only in udax */
	t_eq(udax_pread(t_dev, out, 4096, 4096), 4096);
	t_assert(!memcmp(in, out, 4096));
}

static void v12(void)
{
	static char in[512], before[4096], after[4096];

	pattern();
	bad(9, 1);
	raw_page(1, before);
	t_fill(in, sizeof(in), 12);
	t_eq(udax_pwrite(t_dev, in, 512, 4096), -EIO);
	t_list("9 1\n");
	t_own("9 1\n");
	raw_page(1, after);
	t_assert(!memcmp(before, after, 4096));
}

static void v13(void)
{
	static char in[8192];

	bad(9, 1);
	t_fill(in, sizeof(in), 13);
	t_eq(udax_pwrite(t_dev, in, 8192, 0), 8192);
	t_list("");
	t_own("");
}

static void v14(void)
{
	static char buf[16384];

	latent(20, 1);
	t_da(0, 4, F, 4);
	t_eq(udax_pread(t_dev, buf, 16384, 0), 8192);
	/* The emulated device sees its media: the bad sector.  Elsewhere a
	 * consumed fault says only its page (si_addr_lsb 12), and the page
	 * is what udax keeps until the device's own list says more. */
	t_list(t_has(T_MEDIA_SECTORS) ? "20 1\n" : "16 8\n");
	t_da(0, 4, F, -EIO);
}

/* The vector counts sectors; udax_scrub() counts bytes, as every count of
 * data in the API does (docs/modes.md): 1 sector = 512 bytes. */
static void v15(void)
{
	latent(20, 1);
	t_eq(udax_scrub(t_dev), 1 * UDAX_SECTOR_SIZE);
	t_list("20 1\n");
}

static void v16(void)
{
	t_ok(udax_inject(t_dev, 4196, 10, 0));
	t_list("8 1\n");
}

/* The list itself (R8), then the same sets through the device. */
static void v17(void)
{
	struct udax_range r[4];
	struct udax_bb *bb;
	char buf[64];

	t_ok(udax__bb_new(&bb));
	t_ok(udax__bb_set(bb, 10, 5));
	t_ok(udax__bb_set(bb, 15, 5));
	t_eq(udax__bb_snapshot(bb, r, 4), 1);
	udax__bb_format(r, 1, buf, sizeof(buf));
	t_assert(!strcmp(buf, "10 10\n"));
	t_ok(udax__bb_clear(bb, 12, 2));
	t_eq(udax__bb_snapshot(bb, r, 4), 2);
	udax__bb_format(r, 2, buf, sizeof(buf));
	t_assert(!strcmp(buf, "10 2\n14 6\n"));
	udax__bb_free(bb);

	bad(10, 5);
	bad(15, 5);
	t_list("10 10\n");
}

static void v18(void)
{
	static char buf[4096], zero[4096];

	pattern();
	bad(9, 1);
	t_ok(udax_zero_page_range(t_dev, 1, 1));
	t_list("");
	t_own("");
	t_eq(udax_pread(t_dev, buf, 4096, 4096), 4096);
	t_assert(!memcmp(buf, zero, 4096));
}

static size_t copy_from(void *addr, const void *src, size_t n)
{
	struct iovec iov = { (void *)src, n };
	struct udax_iter it;

	udax_iter_init(&it, &iov, 1, n);
	return udax_copy_from_iter(t_dev, 1, addr, n, &it);
}

static void v19(void)
{
	static char in[4096], before[4096], after[4096];

	pattern();
	bad(9, 1);
	raw_page(1, before);
	t_fill(in, sizeof(in), 19);
	t_eq(da(1, 1, R), 1);
	t_eq(copy_from((char *)kaddr + 512, in, 4096), 0);
	raw_page(1, after);
	t_assert(!memcmp(before, after, 4096));
	t_list("9 1\n");
	t_own("9 1\n");
}

static void v20(void)
{
	static char in[4096], out[4096];

	bad(9, 1);
	t_fill(in, sizeof(in), 20);
	t_eq(da(1, 1, R), 1);
	t_eq(copy_from(kaddr, in, 4096), 4096);
	t_list("");
	t_own("");
	t_eq(udax_pread(t_dev, out, 4096, 4096), 4096);
	t_assert(!memcmp(in, out, 4096));
}

static void v21(void)
{
	static char out[8192];
	struct iovec iov = { out, sizeof(out) };
	struct udax_iter it;

	bad(9, 1);
	t_eq(da(0, 2, R), 2);
	udax_iter_init(&it, &iov, 1, sizeof(out));
	t_eq(udax_copy_to_iter(t_dev, 0, kaddr, 8192, &it), 4096);
	t_eq(it.count, 4096);
}

static void v22(void)
{
	char buf[16];

	udax_kill(t_dev);
	t_eq(da(0, 1, F), -ENXIO);
	t_eq(udax_pread(t_dev, buf, sizeof(buf), 0), -ENXIO);
	t_eq(udax_pwrite(t_dev, buf, sizeof(buf), 0), -ENXIO);
	t_eq(udax_zero_page_range(t_dev, 0, 1), -ENXIO);
}

static void v23(void)
{
	static struct udax_range r[1001];
	long i;

	t_fresh(4096);
	for (i = 0; i < 1000; i++)
		bad((uint64_t)i * 16, 1);
	t_eq(udax_badblocks(t_dev, r, 1001), 1000);
	for (i = 0; i < 1000; i++) {
		t_ueq(r[i].off, (uint64_t)i * 16 * UDAX_SECTOR_SIZE);
		t_ueq(r[i].len, UDAX_SECTOR_SIZE);
	}
}

/* A device whose list is the kernel's imports nothing: -EOPNOTSUPP comes
 * before the text is read, and the list stays empty just the same. */
static void v24(void)
{
	t_eq(udax_badblocks_import(t_dev, "8 1\n16 x\n", 9),
	     t_has(T_POISON_OPS) ? -EINVAL : -EOPNOTSUPP);
	t_list("");
}

static sigjmp_buf v25_env;
static siginfo_t v25_info;

static void v25_handler(int sig, siginfo_t *si, void *uc)
{
	v25_info = *si;
	siglongjmp(v25_env, 1);
}

static void v25(void)
{
	struct sigaction sa = { .sa_sigaction = v25_handler,
				.sa_flags = SA_SIGINFO }, old;
	volatile char *page5;

	if (t_under_valgrind())
		t_skip_case("valgrind aborts on a self-queued SIGBUS");
	latent(40, 1);
	t_eq(da(5, 1, F), 1);	/* latent: direct_access cannot see it */
	page5 = udax_kaddr_untag(kaddr);
	t_ok(sigaction(SIGBUS, &sa, &old));
	if (!sigsetjmp(v25_env, 1)) {
		(void)*page5;
		t_fail("a load of poison did not fault");
	}
	t_ok(sigaction(SIGBUS, &old, NULL));
	t_eq(v25_info.si_signo, SIGBUS);
	t_eq(v25_info.si_code, BUS_MCEERR_AR);
	t_assert(v25_info.si_addr == (void *)page5);
	t_eq(v25_info.si_addr_lsb, 12);
}

#define NEED_MAP T_MAP, "copies through an address need a mapping; a " \
	"device without one answers direct_access with -EOPNOTSUPP (V1)"

#define V(n) { "V" #n, v##n, 0, NULL }

static const struct t_case vectors[] = {
	V(1), V(2), V(3), V(4), V(5), V(6), V(7), V(8), V(9), V(10), V(11),
	V(12), V(13), V(14),
	/* Scrub and inject are the backend's poison ops: the emulated
	 * device's own.  On a real device scrub is the kernel's ARS and
	 * injection ndctl's (errsign checks -EOPNOTSUPP there). */
	{ "V15", v15, T_POISON_OPS,
	  "scrub is the emulated media's (a real device's is the kernel's)" },
	{ "V16", v16, T_POISON_OPS,
	  "inject's sector rounding is the emulated device's (ndctl's on a real one)" },
	V(17), V(18),
	{ "V19", v19, NEED_MAP }, { "V20", v20, NEED_MAP },
	{ "V21", v21, NEED_MAP },
	V(22), V(23), V(24),
	/* A program's plain load: the kernel's SIGBUS on a real device, the
	 * emulated poison's own handler (emul-fault.c) here; the mock's
	 * poison is PROT_NONE and would be a plain SIGSEGV. */
	{ "V25", v25, T_EMULATED,
	  "a plain load's SIGBUS is emulated poison's (emul-fault.c)" },
};

int main(int argc, char **argv)
{
	return t_matrix_main(argc, argv, vectors,
			     sizeof(vectors) / sizeof(vectors[0]));
}
