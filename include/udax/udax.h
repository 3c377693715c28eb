/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libudax: direct access (DAX) to persistent and CXL memory in the presence
 * of media errors (poison).
 *
 *   struct udax_dev ──── one open device (emulated image, fsdax file, ...)
 *        │
 *        ├── known bad-block list   sectors the device knows are poisoned
 *        │                          (Linux: /sys/block/pmemN/badblocks)
 *        ├── media poison           what is really broken; may be latent
 *        │                          (not yet known) until scrubbed or read
 *        └── mapping                pages reached through direct_access
 *
 * Every operation takes a mode.  FAILFAST (the default) refuses a range with
 * known poison with -EIO before memory is touched.  RECOVERY reads as much as
 * possible up to the first poisoned page, and writes by clearing poison in a
 * page-aligned range first.  udax_read() and udax_write() take the mode as an
 * argument.  At the seed's level, udax_direct_access(), the mode travels in
 * the kaddr it returns (see there): the agreement of the Linux review that
 * udax comes from (v2 of "dax: introduce dax operation modes").  Mainline
 * Linux (5.18) later passed an enum dax_access_mode instead.
 *
 * Errors are negative errno values, never errno and never positive.  The
 * fixed vocabulary:
 *   -EIO        known or found poison
 *   -ENXIO      the device is gone (udax_kill(), or its file was truncated)
 *   -ERANGE     past the end of the device
 *   -EINVAL     a bad argument
 *   -EOPNOTSUPP the backend cannot do this
 *   -ENOMEM     out of memory
 *   -EUCLEAN    a corrupt emulated image or poison state file
 *   -EBADF      a write through a device opened UDAX_OPEN_RDONLY
 *   -EFAULT     the caller's buffer faulted (never reported as poison):
 *               caught when it raises SIGBUS (a mapping of a truncated
 *               file); an unmapped buffer (SIGSEGV) is a program error
 *               that crashes as in memcpy, unless an emulated device,
 *               which takes SIGSEGV, is open
 *   -ENOSPC     the file system could not back a page of the device
 * plus the errno of a failed system call where a function says so.  A short
 * count is data, not an error: poison starts at offset + count.
 *
 * Threads: every function may be called from any thread on the same device
 * at once, except udax_close(), which must be the last call on a device.
 * Readers of the bad-block list never wait for writers.
 */
#ifndef UDAX_UDAX_H
#define UDAX_UDAX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UDAX_VERSION_MAJOR 0
#define UDAX_VERSION_MINOR 2
#define UDAX_VERSION_PATCH 0

#define UDAX_PAGE_SIZE   4096
#define UDAX_SECTOR_SIZE 512

/* Operation modes (the seed's DAX_OP_FAILFAST / DAX_OP_RECOVERY). */
#define UDAX_OP_FAILFAST 0
#define UDAX_OP_RECOVERY 1

/* udax_inject() and udax_inject_ranges() flags. */
#define UDAX_INJECT_LATENT (1u << 0)	/* media only; not added to the known list */
#define UDAX_INJECT_REMOVE (1u << 1)	/* un-inject: heal the media (the known
					 * list is left as it is) */
#define UDAX_INJECT_VALID  (UDAX_INJECT_LATENT | UDAX_INJECT_REMOVE)

/* udax_clear() flags. */
#define UDAX_CLEAR_ALL     (1u << 0)	/* zero every page of the ranges, not
					 * only those holding poison */
#define UDAX_CLEAR_DRY_RUN (1u << 1)	/* count, change nothing */
#define UDAX_CLEAR_VALID   (UDAX_CLEAR_ALL | UDAX_CLEAR_DRY_RUN)

/* udax_open() flags; any other bit gives -EINVAL. */
#define UDAX_OPEN_RDONLY (1u << 0)	/* open read-only: writes give -EBADF */
#define UDAX_OPEN_VALID  (UDAX_OPEN_RDONLY)

struct udax_dev;

/* A byte range. */
struct udax_range {
	uint64_t off;
	uint64_t len;
};

/*
 * An iovec iterator, as Linux's struct iov_iter for ITER_IOVEC.  The layout
 * is public so that callers keep it on the stack; change it only through
 * udax_iter_init() and the copy functions, which advance it.
 */
struct udax_iter {
	const struct iovec *iov;	/* current segment */
	unsigned long nr_segs;		/* segments left, counting *iov */
	size_t iov_offset;		/* bytes already used of *iov */
	size_t count;			/* bytes left in the iterator */
};

/**
 * udax_iter_init() - start an iterator over @nr_segs segments of @iov
 * @count: bytes the iterator may move, at most the sum of the segments'
 *	lengths (it is clamped to that sum).
 *
 * The iterator keeps pointers into @iov; @iov must outlive it.  A NULL
 * @it is ignored; a NULL @iov makes an empty iterator.
 */
void udax_iter_init(struct udax_iter *it, const struct iovec *iov,
		    unsigned long nr_segs, size_t count);

#if defined(__GNUC__) && !defined(__cplusplus) && \
	defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L && \
	!defined(UDAX_NO_INLINE)
/*
 * The usual call, one segment known at compile time, inline (C99 and
 * later, GCC or Clang): an iterator is set up before every copy, so a call
 * here costs small copies about as much as the copy itself.  Anything
 * else is the call above.  The symbol stays, for taking its address and
 * for UDAX_NO_INLINE.  This compiles the meaning of the iterator's fields
 * into the program: they change only with the soname.
 */
static inline void udax__iter_init_inline(struct udax_iter *it,
					  const struct iovec *iov,
					  unsigned long nr_segs, size_t count)
{
	if (__builtin_constant_p(nr_segs) && nr_segs == 1 &&
	    __builtin_constant_p(it != 0) && it &&
	    __builtin_constant_p(iov != 0) && iov) {
		size_t n = iov->iov_len;

		it->iov = iov + !n;
		it->nr_segs = !!n;
		it->iov_offset = 0;
		it->count = n < count ? n : count;
		return;
	}
	(udax_iter_init)(it, iov, nr_segs, count);
}
#define udax_iter_init(it, iov, nr_segs, count) \
	udax__iter_init_inline(it, iov, nr_segs, count)
#endif

/**
 * udax_create() - create an emulated device image
 * @path: image file to create; it must not exist.  The poison state lives
 *	beside it in "@path.poison".
 * @size: device size in bytes, a positive multiple of UDAX_PAGE_SIZE.
 *
 * Return: 0, -EINVAL for a bad size, -EEXIST, or another -errno from the
 * file system (-ENOSPC, -EACCES, ...).
 */
int udax_create(const char *path, uint64_t size);

/**
 * udax_open() - open a device
 * @path: a device.  Each backend probes the file in turn; udax_backend()
 *	says which took it: "emulated" (an image from udax_create(), by its
 *	header), "fsdax" (a regular file whose accesses are DAX, by
 *	statx() STATX_ATTR_DAX: ext4 or xfs mounted -o dax), "pmem" (a block
 *	device of the nd_pmem driver, /dev/pmemN or a partition of it), "devdax" (a device-dax
 *	instance, /dev/daxX.Y, NVDIMM or CXL backed).  A
 *	real device's known list is the kernel's (its disk's sysfs badblocks,
 *	for a file intersected with the file's extents), read again at most
 *	every UDAX_REFRESH_MS milliseconds (default 100) by a call that finds
 *	it due, and at once after what may change it.
 * @flags: UDAX_OPEN_RDONLY, or 0.
 * @out: receives the device on success only.
 *
 * The first open in a process installs udax's SIGBUS handler (poison on a
 * real device arrives as SIGBUS), which chains to the handler that was
 * there before; the first emulated device also installs a SIGSEGV handler
 * (its poison is page protection).  A program that installs its own
 * handlers later must chain to udax's in turn.
 *
 * Return: 0, -EINVAL (flags), -EUCLEAN (a corrupt image or poison state),
 * -EOPNOTSUPP (not a kind of device udax knows), -ENOMEM, or the -errno of
 * open/mmap (-EACCES: try UDAX_OPEN_RDONLY; on device-dax also a known list
 * that only root may translate, see libudax(3)).
 */
int udax_open(const char *path, unsigned int flags, struct udax_dev **out);

/**
 * udax_close() - unmap and free a device; NULL is ignored.
 *
 * Must be the last call on @dev: no other thread may be inside a udax call
 * on it.
 */
void udax_close(struct udax_dev *dev);

/** udax_size() - device size in bytes; 0 for NULL. */
uint64_t udax_size(const struct udax_dev *dev);

/** udax_backend() - the backend's name, e.g. "emulated". */
const char *udax_backend(const struct udax_dev *dev);

/**
 * udax_state_path() - the file that holds the device's poison state, or
 * NULL when there is none (real devices: the kernel keeps it)
 *
 * An emulated image's "IMG.poison".  Tools that write files next to a
 * device use it to refuse overwriting it: losing it forgets known poison.
 * The string lives as long as @dev.
 */
const char *udax_state_path(const struct udax_dev *dev);

/** udax_alive() - 1 until udax_kill(), then 0. */
int udax_alive(const struct udax_dev *dev);

/**
 * udax_direct_access() - map device pages (Linux dax_direct_access())
 * @pgoff: first page.
 * @nr_pages: pages wanted.
 * @kaddr: what the caller wants, and where the address goes:
 *	NULL: only the pfn; failfast rules apply.
 *	*kaddr == NULL: failfast.
 *	*kaddr == (void *)UDAX_OP_RECOVERY: recovery.
 *	On success *kaddr is the address of @pgoff carrying the mode in bits
 *	no user address uses: udax_kaddr_mode() reads it, udax_kaddr_untag()
 *	removes it.  A tagged address faults if dereferenced; pointer
 *	arithmetic within the mapping keeps the tag.
 * @pfn: if not NULL, the device frame number of @pgoff: the physical
 *	frame where sysfs shows the namespace's resource (root), else the
 *	frame on the disk; for a DAX file, of the block under the page,
 *	UINT64_MAX for a hole.
 *
 * Failfast: any known-bad sector in the pages gives -EIO.  Recovery, with
 * fb the first known-bad sector at or after @pgoff: ceil(bytes before fb /
 * page size) pages (Linux's recovery stride: a page whose bad sector is not
 * its first sector still counts), or 1 when that is 0, so that the caller
 * can recover the bad page itself.  The copies then stop at the first page
 * that holds poison.  Latent poison is not seen here.
 *
 * Return: pages usable from @pgoff (at most @nr_pages, clamped to the end),
 * 0 for @nr_pages == 0, -ENXIO (dead), -EINVAL (@nr_pages < 0, a bad
 * *@kaddr), -ERANGE (@pgoff past the end), -EIO (failfast, poison),
 * -EOPNOTSUPP (@kaddr given, but the device has no mapping to give:
 * /dev/pmemN; udax_read() and udax_write() still work).
 */
long udax_direct_access(struct udax_dev *dev, uint64_t pgoff, long nr_pages,
			void **kaddr, uint64_t *pfn);

/**
 * udax_copy_to_iter() - read @bytes at @addr out of the device into @it
 * @pgoff: page of @addr (as given to udax_direct_access()).
 * @addr: an address from udax_direct_access(), tagged or not, plus an offset.
 *
 * Machine-check safe in both modes: stops at the start of the first page
 * holding poison (known or latent) and never crashes.  Latent poison that
 * the copy runs into becomes known.  A destination that faults stops the
 * copy as well.  Advances @it by the count.
 *
 * Return: bytes copied; less than @bytes means the page at @addr + count
 * holds poison (or the destination faulted, or the device's memory failed
 * for a reason that is not poison); 0 on a dead device or a bad @addr.
 */
size_t udax_copy_to_iter(struct udax_dev *dev, uint64_t pgoff, void *addr,
			 size_t bytes, struct udax_iter *it);

/**
 * udax_copy_from_iter() - write @bytes from @it into the device at @addr
 *
 * Persistent on return.  Failfast (@addr untagged): writes up to the start
 * of the first page holding poison; never clears poison.  Recovery (@addr
 * tagged): a range holding poison must be page-aligned and whole pages;
 * then the poison in those pages is cleared and all of @bytes written;
 * otherwise nothing is written.  Advances @it by the count.
 *
 * Return: bytes written; 0 on a dead device, a bad @addr, or an unaligned
 * recovery write over poison.
 */
size_t udax_copy_from_iter(struct udax_dev *dev, uint64_t pgoff, void *addr,
			   size_t bytes, struct udax_iter *it);

/**
 * udax_zero_page_range() - zero @nr_pages pages at @pgoff, clearing all
 * poison in them (media and known)
 *
 * Return: 0, -EINVAL (@nr_pages == 0), -ERANGE (past the end), -ENXIO,
 * -EBADF (read-only), -EOPNOTSUPP (poison the device cannot clear), or the
 * -errno of persisting the poison state.
 */
int udax_zero_page_range(struct udax_dev *dev, uint64_t pgoff, size_t nr_pages);

/**
 * udax_read() - read [@off, @off + @len) out of the device in @mode
 * @mode: UDAX_OP_FAILFAST: all or nothing.  Known poison anywhere in the
 *	pages of the range gives -EIO before memory is touched; poison found
 *	by the copy (latent until now; known from now on) gives -EIO too.
 *	UDAX_OP_RECOVERY: the bytes before the first page holding poison.
 *
 * Return: @len (failfast), bytes read (recovery; short: the page at @off +
 * count holds poison), 0 for @len == 0, -EIO (poison; in recovery: not even
 * the first byte is readable), -ERANGE (the range is not inside the
 * device), -EINVAL (@mode, NULL @buf), -EFAULT (@buf faulted), -ENXIO.
 */
ssize_t udax_read(struct udax_dev *dev, void *buf, size_t len, uint64_t off,
		  int mode);

/**
 * udax_write() - write @buf to [@off, @off + @len) in @mode
 * @mode: UDAX_OP_FAILFAST never clears poison: known poison anywhere in the
 *	pages of the range gives -EIO and nothing is written; poison found by
 *	the copy stops it there (a short count: the bytes before it are
 *	written).  UDAX_OP_RECOVERY clears poison in the poisoned pages the
 *	write covers whole and writes them; a poisoned page covered only
 *	partly cannot be recovered and stops the write there.
 *
 * Writes are persistent on return where the device's stores are (see
 * udax_sync()).
 *
 * Return: bytes written (short: the page at @off + count holds poison), 0
 * for @len == 0, -EIO (poison before the first byte), -EOPNOTSUPP (poison
 * this device cannot clear), -ERANGE, -EINVAL, -EBADF, -EFAULT, -ENOSPC,
 * -ENXIO.
 */
ssize_t udax_write(struct udax_dev *dev, const void *buf, size_t len,
		   uint64_t off, int mode);

/**
 * udax_sync() - make every write so far durable
 *
 * Nothing to do where stores are persistent on their own (device-dax, a
 * file mapped MAP_SYNC, a pmem block device); an msync where they are not
 * (an emulated image: its file lives in the page cache).
 *
 * Return: 0, -ENXIO, or the -errno of msync/fdatasync.
 */
int udax_sync(struct udax_dev *dev);

/**
 * udax_pread() - read as a DAX file system does
 *
 * Failfast first; on poison, recovery for the rest (the result of
 * udax_read() in recovery mode).  Reads past the end are clamped; at or
 * past the end gives 0.
 *
 * Return: bytes read (short: the page at @off + count holds poison), -EIO
 * when not even the first byte is readable, -ENXIO, -EINVAL (NULL @buf with
 * @len > 0), -EFAULT.
 */
ssize_t udax_pread(struct udax_dev *dev, void *buf, size_t len, uint64_t off);

/**
 * udax_pwrite() - write as a DAX file system does
 *
 * Failfast first; on poison the span is retried in recovery mode, so that a
 * write covering whole poisoned pages clears them (the result of
 * udax_write() in recovery mode).  A poisoned page that the write covers
 * only partly stops it there; nothing beyond is written.  @len is clamped
 * to the end of the device.
 *
 * Return: bytes written, 0 for @len == 0, -EIO when nothing could be
 * written, -ERANGE (@off at or past the end), -EOPNOTSUPP, -ENXIO, -EINVAL,
 * -EBADF, -EFAULT, -ENOSPC.
 */
ssize_t udax_pwrite(struct udax_dev *dev, const void *buf, size_t len,
		    uint64_t off);

/**
 * udax_inject() - poison the media over the sectors covering
 * [@off, @off + @len)
 * @flags: UDAX_INJECT_LATENT keeps the poison off the known list (as
 *	ndctl inject-error --no-notify); by default it is added to it.
 *
 * Return: 0, -EINVAL (bad flags, @len == 0), -ERANGE, -EOPNOTSUPP (a real
 * device: use ndctl inject-error), -EBADF, -ENXIO, -ENOMEM, or the -errno
 * of persisting the poison state.
 */
int udax_inject(struct udax_dev *dev, uint64_t off, uint64_t len,
		unsigned int flags);

/**
 * udax_inject_ranges() - udax_inject() over @n ranges, all or nothing
 * @r: byte ranges; the sectors covering each are poisoned.
 * @flags: as udax_inject(); UDAX_INJECT_REMOVE heals the media of the
 *	ranges instead (ndctl inject-error --uninject), leaving the known
 *	list as it is.
 *
 * One transaction: either every range is applied or none is.
 *
 * Return: 0, or as udax_inject() (-EINVAL also for a range of length 0).
 */
int udax_inject_ranges(struct udax_dev *dev, const struct udax_range *r,
		       size_t n, unsigned int flags);

/**
 * udax_media_poison() - the media poison of an emulated device, in bytes
 *
 * What udax_inject() put there and nothing has cleared, known or latent
 * (ndctl inject-error --status).  Compare with udax_badblocks() to see
 * which is latent.
 *
 * Return: the total number of ranges (may exceed @max), -EOPNOTSUPP (a real
 * device: its media are not visible), -ENXIO.
 */
long udax_media_poison(struct udax_dev *dev, struct udax_range *out,
		       size_t max);

/**
 * udax_clear() - recover the pages covering @n byte ranges
 * @flags: by default only the pages that hold poison (known, or on the
 *	emulated media) are zeroed and cleared, as ndctl clear-errors
 *	rewrites only the bad blocks: the others keep their data.
 *	UDAX_CLEAR_ALL zeroes every page.  UDAX_CLEAR_DRY_RUN only counts.
 *
 * One transaction on the emulated device.
 *
 * Return: bytes zeroed (or that would be), -EINVAL, -ERANGE, -EBADF,
 * -EOPNOTSUPP (poison this device cannot clear), -ENXIO, or the -errno of
 * persisting the poison state.
 */
int64_t udax_clear(struct udax_dev *dev, const struct udax_range *r, size_t n,
		   unsigned int flags);

/**
 * udax_scrub() - make all media poison known (address range scrub)
 *
 * Return: bytes newly added to the known list, -EOPNOTSUPP, -EBADF,
 * -ENXIO, -ENOMEM, or the -errno of persisting the poison state.
 */
int64_t udax_scrub(struct udax_dev *dev);

/**
 * udax_badblocks() - the known bad-block list, in bytes
 * @out: filled with up to @max ranges, ascending, disjoint, merged.
 *
 * Return: the total number of ranges (may exceed @max), or -ENXIO.
 */
long udax_badblocks(struct udax_dev *dev, struct udax_range *out, size_t max);

/**
 * udax_badblocks_export() - the known list in the Linux sysfs text form
 *
 * One "<first-sector> <count>\n" line per range, ascending, NUL-terminated,
 * into @buf of @size bytes (@buf may be NULL when @size is 0).
 *
 * Return: the length of the whole text without its NUL (if >= @size, the
 * text was cut: call again with a larger buffer), or -ENXIO.
 */
long udax_badblocks_export(struct udax_dev *dev, char *buf, size_t size);

/**
 * udax_badblocks_import() - add the ranges of sysfs text to the known list
 * @text: @len bytes of "<first-sector> <count>" lines.
 *
 * All or nothing: any malformed line, or a range past the end, and nothing
 * is applied.  The media are not changed.  On /dev/pmemN the ranges go to
 * the kernel's own list, through its sysfs badblocks file (root only), one
 * range a write: a range the kernel refuses (its list holds 512) ends the
 * import with the ranges before it applied.
 *
 * Return: ranges applied, -EINVAL (malformed), -ERANGE, -EOPNOTSUPP (a DAX
 * file: its list is the kernel's, for its disk), -EACCES (/dev/pmemN, not
 * root), -ENOSPC (the kernel's list is full), -EBADF, -ENXIO, -ENOMEM.
 */
long udax_badblocks_import(struct udax_dev *dev, const char *text, size_t len);

/**
 * udax_kill() - mark the device dead (Linux kill_dax())
 *
 * Every later call returns -ENXIO (or 0 for the copies); calls already in
 * flight finish safely.  Memory stays mapped until udax_close().
 *
 * Return: nothing; NULL is ignored.
 */
void udax_kill(struct udax_dev *dev);

/** udax_kaddr_mode() - the operation mode carried by @kaddr. */
unsigned long udax_kaddr_mode(const void *kaddr);

/** udax_kaddr_untag() - @kaddr without its mode tag: a plain address. */
void *udax_kaddr_untag(const void *kaddr);

/* Log levels, as syslog's. */
#define UDAX_LOG_ERR   3
#define UDAX_LOG_INFO  6
#define UDAX_LOG_DEBUG 7

typedef void (*udax_log_fn)(void *arg, int level, const char *msg);

/**
 * udax_set_log() - where libudax sends detail about failures
 * @fn: called with one line (no newline) at @level <= @max_level; NULL
 *	turns logging off (the default).
 *
 * Process-wide.  @fn may be called from any thread, never from a signal
 * handler.
 */
void udax_set_log(udax_log_fn fn, void *arg, int max_level);

/** udax_version() - "MAJOR.MINOR.PATCH" of the library running. */
const char *udax_version(void);

#ifdef __cplusplus
}
#endif

#endif /* UDAX_UDAX_H */
