/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every sysfs access of every backend, under one root prefix: "" on a real
 * system, UDAX_SYSFS_ROOT in tests, which build fake trees of the files a
 * backend reads.  Paths are formatted by the caller ("/sys/block/%s/...").
 *
 * The tick.  A kernel's known list (badblocks) changes without telling
 * anyone: a scrub finds poison, a machine check records it, someone writes
 * the sysfs file.  Re-reading it on every call would cost a system call per
 * copy; instead a backend points its device's known_src at a process-wide
 * counter that a background thread advances every UDAX_REFRESH_MS
 * milliseconds (default 100), so a call costs one load when nothing is due
 * and the list is at most that old.  The thread starts with the first
 * device that asks; after fork() the child has no thread, so the counter
 * is moved once in the child (every device reloads at its next call) and
 * the next udax__sysfs_tick() starts a new thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

const char *udax__sysfs_root(void)
{
	const char *r = getenv("UDAX_SYSFS_ROOT");

	return r ? r : "";
}

static int sysfs_path(char *out, size_t size, const char *fmt, va_list ap)
{
	const char *root = udax__sysfs_root();
	size_t rl = strlen(root);
	int n;

	if (rl >= size)
		return -ENAMETOOLONG;
	memcpy(out, root, rl);
	n = vsnprintf(out + rl, size - rl, fmt, ap);
	if (n < 0 || (size_t)n >= size - rl)
		return -ENAMETOOLONG;
	return 0;
}

int udax__sysfs_read_alloc(char **text, size_t *len, const char *fmt, ...)
{
	char path[PATH_MAX], *buf = NULL;
	size_t cap = 4096, n = 0;
	va_list ap;
	int fd, rc;

	va_start(ap, fmt);
	rc = sysfs_path(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (!buf || n + 1 >= cap) {
			char *nb = realloc(buf, buf ? cap *= 2 : cap);

			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = 0;
	*text = buf;
	*len = n;
	return 0;
}

static int sysfs_vread(char *buf, size_t size, const char *fmt, va_list ap)
{
	char path[PATH_MAX];
	ssize_t r;
	int fd, rc;

	if (!size)
		return -EINVAL;
	rc = sysfs_path(path, sizeof(path), fmt, ap);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	do
		r = read(fd, buf, size - 1);
	while (r < 0 && errno == EINTR);
	rc = r < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		r--;
	buf[r] = 0;
	return 0;
}

int udax__sysfs_read(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sysfs_vread(buf, size, fmt, ap);
	va_end(ap);
	return rc;
}

int udax__sysfs_read_u64(uint64_t *v, const char *fmt, ...)
{
	char buf[64], *end;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sysfs_vread(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int udax__sysfs_write(const char *text, const char *fmt, ...)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	va_list ap;
	ssize_t w;
	int fd, rc;

	va_start(ap, fmt);
	rc = sysfs_path(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	do
		w = write(fd, text, len);
	while (w < 0 && errno == EINTR);
	rc = w < 0 ? -errno : (size_t)w == len ? 0 : -EIO;
	close(fd);
	return rc;
}

int udax__sysfs_realpath(char *out, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *root = udax__sysfs_root();
	size_t rl = strlen(root);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sysfs_path(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	if (!realpath(path, real))
		return -errno;
	/* Back under the root's view: a fake tree's links stay inside it. */
	if (rl && !strncmp(real, root, rl))
		memmove(real, real + rl, strlen(real + rl) + 1);
	if (strlen(real) >= size)
		return -ENAMETOOLONG;
	strcpy(out, real);
	return 0;
}

/*
 * /sys/dev/block/MAJ:MIN links to the block device's own directory: a
 * disk's (.../block/pmem0), or a partition's inside its disk's
 * (.../block/pmem0/pmem0p1, which has "partition" and "start" files).
 */
int udax__sysfs_blkdev(unsigned int maj, unsigned int min, char *disk,
		       size_t size, uint64_t *start)
{
	char real[PATH_MAX], flag[32];
	const char *name;
	char *slash;
	int rc;

	rc = udax__sysfs_realpath(real, sizeof(real), "/sys/dev/block/%u:%u",
				  maj, min);
	if (rc)
		return rc;
	*start = 0;
	if (!udax__sysfs_read(flag, sizeof(flag), "%s/partition", real)) {
		rc = udax__sysfs_read_u64(start, "%s/start", real);
		if (rc)
			return rc;
		slash = strrchr(real, '/');
		if (!slash || slash == real)
			return -ENODEV;
		*slash = 0;
	}
	slash = strrchr(real, '/');
	name = slash ? slash + 1 : real;
	if (!*name || strlen(name) >= size)
		return -ENAMETOOLONG;
	strcpy(disk, name);
	return 0;
}

/* ---- the tick ------------------------------------------------------------ */

static uint64_t tick;
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t tick_pid;		/* process whose thread advances it */
static pthread_once_t tick_once = PTHREAD_ONCE_INIT;

static void *tick_main(void *arg)
{
	const char *env = getenv("UDAX_REFRESH_MS");
	long ms = env && *env ? strtol(env, NULL, 10) : 100;
	struct timespec ts;

	(void)arg;
	if (ms < 1)
		ms = 1;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = ms % 1000 * 1000000L;
	for (;;) {
		nanosleep(&ts, NULL);
		__atomic_add_fetch(&tick, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void tick_atfork_child(void)
{
	tick_pid = 0;
	__atomic_add_fetch(&tick, 1, __ATOMIC_RELEASE);
}

static void tick_register(void)
{
	pthread_atfork(NULL, NULL, tick_atfork_child);
}

const uint64_t *udax__sysfs_tick(void)
{
	pid_t pid = getpid();

	pthread_once(&tick_once, tick_register);
	if (__atomic_load_n(&tick_pid, __ATOMIC_ACQUIRE) == pid)
		return &tick;
	pthread_mutex_lock(&tick_lock);
	if (tick_pid != pid) {
		pthread_t t;
		pthread_attr_t attr;
		sigset_t all, old;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		/* No signal of the program's is ever delivered to it. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (!pthread_create(&t, &attr, tick_main, NULL))
			__atomic_store_n(&tick_pid, pid, __ATOMIC_RELEASE);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&tick_lock);
	/* Without a thread the list is read at open only: say so. */
	if (tick_pid != pid)
		udax__err("cannot start the badblocks refresh thread: the known list is read at open only");
	return &tick;
}
