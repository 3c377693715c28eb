/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A SIGBUS is not always poison.  An image truncated under an open handle
 * makes reads and writes fail with -ENXIO (the device is gone), not -EIO,
 * and adds nothing to the known list; the program's own loads there get
 * the kernel's SIGBUS (BUS_ADRERR), untouched.  A caller's buffer that
 * faults gives -EFAULT or a short count, never -EIO, never a known-list
 * entry, and a recovery write from such a buffer leaves the page poisoned.
 * (Before: every SIGBUS was poison: -EIO, and the pages became known.)
 * The full file system case is emul-fullfs.c.
 */
#include "emul-util.h"

#define PAGES 32

static char *dir;
static char img[300];

static void no_poison(struct udax_dev *dev, const char *what)
{
	struct e_state s;

	if (udax_badblocks(dev, NULL, 0) != 0)
		t_fail("%s: %ld ranges became known", what, udax_badblocks(dev, NULL, 0));
	s = e_state_read(img);
	t_assert(s.ok);
	if (s.nk || s.nm)
		t_fail("%s: the state file has %zu known, %zu media ranges", what,
		       s.nk, s.nm);
	e_state_free(&s);
}

static void truncated(void)
{
	struct udax_dev *dev;
	unsigned char buf[2 * PG], v;
	siginfo_t si;
	void *k = NULL;
	ssize_t n;

	e_image(img, PAGES, 13);
	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_direct_access(dev, 0, PAGES, &k, NULL), PAGES);
	/* Keep the header and the first 8 pages. */
	t_ok(truncate(img, 9 * PG));

	t_eq(udax_pread(dev, buf, PG, 2 * PG), PG);
	t_assert(e_is_page(buf, 13, 2));
	n = udax_pread(dev, buf, PG, 20 * PG);
	t_eq(n, -ENXIO);
	t_eq(udax_read(dev, buf, PG, 20 * PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(udax_read(dev, buf, PG, 20 * PG, UDAX_OP_RECOVERY), -ENXIO);
	/* Across the end of the file: the bytes before it are data. */
	t_eq(udax_pread(dev, buf, 2 * PG, 7 * PG), PG);
	t_eq(udax_pread(dev, buf, PG, 8 * PG), -ENXIO);
	memset(buf, 1, sizeof(buf));
	t_eq(udax_pwrite(dev, buf, PG, 20 * PG), -ENXIO);
	t_eq(udax_write(dev, buf, PG, 20 * PG, UDAX_OP_FAILFAST), -ENXIO);
	{
		struct iovec iov = { buf, PG };
		struct udax_iter it;

		udax_iter_init(&it, &iov, 1, PG);
		t_eq(udax_copy_to_iter(dev, 20, (char *)k + 20 * PG, PG, &it), 0);
	}
	/* Nothing became known: the next calls see no poison. */
	k = NULL;
	t_eq(udax_direct_access(dev, 20, 1, &k, NULL), 1);
	no_poison(dev, "truncated image");

	/* The program's own load there: the kernel's SIGBUS, as it was. */
	if (!t_under_valgrind()) {
		t_eq(e_touch((unsigned char *)k + 5, false, &v, &si), SIGBUS);
		t_eq(si.si_code, BUS_ADRERR);
		t_eq(udax_badblocks(dev, NULL, 0), 0);
	}
	udax_close(dev);
	printf("ok a truncated image: -ENXIO, nothing known\n");
}

static void caller_buffer(void)
{
	struct udax_dev *dev;
	unsigned char *buf, page[PG];
	void *k = NULL;
	ssize_t n;

	e_image(img, PAGES, 17);
	t_ok(udax_open(img, 0, &dev));
	buf = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_assert(buf != MAP_FAILED);
	memset(buf, 0x3c, 4 * PG);
	t_ok(mprotect(buf + PG, 3 * PG, PROT_NONE));

	/* Reads into it. */
	n = udax_pread(dev, buf + PG, PG, 0);
	t_assert(n == -EFAULT);
	t_eq(udax_read(dev, buf + PG, PG, 0, UDAX_OP_FAILFAST), -EFAULT);
	t_eq(udax_read(dev, buf + PG, PG, 0, UDAX_OP_RECOVERY), -EFAULT);
	n = udax_pread(dev, buf, 2 * PG, 0);
	t_assert(n == PG || n == -EFAULT);
	t_assert(e_is_page(buf, 17, 0));
	/* Writes from it. */
	t_eq(udax_pwrite(dev, buf + PG, PG, 3 * PG), -EFAULT);
	t_eq(udax_write(dev, buf + PG, PG, 3 * PG, UDAX_OP_FAILFAST), -EFAULT);
	n = udax_pwrite(dev, buf, 2 * PG, 3 * PG);
	t_assert(n == PG || n == -EFAULT);
	t_eq(udax_pread(dev, page, PG, 4 * PG), PG);
	t_assert(e_is_page(page, 17, 4));
	no_poison(dev, "caller's buffer");

	/* A recovery write from it over poison: the page stays poisoned,
	 * its old bytes never readable. */
	t_ok(udax_inject(dev, 6 * PG, PG, 0));
	t_eq(udax_pwrite(dev, buf + PG, PG, 6 * PG), -EFAULT);
	t_eq(udax_write(dev, buf + PG, PG, 6 * PG, UDAX_OP_RECOVERY), -EFAULT);
	t_eq(udax_pread(dev, page, PG, 6 * PG), -EIO);
	k = NULL;
	t_eq(udax_direct_access(dev, 6, 1, &k, NULL), -EIO);
	t_eq(udax_badblocks(dev, NULL, 0), 1);
	{
		struct udax_range r = { 6 * PG, PG };

		t_eq(udax_media_poison(dev, &r, 1), 1);
	}
	munmap(buf, 4 * PG);
	udax_close(dev);
	printf("ok a faulting caller's buffer: -EFAULT, never poison\n");
}

int main(void)
{
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	truncated();
	caller_buffer();
	t_tmpdir_rm(dir);
	return 0;
}
