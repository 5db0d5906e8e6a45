// SPDX-License-Identifier: GPL-2.0
/*
 * The MSRs minivisor keeps for a guest.  The backend holds their values
 * (the SVM ones live in the VMCB); this file lists them and moves them
 * between userspace and the backend with KVM's semantics.
 */
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>

#include "msr.h"
#include "mv.h"
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
			if (mv_ops->set_msr(vcpu, e[i].index, e[i].data, true))
				break;
		} else {
			if (mv_ops->get_msr(vcpu, e[i].index, &e[i].data))
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
