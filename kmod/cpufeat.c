// SPDX-License-Identifier: GPL-2.0
/*
 * CPU feature verdict for minivisor.  The bit positions are those of the
 * Intel SDM (vol. 3, appendix A, and CPUID leaf 1) and the AMD APM (vol. 2,
 * chapter 15, and CPUID Fn8000_000A).
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minivisor.h>
#include <linux/string.h>

#include "compat.h"
#include "cpufeat.h"

#define CPUID1_ECX_VMX			BIT(5)
#define CPUID81_ECX_SVM			BIT(2)
#define CPUID8A_EDX_NPT			BIT(0)
#define CPUID8A_EDX_NRIPS		BIT(3)
#define CPUID8A_EDX_DECODE_ASSISTS	BIT(7)
#define CPUID8A_EDX_VGIF		BIT(16)

#define FEATURE_CONTROL_LOCKED		BIT_ULL(0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX BIT_ULL(2)
#define VM_CR_SVMDIS			BIT_ULL(4)

#define VMX_BASIC_REVISION_MASK		0x7fffffffULL
/* allowed-1 settings live in bits 63:32 of the control capability MSRs */
#define VMX_PROC_SECONDARY		BIT_ULL(32 + 31)
#define VMX_PROC2_EPT			BIT_ULL(32 + 1)
#define VMX_PROC2_VPID			BIT_ULL(32 + 5)
#define VMX_PROC2_UNRESTRICTED		BIT_ULL(32 + 7)

static bool vendor_is(const struct mv_cpuid_leaf *l, const char *name)
{
	char v[13];

	memcpy(v, &l->ebx, 4);
	memcpy(v + 4, &l->edx, 4);
	memcpy(v + 8, &l->ecx, 4);
	v[12] = '\0';
	return !strcmp(v, name);
}

static int detect_vmx(const struct mv_cpu_facts *f, struct mv_cpu_caps *caps)
{
	u64 fc = f->feature_control;

	if (!f->has_feature_control) {
		caps->why = "VMX: IA32_FEATURE_CONTROL cannot be read";
		return -ENODEV;
	}
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		caps->why = "VMX: IA32_FEATURE_CONTROL is not locked by firmware";
		return -ENODEV;
	}
	if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		caps->why = "VMX: disabled by firmware (IA32_FEATURE_CONTROL)";
		return -ENODEV;
	}
	if (!f->has_vmx_msrs) {
		caps->why = "VMX: capability MSRs cannot be read";
		return -ENODEV;
	}

	caps->backend = MV_BACKEND_VMX;
	caps->vmcs_revision = f->vmx_basic & VMX_BASIC_REVISION_MASK;
	caps->mmu_modes = MV_MMU_SHADOW;
	if (f->vmx_procbased & VMX_PROC_SECONDARY) {
		if (f->vmx_procbased2 & VMX_PROC2_EPT)
			caps->features |= MV_FEAT_EPT;
		if (f->vmx_procbased2 & VMX_PROC2_VPID)
			caps->features |= MV_FEAT_VPID;
		if (f->vmx_procbased2 & VMX_PROC2_UNRESTRICTED)
			caps->features |= MV_FEAT_UNRESTRICTED_GUEST;
	}
	if (caps->features & MV_FEAT_EPT)
		caps->mmu_modes |= MV_MMU_TDP;
	return 0;
}

static int detect_svm(const struct mv_cpu_facts *f, struct mv_cpu_caps *caps)
{
	u32 edx = f->svm.edx;

	if (!f->has_vm_cr) {
		caps->why = "SVM: VM_CR cannot be read";
		return -ENODEV;
	}
	if (f->vm_cr & VM_CR_SVMDIS) {
		caps->why = "SVM: disabled by firmware (VM_CR.SVMDIS)";
		return -ENODEV;
	}
	if (f->ext0.eax < 0x8000000a) {
		caps->why = "SVM: CPUID leaf 0x8000000a is missing";
		return -ENODEV;
	}

	caps->backend = MV_BACKEND_SVM;
	caps->mmu_modes = MV_MMU_SHADOW;
	if (edx & CPUID8A_EDX_NPT) {
		caps->features |= MV_FEAT_NPT;
		caps->mmu_modes |= MV_MMU_TDP;
	}
	if (edx & CPUID8A_EDX_NRIPS)
		caps->features |= MV_FEAT_NRIPS;
	if (edx & CPUID8A_EDX_DECODE_ASSISTS)
		caps->features |= MV_FEAT_DECODE_ASSISTS;
	if (edx & CPUID8A_EDX_VGIF)
		caps->features |= MV_FEAT_VGIF;
	return 0;
}

/**
 * mv_cpufeat_detect() - choose the backend for a CPU from its recorded facts
 * @f: CPUID leaves and MSR values read off the CPU
 * @caps: filled with the verdict; on failure only @caps->why is meaningful
 *
 * VMX is chosen on an Intel (or compatible) CPU that reports CPUID.1:ECX.VMX
 * and whose firmware locked IA32_FEATURE_CONTROL with VMXON enabled outside
 * SMX.  SVM is chosen on an AMD or Hygon CPU that reports
 * CPUID.80000001:ECX.SVM and whose VM_CR.SVMDIS is clear.
 *
 * Return: 0 when a backend is usable, -ENODEV otherwise.
 */
int mv_cpufeat_detect(const struct mv_cpu_facts *f, struct mv_cpu_caps *caps)
{
	memset(caps, 0, sizeof(*caps));

	if (f->std0.eax >= 1 && (f->std1.ecx & CPUID1_ECX_VMX))
		return detect_vmx(f, caps);

	if ((vendor_is(&f->std0, "AuthenticAMD") ||
	     vendor_is(&f->std0, "HygonGenuine")) &&
	    f->ext0.eax >= 0x80000001 && (f->ext1.ecx & CPUID81_ECX_SVM))
		return detect_svm(f, caps);

	caps->why = "the CPU has neither VMX nor SVM";
	return -ENODEV;
}
EXPORT_SYMBOL_IF_KUNIT(mv_cpufeat_detect);
