/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-guarded copies for x86-64 that set nothing up per call, as Linux's
 * copy_mc_enhanced_fast_string(): every load and store that may fault is
 * listed in a table (EX below), and mcsafe.c's handler, finding the
 * interrupted RIP there, resumes at the listed fixup instead of jumping to
 * a buffer.  A copy that does not fault costs what the copy costs.
 *
 *   size_t udax__mc_copy_<isa>(void *dst, const void *src, size_t len,
 *                              struct udax_fault *f)
 *
 * <isa>: sse2, avx2, avx512.  Sizes as glibc's memcpy does them: head and
 * tail vectors up to 8 vectors, then rep movsb between udax__mc_movsb_min
 * and _max (set from CPUID), else a loop of 4 vectors.  Returns @len, or
 * after a fault what udax__mc_copy() returns (private.h): the fixup hands
 * the fault (%r10: si_addr, %r11: signo | lsb << 8 | code << 32, left there
 * by the handler) and a lower bound of the progress to udax__mc_settle(),
 * which finds the faulting page and fills *f.  *f is untouched otherwise.
 *
 *   size_t udax__mc_movsb_raw(void *dst, const void *src, size_t len,
 *                             struct udax_mc_raw *raw, size_t from)
 *
 * rep movsb alone, for the settling itself: copies [from, len) (from <= len,
 * [0, from) being copied already) and returns 0, or after a fault r > 0
 * such that dst[0, len - r) is copied, with the fault in *raw.
 *
 * What the fixups rely on.  The short paths load head and tail before they
 * store, in no useful order, and move no register: their fixup says nothing
 * is known copied.  The loop's paths keep dst[0, %rdi - dst) copied and %rdx
 * the bytes left, moving %rdi, %rsi and %rdx only after an iteration's
 * stores, with the length in %r9 to find dst and src again.  rep movsb
 * leaves %rcx = the iterations not done and every earlier iteration's store
 * complete (fast strings may reorder stores within the instruction, not
 * across an interruption).  A stale register (an emulator that does not
 * update them at every access) can only make the bound lower.
 *
 * The copy's ranges from the registers.  mcsafe.c's handler must tell a
 * fault of the copy from a memory-failure report about other memory (an
 * AO, an injected machine check naming any address) that merely arrived
 * while a listed instruction ran, so each entry of the table also says
 * where the interrupted copy's dst, src and len are (MC_REGS_*, mcsafe.c
 * reads them from the signal's context):
 *   SHORT  %rdi, %rsi, %rdx as at entry (the short paths move nothing);
 *   LOOP   len %r9, dst %rdi - (%r9 - %rdx), src likewise;
 *   MOVSB  len %rdx, dst %rdi - (%rdx - %rcx), src likewise (rep movsb
 *          advances %rdi, %rsi and counts %rcx down, %rdx stays).
 * udax__mc_movsb_raw() keeps MOVSB's convention for the whole [0, len) it
 * settles, as the sigsetjmp guard's re-copy guards all of [0, c).
 *
 * Registers: %r8 holds f (raw) from entry on (%r9 in udax__mc_movsb_raw);
 * %r10 and %r11 are the handler's; %rax and %r9 are scratch in the plain
 * copies (the persistent ones keep the length in %r9 throughout, and use
 * %rcx for data or an address).  No stack until a fixup calls the
 * settling.  Vector registers: the avx2 routines clear the upper halves on
 * every way out (vzeroupper), the avx512 ones use only %xmm16-%zmm31,
 * which need none.
 */
#if defined(__x86_64__)

#if defined(__CET__)
#define ENDBR	endbr64
#else
#define ENDBR
#endif

	.text
	.p2align 6
	.globl	udax__mc_text_start
	.hidden	udax__mc_text_start
udax__mc_text_start:

	.pushsection .rodata.udax_mc_extable, "a"
	.p2align 2
	.globl	udax__mc_extable
	.hidden	udax__mc_extable
udax__mc_extable:
	.popsection

/* Where a listed instruction's copy keeps its ranges (see above; mcsafe.c
 * has the same numbers). */
#define MC_REGS_SHORT	0
#define MC_REGS_LOOP	1
#define MC_REGS_MOVSB	2

/* A fault at this instruction resumes at @fix.  Entries are 32-bit offsets
 * from udax__mc_text_start (no relocations in a shared library) and the
 * MC_REGS_* of the copy's registers. */
.macro EXR regs:req, fix:req, insn:vararg
.Lex\@:
	\insn
	.pushsection .rodata.udax_mc_extable, "a"
	.long	.Lex\@ - udax__mc_text_start, \fix - udax__mc_text_start, \regs
	.popsection
.endm

/* The short paths'. */
.macro EX fix:req, insn:vararg
	EXR MC_REGS_SHORT, \fix, \insn
.endm

.macro FUNC name
	.p2align 5
	.globl	\name
	.hidden	\name
	.type	\name, @function
\name:
	ENDBR
.endm

/* 0 <= %rdx < 16 with general registers: head and tail words. */
.macro BELOW16 fix
	cmp	$8, %edx
	jb	1f
	EX \fix, mov	(%rsi), %rax
	EX \fix, mov	-8(%rsi,%rdx), %r9
	EX \fix, mov	%rax, (%rdi)
	EX \fix, mov	%r9, -8(%rdi,%rdx)
	mov	%rdx, %rax
	ret
1:	cmp	$4, %edx
	jb	2f
	EX \fix, mov	(%rsi), %eax
	EX \fix, mov	-4(%rsi,%rdx), %r9d
	EX \fix, mov	%eax, (%rdi)
	EX \fix, mov	%r9d, -4(%rdi,%rdx)
	mov	%rdx, %rax
	ret
2:	cmp	$1, %edx
	jb	3f
	je	4f
	EX \fix, movzwl	(%rsi), %eax
	EX \fix, movzwl	-2(%rsi,%rdx), %r9d
	EX \fix, mov	%ax, (%rdi)
	EX \fix, mov	%r9w, -2(%rdi,%rdx)
3:	mov	%rdx, %rax
	ret
4:	EX \fix, movzbl	(%rsi), %eax
	EX \fix, mov	%al, (%rdi)
	mov	%rdx, %rax
	ret
.endm

/* V <= \n <= 2V: one vector from each end.  \n and \regs: the short
 * paths' by default, the persistent routines' edges give theirs. */
.macro PAIR fix, ld, V, a, b, n=%rdx, regs=MC_REGS_SHORT
	EXR \regs, \fix, \ld	(%rsi), \a
	EXR \regs, \fix, \ld	-\V(%rsi,\n), \b
	EXR \regs, \fix, \ld	\a, (%rdi)
	EXR \regs, \fix, \ld	\b, -\V(%rdi,\n)
.endm

/* 2V < \n <= 4V: two from each end. */
.macro FOUR fix, ld, V, a, b, c, d, n=%rdx, regs=MC_REGS_SHORT
	EXR \regs, \fix, \ld	(%rsi), \a
	EXR \regs, \fix, \ld	\V(%rsi), \b
	EXR \regs, \fix, \ld	-\V(%rsi,\n), \c
	EXR \regs, \fix, \ld	-2*\V(%rsi,\n), \d
	EXR \regs, \fix, \ld	\a, (%rdi)
	EXR \regs, \fix, \ld	\b, \V(%rdi)
	EXR \regs, \fix, \ld	\c, -\V(%rdi,\n)
	EXR \regs, \fix, \ld	\d, -2*\V(%rdi,\n)
.endm

/* 4V < %rdx <= 8V: four from each end. */
.macro EIGHT fix, ld, V, r0, r1, r2, r3, r4, r5, r6, r7
	EX \fix, \ld	(%rsi), \r0
	EX \fix, \ld	\V(%rsi), \r1
	EX \fix, \ld	2*\V(%rsi), \r2
	EX \fix, \ld	3*\V(%rsi), \r3
	EX \fix, \ld	-\V(%rsi,%rdx), \r4
	EX \fix, \ld	-2*\V(%rsi,%rdx), \r5
	EX \fix, \ld	-3*\V(%rsi,%rdx), \r6
	EX \fix, \ld	-4*\V(%rsi,%rdx), \r7
	EX \fix, \ld	\r0, (%rdi)
	EX \fix, \ld	\r1, \V(%rdi)
	EX \fix, \ld	\r2, 2*\V(%rdi)
	EX \fix, \ld	\r3, 3*\V(%rdi)
	EX \fix, \ld	\r4, -\V(%rdi,%rdx)
	EX \fix, \ld	\r5, -2*\V(%rdi,%rdx)
	EX \fix, \ld	\r6, -3*\V(%rdi,%rdx)
	EX \fix, \ld	\r7, -4*\V(%rdi,%rdx)
.endm

/*
 * %rdx > 8V.  rep movsb in [udax__mc_movsb_min, udax__mc_movsb_max);
 * otherwise a first vector, then 4V at a time in order to aligned
 * destinations, then the last 4V (which may overlap what is done).  %rdi,
 * %rsi and %rdx move only after an iteration's stores, so the fixup's %rdx
 * is exact to the iteration.
 */
.macro LARGE fix, ld, sta, V, r0, r1, r2, r3, vzu
	cmp	udax__mc_movsb_min(%rip), %rdx
	jb	1f
	cmp	udax__mc_movsb_max(%rip), %rdx
	jae	1f
	mov	%rdx, %rcx
	EXR MC_REGS_MOVSB, .Lmovsb_settle, rep movsb
	mov	%rdx, %rax
	ret
1:	mov	%rdx, %r9
	EXR MC_REGS_LOOP, \fix, \ld	(%rsi), \r0
	EXR MC_REGS_LOOP, \fix, \ld	\r0, (%rdi)
	mov	%rdi, %rax
	and	$(\V - 1), %eax
	sub	$\V, %rax		/* -(bytes to the next boundary) */
	sub	%rax, %rdi
	sub	%rax, %rsi
	add	%rax, %rdx
2:	EXR MC_REGS_LOOP, \fix, \ld	(%rsi), \r0
	EXR MC_REGS_LOOP, \fix, \ld	\V(%rsi), \r1
	EXR MC_REGS_LOOP, \fix, \ld	2*\V(%rsi), \r2
	EXR MC_REGS_LOOP, \fix, \ld	3*\V(%rsi), \r3
	EXR MC_REGS_LOOP, \fix, \sta	\r0, (%rdi)
	EXR MC_REGS_LOOP, \fix, \sta	\r1, \V(%rdi)
	EXR MC_REGS_LOOP, \fix, \sta	\r2, 2*\V(%rdi)
	EXR MC_REGS_LOOP, \fix, \sta	\r3, 3*\V(%rdi)
	add	$4*\V, %rsi
	add	$4*\V, %rdi
	sub	$4*\V, %rdx
	cmp	$4*\V, %rdx
	ja	2b
	EXR MC_REGS_LOOP, \fix, \ld	-4*\V(%rsi,%rdx), \r0
	EXR MC_REGS_LOOP, \fix, \ld	-3*\V(%rsi,%rdx), \r1
	EXR MC_REGS_LOOP, \fix, \ld	-2*\V(%rsi,%rdx), \r2
	EXR MC_REGS_LOOP, \fix, \ld	-\V(%rsi,%rdx), \r3
	EXR MC_REGS_LOOP, \fix, \ld	\r0, -4*\V(%rdi,%rdx)
	EXR MC_REGS_LOOP, \fix, \ld	\r1, -3*\V(%rdi,%rdx)
	EXR MC_REGS_LOOP, \fix, \ld	\r2, -2*\V(%rdi,%rdx)
	EXR MC_REGS_LOOP, \fix, \ld	\r3, -\V(%rdi,%rdx)
	\vzu
	mov	%r9, %rax
	ret
.endm

/* A fault on a short path: nothing known copied. */
.macro FIX_SHORT vzu
	\vzu
	mov	%rdx, %rcx
	jmp	.Lmc_settle
.endm

/* A fault in the loop: %rdx left, %r9 the length. */
.macro FIX_LOOP vzu
	\vzu
	mov	%rdx, %rcx
	mov	%r9, %rax
	sub	%rdx, %rax
	sub	%rax, %rdi
	sub	%rax, %rsi
	mov	%r9, %rdx
	jmp	.Lmc_settle
.endm

/* ---- SSE2: every x86-64 -------------------------------------------------- */

FUNC udax__mc_copy_sse2
	mov	%rcx, %r8
	cmp	$16, %rdx
	jb	.Lsse2_below16
	cmp	$32, %rdx
	ja	.Lsse2_more2
	PAIR .Lsse2_fix, movdqu, 16, %xmm0, %xmm1
	mov	%rdx, %rax
	ret
.Lsse2_more2:
	cmp	$64, %rdx
	ja	.Lsse2_more4
	FOUR .Lsse2_fix, movdqu, 16, %xmm0, %xmm1, %xmm2, %xmm3
	mov	%rdx, %rax
	ret
.Lsse2_more4:
	cmp	$128, %rdx
	ja	.Lsse2_large
	EIGHT .Lsse2_fix, movdqu, 16, %xmm0, %xmm1, %xmm2, %xmm3, %xmm4, %xmm5, %xmm6, %xmm7
	mov	%rdx, %rax
	ret
.Lsse2_large:
	LARGE .Lsse2_fixl, movdqu, movdqa, 16, %xmm0, %xmm1, %xmm2, %xmm3,
.Lsse2_below16:
	BELOW16 .Lsse2_fix
.Lsse2_fix:
	FIX_SHORT
.Lsse2_fixl:
	FIX_LOOP
	.size	udax__mc_copy_sse2, . - udax__mc_copy_sse2

/* ---- AVX2 ---------------------------------------------------------------- */

FUNC udax__mc_copy_avx2
	mov	%rcx, %r8
	cmp	$32, %rdx
	jb	.Lavx2_below32
	cmp	$64, %rdx
	ja	.Lavx2_more2
	PAIR .Lavx2_fix, vmovdqu, 32, %ymm0, %ymm1
	vzeroupper
	mov	%rdx, %rax
	ret
.Lavx2_more2:
	cmp	$128, %rdx
	ja	.Lavx2_more4
	FOUR .Lavx2_fix, vmovdqu, 32, %ymm0, %ymm1, %ymm2, %ymm3
	vzeroupper
	mov	%rdx, %rax
	ret
.Lavx2_more4:
	cmp	$256, %rdx
	ja	.Lavx2_large
	EIGHT .Lavx2_fix, vmovdqu, 32, %ymm0, %ymm1, %ymm2, %ymm3, %ymm4, %ymm5, %ymm6, %ymm7
	vzeroupper
	mov	%rdx, %rax
	ret
.Lavx2_large:
	LARGE .Lavx2_fixl, vmovdqu, vmovdqa, 32, %ymm0, %ymm1, %ymm2, %ymm3, vzeroupper
.Lavx2_below32:
	cmp	$16, %edx
	jb	.Lavx2_below16
	PAIR .Lavx2_fix, vmovdqu, 16, %xmm0, %xmm1
	mov	%rdx, %rax
	ret
.Lavx2_below16:
	BELOW16 .Lavx2_fix
.Lavx2_fix:
	FIX_SHORT vzeroupper
.Lavx2_fixl:
	FIX_LOOP vzeroupper
	.size	udax__mc_copy_avx2, . - udax__mc_copy_avx2

/* ---- AVX-512 (F + VL): %xmm16 and up, no vzeroupper ---------------------- */

FUNC udax__mc_copy_avx512
	mov	%rcx, %r8
	cmp	$64, %rdx
	jb	.Lavx512_below64
	cmp	$128, %rdx
	ja	.Lavx512_more2
	PAIR .Lavx512_fix, vmovdqu64, 64, %zmm16, %zmm17
	mov	%rdx, %rax
	ret
.Lavx512_more2:
	cmp	$256, %rdx
	ja	.Lavx512_more4
	FOUR .Lavx512_fix, vmovdqu64, 64, %zmm16, %zmm17, %zmm18, %zmm19
	mov	%rdx, %rax
	ret
.Lavx512_more4:
	cmp	$512, %rdx
	ja	.Lavx512_large
	EIGHT .Lavx512_fix, vmovdqu64, 64, %zmm16, %zmm17, %zmm18, %zmm19, %zmm20, %zmm21, %zmm22, %zmm23
	mov	%rdx, %rax
	ret
.Lavx512_large:
	LARGE .Lavx512_fixl, vmovdqu64, vmovdqa64, 64, %zmm16, %zmm17, %zmm18, %zmm19,
.Lavx512_below64:
	cmp	$32, %edx
	jb	.Lavx512_below32
	PAIR .Lavx512_fix, vmovdqu64, 32, %ymm16, %ymm17
	mov	%rdx, %rax
	ret
.Lavx512_below32:
	cmp	$16, %edx
	jb	.Lavx512_below16
	PAIR .Lavx512_fix, vmovdqu64, 16, %xmm16, %xmm17
	mov	%rdx, %rax
	ret
.Lavx512_below16:
	BELOW16 .Lavx512_fix
.Lavx512_fix:
	FIX_SHORT
.Lavx512_fixl:
	FIX_LOOP
	.size	udax__mc_copy_avx512, . - udax__mc_copy_avx512

/* ---- persistent copies --------------------------------------------------- */
/*
 *   size_t udax__mc_pcopy_<isa>(void *dst, const void *src, size_t len,
 *                               struct udax_fault *f)
 *
 * <isa>: sse2, avx2, avx512, movdir64b (its edges take SSE2).
 * pmem_copy.c's non-temporal family (its header comment says why each
 * choice) as a table-guarded routine: a partial line at either end takes
 * movnti where it starts and ends on 4-byte boundaries, otherwise plain
 * stores and a write-back of its line (udax__mc_pflush: clwb, clflushopt
 * or clflush); whole lines take non-temporal vector stores; one sfence at
 * the end.  Returns as udax__mc_copy_<isa>(); after a fault the settling
 * also fences and writes back what it copied again (udax__mc_psettle()).
 *
 * Every listed instruction keeps the LOOP registers from entry on: %r9 the
 * length, %rdi, %rsi and %rdx moved only after a piece's stores, so the
 * fixup's %rdx is exact to the piece.  %rax counts the partial line being
 * copied, %rcx carries data; a fault leaves both to the fixup.
 */

/* %rax bytes, 0 < %rax < 64, not crossing a line: plain stores (loads
 * first, overlapping from both ends), then the line written back. */
.macro PEDGE_PLAIN fix, ldu, ldq, ldd, x0, x1, x2, x3
	cmp	$16, %eax
	jb	.Lpe16\@
	cmp	$32, %eax
	jbe	.Lpe32\@
	FOUR \fix, \ldu, 16, \x0, \x1, \x2, \x3, %rax, MC_REGS_LOOP
	jmp	.Lpeflush\@
.Lpe32\@:
	PAIR \fix, \ldu, 16, \x0, \x1, %rax, MC_REGS_LOOP
	jmp	.Lpeflush\@
.Lpe16\@:
	cmp	$8, %eax
	jb	.Lpe8\@
	PAIR \fix, \ldq, 8, \x0, \x1, %rax, MC_REGS_LOOP
	jmp	.Lpeflush\@
.Lpe8\@:
	cmp	$4, %eax
	jb	.Lpe4\@
	PAIR \fix, \ldd, 4, \x0, \x1, %rax, MC_REGS_LOOP
	jmp	.Lpeflush\@
.Lpe4\@:
	EXR MC_REGS_LOOP, \fix, movzbl	(%rsi), %ecx
	EXR MC_REGS_LOOP, \fix, mov	%cl, (%rdi)
	cmp	$2, %eax
	jb	.Lpeflush\@
	EXR MC_REGS_LOOP, \fix, movzbl	1(%rsi), %ecx
	EXR MC_REGS_LOOP, \fix, mov	%cl, 1(%rdi)
	je	.Lpeflush\@
	EXR MC_REGS_LOOP, \fix, movzbl	2(%rsi), %ecx
	EXR MC_REGS_LOOP, \fix, mov	%cl, 2(%rdi)
/* Listed too: a mapping changed under the copy faults here as well. */
.Lpeflush\@:
	cmpb	$1, udax__mc_pflush(%rip)
	ja	.Lpeclflush\@
	je	.Lpeclflushopt\@
	EXR MC_REGS_LOOP, \fix, clwb	(%rdi)
	jmp	.Lpedone\@
.Lpeclflushopt\@:
	EXR MC_REGS_LOOP, \fix, clflushopt (%rdi)
	jmp	.Lpedone\@
.Lpeclflush\@:
	EXR MC_REGS_LOOP, \fix, clflush	(%rdi)
.Lpedone\@:
	add	%rax, %rdi
	add	%rax, %rsi
	sub	%rax, %rdx
.endm

/* %rax bytes, 0 < %rax < 64, not crossing a line: movnti by 4-byte words
 * where both ends allow, else PEDGE_PLAIN. */
.macro PEDGE fix, ldu, ldq, ldd, x0, x1, x2, x3
	mov	%edi, %ecx
	or	%eax, %ecx
	test	$3, %cl
	jz	.Lpenti\@
	PEDGE_PLAIN \fix, \ldu, \ldq, \ldd, \x0, \x1, \x2, \x3
	jmp	.Lpeend\@
.Lpenti\@:
	test	$4, %dil
	jz	.Lpe8w\@
	EXR MC_REGS_LOOP, \fix, mov	(%rsi), %ecx
	EXR MC_REGS_LOOP, \fix, movnti	%ecx, (%rdi)
	add	$4, %rdi
	add	$4, %rsi
	sub	$4, %rdx
	sub	$4, %eax
.Lpe8w\@:
	cmp	$8, %eax
	jb	.Lpe4w\@
	EXR MC_REGS_LOOP, \fix, mov	(%rsi), %rcx
	EXR MC_REGS_LOOP, \fix, movnti	%rcx, (%rdi)
	add	$8, %rdi
	add	$8, %rsi
	sub	$8, %rdx
	sub	$8, %eax
	jmp	.Lpe8w\@
.Lpe4w\@:
	test	%eax, %eax
	jz	.Lpeend\@
	EXR MC_REGS_LOOP, \fix, mov	(%rsi), %ecx
	EXR MC_REGS_LOOP, \fix, movnti	%ecx, (%rdi)
	add	$4, %rdi
	add	$4, %rsi
	sub	$4, %rdx
.Lpeend\@:
.endm

/*
 * The whole routine.  \line is a macro name copying the 64-byte line at
 * (%rsi) to (%rdi) with non-temporal stores, \lines one copying \bulk
 * bytes of lines there, all loads first: a copy from memory keeps that
 * many loads in flight (libpmem copies 2 KiB a step for the same reason;
 * one line a step made 64 MiB copies 0.74-0.88x its speed here).
 */
.macro PCOPY name, line, lines, bulk, fix, ldu, ldq, ldd, x0, x1, x2, x3, vzu
FUNC \name
	mov	%rcx, %r8
	mov	%rdx, %r9
	test	%rdx, %rdx
	jz	.Lpdone\@
	mov	%edi, %eax
	neg	%eax
	and	$63, %eax		/* bytes to the next line */
	jz	.Lplines\@
	cmp	%rdx, %rax
	cmova	%rdx, %rax
	PEDGE \fix, \ldu, \ldq, \ldd, \x0, \x1, \x2, \x3
.Lplines\@:
	cmp	$\bulk, %rdx
	jb	.Lpone\@
.Lpbulk\@:
	\lines \fix
	add	$\bulk, %rsi
	add	$\bulk, %rdi
	sub	$\bulk, %rdx
	cmp	$\bulk, %rdx
	jae	.Lpbulk\@
.Lpone\@:
	cmp	$64, %rdx
	jb	.Lptail\@
.Lploop\@:
	\line \fix
	add	$64, %rsi
	add	$64, %rdi
	sub	$64, %rdx
	cmp	$64, %rdx
	jae	.Lploop\@
.Lptail\@:
	mov	%edx, %eax
	test	%eax, %eax
	jz	.Lpfence\@
	PEDGE \fix, \ldu, \ldq, \ldd, \x0, \x1, \x2, \x3
.Lpfence\@:
	sfence
	\vzu
.Lpdone\@:
	mov	%r9, %rax
	ret
\fix:
	\vzu
	mov	%rdx, %rcx
	mov	%r9, %rax
	sub	%rdx, %rax
	sub	%rax, %rdi
	sub	%rax, %rsi
	mov	%r9, %rdx
	jmp	.Lmc_psettle
	.size	\name, . - \name
.endm

.macro PLINE_SSE2 fix
	EXR MC_REGS_LOOP, \fix, movdqu	(%rsi), %xmm0
	EXR MC_REGS_LOOP, \fix, movdqu	16(%rsi), %xmm1
	EXR MC_REGS_LOOP, \fix, movdqu	32(%rsi), %xmm2
	EXR MC_REGS_LOOP, \fix, movdqu	48(%rsi), %xmm3
	EXR MC_REGS_LOOP, \fix, movntdq	%xmm0, (%rdi)
	EXR MC_REGS_LOOP, \fix, movntdq	%xmm1, 16(%rdi)
	EXR MC_REGS_LOOP, \fix, movntdq	%xmm2, 32(%rdi)
	EXR MC_REGS_LOOP, \fix, movntdq	%xmm3, 48(%rdi)
.endm

.macro PLINES_SSE2 fix
	.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	EXR MC_REGS_LOOP, \fix, movdqu	16*\i(%rsi), %xmm\i
	.endr
	.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	EXR MC_REGS_LOOP, \fix, movntdq	%xmm\i, 16*\i(%rdi)
	.endr
.endm

.macro PLINE_AVX2 fix
	EXR MC_REGS_LOOP, \fix, vmovdqu	(%rsi), %ymm0
	EXR MC_REGS_LOOP, \fix, vmovdqu	32(%rsi), %ymm1
	EXR MC_REGS_LOOP, \fix, vmovntdq %ymm0, (%rdi)
	EXR MC_REGS_LOOP, \fix, vmovntdq %ymm1, 32(%rdi)
.endm

.macro PLINES_AVX2 fix
	.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	EXR MC_REGS_LOOP, \fix, vmovdqu	32*\i(%rsi), %ymm\i
	.endr
	.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	EXR MC_REGS_LOOP, \fix, vmovntdq %ymm\i, 32*\i(%rdi)
	.endr
.endm

/* %zmm16-%zmm31: sixteen lines. */
.macro PLINES_AVX512 fix
	.irp i, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	EXR MC_REGS_LOOP, \fix, vmovdqu64 64*(\i-16)(%rsi), %zmm\i
	.endr
	.irp i, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	EXR MC_REGS_LOOP, \fix, vmovntdq %zmm\i, 64*(\i-16)(%rdi)
	.endr
.endm

.macro PLINE_AVX512 fix
	EXR MC_REGS_LOOP, \fix, vmovdqu64 (%rsi), %zmm16
	EXR MC_REGS_LOOP, \fix, vmovntdq %zmm16, (%rdi)
.endm

/* movdir64b: one 64-byte direct store per line, the destination in a
 * register and 64-byte aligned here; its edges take SSE2. */
.macro PLINE_MOVDIR64B fix
	EXR MC_REGS_LOOP, \fix, movdir64b (%rsi), %rdi
.endm

.macro PLINES_MOVDIR64B fix
	EXR MC_REGS_LOOP, \fix, movdir64b (%rsi), %rdi
	lea	64(%rdi), %rcx
	EXR MC_REGS_LOOP, \fix, movdir64b 64(%rsi), %rcx
	lea	128(%rdi), %rcx
	EXR MC_REGS_LOOP, \fix, movdir64b 128(%rsi), %rcx
	lea	192(%rdi), %rcx
	EXR MC_REGS_LOOP, \fix, movdir64b 192(%rsi), %rcx
.endm

PCOPY udax__mc_pcopy_movdir64b, PLINE_MOVDIR64B, PLINES_MOVDIR64B, 256, .Lpmovdir64b_fix, movdqu, movq, movd, %xmm0, %xmm1, %xmm2, %xmm3,
PCOPY udax__mc_pcopy_sse2, PLINE_SSE2, PLINES_SSE2, 256, .Lpsse2_fix, movdqu, movq, movd, %xmm0, %xmm1, %xmm2, %xmm3,
PCOPY udax__mc_pcopy_avx2, PLINE_AVX2, PLINES_AVX2, 512, .Lpavx2_fix, vmovdqu, vmovq, vmovd, %xmm0, %xmm1, %xmm2, %xmm3, vzeroupper
PCOPY udax__mc_pcopy_avx512, PLINE_AVX512, PLINES_AVX512, 1024, .Lpavx512_fix, vmovdqu64, vmovq, vmovd, %xmm16, %xmm17, %xmm18, %xmm19,

/* ---- the fault paths ----------------------------------------------------- */

	.p2align 4
/* rep movsb of a routine above: %rdx the length, %rcx left. */
.Lmovsb_settle:
	mov	%rdx, %rax
	sub	%rcx, %rax
	sub	%rax, %rdi
	sub	%rax, %rsi
	/* fall through */
/*
 * dst, src, len in %rdi, %rsi, %rdx, at most %rcx of them not copied, f in
 * %r8: return udax__mc_settle(dst, src, len, rem, &raw, f), with raw on
 * the stack (16-byte aligned at the call).
 */
.Lmc_settle:
	push	%r11
	push	%r10
	mov	%r8, %r9
	mov	%rsp, %r8
	sub	$8, %rsp
	call	udax__mc_settle
	add	$24, %rsp
	ret

/* The same for a persistent copy: udax__mc_psettle(). */
.Lmc_psettle:
	push	%r11
	push	%r10
	mov	%r8, %r9
	mov	%rsp, %r8
	sub	$8, %rsp
	call	udax__mc_psettle
	add	$24, %rsp
	ret

/* ---- rep movsb alone: progress to the byte, on any x86-64 ---------------- */
/* %rdx stays len and %rcx counts down to 0: the MOVSB registers. */

FUNC udax__mc_movsb_raw
	mov	%rcx, %r9
	add	%r8, %rdi
	add	%r8, %rsi
	mov	%rdx, %rcx
	sub	%r8, %rcx
	EXR MC_REGS_MOVSB, .Lmovsb_raw_fix, rep movsb
	xor	%eax, %eax
	ret
.Lmovsb_raw_fix:
	mov	%rcx, %rax
	mov	%r10, (%r9)
	mov	%r11, 8(%r9)
	ret
	.size	udax__mc_movsb_raw, . - udax__mc_movsb_raw

	.globl	udax__mc_text_end
	.hidden	udax__mc_text_end
udax__mc_text_end:

	.pushsection .rodata.udax_mc_extable, "a"
	.globl	udax__mc_extable_end
	.hidden	udax__mc_extable_end
udax__mc_extable_end:
	.popsection

	.data
	.p2align 3
/* Sizes for rep movsb, [min, max); mcsafe.c sets them from CPUID before it
 * installs the handler.  Until then: never. */
	.globl	udax__mc_movsb_min
	.hidden	udax__mc_movsb_min
udax__mc_movsb_min:
	.quad	-1
	.globl	udax__mc_movsb_max
	.hidden	udax__mc_movsb_max
udax__mc_movsb_max:
	.quad	0

#endif /* __x86_64__ */

	.section .note.GNU-stack, "", @progbits
