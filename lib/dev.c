/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices: open/close, and the wrappers in front of each backend's ops that
 * own all policy, as Linux drivers/dax/super.c does: liveness (R9),
 * argument checks, the kaddr mode tags (R1), the known-list rules of
 * direct_access (R2), where copies must stop (R3, R4) and when a recovery
 * write may clear poison (R4, R5).  Backends only map, copy and clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

unsigned long udax_kaddr_mode(const void *kaddr)
{
	return ((uintptr_t)kaddr & UDAX__KADDR_TAG_MASK) ? UDAX_OP_RECOVERY
							 : UDAX_OP_FAILFAST;
}

void *udax_kaddr_untag(const void *kaddr)
{
	return (void *)((uintptr_t)kaddr & ~(uintptr_t)UDAX__KADDR_TAG_MASK);
}

static void *kaddr_tag(void *addr, int mode)
{
	return mode == UDAX_OP_RECOVERY
		? (void *)((uintptr_t)addr | UDAX__KADDR_TAG_MASK) : addr;
}

/* Every call starts here: a dead device is gone, and other processes'
 * poison changes become visible (R10). */
static int dev_enter(struct udax_dev *dev)
{
	if (udax__unlikely(!dev))
		return -EINVAL;
	if (udax__unlikely(!__atomic_load_n(&dev->alive, __ATOMIC_ACQUIRE)))
		return -ENXIO;
	return dev->ops->refresh ? dev->ops->refresh(dev) : 0;
}

int udax_create(const char *path, uint64_t size)
{
	if (!path)
		return -EINVAL;
	return udax__emul_create(path, size);
}

int udax_open(const char *path, unsigned int flags, struct udax_dev **out)
{
	struct udax_dev *dev;
	struct stat st;
	int fd, rc;

	if (!path || !out || (flags & ~UDAX_OPEN_VALID))
		return -EINVAL;
	rc = udax__mcsafe_init();
	if (rc)
		return rc;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	rc = pthread_mutex_init(&dev->lock, NULL);
	if (rc)
		goto err_free;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		udax__err("%s: open: %m", path);
		goto err_mutex;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		goto err_fd;
	}
	if (S_ISREG(st.st_mode))
		rc = udax__emul_open(dev, path, fd);
	else
		rc = -EOPNOTSUPP;
	if (rc)
		goto err_fd;	/* backends take the fd only on success */

	dev->nr_pages = dev->size / UDAX_PAGE_SIZE;
	__atomic_store_n(&dev->alive, 1, __ATOMIC_RELEASE);
	*out = dev;
	return 0;

err_fd:
	close(fd);
err_mutex:
	pthread_mutex_destroy(&dev->lock);
err_free:
	free(dev);
	return rc;
}

void udax_close(struct udax_dev *dev)
{
	if (!dev)
		return;
	dev->ops->close(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

uint64_t udax_size(const struct udax_dev *dev)
{
	return dev ? dev->size : 0;
}

const char *udax_backend(const struct udax_dev *dev)
{
	return dev ? dev->ops->name : NULL;
}

int udax_alive(const struct udax_dev *dev)
{
	return dev && __atomic_load_n(&dev->alive, __ATOMIC_ACQUIRE);
}

void udax_kill(struct udax_dev *dev)
{
	if (dev)
		__atomic_store_n(&dev->alive, 0, __ATOMIC_RELEASE);
}

long udax_direct_access(struct udax_dev *dev, uint64_t pgoff, long nr_pages,
			void **kaddr, uint64_t *pfn)
{
	int mode = UDAX_OP_FAILFAST;
	uint64_t n, s0, fb;
	void *addr;
	int rc;

	rc = dev_enter(dev);
	if (rc)
		return rc;
	if (nr_pages < 0)
		return -EINVAL;
	if (kaddr) {
		if (*kaddr == (void *)UDAX_OP_RECOVERY)
			mode = UDAX_OP_RECOVERY;
		else if (*kaddr)
			return -EINVAL;
	}
	if (pgoff >= dev->nr_pages)
		return -ERANGE;
	if (nr_pages == 0)
		return 0;

	n = dev->nr_pages - pgoff;
	if ((uint64_t)nr_pages < n)
		n = nr_pages;
	s0 = pgoff * UDAX_SECTORS_PER_PAGE;
	fb = udax__bb_first_bad(dev->bb, s0, n * UDAX_SECTORS_PER_PAGE);
	if (udax__unlikely(fb != UINT64_MAX)) {
		uint64_t k;

		if (mode == UDAX_OP_FAILFAST)
			return -EIO;
		/* Linux's recovery stride: a page whose bad sector is not its
		 * first sector still counts as usable. */
		k = (fb - s0 + UDAX_SECTORS_PER_PAGE - 1) / UDAX_SECTORS_PER_PAGE;
		n = k ? k : 1;
	}

	addr = dev->ops->direct_access(dev, pgoff, pfn);
	if (kaddr)
		*kaddr = kaddr_tag(addr, mode);
	return (long)n;
}

/*
 * The start of both copies: a live device, and @addr (maybe tagged)
 * resolved to the plain address *p and the device offset *off, with
 * *bytes clamped to the iterator and to the device's end.  False when there
 * is nothing to copy: dead device, bad arguments, an address outside it.
 */
static bool copy_begin(struct udax_dev *dev, const void *addr, size_t *bytes,
		       const struct udax_iter *it, char **p, uint64_t *off)
{
	char *a = udax_kaddr_untag(addr);

	if (!it || dev_enter(dev))
		return false;
	if (a < dev->base || a >= dev->base + dev->size)
		return false;
	*p = a;
	*off = (uint64_t)(a - dev->base);
	if (*bytes > it->count)
		*bytes = it->count;
	if (*bytes > dev->size - *off)
		*bytes = dev->size - *off;
	return *bytes > 0;
}

/* Bytes from @off (< size) before the first page with a known-bad sector
 * within [off, off + bytes); @bytes when there is none. */
static size_t known_good_prefix(const struct udax_dev *dev, uint64_t off,
				size_t bytes)
{
	uint64_t first = off >> UDAX_PAGE_SHIFT;
	uint64_t last = (off + bytes - 1) >> UDAX_PAGE_SHIFT;
	uint64_t fb, bad_off;

	fb = udax__bb_first_bad(dev->bb, first * UDAX_SECTORS_PER_PAGE,
				(last - first + 1) * UDAX_SECTORS_PER_PAGE);
	if (udax__likely(fb == UINT64_MAX))
		return bytes;
	bad_off = fb / UDAX_SECTORS_PER_PAGE * UDAX_PAGE_SIZE;
	return bad_off > off ? bad_off - off : 0;
}

size_t udax_copy_to_iter(struct udax_dev *dev, uint64_t pgoff, void *addr,
			 size_t bytes, struct udax_iter *it)
{
	uint64_t off;
	char *p;

	if (!copy_begin(dev, addr, &bytes, it, &p, &off))
		return 0;
	bytes = known_good_prefix(dev, off, bytes);
	if (!bytes)
		return 0;
	return dev->ops->copy_to_iter ? dev->ops->copy_to_iter(dev, p, bytes, it)
				      : udax__copy_mc_to_iter(dev, p, bytes, it);
}

static size_t dev_write(struct udax_dev *dev, char *p, size_t bytes,
			struct udax_iter *it)
{
	return dev->ops->copy_from_iter
		? dev->ops->copy_from_iter(dev, p, bytes, it)
		: udax__copy_mc_from_iter(dev, p, bytes, it);
}

size_t udax_copy_from_iter(struct udax_dev *dev, uint64_t pgoff, void *addr,
			   size_t bytes, struct udax_iter *it)
{
	uint64_t off, first, nr;
	size_t good;
	char *p;

	if (!copy_begin(dev, addr, &bytes, it, &p, &off))
		return 0;
	good = known_good_prefix(dev, off, bytes);
	if (udax_kaddr_mode(addr) == UDAX_OP_FAILFAST)
		return good ? dev_write(dev, p, good, it) : 0;

	first = off >> UDAX_PAGE_SHIFT;
	nr = (off + bytes - 1) / UDAX_PAGE_SIZE - first + 1;
	if (good == bytes && (!dev->ops->first_media_poison ||
			      dev->ops->first_media_poison(dev, first, nr) ==
				      first + nr))
		return dev_write(dev, p, bytes, it);

	/* Linux: "not page-aligned range cannot be recovered". */
	if (off % UDAX_PAGE_SIZE || bytes % UDAX_PAGE_SIZE) {
		udax__dbg("recovery write at %#llx+%zu: not page-aligned",
			  (unsigned long long)off, bytes);
		return 0;
	}
	if (dev->ops->clear_poison(dev, first, nr))
		return 0;
	return dev_write(dev, p, bytes, it);
}

int udax_zero_page_range(struct udax_dev *dev, uint64_t pgoff, size_t nr_pages)
{
	struct udax_fault f;
	size_t len;
	int rc;

	rc = dev_enter(dev);
	if (rc)
		return rc;
	if (nr_pages == 0)
		return -EINVAL;
	if (pgoff >= dev->nr_pages || nr_pages > dev->nr_pages - pgoff)
		return -ERANGE;
	rc = dev->ops->clear_poison(dev, pgoff, nr_pages);
	if (rc)
		return rc;
	len = nr_pages * UDAX_PAGE_SIZE;
	/* Short only if another thread poisoned the range meanwhile. */
	if (udax__mc_zero(dev->base + pgoff * UDAX_PAGE_SIZE, len, &f) != len)
		return -EIO;
	return 0;
}

long udax_badblocks(struct udax_dev *dev, struct udax_range *out, size_t max)
{
	size_t total, i;
	int rc;

	rc = dev_enter(dev);
	if (rc)
		return rc;
	if (!out)
		max = 0;
	total = udax__bb_snapshot(dev->bb, out, max);
	for (i = 0; i < max && i < total; i++) {
		out[i].off *= UDAX_SECTOR_SIZE;
		out[i].len *= UDAX_SECTOR_SIZE;
	}
	return (long)total;
}

/* A consistent copy of the known list (sectors); *n ranges, malloc'd. */
static int known_snapshot(struct udax_dev *dev, struct udax_range **out,
			  size_t *n)
{
	size_t cap = udax__bb_count(dev->bb) + 16, total;
	struct udax_range *r;

	for (;;) {
		r = malloc(cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		total = udax__bb_snapshot(dev->bb, r, cap);
		if (total <= cap)
			break;
		free(r);
		cap = total + total / 4;	/* a writer grew it meanwhile */
	}
	*out = r;
	*n = total;
	return 0;
}

long udax_badblocks_export(struct udax_dev *dev, char *buf, size_t size)
{
	struct udax_range *r;
	size_t n, len;
	int rc;

	rc = dev_enter(dev);
	if (rc)
		return rc;
	if (!buf)
		size = 0;
	rc = known_snapshot(dev, &r, &n);
	if (rc)
		return rc;
	len = udax__bb_format(r, n, buf, size);
	free(r);
	return (long)len;
}

static int state_begin(struct udax_dev *dev)
{
	if (dev->ops->state_begin)
		return dev->ops->state_begin(dev);
	pthread_mutex_lock(&dev->lock);
	return 0;
}

static int state_commit(struct udax_dev *dev, bool changed)
{
	if (dev->ops->state_commit)
		return dev->ops->state_commit(dev, changed);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

long udax_badblocks_import(struct udax_dev *dev, const char *text, size_t len)
{
	struct udax_range *add, *all = NULL;
	size_t nr, nold = 0;
	int rc;

	rc = dev_enter(dev);
	if (rc)
		return rc;
	if (!text && len)
		return -EINVAL;
	rc = udax__bb_parse(text, len, dev->nr_pages * UDAX_SECTORS_PER_PAGE,
			    &add, &nr);
	if (rc || !nr)
		return rc;
	rc = state_begin(dev);
	if (rc)
		goto out_free;
	/* Old and new together in one assign (which sorts and merges): one
	 * O(n) rebuild, and on -ENOMEM the table is left as it was. */
	rc = known_snapshot(dev, &all, &nold);
	if (!rc) {
		struct udax_range *grown = realloc(all, (nold + nr) * sizeof(*all));

		rc = grown ? 0 : -ENOMEM;
		if (grown) {
			all = grown;
			memcpy(all + nold, add, nr * sizeof(*add));
			rc = udax__bb_assign(dev->bb, all, nold + nr);
		}
	}
	if (rc)
		state_commit(dev, false);
	else
		rc = state_commit(dev, true);
out_free:
	free(all);
	free(add);
	return rc ? rc : (long)nr;
}

int udax_inject(struct udax_dev *dev, uint64_t off, uint64_t len,
		unsigned int flags)
{
	int rc = dev_enter(dev);

	if (rc)
		return rc;
	if ((flags & ~UDAX_INJECT_VALID) || len == 0)
		return -EINVAL;
	if (off >= dev->size || len > dev->size - off)
		return -ERANGE;
	if (!dev->ops->inject)
		return -EOPNOTSUPP;
	return dev->ops->inject(dev, off, len, flags);
}

long udax_scrub(struct udax_dev *dev)
{
	int rc = dev_enter(dev);

	if (rc)
		return rc;
	return dev->ops->scrub ? dev->ops->scrub(dev) : -EOPNOTSUPP;
}

/*
 * The generic copies.  The device side of a fault is poison being consumed:
 * tell the backend, so that latent poison becomes known (Linux: machine
 * check -> memory_failure -> nvdimm bad range -> badblocks).
 */
static size_t copy_mc_iter(struct udax_dev *dev, char *addr, size_t bytes,
			   struct udax_iter *it, bool to_iter)
{
	size_t done = 0;

	while (done < bytes && it->nr_segs) {
		char *user = (char *)it->iov->iov_base + it->iov_offset;
		size_t n = it->iov->iov_len - it->iov_offset, c;
		struct udax_fault f;
		bool dev_fault;

		if (n > bytes - done)
			n = bytes - done;
		if (to_iter)
			c = udax__mc_copy(user, addr + done, n, false, &f);
		else
			c = udax__mc_copy(addr + done, user, n, true, &f);
		udax__iter_advance(it, c);
		done += c;
		if (c == n)
			continue;
		dev_fault = to_iter ? f.in_src : !f.in_src;
		if (dev_fault && dev->ops->memory_failure)
			dev->ops->memory_failure(dev, (uint64_t)(addr + done - dev->base) >> UDAX_PAGE_SHIFT);
		break;
	}
	return done;
}

size_t udax__copy_mc_to_iter(struct udax_dev *dev, void *addr, size_t bytes,
			     struct udax_iter *it)
{
	return copy_mc_iter(dev, addr, bytes, it, true);
}

size_t udax__copy_mc_from_iter(struct udax_dev *dev, void *addr, size_t bytes,
			       struct udax_iter *it)
{
	return copy_mc_iter(dev, addr, bytes, it, false);
}
