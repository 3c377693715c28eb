/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax-bench: what libudax costs next to the copy it guards.
 *
 * Every figure is a ratio of udax (A) against a baseline (B), measured in
 * one process as interleaved pairs A, B, A, B, ... after warm-up pairs; the
 * figure is the median pair ratio with its min and max.  Ratios are written
 * so that above 1 means udax is faster (t_B / t_A), except where a figure
 * says it is a slowdown.  Absolute GB/s and ns are printed too; they are
 * machine-dependent, the ratios much less so.
 *
 * Memory.  The udax side copies to and from an emulated device (a file on
 * tmpfs, as udax_create() makes it) through addresses from
 * udax_direct_access(); the baselines copy to and from a plain MAP_SHARED
 * mapping of another tmpfs file of the same size, so that both sides use the
 * same kind of pages.  The user side of every copy is one anonymous pool
 * that A and B share.
 *
 *   hot   every iteration copies the same buffers (per thread)
 *   cold  every iteration takes the next slot of a pool >= 16 x the LLC,
 *         in a scrambled (bijective hash) order; A and B draw from the same
 *         sequence, which continues across samples so that B never finds
 *         what A just touched in the cache
 *
 * Threads.  With 2 threads each thread runs its own pairs on its own half
 * of the pools, pinned to CPUs 0 and 1, with a barrier before every sample:
 * both threads run A together, then B together.
 *
 * The benchmark reports and never gates: a missed goal prints MISS and the
 * exit status stays 0.  Only a udax call that fails (a short copy where
 * none is possible) makes it exit 1.  Knobs: see usage().
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <udax/udax.h>
#include "private.h"
#include "backends/emul.h"
#include "linux-badblocks.h"

#ifdef UDAX_BENCH_HAVE_PMEM
#include <libpmem.h>
#endif
#ifdef UDAX_BENCH_HAVE_PMEM2
#include <libpmem2.h>
#endif

#define KiB ((uint64_t)1024)
#define MiB ((uint64_t)1024 * 1024)
#define GiB ((uint64_t)1024 * 1024 * 1024)

/* ---- configuration ------------------------------------------------------ */

static struct {
	bool quick;
	int pairs, warmup, max_threads;
	double sample_ns;		/* target time of one sample */
	uint64_t llc, pool;		/* bytes */
	char llc_src[96];
	bool pool_small;		/* pool < 16 x LLC (quick, or no room) */
	char dir[256];			/* our temporary directory */
	char dir_note[160];
	const char *json, *chart, *md;
	const char *only;		/* sections to run, comma-separated */
	int ncpu;
	bool pin;
} cfg;

static int api_errors;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "udax-bench: error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	api_errors++;
}

static FILE *out;	/* the table: stdout, or stderr when JSON goes there */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

static bool section_on(const char *name)
{
	const char *p = cfg.only;
	size_t n = strlen(name);

	if (!p || !*p)
		return true;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && !strncmp(p, name, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* ---- time and statistics ------------------------------------------------ */

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

static struct stat3 stats(const double *v, int n)
{
	struct stat3 s = { NAN, NAN, NAN };
	double *c;

	if (n <= 0)
		return s;
	c = malloc(sizeof(*c) * (size_t)n);
	if (!c)
		abort();
	memcpy(c, v, sizeof(*c) * (size_t)n);
	qsort(c, (size_t)n, sizeof(*c), dbl_cmp);
	s.min = c[0];
	s.max = c[n - 1];
	s.med = n & 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return s;
}

/* ---- figures ------------------------------------------------------------ */

enum goal_kind { G_NONE, G_RATIO_GE, G_RATIO_LE, G_ABS_LE };

struct fig {
	char section[16];
	char pair[64];		/* what against what */
	char size[32];		/* "64 KiB", "512 ranges", ... */
	char mode[8];		/* hot / cold / - */
	int threads;
	bool has_ratio;
	struct stat3 ratio;
	char ratio_kind[16];	/* "speed" (A faster > 1) or "slowdown" */
	char unit[8];		/* of a and b: "GB/s", "ns", "us", "B" */
	struct stat3 a, b;	/* udax, baseline (b.med NAN: none) */
	double a_ns_op, b_ns_op;	/* time per operation, medians */
	enum goal_kind goal_kind;
	double goal;
	int result;		/* -1 no goal, 0 MISS, 1 PASS */
	int pairs;
	uint64_t iters;		/* per sample */
	char note[160];
};

static struct fig *figs;
static int nfigs, capfigs;

static struct fig *fig_new(const char *section, const char *pair,
			   const char *size, const char *mode, int threads)
{
	struct fig *f;

	if (nfigs == capfigs) {
		capfigs = capfigs ? 2 * capfigs : 64;
		figs = realloc(figs, sizeof(*figs) * (size_t)capfigs);
		if (!figs)
			abort();
	}
	f = &figs[nfigs++];
	memset(f, 0, sizeof(*f));
	snprintf(f->section, sizeof(f->section), "%s", section);
	snprintf(f->pair, sizeof(f->pair), "%s", pair);
	snprintf(f->size, sizeof(f->size), "%s", size);
	snprintf(f->mode, sizeof(f->mode), "%s", mode);
	snprintf(f->ratio_kind, sizeof(f->ratio_kind), "speed");
	f->threads = threads;
	f->result = -1;
	f->ratio.med = f->ratio.min = f->ratio.max = NAN;
	f->a.med = f->a.min = f->a.max = NAN;
	f->b.med = f->b.min = f->b.max = NAN;
	f->a_ns_op = f->b_ns_op = NAN;
	return f;
}

static void fig_goal(struct fig *f, enum goal_kind k, double g)
{
	double v;

	f->goal_kind = k;
	f->goal = g;
	switch (k) {
	case G_RATIO_GE:
		v = f->ratio.med;
		f->result = isnan(v) ? -1 : v >= g;
		break;
	case G_RATIO_LE:
		v = f->ratio.med;
		f->result = isnan(v) ? -1 : v <= g;
		break;
	case G_ABS_LE:
		v = f->a.med;
		f->result = isnan(v) ? -1 : v <= g;
		break;
	default:
		f->result = -1;
	}
}

static const char *goal_str(const struct fig *f, char *buf, size_t n)
{
	switch (f->goal_kind) {
	case G_RATIO_GE:
		snprintf(buf, n, ">= %.2f", f->goal);
		break;
	case G_RATIO_LE:
		snprintf(buf, n, "<= %.2fx", f->goal);
		break;
	case G_ABS_LE:
		snprintf(buf, n, "<= %g %s", f->goal, f->unit);
		break;
	default:
		snprintf(buf, n, "-");
	}
	return buf;
}

static const char *result_str(const struct fig *f)
{
	return f->result < 0 ? "-" : f->result ? "PASS" : "MISS";
}

static void fmt_abs(char *buf, size_t n, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else if (v >= 100)
		snprintf(buf, n, "%.0f %s", v, unit);
	else if (v >= 10)
		snprintf(buf, n, "%.1f %s", v, unit);
	else
		snprintf(buf, n, "%.2f %s", v, unit);
}

static void fmt_ratio(char *buf, size_t n, const struct fig *f)
{
	if (!f->has_ratio || isnan(f->ratio.med))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%5.2f [%.2f-%.2f]", f->ratio.med,
			 f->ratio.min, f->ratio.max);
}

#define ROW_FMT "%-44s %-12s %-4s %2s  %-20s %-11s %-11s %-10s %s\n"

static void fig_print_header(void)
{
	say(ROW_FMT, "pair (udax / baseline)", "size", "mode", "T",
	    "ratio med [min-max]", "udax", "baseline", "goal", "result");
}

static void fig_print(const struct fig *f)
{
	char r[48], a[24], b[24], g[24], t[4];

	fmt_ratio(r, sizeof(r), f);
	fmt_abs(a, sizeof(a), f->a.med, f->unit);
	fmt_abs(b, sizeof(b), f->b.med, f->unit);
	snprintf(t, sizeof(t), "%d", f->threads);
	say(ROW_FMT, f->pair, f->size, f->mode, f->threads ? t : "-", r, a, b,
	    goal_str(f, g, sizeof(g)), result_str(f));
	if (f->note[0])
		say("    note: %s\n", f->note);
}

static void size_name(char *buf, size_t n, uint64_t s)
{
	if (s >= MiB && s % MiB == 0)
		snprintf(buf, n, "%" PRIu64 " MiB", s / MiB);
	else if (s >= KiB && s % KiB == 0)
		snprintf(buf, n, "%" PRIu64 " KiB", s / KiB);
	else
		snprintf(buf, n, "%" PRIu64 " B", s);
}

/* ---- machine ------------------------------------------------------------ */

static uint64_t parse_cache_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	if (*end == 'K')
		v *= KiB;
	else if (*end == 'M')
		v *= MiB;
	return v;
}

/* The LLC: sysfs first (glibc's sysconf reports 320 MiB on some AMD VMs
 * whose sysfs and cpuid say 32 MiB), then sysconf, then 32 MiB. */
static void detect_llc(void)
{
	char path[128], buf[64];
	uint64_t best = 0;
	int bestlvl = 0;

	for (int i = 0; i < 8; i++) {
		FILE *f;
		int lvl = 0;
		char type[32] = "";

		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		f = fopen(path, "r");
		if (!f)
			break;
		if (fscanf(f, "%d", &lvl) != 1)
			lvl = 0;
		fclose(f);
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(type, sizeof(type), f))
				type[0] = 0;
			fclose(f);
		}
		if (!strncmp(type, "Instruction", 11))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && lvl >= bestlvl) {
			bestlvl = lvl;
			best = parse_cache_size(buf);
		}
		fclose(f);
	}
	if (best) {
		cfg.llc = best;
		snprintf(cfg.llc_src, sizeof(cfg.llc_src),
			 "L%d from /sys/devices/system/cpu/cpu0/cache", bestlvl);
		return;
	}
#ifdef _SC_LEVEL3_CACHE_SIZE
	{
		long v = sysconf(_SC_LEVEL3_CACHE_SIZE);

		if (v > 0) {
			cfg.llc = (uint64_t)v;
			snprintf(cfg.llc_src, sizeof(cfg.llc_src),
				 "sysconf(_SC_LEVEL3_CACHE_SIZE)");
			return;
		}
	}
#endif
	cfg.llc = 32 * MiB;
	snprintf(cfg.llc_src, sizeof(cfg.llc_src), "unknown: default 32 MiB");
}

static void cpu_model(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, n, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			if (p) {
				p++;
				while (*p == ' ')
					p++;
				p[strcspn(p, "\n")] = 0;
				snprintf(buf, n, "%s", p);
			}
			break;
		}
	}
	fclose(f);
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (!cfg.pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- memory ------------------------------------------------------------- */

static uint64_t free_bytes(const char *dir)
{
	struct statvfs sv;

	if (statvfs(dir, &sv))
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/*
 * Where the images go: UDAX_BENCH_DIR, else /dev/shm when it has room (a
 * file on tmpfs has no writeback to disturb the timing), else $TMPDIR or
 * /tmp.
 */
static int pick_dir(uint64_t need)
{
	const char *env = getenv("UDAX_BENCH_DIR");
	const char *tmp = getenv("TMPDIR");
	const char *base;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (env && *env) {
		base = env;
		snprintf(cfg.dir_note, sizeof(cfg.dir_note), "UDAX_BENCH_DIR");
	} else if (is_dir("/dev/shm") && free_bytes("/dev/shm") >= need &&
		   free_bytes("/dev/shm") >= free_bytes(tmp) / 8) {
		base = "/dev/shm";
		snprintf(cfg.dir_note, sizeof(cfg.dir_note),
			 "tmpfs, %.1f GiB free", free_bytes(base) / (double)GiB);
	} else {
		base = tmp;
		snprintf(cfg.dir_note, sizeof(cfg.dir_note),
			 "%.1f GiB free", free_bytes(base) / (double)GiB);
	}
	if (free_bytes(base) < need) {
		fprintf(stderr, "udax-bench: %s has %.0f MiB free, need %.0f MiB; "
			"set UDAX_BENCH_POOL_MB lower or UDAX_BENCH_DIR\n",
			base, free_bytes(base) / (double)MiB, need / (double)MiB);
		return -ENOSPC;
	}
	snprintf(cfg.dir, sizeof(cfg.dir), "%s/udax-bench.XXXXXX", base);
	if (!mkdtemp(cfg.dir)) {
		fprintf(stderr, "udax-bench: mkdtemp %s: %s\n", cfg.dir,
			strerror(errno));
		return -errno;
	}
	return 0;
}

static void rm_image(const char *name)
{
	char p[320];

	snprintf(p, sizeof(p), "%s/%s", cfg.dir, name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.poison", cfg.dir, name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.poison.tmp", cfg.dir, name);
	unlink(p);
}

static void cleanup_dir(void)
{
	if (!cfg.dir[0])
		return;
	rm_image("dev.img");
	rm_image("da.img");
	rm_image("poison.img");
	rm_image("import.img");
	for (const char *const *n = (const char *const[]){ "reads.dat",
			"writes.dat", "lookup.dat", "chart.gp", NULL }; *n; n++) {
		char p[320];

		snprintf(p, sizeof(p), "%s/%s", cfg.dir, *n);
		unlink(p);
	}
	rmdir(cfg.dir);
	cfg.dir[0] = 0;
}

static struct udax_dev *dev_make(const char *name, uint64_t size)
{
	struct udax_dev *d;
	char p[320];
	int rc;

	snprintf(p, sizeof(p), "%s/%s", cfg.dir, name);
	rc = udax_create(p, size);
	if (rc) {
		fail("udax_create %s (%" PRIu64 " MiB): %s", p, size / MiB,
		     strerror(-rc));
		return NULL;
	}
	rc = udax_open(p, 0, &d);
	if (rc) {
		fail("udax_open %s: %s", p, strerror(-rc));
		return NULL;
	}
	return d;
}

/* A MAP_SHARED mapping of a fresh tmpfs file, prefaulted: the baselines'
 * "device".  The file descriptor is kept for libpmem2. */
static char *shared_map(const char *name, uint64_t size, int *fdp)
{
	char p[320];
	char *m;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", cfg.dir, name);
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail("open %s: %s", p, strerror(errno));
		return NULL;
	}
	unlink(p);
	if (ftruncate(fd, (off_t)size)) {
		fail("ftruncate %s: %s", p, strerror(errno));
		close(fd);
		return NULL;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		fail("mmap %s: %s", p, strerror(errno));
		close(fd);
		return NULL;
	}
	memset(m, 0x5a, size);
	*fdp = fd;
	return m;
}

static char *anon_map(uint64_t size)
{
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		fail("mmap %" PRIu64 " MiB: %s", size / MiB, strerror(errno));
		return NULL;
	}
	memset(m, 0xa5, size);
	return m;
}

/* ---- the copy pairs ----------------------------------------------------- */

enum kind {
	K_FAILFAST,	/* udax_copy_to_iter (failfast kaddr) vs memcpy */
	K_RECOVERY,	/* udax_copy_to_iter (recovery kaddr) vs memcpy */
	K_PERSIST,	/* udax_copy_from_iter vs pmem_memcpy_persist */
	K_PERSIST2,	/* udax_copy_from_iter vs libpmem2 memcpy_fn */
	K_PREAD,	/* udax_pread vs memcpy */
	K_PWRITE,	/* udax_pwrite vs memcpy */
	K_NR
};

static const char *const kind_pair[K_NR] = {
	"failfast copy_to_iter / memcpy",
	"recovery copy_to_iter / memcpy",
	"persist copy_from_iter / pmem_memcpy_persist",
	"persist copy_from_iter / pmem2 memcpy_fn",
	"udax_pread / memcpy",
	"udax_pwrite / memcpy",
};

static const char *const kind_section[K_NR] = {
	"read", "read", "write", "write", "rw", "rw",
};

/* What the copy pairs share. */
static struct {
	struct udax_dev *dev;
	char *kff, *krec;	/* device page 0: failfast / recovery kaddr */
	char *base;		/* baseline "device" */
	char *base2;		/* the same file mapped by libpmem2 */
	char *user;		/* user buffers */
	int base_fd;
#ifdef UDAX_BENCH_HAVE_PMEM2
	struct pmem2_map *p2map;
	pmem2_memcpy_fn p2memcpy;
#endif
	bool have_pmem, have_pmem2;
	char pmem2_note[128];
} cp;

struct tjob {
	enum kind kind;
	uint64_t size;
	bool cold;
	int nthreads;
	uint64_t iters;
	int pairs, warmup;
	pthread_barrier_t bar;
	double *ta[2], *tb[2];	/* per thread, per pair: ns */
	double *wall[2];	/* per pair: A, B wall time over both threads */
	double *sa[2], *sb[2];	/* per thread start/end for the wall time */
};

struct tctx {
	struct tjob *j;
	int t;
	uint64_t region, slots_mask;	/* cold: first byte, slot count - 1 */
	unsigned int bits;
	uint64_t cursor;
	int err;
};

/* A bijection of [0, 2^bits): xor-shift and odd multiplies, each
 * invertible modulo 2^bits. */
static inline uint64_t scramble(uint64_t x, unsigned int bits, uint64_t mask)
{
	unsigned int sh = (bits + 1) / 2;

	x &= mask;
	x ^= x >> sh;
	x = (x * 0x9E3779B97F4A7C15ULL) & mask;
	x ^= x >> sh;
	x = (x * 0xC2B2AE3D27D4EB4FULL) & mask;
	x ^= x >> sh;
	return x;
}

static inline uint64_t slot_off(struct tctx *c)
{
	uint64_t s;

	if (!c->j->cold)
		return c->region;
	s = scramble(c->cursor++, c->bits, c->slots_mask);
	return c->region + s * c->j->size;
}

/* One sample: @n iterations of side @b (0: udax, 1: baseline).  ns. */
static double run_sample(struct tctx *c, int b, uint64_t n)
{
	struct tjob *j = c->j;
	size_t S = j->size;
	struct udax_dev *dev = cp.dev;
	double t0, t1;
	uint64_t i;

	t0 = now_ns();
	switch (j->kind * 2 + b) {
	case K_FAILFAST * 2:
	case K_RECOVERY * 2: {
		char *k = j->kind == K_FAILFAST ? cp.kff : cp.krec;

		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);
			struct iovec iov = { cp.user + off, S };
			struct udax_iter it;

			udax_iter_init(&it, &iov, 1, S);
			if (udax__unlikely(udax_copy_to_iter(dev, off >> 12,
					k + off, S, &it) != S))
				c->err++;
		}
		break;
	}
	case K_FAILFAST * 2 + 1:
	case K_RECOVERY * 2 + 1:
	case K_PREAD * 2 + 1:
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);

			memcpy(cp.user + off, cp.base + off, S);
		}
		break;
	case K_PERSIST * 2:
	case K_PERSIST2 * 2:
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);
			struct iovec iov = { cp.user + off, S };
			struct udax_iter it;

			udax_iter_init(&it, &iov, 1, S);
			if (udax__unlikely(udax_copy_from_iter(dev, off >> 12,
					cp.kff + off, S, &it) != S))
				c->err++;
		}
		break;
	case K_PERSIST * 2 + 1:
#ifdef UDAX_BENCH_HAVE_PMEM
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);

			pmem_memcpy_persist(cp.base + off, cp.user + off, S);
		}
#endif
		break;
	case K_PERSIST2 * 2 + 1:
#ifdef UDAX_BENCH_HAVE_PMEM2
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);

			cp.p2memcpy(cp.base2 + off, cp.user + off, S, 0);
		}
#endif
		break;
	case K_PREAD * 2:
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);

			if (udax__unlikely(udax_pread(dev, cp.user + off, S, off) !=
					   (ssize_t)S))
				c->err++;
		}
		break;
	case K_PWRITE * 2:
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);

			if (udax__unlikely(udax_pwrite(dev, cp.user + off, S, off) !=
					   (ssize_t)S))
				c->err++;
		}
		break;
	case K_PWRITE * 2 + 1:
		for (i = 0; i < n; i++) {
			uint64_t off = slot_off(c);

			memcpy(cp.base + off, cp.user + off, S);
		}
		break;
	}
	t1 = now_ns();
	return t1 - t0;
}

static void tctx_init(struct tctx *c, struct tjob *j, int t)
{
	uint64_t half = cfg.pool / (uint64_t)j->nthreads;
	uint64_t slots = half / j->size;

	memset(c, 0, sizeof(*c));
	c->j = j;
	c->t = t;
	c->region = half * (uint64_t)t;
	c->slots_mask = slots - 1;
	c->bits = 0;
	while ((1ULL << c->bits) < slots)
		c->bits++;
	/* different but fixed starting points per thread */
	c->cursor = (uint64_t)t * 7919;
}

static void *pair_thread(void *arg)
{
	struct tctx *c = arg;
	struct tjob *j = c->j;

	pin_to(c->t % cfg.ncpu);
	for (int p = -j->warmup; p < j->pairs; p++) {
		double a, b;

		pthread_barrier_wait(&j->bar);
		a = run_sample(c, 0, j->iters);
		pthread_barrier_wait(&j->bar);
		b = run_sample(c, 1, j->iters);
		if (p >= 0) {
			j->ta[c->t][p] = a;
			j->tb[c->t][p] = b;
		}
	}
	return NULL;
}

/* Iterations per sample so that the faster side takes cfg.sample_ns. */
static uint64_t calibrate(struct tjob *j)
{
	struct tctx c;
	uint64_t n = 1;

	tctx_init(&c, j, 0);
	pin_to(0);
	for (;;) {
		double a = run_sample(&c, 0, n), b = run_sample(&c, 1, n);
		double m = a < b ? a : b;

		if (c.err)
			return 0;
		if (m >= cfg.sample_ns / 8 || n >= (1ULL << 34)) {
			double k = cfg.sample_ns / (m > 1 ? m : 1);
			uint64_t r = (uint64_t)ceil((double)n * k);

			return r ? r : 1;
		}
		n *= 8;
	}
}

static void run_copy(enum kind k, uint64_t size, bool cold, int nthreads)
{
	struct tjob j;
	struct tctx ctx[2];
	pthread_t th[2];
	char sz[32];
	struct fig *f;
	double *ratios, *ga, *gb;
	int np, t;

	size_name(sz, sizeof(sz), size);
	f = fig_new(kind_section[k], kind_pair[k], sz, cold ? "cold" : "hot",
		    nthreads);
	snprintf(f->unit, sizeof(f->unit), "GB/s");
	f->has_ratio = true;
	if ((k == K_PERSIST && !cp.have_pmem) ||
	    (k == K_PERSIST2 && !cp.have_pmem2)) {
		snprintf(f->note, sizeof(f->note), "baseline not built: %s",
			 k == K_PERSIST ? "libpmem missing" :
			 cp.pmem2_note[0] ? cp.pmem2_note : "libpmem2 missing");
		f->has_ratio = false;
		fig_print(f);
		return;
	}

	memset(&j, 0, sizeof(j));
	j.kind = k;
	j.size = size;
	j.cold = cold;
	j.nthreads = nthreads;
	j.pairs = cfg.pairs;
	j.warmup = cfg.warmup;
	j.iters = calibrate(&j);
	if (!j.iters) {
		fail("%s %s: udax copy came back short", kind_pair[k], sz);
		snprintf(f->note, sizeof(f->note), "udax copy failed");
		fig_print(f);
		return;
	}
	np = j.pairs;
	for (t = 0; t < nthreads; t++) {
		j.ta[t] = calloc((size_t)np, sizeof(double));
		j.tb[t] = calloc((size_t)np, sizeof(double));
		if (!j.ta[t] || !j.tb[t])
			abort();
	}
	pthread_barrier_init(&j.bar, NULL, (unsigned int)nthreads);
	for (t = 0; t < nthreads; t++) {
		tctx_init(&ctx[t], &j, t);
		if (pthread_create(&th[t], NULL, pair_thread, &ctx[t]))
			abort();
	}
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&j.bar);

	ratios = calloc((size_t)(np * nthreads), sizeof(double));
	ga = calloc((size_t)np, sizeof(double));
	gb = calloc((size_t)np, sizeof(double));
	if (!ratios || !ga || !gb)
		abort();
	for (int p = 0; p < np; p++) {
		double wa = 0, wb = 0;

		for (t = 0; t < nthreads; t++) {
			ratios[p * nthreads + t] = j.tb[t][p] / j.ta[t][p];
			if (j.ta[t][p] > wa)
				wa = j.ta[t][p];
			if (j.tb[t][p] > wb)
				wb = j.tb[t][p];
		}
		/* aggregate GB/s over the threads, by the slower thread */
		ga[p] = (double)(j.iters * size * (uint64_t)nthreads) / wa;
		gb[p] = (double)(j.iters * size * (uint64_t)nthreads) / wb;
	}
	f->ratio = stats(ratios, np * nthreads);
	f->a = stats(ga, np);
	f->b = stats(gb, np);
	{
		struct stat3 ta = stats(j.ta[0], np), tb = stats(j.tb[0], np);

		f->a_ns_op = ta.med / (double)j.iters;
		f->b_ns_op = tb.med / (double)j.iters;
	}
	f->pairs = np;
	f->iters = j.iters;
	for (t = 0; t < nthreads; t++) {
		if (ctx[t].err) {
			fail("%s %s %s %dT: %d short udax copies", kind_pair[k],
			     sz, f->mode, nthreads, ctx[t].err);
			snprintf(f->note, sizeof(f->note), "udax copy failed");
		}
		free(j.ta[t]);
		free(j.tb[t]);
	}
	if (size < 64 * KiB)
		snprintf(f->note + strlen(f->note),
			 sizeof(f->note) - strlen(f->note),
			 "%sper op: udax %.1f ns, baseline %.1f ns",
			 f->note[0] ? "; " : "", f->a_ns_op, f->b_ns_op);

	/* goals (issue 4) */
	switch (k) {
	case K_FAILFAST:
		if (size >= 64 * KiB)
			fig_goal(f, G_RATIO_GE, 0.95);
		break;
	case K_RECOVERY:
		if (size == 4 * KiB || size == 2 * MiB)
			fig_goal(f, G_RATIO_GE, 0.90);
		break;
	case K_PERSIST:
		fig_goal(f, G_RATIO_GE,
			 cold && size >= 2 * MiB ? 1.30 : 1.00);
		break;
	default:
		break;
	}
	free(ratios);
	free(ga);
	free(gb);
	fig_print(f);
}

static int copy_setup(void)
{
	void *k;
	long n;

	cp.dev = dev_make("dev.img", cfg.pool);
	if (!cp.dev)
		return -1;
	/* One mapping of the whole span, as a file system maps an extent. */
	k = NULL;
	n = udax_direct_access(cp.dev, 0, (long)(cfg.pool / UDAX_PAGE_SIZE),
			       &k, NULL);
	if (n != (long)(cfg.pool / UDAX_PAGE_SIZE)) {
		fail("udax_direct_access failfast over the device: %ld", n);
		return -1;
	}
	cp.kff = k;
	k = (void *)UDAX_OP_RECOVERY;
	n = udax_direct_access(cp.dev, 0, (long)(cfg.pool / UDAX_PAGE_SIZE),
			       &k, NULL);
	if (n != (long)(cfg.pool / UDAX_PAGE_SIZE)) {
		fail("udax_direct_access recovery over the device: %ld", n);
		return -1;
	}
	cp.krec = k;
	/* Fault the device's pages in before anything is timed. */
	memset(udax_kaddr_untag(cp.kff), 0x3c, cfg.pool);

	cp.base = shared_map("base.img", cfg.pool, &cp.base_fd);
	cp.user = anon_map(cfg.pool);
	if (!cp.base || !cp.user)
		return -1;
#ifdef UDAX_BENCH_HAVE_PMEM
	cp.have_pmem = true;
#endif
#ifdef UDAX_BENCH_HAVE_PMEM2
	{
		struct pmem2_config *c = NULL;
		struct pmem2_source *s = NULL;
		int rc;

		/*
		 * tmpfs is not pmem: left alone, libpmem2 picks page
		 * granularity and a memcpy that ends in msync.  Force the
		 * cache-line path a real DAX mapping gets (read by each
		 * pmem2_map_new()).
		 */
		setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
		rc = pmem2_config_new(&c);
		if (!rc)
			rc = pmem2_config_set_required_store_granularity(c,
					PMEM2_GRANULARITY_CACHE_LINE);
		if (!rc)
			rc = pmem2_source_from_fd(&s, cp.base_fd);
		if (!rc)
			rc = pmem2_map_new(&cp.p2map, c, s);
		if (!rc) {
			cp.base2 = pmem2_map_get_address(cp.p2map);
			cp.p2memcpy = pmem2_get_memcpy_fn(cp.p2map);
			cp.have_pmem2 = cp.base2 && cp.p2memcpy;
		} else {
			snprintf(cp.pmem2_note, sizeof(cp.pmem2_note),
				 "libpmem2 map failed: %s", pmem2_errormsg());
		}
		if (s)
			pmem2_source_delete(&s);
		if (c)
			pmem2_config_delete(&c);
	}
#endif
	return 0;
}

static void copy_teardown(void)
{
#ifdef UDAX_BENCH_HAVE_PMEM2
	if (cp.p2map)
		pmem2_map_delete(&cp.p2map);
#endif
	if (cp.base)
		munmap(cp.base, cfg.pool);
	if (cp.user)
		munmap(cp.user, cfg.pool);
	if (cp.base_fd > 0)
		close(cp.base_fd);
	udax_close(cp.dev);
	rm_image("dev.img");
	memset(&cp, 0, sizeof(cp));
}

/* ---- bad-block tables --------------------------------------------------- */

static inline uint64_t rng_next(uint64_t *x)
{
	/* xorshift64* */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n) without a division. */
static inline uint64_t rng_below(uint64_t *x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(x) * n) >> 64);
}

/*
 * @n disjoint, non-touching ranges (sectors) of 1..8 sectors with gaps of
 * 1..63 sectors, from sector @first.  Returns the end of the last range.
 */
static uint64_t make_ranges(struct udax_range *r, size_t n, uint64_t first,
			    uint64_t seed)
{
	uint64_t x = seed | 1, s = first;

	for (size_t i = 0; i < n; i++) {
		s += 1 + rng_below(&x, 63);
		r[i].off = s;
		r[i].len = 1 + rng_below(&x, 8);
		s += r[i].len;
	}
	return s + 1;
}

/* Random single-sector lookups: independent (throughput) or each query
 * depending on the previous answer (latency).  ns per lookup. */
static double lookups_udax(const struct udax_bb *bb, uint64_t span,
			   uint64_t n, uint64_t *seed, bool dep,
			   uint64_t *sink)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	/*
	 * Two loops, not one with "if (dep)" inside: gcc -O2 turns that test
	 * into a data dependency (x ^= r & 1 & -dep), which serializes the
	 * independent lookups too (measured: 31 ns instead of 16 at 512).
	 */
	if (dep) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t r = udax__bb_first_bad(bb, rng_below(&x, span), 1);

			acc += r;
			x ^= r & 1;
		}
	} else {
		for (uint64_t i = 0; i < n; i++)
			acc += udax__bb_first_bad(bb, rng_below(&x, span), 1);
	}
	*sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static double lookups_linux(const struct lbb *bb, uint64_t span, uint64_t n,
			    uint64_t *seed, bool dep, uint64_t *sink)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	/* Two loops, as in lookups_udax(). */
	if (dep) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t fb = 0;
			int nb = 0;
			int r = lbb_check(bb, rng_below(&x, span), 1, &fb, &nb);

			acc += (uint64_t)r + fb;
			x ^= (uint64_t)r & 1;
		}
	} else {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t fb = 0;
			int nb = 0;
			int r = lbb_check(bb, rng_below(&x, span), 1, &fb, &nb);

			acc += (uint64_t)r + fb;
		}
	}
	*sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static double lookups_empty_loop(uint64_t span, uint64_t n, uint64_t *seed,
				 uint64_t *sink)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		acc += rng_below(&x, span);
		__asm__ volatile("" : "+r"(acc));
	}
	*sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static uint64_t sink;

static uint64_t lookup_iters(double ns_each)
{
	uint64_t n = (uint64_t)(cfg.sample_ns / (ns_each > 0.5 ? ns_each : 0.5));

	return n < 1000 ? 1000 : n;
}

static struct udax_bb *bb_build(size_t n, uint64_t *span)
{
	struct udax_range *r = malloc(sizeof(*r) * (n ? n : 1));
	struct udax_bb *bb;

	if (!r)
		abort();
	*span = make_ranges(r, n, 0, 0x1234567 + n);
	if (udax__bb_new(&bb) || udax__bb_assign(bb, r, n)) {
		fail("udax__bb_assign %zu ranges failed", n);
		free(r);
		return NULL;
	}
	free(r);
	return bb;
}

static void bench_lookup(size_t nr, double goal, bool dep)
{
	char sz[32];
	uint64_t span, seed = 0x9e3779b97f4a7c15ULL, n;
	struct udax_bb *bb;
	struct lbb lbb = { 0 };
	bool linux_ok = false;
	struct fig *f;
	double *a, *b, *ra;
	int np = cfg.pairs;

	snprintf(sz, sizeof(sz), "%zu ranges", nr);
	f = fig_new("lookup", dep ? "bb_first_bad latency / linux check"
				  : "bb_first_bad / linux badblocks_check",
		    sz, "rand", 1);
	snprintf(f->unit, sizeof(f->unit), "ns");
	bb = bb_build(nr, &span);
	if (!bb)
		return;
	if (nr <= LBB_MAX) {
		struct udax_range *r = malloc(sizeof(*r) * nr);

		make_ranges(r, nr, 0, 0x1234567 + nr);
		linux_ok = !lbb_load(&lbb, r, nr);
		free(r);
	}
	pin_to(0);
	n = lookup_iters(lookups_udax(bb, span, 100000, &seed, dep, &sink));
	a = calloc((size_t)np, sizeof(double));
	b = calloc((size_t)np, sizeof(double));
	ra = calloc((size_t)np, sizeof(double));
	for (int p = -cfg.warmup; p < np; p++) {
		double ta = lookups_udax(bb, span, n, &seed, dep, &sink);
		double tb = linux_ok ? lookups_linux(&lbb, span, n, &seed, dep,
						     &sink)
				     : lookups_empty_loop(span, n, &seed, &sink);

		if (p < 0)
			continue;
		a[p] = ta;
		b[p] = tb;
		ra[p] = tb / ta;
	}
	f->a = stats(a, np);
	f->iters = n;
	f->pairs = np;
	if (linux_ok) {
		f->has_ratio = true;
		f->ratio = stats(ra, np);
		f->b = stats(b, np);
	} else {
		struct stat3 e = stats(b, np);

		snprintf(f->note, sizeof(f->note),
			 "a Linux table holds at most %d ranges: no baseline; "
			 "loop+rng alone %.2f ns", LBB_MAX, e.med);
	}
	if (linux_ok && !dep) {
		struct stat3 e;

		for (int p = 0; p < np; p++)
			b[p] = lookups_empty_loop(span, n, &seed, &sink);
		e = stats(b, np);
		snprintf(f->note, sizeof(f->note),
			 "ratio = linux ns / udax ns; loop+rng alone %.2f ns",
			 e.med);
	}
	if (!dep)
		fig_goal(f, G_ABS_LE, goal);
	free(a);
	free(b);
	free(ra);
	lbb_free(&lbb);
	udax__bb_free(bb);
	fig_print(f);
}

/* ---- two concurrent readers --------------------------------------------- */

struct rjob {
	const struct udax_bb *bb;
	uint64_t span, n;
	int pairs, warmup;
	pthread_barrier_t bar;
	double *alone[2], *both[2];
};

struct rctx {
	struct rjob *j;
	int t;
	uint64_t seed, sink;
};

static void *reader_thread(void *arg)
{
	struct rctx *c = arg;
	struct rjob *j = c->j;

	pin_to(c->t % cfg.ncpu);
	for (int p = -j->warmup; p < j->pairs; p++) {
		double al = 0, bo;

		/* A: each thread alone in turn; B: both at once */
		for (int who = 0; who < 2; who++) {
			pthread_barrier_wait(&j->bar);
			if (who == c->t)
				al = lookups_udax(j->bb, j->span, j->n, &c->seed,
						  false, &c->sink);
		}
		pthread_barrier_wait(&j->bar);
		bo = lookups_udax(j->bb, j->span, j->n, &c->seed, false, &c->sink);
		if (p >= 0) {
			j->alone[c->t][p] = al;
			j->both[c->t][p] = bo;
		}
	}
	return NULL;
}

static void bench_readers(size_t nr)
{
	struct rjob j;
	struct rctx c[2];
	pthread_t th[2];
	char sz[32];
	struct fig *f;
	double *r, *a;
	int np = cfg.pairs;
	uint64_t seed = 42;

	snprintf(sz, sizeof(sz), "%zu ranges", nr);
	f = fig_new("readers", "2 concurrent readers / 1 reader alone", sz,
		    "rand", 2);
	snprintf(f->unit, sizeof(f->unit), "ns");
	snprintf(f->ratio_kind, sizeof(f->ratio_kind), "slowdown");
	if (cfg.ncpu < 2 || cfg.max_threads < 2) {
		snprintf(f->note, sizeof(f->note), "skipped: one CPU");
		fig_print(f);
		return;
	}
	memset(&j, 0, sizeof(j));
	j.bb = bb_build(nr, &j.span);
	if (!j.bb)
		return;
	j.n = lookup_iters(lookups_udax(j.bb, j.span, 100000, &seed, false, &sink));
	j.pairs = np;
	j.warmup = cfg.warmup;
	for (int t = 0; t < 2; t++) {
		j.alone[t] = calloc((size_t)np, sizeof(double));
		j.both[t] = calloc((size_t)np, sizeof(double));
	}
	pthread_barrier_init(&j.bar, NULL, 2);
	for (int t = 0; t < 2; t++) {
		c[t].j = &j;
		c[t].t = t;
		c[t].seed = 0x1000 + (uint64_t)t * 0x9e37;
		c[t].sink = 0;
		pthread_create(&th[t], NULL, reader_thread, &c[t]);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&j.bar);
	r = calloc((size_t)(2 * np), sizeof(double));
	a = calloc((size_t)(2 * np), sizeof(double));
	for (int p = 0; p < np; p++)
		for (int t = 0; t < 2; t++) {
			r[2 * p + t] = j.both[t][p] / j.alone[t][p];
			a[2 * p + t] = j.both[t][p];
		}
	f->has_ratio = true;
	f->ratio = stats(r, 2 * np);
	f->a = stats(a, 2 * np);
	for (int t = 0; t < 2; t++)
		memcpy(a + t * np, j.alone[t], sizeof(double) * (size_t)np);
	f->b = stats(a, 2 * np);
	f->iters = j.n;
	f->pairs = np;
	snprintf(f->note, sizeof(f->note),
		 "ratio = ns per lookup with both reading / alone (slowdown); "
		 "udax = both, baseline = alone");
	fig_goal(f, G_RATIO_LE, 1.3);
	sink += c[0].sink + c[1].sink;
	for (int t = 0; t < 2; t++) {
		free(j.alone[t]);
		free(j.both[t]);
	}
	free(r);
	free(a);
	udax__bb_free((struct udax_bb *)j.bb);
	fig_print(f);
}

/* ---- memory per range ---------------------------------------------------- */

static long statm_resident(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res;
}

static void bench_memory(size_t nr)
{
	struct udax_range *r = malloc(sizeof(*r) * nr);
	struct udax_bb *bb;
	struct mallinfo2 m0, m1;
	long r0, r1;
	char sz[32];
	struct fig *f;
	double per;

	snprintf(sz, sizeof(sz), "%zu ranges", nr);
	f = fig_new("memory", "bytes per known range (RSS delta)", sz, "-", 1);
	snprintf(f->unit, sizeof(f->unit), "B");
	if (!r)
		abort();
	make_ranges(r, nr, 0, 77);	/* input touched before measuring */
	malloc_trim(0);
	m0 = mallinfo2();
	r0 = statm_resident();
	if (udax__bb_new(&bb) || udax__bb_assign(bb, r, nr)) {
		fail("udax__bb_assign %zu ranges failed", nr);
		free(r);
		return;
	}
	/* the table's temporary copy is freed: give it back first, so that
	 * only what the table keeps counts */
	malloc_trim(0);
	r1 = statm_resident();
	m1 = mallinfo2();
	per = (double)(r1 - r0) * (double)sysconf(_SC_PAGESIZE) / (double)nr;
	f->a.med = f->a.min = f->a.max = per;
	snprintf(f->note, sizeof(f->note),
		 "malloc heap delta %.1f B/range (mallinfo2; the table itself "
		 "is mmap'd); count %zu",
		 ((double)(m1.uordblks + m1.hblkhd) -
		  (double)(m0.uordblks + m0.hblkhd)) / (double)nr,
		 udax__bb_count(bb));
	fig_goal(f, G_ABS_LE, 24);
	udax__bb_free(bb);
	free(r);
	fig_print(f);
}

/* ---- direct_access ------------------------------------------------------- */

static double da_loop(struct udax_dev *d, uint64_t npg, uint64_t n,
		      uint64_t *seed, bool holes)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		/* with holes: pages 4k + 1..3 are good, 4k bad */
		uint64_t pg = holes ? 4 * rng_below(&x, npg / 4) + 1 + (i & 1)
				    : rng_below(&x, npg);
		void *k = NULL;

		acc += (uint64_t)udax_direct_access(d, pg, 1, &k, NULL) +
		       (uintptr_t)k;
	}
	sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static double da_lookup_loop(struct udax_bb *bb, uint64_t npg, uint64_t n,
			     uint64_t *seed, bool holes)
{
	uint64_t x = *seed, acc = 0;
	double t0 = now_ns();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t pg = holes ? 4 * rng_below(&x, npg / 4) + 1 + (i & 1)
				    : rng_below(&x, npg);

		acc += udax__bb_first_bad(bb, pg * UDAX_SECTORS_PER_PAGE,
					  UDAX_SECTORS_PER_PAGE);
	}
	sink += acc;
	*seed = x;
	return (now_ns() - t0) / (double)n;
}

static void bench_da(size_t nr)
{
	uint64_t npg = (uint64_t)nr * 4, seed = 99;
	struct udax_dev *d;
	struct udax_range *r;
	int np = cfg.pairs;
	double *ta, *tl, *diff;
	uint64_t n;
	char sz[32];

	d = dev_make("da.img", npg * UDAX_PAGE_SIZE);
	if (!d)
		return;
	ta = calloc((size_t)np, sizeof(double));
	tl = calloc((size_t)np, sizeof(double));
	diff = calloc((size_t)np, sizeof(double));
	pin_to(0);
	for (int with = 0; with < 2; with++) {
		struct fig *f;
		struct stat3 sa, sl;

		if (with) {
			/* One bad sector at the start of every 4th page.  Set
			 * in one step: udax_badblocks_import() of 1 M lines
			 * is quadratic (see the memory/import figure). */
			r = malloc(sizeof(*r) * nr);
			for (size_t i = 0; i < nr; i++) {
				r[i].off = (uint64_t)i * 4 * UDAX_SECTORS_PER_PAGE;
				r[i].len = 1;
			}
			if (udax__bb_assign(d->bb, r, nr))
				fail("udax__bb_assign on the device failed");
			free(r);
		}
		snprintf(sz, sizeof(sz), "%zu ranges", with ? nr : (size_t)0);
		f = fig_new("da", "direct_access - its lookup", sz, "rand", 1);
		snprintf(f->unit, sizeof(f->unit), "ns");
		n = lookup_iters(da_loop(d, npg, 100000, &seed, with));
		for (int p = -cfg.warmup; p < np; p++) {
			double a = da_loop(d, npg, n, &seed, with);
			double l = da_lookup_loop(d->bb, npg, n, &seed, with);

			if (p < 0)
				continue;
			ta[p] = a;
			tl[p] = l;
			diff[p] = a - l;
		}
		f->a = stats(diff, np);
		sa = stats(ta, np);
		sl = stats(tl, np);
		f->a_ns_op = sa.med;
		f->b_ns_op = sl.med;
		f->iters = n;
		f->pairs = np;
		snprintf(f->note, sizeof(f->note),
			 "direct_access %.2f ns, its lookup (bb_first_bad, 1 page) "
			 "%.2f ns; value = median pair difference [%.2f-%.2f]",
			 sa.med, sl.med, f->a.min, f->a.max);
		fig_goal(f, G_ABS_LE, 3);
		fig_print(f);
	}
	free(ta);
	free(tl);
	free(diff);
	udax_close(d);
	rm_image("da.img");
}

/* udax_badblocks_import() cost as the list grows: each line rebuilds the
 * table (bb_set is O(n)), so n lines cost O(n^2). */
static void bench_import(size_t nr)
{
	struct udax_dev *d;
	struct udax_range *r;
	char *text, sz[32];
	size_t len, cap;
	double t0, t;
	long rc;
	struct fig *f;
	uint64_t span;

	r = malloc(sizeof(*r) * nr);
	span = make_ranges(r, nr, 0, 5);
	d = dev_make("import.img",
		     (span / UDAX_SECTORS_PER_PAGE + 1) * UDAX_PAGE_SIZE);
	if (!d) {
		free(r);
		return;
	}
	cap = nr * 44 + 1;
	text = malloc(cap);
	len = udax__bb_format(r, nr, text, cap);
	t0 = now_ns();
	rc = udax_badblocks_import(d, text, len);
	t = now_ns() - t0;
	if (rc != (long)nr)
		fail("udax_badblocks_import %zu ranges: %ld", nr, rc);
	snprintf(sz, sizeof(sz), "%zu ranges", nr);
	f = fig_new("memory", "udax_badblocks_import (one call)", sz, "-", 1);
	snprintf(f->unit, sizeof(f->unit), "ms");
	f->a.med = f->a.min = f->a.max = t / 1e6;
	snprintf(f->note, sizeof(f->note), "%.2f us per range",
		 t / 1e3 / (double)nr);
	fig_print(f);
	free(text);
	free(r);
	udax_close(d);
	rm_image("import.img");
}

/* ---- poison --------------------------------------------------------------- */

/* udax__mc_copy() of a page that faults: one signal round trip per call. */
static void bench_mc_fault(void)
{
	char *m = mmap(NULL, 2 * UDAX_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = malloc(UDAX_PAGE_SIZE);
	int np = cfg.pairs, n = cfg.quick ? 200 : 2000;
	double *hit, *ok, *r;
	struct fig *f;

	f = fig_new("poison", "udax__mc_copy: fault hit / clean 4 KiB",
		    "4 KiB", "-", 1);
	snprintf(f->unit, sizeof(f->unit), "us");
	if (m == MAP_FAILED || !dst) {
		fail("mmap for the fault test");
		return;
	}
	memset(m, 1, 2 * UDAX_PAGE_SIZE);
	mprotect(m + UDAX_PAGE_SIZE, UDAX_PAGE_SIZE, PROT_NONE);
	udax__mcsafe_init();
	pin_to(0);
	hit = calloc((size_t)np, sizeof(double));
	ok = calloc((size_t)np, sizeof(double));
	r = calloc((size_t)np, sizeof(double));
	for (int p = -cfg.warmup; p < np; p++) {
		struct udax_fault flt;
		double t0, t1, t2;
		int bad = 0;

		t0 = now_ns();
		for (int i = 0; i < n; i++)
			bad += udax__mc_copy(dst, m + UDAX_PAGE_SIZE,
					     UDAX_PAGE_SIZE, false, &flt) != 0;
		t1 = now_ns();
		for (int i = 0; i < n; i++)
			bad += udax__mc_copy(dst, m, UDAX_PAGE_SIZE, false,
					     &flt) != UDAX_PAGE_SIZE;
		t2 = now_ns();
		if (bad)
			fail("udax__mc_copy: %d unexpected results", bad);
		if (p < 0)
			continue;
		hit[p] = (t1 - t0) / n / 1e3;
		ok[p] = (t2 - t1) / n / 1e3;
		r[p] = hit[p] / ok[p];
	}
	f->a = stats(hit, np);
	f->b = stats(ok, np);
	f->iters = (uint64_t)n;
	f->pairs = np;
	snprintf(f->note, sizeof(f->note),
		 "cost of one SIGSEGV round trip (PROT_NONE page, plain mmap) "
		 "per hit; baseline = the same call over a readable page");
	fig_print(f);
	free(hit);
	free(ok);
	free(r);
	free(dst);
	munmap(m, 2 * UDAX_PAGE_SIZE);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_poison_dev(void)
{
	uint64_t size = cfg.quick ? 16 * MiB : 64 * MiB;
	uint64_t npg = size / UDAX_PAGE_SIZE, nbad = npg / 100, x = 7;
	uint64_t *bad, good_bytes = 0;
	struct udax_dev *d;
	struct fig *f;
	char *buf, *base, *k = NULL;
	int np = cfg.pairs, nhits = cfg.quick ? 10 : 50, fd = -1;
	double *lat, *ta, *tb, *ra, *ga, *gb;
	struct { uint64_t off, len; } *seg;
	size_t nseg = 0;
	char sz[32];

	d = dev_make("poison.img", size);
	if (!d)
		return;
	buf = anon_map(size);
	base = shared_map("poison-base.img", size, &fd);
	if (!buf || !base)
		return;
	udax_direct_access(d, 0, (long)npg, (void **)&k, NULL);
	memset(udax_kaddr_untag(k), 0x11, size);
	pin_to(0);

	/* 1. Latent poison met by udax_copy_to_iter: fault, memory_failure
	 * (the page becomes known; the state file is rewritten). */
	lat = calloc((size_t)nhits, sizeof(double));
	for (int i = 0; i < nhits; i++) {
		uint64_t pg = 1 + rng_below(&x, npg - 2);
		struct iovec iov = { buf, UDAX_PAGE_SIZE };
		struct udax_iter it;
		size_t c;
		double t0;

		if (udax_inject(d, pg * UDAX_PAGE_SIZE, UDAX_PAGE_SIZE,
				UDAX_INJECT_LATENT)) {
			fail("udax_inject latent");
			break;
		}
		udax_iter_init(&it, &iov, 1, UDAX_PAGE_SIZE);
		t0 = now_ns();
		c = udax_copy_to_iter(d, pg, k + pg * UDAX_PAGE_SIZE,
				      UDAX_PAGE_SIZE, &it);
		lat[i] = (now_ns() - t0) / 1e3;
		if (c != 0)
			fail("copy over latent poison returned %zu", c);
		if (udax_badblocks(d, NULL, 0) != 1)
			fail("latent poison did not become known");
		if (udax_zero_page_range(d, pg, 1))
			fail("udax_zero_page_range");
	}
	f = fig_new("poison", "latent poison hit: udax_copy_to_iter", "4 KiB",
		    "-", 1);
	snprintf(f->unit, sizeof(f->unit), "us");
	f->a = stats(lat, nhits);
	f->iters = 1;
	f->pairs = nhits;
	snprintf(f->note, sizeof(f->note),
		 "per hit, %d hits: signal + memory_failure (state file "
		 "rewrite); [min-max] %.1f-%.1f us", nhits, f->a.min, f->a.max);
	fig_print(f);
	free(lat);

	/* 2. Recovery read of the whole device with 1 % of pages known bad:
	 * read, and on a short read skip the poisoned page and go on. */
	bad = calloc(nbad, sizeof(*bad));
	for (uint64_t i = 0; i < nbad; i++) {
		uint64_t pg;
		bool dup;

		do {
			pg = rng_below(&x, npg);
			dup = false;
			for (uint64_t q = 0; q < i; q++)
				dup |= bad[q] == pg;
		} while (dup);
		bad[i] = pg;
		if (udax_inject(d, pg * UDAX_PAGE_SIZE, UDAX_PAGE_SIZE, 0))
			fail("udax_inject");
	}
	qsort(bad, nbad, sizeof(*bad), u64_cmp);
	seg = calloc(nbad + 1, sizeof(*seg));
	{
		uint64_t at = 0;

		for (uint64_t i = 0; i <= nbad; i++) {
			uint64_t end = i < nbad ? bad[i] * UDAX_PAGE_SIZE : size;

			if (end > at) {
				seg[nseg].off = at;
				seg[nseg].len = end - at;
				good_bytes += end - at;
				nseg++;
			}
			at = end + UDAX_PAGE_SIZE;
		}
	}
	ta = calloc((size_t)np, sizeof(double));
	tb = calloc((size_t)np, sizeof(double));
	ra = calloc((size_t)np, sizeof(double));
	ga = calloc((size_t)np, sizeof(double));
	gb = calloc((size_t)np, sizeof(double));
	for (int p = -cfg.warmup; p < np; p++) {
		uint64_t off = 0, got = 0;
		double t0, t1, t2;

		t0 = now_ns();
		while (off < size) {
			ssize_t rc = udax_pread(d, buf + off, size - off, off);

			if (rc > 0) {
				got += (uint64_t)rc;
				off += (uint64_t)rc;
				if (off < size)
					off += UDAX_PAGE_SIZE; /* skip poison */
			} else if (rc == -EIO) {
				off += UDAX_PAGE_SIZE;
			} else {
				fail("udax_pread: %zd", rc);
				break;
			}
		}
		t1 = now_ns();
		for (size_t s = 0; s < nseg; s++)
			memcpy(buf + seg[s].off, base + seg[s].off, seg[s].len);
		t2 = now_ns();
		if (got != good_bytes)
			fail("recovery read got %" PRIu64 " of %" PRIu64 " bytes",
			     got, good_bytes);
		if (p < 0)
			continue;
		ta[p] = t1 - t0;
		tb[p] = t2 - t1;
		ra[p] = tb[p] / ta[p];
		ga[p] = (double)good_bytes / ta[p];
		gb[p] = (double)good_bytes / tb[p];
	}
	size_name(sz, sizeof(sz), size);
	f = fig_new("poison", "recovery pread, 1% pages bad / memcpy", sz,
		    "hot", 1);
	snprintf(f->unit, sizeof(f->unit), "GB/s");
	f->has_ratio = true;
	f->ratio = stats(ra, np);
	f->a = stats(ga, np);
	f->b = stats(gb, np);
	f->pairs = np;
	f->iters = 1;
	snprintf(f->note, sizeof(f->note),
		 "%" PRIu64 " poisoned pages (known); memcpy copies the same "
		 "%zu good segments", nbad, nseg);
	fig_print(f);
	free(ta);
	free(tb);
	free(ra);
	free(ga);
	free(gb);
	free(seg);
	free(bad);
	munmap(buf, size);
	munmap(base, size);
	close(fd);
	udax_close(d);
	rm_image("poison.img");
}

/* ---- where the fixed cost of a call goes ---------------------------------- */

#define PART_LOOP(res, n, body)						\
	do {								\
		double t0_ = now_ns();					\
		for (uint64_t i_ = 0; i_ < (n); i_++) {			\
			body;						\
		}							\
		(res) = (now_ns() - t0_) / (double)(n);			\
	} while (0)

static void part_fig(const char *what, const double *v, int np, uint64_t n,
		     const char *note)
{
	struct fig *f = fig_new("parts", what, "-", "hot", 1);

	snprintf(f->unit, sizeof(f->unit), "ns");
	f->a = stats(v, np);
	f->pairs = np;
	f->iters = n;
	snprintf(f->note, sizeof(f->note), "%s", note);
	fig_print(f);
}

static void bench_parts(void)
{
	int np = cfg.pairs, wake = 0;
	struct emul_map *em;
	uint64_t n = cfg.quick ? 200000 : 2000000;
	double *v = calloc((size_t)np, sizeof(double));
	double *w = calloc((size_t)np, sizeof(double));
	double *r = calloc((size_t)np, sizeof(double));
	char *m = anon_map(2 * UDAX_PAGE_SIZE);
	struct udax_bb *bb;
	uint64_t pages[16], acc = 0;
	struct iovec iov = { m, 64 };
	struct udax_iter it;
	struct udax_fault flt;
	struct fig *f;

	if (!v || !w || !r || !m || udax__bb_new(&bb))
		abort();
	pin_to(0);
	if (udax__emul_map_register(m, 2 * UDAX_PAGE_SIZE, PROT_READ | PROT_WRITE,
				    bb, &wake, &em))
		abort();
	for (int p = -cfg.warmup; p < np; p++) {
		double t;

		PART_LOOP(t, n, acc += udax__emul_map_drain(em, pages, 16);
			  __asm__ volatile("" : "+r"(acc)));
		if (p >= 0)
			v[p] = t;
	}
	part_fig("udax__poison_map_drain (nothing pending)", v, np, n,
		 "udax__emul_map_drain(): the emulated device's load_known runs it");
	udax__emul_map_unregister(em);

	for (int p = -cfg.warmup; p < np; p++) {
		double t;

		PART_LOOP(t, n, acc += udax__bb_first_bad(bb, i_ * 8, 8);
			  __asm__ volatile("" : "+r"(acc)));
		if (p >= 0)
			v[p] = t;
	}
	part_fig("udax__bb_first_bad (empty table)", v, np, n, "");

	for (int p = -cfg.warmup; p < np; p++) {
		double t;

		PART_LOOP(t, n, udax_iter_init(&it, &iov, 1, 64);
			  __asm__ volatile("" : : "r"(&it) : "memory"));
		if (p >= 0)
			v[p] = t;
	}
	part_fig("udax_iter_init (1 segment)", v, np, n, "");

	for (int p = -cfg.warmup; p < np; p++) {
		double a, b;

		PART_LOOP(a, n, acc += udax__mc_copy(m + 2048, m, 64, false, &flt);
			  __asm__ volatile("" : "+r"(acc) : : "memory"));
		PART_LOOP(b, n, memcpy(m + 2048 + (acc & 1), m, 64);
			  __asm__ volatile("" : "+r"(acc) : : "memory"));
		if (p >= 0) {
			v[p] = a;
			w[p] = b;
			r[p] = b / a;
		}
	}
	f = fig_new("parts", "udax__mc_copy 64 B / memcpy 64 B", "64 B", "hot", 1);
	snprintf(f->unit, sizeof(f->unit), "ns");
	f->has_ratio = true;
	f->ratio = stats(r, np);
	f->a = stats(v, np);
	f->b = stats(w, np);
	f->pairs = np;
	f->iters = n;
	snprintf(f->note, sizeof(f->note),
		 "the guard: sigsetjmp(env, 0) and the TLS guard pointer");
	fig_print(f);
	sink += acc;
	udax__bb_free(bb);
	munmap(m, 2 * UDAX_PAGE_SIZE);
	free(v);
	free(w);
	free(r);
}

/* ---- output --------------------------------------------------------------- */

static void json_num(FILE *f, const char *key, double v, bool comma)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
	else
		fprintf(f, "\"%s\": %.10g%s", key, v, comma ? ", " : "");
}

static void json_str(FILE *f, const char *key, const char *s, bool comma)
{
	fprintf(f, "\"%s\": \"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fprintf(f, "\"%s", comma ? ", " : "");
}

static void json_stat(FILE *f, const char *key, struct stat3 s, bool comma)
{
	fprintf(f, "\"%s\": {", key);
	json_num(f, "median", s.med, true);
	json_num(f, "min", s.min, true);
	json_num(f, "max", s.max, false);
	fprintf(f, "}%s", comma ? ", " : "");
}

static char g_cpu[128], g_started[64], g_load0[64], g_load1[64];

static void loadavg(char *buf, size_t n)
{
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, n, "unknown");
	if (f) {
		if (fgets(buf, (int)n, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}
static double g_elapsed;

static void write_json(FILE *f)
{
	int pass = 0, miss = 0;
	char g[24];

	for (int i = 0; i < nfigs; i++)
		pass += figs[i].result == 1, miss += figs[i].result == 0;
	fprintf(f, "{\n  ");
	json_str(f, "udax_version", udax_version(), true);
	json_str(f, "started", g_started, true);
	json_num(f, "elapsed_s", g_elapsed, false);
	fprintf(f, ",\n  \"machine\": {");
	json_str(f, "cpu", g_cpu, true);
	json_num(f, "cpus", cfg.ncpu, true);
	json_num(f, "llc_bytes", (double)cfg.llc, true);
	json_str(f, "llc_source", cfg.llc_src, true);
	json_str(f, "persist_impl", udax__persist_impl(), true);
	json_str(f, "loadavg_start", g_load0, true);
	json_str(f, "loadavg_end", g_load1, true);
	fprintf(f, "\"note\": \"absolute figures are machine-dependent\"},\n");
	fprintf(f, "  \"config\": {\"quick\": %s, ", cfg.quick ? "true" : "false");
	json_num(f, "pairs", cfg.pairs, true);
	json_num(f, "warmup_pairs", cfg.warmup, true);
	json_num(f, "sample_ms", cfg.sample_ns / 1e6, true);
	json_num(f, "cold_pool_bytes", (double)cfg.pool, true);
	fprintf(f, "\"cold_pool_below_16x_llc\": %s, ",
		cfg.pool_small ? "true" : "false");
	json_str(f, "device_dir", cfg.dir_note, true);
	fprintf(f, "\"libpmem\": %s, \"libpmem2\": %s},\n",
#ifdef UDAX_BENCH_HAVE_PMEM
		"true",
#else
		"false",
#endif
#ifdef UDAX_BENCH_HAVE_PMEM2
		"true"
#else
		"false"
#endif
	);
	fprintf(f, "  \"goals\": {\"pass\": %d, \"miss\": %d},\n", pass, miss);
	fprintf(f, "  \"figures\": [\n");
	for (int i = 0; i < nfigs; i++) {
		const struct fig *x = &figs[i];

		fprintf(f, "    {");
		json_str(f, "section", x->section, true);
		json_str(f, "pair", x->pair, true);
		json_str(f, "size", x->size, true);
		json_str(f, "mode", x->mode, true);
		json_num(f, "threads", x->threads, true);
		if (x->has_ratio) {
			json_str(f, "ratio_kind", x->ratio_kind, true);
			json_stat(f, "ratio", x->ratio, true);
		}
		json_str(f, "unit", x->unit, true);
		json_stat(f, "udax", x->a, true);
		if (!isnan(x->b.med))
			json_stat(f, "baseline", x->b, true);
		if (!isnan(x->a_ns_op))
			json_num(f, "udax_ns_per_op", x->a_ns_op, true);
		if (!isnan(x->b_ns_op))
			json_num(f, "baseline_ns_per_op", x->b_ns_op, true);
		json_num(f, "pairs", x->pairs, true);
		json_num(f, "iters_per_sample", (double)x->iters, true);
		if (x->goal_kind != G_NONE) {
			json_str(f, "goal", goal_str(x, g, sizeof(g)), true);
			json_str(f, "result", result_str(x), true);
		}
		json_str(f, "note", x->note, false);
		fprintf(f, "}%s\n", i + 1 < nfigs ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

static void print_summary(FILE *f, bool md)
{
	char r[48], a[24], b[24], g[24];

	if (md) {
		fprintf(f, "| pair (udax / baseline) | size | mode | T | ratio median [min-max] | udax | baseline | goal | result |\n");
		fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
	}
	for (int i = 0; i < nfigs; i++) {
		const struct fig *x = &figs[i];

		if (!md && x->goal_kind == G_NONE)
			continue;
		fmt_ratio(r, sizeof(r), x);
		fmt_abs(a, sizeof(a), x->a.med, x->unit);
		fmt_abs(b, sizeof(b), x->b.med, x->unit);
		if (md)
			fprintf(f, "| %s | %s | %s | %d | %s | %s | %s | %s | %s |\n",
				x->pair, x->size, x->mode, x->threads, r, a, b,
				goal_str(x, g, sizeof(g)),
				x->result < 0 ? "-" : x->result ? "PASS" : "**MISS**");
	}
}

static void write_md(FILE *f, const char *cmd)
{
	int pass = 0, miss = 0;

	for (int i = 0; i < nfigs; i++)
		pass += figs[i].result == 1, miss += figs[i].result == 0;
	fprintf(f, "# udax-bench results\n\n");
	fprintf(f, "Produced by `%s` on %s (%d CPUs, LLC %" PRIu64 " MiB), "
		"%s, udax %s, persistent copy `%s`.\n\n", cmd, g_cpu, cfg.ncpu,
		cfg.llc / MiB, g_started, udax_version(), udax__persist_impl());
	fprintf(f, "Ratios are udax against the baseline, median of %d "
		"interleaved pairs (A, B, A, B, ... after %d warm-up pairs) "
		"with min and max; above 1 means udax is faster, except the "
		"\"slowdown\" row. Absolute GB/s and ns are machine-dependent. "
		"Cold: a %" PRIu64 " MiB pool (%s16x the LLC) visited in "
		"scrambled order; hot: the same buffers. GB/s with 2 threads "
		"is the sum of both.\n\n",
		cfg.pairs, cfg.warmup, cfg.pool / MiB,
		cfg.pool_small ? "below " : ">= ");
	fprintf(f, "Load average at start / end: %s / %s.\n\n", g_load0,
		g_load1);
	fprintf(f, "Goals: %d PASS, %d MISS.\n\n", pass, miss);
	print_summary(f, true);
	fprintf(f, "\nNotes:\n\n");
	for (int i = 0; i < nfigs; i++)
		if (figs[i].note[0])
			fprintf(f, "- %s, %s %s %dT: %s\n", figs[i].pair,
				figs[i].size, figs[i].mode, figs[i].threads,
				figs[i].note);
}

static const struct fig *fig_find(const char *pair, const char *size,
				  const char *mode, int threads)
{
	for (int i = 0; i < nfigs; i++)
		if (!strcmp(figs[i].pair, pair) && !strcmp(figs[i].size, size) &&
		    !strcmp(figs[i].mode, mode) && figs[i].threads == threads)
			return &figs[i];
	return NULL;
}

static void dat_ratio(FILE *f, const struct fig *x)
{
	if (x && x->has_ratio && !isnan(x->ratio.med))
		fprintf(f, " %.4f %.4f %.4f", x->ratio.med, x->ratio.min,
			x->ratio.max);
	else
		fprintf(f, " - - -");
}

static const uint64_t sizes_all[] = { 64, 4 * KiB, 64 * KiB, 2 * MiB, 64 * MiB };

static int write_chart(const char *png)
{
	char d[300], p[360], cmd[800];
	FILE *f;
	int rc;

	if (system("gnuplot --version >/dev/null 2>&1")) {
		say("chart not written: gnuplot missing (apt-get install gnuplot-nox)\n");
		return 0;
	}
	snprintf(d, sizeof(d), "%s", cfg.dir[0] ? cfg.dir : "/tmp");
	/* reads.dat: size, then med/min/max per series */
	snprintf(p, sizeof(p), "%s/reads.dat", d);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < 5; i++) {
		char sz[32];

		size_name(sz, sizeof(sz), sizes_all[i]);
		fprintf(f, "\"%s\"", sz);
		dat_ratio(f, fig_find(kind_pair[K_FAILFAST], sz, "hot", 1));
		dat_ratio(f, fig_find(kind_pair[K_FAILFAST], sz, "cold", 1));
		dat_ratio(f, fig_find(kind_pair[K_RECOVERY], sz, "hot", 1));
		dat_ratio(f, fig_find(kind_pair[K_RECOVERY], sz, "cold", 1));
		dat_ratio(f, fig_find(kind_pair[K_FAILFAST], sz, "cold", 2));
		dat_ratio(f, fig_find(kind_pair[K_PREAD], sz, "cold", 1));
		fprintf(f, "\n");
	}
	fclose(f);
	snprintf(p, sizeof(p), "%s/writes.dat", d);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	for (size_t i = 0; i < 5; i++) {
		char sz[32];

		size_name(sz, sizeof(sz), sizes_all[i]);
		fprintf(f, "\"%s\"", sz);
		dat_ratio(f, fig_find(kind_pair[K_PERSIST], sz, "hot", 1));
		dat_ratio(f, fig_find(kind_pair[K_PERSIST], sz, "cold", 1));
		dat_ratio(f, fig_find(kind_pair[K_PERSIST], sz, "cold", 2));
		dat_ratio(f, fig_find(kind_pair[K_PERSIST2], sz, "cold", 1));
		dat_ratio(f, fig_find(kind_pair[K_PWRITE], sz, "cold", 1));
		fprintf(f, "\n");
	}
	fclose(f);
	snprintf(p, sizeof(p), "%s/lookup.dat", d);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	{
		static const char *const nrs[] = { "512 ranges", "65536 ranges",
						   "1048576 ranges" };
		static const char *const lbl[] = { "512", "64 Ki", "1 Mi" };
		static const double goals[] = { 10, 25, 60 };

		for (int i = 0; i < 3; i++) {
			const struct fig *x = fig_find(
				"bb_first_bad / linux badblocks_check", nrs[i],
				"rand", 1);

			fprintf(f, "\"%s\" ", lbl[i]);
			if (x && !isnan(x->a.med))
				fprintf(f, "%.3f %.3f %.3f", x->a.med, x->a.min,
					x->a.max);
			else
				fprintf(f, "- - -");
			fprintf(f, " %.1f", goals[i]);
			if (x && !isnan(x->b.med))
				fprintf(f, " %.3f %.3f %.3f\n", x->b.med,
					x->b.min, x->b.max);
			else
				fprintf(f, " - - -\n");
		}
	}
	fclose(f);

	snprintf(p, sizeof(p), "%s/chart.gp", d);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"set terminal pngcairo noenhanced size 1400,1000 font 'sans,10'\n"
		"set output '%s'\n"
		"set datafile missing '-'\n"
		"set multiplot layout 2,2 title 'udax-bench %s: udax / baseline, "
		"median of %d interleaved pairs, bars = min..max, clipped (%s, %d CPUs; absolute figures are machine-dependent)'\n"
		"set style data histogram\n"
		"set style histogram errorbars gap 2 lw 1\n"
		"set style fill solid 0.8 border -1\n"
		"set boxwidth 0.9\n"
		"set grid ytics\n"
		"set key top left font 'sans,9' opaque\n"
		"set yrange [0:2.6]\n",
		png, udax_version(), cfg.pairs, g_cpu, cfg.ncpu);
	fprintf(f,
		"set title 'Reads: copy_to_iter and pread / memcpy (higher is better)'\n"
		"set ylabel 'ratio'\n"
		"plot '%s/reads.dat' using 2:3:4:xtic(1) title 'failfast hot', "
		"'' using 5:6:7 title 'failfast cold', "
		"'' using 8:9:10 title 'recovery hot', "
		"'' using 11:12:13 title 'recovery cold', "
		"'' using 14:15:16 title 'failfast cold, 2 threads', "
		"'' using 17:18:19 title 'pread cold', "
		"0.95 with lines dt 2 lw 2 lc rgb 'red' title 'goal 0.95 (>= 64 KiB)', "
		"0.90 with lines dt 3 lw 2 lc rgb 'dark-red' title 'goal 0.90 (recovery 4 KiB, 2 MiB)'\n",
		d);
	fprintf(f,
		"set title 'Persistent writes: copy_from_iter / libpmem (higher is better)'\n"
		"plot '%s/writes.dat' using 2:3:4:xtic(1) title 'vs pmem_memcpy_persist hot', "
		"'' using 5:6:7 title 'vs pmem_memcpy_persist cold', "
		"'' using 8:9:10 title 'vs pmem_memcpy_persist cold, 2 threads', "
		"'' using 11:12:13 title 'vs pmem2 memcpy_fn cold', "
		"'' using 14:15:16 title 'pwrite / memcpy cold', "
		"1.0 with lines dt 2 lw 2 lc rgb 'red' title 'goal 1.00', "
		"1.3 with lines dt 3 lw 2 lc rgb 'dark-red' title 'goal 1.30 (2 MiB, 64 MiB cold)'\n",
		d);
	fprintf(f,
		"set title 'Bad-block lookup, random single sector (ns, lower is better)'\n"
		"set yrange [0:*]\n"
		"set ylabel 'ns per lookup'\n"
		"set xlabel 'known ranges'\n"
		"plot '%s/lookup.dat' using 2:3:4:xtic(1) title 'udax (udax__bb_first_bad)', "
		"'' using 5:5:5 title 'goal', "
		"'' using 6:7:8 title 'Linux 512-slot array (badblocks_check)'\n",
		d);
	/* panel 4: the remaining goal figures as text */
	fprintf(f, "unset xlabel\nunset ylabel\nunset border\nunset tics\nunset grid\n"
		"set title 'Other goals'\n");
	{
		int line = 0;

		for (int i = 0; i < nfigs && line < 14; i++) {
			const struct fig *x = &figs[i];
			char v[64], g[24];

			if (strcmp(x->section, "da") && strcmp(x->section, "readers") &&
			    strcmp(x->section, "memory") && strcmp(x->section, "poison"))
				continue;
			if (x->has_ratio && !isnan(x->ratio.med))
				snprintf(v, sizeof(v), "%.2f%s", x->ratio.med,
					 strcmp(x->ratio_kind, "slowdown") ? "" : "x slower");
			else
				fmt_abs(v, sizeof(v), x->a.med, x->unit);
			fprintf(f, "set label %d \"%s, %s: %s  %s %s\" at graph 0.02, graph %.3f font 'sans,10'\n",
				line + 1, x->pair, x->size, v,
				x->goal_kind ? goal_str(x, g, sizeof(g)) : "",
				x->goal_kind ? result_str(x) : "",
				0.92 - 0.065 * line);
			line++;
		}
	}
	fprintf(f, "plot [0:1][0:1] NaN notitle\nunset multiplot\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>&1", p);
	rc = system(cmd);
	if (rc) {
		say("chart not written: gnuplot failed (%d)\n", rc);
		return 0;
	}
	say("chart: %s\n", png);
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: udax-bench [--quick] [--json [FILE]] [--chart FILE.png] [--md FILE]\n"
"                  [--pairs N] [--only SECTIONS]\n"
"  --quick        a few seconds: fewer pairs, a small cold pool, no 64 MiB\n"
"                 copies, no 1 Mi-range tables (for CI; reports, never gates)\n"
"  --json [FILE]  every figure as JSON to FILE, or stdout (the table then\n"
"                 goes to stderr)\n"
"  --chart FILE   a PNG chart (gnuplot)\n"
"  --md FILE      the table as Markdown\n"
"  --only LIST    sections: read,write,rw,lookup,readers,memory,da,parts,\n"
"                 poison\n"
"environment: UDAX_BENCH_PAIRS, UDAX_BENCH_WARMUP, UDAX_BENCH_SAMPLE_MS,\n"
"  UDAX_BENCH_POOL_MB (cold pool), UDAX_BENCH_THREADS (1 or 2),\n"
"  UDAX_BENCH_DIR (where the images go), UDAX_BENCH_ONLY (as --only),\n"
"  UDAX_BENCH_NOPIN=1 (do not pin threads)\n");
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : def;
}

int main(int argc, char **argv)
{
	bool json_stdout = false;
	char cmdline[512] = "udax-bench";
	double t_start;
	time_t now;
	uint64_t need;
	int pairs_arg = 0;

	out = stdout;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strlen(cmdline) + strlen(a) + 2 < sizeof(cmdline)) {
			strcat(cmdline, " ");
			strcat(cmdline, a);
		}
		if (!strcmp(a, "--quick")) {
			cfg.quick = true;
		} else if (!strcmp(a, "--json")) {
			if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) &&
			    strcmp(argv[i + 1], "-")) {
				cfg.json = argv[++i];
				strcat(cmdline, " ");
				strcat(cmdline, cfg.json);
			} else {
				json_stdout = true;
				if (i + 1 < argc && !strcmp(argv[i + 1], "-"))
					i++;
			}
		} else if (!strcmp(a, "--chart") && i + 1 < argc) {
			cfg.chart = argv[++i];
			strcat(cmdline, " ");
			strcat(cmdline, cfg.chart);
		} else if (!strcmp(a, "--md") && i + 1 < argc) {
			cfg.md = argv[++i];
			strcat(cmdline, " ");
			strcat(cmdline, cfg.md);
		} else if (!strcmp(a, "--pairs") && i + 1 < argc) {
			pairs_arg = atoi(argv[++i]);
		} else if (!strcmp(a, "--only") && i + 1 < argc) {
			cfg.only = argv[++i];
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (json_stdout)
		out = stderr;
	if (!cfg.only)
		cfg.only = getenv("UDAX_BENCH_ONLY");

	t_start = now_ns();
	now = time(NULL);
	strftime(g_started, sizeof(g_started), "%Y-%m-%d %H:%M:%S %Z",
		 localtime(&now));
	cpu_model(g_cpu, sizeof(g_cpu));
	loadavg(g_load0, sizeof(g_load0));
	cfg.ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg.ncpu < 1)
		cfg.ncpu = 1;
	cfg.pin = !getenv("UDAX_BENCH_NOPIN");
	{
		cpu_set_t set;

		/* pin only when CPUs 0 and 1 are ours to use */
		if (sched_getaffinity(0, sizeof(set), &set) || !CPU_ISSET(0, &set) ||
		    (cfg.ncpu > 1 && !CPU_ISSET(1, &set)))
			cfg.pin = false;
	}
	cfg.max_threads = (int)env_long("UDAX_BENCH_THREADS", 2);
	if (cfg.max_threads > 2)
		cfg.max_threads = 2;
	if (cfg.ncpu < 2)
		cfg.max_threads = 1;
	cfg.pairs = (int)env_long("UDAX_BENCH_PAIRS", cfg.quick ? 5 : 31);
	if (pairs_arg > 0)
		cfg.pairs = pairs_arg;
	if (cfg.pairs < 1)
		cfg.pairs = 1;
	cfg.warmup = (int)env_long("UDAX_BENCH_WARMUP", cfg.quick ? 1 : 3);
	cfg.sample_ns = 1e6 * (double)env_long("UDAX_BENCH_SAMPLE_MS",
					      cfg.quick ? 0 : 5);
	if (cfg.sample_ns <= 0)
		cfg.sample_ns = 0.3e6;	/* quick */
	detect_llc();
	{
		long mb = env_long("UDAX_BENCH_POOL_MB", 0);
		uint64_t want = cfg.quick ? 64 * MiB : 16 * cfg.llc, p = 64 * MiB;

		if (mb > 0)
			want = (uint64_t)mb * MiB;
		while (p < want)
			p *= 2;	/* a power of two: slots scramble bijectively */
		cfg.pool = p;
		cfg.pool_small = p < 16 * cfg.llc;
	}
	/* device + baseline file + poison device pair, and slack */
	need = 2 * cfg.pool + 2 * (cfg.quick ? 16 : 64) * MiB + 64 * MiB;
	if (pick_dir(need))
		return 77;
	atexit(cleanup_dir);

	say("udax-bench %s: %s%d pairs per figure after %d warm-up pairs, "
	    "samples >= %.1f ms\n", udax_version(), cfg.quick ? "QUICK, " : "",
	    cfg.pairs, cfg.warmup, cfg.sample_ns / 1e6);
	say("machine: %s, %d CPUs%s; LLC %" PRIu64 " MiB (%s)\n", g_cpu,
	    cfg.ncpu, cfg.pin ? ", threads pinned to CPUs 0/1" : "",
	    cfg.llc / MiB, cfg.llc_src);
	say("load average at start: %s (other work on these CPUs widens min-max)\n",
	    g_load0);
	say("cold pool %" PRIu64 " MiB%s; images in %s (%s)\n", cfg.pool / MiB,
	    cfg.pool_small ? " (below 16 x LLC: cold figures are indicative)"
			   : " (>= 16 x LLC)", cfg.dir, cfg.dir_note);
	say("persistent copy: %s; baselines: glibc memcpy, %s, %s\n",
	    udax__persist_impl(),
#ifdef UDAX_BENCH_HAVE_PMEM
	    "libpmem " "pmem_memcpy_persist",
#else
	    "baseline not built: libpmem missing",
#endif
#ifdef UDAX_BENCH_HAVE_PMEM2
	    "libpmem2 memcpy_fn (PMEM2_FORCE_GRANULARITY=CACHE_LINE)"
#else
	    "baseline not built: libpmem2 missing"
#endif
	);
	say("ratios: udax / baseline as speed (t_baseline / t_udax), > 1 = udax "
	    "faster; absolute GB/s and ns are machine-dependent\n\n");
	fig_print_header();

	if (section_on("read") || section_on("write") || section_on("rw")) {
		if (copy_setup() == 0) {
			static const enum kind order[] = {
				K_FAILFAST, K_RECOVERY, K_PERSIST, K_PERSIST2,
				K_PREAD, K_PWRITE,
			};

			for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
				enum kind k = order[o];

				if (!section_on(kind_section[k]))
					continue;
				for (int th = 1; th <= cfg.max_threads; th++)
					for (int cold = 0; cold < 2; cold++)
						for (size_t s = 0; s < 5; s++) {
							uint64_t sz = sizes_all[s];

							if (sz > cfg.pool / 2 / 2 ||
							    (cfg.quick && sz > 2 * MiB))
								continue;
							run_copy(k, sz, cold, th);
						}
			}
		}
		copy_teardown();
	}
	if (section_on("lookup")) {
		bench_lookup(512, 10, false);
		bench_lookup(65536, 25, false);
		if (!cfg.quick)
			bench_lookup(1048576, 60, false);
		bench_lookup(512, 0, true);
		bench_lookup(65536, 0, true);
		if (!cfg.quick)
			bench_lookup(1048576, 0, true);
	}
	if (section_on("da"))
		bench_da(cfg.quick ? 65536 : 1048576);
	if (section_on("readers")) {
		bench_readers(65536);
		if (!cfg.quick)
			bench_readers(1048576);
	}
	if (section_on("memory")) {
		bench_memory(cfg.quick ? 65536 : 1000000);
		bench_import(cfg.quick ? 2048 : 4096);
		bench_import(cfg.quick ? 4096 : 16384);
	}
	if (section_on("parts"))
		bench_parts();
	if (section_on("poison")) {
		bench_mc_fault();
		bench_poison_dev();
	}

	g_elapsed = (now_ns() - t_start) / 1e9;
	loadavg(g_load1, sizeof(g_load1));
	{
		int pass = 0, miss = 0;

		for (int i = 0; i < nfigs; i++)
			pass += figs[i].result == 1, miss += figs[i].result == 0;
		say("\ngoals: %d PASS, %d MISS (reported, never gating); %.1f s; "
		    "load average at end: %s\n", pass, miss, g_elapsed, g_load1);
		for (int i = 0; i < nfigs; i++)
			if (figs[i].result == 0) {
				char r[48], g[24];

				fmt_ratio(r, sizeof(r), &figs[i]);
				say("  MISS %s %s %s %dT: %s (goal %s)\n",
				    figs[i].pair, figs[i].size, figs[i].mode,
				    figs[i].threads,
				    figs[i].has_ratio ? r : "",
				    goal_str(&figs[i], g, sizeof(g)));
			}
	}
	if (json_stdout)
		write_json(stdout);
	if (cfg.json) {
		FILE *f = fopen(cfg.json, "w");

		if (f) {
			write_json(f);
			fclose(f);
			say("json: %s\n", cfg.json);
		} else {
			fprintf(stderr, "udax-bench: %s: %s\n", cfg.json,
				strerror(errno));
		}
	}
	if (cfg.md) {
		FILE *f = fopen(cfg.md, "w");

		if (f) {
			write_md(f, cmdline);
			fclose(f);
			say("markdown: %s\n", cfg.md);
		} else {
			fprintf(stderr, "udax-bench: %s: %s\n", cfg.md,
				strerror(errno));
		}
	}
	if (cfg.chart)
		write_chart(cfg.chart);
	if (sink == 42)
		say("\n");	/* keep the lookups' results alive */
	return api_errors ? 1 : 0;
}
