/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A sparse image on a full file system: the pages the file system cannot
 * back are not poison.  Writes stop with -ENOSPC (a short count first when
 * some bytes went in), reads of pages it cannot back fail without -EIO,
 * nothing becomes known, the state is unchanged, and poison elsewhere on
 * the same device still behaves as poison.  (Before: -EIO, and the pages
 * became known poison.)
 *
 * Needs a file system to fill: a 1 MiB tmpfs mounted in a private mount
 * namespace (root, and a kernel that lets us unshare); skipped otherwise.
 */
#include <sched.h>
#include <sys/mount.h>

#include "emul-util.h"

#define SIZE (16u << 20)

static char *dir;
static char img[400];

static void run(void)
{
	struct udax_dev *dev;
	unsigned char *buf = malloc(1 << 16);
	uint64_t off = 0;
	struct e_state s;
	ssize_t n;
	int last = 0;

	t_assert(buf);
	t_ok(udax_create(img, SIZE));		/* sparse: header + state */
	t_ok(udax_open(img, 0, &dev));
	t_ok(udax_inject(dev, SIZE - PG, PG, 0));	/* real poison, at the end */
	memset(buf, 0x6b, 1 << 16);

	/* Fill the file system through the device. */
	while (off < SIZE - PG) {
		n = udax_pwrite(dev, buf, 1 << 16, off);
		if (n < 0) {
			last = (int)n;
			break;
		}
		t_assert(n > 0);
		off += (uint64_t)n;
	}
	printf("filled: %llu bytes written, then %s\n", (unsigned long long)off,
	       strerror(-last));
	t_assert(off > 0 && off < SIZE / 2);
	t_eq(last, -ENOSPC);
	t_eq(udax_write(dev, buf, PG, off, UDAX_OP_FAILFAST), -ENOSPC);
	t_eq(udax_write(dev, buf, PG, off, UDAX_OP_RECOVERY), -ENOSPC);

	/* A page it cannot back, read: an error, but not poison. */
	n = udax_pread(dev, buf, PG, SIZE / 2);
	t_assert(n != -EIO);
	if (n < 0)
		t_assert(n == -ENXIO || n == -ENOSPC);
	n = udax_read(dev, buf, PG, SIZE / 2, UDAX_OP_FAILFAST);
	t_assert(n != -EIO);

	/* Known list: only the real poison, and it still is poison. */
	t_eq(udax_badblocks(dev, NULL, 0), 1);
	t_eq(udax_pread(dev, buf, PG, SIZE - PG), -EIO);
	s = e_state_read(img);
	t_assert(s.ok);
	t_eq(s.nk, 1);
	t_eq(s.nm, 1);
	e_state_free(&s);
	/* What was written reads back. */
	t_eq(udax_pread(dev, buf, PG, 0), PG);
	t_eq(buf[0], 0x6b);
	udax_close(dev);
	free(buf);
	printf("ok a full file system: -ENOSPC, never poison\n");
}

int main(void)
{
	char mnt[320];
	pid_t pid;
	int rc;

	if (geteuid())
		t_skip("not root: cannot mount a small tmpfs to fill");
	dir = e_tmpdir();
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	t_ok(mkdir(mnt, 0755));
	snprintf(img, sizeof(img), "%s/img", mnt);
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		/* The mount lives and dies with this process's namespace. */
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("udax-test", mnt, "tmpfs", 0, "size=1M"))
			_exit(T_SKIP);
		run();
		fflush(stdout);
		_exit(0);
	}
	rc = e_wait(pid);
	t_tmpdir_rm(dir);
	if (rc == T_SKIP)
		t_skip("cannot mount a tmpfs in a private mount namespace here");
	t_eq(rc, 0);
	return 0;
}
