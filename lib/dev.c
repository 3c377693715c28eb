/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices: open (the probe table), close, and the wrappers in front of each
 * backend's ops that own all policy, as Linux drivers/dax/super.c does:
 * liveness, argument checks, the kaddr mode tags, the known list and its
 * refresh, and the rules of direct_access and zeroing.  Moving bytes is
 * io.c's.  The operation-mode rules are written down in docs/modes.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

const uint64_t udax__never;
static const size_t no_ranges;

/* Asked in order; the first that says "mine" opens the device.  The
 * emulated image goes first: its magic header is the surest probe. */
static const struct udax_backend *const backends[] = {
	&udax__emul_backend,
	&udax__fsdax_backend,
	&udax__pmem_backend,
	&udax__devdax_backend,
};

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

/* ---- the known list ------------------------------------------------------ */

int udax__known_publish_locked(struct udax_dev *dev,
			       const struct udax_range *r, size_t n,
			       uint64_t version)
{
	struct udax_range *all = NULL, *c = NULL;
	size_t nc = 0;
	int rc = 0;

	if (version < dev->published)
		goto out;
	if (udax__bb_count(dev->consumed)) {
		rc = udax__bb_copy(dev->consumed, &c, &nc);
		if (rc)
			goto out;
		all = malloc((n + nc) * sizeof(*all));
		if (!all) {
			rc = -ENOMEM;
			goto out;
		}
		if (n)
			memcpy(all, r, n * sizeof(*r));
		memcpy(all + n, c, nc * sizeof(*c));
		r = all;
		n += nc;
	}
	rc = udax__bb_assign(dev->bb, r, n);
	if (!rc)
		dev->published = version;
out:
	free(all);
	free(c);
	return rc;
}

int udax__known_publish(struct udax_dev *dev, const struct udax_range *r,
			size_t n, uint64_t version)
{
	int rc;

	pthread_mutex_lock(&dev->publish_lock);
	rc = udax__known_publish_locked(dev, r, n, version);
	pthread_mutex_unlock(&dev->publish_lock);
	return rc;
}

void udax__memory_failure(struct udax_dev *dev, uint64_t off, uint64_t len)
{
	uint64_t s = off / UDAX_SECTOR_SIZE;
	uint64_t n = (off + len + UDAX_SECTOR_SIZE - 1) / UDAX_SECTOR_SIZE - s;

	udax__dbg("poison consumed at %#llx+%#llx: now known",
		  (unsigned long long)off, (unsigned long long)len);
	if (dev->ops->memory_failure)
		dev->ops->memory_failure(dev, off, len);
	else
		udax__consumed_add(dev, s, n);
}

void udax__consumed_add(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	/*
	 * Kept in two places: the consumed table survives every reload of
	 * the device's own list (udax__known_publish() merges it back), the
	 * known table makes it visible at once.  Under publish_lock, so that
	 * a publication in flight cannot drop it.
	 */
	pthread_mutex_lock(&dev->publish_lock);
	if (udax__bb_set(dev->consumed, s, n) || udax__bb_set(dev->bb, s, n))
		udax__err("poison at sector %llu: out of memory recording it",
			  (unsigned long long)s);
	pthread_mutex_unlock(&dev->publish_lock);
}

void udax__poison_cleared(struct udax_dev *dev, uint64_t off, uint64_t len)
{
	uint64_t s = off / UDAX_SECTOR_SIZE, n = len / UDAX_SECTOR_SIZE;

	/* Both tables, under publish_lock: a publication in flight must not
	 * merge the consumed entry back, and the known list is current at
	 * once even where the device's own list is reloaded later. */
	pthread_mutex_lock(&dev->publish_lock);
	udax__bb_clear(dev->consumed, s, n);
	udax__bb_clear(dev->bb, s, n);
	pthread_mutex_unlock(&dev->publish_lock);
}

uint64_t udax__first_bad_page(const struct udax_dev *dev, uint64_t pgoff,
			      uint64_t n)
{
	uint64_t fb = udax__bb_first_bad(dev->bb, pgoff * UDAX_SECTORS_PER_PAGE,
					 n * UDAX_SECTORS_PER_PAGE);

	return fb == UINT64_MAX ? fb : fb / UDAX_SECTORS_PER_PAGE;
}

/*
 * The known list moved (another process, the kernel): reload it.  A reader
 * never waits here: if another thread is loading, this one goes on with
 * the list as it is, which is consistent, if a moment old.  A reload that
 * fails (a state file someone corrupted, no memory) keeps the last list,
 * which never forgets poison, and is tried again at the next call: the
 * caller's call goes on, and the failure goes to the log.
 */
void udax__known_refresh(struct udax_dev *dev)
{
	int rc;

	if (pthread_mutex_trylock(&dev->refresh_lock))
		return;
	rc = dev->ops->load_known(dev);
	pthread_mutex_unlock(&dev->refresh_lock);
	if (rc)
		udax__err("known list not reloaded (%s): the last one stays in use",
			  strerror(-rc));
}

/* ---- open and close ------------------------------------------------------ */

int udax_create(const char *path, uint64_t size)
{
	if (!path)
		return -EINVAL;
	return udax__emul_create(path, size);
}

/* Linux alloc_dax(): an ops table without a required op is a bug. */
static bool ops_complete(const struct udax_ops *o)
{
	return o && o->name && o->direct_access && o->zero_page_range &&
	       o->recovery_write && o->load_known && o->close;
}

static int dev_alloc(unsigned int flags, struct udax_dev **out)
{
	struct udax_dev *dev = calloc(1, sizeof(*dev));
	int rc;

	if (!dev)
		return -ENOMEM;
	dev->flags = flags;
	dev->known_src = &udax__never;
	rc = udax__bb_new(&dev->bb);
	if (!rc)
		rc = udax__bb_new(&dev->consumed);
	if (!rc && pthread_mutex_init(&dev->refresh_lock, NULL))
		rc = -ENOMEM;
	if (!rc && pthread_mutex_init(&dev->publish_lock, NULL)) {
		pthread_mutex_destroy(&dev->refresh_lock);
		rc = -ENOMEM;
	}
	if (rc) {
		udax__bb_free(dev->consumed);
		udax__bb_free(dev->bb);
		free(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

static void dev_free(struct udax_dev *dev)
{
	pthread_mutex_destroy(&dev->publish_lock);
	pthread_mutex_destroy(&dev->refresh_lock);
	udax__bb_free(dev->consumed);
	udax__bb_free(dev->bb);
	free(dev);
}

static int dev_open(const struct udax_backend *b, int fd, const char *path,
		    unsigned int flags, struct udax_dev **out)
{
	struct udax_dev *dev;
	int rc;

	rc = dev_alloc(flags, &dev);
	if (rc) {
		close(fd);
		return rc;
	}
	rc = b->open(dev, fd, path);
	if (rc) {
		close(fd);	/* backends take the fd only on success */
		goto err_free;
	}
	if (!ops_complete(dev->ops) || !dev->size ||
	    dev->size % UDAX_PAGE_SIZE) {
		udax__err("%s: backend %s: incomplete ops or bad size", path,
			  b->name);
		if (dev->ops && dev->ops->close)
			dev->ops->close(dev);
		rc = -EINVAL;
		goto err_free;
	}
	dev->nr_pages = dev->size / UDAX_PAGE_SIZE;
	dev->bb_nr = udax__bb_count_word(dev->bb);
	dev->media_nr = dev->media ? udax__bb_count_word(dev->media) : &no_ranges;
	__atomic_store_n(&dev->known_gen,
			 ~__atomic_load_n(dev->known_src, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELAXED);
	rc = dev->ops->load_known(dev);
	if (rc) {
		dev->ops->close(dev);
		goto err_free;
	}
	__atomic_store_n(&dev->alive, 1, __ATOMIC_RELEASE);
	*out = dev;
	return 0;

err_free:
	dev_free(dev);
	return rc;
}

static int open_fd(const char *path, unsigned int flags, int *fd,
		   struct stat *st)
{
	int rc;

	*fd = open(path, (flags & UDAX_OPEN_RDONLY ? O_RDONLY : O_RDWR) |
		   O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		udax__err("%s: open: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(*fd, st)) {
		rc = -errno;
		close(*fd);
		return rc;
	}
	return 0;
}

int udax_open(const char *path, unsigned int flags, struct udax_dev **out)
{
	struct stat st;
	int fd, rc;
	size_t i;

	if (!path || !out || (flags & ~UDAX_OPEN_VALID))
		return -EINVAL;
	rc = udax__mcsafe_init();
	if (rc)
		return rc;
	rc = open_fd(path, flags, &fd, &st);
	if (rc)
		return rc;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		rc = backends[i]->probe(fd, &st, path);
		if (rc)
			break;
	}
	/* dev_open() owns the fd: after a backend took it, a failure closes
	 * it through ->close, and closing the number again here could close
	 * another thread's file. */
	if (rc > 0)
		return dev_open(backends[i], fd, path, flags, out);
	if (!rc) {
		udax__err("%s: not a device udax knows", path);
		rc = -EOPNOTSUPP;
	}
	close(fd);
	return rc;
}

int udax__open_backend(const struct udax_backend *b, const char *path,
		       unsigned int flags, struct udax_dev **out)
{
	struct stat st;
	int fd, rc;

	if (!b || !path || !out || (flags & ~UDAX_OPEN_VALID))
		return -EINVAL;
	rc = udax__mcsafe_init();
	if (rc)
		return rc;
	rc = open_fd(path, flags, &fd, &st);
	if (rc)
		return rc;
	return dev_open(b, fd, path, flags, out);
}

void udax_close(struct udax_dev *dev)
{
	if (!dev)
		return;
	dev->ops->close(dev);
	dev_free(dev);
}

uint64_t udax_size(const struct udax_dev *dev)
{
	return dev ? dev->size : 0;
}

const char *udax_backend(const struct udax_dev *dev)
{
	return dev ? dev->ops->name : NULL;
}

const char *udax_state_path(const struct udax_dev *dev)
{
	return dev && dev->ops->state_path ? dev->ops->state_path(dev) : NULL;
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

/* ---- direct_access and zeroing ------------------------------------------ */

long udax_direct_access(struct udax_dev *dev, uint64_t pgoff, long nr_pages,
			void **kaddr, uint64_t *pfn)
{
	int mode = UDAX_OP_FAILFAST;
	uint64_t n, fb, s0;
	void *addr;
	int rc;

	rc = udax__dev_enter(dev);
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
	if (kaddr) {
		if (!addr)
			return -EOPNOTSUPP;
		*kaddr = kaddr_tag(addr, mode);
	}
	return (long)n;
}

static int dev_writable(const struct udax_dev *dev)
{
	return dev->flags & UDAX_OPEN_RDONLY ? -EBADF : 0;
}

int udax__zero_pages(struct udax_dev *dev, uint64_t pgoff, uint64_t n)
{
	static const char zeros[UDAX_PAGE_SIZE];
	uint64_t pg = pgoff, end = pgoff + n;

	while (pg < end) {
		uint64_t bad = udax__first_bad_page(dev, pg, end - pg);
		uint64_t stop = bad == UINT64_MAX ? end : bad;
		int err = 0;

		if (stop > pg) {
			uint64_t len = (stop - pg) * UDAX_PAGE_SIZE;
			size_t c = 0;

			/* Clean pages: plain persistent zeros, 64 KiB at a
			 * time so that no large buffer is needed. */
			while (c < len && !err) {
				size_t want = len - c < 65536 ? len - c : 65536;
				static const char z64[65536];
				size_t w = udax__io_write(dev, pg * UDAX_PAGE_SIZE + c,
							  z64, want, &err);

				c += w;
				if (w < want && !err)
					break;	/* poison found: recover it */
			}
			if (err)
				return err;
			pg += c / UDAX_PAGE_SIZE;
			if (pg < stop)
				stop = pg;	/* found poison at pg */
			else
				continue;
		}
		{
			ssize_t w = dev->ops->recovery_write(dev, pg * UDAX_PAGE_SIZE,
							     zeros, UDAX_PAGE_SIZE);

			if (w < 0)
				return (int)w;
		}
		pg++;
	}
	return 0;
}

int udax_zero_page_range(struct udax_dev *dev, uint64_t pgoff, size_t nr_pages)
{
	int rc;

	rc = udax__dev_enter(dev);
	if (rc)
		return rc;
	if (nr_pages == 0)
		return -EINVAL;
	if (pgoff >= dev->nr_pages || nr_pages > dev->nr_pages - pgoff)
		return -ERANGE;
	rc = dev_writable(dev);
	if (rc)
		return rc;
	rc = dev->ops->zero_page_range(dev, pgoff, nr_pages);
	if (!rc)
		udax__poison_cleared(dev, pgoff * UDAX_PAGE_SIZE,
				     nr_pages * UDAX_PAGE_SIZE);
	return rc;
}

int udax_sync(struct udax_dev *dev)
{
	int rc = udax__dev_enter(dev);

	if (rc)
		return rc;
	if (dev->flags & UDAX_OPEN_RDONLY || !dev->ops->persist)
		return 0;
	return dev->ops->persist(dev, 0, dev->size);
}

/* ---- the known list, outward --------------------------------------------- */

long udax_badblocks(struct udax_dev *dev, struct udax_range *out, size_t max)
{
	size_t total, i;
	int rc;

	rc = udax__dev_enter(dev);
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

long udax_badblocks_export(struct udax_dev *dev, char *buf, size_t size)
{
	struct udax_range *r;
	size_t n, len;
	int rc;

	rc = udax__dev_enter(dev);
	if (rc)
		return rc;
	if (!buf)
		size = 0;
	rc = udax__bb_copy(dev->bb, &r, &n);
	if (rc)
		return rc;
	len = udax__bb_format(r, n, buf, size);
	free(r);
	return (long)len;
}

static const struct udax_poison_ops *poison_ops(struct udax_dev *dev, int *rc)
{
	*rc = udax__dev_enter(dev);
	if (!*rc && !dev->ops->poison)
		*rc = -EOPNOTSUPP;
	if (!*rc)
		*rc = dev_writable(dev);
	return *rc ? NULL : dev->ops->poison;
}

long udax_badblocks_import(struct udax_dev *dev, const char *text, size_t len)
{
	const struct udax_poison_ops *p;
	struct udax_range *add;
	size_t nr;
	int rc;

	if (!dev || (!text && len))
		return -EINVAL;
	p = poison_ops(dev, &rc);
	if (!p)
		return rc;
	if (!p->add_known)
		return -EOPNOTSUPP;
	rc = udax__bb_parse(text ? text : "", len,
			    dev->nr_pages * UDAX_SECTORS_PER_PAGE, &add, &nr);
	if (rc || !nr)
		return rc;
	rc = p->add_known(dev, add, nr);
	free(add);
	return rc ? rc : (long)nr;
}

/* The arguments of a call over @n ranges, checked after entering @dev:
 * 0, -EINVAL (flags outside @valid, no ranges, an empty one) or -ERANGE. */
static int batch_args(struct udax_dev *dev, const struct udax_range *r,
		      size_t n, unsigned int flags, unsigned int valid)
{
	int rc;

	if (!dev || (!r && n))
		return -EINVAL;
	rc = udax__dev_enter(dev);
	if (rc)
		return rc;
	if ((flags & ~valid) || !n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!r[i].len)
			return -EINVAL;
		if (r[i].off >= dev->size || r[i].len > dev->size - r[i].off)
			return -ERANGE;
	}
	return 0;
}

int udax_inject_ranges(struct udax_dev *dev, const struct udax_range *r,
		       size_t n, unsigned int flags)
{
	const struct udax_poison_ops *p;
	struct udax_range *s;
	size_t i;
	int rc;

	rc = batch_args(dev, r, n, flags, UDAX_INJECT_VALID);
	if (rc)
		return rc;
	p = poison_ops(dev, &rc);
	if (!p)
		return rc;
	if (!p->inject)
		return -EOPNOTSUPP;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		s[i].off = r[i].off / UDAX_SECTOR_SIZE;
		s[i].len = (r[i].off + r[i].len + UDAX_SECTOR_SIZE - 1) /
			   UDAX_SECTOR_SIZE - s[i].off;
	}
	rc = p->inject(dev, s, n, flags);
	free(s);
	return rc;
}

int udax_inject(struct udax_dev *dev, uint64_t off, uint64_t len,
		unsigned int flags)
{
	struct udax_range r = { off, len };

	return udax_inject_ranges(dev, &r, 1, flags);
}

long udax_media_poison(struct udax_dev *dev, struct udax_range *out,
		       size_t max)
{
	size_t total, i;
	int rc;

	rc = udax__dev_enter(dev);
	if (rc)
		return rc;
	if (!dev->media)
		return -EOPNOTSUPP;
	if (!out)
		max = 0;
	total = udax__bb_snapshot(dev->media, out, max);
	for (i = 0; i < max && i < total; i++) {
		out[i].off *= UDAX_SECTOR_SIZE;
		out[i].len *= UDAX_SECTOR_SIZE;
	}
	return (long)total;
}

/* A growing array of page ranges. */
struct page_list {
	struct udax_range *r;
	size_t n, cap;
};

static int page_list_add(struct page_list *l, uint64_t off, uint64_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct udax_range *g = realloc(l->r, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		l->r = g;
		l->cap = cap;
	}
	l->r[l->n].off = off;
	l->r[l->n++].len = len;
	return 0;
}

/* Pages of [p0, p1) that hold poison in @bad (sectors, sorted). */
static int poisoned_pages(const struct udax_range *bad, size_t nbad,
			  uint64_t p0, uint64_t p1, struct page_list *out)
{
	uint64_t s = p0 * UDAX_SECTORS_PER_PAGE, e = p1 * UDAX_SECTORS_PER_PAGE;
	size_t lo = 0, hi = nbad;
	int rc = 0;

	while (lo < hi) {	/* first bad range ending after s */
		size_t mid = lo + (hi - lo) / 2;

		if (bad[mid].off + bad[mid].len <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nbad && bad[lo].off < e && !rc; lo++) {
		uint64_t a = bad[lo].off > s ? bad[lo].off : s;
		uint64_t b = bad[lo].off + bad[lo].len < e ? bad[lo].off + bad[lo].len : e;
		uint64_t first = a / UDAX_SECTORS_PER_PAGE;

		rc = page_list_add(out, first, (b + UDAX_SECTORS_PER_PAGE - 1) /
					       UDAX_SECTORS_PER_PAGE - first);
	}
	return rc;
}

int64_t udax_clear(struct udax_dev *dev, const struct udax_range *r, size_t n,
		   unsigned int flags)
{
	struct udax_range *known = NULL, *media = NULL, *pages;
	struct page_list pl = { 0 };
	size_t nk = 0, nm = 0, np, i;
	uint64_t total = 0;
	int rc;

	rc = batch_args(dev, r, n, flags, UDAX_CLEAR_VALID);
	if (rc)
		return rc;
	if (!(flags & UDAX_CLEAR_DRY_RUN)) {
		rc = dev_writable(dev);
		if (rc)
			return rc;
	}
	rc = udax__bb_copy(dev->bb, &known, &nk);
	if (!rc && dev->media)
		rc = udax__bb_copy(dev->media, &media, &nm);
	for (i = 0; i < n && !rc; i++) {
		uint64_t p0 = r[i].off / UDAX_PAGE_SIZE;
		uint64_t p1 = (r[i].off + r[i].len - 1) / UDAX_PAGE_SIZE + 1;

		if (flags & UDAX_CLEAR_ALL) {
			rc = page_list_add(&pl, p0, p1 - p0);
			continue;
		}
		rc = poisoned_pages(known, nk, p0, p1, &pl);
		if (!rc)
			rc = poisoned_pages(media, nm, p0, p1, &pl);
	}
	if (rc)
		goto out;
	pages = pl.r;
	np = udax__ranges_merge(pages, pl.n);
	for (i = 0; i < np; i++)
		total += pages[i].len;
	if (flags & UDAX_CLEAR_DRY_RUN || !np)
		goto out;
	if (dev->ops->poison && dev->ops->poison->clear)
		rc = dev->ops->poison->clear(dev, pages, np);
	else
		for (i = 0; i < np && !rc; i++)
			rc = dev->ops->zero_page_range(dev, pages[i].off, pages[i].len);
	for (i = 0; i < np && !rc; i++)
		udax__poison_cleared(dev, pages[i].off * UDAX_PAGE_SIZE,
				     pages[i].len * UDAX_PAGE_SIZE);
out:
	free(known);
	free(media);
	free(pl.r);
	return rc ? rc : (int64_t)(total * UDAX_PAGE_SIZE);
}

int64_t udax_scrub(struct udax_dev *dev)
{
	const struct udax_poison_ops *p;
	int rc;

	p = poison_ops(dev, &rc);
	if (!p)
		return rc;
	return p->scrub ? p->scrub(dev) : -EOPNOTSUPP;
}
