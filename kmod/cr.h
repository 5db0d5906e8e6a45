/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's CR0, CR3, CR4 and EFER (vcpu->cr, struct mv_cr_regs), and the
 * x86 rules for the values they may take, in one place for both backends,
 * KVM_SET_SREGS, KVM_SET_MSRS, and the guest's own MOV to CR and WRMSR to
 * EFER.
 *
 * Everyone reads them with mv_read_cr0() and its siblings.  A register the
 * backend intercepts every write of is kept here only, and the backend
 * programs the hardware from it; one the guest owns (TDP mode) lives in the
 * VMCB or VMCS while the guest runs, and is read back on demand through the
 * backend's read_cr op.
 */
#ifndef MV_CR_H
#define MV_CR_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/types.h>

#include "ops.h"
#include "vcpu.h"
#include "virt.h"

struct kvm_sregs;
struct mv_cpuid;
struct mv_vcpu;

/*
 * The features CR4 and EFER bits depend on (enum-like bits of a u32): a
 * bit is reserved unless the vCPU has the feature, that is, unless both
 * minivisor on this host (mv_cr_host_features()) and the guest's CPUID
 * (mv_cr_cpuid_features()) have it.
 */
#define MV_CRF_XSAVE		BIT(0)	/* CR4.OSXSAVE */
#define MV_CRF_SMEP		BIT(1)	/* CR4.SMEP */
#define MV_CRF_SMAP		BIT(2)	/* CR4.SMAP */
#define MV_CRF_FSGSBASE		BIT(3)	/* CR4.FSGSBASE */
#define MV_CRF_PKU		BIT(4)	/* CR4.PKE */
#define MV_CRF_LA57		BIT(5)	/* CR4.LA57 */
#define MV_CRF_UMIP		BIT(6)	/* CR4.UMIP */
#define MV_CRF_PCID		BIT(7)	/* CR4.PCIDE */
#define MV_CRF_VMX		BIT(8)	/* CR4.VMXE */
#define MV_CRF_LM		BIT(9)	/* EFER.LME, EFER.LMA */
#define MV_CRF_NX		BIT(10)	/* EFER.NXE */
#define MV_CRF_SVM		BIT(11)	/* EFER.SVME */
#define MV_CRF_FFXSR		BIT(12)	/* EFER.FFXSR */

/**
 * mv_cr_read() - one of the guest's paging-control registers
 * @vcpu: the vCPU, on its thread or under its mutex
 * @reg: which
 *
 * Return: its value as the guest reads it.
 */
static inline u64 mv_cr_read(struct mv_vcpu *vcpu, enum mv_cr_reg reg)
{
	if (unlikely(vcpu->cr.stale & BIT(reg))) {
		vcpu->cr.val[reg] = mv_ops->read_cr(vcpu, reg);
		vcpu->cr.stale &= ~BIT(reg);
	}
	return vcpu->cr.val[reg];
}

static inline u64 mv_read_cr0(struct mv_vcpu *vcpu)
{
	return mv_cr_read(vcpu, MV_CR0);
}

static inline u64 mv_read_cr3(struct mv_vcpu *vcpu)
{
	return mv_cr_read(vcpu, MV_CR3);
}

static inline u64 mv_read_cr4(struct mv_vcpu *vcpu)
{
	return mv_cr_read(vcpu, MV_CR4);
}

static inline u64 mv_read_efer(struct mv_vcpu *vcpu)
{
	return mv_cr_read(vcpu, MV_EFER);
}

/**
 * mv_cr_write() - the guest's register takes a new value
 * @vcpu: the vCPU, on its thread or under its mutex
 * @reg: which
 * @val: the value the guest will read; the caller (a backend) checked it
 *	and programs the hardware to match
 */
static inline void mv_cr_write(struct mv_vcpu *vcpu, enum mv_cr_reg reg,
			       u64 val)
{
	vcpu->cr.val[reg] = val;
	vcpu->cr.stale &= ~BIT(reg);
}

/**
 * mv_cr_hw_written() - the backend changed the hardware's copy of guest-owned
 *	registers itself (e.g. carrying out an intercepted MOV to CR0)
 * @vcpu: the vCPU
 * @regs: BIT(enum mv_cr_reg) of those written; only the guest-owned ones
 *	count (the others the backend keeps with mv_cr_write())
 */
static inline void mv_cr_hw_written(struct mv_vcpu *vcpu, unsigned int regs)
{
	vcpu->cr.stale |= regs & vcpu->cr.guest_owned;
}

void mv_cr_reset(struct mv_vcpu *vcpu, unsigned int guest_owned);
void mv_cr_get_sregs(struct mv_vcpu *vcpu, struct kvm_sregs *sr);
void mv_cr_set_sregs(struct mv_vcpu *vcpu, const struct kvm_sregs *sr);

u32 mv_cr_cpuid_features(const struct mv_cpuid *c);
u32 mv_cr_host_features(void);
u64 mv_cr4_reserved(u32 feat);
u64 mv_efer_reserved(u32 feat);
bool mv_cr_sregs_valid(u32 feat, const struct kvm_sregs *sr);
bool mv_cr4_load_valid(u32 feat, u64 cr3, u64 cr4, u64 efer, u64 val);
bool mv_cr0_load(u64 cr0, u64 cr4, u64 *efer, bool cs_l, u64 *val);

void mv_cr_update_features(struct mv_vcpu *vcpu);
bool mv_vcpu_sregs_valid(const struct mv_vcpu *vcpu,
			 const struct kvm_sregs *sr);
bool mv_vcpu_efer_valid(const struct mv_vcpu *vcpu, u64 efer, bool host);

#endif /* MV_CR_H */
