/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Output: the figures as JSON and as Markdown, and the chart, which
 * chart.gp draws from the JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

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

void write_json(FILE *f)
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
		if (x->has_over)
			json_stat(f, "overhead_ns_per_op", x->over, true);
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

/* @goals_only: the figures with a goal, for the table at the top. */
static void print_summary(FILE *f, bool md, bool goals_only)
{
	char r[48], a[24], b[24], g[24];

	if (md) {
		fprintf(f, "| pair (udax / baseline) | size | mode | T | ratio median [min-max] | udax | baseline | goal | result |\n");
		fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
	}
	for (int i = 0; i < nfigs; i++) {
		const struct fig *x = &figs[i];

		if ((!md || goals_only) && x->goal_kind == G_NONE)
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

void write_md(FILE *f, const char *cmd)
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
		"is the sum of both. memcpy and libpmem copy through the "
		"mapping udax's copies use (the same pages); libpmem2 maps "
		"a file of its own.\n\n",
		cfg.pairs, cfg.warmup, cfg.pool / MiB,
		cfg.pool_small ? "below " : ">= ");
	fprintf(f, "Load average at start / end: %s / %s.\n\n", g_load0,
		g_load1);
	fprintf(f, "Goals: %d PASS, %d MISS.\n\n## The figures with a goal\n\n",
		pass, miss);
	print_summary(f, true, true);
	fprintf(f, "\n## Every figure\n\n");
	print_summary(f, true, false);
	fprintf(f, "\nNotes:\n\n");
	for (int i = 0; i < nfigs; i++)
		if (figs[i].note[0])
			fprintf(f, "- %s, %s %s %dT: %s\n", figs[i].pair,
				figs[i].size, figs[i].mode, figs[i].threads,
				figs[i].note);
}


/* Run @argv (a PATH lookup), stdout and stderr to /dev/null when @quiet.
 * Its exit status, or -1 when it could not run or was killed. */
static int run(char *const argv[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, st;

	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The chart is chart.gp (next to this file's source), drawn from the JSON
 * of this run: written to our temporary directory, so that the chart does
 * not depend on --json.
 */
int write_chart(const char *png)
{
	char json[320], gp[] = UDAX_BENCH_CHART_GP;
	char *argv[] = { "gnuplot", "-c", gp, json, (char *)png, NULL };
	FILE *f;
	int rc;

	if (run((char *[]){ "gnuplot", "--version", NULL }, true)) {
		say("chart not written: gnuplot missing (apt-get install gnuplot-nox)\n");
		return 0;
	}
	if (run((char *[]){ "jq", "--version", NULL }, true)) {
		say("chart not written: jq missing (apt-get install jq)\n");
		return 0;
	}
	if (access(gp, R_OK)) {
		say("chart not written: %s: %s\n", gp, strerror(errno));
		return 0;
	}
	snprintf(json, sizeof(json), "%s/chart.json",
		 cfg.dir[0] ? cfg.dir : "/tmp");
	f = fopen(json, "w");
	if (!f) {
		say("chart not written: %s: %s\n", json, strerror(errno));
		return -errno;
	}
	write_json(f);
	fclose(f);
	rc = run(argv, false);
	if (rc) {
		say("chart not written: gnuplot failed (%d)\n", rc);
		return 0;
	}
	say("chart: %s\n", png);
	return 0;
}
