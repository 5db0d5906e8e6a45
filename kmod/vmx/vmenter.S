/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX world switch.
 *
 * int mv_vmx_vmrun(unsigned long *regs, bool launched, const u64 *spec_ctrl)
 *
 * Called with interrupts off and the vCPU's VMCS current, its host state
 * written but HOST_RSP, which is written here.  Loads the guest's general
 * registers from @regs (indexed by their x86 number; RSP is in the VMCS and
 * regs[4] is not touched), enters the guest with VMRESUME if @launched,
 * else VMLAUNCH, and on VM exit (at mv_vmx_vmexit, where HOST_RIP points)
 * stores them back.
 *
 * Returns 0 after a VM exit, 1 when VMLAUNCH or VMRESUME failed (VMfail:
 * the caller reads VM_INSTRUCTION_ERROR), 2 when it faulted (VMX was
 * turned off under us by the emergency path).
 *
 * The speculation mitigations (see kmod/spec.c): @spec_ctrl, when not NULL,
 * points at the guest's IA32_SPEC_CTRL, loaded before the entry if it
 * differs from the host's current value and replaced by the host's after
 * the exit, whichever way it ends (NULL: the host has no such MSR).  VERW
 * right before the entry, the RSB filled and the branch history cleared
 * after the exit, as the host's mitigations ask; between the MSR write and
 * the entry, and between the exit and all that, no return or indirect
 * branch.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/percpu.h>
#include <asm/unwind_hints.h>

/* the VMCS field encoding of HOST_RSP (SDM vol. 3, appendix B.4.4) */
#define VMCS_HOST_RSP	0x6c14

#define R_RAX	(0 * 8)
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
SYM_FUNC_START(mv_vmx_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* 8(%rsp) = spec_ctrl, 0(%rsp) = regs, where the VM exit finds them */
	push	%rdx
	push	%rdi
	UNWIND_HINT_SAVE

	/* the VM exit comes back with this RSP */
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lfail

	/* the guest's SPEC_CTRL, when it differs from the host's */
	test	%rdx, %rdx
	jz	.Lguest_spec_done
	movl	(%rdx), %eax
	cmpl	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	je	.Lguest_spec_done
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	xor	%edx, %edx
	wrmsr
.Lguest_spec_done:

	/* CF from the test survives the MOVs and VERW below */
	mov	%rdi, %rax
	bt	$0, %esi
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
	mov	R_RAX(%rax), %rax
	/* clobbers ZF only */
	CLEAR_CPU_BUFFERS
	jnc	.Llaunch

.Lresume:
	vmresume
	jmp	.Lfail
.Llaunch:
	vmlaunch
	jmp	.Lfail

	_ASM_EXTABLE(.Lresume, .Lfault)
	_ASM_EXTABLE(.Llaunch, .Lfault)

SYM_INNER_LABEL(mv_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	/* guest RAX on the stack, the regs pointer in RAX */
	push	%rax
	mov	8(%rsp), %rax
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
	pop	%rcx
	mov	%rcx, R_RAX(%rax)
	xor	%eax, %eax
	jmp	.Lclear

.Lfault:
	mov	$2, %eax
	jmp	.Lclear
.Lfail:
	mov	$1, %eax

.Lclear:
	/* leave no guest value in a register the host does not restore */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	/* the result, while EAX serves the MSR write */
	mov	%eax, %ebx

	/* before any return: */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/* the host's SPEC_CTRL back, when the guest's differs */
	mov	8(%rsp), %rcx
	test	%rcx, %rcx
	jz	.Lhost_spec_done
	movl	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	cmpl	(%rcx), %eax
	/* legacy IBRS must be written after the guest, equal or not */
	ALTERNATIVE "je .Lhost_spec_fence", "", X86_FEATURE_KERNEL_IBRS
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	xor	%edx, %edx
	wrmsr
.Lhost_spec_fence:
	/* nothing runs ahead on the guest's value, written back or not */
	lfence
.Lhost_spec_done:

	CLEAR_BRANCH_HISTORY_VMEXIT

	xor	%ecx, %ecx
	xor	%edx, %edx
	mov	%ebx, %eax
	add	$16, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(mv_vmx_vmrun)
