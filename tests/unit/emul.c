/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated device (R10) and the device calls beyond the vectors:
 * persistence, other processes, real faults, bad input.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"
#include "private.h"

static char *dir;
static char img[256];

static struct udax_dev *fresh(uint64_t pages)
{
	struct udax_dev *dev;
	char state[300];

	snprintf(img, sizeof(img), "%s/img", dir);
	snprintf(state, sizeof(state), "%s.poison", img);
	unlink(img);
	unlink(state);
	t_ok(udax_create(img, pages * UDAX_PAGE_SIZE));
	t_ok(udax_open(img, 0, &dev));
	return dev;
}

static long nbad(struct udax_dev *dev)
{
	return udax_badblocks(dev, NULL, 0);
}

static void test_create_errors(void)
{
	char path[300];
	struct udax_dev *dev;
	int fd;

	snprintf(path, sizeof(path), "%s/bad", dir);
	t_eq(udax_create(path, 0), -EINVAL);
	t_eq(udax_create(path, 4095), -EINVAL);
	t_eq(udax_create(path, 4097), -EINVAL);
	t_eq(udax_create(NULL, 4096), -EINVAL);
	t_eq(access(path, F_OK), -1);	/* nothing left behind */
	t_ok(udax_create(path, 4096));
	t_eq(udax_create(path, 4096), -EEXIST);

	t_eq(udax_open(path, ~UDAX_OPEN_VALID, &dev), -EINVAL);
	t_eq(udax_open(path, 0, NULL), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing", dir);
	t_eq(udax_open(path, 0, &dev), -ENOENT);

	/* A plain file is not an emulated image. */
	snprintf(path, sizeof(path), "%s/plain", dir);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	t_assert(fd >= 0);
	t_ok(ftruncate(fd, 65536));
	close(fd);
	t_eq(udax_open(path, 0, &dev), -EOPNOTSUPP);

	/* A corrupt header is an error, not a crash. */
	snprintf(path, sizeof(path), "%s/corrupt", dir);
	t_ok(udax_create(path, 8192));
	fd = open(path, O_RDWR);
	t_eq(pwrite(fd, "\xff\xff\xff\xff", 4, 12), 4);	/* page_size */
	close(fd);
	t_eq(udax_open(path, 0, &dev), -EUCLEAN);
	printf("ok create/open errors\n");
}

static void test_bad_args(void)
{
	struct udax_dev *dev = fresh(16);
	struct iovec iov;
	struct udax_iter it;
	char buf[64] = { 0 };
	void *k = NULL;

	t_eq(udax_pread(NULL, buf, 1, 0), -EINVAL);
	t_eq(udax_pread(dev, NULL, 1, 0), -EINVAL);
	t_eq(udax_pread(dev, buf, 10, 65536), 0);
	t_eq(udax_pread(dev, buf, 64, 65536 - 10), 10);
	t_eq(udax_pwrite(dev, buf, 10, 65536), -ERANGE);
	t_eq(udax_pwrite(dev, buf, 64, 65536 - 10), 10);
	t_eq(udax_inject(dev, 0, 0, 0), -EINVAL);
	t_eq(udax_inject(dev, 0, 1, 0x80), -EINVAL);
	t_eq(udax_inject(dev, 65536, 1, 0), -ERANGE);
	t_eq(udax_inject(dev, 65535, 2, 0), -ERANGE);
	t_eq(udax_inject(dev, 1, UINT64_MAX, 0), -ERANGE);
	t_eq(udax_zero_page_range(dev, 0, 0), -EINVAL);
	t_eq(udax_zero_page_range(dev, 15, 2), -ERANGE);
	t_eq(udax_zero_page_range(dev, UINT64_MAX, 1), -ERANGE);
	t_eq(udax_direct_access(dev, UINT64_MAX, 1, &k, NULL), -ERANGE);
	t_eq(udax_direct_access(NULL, 0, 1, &k, NULL), -EINVAL);
	t_eq(udax_badblocks_import(dev, "1 1\n", 4), 1);
	t_eq(udax_badblocks_import(dev, "128 1\n", 6), -ERANGE);
	t_eq(udax_badblocks_import(dev, "0 0\n", 4), -EINVAL);
	t_eq(nbad(dev), 1);

	/* Copies with an address outside the device copy nothing. */
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	udax_iter_init(&it, &iov, 1, sizeof(buf));
	t_eq(udax_copy_to_iter(dev, 0, buf, sizeof(buf), &it), 0);
	t_eq(udax_copy_from_iter(dev, 0, buf, sizeof(buf), &it), 0);
	t_eq(udax_copy_to_iter(dev, 0, NULL, sizeof(buf), &it), 0);
	t_eq(udax_copy_to_iter(dev, 0, buf, sizeof(buf), NULL), 0);
	udax_close(dev);
	udax_close(NULL);
	printf("ok bad arguments\n");
}

/* Poison and data survive close and reopen. */
static void test_persistence(void)
{
	struct udax_dev *dev = fresh(16);
	struct udax_range r[4];
	char buf[4096];

	memset(buf, 0x5a, sizeof(buf));
	t_eq(udax_pwrite(dev, buf, sizeof(buf), 8192), 4096);
	t_ok(udax_inject(dev, 4096, 1, 0));
	t_ok(udax_inject(dev, 40960, 512, UDAX_INJECT_LATENT));
	udax_close(dev);

	t_ok(udax_open(img, 0, &dev));
	t_eq(udax_badblocks(dev, r, 4), 1);
	t_ueq(r[0].off, 4096);
	t_ueq(r[0].len, 512);
	t_eq(udax_scrub(dev), 512);	/* the latent sector was kept too */
	t_eq(udax_scrub(dev), 0);
	memset(buf, 0, sizeof(buf));
	t_eq(udax_pread(dev, buf, sizeof(buf), 8192), 4096);
	t_eq(buf[0], 0x5a);
	t_eq(buf[4095], 0x5a);
	udax_close(dev);
	printf("ok persistence\n");
}

/* A multi-segment iterator over latent poison: the copy stops at the
 * poisoned page, the iterator advances by exactly what was copied, and the
 * poison becomes known. */
static void test_iter_segments(void)
{
	struct udax_dev *dev = fresh(16);
	static char a[5000], b[3000], c[20000];
	struct iovec iov[4] = { { a, sizeof(a) }, { NULL, 0 }, { b, sizeof(b) },
				{ c, sizeof(c) } };
	struct udax_iter it;
	void *k = NULL;

	t_ok(udax_inject(dev, 3 * 4096 + 100, 1, UDAX_INJECT_LATENT));
	t_eq(udax_direct_access(dev, 0, 16, &k, NULL), 16);
	udax_iter_init(&it, iov, 4, 28000);
	t_eq(it.count, 28000);
	t_eq(udax_copy_to_iter(dev, 0, k, 28000, &it), 3 * 4096);
	t_eq(it.count, 28000 - 3 * 4096);
	t_assert(it.iov == &iov[3]);
	t_eq(it.iov_offset, 3 * 4096 - 8000);
	t_eq(nbad(dev), 1);
	k = NULL;
	t_eq(udax_direct_access(dev, 0, 16, &k, NULL), -EIO);
	udax_close(dev);
	printf("ok iterator segments\n");
}

/*
 * udax.h inlines the one-segment call; the function is the reference:
 * both give the same iterator for every length against every count
 * (empty segment, shorter, equal, longer).
 */
static void test_iter_inline(void)
{
	static char a[64];
	static const size_t lens[] = { 0, 1, 63, 64 };
	static const size_t counts[] = { 0, 1, 64, 65, SIZE_MAX };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
			struct iovec iov = { a, lens[i] };
			struct udax_iter in, fn;

			memset(&in, 0x5a, sizeof(in));
			memset(&fn, 0xa5, sizeof(fn));
			udax_iter_init(&in, &iov, 1, counts[j]);
			(udax_iter_init)(&fn, &iov, 1, counts[j]);
			t_assert(in.iov == fn.iov);
			t_eq(in.nr_segs, fn.nr_segs);
			t_eq(in.iov_offset, fn.iov_offset);
			t_eq(in.count, fn.count);
		}
	}
#if defined(__OPTIMIZE__)
	printf("ok iterator: inline one-segment init = udax_iter_init()\n");
#else
	printf("ok iterator: built without optimization, so the header's inline was not taken: only the function was compared with itself\n");
#endif
}

/* A destination the program cannot write stops the copy; no crash. */
static void test_bad_destination(void)
{
	struct udax_dev *dev = fresh(16);
	struct udax_iter it;
	struct iovec iov;
	char *buf;
	void *k = NULL;

	buf = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_assert(buf != MAP_FAILED);
	t_ok(mprotect(buf + 2 * 4096, 4096, PROT_NONE));
	t_eq(udax_direct_access(dev, 0, 4, &k, NULL), 4);
	iov.iov_base = buf + 100;
	iov.iov_len = 3 * 4096 - 100;
	udax_iter_init(&it, &iov, 1, iov.iov_len);
	t_eq(udax_copy_to_iter(dev, 0, k, iov.iov_len, &it), 2 * 4096 - 100);
	t_eq(nbad(dev), 0);	/* not the device's fault */
	t_eq(udax_pwrite(dev, buf + 4096, 2 * 4096, 0), 4096);
	t_eq(nbad(dev), 0);
	munmap(buf, 3 * 4096);
	udax_close(dev);
	printf("ok bad destination\n");
}

/* Writes: failfast stops at latent poison and makes it known; pwrite then
 * recovers whole pages; a failfast copy never clears poison. */
static void test_write_latent(void)
{
	struct udax_dev *dev = fresh(16);
	static char in[4 * 4096], out[4 * 4096];
	struct iovec iov = { in, sizeof(in) };
	struct udax_iter it;
	void *k = NULL;

	memset(in, 0x77, sizeof(in));
	t_ok(udax_inject(dev, 2 * 4096, 4096, UDAX_INJECT_LATENT));
	t_eq(udax_direct_access(dev, 0, 4, &k, NULL), 4);
	udax_iter_init(&it, &iov, 1, sizeof(in));
	t_eq(udax_copy_from_iter(dev, 0, k, sizeof(in), &it), 2 * 4096);
	t_eq(nbad(dev), 1);
	k = NULL;
	t_eq(udax_direct_access(dev, 2, 1, &k, NULL), -EIO);

	t_eq(udax_pwrite(dev, in, sizeof(in), 0), sizeof(in));
	t_eq(nbad(dev), 0);
	t_eq(udax_pread(dev, out, sizeof(out), 0), sizeof(out));
	t_assert(!memcmp(in, out, sizeof(in)));

	/* A partly covered latent page: everything before it is written. */
	t_ok(udax_inject(dev, 6 * 4096 + 512, 512, UDAX_INJECT_LATENT));
	t_eq(udax_pwrite(dev, in, 4096 + 100, 5 * 4096), 4096);
	t_eq(nbad(dev), 1);
	udax_close(dev);
	printf("ok writes over latent poison\n");
}

/* A tagged address faults when dereferenced; arithmetic keeps the tag. */
static void test_tag(void)
{
	struct udax_dev *dev = fresh(16);
	void *k = (void *)UDAX_OP_RECOVERY;
	char *p;
	pid_t pid;
	int st;

	t_eq(udax_direct_access(dev, 3, 1, &k, NULL), 1);
	p = (char *)k + 100;
	t_eq(udax_kaddr_mode(p), UDAX_OP_RECOVERY);
	t_assert(udax_kaddr_untag(p) == (char *)udax_kaddr_untag(k) + 100);
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile char *)p = 1;
		_exit(0);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	t_assert(WIFSIGNALED(st));
	t_eq(WTERMSIG(st), SIGSEGV);
	udax_close(dev);
	printf("ok kaddr tags\n");
}

/* R10: another process sees new poison at its next call, without
 * reopening; its plain loads of the new poison fault; its reads make
 * latent poison known to us. */
static void test_two_processes(void)
{
	struct udax_dev *dev = fresh(16);
	int to_child[2], to_parent[2];
	char ch, buf[4096];
	pid_t pid;
	int st;

	t_ok(pipe(to_child));
	t_ok(pipe(to_parent));
	pid = fork();
	if (pid == 0) {
		struct udax_dev *cd;
		void *k = NULL;

		if (udax_open(img, 0, &cd) ||
		    udax_direct_access(cd, 0, 16, &k, NULL) != 16)
			_exit(10);
		if (write(to_parent[1], "o", 1) != 1 ||
		    read(to_child[0], &ch, 1) != 1)	/* parent injected */
			_exit(11);
		k = NULL;
		if (udax_direct_access(cd, 0, 16, &k, NULL) != -EIO)
			_exit(12);
		if (udax_pread(cd, buf, 4096, 5 * 4096) != -EIO)
			_exit(13);
		/* latent poison injected by the parent: our read finds it */
		if (udax_pread(cd, buf, 4096, 9 * 4096) != -EIO)
			_exit(14);
		if (write(to_parent[1], "r", 1) != 1)
			_exit(15);
		udax_close(cd);
		_exit(0);
	}
	t_eq(read(to_parent[0], &ch, 1), 1);
	t_ok(udax_inject(dev, 5 * 4096, 1, 0));
	t_ok(udax_inject(dev, 9 * 4096 + 4095, 1, UDAX_INJECT_LATENT));
	t_eq(write(to_child[1], "i", 1), 1);
	t_eq(read(to_parent[0], &ch, 1), 1);
	t_eq(nbad(dev), 2);	/* the child's read made it known */
	t_eq(waitpid(pid, &st, 0), pid);
	t_assert(WIFEXITED(st));
	t_eq(WEXITSTATUS(st), 0);
	udax_close(dev);
	printf("ok two processes\n");
}

/* Plain loads by the program: SIGBUS/BUS_MCEERR_AR, and the poison becomes
 * known at the next call; with no handler the process dies of SIGBUS. */
static sigjmp_buf env;
static siginfo_t got;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	got = *si;
	siglongjmp(env, 1);
}

static void test_plain_load(void)
{
	struct udax_dev *dev = fresh(16);
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO };
	struct sigaction old;
	volatile char *p;
	void *k = NULL;
	pid_t pid;
	int st;

	if (t_under_valgrind()) {
		printf("skip plain loads: valgrind aborts on a self-queued SIGBUS\n");
		udax_close(dev);
		return;
	}
	t_ok(udax_inject(dev, 7 * 4096 + 1000, 1, UDAX_INJECT_LATENT));
	t_eq(udax_direct_access(dev, 0, 16, &k, NULL), 16);
	p = (char *)k + 7 * 4096 + 3000;
	t_ok(sigaction(SIGBUS, &sa, &old));
	if (!sigsetjmp(env, 1)) {
		*p = 1;		/* a store faults too */
		t_fail("store to poison did not fault");
	}
	t_ok(sigaction(SIGBUS, &old, NULL));
	t_eq(got.si_code, BUS_MCEERR_AR);
	t_assert(got.si_addr == (char *)k + 7 * 4096);
	t_eq(nbad(dev), 1);	/* the next call saw what the program hit */

	pid = fork();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		(void)*p;
		_exit(0);
	}
	t_eq(waitpid(pid, &st, 0), pid);
	t_assert(WIFSIGNALED(st));
	t_eq(WTERMSIG(st), SIGBUS);
	udax_close(dev);
	printf("ok plain loads of poison\n");
}

/*
 * The poison state file: corrupt, missing, a FIFO or a symlink is an error
 * naming the file (-EUCLEAN), never "no poison", and never a hang.  Every
 * image has had its state file since udax_create().
 */
static void test_state_file(void)
{
	struct udax_dev *dev = fresh(16);
	char state[300], saved[300], other[300];
	int fd;

	t_ok(udax_inject(dev, 0, 1, 0));
	udax_close(dev);
	snprintf(state, sizeof(state), "%s.poison", img);
	snprintf(saved, sizeof(saved), "%s.saved", img);
	snprintf(other, sizeof(other), "%s.other", img);
	t_ok(rename(state, saved));

	/* missing: the page that was poisoned must not read back as good */
	t_eq(udax_open(img, 0, &dev), -EUCLEAN);
	t_eq(udax_open(img, UDAX_OPEN_RDONLY, &dev), -EUCLEAN);

	/* garbage */
	fd = open(state, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t_eq(write(fd, "garbage\n", 8), 8);
	close(fd);
	t_eq(udax_open(img, 0, &dev), -EUCLEAN);
	unlink(state);

	/* a FIFO: refused at once, not waited on */
	t_ok(mkfifo(state, 0644));
	t_eq(udax_open(img, 0, &dev), -EUCLEAN);
	unlink(state);

	/* a symlink, even to a good state: refused, never followed */
	t_ok(symlink(saved, state));
	t_eq(udax_open(img, 0, &dev), -EUCLEAN);
	unlink(state);

	t_ok(rename(saved, state));
	t_ok(udax_open(img, 0, &dev));
	t_eq(nbad(dev), 1);
	udax_close(dev);
	(void)other;
	printf("ok poison state file\n");
}

static void test_meta(void)
{
	struct udax_dev *dev = fresh(16);
	char buf[8];

	t_assert(!strcmp(udax_backend(dev), "emulated"));
	t_ueq(udax_size(dev), 65536);
	t_eq(udax_alive(dev), 1);
	t_ok(udax_inject(dev, 0, 4096, 0));
	t_eq(udax_badblocks_export(dev, buf, 2), 4);	/* "0 8\n" */
	t_eq(buf[1], '\0');
	t_eq(udax_badblocks_export(dev, NULL, 0), 4);
	udax_kill(dev);
	t_eq(udax_alive(dev), 0);
	t_eq(udax_badblocks(dev, NULL, 0), -ENXIO);
	t_eq(udax_inject(dev, 0, 1, 0), -ENXIO);
	t_eq(udax_scrub(dev), -ENXIO);
	udax_close(dev);
	t_assert(udax_version()[0] == '0' + UDAX_VERSION_MAJOR);
	printf("ok metadata\n");
}

int main(void)
{
	dir = t_tmpdir();
	test_create_errors();
	test_bad_args();
	test_persistence();
	test_iter_segments();
	test_iter_inline();
	test_bad_destination();
	test_write_latent();
	test_tag();
	test_two_processes();
	test_plain_load();
	test_state_file();
	test_meta();
	t_tmpdir_rm(dir);
	return 0;
}
