/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udax-bench: options, the section table, and the run (see bench.h for
 * what the figures are).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/*
 * The sections, in the order they run; --only picks some by name.  The
 * copy sections share the copy pools, set up before the first of them and
 * torn down before any other section runs.
 */
static const struct section {
	const char *name;
	void (*run)(void);
	bool copy_pools;
} sections[] = {
	{ "read",	bench_read,	true },
	{ "write",	bench_write,	true },
	{ "rw",		bench_rw,	true },
	{ "lookup",	bench_lookup,	false },
	{ "da",		bench_da,	false },
	{ "readers",	bench_readers,	false },
	{ "memory",	bench_memory,	false },
	{ "parts",	bench_parts,	false },
	{ "poison",	bench_poison,	false },
	{ "refresh",	bench_refresh,	false },
	{ "workload",	bench_workload,	false },
};

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
"                 poison,refresh,workload\n"
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
	/* The command as run, options and their values, for the Markdown. */
	for (int i = 1; i < argc; i++) {
		if (strlen(cmdline) + strlen(argv[i]) + 2 < sizeof(cmdline)) {
			strcat(cmdline, " ");
			strcat(cmdline, argv[i]);
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick")) {
			cfg.quick = true;
		} else if (!strcmp(a, "--json")) {
			if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) &&
			    strcmp(argv[i + 1], "-")) {
				cfg.json = argv[++i];
			} else {
				json_stdout = true;
				if (i + 1 < argc && !strcmp(argv[i + 1], "-"))
					i++;
			}
		} else if (!strcmp(a, "--chart") && i + 1 < argc) {
			cfg.chart = argv[++i];
		} else if (!strcmp(a, "--md") && i + 1 < argc) {
			cfg.md = argv[++i];
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
	/* the workload device comes after the copy pools are gone */
	if (section_on("workload") && need < workload_dev_size() + 64 * MiB)
		need = workload_dev_size() + 64 * MiB;
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

	{
		enum { POOLS_NONE, POOLS_UP, POOLS_FAILED } pools = POOLS_NONE;

		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
			const struct section *s = &sections[i];

			if (!section_on(s->name))
				continue;
			if (s->copy_pools && pools == POOLS_NONE)
				pools = copy_setup() ? POOLS_FAILED : POOLS_UP;
			if (!s->copy_pools && pools != POOLS_NONE) {
				copy_teardown();
				pools = POOLS_NONE;
			}
			if (!s->copy_pools || pools == POOLS_UP)
				s->run();
		}
		if (pools != POOLS_NONE)
			copy_teardown();
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
				char v[48], g[24];

				say("  MISS %s %s %s %dT: %s (goal %s)\n",
				    figs[i].pair, figs[i].size, figs[i].mode,
				    figs[i].threads,
				    goal_value_str(&figs[i], v, sizeof(v)),
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
