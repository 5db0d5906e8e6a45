// SPDX-License-Identifier: GPL-2.0
/*
 * The emulator's decoder: prefixes, the opcode tables (which opcodes it
 * knows, and what each takes), ModRM, SIB and displacements, in 16-, 32-
 * and 64-bit code (Intel SDM vol. 2, ch. 2; AMD APM vol. 3, ch. 1).
 */
#include "emul_int.h"

static int fetch(struct mv_emul_ctxt *ctxt, unsigned int *pos,
		 unsigned int n, u64 *val)
{
	unsigned int avail = ctxt->insn_avail;

	if (avail > MV_EMUL_MAX_INSN)
		avail = MV_EMUL_MAX_INSN;
	if (*pos + n > avail)
		return MV_EMUL_UNHANDLED;
	*val = le_get(&ctxt->insn_bytes[*pos], n);
	*pos += n;
	return MV_EMUL_OK;
}

/* The D_* flags of an opcode, 0 for one outside the emulator's set */
static unsigned int opcode_flags(u16 op, bool m64)
{
	if (op < 0x40 && (op & 7) < 4) {
		/* ALU: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev */
		return D_MODRM | (op & 1 ? 0 : D_BYTE) |
		       ((op & 2) || (op >> 3) == OP_CMP ? 0 : D_LOCK);
	}
	switch (op) {
	case 0x63:
		return m64 ? D_MODRM : 0;
	case 0x6c:
		return D_STRING | D_BYTE | D_DSTDI;
	case 0x6d:
		return D_STRING | D_DSTDI;
	case 0x6e:
		return D_STRING | D_BYTE;
	case 0x6f:
		return D_STRING;
	case 0x82:
		return m64 ? 0 : D_MODRM | D_BYTE | D_IMM8 | D_LOCK;
	case 0x80:
		return D_MODRM | D_BYTE | D_IMM8 | D_LOCK;
	case 0x81:
		return D_MODRM | D_IMMV | D_LOCK;
	case 0x83:
		return D_MODRM | D_IMM8 | D_LOCK;
	case 0x84:
	case 0x88:
	case 0x8a:
		return D_MODRM | D_BYTE;
	case 0x85:
	case 0x89:
	case 0x8b:
	case 0x0fa3:
	case 0x0fb6:
	case 0x0fb7:
	case 0x0fbe:
	case 0x0fbf:
		return D_MODRM;
	case 0x86:
	case 0xf6:
	case 0xfe:
	case 0x0fb0:
	case 0x0fc0:
		return D_MODRM | D_BYTE | D_LOCK;
	case 0x87:
	case 0xf7:
	case 0xff:
	case 0x0fab:
	case 0x0fb3:
	case 0x0fbb:
	case 0x0fb1:
	case 0x0fc1:
		return D_MODRM | D_LOCK;
	case 0xa0:
	case 0xa2:
		return D_MOFFS | D_BYTE;
	case 0xa1:
	case 0xa3:
		return D_MOFFS;
	case 0xa4:
	case 0xa6:
	case 0xac:
		return D_STRING | D_BYTE;
	case 0xa5:
	case 0xa7:
	case 0xad:
		return D_STRING;
	case 0xaa:
	case 0xae:
		return D_STRING | D_BYTE | D_DSTDI;
	case 0xab:
	case 0xaf:
		return D_STRING | D_DSTDI;
	case 0xc6:
		return D_MODRM | D_BYTE | D_IMM8;
	case 0xc7:
		return D_MODRM | D_IMMV;
	case 0x0fba:
		return D_MODRM | D_IMM8 | D_LOCK;
	case 0x0fc3:
		return D_MODRM | D_MEMONLY;
	case 0x0fc7:
		return D_MODRM | D_MEMONLY | D_LOCK;
	case 0x0f06:	/* CLTS */
		return D_SYS;
	case 0x0f01:	/* group 7: LMSW, INVLPG */
		return D_MODRM | D_SYS;
	case 0x0f20:	/* MOV from and to CR and DR */
	case 0x0f21:
	case 0x0f22:
	case 0x0f23:
		return D_MODRM | D_SYS | D_REGONLY;
	}
	return 0;
}

/*
 * Checks the ModRM.reg of group opcodes and adjusts their flags; false for
 * a form outside the emulator's set.
 */
static bool group_ok(struct mv_em *em, u16 op)
{
	unsigned int r = em->reg & 7;

	switch (op) {
	case 0x80:
	case 0x81:
	case 0x82:
	case 0x83:
		if (r == OP_CMP)
			em->flags &= ~D_LOCK;
		return true;
	case 0xc6:
	case 0xc7:
		return r == 0;
	case 0xf6:
	case 0xf7:
		if (r == 0) {
			em->flags &= ~D_LOCK;
			em->flags |= op == 0xf6 ? D_IMM8 : D_IMMV;
			return true;
		}
		return r == 2 || r == 3;
	case 0xfe:
	case 0xff:
		return r <= 1;
	case 0x0fba:
		if (r == 4)
			em->flags &= ~D_LOCK;
		return r >= 4;
	case 0x0fc7:
		return r == 1;
	case 0x0f01:
		/* LMSW; INVLPG (its register forms are SWAPGS and RDTSCP) */
		return r == 6 || (r == 7 && (em->insn->modrm >> 6) != 3);
	}
	return true;
}

/* The memory operand of a 16-bit ModRM */
static int modrm16(struct mv_em *em, unsigned int *pos, u8 mod, u8 rm,
		   u64 *ea, u8 *seg)
{
	static const u8 base[8] = { MV_RBX, MV_RBX, MV_RBP, MV_RBP,
				    MV_RSI, MV_RDI, MV_RBP, MV_RBX };
	static const u8 index[8] = { MV_RSI, MV_RDI, MV_RSI, MV_RDI,
				     0xff, 0xff, 0xff, 0xff };
	u64 disp = 0;
	int rc = MV_EMUL_OK;

	if (mod == 0 && rm == 6) {
		*seg = MV_SEG_DS;
		rc = fetch(em->ctxt, pos, 2, &disp);
		*ea = disp;
		return rc;
	}
	*ea = em->gpr[base[rm]];
	if (index[rm] != 0xff)
		*ea += em->gpr[index[rm]];
	*seg = (rm == 2 || rm == 3 || rm == 6) ? MV_SEG_SS : MV_SEG_DS;
	if (mod == 1) {
		rc = fetch(em->ctxt, pos, 1, &disp);
		disp = sext(disp, 1);
	} else if (mod == 2) {
		rc = fetch(em->ctxt, pos, 2, &disp);
	}
	*ea += disp;
	return rc;
}

/* The memory operand of a 32- or 64-bit ModRM (and SIB) */
static int modrm32(struct mv_em *em, unsigned int *pos, u8 mod, u8 rm,
		   u64 *ea, u8 *seg)
{
	u8 rex = em->insn->rex, base;
	u64 v, disp = 0;
	unsigned int dsize = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	int rc;

	*ea = 0;
	*seg = MV_SEG_DS;
	if (rm == 4) {
		unsigned int index;

		rc = fetch(em->ctxt, pos, 1, &v);
		if (rc)
			return rc;
		index = ((v >> 3) & 7) | (rex & REX_X ? 8 : 0);
		base = (v & 7) | (rex & REX_B ? 8 : 0);
		if (index != MV_RSP)
			*ea = em->gpr[index] << ((v >> 6) & 3);
		if ((v & 7) == 5 && mod == 0) {
			dsize = 4;
		} else {
			*ea += em->gpr[base];
			if (base == MV_RSP || base == MV_RBP)
				*seg = MV_SEG_SS;
		}
	} else if (rm == 5 && mod == 0) {
		dsize = 4;
		em->rip_rel = mode64(em);
	} else {
		*ea = em->gpr[em->rm];
		if (em->rm == MV_RBP)
			*seg = MV_SEG_SS;
	}
	if (dsize) {
		rc = fetch(em->ctxt, pos, dsize, &disp);
		if (rc)
			return rc;
		*ea += sext(disp, dsize);
	}
	return MV_EMUL_OK;
}

int mv_em_decode(struct mv_em *em)
{
	struct mv_emul_ctxt *ctxt = em->ctxt;
	struct mv_emul_insn *insn = &ctxt->insn;
	bool m64 = mode64(em);
	unsigned int pos = 0;
	u8 override = MV_NR_SEGS, seg = MV_SEG_DS;
	bool opsize_prefix = false;
	u64 b, v;
	int rc;

	em->insn = insn;
	*insn = (struct mv_emul_insn){ 0 };
	insn->op_size = ctxt->mode == MV_EMUL_MODE16 ? 2 : 4;
	insn->addr_size = ctxt->mode == MV_EMUL_MODE16 ? 2 :
			  ctxt->mode == MV_EMUL_MODE32 ? 4 : 8;

	/* prefixes: legacy ones in any order, a REX last */
	for (;;) {
		rc = fetch(ctxt, &pos, 1, &b);
		if (rc)
			return rc;
		if (m64 && (b & 0xf0) == 0x40) {
			insn->rex = b;
			continue;
		}
		switch (b) {
		case 0x66:
			insn->op_size = ctxt->mode == MV_EMUL_MODE16 ? 4 : 2;
			opsize_prefix = true;
			break;
		case 0x67:
			insn->addr_size = ctxt->mode == MV_EMUL_MODE32 ? 2 : 4;
			break;
		case 0xf0:
			insn->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			insn->rep = b;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			/* ES CS SS DS: null prefixes in 64-bit mode */
			if (!m64)
				override = (b >> 3) & 3;
			break;
		case 0x64:
		case 0x65:
			override = b == 0x64 ? MV_SEG_FS : MV_SEG_GS;
			break;
		default:
			goto opcode;
		}
		/* a REX followed by another prefix does not count */
		insn->rex = 0;
	}
opcode:
	insn->opcode = b;
	if (b == 0x0f) {
		rc = fetch(ctxt, &pos, 1, &b);
		if (rc)
			return rc;
		insn->opcode = 0x0f00 | b;
	}
	em->flags = opcode_flags(insn->opcode, m64);
	if (!em->flags)
		return MV_EMUL_UNHANDLED;
	if (insn->rex & REX_W)
		insn->op_size = 8;
	if (em->flags & D_BYTE)
		insn->op_size = 1;
	if (insn->opcode == 0x0fc7)
		insn->op_size = insn->rex & REX_W ? 16 : 8;
	/* MOVNTI: 32 or 64 bits in any mode; 66 F2 F3 make other opcodes */
	if (insn->opcode == 0x0fc3) {
		if (opsize_prefix || insn->rep)
			return MV_EMUL_UNHANDLED;
		insn->op_size = insn->rex & REX_W ? 8 : 4;
	}
	/* INS and OUTS move at most 32 bits */
	if ((em->flags & D_STRING) && (insn->opcode & 0xfc) == 0x6c &&
	    insn->op_size == 8)
		insn->op_size = 4;

	if (em->flags & D_MODRM) {
		u8 mod, rm;
		u64 ea;

		rc = fetch(ctxt, &pos, 1, &v);
		if (rc)
			return rc;
		insn->modrm = v;
		insn->has_modrm = true;
		mod = v >> 6;
		rm = v & 7;
		em->reg = ((v >> 3) & 7) | (insn->rex & REX_R ? 8 : 0);
		em->rm = rm | (insn->rex & REX_B ? 8 : 0);
		insn->reg = em->reg;
		insn->rm = em->rm;
		if (!group_ok(em, insn->opcode))
			return MV_EMUL_UNHANDLED;
		if (mod != 3 && !(em->flags & D_REGONLY)) {
			insn->mem = true;
			if (insn->addr_size == 2)
				rc = modrm16(em, &pos, mod, rm, &ea, &seg);
			else
				rc = modrm32(em, &pos, mod, rm, &ea, &seg);
			if (rc)
				return rc;
			insn->ea = ea;
		}
	} else if (em->flags & D_MOFFS) {
		rc = fetch(ctxt, &pos, insn->addr_size, &v);
		if (rc)
			return rc;
		insn->mem = true;
		insn->ea = v;
	} else if (em->flags & D_STRING) {
		insn->mem = true;
		insn->ea = em->gpr[em->flags & D_DSTDI ? MV_RDI : MV_RSI];
	}

	if (em->flags & (D_IMM8 | D_IMMV)) {
		unsigned int n = em->flags & D_IMM8 ? 1 :
				 insn->op_size == 2 ? 2 : 4;

		rc = fetch(ctxt, &pos, n, &v);
		if (rc)
			return rc;
		insn->imm = (s64)sext(v, n);
	}
	insn->len = pos;
	if (em->rip_rel)
		insn->ea += ctxt->rip + pos;
	insn->ea &= size_mask(insn->addr_size);

	if (override != MV_NR_SEGS)
		seg = override;
	if ((em->flags & D_STRING) && (em->flags & D_DSTDI))
		seg = MV_SEG_ES;
	insn->seg = seg;
	em->la = linear(em, seg, insn->ea);
	em->ea = insn->ea;
	insn->la = em->la;
	return MV_EMUL_OK;
}
