/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A writer killed in the middle of its transaction, while another process
 * keeps the image open: the long-lived process's next call sees exactly
 * what the state file says (a page the killed writer poisoned reads -EIO,
 * not 4096 bytes), and its next write keeps the killed writer's entry.
 * (Before: a writer killed between renaming the state file and bumping the
 * shared generation left every open handle on the old view for good.)
 *
 * The writer is a child under ptrace: it is killed (SIGKILL) on leaving
 * its k-th system call, for every k from its udax_open() to its exit; the
 * rename that publishes the state is among them, and so is every point
 * between that rename and the end of the transaction.
 */
#include <sys/ptrace.h>
#include <linux/ptrace.h>

#include "emul-util.h"

#define PAGES 64
#define VICTIM 7	/* the killed writer's page */
#define MINE 9		/* the long-lived process's page */

static char *dir;
static char img[300];

/* The child: stop for the tracer, then one transaction. */
static void writer(void)
{
	struct udax_dev *dev;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(90);
	raise(SIGSTOP);
	if (udax_open(img, 0, &dev))
		_exit(91);
	if (udax_inject(dev, VICTIM * PG + 512, 512, 0))
		_exit(92);
	udax_close(dev);
	_exit(0);
}

/*
 * Run the writer, killing it on the exit of its @k-th system call: after
 * the call took effect, before the next instruction.  Returns 1 if it was
 * killed, 0 if it finished first.
 */
static int run_writer(long k)
{
	long n = 0;
	int st, killed = 0;
	pid_t pid = fork();

	t_assert(pid >= 0);
	if (pid == 0)
		writer();
	t_eq(waitpid(pid, &st, 0), pid);
	t_assert(WIFSTOPPED(st));
	t_ok(ptrace(PTRACE_SETOPTIONS, pid, NULL,
		    (void *)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)));
	for (;;) {
		struct ptrace_syscall_info si;

		t_ok(ptrace(PTRACE_SYSCALL, pid, NULL, NULL));
		t_eq(waitpid(pid, &st, 0), pid);
		if (WIFEXITED(st)) {
			t_eq(WEXITSTATUS(st), 0);
			return 0;
		}
		t_assert(WIFSTOPPED(st));
		if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			/* A signal for the child (emulated poison uses
			 * none here): deliver it. */
			t_ok(ptrace(PTRACE_SYSCALL, pid, NULL,
				    (void *)(long)WSTOPSIG(st)));
			continue;
		}
		memset(&si, 0, sizeof(si));
		t_assert(ptrace(PTRACE_GET_SYSCALL_INFO, pid,
				(void *)sizeof(si), &si) > 0);
		if (si.op != PTRACE_SYSCALL_INFO_EXIT)
			continue;
		if (++n == k) {
			kill(pid, SIGKILL);
			t_eq(waitpid(pid, &st, 0), pid);
			t_assert(WIFSIGNALED(st));
			killed = 1;
			break;
		}
	}
	return killed;
}

/* Does the state file hold the victim's sector (known)? */
static bool file_has_victim(void)
{
	struct e_state s = e_state_read(img);
	bool has;

	t_assert(s.ok);
	has = e_covered(s.k, s.nk, VICTIM * 8 + 1, 1) == 1;
	t_assert(has == (e_covered(s.m, s.nm, VICTIM * 8 + 1, 1) == 1));
	e_state_free(&s);
	return has;
}

/* One kill point: the long-lived handle agrees with the file, and keeps
 * the killed writer's entry through its own write.  Returns 0 when the
 * writer finished before the @k-th call. */
static int one_point(long k, int *with_victim)
{
	struct udax_dev *dev, *other;
	struct udax_range r[4];
	unsigned char buf[PG];
	bool has;
	int killed;

	e_image(img, PAGES, 21);
	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_pread(dev, buf, PG, VICTIM * PG), PG);	/* loaded */
	t_ok(udax_open(img, UDAX_OPEN_RDONLY, &other));
	t_eq(udax_pread(other, buf, PG, VICTIM * PG), PG);

	killed = run_writer(k);
	has = file_has_victim();
	*with_victim += has;
	if (!killed)
		t_assert(has);

	/* The next call of each long-lived handle sees the file. */
	t_eq(udax_pread(dev, buf, PG, VICTIM * PG), has ? -EIO : PG);
	t_eq(udax_pread(other, buf, PG, VICTIM * PG), has ? -EIO : PG);
	t_eq(udax_badblocks(dev, NULL, 0), has ? 1 : 0);
	if (has) {
		unsigned char v;
		void *a = (void *)UDAX_OP_RECOVERY;

		t_eq(udax_direct_access(dev, VICTIM, 1, &a, NULL), 1);
		t_eq(e_touch((unsigned char *)udax_kaddr_untag(a) + 3, false, &v, NULL),
		     SIGBUS);
	}
	/* Its own write keeps the killed writer's entry. */
	t_ok(udax_inject(dev, MINE * PG, PG, 0));
	t_eq(udax_badblocks(dev, r, 4), has ? 2 : 1);
	t_eq(udax_badblocks(other, NULL, 0), has ? 2 : 1);
	t_assert(file_has_victim() == has);
	udax_close(other);
	udax_close(dev);
	/* And a fresh open agrees; a second writer works. */
	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_badblocks(dev, NULL, 0), has ? 2 : 1);
	t_ok(udax_inject(dev, (MINE + 2) * PG, 1, 0));
	t_eq(udax_badblocks(dev, NULL, 0), has ? 3 : 2);
	udax_close(dev);
	return killed;
}

int main(void)
{
	long k, points = 0;
	int with_victim = 0;

	if (t_under_valgrind())
		t_skip("ptrace of a child under valgrind traces valgrind");
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	{
		pid_t pid = fork();

		if (pid == 0) {
			_exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) ? 1 : 0);
		}
		if (e_wait(pid))
			t_skip("ptrace is not permitted here");
	}
	for (k = 1; one_point(k, &with_victim); k++)
		points++;
	printf("ok killed at each of %ld system calls: %d left the page poisoned\n",
	       points, with_victim);
	t_assert(with_victim > 0 && with_victim < points);
	t_tmpdir_rm(dir);
	return 0;
}
