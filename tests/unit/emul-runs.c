/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many poisoned runs must not cost one kernel mapping each: a state of
 * 40,000 scattered bad pages opens in a program that has mappings of its
 * own, reads around them, clears them, and keeps /proc/self/maps bounded;
 * 100 handles live in one process; and coalesced protection keeps its
 * promise page by page (UDAX_EMUL_MAX_RUNS makes the runs few): a plain
 * load of a poisoned page raises SIGBUS / BUS_MCEERR_AR, a plain load of a
 * clean page inside a coalesced run reads its data.
 * (Before: one mapping per run: -ENOMEM at open; the 65th handle -ENOSPC.)
 * Seeded: UDAX_TEST_SEED=<the seed printed> replays.
 */
#include <time.h>

#include "emul-util.h"

static char *dir;
static char img[300];
static uint64_t seed;

/* Mappings the process makes besides the device's: allocators map memory
 * of their own (ASan's, many).  Uncoalesced, 40,000 runs cost 80,000. */
#define SLACK 1024

/* The cap of coalesced runs the library computes without the variable. */
static long default_max_runs(void)
{
	long v = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	v /= 16;
	return v < 64 ? 64 : v > 16384 ? 16384 : v;
}

static char *dev_addr(struct udax_dev *dev, uint64_t pg)
{
	/* Recovery mode gives the address of a bad page too. */
	void *k = (void *)UDAX_OP_RECOVERY;

	t_assert(udax_direct_access(dev, pg, 1, &k, NULL) >= 1);
	return udax_kaddr_untag(k);
}

/* Mappings inside @dev's data (the program's view). */
static long dev_maps(struct udax_dev *dev)
{
	uintptr_t a = (uintptr_t)dev_addr(dev, 0);
	long in;

	e_maps(a, a + udax_size(dev), &in);
	return in;
}


/* A load of page @pg of @dev at a random offset: SIGBUS / BUS_MCEERR_AR
 * with the page's address and lsb 12 when @poisoned, else the pattern. */
static void check_load(struct udax_dev *dev, uint64_t pg, bool poisoned,
		       uint64_t pat)
{
	char *page = dev_addr(dev, pg);
	size_t at = (size_t)(t_rand(&seed) % PG);
	unsigned char v = 0;
	siginfo_t si;
	int hit = e_touch((unsigned char *)page + at, false, &v, &si);

	if (poisoned) {
		if (!hit)
			t_fail("page %llu: a load of a poisoned page read %#x",
			       (unsigned long long)pg, v);
		t_eq(si.si_code, BUS_MCEERR_AR);
		t_assert(si.si_addr == page);
		t_eq(si.si_addr_lsb, 12);
	} else {
		if (hit)
			t_fail("page %llu: a load of a clean page raised SIGBUS code %d",
			       (unsigned long long)pg, si.si_code);
		t_eq(v, e_byte(pat, pg, at));
	}
}

/*
 * 40,000 bad pages, 8 KiB apart (udax inject --offset 0 --length 4K
 * --count 40000 --stride 8K), in a program with 20 more mappings.
 */
static void forty_thousand(void)
{
	const uint64_t runs = 40000, pages = 2 * runs + 16;
	struct udax_range *k = malloc(runs * sizeof(*k));
	struct udax_dev *dev, *dev2;
	unsigned char *buf = malloc(8 * PG);
	char *extra;
	long base, in, cap = default_max_runs();

	t_assert(k && buf);
	e_image(img, pages, 0);
	for (uint64_t i = 0; i < runs; i++)
		k[i] = (struct udax_range){ 2 * i * 8, 8 };
	e_state_write(img, k, runs, k, runs);
	free(k);

	/* The host program's own mappings: 20 more. */
	extra = mmap(NULL, 40 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_assert(extra != MAP_FAILED);
	for (int i = 0; i < 40; i += 2)
		t_ok(mprotect(extra + i * PG, PG, PROT_READ));
	base = e_maps(0, 0, NULL);

	t_ok(udax_open(img, 0, &dev));
	in = dev_maps(dev);
	printf("40000 runs: %ld mappings in the device (cap %ld runs)\n", in, cap);
	t_assert(in <= 2 * cap + 1);
	t_assert(e_maps(0, 0, NULL) - base <= 2 * cap + SLACK);
	t_eq(udax_badblocks(dev, NULL, 0), (long)runs);

	/* A second handle in the same process costs as much again, no more. */
	t_ok(udax_open(img, 0, &dev2));
	t_assert(e_maps(0, 0, NULL) - base <= 2 * (2 * cap) + SLACK);

	/* Read around: odd pages are clean and written, even ones are bad. */
	for (uint64_t pg = 1; pg < pages - 16; pg += 2 * 997) {
		memset(buf, 0xa5, PG);
		t_eq(udax_pwrite(dev, buf, PG, pg * PG), PG);
		memset(buf, 0, PG);
		t_eq(udax_pread(dev2, buf, PG, pg * PG), PG);
		t_eq(buf[0], 0xa5);
		t_eq(buf[PG - 1], 0xa5);
		t_eq(udax_pread(dev2, buf, PG, (pg - 1) * PG), -EIO);
		t_eq(udax_pread(dev2, buf, 2 * PG, pg * PG), PG);
		check_load(dev, pg - 1, true, 0);
	}
	/* Beyond the last run: the clean tail reads whole. */
	t_eq(udax_pread(dev, buf, 8 * PG, (pages - 8) * PG), 8 * PG);

	/* Clear them all in one call: nothing bad is left, nothing
	 * protected, the mapping count back where it was. */
	{
		struct udax_range all = { 0, pages * PG };

		t_eq(udax_clear(dev, &all, 1, UDAX_CLEAR_DRY_RUN), (int64_t)(runs * PG));
		t_eq(udax_clear(dev, &all, 1, 0), (int64_t)(runs * PG));
	}
	t_eq(udax_badblocks(dev, NULL, 0), 0);
	t_eq(udax_badblocks(dev2, NULL, 0), 0);
	t_eq(udax_pread(dev2, buf, PG, 2 * PG), PG);
	for (int i = 0; i < PG; i++)
		t_eq(buf[i], 0);
	t_assert(dev_maps(dev) <= 3);
	t_assert(dev_maps(dev2) <= 3);
	udax_close(dev2);
	udax_close(dev);
	t_assert(e_maps(0, 0, NULL) <= base + SLACK);
	munmap(extra, 40 * PG);
	free(buf);
	printf("ok 40000 poisoned runs: open, read around, clear, mappings bounded\n");
}

/* 40,000 ranges through the API go in as one transaction. */
static void forty_thousand_inject(void)
{
	const uint64_t runs = 40000;
	struct udax_range *r = malloc(runs * sizeof(*r));
	struct udax_dev *dev;
	uint64_t g0;
	struct e_state s;

	t_assert(r);
	e_image(img, 2 * runs, 0);
	for (uint64_t i = 0; i < runs; i++)
		r[i] = (struct udax_range){ 2 * i * PG, PG };
	t_ok(udax_open(img, 0, &dev));
	g0 = e_hdr_gen(img);
	t_ok(udax_inject_ranges(dev, r, runs, 0));
	t_ueq(e_hdr_gen(img), g0 + 2);		/* one commit */
	t_eq(udax_badblocks(dev, NULL, 0), (long)runs);
	t_assert(dev_maps(dev) <= 2 * default_max_runs() + 1);
	s = e_state_read(img);
	t_assert(s.ok);
	t_eq(s.nk, runs);
	t_eq(s.nm, runs);
	e_state_free(&s);
	/* Un-inject them all at once: the media heal, the list stays. */
	t_ok(udax_inject_ranges(dev, r, runs, UDAX_INJECT_REMOVE));
	t_eq(udax_media_poison(dev, NULL, 0), 0);
	t_eq(udax_badblocks(dev, NULL, 0), (long)runs);
	t_assert(dev_maps(dev) <= 3);
	udax_close(dev);
	free(r);
	printf("ok 40000 ranges injected in one transaction, and removed\n");
}

/* 100 handles on one poisoned image in one process. */
static void hundred_handles(void)
{
	enum { N = 100 };
	struct udax_dev *dev[N];
	char buf[PG];

	e_image(img, 64, 3);
	t_ok(udax_open(img, 0, &dev[0]));
	t_ok(udax_inject(dev[0], 3 * PG, 512, 0));
	t_ok(udax_inject(dev[0], 5 * PG + 1024, 512, UDAX_INJECT_LATENT));
	for (int i = 1; i < N; i++) {
		int rc = udax_open(img, i % 2 ? UDAX_OPEN_RDONLY : 0, &dev[i]);

		if (rc)
			t_fail("handle %d: udax_open: %s", i + 1, strerror(-rc));
	}
	for (int i = 0; i < N; i++) {
		t_eq(udax_pread(dev[i], buf, PG, 3 * PG), -EIO);
		t_eq(udax_pread(dev[i], buf, PG, 4 * PG), PG);
		t_assert(e_is_page((unsigned char *)buf, 3, 4));
		check_load(dev[i], 3, true, 3);
		check_load(dev[i], 5, true, 3);
		check_load(dev[i], 6, false, 3);
	}
	/* Every handle's load made the latent page known to it. */
	for (int i = 0; i < N; i++)
		t_eq(udax_badblocks(dev[i], NULL, 0), 2);
	for (int i = N - 1; i >= 0; i--)
		udax_close(dev[i]);
	printf("ok %d handles in one process\n", N);
}

/*
 * Coalescing, checked page by page: 60 scattered bad pages (some latent)
 * under a cap of 4 runs.
 */
static void coalesced(void)
{
	enum { PAGES = 512, BAD = 60 };
	static bool bad[PAGES];
	struct udax_dev *dev;
	uint64_t order[PAGES];
	unsigned char v;
	long in;

	memset(bad, 0, sizeof(bad));
	e_image(img, PAGES, 11);
	t_ok(udax_open(img, 0, &dev));
	for (int n = 0; n < BAD;) {
		uint64_t pg = 8 + t_rand(&seed) % (PAGES - 16);

		if (bad[pg])
			continue;
		bad[pg] = true;
		n++;
		t_ok(udax_inject(dev, pg * PG + t_rand(&seed) % 8 * 512, 512,
				 n % 3 ? 0 : UDAX_INJECT_LATENT));
	}
	udax_close(dev);

	t_ok(setenv("UDAX_EMUL_MAX_RUNS", "4", 1));
	t_ok(udax_open(img, 0, &dev));
	in = dev_maps(dev);
	printf("coalesced: %ld mappings in the device for %d bad pages\n", in, BAD);
	t_assert(in <= 2 * 4 + 1);

	for (int i = 0; i < PAGES; i++)
		order[i] = (uint64_t)i;
	for (int i = PAGES - 1; i > 0; i--) {
		uint64_t j = t_rand(&seed) % (uint64_t)(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (int i = 0; i < PAGES; i++)
		check_load(dev, order[i], bad[order[i]], 11);
	/* The latent ones the loads hit are known now (one sector each;
	 * two of them may touch and make one range). */
	{
		struct udax_range rr[BAD];
		long nr = udax_badblocks(dev, rr, BAD);
		uint64_t sum = 0;

		t_assert(nr > 0 && nr <= BAD);
		for (long i = 0; i < nr; i++)
			sum += rr[i].len;
		t_eq(sum, BAD * 512);
		for (uint64_t pg = 0; pg < PAGES; pg++) {
			void *a = NULL;

			t_eq(udax_direct_access(dev, pg, 1, &a, NULL), bad[pg] ? -EIO : 1);
		}
	}

	/* Stores to clean pages of coalesced runs land, and stay. */
	for (uint64_t pg = 8; pg < PAGES - 8; pg++) {
		if (bad[pg] || !bad[pg - 1])
			continue;
		v = 0x5c;
		t_eq(e_touch((unsigned char *)dev_addr(dev, pg) + 7, true, &v, NULL), 0);
	}
	/* New poison on a page the program has opened is protected again;
	 * a cleared page inside a run reads its zeros. */
	for (uint64_t pg = 8; pg < PAGES - 8; pg++) {
		char buf[PG];

		if (bad[pg] || !bad[pg - 1])
			continue;
		t_eq(udax_pread(dev, buf, PG, pg * PG), PG);
		t_eq(buf[7], 0x5c);
		t_ok(udax_inject(dev, pg * PG, 1, 0));
		check_load(dev, pg, true, 11);
		t_ok(udax_zero_page_range(dev, pg - 1, 1));
		v = 1;
		t_eq(e_touch((unsigned char *)dev_addr(dev, pg - 1) + 100, false, &v, NULL), 0);
		t_eq(v, 0);
		break;
	}
	t_assert(dev_maps(dev) <= 2 * 4 + 1 + 2 * PAGES);
	udax_close(dev);
	t_ok(unsetenv("UDAX_EMUL_MAX_RUNS"));
	printf("ok coalesced runs: poisoned pages fault, clean ones read their data\n");
}

int main(void)
{
	const char *s = getenv("UDAX_TEST_SEED");

	if (t_under_valgrind())
		t_skip("valgrind aborts on the SIGBUS emulated poison queues");
	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	printf("seed %llu\n", (unsigned long long)seed);
	dir = e_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	hundred_handles();
	coalesced();
	forty_thousand();
	forty_thousand_inject();
	t_tmpdir_rm(dir);
	return 0;
}
