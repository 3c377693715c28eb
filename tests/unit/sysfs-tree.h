/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fake sysfs trees for the real-device backends: directories, files and
 * links under a temporary root that UDAX_SYSFS_ROOT points at.  They hold
 * what the kernel would show; nothing here acts like the kernel.
 */
#ifndef UDAX_TEST_SYSFS_TREE_H
#define UDAX_TEST_SYSFS_TREE_H

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "harness.h"

static char tree_root[1024];

/* mkdir -p ROOT/@path. */
static inline void tree_mkdir(const char *path)
{
	char p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s/%.1024s", tree_root, path);
	for (s = p + strlen(tree_root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			t_fail("mkdir %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		t_fail("mkdir %s: %s", p, strerror(errno));
}

/* ROOT/@path holds @text (its directory is made). */
static inline void tree_file(const char *path, const char *text)
{
	char p[PATH_MAX], d[PATH_MAX], *s;
	int fd;

	snprintf(d, sizeof(d), "%.1024s", path);
	s = strrchr(d, '/');
	if (s) {
		*s = 0;
		tree_mkdir(d);
	}
	snprintf(p, sizeof(p), "%s/%.1024s", tree_root, path);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		t_fail("write %s: %s", p, strerror(errno));
	close(fd);
}

static inline void tree_filef(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void tree_filef(const char *path, const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tree_file(path, text);
}

/* ROOT/@path -> @target (relative, as sysfs links are). */
static inline void tree_link(const char *target, const char *path)
{
	char p[PATH_MAX], d[PATH_MAX], *s;

	snprintf(d, sizeof(d), "%.1024s", path);
	s = strrchr(d, '/');
	if (s) {
		*s = 0;
		tree_mkdir(d);
	}
	snprintf(p, sizeof(p), "%s/%.1024s", tree_root, path);
	unlink(p);
	if (symlink(target, p))
		t_fail("symlink %s: %s", p, strerror(errno));
}

/* The text of ROOT/@path. */
static inline void tree_read(const char *path, char *buf, size_t size)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%.1024s", tree_root, path);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		t_fail("open %s: %s", p, strerror(errno));
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
}

/*
 * A pmem disk as Linux 6.1 shows it: /sys/block/@disk links into its
 * namespace's directory, whose driver is nd_pmem; /sys/dev/block/@devt
 * links to the disk, @pdevt (if not NULL) to its partition 1 at @start.
 * @resource: the namespace's physical start ("0x..."), or NULL (root-only
 * on recent kernels: unreadable).
 */
static inline void tree_pmem_disk(const char *disk, const char *devt,
				  const char *pdevt, uint64_t start,
				  const char *resource)
{
	char p[512], t[512];

	snprintf(p, sizeof(p), "sys/devices/ndbus0/region0/namespace0.0/block/%s", disk);
	tree_mkdir(p);
	tree_mkdir("sys/bus/nd/drivers/nd_pmem");
	tree_link("../../../../bus/nd/drivers/nd_pmem",
		  "sys/devices/ndbus0/region0/namespace0.0/driver");
	if (resource)
		tree_file("sys/devices/ndbus0/region0/namespace0.0/resource", resource);
	snprintf(p, sizeof(p), "sys/devices/ndbus0/region0/namespace0.0/block/%s/device", disk);
	tree_link("../../../namespace0.0", p);
	snprintf(p, sizeof(p), "sys/devices/ndbus0/region0/namespace0.0/block/%s/badblocks", disk);
	tree_file(p, "");
	snprintf(p, sizeof(p), "sys/block/%s", disk);
	snprintf(t, sizeof(t), "../devices/ndbus0/region0/namespace0.0/block/%s", disk);
	tree_link(t, p);
	snprintf(p, sizeof(p), "sys/dev/block/%s", devt);
	snprintf(t, sizeof(t), "../../devices/ndbus0/region0/namespace0.0/block/%s", disk);
	tree_link(t, p);
	if (pdevt) {
		snprintf(p, sizeof(p), "sys/devices/ndbus0/region0/namespace0.0/block/%s/%sp1/partition", disk, disk);
		tree_file(p, "1\n");
		snprintf(p, sizeof(p), "sys/devices/ndbus0/region0/namespace0.0/block/%s/%sp1/start", disk, disk);
		tree_filef(p, "%llu\n", (unsigned long long)start);
		snprintf(p, sizeof(p), "sys/dev/block/%s", pdevt);
		snprintf(t, sizeof(t), "../../devices/ndbus0/region0/namespace0.0/block/%s/%sp1", disk, disk);
		tree_link(t, p);
	}
}

/* The disk's kernel-kept list, as the kernel would show it. */
static inline void tree_badblocks(const char *disk, const char *text)
{
	char p[512];

	snprintf(p, sizeof(p), "sys/block/%s/badblocks", disk);
	tree_file(p, text);
}

static inline void tree_init(const char *dir)
{
	snprintf(tree_root, sizeof(tree_root), "%s/root", dir);
	if (mkdir(tree_root, 0755))
		t_fail("mkdir %s: %s", tree_root, strerror(errno));
	tree_mkdir("sys");
	setenv("UDAX_SYSFS_ROOT", tree_root, 1);
}

#endif /* UDAX_TEST_SYSFS_TREE_H */
