/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated device: pmem that is really a file, with poison that
 * behaves like hardware's.
 *
 *   IMG          page 0: struct emul_header; pages 1..: the device's data
 *   IMG.poison   the poison state, as text:
 *                  udax-poison 2
 *                  gen <n>          <- version of this state
 *                  known            <- the known bad-block list
 *                  <sector> <count>    (Linux sysfs form)
 *                  media            <- what is broken on the "medium"
 *                  <sector> <count>
 *
 * Every image has its state file from udax_create() on: a missing one is
 * an error (-EUCLEAN), never "no poison".
 *
 * Poison faults for real in the mapping the program is given: pages with
 * media poison are PROT_NONE, and emul-fault.c turns a plain access into
 * SIGBUS / BUS_MCEERR_AR.  So that a million poisoned runs do not cost a
 * million kernel mappings, the protected runs are coalesced to at most
 * max_runs (the smallest gaps filled first); a clean page inside a
 * coalesced run is reopened when the program touches it.  udax's own
 * copies go through a second, unprotected mapping (io_base), and the
 * generic layer stops them before any page with media poison, exactly.
 *
 * Writers (inject, clear, scrub, import, recovery writes, consumed poison)
 * run a transaction:
 *   1. this process's writer mutex, then an exclusive OFD lock on the
 *      image through a descriptor of this process's own (after fork() the
 *      inherited one would be shared with the parent and exclude nothing);
 *   2. the state is read fresh from the file (never from memory, so no
 *      writer can save a view older than the last commit);
 *   3. data first: a recovery write or zeroing writes its bytes while the
 *      pages are still poisoned in the state, and msyncs them;
 *   4. header gen = w + 1 (odd: a commit is in flight), the new state is
 *      written to a fresh temporary file (O_EXCL | O_NOFOLLOW), fsynced,
 *      renamed over IMG.poison, the directory fsynced, gen = w + 2.
 * A kill anywhere leaves each page poisoned or holding the new data, never
 * its old bytes unpoisoned; a kill between the rename and the last store
 * leaves gen odd, which every reader notices (below).
 *
 * Readers never wait.  A call compares header gen with the generation its
 * lists reflect: one load when nothing changed.  When it moved, the state
 * file is read without any lock (a rename publishes a whole version) and
 * published unless a newer one already was.  An odd gen means a commit in
 * flight: the reader reloads (guarded by the file's identity, so a stalled
 * writer costs a stat, not a parse) until it is even; if no one holds the
 * lock, the writer died, and the reader settles gen itself.  Poison found
 * by a copy or by the program's own loads is known at once in memory and
 * persisted by the next transaction that can take the lock without
 * waiting (or at close).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "private.h"
#include "backends/emul.h"

#define EMUL_MAGIC "UDAXEMU1"
#define EMUL_VERSION 1
#define STATE_HEAD_V1 "udax-poison 1\n"
#define STATE_HEAD "udax-poison 2\n"

struct emul_header {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	uint64_t size;		/* device bytes, after this header page */
	uint64_t gen;		/* atomic; see the top of this file */
};

/* The state: ranges in sectors, sorted and merged. */
struct state {
	uint64_t gen;
	struct udax_range *k, *m;
	size_t nk, nm;
};

/* Which version of the state file a reader parsed last. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct emul {
	int fd;				/* the image, as udax_open() opened it */
	char *map;			/* header + data, protected: given out */
	char *shadow;			/* data, unprotected: udax's copies */
	struct emul_header *hdr;
	int prot;
	char *path;
	char *state_path;
	char *dir_path;

	pthread_mutex_t wlock;		/* one writer per process */
	int lock_fd;			/* this process's own, for OFD locks */
	pid_t lock_pid;

	pthread_mutex_t pub_lock;	/* orders publications */
	uint64_t pub_gen;		/* state version published */
	struct file_id loaded;		/* last parsed, under refresh_lock */
	struct udax_range *runs;	/* protected page runs (off, len) */
	size_t nruns;
	size_t max_runs;
	bool reopened;			/* a coalesced run may have open pages */

	struct emul_map *fmap;
	unsigned int tmp_seq;
};

static struct emul *emul_of(struct udax_dev *dev)
{
	return dev->priv;
}

static uint64_t dev_sectors(const struct udax_dev *dev)
{
	return dev->nr_pages * UDAX_SECTORS_PER_PAGE;
}

static void state_free(struct state *st)
{
	free(st->k);
	free(st->m);
	memset(st, 0, sizeof(*st));
}

/* ---- range lists (sectors or pages; sorted, merged) ---------------------- */

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* *a = *a ∪ b. */
static int rl_add(struct udax_range **a, size_t *na, const struct udax_range *b,
		  size_t nb)
{
	struct udax_range *u;

	if (!nb)
		return 0;
	u = realloc(*a, (*na + nb) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	memcpy(u + *na, b, nb * sizeof(*b));
	*a = u;
	*na = udax__ranges_merge(u, *na + nb);
	return 0;
}

/* *a = *a \ b (both sorted and merged). */
static int rl_sub(struct udax_range **a, size_t *na, const struct udax_range *b,
		  size_t nb)
{
	struct udax_range *in = *a, *out;
	size_t i, j = 0, o = 0;

	if (!nb || !*na)
		return 0;
	/* Each cut adds at most one piece. */
	out = malloc((*na + nb) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < *na; i++) {
		uint64_t s = in[i].off, e = in[i].off + in[i].len;

		while (j < nb && b[j].off + b[j].len <= s)
			j++;
		for (size_t k = j; k < nb && b[k].off < e && s < e; k++) {
			if (b[k].off > s)
				out[o++] = (struct udax_range){ s, b[k].off - s };
			if (b[k].off + b[k].len > s)
				s = b[k].off + b[k].len;
		}
		if (s < e)
			out[o++] = (struct udax_range){ s, e - s };
	}
	free(in);
	*a = out;
	*na = o;
	return 0;
}

/* *a = *a ∩ b (both sorted and merged). */
static int rl_intersect(struct udax_range **a, size_t *na,
			const struct udax_range *b, size_t nb)
{
	struct udax_range *out = NULL;
	size_t no = 0;
	int rc;

	if (!*na)
		return 0;
	out = malloc(*na * sizeof(*out));
	if (!out)
		return -ENOMEM;
	memcpy(out, *a, *na * sizeof(*out));
	no = *na;
	rc = rl_sub(&out, &no, b, nb);		/* a \ b */
	if (!rc)
		rc = rl_sub(a, na, out, no);	/* a \ (a \ b) */
	free(out);
	return rc;
}

/* Sectors of [s, e) that @r covers. */
static uint64_t rl_count_in(const struct udax_range *r, size_t n, uint64_t s,
			    uint64_t e)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t a = r[i].off > s ? r[i].off : s;
		uint64_t b = r[i].off + r[i].len < e ? r[i].off + r[i].len : e;

		if (b > a)
			sum += b - a;
	}
	return sum;
}

static bool rl_touches(const struct udax_range *r, size_t n, uint64_t s,
		       uint64_t e)
{
	size_t lo = 0, hi = n;

	/* First range ending after s. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].off + r[mid].len <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && r[lo].off < e;
}

/* ---- the state file ----------------------------------------------------- */

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

/* Ranges as sysfs text, 64 KiB of output at a time. */
static int write_ranges(int fd, const struct udax_range *r, size_t n)
{
	char buf[65536];
	size_t i = 0;

	while (i < n) {
		size_t len = 0;
		int rc;

		for (; i < n && len < sizeof(buf) - 48; i++)
			len += udax__bb_format(&r[i], 1, buf + len, sizeof(buf) - len);
		rc = write_all(fd, buf, len);
		if (rc)
			return rc;
	}
	return 0;
}

static void file_id_of(const struct stat *st, struct file_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
}

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Parse the state text.  -EUCLEAN for anything malformed. */
static int state_parse(const char *text, size_t len, uint64_t sectors,
		       struct state *st)
{
	const char *end = text + len, *p = text, *k, *m;
	int rc;

	memset(st, 0, sizeof(*st));
	if (len >= strlen(STATE_HEAD) && !memcmp(p, STATE_HEAD, strlen(STATE_HEAD))) {
		char *e;

		p += strlen(STATE_HEAD);
		if (end - p < 5 || memcmp(p, "gen ", 4))
			return -EUCLEAN;
		errno = 0;
		st->gen = strtoull(p + 4, &e, 10);
		if (errno || e == p + 4 || e >= end || *e != '\n')
			return -EUCLEAN;
		p = e + 1;
	} else if (len >= strlen(STATE_HEAD_V1) &&
		   !memcmp(p, STATE_HEAD_V1, strlen(STATE_HEAD_V1))) {
		p += strlen(STATE_HEAD_V1);	/* version 1: gen 0 */
	} else {
		return -EUCLEAN;
	}
	if (end - p < 6 || memcmp(p, "known\n", 6))
		return -EUCLEAN;
	k = p + 6;
	if (end - k >= 6 && !memcmp(k, "media\n", 6)) {
		m = k + 6;
	} else {
		m = memmem(k, (size_t)(end - k), "\nmedia\n", 7);
		if (!m)
			return -EUCLEAN;
		m += 7;
	}
	rc = udax__bb_parse(k, (size_t)(m - 6 - k), sectors, &st->k, &st->nk);
	if (!rc)
		rc = udax__bb_parse(m, (size_t)(end - m), sectors, &st->m, &st->nm);
	if (rc) {
		state_free(st);
		return rc == -ENOMEM ? rc : -EUCLEAN;
	}
	return 0;
}

/*
 * Read IMG.poison.  Never follows a symlink, never blocks on a FIFO; a
 * missing, non-regular or malformed file is -EUCLEAN, with a log line
 * naming it.
 */
static int state_read(struct udax_dev *dev, struct state *st,
		      struct file_id *id)
{
	struct emul *e = emul_of(dev);
	size_t cap, n = 0;
	char *buf = NULL;
	struct stat sb;
	int fd, rc = 0;

	fd = open(e->state_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT || rc == -ELOOP) {
			udax__err("%s: %s: every emulated image has its poison state beside it",
				  e->state_path, rc == -ENOENT ? "missing" : "a symbolic link");
			rc = -EUCLEAN;
		}
		return rc;
	}
	if (fstat(fd, &sb)) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		udax__err("%s: not a regular file", e->state_path);
		rc = -EUCLEAN;
		goto out;
	}
	cap = (size_t)sb.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	rc = state_parse(buf, n, dev_sectors(dev), st);
	if (rc == -EUCLEAN)
		udax__err("%s: corrupt poison state", e->state_path);
	if (!rc && id)
		file_id_of(&sb, id);
out:
	free(buf);
	close(fd);
	return rc;
}

/*
 * Replace IMG.poison with @st: a fresh temporary file beside it (created
 * with O_EXCL | O_NOFOLLOW, so nobody's symlink is followed and no other
 * writer's file is reused), fsynced, renamed over, the directory fsynced.
 */
static int state_write(struct udax_dev *dev, const struct state *st,
		       struct file_id *id)
{
	struct emul *e = emul_of(dev);
	char tmp[PATH_MAX], head[64];
	struct stat sb;
	int fd, dfd, rc;

	/*
	 * A name that is taken (a planted link, a file a killed writer of
	 * an earlier process with our pid left) is skipped, not an error:
	 * nobody may stop the writers by guessing names.  The sequence
	 * starts at a random number (emul_open()) for the same reason.
	 */
	for (int tries = 0;; tries++) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u", e->state_path,
			     (long)getpid(), e->tmp_seq++) >= (int)sizeof(tmp))
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0644);
		if (fd >= 0 || errno != EEXIST || tries == 100)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		udax__err("%s: cannot create: %s", tmp, strerror(-rc));
		return rc;
	}
	snprintf(head, sizeof(head), STATE_HEAD "gen %llu\nknown\n",
		 (unsigned long long)st->gen);
	rc = write_all(fd, head, strlen(head));
	if (!rc)
		rc = write_ranges(fd, st->k, st->nk);
	if (!rc)
		rc = write_all(fd, "media\n", 6);
	if (!rc)
		rc = write_ranges(fd, st->m, st->nm);
	if (!rc && fsync(fd))
		rc = -errno;
	if (!rc && fstat(fd, &sb))
		rc = -errno;
	close(fd);
	if (!rc && rename(tmp, e->state_path))
		rc = -errno;
	if (rc) {
		udax__err("%s: cannot save poison state: %s", e->state_path,
			  strerror(-rc));
		unlink(tmp);
		return rc;
	}
	file_id_of(&sb, id);
	/* The rename itself must survive a crash too. */
	dfd = open(e->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd))
			rc = -errno;
		close(dfd);
	}
	return rc;
}

/* ---- protection: media poison faults for real --------------------------- */

/* Page runs holding media poison, coalesced to at most @max runs by
 * filling the smallest gaps. */
static int prot_plan(const struct state *st, size_t max,
		     struct udax_range **out, size_t *nout, bool *coalesced)
{
	struct udax_range *r;
	size_t n = 0, i;

	*coalesced = false;
	r = malloc((st->nm ? st->nm : 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < st->nm; i++) {
		uint64_t p0 = st->m[i].off / UDAX_SECTORS_PER_PAGE;
		uint64_t p1 = (st->m[i].off + st->m[i].len - 1) / UDAX_SECTORS_PER_PAGE + 1;

		if (n && r[n - 1].off + r[n - 1].len >= p0) {
			if (p1 > r[n - 1].off + r[n - 1].len)
				r[n - 1].len = p1 - r[n - 1].off;
		} else {
			r[n++] = (struct udax_range){ p0, p1 - p0 };
		}
	}
	if (n > max) {
		/* The n - max smallest gaps go: find the cut-off size. */
		size_t drop = n - max, o = 0;
		uint64_t *gaps = malloc((n - 1) * sizeof(*gaps)), cut;
		size_t below = 0;

		if (!gaps) {
			free(r);
			return -ENOMEM;
		}
		for (i = 0; i + 1 < n; i++)
			gaps[i] = r[i + 1].off - (r[i].off + r[i].len);
		qsort(gaps, n - 1, sizeof(*gaps), u64_cmp);
		cut = gaps[drop - 1];
		for (i = 0; i + 1 < n; i++)
			below += gaps[i] < cut;
		free(gaps);
		/* Fill every gap below the cut, and enough equal to it. */
		drop -= below;
		for (i = 1; i < n; i++) {
			uint64_t gap = r[i].off - (r[o].off + r[o].len);

			if (gap < cut || (gap == cut && drop && drop--))
				r[o].len = r[i].off + r[i].len - r[o].off;
			else
				r[++o] = r[i];
		}
		n = o + 1;
		*coalesced = true;
	}
	*out = r;
	*nout = n;
	return 0;
}

static int mprot_pages(struct udax_dev *dev, uint64_t pg, uint64_t n, int prot)
{
	if (mprotect(dev->base + pg * UDAX_PAGE_SIZE, n * UDAX_PAGE_SIZE, prot))
		return -errno;
	return 0;
}

/*
 * Move the protection from e->runs to @runs: poisoned runs are protected
 * before anything is opened, so no reader ever sees a poisoned page's
 * bytes.  When clean pages of coalesced runs may have been opened, every
 * run is protected again, not only new ones.
 */
static int prot_apply(struct udax_dev *dev, const struct udax_range *runs,
		      size_t n, bool coalesced)
{
	struct emul *e = emul_of(dev);
	struct udax_range *old = NULL;
	size_t nold = e->nruns, i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++)
		if (e->reopened || !rl_touches(e->runs, e->nruns, runs[i].off,
					       runs[i].off + runs[i].len) ||
		    rl_count_in(e->runs, e->nruns, runs[i].off,
				runs[i].off + runs[i].len) != runs[i].len)
			rc = mprot_pages(dev, runs[i].off, runs[i].len, PROT_NONE);
	if (rc)
		return rc;
	if (nold) {
		old = malloc(nold * sizeof(*old));
		if (!old)
			return -ENOMEM;
		memcpy(old, e->runs, nold * sizeof(*old));
		rc = rl_sub(&old, &nold, runs, n);
		for (i = 0; i < nold && !rc; i++)
			rc = mprot_pages(dev, old[i].off, old[i].len, e->prot);
		free(old);
	}
	e->reopened = coalesced;
	return rc;
}

/* ---- publishing a state version ---------------------------------------- */

/*
 * Consumed poison waiting to be saved is media poison that was found; if
 * the media no longer have it (cleared, un-injected), it is not poison any
 * more: drop it, or the next publication would bring it back.  Caller
 * holds dev->publish_lock.
 */
static int consumed_keep_media(struct udax_dev *dev, const struct state *st)
{
	struct udax_range *c = NULL;
	size_t nc = 0, i;
	int rc;

	if (!udax__bb_count(dev->consumed))
		return 0;
	rc = udax__bb_copy(dev->consumed, &c, &nc);
	if (!rc)
		rc = rl_sub(&c, &nc, st->m, st->nm);
	for (i = 0; i < nc && !rc; i++)
		rc = udax__bb_clear(dev->consumed, c[i].off, c[i].len);
	free(c);
	return rc;
}

/*
 * Make @st what this process sees: protection, media list, known list.
 * Versions older than the one published are dropped.
 */
static int publish(struct udax_dev *dev, const struct state *st)
{
	struct emul *e = emul_of(dev);
	struct udax_range *runs = NULL;
	size_t nruns = 0;
	bool coalesced;
	int rc;

	pthread_mutex_lock(&e->pub_lock);
	if (st->gen < e->pub_gen) {
		rc = 0;
		goto out;
	}
	for (;;) {
		rc = prot_plan(st, e->max_runs, &runs, &nruns, &coalesced);
		if (rc)
			goto out;
		rc = prot_apply(dev, runs, nruns, coalesced);
		if (rc != -ENOMEM || e->max_runs <= 16)
			break;
		/* vm.max_map_count: coalesce harder. */
		e->max_runs /= 2;
		e->reopened = true;
		free(runs);
		runs = NULL;
	}
	if (rc) {
		udax__err("emulated poison: mprotect: %s", strerror(-rc));
		goto out;
	}
	free(e->runs);
	e->runs = runs;
	e->nruns = nruns;
	runs = NULL;
	pthread_mutex_lock(&dev->publish_lock);
	rc = udax__bb_assign(dev->media, st->m, st->nm);
	if (!rc)
		rc = consumed_keep_media(dev, st);
	if (!rc)
		rc = udax__known_publish_locked(dev, st->k, st->nk, st->gen);
	pthread_mutex_unlock(&dev->publish_lock);
	if (!rc)
		e->pub_gen = st->gen;
out:
	pthread_mutex_unlock(&e->pub_lock);
	free(runs);
	return rc;
}

/* ---- transactions -------------------------------------------------------- */

/* This process's descriptor for OFD locks (see the top of the file). */
static int lock_fd(struct emul *e)
{
	pid_t pid = getpid();
	char path[64];
	int fd;

	if (e->lock_pid == pid)
		return e->lock_fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", e->fd);
	fd = open(path, (e->prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)	/* no /proc: the image by its name */
		fd = open(e->path, (e->prot & PROT_WRITE ? O_RDWR : O_RDONLY) |
			  O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/* The parent's descriptor is the parent's: leave it open. */
	e->lock_fd = fd;
	e->lock_pid = pid;
	return fd;
}

static int ofd_lock(int fd, short type, bool wait)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_len = 1 };

	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

struct txn {
	struct state st;
	uint64_t w;		/* even; the commit moves gen to w + 2 */
	int fd;
};

/* Take the locks and read the state.  !@wait: -EAGAIN rather than wait. */
static int txn_begin(struct udax_dev *dev, struct txn *t, bool wait)
{
	struct emul *e = emul_of(dev);
	uint64_t g;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!(e->prot & PROT_WRITE))
		return -EBADF;
	if (wait)
		pthread_mutex_lock(&e->wlock);
	else if (pthread_mutex_trylock(&e->wlock))
		return -EAGAIN;
	t->fd = lock_fd(e);
	rc = t->fd < 0 ? t->fd : ofd_lock(t->fd, F_WRLCK, wait);
	if (rc) {
		if (rc == -EWOULDBLOCK)
			rc = -EAGAIN;
		pthread_mutex_unlock(&e->wlock);
		return rc;
	}
	rc = state_read(dev, &t->st, NULL);
	if (rc) {
		ofd_lock(t->fd, F_UNLCK, false);
		pthread_mutex_unlock(&e->wlock);
		return rc;
	}
	g = __atomic_load_n(&e->hdr->gen, __ATOMIC_ACQUIRE);
	t->w = (t->st.gen > g ? t->st.gen : g) + 1;
	t->w &= ~1ULL;
	return 0;
}

static void txn_end(struct udax_dev *dev, struct txn *t)
{
	struct emul *e = emul_of(dev);

	ofd_lock(t->fd, F_UNLCK, false);
	pthread_mutex_unlock(&e->wlock);
	state_free(&t->st);
}

/* Persist and publish t->st when @changed, then release. */
static int txn_commit(struct udax_dev *dev, struct txn *t, bool changed)
{
	struct emul *e = emul_of(dev);
	struct file_id id;
	int rc = 0;

	if (changed) {
		__atomic_store_n(&e->hdr->gen, t->w + 1, __ATOMIC_RELEASE);
		t->st.gen = t->w + 2;
		rc = state_write(dev, &t->st, &id);
		if (!rc)
			rc = publish(dev, &t->st);
		__atomic_store_n(&e->hdr->gen, t->w + 2, __ATOMIC_RELEASE);
		/* What we published is that file: no reload of our own
		 * commit (another change since still moves gen).  Only if no
		 * loader is running, which may be this very thread. */
		if (!rc && !pthread_mutex_trylock(&dev->refresh_lock)) {
			e->loaded = id;
			__atomic_store_n(&dev->known_gen, t->w + 2, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&dev->refresh_lock);
		}
	}
	txn_end(dev, t);
	return rc;
}

/* ---- consumed poison ----------------------------------------------------- */

/*
 * Write the poison found by copies and loads (dev->consumed) into the
 * state.  !@wait: only if no one holds the locks (readers call this).
 */
static void consumed_flush(struct udax_dev *dev, bool wait)
{
	struct udax_range *c = NULL;
	size_t nc = 0;
	struct txn t;

	if (!udax__bb_count(dev->consumed) || dev->flags & UDAX_OPEN_RDONLY)
		return;
	if (txn_begin(dev, &t, wait))
		return;
	/* Only what the media still hold: a clear may have come first. */
	if (udax__bb_copy(dev->consumed, &c, &nc) ||
	    rl_intersect(&c, &nc, t.st.m, t.st.nm) ||
	    rl_add(&t.st.k, &t.st.nk, c, nc)) {
		txn_end(dev, &t);
		free(c);
		return;
	}
	if (txn_commit(dev, &t, true)) {
		free(c);
		return;
	}
	/* In the state now: no longer only ours to keep. */
	pthread_mutex_lock(&dev->publish_lock);
	for (size_t i = 0; i < nc; i++)
		udax__bb_clear(dev->consumed, c[i].off, c[i].len);
	pthread_mutex_unlock(&dev->publish_lock);
	free(c);
}

static void emul_memory_failure(struct udax_dev *dev, uint64_t off,
				uint64_t len)
{
	uint64_t s = off / UDAX_PAGE_SIZE * UDAX_SECTORS_PER_PAGE;
	uint64_t end = (off + len + UDAX_PAGE_SIZE - 1) / UDAX_PAGE_SIZE * UDAX_SECTORS_PER_PAGE;

	/*
	 * The media's bad sectors of those pages, not the whole pages: the
	 * known list says what the hardware would report.  Read under
	 * publish_lock, so that a clear published meanwhile either comes
	 * first (nothing to add) or drops what is added here.
	 */
	pthread_mutex_lock(&dev->publish_lock);
	while (s < end) {
		uint64_t fb = udax__bb_first_bad(dev->media, s, end - s), n = 1;

		if (fb == UINT64_MAX)
			break;
		while (fb + n < end && udax__bb_count_in(dev->media, fb + n, 1))
			n++;
		if (udax__bb_count_in(dev->bb, fb, n) != n &&
		    (udax__bb_set(dev->consumed, fb, n) || udax__bb_set(dev->bb, fb, n)))
			udax__err("poison at sector %llu: out of memory recording it",
				  (unsigned long long)fb);
		s = fb + n;
	}
	pthread_mutex_unlock(&dev->publish_lock);
	consumed_flush(dev, false);
}

/* Pages the program consumed with plain loads (emul-fault.c). */
static void drain_loads(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);
	uint64_t pages[64];
	size_t n, i;

	while ((n = udax__emul_map_drain(e->fmap, pages, 64)) > 0)
		for (i = 0; i < n; i++)
			emul_memory_failure(dev, pages[i] * UDAX_PAGE_SIZE,
					    UDAX_PAGE_SIZE);
}

/* ---- readers ------------------------------------------------------------- */

/* No one holds the writer lock: a writer that left gen odd is dead. */
static bool writer_dead(struct emul *e)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };
	int fd = lock_fd(e);

	if (fd < 0 || fcntl(fd, F_OFD_GETLK, &fl))
		return false;
	return fl.l_type == F_UNLCK;
}

static int emul_load_known(struct udax_dev *dev)
{
	struct emul *e = emul_of(dev);
	uint64_t g = __atomic_load_n(&e->hdr->gen, __ATOMIC_ACQUIRE);
	struct file_id id;
	struct stat sb;
	struct state st;
	int rc = 0;

	bool same;

	__atomic_store_n(&dev->wake, 0, __ATOMIC_RELAXED);
	drain_loads(dev);
	consumed_flush(dev, false);
	if (g == __atomic_load_n(&dev->known_gen, __ATOMIC_RELAXED))
		return 0;
	same = !lstat(e->state_path, &sb);
	if (same) {
		file_id_of(&sb, &id);
		same = file_id_eq(&id, &e->loaded);
	}
	if (!same) {
		rc = state_read(dev, &st, &id);
		if (rc)
			return rc;
		rc = publish(dev, &st);
		if (!rc)
			e->loaded = id;
		/* A writer died between its rename and its last store. */
		if (!rc && st.gen > g && !(st.gen & 1) && e->prot & PROT_WRITE &&
		    __atomic_compare_exchange_n(&e->hdr->gen, &g, st.gen, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			g = st.gen;
		state_free(&st);
		if (rc)
			return rc;
	}
	if (g & 1) {
		/* A commit in flight: keep looking until it lands, unless its
		 * writer is gone, then settle gen for everyone. */
		if (!(e->prot & PROT_WRITE) || !writer_dead(e) ||
		    !__atomic_compare_exchange_n(&e->hdr->gen, &g, g + 1, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return 0;
		g++;
	}
	__atomic_store_n(&dev->known_gen, g, __ATOMIC_RELEASE);
	return 0;
}

/* ---- writers ------------------------------------------------------------- */

static int emul_fault(struct udax_dev *dev, uint64_t off,
		      const struct udax_fault *f, bool write);

static int emul_inject(struct udax_dev *dev, const struct udax_range *r,
		       size_t n, unsigned int flags)
{
	struct udax_range *sorted;
	struct txn t;
	size_t ns;
	int rc;

	/* Sorted and merged, as rl_sub() wants them. */
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, r, n * sizeof(*r));
	ns = udax__ranges_merge(sorted, n);
	rc = txn_begin(dev, &t, true);
	if (rc) {
		free(sorted);
		return rc;
	}
	if (flags & UDAX_INJECT_REMOVE)
		rc = rl_sub(&t.st.m, &t.st.nm, sorted, ns);
	else
		rc = rl_add(&t.st.m, &t.st.nm, sorted, ns);
	if (!rc && !(flags & (UDAX_INJECT_LATENT | UDAX_INJECT_REMOVE)))
		rc = rl_add(&t.st.k, &t.st.nk, sorted, ns);
	free(sorted);
	if (rc) {
		txn_end(dev, &t);
		return rc;
	}
	return txn_commit(dev, &t, true);
}

static int emul_add_known(struct udax_dev *dev, const struct udax_range *r,
			  size_t n)
{
	struct txn t;
	int rc;

	rc = txn_begin(dev, &t, true);
	if (rc)
		return rc;
	rc = rl_add(&t.st.k, &t.st.nk, r, n);
	if (rc) {
		txn_end(dev, &t);
		return rc;
	}
	return txn_commit(dev, &t, true);
}

static uint64_t rl_total(const struct udax_range *r, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += r[i].len;
	return sum;
}

static int64_t emul_scrub(struct udax_dev *dev)
{
	uint64_t found, known;
	struct txn t;
	int rc;

	rc = txn_begin(dev, &t, true);
	if (rc)
		return rc;
	/* What the union adds, not a count per media range: that walked
	 * the known list once per range (1 M known, 100 k media: minutes). */
	known = rl_total(t.st.k, t.st.nk);
	rc = rl_add(&t.st.k, &t.st.nk, t.st.m, t.st.nm);
	if (rc) {
		txn_end(dev, &t);
		return rc;
	}
	found = rl_total(t.st.k, t.st.nk) - known;
	rc = txn_commit(dev, &t, found > 0);
	return rc ? rc : (int64_t)(found * UDAX_SECTOR_SIZE);
}

/* Write @len bytes of @src (zeros when NULL) at @off through the copy
 * mapping.  0 or -errno. */
static int shadow_write(struct udax_dev *dev, uint64_t off, const void *src,
			uint64_t len)
{
	struct emul *e = emul_of(dev);
	struct udax_fault f;
	uint64_t done = 0;
	int rc;

	while (done < len) {
		size_t want = len - done > (1u << 30) ? 1u << 30 : (size_t)(len - done);
		size_t c = src ? udax__mc_copy(e->shadow + off + done,
					       (const char *)src + done, want, true, &f)
			       : udax__mc_zero(e->shadow + off + done, want, &f);

		if (c < want) {
			rc = f.in_src ? -EFAULT
				      : emul_fault(dev, off + done + c, &f, true);
			return rc ? rc : -EIO;
		}
		done += c;
	}
	return 0;
}

/*
 * Write @src (zeros when NULL; @src only with one range) over the page
 * ranges @pg and clear the poison there, in that order: the bytes land
 * while the pages are still poisoned in the state, so a kill at any point
 * leaves each page poisoned or holding the new bytes (see the top).
 */
static int clear_and_write(struct udax_dev *dev, const struct udax_range *pg,
			   size_t n, const void *src)
{
	struct emul *e = emul_of(dev);
	struct udax_range *sect;
	bool poisoned = false;
	struct txn t;
	size_t i;
	int rc;

	sect = malloc(n * sizeof(*sect));
	if (!sect)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		sect[i].off = pg[i].off * UDAX_SECTORS_PER_PAGE;
		sect[i].len = pg[i].len * UDAX_SECTORS_PER_PAGE;
	}
	rc = txn_begin(dev, &t, true);
	if (rc) {
		free(sect);
		return rc;
	}
	for (i = 0; i < n && !rc; i++) {
		uint64_t off = pg[i].off * UDAX_PAGE_SIZE, len = pg[i].len * UDAX_PAGE_SIZE;

		rc = shadow_write(dev, off, src, len);
		if (rc)
			break;
		if (!rl_touches(t.st.k, t.st.nk, sect[i].off, sect[i].off + sect[i].len) &&
		    !rl_touches(t.st.m, t.st.nm, sect[i].off, sect[i].off + sect[i].len))
			continue;
		poisoned = true;
		if (msync(e->shadow + off, len, MS_SYNC))
			rc = -errno;
	}
	if (!rc && poisoned) {
		rc = rl_sub(&t.st.k, &t.st.nk, sect, n);
		if (!rc)
			rc = rl_sub(&t.st.m, &t.st.nm, sect, n);
	}
	free(sect);
	if (rc) {
		txn_end(dev, &t);
		return rc;
	}
	return txn_commit(dev, &t, poisoned);
}

static ssize_t emul_recovery_write(struct udax_dev *dev, uint64_t off,
				   const void *src, size_t len)
{
	struct udax_range pg = { off / UDAX_PAGE_SIZE, len / UDAX_PAGE_SIZE };
	int rc = clear_and_write(dev, &pg, 1, src);

	return rc ? rc : (ssize_t)len;
}

static int emul_zero_page_range(struct udax_dev *dev, uint64_t pgoff,
				uint64_t n)
{
	struct udax_range pg = { pgoff, n };

	return clear_and_write(dev, &pg, 1, NULL);
}

static int emul_clear(struct udax_dev *dev, const struct udax_range *pages,
		      size_t n)
{
	return clear_and_write(dev, pages, n, NULL);
}

/* ---- the rest of the ops ------------------------------------------------- */

static int emul_fault(struct udax_dev *dev, uint64_t off,
		      const struct udax_fault *f, bool write)
{
	struct emul *e = emul_of(dev);
	struct stat sb;

	/* The copies use the unprotected mapping: a fault there is the
	 * image's file failing, never poison. */
	if (!fstat(e->fd, &sb) &&
	    (uint64_t)sb.st_size < UDAX_PAGE_SIZE + dev->size) {
		udax__err("emulated image truncated under its mapping (%lld bytes)",
			  (long long)sb.st_size);
		return -ENXIO;
	}
	if (write) {
		udax__err("emulated image: no space to back offset %#llx",
			  (unsigned long long)off);
		return -ENOSPC;
	}
	udax__err("emulated image: its file failed at offset %#llx",
		  (unsigned long long)off);
	return -ENXIO;
}

static int emul_persist(struct udax_dev *dev, uint64_t off, uint64_t len)
{
	struct emul *e = emul_of(dev);

	if (msync(e->shadow + off, len, MS_SYNC))
		return -errno;
	return 0;
}

static const char *emul_state_path(const struct udax_dev *dev)
{
	return ((const struct emul *)dev->priv)->state_path;
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

	drain_loads(dev);
	consumed_flush(dev, true);
	udax__emul_map_unregister(e->fmap);
	munmap(e->shadow, dev->size);
	munmap(e->map, UDAX_PAGE_SIZE + dev->size);
	if (e->lock_pid == getpid() && e->lock_fd >= 0)
		close(e->lock_fd);
	close(e->fd);
	udax__bb_free(dev->media);
	pthread_mutex_destroy(&e->pub_lock);
	pthread_mutex_destroy(&e->wlock);
	free(e->runs);
	free(e->path);
	free(e->state_path);
	free(e->dir_path);
	free(e);
}

static const struct udax_poison_ops emul_poison_ops = {
	.inject = emul_inject,
	.scrub = emul_scrub,
	.add_known = emul_add_known,
	.clear = emul_clear,
};

static const struct udax_ops emul_ops = {
	.name = "emulated",
	.direct_access = emul_direct_access,
	.zero_page_range = emul_zero_page_range,
	.recovery_write = emul_recovery_write,
	.load_known = emul_load_known,
	.close = emul_close,
	.fault = emul_fault,
	.memory_failure = emul_memory_failure,
	.persist = emul_persist,
	.state_path = emul_state_path,
	.poison = &emul_poison_ops,
};

/* ---- probe, open, create ------------------------------------------------- */

static int header_check(const struct emul_header *h, uint64_t file_size)
{
	if (memcmp(h->magic, EMUL_MAGIC, sizeof(h->magic)))
		return 0;	/* not ours: some other kind of file */
	if (h->version != EMUL_VERSION || h->page_size != UDAX_PAGE_SIZE ||
	    !h->size || h->size % UDAX_PAGE_SIZE ||
	    h->size > file_size - UDAX_PAGE_SIZE)
		return -EUCLEAN;
	return 1;
}

static int emul_probe(int fd, const struct stat *st, const char *path)
{
	struct emul_header h;
	int rc;

	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size < 2 * UDAX_PAGE_SIZE)
		return 0;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	rc = header_check(&h, (uint64_t)st->st_size);
	if (rc < 0)
		udax__err("%s: corrupt emulated image header", path);
	return rc;
}

/* "@path.poison" and the directory that holds it. */
static int paths_of(const char *path, char **state, char **dir)
{
	const char *slash = strrchr(path, '/');

	if (asprintf(state, "%s.poison", path) < 0)
		return -ENOMEM;
	if (!slash)
		*dir = strdup(".");
	else if (slash == path)
		*dir = strdup("/");
	else
		*dir = strndup(path, (size_t)(slash - path));
	if (!*dir) {
		free(*state);
		return -ENOMEM;
	}
	return 0;
}

/* How many protected runs a device may cost: a share of vm.max_map_count
 * (UDAX_EMUL_MAX_RUNS overrides, for tests). */
static size_t max_runs(void)
{
	const char *env = getenv("UDAX_EMUL_MAX_RUNS");
	unsigned long long v = 65530;
	FILE *f;

	if (env && *env)
		return strtoull(env, NULL, 0) > 0 ? strtoull(env, NULL, 0) : 1;
	f = fopen("/proc/sys/vm/max_map_count", "re");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65530;
		fclose(f);
	}
	v /= 16;
	return v < 64 ? 64 : v > 16384 ? 16384 : (size_t)v;
}

static int emul_open(struct udax_dev *dev, int fd, const char *path)
{
	bool rw = !(dev->flags & UDAX_OPEN_RDONLY);
	struct emul_header h;
	struct emul *e;
	int rc;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -EIO;
	rc = udax__mcsafe_init_segv(udax__emul_fault_hook);
	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = fd;
	e->lock_fd = -1;
	e->prot = PROT_READ | (rw ? PROT_WRITE : 0);
	e->max_runs = max_runs();
	if (getrandom(&e->tmp_seq, sizeof(e->tmp_seq), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(e->tmp_seq)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		e->tmp_seq = (unsigned int)ts.tv_nsec ^ (unsigned int)getpid();
	}
	rc = paths_of(path, &e->state_path, &e->dir_path);
	if (rc)
		goto err_free;
	e->path = strdup(path);
	if (!e->path) {
		rc = -ENOMEM;
		goto err_paths;
	}
	rc = udax__bb_new(&dev->media);
	if (rc)
		goto err_paths;
	pthread_mutex_init(&e->wlock, NULL);
	pthread_mutex_init(&e->pub_lock, NULL);
	e->map = mmap(NULL, UDAX_PAGE_SIZE + h.size, e->prot, MAP_SHARED, fd, 0);
	if (e->map == MAP_FAILED) {
		rc = -errno;
		goto err_media;
	}
	e->shadow = mmap(NULL, h.size, e->prot, MAP_SHARED, fd, UDAX_PAGE_SIZE);
	if (e->shadow == MAP_FAILED) {
		rc = -errno;
		goto err_map;
	}
	e->hdr = (struct emul_header *)e->map;
	dev->ops = &emul_ops;
	dev->priv = e;
	dev->base = e->map + UDAX_PAGE_SIZE;
	dev->io_base = e->shadow;
	dev->size = h.size;
	dev->nr_pages = h.size / UDAX_PAGE_SIZE;
	dev->known_src = &e->hdr->gen;
	rc = udax__emul_map_register(dev->base, dev->size, e->prot, dev->media,
				     &dev->wake, &e->fmap);
	if (rc)
		goto err_shadow;
	return 0;

err_shadow:
	munmap(e->shadow, h.size);
err_map:
	if (e->map != MAP_FAILED)
		munmap(e->map, UDAX_PAGE_SIZE + h.size);
err_media:
	pthread_mutex_destroy(&e->pub_lock);
	pthread_mutex_destroy(&e->wlock);
	udax__bb_free(dev->media);
	dev->media = NULL;
err_paths:
	free(e->path);
	free(e->state_path);
	free(e->dir_path);
err_free:
	free(e);
	dev->priv = NULL;
	return rc;
}

const struct udax_backend udax__emul_backend = {
	.name = "emulated",
	.probe = emul_probe,
	.open = emul_open,
};

int udax__emul_create(const char *path, uint64_t size)
{
	struct emul_header h = { .magic = EMUL_MAGIC, .version = EMUL_VERSION,
				 .page_size = UDAX_PAGE_SIZE, .size = size };
	char *state = NULL, *dir = NULL;
	int fd, sfd, rc;

	if (!size || size % UDAX_PAGE_SIZE || size > (UINT64_MAX >> 1) ||
	    size > (uint64_t)INT64_MAX - UDAX_PAGE_SIZE)
		return -EINVAL;
	rc = paths_of(path, &state, &dir);
	if (rc)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = ftruncate(fd, (off_t)(UDAX_PAGE_SIZE + size)) ? -errno : 0;
	if (!rc && pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		rc = errno ? -errno : -EIO;
	if (!rc && fsync(fd))
		rc = -errno;
	if (!rc) {
		static const char empty[] = STATE_HEAD "gen 0\nknown\nmedia\n";

		sfd = open(state, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (sfd < 0)
			rc = -errno;
		else {
			rc = write_all(sfd, empty, strlen(empty));
			if (!rc && fsync(sfd))
				rc = -errno;
			close(sfd);
			if (rc)
				unlink(state);
		}
	}
	close(fd);
	if (rc)
		unlink(path);
	else {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	free(state);
	free(dir);
	return rc;
}
