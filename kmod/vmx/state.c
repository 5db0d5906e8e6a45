// SPDX-License-Identifier: GPL-2.0
/*
 * The VT-x backend's vCPU state as the core reads and writes it: the
 * general, segment and control registers, the MSRs the VMCS and the MSR
 * areas hold, and the exception or event queued for the next entry.
 */
#include <linux/kvm.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>
#include <asm/vmx.h>

#include "../cr.h"
#include "../mv.h"
#include "../ops.h"
#include "../vcpu.h"
#include "vmx.h"

/**
 * vmx_get_regs() - the get_regs op
 * @vcpu: the vCPU
 * @r: its general registers, RIP and RFLAGS, filled in
 */
void vmx_get_regs(struct mv_vcpu *vcpu, struct kvm_regs *r)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	const unsigned long *g = vmx->regs;

	r->rax = g[0];
	r->rcx = g[1];
	r->rdx = g[2];
	r->rbx = g[3];
	r->rsp = g[4];
	r->rbp = g[5];
	r->rsi = g[6];
	r->rdi = g[7];
	r->r8 = g[8];
	r->r9 = g[9];
	r->r10 = g[10];
	r->r11 = g[11];
	r->r12 = g[12];
	r->r13 = g[13];
	r->r14 = g[14];
	r->r15 = g[15];
	r->rip = vmx->rip;
	r->rflags = vmx->rflags;
}

/**
 * vmx_set_regs() - the set_regs op
 * @vcpu: the vCPU
 * @r: its new general registers, RIP and RFLAGS
 */
void vmx_set_regs(struct mv_vcpu *vcpu, const struct kvm_regs *r)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	unsigned long *g = vmx->regs;

	g[0] = r->rax;
	g[1] = r->rcx;
	g[2] = r->rdx;
	g[3] = r->rbx;
	g[4] = r->rsp;
	g[5] = r->rbp;
	g[6] = r->rsi;
	g[7] = r->rdi;
	g[8] = r->r8;
	g[9] = r->r9;
	g[10] = r->r10;
	g[11] = r->r11;
	g[12] = r->r12;
	g[13] = r->r13;
	g[14] = r->r14;
	g[15] = r->r15;
	vmx->rip = r->rip;
	/* bit 1 is always 1 */
	vmx->rflags = r->rflags | X86_EFLAGS_FIXED;
	/* VM entry refuses blocking by STI with IF clear */
	if (!(vmx->rflags & X86_EFLAGS_IF)) {
		u32 intr;

		vmx_get(vcpu);
		intr = vmx_rd(vmx, GUEST_INTERRUPTIBILITY_INFO);
		if (intr & GUEST_INTR_STATE_STI)
			vmx_wr(vmx, GUEST_INTERRUPTIBILITY_INFO,
			       intr & ~GUEST_INTR_STATE_STI);
		vmx_put();
	}
}

static void vmx_read_seg(struct vmx_vcpu *vmx, enum vmx_seg s,
			 struct kvm_segment *k)
{
	u32 ar = vmx_rd(vmx, GUEST_ES_AR_BYTES + 2 * s);

	k->selector = vmx_rd(vmx, GUEST_ES_SELECTOR + 2 * s);
	k->base = vmx_rd(vmx, GUEST_ES_BASE + 2 * s);
	k->limit = vmx_rd(vmx, GUEST_ES_LIMIT + 2 * s);
	k->type = ar & VMCS_AR_TYPE_MASK;
	k->s = !!(ar & VMCS_AR_S);
	k->dpl = (ar >> VMCS_AR_DPL_SHIFT) & 3;
	k->present = !!(ar & VMCS_AR_P);
	k->avl = !!(ar & VMCS_AR_AVL);
	k->l = !!(ar & VMCS_AR_L);
	k->db = !!(ar & VMCS_AR_DB);
	k->g = !!(ar & VMCS_AR_G);
	k->unusable = !!(ar & VMCS_AR_UNUSABLE);
}

static void vmx_set_seg(struct vmx_vcpu *vmx, enum vmx_seg s,
			const struct kvm_segment *k)
{
	u32 ar = VMCS_AR_UNUSABLE;

	if (!k->unusable && k->present)
		ar = (k->type & VMCS_AR_TYPE_MASK) |
			(k->s ? VMCS_AR_S : 0) |
			((k->dpl & 3) << VMCS_AR_DPL_SHIFT) | VMCS_AR_P |
			(k->avl ? VMCS_AR_AVL : 0) |
			(k->l ? VMCS_AR_L : 0) |
			(k->db ? VMCS_AR_DB : 0) |
			(k->g ? VMCS_AR_G : 0);
	vmx_write_seg(vmx, s, k->selector, k->base, k->limit, ar);
}

/**
 * vmx_get_sregs() - the get_sregs op
 * @vcpu: the vCPU
 * @sr: its segment and control registers, filled in
 */
void vmx_get_sregs(struct mv_vcpu *vcpu, struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);

	vmx_read_seg(vmx, SEG_CS, &sr->cs);
	vmx_read_seg(vmx, SEG_DS, &sr->ds);
	vmx_read_seg(vmx, SEG_ES, &sr->es);
	vmx_read_seg(vmx, SEG_FS, &sr->fs);
	vmx_read_seg(vmx, SEG_GS, &sr->gs);
	vmx_read_seg(vmx, SEG_SS, &sr->ss);
	vmx_read_seg(vmx, SEG_TR, &sr->tr);
	vmx_read_seg(vmx, SEG_LDTR, &sr->ldt);
	sr->gdt.base = vmx_rd(vmx, GUEST_GDTR_BASE);
	sr->gdt.limit = vmx_rd(vmx, GUEST_GDTR_LIMIT);
	sr->idt.base = vmx_rd(vmx, GUEST_IDTR_BASE);
	sr->idt.limit = vmx_rd(vmx, GUEST_IDTR_LIMIT);
	mv_cr_get_sregs(vcpu, sr);
	sr->cr2 = vmx->cr2;
	sr->cr8 = vmx->cr8;
	sr->apic_base = vcpu->apic_base;
	vmx_put();
}

/*
 * The checks KVM makes on KVM_SET_SREGS (kmod/cr.c's) and a CR4 VMX
 * operation allows; VM entry checks the rest.
 */
static bool vmx_sregs_valid(const struct mv_vcpu *vcpu,
			    const struct kvm_sregs *sr)
{
	if (sr->cr8 > 15)
		return false;
	if (sr->cr4 & ~vmx_cr4_fixed1)
		return false;
	return mv_vcpu_sregs_valid(vcpu, sr);
}

static void vmx_queued_error_follows_pe(struct vmx_vcpu *vmx);

/**
 * vmx_set_sregs() - the set_sregs op
 * @vcpu: the vCPU
 * @sr: its new segment and control registers
 *
 * Return: 0, or -EINVAL for values KVM would refuse.
 */
int vmx_set_sregs(struct mv_vcpu *vcpu, const struct kvm_sregs *sr)
{
	struct vmx_vcpu *vmx = vcpu->priv;
	bool pae = !vmx->shadow && vmx_pae_paging(sr->cr0, sr->cr4, sr->efer);
	u64 pdpte[4] = { };

	if (!vmx_sregs_valid(vcpu, sr))
		return mv_fail(-EINVAL);
	/*
	 * As KVM: PAE paging needs the PDPTEs where CR3 says.  Under shadow
	 * paging the MMU loads them with the root.
	 */
	if (pae && vmx_read_pdptrs(vcpu, sr->cr3, pdpte))
		return mv_fail(-EINVAL);

	vmx = vmx_get(vcpu);
	if (pae)
		vmx_write_pdptrs(vmx, pdpte);
	vmx_set_seg(vmx, SEG_CS, &sr->cs);
	vmx_set_seg(vmx, SEG_DS, &sr->ds);
	vmx_set_seg(vmx, SEG_ES, &sr->es);
	vmx_set_seg(vmx, SEG_FS, &sr->fs);
	vmx_set_seg(vmx, SEG_GS, &sr->gs);
	vmx_set_seg(vmx, SEG_SS, &sr->ss);
	vmx_set_seg(vmx, SEG_TR, &sr->tr);
	vmx_set_seg(vmx, SEG_LDTR, &sr->ldt);
	vmx_wr(vmx, GUEST_GDTR_BASE, sr->gdt.base);
	vmx_wr(vmx, GUEST_GDTR_LIMIT, sr->gdt.limit);
	vmx_wr(vmx, GUEST_IDTR_BASE, sr->idt.base);
	vmx_wr(vmx, GUEST_IDTR_LIMIT, sr->idt.limit);
	mv_cr_set_sregs(vcpu, sr);
	if (vmx->shadow) {
		vmx_shadow_hw(vmx);
	} else {
		vmx_write_cr0(vmx, sr->cr0);
		vmx_write_cr4(vmx, sr->cr4);
		vmx_wr(vmx, GUEST_CR3, sr->cr3);
		vmx_write_efer(vmx, sr->efer);
	}
	vmx_queued_error_follows_pe(vmx);
	vmx->cr2 = sr->cr2;
	vmx->cr8 = sr->cr8;
	vcpu->apic_base = sr->apic_base;
	/* new paging state: no mapping of the old one may survive */
	vmx->flush = true;
	vmx_put();
	return 0;
}

/* Where one of vmx_switched_msrs is kept for the guest, or NULL. */
static struct vmx_msr_entry *vmx_guest_msr(struct vmx_vcpu *vmx, u32 index)
{
	unsigned int i;

	for (i = 0; i < VMX_NR_SWITCHED; i++)
		if (vmx_switched_msrs[i] == index)
			return &vmx->msrs->guest[i];
	return NULL;
}

/**
 * vmx_get_msr() - the get_msr op: an MSR the VMCS or the MSR areas hold
 * @vcpu: the vCPU
 * @index: the MSR
 * @data: its value
 *
 * Return: 0, or -EINVAL for an MSR kept elsewhere.
 */
int vmx_get_msr(struct mv_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_msr_entry *e;
	struct vmx_vcpu *vmx;
	int r = 0;

	vmx = vmx_get(vcpu);
	e = vmx_guest_msr(vmx, index);
	if (e) {
		*data = e->value;
		goto out;
	}
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		*data = vmx_rd(vmx, GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmx_rd(vmx, GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmx_rd(vmx, GUEST_SYSENTER_EIP);
		break;
	case MSR_FS_BASE:
		*data = vmx_rd(vmx, GUEST_FS_BASE);
		break;
	case MSR_GS_BASE:
		*data = vmx_rd(vmx, GUEST_GS_BASE);
		break;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmx_rd(vmx, TSC_OFFSET);
		break;
	case MSR_IA32_CR_PAT:
		*data = vmx_rd(vmx, GUEST_IA32_PAT);
		break;
	default:
		r = -EINVAL;
	}
out:
	vmx_put();
	return r;
}

static int vmx_set_msr_locked(struct vmx_vcpu *vmx, u32 index, u64 data)
{
	struct vmx_msr_entry *e = vmx_guest_msr(vmx, index);

	if (e) {
		e->value = data;
		return 0;
	}
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		vmx_wr(vmx, GUEST_SYSENTER_CS, data);
		break;
	case MSR_IA32_SYSENTER_ESP:
		vmx_wr(vmx, GUEST_SYSENTER_ESP, data);
		break;
	case MSR_IA32_SYSENTER_EIP:
		vmx_wr(vmx, GUEST_SYSENTER_EIP, data);
		break;
	case MSR_FS_BASE:
		vmx_wr(vmx, GUEST_FS_BASE, data);
		break;
	case MSR_GS_BASE:
		vmx_wr(vmx, GUEST_GS_BASE, data);
		break;
	case MSR_IA32_TSC:
		vmx_wr(vmx, TSC_OFFSET, data - rdtsc());
		break;
	case MSR_IA32_CR_PAT:
		vmx_wr(vmx, GUEST_IA32_PAT, data);
		break;
	case MSR_EFER:
		/* vcpu->cr has the new value */
		if (vmx->shadow)
			vmx_shadow_hw(vmx);
		else
			vmx_write_efer(vmx, data);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/**
 * vmx_set_msr() - the set_msr op: the value is checked (kmod/msr.c); store it
 * @vcpu: the vCPU
 * @index: the MSR
 * @data: its value
 *
 * Return: 0, or -EINVAL for an MSR kept elsewhere.
 */
int vmx_set_msr(struct mv_vcpu *vcpu, u32 index, u64 data)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	int r = vmx_set_msr_locked(vmx, index, data);

	vmx_put();
	return r;
}

/**
 * vmx_read_cr() - the read_cr op: a register the guest owns, in TDP mode
 * @vcpu: the vCPU
 * @reg: which
 *
 * Return: its value as the guest reads it, from the VMCS.
 */
u64 vmx_read_cr(struct mv_vcpu *vcpu, enum mv_cr_reg reg)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	u64 v;

	switch (reg) {
	case MV_CR0:
		v = vmx_read_cr0(vmx);
		break;
	case MV_CR3:
		v = vmx_rd(vmx, GUEST_CR3);
		break;
	case MV_CR4:
		v = vmx_read_cr4(vmx);
		break;
	default:
		v = vmx_rd(vmx, GUEST_IA32_EFER);
		break;
	}
	vmx_put();
	return v;
}

static bool vmx_guest_pe(struct vmx_vcpu *vmx)
{
	return vmx_read_cr0(vmx) & X86_CR0_PE;
}

/* The exceptions that push an error code in protected mode */
static bool vmx_exc_has_error(u8 vector)
{
	switch (vector) {
	case X86_TRAP_DF:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
	case X86_TRAP_PF:
	case X86_TRAP_AC:
	case X86_TRAP_CP:
		return true;
	default:
		return false;
	}
}

/**
 * vmx_inject() - queue a hardware exception for the next entry
 * @vmx: the vCPU, its VMCS current
 * @vector: the exception
 * @has_error: it pushes an error code (in protected mode)
 * @error: the error code
 */
void vmx_inject(struct vmx_vcpu *vmx, u8 vector, bool has_error,
		u32 error)
{
	u32 info = vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID_MASK;

	/* real mode pushes no error code, and VM entry refuses one */
	if (has_error)
		vmx_wr(vmx, VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	if (has_error && vmx_guest_pe(vmx))
		info |= INTR_INFO_DELIVER_CODE_MASK;
	vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, info);
}

/*
 * KVM_SET_SREGS may change CR0.PE under an exception queued for the next
 * entry (one whose delivery the last exit interrupted): VM entry refuses
 * an error code in real mode, and wants one for these vectors in
 * protected mode.  Whether it is pushed follows the new mode, as KVM
 * decides it when it injects.  VMCS current.
 */
static void vmx_queued_error_follows_pe(struct vmx_vcpu *vmx)
{
	u32 info = vmx_rd(vmx, VM_ENTRY_INTR_INFO_FIELD);
	u32 code = 0;

	if ((info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK)) !=
	    (INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION))
		return;
	if (vmx_guest_pe(vmx) &&
	    vmx_exc_has_error(info & INTR_INFO_VECTOR_MASK))
		code = INTR_INFO_DELIVER_CODE_MASK;
	if ((info & INTR_INFO_DELIVER_CODE_MASK) != code)
		vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD,
		       (info & ~INTR_INFO_DELIVER_CODE_MASK) | code);
}

/**
 * vmx_queue_exception() - the inject_exception op
 * @vcpu: the vCPU
 * @vector: the exception
 * @has_error: it pushes an error code
 * @error: the error code
 * @cr2: for a #PF, the faulting address
 *
 * A #PF also sets CR2, as the hardware would.
 */
void vmx_queue_exception(struct mv_vcpu *vcpu, u8 vector,
			 bool has_error, u32 error, u64 cr2)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);

	if (vector == X86_TRAP_PF)
		vmx->cr2 = cr2;
	vmx_inject(vmx, vector, has_error, error);
	vmx_put();
}

/**
 * vmx_queued_event() - the queued_event op
 * @vcpu: the vCPU
 * @ev: the event, filled in
 * @take: and take it off the VMCS
 *
 * What the VM-entry interruption information holds (the event whose
 * delivery the exit interrupted, queued again after the exit, or one
 * injected since).
 *
 * Return: whether an event is queued.
 */
bool vmx_queued_event(struct mv_vcpu *vcpu, struct mv_event *ev,
		      bool take)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	u32 info = vmx_rd(vmx, VM_ENTRY_INTR_INFO_FIELD);
	bool valid = info & INTR_INFO_VALID_MASK;

	if (valid) {
		ev->vector = info & INTR_INFO_VECTOR_MASK;
		switch (info & INTR_INFO_INTR_TYPE_MASK) {
		case INTR_TYPE_EXT_INTR:
			ev->type = MV_EVENT_EXT_INTR;
			break;
		case INTR_TYPE_NMI_INTR:
			ev->type = MV_EVENT_NMI;
			break;
		case INTR_TYPE_HARD_EXCEPTION:
			ev->type = MV_EVENT_EXCEPTION;
			break;
		default:
			ev->type = MV_EVENT_SOFT;
			break;
		}
		ev->has_error = info & INTR_INFO_DELIVER_CODE_MASK;
		ev->error = ev->has_error ?
			vmx_rd(vmx, VM_ENTRY_EXCEPTION_ERROR_CODE) : 0;
		if (take)
			vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD, 0);
	}
	vmx_put();
	return valid;
}

/**
 * vmx_get_rflags() - the get_rflags op
 * @vcpu: the vCPU
 *
 * Return: the guest's RFLAGS.
 */
unsigned long vmx_get_rflags(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	return vmx->rflags;
}

/**
 * vmx_in_interrupt_shadow() - the in_interrupt_shadow op
 * @vcpu: the vCPU
 *
 * Return: the guest is blocked by STI or MOV SS.
 */
bool vmx_in_interrupt_shadow(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	bool shadow = vmx_rd(vmx, GUEST_INTERRUPTIBILITY_INFO) &
		INTR_BLOCK_STI_MOVSS;

	vmx_put();
	return shadow;
}

/**
 * vmx_end_interrupt_shadow() - the end_interrupt_shadow op
 * @vcpu: the vCPU
 */
void vmx_end_interrupt_shadow(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);
	u32 intr = vmx_rd(vmx, GUEST_INTERRUPTIBILITY_INFO);

	if (intr & INTR_BLOCK_STI_MOVSS)
		vmx_wr(vmx, GUEST_INTERRUPTIBILITY_INFO,
		       intr & ~INTR_BLOCK_STI_MOVSS);
	vmx_put();
}

/**
 * vmx_inject_irq() - the inject_irq op
 * @vcpu: the vCPU
 * @vector: the external interrupt's vector
 */
void vmx_inject_irq(struct mv_vcpu *vcpu, u8 vector)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);

	vmx_wr(vmx, VM_ENTRY_INTR_INFO_FIELD,
	       vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK);
	vmx_put();
}

/**
 * vmx_enable_irq_window() - the enable_irq_window op: interrupt-window
 *	exiting, until the exit it causes (vmx_handle_exit())
 * @vcpu: the vCPU
 */
void vmx_enable_irq_window(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vmx_get(vcpu);

	vmx_wr(vmx, CPU_BASED_VM_EXEC_CONTROL,
	       vmx_rd(vmx, CPU_BASED_VM_EXEC_CONTROL) |
	       CPU_BASED_INTR_WINDOW_EXITING);
	vmx_put();
}

/**
 * vmx_get_cr8() - the get_cr8 op: CR8 loads and stores exit, so the
 *	guest's CR8 is kept here
 * @vcpu: the vCPU
 *
 * Return: the guest's CR8.
 */
u64 vmx_get_cr8(struct mv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	return vmx->cr8;
}

/**
 * vmx_set_cr8() - the set_cr8 op
 * @vcpu: the vCPU
 * @cr8: its new CR8, 0-15
 */
void vmx_set_cr8(struct mv_vcpu *vcpu, u64 cr8)
{
	struct vmx_vcpu *vmx = vcpu->priv;

	vmx->cr8 = cr8;
}
