// SPDX-License-Identifier: GPL-2.0
/*
 * The x86 instruction emulator: the model is in emulate.h, the decoder in
 * decode.c.
 *
 * Written from the Intel SDM (vol. 2, instruction set; vol. 1, 3.4.3 for
 * the flags) and the AMD APM (vol. 3).  Data accesses outside 64-bit mode
 * are checked against their segment (SDM vol. 3, 5.3-5.4) when the caller
 * gives the segments.  On purpose not done here: privilege checks, the
 * checks of the instruction fetch, canonical-address checks (the
 * callbacks' page walk sees the linear address), alignment checks (#AC)
 * and the I/O permission checks of INS/OUTS.
 *
 * The instruction runs on a copy of the registers (struct mv_em); only a
 * committed instruction copies them back into the context.
 */
#include "emul_int.h"

static void em_memcpy(void *dst, const void *src, unsigned int n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
}

static bool em_memeq(const void *a, const void *b, unsigned int n)
{
	const u8 *x = a, *y = b;

	while (n--)
		if (*x++ != *y++)
			return false;
	return true;
}

static void le_put(u8 *p, u64 v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = v;
}

static u64 sign_bit(unsigned int size)
{
	return 1ULL << (size * 8 - 1);
}

static int em_raise(struct mv_em *em, u8 vector, bool has_error)
{
	struct mv_emul_exception *e = &em->ctxt->exception;

	e->vector = vector;
	e->has_error = has_error;
	e->error = 0;
	e->cr2 = 0;
	return MV_EMUL_EXCEPTION;
}

/* ------------------------------------------------------------ registers */

/*
 * A register operand of @size bytes.  Without any REX prefix, byte
 * registers 4-7 are AH, CH, DH and BH.
 */
static u64 reg_get(const struct mv_em *em, unsigned int reg,
		   unsigned int size)
{
	if (size == 1 && !em->insn->rex && reg >= 4 && reg < 8)
		return (em->gpr[reg - 4] >> 8) & 0xff;
	return em->gpr[reg] & size_mask(size);
}

/*
 * Writes a register operand: 8- and 16-bit writes merge; a 32-bit write
 * zero-extends in 64-bit mode and keeps the upper half elsewhere.
 */
static void reg_set(struct mv_em *em, unsigned int reg, unsigned int size,
		    u64 val)
{
	u64 *r;

	if (size == 1 && !em->insn->rex && reg >= 4 && reg < 8) {
		r = &em->gpr[reg - 4];
		*r = (*r & ~0xff00ULL) | ((val & 0xff) << 8);
		return;
	}
	r = &em->gpr[reg];
	if (size == 4 && mode64(em))
		*r = (u32)val;
	else
		*r = (*r & ~size_mask(size)) | (val & size_mask(size));
}

/* ---------------------------------------------------------------- memory */

/*
 * Checks an access of @size bytes at offset @ea in segment @seg, outside
 * 64-bit mode and when the caller gave the segments: an unusable (null)
 * segment, a write to a code or read-only data segment, a read of an
 * execute-only code segment, or bytes outside the limit (below it, for an
 * expand-down segment) raise #GP(0), or #SS(0) for SS.  MV_EMUL_OK or
 * MV_EMUL_EXCEPTION.
 */
static int seg_check(struct mv_em *em, unsigned int seg, u64 ea, u64 size,
		     bool write)
{
	const struct mv_emul_ctxt *ctxt = em->ctxt;
	const struct mv_emul_segment *s = &ctxt->seg[seg];
	u8 vec = seg == MV_SEG_SS ? VEC_SS : VEC_GP;
	u64 last = ea + size - 1;

	if (!ctxt->segs_given || mode64(em) || seg >= MV_NR_SEGS)
		return MV_EMUL_OK;
	if (s->unusable)
		return em_raise(em, vec, true);
	if ((s->type & 8) ? write || !(s->type & 2) : write && !(s->type & 2))
		return em_raise(em, VEC_GP, true);
	if (!(s->type & 8) && (s->type & 4)) {
		if (ea <= s->limit || last > (s->big ? 0xffffffffULL : 0xffff))
			return em_raise(em, vec, true);
	} else if (last > s->limit) {
		return em_raise(em, vec, true);
	}
	return MV_EMUL_OK;
}

/* The memory operand's segment checks, for a read or a write of it */
static int op_check(struct mv_em *em, unsigned int size, bool write)
{
	return seg_check(em, em->insn->seg, em->ea, size, write);
}

static u64 la_add(const struct mv_em *em, u64 la, u64 n)
{
	return mode64(em) ? la + n : (u32)(la + n);
}

/* Bytes from @la to the end of its page */
static unsigned int page_left(u64 la)
{
	return EM_PAGE - (unsigned int)(la & (EM_PAGE - 1));
}

/*
 * One read callback call, or its replay from the read cache.  Reads larger
 * than a cache entry (an OUTS batch) land in the bounce buffer.
 */
static int read_piece(struct mv_em *em, u64 la, void *val, unsigned int size)
{
	struct mv_emul_ctxt *ctxt = em->ctxt;
	unsigned int i = ctxt->nr_reads;
	u8 *slot;
	int rc;

	if (i >= MV_EMUL_MAX_READS)
		return MV_EMUL_UNHANDLED;
	slot = size > MV_EMUL_MAX_READ_SIZE ? ctxt->bounce : ctxt->cache[i];
	if (i < ctxt->nr_cached) {
		/* the instruction bytes changed under us: give up */
		if (ctxt->cache_la[i] != la || ctxt->cache_size[i] != size)
			return MV_EMUL_UNHANDLED;
	} else {
		ctxt->cache_la[i] = la;
		ctxt->cache_size[i] = size;
		rc = ctxt->ops->read(ctxt, la, slot, size);
		if (rc != MV_EMUL_OK)
			return rc;
		ctxt->nr_cached++;
	}
	ctxt->nr_reads++;
	if (slot != val)
		em_memcpy(val, slot, size);
	return MV_EMUL_OK;
}

/* Reads @size bytes, split where they cross a page */
static int mem_read(struct mv_em *em, u64 la, void *val, unsigned int size)
{
	unsigned int n = page_left(la);
	int rc;

	if (n >= size)
		return read_piece(em, la, val, size);
	rc = read_piece(em, la, val, n);
	if (rc != MV_EMUL_OK)
		return rc;
	return read_piece(em, la_add(em, la, n), (u8 *)val + n, size - n);
}

/*
 * Writes @size bytes, split where they cross a page.  A write userspace
 * takes counts as done (MV_EMUL_OK here, em->user_write set); only the
 * last piece may go to userspace, since one access leaves per instruction.
 */
static int mem_write(struct mv_em *em, u64 la, const void *val,
		     unsigned int size)
{
	struct mv_emul_ctxt *ctxt = em->ctxt;
	unsigned int n = page_left(la);
	int rc;

	if (em->user_write)
		return MV_EMUL_UNHANDLED;
	if (n < size) {
		rc = ctxt->ops->write(ctxt, la, val, n);
		if (rc == MV_EMUL_USER)
			return MV_EMUL_UNHANDLED;
		if (rc != MV_EMUL_OK)
			return rc;
		la = la_add(em, la, n);
		val = (const u8 *)val + n;
		size -= n;
	}
	rc = ctxt->ops->write(ctxt, la, val, size);
	if (rc == MV_EMUL_USER) {
		em->user_write = true;
		rc = MV_EMUL_OK;
	}
	return rc;
}

/*
 * Stores @new where the instruction read @old: atomically through
 * ops->compare_exchange when there is one and the operand is in one page,
 * retrying the instruction when the memory changed since the read.
 */
static int mem_xchg(struct mv_em *em, u64 la, const u8 *old, const u8 *new,
		    unsigned int size)
{
	struct mv_emul_ctxt *ctxt = em->ctxt;
	u8 seen[MV_EMUL_MAX_READ_SIZE];
	int rc;

	if (!ctxt->ops->compare_exchange || page_left(la) < size)
		return mem_write(em, la, new, size);
	em_memcpy(seen, old, size);
	rc = ctxt->ops->compare_exchange(ctxt, la, seen, new, size);
	if (rc == MV_EMUL_USER) {
		em->user_write = true;
		return MV_EMUL_OK;
	}
	if (rc == MV_EMUL_OK && !em_memeq(seen, old, size))
		return MV_EMUL_RETRY;
	return rc;
}

/* The r/m operand (register or memory) */
static int rm_get(struct mv_em *em, unsigned int size, u64 *val)
{
	u8 b[8];
	int rc;

	if (!em->insn->mem) {
		*val = reg_get(em, em->rm, size);
		return MV_EMUL_OK;
	}
	/* the LOCK-able forms are the read-modify-writes: checked as writes */
	rc = op_check(em, size, em->flags & D_LOCK);
	if (rc)
		return rc;
	rc = mem_read(em, em->la, b, size);
	if (rc == MV_EMUL_OK)
		*val = le_get(b, size);
	return rc;
}

/*
 * Stores the r/m operand, which held @old: locked, or always for XCHG
 * (@atomic), through the exchange.
 */
static int rm_set(struct mv_em *em, unsigned int size, u64 old, u64 val,
		  bool atomic)
{
	u8 ob[8], nb[8];
	int rc;

	if (!em->insn->mem) {
		reg_set(em, em->rm, size, val);
		return MV_EMUL_OK;
	}
	rc = op_check(em, size, true);
	if (rc)
		return rc;
	le_put(nb, val, size);
	if (!atomic && !em->insn->lock)
		return mem_write(em, em->la, nb, size);
	le_put(ob, old, size);
	return mem_xchg(em, em->la, ob, nb, size);
}

/* ----------------------------------------------------------------- flags */

static bool parity_even(u64 v)
{
	u8 b = v;

	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

/* OF SF ZF AF PF CF of @res; AF is left 0 when !@arith */
static void set_flags(struct mv_em *em, u64 res, u64 cf, u64 of, u64 af,
		      unsigned int size)
{
	u64 fl = em->rflags & ~FL_ARITH;

	res &= size_mask(size);
	if (cf)
		fl |= FL_CF;
	if (of)
		fl |= FL_OF;
	if (af)
		fl |= FL_AF;
	if (!res)
		fl |= FL_ZF;
	if (res & sign_bit(size))
		fl |= FL_SF;
	if (parity_even(res))
		fl |= FL_PF;
	em->rflags = fl;
}

/*
 * An ALU operation with its flags, as the hardware computes them.  The
 * logic operations clear OF and CF; AF is architecturally undefined after
 * them, and this emulator leaves it 0.
 */
static u64 alu(struct mv_em *em, unsigned int op, u64 d, u64 s,
	       unsigned int size)
{
	u64 m = size_mask(size), sb = sign_bit(size);
	u64 cin = !!(em->rflags & FL_CF);
	u64 r;

	d &= m;
	s &= m;
	switch (op) {
	case OP_ADD:
	case OP_ADC:
		r = d + s + (op == OP_ADC ? cin : 0);
		set_flags(em, r, ((d & s) | ((d | s) & ~r)) & sb,
			  (d ^ r) & (s ^ r) & sb, (d ^ s ^ r) & 0x10, size);
		break;
	case OP_SUB:
	case OP_SBB:
	case OP_CMP:
		r = d - s - (op == OP_SBB ? cin : 0);
		set_flags(em, r, ((~d & s) | ((~d | s) & r)) & sb,
			  (d ^ s) & (d ^ r) & sb, (d ^ s ^ r) & 0x10, size);
		break;
	case OP_OR:
		r = d | s;
		set_flags(em, r, 0, 0, 0, size);
		break;
	case OP_AND:
		r = d & s;
		set_flags(em, r, 0, 0, 0, size);
		break;
	default:
		r = d ^ s;
		set_flags(em, r, 0, 0, 0, size);
		break;
	}
	return r & m;
}

/* --------------------------------------------------------------- execute */

/* ALU with a ModRM: 00-3B, 80-83 */
static int em_alu(struct mv_em *em, unsigned int op, bool to_reg, u64 src)
{
	unsigned int size = em->insn->op_size;
	u64 d, r;
	int rc;

	if (to_reg) {
		rc = rm_get(em, size, &src);
		if (rc)
			return rc;
		d = reg_get(em, em->reg, size);
		r = alu(em, op, d, src, size);
		if (op != OP_CMP)
			reg_set(em, em->reg, size, r);
		return MV_EMUL_OK;
	}
	rc = rm_get(em, size, &d);
	if (rc)
		return rc;
	r = alu(em, op, d, src, size);
	if (op == OP_CMP)
		return MV_EMUL_OK;
	return rm_set(em, size, d, r, false);
}

/* TEST 84/85: flags only */
static int em_test(struct mv_em *em)
{
	unsigned int size = em->insn->op_size;
	u64 d;
	int rc;

	rc = rm_get(em, size, &d);
	if (!rc)
		alu(em, OP_AND, d, reg_get(em, em->reg, size), size);
	return rc;
}

/* F6/F7 /0 /2 /3, FE/FF /0 /1 */
static int em_unary(struct mv_em *em)
{
	unsigned int size = em->insn->op_size, r = em->reg & 7;
	u16 op = em->insn->opcode;
	u64 d, res, cf;
	int rc;

	rc = rm_get(em, size, &d);
	if (rc)
		return rc;
	if (op == 0xfe || op == 0xff) {
		cf = em->rflags & FL_CF;
		res = alu(em, r ? OP_SUB : OP_ADD, d, 1, size);
		em->rflags = (em->rflags & ~FL_CF) | cf;
	} else if (r == 0) {
		alu(em, OP_AND, d, em->insn->imm, size);
		return MV_EMUL_OK;
	} else if (r == 2) {
		res = ~d & size_mask(size);
	} else {
		res = alu(em, OP_SUB, 0, d, size);
	}
	return rm_set(em, size, d, res, false);
}

/* BT BTS BTR BTC, with a register or an immediate bit offset */
static int em_bt(struct mv_em *em)
{
	struct mv_emul_insn *insn = em->insn;
	unsigned int size = insn->op_size, bits = size * 8;
	unsigned int kind;	/* 0 BT, 1 BTS, 2 BTR, 3 BTC */
	u64 off, d, res, bit;
	int rc;

	if (insn->opcode == 0x0fba) {
		kind = (em->reg & 7) - 4;
		off = (u64)insn->imm & (bits - 1);
	} else {
		kind = (insn->opcode >> 3) & 3;
		off = reg_get(em, em->reg, size);
		if (insn->mem) {
			/*
			 * A register offset addresses a bit string: signed,
			 * and reaching beyond the operand by whole operands.
			 */
			s64 soff = (s64)sext(off, size);
			u64 ea = insn->ea + (u64)((soff >> (size == 2 ? 4 :
					     size == 4 ? 5 : 6)) * (s64)size);

			ea &= size_mask(insn->addr_size);
			em->la = linear(em, insn->seg, ea);
			em->ea = ea;
		}
		off &= bits - 1;
	}
	rc = rm_get(em, size, &d);
	if (rc)
		return rc;
	bit = 1ULL << off;
	em->rflags = (em->rflags & ~FL_CF) | (d & bit ? FL_CF : 0);
	switch (kind) {
	case 0:
		return MV_EMUL_OK;
	case 1:
		res = d | bit;
		break;
	case 2:
		res = d & ~bit;
		break;
	default:
		res = d ^ bit;
		break;
	}
	return rm_set(em, size, d, res, false);
}

/* XCHG, XADD, CMPXCHG */
static int em_xchg(struct mv_em *em)
{
	unsigned int size = em->insn->op_size;
	u16 op = em->insn->opcode;
	u64 d, s, res;
	int rc;

	rc = rm_get(em, size, &d);
	if (rc)
		return rc;
	s = reg_get(em, em->reg, size);
	switch (op) {
	case 0x86:
	case 0x87:
		rc = rm_set(em, size, d, s, true);
		if (!rc)
			reg_set(em, em->reg, size, d);
		return rc;
	case 0x0fc0:
	case 0x0fc1:
		res = alu(em, OP_ADD, d, s, size);
		reg_set(em, em->reg, size, d);
		return rm_set(em, size, d, res, false);
	}
	/* CMPXCHG: the accumulator against the destination */
	alu(em, OP_CMP, reg_get(em, MV_RAX, size), d, size);
	if (em->rflags & FL_ZF)
		return rm_set(em, size, d, s, false);
	/* not equal: nothing is stored (the hardware writes back d) */
	reg_set(em, MV_RAX, size, d);
	return MV_EMUL_OK;
}

/* CMPXCHG8B, CMPXCHG16B */
static int em_cmpxchg_wide(struct mv_em *em)
{
	unsigned int size = em->insn->op_size, half = size / 2;
	u8 old[16], cmp[16], new[16];
	int rc;

	if (size == 16 && (em->la & 15))
		return em_raise(em, VEC_GP, true);
	rc = op_check(em, size, true);
	if (rc)
		return rc;
	rc = mem_read(em, em->la, old, size);
	if (rc)
		return rc;
	le_put(cmp, em->gpr[MV_RAX], half);
	le_put(cmp + half, em->gpr[MV_RDX], half);
	if (!em_memeq(cmp, old, size)) {
		em->rflags &= ~FL_ZF;
		reg_set(em, MV_RAX, half, le_get(old, half));
		reg_set(em, MV_RDX, half, le_get(old + half, half));
		return MV_EMUL_OK;
	}
	em->rflags |= FL_ZF;
	le_put(new, em->gpr[MV_RBX], half);
	le_put(new + half, em->gpr[MV_RCX], half);
	if (em->insn->lock)
		return mem_xchg(em, em->la, old, new, size);
	return mem_write(em, em->la, new, size);
}

/* MOV forms, MOVZX, MOVSX, MOVSXD, MOVNTI */
static int em_mov(struct mv_em *em)
{
	struct mv_emul_insn *insn = em->insn;
	unsigned int size = insn->op_size;
	u8 b[8];
	u64 v;
	int rc;

	switch (insn->opcode) {
	case 0x88:
	case 0x89:
	case 0x0fc3:
		return rm_set(em, size, 0, reg_get(em, em->reg, size), false);
	case 0xc6:
	case 0xc7:
		return rm_set(em, size, 0, insn->imm, false);
	case 0x8a:
	case 0x8b:
		rc = rm_get(em, size, &v);
		if (!rc)
			reg_set(em, em->reg, size, v);
		return rc;
	case 0xa0:
	case 0xa1:
		rc = op_check(em, size, false);
		if (!rc)
			rc = mem_read(em, em->la, b, size);
		if (!rc)
			reg_set(em, MV_RAX, size, le_get(b, size));
		return rc;
	case 0xa2:
	case 0xa3:
		rc = op_check(em, size, true);
		if (rc)
			return rc;
		le_put(b, em->gpr[MV_RAX], size);
		return mem_write(em, em->la, b, size);
	case 0x63:
		/* MOVSXD: r32/r16 forms just move */
		rc = rm_get(em, size == 8 ? 4 : size, &v);
		if (!rc)
			reg_set(em, em->reg, size, size == 8 ? sext(v, 4) : v);
		return rc;
	}
	/* MOVZX B6/B7, MOVSX BE/BF */
	rc = rm_get(em, insn->opcode & 1 ? 2 : 1, &v);
	if (rc)
		return rc;
	if (insn->opcode & 8)
		v = sext(v, insn->opcode & 1 ? 2 : 1);
	reg_set(em, em->reg, size, v);
	return MV_EMUL_OK;
}

/* Steps rSI or rDI by @n bytes, up or down as DF says */
static void step(struct mv_em *em, unsigned int reg, u64 n)
{
	u64 v = em->gpr[reg];

	v = em->rflags & FL_DF ? v - n : v + n;
	reg_set(em, reg, em->insn->addr_size, v);
}

/* INS, OUTS: a batch per call */
static int em_pio_string(struct mv_em *em, u64 count)
{
	struct mv_emul_ctxt *ctxt = em->ctxt;
	struct mv_emul_insn *insn = em->insn;
	unsigned int size = insn->op_size, n = 1, room;
	bool in = insn->opcode < 0x6e;
	u16 port = em->gpr[MV_RDX];
	int rc;

	if (insn->rep && !(em->rflags & FL_DF)) {
		/* to the end of the page, and of the address space */
		room = page_left(em->la) / size;
		if (insn->addr_size < 8 &&
		    (size_mask(insn->addr_size) - insn->ea + 1) / size < room)
			room = (size_mask(insn->addr_size) - insn->ea + 1) /
			       size;
		n = EM_PAGE / size;
		if (room < n)
			n = room;
		if (count < n)
			n = count;
		if (!n)
			n = 1;
	}
	/* forward only when batched: the bytes from @ea on */
	rc = seg_check(em, insn->seg, insn->ea, (u64)n * size, in);
	if (rc)
		return rc;
	if (in) {
		if (!ctxt->ops->pio_in)
			return MV_EMUL_UNHANDLED;
		rc = ctxt->ops->pio_in(ctxt, port, size, n, ctxt->bounce);
		if (rc)
			return rc;
		rc = mem_write(em, em->la, ctxt->bounce, n * size);
	} else {
		if (!ctxt->ops->pio_out)
			return MV_EMUL_UNHANDLED;
		rc = mem_read(em, em->la, ctxt->bounce, n * size);
		if (rc)
			return rc;
		rc = ctxt->ops->pio_out(ctxt, port, size, n, ctxt->bounce);
		if (rc == MV_EMUL_USER) {
			em->user_write = true;
			rc = MV_EMUL_OK;
		}
	}
	if (rc)
		return rc;
	step(em, in ? MV_RDI : MV_RSI, (u64)n * size);
	if (insn->rep) {
		reg_set(em, MV_RCX, insn->addr_size, count - n);
		if (count > n)
			em->rip = ctxt->rip;
	}
	return MV_EMUL_OK;
}

/* MOVS CMPS STOS LODS SCAS: one round per call */
static int em_string(struct mv_em *em)
{
	struct mv_emul_insn *insn = em->insn;
	unsigned int size = insn->op_size;
	u64 count = em->gpr[MV_RCX] & size_mask(insn->addr_size);
	u64 si = em->gpr[MV_RSI] & size_mask(insn->addr_size);
	u64 di = em->gpr[MV_RDI] & size_mask(insn->addr_size);
	u64 sla = linear(em, insn->seg, si);
	u64 dla = linear(em, MV_SEG_ES, di);
	u8 b[8], c[8];
	u16 op = insn->opcode & 0xfe;
	bool done;
	int rc;

	if (insn->rep && !count)
		return MV_EMUL_OK;	/* nothing to do: skip it */
	if (op == 0x6c || op == 0x6e)
		return em_pio_string(em, count);
	/* rSI's operand: MOVS, CMPS, LODS; rDI's: all but LODS */
	if (op == 0xa4 || op == 0xa6 || op == 0xac) {
		rc = seg_check(em, insn->seg, si, size, false);
		if (rc)
			return rc;
	}
	if (op != 0xac) {
		rc = seg_check(em, MV_SEG_ES, di, size,
			       op == 0xa4 || op == 0xaa);
		if (rc)
			return rc;
	}

	switch (op) {
	case 0xa4:	/* MOVS */
		rc = mem_read(em, sla, b, size);
		if (!rc)
			rc = mem_write(em, dla, b, size);
		break;
	case 0xa6:	/* CMPS */
		rc = mem_read(em, sla, b, size);
		if (!rc)
			rc = mem_read(em, dla, c, size);
		if (!rc)
			alu(em, OP_CMP, le_get(b, size), le_get(c, size),
			    size);
		break;
	case 0xaa:	/* STOS */
		le_put(b, em->gpr[MV_RAX], size);
		rc = mem_write(em, dla, b, size);
		break;
	case 0xac:	/* LODS */
		rc = mem_read(em, sla, b, size);
		if (!rc)
			reg_set(em, MV_RAX, size, le_get(b, size));
		break;
	default:	/* SCAS */
		rc = mem_read(em, dla, c, size);
		if (!rc)
			alu(em, OP_CMP, em->gpr[MV_RAX], le_get(c, size),
			    size);
		break;
	}
	if (rc)
		return rc;
	if (op != 0xaa && op != 0xae)
		step(em, MV_RSI, size);
	if (op != 0xac)
		step(em, MV_RDI, size);
	if (!insn->rep)
		return MV_EMUL_OK;
	reg_set(em, MV_RCX, insn->addr_size, count - 1);
	done = count == 1;
	if (op == 0xa6 || op == 0xae) {
		if (insn->rep == 0xf3)
			done |= !(em->rflags & FL_ZF);
		else
			done |= !!(em->rflags & FL_ZF);
	}
	if (!done)
		em->rip = em->ctxt->rip;
	return MV_EMUL_OK;
}

static int execute(struct mv_em *em)
{
	struct mv_emul_insn *insn = em->insn;
	u16 op = insn->opcode;

	if (em->flags & D_SYS)
		return MV_EMUL_UNHANDLED;
	/* LOCK: only on the read-modify-write forms, with a memory operand */
	if (insn->lock && (!(em->flags & D_LOCK) || !insn->mem))
		return em_raise(em, VEC_UD, false);
	if ((em->flags & D_MEMONLY) && !insn->mem)
		return em_raise(em, VEC_UD, false);
	if (em->flags & D_STRING)
		return em_string(em);
	if (op < 0x40)
		return em_alu(em, op >> 3, op & 2,
			      reg_get(em, em->reg, insn->op_size));
	switch (op) {
	case 0x80:
	case 0x81:
	case 0x82:
	case 0x83:
		return em_alu(em, em->reg & 7, false, insn->imm);
	case 0x84:
	case 0x85:
		return em_test(em);
	case 0x86:
	case 0x87:
	case 0x0fb0:
	case 0x0fb1:
	case 0x0fc0:
	case 0x0fc1:
		return em_xchg(em);
	case 0xf6:
	case 0xf7:
	case 0xfe:
	case 0xff:
		return em_unary(em);
	case 0x0fa3:
	case 0x0fab:
	case 0x0fb3:
	case 0x0fbb:
	case 0x0fba:
		return em_bt(em);
	case 0x0fc7:
		return em_cmpxchg_wide(em);
	}
	return em_mov(em);
}

/* ------------------------------------------------------------ interface */

static void em_init(struct mv_em *em, struct mv_emul_ctxt *ctxt)
{
	unsigned int i;

	*em = (struct mv_em){ .ctxt = ctxt, .insn = &ctxt->insn };
	for (i = 0; i < MV_NR_GPRS; i++)
		em->gpr[i] = ctxt->gpr[i];
	em->rflags = ctxt->rflags;
}

int mv_emul_decode(struct mv_emul_ctxt *ctxt)
{
	struct mv_em em;

	em_init(&em, ctxt);
	return mv_em_decode(&em);
}

void mv_emul_reset(struct mv_emul_ctxt *ctxt)
{
	ctxt->nr_reads = 0;
	ctxt->nr_cached = 0;
}

void mv_emul_complete_read(struct mv_emul_ctxt *ctxt, const void *val,
			   unsigned int size)
{
	unsigned int i = ctxt->nr_cached;

	if (i >= MV_EMUL_MAX_READS || size > MV_EMUL_MAX_BATCH)
		return;
	/* a size unlike the read's makes the replay give up */
	ctxt->cache_size[i] = size;
	em_memcpy(size > MV_EMUL_MAX_READ_SIZE ? ctxt->bounce : ctxt->cache[i],
		  val, size);
	ctxt->nr_cached++;
}

int mv_emulate(struct mv_emul_ctxt *ctxt)
{
	struct mv_em em;
	unsigned int i;
	int rc;

	em_init(&em, ctxt);
	ctxt->nr_reads = 0;
	rc = mv_em_decode(&em);
	if (rc)
		goto out;
	em.rip = ctxt->rip + ctxt->insn.len;
	if (!mode64(&em))
		em.rip = (u32)em.rip;
	rc = execute(&em);
	if (rc == MV_EMUL_USER)
		return rc;	/* a read went to userspace: keep the cache */
	if (rc == MV_EMUL_OK) {
		for (i = 0; i < MV_NR_GPRS; i++)
			ctxt->gpr[i] = em.gpr[i];
		ctxt->rip = em.rip;
		ctxt->rflags = em.rflags;
		if (em.user_write)
			rc = MV_EMUL_USER;
	}
out:
	mv_emul_reset(ctxt);
	return rc;
}
