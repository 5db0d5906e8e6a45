/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct mv_vendor_ops: what a hardware backend (VMX or SVM) provides to the
 * vendor-neutral core.  One table is chosen at module init and never changes.
 */
#ifndef MV_OPS_H
#define MV_OPS_H

#include "cpufeat.h"

/**
 * struct mv_vendor_ops - the hardware backend
 * @name: "vmx" or "svm", for messages
 * @backend: MV_BACKEND_VMX or MV_BACKEND_SVM
 * @hardware_setup: at module init, after the CPU was found suitable:
 *	allocate what every CPU will need (VMXON regions, host save areas).
 *	May sleep.  Returns 0 or a negative errno.
 * @hardware_unsetup: at module exit, frees what @hardware_setup allocated;
 *	virtualization is off on every CPU by then.
 * @cpu_enable: turn virtualization on for the calling CPU.  Called with
 *	interrupts disabled.  Returns 0, -EBUSY when another hypervisor owns
 *	the CPU's virtualization extensions (nothing is changed then), or
 *	another negative errno when the CPU refuses (nothing is left changed).
 * @cpu_disable: turn virtualization off for the calling CPU, which
 *	@cpu_enable had turned on.  Called with interrupts disabled.
 * @emergency_disable: turn virtualization off for the calling CPU on the
 *	crash or emergency-reboot path: NMI context, no locks, never fails.
 */
struct mv_vendor_ops {
	const char *name;
	u32 backend;
	int (*hardware_setup)(const struct mv_cpu_caps *caps);
	void (*hardware_unsetup)(void);
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
	void (*emergency_disable)(void);
};

extern const struct mv_vendor_ops mv_vmx_ops;
extern const struct mv_vendor_ops mv_svm_ops;

#endif /* MV_OPS_H */
