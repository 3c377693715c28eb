/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mock backend (see mock.h).  Everything here is the mechanism a real
 * backend would have; the policy under test is the generic layer's.
 *
 * Faults are real.  Mapped mode gives udax one shared mapping of the memfd
 * (base == io_base, as fsdax has one mapping): a page of kind POISON, ENXIO
 * or ENOSPC is PROT_NONE there, so a guarded copy in io.c takes a SIGSEGV,
 * and the generic layer asks ->fault what it was; a page of kind SIGBUS is
 * replaced by a page of an empty memfd, so touching it raises SIGBUS /
 * BUS_ADRERR as a truncated file does.  The mock's own accesses (->read,
 * ->write, ->recovery_write, the raw view) go through a second, always
 * writable mapping, as the emulated device's do.
 *
 * The known list is one byte per sector: tests are small, and a byte map
 * makes set, clear and overlap trivially right.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mock.h"

struct mock {
	struct udax_ops ops;		/* per device: the cfg may drop ops */
	struct mock_cfg cfg;
	struct udax_dev *dev;
	int fd;				/* udax's, as udax__open_backend opened it */
	int memfd;			/* read-write, for the mock's own view */
	int hole;			/* an empty memfd: its pages SIGBUS */
	int prot;			/* of clean pages in map */
	char *map;			/* given to udax; NULL in nomap mode */
	char *shadow;			/* always PROT_READ | PROT_WRITE */
	uint64_t pages, size;
	unsigned char *kind;		/* enum mock_kind per page; atomic */

	pthread_mutex_t lock;		/* the script: ks and word */
	unsigned char *ks;		/* known bad, one byte per sector */
	uint64_t word;			/* dev->known_src; atomic */
	int load_err;			/* atomic */
	void (*hook)(struct udax_dev *dev, void *arg);
	void *hook_arg;

	struct mock_stats st;		/* atomic increments */
};

static const struct mock_cfg *mock_pending;
static int mock_pending_memfd = -1;
static int mock_squat = -1;

struct mock *mock_of(struct udax_dev *dev)
{
	return dev->priv;
}

int mock_squatted_fd(void)
{
	return mock_squat;
}

static void stat_inc(unsigned int *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static enum mock_kind kind_get(const struct mock *m, uint64_t pg)
{
	return (enum mock_kind)__atomic_load_n(&m->kind[pg], __ATOMIC_ACQUIRE);
}

static void die(const char *what)
{
	fprintf(stderr, "mock: %s: %s\n", what, strerror(errno));
	abort();
}

/* ---- scripting ----------------------------------------------------------- */

/* The mapping of page @pg behaves as @k (mapped mode; the mock's own
 * mapping never changes). */
static void page_apply(struct mock *m, uint64_t pg, enum mock_kind k)
{
	char *a;

	if (!m->map)
		return;
	a = m->map + pg * UDAX_PAGE_SIZE;
	if (k == MOCK_SIGBUS || (k != MOCK_OK && m->cfg.sigbus_only)) {
		if (mmap(a, UDAX_PAGE_SIZE, m->prot, MAP_SHARED | MAP_FIXED,
			 m->hole, 0) == MAP_FAILED)
			die("mmap hole");
		return;
	}
	if ((kind_get(m, pg) == MOCK_SIGBUS ||
	     (kind_get(m, pg) != MOCK_OK && m->cfg.sigbus_only)) &&
	    mmap(a, UDAX_PAGE_SIZE, m->prot, MAP_SHARED | MAP_FIXED, m->fd,
		 (off_t)(pg * UDAX_PAGE_SIZE)) == MAP_FAILED)
		die("mmap page");
	if (mprotect(a, UDAX_PAGE_SIZE, k == MOCK_OK ? m->prot : PROT_NONE))
		die("mprotect");
}

void mock_fault(struct mock *m, uint64_t pg, uint64_t n, enum mock_kind kind)
{
	uint64_t i;

	if (pg > m->pages || n > m->pages - pg)
		abort();
	pthread_mutex_lock(&m->lock);
	for (i = pg; i < pg + n; i++) {
		page_apply(m, i, kind);
		__atomic_store_n(&m->kind[i], (unsigned char)kind,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->lock);
}

enum mock_kind mock_kind_of(struct mock *m, uint64_t pg)
{
	return kind_get(m, pg);
}

/* Under m->lock. */
static void word_bump(struct mock *m)
{
	__atomic_store_n(&m->word, m->word + 1, __ATOMIC_RELEASE);
}

void mock_known_add(struct mock *m, uint64_t s, uint64_t n)
{
	if (s > m->pages * UDAX_SECTORS_PER_PAGE ||
	    n > m->pages * UDAX_SECTORS_PER_PAGE - s)
		abort();
	pthread_mutex_lock(&m->lock);
	memset(m->ks + s, 1, n);
	word_bump(m);
	pthread_mutex_unlock(&m->lock);
}

void mock_known_set(struct mock *m, const struct udax_range *r, size_t n)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	memset(m->ks, 0, m->pages * UDAX_SECTORS_PER_PAGE);
	for (i = 0; i < n; i++) {
		if (r[i].off > m->pages * UDAX_SECTORS_PER_PAGE ||
		    r[i].len > m->pages * UDAX_SECTORS_PER_PAGE - r[i].off)
			abort();
		memset(m->ks + r[i].off, 1, r[i].len);
	}
	word_bump(m);
	pthread_mutex_unlock(&m->lock);
}

void mock_known_bump(struct mock *m)
{
	pthread_mutex_lock(&m->lock);
	word_bump(m);
	pthread_mutex_unlock(&m->lock);
}

uint64_t mock_known_word(struct mock *m)
{
	return __atomic_load_n(&m->word, __ATOMIC_ACQUIRE);
}

/* The byte map as ranges (sectors), malloc'd.  Under m->lock. */
static struct udax_range *ks_ranges(const struct mock *m, size_t *n)
{
	uint64_t s, total = m->pages * UDAX_SECTORS_PER_PAGE;
	struct udax_range *r;
	size_t cnt = 0;

	for (s = 0; s < total; s++)
		cnt += m->ks[s] && (s == 0 || !m->ks[s - 1]);
	r = malloc((cnt ? cnt : 1) * sizeof(*r));
	if (!r)
		return NULL;
	*n = 0;
	for (s = 0; s < total; s++) {
		if (!m->ks[s])
			continue;
		if (s && m->ks[s - 1])
			r[*n - 1].len++;
		else
			r[(*n)++] = (struct udax_range){ s, 1 };
	}
	return r;
}

void mock_known_text(struct mock *m, char *buf, size_t size)
{
	struct udax_range *r;
	size_t n;

	pthread_mutex_lock(&m->lock);
	r = ks_ranges(m, &n);
	pthread_mutex_unlock(&m->lock);
	if (!r)
		abort();
	udax__bb_format(r, n, buf, size);
	free(r);
}

void mock_set_load_err(struct mock *m, int err)
{
	__atomic_store_n(&m->load_err, err, __ATOMIC_RELEASE);
}

void mock_set_load_hook(struct mock *m,
			void (*fn)(struct udax_dev *dev, void *arg), void *arg)
{
	m->hook_arg = arg;
	m->hook = fn;
}

void mock_raw_read(struct mock *m, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, m->shadow + off, len);
}

void mock_raw_write(struct mock *m, uint64_t off, const void *buf, size_t len)
{
	memcpy(m->shadow + off, buf, len);
}

void mock_stats(struct mock *m, struct mock_stats *st)
{
	st->loads = __atomic_load_n(&m->st.loads, __ATOMIC_RELAXED);
	st->recovery_writes = __atomic_load_n(&m->st.recovery_writes,
					      __ATOMIC_RELAXED);
	st->faults = __atomic_load_n(&m->st.faults, __ATOMIC_RELAXED);
	st->memory_failures = __atomic_load_n(&m->st.memory_failures,
					      __ATOMIC_RELAXED);
	st->odd_faults = __atomic_load_n(&m->st.odd_faults, __ATOMIC_RELAXED);
	st->last_signo = m->st.last_signo;
	st->last_code = m->st.last_code;
}

/* ---- the ops ------------------------------------------------------------- */

static void *mock_direct_access(struct udax_dev *dev, uint64_t pgoff,
				uint64_t *pfn)
{
	struct mock *m = mock_of(dev);

	if (pfn)
		*pfn = m->cfg.pfn_base + pgoff;
	return m->map ? m->map + pgoff * UDAX_PAGE_SIZE : NULL;
}

static int kind_err(enum mock_kind k)
{
	return k == MOCK_ENOSPC ? -ENOSPC : -ENXIO;
}

/* A guarded copy through map faulted at @off: what the page's kind says. */
static int mock_fault_op(struct udax_dev *dev, uint64_t off,
			 const struct udax_fault *f, bool write)
{
	struct mock *m = mock_of(dev);
	enum mock_kind k = kind_get(m, off / UDAX_PAGE_SIZE);

	stat_inc(&m->st.faults);
	m->st.last_signo = f->signo;
	m->st.last_code = f->code;
	if (k == MOCK_POISON)
		return 0;
	if (k == MOCK_OK)
		stat_inc(&m->st.odd_faults);
	return kind_err(k);
}

/* No mapping: move bytes through the mock's own mapping, stopping at the
 * first page that is not MOCK_OK, as a driver's read would. */
static size_t mock_move(struct udax_dev *dev, uint64_t off, void *dst,
			const void *src, size_t len, int *err)
{
	struct mock *m = mock_of(dev);
	size_t done = 0;

	*err = 0;
	while (done < len) {
		uint64_t at = off + done;
		size_t step = UDAX_PAGE_SIZE - (at % UDAX_PAGE_SIZE), c;
		enum mock_kind k = kind_get(m, at / UDAX_PAGE_SIZE);
		struct udax_fault f;

		if (step > len - done)
			step = len - done;
		if (k == MOCK_POISON) {
			udax__memory_failure(dev, at & ~(uint64_t)(UDAX_PAGE_SIZE - 1),
					     UDAX_PAGE_SIZE);
			break;
		}
		if (k != MOCK_OK) {
			*err = kind_err(k);
			break;
		}
		if (dst)
			c = udax__mc_copy((char *)dst + done, m->shadow + at,
					  step, false, &f);
		else
			c = udax__mc_copy(m->shadow + at, (const char *)src + done,
					  step, true, &f);
		done += c;
		if (c < step) {
			*err = -EFAULT;	/* only the caller's buffer can fault */
			break;
		}
	}
	return done;
}

static size_t mock_read(struct udax_dev *dev, uint64_t off, void *dst,
			size_t len, int *err)
{
	return mock_move(dev, off, dst, NULL, len, err);
}

static size_t mock_write(struct udax_dev *dev, uint64_t off, const void *src,
			 size_t len, int *err)
{
	return mock_move(dev, off, NULL, src, len, err);
}

/* Data first, then the poison goes: a fault in @src leaves it in place. */
static ssize_t mock_recovery_write(struct udax_dev *dev, uint64_t off,
				   const void *src, size_t len)
{
	struct mock *m = mock_of(dev);
	uint64_t pg0 = off / UDAX_PAGE_SIZE, n = len / UDAX_PAGE_SIZE, pg;
	uint64_t s0 = off / UDAX_SECTOR_SIZE, ns = len / UDAX_SECTOR_SIZE, s;
	struct udax_fault f;
	bool listed = false;

	stat_inc(&m->st.recovery_writes);
	if (off % UDAX_PAGE_SIZE || len % UDAX_PAGE_SIZE || !len)
		abort();	/* the generic layer promised whole pages */
	for (pg = pg0; pg < pg0 + n; pg++) {
		enum mock_kind k = kind_get(m, pg);

		if (k != MOCK_OK && k != MOCK_POISON)
			return kind_err(k);
		if (m->cfg.no_clear && k == MOCK_POISON)
			return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&m->lock);
	for (s = s0; s < s0 + ns; s++)
		listed |= m->ks[s];
	pthread_mutex_unlock(&m->lock);
	if (m->cfg.no_clear && listed)
		return -EOPNOTSUPP;
	if (udax__mc_copy(m->shadow + off, src, len, true, &f) < len)
		return -EFAULT;

	pthread_mutex_lock(&m->lock);
	for (pg = pg0; pg < pg0 + n; pg++) {
		if (kind_get(m, pg) == MOCK_OK)
			continue;
		page_apply(m, pg, MOCK_OK);
		__atomic_store_n(&m->kind[pg], MOCK_OK, __ATOMIC_RELEASE);
	}
	if (listed) {
		memset(m->ks + s0, 0, ns);
		word_bump(m);	/* as a kernel's list changes */
	}
	pthread_mutex_unlock(&m->lock);
	return (ssize_t)len;
}

/* cfg.own_consumed: the device keeps consumed poison on its own list; the
 * generic layer sees it at the next reload. */
static void mock_memory_failure(struct udax_dev *dev, uint64_t off,
				uint64_t len)
{
	struct mock *m = mock_of(dev);

	stat_inc(&m->st.memory_failures);
	pthread_mutex_lock(&m->lock);
	memset(m->ks + off / UDAX_SECTOR_SIZE, 1, len / UDAX_SECTOR_SIZE);
	word_bump(m);
	pthread_mutex_unlock(&m->lock);
}

static int mock_zero_page_range(struct udax_dev *dev, uint64_t pgoff,
				uint64_t n)
{
	return udax__zero_pages(dev, pgoff, n);
}

static int mock_load_known(struct udax_dev *dev)
{
	struct mock *m = mock_of(dev);
	void (*hook)(struct udax_dev *, void *);
	struct udax_range *r;
	int rc = __atomic_load_n(&m->load_err, __ATOMIC_ACQUIRE);
	uint64_t g;
	size_t n;

	stat_inc(&m->st.loads);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->lock);
	g = __atomic_load_n(&m->word, __ATOMIC_ACQUIRE);
	r = ks_ranges(m, &n);
	pthread_mutex_unlock(&m->lock);
	if (!r)
		return -ENOMEM;
	hook = m->hook;
	m->hook = NULL;
	if (hook)
		hook(dev, m->hook_arg);
	rc = udax__known_publish(dev, r, n, g);
	free(r);
	if (!rc)
		__atomic_store_n(&dev->known_gen, g, __ATOMIC_RELEASE);
	return rc;
}

static void mock_close(struct udax_dev *dev)
{
	struct mock *m = mock_of(dev);

	if (m->map)
		munmap(m->map, m->size);
	munmap(m->shadow, m->size);
	close(m->hole);
	close(m->memfd);
	if (m->cfg.squat_fd) {
		int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (nfd < 0 || dup2(nfd, m->fd) < 0)
			die("squat");
		close(nfd);
		mock_squat = m->fd;
	} else {
		close(m->fd);
	}
	pthread_mutex_destroy(&m->lock);
	free(m->kind);
	free(m->ks);
	free(m);
	dev->priv = NULL;
}

static const struct udax_ops mock_ops_template = {
	.name = "mock",
	.direct_access = mock_direct_access,
	.zero_page_range = mock_zero_page_range,
	.recovery_write = mock_recovery_write,
	.load_known = mock_load_known,
	.close = mock_close,
	.fault = mock_fault_op,
};

/* ---- open ---------------------------------------------------------------- */

static int mock_probe(int fd, const struct stat *st, const char *path)
{
	return 0;	/* never in the probe table; tests open it by name */
}

static void mock_free_partial(struct mock *m)
{
	if (m->map && m->map != MAP_FAILED)
		munmap(m->map, m->size);
	if (m->shadow && m->shadow != MAP_FAILED)
		munmap(m->shadow, m->size);
	if (m->hole >= 0)
		close(m->hole);
	if (m->memfd >= 0)
		close(m->memfd);
	free(m->kind);
	free(m->ks);
	free(m);
}

static int mock_open_dev(struct udax_dev *dev, int fd, const char *path)
{
	const struct mock_cfg *c = mock_pending;
	struct mock *m;
	int rc;

	if (!c)
		return -ENODEV;	/* not through mock_open() */
	if (c->open_err)
		return c->open_err;
	/* PROT_NONE pages fault as SIGSEGV inside udax's guarded copies. */
	rc = c->sigbus_only ? 0 : udax__mcsafe_init_segv(NULL);
	if (rc)
		return rc;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *c;
	m->fd = fd;
	m->hole = -1;
	m->pages = c->pages;
	m->size = m->pages * UDAX_PAGE_SIZE;
	m->prot = PROT_READ | (dev->flags & UDAX_OPEN_RDONLY ? 0 : PROT_WRITE);
	m->memfd = fcntl(mock_pending_memfd, F_DUPFD_CLOEXEC, 0);
	m->hole = memfd_create("udax-mock-hole", MFD_CLOEXEC);
	m->kind = calloc(m->pages, 1);
	m->ks = calloc(m->pages * UDAX_SECTORS_PER_PAGE, 1);
	if (m->memfd < 0 || m->hole < 0 || !m->kind || !m->ks) {
		rc = -ENOMEM;
		goto err;
	}
	m->shadow = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 m->memfd, 0);
	if (m->shadow == MAP_FAILED) {
		rc = -errno;
		goto err;
	}
	if (!c->nomap) {
		m->map = mmap(NULL, m->size, m->prot, MAP_SHARED, fd, 0);
		if (m->map == MAP_FAILED) {
			rc = -errno;
			goto err;
		}
	}
	pthread_mutex_init(&m->lock, NULL);
	m->load_err = c->load_err;
	m->ops = mock_ops_template;
	if (c->nomap) {
		m->ops.name = "mock-nomap";
		m->ops.read = mock_read;
		m->ops.write = mock_write;
	}
	if (c->no_fault_op)
		m->ops.fault = NULL;
	if (c->own_consumed)
		m->ops.memory_failure = mock_memory_failure;
	if (c->drop & MOCK_DROP_DIRECT_ACCESS)
		m->ops.direct_access = NULL;
	if (c->drop & MOCK_DROP_ZERO)
		m->ops.zero_page_range = NULL;
	if (c->drop & MOCK_DROP_RECOVERY)
		m->ops.recovery_write = NULL;
	if (c->drop & MOCK_DROP_LOAD_KNOWN)
		m->ops.load_known = NULL;
	if (c->drop & MOCK_DROP_CLOSE)
		m->ops.close = NULL;
	if (c->drop & MOCK_DROP_NAME)
		m->ops.name = NULL;
	m->dev = dev;
	dev->ops = c->drop & MOCK_DROP_OPS ? NULL : &m->ops;
	dev->priv = m;
	dev->base = m->map;
	dev->io_base = m->map;
	dev->size = m->size;
	dev->known_src = &m->word;
	return 0;

err:
	mock_free_partial(m);
	return rc;
}

const struct udax_backend mock_backend = {
	.name = "mock",
	.probe = mock_probe,
	.open = mock_open_dev,
};

int mock_open(const struct mock_cfg *cfg, unsigned int flags,
	      struct udax_dev **out)
{
	struct mock_cfg c = *cfg;
	char path[64];
	int mfd, rc;

	if (!c.pages)
		c.pages = 16;
	mfd = memfd_create("udax-mock", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, (off_t)(c.pages * UDAX_PAGE_SIZE))) {
		rc = -errno;
		close(mfd);
		return rc;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	mock_pending = &c;
	mock_pending_memfd = mfd;
	rc = udax__open_backend(&mock_backend, path, flags, out);
	mock_pending = NULL;
	mock_pending_memfd = -1;
	close(mfd);
	return rc;
}
