/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptfuzz_test's rounds in 32-bit and PAE paging.  Called from 64-bit
 * mode with the round in RDI, ptfuzz_legacy() leaves long mode the way
 * the SDM and APM prescribe (to compatibility mode, CR0.PG clear, so
 * EFER.LMA drops; EFER.LME clear before CR4.PAE changes), loads the
 * round's CR4, EFER.NXE, CR3 and CR0.WP, turns paging on, and then does
 * what the 64-bit guest does in long mode: the round's rewrites (through
 * an alias of the pool the fixed entries map), a CR3 reload or INVLPGs,
 * the accesses at CPL 0 and CPL 3 with #PF and #UD handlers that record
 * the outcome.  Back in long mode by the same steps in reverse (CR4.PAE
 * before EFER.LME), it returns to the C code, which reports.
 *
 * The image lies below 4 GiB and is mapped 1:1 in every mode, so its
 * absolute addresses serve in 32-bit code.  While away from long mode
 * the TSS's SS0 is set (in the 64-bit TSS that word is the high half of
 * RSP0, zero): exceptions from CPL 3 switch to ESP0, the low half of
 * RSP0.  TR is loaded again in each mode (LTR, the descriptor's busy bit
 * cleared first): QEMU 7.2's TCG aborts ("invalid tss type") on an
 * exception from CPL 3 in legacy mode when the TR it holds has the busy
 * type, as KVM_SET_SREGS and a VMRUN give it, where the hardware takes
 * the busy type, the only one a loaded TR has; its own LTR leaves the
 * available type there.
 */
#include "ptfuzz_guest.h"

#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define EFER_LMA	0x400
#define EFER_NXE	0x800
#define CR0_WP		0x10000
#define CR0_PG		0x80000000
#define CR4_PSE		0x10
#define CR4_PAE		0x20
#define CR4_SMEP	0x100000
#define CR4_SMAP	0x200000
#define EFLAGS_AC	0x40000

	.text
	.code64
	.globl ptfuzz_legacy
ptfuzz_legacy:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, ptfuzz_g32+G_RSP(%rip)
	mov %cr0, %rax
	mov %rax, ptfuzz_g32+G_CR0(%rip)
	mov %cr3, %rax
	mov %rax, ptfuzz_g32+G_CR3(%rip)
	mov %cr4, %rax
	mov %rax, ptfuzz_g32+G_CR4(%rip)
	mov $MSR_EFER, %ecx
	rdmsr
	mov %eax, ptfuzz_g32+G_EFER(%rip)
	sidt ptfuzz_g32+G_IDTR64(%rip)
	mov %edi, %ebx
	pushq $SEL_CODE32
	lea 1f(%rip), %rax
	push %rax
	lretq

	.code32
1:	mov $SEL_DATA, %eax		/* a CPL 3 round trip left DS, ES null */
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr0, %eax			/* compatibility mode: leave long mode */
	and $~CR0_PG, %eax
	mov %eax, %cr0
	mov $MSR_EFER, %ecx
	rdmsr
	and $~(EFER_LME | EFER_NXE), %eax
	or R_EFER(%ebx), %eax
	wrmsr
	mov %cr4, %eax
	and $~(CR4_PSE | CR4_PAE | CR4_SMEP | CR4_SMAP), %eax
	or R_CR4(%ebx), %eax
	mov %eax, %cr4
	mov R_CR3(%ebx), %eax
	mov %eax, %cr3
	lidt ptfuzz_g32+G_IDTR32
	mov ptfuzz_g32+G_GDT, %eax
	andb $~2, SEL_TSS + 5(%eax)
	mov $SEL_TSS, %eax
	ltr %ax
	mov ptfuzz_g32+G_TSS, %eax
	movw $SEL_DATA, 8(%eax)
	mov %cr0, %eax			/* PAE: the PDPTEs are loaded here */
	and $~CR0_WP, %eax
	or R_CR0_WP(%ebx), %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	jmp 2f

2:	lea R_MUT_VA(%ebx), %esi	/* the rewrites, two halves each */
	mov R_NMUT(%ebx), %ecx
	jmp 4f
3:	mov (%esi), %edi
	mov R_MUT_VAL - R_MUT_VA(%esi), %eax
	mov %eax, (%edi)
	mov R_MUT_VAL - R_MUT_VA + 4(%esi), %eax
	mov %eax, 4(%edi)
	add $8, %esi
	dec %ecx
4:	test %ecx, %ecx
	jnz 3b

	cmpl $0, R_FLUSH(%ebx)
	je 5f
	mov %cr3, %eax
	mov %eax, %cr3
5:	lea R_INV(%ebx), %esi
	mov R_NINV(%ebx), %ecx
	jmp 7f
6:	mov (%esi), %eax
	invlpg (%eax)
	add $8, %esi
	dec %ecx
7:	test %ecx, %ecx
	jnz 6b

	lea R_ACC(%ebx), %ebp		/* EBP: the access; ECX: how many left */
	mov R_NACC(%ebx), %ecx
	jmp 9f
8:	push %ecx
	push %ebx
	push %ebp
	call ptfuzz_access32
	pop %ebp
	pop %ebx
	pop %ecx
	add $A_SIZE, %ebp
	dec %ecx
9:	test %ecx, %ecx
	jnz 8b

	mov ptfuzz_g32+G_TSS, %eax	/* back to long mode */
	movw $0, 8(%eax)
	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0
	mov ptfuzz_g32+G_CR4, %eax
	mov %eax, %cr4
	mov $MSR_EFER, %ecx
	mov ptfuzz_g32+G_EFER, %eax
	and $~EFER_LMA, %eax
	xor %edx, %edx
	wrmsr
	mov ptfuzz_g32+G_CR3, %eax
	mov %eax, %cr3
	mov ptfuzz_g32+G_CR0, %eax
	mov %eax, %cr0
	ljmp $SEL_CODE64, $10f

	.code64
10:	lidt ptfuzz_g32+G_IDTR64(%rip)
	mov ptfuzz_g32+G_GDT(%rip), %eax
	andb $~2, SEL_TSS + 5(%rax)
	mov $SEL_TSS, %eax
	ltr %ax
	mov ptfuzz_g32+G_RSP(%rip), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.code32
/*
 * One access, EBP pointing to it: EDI the address, ESI the value to
 * write, EDX the type, as the CPL 3 stub takes them; EAX the value read.
 */
ptfuzz_access32:
	movl $0, ptfuzz_g32+G_FAULT
	movl $0, ptfuzz_g32+G_ERR
	movl $0, ptfuzz_g32+G_CR2
	mov A_GVA(%ebp), %edi
	mov A_VAL(%ebp), %esi
	mov A_TYPE(%ebp), %edx
	xor %eax, %eax
	cmpl $0, A_CPL(%ebp)
	jne 4f
	cmpl $0, A_AC(%ebp)
	je 1f
	pushf
	orl $EFLAGS_AC, (%esp)
	popf
1:	cmp $ACC_WRITE, %edx
	je 2f
	cmp $ACC_FETCH, %edx
	je 3f
	call ptfuzz_k32_read
	jmp 5f
2:	call ptfuzz_k32_write
	jmp 5f
3:	call ptfuzz_k32_fetch
	jmp 5f
4:	mov %esp, ptfuzz_g32+G_KSP	/* CPL 3: to the stub, back by #UD or #PF */
	mov $(SEL_UDATA | 3), %ecx
	mov %cx, %ds
	mov %cx, %es
	push $(SEL_UDATA | 3)
	push $USER32_STACK_TOP
	push $0x202
	push $(SEL_UCODE32 | 3)
	push $USER32_VA
	iret
ptfuzz_u32_back:
	mov $SEL_DATA, %ecx
	mov %cx, %ds
	mov %cx, %es
	mov ptfuzz_g32+G_VAL, %eax
5:	pushf
	andl $~EFLAGS_AC, (%esp)
	popf
	lea R_RES - R_ACC(%ebp), %edx
	mov %eax, RES_VAL(%edx)
	movl $0, RES_VAL + 4(%edx)
	mov ptfuzz_g32+G_ERR, %eax
	mov %eax, RES_ERR(%edx)
	movl $0, RES_ERR + 4(%edx)
	mov ptfuzz_g32+G_CR2, %eax
	mov %eax, RES_CR2(%edx)
	movl $0, RES_CR2 + 4(%edx)
	mov ptfuzz_g32+G_FAULT, %eax
	mov %eax, RES_FAULT(%edx)
	movl $0, RES_FAULT + 4(%edx)
	ret

/* the CPL 0 probes; a fetch calls the target, a RET */
ptfuzz_k32_read:
	mov (%edi), %eax
ptfuzz_k32_read_end:
	ret
ptfuzz_k32_write:
	mov %esi, (%edi)
ptfuzz_k32_write_end:
	ret
ptfuzz_k32_fetch:
	mov %esp, ptfuzz_g32+G_KFSP
	call *%edi
ptfuzz_k32_fetch_ret:
	ret

/*
 * #PF and #UD: record the fault, then resume after the probe: from CPL 3
 * at ptfuzz_u32_back on the stack the access left, from a CPL 0 read or
 * write after its instruction, from a CPL 0 fetch (EIP = CR2) where the
 * probe's RET would have gone.
 */
	.globl ptfuzz_pf32, ptfuzz_ud32, ptfuzz_x32_vectors
ptfuzz_pf32:
	movl $1, ptfuzz_g32+G_FAULT
	popl ptfuzz_g32+G_ERR
	push %eax
	mov %cr2, %eax
	mov %eax, ptfuzz_g32+G_CR2
	pop %eax
	jmp 1f
ptfuzz_ud32:
	testl $3, 4(%esp)
	jnz 1f
	push $6
	jmp ptfuzz_x32
1:	testl $3, 4(%esp)
	jnz 2f
	cmpl $ptfuzz_k32_read, (%esp)
	je 3f
	cmpl $ptfuzz_k32_write, (%esp)
	je 4f
	push %eax
	mov ptfuzz_g32+G_CR2, %eax
	cmp %eax, 4(%esp)
	pop %eax
	je 5f
	push $14
	jmp ptfuzz_x32
2:	mov %eax, ptfuzz_g32+G_VAL
	mov ptfuzz_g32+G_KSP, %esp
	push $0x202
	push $SEL_CODE32
	push $ptfuzz_u32_back
	iret
3:	movl $ptfuzz_k32_read_end, (%esp)
	iret
4:	movl $ptfuzz_k32_write_end, (%esp)
	iret
5:	mov 8(%esp), %eax
	mov ptfuzz_g32+G_KFSP, %esp
	push %eax
	push $SEL_CODE32
	push $ptfuzz_k32_fetch_ret
	iret

/*
 * Vectors 0-31, 8 bytes apart, for what no probe expects: the vector,
 * three words of the frame and CR2 go to ptfuzz_g32, and an OUT to
 * PTFUZZ_XPORT tells the host.
 */
	.balign 8
ptfuzz_x32_vectors:
	vec = 0
	.rept 32
	.balign 8
	push $vec
	jmp ptfuzz_x32
	vec = vec + 1
	.endr
ptfuzz_x32:
	popl ptfuzz_g32+G_XVEC
	push %eax
	mov 4(%esp), %eax
	mov %eax, ptfuzz_g32+G_XFRAME
	mov 8(%esp), %eax
	mov %eax, ptfuzz_g32+G_XFRAME + 4
	mov 12(%esp), %eax
	mov %eax, ptfuzz_g32+G_XFRAME + 8
	mov %cr2, %eax
	mov %eax, ptfuzz_g32+G_XCR2
1:	mov $PTFUZZ_XPORT, %dx
	out %al, %dx
	jmp 1b

/*
 * The CPL 3 stub, alone in its page (mapped user-accessible at
 * USER32_VA): EDX 0 read, 1 write, 2 fetch; it ends in UD2.
 */
	.section .text.ptfuzz_user32, "ax"
	.balign 4096
	.globl ptfuzz_u32_stub
ptfuzz_u32_stub:
	cmp $ACC_WRITE, %edx
	je 1f
	cmp $ACC_FETCH, %edx
	je 2f
	mov (%edi), %eax
	ud2
1:	mov %esi, (%edi)
	ud2
2:	call *%edi
	ud2
	.balign 4096

	.data
	.balign 64
	.globl ptfuzz_g32
ptfuzz_g32:
	.fill G_SIZE, 1, 0

	.section .note.GNU-stack, "", @progbits
