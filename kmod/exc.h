/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both backends do the same way with the exceptions they always
 * intercept (#DB, #AC, #MC) and with the guest's debug registers
 * (kmod/exc.c).
 */
#ifndef MV_EXC_H
#define MV_EXC_H

#include <linux/types.h>

struct mv_vcpu;

/* DR6 as a guest without RTM or bus-lock detection has it after reset */
#define MV_DR6_INIT		0xffff0ff0UL
/* the DR6 bits a #DB or a MOV to DR6 changes: B0-B3, BD, BS, BT */
#define MV_DR6_VOLATILE		0x0000e00fUL
#define MV_DR6_BD		BIT(13)
#define MV_DR6_BS		BIT(14)
#define MV_DR7_INIT		0x00000400UL
/* the DR7 bits a MOV to DR7 keeps; bit 10 is always 1 */
#define MV_DR7_VOLATILE		0xffff2bffUL
#define MV_DR7_ENABLES		0x000000ffUL
#define MV_DR7_GD		BIT(13)

/**
 * struct mv_dr - a guest's debug registers, as MOV DR sees them
 * @db: DR0-DR3
 * @dr6: DR6
 * @dr7: DR7; the backend gives it to the hardware (GUEST_DR7, VMCB DR7)
 *
 * The hardware holds @db only while the guest runs with a breakpoint of
 * @dr7 enabled (mv_dr_enter_irqoff()); the host's own are back before
 * interrupts are.  Owned by the vCPU thread [vcpu->mutex].
 */
struct mv_dr {
	unsigned long db[4];
	unsigned long dr6;
	unsigned long dr7;
};

void mv_dr_reset(struct mv_dr *d);
int mv_dr_mov(struct mv_dr *d, unsigned int dr, bool write,
	      unsigned long *val, bool cr4_de);
void mv_dr_deliver_db(struct mv_dr *d, unsigned long payload);
bool mv_dr_enter_irqoff(const struct mv_dr *d);
void mv_dr_exit_irqoff(bool loaded);
void mv_machine_check_irqoff(void);
void mv_single_step(struct mv_vcpu *vcpu, unsigned long rflags);

#endif /* MV_EXC_H */
