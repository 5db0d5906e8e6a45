/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SVM world switch.
 *
 * void mv_svm_vmrun(u64 vmcb_pa, u64 host_save_pa, unsigned long *regs,
 *		     const u64 *spec_ctrl)
 *
 * Called with GIF clear (CLGI) and interrupts off.  Saves the host state
 * VMRUN does not (FS, GS, TR, LDTR, KernelGSBase, the SYSCALL and SYSENTER
 * MSRs) with VMSAVE into @host_save_pa, loads the guest's with VMLOAD, runs
 * the guest, and on #VMEXIT saves the guest's with VMSAVE and loads the
 * host's back.  @regs holds the guest's general registers, indexed by their
 * x86 number; RAX and RSP live in the VMCB and are not touched.
 *
 * If VMLOAD, VMRUN or VMSAVE faults (SVM was turned off under us by the
 * emergency path), execution goes on after it: the caller sees the exit
 * code it left in the VMCB and reports a failed entry.
 *
 * The speculation mitigations (see kmod/spec.c): @spec_ctrl, when not NULL,
 * points at the guest's IA32_SPEC_CTRL, loaded before VMRUN if it differs
 * from the host's current value and replaced by the host's after #VMEXIT
 * (NULL: the host has no such MSR, or V_SPEC_CTRL switches it).  VERW
 * right before VMRUN, the RSB filled and the return predictor untrained
 * after #VMEXIT, as the host's mitigations ask; between the MSR write and
 * VMRUN, and between #VMEXIT and all that, no return or indirect branch.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>

/* 6.1 has no VM flavour of UNTRAIN_RET (nor IBPB on VM exit to go in it) */
#ifndef UNTRAIN_RET_VM
#define UNTRAIN_RET_VM UNTRAIN_RET
#endif

#define R_RCX	(1 * 8)
#define R_RDX	(2 * 8)
#define R_RBX	(3 * 8)
#define R_RBP	(5 * 8)
#define R_RSI	(6 * 8)
#define R_RDI	(7 * 8)
#define R_R8	(8 * 8)
#define R_R9	(9 * 8)
#define R_R10	(10 * 8)
#define R_R11	(11 * 8)
#define R_R12	(12 * 8)
#define R_R13	(13 * 8)
#define R_R14	(14 * 8)
#define R_R15	(15 * 8)

	.text
SYM_FUNC_START(mv_svm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/*
	 * 24(%rsp) = spec_ctrl, 16(%rsp) = regs, 8(%rsp) = vmcb_pa,
	 * 0(%rsp) = host_save_pa
	 */
	push	%rcx
	push	%rdx
	push	%rdi
	push	%rsi

	mov	%rsi, %rax
1:	vmsave	%rax
2:
	/* the guest's SPEC_CTRL, while GS is still the host's (before VMLOAD) */
	mov	24(%rsp), %rax
	test	%rax, %rax
	jz	.Lguest_spec_done
	movl	(%rax), %eax
	cmpl	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	je	.Lguest_spec_done
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	xor	%edx, %edx
	wrmsr
.Lguest_spec_done:

	mov	8(%rsp), %rax
3:	vmload	%rax
4:
	mov	16(%rsp), %rax
	mov	R_RCX(%rax), %rcx
	mov	R_RDX(%rax), %rdx
	mov	R_RBX(%rax), %rbx
	mov	R_RBP(%rax), %rbp
	mov	R_RSI(%rax), %rsi
	mov	R_RDI(%rax), %rdi
	mov	R_R8(%rax), %r8
	mov	R_R9(%rax), %r9
	mov	R_R10(%rax), %r10
	mov	R_R11(%rax), %r11
	mov	R_R12(%rax), %r12
	mov	R_R13(%rax), %r13
	mov	R_R14(%rax), %r14
	mov	R_R15(%rax), %r15
	mov	8(%rsp), %rax

	/* clobbers ZF only */
	VM_CLEAR_CPU_BUFFERS
5:	vmrun	%rax
6:
	/* RAX is the host's again: the VMCB address */
7:	vmsave	%rax
8:
	mov	16(%rsp), %rax
	mov	%rcx, R_RCX(%rax)
	mov	%rdx, R_RDX(%rax)
	mov	%rbx, R_RBX(%rax)
	mov	%rbp, R_RBP(%rax)
	mov	%rsi, R_RSI(%rax)
	mov	%rdi, R_RDI(%rax)
	mov	%r8, R_R8(%rax)
	mov	%r9, R_R9(%rax)
	mov	%r10, R_R10(%rax)
	mov	%r11, R_R11(%rax)
	mov	%r12, R_R12(%rax)
	mov	%r13, R_R13(%rax)
	mov	%r14, R_R14(%rax)
	mov	%r15, R_R15(%rax)

	/* leave no guest value in a register the host does not restore */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	pop	%rax
9:	vmload	%rax
10:
	/* GS is the host's again; before any return: */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/* the host's SPEC_CTRL back, when the guest's differs */
	mov	16(%rsp), %rcx
	test	%rcx, %rcx
	jz	.Lhost_spec_done
	movl	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	cmpl	(%rcx), %eax
	/* legacy IBRS must be written after the guest, equal or not */
	ALTERNATIVE "je .Lhost_spec_done", "", X86_FEATURE_KERNEL_IBRS
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	xor	%edx, %edx
	wrmsr
.Lhost_spec_done:

	UNTRAIN_RET_VM

	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	_ASM_EXTABLE(1b, 2b)
	_ASM_EXTABLE(3b, 4b)
	_ASM_EXTABLE(5b, 6b)
	_ASM_EXTABLE(7b, 8b)
	_ASM_EXTABLE(9b, 10b)
SYM_FUNC_END(mv_svm_vmrun)
