/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fake sysfs trees for the real-device backends' tests: files, directories
 * and symlinks under a root that UDAX_SYSFS_ROOT then points at.  Paths are
 * printf formats, absolute as on a real system ("/sys/bus/...").
 */
#ifndef UDAX_TEST_FAKE_SYSFS_H
#define UDAX_TEST_FAKE_SYSFS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static const char *fk_root;

static void fk_vpath(char *out, const char *fmt, va_list ap)
{
	int n = snprintf(out, PATH_MAX, "%s", fk_root);

	vsnprintf(out + n, PATH_MAX - (size_t)n, fmt, ap);
}

static void fk_mkdirs(const char *path)
{
	char p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s", path);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			t_fail("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		t_fail("mkdir %s: %s", p, strerror(errno));
}

static void fk_parent(const char *path)
{
	char p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s", path);
	s = strrchr(p, '/');
	if (s && s != p) {
		*s = 0;
		fk_mkdirs(p);
	}
}

/* A directory (and its parents). */
__attribute__((format(printf, 1, 2), unused))
static void fk_dir(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	fk_vpath(p, fmt, ap);
	va_end(ap);
	fk_mkdirs(p);
}

/* A file holding @text (replaced if there). */
__attribute__((format(printf, 2, 3), unused))
static void fk_file(const char *text, const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	fk_vpath(p, fmt, ap);
	va_end(ap);
	fk_parent(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		t_fail("write %s: %s", p, strerror(errno));
	close(fd);
}

/*
 * A symlink at the path to @target.  An absolute target is made relative,
 * as sysfs makes its links, so that the tree also works where it is
 * mounted over /sys.
 */
__attribute__((format(printf, 2, 3), unused))
static void fk_link(const char *target, const char *fmt, ...)
{
	char p[PATH_MAX], rel[PATH_MAX], t[PATH_MAX];
	size_t n = 0;
	const char *c;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s%s", fk_root, rel);
	fk_parent(p);
	t[0] = 0;
	if (target[0] == '/') {
		/* one "../" per directory between the root and the link */
		for (c = strchr(rel + 1, '/'); c; c = strchr(c + 1, '/'))
			n += (size_t)snprintf(t + n, sizeof(t) - n, "../");
		snprintf(t + n, sizeof(t) - n, "%s", target + 1);
	} else {
		snprintf(t, sizeof(t), "%s", target);
	}
	unlink(p);
	if (symlink(t, p))
		t_fail("symlink %s: %s", p, strerror(errno));
}

__attribute__((format(printf, 1, 2), unused))
static void fk_rm(const char *fmt, ...)
{
	char p[PATH_MAX], cmd[PATH_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	fk_vpath(p, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	if (system(cmd))
		t_fail("%s failed", cmd);
}

#endif /* UDAX_TEST_FAKE_SYSFS_H */
