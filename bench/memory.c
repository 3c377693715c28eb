/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "memory": what a known range costs in memory, and what
 * udax_badblocks_import() costs as the list grows.
 */
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

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

static void memory_fig(size_t nr)
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

/* udax_badblocks_import() cost as the list grows: each line rebuilds the
 * table (bb_set is O(n)), so n lines cost O(n^2). */
static void import_fig(size_t nr)
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

void bench_memory(void)
{
	memory_fig(cfg.quick ? 65536 : 1000000);
	import_fig(cfg.quick ? 2048 : 4096);
	import_fig(cfg.quick ? 4096 : 16384);
}
