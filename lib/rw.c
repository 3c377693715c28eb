/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pread/pwrite as a DAX file system does them (Linux fs/dax.c
 * dax_iomap_iter): map the span failfast; when direct_access refuses it
 * with -EIO, enact recovery for the rest (R6, R7).  Only the public device
 * calls are used, so this is the same path any fs-dax style caller takes.
 */
#include <errno.h>

#include "private.h"

struct rw_step {
	uint64_t pgoff;
	size_t in_page;		/* offset of the position in its page */
	void *kaddr;		/* tagged with the mode */
	long pages;		/* from direct_access, or -errno */
};

/* Map the pages covering [pos, pos + len): failfast, or recovery when
 * @recovery or failfast finds known poison. */
static void rw_map(struct udax_dev *dev, uint64_t pos, size_t len,
		   bool recovery, struct rw_step *st)
{
	long want;

	st->pgoff = pos >> UDAX_PAGE_SHIFT;
	st->in_page = pos & (UDAX_PAGE_SIZE - 1);
	want = (long)((st->in_page + len + UDAX_PAGE_SIZE - 1) >> UDAX_PAGE_SHIFT);
	st->kaddr = NULL;
	if (!recovery) {
		st->pages = udax_direct_access(dev, st->pgoff, want, &st->kaddr, NULL);
		if (st->pages != -EIO)
			return;
	}
	st->kaddr = (void *)UDAX_OP_RECOVERY;
	st->pages = udax_direct_access(dev, st->pgoff, want, &st->kaddr, NULL);
}

/* Clamp [off, off + *len) to the device; false when @off is past it. */
static bool rw_clamp(const struct udax_dev *dev, uint64_t off, size_t *len)
{
	uint64_t size = udax_size(dev);

	if (off >= size)
		return false;
	if (*len > size - off)
		*len = size - off;
	return true;
}

ssize_t udax_pread(struct udax_dev *dev, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (!dev || (!buf && len))
		return -EINVAL;
	if (!udax_alive(dev))
		return -ENXIO;
	if (!rw_clamp(dev, off, &len) || !len)
		return 0;

	while (done < len) {
		size_t chunk = len - done, c;
		struct iovec iov;
		struct udax_iter it;
		struct rw_step st;

		rw_map(dev, off + done, chunk, false, &st);
		if (st.pages < 0)
			return done ? (ssize_t)done : st.pages;
		if (chunk > (size_t)st.pages * UDAX_PAGE_SIZE - st.in_page)
			chunk = (size_t)st.pages * UDAX_PAGE_SIZE - st.in_page;
		iov.iov_base = (char *)buf + done;
		iov.iov_len = chunk;
		udax_iter_init(&it, &iov, 1, chunk);
		c = udax_copy_to_iter(dev, st.pgoff, (char *)st.kaddr + st.in_page,
				      chunk, &it);
		done += c;
		if (c < chunk)
			break;	/* the page at off + done holds poison */
	}
	if (!done)
		return udax_alive(dev) ? -EIO : -ENXIO;
	return (ssize_t)done;
}

ssize_t udax_pwrite(struct udax_dev *dev, const void *buf, size_t len,
		    uint64_t off)
{
	uint64_t stuck = UINT64_MAX;	/* where a failfast write stopped */
	size_t done = 0;

	if (!dev || (!buf && len))
		return -EINVAL;
	if (!udax_alive(dev))
		return -ENXIO;
	if (!rw_clamp(dev, off, &len))
		return -ENOSPC;

	while (done < len) {
		uint64_t pos = off + done;
		size_t chunk = len - done, c;
		struct iovec iov;
		struct udax_iter it;
		struct rw_step st;
		bool recovery;

		rw_map(dev, pos, chunk, pos == stuck, &st);
		if (st.pages < 0)
			return done ? (ssize_t)done : st.pages;
		recovery = udax_kaddr_mode(st.kaddr) == UDAX_OP_RECOVERY;
		if (chunk > (size_t)st.pages * UDAX_PAGE_SIZE - st.in_page)
			chunk = (size_t)st.pages * UDAX_PAGE_SIZE - st.in_page;
		/*
		 * Recovery goes a page at a time, as Linux does, so that the
		 * pages before a partly covered poisoned page are written and
		 * nothing after it is.
		 */
		if (recovery && chunk > UDAX_PAGE_SIZE - st.in_page)
			chunk = UDAX_PAGE_SIZE - st.in_page;
		iov.iov_base = (char *)buf + done;
		iov.iov_len = chunk;
		udax_iter_init(&it, &iov, 1, chunk);
		c = udax_copy_from_iter(dev, st.pgoff, (char *)st.kaddr + st.in_page,
					chunk, &it);
		done += c;
		if (c == chunk)
			continue;
		/* A failfast write stopped at poison it just found (latent
		 * until now): retry that page once in recovery mode. */
		if (recovery)
			break;
		stuck = off + done;
	}
	if (!done)
		return udax_alive(dev) ? -EIO : -ENXIO;
	return (ssize_t)done;
}
