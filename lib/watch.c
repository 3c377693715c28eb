/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Consumed poison outside udax's copies, on real devices.
 *
 * A machine check in a load from a DAX mapping reaches the process as
 * SIGBUS / BUS_MCEERR_AR at the page (BUS_MCEERR_AO when the kernel found
 * it on its own).  Inside a guarded copy mcsafe.c stops the copy there and
 * io.c records the page.  Outside one (the program's own loads through the
 * kaddr udax gave it; or, on Linux 6.1, MADV_HWPOISON, whose SIGBUS
 * arrives as the madvise() returns, not at a later load) the signal goes to
 * the program's handler, and the kernel may never record the page in its
 * list.  R11 wants it known all the same: so mcsafe.c's handler shows
 * every SIGBUS to udax__watch_sigbus() first, which marks the page in the
 * mapping's bitmap and wakes the device; its next udax call (->load_known)
 * drains the bitmap into the known list.
 *
 * Signal safety: the handler reads a fixed table of atomic pointers and
 * sets bits with atomic ORs; it announces itself in watch_busy first, and
 * udax__watch_del() waits for that count to drain after clearing the slot
 * before freeing, so no handler holds a freed watch.  Bitmaps are
 * anonymous memory, resident only where set.
 *
 * A huge-page report (si_addr_lsb 21 or 30: 2 MiB or 1 GiB; si_addr may be
 * rounded down to the unit or not) names a unit, not a page: its unit's
 * first page is marked in the bitmap of its size, and udax__watch_record()
 * finds the page by reading each page of the unit with a guarded copy.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"

#define WATCH_SLOTS 256

struct udax_watch {
	uintptr_t base;
	size_t len;
	int *wake;
	_Atomic uint64_t *pages;	/* one bit per page */
	_Atomic uint64_t *huge[2];	/* one bit per page that starts a
					 * unit reported: 2 MiB, 1 GiB */
	size_t nwords;
	int slot;
};

static _Atomic(struct udax_watch *) watch_slot[WATCH_SLOTS];
static atomic_int watch_count;
static atomic_int watch_busy;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;

static _Atomic uint64_t *bitmap_new(size_t words)
{
	void *p = mmap(NULL, words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void mark(_Atomic uint64_t *bits, uint64_t pg)
{
	atomic_fetch_or_explicit(&bits[pg / 64], 1ULL << (pg % 64),
				 memory_order_release);
}

/* The unit of a report: 0 a page, 1 2 MiB, 2 1 GiB (a size between
 * counts as the next one up, which covers it). */
static int unit_of(int lsb)
{
	return lsb <= UDAX_PAGE_SHIFT ? 0 : lsb <= 21 ? 1 : 2;
}

static const int unit_shift[3] = { UDAX_PAGE_SHIFT, 21, 30 };

bool udax__watch_sigbus(const void *siv)
{
	const siginfo_t *si = siv;
	uintptr_t a = (uintptr_t)si->si_addr, start;
	bool marked = false;
	int i, u;

	if (si->si_code != BUS_MCEERR_AR && si->si_code != BUS_MCEERR_AO)
		return false;
	if (!atomic_load_explicit(&watch_count, memory_order_acquire))
		return false;
	u = unit_of(si->si_addr_lsb);
	start = a & ~(((uintptr_t)1 << unit_shift[u]) - 1);
	atomic_fetch_add(&watch_busy, 1);
	for (i = 0; i < WATCH_SLOTS; i++) {
		struct udax_watch *w = atomic_load(&watch_slot[i]);
		uint64_t pg;

		/* the unit overlaps the mapping */
		if (!w || (start - w->base >= w->len &&
			   w->base - start >= ((uintptr_t)1 << unit_shift[u])))
			continue;
		pg = start > w->base ? (start - w->base) / UDAX_PAGE_SIZE : 0;
		mark(u ? w->huge[u - 1] : w->pages, pg);
		__atomic_store_n(w->wake, 1, __ATOMIC_RELEASE);
		marked = true;
		break;
	}
	atomic_fetch_sub(&watch_busy, 1);
	return marked;
}

int udax__watch_add(void *base, size_t len, int *wake, struct udax_watch **out)
{
	struct udax_watch *w = calloc(1, sizeof(*w));
	int i;

	if (!w)
		return -ENOMEM;
	w->base = (uintptr_t)base;
	w->len = len;
	w->wake = wake;
	w->nwords = (len / UDAX_PAGE_SIZE + 63) / 64;
	w->pages = bitmap_new(w->nwords);
	w->huge[0] = bitmap_new(w->nwords);
	w->huge[1] = bitmap_new(w->nwords);
	if (!w->pages || !w->huge[0] || !w->huge[1])
		goto err;
	pthread_mutex_lock(&watch_lock);
	for (i = 0; i < WATCH_SLOTS && atomic_load(&watch_slot[i]); i++)
		;
	if (i < WATCH_SLOTS) {
		w->slot = i;
		atomic_store(&watch_slot[i], w);
		atomic_fetch_add(&watch_count, 1);
	}
	pthread_mutex_unlock(&watch_lock);
	if (i == WATCH_SLOTS) {
		udax__err("more than %d real-device mappings: poison consumed outside udax's copies is not recorded for this one",
			  WATCH_SLOTS);
		goto err;
	}
	*out = w;
	return 0;
err:
	if (w->pages)
		munmap((void *)w->pages, w->nwords * sizeof(uint64_t));
	for (i = 0; i < 2; i++)
		if (w->huge[i])
			munmap((void *)w->huge[i], w->nwords * sizeof(uint64_t));
	free(w);
	return -ENOMEM;
}

void udax__watch_del(struct udax_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&watch_lock);
	atomic_store(&watch_slot[w->slot], NULL);
	atomic_fetch_sub(&watch_count, 1);
	pthread_mutex_unlock(&watch_lock);
	while (atomic_load(&watch_busy))
		sched_yield();
	munmap((void *)w->pages, w->nwords * sizeof(uint64_t));
	munmap((void *)w->huge[0], w->nwords * sizeof(uint64_t));
	munmap((void *)w->huge[1], w->nwords * sizeof(uint64_t));
	free(w);
}

/* The first page of @n pages from @pg (cut to the mapping) that faults
 * when read and is not known yet, or UINT64_MAX: a page already known
 * cannot be what a new report is about. */
static uint64_t refine(struct udax_dev *dev, struct udax_watch *w,
		       uint64_t pg, uint64_t n)
{
	char buf[UDAX_PAGE_SIZE];
	struct udax_fault f;
	uint64_t i;

	for (i = 0; i < n; i++)
		if (udax__bb_first_bad(dev->bb, (pg + i) * UDAX_SECTORS_PER_PAGE,
				       UDAX_SECTORS_PER_PAGE) == UINT64_MAX &&
		    udax__mc_copy(buf, (const char *)w->base +
				  (pg + i) * UDAX_PAGE_SIZE,
				  UDAX_PAGE_SIZE, false, &f) < UDAX_PAGE_SIZE &&
		    f.signo == SIGBUS)
			return pg + i;
	return UINT64_MAX;
}

/*
 * Record in @dev's known list what was marked since the last call: each
 * page; for a huge-page report, the page of its unit that faults now, or,
 * when none does (the poison was consumed and nothing raises it again),
 * the whole unit: poison reported is never dropped, as io.c's huge_fault().
 */
void udax__watch_record(struct udax_dev *dev, struct udax_watch *w)
{
	const uint64_t npg = w ? w->len / UDAX_PAGE_SIZE : 0;
	size_t i;
	int u;

	if (!w)
		return;
	__atomic_store_n(&dev->wake, 0, __ATOMIC_RELAXED);
	for (i = 0; i < w->nwords; i++) {
		uint64_t b, pg, at, n;

		for (u = 0; u < 2; u++) {
			if (!atomic_load_explicit(&w->huge[u][i],
						  memory_order_relaxed))
				continue;
			for (b = atomic_exchange(&w->huge[u][i], 0); b;
			     b &= b - 1) {
				pg = i * 64 + (uint64_t)__builtin_ctzll(b);
				n = ((uint64_t)1 << unit_shift[u + 1]) /
				    UDAX_PAGE_SIZE;
				if (n > npg - pg)
					n = npg - pg;
				at = refine(dev, w, pg, n);
				if (at != UINT64_MAX) {
					pg = at;
					n = 1;
				} else {
					udax__dbg("poison reported for the unit at %#llx: no new page of it faults now; all %llu KiB recorded",
						  (unsigned long long)(pg * UDAX_PAGE_SIZE),
						  (unsigned long long)(n * UDAX_PAGE_SIZE / 1024));
				}
				udax__memory_failure(dev, pg * UDAX_PAGE_SIZE,
						     n * UDAX_PAGE_SIZE);
			}
		}
		if (atomic_load_explicit(&w->pages[i], memory_order_relaxed))
			for (b = atomic_exchange(&w->pages[i], 0); b; b &= b - 1) {
				pg = i * 64 + (uint64_t)__builtin_ctzll(b);
				udax__dbg("poison consumed outside udax's copies at %#llx",
					  (unsigned long long)(pg * UDAX_PAGE_SIZE));
				udax__memory_failure(dev, pg * UDAX_PAGE_SIZE,
						     UDAX_PAGE_SIZE);
			}
	}
}
