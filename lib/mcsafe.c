/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-guarded copies: the user-space stand-in for Linux's copy_mc_*().
 *
 * Two kinds of guard.  On x86-64 the copies (udax__mc_copy(),
 * udax__mc_read(), udax__mc_persist()) are routines of mc_copy_x86_64.S
 * whose faulting instructions are listed in a table, as Linux lists
 * copy_mc's: nothing is set up per call.  The persistent ones are
 * pmem_copy.c's two families: its non-temporal one written again as
 * routines, its cached one as the plain routine and a write-back after.
 * Zeroing is a persistent copy from a buffer of zeros.  Every copy on
 * other architectures, every copy under valgrind (see mc_on_valgrind()),
 * and a copy before the handler is in place (or where sigaction failed)
 * runs memcpy-like C code under a sigsetjmp guard.  The
 * handler tells them apart by the interrupted instruction pointer.  The
 * guard's cost, measured by make bench ("guarded persistent copy /
 * persistent copy alone"): 64 B to a cold destination 0.49 under
 * sigsetjmp, 1.00 through the table.
 *
 * Handler chain.  One SIGBUS handler, installed once per process
 * (pthread_once) on top of whatever was there: poison on real devices
 * arrives as SIGBUS.  The same handler takes SIGSEGV only once something
 * asks for it (udax__mcsafe_init_segv(): the emulated device, whose poison
 * is page protection).  The previous sigactions are saved and every signal
 * that is not ours goes to them:
 *
 *   fault ─► mc_handler ─┬─ REG_RIP is a listed instruction, and the
 *                        │  signal is the copy's ─► RIP = its fixup, the
 *                        │  fault in %r10/%r11, return (the fixup settles
 *                        │  the count)
 *                        ├─ this thread is inside a sigsetjmp guard (and
 *                        │  not in a table copy), and the signal is the
 *                        │  copy's ─► record, siglongjmp to the copy
 *                        ├─ SIGBUS ─► watch.c sees it first
 *                        ├─ SIGSEGV, and the hook (emul-fault.c) says it
 *                        │  is emulated poison ─► return
 *                        └─ otherwise ─► the previous handler, or the
 *                           default action re-created (mc_chain())
 *
 * The copy's signal, for both kinds of guard: one an instruction raised
 * (mc_is_fault(): not sent, not the SI_KERNEL SIGBUS with which Linux kills
 * after a machine check it could not recover) and, for a memory-failure
 * report (BUS_MCEERR_AR, _AO), one naming memory in the copy's source or
 * destination, a huge page's report anywhere the page overlaps them
 * (guard_concerns()).  An AO about other memory, or an AR that was not this
 * copy's load (an injected machine check names any address), leaves the
 * copy running; the table copy's ranges come from the interrupted
 * registers (table_concerns(); why there, at mc_handler()).
 *
 * The table needs no per-thread state at all: the faulting instruction
 * belongs to the innermost copy, so a copy in a signal handler that
 * interrupted another copy, or a program that jumps out of a copy from
 * some handler of its own, leaves nothing behind.  Returning from the
 * handler restores the interrupted mask with the rest of the context.
 *
 * Exact progress from the table (udax__mc_settle()).  A fixup knows a
 * lower bound p of what is copied (mc_copy_x86_64.S says how); the fault
 * address gives c, the offset of the faulting page in src or dst (0 if
 * that page starts before them).  If p >= c, dst[0, c) is copied: the
 * answer.  Otherwise [p, c), which lies wholly below the faulting page, is
 * copied again with rep movsb; a fault there comes from a lower page and
 * lowers c, so this ends, with the contract of private.h: dst[0, c) is
 * copied and the faulting page starts at src + c or dst + c.  For a huge
 * page's report (si_addr_lsb 21, si_addr rounded down) "the faulting page"
 * is the huge page, as fault_cut() says for both guards; io.c narrows it.
 *
 * The sigsetjmp guard.  Per-thread state: a __thread pointer to the current guard (a sigjmp_buf,
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
 * The prefix re-copy rule (sigsetjmp guard).  memcpy may touch bytes out of order (glibc loads
 * the tail first, vector loops straddle pages), so bytes below the fault are
 * not known to be copied.  On a fault at F in the source, c = floor_page(F) -
 * src (0 if that page starts before src), likewise for the destination, and
 * [0, c) is copied again under a fresh guard.  c strictly decreases, so this
 * ends; the result honours the contract in private.h: dst[0, c) is copied
 * and the faulting page starts at src + c or dst + c.
 *
 * Signal safety of the handler, step by step: reading the table (constant
 * data), the TLS pointer and the saved sigactions (written before the
 * handlers were installed) is a plain load, and so is writing the
 * interrupted context's registers; the SIGSEGV hook keeps the same rules (see emul-fault.c);
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
#include <limits.h>
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

#if defined(__x86_64__)
#include <cpuid.h>

#define MC_TABLE 1
#define MC_HIDDEN __attribute__((visibility("hidden")))

/* mc_copy_x86_64.S: its listed instructions and their fixups, as offsets
 * from udax__mc_text_start, in address order, and where the interrupted
 * copy keeps its ranges (MC_REGS_*, as mc_copy_x86_64.S defines them). */
struct mc_ex {
	int32_t site, fixup, regs;
};

enum { MC_REGS_SHORT, MC_REGS_LOOP, MC_REGS_MOVSB };
extern const struct mc_ex udax__mc_extable[] MC_HIDDEN;
extern const struct mc_ex udax__mc_extable_end[] MC_HIDDEN;
extern const char udax__mc_text_start[] MC_HIDDEN;
extern const char udax__mc_text_end[] MC_HIDDEN;
extern size_t udax__mc_movsb_min MC_HIDDEN, udax__mc_movsb_max MC_HIDDEN;

int udax__mc_isa;
int udax__mc_pisa;
size_t udax__mc_pnt_min = SIZE_MAX;
#else
#define MC_TABLE 0
#endif

/* The fault as the handler hands it to a fixup in one register. */
static inline uint64_t mc_info_pack(int sig, int code, int lsb)
{
	return (uint64_t)(sig & 0xff) | (uint64_t)(lsb & 0xff) << 8 |
	       (uint64_t)(uint32_t)code << 32;
}

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
static bool mc_concerns(const siginfo_t *si, uintptr_t src, uintptr_t dst,
			size_t len)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	if (si->si_signo != SIGBUS || (si->si_code != BUS_MCEERR_AO &&
				       si->si_code != BUS_MCEERR_AR))
		return true;
	return (src && fault_cut(a, si->si_addr_lsb, src, len) >= 0) ||
	       fault_cut(a, si->si_addr_lsb, dst, len) >= 0;
}

static bool guard_concerns(const struct mc_guard *g, const siginfo_t *si)
{
	return mc_concerns(si, g->src, g->dst, g->len);
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

#if MC_TABLE
/* The entry for a fault at @ip, or NULL when @ip is not a listed
 * instruction.  Plain loads of constant data: signal-safe. */
static const struct mc_ex *mc_fixup(uintptr_t ip)
{
	uintptr_t base = (uintptr_t)udax__mc_text_start;
	const struct mc_ex *x;

	if (ip - base >= (uintptr_t)(udax__mc_text_end - udax__mc_text_start))
		return NULL;
	for (x = udax__mc_extable; x < udax__mc_extable_end; x++)
		if (base + (uintptr_t)x->site == ip)
			return x;
	return NULL;
}

/* Is @ip inside the copies' text (listed or not)? */
static bool mc_in_text(uintptr_t ip)
{
	return ip - (uintptr_t)udax__mc_text_start <
	       (uintptr_t)(udax__mc_text_end - udax__mc_text_start);
}

/*
 * Is @si the business of the table copy interrupted at entry @x?  The same
 * question guard_concerns() asks of a sigsetjmp guard, with the copy's
 * ranges read from the interrupted registers (mc_copy_x86_64.S, "The
 * copy's ranges from the registers").  Only memory-failure reports need
 * them; anything else an instruction raised is the copy's.
 */
static bool table_concerns(const struct mc_ex *x, const siginfo_t *si,
			   const greg_t *r)
{
	uintptr_t dst = (uintptr_t)r[REG_RDI], src = (uintptr_t)r[REG_RSI];
	uintptr_t len = (uintptr_t)r[REG_RDX], done = 0;

	if (x->regs == MC_REGS_LOOP) {
		done = (uintptr_t)r[REG_R9] - len;
		len = (uintptr_t)r[REG_R9];
	} else if (x->regs == MC_REGS_MOVSB) {
		done = len - (uintptr_t)r[REG_RCX];
	}
	return mc_concerns(si, src - done, dst - done, len);
}
#endif

static void mc_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct mc_guard *g;
	int saved_errno = errno;

	g = mc_cur;
#if MC_TABLE
	/*
	 * A listed instruction of mc_copy_x86_64.S was interrupted.  If the
	 * signal is the copy's fault, by the same rules as a sigsetjmp
	 * guard's (below): resume at its fixup with the fault in %r10 and
	 * %r11.  The interrupted context's mask comes back with it at
	 * sigreturn, whatever a wrapper blocked meanwhile.
	 *
	 * If it is not (a sent signal, the SI_KERNEL SIGBUS of an
	 * unrecoverable machine check, an AO or an AR about memory outside
	 * the copy's ranges as the registers give them), the copy is left
	 * alone: the signal goes where it goes outside copies (watch.c, then
	 * the program's handler or the default action), and returning resumes
	 * the listed instruction, which did not fault.  The innermost copy is
	 * this table copy, so a sigsetjmp guard further out (a copy that
	 * this copy's signal handler interrupted) is not asked, as only the
	 * innermost of nested sigsetjmp guards is.  Deciding here,
	 * from the registers, rather than in the fixup's settling keeps the
	 * program's handler running with the context the signal interrupted,
	 * and leaves the copy's own code out of it.
	 */
	{
		greg_t *r = uc->uc_mcontext.gregs;
		const struct mc_ex *x = mc_fixup((uintptr_t)r[REG_RIP]);

		if (x && mc_is_fault(sig, si->si_code) &&
		    table_concerns(x, si, r)) {
			int lsb = sig == SIGBUS && (si->si_code == BUS_MCEERR_AR ||
						    si->si_code == BUS_MCEERR_AO)
				  ? si->si_addr_lsb : 0;

			r[REG_RIP] = (greg_t)((uintptr_t)udax__mc_text_start +
					      (uintptr_t)x->fixup);
			r[REG_R10] = (greg_t)(uintptr_t)si->si_addr;
			r[REG_R11] = (greg_t)mc_info_pack(sig, si->si_code, lsb);
			return;
		}
		if (x)
			g = NULL;
		/*
		 * Any instruction of the copies: the innermost copy is a table
		 * copy, so no sigsetjmp guard further out is asked (above).
		 *
		 * An "action required" machine check at one that touches no
		 * memory is not this copy's load, since every load and store
		 * is listed: hardware reports a consumed load precisely, so
		 * this is an imprecise report (a machine check injected into a
		 * running CPU, as QEMU's).  Which range the copy is in cannot
		 * be read from registers between listed instructions, so the
		 * report is judged by its address alone: about a real device's
		 * mapping (the watch marks it), it is udax's: the copy goes on
		 * (memory that really went bad faults again at a listed
		 * instruction, where the fixup stops it) and io.c cuts a copy
		 * that completes at the page the watch made known.  About
		 * anything else it goes where reports outside copies go.
		 * Before this, it went to the default action and killed the
		 * reader of a 2 MiB device-dax in the kernel lab.
		 */
		if (!x && mc_in_text((uintptr_t)r[REG_RIP])) {
			g = NULL;
			if (sig == SIGBUS && si->si_code == BUS_MCEERR_AR &&
			    udax__watch_sigbus(si)) {
				errno = saved_errno;
				return;
			}
		}
	}
#endif
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

#if MC_TABLE
/*
 * Valgrind's "running on valgrind?" client request: a sequence that does
 * nothing on a CPU (the rotations add up to 128) and that valgrind answers
 * in %rdx.  Under valgrind the table cannot work: in its default mode it
 * keeps only RIP, RSP and RBP up to date at a faulting access, and the
 * fixups read the other registers.
 */
static bool mc_on_valgrind(void)
{
	unsigned long req[6] = { 0x1001 };	/* RUNNING_ON_VALGRIND */
	unsigned long res = 0;

	__asm__ volatile("rolq $3, %%rdi\n\trolq $13, %%rdi\n\t"
			 "rolq $61, %%rdi\n\trolq $51, %%rdi\n\t"
			 "xchgq %%rbx, %%rbx"
			 : "=d"(res) : "a"(req), "0"(res) : "cc", "memory");
	return res != 0;
}

#define CPUID7_EBX_ERMS		(1u << 9)
#define CPUID7_EDX_FSRM		(1u << 4)

/*
 * The copy for this CPU: the widest vectors that it and the OS (XCR0)
 * allow, and rep movsb for the sizes where glibc's memcpy takes it: from
 * 2112 bytes with FSRM (2048 per 16 bytes of vector with ERMS alone), up
 * to the L2 size on AMD (beyond it the vector loop does better there) and
 * without bound elsewhere; never without ERMS.  One exception, measured on
 * Zen 4: rep movsb starts slower than the vector loop by a fixed ~6 ns
 * (4 KiB hot: 41 ns against 35.5), which only stops mattering once the
 * copy no longer fits the L1 data cache; so on AMD it starts at half the
 * L1D size.
 */
static int mc_choose(void)
{
	unsigned int a = 0, b = 0, c = 0, d = 0, b7 = 0, d7 = 0, vendor = 0;
	unsigned int top = __get_cpuid_max(0, &vendor);
	unsigned int ext = __get_cpuid_max(0x80000000, NULL);
	int isa = UDAX_MC_SSE2, vec = 16;

	if (top >= 7)
		__cpuid_count(7, 0, a, b7, c, d7);
	__get_cpuid(1, &a, &b, &c, &d);
	if ((c & bit_OSXSAVE) && (c & bit_AVX)) {
		unsigned int lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		if ((lo & 0x6) == 0x6 && (b7 & bit_AVX2)) {
			isa = UDAX_MC_AVX2;
			vec = 32;
		}
		if ((lo & 0xe6) == 0xe6 && (b7 & bit_AVX512F) &&
		    (b7 & bit_AVX512VL)) {
			isa = UDAX_MC_AVX512;
			vec = 64;
		}
	}
	if (b7 & CPUID7_EBX_ERMS) {
		size_t min = d7 & CPUID7_EDX_FSRM ? 2112 : 2048 * (size_t)vec / 16;
		size_t max = SIZE_MAX;

		if (vendor == signature_AMD_ebx && ext >= 0x80000006) {
			__cpuid(0x80000005, a, b, c, d);
			if (c >> 24 && (size_t)(c >> 24) * 512 > min)
				min = (size_t)(c >> 24) * 512;
			__cpuid(0x80000006, a, b, c, d);
			if (c >> 16)
				max = (size_t)(c >> 16) * 1024;
		}
		udax__mc_movsb_min = min;
		udax__mc_movsb_max = max;
	}
	return isa;
}
#endif

static void mc_install(void)
{
#if MC_TABLE
	/* Under valgrind every copy takes the sigsetjmp guard. */
	int isa = mc_on_valgrind() ? 0 : mc_choose(), pisa = 0;
	size_t nt_min;

	/*
	 * The persistent copies take the table with the persist choice's
	 * stores, vectors no wider than the reads may use (AVX-512 needs VL
	 * for its edges): its non-temporal family, and the cached one through
	 * the reads' routine.  movdir64b needs only SSE2 besides.
	 */
	udax__persist_route(&nt_min, &pisa);
	if (!isa || (pisa > isa && pisa != UDAX_MC_MOVDIR64B))
		pisa = isa;
	udax__mc_pnt_min = nt_min;
#else
	/* Settle the persist choice here, not under a guard on first use. */
	udax__persist_impl();
#endif
	mc_init_err = mc_take(SIGBUS, &mc_old_bus);
	if (mc_init_err)
		return;
	__atomic_store_n(&mc_installed, 1, __ATOMIC_RELEASE);
#if MC_TABLE
	/* Copies through the table only once the handler knows the table. */
	__atomic_store_n(&udax__mc_isa, isa, __ATOMIC_RELEASE);
	__atomic_store_n(&udax__mc_pisa, pisa, __ATOMIC_RELEASE);
#endif
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

#if MC_TABLE
static void fault_set(struct udax_fault *f, const struct udax_mc_raw *raw,
		      bool in_src)
{
	f->addr = (const void *)raw->addr;
	f->signo = (int)(raw->info & 0xff);
	f->lsb = (int)(raw->info >> 8 & 0xff);
	f->code = (int)(uint32_t)(raw->info >> 32);
	f->in_src = in_src;
}

/*
 * A table-guarded copy faulted with at most @rem bytes not copied: settle
 * the count (see "Exact progress from the table" above).  Called by the
 * routines' fixups, on the stack of the copy.
 */
size_t udax__mc_settle(void *dst, const void *src, size_t len, size_t rem,
		       const struct udax_mc_raw *raw, struct udax_fault *f)
{
	struct udax_mc_raw r = *raw;
	size_t done = len - rem;

	/*
	 * @len is the part being copied: all of it, then [0, c) once a fault
	 * cut it to c.  The handler took the fault as this copy's for that
	 * part (with a huge page's lsb, anywhere the page overlaps it), so
	 * every cut is below the last and this ends.
	 */
	for (;;) {
		int lsb = (int)(r.info >> 8 & 0xff);
		intptr_t cut = fault_cut(r.addr, lsb, (uintptr_t)src, len);
		bool in_src = cut >= 0;

		if (cut < 0)
			cut = fault_cut(r.addr, lsb, (uintptr_t)dst, len);
		fault_set(f, &r, in_src);
		if (cut <= 0)
			return 0;
		if ((size_t)cut <= done)
			return (size_t)cut;
		len = (size_t)cut;
		rem = udax__mc_movsb_raw(dst, src, len, &r, done);
		if (!rem)
			return len;
		done = len - rem;
	}
}

size_t udax__mc_psettle(void *dst, const void *src, size_t len, size_t rem,
			const struct udax_mc_raw *raw, struct udax_fault *f)
{
	size_t c;

	/* The non-temporal stores so far before the re-copy's plain ones. */
	__asm__ volatile("sfence" ::: "memory");
	c = udax__mc_settle(dst, src, len, rem, raw, f);
	udax__persist_flush(dst, c);
	return c;
}

size_t udax__mc_persist_other(void *dst, const void *src, size_t len,
			      struct udax_fault *f)
{
	int isa = __atomic_load_n(&udax__mc_pisa, __ATOMIC_RELAXED);
	struct udax_fault g;
	size_t c;

	if (isa && len >= udax__mc_pnt_min) {
		if (isa == UDAX_MC_AVX512)
			return udax__mc_pcopy_avx512(dst, src, len, f);
		if (isa == UDAX_MC_AVX2)
			return udax__mc_pcopy_avx2(dst, src, len, f);
		if (isa == UDAX_MC_MOVDIR64B)
			return udax__mc_pcopy_movdir64b(dst, src, len, f);
		return udax__mc_pcopy_sse2(dst, src, len, f);
	}
	if (isa) {
		/*
		 * The cached family: plain stores, then the write-back.  The
		 * write-back is not guarded: it touches only lines just
		 * written, which fault only if the program unmaps them under
		 * the copy (as Linux's flushes after copy_mc would).
		 */
		c = udax__mc_read(dst, src, len, f);
		udax__persist_flush(dst, c);
		return c;
	}
	c = mc_run(dst, src, len, true, false, &g);
	if (c < len)
		*f = g;
	return c;
}

size_t udax__mc_copy_early(void *dst, const void *src, size_t len,
			   struct udax_fault *f)
{
	/* udax_open() installed the handlers; this is for internal callers
	 * that copy before any open. */
	udax__mcsafe_init();
	if (__atomic_load_n(&udax__mc_isa, __ATOMIC_ACQUIRE))
		return udax__mc_read(dst, src, len, f);
	/* No handler (sigaction failed): as before the table existed. */
	return mc_run(dst, src, len, false, false, f);
}
#endif

size_t udax__mc_copy(void *dst, const void *src, size_t len, bool persist,
		     struct udax_fault *f)
{
#if MC_TABLE
	*f = (struct udax_fault){ 0 };
	if (persist)
		return udax__mc_persist(dst, src, len, f);
	return udax__mc_read(dst, src, len, f);
#else
	return mc_run(dst, src, len, persist, false, f);
#endif
}

#if MC_TABLE
/*
 * The source of a zeroing through the persistent copies: never written,
 * so every page of it reads the kernel's shared zero page (no memory, and
 * hot in the cache after the first line).
 */
static char mc_zeros[64 * 1024] __attribute__((aligned(4096)));
#endif

size_t udax__mc_zero(void *dst, size_t len, struct udax_fault *f)
{
#if MC_TABLE
	if (__atomic_load_n(&udax__mc_pisa, __ATOMIC_RELAXED)) {
		size_t done = 0;

		*f = (struct udax_fault){ 0 };
		while (done < len) {
			/* Pieces end at page boundaries of dst (but the last),
			 * so that a piece's partial lines are only its ends. */
			uintptr_t at = (uintptr_t)dst + done;
			size_t n = sizeof(mc_zeros) - (at & ~PAGE_MASK);
			size_t c;

			if (n > len - done)
				n = len - done;
			c = udax__mc_persist((char *)dst + done, mc_zeros, n, f);
			if (c < n) {
				/* The faulting page (a huge page: all of it) as
				 * the whole range sees it. */
				intptr_t cut = fault_cut((uintptr_t)f->addr,
							 f->lsb,
							 (uintptr_t)dst, len);

				return cut >= 0 && (size_t)cut < done + c ?
				       (size_t)cut : done + c;
			}
			done += c;
		}
		return done;
	}
#endif
	return mc_run(dst, NULL, len, true, true, f);
}
