/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every vector of ../shared/spec/vectors.md, verbatim, as a table.  Device:
 * emulated, 16 pages unless a vector says otherwise.  "bad S+C" = known-bad
 * sectors injected with default flags; "latent S+C" = UDAX_INJECT_LATENT.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"
#include "private.h"

#define F 0	/* failfast: *kaddr == NULL */
#define R 1	/* recovery: *kaddr == (void *)UDAX_OP_RECOVERY */
#define N 2	/* kaddr == NULL: pfn only */

static char *dir;
static char img[256];
static struct udax_dev *dev;
static void *kaddr;
static uint64_t pfn;

static void setup_pages(uint64_t pages)
{
	snprintf(img, sizeof(img), "%s/img", dir);
	unlink(img);
	snprintf(img + strlen(img), 16, ".poison");
	unlink(img);
	snprintf(img, sizeof(img), "%s/img", dir);
	t_ok(udax_create(img, pages * UDAX_PAGE_SIZE));
	t_ok(udax_open(img, 0, &dev));
}

static void setup(void)
{
	setup_pages(16);
}

static void teardown(void)
{
	udax_close(dev);
	dev = NULL;
}

static void bad(uint64_t s, uint64_t c)
{
	t_ok(udax_inject(dev, s * UDAX_SECTOR_SIZE, c * UDAX_SECTOR_SIZE, 0));
}

static void latent(uint64_t s, uint64_t c)
{
	t_ok(udax_inject(dev, s * UDAX_SECTOR_SIZE, c * UDAX_SECTOR_SIZE,
			 UDAX_INJECT_LATENT));
}

static long da(uint64_t pg, long n, int mode)
{
	pfn = UINT64_MAX;
	if (mode == N)
		return udax_direct_access(dev, pg, n, NULL, &pfn);
	kaddr = mode == R ? (void *)UDAX_OP_RECOVERY : NULL;
	return udax_direct_access(dev, pg, n, &kaddr, &pfn);
}

/* The known list in sysfs text form. */
static const char *list(void)
{
	static char buf[65536];
	long n = udax_badblocks_export(dev, buf, sizeof(buf));

	t_assert(n >= 0 && (size_t)n < sizeof(buf));
	return buf;
}

#define t_list(want) do {						\
	const char *got_ = list();					\
	if (strcmp(got_, want))						\
		t_fail("list: got \"%s\", want \"%s\"", got_, want);	\
} while (0)

/* Page @pg of the image as stored in the file, poisoned or not. */
static void raw_page(uint64_t pg, char *out)
{
	int fd = open(img, O_RDONLY);

	t_assert(fd >= 0);
	t_eq(pread(fd, out, UDAX_PAGE_SIZE, (off_t)(pg + 1) * UDAX_PAGE_SIZE),
	     UDAX_PAGE_SIZE);
	close(fd);
}

static void fill(char *buf, size_t n, int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 7 + (size_t)seed);
}

/* Write a pattern over the whole device, before any poison. */
static void pattern(void)
{
	static char buf[16 * UDAX_PAGE_SIZE];

	fill(buf, sizeof(buf), 1);
	t_eq(udax_pwrite(dev, buf, sizeof(buf), 0), sizeof(buf));
}

static void v1(void)
{
	t_eq(da(0, 4, F), 4);
	t_eq(udax_kaddr_mode(kaddr), UDAX_OP_FAILFAST);
	t_assert(udax_kaddr_untag(kaddr) == kaddr);
	t_ueq(pfn, 0);
}

static void v2(void) { t_eq(da(14, 4, F), 2); }
static void v3(void) { t_eq(da(16, 1, F), -ERANGE); }
static void v4(void) { t_eq(da(0, -1, F), -EINVAL); }

static void v5(void)
{
	kaddr = (void *)2;
	t_eq(udax_direct_access(dev, 0, 1, &kaddr, NULL), -EINVAL);
}

static void v6(void)
{
	bad(9, 1);
	t_eq(da(0, 4, F), -EIO);
	t_eq(da(2, 2, F), 2);
	t_eq(da(0, 1, F), 1);
	t_eq(da(0, 4, N), -EIO);
}

static void v7(void)
{
	bad(9, 1);
	t_eq(da(0, 4, R), 2);
	t_eq(udax_kaddr_mode(kaddr), UDAX_OP_RECOVERY);
}

static void v8(void)
{
	bad(8, 1);
	t_eq(da(0, 4, R), 1);
	t_eq(da(1, 4, R), 1);
}

static void v9(void)
{
	static char buf[16384];

	bad(9, 1);
	t_eq(udax_pread(dev, buf, 16384, 0), 4096);
}

static void v10(void)
{
	static char buf[4096];

	bad(9, 1);
	t_eq(udax_pread(dev, buf, 4096, 4096), -EIO);
}

static void v11(void)
{
	static char in[4096], out[4096];

	bad(9, 1);
	fill(in, sizeof(in), 11);
	t_eq(udax_pwrite(dev, in, 4096, 4096), 4096);
	t_list("");
	t_eq(udax_pread(dev, out, 4096, 4096), 4096);
	t_assert(!memcmp(in, out, 4096));
}

static void v12(void)
{
	static char in[512], before[4096], after[4096];

	pattern();
	bad(9, 1);
	raw_page(1, before);
	fill(in, sizeof(in), 12);
	t_eq(udax_pwrite(dev, in, 512, 4096), -EIO);
	t_list("9 1\n");
	raw_page(1, after);
	t_assert(!memcmp(before, after, 4096));
}

static void v13(void)
{
	static char in[8192];

	bad(9, 1);
	fill(in, sizeof(in), 13);
	t_eq(udax_pwrite(dev, in, 8192, 0), 8192);
	t_list("");
}

static void v14(void)
{
	static char buf[16384];

	latent(20, 1);
	t_eq(da(0, 4, F), 4);
	t_eq(udax_pread(dev, buf, 16384, 0), 8192);
	t_list("20 1\n");
	t_eq(da(0, 4, F), -EIO);
}

/* The vector counts sectors; udax_scrub() counts bytes, as every count of
 * data in the API does (docs/modes.md): 1 sector = 512 bytes. */
static void v15(void)
{
	latent(20, 1);
	t_eq(udax_scrub(dev), 1 * UDAX_SECTOR_SIZE);
	t_list("20 1\n");
}

static void v16(void)
{
	t_ok(udax_inject(dev, 4196, 10, 0));
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
	t_ok(udax_zero_page_range(dev, 1, 1));
	t_list("");
	t_eq(udax_pread(dev, buf, 4096, 4096), 4096);
	t_assert(!memcmp(buf, zero, 4096));
}

static size_t copy_from(void *addr, const void *src, size_t n)
{
	struct iovec iov = { (void *)src, n };
	struct udax_iter it;

	udax_iter_init(&it, &iov, 1, n);
	return udax_copy_from_iter(dev, 1, addr, n, &it);
}

static void v19(void)
{
	static char in[4096], before[4096], after[4096];

	pattern();
	bad(9, 1);
	raw_page(1, before);
	fill(in, sizeof(in), 19);
	t_eq(da(1, 1, R), 1);
	t_eq(copy_from((char *)kaddr + 512, in, 4096), 0);
	raw_page(1, after);
	t_assert(!memcmp(before, after, 4096));
	t_list("9 1\n");
}

static void v20(void)
{
	static char in[4096], out[4096];

	bad(9, 1);
	fill(in, sizeof(in), 20);
	t_eq(da(1, 1, R), 1);
	t_eq(copy_from(kaddr, in, 4096), 4096);
	t_list("");
	t_eq(udax_pread(dev, out, 4096, 4096), 4096);
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
	t_eq(udax_copy_to_iter(dev, 0, kaddr, 8192, &it), 4096);
	t_eq(it.count, 4096);
}

static void v22(void)
{
	char buf[16];

	udax_kill(dev);
	t_eq(da(0, 1, F), -ENXIO);
	t_eq(udax_pread(dev, buf, sizeof(buf), 0), -ENXIO);
	t_eq(udax_pwrite(dev, buf, sizeof(buf), 0), -ENXIO);
	t_eq(udax_zero_page_range(dev, 0, 1), -ENXIO);
}

static void v23(void)
{
	static struct udax_range r[1001];
	long i;

	teardown();
	setup_pages(4096);
	for (i = 0; i < 1000; i++)
		bad((uint64_t)i * 16, 1);
	t_eq(udax_badblocks(dev, r, 1001), 1000);
	for (i = 0; i < 1000; i++) {
		t_ueq(r[i].off, (uint64_t)i * 16 * UDAX_SECTOR_SIZE);
		t_ueq(r[i].len, UDAX_SECTOR_SIZE);
	}
}

static void v24(void)
{
	t_eq(udax_badblocks_import(dev, "8 1\n16 x\n", 9), -EINVAL);
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

	if (t_under_valgrind()) {
		printf("skip V25's load: valgrind aborts on a self-queued SIGBUS\n");
		return;
	}
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

static const struct {
	const char *name;
	void (*run)(void);
} vectors[] = {
	{ "V1", v1 }, { "V2", v2 }, { "V3", v3 }, { "V4", v4 }, { "V5", v5 },
	{ "V6", v6 }, { "V7", v7 }, { "V8", v8 }, { "V9", v9 },
	{ "V10", v10 }, { "V11", v11 }, { "V12", v12 }, { "V13", v13 },
	{ "V14", v14 }, { "V15", v15 }, { "V16", v16 }, { "V17", v17 },
	{ "V18", v18 }, { "V19", v19 }, { "V20", v20 }, { "V21", v21 },
	{ "V22", v22 }, { "V23", v23 }, { "V24", v24 }, { "V25", v25 },
};

int main(int argc, char **argv)
{
	size_t i;

	dir = t_tmpdir();
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		if (argc > 1 && strcmp(argv[1], vectors[i].name))
			continue;
		setup();
		vectors[i].run();
		teardown();
		printf("ok %s\n", vectors[i].name);
	}
	t_tmpdir_rm(dir);
	return 0;
}
