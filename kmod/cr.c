// SPDX-License-Identifier: GPL-2.0
/*
 * Which CR4 and EFER values a vCPU may have, for both backends.
 *
 * As in KVM (kvm_is_valid_cr4(), kvm_valid_efer()), a CR4 or EFER bit is
 * reserved unless the guest may have its feature, and the guest may have
 * it only when its CPUID (KVM_SET_CPUID2) says so and minivisor can give
 * it on this host.  A reserved bit makes KVM_SET_SREGS fail with -EINVAL
 * and a guest's MOV to CR4 or WRMSR to EFER take a #GP.  KVM_SET_MSRS of
 * EFER, the VMM's write, is checked against the host alone, as in KVM.
 *
 * What minivisor never gives, whatever the CPUID says:
 *  - CR4.LA57: the shadow MMU builds 4-level roots, and the walker that
 *    emulated accesses go through walks 4 levels;
 *  - CR4.VMXE and EFER.SVME: no nested virtualization;
 *  - CR4.CET, PKS, UINTR, KL, LAM_SUP, FRED, SMXE and every bit the SDM
 *    reserves: they turn on state (shadow stacks, supervisor keys, user
 *    interrupts) whose MSRs are not switched between host and guest.  Both
 *    backends intercept every CR4 bit outside the always-valid ones, so a
 *    guest reaches none of them;
 *  - EFER.FFXSR, LMSLE, AUTOIBRS: not virtualized.
 * CR4.PKE needs the host kernel to use protection keys: PKRU is switched
 * (kmod/fpu.c) only then.
 *
 * The functions taking a feature word are pure, for KUnit
 * (kmod/tests/cr_test.c).
 */
#include <linux/kvm.h>
#include <asm/cpufeature.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "compat.h"
#include "cpuid.h"
#include "cr.h"
#include "fpu.h"
#include "vcpu.h"

/* CR4 bits every vCPU may have: they need no CPUID feature a CPU lacks */
#define CR4_ALWAYS	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | \
			 X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | \
			 X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | \
			 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT)

/* A CR4 or EFER bit and the feature it needs */
struct cr_bit {
	u64 bit;
	u32 feat;
};

static const struct cr_bit cr4_bits[] = {
	{ X86_CR4_OSXSAVE, MV_CRF_XSAVE },
	{ X86_CR4_SMEP, MV_CRF_SMEP },
	{ X86_CR4_SMAP, MV_CRF_SMAP },
	{ X86_CR4_FSGSBASE, MV_CRF_FSGSBASE },
	{ X86_CR4_PKE, MV_CRF_PKU },
	{ X86_CR4_LA57, MV_CRF_LA57 },
	{ X86_CR4_UMIP, MV_CRF_UMIP },
	{ X86_CR4_PCIDE, MV_CRF_PCID },
	{ X86_CR4_VMXE, MV_CRF_VMX },
};

static const struct cr_bit efer_bits[] = {
	{ EFER_SCE, 0 },
	{ EFER_LME | EFER_LMA, MV_CRF_LM },
	{ EFER_NX, MV_CRF_NX },
	{ EFER_SVME, MV_CRF_SVM },
	{ EFER_FFXSR, MV_CRF_FFXSR },
};

/* A CPUID bit that says a vCPU has a feature */
struct cr_cpuid_bit {
	u32 function;
	u8 reg;		/* 0 EAX, 1 EBX, 2 ECX, 3 EDX */
	u8 bit;
	u32 feat;
};

static const struct cr_cpuid_bit cr_cpuid_bits[] = {
	{ 1, 2, 5, MV_CRF_VMX },
	{ 1, 2, 17, MV_CRF_PCID },
	{ 1, 2, 26, MV_CRF_XSAVE },
	{ 7, 1, 0, MV_CRF_FSGSBASE },
	{ 7, 1, 7, MV_CRF_SMEP },
	{ 7, 1, 20, MV_CRF_SMAP },
	{ 7, 2, 2, MV_CRF_UMIP },
	{ 7, 2, 3, MV_CRF_PKU },
	{ 7, 2, 16, MV_CRF_LA57 },
	{ 0x80000001, 2, 2, MV_CRF_SVM },
	{ 0x80000001, 3, 20, MV_CRF_NX },
	{ 0x80000001, 3, 25, MV_CRF_FFXSR },
	{ 0x80000001, 3, 29, MV_CRF_LM },
};

/**
 * mv_cr_cpuid_features() - the MV_CRF_* features a CPUID table claims
 * @c: the table (leaf 7 read at subleaf 0)
 *
 * Return: MV_CRF_* bits.
 */
u32 mv_cr_cpuid_features(const struct mv_cpuid *c)
{
	u32 feat = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cr_cpuid_bits); i++) {
		const struct cr_cpuid_bit *b = &cr_cpuid_bits[i];
		const struct kvm_cpuid_entry2 *e;
		u32 regs[4];

		e = mv_cpuid_find(c, b->function, 0);
		if (!e)
			continue;
		regs[0] = e->eax;
		regs[1] = e->ebx;
		regs[2] = e->ecx;
		regs[3] = e->edx;
		if (regs[b->reg] & BIT(b->bit))
			feat |= b->feat;
	}
	return feat;
}
EXPORT_SYMBOL_IF_KUNIT(mv_cr_cpuid_features);

/**
 * mv_cr_host_features() - the MV_CRF_* features minivisor can give here
 *
 * Never LA57, VMX, SVM or FFXSR (see the top of this file).
 *
 * Return: MV_CRF_* bits.
 */
u32 mv_cr_host_features(void)
{
	u32 feat = 0;

	if (mv_fpu_supported_xcr0())
		feat |= MV_CRF_XSAVE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		feat |= MV_CRF_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		feat |= MV_CRF_SMAP;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		feat |= MV_CRF_FSGSBASE;
	if (cpu_feature_enabled(X86_FEATURE_OSPKE))
		feat |= MV_CRF_PKU;
	if (boot_cpu_has(X86_FEATURE_UMIP))
		feat |= MV_CRF_UMIP;
	if (boot_cpu_has(X86_FEATURE_PCID))
		feat |= MV_CRF_PCID;
	if (boot_cpu_has(X86_FEATURE_LM))
		feat |= MV_CRF_LM;
	if (boot_cpu_has(X86_FEATURE_NX))
		feat |= MV_CRF_NX;
	return feat;
}

/**
 * mv_cr4_reserved() - the CR4 bits a vCPU with these features may not set
 * @feat: MV_CRF_* bits
 *
 * Return: the reserved bits, the upper 32 among them.
 */
u64 mv_cr4_reserved(u32 feat)
{
	u64 valid = CR4_ALWAYS;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cr4_bits); i++)
		if (feat & cr4_bits[i].feat)
			valid |= cr4_bits[i].bit;
	return ~valid;
}
EXPORT_SYMBOL_IF_KUNIT(mv_cr4_reserved);

/**
 * mv_efer_reserved() - the EFER bits a vCPU with these features may not set
 * @feat: MV_CRF_* bits
 *
 * Return: the reserved bits.
 */
u64 mv_efer_reserved(u32 feat)
{
	u64 valid = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(efer_bits); i++)
		if (!efer_bits[i].feat || (feat & efer_bits[i].feat))
			valid |= efer_bits[i].bit;
	return ~valid;
}
EXPORT_SYMBOL_IF_KUNIT(mv_efer_reserved);

/**
 * mv_cr_sregs_valid() - the checks KVM_SET_SREGS makes on CR0, CR4 and EFER
 * @feat: the vCPU's MV_CRF_* features
 * @sr: the registers
 *
 * As KVM's: CR0 fits 32 bits, PG needs PE, NW needs CD; with LME and PG,
 * PAE and LMA are set, else neither LMA nor CS.L is; no reserved bit of
 * CR4 or EFER.  The VM entry checks what the hardware checks beyond.
 *
 * Return: true when the state may be set.
 */
bool mv_cr_sregs_valid(u32 feat, const struct kvm_sregs *sr)
{
	if (sr->cr0 >> 32)
		return false;
	if ((sr->cr0 & X86_CR0_PG) && !(sr->cr0 & X86_CR0_PE))
		return false;
	if ((sr->cr0 & X86_CR0_NW) && !(sr->cr0 & X86_CR0_CD))
		return false;
	if ((sr->efer & EFER_LME) && (sr->cr0 & X86_CR0_PG)) {
		if (!(sr->cr4 & X86_CR4_PAE) || !(sr->efer & EFER_LMA))
			return false;
	} else if ((sr->efer & EFER_LMA) || sr->cs.l) {
		return false;
	}
	if (sr->cr4 & mv_cr4_reserved(feat))
		return false;
	return !(sr->efer & mv_efer_reserved(feat));
}
EXPORT_SYMBOL_IF_KUNIT(mv_cr_sregs_valid);

/**
 * mv_cr4_load_valid() - may the guest's MOV to CR4 load this value?
 * @feat: the vCPU's MV_CRF_* features
 * @cr3: the guest's CR3
 * @cr4: its CR4 now
 * @efer: its EFER
 * @val: the value loaded
 *
 * No reserved bit; in long mode PAE stays set and LA57 does not change;
 * PCIDE is turned on only in long mode with CR3[11:0] clear (SDM vol. 3,
 * 4.10.1).
 *
 * Return: true, or false for a #GP.
 */
bool mv_cr4_load_valid(u32 feat, u64 cr3, u64 cr4, u64 efer, u64 val)
{
	if (val & mv_cr4_reserved(feat))
		return false;
	if (efer & EFER_LMA) {
		if (!(val & X86_CR4_PAE))
			return false;
		if ((val ^ cr4) & X86_CR4_LA57)
			return false;
	}
	if ((val & X86_CR4_PCIDE) && !(cr4 & X86_CR4_PCIDE) &&
	    (!(efer & EFER_LMA) || (cr3 & 0xfff)))
		return false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(mv_cr4_load_valid);

/**
 * mv_cr0_load() - the rules of a CR0 load by the guest
 * @cr0: CR0 before
 * @cr4: CR4
 * @efer: EFER; on success its LMA follows the new paging state
 * @cs_l: the code segment's L bit
 * @val: the value the guest loads (MOV to CR0, or what LMSW or CLTS
 *	make); on success with ET set, as CR0 will hold it
 *
 * No bit above 31; PG only with PE; NW only with CD; PG set with EFER.LME
 * enters long mode, which needs CR4.PAE and a code segment without L; PG
 * cleared leaves it, which 64-bit code (CS.L) cannot do; and PG cleared
 * with CR4.PCIDE set is refused (SDM vol. 3, 2.5, 4.10.1 and 10.8.5).
 * The same for both backends, in both MMU modes.
 *
 * Return: true, or false for a #GP.
 */
bool mv_cr0_load(u64 cr0, u64 cr4, u64 *efer, bool cs_l, u64 *val)
{
	u64 v = *val | X86_CR0_ET;

	if (v >> 32)
		return false;
	if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
		return false;
	if ((v & X86_CR0_NW) && !(v & X86_CR0_CD))
		return false;
	if (!(v & X86_CR0_PG) && (cr4 & X86_CR4_PCIDE))
		return false;
	if ((v & X86_CR0_PG) && !(cr0 & X86_CR0_PG) && (*efer & EFER_LME)) {
		if (!(cr4 & X86_CR4_PAE) || cs_l)
			return false;
		*efer |= EFER_LMA;
	} else if (!(v & X86_CR0_PG) && (*efer & EFER_LMA)) {
		if (cs_l)
			return false;
		*efer &= ~EFER_LMA;
	}
	*val = v;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(mv_cr0_load);

/**
 * mv_cr_update_features() - recompute a vCPU's features from its CPUID
 * @vcpu: the vCPU; caller holds its mutex (or has not published it)
 */
void mv_cr_update_features(struct mv_vcpu *vcpu)
{
	vcpu->cr_feat = mv_cr_host_features() &
		mv_cr_cpuid_features(&vcpu->cpuid);
}

/**
 * mv_vcpu_sregs_valid() - KVM_SET_SREGS's checks of CR0, CR4 and EFER
 * @vcpu: the vCPU; caller holds its mutex
 * @sr: the registers
 *
 * Return: true when the backend may set them.
 */
bool mv_vcpu_sregs_valid(const struct mv_vcpu *vcpu,
			 const struct kvm_sregs *sr)
{
	return mv_cr_sregs_valid(vcpu->cr_feat, sr);
}

/**
 * mv_vcpu_efer_valid() - may EFER be written with this value?
 * @vcpu: the vCPU; caller holds its mutex
 * @efer: the value
 * @host: KVM_SET_MSRS (checked against the host only, as in KVM) rather
 *	than the guest's WRMSR or KVM_SET_SREGS
 *
 * Return: true when no reserved bit is set.
 */
bool mv_vcpu_efer_valid(const struct mv_vcpu *vcpu, u64 efer, bool host)
{
	u32 feat = host ? mv_cr_host_features() : vcpu->cr_feat;

	return !(efer & mv_efer_reserved(feat));
}

/**
 * mv_cr_reset() - a new vCPU's CR0, CR3, CR4 and EFER, as after RESET
 * @vcpu: the vCPU, being created by its backend
 * @guest_owned: BIT(enum mv_cr_reg) of the registers the backend lets the
 *	guest change without an exit, read back with its read_cr op
 *
 * CR0 holds ET, CD and NW (SDM vol. 3A, 10.1.1; APM vol. 2, 14.1.3); CR3,
 * CR4 and EFER are 0.  The backend programs the hardware from these.
 */
void mv_cr_reset(struct mv_vcpu *vcpu, unsigned int guest_owned)
{
	vcpu->cr.val[MV_CR0] = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
	vcpu->cr.val[MV_CR3] = 0;
	vcpu->cr.val[MV_CR4] = 0;
	vcpu->cr.val[MV_EFER] = 0;
	vcpu->cr.guest_owned = guest_owned;
	vcpu->cr.stale = 0;
}

/**
 * mv_cr_get_sregs() - KVM_GET_SREGS's CR0, CR3, CR4 and EFER
 * @vcpu: the vCPU; caller holds its mutex
 * @sr: where the backend's get_sregs op gathers the rest
 */
void mv_cr_get_sregs(struct mv_vcpu *vcpu, struct kvm_sregs *sr)
{
	sr->cr0 = mv_read_cr0(vcpu);
	sr->cr3 = mv_read_cr3(vcpu);
	sr->cr4 = mv_read_cr4(vcpu);
	sr->efer = mv_read_efer(vcpu);
}

/**
 * mv_cr_set_sregs() - KVM_SET_SREGS's CR0, CR3, CR4 and EFER
 * @vcpu: the vCPU; caller holds its mutex
 * @sr: the registers, which the backend's set_sregs op checked
 *	(mv_vcpu_sregs_valid() and its own rules); it programs the hardware
 *	from them after this
 */
void mv_cr_set_sregs(struct mv_vcpu *vcpu, const struct kvm_sregs *sr)
{
	mv_cr_write(vcpu, MV_CR0, sr->cr0);
	mv_cr_write(vcpu, MV_CR3, sr->cr3);
	mv_cr_write(vcpu, MV_CR4, sr->cr4);
	mv_cr_write(vcpu, MV_EFER, sr->efer);
}
