/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX controls minivisor runs guests with, computed from a CPU's VMX
 * capability MSRs.  Pure code: it reads no hardware, so KUnit feeds it the
 * values recorded on real and emulated CPUs.
 */
#ifndef MV_VMX_CTLS_H
#define MV_VMX_CTLS_H

#include <linux/types.h>

struct mv_tdp_format;

/**
 * struct mv_vmx_cap_msrs - the VMX capability MSRs (SDM vol. 3, appendix A)
 * @basic: IA32_VMX_BASIC (0x480)
 * @pinbased: IA32_VMX_PINBASED_CTLS (0x481)
 * @procbased: IA32_VMX_PROCBASED_CTLS (0x482)
 * @exit: IA32_VMX_EXIT_CTLS (0x483)
 * @entry: IA32_VMX_ENTRY_CTLS (0x484)
 * @procbased2: IA32_VMX_PROCBASED_CTLS2 (0x48b), 0 when the CPU has none
 * @ept_vpid: IA32_VMX_EPT_VPID_CAP (0x48c), 0 when the CPU has none
 * @true_pinbased: IA32_VMX_TRUE_PINBASED_CTLS (0x48d)
 * @true_procbased: IA32_VMX_TRUE_PROCBASED_CTLS (0x48e)
 * @true_exit: IA32_VMX_TRUE_EXIT_CTLS (0x48f)
 * @true_entry: IA32_VMX_TRUE_ENTRY_CTLS (0x490)
 *
 * In each control MSR the low half has a 1 for each control that must be
 * 1, the high half a 1 for each control that may be 1.  The TRUE_* ones
 * exist, and are the ones to use, when bit 55 of @basic is set.
 */
struct mv_vmx_cap_msrs {
	u64 basic;
	u64 pinbased, procbased, exit, entry;
	u64 procbased2;
	u64 ept_vpid;
	u64 true_pinbased, true_procbased, true_exit, true_entry;
};

/**
 * struct mv_vmx_ctls - the controls every VMCS of minivisor starts with
 * @pin: pin-based VM-execution controls
 * @proc: primary processor-based VM-execution controls
 * @proc2: secondary processor-based VM-execution controls
 * @exit: VM-exit controls
 * @entry: VM-entry controls (IA-32e mode guest is set per vCPU)
 * @vpid: VPIDs can be used (the control, and INVVPID single-context)
 * @invept_single: INVEPT can flush one EPT context (else all of them)
 * @ept_2m: EPT may map 2 MiB pages
 * @shadow_proc: the primary controls shadow paging adds to @proc: CR3-load,
 *	CR3-store and INVLPG exiting (EPT and unrestricted guest, in @proc2,
 *	are then on only while the guest has paging off)
 * @shadow: the CPU allows all of @shadow_proc: shadow paging can run
 * @why: when the CPU lacks a control minivisor needs, which one
 */
struct mv_vmx_ctls {
	u32 pin, proc, proc2, exit, entry;
	bool vpid;
	bool invept_single;
	bool ept_2m;
	u32 shadow_proc;
	bool shadow;
	const char *why;
};

int mv_vmx_compute_ctls(const struct mv_vmx_cap_msrs *caps,
			struct mv_vmx_ctls *ctls);
void mv_vmx_ept_format(const struct mv_vmx_ctls *ctls,
		       struct mv_tdp_format *fmt);

#endif /* MV_VMX_CTLS_H */
