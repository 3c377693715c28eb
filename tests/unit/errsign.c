/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sign of every answer: each public function of include/udax/udax.h,
 * given bad arguments (NULL device, NULL buffers, bad flags and modes,
 * ranges outside the device, a dead device, a read-only one), returns 0, a
 * count no larger than asked, or a negative errno of the header's
 * vocabulary; never a positive error, never a crash.  A caller's buffer
 * that faults is -EFAULT or a short count, never poison (-EIO), and never
 * puts anything on the known list.  On every backend of the matrix.
 *
 *   test-errsign [case|all] [backend]
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>

#include "matrix.h"

#define PG UDAX_PAGE_SIZE
#define SIZE (16 * PG)
#define FF UDAX_OP_FAILFAST
#define RC UDAX_OP_RECOVERY

/* udax.h's vocabulary. */
static const int vocab[] = {
	EIO, ENXIO, ERANGE, EINVAL, EOPNOTSUPP, ENOMEM, EUCLEAN, EBADF,
	EFAULT, ENOSPC,
};

static void sign_check(const char *expr, int line, long long rc,
		       long long max)
{
	size_t i;

	if (rc >= 0) {
		if (rc > max)
			t_fail("line %d: %s = %lld: a count above %lld", line,
			       expr, rc, max);
		return;
	}
	for (i = 0; i < sizeof(vocab) / sizeof(vocab[0]); i++)
		if (rc == -vocab[i])
			return;
	t_fail("line %d: %s = %lld (%s): not in udax.h's vocabulary", line,
	       expr, rc, rc > -4096 ? strerror((int)-rc) : "?");
}

/* @call answers in the vocabulary with at most @max as a count. */
#define t_sign(call, max)						\
	sign_check(#call, __LINE__, (long long)(call), (long long)(max))

/* ... and exactly @want. */
#define t_sign_eq(call, want) do {					\
	long long r_ = (long long)(call), w_ = (long long)(want);	\
	sign_check(#call, __LINE__, r_, LLONG_MAX);			\
	if (r_ != w_)							\
		t_fail("line %d: %s = %lld, want %lld", __LINE__, #call,	\
		       r_, w_);						\
} while (0)

static char buf[SIZE + 2 * PG];

/* ---- no device --------------------------------------------------------- */

static void null_device(void)
{
	struct udax_iter it;
	struct iovec iov = { buf, PG };
	struct udax_range r[2];
	uint64_t pfn;
	void *k = NULL;

	udax_iter_init(&it, &iov, 1, PG);
	t_sign_eq(udax_size(NULL), 0);
	t_assert(udax_backend(NULL) == NULL);
	t_sign_eq(udax_alive(NULL), 0);
	t_sign_eq(udax_direct_access(NULL, 0, 1, &k, &pfn), -EINVAL);
	t_sign_eq(udax_direct_access(NULL, 0, 1, NULL, NULL), -EINVAL);
	t_sign_eq(udax_copy_to_iter(NULL, 0, buf, PG, &it), 0);
	t_sign_eq(udax_copy_from_iter(NULL, 0, buf, PG, &it), 0);
	t_sign_eq(udax_zero_page_range(NULL, 0, 1), -EINVAL);
	t_sign_eq(udax_read(NULL, buf, 1, 0, FF), -EINVAL);
	t_sign_eq(udax_write(NULL, buf, 1, 0, RC), -EINVAL);
	t_sign_eq(udax_read(NULL, NULL, 0, 0, 7), -EINVAL);
	t_sign_eq(udax_sync(NULL), -EINVAL);
	t_sign_eq(udax_pread(NULL, buf, 1, 0), -EINVAL);
	t_sign_eq(udax_pwrite(NULL, buf, 1, 0), -EINVAL);
	t_sign_eq(udax_inject(NULL, 0, 1, 0), -EINVAL);
	t_sign_eq(udax_scrub(NULL), -EINVAL);
	t_sign_eq(udax_badblocks(NULL, r, 2), -EINVAL);
	t_sign_eq(udax_badblocks_export(NULL, buf, PG), -EINVAL);
	t_sign_eq(udax_badblocks_import(NULL, "1 1\n", 4), -EINVAL);
	udax_kill(NULL);
	udax_close(NULL);
	t_sign_eq(udax_kaddr_mode(NULL), FF);
	t_assert(udax_kaddr_untag(NULL) == NULL);
	udax_set_log(NULL, NULL, 0);
	t_assert(udax_version() && *udax_version());
	/* An iterator over nothing moves nothing. */
	udax_iter_init(&it, NULL, 0, 100);
	t_sign_eq(it.count, 0);
	t_sign_eq(it.nr_segs, 0);
}

/* ---- constructors (the emulated device's: images) ---------------------- */

static void create_open(void)
{
	char dir[] = "/tmp/udax-errsign-XXXXXX", path[300];
	struct udax_dev *sentinel = (struct udax_dev *)buf, *dev = sentinel;
	int fd;

	t_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/img", dir);
	t_sign_eq(udax_create(NULL, PG), -EINVAL);
	t_sign_eq(udax_create(path, 0), -EINVAL);
	t_sign_eq(udax_create(path, PG + 1), -EINVAL);
	t_sign_eq(udax_create(path, UINT64_MAX & ~(uint64_t)(PG - 1)), -EINVAL);
	/* "the -errno of open/mmap", "-EEXIST": system calls' errors, as
	 * the header says for these two */
	t_eq(udax_open(path, 0, &dev), -ENOENT);
	t_ok(udax_create(path, SIZE));
	t_eq(udax_create(path, SIZE), -EEXIST);
	t_eq(udax_open(dir, 0, &dev), -EISDIR);
	t_sign_eq(udax_open(NULL, 0, &dev), -EINVAL);
	t_sign_eq(udax_open(path, 0, NULL), -EINVAL);
	t_sign_eq(udax_open(path, ~UDAX_OPEN_VALID, &dev), -EINVAL);
	t_sign_eq(udax_open(path, 1u << 31, &dev), -EINVAL);
	t_sign_eq(udax_open(dir, UDAX_OPEN_RDONLY, &dev), -EOPNOTSUPP);
	t_sign_eq(udax_open("/dev/null", 0, &dev), -EOPNOTSUPP);
	fd = open(path, O_WRONLY);
	t_assert(fd >= 0);
	t_eq(pwrite(fd, "XXXXXXXX", 8, 0), 8);	/* not an image any more */
	close(fd);
	t_sign_eq(udax_open(path, 0, &dev), -EOPNOTSUPP);
	t_assert(dev == sentinel);	/* *out set only on success */
	t_tmpdir_rm(dir);
}

/* ---- bad arguments on a live device ------------------------------------ */

static void bad_args(void)
{
	bool map = t_has(T_MAP), pops = t_has(T_POISON_OPS);
	long da_ok = map ? 1 : -EOPNOTSUPP;
	struct iovec iov = { buf, PG };
	struct udax_range r[4];
	struct udax_iter it;
	uint64_t pfn;
	void *k;

	/* direct_access */
	k = NULL;
	t_sign_eq(udax_direct_access(t_dev, 0, -1, &k, &pfn), -EINVAL);
	t_sign_eq(udax_direct_access(t_dev, 0, LONG_MIN, &k, &pfn), -EINVAL);
	k = (void *)2;
	t_sign_eq(udax_direct_access(t_dev, 0, 1, &k, &pfn), -EINVAL);
	k = (void *)-1;
	t_sign_eq(udax_direct_access(t_dev, 0, 1, &k, &pfn), -EINVAL);
	k = NULL;
	t_sign_eq(udax_direct_access(t_dev, 16, 1, &k, &pfn), -ERANGE);
	t_sign_eq(udax_direct_access(t_dev, UINT64_MAX, 1, &k, &pfn), -ERANGE);
	t_sign_eq(udax_direct_access(t_dev, 0, 0, &k, &pfn), 0);
	t_sign_eq(udax_direct_access(t_dev, 15, LONG_MAX, &k, NULL), da_ok);
	t_sign_eq(udax_direct_access(t_dev, 0, LONG_MAX, NULL, NULL), 16);

	/* the copies: nothing to copy is 0, never an error */
	udax_iter_init(&it, &iov, 1, PG);
	k = NULL;
	if (map)
		t_eq(udax_direct_access(t_dev, 0, 16, &k, NULL), 16);
	t_sign_eq(udax_copy_to_iter(t_dev, 0, NULL, PG, &it), 0);
	t_sign_eq(udax_copy_to_iter(t_dev, 0, buf, PG, &it), 0);
	t_sign_eq(udax_copy_to_iter(t_dev, 0, k, PG, NULL), 0);
	t_sign_eq(udax_copy_to_iter(t_dev, 0, (void *)-1L, PG, &it), 0);
	t_sign_eq(udax_copy_from_iter(t_dev, 0, NULL, PG, &it), 0);
	t_sign_eq(udax_copy_from_iter(t_dev, 0, buf, PG, &it), 0);
	t_sign_eq(udax_copy_from_iter(t_dev, 0, k, PG, NULL), 0);
	if (map) {
		char *end = (char *)k + SIZE;

		t_sign_eq(udax_copy_to_iter(t_dev, 0, k, 0, &it), 0);
		t_sign_eq(udax_copy_to_iter(t_dev, 16, end, PG, &it), 0);
		t_sign_eq(udax_copy_from_iter(t_dev, 16, end, PG, &it), 0);
		t_sign_eq(udax_copy_to_iter(t_dev, 15, end - 10, SIZE_MAX, &it), 10);
		t_eq(it.count, PG - 10);
	}

	/* zeroing */
	t_sign_eq(udax_zero_page_range(t_dev, 0, 0), -EINVAL);
	t_sign_eq(udax_zero_page_range(t_dev, 16, 1), -ERANGE);
	t_sign_eq(udax_zero_page_range(t_dev, 15, 2), -ERANGE);
	t_sign_eq(udax_zero_page_range(t_dev, 1, SIZE_MAX), -ERANGE);
	t_sign_eq(udax_zero_page_range(t_dev, UINT64_MAX, 1), -ERANGE);

	/* explicit modes */
	t_sign_eq(udax_read(t_dev, NULL, 1, 0, FF), -EINVAL);
	t_sign_eq(udax_write(t_dev, NULL, 1, 0, RC), -EINVAL);
	t_sign_eq(udax_read(t_dev, buf, 1, 0, 2), -EINVAL);
	t_sign_eq(udax_read(t_dev, buf, 1, 0, -1), -EINVAL);
	t_sign_eq(udax_write(t_dev, buf, 1, 0, INT_MAX), -EINVAL);
	t_sign_eq(udax_write(t_dev, buf, 1, 0, INT_MIN), -EINVAL);
	t_sign_eq(udax_read(t_dev, buf, 1, SIZE, FF), -ERANGE);
	t_sign_eq(udax_write(t_dev, buf, 2, SIZE - 1, RC), -ERANGE);

	/* the fs-dax pair */
	t_sign_eq(udax_pread(t_dev, NULL, 1, 0), -EINVAL);
	t_sign_eq(udax_pwrite(t_dev, NULL, 1, 0), -EINVAL);
	t_sign_eq(udax_pread(t_dev, NULL, 0, 0), 0);
	t_sign_eq(udax_pwrite(t_dev, NULL, 0, 0), 0);
	t_sign_eq(udax_pread(t_dev, buf, 1, SIZE), 0);
	t_sign_eq(udax_pread(t_dev, buf, 1, UINT64_MAX), 0);
	t_sign_eq(udax_pwrite(t_dev, buf, 1, SIZE), -ERANGE);
	t_sign_eq(udax_pwrite(t_dev, buf, 1, UINT64_MAX), -ERANGE);
	t_sign_eq(udax_pread(t_dev, buf, SIZE_MAX, SIZE - 3), 3);
	t_sign_eq(udax_pwrite(t_dev, buf, SIZE_MAX, SIZE - 3), 3);

	/* poison ops: a backend without them says so after the checks that
	 * need no backend */
	t_sign_eq(udax_inject(t_dev, 0, 1, 1u << 7), -EINVAL);
	t_sign_eq(udax_inject(t_dev, 0, 1, ~0u), -EINVAL);
	t_sign_eq(udax_inject(t_dev, 0, 0, 0), -EINVAL);
	t_sign_eq(udax_inject(t_dev, SIZE, 1, 0), -ERANGE);
	t_sign_eq(udax_inject(t_dev, 1, UINT64_MAX, 0), -ERANGE);
	t_sign_eq(udax_inject(t_dev, UINT64_MAX, 1, 0), -ERANGE);
	t_sign_eq(udax_inject(t_dev, 0, 1, UDAX_INJECT_LATENT),
		  pops ? 0 : -EOPNOTSUPP);
	t_sign_eq(udax_scrub(t_dev), pops ? UDAX_SECTOR_SIZE : -EOPNOTSUPP);
	t_sign_eq(udax_badblocks_import(t_dev, NULL, 4), -EINVAL);
	t_sign_eq(udax_badblocks_import(t_dev, NULL, 0), pops ? 0 : -EOPNOTSUPP);
	t_sign_eq(udax_badblocks_import(t_dev, "x", 1), pops ? -EINVAL : -EOPNOTSUPP);
	t_sign_eq(udax_badblocks_import(t_dev, "128 1\n", 6),
		  pops ? -ERANGE : -EOPNOTSUPP);
	t_sign_eq(udax_badblocks_import(t_dev, "127 1\n", 6),
		  pops ? 1 : -EOPNOTSUPP);
	t_sign_eq(udax_badblocks_import(t_dev, "-1 1\n", 5),
		  pops ? -EINVAL : -EOPNOTSUPP);

	/* the list, with and without room */
	t_sign_eq(udax_badblocks(t_dev, NULL, 4), pops ? 2 : 0);
	t_sign_eq(udax_badblocks(t_dev, r, 0), pops ? 2 : 0);
	t_sign_eq(udax_badblocks(t_dev, r, 1), pops ? 2 : 0);
	t_sign_eq(udax_badblocks_export(t_dev, NULL, 100), pops ? 10 : 0);
	t_sign_eq(udax_badblocks_export(t_dev, buf, 0), pops ? 10 : 0);
	t_sign_eq(udax_badblocks_export(t_dev, buf, 3), pops ? 10 : 0);
	t_sign_eq(udax_sync(t_dev), 0);
	t_sign_eq(udax_alive(t_dev), 1);
	t_sign_eq(udax_size(t_dev), SIZE);
	t_assert(udax_backend(t_dev) != NULL);
}

/* ---- a dead device: -ENXIO everywhere, 0 for the copies ------------------- */

static void dead(void)
{
	struct iovec iov = { buf, PG };
	struct udax_iter it;
	void *k = NULL;

	if (t_has(T_MAP))
		t_eq(udax_direct_access(t_dev, 0, 16, &k, NULL), 16);
	udax_kill(t_dev);
	udax_kill(t_dev);
	udax_iter_init(&it, &iov, 1, PG);
	t_sign_eq(udax_alive(t_dev), 0);
	t_sign_eq(udax_size(t_dev), SIZE);
	t_sign_eq(udax_direct_access(t_dev, 0, 1, &k, NULL), -ENXIO);
	t_sign_eq(udax_direct_access(t_dev, 0, -1, NULL, NULL), -ENXIO);
	t_sign_eq(udax_copy_to_iter(t_dev, 0, k, PG, &it), 0);
	t_sign_eq(udax_copy_from_iter(t_dev, 0, k, PG, &it), 0);
	t_sign_eq(udax_zero_page_range(t_dev, 0, 1), -ENXIO);
	t_sign_eq(udax_zero_page_range(t_dev, 0, 0), -ENXIO);
	t_sign_eq(udax_read(t_dev, buf, PG, 0, FF), -ENXIO);
	t_sign_eq(udax_read(t_dev, buf, PG, 0, 9), -ENXIO);
	t_sign_eq(udax_write(t_dev, buf, PG, 0, RC), -ENXIO);
	t_sign_eq(udax_write(t_dev, NULL, PG, SIZE, RC), -ENXIO);
	t_sign_eq(udax_read(t_dev, buf, 0, 0, FF), -ENXIO);
	t_sign_eq(udax_sync(t_dev), -ENXIO);
	t_sign_eq(udax_pread(t_dev, buf, PG, 0), -ENXIO);
	t_sign_eq(udax_pwrite(t_dev, buf, PG, 0), -ENXIO);
	t_sign_eq(udax_inject(t_dev, 0, 1, 0), -ENXIO);
	t_sign_eq(udax_inject(t_dev, 0, 0, ~0u), -ENXIO);
	t_sign_eq(udax_scrub(t_dev), -ENXIO);
	t_sign_eq(udax_badblocks(t_dev, NULL, 0), -ENXIO);
	t_sign_eq(udax_badblocks_export(t_dev, buf, PG), -ENXIO);
	t_sign_eq(udax_badblocks_import(t_dev, "1 1\n", 4), -ENXIO);
}

/* ---- a read-only device: -EBADF for every write ---------------------------- */

static void rdonly(void)
{
	struct udax_dev *ro = t_open(16, UDAX_OPEN_RDONLY);
	int pops_err = t_has(T_POISON_OPS) ? -EBADF : -EOPNOTSUPP;
	struct iovec iov = { buf, PG };
	struct udax_iter it;
	void *k = (void *)UDAX_OP_RECOVERY;

	t_sign_eq(udax_read(ro, buf, SIZE, 0, FF), SIZE);
	t_sign_eq(udax_pread(ro, buf, SIZE, 0), SIZE);
	t_sign_eq(udax_write(ro, buf, PG, 0, FF), -EBADF);
	t_sign_eq(udax_write(ro, buf, PG, 0, RC), -EBADF);
	t_sign_eq(udax_pwrite(ro, buf, PG, 0), -EBADF);
	t_sign_eq(udax_zero_page_range(ro, 0, 1), -EBADF);
	t_sign_eq(udax_inject(ro, 0, 1, 0), pops_err);
	t_sign_eq(udax_scrub(ro), pops_err);
	t_sign_eq(udax_badblocks_import(ro, "1 1\n", 4), pops_err);
	t_sign_eq(udax_sync(ro), 0);
	if (t_has(T_MAP)) {
		t_eq(udax_direct_access(ro, 0, 1, &k, NULL), 1);
		udax_iter_init(&it, &iov, 1, PG);
		t_sign_eq(udax_copy_from_iter(ro, 0, k, PG, &it), 0);
		t_sign_eq(udax_copy_to_iter(ro, 0, k, PG, &it), PG);
	}
	t_list_is(ro, "");
	t_close(ro);
}

/* ---- sweeps: every combination of edge values ------------------------------ */

static const uint64_t offs[] = {
	0, 1, 511, 512, PG - 1, PG, 2 * PG + 17, SIZE - PG, SIZE - 1, SIZE,
	SIZE + 1, (uint64_t)INT64_MAX, UINT64_MAX - PG + 1, UINT64_MAX,
};
static const size_t lens[] = {
	0, 1, 512, PG - 1, PG, PG + 1, 3 * PG, SIZE - 1, SIZE, SIZE + 1,
	SIZE_MAX / 2, SIZE_MAX - PG + 1, SIZE_MAX,
};
static const int modes[] = { FF, RC, 2, -1 };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* At most what is inside the device from @off, and at most @len. */
static long long room(uint64_t off, size_t len)
{
	uint64_t in = off < SIZE ? SIZE - off : 0;

	return (long long)(len < in ? len : in);
}

static void sweep_rw(void)
{
	size_t i, j, m;

	t_bad(t_dev, 17, 1);
	t_latent(t_dev, 5 * 8, 1);
	for (i = 0; i < N(offs); i++) {
		for (j = 0; j < N(lens); j++) {
			uint64_t o = offs[i];
			size_t l = lens[j];

			for (m = 0; m < N(modes); m++) {
				t_sign(udax_read(t_dev, buf, l, o, modes[m]), room(o, l));
				t_sign(udax_write(t_dev, buf, l, o, modes[m]), room(o, l));
			}
			t_sign(udax_pread(t_dev, buf, l, o), room(o, l));
			t_sign(udax_pwrite(t_dev, buf, l, o), room(o, l));
			t_sign(udax_read(t_dev, NULL, l, o, FF), 0);
			t_sign(udax_pwrite(t_dev, NULL, l, o), 0);
		}
	}
}

static void sweep_direct_access(void)
{
	static const uint64_t pgs[] = { 0, 1, 15, 16, 17, UINT64_MAX / PG,
					UINT64_MAX };
	static const long nrs[] = { LONG_MIN, -1, 0, 1, 2, 16, 17, LONG_MAX };
	static const uintptr_t kins[] = { 0, UDAX_OP_RECOVERY, 2, 3,
					  UINTPTR_MAX };
	size_t i, j, m;

	t_bad(t_dev, 17, 1);
	for (i = 0; i < N(pgs); i++) {
		for (j = 0; j < N(nrs); j++) {
			long long most = pgs[i] < 16 ? 16 - (long long)pgs[i] : 0;
			uint64_t pfn;

			if (nrs[j] < most)
				most = nrs[j] < 0 ? 0 : nrs[j];
			t_sign(udax_direct_access(t_dev, pgs[i], nrs[j], NULL, &pfn), most);
			t_sign(udax_direct_access(t_dev, pgs[i], nrs[j], NULL, NULL), most);
			for (m = 0; m < N(kins); m++) {
				void *k = (void *)kins[m];

				t_sign(udax_direct_access(t_dev, pgs[i], nrs[j], &k, &pfn),
				       most);
			}
		}
	}
}

static void sweep_zero_inject(void)
{
	static const uint64_t pgs[] = { 0, 1, 15, 16, 17, UINT64_MAX };
	static const size_t nrs[] = { 0, 1, 2, 16, 17, SIZE_MAX };
	static const unsigned int flags[] = { 0, UDAX_INJECT_LATENT, 2, ~0u };
	size_t i, j, m;

	for (i = 0; i < N(pgs); i++)
		for (j = 0; j < N(nrs); j++)
			t_sign(udax_zero_page_range(t_dev, pgs[i], nrs[j]), 0);
	for (i = 0; i < N(offs); i++)
		for (j = 0; j < N(lens); j++)
			for (m = 0; m < N(flags); m++)
				t_sign(udax_inject(t_dev, offs[i], lens[j], flags[m]), 0);
	t_sign(udax_scrub(t_dev), SIZE);
	t_sign(udax_zero_page_range(t_dev, 0, 16), 0);
	t_list_is(t_dev, "");
}

/* Copies at every edge of the mapping, tagged and not. */
static void sweep_copies(void)
{
	static const uint64_t at[] = { 0, 1, PG - 1, 2 * PG + 100, SIZE - 1,
				       SIZE, SIZE + 1 };
	static const size_t bytes[] = { 0, 1, PG, SIZE, SIZE_MAX };
	struct iovec iov[3] = { { buf, 100 }, { buf + PG, PG }, { buf + 2 * PG, SIZE } };
	void *k;
	size_t i, j, m;

	t_bad(t_dev, 17, 1);
	for (m = 0; m < 2; m++) {
		k = m ? (void *)UDAX_OP_RECOVERY : NULL;
		t_eq(udax_direct_access(t_dev, 0, 1, &k, NULL), 1);
		for (i = 0; i < N(at); i++) {
			for (j = 0; j < N(bytes); j++) {
				char *a = (char *)k + at[i];
				struct udax_iter it;
				long long most = room(at[i], bytes[j]);

				udax_iter_init(&it, iov, 3, SIZE_MAX);
				t_sign(udax_copy_to_iter(t_dev, 0, a, bytes[j], &it), most);
				udax_iter_init(&it, iov, 3, SIZE_MAX);
				t_sign(udax_copy_from_iter(t_dev, 0, a, bytes[j], &it), most);
			}
		}
	}
}

/* ---- the caller's buffer faults ------------------------------------------- */

/*
 * Buffers whose pages are 'r' good, '-' PROT_NONE (SIGSEGV), 'b' a page of
 * an empty file (SIGBUS/BUS_ADRERR).  Each call is -EFAULT or a count that
 * stops before the bad page; never -EIO, the list never grows, and the
 * device's pages read fine afterwards.
 */
static const char *const shapes[] = { "-", "r-", "b", "rb", "rr-" };

#define t_efault(call, len, stop) do {					\
	long long r_ = (long long)(call);				\
	sign_check(#call, __LINE__, r_, (long long)(len));		\
	if (r_ == -EIO)							\
		t_fail("line %d: %s: the caller's buffer as poison",	\
		       __LINE__, #call);				\
	if (r_ != -EFAULT && r_ > (long long)(stop))			\
		t_fail("line %d: %s = %lld: past the bad page at %lld",	\
		       __LINE__, #call, r_, (long long)(stop));		\
	if (r_ != -EFAULT && r_ == (long long)(len))			\
		t_fail("line %d: %s: a fault unnoticed", __LINE__, #call);\
} while (0)

static void caller_buffer(void)
{
	const char *list0;
	char known[64];
	size_t i;

	/* Known poison on page 9, where the pwrite below recovers. */
	t_bad(t_dev, 9 * 8, 8);
	snprintf(known, sizeof(known), "%s", t_list(t_dev));
	list0 = known;
	for (i = 0; i < N(shapes); i++) {
		size_t len = strlen(shapes[i]) * PG;
		size_t stop = strchr(shapes[i], '-') ? (size_t)(strchr(shapes[i], '-') - shapes[i]) * PG
						     : (size_t)(strchr(shapes[i], 'b') - shapes[i]) * PG;
		char *b = t_buf_map(shapes[i]);
		int mode;

		for (mode = FF; mode <= RC; mode++) {
			t_efault(udax_read(t_dev, b, len, 0, mode), len, stop);
			t_efault(udax_write(t_dev, b, len, PG, mode), len, stop);
		}
		t_efault(udax_pread(t_dev, b, len, 2 * PG), len, stop);
		t_efault(udax_pwrite(t_dev, b, len, 3 * PG), len, stop);
		/* A recovery write over known poison whose source faults:
		 * nothing cleared, nothing new. */
		if (!stop) {
			t_efault(udax_pwrite(t_dev, b, PG, 9 * PG), PG, 0);
			t_efault(udax_write(t_dev, b, PG, 9 * PG, RC), PG, 0);
		}
		t_list_is(t_dev, list0);
		t_own_list_is(t_dev, list0);
		t_buf_unmap(b, shapes[i]);
	}
	t_eq(udax_read(t_dev, buf, 9 * PG, 0, FF), 9 * PG);
	t_eq(udax_read(t_dev, buf, 6 * PG, 10 * PG, FF), 6 * PG);
}

/* The same through an iterator: its segment faults, the copy stops. */
static void caller_iov(void)
{
	char *b = t_buf_map("r-");
	struct iovec iov[2] = { { b, PG }, { b + PG, PG } };
	struct udax_iter it;
	void *k = NULL;

	t_eq(udax_direct_access(t_dev, 0, 16, &k, NULL), 16);
	udax_iter_init(&it, iov, 2, 2 * PG);
	t_sign_eq(udax_copy_to_iter(t_dev, 0, k, 2 * PG, &it), PG);
	udax_iter_init(&it, iov, 2, 2 * PG);
	t_sign_eq(udax_copy_from_iter(t_dev, 0, k, 2 * PG, &it), PG);
	k = (void *)UDAX_OP_RECOVERY;
	t_eq(udax_direct_access(t_dev, 0, 16, &k, NULL), 16);
	udax_iter_init(&it, iov, 2, 2 * PG);
	t_sign_eq(udax_copy_from_iter(t_dev, 0, k, 2 * PG, &it), PG);
	t_list_is(t_dev, "");
	t_buf_unmap(b, "r-");
}

/*
 * A recovery copy_from_iter gathers a page that straddles segments with a
 * plain memcpy (io.c): a segment that faults there kills the program
 * instead of stopping the copy.  In a child.
 */
static void gather_child(void *arg)
{
	char *b = t_buf_map("r-");
	/* The fault in the second segment, then in the first. */
	struct iovec iov[2][2] = { { { b, 100 }, { b + PG, PG } },
				   { { b + PG, 100 }, { b, PG } } };
	struct udax_iter it;
	void *k = (void *)UDAX_OP_RECOVERY;
	size_t c;
	int i;

	alarm(30);	/* a fix that loops must not hang the suite */
	if (udax_direct_access(t_dev, 0, 16, &k, NULL) != 16)
		_exit(2);
	for (i = 0; i < 2; i++) {
		udax_iter_init(&it, iov[i], 2, 100 + PG);
		c = udax_copy_from_iter(t_dev, 0, k, 100 + PG, &it);
		if (c > (i ? 0 : 100) || strcmp(t_list(t_dev), ""))
			_exit(3);
	}
	_exit(0);
}

static void copy_from_iter_gather(void)
{
	int st = t_in_child(gather_child, NULL);

	if (st)
		t_fail("child: %s %d", st > 128 ? "killed by signal" : "exit",
		       st > 128 ? st - 128 : st);
}

/* udax_iter_init() with a NULL iterator or a NULL iovec array and
 * segments: a crash.  In a child. */
static void iter_child(void *arg)
{
	struct udax_iter it;

	udax_iter_init(NULL, NULL, 0, 0);
	udax_iter_init(&it, NULL, 1, 10);
	_exit(it.count == 0 ? 0 : 3);
}

static void iter_init_null(void)
{
	int st = t_in_child(iter_child, NULL);

	if (st)
		t_fail("child: %s %d", st > 128 ? "killed by signal" : "exit",
		       st > 128 ? st - 128 : st);
}

#define NEED_MAP T_MAP, "copies through an address need a mapping"

static const struct t_case cases[] = {
	{ "null-device", null_device, 0, NULL },
	{ "create-open", create_open, T_EMULATED,
	  "udax_create and the probe table make and open emulated images" },
	{ "bad-args", bad_args, 0, NULL },
	{ "dead", dead, 0, NULL },
	{ "rdonly", rdonly, 0, NULL },
	{ "sweep-rw", sweep_rw, 0, NULL },
	{ "sweep-direct-access", sweep_direct_access, 0, NULL },
	{ "sweep-zero-inject", sweep_zero_inject, 0, NULL },
	{ "sweep-copies", sweep_copies, NEED_MAP },
	{ "caller-buffer", caller_buffer, 0, NULL },
	{ "caller-iov", caller_iov, NEED_MAP },
	{ "copy-from-iter-gather", copy_from_iter_gather, NEED_MAP },
	{ "iter-init-null", iter_init_null, 0, NULL },
};

int main(int argc, char **argv)
{
	return t_matrix_main(argc, argv, cases, N(cases));
}
