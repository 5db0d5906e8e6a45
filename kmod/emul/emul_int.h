/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the emulator's two halves share: decode.c (the opcode tables and
 * ModRM/SIB decoding) and emulate.c (execution and the interface).  Not
 * for the rest of minivisor, which uses emulate.h.
 */
#ifndef MV_EMUL_INT_H
#define MV_EMUL_INT_H

#include "emulate.h"

#define FL_CF		0x0001ULL
#define FL_PF		0x0004ULL
#define FL_AF		0x0010ULL
#define FL_ZF		0x0040ULL
#define FL_SF		0x0080ULL
#define FL_DF		0x0400ULL
#define FL_OF		0x0800ULL
#define FL_ARITH	(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define VEC_UD		6
#define VEC_SS		12
#define VEC_GP		13

#define EM_PAGE		4096u

#define REX_W		0x08
#define REX_R		0x04
#define REX_X		0x02
#define REX_B		0x01

/* What decoding learns about an opcode (mv_em.flags) */
#define D_MODRM		0x0001	/* a ModRM byte follows */
#define D_BYTE		0x0002	/* byte operands */
#define D_IMM8		0x0004	/* an imm8, sign-extended */
#define D_IMMV		0x0008	/* an imm16, or an imm32 sign-extended */
#define D_MEMONLY	0x0010	/* the register form is #UD */
#define D_LOCK		0x0020	/* LOCK allowed (with a memory operand) */
#define D_STRING	0x0040	/* string instruction, operands at rSI/rDI */
#define D_MOFFS		0x0080	/* an address-size wide offset, no ModRM */
#define D_DSTDI		0x0100	/* the string's memory operand is ES:rDI */
#define D_SYS		0x0200	/* decoded only: mv_emulate() leaves it */
#define D_REGONLY	0x0400	/* ModRM.rm is a register whatever mod says */

/* ALU operations, in the order of their encoding (00-3F, 80 /r) */
enum { OP_ADD, OP_OR, OP_ADC, OP_SBB, OP_AND, OP_SUB, OP_XOR, OP_CMP };

/* An instruction being decoded and executed */
struct mv_em {
	struct mv_emul_ctxt *ctxt;
	struct mv_emul_insn *insn;
	unsigned int flags;		/* D_* */
	u8 reg;				/* ModRM.reg with REX.R */
	u8 rm;				/* ModRM.rm with REX.B */
	bool rip_rel;			/* RIP-relative memory operand */
	u64 la;				/* linear address of the memory operand */
	u64 ea;				/* and its offset in the segment */
	u64 gpr[MV_NR_GPRS];		/* registers as the instruction leaves them */
	u64 rip;
	u64 rflags;
	bool user_write;		/* a write went to userspace */
};

static inline u64 le_get(const u8 *p, unsigned int n)
{
	u64 v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static inline u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static inline u64 sext(u64 v, unsigned int size)
{
	unsigned int sh = 64 - size * 8;

	return (u64)((s64)(v << sh) >> sh);
}

static inline bool mode64(const struct mv_em *em)
{
	return em->ctxt->mode == MV_EMUL_MODE64;
}

static inline u64 linear(const struct mv_em *em, unsigned int seg, u64 ea)
{
	const struct mv_emul_ctxt *ctxt = em->ctxt;

	if (mode64(em))
		return ea + ((seg == MV_SEG_FS || seg == MV_SEG_GS) ?
			     ctxt->seg_base[seg] : 0);
	return (u32)(ctxt->seg_base[seg] + ea);
}

/**
 * mv_em_decode() - decode the instruction at the start of the context's bytes
 * @em: the instruction, its context set (em->ctxt, em->insn)
 *
 * Return: MV_EMUL_OK with @em->insn, @em->flags and the operands filled in,
 * MV_EMUL_EXCEPTION (the context's exception set) or MV_EMUL_UNHANDLED.
 */
int mv_em_decode(struct mv_em *em);

#endif
