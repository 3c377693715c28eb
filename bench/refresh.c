/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "refresh": what keeping a real device's known list current costs
 * (backends/pmem.c, backends/fsdax.c).
 *
 *   a call     udax__dev_enter(): when the tick has not moved, a few loads,
 *              as on the emulated device
 *   a refresh  the first call after the tick (UDAX_REFRESH_MS) runs
 *              ->load_known: the disk's badblocks text is read and compared
 *              with the last; only a changed text is parsed and published
 *              (fsdax: FIEMAP of the file and the translation too)
 *   a write    /dev/pmemN reads the list before each write (a write must
 *              not let the driver clear poison the tick has not shown yet)
 *
 * The disk here is a file standing in for /dev/pmemN (udax__pmem_open_on())
 * and the list a fake sysfs tree (UDAX_SYSFS_ROOT) on this machine's file
 * system; a real sysfs attribute read is measured beside for scale.  The
 * tick is frozen (UDAX_REFRESH_MS one hour) so that only what is asked for
 * runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bench.h"
#include "backends/pmem.h"

#define REFRESH_PAGES 1024	/* 4 MiB stand-in disk / file */

static char root[512], base[256];

static int put(const char *rel, const char *text)
{
	char p[PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int mkdirs(const char *rel)
{
	char p[PATH_MAX + 64], *s;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* @n ranges, one a page, every other page from sector @first. */
static void list_text(char *buf, size_t size, int n, uint64_t first)
{
	size_t o = 0;

	buf[0] = 0;
	for (int i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%llu 8\n",
				      (unsigned long long)(first + 16 * (uint64_t)i));
}

static int on_file_open(struct udax_dev *dev, int fd, const char *path)
{
	return udax__pmem_open_on(dev, fd, path, "pmem0", 0);
}

static const struct udax_backend on_file = { "pmem on a file", NULL,
					      on_file_open };

/* One figure of absolute times, udax (a) against a baseline (b) when
 * @b is not NULL. */
static void time_fig(const char *pair, const char *size, const double *a,
		     const double *b, int np, uint64_t n, const char *unit,
		     const char *note)
{
	struct fig *f = fig_new("refresh", pair, size, "hot", 1);
	double *r = calloc((size_t)np, sizeof(double));

	snprintf(f->unit, sizeof(f->unit), "%s", unit);
	f->a = stats(a, np);
	if (b && r) {
		for (int p = 0; p < np; p++)
			r[p] = a[p] / b[p];
		f->b = stats(b, np);
		f->has_ratio = true;
		f->ratio = stats(r, np);
		snprintf(f->ratio_kind, sizeof(f->ratio_kind), "slowdown");
	}
	f->pairs = np;
	f->iters = n;
	snprintf(f->note, sizeof(f->note), "%s", note);
	fig_print(f);
	free(r);
}

/* Mean ns of @n runs of @body. */
#define TIME_LOOP(res, n, body)						\
	do {								\
		double t0_ = now_ns();					\
		for (uint64_t i_ = 0; i_ < (n); i_++) {			\
			body;						\
		}							\
		(res) = (now_ns() - t0_) / (double)(n);			\
	} while (0)

/* A real sysfs attribute: open, read, close (scale for the fake tree). */
static int sysfs_ref(char *buf, size_t size)
{
	static const char *const cand[] = {
		"/sys/kernel/mm/transparent_hugepage/enabled",
		"/sys/kernel/profiling", "/sys/power/state",
	};
	static const char *pick;

	for (size_t i = 0; !pick && i < sizeof(cand) / sizeof(cand[0]); i++)
		if (!access(cand[i], R_OK))
			pick = cand[i];
	if (!pick)
		return -1;
	{
		int fd = open(pick, O_RDONLY | O_CLOEXEC);
		ssize_t r;

		if (fd < 0)
			return -1;
		r = read(fd, buf, size);
		close(fd);
		return r < 0 ? -1 : 0;
	}
}

void bench_refresh(void)
{
	const char *old_root = getenv("UDAX_SYSFS_ROOT");
	char data[PATH_MAX + 16], emul[PATH_MAX + 16], text_a[8192], text_b[8192];
	char link[1024], devt[32], tmp[128];
	int np = cfg.pairs, fd;
	uint64_t n = cfg.quick ? 20000 : 200000, m = cfg.quick ? 200 : 2000, acc = 0;
	double *a = calloc((size_t)np, sizeof(double));
	double *b = calloc((size_t)np, sizeof(double));
	struct udax_dev *pm = NULL, *em = NULL, *fx = NULL;
	char *buf = NULL;
	struct stat st;
	int rc;

	if (!a || !b)
		abort();
	/* A disk file system (O_DIRECT, FIEMAP), not tmpfs. */
	snprintf(base, sizeof(base), "%s/udax-bench-refresh-XXXXXX",
		 access("/var/tmp", W_OK) ? "/tmp" : "/var/tmp");
	if (!mkdtemp(base)) {
		say("refresh: no temporary directory: skipped\n");
		goto out_free;
	}
	snprintf(root, sizeof(root), "%s/root", base);
	mkdir(root, 0755);
	snprintf(data, sizeof(data), "%s/disk", base);
	snprintf(emul, sizeof(emul), "%s/emul", base);
	setenv("UDAX_REFRESH_MS", "3600000", 1);
	setenv("UDAX_SYSFS_ROOT", root, 1);
	buf = aligned_alloc(UDAX_PAGE_SIZE, REFRESH_PAGES * UDAX_PAGE_SIZE);
	fd = open(data, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!buf || fd < 0) {
		say("refresh: cannot make %s: skipped\n", data);
		goto out_env;
	}
	memset(buf, 0x5a, REFRESH_PAGES * UDAX_PAGE_SIZE);
	rc = write(fd, buf, REFRESH_PAGES * UDAX_PAGE_SIZE) !=
	     REFRESH_PAGES * UDAX_PAGE_SIZE || fsync(fd) || fstat(fd, &st);
	close(fd);
	if (rc) {
		say("refresh: cannot write %s: skipped\n", data);
		goto out_env;
	}
	/* The tree: the disk's list, and the file system's device -> disk. */
	snprintf(devt, sizeof(devt), "%u:%u", major(st.st_dev), minor(st.st_dev));
	snprintf(tmp, sizeof(tmp), "sys/dev/block/%s", devt);
	if (mkdirs("sys/block/pmem0") || mkdirs("sys/dev/block") ||
	    put("sys/block/pmem0/badblocks", "")) {
		say("refresh: cannot make a tree under %s: skipped\n", root);
		goto out_env;
	}
	snprintf(link, sizeof(link), "%s/%s", root, tmp);
	if (symlink("../../block/pmem0", link)) {
		say("refresh: cannot link %s: skipped\n", link);
		goto out_env;
	}
	list_text(text_a, sizeof(text_a), 100, 1 << 20);
	list_text(text_b, sizeof(text_b), 100, (1 << 20) + 8);
	if (put("sys/block/pmem0/badblocks", text_a) ||
	    udax__open_backend(&on_file, data, 0, &pm) ||
	    udax__open_backend(&udax__fsdax_backend, data, 0, &fx) ||
	    udax_create(emul, REFRESH_PAGES * UDAX_PAGE_SIZE) ||
	    udax_open(emul, 0, &em)) {
		say("refresh: O_DIRECT, FIEMAP or the fake tree not available here: skipped\n");
		goto out_close;
	}
	pin_to(0);

	/* A call when nothing is due: pmem and fsdax against emulated. */
	for (int p = -cfg.warmup; p < np; p++) {
		double x, y;

		TIME_LOOP(x, n * 10, acc += (uint64_t)udax__dev_enter(pm);
			  __asm__ volatile("" : "+r"(acc)));
		TIME_LOOP(y, n * 10, acc += (uint64_t)udax__dev_enter(em);
			  __asm__ volatile("" : "+r"(acc)));
		if (p >= 0) {
			a[p] = x;
			b[p] = y;
		}
	}
	time_fig("udax__dev_enter, nothing due: pmem / emulated", "-", a, b, np,
		 n * 10, "ns", "the start of every call: liveness, then the known_src word against known_gen");

	/* A refresh whose list did not change. */
	for (int p = -cfg.warmup; p < np; p++) {
		double x, y;

		TIME_LOOP(x, m, acc += (uint64_t)pm->ops->load_known(pm));
		TIME_LOOP(y, m, acc += (uint64_t)sysfs_ref(tmp, sizeof(tmp)));
		if (p >= 0) {
			a[p] = x / 1e3;
			b[p] = y / 1e3;
		}
	}
	time_fig("pmem refresh, list unchanged / a real sysfs read", "100 ranges",
		 a, b, np, m, "us", "->load_known: open, read, close the fake sysfs file, compare");
	for (int p = -cfg.warmup; p < np; p++) {
		double x, y;

		TIME_LOOP(x, m, acc += (uint64_t)fx->ops->load_known(fx));
		TIME_LOOP(y, m, acc += (uint64_t)sysfs_ref(tmp, sizeof(tmp)));
		if (p >= 0) {
			a[p] = x / 1e3;
			b[p] = y / 1e3;
		}
	}
	time_fig("fsdax refresh, list unchanged / a real sysfs read", "100 ranges",
		 a, b, np, m, "us", "the same plus an fstat of the file");

	/* A refresh whose list changed: every one parses and publishes. */
	for (int p = -cfg.warmup; p < np; p++) {
		double x = 0, y = 0, t0;

		for (uint64_t i = 0; i < m; i++) {
			put("sys/block/pmem0/badblocks", i & 1 ? text_a : text_b);
			t0 = now_ns();
			acc += (uint64_t)pm->ops->load_known(pm);
			x += now_ns() - t0;
			put("sys/block/pmem0/badblocks", i & 1 ? text_b : text_a);
			t0 = now_ns();
			acc += (uint64_t)fx->ops->load_known(fx);
			y += now_ns() - t0;
		}
		if (p >= 0) {
			a[p] = x / (double)m / 1e3;
			b[p] = y / (double)m / 1e3;
		}
	}
	time_fig("pmem refresh, list changed", "100 ranges", a, NULL, np, m, "us",
		 "read, compare, parse, publish");
	time_fig("fsdax refresh, list changed", "100 ranges", b, NULL, np, m, "us",
		 "read, compare, parse, FIEMAP, translate, publish");

	/* A 4 KiB write through /dev/pmemN against pwrite O_DIRECT. */
	fd = open(data, O_RDWR | O_DIRECT);
	if (fd >= 0) {
		for (int p = -cfg.warmup; p < np; p++) {
			double x, y;

			TIME_LOOP(x, m, acc += (uint64_t)udax_write(pm, buf, UDAX_PAGE_SIZE,
					(i_ % 64) * UDAX_PAGE_SIZE, UDAX_OP_FAILFAST));
			TIME_LOOP(y, m, acc += (uint64_t)pwrite(fd, buf, UDAX_PAGE_SIZE,
					(off_t)((i_ % 64) * UDAX_PAGE_SIZE)));
			if (p >= 0) {
				a[p] = x / 1e3;
				b[p] = y / 1e3;
			}
		}
		close(fd);
		time_fig("pmem udax_write 4 KiB / pwrite O_DIRECT 4 KiB", "4 KiB", a, b,
			 np, m, "us", "udax: the list read again, a bounce copy, the same pwrite");
	}
	sink += acc;
out_close:
	udax_close(pm);
	udax_close(fx);
	udax_close(em);
out_env:
	if (old_root)
		setenv("UDAX_SYSFS_ROOT", old_root, 1);
	else
		unsetenv("UDAX_SYSFS_ROOT");
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd))
			say("refresh: could not remove %s\n", base);
	}
out_free:
	free(buf);
	free(a);
	free(b);
}
