/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork() after udax_open(): parent and child keep using the handle they
 * share, at the same time.  Every injection of both survives, in the
 * state file and in both processes' lists; no call fails; the state file
 * always parses.  (A handle whose writer lock is a descriptor shared with
 * the parent excludes nothing: the two interleaved their state files and
 * lost about half of the 600 pages.)
 */
#include "emul-util.h"

#define EACH 300
#define PAGES (4 * EACH + 8)

static char *dir;
static char img[300];

/* Page of the @i-th injection by @who (0 parent, 1 child): never adjacent
 * to another, so each stays its own range. */
static uint64_t page_of(int who, int i)
{
	return 4 * (uint64_t)i + 2 * (uint64_t)who;
}

static int inject_all(struct udax_dev *dev, int who)
{
	for (int i = 0; i < EACH; i++) {
		int rc = udax_inject(dev, page_of(who, i) * PG, PG, 0);

		if (rc) {
			fprintf(stderr, "%s: inject %d: %s\n",
				who ? "child" : "parent", i, strerror(-rc));
			return 1;
		}
	}
	return 0;
}

/* @dev's list holds every page of both, and nothing else. */
static int check_list(struct udax_dev *dev, const char *who)
{
	struct udax_range *r = calloc(2 * EACH + 1, sizeof(*r));
	long n = udax_badblocks(dev, r, 2 * EACH + 1);
	int bad = 0;

	if (n != 2 * EACH) {
		fprintf(stderr, "%s: %ld known ranges, want %d\n", who, n, 2 * EACH);
		bad = 1;
	}
	for (long i = 0; i < n && i < 2 * EACH && !bad; i++) {
		uint64_t want = page_of((int)(i % 2), (int)(i / 2)) * PG;

		if (r[i].off != want || r[i].len != PG) {
			fprintf(stderr, "%s: range %ld is %llu+%llu, want %llu+4096\n",
				who, i, (unsigned long long)r[i].off,
				(unsigned long long)r[i].len, (unsigned long long)want);
			bad = 1;
		}
	}
	free(r);
	return bad;
}

static void round_trip(int round)
{
	struct udax_dev *dev;
	int go[2], ready[2], rc;
	struct e_state s;
	char buf[PG];
	pid_t pid;

	e_image(img, PAGES, 7);
	t_ok(udax_open(img, 0, &dev));
	/* The handle has been used before the fork. */
	t_eq(udax_pread(dev, buf, PG, 0), PG);
	t_ok(pipe(go));
	t_ok(pipe(ready));
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		char c;

		close(go[1]);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(20);
		rc = inject_all(dev, 1);
		/* Everything the parent injected is there too, once it is
		 * done (it waits for us first). */
		if (write(ready[1], "d", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(21);
		if (!rc)
			rc = check_list(dev, "child");
		for (int i = 0; i < EACH && !rc; i++)
			if (udax_pread(dev, buf, PG, page_of(0, i) * PG) != -EIO)
				rc = 22;
		_exit(rc);
	}
	{
		char c;

		t_eq(read(ready[0], &c, 1), 1);
		t_eq(write(go[1], "g", 1), 1);		/* both start now */
		rc = inject_all(dev, 0);
		t_eq(read(ready[0], &c, 1), 1);		/* child done */
		t_ok(rc);
		t_eq(write(go[1], "c", 1), 1);
	}
	t_eq(e_wait(pid), 0);
	t_ok(check_list(dev, "parent"));
	for (int i = 0; i < EACH; i++)
		t_eq(udax_pread(dev, buf, PG, page_of(1, i) * PG), -EIO);
	udax_close(dev);

	s = e_state_read(img);
	t_assert(s.ok);
	t_eq(s.nk, 2 * EACH);
	t_eq(s.nm, 2 * EACH);
	e_state_free(&s);
	t_ok(udax_open(img, 0, &dev));
	t_ok(check_list(dev, "reopened"));
	udax_close(dev);
	printf("ok round %d: %d + %d injections through one handle after fork\n",
	       round, EACH, EACH);
}

/*
 * The child's own writes after fork: a clear in the child while the parent
 * injects is not undone by the parent's next transaction.
 */
static void clear_in_child(void)
{
	struct udax_dev *dev;
	char buf[PG];
	pid_t pid;

	e_image(img, 64, 9);
	t_ok(udax_open(img, 0, &dev));
	t_ok(udax_inject(dev, 10 * PG, PG, 0));
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0)
		_exit(udax_zero_page_range(dev, 10, 1) ? 1 : 0);
	t_eq(e_wait(pid), 0);
	t_ok(udax_inject(dev, 20 * PG, PG, 0));
	t_eq(udax_badblocks(dev, NULL, 0), 1);
	t_eq(udax_pread(dev, buf, PG, 10 * PG), PG);
	for (int i = 0; i < PG; i++)
		t_eq(buf[i], 0);
	udax_close(dev);
	printf("ok a clear in the child survives the parent's next write\n");
}

int main(void)
{
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	for (int round = 0; round < 3; round++)
		round_trip(round);
	clear_in_child();
	t_tmpdir_rm(dir);
	return 0;
}
