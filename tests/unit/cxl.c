/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CXL: the interleave arithmetic against the spec's rules (vectors), its
 * round trip, DPA ranges cut at chunk boundaries, cxl_poison trace lines,
 * and a region read from a fake sysfs tree with a fake tracefs.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxl.h"
#include "fake-cxl.h"
#include "fake-sysfs.h"
#include "harness.h"
#include "private.h"

/*
 * HPA offset -> (position, DPA offset), worked out from CXL 3.0
 * 8.2.4.19.13 by hand for the first rows, e.g.
 *   16 ways, 16 KiB (IW 4, IG 6), HPA 0x1234567:
 *     DPA[51:14] = HPA[51:18] = 0x48, DPA[13:0] = HPA[13:0] = 0x0567
 *       -> 0x120567; position = HPA[17:14] = 0xd
 *   12 ways, 256 B (IW 10, IG 0), HPA 0x1fff:
 *     DPA[51:8] = HPA[51:10] / 3 = 7 / 3 = 2, DPA[7:0] = 0xff -> 0x2ff;
 *     position = HPA[9:8] + 4 * (HPA[51:10] mod 3) = 3 + 4 = 7
 * and for the rest from the equivalent chunk rule (chunk c = HPA / G on
 * position c mod W as its chunk c / W).
 */
static const struct {
	unsigned int ways, gran;
	uint64_t hpa;
	unsigned int pos;
	uint64_t dpa;
} vec[] = {
	{  1,   256, 0x0000000000012345ULL,  0, 0x0000000000012345ULL },
	{  2,   256, 0x0000000000000000ULL,  0, 0x0000000000000000ULL },
	{  2,   256, 0x00000000000000ffULL,  0, 0x00000000000000ffULL },
	{  2,   256, 0x0000000000000100ULL,  1, 0x0000000000000000ULL },
	{  2,   256, 0x00000000000002abULL,  0, 0x00000000000001abULL },
	{  2,   256, 0x00000000000003ffULL,  1, 0x00000000000001ffULL },
	{  4,  4096, 0x0000000000005123ULL,  1, 0x0000000000001123ULL },
	{  4,  2048, 0x0000000040001801ULL,  3, 0x0000000010000001ULL },
	{  8,  1024, 0x0000000000002c05ULL,  3, 0x0000000000000405ULL },
	{ 16, 16384, 0x0000000001234567ULL, 13, 0x0000000000120567ULL },
	{ 16,   256, 0x000fffffffffffffULL, 15, 0x0000ffffffffffffULL },
	{  3,   256, 0x0000000000000100ULL,  1, 0x0000000000000000ULL },
	{  3,   256, 0x0000000000000200ULL,  2, 0x0000000000000000ULL },
	{  3,   256, 0x0000000000000300ULL,  0, 0x0000000000000100ULL },
	{  3,   256, 0x00000000000004ffULL,  1, 0x00000000000001ffULL },
	{  3, 16384, 0x000fffffffffffffULL,  0, 0x0005555555557fffULL },
	{  6,   512, 0x0000000000001c10ULL,  2, 0x0000000000000410ULL },
	{  6,  4096, 0x00000fffff00b123ULL,  5, 0x000002aaaa801123ULL },
	{  6, 16384, 0x0000000007654321ULL,  1, 0x00000000013b8321ULL },
	{ 12,   256, 0x0000000000001fffULL,  7, 0x00000000000002ffULL },
	{ 12,  8192, 0x000000abcdef6123ULL,  3, 0x0000000e51294123ULL },
};

static void test_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		struct udax_cxl_il il = { vec[i].ways, vec[i].gran };
		unsigned int pos = 99;
		uint64_t dpa = 0, hpa = 0;

		t_ok(udax__cxl_hpa_to_dpa(&il, vec[i].hpa, &pos, &dpa));
		if (pos != vec[i].pos || dpa != vec[i].dpa)
			t_fail("row %zu: %u x %u, hpa %#llx: pos %u dpa %#llx, want %u %#llx",
			       i, il.ways, il.gran, (unsigned long long)vec[i].hpa,
			       pos, (unsigned long long)dpa, vec[i].pos,
			       (unsigned long long)vec[i].dpa);
		t_ok(udax__cxl_dpa_to_hpa(&il, vec[i].pos, vec[i].dpa, &hpa));
		t_ueq(hpa, vec[i].hpa);
	}
}

static void test_encodings(void)
{
	static const unsigned int ways[] = { 1, 2, 4, 8, 16, 3, 6, 12 };
	static const unsigned int eiws[] = { 0, 1, 2, 3, 4, 8, 9, 10 };
	unsigned int e, i;

	for (i = 0; i < 8; i++) {
		t_ok(udax__cxl_eiw(ways[i], &e));
		t_eq(e, eiws[i]);
	}
	for (i = 0; i <= 6; i++) {
		t_ok(udax__cxl_eig(256u << i, &e));
		t_eq(e, i);
	}
	t_eq(udax__cxl_eiw(5, &e), -EINVAL);
	t_eq(udax__cxl_eiw(0, &e), -EINVAL);
	t_eq(udax__cxl_eiw(32, &e), -EINVAL);
	t_eq(udax__cxl_eig(128, &e), -EINVAL);
	t_eq(udax__cxl_eig(32768, &e), -EINVAL);
	t_eq(udax__cxl_eig(3000, &e), -EINVAL);
}

static void test_errors(void)
{
	struct udax_cxl_il il = { 4, 256 }, bad = { 5, 256 };
	unsigned int pos;
	uint64_t v;

	t_eq(udax__cxl_hpa_to_dpa(&bad, 0, &pos, &v), -EINVAL);
	t_eq(udax__cxl_dpa_to_hpa(&bad, 0, 0, &v), -EINVAL);
	t_eq(udax__cxl_dpa_to_hpa(&il, 4, 0, &v), -EINVAL);
	t_eq(udax__cxl_hpa_to_dpa(&il, 1ULL << 52, &pos, &v), -ERANGE);
	t_eq(udax__cxl_dpa_to_hpa(&il, 0, 1ULL << 52, &v), -ERANGE);
	/* a DPA that fits, on a position that pushes its HPA past 52 bits */
	t_eq(udax__cxl_dpa_to_hpa(&il, 3, 1ULL << 51, &v), -ERANGE);
}

/* Random round trips, and the chunk rule, for every interleave. */
static void test_round_trip(void)
{
	static const unsigned int ways[] = { 1, 2, 3, 4, 6, 8, 12, 16 };
	uint64_t seed = 0x5eed;
	int i, w, g;

	for (w = 0; w < 8; w++)
		for (g = 0; g <= 6; g++) {
			struct udax_cxl_il il = { ways[w], 256u << g };

			for (i = 0; i < 2000; i++) {
				uint64_t h = t_rand(&seed) & ((1ULL << 52) - 1), d, h2;
				uint64_t c = h / il.gran;
				unsigned int pos;

				t_ok(udax__cxl_hpa_to_dpa(&il, h, &pos, &d));
				t_eq(pos, c % il.ways);
				t_ueq(d, c / il.ways * il.gran + h % il.gran);
				t_ok(udax__cxl_dpa_to_hpa(&il, pos, d, &h2));
				t_ueq(h2, h);
			}
		}
}

struct pieces {
	uint64_t hpa[8], len[8];
	int n;
};

static int piece(void *arg, uint64_t hpa, uint64_t len)
{
	struct pieces *p = arg;

	t_assert(p->n < 8);
	p->hpa[p->n] = hpa;
	p->len[p->n++] = len;
	return 0;
}

static void test_ranges(void)
{
	struct udax_cxl_region r;
	struct pieces p;

	memset(&r, 0, sizeof(r));
	r.hpa_base = 0x4000000000ULL;
	r.size = 0x4000000;
	r.il.ways = 2;
	r.il.gran = 256;
	r.t[1].dpa_base = 0x1000000;
	r.t[1].dpa_size = 0x2000000;

	/* 0x180 bytes from 0x80 into device 1's decoder: chunks 0 and 1 */
	memset(&p, 0, sizeof(p));
	t_ok(udax__cxl_dpa_range_to_hpa(&r, 1, 0x1000080, 0x180, piece, &p));
	t_eq(p.n, 2);
	t_ueq(p.hpa[0], 0x4000000180ULL);
	t_ueq(p.len[0], 0x80);
	t_ueq(p.hpa[1], 0x4000000300ULL);
	t_ueq(p.len[1], 0x100);

	/* outside the decoder: nothing; straddling its start: the inside */
	memset(&p, 0, sizeof(p));
	t_ok(udax__cxl_dpa_range_to_hpa(&r, 1, 0x800000, 0x1000, piece, &p));
	t_eq(p.n, 0);
	t_ok(udax__cxl_dpa_range_to_hpa(&r, 1, 0xffff00, 0x200, piece, &p));
	t_eq(p.n, 1);
	t_ueq(p.hpa[0], 0x4000000100ULL);
	t_ueq(p.len[0], 0x100);

	/* one way: contiguous, one piece */
	r.il.ways = 1;
	r.t[0].dpa_base = 0;
	r.t[0].dpa_size = 0x4000000;
	memset(&p, 0, sizeof(p));
	t_ok(udax__cxl_dpa_range_to_hpa(&r, 0, 0x1000, 0x3000, piece, &p));
	t_eq(p.n, 1);
	t_ueq(p.hpa[0], 0x4000001000ULL);
	t_ueq(p.len[0], 0x3000);
	t_eq(udax__cxl_dpa_range_to_hpa(&r, 1, 0, 1, piece, &p), -EINVAL);
}

/* What `cat instances/X/trace` shows for Linux 6.5's cxl_poison. */
static const char trace[] =
	"# tracer: nop\n"
	"#\n"
	"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	"              sh-612     [000] .....  161.374425: cxl_poison: memdev=mem1 host=0000:0e:00.0 serial=1 trace_type=List region=region0 region_uuid=5d23d6a0-7b88-4b3f-8d6c-2b7d3b3e2a11 hpa=0x4000000300 dpa=0x1000100 dpa_length=0x40 source=Injected flags= overflow_time=0\n"
	"              sh-612     [000] .....  161.374431: cxl_poison: memdev=mem0 host=0000:0d:00.0 serial=0 trace_type=List region= region_uuid=00000000-0000-0000-0000-000000000000 hpa=0xffffffffffffffff dpa=0x900000 dpa_length=0x200 source=Internal flags= overflow_time=0\n"
	"              sh-612     [000] .....  161.374433: cxl_poison: memdev=mem0 host=0000:0d:00.0 serial=0 trace_type=List region=region0 region_uuid=5d23d6a0-7b88-4b3f-8d6c-2b7d3b3e2a11 hpa=0x4002000000 dpa=0x1000000 dpa_length=0x400 source=Injected flags= overflow_time=0\n"
	"              sh-612     [000] .....  161.374440: cxl_poison: memdev=mem1 host=0000:0e:00.0 serial=1 trace_type=Inject region=region0 region_uuid=5d23d6a0-7b88-4b3f-8d6c-2b7d3b3e2a11 hpa=0x4000000500 dpa=0x1000200 dpa_length=0x40 source=Injected flags= overflow_time=0\n"
	"              sh-612     [000] .....  161.374441: cxl_poison: memdev=mem1 host=0000:0e:00.0 serial=1 trace_type=List region=region0 region_uuid=5d23d6a0-7b88-4b3f-8d6c-2b7d3b3e2a11 hpa=0x4000008000 dpa=0x1002000 dpa_length=0x40 source=Injected flags= overflow_time=0\n"
	"              sh-612     [000] .....  161.374450: cxl_general_media: memdev=mem1 dpa=0x5 dpa_flags=\n";

static void test_parse(void)
{
	struct udax_cxl_poison *p;
	size_t n;

	t_ok(udax__cxl_poison_parse(trace, strlen(trace), &p, &n));
	t_eq(n, 4);
	t_assert(!strcmp(p[0].memdev, "mem1"));
	t_ueq(p[0].dpa, 0x1000100);
	t_ueq(p[0].len, 0x40);
	t_ueq(p[0].hpa, 0x4000000300ULL);
	t_assert(!strcmp(p[1].memdev, "mem0"));
	t_ueq(p[1].hpa, UINT64_MAX);
	t_ueq(p[2].dpa, 0x1000000);
	t_ueq(p[2].len, 0x400);
	t_ueq(p[3].dpa, 0x1002000);
	free(p);

	t_ok(udax__cxl_poison_parse("", 0, &p, &n));
	t_eq(n, 0);
	free(p);
	t_eq(udax__cxl_poison_parse("x: cxl_poison: memdev=mem0 dpa=zz dpa_length=0x40\n",
				    50, &p, &n), -EINVAL);
	t_eq(udax__cxl_poison_parse("x: cxl_poison: dpa=0x0 dpa_length=0x40\n",
				    38, &p, &n), -EINVAL);
}

static void test_sysfs(const char *dir)
{
	struct udax_cxl_region r;
	struct udax_cxl_poison *p;
	char path[512];
	size_t n;

	cxl_fake_region();
	t_ok(udax__cxl_region_load("region0", &r));
	t_ueq(r.hpa_base, 0x4000000000ULL);
	t_ueq(r.size, 0x4000000);
	t_eq(r.il.ways, 2);
	t_eq(r.il.gran, 256);
	t_assert(!strcmp(r.t[0].memdev, "mem0"));
	t_assert(!strcmp(r.t[1].memdev, "mem1"));
	t_assert(!strcmp(r.t[1].decoder, "decoder4.0"));
	t_ueq(r.t[1].dpa_base, 0x1000000);
	t_ueq(r.t[1].dpa_size, 0x2000000);

	memset(&r, 0, sizeof(r));
	t_ok(udax__cxl_region_find(0x4001000000ULL, 0x1000, &r));
	t_assert(!strcmp(r.name, "region0"));
	t_eq(udax__cxl_region_find(0x4004000000ULL, 0x1000, &r), -ENOENT);
	t_eq(udax__cxl_region_find(0x4003fff000ULL, 0x2000, &r), -ENOENT);

	/* No tracefs: cannot read poison. */
	t_ok(udax__cxl_region_load("region0", &r));
	t_eq(udax__cxl_poison_read(&r, &p, &n), -EOPNOTSUPP);
	/* Linux 6.1: no trigger_poison_list. */
	fk_rm("/sys/devices/pci0000:0c/0000:0c:00.0/0000:0e:00.0/mem1/trigger_poison_list");
	t_eq(udax__cxl_poison_read(&r, &p, &n), -EOPNOTSUPP);
	fk_file("", "/sys/devices/pci0000:0c/0000:0c:00.0/0000:0e:00.0/mem1/trigger_poison_list");

	/* A tracefs whose instance for this pid is already there, holding
	 * what the trigger would have put in it. */
	snprintf(path, sizeof(path), "/sys/kernel/tracing/instances/udax-%ld",
		 (long)getpid());
	fk_file("0\n", "%s/events/cxl/cxl_poison/enable", path);
	fk_file(trace, "%s/trace", path);
	t_ok(udax__cxl_poison_read(&r, &p, &n));
	t_eq(n, 4);
	free(p);
	(void)dir;
}

int main(void)
{
	char *dir = t_tmpdir();

	fk_root = dir;
	setenv("UDAX_SYSFS_ROOT", dir, 1);
	test_encodings();
	test_vectors();
	test_errors();
	test_round_trip();
	test_ranges();
	test_parse();
	test_sysfs(dir);
	t_tmpdir_rm(dir);
	return 0;
}
