/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the two backends on a pmem disk share (pmem.c, fsdax.c): the disk's
 * kernel-kept bad-block list in sysfs, the bookkeeping of poison found on a
 * real device, and the fs-dax translation of the disk's list to a file's.
 * Private, like private.h.
 */
#ifndef UDAX_BACKENDS_PMEM_H
#define UDAX_BACKENDS_PMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "private.h"

/*
 * A pmem disk as sysfs shows it (/sys/block/<disk>), and where the device
 * udax opened starts on it.  The list is read again at every refresh, but
 * parsed and published only when its text changed.
 */
struct udax_blk {
	char disk[64];			/* name under /sys/block */
	uint64_t start;			/* the device's first sector on the
					 * disk (a partition's start) */
	uint64_t phys;			/* physical address of the disk's
					 * sector 0, or UINT64_MAX: unknown */
	bool has_list;			/* the disk has a badblocks file */
	bool loaded;			/* read at least once */

	pthread_mutex_t lock;		/* one loader at a time: orders the
					 * versions published */
	uint64_t version;		/* of the last publication */
	char *text;			/* the list's text as last read */
	size_t len;
	struct udax_range *r;		/* ... parsed: disk sectors, sorted,
					 * merged */
	size_t n;
};

/* The disk of block device @maj:@min (udax__sysfs_blkdev()). */
int udax__blk_find(struct udax_blk *b, unsigned int maj, unsigned int min);
/* A disk given by name (tests: a file standing in for it); NULL: none,
 * an empty list. */
int udax__blk_init(struct udax_blk *b, const char *disk, uint64_t start);
void udax__blk_fini(struct udax_blk *b);
/* Read the disk's list into b->r / b->n; *changed when its text differs
 * from the last read.  Caller holds b->lock. */
int udax__blk_read(struct udax_blk *b, bool *changed);
/* Add disk sectors to the kernel's own list by writing its sysfs file:
 * kernel-known poison, the media unchanged (root only). */
int udax__blk_add_known(struct udax_blk *b, const struct udax_range *r,
			size_t n);

/* ->memory_failure of real devices: poison found at [off, off + len) that
 * the known list does not have yet stays known for the handle's life. */
void udax__real_memory_failure(struct udax_dev *dev, uint64_t off,
			       uint64_t len);
/* A recovery write went through the kernel: the generic layer forgets
 * its pages (udax__poison_cleared()); the kernel's list, published again
 * at the very next call, says whether the kernel still has them. */
void udax__blk_recheck(struct udax_dev *dev, struct udax_blk *b);

/* ---- fs-dax ------------------------------------------------------------- */

/* One FIEMAP extent, in bytes; flags are FIEMAP_EXTENT_*. */
struct udax_extent {
	uint64_t logical;		/* offset in the file */
	uint64_t physical;		/* offset in the file system's device */
	uint64_t len;
	uint32_t flags;
};

/*
 * A file's known poison from its disk's: the bad sectors @bad (disk
 * sectors, sorted and disjoint) that lie under the extents @ext (physical
 * offsets relative to the file system's device, which starts at sector
 * @start of the disk), translated to file offsets, each widened to the
 * file-system block @blksz and cut at @size.  *out: file sectors, sorted,
 * merged, malloc'd (NULL when *nout is 0).  0, -EINVAL (@blksz), -ENOMEM.
 */
int udax__fsdax_translate(const struct udax_extent *ext, size_t ne,
			  const struct udax_range *bad, size_t nb,
			  uint64_t start, uint32_t blksz, uint64_t size,
			  struct udax_range **out, size_t *nout);

/* ---- test hooks ---------------------------------------------------------- */

/*
 * Open the pmem backend on @fd without looking at what it is: the data of
 * "/dev/@disk" (starting at @start) are @fd's, the known list is
 * /sys/block/@disk/badblocks under the sysfs root.  Unit tests use it with
 * a regular file and a fake sysfs tree; they see udax's own logic, never
 * what the kernel's driver would do.
 */
int udax__pmem_open_on(struct udax_dev *dev, int fd, const char *path,
		       const char *disk, uint64_t start);

/* The fs-dax recovery write's fallback alone: punch the file-system block
 * holding [off, off + len), allocate it again, write @src. */
int udax__fsdax_reallocate(struct udax_dev *dev, uint64_t off,
			   const void *src, size_t len);

#endif /* UDAX_BACKENDS_PMEM_H */
