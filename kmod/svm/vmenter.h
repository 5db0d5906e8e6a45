/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SVM world switch, in vmenter.S.
 */
#ifndef MV_SVM_VMENTER_H
#define MV_SVM_VMENTER_H

#include <linux/types.h>

void mv_svm_vmrun(u64 vmcb_pa, u64 host_save_pa, unsigned long *regs,
		  const u64 *spec_ctrl);

#endif /* MV_SVM_VMENTER_H */
