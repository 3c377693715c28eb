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
 * A huge-page report (si_addr_lsb 21: si_addr rounded down) names a region,
 * not a page: it is kept apart and udax__watch_record() finds the page by
 * reading each page of the region with a guarded copy.
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
	_Atomic uint64_t *huge;		/* one bit per page that starts a
					 * region reported with lsb > 12 */
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

void udax__watch_sigbus(const void *siv)
{
	const siginfo_t *si = siv;
	uintptr_t a = (uintptr_t)si->si_addr;
	int i;

	if (si->si_code != BUS_MCEERR_AR && si->si_code != BUS_MCEERR_AO)
		return;
	if (!atomic_load_explicit(&watch_count, memory_order_acquire))
		return;
	atomic_fetch_add(&watch_busy, 1);
	for (i = 0; i < WATCH_SLOTS; i++) {
		struct udax_watch *w = atomic_load(&watch_slot[i]);
		uint64_t pg;

		if (!w || a - w->base >= w->len)
			continue;
		pg = (a - w->base) / UDAX_PAGE_SIZE;
		mark(si->si_addr_lsb > UDAX_PAGE_SHIFT ? w->huge : w->pages, pg);
		__atomic_store_n(w->wake, 1, __ATOMIC_RELEASE);
		break;
	}
	atomic_fetch_sub(&watch_busy, 1);
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
	w->huge = bitmap_new(w->nwords);
	if (!w->pages || !w->huge)
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
	if (w->huge)
		munmap((void *)w->huge, w->nwords * sizeof(uint64_t));
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
	munmap((void *)w->huge, w->nwords * sizeof(uint64_t));
	free(w);
}

/* The first page of the region at page @pg (2^@lsb bytes) that faults when
 * read, or UINT64_MAX. */
static uint64_t refine(struct udax_watch *w, uint64_t pg, int lsb)
{
	uint64_t n = (1ULL << lsb) / UDAX_PAGE_SIZE, i;
	char buf[UDAX_PAGE_SIZE];
	struct udax_fault f;

	for (i = 0; i < n && (pg + i) * UDAX_PAGE_SIZE < w->len; i++)
		if (udax__mc_copy(buf, (const char *)w->base +
				  (pg + i) * UDAX_PAGE_SIZE,
				  UDAX_PAGE_SIZE, false, &f) < UDAX_PAGE_SIZE &&
		    f.signo == SIGBUS)
			return pg + i;
	return UINT64_MAX;
}

/*
 * Record in @dev's known list what was marked since the last call: each
 * page; for a huge-page report, the page of it that faults now, or, when
 * none does (the poison was consumed and nothing raises it again), the
 * whole unit: poison reported is never dropped, as io.c's huge_fault().
 */
void udax__watch_record(struct udax_dev *dev, struct udax_watch *w)
{
	const uint64_t huge = (1ULL << 21) / UDAX_PAGE_SIZE;
	size_t i;

	if (!w)
		return;
	__atomic_store_n(&dev->wake, 0, __ATOMIC_RELAXED);
	for (i = 0; i < w->nwords; i++) {
		uint64_t b, pg, at, n;

		if (atomic_load_explicit(&w->huge[i], memory_order_relaxed))
			for (b = atomic_exchange(&w->huge[i], 0); b; b &= b - 1) {
				pg = i * 64 + (uint64_t)__builtin_ctzll(b);
				at = refine(w, pg, 21);
				n = 1;
				if (at == UINT64_MAX) {
					udax__dbg("poison reported for the 2 MiB at %#llx: no page of it faults now; the whole unit recorded",
						  (unsigned long long)(pg * UDAX_PAGE_SIZE));
					at = pg;
					n = huge;
				}
				udax__memory_failure(dev, at * UDAX_PAGE_SIZE,
						     n * UDAX_PAGE_SIZE);
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
