/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Section "workload": an application's random reads from a device with some
 * known poison, through the recovery-safe read it would call.
 *
 * The device is emulated, 1 GiB (256 MiB with --quick), with 0.1 % of its
 * pages known bad (udax_inject, spread at random with a fixed seed).  Each
 * operation reads 4 KiB or 64 B at a random aligned offset into a per-thread
 * buffer, on 1 and 2 pinned threads.
 *
 *   A  udax_pread(); over a bad page it returns -EIO and the caller goes on
 *   B  the unsafe upper bound: memcpy from the same mapping, skipping the
 *      bad pages (a bitmap test per read), as a program could that knew
 *      the bad pages for free and never met new poison
 *
 * Both sides of a thread draw their offsets from one continuing sequence,
 * so that B never re-reads what A just brought into the cache; an operation
 * is an offset visited, the same count on both sides, bad or not.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct wl {
	struct udax_dev *dev;
	const char *map;	/* the device's pages, untagged */
	uint64_t *bad;		/* bitmap of the known-bad pages */
	uint64_t npg, nbad;
};

struct wl_ctx {
	const struct wl *w;
	size_t size;		/* of one read */
	uint64_t slots;		/* device size / size */
	uint64_t x;		/* the thread's offset sequence */
	char *buf;
	uint64_t ops, eio;	/* udax_pread calls, -EIO among them */
};

static inline bool wl_bad(const struct wl *w, uint64_t pg)
{
	return w->bad[pg / 64] >> (pg % 64) & 1;
}

static uint64_t wl_pread(void *ctx, uint64_t n)
{
	struct wl_ctx *c = ctx;
	const struct wl *w = c->w;
	size_t S = c->size;
	uint64_t x = c->x, err = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = rng_below(&x, c->slots) * S;
		ssize_t rc = udax_pread(w->dev, c->buf, S, off);

		if (udax__unlikely(rc != (ssize_t)S)) {
			if (rc == -EIO && wl_bad(w, off / UDAX_PAGE_SIZE))
				c->eio++;
			else
				err++;
		}
	}
	c->x = x;
	c->ops += n;
	return err;
}

static uint64_t wl_memcpy(void *ctx, uint64_t n)
{
	struct wl_ctx *c = ctx;
	const struct wl *w = c->w;
	size_t S = c->size;
	uint64_t x = c->x;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = rng_below(&x, c->slots) * S;

		if (wl_bad(w, off / UDAX_PAGE_SIZE))
			continue;
		memcpy(c->buf, w->map + off, S);
	}
	c->x = x;
	return 0;
}

static void wl_fig(const struct wl *w, size_t size, int nthreads)
{
	struct wl_ctx ctx[2];
	struct pairs p = { .a = wl_pread, .b = wl_memcpy, .nthreads = nthreads };
	uint64_t ops = 0, eio = 0;
	char sz[32];
	struct fig *f;

	size_name(sz, sizeof(sz), size);
	f = fig_new("workload", "random pread, 0.1% pages bad / memcpy", sz,
		    "rand", nthreads);
	snprintf(f->unit, sizeof(f->unit), "Mop/s");
	for (int t = 0; t < nthreads; t++) {
		ctx[t].w = w;
		ctx[t].size = size;
		ctx[t].slots = w->npg * UDAX_PAGE_SIZE / size;
		ctx[t].x = 0x5eed + (uint64_t)t * 0x9e3779b97f4a7c15ULL;
		ctx[t].ops = ctx[t].eio = 0;
		ctx[t].buf = aligned_alloc(UDAX_PAGE_SIZE, UDAX_PAGE_SIZE);
		if (!ctx[t].buf)
			abort();
		memset(ctx[t].buf, 0, UDAX_PAGE_SIZE);
		p.ctx[t] = &ctx[t];
	}
	if (pairs_run(&p)) {
		fail("workload %s: udax_pread failed on a good page", sz);
		snprintf(f->note, sizeof(f->note), "udax_pread failed");
	} else {
		/* operations / ns x 1e3 = Mop/s */
		pairs_fig(f, &p, 1e3);
		for (int t = 0; t < nthreads; t++) {
			ops += ctx[t].ops;
			eio += ctx[t].eio;
			if (p.err[t]) {
				fail("workload %s %dT: %" PRIu64 " udax_pread "
				     "results other than the data or -EIO on "
				     "a bad page", sz, nthreads, p.err[t]);
				snprintf(f->note, sizeof(f->note),
					 "udax_pread failed");
			}
		}
		snprintf(f->note + strlen(f->note),
			 sizeof(f->note) - strlen(f->note),
			 "%s%" PRIu64 " MiB device, %" PRIu64 " bad pages; "
			 "-EIO for %.2f%% of reads; per op: udax %.0f ns, "
			 "memcpy %.0f ns", f->note[0] ? "; " : "",
			 w->npg * UDAX_PAGE_SIZE / MiB, w->nbad,
			 100.0 * (double)eio / (double)ops, f->a_ns_op,
			 f->b_ns_op);
		/* issue 12 */
		if (size == 4 * KiB)
			fig_goal(f, G_RATIO_GE, 0.90);
	}
	pairs_free(&p);
	for (int t = 0; t < nthreads; t++)
		free(ctx[t].buf);
	fig_print(f);
}

uint64_t workload_dev_size(void)
{
	return cfg.quick ? 256 * MiB : 1 * GiB;
}

void bench_workload(void)
{
	uint64_t size = workload_dev_size(), x = 0xbad5eed;
	struct wl w = { .npg = size / UDAX_PAGE_SIZE };
	void *k = NULL;
	char *page = NULL;

	w.nbad = w.npg / 1000;
	w.bad = calloc(w.npg / 64 + 1, sizeof(*w.bad));
	w.dev = dev_make("workload.img", size);
	if (!w.bad || !w.dev)
		goto out;
	if (udax_direct_access(w.dev, 0, (long)w.npg, &k, NULL) !=
	    (long)w.npg) {
		fail("udax_direct_access over the workload device");
		goto out;
	}
	w.map = udax_kaddr_untag(k);
	/* Fault every page in before anything is timed, and before the bad
	 * ones become unreadable. */
	memset((char *)w.map, 0x3c, size);
	for (uint64_t i = 0; i < w.nbad; i++) {
		uint64_t pg;

		do
			pg = rng_below(&x, w.npg);
		while (wl_bad(&w, pg));
		w.bad[pg / 64] |= 1ULL << (pg % 64);
		if (udax_inject(w.dev, pg * UDAX_PAGE_SIZE, UDAX_PAGE_SIZE, 0)) {
			fail("udax_inject");
			goto out;
		}
	}
	/* The memset faulted in the program's mapping (B's); udax copies
	 * through a second one on the emulated device (A's): read each good
	 * page once, or A pays page faults that B does not. */
	if (!(page = aligned_alloc(UDAX_PAGE_SIZE, UDAX_PAGE_SIZE)))
		goto out;
	for (uint64_t i = 0; i < w.npg; i++)
		if (!wl_bad(&w, i) &&
		    udax_pread(w.dev, page, UDAX_PAGE_SIZE, i * UDAX_PAGE_SIZE) !=
		    UDAX_PAGE_SIZE) {
			fail("udax_pread of a good page");
			goto out;
		}
	for (int th = 1; th <= cfg.max_threads; th++) {
		wl_fig(&w, 4 * KiB, th);
		wl_fig(&w, 64, th);
	}
out:
	free(page);
	free(w.bad);
	udax_close(w.dev);
	rm_image("workload.img");
}
