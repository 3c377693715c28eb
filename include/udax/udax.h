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
 * page-aligned range first.  The mode travels in the kaddr that
 * udax_direct_access() returns (see there), as the Linux design discussion
 * that udax comes from settled it.
 *
 * Errors are negative errno values, never errno.  The fixed vocabulary:
 *   -EIO        known or found poison
 *   -ENXIO      the device is dead (udax_kill())
 *   -ERANGE     past the end of the device
 *   -EINVAL     a bad argument
 *   -EOPNOTSUPP the backend cannot do this
 *   -ENOMEM     out of memory
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
#define UDAX_VERSION_MINOR 1
#define UDAX_VERSION_PATCH 0

#define UDAX_PAGE_SIZE   4096
#define UDAX_SECTOR_SIZE 512

/* Operation modes (the seed's DAX_OP_FAILFAST / DAX_OP_RECOVERY). */
#define UDAX_OP_FAILFAST 0
#define UDAX_OP_RECOVERY 1

/* udax_inject() flags. */
#define UDAX_INJECT_LATENT (1u << 0)	/* media only; not added to the known list */
#define UDAX_INJECT_VALID  (UDAX_INJECT_LATENT)

/* udax_open() flags: none yet; any bit set gives -EINVAL. */
#define UDAX_OPEN_VALID 0u

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
 * The iterator keeps pointers into @iov; @iov must outlive it.
 */
void udax_iter_init(struct udax_iter *it, const struct iovec *iov,
		    unsigned long nr_segs, size_t count);

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
 * @path: an emulated image (udax_create()).  Real devices (a file on a
 *	DAX file system, /dev/pmemN, /dev/daxX.Y) are not supported yet and
 *	give -EOPNOTSUPP.
 * @flags: UDAX_OPEN_* (none defined yet: must be 0).
 * @out: receives the device on success only.
 *
 * The first open in a process installs udax's SIGSEGV and SIGBUS handlers,
 * which chain to the handlers that were there before.  A program that
 * installs its own handlers later must chain to udax's in turn.
 *
 * Return: 0, -EINVAL (flags, a corrupt image), -EOPNOTSUPP (not a kind of
 * device udax knows), -ENOMEM, or the -errno of open/mmap.
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

/** udax_backend() - the backend's name: "emulated". */
const char *udax_backend(const struct udax_dev *dev);

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
 * @pfn: if not NULL, the device frame number of @pgoff.
 *
 * Failfast: any known-bad sector in the pages gives -EIO.  Recovery: returns
 * the pages before the first page with a known-bad sector, or 1 when @pgoff
 * itself is bad, so that the caller can recover it.  Latent poison is not
 * seen here.
 *
 * Return: pages usable from @pgoff (at most @nr_pages, clamped to the end),
 * 0 for @nr_pages == 0, -ENXIO (dead), -EINVAL (@nr_pages < 0, a bad
 * *@kaddr), -ERANGE (@pgoff past the end), -EIO (failfast, poison).
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
 * holds poison (or the destination faulted); 0 on a dead device or a bad
 * @addr.
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
 * Return: 0, -EINVAL (@nr_pages == 0), -ERANGE (past the end), -ENXIO, or
 * the -errno of persisting the poison state.
 */
int udax_zero_page_range(struct udax_dev *dev, uint64_t pgoff, size_t nr_pages);

/**
 * udax_pread() - read as a DAX file system does
 *
 * Failfast first; on poison, recovery for the rest.  Reads past the end are
 * clamped; at or past the end gives 0.
 *
 * Return: bytes read (short: the page at @off + count holds poison), -EIO
 * when not even the first byte is readable, -ENXIO, -EINVAL (NULL @buf with
 * @len > 0).
 */
ssize_t udax_pread(struct udax_dev *dev, void *buf, size_t len, uint64_t off);

/**
 * udax_pwrite() - write as a DAX file system does
 *
 * Failfast first; on poison the span is retried in recovery mode, so that a
 * write covering whole poisoned pages clears them.  A poisoned page that
 * the write covers only partly stops it there; nothing beyond is written.
 *
 * Return: bytes written, -EIO when nothing could be written, -ENOSPC (@off
 * at or past the end), -ENXIO, -EINVAL.
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
 * device: use ndctl inject-error), -ENXIO, -ENOMEM, or the -errno of
 * persisting the poison state.
 */
int udax_inject(struct udax_dev *dev, uint64_t off, uint64_t len,
		unsigned int flags);

/**
 * udax_scrub() - make all media poison known (address range scrub)
 *
 * Return: sectors newly added to the known list, -EOPNOTSUPP, -ENXIO,
 * -ENOMEM.
 */
long udax_scrub(struct udax_dev *dev);

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
 * is applied.  The media are not changed.
 *
 * Return: ranges applied, -EINVAL (malformed), -ERANGE, -ENXIO, -ENOMEM.
 */
long udax_badblocks_import(struct udax_dev *dev, const char *text, size_t len);

/**
 * udax_kill() - mark the device dead (Linux kill_dax())
 *
 * Every later call returns -ENXIO (or 0 for the copies); calls already in
 * flight finish safely.  Memory stays mapped until udax_close().
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
