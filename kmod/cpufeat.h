/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deciding, from recorded CPUID leaves and MSR values, whether this CPU can
 * run minivisor and with which backend.  Pure code: it reads no hardware,
 * so KUnit feeds it the values of real CPUs.
 */
#ifndef MV_CPUFEAT_H
#define MV_CPUFEAT_H

#include <linux/types.h>

/**
 * struct mv_cpuid_leaf - the four registers CPUID returned for one leaf
 * @eax: EAX
 * @ebx: EBX
 * @ecx: ECX
 * @edx: EDX
 */
struct mv_cpuid_leaf {
	u32 eax, ebx, ecx, edx;
};

/**
 * struct mv_cpu_facts - what the probe reads off a CPU
 * @std0: CPUID leaf 0 (highest leaf, vendor string)
 * @std1: CPUID leaf 1 (feature flags, ECX.VMX)
 * @ext0: CPUID leaf 0x80000000 (highest extended leaf)
 * @ext1: CPUID leaf 0x80000001 (ECX.SVM)
 * @svm: CPUID leaf 0x8000000a (SVM revision and features)
 * @has_feature_control: IA32_FEATURE_CONTROL could be read
 * @feature_control: its value
 * @has_vm_cr: VM_CR could be read
 * @vm_cr: its value
 * @has_vmx_msrs: the VMX capability MSRs below could be read
 * @vmx_basic: IA32_VMX_BASIC
 * @vmx_procbased: IA32_VMX_PROCBASED_CTLS (allowed-1 in the high half)
 * @vmx_procbased2: IA32_VMX_PROCBASED_CTLS2 (allowed-1 in the high half)
 */
struct mv_cpu_facts {
	struct mv_cpuid_leaf std0, std1, ext0, ext1, svm;
	bool has_feature_control;
	u64 feature_control;
	bool has_vm_cr;
	u64 vm_cr;
	bool has_vmx_msrs;
	u64 vmx_basic;
	u64 vmx_procbased;
	u64 vmx_procbased2;
};

/**
 * struct mv_cpu_caps - the verdict on a CPU
 * @backend: MV_BACKEND_VMX or MV_BACKEND_SVM, 0 when none is usable
 * @features: MV_FEAT_* bits
 * @mmu_modes: MV_MMU_* bits
 * @vmcs_revision: VMCS revision identifier (VMX only)
 * @why: when no backend is usable, a sentence saying why
 */
struct mv_cpu_caps {
	u32 backend;
	u32 features;
	u32 mmu_modes;
	u32 vmcs_revision;
	const char *why;
};

int mv_cpufeat_detect(const struct mv_cpu_facts *f, struct mv_cpu_caps *caps);

#endif /* MV_CPUFEAT_H */
