/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A file on a DAX file system (ext4 or xfs mounted -o dax): the device is
 * the file, its pages are the file's.
 *
 * Probe: statx() says STATX_ATTR_DAX (the file's accesses go straight to
 * pmem), never a header in the file.
 *
 * Mapping: MAP_SHARED_VALIDATE | MAP_SYNC, so that a store made durable by
 * the CPU (udax's persistent copies) is durable in the file too, the file
 * system's metadata included.  A file system that refuses MAP_SYNC gets a
 * plain shared mapping and udax_sync() msyncs.  The program's kaddr and
 * udax's own guarded copies use the same mapping.
 *
 * Known poison: the disk's list (/sys/block/<disk>/badblocks, sectors of
 * the whole disk; a partition starts further on) intersected with the
 * file's extents (FS_IOC_FIEMAP), translated to file offsets and widened to
 * the file-system block, the unit the file system maps.  Unwritten extents
 * count: the block is the file's, and writing it needs the poison gone
 * (Linux reads such a block as zeros without touching it: docs/real-devices.md).
 * Refreshed as pmem.c's: the text of the disk's list at each tick, FIEMAP
 * again only when the list is not empty and the list or the file (size,
 * blocks, ctime) changed.
 *
 * Faults in a copy (R11): BUS_MCEERR_* is poison the CPU consumed; a
 * BUS_ADRERR is poison only when the kernel's list, read again at that
 * moment, has the page (the kernel refuses to map a page it knows is bad);
 * otherwise it is the file: truncated under the mapping (-ENXIO), or a
 * hole the file system could not fill (-ENOSPC).
 *
 * Recovery write (whole pages): pwrite() through the kernel, whose fs-dax
 * write path (Linux >= 5.18, dax_recovery_write) clears the poison of the
 * page where the platform can.  Where that fails (EIO, EFAULT), PMDK's way:
 * punch the block out of the file, allocate it again (the file system
 * zeroes a new block through the block layer, which clears poison where it
 * can; or picks another block) and write the page.  The log says which ran.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "private.h"
#include "backends/pmem.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

#define PG UDAX_PAGE_SIZE

struct fsdax {
	int fd;
	bool sync;			/* mapped MAP_SYNC */
	uint32_t blksz;			/* the file system's block */
	struct udax_blk blk;
	/* the file when its list was last translated; under blk.lock */
	struct timespec ctime;
	off_t fsize;
	blkcnt_t blocks;
	bool translated;
	struct udax_watch *watch;	/* the program's own consumed poison */
};

static struct fsdax *fsdax_of(struct udax_dev *dev)
{
	return dev->priv;
}

/* ---- the translation ------------------------------------------------------ */

/* First range of @bad (sorted, disjoint; sectors) ending after byte @p. */
static size_t bad_after(const struct udax_range *bad, size_t nb, uint64_t p)
{
	size_t lo = 0, hi = nb;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((bad[mid].off + bad[mid].len) * UDAX_SECTOR_SIZE <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int udax__fsdax_translate(const struct udax_extent *ext, size_t ne,
			  const struct udax_range *bad, size_t nb,
			  uint64_t start, uint32_t blksz, uint64_t size,
			  struct udax_range **out, size_t *nout)
{
	struct udax_range *r = NULL, *t;
	uint64_t base = start * UDAX_SECTOR_SIZE;
	size_t n = 0, cap = 0, e, i;

	if (!blksz || blksz % UDAX_SECTOR_SIZE || start > UINT64_MAX / UDAX_SECTOR_SIZE)
		return -EINVAL;
	for (e = 0; e < ne; e++) {
		const struct udax_extent *x = &ext[e];
		uint64_t p0 = base + x->physical, p1 = p0 + x->len;

		/* No place on the disk (delayed allocation, or unknown). */
		if (x->flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC) ||
		    !x->len || p0 < base || p1 < p0 || x->logical >= size)
			continue;
		for (i = bad_after(bad, nb, p0);
		     i < nb && bad[i].off * UDAX_SECTOR_SIZE < p1; i++) {
			uint64_t is = bad[i].off * UDAX_SECTOR_SIZE;
			uint64_t ie = (bad[i].off + bad[i].len) * UDAX_SECTOR_SIZE;
			uint64_t fs, fe;

			is = is > p0 ? is : p0;
			ie = ie < p1 ? ie : p1;
			/* The file's bytes on those sectors, then the whole
			 * blocks that hold them: the file system maps blocks. */
			fs = x->logical + (is - p0);
			fe = x->logical + (ie - p0);
			fs -= fs % blksz;
			fe = fe % blksz ? fe + (blksz - fe % blksz) : fe;
			if (fs >= size)
				continue;
			fe = fe < size ? fe : size;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				t = realloc(r, cap * sizeof(*r));
				if (!t) {
					free(r);
					return -ENOMEM;
				}
				r = t;
			}
			r[n].off = fs / UDAX_SECTOR_SIZE;
			r[n].len = (fe + UDAX_SECTOR_SIZE - 1) / UDAX_SECTOR_SIZE - r[n].off;
			n++;
		}
	}
	n = udax__ranges_merge(r, n);
	if (!n) {
		free(r);
		r = NULL;
	}
	*out = r;
	*nout = n;
	return 0;
}

/* ---- extents ---------------------------------------------------------------- */

#define FIEMAP_BATCH 128

/* The file's extents over [0, size).  0 or -errno. */
static int fiemap_all(int fd, uint64_t size, struct udax_extent **out,
		      size_t *nout)
{
	struct udax_extent *e = NULL, *t;
	struct fiemap *fm;
	size_t n = 0, cap = 0;
	uint64_t pos = 0;
	int rc = 0;

	fm = malloc(sizeof(*fm) + FIEMAP_BATCH * sizeof(fm->fm_extents[0]));
	if (!fm)
		return -ENOMEM;
	while (pos < size) {
		const struct fiemap_extent *last;
		uint32_t i, m;

		/* The extents too: valgrind does not know the kernel fills
		 * them. */
		memset(fm, 0, sizeof(*fm) + FIEMAP_BATCH * sizeof(fm->fm_extents[0]));
		fm->fm_start = pos;
		fm->fm_length = size - pos;
		fm->fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
			rc = -errno;
			break;
		}
		m = fm->fm_mapped_extents;
		if (!m)
			break;
		if (n + m > cap) {
			cap = (n + m) * 2;
			t = realloc(e, cap * sizeof(*e));
			if (!t) {
				rc = -ENOMEM;
				break;
			}
			e = t;
		}
		for (i = 0; i < m; i++)
			e[n++] = (struct udax_extent){
				.logical = fm->fm_extents[i].fe_logical,
				.physical = fm->fm_extents[i].fe_physical,
				.len = fm->fm_extents[i].fe_length,
				.flags = fm->fm_extents[i].fe_flags,
			};
		last = &fm->fm_extents[m - 1];
		if (last->fe_flags & FIEMAP_EXTENT_LAST ||
		    last->fe_logical + last->fe_length <= pos)
			break;
		pos = last->fe_logical + last->fe_length;
	}
	free(fm);
	if (rc) {
		free(e);
		return rc;
	}
	*out = e;
	*nout = n;
	return 0;
}

/* ---- the known list ---------------------------------------------------------- */

static bool file_moved(const struct fsdax *x, const struct stat *st)
{
	return !x->translated || st->st_size != x->fsize ||
	       st->st_blocks != x->blocks ||
	       st->st_ctim.tv_sec != x->ctime.tv_sec ||
	       st->st_ctim.tv_nsec != x->ctime.tv_nsec;
}

/* Translate the disk's list (read) for the file as it is; blk.lock held. */
static int fsdax_translate_now(struct udax_dev *dev, const struct stat *st)
{
	struct fsdax *x = fsdax_of(dev);
	struct udax_range *r = NULL;
	struct udax_extent *e = NULL;
	size_t n = 0, ne = 0;
	int rc = 0;

	if (x->blk.n) {
		rc = fiemap_all(x->fd, dev->size, &e, &ne);
		if (rc) {
			udax__err("FIEMAP: %s: the file's poison cannot be known",
				  strerror(-rc));
			return rc;
		}
		rc = udax__fsdax_translate(e, ne, x->blk.r, x->blk.n,
					   x->blk.start, x->blksz, dev->size,
					   &r, &n);
		free(e);
		if (rc)
			return rc;
	}
	rc = udax__known_publish(dev, r, n, ++x->blk.version);
	free(r);
	if (!rc) {
		x->translated = true;
		x->fsize = st->st_size;
		x->blocks = st->st_blocks;
		x->ctime = st->st_ctim;
	}
	return rc;
}

static int fsdax_reload(struct udax_dev *dev, bool force)
{
	struct fsdax *x = fsdax_of(dev);
	uint64_t g = __atomic_load_n(dev->known_src, __ATOMIC_ACQUIRE);
	struct stat st;
	bool changed;
	int rc;

	/* pages the program consumed poison in, through its own loads */
	udax__watch_record(dev, x->watch);
	pthread_mutex_lock(&x->blk.lock);
	rc = udax__blk_read(&x->blk, &changed);
	if (!rc && fstat(x->fd, &st))
		rc = -errno;
	if (!rc && (changed || force || !x->translated ||
		    (x->blk.n && file_moved(x, &st))))
		rc = fsdax_translate_now(dev, &st);
	pthread_mutex_unlock(&x->blk.lock);
	if (!rc)
		__atomic_store_n(&dev->known_gen, g, __ATOMIC_RELEASE);
	return rc;
}

static int fsdax_load_known(struct udax_dev *dev)
{
	return fsdax_reload(dev, false);
}

/* ---- the ops ------------------------------------------------------------------- */

static int fsdax_fault(struct udax_dev *dev, uint64_t off,
		       const struct udax_fault *f, bool write)
{
	struct fsdax *x = fsdax_of(dev);
	struct stat st;

	if (f->signo == SIGBUS &&
	    (f->code == BUS_MCEERR_AR || f->code == BUS_MCEERR_AO)) {
		udax__dbg("a copy met consumed poison (BUS_MCEERR_%s) at %#llx",
			  f->code == BUS_MCEERR_AR ? "AR" : "AO",
			  (unsigned long long)off);
		return 0;
	}
	/* The kernel refuses to map a page it knows is bad (BUS_ADRERR):
	 * poison, if its list has the page now. */
	if (!fsdax_reload(dev, false) &&
	    udax__first_bad_page(dev, off / PG, 1) != UINT64_MAX)
		return 0;
	if (!fstat(x->fd, &st) && (uint64_t)st.st_size < dev->size) {
		udax__err("DAX file truncated under its mapping (%lld of %llu bytes)",
			  (long long)st.st_size, (unsigned long long)dev->size);
		return -ENXIO;
	}
	if (write) {
		udax__err("DAX file: no block for the page at %#llx (file system full?)",
			  (unsigned long long)(off & ~(uint64_t)(PG - 1)));
		return -ENOSPC;
	}
	udax__err("DAX file: fault at %#llx (signal %d code %d) that is not poison",
		  (unsigned long long)off, f->signo, f->code);
	return -ENXIO;
}

static ssize_t pwrite_all(int fd, const char *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = pwrite(fd, buf + done, len - done, (off_t)(off + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (!w)
			return -EIO;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

int udax__fsdax_reallocate(struct udax_dev *dev, uint64_t off,
			   const void *src, size_t len)
{
	struct fsdax *x = fsdax_of(dev);
	ssize_t w;

	/* Punching a block larger than the write would lose the rest of
	 * it. */
	if (off % x->blksz || len % x->blksz)
		return -EOPNOTSUPP;
	if (fallocate(x->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len))
		return errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
	/* From here the page is a hole (zeros): its old bytes were lost to
	 * the poison already. */
	if (fallocate(x->fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return -errno;
	w = pwrite_all(x->fd, src, len, off);
	if (w < 0)
		return (int)w;
	/* The new block must be the file's for good, as MAP_SYNC promises
	 * for the mapping's own allocations. */
	if (fdatasync(x->fd))
		return -errno;
	return 0;
}

static ssize_t fsdax_recovery_write(struct udax_dev *dev, uint64_t off,
				    const void *src, size_t len)
{
	struct fsdax *x = fsdax_of(dev);
	struct udax_fault f;
	ssize_t w;
	char *buf;
	int rc;

	/* Our own copy first: EFAULT from the kernel then means the page,
	 * never the caller's buffer. */
	if (posix_memalign((void **)&buf, PG, len))
		return -ENOMEM;
	if (udax__mc_copy(buf, src, len, false, &f) < len) {
		free(buf);
		return -EFAULT;
	}
	w = pwrite_all(x->fd, buf, len, off);
	if (w == (ssize_t)len) {
		udax__info("recovery write at %#llx+%#zx: pwrite through the kernel (dax_recovery_write) cleared the poison",
			   (unsigned long long)off, len);
	} else if (w == -EIO || w == -EFAULT) {
		rc = udax__fsdax_reallocate(dev, off, buf, len);
		if (rc) {
			udax__err("recovery write at %#llx: the kernel could not clear the poison (pwrite: %s), nor reallocate the block (%s)",
				  (unsigned long long)off, strerror((int)-w),
				  strerror(-rc));
			free(buf);
			fsdax_reload(dev, true);
			return rc;
		}
		udax__info("recovery write at %#llx+%#zx: the kernel could not clear the poison (pwrite: %s); punched the block out, allocated it again and wrote it",
			   (unsigned long long)off, len, strerror((int)-w));
	} else {
		free(buf);
		return w < 0 ? w : -EIO;
	}
	free(buf);
	udax__blk_recheck(dev, &x->blk);
	return (ssize_t)len;
}

static int fsdax_zero_page_range(struct udax_dev *dev, uint64_t pgoff,
				 uint64_t n)
{
	return udax__zero_pages(dev, pgoff, n);
}

static int fsdax_persist(struct udax_dev *dev, uint64_t off, uint64_t len)
{
	struct fsdax *x = fsdax_of(dev);
	uint64_t a = off & ~(uint64_t)(PG - 1);

	if (x->sync)
		return 0;
	if (msync(dev->base + a, off + len - a, MS_SYNC))
		return -errno;
	return 0;
}

/* The frame of the block under page @pgoff; UINT64_MAX for a hole. */
static uint64_t file_pfn(struct udax_dev *dev, uint64_t pgoff)
{
	struct fsdax *x = fsdax_of(dev);
	union {
		struct fiemap fm;
		char raw[sizeof(struct fiemap) + sizeof(struct fiemap_extent)];
	} q;
	const struct fiemap_extent *fe = &q.fm.fm_extents[0];
	uint64_t at = pgoff * PG, p;

	memset(&q, 0, sizeof(q));
	q.fm.fm_start = at;
	q.fm.fm_length = PG;
	q.fm.fm_extent_count = 1;
	if (ioctl(x->fd, FS_IOC_FIEMAP, &q.fm) || !q.fm.fm_mapped_extents ||
	    fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC) ||
	    fe->fe_logical > at || fe->fe_logical + fe->fe_length <= at)
		return UINT64_MAX;
	p = x->blk.start * UDAX_SECTOR_SIZE + fe->fe_physical +
	    (at - fe->fe_logical);
	return x->blk.phys == UINT64_MAX ? p / PG : (x->blk.phys + p) / PG;
}

static void *fsdax_direct_access(struct udax_dev *dev, uint64_t pgoff,
				 uint64_t *pfn)
{
	if (pfn)
		*pfn = file_pfn(dev, pgoff);
	return dev->base + pgoff * PG;
}

static void fsdax_close(struct udax_dev *dev)
{
	struct fsdax *x = fsdax_of(dev);

	udax__watch_del(x->watch);
	munmap(dev->base, dev->size);
	close(x->fd);
	udax__blk_fini(&x->blk);
	free(x);
}

static const struct udax_ops fsdax_ops = {
	.name = "fsdax",
	.direct_access = fsdax_direct_access,
	.zero_page_range = fsdax_zero_page_range,
	.recovery_write = fsdax_recovery_write,
	.load_known = fsdax_load_known,
	.close = fsdax_close,
	.fault = fsdax_fault,
	.memory_failure = udax__real_memory_failure,
	.persist = fsdax_persist,
	/* .poison: none; ndctl inject-error / start-scrub work on the
	 * namespace under the file system. */
};

/* ---- probe and open ---------------------------------------------------------- */

static int fsdax_probe(int fd, const struct stat *st, const char *path)
{
	struct statx sx;

	(void)path;
	if (!S_ISREG(st->st_mode))
		return 0;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx))
		return 0;
	return (sx.stx_attributes_mask & STATX_ATTR_DAX) &&
	       (sx.stx_attributes & STATX_ATTR_DAX);
}

static int fsdax_open(struct udax_dev *dev, int fd, const char *path)
{
	int prot = PROT_READ | (dev->flags & UDAX_OPEN_RDONLY ? 0 : PROT_WRITE);
	struct statfs sfs;
	struct stat st;
	struct fsdax *x;
	uint64_t size;
	void *map;
	int rc;

	if (fstat(fd, &st) || fstatfs(fd, &sfs))
		return -errno;
	size = (uint64_t)st.st_size & ~(uint64_t)(PG - 1);
	if (!size) {
		udax__err("%s: smaller than a page", path);
		return -EINVAL;
	}
	if (size != (uint64_t)st.st_size)
		udax__info("%s: its last %llu bytes are not a whole page: not used",
			   path, (unsigned long long)(st.st_size - size));
	if (sfs.f_bsize <= 0 || sfs.f_bsize % UDAX_SECTOR_SIZE ||
	    sfs.f_bsize > 1 << 30) {
		udax__err("%s: file-system block of %ld bytes", path,
			  (long)sfs.f_bsize);
		return -EINVAL;
	}
	{
		/* An xfs realtime file lives on the realtime device, which is
		 * not st_dev: FIEMAP would name sectors of another disk. */
		struct fsxattr fsx;

		if (!ioctl(fd, FS_IOC_FSGETXATTR, &fsx) &&
		    fsx.fsx_xflags & FS_XFLAG_REALTIME) {
			udax__err("%s: an xfs realtime file: its disk is not known",
				  path);
			return -EOPNOTSUPP;
		}
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->fd = fd;
	x->blksz = (uint32_t)sfs.f_bsize;
	rc = udax__blk_find(&x->blk, major(st.st_dev), minor(st.st_dev));
	if (rc == -ENOENT) {
		udax__info("%s: its file system's device %u:%u is not a disk sysfs knows",
			   path, major(st.st_dev), minor(st.st_dev));
		rc = udax__blk_init(&x->blk, NULL, 0);
	}
	if (rc)
		goto err_free;

	map = mmap(NULL, size, prot, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	x->sync = map != MAP_FAILED;
	if (map == MAP_FAILED && (errno == EOPNOTSUPP || errno == EINVAL)) {
		udax__info("%s: no MAP_SYNC here: udax_sync() msyncs", path);
		map = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	}
	if (map == MAP_FAILED) {
		rc = -errno;
		udax__err("%s: mmap: %s", path, strerror(-rc));
		goto err_blk;
	}
	dev->ops = &fsdax_ops;
	dev->priv = x;
	dev->base = map;
	dev->io_base = map;
	dev->size = size;
	dev->known_src = udax__sysfs_tick();
	/* Without a watch, only poison udax's copies run into is kept. */
	if (udax__watch_add(map, size, &dev->wake, &x->watch))
		x->watch = NULL;
	return 0;

err_blk:
	udax__blk_fini(&x->blk);
err_free:
	free(x);
	return rc;
}

const struct udax_backend udax__fsdax_backend = {
	.name = "fsdax",
	.probe = fsdax_probe,
	.open = fsdax_open,
};
