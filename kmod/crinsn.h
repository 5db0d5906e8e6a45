/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MOV to and from CR0/CR3/CR4, CLTS, LMSW and INVLPG, emulated for a
 * backend that intercepts them without decode assists (shadow paging),
 * and MOV to and from DR0-DR7 (SVM).
 */
#ifndef MV_CRINSN_H
#define MV_CRINSN_H

struct mv_dr;
struct mv_vcpu;

/* The longest x86 instruction */
#define MV_CR_INSN_MAX	15

int mv_exit_cr_insn(struct mv_vcpu *vcpu);
int mv_exit_dr_insn(struct mv_vcpu *vcpu, struct mv_dr *d);

#endif /* MV_CRINSN_H */
