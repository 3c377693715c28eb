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
 * none is possible) makes it exit 1.  Knobs: see usage() in main.c.
 *
 * Files: this header and harness.c are the harness (configuration, time,
 * statistics, figures and their table, the machine, temporary images);
 * output.c writes JSON and Markdown and runs chart.gp; one file per figure
 * family, each the body of one --only section; main.c holds the section
 * table.
 */
#ifndef UDAX_BENCH_H
#define UDAX_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <udax/udax.h>
#include "private.h"

#define KiB ((uint64_t)1024)
#define MiB ((uint64_t)1024 * 1024)
#define GiB ((uint64_t)1024 * 1024 * 1024)

/* ---- configuration (harness.c) ------------------------------------------- */

struct bench_cfg {
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
};

extern struct bench_cfg cfg;
extern int api_errors;		/* failed udax calls: exit status 1 */
extern FILE *out;		/* the table: stdout, or stderr when JSON goes there */
extern uint64_t sink;		/* keeps measured results alive */
/* The run, for the JSON and Markdown headers. */
extern char g_cpu[128], g_started[64], g_load0[64], g_load1[64];
extern double g_elapsed;

void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- time and statistics ------------------------------------------------- */

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct stat3 {
	double med, min, max;
};

struct stat3 stats(const double *v, int n);

/* ---- figures: one row of the table, one object of the JSON --------------- */

enum goal_kind {
	G_NONE,
	G_RATIO_GE,	/* ratio.med >= goal */
	G_RATIO_LE,	/* ratio.med <= goal (a slowdown) */
	G_ABS_LE,	/* a.med <= goal, in unit */
	G_OVER_LE,	/* over.med <= goal: ns per op above the baseline */
};

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
	bool has_over;
	struct stat3 over;	/* per pair: (t_udax - t_baseline) / ops, ns */
	enum goal_kind goal_kind;
	double goal;
	int result;		/* -1 no goal, 0 MISS, 1 PASS */
	int pairs;
	uint64_t iters;		/* per sample */
	char note[160];
};

extern struct fig *figs;
extern int nfigs;

struct fig *fig_new(const char *section, const char *pair, const char *size,
		    const char *mode, int threads);
void fig_goal(struct fig *f, enum goal_kind k, double g);
const char *goal_str(const struct fig *f, char *buf, size_t n);
const char *goal_value_str(const struct fig *f, char *buf, size_t n);
const char *result_str(const struct fig *f);
void fmt_abs(char *buf, size_t n, double v, const char *unit);
void fmt_ratio(char *buf, size_t n, const struct fig *f);
void fig_print_header(void);
void fig_print(const struct fig *f);
void size_name(char *buf, size_t n, uint64_t s);

/* ---- interleaved A/B pairs on 1 or 2 threads (harness.c) ---------------- */

/* One side of a pair: @n operations on @ctx.  Returns the failed ones. */
typedef uint64_t pair_fn(void *ctx, uint64_t n);

/*
 * Side A (udax) and side B (the baseline) run alternately, one sample of
 * @iters operations each, cfg.warmup pairs and then cfg.pairs timed ones.
 * With 2 threads, thread t runs on ctx[t], pinned to CPU t, and a barrier
 * before every sample makes both run A together, then B together.
 */
struct pairs {
	pair_fn *a, *b;
	void *ctx[2];
	int nthreads;
	/* results of pairs_run() */
	uint64_t iters;		/* per sample, so that the faster side takes
				 * cfg.sample_ns; 0: A failed in calibration */
	uint64_t err[2];	/* failed operations of A, per thread */
	double *ta[2], *tb[2];	/* ns per sample, per thread, cfg.pairs each */
};

int pairs_run(struct pairs *p);
void pairs_free(struct pairs *p);
/* Fill @f from @p: the ratio t_B / t_A of every pair and thread; a and b
 * as @work_per_op x operations / ns summed over the threads (by the slower
 * thread of each sample); time and overhead per operation. */
void pairs_fig(struct fig *f, const struct pairs *p, double work_per_op);

/* ---- machine ------------------------------------------------------------- */

void detect_llc(void);
void cpu_model(char *buf, size_t n);
void loadavg(char *buf, size_t n);
void pin_to(int cpu);

/* ---- temporary images and mappings --------------------------------------- */

int pick_dir(uint64_t need);
void rm_image(const char *name);
void cleanup_dir(void);
struct udax_dev *dev_make(const char *name, uint64_t size);
char *shared_map(const char *name, uint64_t size, int *fdp);
char *anon_map(uint64_t size);

/* ---- random numbers ------------------------------------------------------ */

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

/* ---- the copy pairs (copy.c; kinds in copy.c and persist.c) -------------- */

/* What the copy pairs share. */
struct copy_pools {
	struct udax_dev *dev;
	char *kff, *krec;	/* device page 0: failfast / recovery kaddr */
	char *base;		/* the baselines' view of the device: the
				 * mapping udax's copies use */
	char *user;		/* user buffers */
	int base_fd;		/* libpmem2's file */
};

extern struct copy_pools cp;

/* One thread's slots of one figure. */
struct copy_ctx {
	uint64_t size;
	bool cold;
	uint64_t region, slots_mask;	/* cold: first byte, slot count - 1 */
	unsigned int bits;
	uint64_t cursor;
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

/* Offset of the next copy in the pools. */
static inline uint64_t slot_off(struct copy_ctx *c)
{
	uint64_t s;

	if (!c->cold)
		return c->region;
	s = scramble(c->cursor++, c->bits, c->slots_mask);
	return c->region + s * c->size;
}

struct copy_kind {
	const char *pair;		/* "udax call / baseline" */
	/* udax, baseline: @n copies of c->size bytes on a struct copy_ctx */
	pair_fn *a, *b;
	/* why the baseline was not built, or NULL */
	const char *(*unbuilt)(void);
	void (*goal)(struct fig *f, uint64_t size, bool cold);
};

extern const struct copy_kind kind_failfast, kind_recovery, kind_pread,
	kind_pwrite, kind_persist, kind_persist2;

int copy_setup(void);
void copy_teardown(void);
/* Every size, hot and cold, 1 and 2 threads, of each kind in turn. */
void copy_kinds(const char *section, const struct copy_kind *const *k,
		int nk);
uint64_t copy_loop_memcpy_from_base(void *ctx, uint64_t n);

/* libpmem / libpmem2 over cp.base (persist.c) */
void persist_setup(void);
void persist_teardown(void);

/* ---- bad-block tables (lookup.c) ----------------------------------------- */

struct udax_bb;

uint64_t make_ranges(struct udax_range *r, size_t n, uint64_t first,
		     uint64_t seed);
struct udax_bb *bb_build(size_t n, uint64_t *span);
double lookups_udax(const struct udax_bb *bb, uint64_t span, uint64_t n,
		    uint64_t *seed, bool dep, uint64_t *total);
uint64_t lookup_iters(double ns_each);

/* ---- output (output.c) --------------------------------------------------- */

void write_json(FILE *f);
void write_md(FILE *f, const char *cmd);
int write_chart(const char *png);

/* ---- sections: one --only name each (main.c has the table) --------------- */

void bench_read(void);
void bench_write(void);
void bench_rw(void);
void bench_lookup(void);
void bench_da(void);
void bench_readers(void);
void bench_memory(void);
void bench_parts(void);
void bench_poison(void);
void bench_refresh(void);
void bench_workload(void);
uint64_t workload_dev_size(void);

#endif
