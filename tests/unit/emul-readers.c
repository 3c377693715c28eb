/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readers never wait for writers.  Another process holds the image's
 * writer lock (an OFD lock on byte 0) and a thread of ours is blocked in
 * udax_inject() behind it; meanwhile our reader threads must complete
 * their operations: reads of good pages, direct_access, badblocks, and
 * recovery reads that run into latent poison (consuming it must not wait
 * for the lock: it is known at once, and saved later).  Then the other
 * process goes on to look like a writer stalled in mid-commit (odd
 * generation, a new state renamed in): readers see the new state, still
 * without waiting.  Progress is counted in operations; wall time is only a
 * safety timeout.  (Before: a reader that consumed poison, or that saw the
 * generation move, queued behind the blocked writer.)
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

#include "emul-util.h"

#define PAGES 64
#define GOOD 16			/* pages 0..15: data */
#define LATENT0 20		/* pages 20, 22, .. 34: latent poison */
#define NLATENT 8
#define NEWBAD 40		/* poisoned by the stalled "writer" */
#define MINE 50			/* our blocked inject */
#define OPS 3000		/* per reader thread and phase */
#define SAFETY 120		/* seconds */

static char *dir;
static char img[300];
static struct udax_dev *dev;
static int phase;		/* 1: lock held; 2: also mid-commit */
static int inject_rc = 1, inject_done;
static pid_t inject_tid;

static void *injector(void *arg)
{
	(void)arg;
	__atomic_store_n(&inject_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	__atomic_store_n(&inject_rc, udax_inject(dev, MINE * PG, PG, 0), __ATOMIC_RELEASE);
	__atomic_store_n(&inject_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct reader {
	int id;
	long ops;
	char err[200];
};

#define R_FAIL(...) do { snprintf(r->err, sizeof(r->err), __VA_ARGS__); return r; } while (0)

static void *reader(void *arg)
{
	struct reader *r = arg;
	unsigned char *buf = malloc(2 * PG);
	bool saw_new = false;

	if (!buf)
		R_FAIL("malloc");
	for (long i = 0; i < OPS; i++) {
		uint64_t pg = (uint64_t)(i + r->id) % GOOD;
		uint64_t lp = LATENT0 + 2 * ((uint64_t)(i / 4 + r->id) % NLATENT);
		void *k = NULL;
		ssize_t n;
		long nb;

		switch (i % 4) {
		case 0:
			n = udax_pread(dev, buf, PG, pg * PG);
			if (n != PG || !e_is_page(buf, 3, pg))
				R_FAIL("pread of good page %llu: %zd", (unsigned long long)pg, n);
			break;
		case 1:
			n = udax_direct_access(dev, 0, GOOD, &k, NULL);
			if (n != GOOD)
				R_FAIL("direct_access: %zd", n);
			break;
		case 2:
			/* Recovery read into latent poison: the page before
			 * it, and the poisoned page known from now on. */
			n = udax_pread(dev, buf, 2 * PG, (lp - 1) * PG);
			if (n != PG)
				R_FAIL("recovery read before page %llu: %zd",
				       (unsigned long long)lp, n);
			k = NULL;
			if (udax_direct_access(dev, lp, 1, &k, NULL) != -EIO)
				R_FAIL("page %llu consumed, not known", (unsigned long long)lp);
			break;
		case 3:
			nb = udax_badblocks(dev, NULL, 0);
			if (nb < 1 || nb > NLATENT + 2)
				R_FAIL("badblocks: %ld", nb);
			if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == 2 && !saw_new) {
				n = udax_pread(dev, buf, PG, NEWBAD * PG);
				if (n == -EIO)
					saw_new = true;
				else if (n != PG)
					R_FAIL("page %d after the rename: %zd (op %ld)",
					       NEWBAD, n, i);
			}
			break;
		}
		__atomic_store_n(&r->ops, i + 1, __ATOMIC_RELEASE);
	}
	/*
	 * The state renamed in is seen though its writer still holds the
	 * lock and gen is odd.  Not within a fixed count: the thread that
	 * is loading it may be preempted, and the others go on with the
	 * list they have (they never wait for a loader either).
	 */
	for (long i = 0; !saw_new && __atomic_load_n(&phase, __ATOMIC_ACQUIRE) == 2 &&
	     i < 10000000; i++) {
		ssize_t n = udax_pread(dev, buf, PG, NEWBAD * PG);

		if (n == -EIO)
			saw_new = true;
		else if (n != PG)
			R_FAIL("page %d after the rename: %zd", NEWBAD, n);
		else
			sched_yield();
	}
	if (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) == 2 && !saw_new)
		R_FAIL("never saw the new state");
	free(buf);
	return r;
}

/* The thread is blocked in a system call, fcntl. */
static bool blocked_in_fcntl(pid_t tid)
{
	char path[64], line[256];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f))
		nr = strtol(line, NULL, 10);
	fclose(f);
	return nr == SYS_fcntl;
}

static void run_readers(const char *what)
{
	struct reader r[2] = { { .id = 0 }, { .id = 1 } };
	pthread_t t[2];
	struct timespec until;

	for (int i = 0; i < 2; i++)
		t_ok(pthread_create(&t[i], NULL, reader, &r[i]));
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SAFETY;
	for (int i = 0; i < 2; i++) {
		int rc = pthread_timedjoin_np(t[i], NULL, &until);

		if (rc)
			t_fail("%s: reader %d stuck after %ld of %d operations "
			       "(%d s safety timeout): it waits for the writer",
			       what, i, __atomic_load_n(&r[i].ops, __ATOMIC_ACQUIRE),
			       OPS, SAFETY);
		if (r[i].err[0])
			t_fail("%s: reader %d: %s", what, i, r[i].err);
	}
	t_assert(!__atomic_load_n(&inject_done, __ATOMIC_ACQUIRE));
	t_assert(blocked_in_fcntl(inject_tid));
	printf("ok %s: 2 x %d reader operations while the writer waits\n", what, OPS);
}

/* The other process: take the lock; on "s", stall mid-commit (gen odd, a
 * new state renamed in); on EOF or "r", release and exit. */
static void holder(int cmd, int ack, const char *newstate, uint64_t gen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };
	int fd = open(img, O_RDWR | O_CLOEXEC);
	char c, tmp[400], state[400];

	if (fd < 0 || fcntl(fd, F_OFD_SETLKW, &fl))
		_exit(80);
	if (write(ack, "l", 1) != 1)
		_exit(81);
	while (read(cmd, &c, 1) == 1 && c == 's') {
		FILE *f;

		e_set_hdr_gen(img, gen + 1);
		snprintf(tmp, sizeof(tmp), "%s.poison.holder", img);
		snprintf(state, sizeof(state), "%s.poison", img);
		f = fopen(tmp, "we");
		if (!f || fprintf(f, "udax-poison 2\ngen %llu\n%s",
				  (unsigned long long)(gen + 2), newstate) < 0 ||
		    fclose(f) || rename(tmp, state))
			_exit(82);
		if (write(ack, "s", 1) != 1)
			_exit(83);
	}
	_exit(0);
}

int main(void)
{
	int cmd[2], ack[2];
	pthread_t inj;
	char c, newstate[512];
	struct e_state s;
	uint64_t gen;
	pid_t pid;

	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	e_image(img, PAGES, 3);
	t_ok(udax_open(img, 0, &dev));
	for (int i = 0; i < NLATENT; i++)
		t_ok(udax_inject(dev, (LATENT0 + 2 * i) * PG + 512, 512,
				 UDAX_INJECT_LATENT));
	/* Known poison too, so the list is never empty. */
	t_ok(udax_inject(dev, 60 * PG, PG, 0));
	gen = e_hdr_gen(img);
	{
		int n = snprintf(newstate, sizeof(newstate), "known\n%d 8\n%d 8\nmedia\n",
				 NEWBAD * 8, 60 * 8);

		for (int i = 0; i < NLATENT; i++)
			n += snprintf(newstate + n, sizeof(newstate) - (size_t)n,
				      "%d 1\n", (LATENT0 + 2 * i) * 8 + 1);
		snprintf(newstate + n, sizeof(newstate) - (size_t)n, "%d 8\n%d 8\n",
			 NEWBAD * 8, 60 * 8);
	}

	t_ok(pipe(cmd));
	t_ok(pipe(ack));
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		close(cmd[1]);
		holder(cmd[0], ack[1], newstate, gen);
	}
	close(cmd[0]);
	close(ack[1]);
	t_eq(read(ack[0], &c, 1), 1);		/* the lock is held */

	t_ok(pthread_create(&inj, NULL, injector, NULL));
	while (!__atomic_load_n(&inject_tid, __ATOMIC_ACQUIRE) ||
	       !blocked_in_fcntl(inject_tid)) {
		t_assert(!__atomic_load_n(&inject_done, __ATOMIC_ACQUIRE));
		usleep(1000);
	}

	__atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
	run_readers("lock held elsewhere, our writer blocked");
	/* Everything the readers consumed is known already. */
	t_eq(udax_badblocks(dev, NULL, 0), NLATENT + 1);

	t_eq(write(cmd[1], "s", 1), 1);
	t_eq(read(ack[0], &c, 1), 1);
	__atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
	run_readers("another writer stalled mid-commit (gen odd)");

	/* Release: our writer goes on, on top of the other's state. */
	close(cmd[1]);
	t_eq(e_wait(pid), 0);
	t_ok(pthread_join(inj, NULL));
	t_ok(inject_rc);
	t_eq(udax_badblocks(dev, NULL, 0), NLATENT + 3);	/* and 40, 50 */
	udax_close(dev);
	s = e_state_read(img);
	t_assert(s.ok);
	t_eq(e_covered(s.k, s.nk, LATENT0 * 8, 2 * NLATENT * 8), NLATENT);
	t_eq(e_covered(s.k, s.nk, NEWBAD * 8, 8), 8);
	t_eq(e_covered(s.k, s.nk, MINE * 8, 8), 8);
	e_state_free(&s);
	printf("ok the consumed poison and both writers' pages are saved\n");
	t_tmpdir_rm(dir);
	return 0;
}
