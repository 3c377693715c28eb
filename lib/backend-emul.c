/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated device (R10): pmem that is really a file, with poison that
 * behaves like hardware's.
 *
 *   IMG          page 0: struct emul_header; pages 1..: the device's data
 *   IMG.poison   the poison state, as text:
 *                  udax-poison 1
 *                  known            <- the known bad-block list
 *                  <sector> <count>    (Linux sysfs form)
 *                  media            <- what is broken on the "medium"
 *                  <sector> <count>
 *
 * Media poison is made real with mprotect(PROT_NONE) on every page holding
 * a poisoned sector, in every process's mapping: any load or store faults.
 * udax's guarded copies catch the fault; a plain access by the program is
 * turned by mcsafe.c into SIGBUS / BUS_MCEERR_AR, as Linux delivers
 * consumed poison.
 *
 * Sharing between processes: a writer takes an exclusive OFD lock on the
 * image, pulls the newest state, changes it, writes IMG.poison.tmp, renames
 * it over IMG.poison (a reader always sees a whole version), then bumps
 * header->gen.  Every call in every process compares header->gen (shared
 * through the mapping) with the generation it last loaded: one load when
 * nothing changed.  gen is read before the file, so a reader that races a
 * writer loads again at its next call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

#define EMUL_MAGIC "UDAXEMU1"
#define EMUL_VERSION 1
#define EMUL_STATE_HEAD "udax-poison 1\n"

struct emul_header {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	uint64_t size;		/* device bytes, after this header page */
	uint64_t gen;		/* atomic; bumped by every poison change */
};

struct emul {
	int fd;
	char *map;			/* header page + data */
	struct emul_header *hdr;
	char *state_path;
	uint64_t gen;			/* the state our lists reflect; written
				 * under dev->lock, read without it */
	struct udax_bb *media;		/* media poison, sectors */
	int slot;			/* mcsafe.c poison map */
};

static struct emul *emul_of(struct udax_dev *dev)
{
	return dev->priv;
}

static char *state_path_of(const char *path)
{
	size_t n = strlen(path);
	char *s = malloc(n + sizeof(".poison"));

	if (s) {
		memcpy(s, path, n);
		memcpy(s + n, ".poison", sizeof(".poison"));
	}
	return s;
}

/* ---- the state file ---------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int list_text(const struct udax_bb *bb, char **text, size_t *len)
{
	struct udax_range *r = NULL;
	size_t n, cap = 0;

	/* Writers hold dev->lock, so the table cannot change under us. */
	n = udax__bb_count(bb);
	if (n) {
		cap = n;
		r = malloc(cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		n = udax__bb_snapshot(bb, r, cap);
	}
	*len = udax__bb_format(r, n, NULL, 0);
	*text = malloc(*len + 1);
	if (!*text) {
		free(r);
		return -ENOMEM;
	}
	udax__bb_format(r, n, *text, *len + 1);
	free(r);
	return 0;
}

static int state_save(const char *state_path, const struct udax_bb *known,
		      const struct udax_bb *media)
{
	char *kt = NULL, *mt = NULL, *tmp;
	size_t kl, ml, n = strlen(state_path);
	int fd, rc;

	tmp = malloc(n + sizeof(".tmp"));
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, state_path, n);
	memcpy(tmp + n, ".tmp", sizeof(".tmp"));
	rc = list_text(known, &kt, &kl);
	if (!rc)
		rc = list_text(media, &mt, &ml);
	if (rc)
		goto out;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_all(fd, EMUL_STATE_HEAD "known\n", strlen(EMUL_STATE_HEAD "known\n"));
	if (!rc)
		rc = write_all(fd, kt, kl);
	if (!rc)
		rc = write_all(fd, "media\n", 6);
	if (!rc)
		rc = write_all(fd, mt, ml);
	if (!rc && fdatasync(fd))
		rc = -errno;
	close(fd);
	if (!rc && rename(tmp, state_path))
		rc = -errno;
	if (rc) {
		udax__err("%s: cannot save poison state: %s", state_path, strerror(-rc));
		unlink(tmp);
	}
out:
	free(kt);
	free(mt);
	free(tmp);
	return rc;
}

static int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (!buf || n == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Parse IMG.poison into ranges.  -EINVAL for anything malformed. */
static int state_parse(const char *text, size_t len, uint64_t sectors,
		       struct udax_range **known, size_t *nk,
		       struct udax_range **media, size_t *nm)
{
	const char *end = text + len, *k, *m;
	size_t hl = strlen(EMUL_STATE_HEAD "known\n");
	int rc;

	if (len < hl || memcmp(text, EMUL_STATE_HEAD "known\n", hl))
		return -EINVAL;
	k = text + hl;
	if (end - k >= 6 && !memcmp(k, "media\n", 6)) {
		m = k + 6;
	} else {
		m = memmem(k, (size_t)(end - k), "\nmedia\n", 7);
		if (!m)
			return -EINVAL;
		m += 7;
	}
	rc = udax__bb_parse(k, (size_t)(m - 6 - k), sectors, known, nk);
	if (rc)
		return rc;
	rc = udax__bb_parse(m, (size_t)(end - m), sectors, media, nm);
	if (rc) {
		free(*known);
		*known = NULL;
	}
	return rc;
}

/* ---- page protection: media poison faults for real ---------------------- */

static bool page_poisoned(struct emul *e, uint64_t pg)
{
	return udax__bb_first_bad(e->media, pg * UDAX_SECTORS_PER_PAGE,
				  UDAX_SECTORS_PER_PAGE) != UINT64_MAX;
}

/*
 * Make the protection of pages [first, first + n) match the media list.
 * Poisoned runs are protected before anything is unprotected, and a page
 * poisoned before and after is never opened, so no reader ever sees a
 * poisoned page's bytes.
 */
static int protect_pages(struct udax_dev *dev, uint64_t first, uint64_t n)
{
	struct emul *e = emul_of(dev);
	uint64_t p = first, end = first + n;
	int rc = 0;

	while (p < end && !rc) {
		uint64_t fb = udax__bb_first_bad(e->media, p * UDAX_SECTORS_PER_PAGE,
						 (end - p) * UDAX_SECTORS_PER_PAGE);
		uint64_t bp = fb == UINT64_MAX ? end : fb / UDAX_SECTORS_PER_PAGE;
		uint64_t q = bp;

		while (q < end && page_poisoned(e, q))
			q++;
		if (q > bp && mprotect(dev->base + bp * UDAX_PAGE_SIZE,
				       (q - bp) * UDAX_PAGE_SIZE, PROT_NONE))
			rc = -errno;
		if (!rc && bp > p &&
		    mprotect(dev->base + p * UDAX_PAGE_SIZE,
			     (bp - p) * UDAX_PAGE_SIZE, PROT_READ | PROT_WRITE))
			rc = -errno;
		p = q;
	}
	if (rc)	/* vm.max_map_count: each protected run is a mapping */
		udax__err("emulated poison: mprotect: %s", strerror(-rc));
	return rc;
}

/* ---- loading other processes' changes ----------------------------------- */

/* Load IMG.poison into the lists.  Caller holds dev->lock. */
static int state_load(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);
	struct udax_range *k = NULL, *m = NULL;
	size_t nk = 0, nm = 0, len = 0;
	char *text = NULL;
	uint64_t gen;
	int rc;

	gen = __atomic_load_n(&e->hdr->gen, __ATOMIC_ACQUIRE);
	rc = read_file(e->state_path, &text, &len);
	if (rc == -ENOENT) {
		/* An image copied without its state: no poison. */
		udax__dbg("%s: missing; no poison", e->state_path);
		text = NULL;
		len = 0;
	} else if (rc) {
		return rc;
	} else {
		rc = state_parse(text, len, dev->nr_pages * UDAX_SECTORS_PER_PAGE,
				 &k, &nk, &m, &nm);
		free(text);
		if (rc) {
			udax__err("%s: corrupt poison state", e->state_path);
			return rc;
		}
	}
	rc = udax__bb_assign(dev->bb, k, nk);
	if (!rc)
		rc = udax__bb_assign(e->media, m, nm);
	free(k);
	free(m);
	if (!rc)
		rc = protect_pages(dev, 0, dev->nr_pages);
	if (!rc)
		__atomic_store_n(&e->gen, gen, __ATOMIC_RELAXED);
	return rc;
}

static void emul_memory_failure(struct udax_dev *dev, uint64_t pgoff);

static int emul_refresh(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);
	uint64_t touched[16];
	size_t n, i;
	int rc = 0;

	/* Poison the program consumed with plain loads becomes known. */
	n = udax__poison_map_drain(e->slot, touched, 16);
	for (i = 0; i < n; i++)
		emul_memory_failure(dev, touched[i]);

	if (udax__likely(__atomic_load_n(&e->hdr->gen, __ATOMIC_ACQUIRE) ==
			 __atomic_load_n(&e->gen, __ATOMIC_RELAXED)))
		return 0;
	pthread_mutex_lock(&dev->lock);
	if (__atomic_load_n(&e->hdr->gen, __ATOMIC_ACQUIRE) != e->gen)
		rc = state_load(dev);
	pthread_mutex_unlock(&dev->lock);
	return rc;
}

/* ---- writers: one transaction each --------------------------------------- */

static int file_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_len = 1 };

	while (fcntl(fd, F_OFD_SETLKW, &fl)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int emul_state_begin(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);
	int rc;

	pthread_mutex_lock(&dev->lock);
	rc = file_lock(e->fd, F_WRLCK);
	if (!rc && __atomic_load_n(&e->hdr->gen, __ATOMIC_ACQUIRE) != e->gen)
		rc = state_load(dev);
	if (rc) {
		file_lock(e->fd, F_UNLCK);
		pthread_mutex_unlock(&dev->lock);
	}
	return rc;
}

static int emul_state_commit(struct udax_dev *dev, bool changed)
{
	struct emul *e = emul_of(dev);
	int rc = 0;

	if (changed) {
		uint64_t gen;

		rc = state_save(e->state_path, dev->bb, e->media);
		/* Even if saving failed, our lists changed: make everyone
		 * (ourselves included) reload what is on disk. */
		gen = __atomic_add_fetch(&e->hdr->gen, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&e->gen, rc ? gen - 1 : gen, __ATOMIC_RELAXED);
	}
	file_lock(e->fd, F_UNLCK);
	pthread_mutex_unlock(&dev->lock);
	return rc;
}

/* Give up a transaction: put back the lists and protections on disk. */
static int emul_state_abort(struct udax_dev *dev, int err)
{
	struct emul *e = emul_of(dev);

	state_load(dev);
	file_lock(e->fd, F_UNLCK);
	pthread_mutex_unlock(&dev->lock);
	return err;
}

static int emul_inject(struct udax_dev *dev, uint64_t off, uint64_t len,
		       unsigned int flags)
{
	struct emul *e = emul_of(dev);
	uint64_t s = off / UDAX_SECTOR_SIZE;
	uint64_t n = (off + len + UDAX_SECTOR_SIZE - 1) / UDAX_SECTOR_SIZE - s;
	int rc;

	rc = emul_state_begin(dev);
	if (rc)
		return rc;
	rc = udax__bb_set(e->media, s, n);
	if (!rc && !(flags & UDAX_INJECT_LATENT))
		rc = udax__bb_set(dev->bb, s, n);
	if (!rc)
		rc = protect_pages(dev, s / UDAX_SECTORS_PER_PAGE,
				   (s + n - 1) / UDAX_SECTORS_PER_PAGE -
					   s / UDAX_SECTORS_PER_PAGE + 1);
	if (rc)
		return emul_state_abort(dev, rc);
	return emul_state_commit(dev, true);
}

static int emul_clear_poison(struct udax_dev *dev, uint64_t pgoff, uint64_t n)
{
	struct emul *e = emul_of(dev);
	uint64_t s = pgoff * UDAX_SECTORS_PER_PAGE, ns = n * UDAX_SECTORS_PER_PAGE;
	bool changed;
	int rc;

	rc = emul_state_begin(dev);
	if (rc)
		return rc;
	changed = udax__bb_count_in(e->media, s, ns) ||
		  udax__bb_count_in(dev->bb, s, ns);
	if (changed) {
		rc = udax__bb_clear(e->media, s, ns);
		if (!rc)
			rc = udax__bb_clear(dev->bb, s, ns);
		if (!rc)
			rc = protect_pages(dev, pgoff, n);
	}
	if (rc)
		return emul_state_abort(dev, rc);
	return emul_state_commit(dev, changed);
}

static void emul_memory_failure(struct udax_dev *dev, uint64_t pgoff)
{
	struct emul *e = emul_of(dev);
	uint64_t s = pgoff * UDAX_SECTORS_PER_PAGE, end = s + UDAX_SECTORS_PER_PAGE;
	bool changed = false;

	if (emul_state_begin(dev))
		return;
	/* The media's bad sectors of that page, not the whole page: the
	 * known list says what the hardware would report. */
	while (s < end) {
		uint64_t fb = udax__bb_first_bad(e->media, s, end - s);

		if (fb == UINT64_MAX)
			break;
		if (!udax__bb_count_in(dev->bb, fb, 1)) {
			if (udax__bb_set(dev->bb, fb, 1))
				break;
			changed = true;
		}
		s = fb + 1;
	}
	if (changed)
		udax__dbg("poison consumed at page %llu: now known",
			  (unsigned long long)pgoff);
	emul_state_commit(dev, changed);
}

static long emul_scrub(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);
	struct udax_range *r;
	size_t n, i;
	long found = 0;
	int rc;

	rc = emul_state_begin(dev);
	if (rc)
		return rc;
	n = udax__bb_count(e->media);
	r = malloc((n ? n : 1) * sizeof(*r));
	if (!r) {
		emul_state_commit(dev, false);
		return -ENOMEM;
	}
	n = udax__bb_snapshot(e->media, r, n);
	for (i = 0; i < n && !rc; i++) {
		found += (long)(r[i].len - udax__bb_count_in(dev->bb, r[i].off, r[i].len));
		rc = udax__bb_set(dev->bb, r[i].off, r[i].len);
	}
	free(r);
	if (rc)
		return emul_state_abort(dev, rc);
	rc = emul_state_commit(dev, found > 0);
	return rc ? rc : found;
}

static uint64_t emul_first_media_poison(struct udax_dev *dev, uint64_t pgoff,
					uint64_t n)
{
	struct emul *e = emul_of(dev);
	uint64_t fb = udax__bb_first_bad(e->media, pgoff * UDAX_SECTORS_PER_PAGE,
					 n * UDAX_SECTORS_PER_PAGE);

	return fb == UINT64_MAX ? pgoff + n : fb / UDAX_SECTORS_PER_PAGE;
}

static void *emul_direct_access(struct udax_dev *dev, uint64_t pgoff,
				uint64_t *pfn)
{
	if (pfn)
		*pfn = pgoff;
	return dev->base + pgoff * UDAX_PAGE_SIZE;
}

static void emul_close(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);

	udax__poison_map_unregister(e->slot);
	munmap(e->map, UDAX_PAGE_SIZE + dev->size);
	close(e->fd);
	udax__bb_free(e->media);
	udax__bb_free(dev->bb);
	free(e->state_path);
	free(e);
}

static const struct udax_ops emul_ops = {
	.name = "emulated",
	.direct_access = emul_direct_access,
	.clear_poison = emul_clear_poison,
	.first_media_poison = emul_first_media_poison,
	.memory_failure = emul_memory_failure,
	.refresh = emul_refresh,
	.inject = emul_inject,
	.scrub = emul_scrub,
	.state_begin = emul_state_begin,
	.state_commit = emul_state_commit,
	.close = emul_close,
};

static int header_check(const struct emul_header *h, uint64_t file_size)
{
	if (memcmp(h->magic, EMUL_MAGIC, sizeof(h->magic)))
		return -EOPNOTSUPP;	/* not ours: some other kind of file */
	if (h->version != EMUL_VERSION || h->page_size != UDAX_PAGE_SIZE ||
	    !h->size || h->size % UDAX_PAGE_SIZE ||
	    h->size > file_size - UDAX_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

int udax__emul_open(struct udax_dev *dev, const char *path, int fd)
{
	struct emul_header h;
	struct emul *e;
	struct stat st;
	int rc;

	if (fstat(fd, &st))
		return -errno;
	if ((uint64_t)st.st_size < 2 * UDAX_PAGE_SIZE)
		return -EOPNOTSUPP;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -EIO;
	rc = header_check(&h, (uint64_t)st.st_size);
	if (rc) {
		if (rc == -EINVAL)
			udax__err("%s: corrupt emulated image header", path);
		return rc;
	}

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->slot = -1;
	e->state_path = state_path_of(path);
	rc = -ENOMEM;
	if (!e->state_path)
		goto err_free;
	rc = udax__bb_new(&dev->bb);
	if (rc)
		goto err_free;
	rc = udax__bb_new(&e->media);
	if (rc)
		goto err_bb;
	e->map = mmap(NULL, UDAX_PAGE_SIZE + h.size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd, 0);
	if (e->map == MAP_FAILED) {
		rc = -errno;
		goto err_media;
	}
	e->hdr = (struct emul_header *)e->map;
	dev->ops = &emul_ops;
	dev->priv = e;
	dev->base = e->map + UDAX_PAGE_SIZE;
	dev->size = h.size;
	dev->nr_pages = h.size / UDAX_PAGE_SIZE;
	e->slot = udax__poison_map_register(dev->base, dev->size);
	if (e->slot < 0) {
		rc = e->slot;
		goto err_map;
	}
	pthread_mutex_lock(&dev->lock);
	rc = state_load(dev);
	pthread_mutex_unlock(&dev->lock);
	if (rc)
		goto err_slot;
	return 0;

err_slot:
	udax__poison_map_unregister(e->slot);
err_map:
	munmap(e->map, UDAX_PAGE_SIZE + h.size);
err_media:
	udax__bb_free(e->media);
err_bb:
	udax__bb_free(dev->bb);
	dev->bb = NULL;
err_free:
	free(e->state_path);
	free(e);
	return rc;
}

int udax__emul_create(const char *path, uint64_t size)
{
	struct emul_header h = { .magic = EMUL_MAGIC, .version = EMUL_VERSION,
				 .page_size = UDAX_PAGE_SIZE, .size = size };
	struct udax_bb *empty = NULL;
	char *state = NULL;
	int fd, rc;

	if (!size || size % UDAX_PAGE_SIZE || size > (UINT64_MAX >> 1) ||
	    size > (uint64_t)INT64_MAX - UDAX_PAGE_SIZE)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = ftruncate(fd, (off_t)(UDAX_PAGE_SIZE + size)) ? -errno : 0;
	if (!rc && pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		rc = errno ? -errno : -EIO;
	if (!rc && fsync(fd))
		rc = -errno;
	if (!rc) {
		state = state_path_of(path);
		rc = state ? udax__bb_new(&empty) : -ENOMEM;
	}
	if (!rc)
		rc = state_save(state, empty, empty);
	udax__bb_free(empty);
	free(state);
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}
