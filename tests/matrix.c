/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backend matrix: adapters and the runner (see matrix.h). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "matrix.h"
#include "mock/mock.h"

const struct t_backend *t_b;
struct udax_dev *t_dev;

static char *t_dir;
static sigjmp_buf t_case_env;
static char t_skip_why[256];
static bool t_in_case;

/* ---- emulated ------------------------------------------------------------ */

/* The image behind each open device: the adapter's own bookkeeping. */
static struct {
	struct udax_dev *dev;
	char path[256];
} emul_devs[32];
static unsigned int emul_seq;

static const char *emul_path(struct udax_dev *dev)
{
	size_t i;

	for (i = 0; i < sizeof(emul_devs) / sizeof(emul_devs[0]); i++)
		if (emul_devs[i].dev == dev)
			return emul_devs[i].path;
	t_fail("emulated: unknown device");
}

static int emul_open(uint64_t pages, unsigned int flags,
		     struct udax_dev **out)
{
	size_t i;
	int rc;

	for (i = 0; emul_devs[i].dev; i++)
		if (i + 1 == sizeof(emul_devs) / sizeof(emul_devs[0]))
			return -ENOMEM;
	snprintf(emul_devs[i].path, sizeof(emul_devs[i].path), "%s/img%u",
		 t_dir, emul_seq++);
	rc = udax_create(emul_devs[i].path, pages * UDAX_PAGE_SIZE);
	if (!rc)
		rc = udax_open(emul_devs[i].path, flags, out);
	if (!rc)
		emul_devs[i].dev = *out;
	return rc;
}

static void emul_close(struct udax_dev *dev)
{
	char state[300];
	size_t i;

	for (i = 0; i < sizeof(emul_devs) / sizeof(emul_devs[0]); i++) {
		if (emul_devs[i].dev != dev)
			continue;
		udax_close(dev);
		snprintf(state, sizeof(state), "%s.poison", emul_devs[i].path);
		unlink(state);
		unlink(emul_devs[i].path);
		emul_devs[i].dev = NULL;
		return;
	}
	t_fail("emulated: unknown device");
}

/* udax_inject(), through a second handle when this one is read-only:
 * the first then sees the change at its next call, as another process's
 * would be seen. */
static int emul_inject(struct udax_dev *dev, uint64_t s, uint64_t n,
		       unsigned int flags)
{
	struct udax_dev *rw;
	int rc;

	rc = udax_inject(dev, s * UDAX_SECTOR_SIZE, n * UDAX_SECTOR_SIZE, flags);
	if (rc != -EBADF)
		return rc;
	rc = udax_open(emul_path(dev), 0, &rw);
	if (rc)
		return rc;
	rc = udax_inject(rw, s * UDAX_SECTOR_SIZE, n * UDAX_SECTOR_SIZE, flags);
	udax_close(rw);
	return rc;
}

static int emul_bad(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	return emul_inject(dev, s, n, 0);
}

static int emul_latent(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	return emul_inject(dev, s, n, UDAX_INJECT_LATENT);
}

/* Image layout: page 0 is the header, the device starts at page 1. */
static void emul_raw_read(struct udax_dev *dev, uint64_t off, void *buf,
			  size_t len)
{
	int fd = open(emul_path(dev), O_RDONLY | O_CLOEXEC);

	t_assert(fd >= 0);
	t_eq(pread(fd, buf, len, (off_t)(off + UDAX_PAGE_SIZE)), (ssize_t)len);
	close(fd);
}

static void emul_raw_write(struct udax_dev *dev, uint64_t off,
			   const void *buf, size_t len)
{
	int fd = open(emul_path(dev), O_RDWR | O_CLOEXEC);

	t_assert(fd >= 0);
	t_eq(pwrite(fd, buf, len, (off_t)(off + UDAX_PAGE_SIZE)), (ssize_t)len);
	close(fd);
}

/* The "known" section of IMG.poison. */
static void emul_own_list(struct udax_dev *dev, char *buf, size_t size)
{
	char path[300], text[65536], *k, *m;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.poison", emul_path(dev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	t_assert(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	t_assert(n > 0);
	text[n] = 0;
	k = strstr(text, "known\n");
	t_assert(k);
	k += 6;
	m = strstr(k, "media\n");
	t_assert(m && (m == k || m[-1] == '\n'));
	snprintf(buf, size, "%.*s", (int)(m - k), k);
}

static uint64_t emul_pfn(struct udax_dev *dev, uint64_t pgoff)
{
	return pgoff;
}

static const struct t_backend t_emulated = {
	.name = "emulated",
	.caps = T_MAP | T_POISON_OPS | T_EMULATED | T_RAW | T_OWN_LIST |
		T_MEDIA_SECTORS,
	.open = emul_open,
	.close = emul_close,
	.bad = emul_bad,
	.latent = emul_latent,
	.raw_read = emul_raw_read,
	.raw_write = emul_raw_write,
	.own_list = emul_own_list,
	.pfn = emul_pfn,
};

/* ---- mock ---------------------------------------------------------------- */

/* Not 0: a caller that takes the pfn for the page offset is caught. */
#define MOCK_PFN_BASE 0x80000

static int mock_open_cfg(uint64_t pages, unsigned int flags, bool nomap,
			 struct udax_dev **out)
{
	struct mock_cfg cfg = { .pages = pages, .nomap = nomap,
				.pfn_base = MOCK_PFN_BASE };

	return mock_open(&cfg, flags, out);
}

static int mock_open_map(uint64_t pages, unsigned int flags,
			 struct udax_dev **out)
{
	return mock_open_cfg(pages, flags, false, out);
}

static int mock_open_nomap(uint64_t pages, unsigned int flags,
			   struct udax_dev **out)
{
	return mock_open_cfg(pages, flags, true, out);
}

static void mock_close_dev(struct udax_dev *dev)
{
	udax_close(dev);
}

static void mock_poison_sectors(struct mock *m, uint64_t s, uint64_t n)
{
	uint64_t p0 = s / UDAX_SECTORS_PER_PAGE;
	uint64_t p1 = (s + n - 1) / UDAX_SECTORS_PER_PAGE + 1;

	mock_fault(m, p0, p1 - p0, MOCK_POISON);
}

static int mock_bad(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	mock_poison_sectors(mock_of(dev), s, n);
	mock_known_add(mock_of(dev), s, n);
	return 0;
}

static int mock_latent(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	mock_poison_sectors(mock_of(dev), s, n);
	return 0;
}

static void mock_raw_read_dev(struct udax_dev *dev, uint64_t off, void *buf,
			      size_t len)
{
	mock_raw_read(mock_of(dev), off, buf, len);
}

static void mock_raw_write_dev(struct udax_dev *dev, uint64_t off,
			       const void *buf, size_t len)
{
	mock_raw_write(mock_of(dev), off, buf, len);
}

static void mock_own_list(struct udax_dev *dev, char *buf, size_t size)
{
	mock_known_text(mock_of(dev), buf, size);
}

static uint64_t mock_pfn(struct udax_dev *dev, uint64_t pgoff)
{
	return MOCK_PFN_BASE + pgoff;
}

static const struct t_backend t_mock = {
	.name = "mock",
	.caps = T_MAP | T_RAW | T_OWN_LIST,
	.open = mock_open_map,
	.close = mock_close_dev,
	.bad = mock_bad,
	.latent = mock_latent,
	.raw_read = mock_raw_read_dev,
	.raw_write = mock_raw_write_dev,
	.own_list = mock_own_list,
	.pfn = mock_pfn,
};

static const struct t_backend t_mock_nomap = {
	.name = "mock-nomap",
	.caps = T_RAW | T_OWN_LIST,
	.open = mock_open_nomap,
	.close = mock_close_dev,
	.bad = mock_bad,
	.latent = mock_latent,
	.raw_read = mock_raw_read_dev,
	.raw_write = mock_raw_write_dev,
	.own_list = mock_own_list,
	.pfn = mock_pfn,
};

/* Every backend that may run here; real ones join with one line each. */
const struct t_backend *const t_backends[] = {
	&t_emulated,
	&t_mock,
	&t_mock_nomap,
};
const size_t t_nbackends = sizeof(t_backends) / sizeof(t_backends[0]);

/* ---- adapter calls ------------------------------------------------------- */

void t_skip_case(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t_skip_why, sizeof(t_skip_why), fmt, ap);
	va_end(ap);
	if (!t_in_case)
		t_fail("skip outside a case: %s", t_skip_why);
	siglongjmp(t_case_env, 1);
}

bool t_has(unsigned int caps)
{
	return (t_b->caps & caps) == caps;
}

static void t_adapter_rc(const char *what, int rc)
{
	if (rc == -EOPNOTSUPP)
		t_skip_case("%s cannot %s", t_b->name, what);
	if (rc)
		t_fail("%s: %s: %s", t_b->name, what, strerror(-rc));
}

struct udax_dev *t_open(uint64_t pages, unsigned int flags)
{
	struct udax_dev *dev = NULL;

	t_adapter_rc("open a device", t_b->open(pages, flags, &dev));
	return dev;
}

void t_close(struct udax_dev *dev)
{
	if (dev)
		t_b->close(dev);
}

void t_fresh(uint64_t pages)
{
	t_close(t_dev);
	t_dev = NULL;
	t_dev = t_open(pages, 0);
}

void t_bad(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	t_adapter_rc("make sectors known-bad", t_b->bad(dev, s, n));
}

void t_latent(struct udax_dev *dev, uint64_t s, uint64_t n)
{
	t_adapter_rc("put latent poison", t_b->latent(dev, s, n));
}

void t_raw_read(struct udax_dev *dev, uint64_t off, void *buf, size_t len)
{
	if (!t_b->raw_read)
		t_skip_case("%s cannot read under poison", t_b->name);
	t_b->raw_read(dev, off, buf, len);
}

void t_raw_write(struct udax_dev *dev, uint64_t off, const void *buf,
		 size_t len)
{
	if (!t_b->raw_write)
		t_skip_case("%s cannot write under poison", t_b->name);
	t_b->raw_write(dev, off, buf, len);
}

const char *t_list(struct udax_dev *dev)
{
	static char buf[65536];
	long n = udax_badblocks_export(dev, buf, sizeof(buf));

	if (n < 0 || (size_t)n >= sizeof(buf))
		t_fail("udax_badblocks_export: %ld", n);
	return buf;
}

void t_fill(void *buf, size_t n, int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + (size_t)seed * 13 + (i >> 12));
}

char *t_buf_map(const char *pages)
{
	size_t n = strlen(pages), i;
	char *buf;
	int hole = -1;

	buf = mmap(NULL, n * UDAX_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_assert(buf != MAP_FAILED);
	for (i = 0; i < n; i++) {
		char *p = buf + i * UDAX_PAGE_SIZE;

		if (pages[i] == '-') {
			t_ok(mprotect(p, UDAX_PAGE_SIZE, PROT_NONE));
		} else if (pages[i] == 'b') {
			if (hole < 0)
				hole = memfd_create("t-hole", MFD_CLOEXEC);
			t_assert(hole >= 0);
			t_assert(mmap(p, UDAX_PAGE_SIZE, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_FIXED, hole, 0) == p);
		} else {
			t_assert(pages[i] == 'r');
			t_fill(p, UDAX_PAGE_SIZE, (int)i);
		}
	}
	if (hole >= 0)
		close(hole);
	return buf;
}

void t_buf_unmap(char *buf, const char *pages)
{
	munmap(buf, strlen(pages) * UDAX_PAGE_SIZE);
}

int t_in_child(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	t_assert(pid >= 0);
	if (!pid) {
		fn(arg);
		_exit(0);
	}
	t_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- the runner ---------------------------------------------------------- */

/* "mock" selects mock and mock-nomap; "mock-nomap" only itself. */
static bool name_matches(const char *name, const char *want)
{
	size_t n = strlen(want);

	return !strcmp(name, want) ||
	       (!strncmp(name, want, n) && name[n] == '-');
}

/* One case on one backend; false when it was skipped. */
static bool run_case(const struct t_backend *b, const struct t_case *c)
{
	t_b = b;
	t_dev = NULL;
	if (sigsetjmp(t_case_env, 1)) {
		t_in_case = false;
		printf("skip %s %s: %s\n", c->name, b->name, t_skip_why);
		t_close(t_dev);
		t_dev = NULL;
		return false;
	}
	t_in_case = true;
	t_dev = t_open(16, 0);
	c->run();
	t_in_case = false;
	t_close(t_dev);
	t_dev = NULL;
	printf("ok %s %s\n", c->name, b->name);
	return true;
}

int t_matrix_main(int argc, char **argv, const struct t_case *cases,
		  size_t n)
{
	const char *want_case = argc > 1 && strcmp(argv[1], "all") ? argv[1] : NULL;
	const char *want_b = argc > 2 ? argv[2] : NULL;
	unsigned int matched = 0;
	size_t bi, ci;

	t_dir = t_tmpdir();
	for (bi = 0; bi < t_nbackends; bi++) {
		const struct t_backend *b = t_backends[bi];
		const char *why;

		if (want_b && !name_matches(b->name, want_b))
			continue;
		why = b->unavailable ? b->unavailable() : NULL;
		if (why) {
			printf("skip %s: %s\n", b->name, why);
			matched++;
			continue;
		}
		for (ci = 0; ci < n; ci++) {
			const struct t_case *c = &cases[ci];

			if (want_case && strcmp(c->name, want_case))
				continue;
			matched++;
			if ((b->caps & c->need) != c->need)
				printf("skip %s %s: %s\n", c->name, b->name,
				       c->why);
			else
				run_case(b, c);
		}
	}
	t_tmpdir_rm(t_dir);
	if (!matched) {
		fprintf(stderr, "nothing matches: case %s, backend %s\n",
			want_case ? want_case : "all", want_b ? want_b : "all");
		return 1;
	}
	return 0;
}
