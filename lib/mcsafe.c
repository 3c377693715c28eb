/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-guarded copies: the user-space stand-in for Linux's copy_mc_*().
 *
 * Handler chain.  One SIGBUS handler, installed once per process
 * (pthread_once) on top of whatever was there: poison on real devices
 * arrives as SIGBUS.  The same handler takes SIGSEGV only once something
 * asks for it (udax__mcsafe_init_segv(): the emulated device, whose poison
 * is page protection).  The previous sigactions are saved and every signal
 * that is not ours goes to them:
 *
 *   fault ─► mc_handler ─┬─ this thread is inside a guarded copy and the
 *                        │  kernel sent it ─► record, siglongjmp to the copy
 *                        ├─ SIGSEGV, and the hook (emul-fault.c) says it
 *                        │  is emulated poison ─► return
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
 * plain load; the SIGSEGV hook keeps the same rules (see emul-fault.c);
 * sigaction, sigprocmask and raise are on the async-signal-safe list;
 * siglongjmp out of a handler that interrupted our own code is allowed
 * because that code (memcpy, the persist loops) holds no locks.  errno is
 * preserved on every path that returns.
 *
 * Known limitation: a program that installs its own SIGSEGV/SIGBUS handler
 * after udax__mcsafe_init() must chain to the handler it replaces (as ASan
 * and most runtimes do); otherwise guarded copies that fault crash the
 * program and emulated poison shows up as SIGSEGV.  Without the SIGSEGV
 * handler (no emulated device open), a caller's buffer that is not mapped
 * at all crashes a copy as it would crash memcpy; one that raises SIGBUS
 * (a mapping of a truncated file) is caught.
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
	int signo, code, lsb;
};

static __thread struct mc_guard *mc_cur __attribute__((tls_model("initial-exec")));

static pthread_once_t mc_once = PTHREAD_ONCE_INIT;
static pthread_once_t mc_segv_once = PTHREAD_ONCE_INIT;
static int mc_init_err, mc_segv_err;
static int mc_installed;	/* set once the SIGBUS handler is in place */
/* Written once before our handler for that signal exists; read-only
 * afterwards. */
static struct sigaction mc_old_segv, mc_old_bus;
static bool (*mc_segv_hook)(int sig, void *si, void *uc);

static void mc_handler(int sig, siginfo_t *si, void *ucv);

static void sig_set_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

/* Signal-safe: the SIGBUS disposition a program's SIGBUS would meet. */
void udax__mcsafe_sigbus_action(struct sigaction *eff)
{
	struct sigaction cur;

	sigaction(SIGBUS, NULL, &cur);
	*eff = (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == mc_handler ?
	       mc_old_bus : cur;
}

/*
 * The memory a fault names: its page, or for consumed poison in a huge
 * mapping (si_addr_lsb > 12, si_addr rounded down) the whole huge page.
 */
static inline uintptr_t fault_span(uintptr_t a, int lsb, uintptr_t *start)
{
	uintptr_t span = lsb > UDAX_PAGE_SHIFT && lsb < 64 ? (uintptr_t)1 << lsb
							   : 0;

	*start = span ? a & ~(span - 1) : a & PAGE_MASK;
	return span;
}

/*
 * Where a fault at @a leaves a copy of @len bytes at @base: the offset of the
 * faulting page, 0 if that page starts below @base; -1 if @a is outside.  A
 * huge page counts as the copy's when it overlaps the copy at all.
 */
static inline intptr_t fault_cut(uintptr_t a, int lsb, uintptr_t base,
				 size_t len)
{
	uintptr_t page, span = fault_span(a, lsb, &page);

	if (span ? page - base >= len && base - page >= span : a - base >= len)
		return -1;
	return page > base ? (intptr_t)(page - base) : 0;
}

/*
 * A memory-failure report of memory this copy does not touch is not the
 * copy's business: an asynchronous one (BUS_MCEERR_AO: poison found, not
 * consumed), or an "action required" one that was not this copy's load
 * (an injected machine check names whatever address it was given).
 */
static bool guard_concerns(const struct mc_guard *g, const siginfo_t *si)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	if (si->si_signo != SIGBUS || (si->si_code != BUS_MCEERR_AO &&
				       si->si_code != BUS_MCEERR_AR))
		return true;
	return (g->src && fault_cut(a, si->si_addr_lsb, g->src, g->len) >= 0) ||
	       fault_cut(a, si->si_addr_lsb, g->dst, g->len) >= 0;
}

/* ---- the handler --------------------------------------------------------- */

/*
 * Did an instruction raise it (and raise it again when run again)?  A
 * SIGBUS with another code was sent: SI_KERNEL is how Linux kills a
 * process after a machine check it could not recover.  A SIGSEGV with
 * SI_KERNEL is a general protection fault (a non-canonical address: the
 * mode tag), a fault like the others.
 */
static bool mc_is_fault(int sig, int code)
{
	if (sig == SIGBUS)
		return code >= BUS_ADRALN && code <= BUS_MCEERR_AO;
	return code > 0;
}

/*
 * Not ours: behave as if @old had been the handler.  The kernel would have
 * blocked old->sa_mask (and the signal, without SA_NODEFER) around it.
 */
static void mc_chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &mc_old_bus : &mc_old_segv;
	sigset_t mask, saved;

	if (!(old->sa_flags & SA_SIGINFO)) {
		bool fault = mc_is_fault(sig, si->si_code);
		bool mce = sig == SIGBUS && (si->si_code == BUS_MCEERR_AR ||
					     si->si_code == BUS_MCEERR_AO);

		/* Ignored: a sent signal, or a report of poison elsewhere
		 * (AO is sent, not forced, and the kernel drops it). */
		if (old->sa_handler == SIG_IGN &&
		    (si->si_code <= 0 || si->si_code == BUS_MCEERR_AO))
			return;
		if (old->sa_handler == SIG_DFL || old->sa_handler == SIG_IGN) {
			/*
			 * A hardware fault re-executes and takes the default
			 * action (the kernel forces SIG_DFL on an ignored
			 * fault too); a sent signal must be raised again.
			 * Memory-failure reports need not recur: the one a
			 * MADV_HWPOISON caller gets, an injected machine
			 * check's, an AO, the SI_KERNEL SIGBUS of a machine
			 * check Linux could not recover.  They are queued
			 * again as they came, unblocked, so that the default
			 * action takes the process as the kernel's would.
			 */
			sig_set_default(sig);
			if (si->si_code <= 0) {
				raise(sig);
			} else if (mce || !fault) {
				sigdelset(&((ucontext_t *)uc)->uc_sigmask, sig);
				syscall(SYS_rt_tgsigqueueinfo, getpid(),
					(pid_t)syscall(SYS_gettid), sig, si);
			}
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

	/* not a fault: sent by someone (kill, sigqueue, the kernel) */
	if (g && mc_is_fault(sig, si->si_code) && guard_concerns(g, si)) {
		if (guard_live(g, uc)) {
			mc_cur = g->prev;
			g->addr = si->si_addr;
			g->signo = sig;
			g->code = si->si_code;
			g->lsb = sig == SIGBUS && (si->si_code == BUS_MCEERR_AR ||
						   si->si_code == BUS_MCEERR_AO)
				 ? si->si_addr_lsb : 0;
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
	/* Poison consumed outside a copy, in a real device's mapping: known
	 * to its device (watch.c), then the program's handler as ever. */
	if (sig == SIGBUS && si->si_code > 0)
		udax__watch_sigbus(si);
	if (sig == SIGSEGV && mc_segv_hook && mc_segv_hook(sig, si, uc)) {
		errno = saved_errno;
		return;
	}
	mc_chain(sig, si, ucv);
	errno = saved_errno;
}

static int mc_take(int sig, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mc_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, NULL, old) || sigaction(sig, &sa, NULL))
		return -errno;
	return 0;
}

static void mc_install(void)
{
	/* Settle the persist choice here, not under a guard on first use. */
	udax__persist_impl();
	mc_init_err = mc_take(SIGBUS, &mc_old_bus);
	if (!mc_init_err)
		__atomic_store_n(&mc_installed, 1, __ATOMIC_RELEASE);
}

static void mc_install_segv(void)
{
	mc_segv_err = mc_take(SIGSEGV, &mc_old_segv);
}

int udax__mcsafe_init(void)
{
	pthread_once(&mc_once, mc_install);
	return mc_init_err;
}

int udax__mcsafe_init_segv(bool (*hook)(int sig, void *si, void *uc))
{
	int rc = udax__mcsafe_init();

	if (rc)
		return rc;
	/* Set before the handler can see SIGSEGV; one hook per process. */
	if (hook)
		__atomic_store_n(&mc_segv_hook, hook, __ATOMIC_RELEASE);
	pthread_once(&mc_segv_once, mc_install_segv);
	return mc_segv_err;
}

/* ---- guarded copies ------------------------------------------------------ */

static size_t mc_run(void *dst, const void *src, size_t len, bool persist,
		     bool zero, struct udax_fault *f)
{
	struct mc_guard g;
	volatile size_t c = len;

	f->addr = NULL;
	f->signo = 0;
	f->code = 0;
	f->lsb = 0;
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
				cut = fault_cut(a, vg->lsb, vg->src, vg->len);
				in_src = cut >= 0;
			}
			if (cut < 0)
				cut = fault_cut(a, vg->lsb, vg->dst, vg->len);
			/*
			 * Every fault lowers c, so the last one recorded is
			 * the lowest: the one at the page where we stop.
			 */
			f->addr = vg->addr;
			f->signo = vg->signo;
			f->code = vg->code;
			f->lsb = vg->lsb;
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
