/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The smaller defects of the reliability issue:
 *  - a FIFO at IMG.poison is refused at once (it hung every command);
 *  - a missing IMG.poison is an error, not "no poison";
 *  - udax_pwrite() of 0 bytes returns 0 (it returned -EIO);
 *  - a state file corrupted by someone else does not make the calls of an
 *    open handle fail with errors their docs do not list: the handle keeps
 *    its last list (poison stays refused) and picks up the next good state;
 *  - the copies check their pgoff: an address below pgoff's page copies
 *    nothing (they ignored pgoff);
 *  - a read or write that starts inside a page with latent poison makes
 *    that page's poison known, not the next page's (found by emul-model).
 */
#include <time.h>

#include "emul-util.h"

static char *dir;
static char img[300], state[320], saved[320];

static void fifo_state(void)
{
	struct udax_dev *dev;
	time_t t0;
	pid_t pid;

	e_image(img, 16, 0);
	t_ok(rename(state, saved));
	t_ok(mkfifo(state, 0644));
	/* In a child with an alarm: a hang must fail the test, not stall it. */
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		alarm(20);
		_exit(udax_open(img, 0, &dev) == -EUCLEAN ? 0 : 1);
	}
	t0 = time(NULL);
	t_eq(e_wait(pid), 0);
	t_assert(time(NULL) - t0 < 20);
	unlink(state);

	/* Missing: an error, never an image without poison. */
	t_eq(udax_open(img, 0, &dev), -EUCLEAN);
	t_ok(rename(saved, state));
	t_ok(udax_open(img, 0, &dev));
	udax_close(dev);
	printf("ok a FIFO or a missing file at IMG.poison: -EUCLEAN at once\n");
}

static void zero_length(void)
{
	struct udax_dev *dev;
	char buf[16] = { 0 };

	e_image(img, 16, 0);
	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_pwrite(dev, buf, 0, 4096), 0);
	t_eq(udax_pwrite(dev, buf, 0, 0), 0);
	t_eq(udax_pread(dev, buf, 0, 4096), 0);
	t_ok(udax_inject(dev, 4096, 512, 0));
	t_eq(udax_pwrite(dev, buf, 0, 4096), 0);	/* over poison too */
	t_eq(udax_pread(dev, buf, 0, 4096), 0);
	t_eq(udax_badblocks(dev, NULL, 0), 1);
	udax_close(dev);
	printf("ok 0-byte reads and writes return 0\n");
}

/* Someone else writes garbage into the state and moves the generation. */
static void corrupted_by_someone_else(void)
{
	struct udax_dev *dev;
	unsigned char buf[PG];
	void *k = NULL;
	char good[4096];
	uint64_t g;
	FILE *f;
	int fd;
	long n;

	e_image(img, 16, 5);
	t_ok(udax_open(img, 0, &dev));
	t_ok(udax_inject(dev, 3 * PG, PG, 0));
	fd = open(state, O_RDONLY);
	t_assert(fd >= 0);
	n = read(fd, good, sizeof(good));
	t_assert(n > 0);
	close(fd);

	f = fopen(state, "we");
	t_assert(f);
	fputs("udax-poison 2\ngen 99\nknown\nthis is not a range\nmedia\n", f);
	t_ok(fclose(f));
	g = e_hdr_gen(img);
	e_set_hdr_gen(img, g + 2);

	/* Every call goes on with the list it had. */
	t_eq(udax_pread(dev, buf, PG, 0), PG);
	t_assert(e_is_page(buf, 5, 0));
	t_eq(udax_pread(dev, buf, PG, 3 * PG), -EIO);
	t_eq(udax_direct_access(dev, 0, 3, &k, NULL), 3);
	k = NULL;
	t_eq(udax_direct_access(dev, 3, 1, &k, NULL), -EIO);
	t_eq(udax_badblocks(dev, NULL, 0), 1);
	{
		struct iovec iov = { buf, PG };
		struct udax_iter it;

		k = NULL;
		t_eq(udax_direct_access(dev, 0, 1, &k, NULL), 1);
		udax_iter_init(&it, &iov, 1, PG);
		t_eq(udax_copy_to_iter(dev, 0, k, PG, &it), PG);
	}
	t_eq(udax_pwrite(dev, buf, PG, 8 * PG), PG);

	/* A good state again: picked up at the next call. */
	f = fopen(state, "we");
	t_assert(f);
	fprintf(f, "udax-poison 2\ngen %llu\nknown\n%d 8\n%d 8\nmedia\n%d 8\n%d 8\n",
		(unsigned long long)(g + 4), 3 * 8, 9 * 8, 3 * 8, 9 * 8);
	t_ok(fclose(f));
	e_set_hdr_gen(img, g + 4);
	t_eq(udax_pread(dev, buf, PG, 9 * PG), -EIO);
	t_eq(udax_badblocks(dev, NULL, 0), 2);
	udax_close(dev);
	printf("ok a state corrupted by someone else: the handle keeps its list\n");
}

static void copies_check_pgoff(void)
{
	struct udax_dev *dev;
	unsigned char buf[PG], page[PG];
	struct iovec iov = { buf, PG };
	struct udax_iter it;
	void *k = NULL;

	e_image(img, 16, 7);
	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_direct_access(dev, 3, 4, &k, NULL), 4);
	/* An address in page 3 with pgoff 5: the caller mixed them up. */
	udax_iter_init(&it, &iov, 1, PG);
	t_eq(udax_copy_to_iter(dev, 5, k, PG, &it), 0);
	t_eq(it.count, PG);
	memset(buf, 0xee, PG);
	udax_iter_init(&it, &iov, 1, PG);
	t_eq(udax_copy_from_iter(dev, 5, k, PG, &it), 0);
	t_eq(udax_pread(dev, page, PG, 3 * PG), PG);
	t_assert(e_is_page(page, 7, 3));
	/* Right pgoff, and an address past it in the same mapping: fine. */
	udax_iter_init(&it, &iov, 1, PG);
	t_eq(udax_copy_to_iter(dev, 3, (char *)k + PG, PG, &it), PG);
	t_assert(e_is_page(buf, 7, 4));
	udax_close(dev);
	printf("ok the copies check their pgoff\n");
}

static void consume_one_page(void)
{
	struct udax_dev *dev;
	unsigned char b[PG];
	struct udax_range r[4];

	e_image(img, 16, 3);
	t_ok(udax_open(img, 0, &dev));
	t_ok(udax_inject(dev, 2 * PG, 2 * PG, UDAX_INJECT_LATENT));
	/* Starts inside page 2, ends inside it too. */
	t_eq(udax_pread(dev, b, 100, 2 * PG + 1000), -EIO);
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].off, 2 * PG);
	t_ueq(r[0].len, PG);
	t_eq(udax_write(dev, b, 100, 3 * PG + 1000, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].len, 2 * PG);
	udax_close(dev);
	printf("ok a read inside a latent page makes only that page known\n");
}

int main(void)
{
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(state, sizeof(state), "%s.poison", img);
	snprintf(saved, sizeof(saved), "%s.saved", img);
	zero_length();
	copies_check_pgoff();
	corrupted_by_someone_else();
	consume_one_page();
	fifo_state();
	t_tmpdir_rm(dir);
	return 0;
}
