/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pmem backend (/dev/pmemN) without a pmem device: its sysfs side on a
 * fake tree under UDAX_SYSFS_ROOT (disk lookup, partitions, the list and
 * its refresh, physical frames, adding to the kernel's list), and its data
 * path on a regular file standing in for the disk (udax__pmem_open_on()).
 *
 * What this cannot show, because only the kernel's pmem driver does it:
 * EIO for a sector in the kernel's list or for consumed poison, and a write
 * clearing poison.  Here the stand-in file never fails; the list is what
 * the fake tree says, and stays so until the test changes it.  Those paths
 * run against Linux in tests/kernel (scenarios/pmem-*.sh).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "private.h"
#include "backends/pmem.h"
#include "sysfs-tree.h"

#define PG UDAX_PAGE_SIZE
#define PAGES 256	/* 1 MiB */

static char *dir;
static char data_path[PATH_MAX];
static unsigned char *pattern;

static int on_file_open(struct udax_dev *dev, int fd, const char *path)
{
	return udax__pmem_open_on(dev, fd, path, "pmem0", 0);
}

/* The backend's own code, the disk being a regular file. */
static const struct udax_backend on_file = {
	.name = "pmem on a file",
	.open = on_file_open,
};

static struct udax_dev *open_dev(unsigned int flags)
{
	struct udax_dev *dev;
	int rc = udax__open_backend(&on_file, data_path, flags, &dev);

	if (rc == -EINVAL)
		t_skip("O_DIRECT refused by the file system of %s", dir);
	t_ok(rc);
	return dev;
}

/* The stand-in disk's bytes, read past udax. */
static void disk_read(void *buf, size_t len, uint64_t off)
{
	int fd = open(data_path, O_RDONLY);

	t_assert(fd >= 0);
	t_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void fresh_data(void)
{
	int fd = open(data_path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	t_assert(fd >= 0);
	t_eq(write(fd, pattern, PAGES * PG), PAGES * PG);
	t_ok(fsync(fd));
	close(fd);
	tree_badblocks("pmem0", "");
}

static long nknown(struct udax_dev *dev)
{
	return udax_badblocks(dev, NULL, 0);
}

/* Wait (bounded) for the next refresh to show @n ranges. */
static void wait_known(struct udax_dev *dev, long n)
{
	for (int i = 0; i < 5000 && nknown(dev) != n; i++)
		usleep(1000);
	t_eq(nknown(dev), n);
}

static void test_sysfs_lookup(void)
{
	char disk[64], bad[64];
	uint64_t start = 1;

	t_ok(udax__sysfs_blkdev(259, 0, disk, sizeof(disk), &start));
	t_assert(!strcmp(disk, "pmem0"));
	t_ueq(start, 0);
	t_ok(udax__sysfs_blkdev(259, 1, disk, sizeof(disk), &start));
	t_assert(!strcmp(disk, "pmem0"));
	t_ueq(start, 2048);
	t_eq(udax__sysfs_blkdev(259, 7, disk, sizeof(disk), &start), -ENOENT);
	t_eq(udax__sysfs_blkdev(259, 0, bad, 3, &start), -ENAMETOOLONG);
	printf("ok sysfs: disk and partition lookup\n");
}

static void test_list(void)
{
	struct udax_range r[4];
	struct udax_blk b;
	bool changed;

	/* Linux's text as it shows it; parsed, sorted, merged. */
	tree_badblocks("pmem0", "9 7\n100 8\n17 8\n");
	t_ok(udax__blk_init(&b, "pmem0", 0));
	t_assert(b.has_list);
	t_ueq(b.phys, 0x100000000ULL);
	t_ok(udax__blk_read(&b, &changed));
	t_assert(changed);
	t_ueq(b.n, 3);
	t_ueq(b.r[0].off, 9);
	t_ueq(b.r[0].len, 7);
	t_ueq(b.r[1].off, 17);
	t_ueq(b.r[2].off, 100);
	/* The same text again: nothing to parse. */
	t_ok(udax__blk_read(&b, &changed));
	t_assert(!changed);
	/* Adjacent ranges merge as a table keeps them. */
	tree_badblocks("pmem0", "9 7\n16 8\n");
	t_ok(udax__blk_read(&b, &changed));
	t_assert(changed);
	t_ueq(b.n, 1);
	t_ueq(b.r[0].len, 15);
	/* A malformed list is an error; the last good one stays. */
	tree_badblocks("pmem0", "9 x\n");
	t_eq(udax__blk_read(&b, &changed), -EINVAL);
	t_ueq(b.n, 1);
	udax__blk_fini(&b);

	/* A disk without a list (not pmem): empty, said once. */
	t_ok(udax__blk_init(&b, "nolist", 0));
	t_assert(!b.has_list);
	t_ok(udax__blk_read(&b, &changed));
	t_assert(changed);
	t_ok(udax__blk_read(&b, &changed));
	t_assert(!changed);
	t_ueq(b.n, 0);
	udax__blk_fini(&b);

	/* The device sees its own sectors: a partition's start is taken
	 * off, and what lies outside it is not its poison. */
	tree_badblocks("pmem0", "4 4\n2050 3\n100000 8\n");
	{
		struct udax_dev *dev = open_dev(0);

		/* 256 pages = sectors 0-2047 */
		t_eq(udax_badblocks(dev, r, 4), 1);
		t_ueq(r[0].off, 4 * 512);
		udax_close(dev);
	}
	printf("ok sysfs: the list, parsed once per change\n");
}

static int part_open(struct udax_dev *dev, int fd, const char *path)
{
	return udax__pmem_open_on(dev, fd, path, "pmem0", 2048);
}

static void test_partition(void)
{
	static const struct udax_backend part = { .name = "part", .open = part_open };
	struct udax_range r[4];
	struct udax_dev *dev;
	uint64_t pfn;

	/* Disk sectors 4-7 are before the partition, 2050-2052 are its
	 * sectors 2-4, 100000+ is past its end (256 pages). */
	tree_badblocks("pmem0", "4 4\n2050 3\n100000 8\n");
	t_ok(udax__open_backend(&part, data_path, 0, &dev));
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].off, 2 * 512);
	t_ueq(r[0].len, 3 * 512);
	/* The frame: the namespace's physical start + the disk offset. */
	t_eq(udax_direct_access(dev, 3, 1, NULL, &pfn), 1);
	t_ueq(pfn, (0x100000000ULL + 2048 * 512 + 3 * PG) / PG);
	udax_close(dev);
	tree_badblocks("pmem0", "");
	printf("ok partition: start taken off, outside cut away\n");
}

static void test_read(void)
{
	unsigned char *buf = malloc(16 * PG + 1);
	struct udax_dev *dev;
	void *k = NULL;
	uint64_t pfn;

	fresh_data();
	tree_badblocks("pmem0", "9 7\n");
	dev = open_dev(0);
	t_assert(!strcmp(udax_backend(dev), "pmem"));
	t_ueq(udax_size(dev), PAGES * PG);

	/* No mapping to give: -EOPNOTSUPP for a kaddr, the pfn still. */
	t_eq(udax_direct_access(dev, 0, 1, &k, &pfn), -EOPNOTSUPP);
	t_eq(udax_direct_access(dev, 2, 4, NULL, &pfn), 4);
	t_ueq(pfn, (0x100000000ULL + 2 * PG) / PG);
	t_eq(udax_direct_access(dev, 0, 4, NULL, NULL), -EIO);

	/* R2/R3 on the known list: page 1 holds sectors 9-15. */
	t_eq(udax_read(dev, buf, PG, PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_read(dev, buf, 512, PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_read(dev, buf, 4 * PG, 0, UDAX_OP_RECOVERY), PG);
	t_ok(memcmp(buf, pattern, PG));
	t_eq(udax_pread(dev, buf, 4 * PG, 0), PG);

	/* Unaligned reads through the bounce buffer. */
	t_eq(udax_read(dev, buf, 3 * PG + 1, 2 * PG + 7, UDAX_OP_FAILFAST),
	     3 * PG + 1);
	t_ok(memcmp(buf, pattern + 2 * PG + 7, 3 * PG + 1));
	t_eq(udax_read(dev, buf + 1, 100, PAGES * PG - 100, UDAX_OP_FAILFAST), 100);
	t_ok(memcmp(buf + 1, pattern + PAGES * PG - 100, 100));
	/* More than one chunk. */
	{
		unsigned char *big = malloc(200 * PG);

		t_eq(udax_read(dev, big, 200 * PG - 3, 2 * PG + 3, UDAX_OP_FAILFAST),
		     200 * PG - 3);
		t_ok(memcmp(big, pattern + 2 * PG + 3, 200 * PG - 3));
		free(big);
	}
	udax_close(dev);
	free(buf);
	printf("ok read: known poison refused, prefix in recovery, bounce\n");
}

static void test_write(void)
{
	unsigned char *buf = malloc(300 * PG), *chk = malloc(300 * PG);
	struct udax_dev *dev;

	fresh_data();
	tree_badblocks("pmem0", "9 7\n");
	dev = open_dev(0);
	memset(buf, 0xa5, 300 * PG);

	/* Bytes inside pages: the rest of each page stays. */
	t_eq(udax_write(dev, buf, 100, 2 * PG + 1000, UDAX_OP_FAILFAST), 100);
	disk_read(chk, 3 * PG, 2 * PG);
	t_ok(memcmp(chk, pattern + 2 * PG, 1000));
	t_assert(chk[1000] == 0xa5 && chk[1099] == 0xa5);
	t_ok(memcmp(chk + 1100, pattern + 2 * PG + 1100, 2 * PG - 1100));
	/* Across pages, both ends partial, more than one chunk. */
	t_eq(udax_write(dev, buf, 120 * PG + 10, 3 * PG + 5, UDAX_OP_FAILFAST),
	     120 * PG + 10);
	disk_read(chk, 122 * PG, 3 * PG);
	t_ok(memcmp(chk, pattern + 3 * PG, 5));
	t_assert(chk[5] == 0xa5 && chk[5 + 120 * PG + 9] == 0xa5);
	t_ok(memcmp(chk + 5 + 120 * PG + 10, pattern + 123 * PG + 15,
		    122 * PG - (5 + 120 * PG + 10)));

	/* Failfast never writes over known poison; recovery needs the
	 * whole page. */
	t_eq(udax_write(dev, buf, PG, PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_write(dev, buf, 2 * PG, 0, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_write(dev, buf, 512, PG + 512, UDAX_OP_RECOVERY), -EIO);
	disk_read(chk, PG, PG);
	t_ok(memcmp(chk, pattern + PG, PG));
	/* A write that starts on good pages stops at the poisoned page. */
	t_eq(udax_write(dev, buf, PG + 512, 512, UDAX_OP_RECOVERY), PG - 512);

	/* A whole page: the backend writes it through the "kernel" (here:
	 * the file); the list is the fake tree's, which nobody cleared, so
	 * the page stays known.  On Linux the pmem driver clears it. */
	t_eq(udax_write(dev, buf, PG, PG, UDAX_OP_RECOVERY), PG);
	disk_read(chk, PG, PG);
	t_assert(chk[0] == 0xa5 && chk[PG - 1] == 0xa5);
	t_eq(nknown(dev), 1);

	/* zero_page_range: clean pages zeroed by plain writes. */
	t_ok(udax_zero_page_range(dev, 10, 2));
	disk_read(chk, 2 * PG, 10 * PG);
	for (int i = 0; i < 2 * PG; i++)
		t_eq(chk[i], 0);
	udax_close(dev);

	/* Read-only. */
	dev = open_dev(UDAX_OPEN_RDONLY);
	t_eq(udax_write(dev, buf, 100, 20 * PG, UDAX_OP_FAILFAST), -EBADF);
	t_eq(udax_read(dev, chk, 100, 20 * PG, UDAX_OP_FAILFAST), 100);
	udax_close(dev);
	free(buf);
	free(chk);
	printf("ok write: read-modify-write, list read again before writing\n");
}

/*
 * In a child whose refresh tick never comes (UDAX_REFRESH_MS = 100 s; the
 * child starts its own tick thread): the list moves only when the backend
 * reads it on its own.
 */
static void test_write_reads_list(void)
{
	unsigned char buf[PG], chk[PG];
	struct udax_dev *dev;
	int st;
	pid_t pid;

	fresh_data();
	tree_badblocks("pmem0", "9 7\n");
	pid = fork();
	t_assert(pid >= 0);
	if (!pid) {
		setenv("UDAX_REFRESH_MS", "100000", 1);
		dev = open_dev(0);
		memset(buf, 0x5a, sizeof(buf));
		/* Poison the kernel added since the last refresh: a write
		 * reads the list again first and stops before it (the pmem
		 * driver would clear it otherwise). */
		tree_badblocks("pmem0", "9 7\n24 1\n");
		t_eq(udax_write(dev, buf, PG, 3 * PG, UDAX_OP_FAILFAST), -EIO);
		t_eq(nknown(dev), 2);
		disk_read(chk, PG, 3 * PG);
		t_ok(memcmp(chk, pattern + 3 * PG, PG));
		/* Recovery over it goes to ->recovery_write: written. */
		t_eq(udax_write(dev, buf, PG, 3 * PG, UDAX_OP_RECOVERY), PG);
		disk_read(chk, PG, 3 * PG);
		t_ok(memcmp(chk, buf, PG));
		/* The list read again after it is the kernel's: nobody
		 * cleared the fake one, so the page is still known. */
		t_eq(nknown(dev), 2);
		udax_close(dev);
		_exit(0);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	t_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("ok write: the list is read again before writing\n");
}

static void test_refresh(void)
{
	struct udax_range r[4];
	struct udax_dev *dev;

	fresh_data();
	tree_badblocks("pmem0", "");
	dev = open_dev(0);
	t_eq(nknown(dev), 0);
	/* The kernel's list changes: seen at a refresh, with no reopen. */
	tree_badblocks("pmem0", "64 8\n");
	wait_known(dev, 1);
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].off, 64 * 512);
	t_eq(udax_read(dev, r, 8, 8 * PG, UDAX_OP_FAILFAST), -EIO);
	tree_badblocks("pmem0", "");
	wait_known(dev, 0);
	t_eq(udax_read(dev, r, 8, 8 * PG, UDAX_OP_FAILFAST), 8);

	/* Poison the generic layer found stays known for the handle's
	 * life, over every refresh of the kernel's list. */
	udax__memory_failure(dev, 20 * PG + 5, 1);
	t_eq(nknown(dev), 1);
	tree_badblocks("pmem0", "100 1\n");
	wait_known(dev, 2);
	t_eq(udax_badblocks(dev, r, 4), 2);
	t_ueq(r[0].off, 100 * 512);
	t_ueq(r[1].off, 20 * PG);
	t_ueq(r[1].len, PG);
	/* ... but not one the kernel's list has already. */
	udax__memory_failure(dev, 12 * PG, PG);
	t_eq(udax_badblocks(dev, r, 4), 2);
	udax_close(dev);
	tree_badblocks("pmem0", "");
	printf("ok refresh: the kernel's list followed, found poison kept\n");
}

static void test_poison_ops(void)
{
	struct udax_dev *dev;
	char text[256];

	fresh_data();
	dev = open_dev(0);
	/* No media poison through udax: ndctl inject-error's job. */
	t_eq(udax_inject(dev, 0, PG, 0), -EOPNOTSUPP);
	t_eq(udax_scrub(dev), -EOPNOTSUPP);
	/* Kernel-known poison goes into the kernel's own list (a write of
	 * its sysfs file; here the fake file, which was empty). */
	t_eq(udax_badblocks_import(dev, "40 8\n", 5), 1);
	tree_read("sys/block/pmem0/badblocks", text, sizeof(text));
	t_assert(!strcmp(text, "40 8\n"));
	t_eq(nknown(dev), 1);
	udax_close(dev);
	printf("ok poison ops: inject/scrub refused, import through sysfs\n");
}

int main(void)
{
	int fd;

	dir = t_tmpdir();
	setenv("UDAX_REFRESH_MS", "2", 1);
	tree_init(dir);
	tree_pmem_disk("pmem0", "259:0", "259:1", 2048, "0x100000000\n");
	snprintf(data_path, sizeof(data_path), "%s/disk", dir);
	pattern = malloc(PAGES * PG);
	for (size_t i = 0; i < PAGES * PG; i++)
		pattern[i] = (unsigned char)(i * 7 + i / PG);
	fresh_data();
	fd = open(data_path, O_RDWR | O_DIRECT);
	if (fd < 0)
		t_skip("O_DIRECT refused by the file system of %s", dir);
	close(fd);

	test_sysfs_lookup();
	test_list();
	test_partition();
	test_read();
	test_write();
	test_write_reads_list();
	test_refresh();
	test_poison_ops();
	free(pattern);
	t_tmpdir_rm(dir);
	return 0;
}
