// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing a VM's MMU mode, and what both modes share.
 */
#include <linux/kvm.h>
#include <linux/minivisor.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "../insn.h"
#include "../mv.h"
#include "../ops.h"
#include "../vcpu.h"
#include "../virt.h"
#include "../vm.h"
#include "mmu.h"
#include "walk.h"

/* The "mmu" parameter: MV_MMU_TDP or MV_MMU_SHADOW, read racily */
static u32 mmu_param = MV_MMU_TDP;

static int mmu_param_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "tdp"))
		WRITE_ONCE(mmu_param, MV_MMU_TDP);
	else if (sysfs_streq(val, "shadow"))
		WRITE_ONCE(mmu_param, MV_MMU_SHADOW);
	else
		return -EINVAL;
	return 0;
}

static int mmu_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(mmu_param) == MV_MMU_SHADOW ? "shadow" :
			  "tdp");
}

static const struct kernel_param_ops mmu_param_ops = {
	.set = mmu_param_set,
	.get = mmu_param_get,
};

module_param_cb(mmu, &mmu_param_ops, NULL, 0644);
MODULE_PARM_DESC(mmu,
		 "MMU mode of VMs that do not choose one: tdp (default) or shadow; a change applies to VMs created after it");

/**
 * mv_mmu_default_mode() - the mode a new VM starts in
 *
 * The module parameter's, when this host offers it, else the other.
 *
 * Return: MV_MMU_SHADOW or MV_MMU_TDP.
 */
u32 mv_mmu_default_mode(void)
{
	u32 want = READ_ONCE(mmu_param);

	if (mv_caps.mmu_modes & want)
		return want;
	return mv_caps.mmu_modes & MV_MMU_TDP ? MV_MMU_TDP : MV_MMU_SHADOW;
}

/**
 * mv_mmu_set_mode() - KVM_ENABLE_CAP(MV_CAP_MMU_MODE) on a VM
 * @vm: the VM; caller holds @vm->lock
 * @mode: MV_MMU_SHADOW or MV_MMU_TDP
 *
 * Return: 0, -EINVAL for a mode that is not one or that this host cannot
 * run, -EBUSY once the VM has vCPUs.
 */
int mv_mmu_set_mode(struct mv_vm *vm, u64 mode)
{
	if ((mode != MV_MMU_SHADOW && mode != MV_MMU_TDP) ||
	    !(mv_caps.mmu_modes & mode))
		return mv_fail(-EINVAL);
	if (vm->nr_vcpus)
		return mv_fail(-EBUSY);
	vm->mmu = mode == MV_MMU_SHADOW ? &mv_shadow_mmu_ops :
		&mv_tdp_mmu_ops;
	return 0;
}

/**
 * mv_mmu_is_shadow() - does the VM run on shadow tables?
 * @vm: the VM
 *
 * For the backends, to program the hardware; constant once the VM has a
 * vCPU.
 *
 * Return: true for shadow paging, false for TDP.
 */
bool mv_mmu_is_shadow(const struct mv_vm *vm)
{
	return vm->mmu->mode == MV_MMU_SHADOW;
}

/**
 * mv_mmu_load() - give the backend the root its next entry runs on
 * @vcpu: the vCPU, loaded, on its own thread; preemption on
 *
 * Called by the entry path (mv_vcpu_enter_guest()) before every entry.
 * TDP: the VM's second-level root.  Shadow: the shadow root for the
 * guest's CR3 and paging mode, which may be built now and so sleep; or the
 * second-level root while the backend runs the vCPU on it (its
 * shadow_on_tdp op).  The backend only programs what it is given
 * (load_mmu_root op).
 *
 * Return: 0 or a negative errno (-ENOMEM when no shadow root can be built).
 */
int mv_mmu_load(struct mv_vcpu *vcpu)
{
	const struct mv_mmu_ops *mmu = vcpu->vm->mmu;
	bool tdp = mmu->mode == MV_MMU_TDP;
	u64 root;
	int r;

	if (!tdp && mv_ops->shadow_on_tdp && mv_ops->shadow_on_tdp(vcpu)) {
		tdp = true;
		r = mmu->phys_root(vcpu, &root);
	} else {
		r = mmu->root(vcpu, &root);
	}
	if (r)
		return r;
	mv_ops->load_mmu_root(vcpu, root, tdp);
	return 0;
}

/**
 * mv_mmu_tdp_fault() - a fault on the VM's second-level tables
 * @vcpu: the vCPU
 * @gpa: the guest-physical address it touched
 * @error: MV_PF_* bits of the access
 *
 * In TDP mode, and in shadow mode while the backend runs a vCPU on the
 * second-level tables (see mv_mmu_load()): either way the TDP mode's fault
 * path maps the memory or emulates the access.
 *
 * Return: what vcpu_run() returns.
 */
int mv_mmu_tdp_fault(struct mv_vcpu *vcpu, u64 gpa, u32 error)
{
	return mv_tdp_mmu_ops.page_fault(vcpu, gpa, error);
}
