/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fsdax backend without a DAX file system.
 *
 * 1. The translation of a disk's bad sectors to a file's known list
 *    (udax__fsdax_translate(), a pure function): the facts of PMDK's
 *    pmem2_badblock_mocks test (its extents and hardware bad blocks, a
 *    1 KiB block, and the file bad blocks they give), then edge cases:
 *    partition start, extents that are not block aligned, unwritten
 *    extents, holes, extents without a place, a bad range spanning
 *    extents, widening, the file's end.
 * 2. The backend on a regular file of the host's own file system, opened
 *    without its probe: FIEMAP is the host's, the disk's list is a fake
 *    sysfs tree's (UDAX_SYSFS_ROOT) reached through the file's real st_dev.
 *    The mapping is a plain shared one (no MAP_SYNC on a file that is not
 *    DAX).  What only Linux's DAX paths do (BUS_ADRERR for a page in the
 *    kernel's list, EIO/EFAULT from a pwrite over poison, clearing) runs
 *    in tests/kernel.
 */
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "harness.h"
#include "private.h"
#include "backends/pmem.h"
#include "sysfs-tree.h"

#define PG UDAX_PAGE_SIZE
#define S(x) ((uint64_t)(x) * UDAX_SECTOR_SIZE)	/* sectors to bytes */

/* ---- 1. translation ------------------------------------------------------- */

struct case_ {
	const char *name;
	struct udax_extent ext[8];
	size_t ne;
	struct udax_range bad[8];	/* disk sectors */
	size_t nb;
	uint64_t start;			/* partition, sectors */
	uint32_t blksz;
	uint64_t size;
	struct udax_range want[10];	/* file sectors */
	size_t nw;
};

/* Extents given in sectors, as PMDK's test writes them: logical,
 * physical, length. */
#define E(l, p, n) { S(l), S(p), S(n), 0 }

static const struct case_ cases[] = {
	/* PMDK pmem2_badblock_mocks: 1 KiB blocks. */
	{ "pmdk: no bad blocks", { E(0, 0, 2) }, 1, { { 0 } }, 0, 0, 1024,
	  1 << 30, { { 0 } }, 0 },
	{ "pmdk: one bad sector, widened to its block",
	  { E(0, 0, 2) }, 1, { { 1, 1 } }, 1, 0, 1024, 1 << 30,
	  { { 0, 2 } }, 1 },
	{ "pmdk: 6 hardware bad blocks over 7 extents",
	  { E(2, 2, 4), E(8, 8, 2), E(12, 12, 6), E(20, 20, 2), E(24, 24, 10),
	    E(38, 38, 4), E(46, 46, 2) }, 7,
	  { { 4, 10 }, { 16, 10 }, { 28, 2 }, { 32, 4 }, { 40, 4 }, { 50, 2 } }, 6,
	  0, 1024, 1 << 30,
	  { { 4, 2 }, { 8, 2 }, { 12, 2 }, { 16, 2 }, { 20, 2 }, { 24, 2 },
	    { 28, 2 }, { 32, 2 }, { 40, 2 } }, 9 },
	{ "pmdk: 7 hardware bad blocks over 6 extents",
	  { E(4, 4, 10), E(16, 16, 10), E(28, 28, 2), E(32, 32, 4),
	    E(40, 40, 4), E(50, 50, 2) }, 6,
	  { { 2, 4 }, { 8, 2 }, { 12, 6 }, { 20, 2 }, { 24, 10 }, { 38, 4 },
	    { 46, 2 } }, 7,
	  0, 1024, 1 << 30,
	  { { 4, 2 }, { 8, 2 }, { 12, 2 }, { 16, 2 }, { 20, 2 }, { 24, 2 },
	    { 28, 2 }, { 32, 2 }, { 40, 2 } }, 9 },

	/* Own cases, 4 KiB blocks unless said. */
	{ "file offset != disk offset",
	  { E(0, 2048, 128) }, 1, { { 2048 + 17, 1 } }, 1, 0, 4096, 1 << 20,
	  { { 16, 8 } }, 1 },
	{ "partition: disk sector = start + FIEMAP / 512",
	  { E(0, 0, 128) }, 1, { { 9, 1 }, { 2048 + 41, 2 } }, 2, 2048, 4096,
	  1 << 20, { { 40, 8 } }, 1 },
	{ "bad range before the partition is not the file's",
	  { E(0, 0, 128) }, 1, { { 0, 2048 } }, 1, 2048, 4096, 1 << 20,
	  { { 0 } }, 0 },
	{ "two bad sectors of one block: one block",
	  { E(0, 800, 64) }, 1, { { 801, 1 }, { 806, 2 } }, 2, 0, 4096, 1 << 20,
	  { { 0, 8 } }, 1 },
	{ "bad sectors of neighbouring blocks merge",
	  { E(0, 800, 64) }, 1, { { 807, 2 } }, 1, 0, 4096, 1 << 20,
	  { { 0, 16 } }, 1 },
	{ "a bad range spanning two extents, each piece its own place",
	  { E(0, 96, 8), E(2048, 104, 96) }, 2, { { 100, 20 } }, 1, 0, 4096,
	  1 << 30, { { 0, 8 }, { 2048, 16 } }, 2 },
	{ "holes: bad sectors outside every extent are not the file's",
	  { E(0, 1000, 8), E(64, 1064, 8) }, 2, { { 1008, 56 } }, 1, 0, 4096,
	  1 << 20, { { 0 } }, 0 },
	{ "unwritten extents count (their blocks are the file's)",
	  { { S(0), S(4096), S(16), FIEMAP_EXTENT_UNWRITTEN } }, 1,
	  { { 4096 + 9, 1 } }, 1, 0, 4096, 1 << 20, { { 8, 8 } }, 1 },
	{ "extents without a place (delalloc, unknown) are skipped",
	  { { S(0), S(0), S(16), FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN },
	    { S(16), S(0), S(16), FIEMAP_EXTENT_UNKNOWN } }, 2,
	  { { 0, 64 } }, 1, 0, 4096, 1 << 20, { { 0 } }, 0 },
	{ "an extent not block aligned: widened in file offsets",
	  { { 1536, S(20) + 512, 2048, FIEMAP_EXTENT_NOT_ALIGNED } }, 1,
	  { { 23, 1 } }, 1, 0, 1024, 1 << 20, { { 4, 2 } }, 1 },
	{ "cut at the end of the file",
	  { E(0, 0, 64) }, 1, { { 30, 10 } }, 1, 0, 4096, S(32),
	  { { 24, 8 } }, 1 },
	{ "an extent past the end is not the device's",
	  { E(64, 64, 64) }, 1, { { 64, 64 } }, 1, 0, 4096, S(64),
	  { { 0 } }, 0 },
	{ "the last block widened up to the end only",
	  { E(0, 0, 64) }, 1, { { 61, 1 } }, 1, 0, 4096, S(62),
	  { { 56, 6 } }, 1 },
};

static void test_translate(void)
{
	struct udax_range *r;
	size_t n, i, k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct case_ *c = &cases[k];

		t_ok(udax__fsdax_translate(c->ext, c->ne, c->bad, c->nb, c->start,
					   c->blksz, c->size, &r, &n));
		if (n != c->nw) {
			for (i = 0; i < n; i++)
				fprintf(stderr, "  got {%llu, %llu}\n",
					(unsigned long long)r[i].off,
					(unsigned long long)r[i].len);
			t_fail("%s: %zu ranges, want %zu", c->name, n, c->nw);
		}
		for (i = 0; i < n; i++)
			if (r[i].off != c->want[i].off || r[i].len != c->want[i].len)
				t_fail("%s: range %zu is {%llu, %llu}, want {%llu, %llu}",
				       c->name, i, (unsigned long long)r[i].off,
				       (unsigned long long)r[i].len,
				       (unsigned long long)c->want[i].off,
				       (unsigned long long)c->want[i].len);
		t_assert(n || !r);
		free(r);
	}
	t_eq(udax__fsdax_translate(NULL, 0, NULL, 0, 0, 0, 1, &r, &n), -EINVAL);
	t_eq(udax__fsdax_translate(NULL, 0, NULL, 0, 0, 1000, 1, &r, &n), -EINVAL);
	printf("ok translate: %zu cases (4 from PMDK's facts)\n",
	       sizeof(cases) / sizeof(cases[0]));
}

/* ---- 2. the backend on a regular file -------------------------------------- */

static char *dir;
static char file[PATH_MAX], devt[32];
static unsigned char *pattern;
#define FPAGES 64

/* The file's byte @off on its file system's device (FIEMAP). */
static uint64_t phys_of(const char *path, uint64_t off)
{
	union {
		struct fiemap fm;
		char raw[sizeof(struct fiemap) + sizeof(struct fiemap_extent)];
	} q;
	const struct fiemap_extent *fe = &q.fm.fm_extents[0];
	int fd = open(path, O_RDONLY);

	t_assert(fd >= 0);
	memset(&q, 0, sizeof(q));
	q.fm.fm_start = off;
	q.fm.fm_length = 1;
	q.fm.fm_extent_count = 1;
	t_ok(ioctl(fd, FS_IOC_FIEMAP, &q.fm));
	close(fd);
	t_eq(q.fm.fm_mapped_extents, 1);
	t_assert(fe->fe_logical <= off);
	return fe->fe_physical + (off - fe->fe_logical);
}

static void fresh_file(void)
{
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);

	t_assert(fd >= 0);
	t_eq(write(fd, pattern, FPAGES * PG), FPAGES * PG);
	t_ok(fsync(fd));
	close(fd);
}

/* The whole disk (start 0) or partition 1 of it (start 2048) is the
 * device of the file's file system. */
static void fs_on(bool partition)
{
	char p[64];

	snprintf(p, sizeof(p), "sys/dev/block/%s", devt);
	tree_link(partition ? "../../devices/ndbus0/region0/namespace0.0/block/pmem1/pmem1p1"
			    : "../../devices/ndbus0/region0/namespace0.0/block/pmem1", p);
}

static struct udax_dev *open_file(unsigned int flags)
{
	struct udax_dev *dev;

	t_ok(udax__open_backend(&udax__fsdax_backend, file, flags, &dev));
	t_assert(!strcmp(udax_backend(dev), "fsdax"));
	return dev;
}

static long nknown(struct udax_dev *dev)
{
	return udax_badblocks(dev, NULL, 0);
}

static void wait_known(struct udax_dev *dev, long n)
{
	for (int i = 0; i < 5000 && nknown(dev) != n; i++)
		usleep(1000);
	t_eq(nknown(dev), n);
}

static void test_known(void)
{
	uint64_t p5, p9, pfn;
	struct udax_range r[4];
	struct udax_dev *dev;
	unsigned char *buf = malloc(FPAGES * PG);
	void *k = NULL;

	fresh_file();
	p5 = phys_of(file, 5 * PG);
	p9 = phys_of(file, 9 * PG);
	fs_on(false);
	/* One bad sector under file page 5 (its third), one under page 9. */
	tree_badblocks("pmem1", "");
	{
		char text[128];

		snprintf(text, sizeof(text), "%llu 1\n%llu 2\n",
			 (unsigned long long)(p5 / 512 + 2),
			 (unsigned long long)(p9 / 512 + 6));
		tree_badblocks("pmem1", text);
	}
	dev = open_file(0);
	t_ueq(udax_size(dev), FPAGES * PG);
	t_eq(udax_badblocks(dev, r, 4), 2);
	t_ueq(r[0].off, 5 * PG);		/* widened to the block */
	t_ueq(r[0].len, PG);
	t_ueq(r[1].off, 9 * PG);

	/* Failfast refuses the pages, recovery reads up to them. */
	t_eq(udax_read(dev, buf, PG, 5 * PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_read(dev, buf, 8 * PG, 0, UDAX_OP_RECOVERY), 5 * PG);
	t_ok(memcmp(buf, pattern, 5 * PG));
	t_eq(udax_pread(dev, buf, 3 * PG, 6 * PG), 3 * PG);
	/* A mapping to give: the kaddr, and the frame of the block. */
	t_eq(udax_direct_access(dev, 5, 1, &k, &pfn), -EIO);
	k = NULL;
	t_eq(udax_direct_access(dev, 2, 2, &k, &pfn), 2);
	t_ok(memcmp(udax_kaddr_untag(k), pattern + 2 * PG, 2 * PG));
	t_ueq(pfn, (0x200000000ULL + phys_of(file, 2 * PG)) / PG);
	udax_close(dev);

	/* The same disk list, the file system on partition 1: the disk's
	 * sectors are 2048 further on, so this list is not the file's... */
	fs_on(true);
	dev = open_file(0);
	t_eq(nknown(dev), 0);
	udax_close(dev);
	/* ... and this one is. */
	{
		char text[128];

		snprintf(text, sizeof(text), "%llu 1\n",
			 (unsigned long long)(2048 + p5 / 512 + 7));
		tree_badblocks("pmem1", text);
	}
	dev = open_file(0);
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].off, 5 * PG);
	k = NULL;
	t_eq(udax_direct_access(dev, 0, 1, &k, &pfn), 1);
	t_ueq(pfn, (0x200000000ULL + 2048 * 512 + phys_of(file, 0)) / PG);
	udax_close(dev);
	fs_on(false);
	tree_badblocks("pmem1", "");
	free(buf);
	printf("ok known list: disk list x FIEMAP, widened; partitions\n");
}

static void test_refresh(void)
{
	struct udax_dev *dev;
	char text[64];

	fresh_file();
	tree_badblocks("pmem1", "");
	dev = open_file(0);
	t_eq(nknown(dev), 0);
	snprintf(text, sizeof(text), "%llu 8\n",
		 (unsigned long long)(phys_of(file, 7 * PG) / 512));
	tree_badblocks("pmem1", text);
	wait_known(dev, 1);
	/* The file changes under the list: page 7 punched out (a hole has
	 * no block, so no poison), then written again elsewhere or not. */
	{
		int fd = open(file, O_RDWR);

		t_ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       7 * PG, PG));
		close(fd);
	}
	wait_known(dev, 0);
	t_eq(udax_read(dev, text, 8, 7 * PG, UDAX_OP_FAILFAST), 8);
	udax_close(dev);
	tree_badblocks("pmem1", "");
	printf("ok refresh: the disk's list and the file's extents followed\n");
}

static void test_write(void)
{
	unsigned char *buf = malloc(8 * PG), *chk = malloc(8 * PG);
	struct udax_dev *dev;
	uint64_t p5, p5b;
	char text[64];
	int fd;

	fresh_file();
	p5 = phys_of(file, 5 * PG);
	snprintf(text, sizeof(text), "%llu 8\n", (unsigned long long)(p5 / 512));
	tree_badblocks("pmem1", text);
	dev = open_file(0);
	memset(buf, 0x3c, 8 * PG);
	fd = open(file, O_RDONLY);

	/* Through the mapping, persistently; udax_sync() msyncs here. */
	t_eq(udax_write(dev, buf, 3 * PG + 10, 1000, UDAX_OP_FAILFAST), 3 * PG + 10);
	t_ok(udax_sync(dev));
	t_eq(pread(fd, chk, 4 * PG, 0), 4 * PG);
	t_ok(memcmp(chk, pattern, 1000));
	t_ok(memcmp(chk + 1000, buf, 3 * PG + 10));
	/* Failfast never touches page 5; recovery needs it whole. */
	t_eq(udax_write(dev, buf, PG, 5 * PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_write(dev, buf, 100, 5 * PG, UDAX_OP_RECOVERY), -EIO);
	t_eq(pread(fd, chk, PG, 5 * PG), PG);
	t_ok(memcmp(chk, pattern + 5 * PG, PG));

	/* Whole page: pwrite through the kernel (here: no poison, so it
	 * just writes).  The fake list still has the block: known. */
	t_eq(udax_write(dev, buf, PG, 5 * PG, UDAX_OP_RECOVERY), PG);
	t_eq(pread(fd, chk, PG, 5 * PG), PG);
	t_ok(memcmp(chk, buf, PG));
	t_eq(nknown(dev), 1);

	/* The fallback alone (punch, allocate, write): the page is written;
	 * whether the file system gave it a new block is its choice, and
	 * the known list follows the block. */
	memset(buf, 0x77, PG);
	t_ok(udax__fsdax_reallocate(dev, 5 * PG, buf, PG));
	t_eq(pread(fd, chk, PG, 5 * PG), PG);
	t_ok(memcmp(chk, buf, PG));
	p5b = phys_of(file, 5 * PG);
	wait_known(dev, p5b == p5 ? 1 : 0);
	printf("   reallocated file page 5: block %s\n",
	       p5b == p5 ? "the same" : "moved");
	/* Not a whole block: refused, nothing punched. */
	t_eq(udax__fsdax_reallocate(dev, 5 * PG + 512, buf, 512), -EOPNOTSUPP);
	close(fd);
	udax_close(dev);

	dev = open_file(UDAX_OPEN_RDONLY);
	t_eq(udax_write(dev, buf, 10, 0, UDAX_OP_FAILFAST), -EBADF);
	t_eq(udax_read(dev, chk, 10, 0, UDAX_OP_FAILFAST), 10);
	udax_close(dev);
	tree_badblocks("pmem1", "");
	free(buf);
	free(chk);
	printf("ok write: mapping, recovery through pwrite, reallocation\n");
}

static void test_faults(void)
{
	unsigned char *buf = malloc(FPAGES * PG);
	struct udax_dev *dev;
	int fd;

	fresh_file();
	tree_badblocks("pmem1", "");
	dev = open_file(0);
	/* The file truncated under the mapping: a real SIGBUS (BUS_ADRERR)
	 * that is not poison: -ENXIO, and nothing becomes known. */
	fd = open(file, O_RDWR);
	t_ok(ftruncate(fd, 16 * PG));
	t_eq(udax_read(dev, buf, PG, 40 * PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(udax_read(dev, buf, 20 * PG, 10 * PG, UDAX_OP_RECOVERY), 6 * PG);
	t_eq(udax_write(dev, buf, PG, 40 * PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(nknown(dev), 0);
	close(fd);
	udax_close(dev);

	/* Smaller than a page; a tail that is not a page. */
	fd = open(file, O_RDWR);
	t_ok(ftruncate(fd, 100));
	t_eq(udax__open_backend(&udax__fsdax_backend, file, 0, &dev), -EINVAL);
	t_ok(ftruncate(fd, 3 * PG + 100));
	close(fd);
	dev = open_file(0);
	t_ueq(udax_size(dev), 3 * PG);
	udax_close(dev);

	/* Poison ops: the bus's tools, not udax's. */
	fresh_file();
	dev = open_file(0);
	t_eq(udax_inject(dev, 0, PG, 0), -EOPNOTSUPP);
	t_eq(udax_scrub(dev), -EOPNOTSUPP);
	udax_close(dev);

	/* The probe: a file that is not DAX is not fsdax's. */
	{
		struct stat st;

		fd = open(file, O_RDONLY);
		t_ok(fstat(fd, &st));
		t_eq(udax__fsdax_backend.probe(fd, &st, file), 0);
		close(fd);
		t_eq(udax_open(file, 0, &dev), -EOPNOTSUPP);
	}
	free(buf);
	printf("ok faults: truncation is not poison; sizes; probe\n");
}

static volatile sig_atomic_t prog_sigbus;
static volatile uintptr_t prog_addr;

static void prog_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	prog_sigbus++;
	prog_addr = (uintptr_t)si->si_addr;
}

/* A SIGBUS as the kernel delivers consumed poison, queued by the test to
 * itself (the kernel's part: MADV_HWPOISON in tests/kernel). */
static void queue_mce(void *addr, int lsb)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = BUS_MCEERR_AR;
	si.si_addr = addr;
	si.si_addr_lsb = (short)lsb;
	t_ok(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGBUS, &si));
}

static void test_watch(void)
{
	struct sigaction sa = { .sa_sigaction = prog_handler,
				.sa_flags = SA_SIGINFO };
	struct udax_range r[4];
	struct udax_dev *dev, *other;
	char *k;
	void *kv = NULL;

	if (t_under_valgrind()) {
		printf("skip watch: valgrind aborts on a self-queued SIGBUS\n");
		return;
	}
	fresh_file();
	tree_badblocks("pmem1", "");
	/* The program's handler first; udax's, installed by the first
	 * open of this process, chains to it. */
	t_ok(sigaction(SIGBUS, &sa, NULL));
	dev = open_file(0);
	other = open_file(0);
	t_eq(udax_direct_access(dev, 0, FPAGES, &kv, NULL), FPAGES);
	k = udax_kaddr_untag(kv);

	/* Consumed poison outside udax's copies: the program's handler has
	 * it, and so does the device's known list from its next call on. */
	queue_mce(k + 12 * PG + 100, 12);
	t_eq(prog_sigbus, 1);
	t_ueq(prog_addr, (uintptr_t)(k + 12 * PG + 100));
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].off, 12 * PG);
	t_ueq(r[0].len, PG);
	t_eq(udax_read(dev, r, 8, 12 * PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_pread(dev, r, 8, 12 * PG), -EIO);
	/* Another handle of the same file did not consume it. */
	t_eq(nknown(other), 0);
	/* It stays known over refreshes: the kernel's list never had it. */
	usleep(20000);
	t_eq(nknown(dev), 1);
	/* A huge-page report names a region; the page is found by reading
	 * it, and here no page faults: nothing is recorded. */
	queue_mce(k, 21);
	t_eq(prog_sigbus, 2);
	t_eq(nknown(dev), 1);
	/* Not poison (no BUS_MCEERR_*): not recorded. */
	{
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = SIGBUS;
		si.si_code = BUS_ADRERR;
		si.si_addr = k + 20 * PG;
		t_ok(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGBUS, &si));
	}
	t_eq(prog_sigbus, 3);
	t_eq(nknown(dev), 1);
	/* A recovery write clears what udax found: the kernel took it. */
	memset(r, 0, sizeof(r));
	{
		char page[PG];

		memset(page, 0x11, PG);
		t_eq(udax_write(dev, page, PG, 12 * PG, UDAX_OP_RECOVERY), PG);
	}
	t_eq(nknown(dev), 0);
	udax_close(other);
	udax_close(dev);
	/* Closed: a SIGBUS there is the program's alone. */
	queue_mce(k + 12 * PG, 12);
	t_eq(prog_sigbus, 4);
	printf("ok watch: consumed poison outside copies becomes known\n");
}

int main(void)
{
	struct statfs sfs;
	struct stat st;
	int fd;

	test_translate();

	dir = t_tmpdir();
	setenv("UDAX_REFRESH_MS", "2", 1);
	tree_init(dir);
	snprintf(file, sizeof(file), "%s/f", dir);
	pattern = malloc(FPAGES * PG);
	for (size_t i = 0; i < FPAGES * PG; i++)
		pattern[i] = (unsigned char)(i * 13 + i / PG);
	fresh_file();
	fd = open(file, O_RDONLY);
	t_ok(fstat(fd, &st));
	t_ok(fstatfs(fd, &sfs));
	{
		union {
			struct fiemap fm;
			char raw[sizeof(struct fiemap) + sizeof(struct fiemap_extent)];
		} q;

		memset(&q, 0, sizeof(q));
		q.fm.fm_length = 1;
		q.fm.fm_extent_count = 1;

		if (ioctl(fd, FS_IOC_FIEMAP, &q.fm) || !q.fm.fm_mapped_extents) {
			close(fd);
			t_skip("no FIEMAP on the file system of %s", dir);
		}
	}
	close(fd);
	if (sfs.f_bsize != PG)
		t_skip("the file system of %s has %ld-byte blocks; the test wants pages",
		       dir, (long)sfs.f_bsize);
	snprintf(devt, sizeof(devt), "%u:%u", major(st.st_dev), minor(st.st_dev));
	/* A pmem disk "pmem1" whose sysfs entry is the file system's. */
	tree_pmem_disk("pmem1", "259:8", "259:9", 2048, "0x200000000\n");
	fs_on(false);

	/* First: the program's SIGBUS handler must be there before udax's
	 * (installed at the first open), which chains to it. */
	test_watch();
	test_known();
	test_refresh();
	test_write();
	test_faults();
	free(pattern);
	t_tmpdir_rm(dir);
	return 0;
}
