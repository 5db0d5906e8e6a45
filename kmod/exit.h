/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exits every backend hands to the core: port I/O, second-level page
 * faults (memory or MMIO), and the errors userspace must see.  A backend
 * decodes its own exit information (VMCB or VMCS) and calls these; they
 * fill struct kvm_run and return what vcpu_run() returns.
 *
 * XSETBV exits go to mv_exit_xsetbv(), and the guest's XCR0 is switched by
 * mv_fpu_enter_irqoff() and mv_fpu_exit_irqoff() around each entry: see
 * fpu.h.
 */
#ifndef MV_EXIT_H
#define MV_EXIT_H

#include <linux/types.h>

struct mv_vcpu;

/**
 * struct mv_io_exit - a port access that exited, as the hardware told it
 * @port: the port
 * @size: 1, 2 or 4 bytes
 * @in: IN or INS (else OUT or OUTS)
 * @string: INS or OUTS, with or without REP
 * @insn_len: length of the instruction, to skip it once it is done
 */
struct mv_io_exit {
	u16 port;
	u8 size;
	bool in;
	bool string;
	u8 insn_len;
};

int mv_exit_io(struct mv_vcpu *vcpu, const struct mv_io_exit *io);
int mv_exit_tdp_fault(struct mv_vcpu *vcpu, u64 gpa, bool write);
int mv_exit_guest_pf(struct mv_vcpu *vcpu, u64 gva, u32 error);
int mv_exit_internal(struct mv_vcpu *vcpu, u32 suberror, const u64 *data,
		     unsigned int ndata);
int mv_exit_complete(struct mv_vcpu *vcpu);

#endif /* MV_EXIT_H */
