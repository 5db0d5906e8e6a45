/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 rules for the CR4 and EFER a guest may have, in one place for
 * both backends, KVM_SET_SREGS, KVM_SET_MSRS, and the guest's own MOV to
 * CR4 and WRMSR to EFER.
 */
#ifndef MV_CR_H
#define MV_CR_H

#include <linux/bits.h>
#include <linux/types.h>

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
