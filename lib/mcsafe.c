/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-guarded copies: the user-space stand-in for Linux's copy_mc_*().
 *
 * Handler chain.  One SIGBUS and one SIGSEGV handler, installed once per
 * process (pthread_once) on top of whatever was there; the previous
 * sigactions are saved and every signal that is not ours goes to them:
 *
 *   fault ─► mc_handler ─┬─ this thread is inside a guarded copy and the
 *                        │  kernel sent it ─► record, siglongjmp to the copy
 *                        ├─ SIGSEGV/SEGV_ACCERR inside a registered poison
 *                        │  map ─► note the page, queue SIGBUS/BUS_MCEERR_AR
 *                        │  to this thread, return (see poison_hit())
 *                        └─ otherwise ─► the previous handler, or the
 *                           default action re-created (mc_chain())
 *
 * Per-thread state.  A __thread pointer to the current guard (a sigjmp_buf,
 * the ranges and the fault record) living in udax__mc_copy()'s frame.  It is
 * initial-exec TLS so the handler reads it with a plain %fs-relative load:
 * the general-dynamic model may call __tls_get_addr, which can allocate and
 * is not async-signal-safe.  The pointer is set just before the copy and
 * cleared just after it (with compiler barriers), and the handler clears it
 * before jumping, so a fault outside a copy never reaches a stale buffer.
 * A guard whose frame is already gone (the program jumped out of a copy from
 * some other handler) is also ignored: its address must be above the
 * interrupted stack pointer.  Guards nest (a copy from a signal handler that
 * interrupted a copy), each remembering the one it shadows.
 *
 * Why SA_NODEFER, an empty sa_mask and sigsetjmp(env, 0).  Saving the signal
 * mask costs a sigprocmask system call per copy (~100 ns vs ~1.6 ns for a
 * bare sigsetjmp).  Not saving it is only correct if the handler runs with
 * the interrupted context's mask unchanged: then the siglongjmp leaves the
 * mask exactly as the copy found it.  So the handler adds nothing to the
 * mask: no sa_mask, and SA_NODEFER so that the signal itself is not blocked.
 * Before jumping the handler still sets the mask to the interrupted one
 * (uc_sigmask): a no-op when the kernel called us, but a runtime that wraps
 * handlers may have blocked more (TSan blocks every signal), and faults are
 * rare enough for the system call.  One sigsetjmp per copy, never per page:
 * the fault address, not the progress, says where the copy stopped.
 *
 * The prefix re-copy rule.  memcpy may touch bytes out of order (glibc loads
 * the tail first, vector loops straddle pages), so bytes below the fault are
 * not known to be copied.  On a fault at F in the source, c = floor_page(F) -
 * src (0 if that page starts before src), likewise for the destination, and
 * [0, c) is copied again under a fresh guard.  c strictly decreases, so this
 * ends; the result honours the contract in private.h: dst[0, c) is copied
 * and the faulting page starts at src + c or dst + c.
 *
 * Signal safety of the handler, step by step: reading the TLS pointer and
 * the saved sigactions (written before the handlers were installed) is a
 * plain load; the poison table is read with atomics only; the pending ring
 * is lock-free CAS; getpid, gettid, rt_tgsigqueueinfo, sigaction,
 * sigprocmask and raise are on the async-signal-safe list;
 * siglongjmp out of a handler that interrupted our own code is allowed
 * because that code (memcpy, the persist loops) holds no locks.  errno is
 * preserved on every path that returns.
 *
 * Known limitation: a program that installs its own SIGSEGV/SIGBUS handler
 * after udax__mcsafe_init() must chain to the handler it replaces (as ASan
 * and most runtimes do); otherwise guarded copies that fault crash the
 * program and emulated poison shows up as SIGSEGV.  Also, every SEGV_ACCERR
 * inside a registered poison map is taken to be poison: the owner must not
 * protect those pages for any other reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "private.h"

#define PAGE_MASK (~(uintptr_t)(UDAX_PAGE_SIZE - 1))

#define barrier() __asm__ volatile("" ::: "memory")

struct mc_guard {
	sigjmp_buf env;
	struct mc_guard *prev;		/* the guard this one shadows */
	uintptr_t src, dst, len;	/* src is 0 for a zeroing */
	/* written by the handler */
	const void *addr;
	int signo, code;
};

static __thread struct mc_guard *mc_cur __attribute__((tls_model("initial-exec")));

static pthread_once_t mc_once = PTHREAD_ONCE_INIT;
static int mc_init_err;
static int mc_installed;	/* set once the handlers are in place */
/* Written once before our handlers exist; read-only afterwards. */
static struct sigaction mc_old_segv, mc_old_bus;

/* ---- emulated poison maps ---------------------------------------------- */

#define POISON_SLOTS 64
#define POISON_RING 64

/*
 * base != 0 marks a slot live; the handler matches on base/len with acquire
 * loads and never blocks.  The ring holds page + 1 (0 = empty); producers in
 * signal context CAS into any empty entry, the drainer swaps entries back to
 * 0; order is not kept (the caller wants the set of pages).
 */
struct poison_slot {
	atomic_uintptr_t base;
	atomic_size_t len;
	atomic_int used;		/* claimed by register */
	/* Non-zero when the ring may hold pages: the drain runs at the start
	 * of every udax call and must cost one load when nothing happened. */
	atomic_uint pending;
	_Atomic uint64_t ring[POISON_RING];
};

static struct poison_slot poison_slots[POISON_SLOTS];

int udax__poison_map_register(void *base, size_t len)
{
	if (!base || !len)
		return -EINVAL;
	for (int i = 0; i < POISON_SLOTS; i++) {
		struct poison_slot *p = &poison_slots[i];
		int zero = 0;

		if (!atomic_compare_exchange_strong(&p->used, &zero, 1))
			continue;
		for (int j = 0; j < POISON_RING; j++)
			atomic_store_explicit(&p->ring[j], 0, memory_order_relaxed);
		atomic_store_explicit(&p->pending, 0, memory_order_relaxed);
		atomic_store_explicit(&p->len, len, memory_order_relaxed);
		/* publishes len and the empty ring to the handler */
		atomic_store_explicit(&p->base, (uintptr_t)base,
				      memory_order_release);
		return i;
	}
	return -ENOSPC;
}

void udax__poison_map_unregister(int slot)
{
	struct poison_slot *p;

	if (slot < 0 || slot >= POISON_SLOTS)
		return;
	p = &poison_slots[slot];
	atomic_store_explicit(&p->base, 0, memory_order_release);
	atomic_store_explicit(&p->len, 0, memory_order_release);
	atomic_store_explicit(&p->used, 0, memory_order_release);
}

size_t udax__poison_map_drain(int slot, uint64_t *pages, size_t max)
{
	struct poison_slot *p;
	size_t n = 0;

	if (slot < 0 || slot >= POISON_SLOTS)
		return 0;
	p = &poison_slots[slot];
	if (udax__likely(!atomic_load_explicit(&p->pending, memory_order_relaxed)))
		return 0;
	/* Reset before scanning: a page noted from now on sets it again. */
	atomic_exchange_explicit(&p->pending, 0, memory_order_acquire);
	for (int j = 0; j < POISON_RING && n < max; j++) {
		uint64_t v = atomic_load_explicit(&p->ring[j],
						  memory_order_relaxed);

		if (!v)
			continue;
		v = atomic_exchange_explicit(&p->ring[j], 0,
					     memory_order_acquire);
		if (v)
			pages[n++] = v - 1;
	}
	if (n == max)	/* the caller's buffer is full: more may be left */
		atomic_store_explicit(&p->pending, 1, memory_order_relaxed);
	return n;
}

/* Signal context: remember @page once; drop it when the ring is full. */
static void poison_note(struct poison_slot *p, uint64_t page)
{
	uint64_t want = page + 1;

	for (int j = 0; j < POISON_RING; j++)
		if (atomic_load_explicit(&p->ring[j], memory_order_relaxed) ==
		    want)
			return;	/* a handler that returns faults again */
	for (int j = 0; j < POISON_RING; j++) {
		uint64_t zero = 0;

		if (atomic_compare_exchange_strong_explicit(&p->ring[j], &zero,
				want, memory_order_release, memory_order_relaxed)) {
			atomic_store_explicit(&p->pending, 1, memory_order_release);
			return;
		}
	}
}

static void sig_set_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

/*
 * A plain load or store hit a page that emulated poison protects: give the
 * program what Linux gives for consumed poison.  SIGBUS is queued to this
 * thread and delivered before the faulting instruction runs again; if the
 * program's handler returns, the instruction faults again, as on hardware.
 * When SIGBUS would not reach a handler (blocked in the interrupted context,
 * ignored, or default), do what the kernel's force_sig does: default action,
 * unblocked, so the queued signal kills the process right here with SIGBUS.
 */
static void mc_handler(int sig, siginfo_t *si, void *ucv);

static bool poison_hit(siginfo_t *si, ucontext_t *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	struct sigaction cur;
	const struct sigaction *eff;
	siginfo_t bus;
	int i;

	for (i = 0; i < POISON_SLOTS; i++) {
		struct poison_slot *p = &poison_slots[i];
		uintptr_t base = atomic_load_explicit(&p->base,
						      memory_order_acquire);
		size_t len = atomic_load_explicit(&p->len, memory_order_relaxed);

		if (base && a - base < len) {
			poison_note(p, (a - base) >> UDAX_PAGE_SHIFT);
			break;
		}
	}
	if (i == POISON_SLOTS)
		return false;

	memset(&bus, 0, sizeof(bus));
	bus.si_signo = SIGBUS;
	bus.si_code = BUS_MCEERR_AR;
	bus.si_addr = (void *)(a & PAGE_MASK);
	bus.si_addr_lsb = UDAX_PAGE_SHIFT;

	/* Whose SIGBUS disposition counts: ours forwards to the saved one. */
	sigaction(SIGBUS, NULL, &cur);
	eff = (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == mc_handler ?
	      &mc_old_bus : &cur;
	if (sigismember(&uc->uc_sigmask, SIGBUS) ||
	    (!(eff->sa_flags & SA_SIGINFO) &&
	     (eff->sa_handler == SIG_IGN || eff->sa_handler == SIG_DFL))) {
		sigset_t bus_set;

		sig_set_default(SIGBUS);
		sigdelset(&uc->uc_sigmask, SIGBUS);
		sigemptyset(&bus_set);
		sigaddset(&bus_set, SIGBUS);
		sigprocmask(SIG_UNBLOCK, &bus_set, NULL);
	}
	syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGBUS, &bus);
	return true;
}

/* ---- the handler --------------------------------------------------------- */

/*
 * Not ours: behave as if @old had been the handler.  The kernel would have
 * blocked old->sa_mask (and the signal, without SA_NODEFER) around it.
 */
static void mc_chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &mc_old_bus : &mc_old_segv;
	sigset_t mask, saved;

	if (!(old->sa_flags & SA_SIGINFO)) {
		if (old->sa_handler == SIG_IGN && si->si_code <= 0)
			return;
		if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
			/*
			 * A hardware fault re-executes and takes the default
			 * action (the kernel forces SIG_DFL on an ignored
			 * fault too); a sent signal must be raised again.
			 */
			sig_set_default(sig);
			if (si->si_code <= 0)
				raise(sig);
			return;
		}
	}
	mask = old->sa_mask;
	if (!(old->sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	sigprocmask(SIG_BLOCK, &mask, &saved);
	if (old->sa_flags & SA_SIGINFO)
		old->sa_sigaction(sig, si, uc);
	else
		old->sa_handler(sig);
	sigprocmask(SIG_SETMASK, &saved, NULL);
}

/* Is @g's frame still live in the interrupted context? */
static bool guard_live(const struct mc_guard *g, const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] < (uintptr_t)g;
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.sp < (uintptr_t)g;
#else
	return true;
#endif
}

static void mc_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct mc_guard *g = mc_cur;
	int saved_errno = errno;

	/* si_code <= 0: sent by someone (kill, sigqueue), not a fault */
	if (g && si->si_code > 0) {
		if (guard_live(g, uc)) {
			mc_cur = g->prev;
			g->addr = si->si_addr;
			g->signo = sig;
			g->code = si->si_code;
			/*
			 * Normally a no-op (see above), but a wrapper between
			 * the kernel and us may have blocked more (TSan runs
			 * handlers with every signal blocked).  One system
			 * call per fault, none per copy.
			 */
			sigprocmask(SIG_SETMASK, &uc->uc_sigmask, NULL);
			siglongjmp(g->env, 1);
		}
		mc_cur = NULL;	/* stale: its copy was jumped out of */
	}
	if (sig == SIGSEGV && si->si_code == SEGV_ACCERR && poison_hit(si, uc)) {
		errno = saved_errno;
		return;
	}
	mc_chain(sig, si, ucv);
	errno = saved_errno;
}

static void mc_install(void)
{
	struct sigaction sa;

	/* Settle the persist choice here, not under a guard on first use. */
	udax__persist_impl();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mc_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, NULL, &mc_old_segv) ||
	    sigaction(SIGBUS, NULL, &mc_old_bus) ||
	    sigaction(SIGSEGV, &sa, NULL) ||
	    sigaction(SIGBUS, &sa, NULL))
		mc_init_err = -errno;
	else
		__atomic_store_n(&mc_installed, 1, __ATOMIC_RELEASE);
}

int udax__mcsafe_init(void)
{
	pthread_once(&mc_once, mc_install);
	return mc_init_err;
}

/* ---- guarded copies ------------------------------------------------------ */

/*
 * Where a fault at @a leaves a copy of @len bytes at @base: the offset of the
 * faulting page, 0 if that page starts below @base; -1 if @a is outside.
 */
static inline intptr_t fault_cut(uintptr_t a, uintptr_t base, size_t len)
{
	uintptr_t page = a & PAGE_MASK;

	if (a - base >= len)
		return -1;
	return page > base ? (intptr_t)(page - base) : 0;
}

static size_t mc_run(void *dst, const void *src, size_t len, bool persist,
		     bool zero, struct udax_fault *f)
{
	struct mc_guard g;
	volatile size_t c = len;

	f->addr = NULL;
	f->signo = 0;
	f->code = 0;
	f->in_src = false;
	if (!len)
		return 0;
	/* udax_open() installed the handlers; this is for internal callers
	 * that copy before any open, at the cost of one load. */
	if (udax__unlikely(!__atomic_load_n(&mc_installed, __ATOMIC_ACQUIRE)))
		udax__mcsafe_init();

	g.src = (uintptr_t)src;
	g.dst = (uintptr_t)dst;
	for (;;) {
		if (!sigsetjmp(g.env, 0)) {
			size_t n = c;

			g.len = n;
			g.prev = mc_cur;
			barrier();
			mc_cur = &g;
			barrier();
			if (zero)
				udax__memset_persist(dst, 0, n);
			else if (persist)
				udax__memcpy_persist(dst, src, n);
			else
				memcpy(dst, src, n);
			barrier();
			mc_cur = g.prev;
			barrier();
			return n;
		}
		/* Faulted: the handler restored mc_cur. */
		{
			const volatile struct mc_guard *vg = &g;
			uintptr_t a = (uintptr_t)vg->addr;
			intptr_t cut = -1;
			bool in_src = false;

			if (!zero) {
				cut = fault_cut(a, vg->src, vg->len);
				in_src = cut >= 0;
			}
			if (cut < 0)
				cut = fault_cut(a, vg->dst, vg->len);
			/*
			 * Every fault lowers c, so the last one recorded is
			 * the lowest: the one at the page where we stop.
			 */
			f->addr = vg->addr;
			f->signo = vg->signo;
			f->code = vg->code;
			f->in_src = in_src;
			if (cut <= 0)
				return 0;
			c = (size_t)cut;
		}
	}
}

size_t udax__mc_copy(void *dst, const void *src, size_t len, bool persist,
		     struct udax_fault *f)
{
	return mc_run(dst, src, len, persist, false, f);
}

size_t udax__mc_zero(void *dst, size_t len, struct udax_fault *f)
{
	return mc_run(dst, NULL, len, true, true, f);
}
