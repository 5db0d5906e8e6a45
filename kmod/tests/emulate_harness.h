/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runs one case of emulate_cases.h against the emulator: a fake guest
 * (memory by linear address, ports) behind the callbacks, a log of every
 * callback call, and the comparison with what the case expects.
 *
 * Shared by the KUnit suite (kmod/tests/emulate_test.c) and the userspace
 * test (testing/emul/emulate_test.c); the includer provides memcpy,
 * memcmp, memset, vsnprintf, va_list and __printf.
 */
#ifndef MV_TESTS_EMULATE_HARNESS_H
#define MV_TESTS_EMULATE_HARNESS_H

#include "emulate_cases.h"

#define EC_MAX_LOG	12
#define EC_MAX_CALLS_PER_RUN	16

/* What the fake guest is doing, and what the emulator did to it */
struct ec_state {
	struct mv_emul_ctxt ctxt;
	const struct ec_case *c;
	u8 mem[EC_MAX_MEM][16];		/* the case's memory, as it is now */
	struct ec_call log[EC_MAX_LOG];
	unsigned int nlog;		/* calls made (may exceed EC_MAX_LOG) */
	int last_user;			/* what answered MV_EMUL_USER last */
	u64 pend_la;			/* the read userspace completes */
	unsigned int pend_size;
	bool raced;			/* EC_RACE has happened */
	bool pio_ready;			/* EC_PIO_USER: userspace has answered */
	u8 data[MV_EMUL_MAX_BATCH];	/* a read userspace completes */
	char msg[320];
};

enum { EC_USER_NONE, EC_USER_READ, EC_USER_PIO_IN, EC_USER_WRITE };

static u8 ec_byte(struct ec_state *st, u64 la)
{
	unsigned int i;

	for (i = 0; i < EC_MAX_MEM; i++) {
		const struct ec_mem *m = &st->c->mem[i];

		if (m->len && la >= m->la && la < m->la + m->len)
			return st->mem[i][la - m->la];
	}
	return (u8)la;		/* elsewhere, each byte is its address's */
}

static void ec_store(struct ec_state *st, u64 la, u8 b)
{
	unsigned int i;

	for (i = 0; i < EC_MAX_MEM; i++) {
		const struct ec_mem *m = &st->c->mem[i];

		if (m->len && la >= m->la && la < m->la + m->len)
			st->mem[i][la - m->la] = b;
	}
}

static int ec_area(struct ec_state *st, u64 la, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < EC_MAX_AREAS; i++) {
		const struct ec_area *a = &st->c->area[i];

		if (a->kind && la < a->end && la + size > a->start)
			return a->kind;
	}
	return EC_RAM;
}

static struct ec_call *ec_log(struct ec_state *st, u8 kind, u64 addr,
			      unsigned int size, unsigned int count,
			      const void *data, unsigned int len)
{
	struct ec_call *l;

	if (st->nlog++ >= EC_MAX_LOG)
		return NULL;
	l = &st->log[st->nlog - 1];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->addr = addr;
	l->size = size;
	l->count = count;
	memcpy(l->v, data, len < 16 ? len : 16);
	return l;
}

static int ec_fault(struct ec_state *st, u64 la, bool write)
{
	st->ctxt.exception.vector = 14;
	st->ctxt.exception.has_error = true;
	st->ctxt.exception.error = write ? 2 : 0;
	st->ctxt.exception.cr2 = la;
	return MV_EMUL_EXCEPTION;
}

static int ec_read(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		   unsigned int size)
{
	struct ec_state *st = ctxt->priv;
	int kind = ec_area(st, la, size);
	u8 *p = val;
	unsigned int i;

	if (kind == EC_FAULT) {
		ec_log(st, EC_R, la, size, 0, val, 0);
		return ec_fault(st, la, false);
	}
	for (i = 0; i < size; i++)
		p[i] = ec_byte(st, la + i);
	ec_log(st, EC_R, la, size, 0, val, size);
	if (kind == EC_REFUSE)
		return MV_EMUL_UNHANDLED;
	if (kind == EC_MMIO) {
		memset(val, 0xee, size);	/* not there yet */
		st->last_user = EC_USER_READ;
		st->pend_la = la;
		st->pend_size = size;
		return MV_EMUL_USER;
	}
	return MV_EMUL_OK;
}

static int ec_write(struct mv_emul_ctxt *ctxt, u64 la, const void *val,
		    unsigned int size)
{
	struct ec_state *st = ctxt->priv;
	int kind = ec_area(st, la, size);
	const u8 *p = val;
	unsigned int i;

	ec_log(st, EC_W, la, size, 0, val, size);
	if (kind == EC_FAULT)
		return ec_fault(st, la, true);
	if (kind == EC_REFUSE)
		return MV_EMUL_UNHANDLED;
	for (i = 0; i < size; i++)
		ec_store(st, la + i, p[i]);
	if (kind == EC_MMIO) {
		st->last_user = EC_USER_WRITE;
		return MV_EMUL_USER;
	}
	return MV_EMUL_OK;
}

static int ec_cmpxchg(struct mv_emul_ctxt *ctxt, u64 la, void *old,
		      const void *new, unsigned int size)
{
	struct ec_state *st = ctxt->priv;
	int kind = ec_area(st, la, size);
	struct ec_call *l;
	u8 cur[16];
	unsigned int i;

	l = ec_log(st, EC_X, la, size, 0, new, size);
	if (l)
		memcpy(l->old, old, size < 16 ? size : 16);
	if (kind == EC_FAULT)
		return ec_fault(st, la, true);
	if (kind == EC_REFUSE)
		return MV_EMUL_UNHANDLED;
	if ((st->c->flags & EC_RACE) && !st->raced) {
		/* another CPU got there between the read and now */
		st->raced = true;
		ec_store(st, la, ec_byte(st, la) ^ 0xff);
	}
	for (i = 0; i < size; i++)
		cur[i] = ec_byte(st, la + i);
	if (kind == EC_MMIO) {
		for (i = 0; i < size; i++)
			ec_store(st, la + i, ((const u8 *)new)[i]);
		st->last_user = EC_USER_WRITE;
		return MV_EMUL_USER;
	}
	if (!memcmp(cur, old, size))
		for (i = 0; i < size; i++)
			ec_store(st, la + i, ((const u8 *)new)[i]);
	memcpy(old, cur, size);
	return MV_EMUL_OK;
}

static int ec_pio_in(struct mv_emul_ctxt *ctxt, u16 port, unsigned int size,
		     unsigned int count, void *val)
{
	struct ec_state *st = ctxt->priv;
	u8 *p = val;
	unsigned int i;

	if ((st->c->flags & EC_PIO_USER) && !st->pio_ready) {
		ec_log(st, EC_IN, port, size, count, val, 0);
		st->last_user = EC_USER_PIO_IN;
		st->pio_ready = true;
		return MV_EMUL_USER;
	}
	for (i = 0; i < size * count; i++)
		p[i] = (u8)(port + i);
	ec_log(st, EC_IN, port, size, count, val, size * count);
	return MV_EMUL_OK;
}

static int ec_pio_out(struct mv_emul_ctxt *ctxt, u16 port, unsigned int size,
		      unsigned int count, const void *val)
{
	struct ec_state *st = ctxt->priv;

	ec_log(st, EC_OUT, port, size, count, val, size * count);
	if (st->c->flags & EC_PIO_USER) {
		st->last_user = EC_USER_WRITE;
		return MV_EMUL_USER;
	}
	return MV_EMUL_OK;
}

static const struct mv_emul_ops ec_ops = {
	.read = ec_read,
	.write = ec_write,
	.compare_exchange = ec_cmpxchg,
	.pio_in = ec_pio_in,
	.pio_out = ec_pio_out,
};

static const struct mv_emul_ops ec_ops_nocmpxchg = {
	.read = ec_read,
	.write = ec_write,
	.pio_in = ec_pio_in,
	.pio_out = ec_pio_out,
};

static const char *const ec_kind_name[] = {
	"?", "read", "write", "cmpxchg", "pio_in", "pio_out"
};

/* Says what went wrong; returns -1 */
static __printf(2, 3) int ec_fail(struct ec_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Sets up the context as the case says */
static void ec_setup(struct ec_state *st, const struct ec_case *c)
{
	struct mv_emul_ctxt *ctxt = &st->ctxt;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->c = c;
	for (i = 0; i < EC_MAX_MEM; i++)
		memcpy(st->mem[i], c->mem[i].v, 16);
	ctxt->ops = c->flags & EC_NO_CMPXCHG ? &ec_ops_nocmpxchg : &ec_ops;
	ctxt->priv = st;
	ctxt->mode = c->mode;
	memcpy(ctxt->gpr, c->gpr, sizeof(ctxt->gpr));
	ctxt->rip = c->rip;
	ctxt->rflags = c->rflags | 2;
	memcpy(ctxt->seg_base, c->seg, sizeof(ctxt->seg_base));
	ctxt->segs_given = c->segs;
	memcpy(ctxt->seg, c->segd, sizeof(ctxt->seg));
	memcpy(ctxt->insn_bytes, c->bytes, sizeof(ctxt->insn_bytes));
	/* avail 0xff stands for none at all */
	ctxt->insn_avail = !c->avail ? c->len : c->avail == 0xff ? 0 :
			   c->avail;
}

#define EC_ULL(x)	((unsigned long long)(x))

/*
 * Emulates as the kernel would: @c->rounds guest exits (1 if 0), each
 * until it is done, handing over the reads userspace completes.  Fills
 * @rcs; returns how many calls to mv_emulate() it made.
 */
static unsigned int ec_exec(struct ec_state *st, const struct ec_case *c,
			    int *rcs)
{
	struct mv_emul_ctxt *ctxt = &st->ctxt;
	unsigned int round, nrc = 0, j;
	int rc;

	for (round = 0; round < (c->rounds ? c->rounds : 1u); round++) {
		do {
			if (nrc == EC_MAX_CALLS_PER_RUN)
				return nrc;
			st->last_user = EC_USER_NONE;
			rc = mv_emulate(ctxt);
			rcs[nrc++] = rc;
			if (rc != MV_EMUL_USER)
				break;
			if (st->last_user == EC_USER_READ) {
				for (j = 0; j < st->pend_size; j++)
					st->data[j] = ec_byte(st,
							      st->pend_la + j);
				mv_emul_complete_read(ctxt, st->data,
						      st->pend_size);
			}
		} while (st->last_user == EC_USER_READ ||
			 st->last_user == EC_USER_PIO_IN);
	}
	return nrc;
}

/* Registers, RIP and RFLAGS: as the case says if committed, else kept */
static int ec_check_regs(struct ec_state *st, const struct ec_case *c,
			 bool commit)
{
	const struct mv_emul_ctxt *ctxt = &st->ctxt;
	u64 want_rip, want_fl;
	unsigned int i;

	for (i = 0; i < MV_NR_GPRS; i++) {
		u64 want = c->gpr[i];

		if (commit && (c->out_mask & (1u << i)))
			want = c->out_gpr[i];
		if (ctxt->gpr[i] != want)
			return ec_fail(st, "gpr %u = %#llx, expected %#llx", i,
				       EC_ULL(ctxt->gpr[i]), EC_ULL(want));
	}
	want_rip = c->rip;
	if (commit && !c->stay)
		want_rip = c->out_rip ? c->out_rip : c->rip + c->len;
	if (ctxt->rip != want_rip)
		return ec_fail(st, "rip %#llx, expected %#llx",
			       EC_ULL(ctxt->rip), EC_ULL(want_rip));
	want_fl = c->rflags | 2;
	if (commit && c->out_rflags)
		want_fl = c->out_rflags;
	if (ctxt->rflags != want_fl)
		return ec_fail(st, "rflags %#llx, expected %#llx",
			       EC_ULL(ctxt->rflags), EC_ULL(want_fl));
	if (commit && ctxt->nr_cached)
		return ec_fail(st, "read cache not empty after a commit");
	return 0;
}

/* The callback calls, in order, with their first 16 bytes */
static int ec_check_calls(struct ec_state *st, const struct ec_case *c)
{
	unsigned int i, n;

	if (st->nlog != c->ncalls)
		return ec_fail(st, "%u callback calls, expected %u (first: %s %#llx)",
			       st->nlog, c->ncalls,
			       st->nlog ? ec_kind_name[st->log[0].kind] : "-",
			       st->nlog ? EC_ULL(st->log[0].addr) : 0ULL);
	for (i = 0; i < c->ncalls && i < EC_MAX_LOG; i++) {
		const struct ec_call *got = &st->log[i], *want = &c->calls[i];

		n = want->size * (want->count ? want->count : 1);
		if (n > 16)
			n = 16;
		if (want->kind == EC_IN && !want->v[0] && !want->v[1])
			n = 0;	/* the data of pio_in is the fake's */
		if (got->kind != want->kind || got->addr != want->addr ||
		    got->size != want->size || got->count != want->count)
			return ec_fail(st, "call %u: %s %#llx %u*%u, expected %s %#llx %u*%u",
				       i, ec_kind_name[got->kind],
				       EC_ULL(got->addr), got->size, got->count,
				       ec_kind_name[want->kind],
				       EC_ULL(want->addr), want->size,
				       want->count);
		if (memcmp(got->v, want->v, n))
			return ec_fail(st, "call %u (%s %#llx): %#llx %#llx, expected %#llx %#llx",
				       i, ec_kind_name[got->kind],
				       EC_ULL(got->addr), EC_ULL(got->v[0]),
				       EC_ULL(got->v[1]), EC_ULL(want->v[0]),
				       EC_ULL(want->v[1]));
		if (want->kind == EC_X && memcmp(got->old, want->old, n))
			return ec_fail(st, "call %u: cmpxchg old %#llx, expected %#llx",
				       i, EC_ULL(got->old[0]), EC_ULL(want->old[0]));
	}
	return 0;
}

/* Runs a case; 0 when everything is as expected, else -1 and st->msg */
static int ec_run(struct ec_state *st, const struct ec_case *c)
{
	const struct mv_emul_exception *e = &st->ctxt.exception;
	int rcs[EC_MAX_CALLS_PER_RUN];
	unsigned int nrc, i;
	int rc;

	ec_setup(st, c);
	nrc = ec_exec(st, c, rcs);
	if (nrc != c->nrc)
		return ec_fail(st, "mv_emulate() called %u times, expected %u (last rc %d)",
			       nrc, c->nrc, rcs[nrc - 1]);
	for (i = 0; i < nrc; i++)
		if (rcs[i] != c->rc[i])
			return ec_fail(st, "call %u returned %d, expected %d",
				       i, rcs[i], c->rc[i]);
	rc = rcs[nrc - 1];
	if (rc == MV_EMUL_EXCEPTION &&
	    (e->vector != c->exc || e->has_error != c->exc_has_err ||
	     e->error != c->exc_err || e->cr2 != c->exc_cr2))
		return ec_fail(st, "exception %u (%d, %#x, cr2 %#llx), expected %u",
			       e->vector, e->has_error, e->error, EC_ULL(e->cr2),
			       c->exc);
	if (c->ilen && st->ctxt.insn.len != c->ilen)
		return ec_fail(st, "length %u, expected %u",
			       st->ctxt.insn.len, c->ilen);
	if (ec_check_regs(st, c, rc == MV_EMUL_OK || rc == MV_EMUL_USER))
		return -1;
	return ec_check_calls(st, c);
}

/* Decodes one instruction of ec_decodes[]; 0 when it is as expected */
static int ec_decode_run(struct ec_state *st, const struct ec_decode *d)
{
	struct mv_emul_ctxt *ctxt = &st->ctxt;
	const struct mv_emul_insn *i = &ctxt->insn;
	int rc;

	memset(st, 0, sizeof(*st));
	ctxt->ops = &ec_ops;
	ctxt->mode = d->mode;
	memcpy(ctxt->gpr, d->gpr, sizeof(ctxt->gpr));
	ctxt->rip = d->rip;
	memcpy(ctxt->insn_bytes, d->bytes, sizeof(ctxt->insn_bytes));
	ctxt->insn_avail = d->len;
	rc = mv_emul_decode(ctxt);
	if (rc != d->rc)
		return ec_fail(st, "returned %d, expected %d", rc, d->rc);
	if (rc)
		return 0;
	if (i->len != d->len || i->opcode != d->opcode ||
	    i->op_size != d->op_size || i->addr_size != d->addr_size ||
	    i->seg != d->seg || i->rep != d->rep || i->lock != d->lock ||
	    i->rex != d->rex)
		return ec_fail(st, "len %u op %#x size %u/%u seg %u rep %#x lock %d rex %#x",
			       i->len, i->opcode, i->op_size, i->addr_size,
			       i->seg, i->rep, i->lock, i->rex);
	if (i->has_modrm != d->has_modrm ||
	    (i->has_modrm && i->modrm != d->modrm) || i->mem != d->mem ||
	    (i->mem && i->ea != d->ea) || i->imm != d->imm)
		return ec_fail(st, "modrm %d/%#x mem %d ea %#llx imm %lld",
			       i->has_modrm, i->modrm, i->mem, EC_ULL(i->ea),
			       (long long)i->imm);
	if (d->regs_la &&
	    (i->reg != d->reg || i->rm != d->rm || (i->mem && i->la != d->la)))
		return ec_fail(st, "reg %u rm %u la %#llx", i->reg, i->rm,
			       EC_ULL(i->la));
	return 0;
}

#endif /* MV_TESTS_EMULATE_HARNESS_H */
