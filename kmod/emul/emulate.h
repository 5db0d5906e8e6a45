/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An x86 instruction decoder and emulator for the guest accesses that trap:
 * MMIO, string port I/O, and (under shadow paging) writes to guest page
 * tables.
 *
 * Self-contained: decode.c and emulate.c include nothing but this header
 * (through emul_int.h, what the two share), and this header nothing but
 * the integer types, so the same source builds into the module (KUnit
 * tests it there) and into a plain userspace test program.
 *
 * Model: the caller fills a struct mv_emul_ctxt with the guest registers,
 * the segment bases, the CPU mode and the instruction bytes at RIP, then
 * calls mv_emulate().  Memory and ports are reached only through the
 * callbacks of struct mv_emul_ops, by linear address (segment base already
 * added, by the emulator).  Registers, RIP and RFLAGS in the context change
 * only when an instruction (or one round of a REP string instruction) is
 * committed.
 *
 * Accesses userspace completes: a read callback (or @pio_in) may answer
 * MV_EMUL_USER, meaning "the data is not here yet, userspace fetches it".
 * The emulator then stops with nothing committed and returns MV_EMUL_USER.
 * When the data has come, the caller hands it over with
 * mv_emul_complete_read() and calls mv_emulate() again on the same
 * instruction: every read the instruction made before is replayed from the
 * context's read cache, in order, without calling the callback, and the
 * completed one returns its data.  A write callback (or @pio_out) that
 * answers MV_EMUL_USER has taken the data for userspace: the emulator
 * commits the instruction and returns MV_EMUL_USER.  So at most one write
 * leaves per instruction: REP string instructions do one round per call
 * (the guest re-executes the instruction for the next round, RIP stays put
 * until the count runs out), except INS/OUTS which move a batch per call.
 *
 * INS/OUTS batches: with REP and DF = 0, min(count, the items up to the
 * end of the memory operand's 4 KiB page and of its address space,
 * 4096 / size); with DF = 1 or without REP, one item.  The memory side
 * is one @read or @write call (two when a lone item crosses a page), the
 * port side one @pio_in or @pio_out call of that many items.
 *
 * Accesses that cross a 4 KiB page are split into two callback calls.  A
 * split write whose first piece answers MV_EMUL_USER ends the instruction
 * with MV_EMUL_UNHANDLED (only one access can leave per instruction), and
 * one whose second piece faults leaves the first piece written; a split
 * locked access is made with @write, not atomically.
 *
 * Not checked here: segment limits and types, privilege, canonical
 * addresses (the callbacks' page walk sees the linear address), alignment
 * (#AC), I/O permissions.  CMPXCHG* that compare unequal store nothing
 * (the hardware writes the old value back).
 */
#ifndef MV_EMUL_EMULATE_H
#define MV_EMUL_EMULATE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "emul_types.h"	/* u8..u64, s8..s64, bool: the test's own */
#endif

/* The operand and address sizes the code segment gives. */
enum mv_emul_mode {
	MV_EMUL_MODE16,		/* real mode, or CS.D = 0 */
	MV_EMUL_MODE32,		/* CS.D = 1 */
	MV_EMUL_MODE64,		/* long mode with CS.L = 1 */
};

/* Segment registers, in the order of their x86 encoding. */
enum mv_emul_seg {
	MV_SEG_ES, MV_SEG_CS, MV_SEG_SS, MV_SEG_DS, MV_SEG_FS, MV_SEG_GS,
	MV_NR_SEGS
};

/**
 * struct mv_emul_segment - what the checks of an access need of a segment
 * @limit: its limit, in bytes (the G bit applied)
 * @type: the descriptor's type field: bit 3 code, bit 2 expand-down (data)
 *	or conforming (code), bit 1 writable (data) or readable (code)
 * @unusable: null or not present: any access through it faults
 * @big: the D/B bit: an expand-down segment's upper bound is 4 GiB
 */
struct mv_emul_segment {
	u32 limit;
	u8 type;
	bool unusable;
	bool big;
};

/* x86 register numbers, for mv_emul_ctxt.gpr[] */
enum mv_emul_reg {
	MV_RAX, MV_RCX, MV_RDX, MV_RBX, MV_RSP, MV_RBP, MV_RSI, MV_RDI,
	MV_R8, MV_R9, MV_R10, MV_R11, MV_R12, MV_R13, MV_R14, MV_R15,
	MV_NR_GPRS
};

/* What mv_emulate() and the callbacks return. */
enum mv_emul_result {
	MV_EMUL_OK,		/* done (committed); enter the guest again */
	MV_EMUL_USER,		/* an access goes to userspace (see above) */
	MV_EMUL_EXCEPTION,	/* inject ctxt->exception; nothing committed */
	/* nothing committed; let the guest run the instruction again */
	MV_EMUL_RETRY,
	/* not an instruction this emulator knows, or a callback refused */
	MV_EMUL_UNHANDLED,
};

/**
 * struct mv_emul_exception - an exception the guest must take
 * @vector: the exception vector (X86_TRAP_*)
 * @has_error: @error is pushed
 * @error: the error code
 * @cr2: for a #PF, the faulting linear address
 */
struct mv_emul_exception {
	u8 vector;
	bool has_error;
	u32 error;
	u64 cr2;
};

struct mv_emul_ctxt;

/**
 * struct mv_emul_ops - how the emulator reaches the guest's memory and ports
 * @read: read @size bytes (1 to 4096, never crossing a 4 KiB page) at
 *	linear address @la into @val.  MV_EMUL_OK, MV_EMUL_USER (userspace
 *	completes it), MV_EMUL_EXCEPTION (ctxt->exception set, e.g. a #PF),
 *	or MV_EMUL_UNHANDLED.
 * @write: write @size bytes from @val at @la.  MV_EMUL_OK, MV_EMUL_USER
 *	(userspace takes it; the emulator commits and stops), or as @read.
 * @compare_exchange: if the @size bytes (1, 2, 4, 8 or 16) at @la equal
 *	@old, replace them with @new, atomically; in any case store what was
 *	there in @old.  Used by LOCK-prefixed read-modify-write instructions,
 *	XCHG and CMPXCHG*.  May be NULL: the emulator then uses @write.
 *	May answer MV_EMUL_USER like @write: @new went to userspace (an MMIO
 *	address), and the exchange counts as done.
 * @pio_in: read @count items of @size bytes (1, 2 or 4) from @port into
 *	@val.  Returns as @read; MV_EMUL_USER when userspace completes it.
 *	Not cached: when the instruction is emulated again after userspace
 *	completed it, @pio_in is called again and gives the data.
 * @pio_out: write @count items of @size bytes from @val to @port.
 *	Returns as @write.
 */
struct mv_emul_ops {
	int (*read)(struct mv_emul_ctxt *ctxt, u64 la, void *val,
		    unsigned int size);
	int (*write)(struct mv_emul_ctxt *ctxt, u64 la, const void *val,
		     unsigned int size);
	int (*compare_exchange)(struct mv_emul_ctxt *ctxt, u64 la, void *old,
				const void *new, unsigned int size);
	int (*pio_in)(struct mv_emul_ctxt *ctxt, u16 port, unsigned int size,
		      unsigned int count, void *val);
	int (*pio_out)(struct mv_emul_ctxt *ctxt, u16 port, unsigned int size,
		       unsigned int count, const void *val);
};

/* The longest x86 instruction */
#define MV_EMUL_MAX_INSN	15
/* Reads one instruction may make (MOVS/CMPS: 2; locked RMW: 1...) */
#define MV_EMUL_MAX_READS	4
/* The largest cached read: CMPXCHG16B's 16 bytes (OUTS: the bounce buffer) */
#define MV_EMUL_MAX_READ_SIZE	16
/* The largest INS/OUTS batch, in bytes */
#define MV_EMUL_MAX_BATCH	4096

/**
 * struct mv_emul_insn - a decoded instruction
 * @len: its length in bytes
 * @opcode: the opcode, 0x0f00 | byte for two-byte opcodes
 * @op_size: operand size in bytes (1, 2, 4 or 8; 16 for CMPXCHG16B)
 * @addr_size: address size in bytes (2, 4 or 8)
 * @seg: the segment of the memory operand (default or override)
 * @rep: 0, or the REP prefix byte (0xf3 or 0xf2)
 * @lock: a LOCK prefix
 * @rex: the REX prefix, or 0
 * @modrm: the ModRM byte, if @has_modrm
 * @has_modrm: the instruction has a ModRM byte
 * @reg: ModRM.reg with REX.R, if @has_modrm
 * @rm: ModRM.rm with REX.B, if @has_modrm (a register when not @mem)
 * @mem: the instruction has a memory operand at @ea
 * @ea: the effective address of the memory operand (before the segment),
 *	truncated to @addr_size; for string instructions rSI's (MOVS, CMPS,
 *	LODS, OUTS) or rDI's (STOS, SCAS, INS, whose @seg is then ES)
 * @imm: the immediate, sign-extended to 64 bits
 * @la: the linear address of the memory operand (@seg's base plus @ea)
 *
 * mv_emul_decode() also decodes, for the callers that carry them out
 * themselves (kmod/crinsn.c), the paging-control instructions mv_emulate()
 * leaves alone: CLTS (0f 06), MOV from and to CR and DR (0f 20-23, whose
 * operand is a register whatever ModRM.mod says), LMSW (0f 01 /6) and
 * INVLPG (0f 01 /7, memory forms).
 */
struct mv_emul_insn {
	u8 len;
	u16 opcode;
	u8 op_size;
	u8 addr_size;
	u8 seg;
	u8 rep;
	bool lock;
	u8 rex;
	u8 modrm;
	bool has_modrm;
	u8 reg;
	u8 rm;
	bool mem;
	u64 ea;
	s64 imm;
	u64 la;
};

/**
 * struct mv_emul_ctxt - one instruction to emulate, and the guest around it
 * @ops: the callbacks (in)
 * @priv: the caller's, for the callbacks (in)
 * @mode: the CPU mode (in)
 * @gpr: the general registers (in, out)
 * @rip: RIP (in, out)
 * @rflags: RFLAGS (in, out)
 * @seg_base: segment bases; in 64-bit mode only FS and GS are used (in)
 * @segs_given: @seg holds the segments, and accesses outside 64-bit mode
 *	are checked against them (in)
 * @seg: the segments, if @segs_given (in)
 * @insn_bytes: the bytes at CS:RIP (in)
 * @insn_avail: how many of @insn_bytes the caller could fetch (in); an
 *	instruction longer than that is MV_EMUL_UNHANDLED
 * @insn: the decoded instruction (out)
 * @exception: what to inject after MV_EMUL_EXCEPTION (out)
 * @nr_reads: reads made so far in this instruction (emulator's)
 * @nr_cached: reads in @cache (emulator's; mv_emul_complete_read() adds)
 * @cache: the data of the reads made so far (emulator's)
 * @cache_la: the linear address of each cached read, and of a pending one
 *	(emulator's): a replay at another address or size is MV_EMUL_UNHANDLED
 * @cache_size: the size of each cached read (emulator's)
 * @bounce: INS/OUTS batches, and a cached read larger than a @cache entry
 *	(emulator's)
 */
struct mv_emul_ctxt {
	const struct mv_emul_ops *ops;
	void *priv;
	enum mv_emul_mode mode;
	u64 gpr[MV_NR_GPRS];
	u64 rip;
	u64 rflags;
	u64 seg_base[MV_NR_SEGS];
	bool segs_given;
	struct mv_emul_segment seg[MV_NR_SEGS];
	u8 insn_bytes[MV_EMUL_MAX_INSN];
	unsigned int insn_avail;

	struct mv_emul_insn insn;
	struct mv_emul_exception exception;

	unsigned int nr_reads;
	unsigned int nr_cached;
	u8 cache[MV_EMUL_MAX_READS][MV_EMUL_MAX_READ_SIZE];
	u64 cache_la[MV_EMUL_MAX_READS];
	unsigned int cache_size[MV_EMUL_MAX_READS];
	u8 bounce[MV_EMUL_MAX_BATCH];
};

/**
 * mv_emul_decode() - decode the instruction at ctxt->insn_bytes
 * @ctxt: the context, with @mode, @gpr, @rip and the bytes filled in
 *
 * Fills @ctxt->insn, including the effective address of a memory operand.
 *
 * Return: MV_EMUL_OK, or MV_EMUL_UNHANDLED for an instruction outside the
 * emulator's set or longer than @ctxt->insn_avail.
 */
int mv_emul_decode(struct mv_emul_ctxt *ctxt);

/**
 * mv_emulate() - decode and execute the instruction at ctxt->insn_bytes
 * @ctxt: the context
 *
 * Return: an enum mv_emul_result.  After MV_EMUL_OK, MV_EMUL_USER from a
 * write, the registers, RIP and RFLAGS in @ctxt are the guest's new ones
 * and the read cache is empty again; otherwise they are unchanged.  The
 * read cache is kept only after MV_EMUL_USER from a read or @pio_in (for
 * the instruction emulated again); every other result empties it.
 */
int mv_emulate(struct mv_emul_ctxt *ctxt);

/**
 * mv_emul_complete_read() - hand over the data of a read userspace did
 * @ctxt: the context whose read answered MV_EMUL_USER
 * @val: the data
 * @size: its size, the size of that read
 *
 * Call before mv_emulate() on the same instruction again.
 */
void mv_emul_complete_read(struct mv_emul_ctxt *ctxt, const void *val,
			   unsigned int size);

/**
 * mv_emul_reset() - forget a half-emulated instruction (its read cache)
 * @ctxt: the context
 */
void mv_emul_reset(struct mv_emul_ctxt *ctxt);

#endif /* MV_EMUL_EMULATE_H */
