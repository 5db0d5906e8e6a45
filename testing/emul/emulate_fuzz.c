// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/emul/ under libFuzzer: an input is a CPU state (mode,
 * registers, RIP, RFLAGS, segment bases), the instruction bytes, and a
 * script the callbacks read their answers from (OK, userspace, #PF,
 * refuse, retry, another CPU's cmpxchg).  Each input emulates one
 * instruction the way the kernel does: reads userspace completes are
 * completed and the instruction emulated again, REP rounds are run again
 * while RIP stays, all bounded (FZ_MAX_CALLS calls of mv_emulate()).
 * Memory and ports are reached only through the callbacks, which fill and
 * read every byte the emulator hands them, so ASan sees any access out of
 * the emulator's own buffers.  A broken callback contract or a change of
 * registers without a commit aborts (libFuzzer reports it as a crash).
 *
 *   make -C testing/emul fuzz         clang -fsanitize=fuzzer,address,undefined
 *   emulate_fuzz -runs=N CORPUS_DIR   CORPUS_DIR seeded by emulate_corpus
 *
 * Built with -DFZ_CORPUS (and any C compiler) it is instead emulate_corpus
 * DIR: writes the cases of kmod/tests/emulate_cases.h there as inputs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))

#include "emulate.h"

/* The input: this header, then the callbacks' script */
struct fz_input {
	u8 mode;		/* % 3 */
	u8 flags;		/* FZ_* */
	u8 avail;		/* insn_avail, % (MV_EMUL_MAX_INSN + 1) */
	u8 insn[MV_EMUL_MAX_INSN];
	u64 gpr[MV_NR_GPRS];
	u64 rip;
	u64 rflags;
	u64 seg[MV_NR_SEGS];
} __attribute__((packed));

#define FZ_NO_CMPXCHG	0x01	/* ops->compare_exchange is NULL */

/* mv_emulate() calls per input: completions plus REP rounds */
#define FZ_MAX_CALLS	64

#define FZ_ARITH	0x8d5ULL

#ifdef FZ_CORPUS

#include "../../kmod/tests/emulate_cases.h"

static void put(const char *dir, const char *kind, unsigned int i,
		const struct fz_input *in)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%03u", dir, kind, i);
	f = fopen(path, "wb");
	if (!f || fwrite(in, sizeof(*in), 1, f) != 1) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct fz_input in;
	unsigned int i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(ec_cases) / sizeof(ec_cases[0]); i++) {
		const struct ec_case *c = &ec_cases[i];

		memset(&in, 0, sizeof(in));
		in.mode = c->mode;
		in.flags = c->flags & EC_NO_CMPXCHG ? FZ_NO_CMPXCHG : 0;
		in.avail = c->avail ? c->avail : c->len;
		memcpy(in.insn, c->bytes, sizeof(in.insn));
		memcpy(in.gpr, c->gpr, sizeof(in.gpr));
		in.rip = c->rip;
		in.rflags = c->rflags ? c->rflags : 2;
		memcpy(in.seg, c->seg, sizeof(in.seg));
		put(argv[1], "case", i, &in);
	}
	for (i = 0; i < sizeof(ec_decodes) / sizeof(ec_decodes[0]); i++) {
		const struct ec_decode *d = &ec_decodes[i];

		memset(&in, 0, sizeof(in));
		in.mode = d->mode;
		in.avail = d->len;
		memcpy(in.insn, d->bytes, sizeof(in.insn));
		memcpy(in.gpr, d->gpr, sizeof(in.gpr));
		in.rip = d->rip;
		in.rflags = 2;
		put(argv[1], "decode", i, &in);
	}
	return 0;
}

#else /* !FZ_CORPUS */

/* The callbacks' script, and what they saw */
static const u8 *fz_script;
static size_t fz_left;
static unsigned int fz_pending;	/* the size of a read userspace completes */
static int fz_last_user;	/* 1 read, 2 pio_in, 3 a write */
static u8 fz_sink;

static void fz_die(const char *what, u64 a, u64 b)
{
	fprintf(stderr, "emulate_fuzz: %s (%#llx, %#llx)\n", what,
		(unsigned long long)a, (unsigned long long)b);
	abort();
}

static u8 fz_next(void)
{
	if (!fz_left)
		return 0;
	fz_left--;
	return *fz_script++;
}

/* 0..199: OK; then userspace, a #PF, a refusal, a retry */
static int fz_answer(struct mv_emul_ctxt *ctxt)
{
	u8 r = fz_next();

	if (r < 200)
		return MV_EMUL_OK;
	if (r < 220)
		return MV_EMUL_USER;
	if (r < 240) {
		ctxt->exception.vector = 14;
		ctxt->exception.has_error = true;
		ctxt->exception.error = r & 0x1f;
		return MV_EMUL_EXCEPTION;
	}
	return r < 250 ? MV_EMUL_UNHANDLED : MV_EMUL_RETRY;
}

/* Memory reads as the low byte of its address, xor a script byte */
static void fz_fill(u64 la, void *val, unsigned int n)
{
	u8 k = fz_next();
	u8 *p = val;
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (u8)(la + i) ^ k;
}

/* Touch every byte handed to a write, for ASan */
static void fz_touch(const void *val, unsigned int n)
{
	const volatile u8 *p = val;
	unsigned int i;

	for (i = 0; i < n; i++)
		fz_sink ^= p[i];
}

static void fz_check_access(u64 la, unsigned int size)
{
	if (!size || size > 4096 || (la & 4095) + size > 4096)
		fz_die("a memory access out of its page", la, size);
}

static int fz_read(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		   unsigned int size)
{
	int rc = fz_answer(ctxt);

	fz_check_access(la, size);
	fz_fill(la, val, size);
	if (rc == MV_EMUL_USER) {
		fz_pending = size;
		fz_last_user = 1;
	}
	return rc;
}

static int fz_write(struct mv_emul_ctxt *ctxt, u64 la, const void *val,
		    unsigned int size)
{
	int rc = fz_answer(ctxt);

	fz_check_access(la, size);
	fz_touch(val, size);
	if (rc == MV_EMUL_USER)
		fz_last_user = 3;
	return rc;
}

static int fz_cmpxchg(struct mv_emul_ctxt *ctxt, u64 la, void *old,
		      const void *new, unsigned int size)
{
	int rc = fz_answer(ctxt);

	fz_check_access(la, size);
	if (size != 1 && size != 2 && size != 4 && size != 8 && size != 16)
		fz_die("a cmpxchg of an odd size", la, size);
	fz_touch(new, size);
	fz_touch(old, size);
	if (fz_next() & 1)
		fz_fill(la, old, size);	/* another CPU was there */
	if (rc == MV_EMUL_USER)
		fz_last_user = 3;
	return rc;
}

static void fz_check_pio(unsigned int size, unsigned int count)
{
	if ((size != 1 && size != 2 && size != 4) || !count ||
	    size * count > MV_EMUL_MAX_BATCH)
		fz_die("a port access of an odd size", size, count);
}

static int fz_pio_in(struct mv_emul_ctxt *ctxt, u16 port, unsigned int size,
		     unsigned int count, void *val)
{
	int rc = fz_answer(ctxt);

	fz_check_pio(size, count);
	fz_fill(port, val, size * count);
	if (rc == MV_EMUL_USER)
		fz_last_user = 2;
	return rc;
}

static int fz_pio_out(struct mv_emul_ctxt *ctxt, u16 port,
		      unsigned int size, unsigned int count, const void *val)
{
	int rc = fz_answer(ctxt);

	fz_check_pio(size, count);
	fz_touch(val, size * count);
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

static void fz_check_commit(const struct mv_emul_ctxt *ctxt, u64 rip,
			    u64 rflags)
{
	u64 len = ctxt->rip - rip;

	if (ctxt->mode != MV_EMUL_MODE64)
		len = (u32)len;
	if (len && len != ctxt->insn.len)
		fz_die("RIP moved by other than the length", rip, ctxt->rip);
	if (!ctxt->insn.len || ctxt->insn.len > MV_EMUL_MAX_INSN ||
	    ctxt->insn.len > ctxt->insn_avail)
		fz_die("a length out of the bytes", ctxt->insn.len,
		       ctxt->insn_avail);
	if (ctxt->nr_cached)
		fz_die("a read cache left after a commit", ctxt->nr_cached, 0);
	if ((ctxt->rflags ^ rflags) & ~FZ_ARITH)
		fz_die("RFLAGS beyond the arithmetic ones", rflags,
		       ctxt->rflags);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct mv_emul_ctxt ctxt;
	static u8 buf[MV_EMUL_MAX_BATCH];
	struct fz_input in;
	u64 gpr[MV_NR_GPRS], rip, rflags;
	unsigned int calls;
	int rc;

	if (size < sizeof(in))
		return -1;	/* not a state: keep it out of the corpus */
	memcpy(&in, data, sizeof(in));
	fz_script = data + sizeof(in);
	fz_left = size - sizeof(in);

	memset(&ctxt, 0, sizeof(ctxt));
	ctxt.ops = in.flags & FZ_NO_CMPXCHG ? &fz_ops_nocmpxchg : &fz_ops;
	ctxt.mode = in.mode % 3;
	memcpy(ctxt.gpr, in.gpr, sizeof(ctxt.gpr));
	ctxt.rip = in.rip;
	ctxt.rflags = in.rflags;
	memcpy(ctxt.seg_base, in.seg, sizeof(ctxt.seg_base));
	memcpy(ctxt.insn_bytes, in.insn, sizeof(ctxt.insn_bytes));
	ctxt.insn_avail = in.avail % (MV_EMUL_MAX_INSN + 1);

	for (calls = 0; calls < FZ_MAX_CALLS; calls++) {
		memcpy(gpr, ctxt.gpr, sizeof(gpr));
		rip = ctxt.rip;
		rflags = ctxt.rflags;
		fz_last_user = 0;
		rc = mv_emulate(&ctxt);
		if (rc < MV_EMUL_OK || rc > MV_EMUL_UNHANDLED)
			fz_die("an unknown result", rc, 0);
		if (rc == MV_EMUL_OK ||
		    (rc == MV_EMUL_USER && fz_last_user == 3)) {
			fz_check_commit(&ctxt, rip, rflags);
			/* a REP round: the guest runs the instruction again */
			if (ctxt.insn.rep && ctxt.rip == rip)
				continue;
			return 0;
		}
		if (memcmp(gpr, ctxt.gpr, sizeof(gpr)) || rip != ctxt.rip ||
		    rflags != ctxt.rflags)
			fz_die("registers changed without a commit", rc, rip);
		if (rc != MV_EMUL_USER)
			return 0;
		if (fz_last_user == 1) {
			if (!fz_pending || fz_pending > sizeof(buf))
				fz_die("a pending read of an odd size",
				       fz_pending, 0);
			fz_fill(0, buf, fz_pending);
			mv_emul_complete_read(&ctxt, buf, fz_pending);
		} else if (fz_last_user != 2) {
			fz_die("MV_EMUL_USER with no access out", rc, 0);
		}
	}
	mv_emul_reset(&ctxt);	/* userspace kept answering: give up */
	return 0;
}

#endif /* FZ_CORPUS */
