/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest's FPU and XSAVE state: KVM_GET/SET_FPU, KVM_GET/SET_XSAVE,
 * KVM_GET_XSAVE2, KVM_GET/SET_XCRS, the guest's XCR0 (and PKRU), and what a
 * backend calls around each entry and when the guest executes XSETBV.
 *
 * The registers themselves live in the kernel's guest fpstate
 * (struct fpu_guest), which the core swaps in for the whole of KVM_RUN;
 * this file only adds what the kernel does not switch: XCR0 and PKRU.
 *
 * What a backend does (see mv_svm_ops for an example):
 *  - right before entering the guest, interrupts off and after any
 *    switch_fpu_return(): mv_fpu_enter_irqoff();
 *  - right after the exit, interrupts still off: mv_fpu_exit_irqoff();
 *  - on an XSETBV exit: return mv_exit_xsetbv(vcpu, cpl, insn_len).
 * The guest's CR4 is read (mv_read_cr4()) before and after every entry.
 */
#ifndef MV_FPU_H
#define MV_FPU_H

#include <linux/types.h>

struct mv_vcpu;

/**
 * struct mv_xstate - what a vCPU has of the XSAVE state beside its fpstate
 * @xcr0: the guest's XCR0; always one mv_xcr0_valid() accepts, FP after
 *	reset [vcpu->mutex]
 * @pkru: the guest's PKRU while the host's is loaded (only switched when
 *	the host uses protection keys) [vcpu->mutex]
 * @host_pkru: the host's PKRU, from entry to exit [interrupts off]
 * @xcr0_loaded: the guest's XCR0 is in the CPU [interrupts off]
 * @pkru_loaded: the guest's PKRU is in the CPU [interrupts off]
 */
struct mv_xstate {
	u64 xcr0;
	u32 pkru;
	u32 host_pkru;
	bool xcr0_loaded;
	bool pkru_loaded;
};

void mv_fpu_init(void);
bool mv_fpu_create(struct mv_vcpu *vcpu);
void mv_fpu_free(struct mv_vcpu *vcpu);
long mv_fpu_ioctl(struct mv_vcpu *vcpu, unsigned int cmd, void __user *argp);
long mv_fpu_check_extension(unsigned long cap);
u64 mv_fpu_supported_xcr0(void);
u32 mv_fpu_xstate_size(u64 xfeatures, bool compacted);

void mv_fpu_enter_irqoff(struct mv_vcpu *vcpu);
void mv_fpu_exit_irqoff(struct mv_vcpu *vcpu);
int mv_exit_xsetbv(struct mv_vcpu *vcpu, unsigned int cpl, u8 insn_len);

#endif /* MV_FPU_H */
