/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Moving bytes: the one I/O loop.  Every path that reads or writes the
 * device ends here — udax_copy_to_iter() and udax_copy_from_iter() (the
 * seed's calls, after direct_access), udax_read() and udax_write() (an
 * explicit mode), udax_pread() and udax_pwrite() (a DAX file system's
 * fallback from failfast to recovery, whose result is recovery's).
 *
 * Two layers:
 *   udax__io_read/write  bytes through io_base with guarded copies, or the
 *                        backend's ->read/->write; stop at the first page
 *                        that holds poison and record what they found
 *   span_read/write      the policy of a mode over a range: the known list
 *                        is checked before memory is touched, poisoned
 *                        pages a recovery write covers whole go to the
 *                        backend's ->recovery_write, partly covered ones
 *                        stop the write (Linux: "not page-aligned range
 *                        cannot be recovered")
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "private.h"

#define PAGE_MASK_U64 (~(uint64_t)(UDAX_PAGE_SIZE - 1))

static inline uint64_t page_of(uint64_t off)
{
	return off >> UDAX_PAGE_SHIFT;
}

/* Pages covering [off, off + len), len > 0. */
static inline uint64_t pages_of(uint64_t off, uint64_t len)
{
	return page_of(off + len - 1) - page_of(off) + 1;
}

/*
 * The emulated media: bytes of [off, off + len) before the first page
 * holding media poison (udax never touches emulated poison, as copy_mc
 * never consumes it twice); *hit says there is such a page.
 */
static size_t media_limit(const struct udax_dev *dev, uint64_t off,
			  size_t len, bool *hit)
{
	uint64_t fb, bad;

	*hit = false;
	if (udax__likely(!dev->media))
		return len;
	fb = udax__bb_first_bad(dev->media, page_of(off) * UDAX_SECTORS_PER_PAGE,
				pages_of(off, len) * UDAX_SECTORS_PER_PAGE);
	if (udax__likely(fb == UINT64_MAX))
		return len;
	*hit = true;
	bad = fb / UDAX_SECTORS_PER_PAGE * UDAX_PAGE_SIZE;
	return bad > off ? bad - off : 0;
}

static bool fault_is_mce(const struct udax_fault *f)
{
	return f->signo == SIGBUS &&
	       (f->code == BUS_MCEERR_AR || f->code == BUS_MCEERR_AO);
}

/* Is fault @g, met by a copy at device offset @off, poison?  0 if so. */
static int fault_kind(struct udax_dev *dev, uint64_t off,
		      const struct udax_fault *g, bool write)
{
	if (dev->ops->fault)
		return dev->ops->fault(dev, off, g, write);
	return fault_is_mce(g) ? 0 : -ENXIO;
}

/*
 * Consumed poison reported for a whole huge page: a device-dax mapping of
 * 2 MiB (or 1 GiB) pages says si_addr_lsb 21 (30) with si_addr rounded
 * down, so the copy stopped at that unit's start (or at its own, inside
 * it).  Linux's memory_failure() has unmapped the whole unit; touching it
 * again maps it again, and on real media the poisoned line faults again.
 * So the copy goes on page by page through the unit (as far as it was
 * asked to copy): the page where it faults again is the poisoned one, and
 * only that 4 KiB page is recorded, the copy's own progress being more
 * precise than the signal.  When nothing faults again, the poison could
 * not be found: the signal was simulated (MADV_HWPOISON, an injected
 * machine check: Linux 6.1 maps the unit again and it reads fine), or it
 * lies outside this copy.  Then the kernel's word is all there is: the
 * whole unit is recorded and the copy stops at its start, as it did.
 */
static size_t huge_fault(struct udax_dev *dev, uint64_t off, char *user,
			 size_t c, size_t len, const struct udax_fault *f,
			 bool write, int *err)
{
	uint64_t unit = 1ULL << f->lsb;
	uintptr_t a = (uintptr_t)f->addr & ~(uintptr_t)(unit - 1);
	uintptr_t io = (uintptr_t)dev->io_base;
	uint64_t u0 = a > io ? a - io : 0, u1 = a - io + unit;
	size_t c0 = c, end;

	if (u1 > dev->size)
		u1 = dev->size;
	end = u1 - off < len ? (size_t)(u1 - off) : len;
	while (c < end) {
		size_t step = UDAX_PAGE_SIZE - ((off + c) & (UDAX_PAGE_SIZE - 1));
		struct udax_fault g;
		size_t d;
		int rc;

		if (step > end - c)
			step = end - c;
		if (write)
			d = udax__mc_copy(dev->io_base + off + c, user + c, step,
					  true, &g);
		else
			d = udax__mc_copy(user + c, dev->io_base + off + c, step,
					  false, &g);
		c += d;
		if (d == step)
			continue;
		if (write ? g.in_src : !g.in_src) {
			*err = -EFAULT;
			return c;
		}
		rc = fault_kind(dev, off + c, &g, write);
		if (rc) {
			*err = rc;
			return c;
		}
		udax__memory_failure(dev, (off + c) & PAGE_MASK_U64, UDAX_PAGE_SIZE);
		return c;
	}
	udax__dbg("poison somewhere in %#llx+%#llx did not fault again: all of it is known",
		  (unsigned long long)u0, (unsigned long long)(u1 - u0));
	udax__memory_failure(dev, u0, u1 - u0);
	return c0;
}

/*
 * A guarded copy through io_base stopped after @c of @len bytes at
 * device offset @off.  Decide what it was; for poison, find the page and
 * record it.  Returns the count copied.
 */
static __attribute__((noinline)) size_t
io_fault(struct udax_dev *dev, uint64_t off, char *user, size_t c, size_t len,
	 const struct udax_fault *f, bool write, int *err)
{
	int rc;

	if (write ? f->in_src : !f->in_src) {
		*err = -EFAULT;		/* the caller's buffer */
		return c;
	}
	rc = fault_kind(dev, off + c, f, write);
	if (rc) {
		*err = rc;
		return c;
	}
	if (f->lsb > UDAX_PAGE_SHIFT && f->lsb < 64)
		return huge_fault(dev, off, user, c, len, f, write, err);
	udax__memory_failure(dev, (off + c) & PAGE_MASK_U64, UDAX_PAGE_SIZE);
	return c;
}

static uint64_t known_stop(const struct udax_dev *dev, uint64_t off,
			   uint64_t len);

/*
 * A copy that completed while poison in the device was reported that the
 * copy itself did not stop at (an imprecise machine check, which mcsafe.c
 * hands to the watch and lets the copy go on; the program's own load of
 * emulated media poison): make it known now and cut the count at its page,
 * so that no byte of a page reported bad is returned as good.  One load
 * when nothing came.  (When another thread holds the refresh, its list is
 * published a moment later; this copy may then miss the cut.)
 */
static inline size_t cut_at_reported(struct udax_dev *dev, uint64_t off,
				     size_t c)
{
	if (udax__likely(!__atomic_load_n(&dev->wake, __ATOMIC_ACQUIRE)))
		return c;
	udax__known_refresh(dev);
	return (size_t)(known_stop(dev, off, c) - off);
}

size_t udax__io_read(struct udax_dev *dev, uint64_t off, void *dst,
		     size_t len, int *err)
{
	struct udax_fault f;
	size_t lim, c;
	bool hit;

	*err = 0;
	lim = media_limit(dev, off, len, &hit);
	if (!dev->io_base)
		c = lim ? dev->ops->read(dev, off, dst, lim, err) : 0;
	else if ((c = udax__mc_read(dst, dev->io_base + off, lim, &f)) < lim)
		return io_fault(dev, off, dst, c, lim, &f, false, err);
	/* The page: off + c is inside it, not at its start, when the copy
	 * began there (one page from off + c would reach into the next). */
	if (c == lim && hit)
		udax__memory_failure(dev, (off + c) & PAGE_MASK_U64, UDAX_PAGE_SIZE);
	return cut_at_reported(dev, off, c);
}

size_t udax__io_write(struct udax_dev *dev, uint64_t off, const void *src,
		      size_t len, int *err)
{
	struct udax_fault f;
	size_t lim, c;
	bool hit;

	*err = 0;
	lim = media_limit(dev, off, len, &hit);
	if (!dev->io_base)
		c = lim ? dev->ops->write(dev, off, src, lim, err) : 0;
	else if ((c = udax__mc_persist(dev->io_base + off, src, lim, &f)) < lim)
		return io_fault(dev, off, (char *)src, c, lim, &f, true, err);
	if (c == lim && hit)
		udax__memory_failure(dev, (off + c) & PAGE_MASK_U64, UDAX_PAGE_SIZE);
	return c;
}

/*
 * The common case, a device with no known poison and no emulated media
 * poison, copied through io_base: nothing can stop a read or a write (of
 * either mode: there is nothing to recover) before it faults, so there is
 * nothing to look up.  Two counts, loaded inline; a table that fills
 * meanwhile is a race the caller would lose by a moment anyway.
 */
static inline bool io_clean(const struct udax_dev *dev)
{
	return dev->io_base &&
	       !(__atomic_load_n(dev->bb_nr, __ATOMIC_RELAXED) |
		 __atomic_load_n(dev->media_nr, __ATOMIC_RELAXED));
}

/* udax__io_read() on a clean device: the copy, and io_fault() if it
 * stops. */
static inline size_t io_read_clean(struct udax_dev *dev, uint64_t off,
				   void *dst, size_t len, int *err)
{
	struct udax_fault f;
	size_t c = udax__mc_read(dst, dev->io_base + off, len, &f);

	*err = 0;
	if (udax__likely(c == len))
		return cut_at_reported(dev, off, c);
	return io_fault(dev, off, dst, c, len, &f, false, err);
}

/* udax__io_write() on a clean device: the persistent copy, and io_fault()
 * if it stops.  Cold, every layer between the call and the copy costs
 * tens of ns here (64 B: 380 ns through span_write, 160 ns this way). */
static inline size_t io_write_clean(struct udax_dev *dev, uint64_t off,
				    const void *src, size_t len, int *err)
{
	struct udax_fault f;
	size_t c = udax__mc_persist(dev->io_base + off, src, len, &f);

	*err = 0;
	if (udax__likely(c == len))
		return c;
	return io_fault(dev, off, (char *)src, c, len, &f, true, err);
}

/* ---- a mode over a range ------------------------------------------------- */

/* Start of the first page in [off, off + len) with known poison, as an
 * offset, or off + len. */
static uint64_t known_stop(const struct udax_dev *dev, uint64_t off,
			   uint64_t len)
{
	uint64_t bad = udax__first_bad_page(dev, page_of(off), pages_of(off, len));

	if (udax__likely(bad == UINT64_MAX))
		return off + len;
	bad <<= UDAX_PAGE_SHIFT;
	return bad > off ? bad : off;
}

/*
 * Read [off, off + len) up to the first page holding poison.  Returns the
 * bytes read; *err is set for a failure that is not poison.
 */
static size_t span_read(struct udax_dev *dev, char *buf, uint64_t off,
			size_t len, int *err)
{
	uint64_t stop = known_stop(dev, off, len);

	*err = 0;
	if (stop == off)
		return 0;
	return udax__io_read(dev, off, buf, (size_t)(stop - off), err);
}

/*
 * Write [off, off + len).  Failfast stops at the first poisoned page.
 * Recovery sends each poisoned page the write covers whole through
 * ->recovery_write (page by page, as Linux does, so that a partly covered
 * one stops the write with everything before it written).
 */
static size_t span_write(struct udax_dev *dev, const char *buf, uint64_t off,
			 size_t len, int mode, int *err)
{
	uint64_t pos = off, end = off + len;

	*err = 0;
	while (pos < end) {
		uint64_t stop = known_stop(dev, pos, end - pos);
		ssize_t w;

		if (stop > pos) {
			size_t want = (size_t)(stop - pos);
			size_t c = udax__io_write(dev, pos, buf + (pos - off),
						  want, err);

			pos += c;
			if (*err)
				break;
			if (c == want && pos == end)
				break;
		}
		/* pos is in a poisoned page. */
		if (mode == UDAX_OP_FAILFAST)
			break;
		if (pos & (UDAX_PAGE_SIZE - 1) || end - pos < UDAX_PAGE_SIZE) {
			udax__dbg("recovery write at %#llx: the poisoned page is not covered whole",
				  (unsigned long long)pos);
			break;
		}
		w = dev->ops->recovery_write(dev, pos, buf + (pos - off),
					     UDAX_PAGE_SIZE);
		if (w < 0) {
			*err = (int)w;
			break;
		}
		udax__poison_cleared(dev, pos, UDAX_PAGE_SIZE);
		pos += UDAX_PAGE_SIZE;
	}
	return (size_t)(pos - off);
}

/* ---- the seed's copies --------------------------------------------------- */

/*
 * The start of both copies: a live device, and @addr (maybe tagged)
 * resolved to its device offset *off, with *bytes clamped to the iterator
 * and to the device's end.  False when there is nothing to copy: dead
 * device, bad arguments, an address outside the mapping or before page
 * @pgoff (the caller's direct_access started there: an address below it
 * is a caller's mix-up).
 */
static inline bool copy_begin(struct udax_dev *dev, uint64_t pgoff,
			      const void *addr, size_t *bytes,
			      const struct udax_iter *it, uint64_t *off)
{
	uintptr_t a = (uintptr_t)addr & ~(uintptr_t)UDAX__KADDR_TAG_MASK;

	if (!it || udax__dev_enter(dev) || !dev->base)
		return false;
	/* One compare: below the mapping wraps to a large offset. */
	*off = (uint64_t)(a - (uintptr_t)dev->base);
	if (*off >= dev->size || page_of(*off) < pgoff)
		return false;
	if (*bytes > it->count)
		*bytes = it->count;
	if (*bytes > dev->size - *off)
		*bytes = dev->size - *off;
	return *bytes > 0;
}

/* The iterator's current segment: address and bytes, at most @max. */
static char *iter_seg(const struct udax_iter *it, size_t max, size_t *n)
{
	*n = it->iov->iov_len - it->iov_offset;
	if (*n > max)
		*n = max;
	return (char *)it->iov->iov_base + it->iov_offset;
}

static __attribute__((noinline)) size_t
to_iter(struct udax_dev *dev, uint64_t off, size_t bytes, struct udax_iter *it,
	bool clean)
{
	size_t done = 0;

	if (!clean)
		bytes = (size_t)(known_stop(dev, off, bytes) - off);
	while (done < bytes && it->nr_segs) {
		size_t n, c;
		char *seg = iter_seg(it, bytes - done, &n);
		int err;

		if (clean)
			c = io_read_clean(dev, off + done, seg, n, &err);
		else
			c = udax__io_read(dev, off + done, seg, n, &err);
		udax__iter_advance(it, c);
		done += c;
		if (c < n)
			break;
	}
	return done;
}

/* The fast path's copy stopped at @c of @bytes, or its device got a
 * report meanwhile: what to_iter() makes of it.  Out of line, so that the
 * fast path keeps little across its copy. */
static __attribute__((noinline, cold)) size_t
to_iter_end(struct udax_dev *dev, uint64_t off, char *seg, size_t c,
	    size_t bytes, const struct udax_fault *f, struct udax_iter *it)
{
	int err;

	if (c != bytes)
		c = io_fault(dev, off, seg, c, bytes, f, false, &err);
	else
		c = cut_at_reported(dev, off, c);
	udax__iter_advance(it, c);
	return c;
}

size_t udax_copy_to_iter(struct udax_dev *dev, uint64_t pgoff, void *addr,
			 size_t bytes, struct udax_iter *it)
{
	uint64_t off;

	if (!copy_begin(dev, pgoff, addr, &bytes, it, &off))
		return 0;
	/* The usual call: a clean device, one segment holds it all. */
	if (udax__likely(io_clean(dev) && it->nr_segs)) {
		size_t left = it->iov->iov_len - it->iov_offset;

		if (udax__likely(bytes <= left)) {
			char *seg = (char *)it->iov->iov_base + it->iov_offset;
			struct udax_fault f;
			size_t c = udax__mc_read(seg, dev->io_base + off, bytes,
						 &f);

			if (udax__unlikely(c != bytes ||
					   __atomic_load_n(&dev->wake,
							   __ATOMIC_ACQUIRE)))
				return to_iter_end(dev, off, seg, c, bytes, &f,
						   it);
			/* udax__iter_advance(), knowing the segment */
			it->count -= bytes;
			if (bytes < left) {
				it->iov_offset += bytes;
				return bytes;
			}
			it->iov_offset = 0;
			do {
				it->iov++;
				it->nr_segs--;
			} while (it->nr_segs && !it->iov->iov_len);
			return bytes;
		}
	}
	return to_iter(dev, off, bytes, it, io_clean(dev));
}

/* udax_copy_from_iter() past its fast path, from @done bytes on. */
static __attribute__((noinline)) size_t
from_iter(struct udax_dev *dev, uint64_t off, size_t bytes, size_t done,
	  struct udax_iter *it, int mode)
{
	if (mode == UDAX_OP_RECOVERY) {
		bool clean = known_stop(dev, off, bytes) == off + bytes, hit;

		media_limit(dev, off, bytes, &hit);
		/* Linux: "not page-aligned range cannot be recovered". */
		if ((!clean || hit) &&
		    (off % UDAX_PAGE_SIZE || bytes % UDAX_PAGE_SIZE)) {
			udax__dbg("recovery write at %#llx+%zu: not page-aligned",
				  (unsigned long long)off, bytes);
			return done;
		}
	}
	while (done < bytes && it->nr_segs) {
		char page[UDAX_PAGE_SIZE];
		size_t n, c;
		char *seg = iter_seg(it, bytes - done, &n);
		int err;

		/*
		 * A recovery write goes page by page; a page split between
		 * two segments is gathered first, so that a poisoned page is
		 * always recovered whole.
		 */
		if (mode == UDAX_OP_RECOVERY && n < UDAX_PAGE_SIZE &&
		    bytes - done >= UDAX_PAGE_SIZE) {
			struct udax_iter peek = *it;
			size_t got = 0;

			while (got < UDAX_PAGE_SIZE && peek.nr_segs) {
				size_t m, d;
				char *s = iter_seg(&peek, UDAX_PAGE_SIZE - got, &m);
				struct udax_fault f;

				/* The caller's memory: it may fault. */
				d = udax__mc_copy(page + got, s, m, false, &f);
				got += d;
				if (d < m)
					break;
				udax__iter_advance(&peek, m);
			}
			if (!got)
				break;
			seg = page;
			n = got;
		}
		c = span_write(dev, seg, off + done, n, mode, &err);
		udax__iter_advance(it, c);
		done += c;
		if (c < n)
			break;
	}
	return done;
}

size_t udax_copy_from_iter(struct udax_dev *dev, uint64_t pgoff, void *addr,
			   size_t bytes, struct udax_iter *it)
{
	int mode = (int)udax_kaddr_mode(addr);
	size_t done = 0;
	uint64_t off;

	if (!copy_begin(dev, pgoff, addr, &bytes, it, &off) ||
	    dev->flags & UDAX_OPEN_RDONLY)
		return 0;
	/* The usual call: a clean device, one segment holds it all.  A
	 * recovery write that meets poison goes on as below from there. */
	if (udax__likely(io_clean(dev) && it->nr_segs &&
			 bytes <= it->iov->iov_len - it->iov_offset)) {
		int err;

		done = io_write_clean(dev, off, (char *)it->iov->iov_base +
				      it->iov_offset, bytes, &err);
		udax__iter_advance(it, done);
		if (udax__likely(done == bytes) || err ||
		    mode != UDAX_OP_RECOVERY)
			return done;
	}
	return from_iter(dev, off, bytes, done, it, mode);
}

/* ---- explicit modes ----------------------------------------------------- */

static int rw_args(struct udax_dev *dev, const void *buf, size_t len,
		   uint64_t off, int mode)
{
	int rc = udax__dev_enter(dev);

	if (rc)
		return rc;
	if ((!buf && len) ||
	    (mode != UDAX_OP_FAILFAST && mode != UDAX_OP_RECOVERY))
		return -EINVAL;
	if (off > dev->size || len > dev->size - off)
		return -ERANGE;
	return 0;
}

/* What a call that moved @done bytes and stopped with @err returns. */
static ssize_t rw_result(struct udax_dev *dev, size_t done, int err)
{
	if (done)
		return (ssize_t)done;
	if (err)
		return err;
	return udax_alive(dev) ? -EIO : -ENXIO;
}

static ssize_t do_read(struct udax_dev *dev, void *buf, size_t len,
		       uint64_t off, int mode)
{
	size_t c;
	int err;

	if (udax__likely(io_clean(dev))) {
		c = io_read_clean(dev, off, buf, len, &err);
		if (udax__likely(c == len))
			return (ssize_t)len;
	} else {
		if (mode == UDAX_OP_FAILFAST &&
		    known_stop(dev, off, len) != off + len)
			return -EIO;
		c = span_read(dev, buf, off, len, &err);
	}
	if (mode == UDAX_OP_FAILFAST && c < len)
		return err ? err : -EIO;
	return rw_result(dev, c, err);
}

static ssize_t do_write(struct udax_dev *dev, const void *buf, size_t len,
			uint64_t off, int mode)
{
	size_t c, done = 0;
	int err;

	if (dev->flags & UDAX_OPEN_RDONLY)
		return -EBADF;
	if (udax__likely(io_clean(dev))) {
		c = io_write_clean(dev, off, buf, len, &err);
		if (udax__likely(c == len))
			return (ssize_t)len;
		if (err || mode == UDAX_OP_FAILFAST)
			return rw_result(dev, c, err);
		/* a recovery write met poison: as below from there */
		done = c;
	} else if (mode == UDAX_OP_FAILFAST &&
		   known_stop(dev, off, len) != off + len) {
		return -EIO;
	}
	c = done + span_write(dev, (const char *)buf + done, off + done,
			      len - done, mode, &err);
	return rw_result(dev, c, err);
}

ssize_t udax_read(struct udax_dev *dev, void *buf, size_t len, uint64_t off,
		  int mode)
{
	int rc = rw_args(dev, buf, len, off, mode);

	if (rc)
		return rc;
	return len ? do_read(dev, buf, len, off, mode) : 0;
}

ssize_t udax_write(struct udax_dev *dev, const void *buf, size_t len,
		   uint64_t off, int mode)
{
	int rc = rw_args(dev, buf, len, off, mode);

	if (rc)
		return rc;
	return len ? do_write(dev, buf, len, off, mode) : 0;
}

ssize_t udax_pread(struct udax_dev *dev, void *buf, size_t len, uint64_t off)
{
	int rc = udax__dev_enter(dev);

	if (rc)
		return rc;
	if (!buf && len)
		return -EINVAL;
	if (off >= dev->size || !len)
		return 0;
	if (len > dev->size - off)
		len = (size_t)(dev->size - off);
	return do_read(dev, buf, len, off, UDAX_OP_RECOVERY);
}

ssize_t udax_pwrite(struct udax_dev *dev, const void *buf, size_t len,
		    uint64_t off)
{
	int rc = udax__dev_enter(dev);

	if (rc)
		return rc;
	if (!buf && len)
		return -EINVAL;
	if (off >= dev->size)
		return -ERANGE;
	if (!len)
		return 0;
	if (len > dev->size - off)
		len = (size_t)(dev->size - off);
	return do_write(dev, buf, len, off, UDAX_OP_RECOVERY);
}
