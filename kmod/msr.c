// SPDX-License-Identifier: GPL-2.0
/*
 * The MSRs minivisor keeps for a guest, and their rules, once for both
 * backends: which exist, what values each accepts, what the guest may
 * change (its WRMSR) and what only the VMM may (KVM_SET_MSRS).  The core
 * holds IA32_APIC_BASE, IA32_MISC_ENABLE and IA32_SPEC_CTRL; the backend
 * stores the rest where the hardware wants them (the VMCB, the VMCS, its
 * MSR areas) through its get_msr and set_msr ops, which check nothing.
 */
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "cr.h"
#include "msr.h"
#include "mv.h"
#include "ops.h"
#include "spec.h"
#include "vcpu.h"
#include "virt.h"

/* The MSRs a guest has, in KVM_GET_MSR_INDEX_LIST's order. */
static const u32 mv_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE,
	MSR_EFER, MSR_IA32_TSC, MSR_IA32_CR_PAT, MSR_IA32_APICBASE,
	MSR_IA32_MISC_ENABLE,
};

/**
 * mv_msr_known() - is this one of the MSRs a guest has?
 * @index: the MSR
 *
 * Return: true if it is in KVM_GET_MSR_INDEX_LIST.
 */
bool mv_msr_known(u32 index)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mv_msrs); i++)
		if (mv_msrs[i] == index)
			return true;
	return false;
}

/**
 * mv_msr_index_list() - KVM_GET_MSR_INDEX_LIST
 * @uarg: the VMM's struct kvm_msr_list
 *
 * As in KVM, the count is written back even when the list does not fit.
 * IA32_SPEC_CTRL comes last, where the host has it (kmod/spec.c).
 *
 * Return: 0, -E2BIG when nmsrs is too small, -EFAULT.
 */
long mv_msr_index_list(void __user *uarg)
{
	struct kvm_msr_list __user *ulist = uarg;
	const u32 spec_ctrl = MSR_IA32_SPEC_CTRL;
	struct kvm_msr_list list;
	u32 room, n = ARRAY_SIZE(mv_msrs);

	if (mv_spec_host_spec_ctrl())
		n++;
	if (copy_from_user(&list, ulist, sizeof(list)))
		return mv_fail(-EFAULT);
	room = list.nmsrs;
	list.nmsrs = n;
	if (copy_to_user(ulist, &list, sizeof(list)))
		return mv_fail(-EFAULT);
	if (room < n)
		return mv_fail(-E2BIG);
	if (copy_to_user(ulist->indices, mv_msrs, sizeof(mv_msrs)))
		return mv_fail(-EFAULT);
	if (n > ARRAY_SIZE(mv_msrs) &&
	    copy_to_user(&ulist->indices[ARRAY_SIZE(mv_msrs)], &spec_ctrl,
			 sizeof(spec_ctrl)))
		return mv_fail(-EFAULT);
	return 0;
}

/**
 * mv_msr_ioctl() - KVM_GET_MSRS and KVM_SET_MSRS
 * @vcpu: the vCPU; caller holds its mutex
 * @uarg: the VMM's struct kvm_msrs
 * @set: KVM_SET_MSRS
 *
 * Return: as KVM: the number of MSRs done, stopping at the first the
 * backend refuses; -E2BIG for MV_MAX_IO_MSRS or more; -EFAULT.
 */
long mv_msr_ioctl(struct mv_vcpu *vcpu, void __user *uarg, bool set)
{
	struct kvm_msrs __user *umsrs = uarg;
	struct kvm_msr_entry *e;
	struct kvm_msrs msrs;
	size_t size;
	long r;
	u32 i;

	if (copy_from_user(&msrs, umsrs, sizeof(msrs)))
		return mv_fail(-EFAULT);
	if (msrs.nmsrs >= MV_MAX_IO_MSRS)
		return mv_fail(-E2BIG);
	size = msrs.nmsrs * sizeof(*e);
	e = memdup_user(umsrs->entries, size);
	if (IS_ERR(e))
		return mv_fail(PTR_ERR(e));

	for (i = 0; i < msrs.nmsrs; i++) {
		if (set) {
			if (mv_msr_set(vcpu, e[i].index, e[i].data, true))
				break;
		} else {
			if (mv_msr_get(vcpu, e[i].index, &e[i].data, true))
				break;
		}
	}
	r = i;
	if (!set && copy_to_user(umsrs->entries, e, size))
		r = mv_fail(-EFAULT);
	kfree(e);
	return r;
}

/**
 * mv_msr_pat_valid() - may IA32_PAT hold this value?
 * @pat: the value
 *
 * Return: true when each of its eight bytes is a memory type: UC, WC, WT,
 * WP, WB or UC-.
 */
bool mv_msr_pat_valid(u64 pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (8 * i);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/**
 * mv_msr_reset() - the MSRs the core holds, as after RESET
 * @vcpu: the vCPU
 *
 * The backend calls it from its own reset of the vCPU.
 */
void mv_msr_reset(struct mv_vcpu *vcpu)
{
	vcpu->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		(vcpu->id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	vcpu->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL |
		MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
	vcpu->spec_ctrl = 0;
}

/**
 * mv_msr_get() - read one of a guest's MSRs
 * @vcpu: the vCPU; its mutex held (its thread, for the guest's RDMSR)
 * @index: the MSR
 * @data: its value
 * @host: KVM_GET_MSRS rather than the guest's RDMSR
 *
 * Return: 0, or -EINVAL for an MSR the guest does not have (its RDMSR
 * then takes a #GP).
 */
int mv_msr_get(struct mv_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	if (mv_spec_msr(index))
		return mv_spec_get_msr(vcpu, index, vcpu->spec_ctrl, data, host);
	switch (index) {
	case MSR_IA32_APICBASE:
		*data = vcpu->apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->misc_enable;
		return 0;
	case MSR_EFER:
		*data = mv_read_efer(vcpu);
		return 0;
	}
	if (!mv_msr_known(index))
		return -EINVAL;
	return mv_ops->get_msr(vcpu, index, data);
}

/*
 * The rules of an EFER write: what the guest's CPUID allows; then, from the
 * guest, LME only while paging is off and LMA never (it follows LME and
 * CR0.PG).  The VMM may set any consistent state.
 */
static int mv_msr_efer(struct mv_vcpu *vcpu, u64 *data, bool host)
{
	u64 cur;

	if (!mv_vcpu_efer_valid(vcpu, *data, host))
		return -EINVAL;
	if (host)
		return 0;
	cur = mv_read_efer(vcpu);
	if ((mv_read_cr0(vcpu) & X86_CR0_PG) &&
	    ((*data ^ cur) & EFER_LME))
		return -EINVAL;
	*data = (*data & ~EFER_LMA) | (cur & EFER_LMA);
	return 0;
}

/**
 * mv_msr_set() - write one of a guest's MSRs
 * @vcpu: the vCPU; its mutex held (its thread, for the guest's WRMSR)
 * @index: the MSR
 * @data: the value
 * @host: KVM_SET_MSRS (which may set what the guest may not, e.g.
 *	EFER.LMA or reserved IA32_APIC_BASE bits) rather than the guest's WRMSR
 *
 * Return: 0, or -EINVAL for an MSR the guest does not have or a value it
 * refuses (the guest's WRMSR then takes a #GP).
 */
int mv_msr_set(struct mv_vcpu *vcpu, u32 index, u64 data, bool host)
{
	int r;

	if (mv_spec_msr(index)) {
		r = mv_spec_set_msr(vcpu, index, data, host);
		if (!r && index == MSR_IA32_SPEC_CTRL)
			vcpu->spec_ctrl = data;
		return r;
	}
	switch (index) {
	case MSR_IA32_APICBASE:
		/* base below 52 bits, BSP (8), x2APIC (10), enable (11) */
		if (!host && (data & ~0x000ffffffffff000ULL & ~0xd00ULL))
			return -EINVAL;
		vcpu->apic_base = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		vcpu->misc_enable = data;
		return 0;
	case MSR_IA32_CR_PAT:
		if (!mv_msr_pat_valid(data))
			return -EINVAL;
		break;
	case MSR_EFER:
		r = mv_msr_efer(vcpu, &data, host);
		if (r)
			return r;
		/* the core's copy first: the backend programs it */
		mv_cr_write(vcpu, MV_EFER, data);
		break;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		/* addresses: canonical, or WRMSR faults */
		if (!__is_canonical_address(data, 48))
			return -EINVAL;
		break;
	default:
		if (!mv_msr_known(index))
			return -EINVAL;
	}
	return mv_ops->set_msr(vcpu, index, data);
}
