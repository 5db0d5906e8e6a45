// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction emulator (kmod/emul/) in userspace, as TAP:
 *
 *  - every case of kmod/tests/emulate_cases.h, as the KUnit suite runs them;
 *  - the ALU and flag-setting instructions against the host CPU: the same
 *    operation on many pseudo-random operands, executed by the emulator
 *    (with a memory destination, sometimes LOCKed) and by the CPU, must
 *    leave the same result, registers and flags (the flags the SDM calls
 *    undefined masked: AF after logic operations, all but CF after BT*);
 *  - random instructions (prefixes and opcodes of the emulator's set, any
 *    bytes after them) in every mode, with callbacks that answer at random:
 *    the emulator keeps its side of the callback contract (sizes, pages,
 *    counts), commits all or nothing, and, built with the sanitizers as
 *    the Makefile does, never reads or writes out of bounds.
 *
 *   emulate_test [-v]      -v: say why a case failed, and more
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))

#include "emulate.h"
#include "../../kmod/tests/emulate_harness.h"

#define HOST_ROUNDS	3000

static int verbose;
static unsigned int tap_n;
static unsigned int tap_fail;

static void tap(int ok, const char *name, const char *why)
{
	tap_n++;
	if (!ok)
		tap_fail++;
	printf("%s %u - %s\n", ok ? "ok" : "not ok", tap_n, name);
	if (!ok && why)
		printf("# %s\n", why);
}

/* ------------------------------------------------------- the case table */

static void run_cases(void)
{
	static struct ec_state st;
	unsigned int i;

	for (i = 0; i < sizeof(ec_cases) / sizeof(ec_cases[0]); i++) {
		int r = ec_run(&st, &ec_cases[i]);

		tap(!r, ec_cases[i].name, r ? st.msg : NULL);
	}
	for (i = 0; i < sizeof(ec_decodes) / sizeof(ec_decodes[0]); i++) {
		int r = ec_decode_run(&st, &ec_decodes[i]);
		char name[160];

		snprintf(name, sizeof(name), "decode: %s", ec_decodes[i].name);
		tap(!r, name, r ? st.msg : NULL);
	}
}

/* ------------------------------------------------------ the host CPU */

#define HF_ARITH	0x8d5ULL
#define HF_AF		0x010ULL
#define HF_CF		0x001ULL

/*
 * One operation executed by the CPU: d is the memory destination, s the
 * register source; *aux is RAX in and out for CMPXCHG, the source
 * register out for XADD; *fl the flags in and out.
 */
typedef u64 (*host_fn)(u64 d, u64 s, u64 *fl, u64 *aux);

#define HOST_BIN1(op, sfx, T)						\
static u64 host_##op##sfx(u64 d, u64 s, u64 *fl, u64 *aux)		\
{									\
	T dv = (T)d, sv = (T)s;						\
	u64 f = *fl;							\
	(void)aux;							\
	asm volatile("push %[f]\n\tpopf\n\t" #op #sfx " %[s], %[d]\n\t"	\
		     "pushf\n\tpop %[f]"				\
		     : [d] "+m" (dv), [f] "+r" (f) : [s] "q" (sv)	\
		     : "cc", "memory");					\
	*fl = f;							\
	return dv;							\
}

#define HOST_UN1(op, sfx, T)						\
static u64 host_##op##sfx(u64 d, u64 s, u64 *fl, u64 *aux)		\
{									\
	T dv = (T)d;							\
	u64 f = *fl;							\
	(void)s;							\
	(void)aux;							\
	asm volatile("push %[f]\n\tpopf\n\t" #op #sfx " %[d]\n\t"	\
		     "pushf\n\tpop %[f]"				\
		     : [d] "+m" (dv), [f] "+r" (f) : : "cc", "memory");	\
	*fl = f;							\
	return dv;							\
}

#define HOST_XADD1(sfx, T)						\
static u64 host_xadd##sfx(u64 d, u64 s, u64 *fl, u64 *aux)		\
{									\
	T dv = (T)d, sv = (T)s;						\
	u64 f = *fl;							\
	asm volatile("push %[f]\n\tpopf\n\txadd" #sfx " %[s], %[d]\n\t"	\
		     "pushf\n\tpop %[f]"				\
		     : [d] "+m" (dv), [f] "+r" (f), [s] "+q" (sv)	\
		     : : "cc", "memory");				\
	*fl = f;							\
	*aux = sv;							\
	return dv;							\
}

#define HOST_CMPXCHG1(sfx, T)						\
static u64 host_cmpxchg##sfx(u64 d, u64 s, u64 *fl, u64 *aux)		\
{									\
	T dv = (T)d, sv = (T)s, av = (T)*aux;				\
	u64 f = *fl;							\
	asm volatile("push %[f]\n\tpopf\n\tcmpxchg" #sfx " %[s], %[d]\n\t" \
		     "pushf\n\tpop %[f]"				\
		     : [d] "+m" (dv), [f] "+r" (f), "+a" (av)		\
		     : [s] "q" (sv) : "cc", "memory");			\
	*fl = f;							\
	*aux = av;							\
	return dv;							\
}

/* BT* with an immediate: s is the bit number, an imm8 in the encoding */
#define HOST_BTI1(op, sfx, T, imm)					\
static u64 host_##op##i##sfx##_##imm(u64 d, u64 *fl)			\
{									\
	T dv = (T)d;							\
	u64 f = *fl;							\
	asm volatile("push %[f]\n\tpopf\n\t" #op #sfx " $" #imm	\
		     ", %[d]\n\tpushf\n\tpop %[f]"			\
		     : [d] "+m" (dv), [f] "+r" (f) : : "cc", "memory");	\
	*fl = f;							\
	return dv;							\
}

#define HOST_BIN(op)							\
	HOST_BIN1(op, b, u8) HOST_BIN1(op, w, u16)			\
	HOST_BIN1(op, l, u32) HOST_BIN1(op, q, u64)
#define HOST_UN(op)							\
	HOST_UN1(op, b, u8) HOST_UN1(op, w, u16)			\
	HOST_UN1(op, l, u32) HOST_UN1(op, q, u64)
#define HOST_BT(op)							\
	HOST_BIN1(op, w, u16) HOST_BIN1(op, l, u32) HOST_BIN1(op, q, u64)

HOST_BIN(add)
HOST_BIN(or)
HOST_BIN(adc)
HOST_BIN(sbb)
HOST_BIN(and)
HOST_BIN(sub)
HOST_BIN(xor)
HOST_BIN(cmp)
HOST_BIN(test)
HOST_UN(inc)
HOST_UN(dec)
HOST_UN(neg)
HOST_UN(not)
HOST_XADD1(b, u8)
HOST_XADD1(w, u16)
HOST_XADD1(l, u32)
HOST_XADD1(q, u64)
HOST_CMPXCHG1(b, u8)
HOST_CMPXCHG1(w, u16)
HOST_CMPXCHG1(l, u32)
HOST_CMPXCHG1(q, u64)
HOST_BT(bt)
HOST_BT(bts)
HOST_BT(btr)
HOST_BT(btc)
HOST_BTI1(bts, l, u32, 13)
HOST_BTI1(btr, q, u64, 63)
HOST_BTI1(btc, w, u16, 9)
HOST_BTI1(bt, l, u32, 31)

#define HOST4(op)	{ host_##op##b, host_##op##w, host_##op##l, host_##op##q }
#define HOST3(op)	{ NULL, host_##op##w, host_##op##l, host_##op##q }

enum { K_BIN, K_UN, K_XADD, K_CMPXCHG, K_BT };

/* An operation, and how to encode it as "op [rbx], cl/cx/ecx/rcx" */
struct host_op {
	const char *name;
	int kind;
	u16 opcode;		/* of the byte form; +1 for the others */
	u8 modrm;
	bool lockable;
	u64 undefined;		/* flags the SDM leaves undefined */
	host_fn fn[4];
};

static const struct host_op host_ops[] = {
	{ "add", K_BIN, 0x00, 0x0b, true, 0, HOST4(add) },
	{ "or", K_BIN, 0x08, 0x0b, true, HF_AF, HOST4(or) },
	{ "adc", K_BIN, 0x10, 0x0b, true, 0, HOST4(adc) },
	{ "sbb", K_BIN, 0x18, 0x0b, true, 0, HOST4(sbb) },
	{ "and", K_BIN, 0x20, 0x0b, true, HF_AF, HOST4(and) },
	{ "sub", K_BIN, 0x28, 0x0b, true, 0, HOST4(sub) },
	{ "xor", K_BIN, 0x30, 0x0b, true, HF_AF, HOST4(xor) },
	{ "cmp", K_BIN, 0x38, 0x0b, false, 0, HOST4(cmp) },
	{ "test", K_BIN, 0x84, 0x0b, false, HF_AF, HOST4(test) },
	{ "inc", K_UN, 0xfe, 0x03, true, 0, HOST4(inc) },
	{ "dec", K_UN, 0xfe, 0x0b, true, 0, HOST4(dec) },
	{ "neg", K_UN, 0xf6, 0x1b, true, 0, HOST4(neg) },
	{ "not", K_UN, 0xf6, 0x13, true, 0, HOST4(not) },
	{ "xadd", K_XADD, 0x0fc0, 0x0b, true, 0, HOST4(xadd) },
	{ "cmpxchg", K_CMPXCHG, 0x0fb0, 0x0b, true, 0, HOST4(cmpxchg) },
	{ "bt", K_BT, 0x0fa3, 0x0b, false, HF_ARITH & ~HF_CF, HOST3(bt) },
	{ "bts", K_BT, 0x0fab, 0x0b, true, HF_ARITH & ~HF_CF, HOST3(bts) },
	{ "btr", K_BT, 0x0fb3, 0x0b, true, HF_ARITH & ~HF_CF, HOST3(btr) },
	{ "btc", K_BT, 0x0fbb, 0x0b, true, HF_ARITH & ~HF_CF, HOST3(btc) },
};

/* The guest memory of the host comparison: 16 bytes at 0x1000 */
static u8 hmem[16];

static int h_read(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		  unsigned int size)
{
	if (la < 0x1000 || la + size > 0x1010)
		return MV_EMUL_UNHANDLED;
	memcpy(val, hmem + (la - 0x1000), size);
	return MV_EMUL_OK;
}

static int h_write(struct mv_emul_ctxt *ctxt, u64 la, const void *val,
		   unsigned int size)
{
	if (la < 0x1000 || la + size > 0x1010)
		return MV_EMUL_UNHANDLED;
	memcpy(hmem + (la - 0x1000), val, size);
	return MV_EMUL_OK;
}

static int h_cmpxchg(struct mv_emul_ctxt *ctxt, u64 la, void *old,
		     const void *new, unsigned int size)
{
	u8 cur[16];

	if (la < 0x1000 || la + size > 0x1010)
		return MV_EMUL_UNHANDLED;
	memcpy(cur, hmem + (la - 0x1000), size);
	if (!memcmp(cur, old, size))
		memcpy(hmem + (la - 0x1000), new, size);
	memcpy(old, cur, size);
	return MV_EMUL_OK;
}

static const struct mv_emul_ops h_ops = {
	.read = h_read, .write = h_write, .compare_exchange = h_cmpxchg,
};

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Operands that find carries and overflows more often than random ones */
static u64 operand(unsigned int size)
{
	static const u64 edge[] = {
		0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL, ~1ULL,
	};
	u64 r = rnd();
	u64 mask = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;

	if ((r & 3) == 0)
		return edge[(r >> 2) % (sizeof(edge) / sizeof(edge[0]))] & mask;
	if ((r & 3) == 1)
		return (edge[(r >> 2) % (sizeof(edge) / sizeof(edge[0]))] +
			(rnd() & 3) - 1) & mask;
	return rnd() & mask;
}

/* Builds "[F0] [66] [48] opcode modrm" for op at size */
static unsigned int encode(const struct host_op *op, unsigned int size,
			   bool lock, u8 *b)
{
	unsigned int n = 0;
	u16 opc = op->opcode + (op->kind != K_BT && size > 1);

	if (lock)
		b[n++] = 0xf0;
	if (size == 2)
		b[n++] = 0x66;
	if (size == 8)
		b[n++] = 0x48;
	if (opc > 0xff)
		b[n++] = 0x0f;
	b[n++] = opc;
	b[n++] = op->modrm;
	return n;
}

static void host_compare(const struct host_op *op, unsigned int si)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	unsigned int size = sizes[si], i, bad = 0;
	u64 mask = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	static struct mv_emul_ctxt ctxt;
	char name[64], why[256] = "";

	for (i = 0; i < HOST_ROUNDS; i++) {
		u64 d = operand(size), s = operand(size);
		u64 fl = (rnd() & HF_ARITH) | 2, hfl = fl;
		u64 acc = (rnd() & 1) ? d : operand(size), haux = acc;
		u64 hres, eres = 0;
		bool lock = op->lockable && (i & 1);
		int rc;

		if (op->kind == K_BT)
			s = rnd() % (size * 8);
		hres = op->fn[si](d, s, &hfl, &haux) & mask;

		memset(&ctxt, 0, sizeof(ctxt));
		ctxt.ops = &h_ops;
		ctxt.mode = MV_EMUL_MODE64;
		ctxt.gpr[MV_RBX] = 0x1000;
		ctxt.gpr[MV_RCX] = s | (~mask & 0x5a5a5a5a5a5a5a5aULL);
		ctxt.gpr[MV_RAX] = acc | (~mask & 0xa5a5a5a5a5a5a5a5ULL);
		ctxt.rflags = fl;
		ctxt.insn_avail = encode(op, size, lock, ctxt.insn_bytes);
		memset(hmem, 0, sizeof(hmem));
		memcpy(hmem, &d, size);
		rc = mv_emulate(&ctxt);
		memcpy(&eres, hmem, size);
		if (rc != MV_EMUL_OK) {
			snprintf(why, sizeof(why), "rc %d", rc);
		} else if (eres != hres) {
			snprintf(why, sizeof(why),
				 "d %#llx s %#llx: result %#llx, the CPU's %#llx",
				 (unsigned long long)d, (unsigned long long)s,
				 (unsigned long long)eres,
				 (unsigned long long)hres);
		} else if ((ctxt.rflags ^ hfl) & HF_ARITH & ~op->undefined) {
			snprintf(why, sizeof(why),
				 "d %#llx s %#llx flags %#llx: flags %#llx, the CPU's %#llx",
				 (unsigned long long)d, (unsigned long long)s,
				 (unsigned long long)fl,
				 (unsigned long long)ctxt.rflags,
				 (unsigned long long)hfl);
		} else if (op->kind == K_XADD &&
			   (ctxt.gpr[MV_RCX] & mask) != (haux & mask)) {
			snprintf(why, sizeof(why), "xadd source %#llx, the CPU's %#llx",
				 (unsigned long long)ctxt.gpr[MV_RCX],
				 (unsigned long long)haux);
		} else if (op->kind == K_CMPXCHG &&
			   (ctxt.gpr[MV_RAX] & mask) != (haux & mask)) {
			snprintf(why, sizeof(why), "accumulator %#llx, the CPU's %#llx",
				 (unsigned long long)ctxt.gpr[MV_RAX],
				 (unsigned long long)haux);
		} else {
			continue;
		}
		bad++;
		break;
	}
	snprintf(name, sizeof(name), "host: %s, %u-byte operands, %u rounds",
		 op->name, size, HOST_ROUNDS);
	tap(!bad, name, why);
}

/* BT* with an immediate bit number, against the CPU */
static void host_compare_bti(void)
{
	static const struct {
		const char *name;
		u64 (*fn)(u64 d, u64 *fl);
		u8 bytes[6];
		unsigned int len, size;
	} t[] = {
		{ "host: bts dword [rbx],13", host_btsil_13,
		  { 0x0f, 0xba, 0x2b, 13 }, 4, 4 },
		{ "host: btr qword [rbx],63", host_btriq_63,
		  { 0x48, 0x0f, 0xba, 0x33, 63 }, 5, 8 },
		{ "host: btc word [rbx],9", host_btciw_9,
		  { 0x66, 0x0f, 0xba, 0x3b, 9 }, 5, 2 },
		{ "host: bt dword [rbx],31", host_btil_31,
		  { 0x0f, 0xba, 0x23, 31 }, 4, 4 },
	};
	static struct mv_emul_ctxt ctxt;
	unsigned int i, j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char why[200] = "";
		int bad = 0;

		for (j = 0; j < HOST_ROUNDS && !bad; j++) {
			u64 d = operand(t[i].size), fl = (rnd() & HF_ARITH) | 2;
			u64 hfl = fl, hres = t[i].fn(d, &hfl), eres = 0;
			u64 mask = t[i].size == 8 ? ~0ULL :
				   (1ULL << (t[i].size * 8)) - 1;
			int rc;

			memset(&ctxt, 0, sizeof(ctxt));
			ctxt.ops = &h_ops;
			ctxt.mode = MV_EMUL_MODE64;
			ctxt.gpr[MV_RBX] = 0x1000;
			ctxt.rflags = fl;
			memcpy(ctxt.insn_bytes, t[i].bytes, t[i].len);
			ctxt.insn_avail = t[i].len;
			memset(hmem, 0, sizeof(hmem));
			memcpy(hmem, &d, t[i].size);
			rc = mv_emulate(&ctxt);
			memcpy(&eres, hmem, t[i].size);
			if (rc || eres != (hres & mask) ||
			    ((ctxt.rflags ^ hfl) & HF_CF)) {
				snprintf(why, sizeof(why),
					 "d %#llx: rc %d result %#llx flags %#llx, the CPU's %#llx %#llx",
					 (unsigned long long)d, rc,
					 (unsigned long long)eres,
					 (unsigned long long)ctxt.rflags,
					 (unsigned long long)hres,
					 (unsigned long long)hfl);
				bad = 1;
			}
		}
		tap(!bad, t[i].name, why);
	}
}

/* ------------------------------------------------ random instructions */

#define FUZZ_ROUNDS	200000

static char fz_why[256];
static unsigned int fz_results[MV_EMUL_UNHANDLED + 1];
static unsigned int fz_pending;		/* size of a read userspace answers */
static int fz_last_user;		/* 1 read, 2 pio_in, 3 a write */

static void fz_fail(const char *what, u64 a, u64 b)
{
	if (!fz_why[0])
		snprintf(fz_why, sizeof(fz_why), "%s (%#llx, %#llx)", what,
			 (unsigned long long)a, (unsigned long long)b);
}

/* Mostly OK; sometimes userspace, a #PF, a refusal or a retry */
static int fz_answer(struct mv_emul_ctxt *ctxt, bool may_user)
{
	unsigned int r = rnd() % 32;

	if (r < 24)
		return MV_EMUL_OK;
	if (r < 28 && may_user)
		return MV_EMUL_USER;
	if (r < 30) {
		ctxt->exception.vector = 14;
		ctxt->exception.has_error = true;
		return MV_EMUL_EXCEPTION;
	}
	return r == 30 ? MV_EMUL_UNHANDLED : MV_EMUL_RETRY;
}

static void fz_fill(void *val, unsigned int n)
{
	u8 *p = val;

	while (n--)
		*p++ = rnd();
}

static void fz_check_access(u64 la, unsigned int size)
{
	if (!size || size > 4096 || (la & 4095) + size > 4096)
		fz_fail("a memory access out of its page", la, size);
}

static int fz_read(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		   unsigned int size)
{
	int rc = fz_answer(ctxt, true);

	fz_check_access(la, size);
	fz_fill(val, size);
	if (rc == MV_EMUL_USER) {
		fz_pending = size;
		fz_last_user = 1;
	}
	return rc;
}

static int fz_write(struct mv_emul_ctxt *ctxt, u64 la, const void *val,
		    unsigned int size)
{
	int rc = fz_answer(ctxt, true);

	fz_check_access(la, size);
	if (rc == MV_EMUL_USER)
		fz_last_user = 3;
	return rc;
}

static int fz_cmpxchg(struct mv_emul_ctxt *ctxt, u64 la, void *old,
		      const void *new, unsigned int size)
{
	int rc = fz_answer(ctxt, true);

	fz_check_access(la, size);
	if (size != 1 && size != 2 && size != 4 && size != 8 && size != 16)
		fz_fail("a cmpxchg of an odd size", la, size);
	if (rnd() & 1)
		fz_fill(old, size);	/* another CPU was there */
	if (rc == MV_EMUL_USER)
		fz_last_user = 3;
	return rc;
}

static void fz_check_pio(unsigned int size, unsigned int count)
{
	if ((size != 1 && size != 2 && size != 4) || !count ||
	    size * count > 4096)
		fz_fail("a port access of an odd size", size, count);
}

static int fz_pio_in(struct mv_emul_ctxt *ctxt, u16 port, unsigned int size,
		     unsigned int count, void *val)
{
	int rc = fz_answer(ctxt, true);

	fz_check_pio(size, count);
	fz_fill(val, size * count);
	if (rc == MV_EMUL_USER)
		fz_last_user = 2;
	return rc;
}

static int fz_pio_out(struct mv_emul_ctxt *ctxt, u16 port,
		      unsigned int size, unsigned int count, const void *val)
{
	int rc = fz_answer(ctxt, true);

	fz_check_pio(size, count);
	if (rc == MV_EMUL_USER)
		fz_last_user = 3;
	return rc;
}

static const struct mv_emul_ops fz_ops = {
	.read = fz_read, .write = fz_write, .compare_exchange = fz_cmpxchg,
	.pio_in = fz_pio_in, .pio_out = fz_pio_out,
};

static const struct mv_emul_ops fz_ops_nocmpxchg = {
	.read = fz_read, .write = fz_write,
	.pio_in = fz_pio_in, .pio_out = fz_pio_out,
};

/* Bytes that look like the emulator's instructions, then anything */
static unsigned int fz_bytes(u8 *b)
{
	static const u8 prefixes[] = {
		0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64,
		0x65, 0x40, 0x41, 0x42, 0x44, 0x48, 0x4c, 0x4f,
	};
	static const u8 opcodes[] = {
		0x00, 0x01, 0x02, 0x03, 0x09, 0x11, 0x1b, 0x21, 0x29, 0x31,
		0x38, 0x3b, 0x63, 0x6c, 0x6d, 0x6e, 0x6f, 0x80, 0x81, 0x82,
		0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0xa0,
		0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac,
		0xad, 0xae, 0xaf, 0xc6, 0xc7, 0xf6, 0xf7, 0xfe, 0xff,
	};
	static const u8 opcodes0f[] = {
		0xa3, 0xab, 0xb0, 0xb1, 0xb3, 0xb6, 0xb7, 0xba, 0xbb, 0xbe,
		0xbf, 0xc0, 0xc1, 0xc3, 0xc7,
	};
	unsigned int n = 0, i, np = rnd() % 5;

	for (i = 0; i < np; i++)
		b[n++] = prefixes[rnd() % sizeof(prefixes)];
	switch (rnd() % 8) {
	case 0:
		b[n++] = rnd();
		break;
	case 1:
	case 2:
		b[n++] = 0x0f;
		b[n++] = opcodes0f[rnd() % sizeof(opcodes0f)];
		break;
	default:
		b[n++] = opcodes[rnd() % sizeof(opcodes)];
		break;
	}
	while (n < MV_EMUL_MAX_INSN)
		b[n++] = rnd();
	return rnd() % 8 ? MV_EMUL_MAX_INSN : rnd() % (MV_EMUL_MAX_INSN + 1);
}

/* One instruction, emulated until done as the kernel would */
static void fz_one(struct mv_emul_ctxt *ctxt)
{
	static u8 data[4096];
	u64 gpr[MV_NR_GPRS], rip, rflags;
	unsigned int tries;
	int rc;

	for (tries = 0; tries < 8; tries++) {
		memcpy(gpr, ctxt->gpr, sizeof(gpr));
		rip = ctxt->rip;
		rflags = ctxt->rflags;
		fz_last_user = 0;
		rc = mv_emulate(ctxt);
		if (rc >= MV_EMUL_OK && rc <= MV_EMUL_UNHANDLED)
			fz_results[rc]++;
		if (rc < MV_EMUL_OK || rc > MV_EMUL_UNHANDLED)
			fz_fail("an unknown result", rc, 0);
		if (rc == MV_EMUL_OK || (rc == MV_EMUL_USER && fz_last_user == 3)) {
			u64 len = ctxt->rip - rip;

			if (ctxt->mode != MV_EMUL_MODE64)
				len = (u32)len;
			if (len && len != ctxt->insn.len)
				fz_fail("RIP moved by other than the length", rip,
					ctxt->rip);
			if (!ctxt->insn.len || ctxt->insn.len > MV_EMUL_MAX_INSN ||
			    ctxt->insn.len > ctxt->insn_avail)
				fz_fail("a length out of the bytes", ctxt->insn.len,
					ctxt->insn_avail);
			if (ctxt->nr_cached)
				fz_fail("a read cache left after a commit",
					ctxt->nr_cached, 0);
			if ((ctxt->rflags ^ rflags) & ~HF_ARITH)
				fz_fail("RFLAGS beyond the arithmetic ones", rflags,
					ctxt->rflags);
			return;
		}
		if (memcmp(gpr, ctxt->gpr, sizeof(gpr)) || rip != ctxt->rip ||
		    rflags != ctxt->rflags)
			fz_fail("registers changed without a commit", rc, rip);
		if (rc != MV_EMUL_USER)
			return;
		if (fz_last_user == 1) {
			fz_fill(data, fz_pending);
			mv_emul_complete_read(ctxt, data, fz_pending);
		} else if (fz_last_user != 2) {
			fz_fail("MV_EMUL_USER with no access out", rc, 0);
			return;
		}
	}
	mv_emul_reset(ctxt);	/* userspace kept answering: give up */
}

static void fuzz(void)
{
	static struct mv_emul_ctxt ctxt;
	unsigned int i, r;
	char name[80];

	for (i = 0; i < FUZZ_ROUNDS && !fz_why[0]; i++) {
		memset(&ctxt, 0, sizeof(ctxt));
		ctxt.ops = rnd() % 4 ? &fz_ops : &fz_ops_nocmpxchg;
		ctxt.mode = rnd() % 3;
		for (r = 0; r < MV_NR_GPRS; r++)
			ctxt.gpr[r] = rnd() % 3 ? rnd() % 0x10000 : rnd();
		ctxt.gpr[MV_RCX] = rnd() % 4 ? rnd() % 8 : rnd();
		ctxt.rip = rnd() % 2 ? rnd() : rnd() % 0x10000;
		ctxt.rflags = (rnd() & (HF_ARITH | 0x400)) | 2;
		for (r = 0; r < MV_NR_SEGS; r++)
			ctxt.seg_base[r] = rnd() % 2 ? 0 : rnd() % 0x100000;
		ctxt.insn_avail = fz_bytes(ctxt.insn_bytes);
		fz_one(&ctxt);
	}
	snprintf(name, sizeof(name), "random instructions: %u, the contract kept",
		 FUZZ_ROUNDS);
	tap(!fz_why[0], name, fz_why);
	if (verbose)
		printf("# ok %u, user %u, exception %u, retry %u, unhandled %u\n",
		       fz_results[MV_EMUL_OK], fz_results[MV_EMUL_USER],
		       fz_results[MV_EMUL_EXCEPTION], fz_results[MV_EMUL_RETRY],
		       fz_results[MV_EMUL_UNHANDLED]);
}

int main(int argc, char **argv)
{
	unsigned int ncases = sizeof(ec_cases) / sizeof(ec_cases[0]) +
			      sizeof(ec_decodes) / sizeof(ec_decodes[0]);
	unsigned int nhost = 0, i, s;

	verbose = argc > 1 && !strcmp(argv[1], "-v");
	for (i = 0; i < sizeof(host_ops) / sizeof(host_ops[0]); i++)
		for (s = 0; s < 4; s++)
			nhost += !!host_ops[i].fn[s];
	printf("TAP version 13\n1..%u\n", ncases + nhost + 5);
	run_cases();
	for (i = 0; i < sizeof(host_ops) / sizeof(host_ops[0]); i++)
		for (s = 0; s < 4; s++)
			if (host_ops[i].fn[s])
				host_compare(&host_ops[i], s);
	host_compare_bti();
	fuzz();
	if (verbose)
		printf("# %u cases, %u host comparisons\n", ncases,
		       tap_n - ncases);
	printf("# %u passed, %u failed\n", tap_n - tap_fail, tap_fail);
	return tap_fail ? 1 : 0;
}
