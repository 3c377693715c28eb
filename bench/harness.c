/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The harness: configuration, messages, statistics, the figure table, the
 * machine, and the temporary images every figure family draws from.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include <unistd.h>

#include "bench.h"

/* ---- configuration ------------------------------------------------------- */

struct bench_cfg cfg;
int api_errors;
FILE *out;
uint64_t sink;
char g_cpu[128], g_started[64], g_load0[64], g_load1[64];
double g_elapsed;

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "udax-bench: error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	api_errors++;
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fflush(out);
}

/* ---- time and statistics ------------------------------------------------- */

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 stats(const double *v, int n)
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

/* ---- figures ------------------------------------------------------------- */

struct fig *figs;
int nfigs;
static int capfigs;

struct fig *fig_new(const char *section, const char *pair, const char *size,
		    const char *mode, int threads)
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
	f->over.med = f->over.min = f->over.max = NAN;
	return f;
}

void fig_goal(struct fig *f, enum goal_kind k, double g)
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
	case G_OVER_LE:
		v = f->has_over ? f->over.med : NAN;
		f->result = isnan(v) ? -1 : v <= g;
		break;
	default:
		f->result = -1;
	}
}

const char *goal_str(const struct fig *f, char *buf, size_t n)
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
	case G_OVER_LE:
		snprintf(buf, n, "<= +%g ns/op", f->goal);
		break;
	default:
		snprintf(buf, n, "-");
	}
	return buf;
}

/* What the goal is about, as measured. */
const char *goal_value_str(const struct fig *f, char *buf, size_t n)
{
	switch (f->goal_kind) {
	case G_RATIO_GE:
	case G_RATIO_LE:
		fmt_ratio(buf, n, f);
		break;
	case G_ABS_LE:
		fmt_abs(buf, n, f->a.med, f->unit);
		break;
	case G_OVER_LE:
		snprintf(buf, n, "%+.1f ns/op [%+.1f..%+.1f]", f->over.med,
			 f->over.min, f->over.max);
		break;
	default:
		snprintf(buf, n, "-");
	}
	return buf;
}

const char *result_str(const struct fig *f)
{
	return f->result < 0 ? "-" : f->result ? "PASS" : "MISS";
}

void fmt_abs(char *buf, size_t n, double v, const char *unit)
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

void fmt_ratio(char *buf, size_t n, const struct fig *f)
{
	if (!f->has_ratio || isnan(f->ratio.med))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%5.2f [%.2f-%.2f]", f->ratio.med,
			 f->ratio.min, f->ratio.max);
}

#define ROW_FMT "%-44s %-12s %-4s %2s  %-20s %-11s %-11s %-10s %s\n"

void fig_print_header(void)
{
	say(ROW_FMT, "pair (udax / baseline)", "size", "mode", "T",
	    "ratio med [min-max]", "udax", "baseline", "goal", "result");
}

void fig_print(const struct fig *f)
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

void size_name(char *buf, size_t n, uint64_t s)
{
	if (s >= MiB && s % MiB == 0)
		snprintf(buf, n, "%" PRIu64 " MiB", s / MiB);
	else if (s >= KiB && s % KiB == 0)
		snprintf(buf, n, "%" PRIu64 " KiB", s / KiB);
	else
		snprintf(buf, n, "%" PRIu64 " B", s);
}

/* ---- interleaved A/B pairs on 1 or 2 threads ---------------------------- */

struct pairs_thread {
	struct pairs *p;
	int t;
	pthread_barrier_t *bar;
};

/* One sample: @n operations of side @b (0: A, 1: B) on thread @t.  ns. */
static double pairs_sample(struct pairs *p, int t, int b, uint64_t n)
{
	pair_fn *fn = b ? p->b : p->a;
	double t0 = now_ns();
	uint64_t e = fn(p->ctx[t], n);

	if (!b)
		p->err[t] += e;
	return now_ns() - t0;
}

/* Operations per sample so that the faster side takes cfg.sample_ns;
 * 0 when A fails. */
static uint64_t pairs_calibrate(struct pairs *p)
{
	uint64_t n = 1;

	pin_to(0);
	for (;;) {
		double a = pairs_sample(p, 0, 0, n), b = pairs_sample(p, 0, 1, n);
		double m = a < b ? a : b;

		if (p->err[0])
			return 0;
		if (m >= cfg.sample_ns / 8 || n >= (1ULL << 34)) {
			double k = cfg.sample_ns / (m > 1 ? m : 1);
			uint64_t r = (uint64_t)ceil((double)n * k);

			return r ? r : 1;
		}
		n *= 8;
	}
}

static void *pairs_thread(void *arg)
{
	struct pairs_thread *c = arg;
	struct pairs *p = c->p;

	pin_to(c->t % cfg.ncpu);
	for (int i = -cfg.warmup; i < cfg.pairs; i++) {
		double a, b;

		pthread_barrier_wait(c->bar);
		a = pairs_sample(p, c->t, 0, p->iters);
		pthread_barrier_wait(c->bar);
		b = pairs_sample(p, c->t, 1, p->iters);
		if (i >= 0) {
			p->ta[c->t][i] = a;
			p->tb[c->t][i] = b;
		}
	}
	return NULL;
}

int pairs_run(struct pairs *p)
{
	struct pairs_thread c[2];
	pthread_barrier_t bar;
	pthread_t th[2];
	int t;

	p->err[0] = p->err[1] = 0;
	p->iters = pairs_calibrate(p);
	if (!p->iters)
		return -EIO;
	for (t = 0; t < p->nthreads; t++) {
		p->ta[t] = calloc((size_t)cfg.pairs, sizeof(double));
		p->tb[t] = calloc((size_t)cfg.pairs, sizeof(double));
		if (!p->ta[t] || !p->tb[t])
			abort();
	}
	pthread_barrier_init(&bar, NULL, (unsigned int)p->nthreads);
	for (t = 0; t < p->nthreads; t++) {
		c[t].p = p;
		c[t].t = t;
		c[t].bar = &bar;
		if (pthread_create(&th[t], NULL, pairs_thread, &c[t]))
			abort();
	}
	for (t = 0; t < p->nthreads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&bar);
	return 0;
}

void pairs_free(struct pairs *p)
{
	for (int t = 0; t < 2; t++) {
		free(p->ta[t]);
		free(p->tb[t]);
		p->ta[t] = p->tb[t] = NULL;
	}
}

void pairs_fig(struct fig *f, const struct pairs *p, double work_per_op)
{
	int np = cfg.pairs, nt = p->nthreads;
	double *ratios = calloc((size_t)(np * nt), sizeof(double));
	double *over = calloc((size_t)(np * nt), sizeof(double));
	double *ga = calloc((size_t)np, sizeof(double));
	double *gb = calloc((size_t)np, sizeof(double));
	double work = work_per_op * (double)p->iters * nt;

	if (!ratios || !over || !ga || !gb)
		abort();
	for (int i = 0; i < np; i++) {
		double wa = 0, wb = 0;

		for (int t = 0; t < nt; t++) {
			double a = p->ta[t][i], b = p->tb[t][i];

			ratios[i * nt + t] = b / a;
			over[i * nt + t] = (a - b) / (double)p->iters;
			if (a > wa)
				wa = a;
			if (b > wb)
				wb = b;
		}
		ga[i] = work / wa;
		gb[i] = work / wb;
	}
	f->has_ratio = true;
	f->ratio = stats(ratios, np * nt);
	f->has_over = true;
	f->over = stats(over, np * nt);
	f->a = stats(ga, np);
	f->b = stats(gb, np);
	f->a_ns_op = stats(p->ta[0], np).med / (double)p->iters;
	f->b_ns_op = stats(p->tb[0], np).med / (double)p->iters;
	f->pairs = np;
	f->iters = p->iters;
	free(ratios);
	free(over);
	free(ga);
	free(gb);
}

/* ---- machine ------------------------------------------------------------- */

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
void detect_llc(void)
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

void cpu_model(char *buf, size_t n)
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

void pin_to(int cpu)
{
	cpu_set_t set;

	if (!cfg.pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void loadavg(char *buf, size_t n)
{
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, n, "unknown");
	if (f) {
		if (fgets(buf, (int)n, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* ---- temporary images and mappings --------------------------------------- */

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
int pick_dir(uint64_t need)
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

void rm_image(const char *name)
{
	char p[320];

	snprintf(p, sizeof(p), "%s/%s", cfg.dir, name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.poison", cfg.dir, name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.poison.tmp", cfg.dir, name);
	unlink(p);
}

void cleanup_dir(void)
{
	if (!cfg.dir[0])
		return;
	rm_image("dev.img");
	rm_image("da.img");
	rm_image("poison.img");
	rm_image("import.img");
	rm_image("workload.img");
	{
		char p[320];

		snprintf(p, sizeof(p), "%s/chart.json", cfg.dir);
		unlink(p);
	}
	rmdir(cfg.dir);
	cfg.dir[0] = 0;
}

struct udax_dev *dev_make(const char *name, uint64_t size)
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
char *shared_map(const char *name, uint64_t size, int *fdp)
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

char *anon_map(uint64_t size)
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
