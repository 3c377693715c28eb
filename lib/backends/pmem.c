/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /dev/pmemN: the block device of a raw or fsdax namespace (Linux
 * drivers/nvdimm/pmem.c), and the sysfs side of every pmem disk, which
 * fsdax.c shares for the disk under a DAX file system.
 *
 * No mapping.  A block device has no DAX mapping to give (Linux reaches
 * pmem's memory through a DAX file system or device-dax, never through
 * the block device), so ->direct_access answers the frame number and no
 * address: udax_direct_access() returns -EOPNOTSUPP for a kaddr, and the
 * copies move through ->read/->write, which go through the kernel with
 * O_DIRECT (never the page cache, whose writeback would hide an error):
 *   read   the pmem driver copies with copy_mc and fails a bio with EIO
 *          when one of its sectors is in the kernel's list or consumes
 *          poison; on EIO the chunk is read again page by page, and the
 *          first page that fails is where the copy stops
 *   write  the pmem driver clears the poison of the sectors a write
 *          covers where the platform can and fails with EIO where it
 *          cannot (6.1 pmem_do_write clears first, so nothing is written
 *          then).  Since a failfast write must not clear poison, the
 *          kernel's list is read again just before each write and the
 *          write stops at its first bad page; the rest of the window, a
 *          sector that turns bad between that read and the write, is the
 *          kernel's to decide
 *   recovery_write  a page-aligned O_DIRECT write of whole pages: the
 *          kernel clears what it covers, or says EIO (-EOPNOTSUPP here)
 * Unaligned writes read the partial pages first (under a lock, so that
 * two writers of different bytes of one page do not undo each other).
 *
 * The known list is the disk's /sys/block/<disk>/badblocks less a
 * partition's start.  It is read again at every tick of
 * udax__sysfs_tick() that a call sees (one read of a small file; parsed
 * and published only when its text changed), and at once after what may
 * have changed it: an EIO, a recovery write, a write.  The file shows what
 * fits in a page (about 455 lines; the kernel keeps at most 512 ranges):
 * beyond that, udax sees what every other reader of the file sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "private.h"
#include "backends/pmem.h"

#define PMEM_CHUNK (256 * 1024)
#define PG UDAX_PAGE_SIZE

/* ---- the disk's list (shared with fsdax.c) -------------------------------- */

static void blk_phys(struct udax_blk *b)
{
	uint64_t res;

	/* Where the disk's data start in physical memory: the namespace's
	 * resource (raw) or the pfn device's (fsdax: after its info block
	 * and struct pages).  Root-only on recent kernels: then frame
	 * numbers are relative to the disk. */
	b->phys = UINT64_MAX;
	if (!udax__sysfs_read_u64(&res, "/sys/block/%s/device/resource",
				  b->disk))
		b->phys = res;
}

int udax__blk_init(struct udax_blk *b, const char *disk, uint64_t start)
{
	char flag[16];
	int rc;

	memset(b, 0, sizeof(*b));
	b->phys = UINT64_MAX;
	if (disk && strlen(disk) >= sizeof(b->disk))
		return -ENAMETOOLONG;
	if (disk) {
		strcpy(b->disk, disk);
		b->start = start;
		rc = udax__sysfs_read(flag, sizeof(flag),
				      "/sys/block/%s/badblocks", disk);
		b->has_list = rc != -ENOENT;
		blk_phys(b);
	}
	if (!b->has_list)
		udax__info("%s: no badblocks file: only poison udax runs into is known",
			   disk ? disk : "no disk");
	if (pthread_mutex_init(&b->lock, NULL))
		return -ENOMEM;
	return 0;
}

int udax__blk_find(struct udax_blk *b, unsigned int maj, unsigned int min)
{
	char disk[64];
	uint64_t start;
	int rc;

	rc = udax__sysfs_blkdev(maj, min, disk, sizeof(disk), &start);
	if (rc) {
		udax__err("block device %u:%u: not found in sysfs (%s)", maj, min,
			  strerror(-rc));
		return rc;
	}
	return udax__blk_init(b, disk, start);
}

void udax__blk_fini(struct udax_blk *b)
{
	pthread_mutex_destroy(&b->lock);
	free(b->text);
	free(b->r);
	b->text = NULL;
	b->r = NULL;
}

int udax__blk_read(struct udax_blk *b, bool *changed)
{
	struct udax_range *r = NULL;
	size_t len = 0, n = 0;
	char *text = NULL;
	int rc;

	*changed = false;
	if (!b->has_list) {
		*changed = !b->loaded;
		b->loaded = true;
		return 0;
	}
	rc = udax__sysfs_read_alloc(&text, &len, "/sys/block/%s/badblocks",
				    b->disk);
	if (rc) {
		udax__err("/sys/block/%s/badblocks: %s", b->disk, strerror(-rc));
		return rc;
	}
	if (b->loaded && len == b->len && !memcmp(text, b->text, len)) {
		free(text);
		return 0;
	}
	rc = udax__bb_parse(text, len, UINT64_MAX >> UDAX_SECTOR_SHIFT, &r, &n);
	if (rc) {
		udax__err("/sys/block/%s/badblocks: unreadable list (%s)", b->disk,
			  strerror(-rc));
		free(text);
		return rc;
	}
	free(b->text);
	free(b->r);
	b->text = text;
	b->len = len;
	b->r = r;
	b->n = n;
	b->loaded = true;
	*changed = true;
	return 0;
}

int udax__blk_add_known(struct udax_blk *b, const struct udax_range *r,
			size_t n)
{
	char line[64];
	size_t i;
	int rc;

	if (!b->has_list)
		return -EOPNOTSUPP;
	/* One range a write: the kernel's badblocks_store() takes one. */
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%llu %llu\n",
			 (unsigned long long)r[i].off,
			 (unsigned long long)r[i].len);
		rc = udax__sysfs_write(line, "/sys/block/%s/badblocks", b->disk);
		if (rc) {
			udax__err("/sys/block/%s/badblocks: adding %llu+%llu: %s",
				  b->disk, (unsigned long long)r[i].off,
				  (unsigned long long)r[i].len, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* ---- poison found on a real device --------------------------------------- */

static void page_sectors(uint64_t off, uint64_t len, uint64_t *s, uint64_t *n)
{
	uint64_t first = off / PG, last = (off + len + PG - 1) / PG;

	*s = first * UDAX_SECTORS_PER_PAGE;
	*n = (last - first) * UDAX_SECTORS_PER_PAGE;
}

void udax__real_memory_failure(struct udax_dev *dev, uint64_t off,
			       uint64_t len)
{
	uint64_t s, n;

	/*
	 * Pages, since nothing finer is known of poison a copy found.  A
	 * page the known list already has (the kernel's, read again by the
	 * backend before it called this) needs nothing more: its own sectors
	 * say it precisely.
	 */
	page_sectors(off, len, &s, &n);
	if (udax__bb_count_in(dev->bb, s, n))
		return;
	udax__consumed_add(dev, s, n);
}

void udax__blk_recheck(struct udax_dev *dev, struct udax_blk *b)
{
	pthread_mutex_lock(&b->lock);
	b->loaded = false;
	pthread_mutex_unlock(&b->lock);
	__atomic_store_n(&dev->wake, 1, __ATOMIC_RELEASE);
}

/* ---- the block device ------------------------------------------------------ */

struct pmem {
	int fd;				/* O_DIRECT */
	struct udax_blk blk;
	uint64_t sectors;		/* the device's */
	pthread_mutex_t rmw_lock;	/* partial-page writes */
};

static struct pmem *pmem_of(struct udax_dev *dev)
{
	return dev->priv;
}

/* The kernel's list, for the device's own sectors. */
static int pmem_publish(struct udax_dev *dev)
{
	struct pmem *p = pmem_of(dev);
	struct udax_blk *b = &p->blk;
	uint64_t lo = b->start, hi = b->start + p->sectors;
	struct udax_range *r = NULL;
	size_t i, n = 0;
	int rc;

	if (b->n) {
		r = malloc(b->n * sizeof(*r));
		if (!r)
			return -ENOMEM;
	}
	for (i = 0; i < b->n; i++) {
		uint64_t s = b->r[i].off, e = s + b->r[i].len;

		if (e <= lo || s >= hi)
			continue;
		s = s < lo ? lo : s;
		e = e > hi ? hi : e;
		r[n++] = (struct udax_range){ s - lo, e - s };
	}
	rc = udax__known_publish(dev, r, n, ++b->version);
	free(r);
	return rc;
}

/*
 * Read the kernel's list and publish it when it changed (@force: publish
 * anyway, so that what udax forgot since is dropped).
 */
static int pmem_reload(struct udax_dev *dev, bool force)
{
	struct pmem *p = pmem_of(dev);
	uint64_t g = __atomic_load_n(dev->known_src, __ATOMIC_ACQUIRE);
	bool changed;
	int rc;

	__atomic_store_n(&dev->wake, 0, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p->blk.lock);
	rc = udax__blk_read(&p->blk, &changed);
	if (!rc && (changed || force))
		rc = pmem_publish(dev);
	pthread_mutex_unlock(&p->blk.lock);
	if (!rc)
		__atomic_store_n(&dev->known_gen, g, __ATOMIC_RELEASE);
	return rc;
}

static int pmem_load_known(struct udax_dev *dev)
{
	return pmem_reload(dev, false);
}

/* pread/pwrite of whole sectors: the count, or -errno. */
static ssize_t blk_io(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = write ? pwrite(fd, (char *)buf + done, len - done,
					   (off_t)(off + done))
				  : pread(fd, (char *)buf + done, len - done,
					  (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static void *bounce_alloc(size_t len)
{
	void *p;

	return posix_memalign(&p, PG, len) ? NULL : p;
}

/* Copy between the caller's buffer and a bounce buffer: a caller's buffer
 * that faults is -EFAULT, never poison. */
static size_t copy_user(void *dst, const void *src, size_t len, int *err)
{
	struct udax_fault f;
	size_t c = udax__mc_copy(dst, src, len, false, &f);

	if (c < len)
		*err = -EFAULT;
	return c;
}

/*
 * The first page of [a, a + n) (page aligned) that the kernel fails with
 * EIO, as an offset; a + n when none does now.  @buf: n bytes, filled with
 * what was read.  -errno for another failure.
 */
static int64_t first_eio_page(struct pmem *p, char *buf, uint64_t a,
			      size_t n, bool write)
{
	size_t i;

	for (i = 0; i < n; i += PG) {
		ssize_t r = blk_io(p->fd, buf + i, PG, a + i, write);

		if (r == -EIO)
			return (int64_t)(a + i);
		if (r < 0)
			return r;
		if (r < PG)
			return -ENXIO;
	}
	return (int64_t)(a + n);
}

/* The kernel failed page @pg with EIO: poison.  Its list (read now) says
 * which sectors; if it does not have them, the page stays known. */
static void pmem_poison_at(struct udax_dev *dev, uint64_t pg)
{
	pmem_reload(dev, false);
	udax__memory_failure(dev, pg, PG);
}

static size_t pmem_read(struct udax_dev *dev, uint64_t off, void *dst,
			size_t len, int *err)
{
	struct pmem *p = pmem_of(dev);
	uint64_t end = off + len, pos = off;
	uint64_t a = off & ~(uint64_t)(PG - 1);
	uint64_t aend = (end + PG - 1) & ~(uint64_t)(PG - 1);
	size_t cap = aend - a < PMEM_CHUNK ? (size_t)(aend - a) : PMEM_CHUNK;
	char *buf;

	*err = 0;
	buf = bounce_alloc(cap);
	if (!buf) {
		*err = -ENOMEM;
		return 0;
	}
	while (pos < end) {
		size_t n = aend - a < cap ? (size_t)(aend - a) : cap;
		uint64_t stop = a + n < end ? a + n : end;
		ssize_t r = blk_io(p->fd, buf, n, a, false);
		uint64_t poison = UINT64_MAX;

		if (r == -EIO) {
			int64_t bad = first_eio_page(p, buf, a, n, false);

			if (bad < 0) {
				*err = (int)bad;
				break;
			}
			if ((uint64_t)bad < a + n) {
				poison = (uint64_t)bad;
				if (poison < stop)
					stop = poison > pos ? poison : pos;
			}
		} else if (r < 0) {
			*err = (int)r;
			break;
		} else if ((size_t)r < n) {
			udax__err("/dev/%s: ends before its size (%zd of %zu bytes at %#llx)",
				  p->blk.disk, r, n, (unsigned long long)a);
			*err = -ENXIO;
			break;
		}
		if (stop > pos) {
			size_t want = (size_t)(stop - pos);
			size_t c = copy_user((char *)dst + (pos - off),
					     buf + (pos - a), want, err);

			pos += c;
			if (c < want)
				break;
		}
		if (poison != UINT64_MAX) {
			pmem_poison_at(dev, poison);
			break;
		}
		a += n;
	}
	free(buf);
	return (size_t)(pos - off);
}

/* The first page of [off, end) holding known poison, as an offset, or
 * end. */
static uint64_t known_limit(struct udax_dev *dev, uint64_t off, uint64_t end)
{
	uint64_t pg = off / PG;
	uint64_t bad = udax__first_bad_page(dev, pg, (end + PG - 1) / PG - pg);

	if (bad == UINT64_MAX)
		return end;
	bad *= PG;
	return bad > off ? bad : off;
}

/*
 * Write [a, a + n) (page aligned) from @buf.  Returns the bytes written
 * from a: n, or the offset of the page the kernel refused (poison it
 * knows, which a write here does not clear where the platform cannot),
 * or -errno.
 */
static int64_t write_pages(struct udax_dev *dev, const char *buf, uint64_t a,
			   size_t n)
{
	struct pmem *p = pmem_of(dev);
	ssize_t w = blk_io(p->fd, (void *)buf, n, a, true);
	int64_t bad;

	if (w >= 0)
		return w == (ssize_t)n ? (int64_t)n : -ENXIO;
	if (w != -EIO)
		return w;
	/* Page by page again: the same data over the pages that took it. */
	bad = first_eio_page(p, (char *)buf, a, n, true);
	if (bad < 0)
		return bad;
	if ((uint64_t)bad < a + n)
		pmem_poison_at(dev, (uint64_t)bad);
	return bad - (int64_t)a;
}

/*
 * Before a write that covers the chunk [a, a + *n) only partly, read the
 * partial pages it keeps bytes of.  A poisoned one ends the write: before
 * the head page (*n = 0), or before the tail page (dropped from *n, and
 * *stop moved to it).  0 or -errno.
 */
static int rmw_read(struct udax_dev *dev, char *buf, uint64_t a, size_t *n,
		    uint64_t pos, uint64_t *stop)
{
	struct pmem *p = pmem_of(dev);
	uint64_t t = a + *n - PG;
	ssize_t r;

	if (pos > a) {
		r = blk_io(p->fd, buf, PG, a, false);
		if (r == -EIO) {
			pmem_poison_at(dev, a);
			*n = 0;
			*stop = pos;
			return 0;
		}
		if (r >= 0 && r < PG)
			r = -ENXIO;
		if (r < 0)
			return (int)r;
	}
	if (*stop < a + *n && (pos == a || *n > PG)) {
		r = blk_io(p->fd, buf + *n - PG, PG, t, false);
		if (r == -EIO) {
			pmem_poison_at(dev, t);
			*n -= PG;
			*stop = t;
			return 0;
		}
		if (r >= 0 && r < PG)
			r = -ENXIO;
		if (r < 0)
			return (int)r;
	}
	return 0;
}

static size_t pmem_write(struct udax_dev *dev, uint64_t off, const void *src,
			 size_t len, int *err)
{
	struct pmem *p = pmem_of(dev);
	uint64_t end = off + len, pos = off, aend;
	size_t cap;
	char *buf;
	int rc;

	*err = 0;
	/* The kernel's list as it is now: a write must stop before poison
	 * rather than let the driver clear it. */
	rc = pmem_reload(dev, false);
	if (rc) {
		*err = rc;
		return 0;
	}
	end = known_limit(dev, off, end);
	if (end == off)
		return 0;
	aend = (end + PG - 1) & ~(uint64_t)(PG - 1);
	cap = (size_t)(aend - (off & ~(uint64_t)(PG - 1)));
	cap = cap < PMEM_CHUNK ? cap : PMEM_CHUNK;
	buf = bounce_alloc(cap);
	if (!buf) {
		*err = -ENOMEM;
		return 0;
	}
	while (pos < end) {
		uint64_t a = pos & ~(uint64_t)(PG - 1);
		size_t n = aend - a < cap ? (size_t)(aend - a) : cap;
		uint64_t stop = a + n < end ? a + n : end, want = stop;
		bool rmw = pos > a || stop < a + n;
		int64_t w = 0;

		if (rmw) {
			pthread_mutex_lock(&p->rmw_lock);
			rc = rmw_read(dev, buf, a, &n, pos, &stop);
			if (rc) {
				pthread_mutex_unlock(&p->rmw_lock);
				*err = rc;
				break;
			}
		}
		if (stop > pos) {
			size_t c = copy_user(buf + (pos - a),
					     (const char *)src + (pos - off),
					     (size_t)(stop - pos), err);

			if (c == stop - pos)
				w = write_pages(dev, buf, a, n);
			else
				w = -EFAULT;
		}
		if (rmw)
			pthread_mutex_unlock(&p->rmw_lock);
		if (w < 0) {
			*err = (int)w;
			break;
		}
		if ((uint64_t)w < n) {
			uint64_t at = a + (uint64_t)w;

			pos = at > pos ? at : pos;
			break;
		}
		pos = stop;
		if (stop < want)
			break;	/* a poisoned partial page */
	}
	free(buf);
	return (size_t)(pos - off);
}

static ssize_t pmem_recovery_write(struct udax_dev *dev, uint64_t off,
				   const void *src, size_t len)
{
	struct pmem *p = pmem_of(dev);
	int err = 0;
	ssize_t w;
	char *buf;

	buf = bounce_alloc(len);
	if (!buf)
		return -ENOMEM;
	if (copy_user(buf, src, len, &err) < len) {
		free(buf);
		return err;
	}
	w = blk_io(p->fd, buf, len, off, true);
	free(buf);
	if (w == -EIO) {
		/* 6.1 pmem_do_write() clears before it writes: nothing was
		 * written. */
		udax__err("/dev/%s: recovery write at %#llx: the kernel could not clear the poison (EIO: no clear-error command on this platform?)",
			  p->blk.disk, (unsigned long long)off);
		pmem_reload(dev, false);
		return -EOPNOTSUPP;
	}
	if (w < 0)
		return w;
	if ((size_t)w < len)
		return -ENXIO;
	udax__info("/dev/%s: recovery write at %#llx+%#zx: written through the kernel, which cleared the poison of those sectors",
		   p->blk.disk, (unsigned long long)off, len);
	udax__blk_recheck(dev, &p->blk);
	return (ssize_t)len;
}

static int pmem_zero_page_range(struct udax_dev *dev, uint64_t pgoff,
				uint64_t n)
{
	return udax__zero_pages(dev, pgoff, n);
}

static void *pmem_direct_access(struct udax_dev *dev, uint64_t pgoff,
				uint64_t *pfn)
{
	struct pmem *p = pmem_of(dev);
	uint64_t off = p->blk.start * UDAX_SECTOR_SIZE + pgoff * PG;

	if (pfn)
		*pfn = p->blk.phys == UINT64_MAX ? off / PG
						 : (p->blk.phys + off) / PG;
	return NULL;
}

static int pmem_add_known(struct udax_dev *dev, const struct udax_range *r,
			  size_t n)
{
	struct pmem *p = pmem_of(dev);
	struct udax_range *d;
	size_t i;
	int rc;

	d = malloc(n * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		d[i] = (struct udax_range){ r[i].off + p->blk.start, r[i].len };
	rc = udax__blk_add_known(&p->blk, d, n);
	free(d);
	pmem_reload(dev, false);
	return rc;
}

static void pmem_close(struct udax_dev *dev)
{
	struct pmem *p = pmem_of(dev);

	close(p->fd);
	udax__blk_fini(&p->blk);
	pthread_mutex_destroy(&p->rmw_lock);
	free(p);
}

static const struct udax_poison_ops pmem_poison_ops = {
	/* No inject, no scrub: ndctl inject-error and ndctl start-scrub
	 * speak to the bus's firmware, which udax does not. */
	.add_known = pmem_add_known,
};

static const struct udax_ops pmem_ops = {
	.name = "pmem",
	.direct_access = pmem_direct_access,
	.zero_page_range = pmem_zero_page_range,
	.recovery_write = pmem_recovery_write,
	.load_known = pmem_load_known,
	.close = pmem_close,
	.read = pmem_read,
	.write = pmem_write,
	.memory_failure = udax__real_memory_failure,
	.poison = &pmem_poison_ops,
};

/* ---- probe and open -------------------------------------------------------- */

static int pmem_probe(int fd, const struct stat *st, const char *path)
{
	char disk[64], drv[PATH_MAX];
	const char *name;
	uint64_t start;

	(void)fd;
	(void)path;
	if (!S_ISBLK(st->st_mode))
		return 0;
	if (udax__sysfs_blkdev(major(st->st_rdev), minor(st->st_rdev), disk,
			       sizeof(disk), &start))
		return 0;
	/* The pmem driver's disks, whatever their names. */
	if (udax__sysfs_realpath(drv, sizeof(drv), "/sys/block/%s/device/driver",
				 disk))
		return 0;
	name = strrchr(drv, '/');
	return name && !strcmp(name + 1, "nd_pmem");
}

static int pmem_open_fd(struct udax_dev *dev, int fd, const char *path,
			uint64_t bytes, struct pmem *p)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT)) {
		int rc = -errno;

		udax__err("%s: O_DIRECT: %s", path, strerror(-rc));
		return rc;
	}
	p->fd = fd;
	p->sectors = bytes / UDAX_SECTOR_SIZE;
	if (bytes % PG)
		udax__info("%s: its last %llu bytes are not a whole page: not used",
			   path, (unsigned long long)(bytes % PG));
	if (pthread_mutex_init(&p->rmw_lock, NULL))
		return -ENOMEM;
	dev->ops = &pmem_ops;
	dev->priv = p;
	dev->size = bytes & ~(uint64_t)(PG - 1);
	dev->base = NULL;
	dev->io_base = NULL;
	dev->known_src = udax__sysfs_tick();
	return 0;
}

static int pmem_open(struct udax_dev *dev, int fd, const char *path)
{
	struct stat st;
	uint64_t bytes;
	struct pmem *p;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, &bytes))
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = udax__blk_find(&p->blk, major(st.st_rdev), minor(st.st_rdev));
	if (rc)
		goto err_free;
	rc = pmem_open_fd(dev, fd, path, bytes, p);
	if (rc)
		goto err_blk;
	return 0;

err_blk:
	udax__blk_fini(&p->blk);
err_free:
	free(p);
	return rc;
}

int udax__pmem_open_on(struct udax_dev *dev, int fd, const char *path,
		       const char *disk, uint64_t start)
{
	struct stat st;
	struct pmem *p;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = udax__blk_init(&p->blk, disk, start);
	if (rc)
		goto err_free;
	rc = pmem_open_fd(dev, fd, path, (uint64_t)st.st_size, p);
	if (rc)
		goto err_blk;
	return 0;

err_blk:
	udax__blk_fini(&p->blk);
err_free:
	free(p);
	return rc;
}

const struct udax_backend udax__pmem_backend = {
	.name = "pmem",
	.probe = pmem_probe,
	.open = pmem_open,
};
