/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-guarded copies for x86-64 that set nothing up per call, as Linux's
 * copy_mc_enhanced_fast_string(): every load and store that may fault is
 * listed in a table (EX below), and mcsafe.c's handler, finding the
 * interrupted RIP there, resumes at the listed fixup instead of jumping to
 * a buffer.  A copy that does not fault costs what the copy costs.
 *
 *   size_t udax__mc_copy_<isa>(void *dst, const void *src, size_t len,
 *                              struct mc_raw *raw)
 *
 * Returns 0, or after a fault r in [1, len] such that dst[0, len - r) is
 * copied; raw->addr and raw->info receive the fault, which the handler
 * leaves in %r10 and %r11 (see mc_handler()).  r may count bytes that were
 * in fact copied: the caller settles the exact count from the fault address
 * (udax__mc_settle()).  <isa>: sse2, avx2, avx512 (sizes by vector loops,
 * with rep movsb between udax__mc_movsb_min and _max, set from CPUID), and
 * movsb (rep movsb alone: the exact copy the settling uses).
 *
 * What the fixups rely on.  On the vector paths, at every listed
 * instruction, dst[0, %rdi - dst) is copied and %rdx counts the rest, so
 * the fixup returns %rdx; the short paths never move %rdi or %rdx (they load
 * head and tail before storing, in no useful order), so a fault there
 * returns len.  rep movsb leaves %rcx = the iterations not done, and every
 * earlier iteration's store is complete (fast strings may reorder stores
 * within the instruction, but not past an interruption), so its fixup
 * returns %rcx.  Stale values only ever make r larger, never smaller.
 *
 * Registers: %r8 holds raw from entry on; %r10 and %r11 are the handler's;
 * %rax and %r9 are scratch.  Leaf routines: no stack, no calls.  Vector
 * registers: the avx2 routine clears the upper halves on every way out
 * (vzeroupper), the avx512 one uses only %xmm16-%zmm31, which need none.
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

/* A fault at this instruction resumes at @fix.  Entries are 32-bit offsets
 * from udax__mc_text_start: no relocations in a shared library. */
.macro EX fix:req, insn:vararg
.Lex\@:
	\insn
	.pushsection .rodata.udax_mc_extable, "a"
	.long	.Lex\@ - udax__mc_text_start, \fix - udax__mc_text_start
	.popsection
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
	xor	%eax, %eax
	ret
1:	cmp	$4, %edx
	jb	2f
	EX \fix, mov	(%rsi), %eax
	EX \fix, mov	-4(%rsi,%rdx), %r9d
	EX \fix, mov	%eax, (%rdi)
	EX \fix, mov	%r9d, -4(%rdi,%rdx)
	xor	%eax, %eax
	ret
2:	cmp	$1, %edx
	jb	3f
	je	4f
	EX \fix, movzwl	(%rsi), %eax
	EX \fix, movzwl	-2(%rsi,%rdx), %r9d
	EX \fix, mov	%ax, (%rdi)
	EX \fix, mov	%r9w, -2(%rdi,%rdx)
3:	xor	%eax, %eax
	ret
4:	EX \fix, movzbl	(%rsi), %eax
	EX \fix, mov	%al, (%rdi)
	xor	%eax, %eax
	ret
.endm

/* V <= %rdx <= 2V: one vector from each end. */
.macro PAIR fix, ld, V, a, b
	EX \fix, \ld	(%rsi), \a
	EX \fix, \ld	-\V(%rsi,%rdx), \b
	EX \fix, \ld	\a, (%rdi)
	EX \fix, \ld	\b, -\V(%rdi,%rdx)
.endm

/* 2V < %rdx <= 4V: two from each end. */
.macro FOUR fix, ld, V, a, b, c, d
	EX \fix, \ld	(%rsi), \a
	EX \fix, \ld	\V(%rsi), \b
	EX \fix, \ld	-\V(%rsi,%rdx), \c
	EX \fix, \ld	-2*\V(%rsi,%rdx), \d
	EX \fix, \ld	\a, (%rdi)
	EX \fix, \ld	\b, \V(%rdi)
	EX \fix, \ld	\c, -\V(%rdi,%rdx)
	EX \fix, \ld	\d, -2*\V(%rdi,%rdx)
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
	EX .Lmovsb_fix, rep movsb
	xor	%eax, %eax
	ret
1:	EX \fix, \ld	(%rsi), \r0
	EX \fix, \ld	\r0, (%rdi)
	mov	%rdi, %rax
	and	$(\V - 1), %eax
	sub	$\V, %rax		/* -(bytes to the next boundary) */
	sub	%rax, %rdi
	sub	%rax, %rsi
	add	%rax, %rdx
2:	EX \fix, \ld	(%rsi), \r0
	EX \fix, \ld	\V(%rsi), \r1
	EX \fix, \ld	2*\V(%rsi), \r2
	EX \fix, \ld	3*\V(%rsi), \r3
	EX \fix, \sta	\r0, (%rdi)
	EX \fix, \sta	\r1, \V(%rdi)
	EX \fix, \sta	\r2, 2*\V(%rdi)
	EX \fix, \sta	\r3, 3*\V(%rdi)
	add	$4*\V, %rsi
	add	$4*\V, %rdi
	sub	$4*\V, %rdx
	cmp	$4*\V, %rdx
	ja	2b
	EX \fix, \ld	-4*\V(%rsi,%rdx), \r0
	EX \fix, \ld	-3*\V(%rsi,%rdx), \r1
	EX \fix, \ld	-2*\V(%rsi,%rdx), \r2
	EX \fix, \ld	-\V(%rsi,%rdx), \r3
	EX \fix, \ld	\r0, -4*\V(%rdi,%rdx)
	EX \fix, \ld	\r1, -3*\V(%rdi,%rdx)
	EX \fix, \ld	\r2, -2*\V(%rdi,%rdx)
	EX \fix, \ld	\r3, -\V(%rdi,%rdx)
	\vzu
	xor	%eax, %eax
	ret
.endm

/* ---- SSE2: every x86-64 -------------------------------------------------- */

FUNC udax__mc_copy_sse2
	mov	%rcx, %r8
	cmp	$16, %rdx
	jb	.Lsse2_below16
	cmp	$32, %rdx
	ja	.Lsse2_more2
	PAIR .Lsse2_fix, movdqu, 16, %xmm0, %xmm1
	xor	%eax, %eax
	ret
.Lsse2_more2:
	cmp	$64, %rdx
	ja	.Lsse2_more4
	FOUR .Lsse2_fix, movdqu, 16, %xmm0, %xmm1, %xmm2, %xmm3
	xor	%eax, %eax
	ret
.Lsse2_more4:
	cmp	$128, %rdx
	ja	.Lsse2_large
	EIGHT .Lsse2_fix, movdqu, 16, %xmm0, %xmm1, %xmm2, %xmm3, %xmm4, %xmm5, %xmm6, %xmm7
	xor	%eax, %eax
	ret
.Lsse2_large:
	LARGE .Lsse2_fix, movdqu, movdqa, 16, %xmm0, %xmm1, %xmm2, %xmm3,
.Lsse2_below16:
	BELOW16 .Lsse2_fix
.Lsse2_fix:
	mov	%rdx, %rax
	jmp	.Lmc_fault
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
	xor	%eax, %eax
	ret
.Lavx2_more2:
	cmp	$128, %rdx
	ja	.Lavx2_more4
	FOUR .Lavx2_fix, vmovdqu, 32, %ymm0, %ymm1, %ymm2, %ymm3
	vzeroupper
	xor	%eax, %eax
	ret
.Lavx2_more4:
	cmp	$256, %rdx
	ja	.Lavx2_large
	EIGHT .Lavx2_fix, vmovdqu, 32, %ymm0, %ymm1, %ymm2, %ymm3, %ymm4, %ymm5, %ymm6, %ymm7
	vzeroupper
	xor	%eax, %eax
	ret
.Lavx2_large:
	LARGE .Lavx2_fix, vmovdqu, vmovdqa, 32, %ymm0, %ymm1, %ymm2, %ymm3, vzeroupper
.Lavx2_below32:
	cmp	$16, %edx
	jb	.Lavx2_below16
	PAIR .Lavx2_fix, vmovdqu, 16, %xmm0, %xmm1
	xor	%eax, %eax
	ret
.Lavx2_below16:
	BELOW16 .Lavx2_fix
.Lavx2_fix:
	vzeroupper
	mov	%rdx, %rax
	jmp	.Lmc_fault
	.size	udax__mc_copy_avx2, . - udax__mc_copy_avx2

/* ---- AVX-512 (F + VL): %xmm16 and up, no vzeroupper ---------------------- */

FUNC udax__mc_copy_avx512
	mov	%rcx, %r8
	cmp	$64, %rdx
	jb	.Lavx512_below64
	cmp	$128, %rdx
	ja	.Lavx512_more2
	PAIR .Lavx512_fix, vmovdqu64, 64, %zmm16, %zmm17
	xor	%eax, %eax
	ret
.Lavx512_more2:
	cmp	$256, %rdx
	ja	.Lavx512_more4
	FOUR .Lavx512_fix, vmovdqu64, 64, %zmm16, %zmm17, %zmm18, %zmm19
	xor	%eax, %eax
	ret
.Lavx512_more4:
	cmp	$512, %rdx
	ja	.Lavx512_large
	EIGHT .Lavx512_fix, vmovdqu64, 64, %zmm16, %zmm17, %zmm18, %zmm19, %zmm20, %zmm21, %zmm22, %zmm23
	xor	%eax, %eax
	ret
.Lavx512_large:
	LARGE .Lavx512_fix, vmovdqu64, vmovdqa64, 64, %zmm16, %zmm17, %zmm18, %zmm19,
.Lavx512_below64:
	cmp	$32, %edx
	jb	.Lavx512_below32
	PAIR .Lavx512_fix, vmovdqu64, 32, %ymm16, %ymm17
	xor	%eax, %eax
	ret
.Lavx512_below32:
	cmp	$16, %edx
	jb	.Lavx512_below16
	PAIR .Lavx512_fix, vmovdqu64, 16, %xmm16, %xmm17
	xor	%eax, %eax
	ret
.Lavx512_below16:
	BELOW16 .Lavx512_fix
.Lavx512_fix:
	mov	%rdx, %rax
	jmp	.Lmc_fault
	.size	udax__mc_copy_avx512, . - udax__mc_copy_avx512

/* ---- rep movsb alone: exact progress on any x86-64 ----------------------- */

FUNC udax__mc_copy_movsb
	mov	%rcx, %r8
	mov	%rdx, %rcx
	EX .Lmovsb_fix, rep movsb
	xor	%eax, %eax
	ret
.Lmovsb_fix:
	mov	%rcx, %rax
	/* fall through */
.Lmc_fault:
	mov	%r10, (%r8)
	mov	%r11, 8(%r8)
	ret
	.size	udax__mc_copy_movsb, . - udax__mc_copy_movsb

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
