/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The generic layer against the mock backend (tests/mock/): how a fault in
 * a guarded copy is classified, udax__memory_failure and the consumed
 * poison, the known list's refresh and publication order, the no-mapping
 * path, recovery writes, and how udax_open treats a broken backend.
 *
 *   test-mock [case]      every case, or one
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

#include "matrix.h"
#include "mock/mock.h"

#define PG UDAX_PAGE_SIZE

static struct udax_dev *open_cfg(const struct mock_cfg *cfg, unsigned int flags)
{
	struct udax_dev *dev = NULL;

	t_ok(mock_open(cfg, flags, &dev));
	return dev;
}

static struct udax_dev *open_mock(bool nomap)
{
	struct mock_cfg cfg = { .nomap = nomap };

	return open_cfg(&cfg, 0);
}

#define t_list_eq(dev, want) t_list_is(dev, want)

#define t_own_eq(dev, want) do {					\
	char own_[4096];						\
	mock_known_text(mock_of(dev), own_, sizeof(own_));		\
	if (strcmp(own_, (want)))					\
		t_fail("own list: got \"%s\", want \"%s\"", own_, (want)); \
} while (0)

static unsigned int loads(struct udax_dev *dev)
{
	struct mock_stats st;

	mock_stats(mock_of(dev), &st);
	return st.loads;
}

static int open_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* ---- fault classification ------------------------------------------------ */

/*
 * One page of each kind.  Poison becomes known (the page: all a fault
 * says), anything else is returned as its error and never becomes known.
 */
static void fault_kinds(bool nomap)
{
	struct udax_dev *dev = open_mock(nomap);
	struct mock *m = mock_of(dev);
	static char buf[16 * PG];
	struct mock_stats st;

	mock_fault(m, 2, 1, MOCK_POISON);
	mock_fault(m, 5, 1, MOCK_ENXIO);
	mock_fault(m, 8, 1, MOCK_ENOSPC);
	mock_fault(m, 11, 1, MOCK_SIGBUS);

	/* Poison: a short count, then known at once. */
	t_eq(udax_read(dev, buf, 4 * PG, 0, UDAX_OP_RECOVERY), 2 * PG);
	t_list_eq(dev, "16 8\n");
	t_own_eq(dev, "");	/* udax's knowledge, not the device's */
	if (!nomap) {
		mock_stats(m, &st);
		t_eq(st.last_signo, SIGSEGV);
		t_eq(st.last_code, SEGV_ACCERR);
	}
	/* Poison found by failfast: -EIO, and known. */
	mock_fault(m, 13, 1, MOCK_POISON);
	t_eq(udax_read(dev, buf, 2 * PG, 12 * PG, UDAX_OP_FAILFAST), -EIO);
	t_list_eq(dev, "16 8\n104 8\n");

	/* A truncated file: -ENXIO where nothing was read, not poison. */
	t_eq(udax_read(dev, buf, PG, 5 * PG, UDAX_OP_RECOVERY), -ENXIO);
	t_eq(udax_read(dev, buf, 3 * PG, 3 * PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(udax_read(dev, buf, 3 * PG, 3 * PG, UDAX_OP_RECOVERY), 2 * PG);
	t_eq(udax_write(dev, buf, PG, 5 * PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(udax_pwrite(dev, buf, PG, 5 * PG), -ENXIO);
	t_eq(udax_pread(dev, buf, PG, 5 * PG), -ENXIO);

	/* A hole the file system could not fill. */
	t_eq(udax_write(dev, buf, PG, 8 * PG, UDAX_OP_FAILFAST), -ENOSPC);
	t_eq(udax_write(dev, buf, PG, 8 * PG, UDAX_OP_RECOVERY), -ENOSPC);
	t_eq(udax_pwrite(dev, buf, 2 * PG, 7 * PG), PG);
	t_eq(udax_zero_page_range(dev, 8, 1), -ENOSPC);

	/* A real SIGBUS that is not a machine check. */
	t_eq(udax_read(dev, buf, PG, 11 * PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(udax_write(dev, buf, PG, 11 * PG, UDAX_OP_RECOVERY), -ENXIO);
	if (!nomap) {
		mock_stats(m, &st);
		t_eq(st.last_signo, SIGBUS);
		t_eq(st.last_code, BUS_ADRERR);
		t_eq(st.odd_faults, 0);
	}
	t_list_eq(dev, "16 8\n104 8\n");

	/* Clean pages around them read whole. */
	t_eq(udax_read(dev, buf, 2 * PG, 0, UDAX_OP_FAILFAST), 2 * PG);
	t_eq(udax_read(dev, buf, 2 * PG, 3 * PG, UDAX_OP_FAILFAST), 2 * PG);
	udax_close(dev);
}

static void test_fault_kinds(void)
{
	fault_kinds(false);
}

static void test_fault_kinds_nomap(void)
{
	fault_kinds(true);
}

/* Without ->fault only BUS_MCEERR_* is poison: PROT_NONE (SIGSEGV) and a
 * truncated file (SIGBUS/BUS_ADRERR) both give -ENXIO, and stay unknown. */
static void test_default_classification(void)
{
	struct mock_cfg cfg = { .no_fault_op = true };
	struct udax_dev *dev = open_cfg(&cfg, 0);
	struct mock *m = mock_of(dev);
	static char buf[4 * PG];

	mock_fault(m, 1, 1, MOCK_POISON);
	mock_fault(m, 3, 1, MOCK_SIGBUS);
	t_eq(udax_read(dev, buf, PG, PG, UDAX_OP_FAILFAST), -ENXIO);
	t_eq(udax_read(dev, buf, 2 * PG, 0, UDAX_OP_RECOVERY), PG);
	t_eq(udax_pread(dev, buf, PG, 3 * PG), -ENXIO);
	t_eq(udax_pwrite(dev, buf, PG, 3 * PG), -ENXIO);
	t_eq(udax_write(dev, buf, PG, PG, UDAX_OP_FAILFAST), -ENXIO);
	t_list_eq(dev, "");
	udax_close(dev);
}

/* ---- the known list -------------------------------------------------------- */

/* One reload per change of the word, at the next call, from any entry. */
static void test_refresh(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	static char buf[PG];
	struct iovec iov = { buf, sizeof(buf) };
	struct udax_iter it;
	void *k = NULL;
	unsigned int n0;
	int i;

	t_eq(loads(dev), 1);
	for (i = 0; i < 3; i++)
		t_eq(udax_badblocks(dev, NULL, 0), 0);
	t_eq(loads(dev), 1);

	mock_known_add(m, 100, 2);
	mock_known_add(m, 110, 1);	/* two changes, one reload */
	t_list_eq(dev, "100 2\n110 1\n");
	t_eq(loads(dev), 2);
	t_list_eq(dev, "100 2\n110 1\n");
	t_eq(loads(dev), 2);

	/* Every entry point notices. */
	n0 = loads(dev);
#define NOTICES(call) do {						\
	mock_known_bump(m);						\
	(void)(call);							\
	t_eq(loads(dev), ++n0);						\
} while (0)
	NOTICES(udax_direct_access(dev, 0, 1, &k, NULL));
	k = NULL;
	NOTICES(udax_read(dev, buf, PG, 0, UDAX_OP_FAILFAST));
	NOTICES(udax_write(dev, buf, PG, 0, UDAX_OP_FAILFAST));
	NOTICES(udax_pread(dev, buf, PG, 0));
	NOTICES(udax_pwrite(dev, buf, PG, 0));
	NOTICES(udax_zero_page_range(dev, 0, 1));
	NOTICES(udax_sync(dev));
	NOTICES(udax_badblocks(dev, NULL, 0));
	NOTICES(udax_badblocks_export(dev, NULL, 0));
	NOTICES(udax_inject(dev, 0, 1, 0));
	NOTICES(udax_scrub(dev));
	NOTICES(udax_badblocks_import(dev, "1 1\n", 4));
	t_eq(udax_direct_access(dev, 0, 1, NULL, NULL), 1);
	udax_iter_init(&it, &iov, 1, sizeof(buf));
	NOTICES(udax_copy_to_iter(dev, 0, k, PG, &it));
	udax_iter_init(&it, &iov, 1, sizeof(buf));
	NOTICES(udax_copy_from_iter(dev, 0, k, PG, &it));
#undef NOTICES

	/* A list that shrinks under the device shrinks in udax. */
	mock_known_set(m, NULL, 0);
	t_list_eq(dev, "");
	t_eq(udax_read(dev, buf, PG, 12 * PG, UDAX_OP_FAILFAST), PG);
	udax_close(dev);
}

/* Poison udax found itself is kept across reloads of the device's list
 * (the device does not record it): R11. */
static void test_consumed_survives_reload(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	struct udax_range r = { 40, 1 };
	static char buf[4 * PG];

	mock_fault(m, 2, 1, MOCK_POISON);
	t_eq(udax_pread(dev, buf, sizeof(buf), 0), 2 * PG);
	t_list_eq(dev, "16 8\n");
	mock_known_set(m, &r, 1);
	t_list_eq(dev, "16 8\n40 1\n");
	t_own_eq(dev, "40 1\n");
	mock_known_set(m, NULL, 0);
	t_list_eq(dev, "16 8\n");
	t_eq(udax_read(dev, buf, PG, 2 * PG, UDAX_OP_FAILFAST), -EIO);
	udax_close(dev);
}

/* A backend with ->memory_failure keeps consumed poison itself: udax
 * leaves dev->consumed alone, the device's list has it from the next
 * reload on, and a recovery write clears it for good. */
static void test_own_consumed(void)
{
	struct mock_cfg cfg = { .own_consumed = true };
	struct udax_dev *dev = open_cfg(&cfg, 0);
	struct mock *m = mock_of(dev);
	static char in[4 * PG], out[4 * PG];
	struct mock_stats st;

	t_fill(in, sizeof(in), 5);
	mock_fault(m, 2, 1, MOCK_POISON);
	t_eq(udax_pread(dev, out, sizeof(out), 0), 2 * PG);
	mock_stats(m, &st);
	t_eq(st.memory_failures, 1);
	t_eq(udax__bb_count(dev->consumed), 0);
	t_own_eq(dev, "16 8\n");
	t_list_eq(dev, "16 8\n");
	t_eq(udax_read(dev, out, PG, 2 * PG, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_pwrite(dev, in, sizeof(in), 0), sizeof(in));
	t_own_eq(dev, "");
	t_list_eq(dev, "");
	t_eq(udax_read(dev, out, sizeof(out), 0, UDAX_OP_FAILFAST), sizeof(out));
	t_assert(!memcmp(in, out, sizeof(in)));
	udax_close(dev);
}

/*
 * A loader that read version 1 of the list stalls; meanwhile version 2 is
 * published (as a writer's commit or another loader would).  When the
 * stalled one publishes, it must not undo version 2.
 */
static const struct udax_range newer[] = { { 64, 8 } };

static void publish_newer(struct udax_dev *dev, void *arg)
{
	struct mock *m = arg;

	mock_known_set(m, newer, 1);
	t_ok(udax__known_publish(dev, newer, 1, mock_known_word(m)));
}

static void test_publish_order(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	static const struct udax_range older[] = { { 8, 1 } };
	unsigned int n;

	mock_known_set(m, older, 1);
	mock_set_load_hook(m, publish_newer, m);
	n = loads(dev);
	t_list_eq(dev, "64 8\n");	/* the stale "8 1" was dropped */
	t_eq(loads(dev), n + 1);
	/* The stale loader recorded the word it had read; the next call
	 * loads version 2 itself, once. */
	t_list_eq(dev, "64 8\n");
	t_eq(loads(dev), n + 2);
	t_list_eq(dev, "64 8\n");
	t_eq(loads(dev), n + 2);

	/* An older version straight at the publisher is dropped too; the
	 * same version again is taken (a reload of an unchanged list). */
	t_ok(udax__known_publish(dev, older, 1, mock_known_word(m) - 1));
	t_list_eq(dev, "64 8\n");
	t_ok(udax__known_publish(dev, older, 1, mock_known_word(m)));
	t_list_eq(dev, "8 1\n");
	udax_close(dev);
}

/* Poison consumed while a reload is in flight survives the publication. */
static void consume_page3(struct udax_dev *dev, void *arg)
{
	static char buf[PG];

	/* This thread holds refresh_lock: the read goes on with the list as
	 * it is, and runs into the poison. */
	t_eq(udax_read(dev, buf, PG, 3 * PG, UDAX_OP_RECOVERY), -EIO);
}

static void test_consumed_during_reload(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);

	mock_fault(m, 3, 1, MOCK_POISON);
	mock_set_load_hook(m, consume_page3, NULL);
	mock_known_add(m, 0, 1);
	t_list_eq(dev, "0 1\n24 8\n");
	mock_known_set(m, NULL, 0);
	t_list_eq(dev, "24 8\n");
	udax_close(dev);
}

/* A failing reload keeps the last list; the next call retries. */
static void test_load_error(void)
{
	struct udax_dev *dev = open_mock(true);
	struct mock *m = mock_of(dev);
	static char buf[PG];

	/* A reload that fails keeps the last list (it never forgets poison)
	 * and the call goes on; the reload is tried again at the next call. */
	mock_known_add(m, 8, 8);
	mock_set_load_err(m, -ENOMEM);
	t_eq(udax_read(dev, buf, PG, 0, UDAX_OP_FAILFAST), PG);
	t_eq(udax_pwrite(dev, buf, PG, 0), PG);
	t_eq(udax_badblocks(dev, NULL, 0), 0);
	t_eq(udax_direct_access(dev, 0, 1, NULL, NULL), 1);
	mock_set_load_err(m, 0);
	t_list_eq(dev, "8 8\n");
	t_eq(udax_read(dev, buf, PG, PG, UDAX_OP_FAILFAST), -EIO);
	udax_close(dev);
}

/* ---- recovery -------------------------------------------------------------- */

/* A page on the device's list whose media are fine (the list lags): udax
 * trusts the list; a recovery write clears it where the device keeps it. */
static void test_known_but_clean(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	static char buf[8 * PG];
	struct mock_stats st;

	mock_known_add(m, 4 * 8 + 3, 1);
	t_eq(udax_read(dev, buf, 8 * PG, 0, UDAX_OP_FAILFAST), -EIO);
	t_eq(udax_read(dev, buf, 8 * PG, 0, UDAX_OP_RECOVERY), 4 * PG);
	t_eq(udax_pwrite(dev, buf, 8 * PG, 0), 8 * PG);
	mock_stats(m, &st);
	t_eq(st.recovery_writes, 1);
	t_own_eq(dev, "");
	t_list_eq(dev, "");
	t_eq(udax_read(dev, buf, 8 * PG, 0, UDAX_OP_FAILFAST), 8 * PG);
	udax_close(dev);
}

/* A platform that cannot clear poison: -EOPNOTSUPP, nothing written. */
static void no_clear(bool nomap)
{
	struct mock_cfg cfg = { .nomap = nomap, .no_clear = true };
	struct udax_dev *dev = open_cfg(&cfg, 0);
	struct mock *m = mock_of(dev);
	static char in[4 * PG], before[PG], after[PG];

	t_fill(in, sizeof(in), 3);
	mock_fault(m, 1, 1, MOCK_POISON);
	mock_known_add(m, 9, 1);
	mock_raw_read(m, PG, before, PG);
	t_eq(udax_pwrite(dev, in, PG, PG), -EOPNOTSUPP);
	t_eq(udax_write(dev, in, PG, PG, UDAX_OP_RECOVERY), -EOPNOTSUPP);
	t_eq(udax_zero_page_range(dev, 1, 1), -EOPNOTSUPP);
	mock_raw_read(m, PG, after, PG);
	t_assert(!memcmp(before, after, PG));
	t_list_eq(dev, "9 1\n");
	/* Before the page: written; the count says where it stopped. */
	t_eq(udax_pwrite(dev, in, 2 * PG, 0), PG);

	/* Latent poison found by the write itself: the same. */
	mock_fault(m, 3, 1, MOCK_POISON);
	t_eq(udax_pwrite(dev, in, 2 * PG, 2 * PG), PG);
	t_list_eq(dev, "9 1\n24 8\n");
	t_eq(udax_pwrite(dev, in, PG, 3 * PG), -EOPNOTSUPP);
	udax_close(dev);
}

static void test_no_clear(void)
{
	no_clear(false);
}

static void test_no_clear_nomap(void)
{
	no_clear(true);
}

/* A recovery write whose source faults clears nothing. */
static void test_recovery_src_fault(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	char *src = t_buf_map("-");

	mock_fault(m, 1, 1, MOCK_POISON);
	mock_known_add(m, 8, 8);
	t_eq(udax_pwrite(dev, src, PG, PG), -EFAULT);
	t_list_eq(dev, "8 8\n");
	t_own_eq(dev, "8 8\n");
	t_eq(mock_kind_of(m, 1), MOCK_POISON);
	t_buf_unmap(src, "-");
	udax_close(dev);
}

/* A read-only mock: reads work, every write is -EBADF. */
static void test_rdonly(void)
{
	struct mock_cfg cfg = { 0 };
	struct udax_dev *dev = open_cfg(&cfg, UDAX_OPEN_RDONLY);
	static char buf[PG];

	t_eq(udax_read(dev, buf, PG, 0, UDAX_OP_FAILFAST), PG);
	t_eq(udax_write(dev, buf, PG, 0, UDAX_OP_RECOVERY), -EBADF);
	t_eq(udax_pwrite(dev, buf, PG, 0), -EBADF);
	t_eq(udax_zero_page_range(dev, 0, 1), -EBADF);
	udax_close(dev);
}

/* ---- udax_open and broken backends ---------------------------------------- */

static void test_open_refuses(void)
{
	static const unsigned int drops[] = {
		MOCK_DROP_DIRECT_ACCESS, MOCK_DROP_ZERO, MOCK_DROP_RECOVERY,
		MOCK_DROP_LOAD_KNOWN, MOCK_DROP_NAME,
	};
	struct udax_dev *dev = (struct udax_dev *)&dev;	/* a sentinel */
	struct mock_cfg cfg = { 0 };
	int fds = open_fds();
	size_t i;

	for (i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		cfg.drop = drops[i];
		t_eq(mock_open(&cfg, 0, &dev), -EINVAL);
		t_assert(dev == (struct udax_dev *)&dev);
	}
	cfg.drop = 0;
	cfg.open_err = -EIO;
	t_eq(mock_open(&cfg, 0, &dev), -EIO);
	cfg.open_err = 0;
	cfg.load_err = -ENOMEM;
	t_eq(mock_open(&cfg, 0, &dev), -ENOMEM);
	t_assert(dev == (struct udax_dev *)&dev);
	t_eq(open_fds(), fds);
	t_eq(mock_open(&cfg, ~UDAX_OPEN_VALID, &dev), -EINVAL);
	t_eq(udax__open_backend(NULL, "/dev/null", 0, &dev), -EINVAL);
	t_eq(udax__open_backend(&mock_backend, NULL, 0, &dev), -EINVAL);
	t_eq(udax__open_backend(&mock_backend, "/dev/null", 0, NULL), -EINVAL);
	/* Not through mock_open(): the backend's open refuses. */
	t_eq(udax__open_backend(&mock_backend, "/dev/null", 0, &dev), -ENODEV);
	t_eq(open_fds(), fds);
}

/*
 * udax_open() on a backend whose ops table lacks ->close, or that leaves
 * dev->ops NULL: refused with -EINVAL.  (The check that refused it used to
 * call dev->ops->close all the same: a crash, so a child runs it.)
 */
static void open_without(void *arg)
{
	struct mock_cfg cfg = { .drop = *(unsigned int *)arg };
	struct udax_dev *dev;

	_exit(mock_open(&cfg, 0, &dev) == -EINVAL ? 0 : 1);
}

static void test_open_no_close(void)
{
	unsigned int drop = MOCK_DROP_CLOSE;

	t_eq(t_in_child(open_without, &drop), 0);
	drop = MOCK_DROP_OPS;
	t_eq(t_in_child(open_without, &drop), 0);
}

/*
 * When a backend's open succeeded but the device is refused (incomplete
 * ops, a failing first load_known), dev_open() calls ->close, which closes
 * the fd the backend took, and udax_open()/udax__open_backend() close the
 * same fd number again.  Another thread may have been given that number in
 * between (the mock's ->close puts /dev/null there, as such a thread's
 * open() would): the second close closes that thread's file.
 */
static void test_open_double_close(void)
{
	static const struct mock_cfg cfgs[] = {
		{ .squat_fd = true, .drop = MOCK_DROP_ZERO },
		{ .squat_fd = true, .load_err = -ENOMEM },
	};
	struct udax_dev *dev;
	size_t i;

	for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		int fd;

		t_assert(mock_open(&cfgs[i], 0, &dev) < 0);
		fd = mock_squatted_fd();
		t_assert(fd >= 0);
		if (fcntl(fd, F_GETFD) < 0)
			t_fail("fd %d, another thread's file, was closed by the failed open",
			       fd);
		close(fd);
	}
}

/* Consumed poison that a recovery write cleared must go: udax removed it
 * from the media itself, and no reload may bring it back. */
static void test_recovery_clears_consumed(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	static char in[4 * PG], out[4 * PG];

	t_fill(in, sizeof(in), 7);
	mock_fault(m, 2, 1, MOCK_POISON);
	t_eq(udax_pread(dev, out, sizeof(out), 0), 2 * PG);
	t_list_eq(dev, "16 8\n");
	t_eq(udax_pwrite(dev, in, sizeof(in), 0), sizeof(in));
	t_eq(mock_kind_of(m, 2), MOCK_OK);
	t_list_eq(dev, "");
	t_eq(udax_read(dev, out, sizeof(out), 0, UDAX_OP_FAILFAST), sizeof(out));
	t_assert(!memcmp(in, out, sizeof(in)));
	udax_close(dev);
}

/* The same through zeroing: latent poison found by the zeroing itself. */
static void test_zero_clears_consumed(void)
{
	struct udax_dev *dev = open_mock(false);
	struct mock *m = mock_of(dev);
	static char out[16 * PG];

	mock_fault(m, 3, 1, MOCK_POISON);
	t_ok(udax_zero_page_range(dev, 0, 16));
	t_eq(mock_kind_of(m, 3), MOCK_OK);
	t_list_eq(dev, "");
	t_eq(udax_read(dev, out, sizeof(out), 0, UDAX_OP_FAILFAST), sizeof(out));
	udax_close(dev);
}

/*
 * udax.h: udax_read() returns -EFAULT when @buf faulted.  mcsafe.c takes
 * SIGSEGV only once an emulated device asked for it, so in a program whose
 * devices fault with SIGBUS alone (every real backend; the mock with
 * sigbus_only) a buffer that is not mapped kills the program.  Run as the
 * first and only case of its process: nothing has installed the SIGSEGV
 * handler yet.
 */
static void efault_child(void *arg)
{
	struct mock_cfg cfg = { .sigbus_only = true };
	struct udax_dev *dev = open_cfg(&cfg, 0);
	char *none = t_buf_map("-");
	ssize_t r;

	mock_fault(mock_of(dev), 3, 1, MOCK_POISON);
	/* The device's own faults are SIGBUS: poison as ever. */
	r = udax_read(dev, none, PG, 3 * PG, UDAX_OP_RECOVERY);
	if (r != -EIO)
		_exit(2);
	r = udax_read(dev, none, PG, 0, UDAX_OP_FAILFAST);
	_exit(r == -EFAULT ? 0 : 3);
}

/*
 * Real devices take SIGBUS only (udax.h, -EFAULT): a buffer that is not
 * mapped at all is the program's error and crashes the copy as it would
 * crash memcpy, rather than udax owning every SIGSEGV of the program.
 */
static void test_unmapped_buffer_without_segv(void)
{
	struct sigaction sa;
	int st;

	t_ok(sigaction(SIGSEGV, NULL, &sa));
	if (sa.sa_handler != SIG_DFL)
		t_skip("SIGSEGV is already handled here (a sanitizer's, or an earlier case's): "
		       "this case needs a process of its own where nothing took it");
	st = t_in_child(efault_child, NULL);
	if (st != 128 + SIGSEGV)
		t_fail("child: %s %d, want death by SIGSEGV",
		       st > 128 ? "killed by signal" : "exit", st > 128 ? st - 128 : st);
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "fault-kinds", test_fault_kinds },
	{ "fault-kinds-nomap", test_fault_kinds_nomap },
	{ "default-classification", test_default_classification },
	{ "refresh", test_refresh },
	{ "consumed-survives-reload", test_consumed_survives_reload },
	{ "own-consumed", test_own_consumed },
	{ "publish-order", test_publish_order },
	{ "consumed-during-reload", test_consumed_during_reload },
	{ "load-error", test_load_error },
	{ "known-but-clean", test_known_but_clean },
	{ "no-clear", test_no_clear },
	{ "no-clear-nomap", test_no_clear_nomap },
	{ "recovery-src-fault", test_recovery_src_fault },
	{ "rdonly", test_rdonly },
	{ "open-refuses", test_open_refuses },
	{ "open-no-close", test_open_no_close },
	{ "open-double-close", test_open_double_close },
	{ "recovery-clears-consumed", test_recovery_clears_consumed },
	{ "zero-clears-consumed", test_zero_clears_consumed },
	/* alone in its process: ctest runs it so (tests/unit/tests.cmake) */
	{ "unmapped-buffer-without-segv", test_unmapped_buffer_without_segv },
};

int main(int argc, char **argv)
{
	bool found = false;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc > 1 ? strcmp(argv[1], cases[i].name) != 0
			     : cases[i].run == test_unmapped_buffer_without_segv)
			continue;
		found = true;
		cases[i].run();
		printf("ok %s\n", cases[i].name);
	}
	if (!found) {
		fprintf(stderr, "no case %s\n", argc > 1 ? argv[1] : "");
		return 1;
	}
	return 0;
}
