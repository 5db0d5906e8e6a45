/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX world switch, in vmenter.S.
 */
#ifndef MV_VMX_VMENTER_H
#define MV_VMX_VMENTER_H

#include <linux/types.h>

int mv_vmx_vmrun(unsigned long *regs, bool launched, const u64 *spec_ctrl);
/* where HOST_RIP points: not to be called */
void mv_vmx_vmexit(void);

#endif /* MV_VMX_VMENTER_H */
