/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The protocol between "vmctl bench" and its guest, guests/bench64.elf.
 * Included by both: vmctl writes the parameter block, the guest runs the
 * workload it names and reports each measured phase through BENCH_PORT.
 *
 *   guest                              vmctl
 *   (setup, not measured)
 *   phase = P; out BENCH_BEGIN    ->   reads the clock and the stats fds
 *   (the operations)
 *   ops = N;   out BENCH_END      ->   reads them again: the phase's deltas
 *   ...
 *   out BENCH_DONE                ->   the run is over
 *
 * BENCH_SKIP: the variant cannot run here (no PCID); BENCH_FAIL: the guest
 * found something wrong, its code in @error.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

/* Guest-physical address of struct bench_params (vmctl's boot area) */
#define BENCH_PARAMS		0x8000
#define BENCH_MAGIC		0x68636e62	/* "bnch" */

/* Ports: commands (out, 32 bits) and a register vmctl answers (in) */
#define BENCH_PORT		0xe0
#define BENCH_PIO_PORT		0xe4
/* An address with no memory behind it: reads vmctl answers */
#define BENCH_MMIO		0xc0000000ull
/* What vmctl answers to reads of BENCH_PIO_PORT and BENCH_MMIO */
#define BENCH_ANSWER		0x5a17c0deu

/* Commands written to BENCH_PORT */
#define BENCH_BEGIN		1
#define BENCH_END		2
#define BENCH_DONE		3
#define BENCH_SKIP		4
#define BENCH_FAIL		5

/* Workloads */
#define BENCH_W_FAULTS		1
#define BENCH_W_CTXSW		2
#define BENCH_W_CHURN		3
#define BENCH_W_GUPS		4
#define BENCH_W_CPUID		5
#define BENCH_W_PIO		6
#define BENCH_W_MMIO		7
#define BENCH_W_HLT		8

/* Variant flags */
#define BENCH_F_HUGE		1	/* guest 2 MiB pages */
#define BENCH_F_PCID		2	/* PCIDs, CR3 loads without flush */

/* Phases: what vmctl reports is BENCH_PH_MAIN */
#define BENCH_PH_MAIN		0
#define BENCH_PH_FIRST		1	/* ctxsw: the first round, building */
#define BENCH_PHASES		2

/* Guest memory: vmctl's boot area, the guest at 1M, its page tables, data */
#define BENCH_POOL		0x400000ull	/* page-table pages ... */
#define BENCH_POOL_END		0xc00000ull	/* ... 8 MiB of them */
#define BENCH_DATA		0x1000000ull	/* the workloads' pages */

/* Guest errors (@error) */
#define BENCH_E_PARAMS		1	/* a bad parameter block */
#define BENCH_E_POOL		2	/* out of page-table pages */
#define BENCH_E_MEMORY		3	/* out of data pages */
#define BENCH_E_ANSWER		4	/* a PIO or MMIO read came back wrong */
#define BENCH_E_DATA		5	/* memory read back wrong */

/**
 * struct bench_params - at BENCH_PARAMS in guest memory
 * @magic: BENCH_MAGIC (vmctl)
 * @workload: BENCH_W_* (vmctl)
 * @flags: BENCH_F_* (vmctl)
 * @k: ctxsw: address spaces (vmctl)
 * @pages: ctxsw: pages each touches per turn; churn: pages cycled (vmctl)
 * @size: bytes of the region (faults, gups) (vmctl)
 * @ops: operations: rounds (ctxsw), updates, exits... (vmctl)
 * @mem_size: bytes of guest memory (vmctl)
 * @phase: the phase begun or ended, BENCH_PH_* (guest)
 * @error: BENCH_E_* with BENCH_FAIL (guest)
 * @phase_ops: operations of the phase ended (guest)
 * @sum: a checksum of what the guest read, so no loop is optimised out
 */
struct bench_params {
	uint32_t magic;
	uint32_t workload;
	uint32_t flags;
	uint32_t k;
	uint64_t pages;
	uint64_t size;
	uint64_t ops;
	uint64_t mem_size;
	uint32_t phase;
	uint32_t error;
	uint64_t phase_ops;
	uint64_t sum;
};

#endif /* BENCH_H */
