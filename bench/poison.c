/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "poison": what meeting poison costs: one fault round trip of the
 * guarded copy, a latent poisoned page found by udax_copy_to_iter, and a
 * recovery read of a device with 1 % of its pages known bad.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

/* udax__mc_copy() of a page that faults: one signal round trip per call. */
static void mc_fault_fig(void)
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

static void poison_dev_fig(void)
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

void bench_poison(void)
{
	mc_fault_fig();
	poison_dev_fig();
}
