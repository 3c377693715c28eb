/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Emulated poison, the program's side: a plain load or store by the program
 * into a page of an emulated device that holds media poison must reach it
 * as Linux delivers consumed poison, SIGBUS / BUS_MCEERR_AR with si_addr the
 * page and si_addr_lsb 12, and the poison must become known.
 *
 * The emulated backend protects poisoned pages (PROT_NONE) in the mapping
 * it gives out; udax's own copies go through a second, unprotected mapping
 * and never fault here.  So a SIGSEGV / SEGV_ACCERR inside a registered
 * mapping is the program touching a protected page:
 *
 *   SIGSEGV ─► mcsafe.c (not inside a guarded copy) ─► emul_fault_hook()
 *      ├─ page holds media poison ─► mark it consumed (bitmap), wake the
 *      │    device (its next udax call records it),
 *      │    queue SIGBUS / BUS_MCEERR_AR to this thread
 *      ├─ page is clean, protected only because runs were coalesced to
 *      │    keep the mapping count bounded ─► open that page, retry
 *      └─ not ours ─► false: mcsafe.c chains to the previous handler
 *
 * Registry.  Any number of devices, found from signal context without
 * locks: a table of map pointers, grown by copying into a larger table
 * that is published with release; old tables are never freed (at most
 * twice the largest table's memory, all told; each new table links the one
 * it replaced), so a handler reading one is always safe.  A handler
 * announces itself in emul_in_handler before it loads the table;
 * unregistering clears the slot and waits for the count to drain before
 * freeing the map, so no handler ever holds a freed map.
 *
 * Recording.  One bit per page (anonymous memory, resident only where
 * touched) plus a summary bit per 64 pages, set with atomic ORs: no limit
 * on how many pages a program may consume between two udax calls.
 *
 * Signal safety: atomics, the lock-free media lookup (a seqlock read: no
 * writer section ever runs on the faulting thread while it touches the
 * device mapping), mprotect, getpid/gettid/rt_tgsigqueueinfo, sigaction,
 * sigprocmask.  errno is saved by mcsafe.c around the hook.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "private.h"
#include "backends/emul.h"

struct emul_map {
	uintptr_t base;
	size_t len;
	const struct udax_bb *media;	/* sectors, relative to base */
	int *wake;			/* the device's: set to 1 */
	int prot;			/* of the clean pages */
	_Atomic uint64_t *bits;		/* consumed pages */
	_Atomic uint64_t *summary;	/* non-zero words of bits */
	size_t nwords, nsum;
	atomic_uint pending;
};

struct emul_table {
	size_t cap;
	struct emul_table *older;	/* retired, kept (see Registry) */
	_Atomic(struct emul_map *) slot[];
};

static _Atomic(struct emul_table *) emul_tab;
static atomic_int emul_in_handler;
static pthread_mutex_t emul_reg_lock = PTHREAD_MUTEX_INITIALIZER;

static void *zalloc_map(size_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void free_map(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

static void map_free(struct emul_map *m)
{
	free_map((void *)m->bits, m->nwords * sizeof(uint64_t));
	free_map((void *)m->summary, m->nsum * sizeof(uint64_t));
	free(m);
}

int udax__emul_map_register(void *base, size_t len, int prot,
			    const struct udax_bb *media, int *wake,
			    struct emul_map **out)
{
	struct emul_table *t, *nt;
	struct emul_map *m;
	size_t pages = len / UDAX_PAGE_SIZE, i;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->base = (uintptr_t)base;
	m->len = len;
	m->media = media;
	m->wake = wake;
	m->prot = prot;
	m->nwords = (pages + 63) / 64;
	m->nsum = (m->nwords + 63) / 64;
	m->bits = zalloc_map(m->nwords * sizeof(uint64_t));
	m->summary = zalloc_map(m->nsum * sizeof(uint64_t));
	if (!m->bits || !m->summary) {
		map_free(m);
		return -ENOMEM;
	}

	pthread_mutex_lock(&emul_reg_lock);
	t = atomic_load_explicit(&emul_tab, memory_order_acquire);
	for (i = 0; t && i < t->cap; i++)
		if (!atomic_load_explicit(&t->slot[i], memory_order_relaxed))
			break;
	if (!t || i == t->cap) {
		size_t cap = t ? 2 * t->cap : 8, j;

		nt = calloc(1, sizeof(*nt) + cap * sizeof(nt->slot[0]));
		if (!nt) {
			pthread_mutex_unlock(&emul_reg_lock);
			map_free(m);
			return -ENOMEM;
		}
		nt->cap = cap;
		/* Linked, not dropped: still reachable (LeakSanitizer
		 * counted the retired tables as leaks). */
		nt->older = t;
		for (j = 0; t && j < t->cap; j++)
			atomic_store_explicit(&nt->slot[j],
				atomic_load_explicit(&t->slot[j], memory_order_relaxed),
				memory_order_relaxed);
		/* The old table stays allocated: a handler may be reading it. */
		atomic_store_explicit(&emul_tab, nt, memory_order_release);
		t = nt;
	}
	atomic_store_explicit(&t->slot[i], m, memory_order_release);
	pthread_mutex_unlock(&emul_reg_lock);
	*out = m;
	return 0;
}

void udax__emul_map_unregister(struct emul_map *m)
{
	struct emul_table *t;
	size_t i;

	if (!m)
		return;
	pthread_mutex_lock(&emul_reg_lock);
	t = atomic_load_explicit(&emul_tab, memory_order_acquire);
	for (i = 0; t && i < t->cap; i++)
		if (atomic_load_explicit(&t->slot[i], memory_order_relaxed) == m)
			atomic_store_explicit(&t->slot[i], NULL, memory_order_release);
	pthread_mutex_unlock(&emul_reg_lock);
	/* A handler that found @m before the store above is still counted. */
	while (atomic_load_explicit(&emul_in_handler, memory_order_acquire))
		sched_yield();
	map_free(m);
}

size_t udax__emul_map_drain(struct emul_map *m, uint64_t *pages, size_t max)
{
	size_t n = 0, s, w;

	if (udax__likely(!atomic_load_explicit(&m->pending, memory_order_relaxed)))
		return 0;
	/* Reset first: a page noted from now on sets it again. */
	atomic_exchange_explicit(&m->pending, 0, memory_order_acquire);
	for (s = 0; s < m->nsum; s++) {
		uint64_t sw = atomic_load_explicit(&m->summary[s], memory_order_relaxed);

		while (sw) {
			uint64_t bits;

			w = s * 64 + (size_t)__builtin_ctzll(sw);
			sw &= sw - 1;
			/* Clear the summary bit before taking the word, so a
			 * page set meanwhile sets it again. */
			atomic_fetch_and_explicit(&m->summary[s],
						  ~(1ULL << (w % 64)), memory_order_acq_rel);
			bits = atomic_exchange_explicit(&m->bits[w], 0,
							memory_order_acq_rel);
			while (bits) {
				uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(bits);

				bits &= bits - 1;
				if (n == max) {
					/* Put it back for the next drain. */
					atomic_fetch_or_explicit(&m->bits[w], 1ULL << (pg % 64),
								 memory_order_relaxed);
					atomic_fetch_or_explicit(&m->summary[s], 1ULL << (w % 64),
								 memory_order_relaxed);
					atomic_store_explicit(&m->pending, 1, memory_order_release);
					continue;
				}
				pages[n++] = pg;
			}
		}
	}
	return n;
}

/* ---- signal context ------------------------------------------------------ */

static void sig_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

/*
 * Queue SIGBUS / BUS_MCEERR_AR for @page to this thread.  It is delivered
 * before the faulting instruction runs again; if the program's handler
 * returns, the instruction faults again, as on hardware.  When SIGBUS would
 * reach no handler (blocked in the interrupted context, ignored, default),
 * do what the kernel's force_sig does: default action, unblocked, so that
 * the queued signal kills the process here with SIGBUS.
 */
static void queue_mce(uintptr_t page, ucontext_t *uc)
{
	struct sigaction eff;
	siginfo_t bus;

	memset(&bus, 0, sizeof(bus));
	bus.si_signo = SIGBUS;
	bus.si_code = BUS_MCEERR_AR;
	bus.si_addr = (void *)page;
	bus.si_addr_lsb = UDAX_PAGE_SHIFT;

	udax__mcsafe_sigbus_action(&eff);
	if (sigismember(&uc->uc_sigmask, SIGBUS) ||
	    (!(eff.sa_flags & SA_SIGINFO) &&
	     (eff.sa_handler == SIG_IGN || eff.sa_handler == SIG_DFL))) {
		sigset_t bus_set;

		sig_default(SIGBUS);
		sigdelset(&uc->uc_sigmask, SIGBUS);
		sigemptyset(&bus_set);
		sigaddset(&bus_set, SIGBUS);
		sigprocmask(SIG_UNBLOCK, &bus_set, NULL);
	}
	syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGBUS, &bus);
}

static void note_consumed(struct emul_map *m, uint64_t pg)
{
	size_t w = pg / 64;

	atomic_fetch_or_explicit(&m->bits[w], 1ULL << (pg % 64), memory_order_release);
	atomic_fetch_or_explicit(&m->summary[w / 64], 1ULL << (w % 64),
				 memory_order_release);
	atomic_store_explicit(&m->pending, 1, memory_order_release);
	__atomic_store_n(m->wake, 1, __ATOMIC_RELEASE);
}

bool udax__emul_fault_hook(int sig, void *siv, void *ucv)
{
	siginfo_t *si = siv;
	uintptr_t a = (uintptr_t)si->si_addr;
	uintptr_t page = a & ~(uintptr_t)(UDAX_PAGE_SIZE - 1);
	struct emul_table *t;
	bool ours = false, poison = false;
	size_t i;

	if (sig != SIGSEGV || si->si_code != SEGV_ACCERR)
		return false;
	atomic_fetch_add_explicit(&emul_in_handler, 1, memory_order_acq_rel);
	t = atomic_load_explicit(&emul_tab, memory_order_acquire);
	for (i = 0; t && i < t->cap; i++) {
		struct emul_map *m = atomic_load_explicit(&t->slot[i],
							  memory_order_acquire);
		uint64_t pg;

		if (!m || a - m->base >= m->len)
			continue;
		ours = true;
		pg = (page - m->base) >> UDAX_PAGE_SHIFT;
		poison = udax__bb_first_bad(m->media, pg * UDAX_SECTORS_PER_PAGE,
					    UDAX_SECTORS_PER_PAGE) != UINT64_MAX;
		if (poison)
			note_consumed(m, pg);
		else if (mprotect((void *)page, UDAX_PAGE_SIZE, m->prot))
			ours = false;	/* cannot open a clean page of a
					 * coalesced run: not poison, so the
					 * program gets its own SIGSEGV */
		break;
	}
	/* Done with the map before the signal: SIGBUS is not blocked here,
	 * so it arrives inside the syscall below and its handler may never
	 * return. */
	atomic_fetch_sub_explicit(&emul_in_handler, 1, memory_order_release);
	if (poison)
		queue_mce(page, ucv);
	return ours;
}
