/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulating one guest instruction on a vCPU: fetching it through the
 * guest's page tables, reaching guest memory, MMIO and ports for the
 * emulator (kmod/emul/), and the KVM_EXIT_MMIO and KVM_EXIT_IO exits that
 * come out of it.
 */
#ifndef MV_INSN_H
#define MV_INSN_H

#include <linux/types.h>

struct kvm_regs;
struct kvm_sregs;
struct mv_emul_ctxt;
struct mv_vcpu;
struct mv_walk_env;
struct mv_walk_ops;

/**
 * struct mv_insn_io - an access of an emulated instruction that userspace
 *	completes; the instruction is emulated again when it comes back
 * @mmio_read: an MMIO read is out (its data comes in run->mmio.data)
 * @pio_in: an INS is out (its data comes in the PIO page)
 * @pio_in_done: the INS data is in the PIO page, for the next emulation
 * @len: size of the MMIO read
 * @port: port of the INS
 * @size: item size of the INS
 * @count: items of the INS
 */
struct mv_insn_io {
	bool mmio_read;
	bool pio_in;
	bool pio_in_done;
	u8 len;
	u16 port;
	u8 size;
	u32 count;
};

int mv_insn_emulate(struct mv_vcpu *vcpu);
int mv_insn_emulate_write(struct mv_vcpu *vcpu);
int mv_insn_complete(struct mv_vcpu *vcpu);
int mv_insn_walk_env(struct mv_vcpu *vcpu, struct mv_walk_env *env);
void mv_insn_ctxt_init(struct mv_emul_ctxt *ctxt, const struct kvm_regs *regs,
		       const struct kvm_sregs *sregs);

#endif /* MV_INSN_H */
