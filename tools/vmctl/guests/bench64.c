// SPDX-License-Identifier: GPL-2.0
/*
 * The guest of "vmctl bench": one 64-bit ELF that runs the workload the
 * parameter block at BENCH_PARAMS names (guests/bench.h), the same on every
 * hypervisor and MMU mode.  It builds its own page tables: every address
 * space maps the low 4 GiB identity (2 MiB pages, tables shared by all) and
 * its own region at VBASE, 512 GiB up, the PML4 entry of its own.  Setup
 * (building tables, first touches a phase does not measure) happens outside
 * the phases it reports through BENCH_PORT.
 */
#include "bench.h"
#include <stdbool.h>

#include "guest.h"

#define PAGE		BIT_ULL(12)
#define HUGE		BIT_ULL(21)
#define VBASE		BIT_ULL(39)

#define PTE_P		1ull
#define PTE_W		2ull
#define PTE_PS		0x80ull
#define PTE_ADDR	0x000ffffffffff000ull

#define CR3_NOFLUSH	BIT_ULL(63)
#define CR4_PCIDE	BIT_ULL(17)
#define CPUID1_ECX_PCID	BIT(17)

#define CHURN_MAX	512	/* one page table */
#define CTXSW_MAX	256

static struct bench_params *const bp = (void *)BENCH_PARAMS;
static uint64_t pool_next = BENCH_POOL;
static uint64_t data_next = BENCH_DATA;
static uint64_t *id_pdpt;	/* the identity map of the low 4 GiB */

static inline void out32(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint32_t in32(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

/*
 * Memory the hypervisor must see touched, each access as written, in
 * order: the page-table entries of a live address space, first touches.
 */
static inline uint64_t rd64(uint64_t addr)
{
	uint64_t v;

	asm volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void wr64(uint64_t addr, uint64_t v)
{
	asm volatile("movq %1, (%0)" : : "r"(addr), "r"(v) : "memory");
}

static inline uint32_t rd32(uint64_t addr)
{
	uint32_t v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void write_cr3(uint64_t v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uint64_t v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void flush_page(uint64_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint32_t cpuid_ecx(uint32_t leaf)
{
	uint32_t a = leaf, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c;
}

/* The last command: vmctl ends the run there. */
static void command_last(uint32_t cmd)
{
	out32(BENCH_PORT, cmd);
	for (;;)
		asm volatile("hlt");
}

static void fail(uint32_t error)
{
	bp->error = error;
	command_last(BENCH_FAIL);
}

static void begin(uint32_t phase)
{
	bp->phase = phase;
	out32(BENCH_PORT, BENCH_BEGIN);
}

static void end(uint32_t phase, uint64_t ops)
{
	bp->phase = phase;
	bp->phase_ops = ops;
	out32(BENCH_PORT, BENCH_END);
}

/* A zeroed page-table page (identity mapped: its address is its frame). */
static uint64_t *alloc_table(void)
{
	uint64_t t = pool_next, i;

	if (pool_next >= BENCH_POOL_END)
		fail(BENCH_E_POOL);
	pool_next += PAGE;
	for (i = 0; i < PAGE; i += 8)
		wr64(t + i, 0);
	return (uint64_t *)t;
}

/* Guest-physical pages for a workload, never touched before. */
static uint64_t alloc_data(uint64_t bytes, uint64_t align)
{
	uint64_t pa = (data_next + align - 1) & ~(align - 1);

	if (pa + bytes > bp->mem_size || pa + bytes < pa)
		fail(BENCH_E_MEMORY);
	data_next = pa + bytes;
	return pa;
}

/* The table an entry points to, made if absent. */
static uint64_t *next_table(uint64_t *entry)
{
	if (!(*entry & PTE_P))
		*entry = (uint64_t)alloc_table() | PTE_P | PTE_W;
	return (uint64_t *)(*entry & PTE_ADDR);
}

/*
 * Maps @va to @pa in the address space of @pml4, a 2 MiB page if @huge;
 * returns the leaf entry.
 */
static uint64_t *map(uint64_t *pml4, uint64_t va, uint64_t pa, bool huge)
{
	uint64_t *pdpt = next_table(&pml4[(va >> 39) & 511]);
	uint64_t *pd = next_table(&pdpt[(va >> 30) & 511]);
	uint64_t *pt;

	if (huge) {
		pd[(va >> 21) & 511] = pa | PTE_P | PTE_W | PTE_PS;
		return &pd[(va >> 21) & 511];
	}
	pt = next_table(&pd[(va >> 21) & 511]);
	pt[(va >> 12) & 511] = pa | PTE_P | PTE_W;
	return &pt[(va >> 12) & 511];
}

/* A new address space: the shared identity map, nothing at VBASE yet. */
static uint64_t *new_space(void)
{
	uint64_t *pml4 = alloc_table();

	pml4[0] = (uint64_t)id_pdpt | PTE_P | PTE_W;
	return pml4;
}

static void map_range(uint64_t *pml4, uint64_t va, uint64_t pa,
		      uint64_t bytes, bool huge)
{
	uint64_t off, step = huge ? HUGE : PAGE;

	for (off = 0; off < bytes; off += step)
		map(pml4, va + off, pa + off, huge);
}

/* A region of @bytes at VBASE in a new address space, which is loaded. */
static void region_space(uint64_t bytes, bool huge)
{
	uint64_t *pml4 = new_space();
	uint64_t pa = alloc_data(bytes, huge ? HUGE : PAGE);

	map_range(pml4, VBASE, pa, bytes, huge);
	write_cr3((uint64_t)pml4);
}

/* faults: the first touch of each 4 KiB of the region. */
static void faults(bool huge)
{
	uint64_t i, n = bp->size / PAGE;

	region_space(bp->size, huge);
	begin(BENCH_PH_MAIN);
	for (i = 0; i < n; i++)
		wr64(VBASE + i * PAGE, i);
	end(BENCH_PH_MAIN, n);
}

static void touch(uint64_t pages)
{
	uint64_t j;

	for (j = 0; j < pages; j++)
		wr64(VBASE + j * PAGE, rd64(VBASE + j * PAGE) + 1);
}

/*
 * ctxsw: K address spaces, each with its own pages at VBASE, loaded round
 * robin; each turn touches its pages.  The first round builds (what the
 * hypervisor caches), the later rounds revisit.
 */
static void ctxsw(bool pcid)
{
	static uint64_t cr3[CTXSW_MAX];
	uint64_t k = bp->k, pages = bp->pages, rounds = bp->ops, r, i, nf = 0;

	if (!k || k > CTXSW_MAX || !pages || pages > 512)
		fail(BENCH_E_PARAMS);
	if (pcid && !(cpuid_ecx(1) & CPUID1_ECX_PCID))
		command_last(BENCH_SKIP);
	for (i = 0; i < k; i++) {
		uint64_t *pml4 = new_space();

		map_range(pml4, VBASE, alloc_data(pages * PAGE, PAGE),
			  pages * PAGE, false);
		cr3[i] = (uint64_t)pml4 | (pcid ? i + 1 : 0);
	}
	if (pcid) {
		write_cr4(read_cr4() | CR4_PCIDE);
		nf = CR3_NOFLUSH;
	}
	begin(BENCH_PH_FIRST);
	for (i = 0; i < k; i++) {
		write_cr3(cr3[i]);
		touch(pages);
	}
	end(BENCH_PH_FIRST, k);
	begin(BENCH_PH_MAIN);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < k; i++) {
			write_cr3(cr3[i] | nf);
			touch(pages);
		}
	}
	end(BENCH_PH_MAIN, rounds * k);
}

/*
 * churn: what fork, copy-on-write and munmap do to a page: map it and
 * write, write-protect it (INVLPG) and read, copy and remap it writable
 * elsewhere (INVLPG), check and write, unmap it (INVLPG).  Each write of
 * the entry must happen, in order with the accesses: rd64() and wr64().
 */
static void churn_one(uint64_t *pte, uint64_t va, uint64_t pa_a,
		      uint64_t pa_b, uint64_t i)
{
	uint64_t e = (uint64_t)pte;

	wr64(e, pa_a | PTE_P | PTE_W);
	wr64(va, i);
	wr64(e, pa_a | PTE_P);
	flush_page(va);
	bp->sum += rd64(va);
	wr64(pa_b, rd64(va));	/* the copy, through the identity map */
	wr64(e, pa_b | PTE_P | PTE_W);
	flush_page(va);
	if (rd64(va) != i)
		fail(BENCH_E_DATA);
	wr64(va, i + 1);
	wr64(e, 0);
	flush_page(va);
}

static void churn(void)
{
	static uint64_t *pte[CHURN_MAX];
	uint64_t w = bp->pages, n = bp->ops, pa_a, pa_b, i;
	uint64_t *pml4 = new_space();

	if (!w || w > CHURN_MAX)
		fail(BENCH_E_PARAMS);
	pa_a = alloc_data(w * PAGE, PAGE);
	pa_b = alloc_data(w * PAGE, PAGE);
	for (i = 0; i < w; i++) {
		pte[i] = map(pml4, VBASE + i * PAGE, pa_a + i * PAGE, false);
		*pte[i] = 0;
		/* the frames exist for the hypervisor before the phase */
		wr64(pa_a + i * PAGE, 0);
		wr64(pa_b + i * PAGE, 0);
	}
	write_cr3((uint64_t)pml4);
	/* one round to warm up: the page table is in use, shadowed */
	for (i = 0; i < w; i++)
		churn_one(pte[i], VBASE + i * PAGE, pa_a + i * PAGE,
			  pa_b + i * PAGE, i);
	begin(BENCH_PH_MAIN);
	for (i = 0; i < n; i++) {
		uint64_t j = i % w;

		churn_one(pte[j], VBASE + j * PAGE, pa_a + j * PAGE,
			  pa_b + j * PAGE, i);
	}
	end(BENCH_PH_MAIN, n);
}

/* gups: random read-modify-writes of 8 bytes over the whole region. */
static void gups(bool huge)
{
	uint64_t i, n = bp->ops, words = bp->size / 8, x = 0x9e3779b97f4a7c15ull;
	uint64_t *a = (uint64_t *)VBASE;

	if (!bp->size || (bp->size & (bp->size - 1)) || bp->size < HUGE)
		fail(BENCH_E_PARAMS);
	region_space(bp->size, huge);
	for (i = 0; i < words; i += PAGE / 8)
		wr64(VBASE + i * 8, i);
	begin(BENCH_PH_MAIN);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a[x & (words - 1)] ^= x;
	}
	end(BENCH_PH_MAIN, n);
}

/* One exit of the kind @w, n times; the answers vmctl gives are checked. */
static void exits(uint32_t w, uint64_t n)
{
	uint32_t a = 0, b, c, d;
	uint64_t i;

	for (i = 0; i < n; i++) {
		switch (w) {
		case BENCH_W_CPUID:
			a = 0;
			asm volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c),
				     "=d"(d));
			break;
		case BENCH_W_PIO:
			if (in32(BENCH_PIO_PORT) != BENCH_ANSWER)
				fail(BENCH_E_ANSWER);
			break;
		case BENCH_W_MMIO:
			if (rd32(BENCH_MMIO) != BENCH_ANSWER)
				fail(BENCH_E_ANSWER);
			break;
		default:
			asm volatile("hlt" : : : "memory");
			break;
		}
	}
	bp->sum += a;
}

static void exit_cost(uint32_t w)
{
	exits(w, 2);	/* the code and data it uses are mapped */
	begin(BENCH_PH_MAIN);
	exits(w, bp->ops);
	end(BENCH_PH_MAIN, bp->ops);
}

int main(void)
{
	uint64_t *root, i;
	bool huge;

	if (bp->magic != BENCH_MAGIC || bp->mem_size <= BENCH_DATA)
		fail(BENCH_E_PARAMS);
	huge = bp->flags & BENCH_F_HUGE;
	id_pdpt = alloc_table();
	for (i = 0; i < 4; i++) {
		uint64_t *pd = alloc_table();
		unsigned int j;

		id_pdpt[i] = (uint64_t)pd | PTE_P | PTE_W;
		for (j = 0; j < 512; j++)
			pd[j] = ((i << 30) + ((uint64_t)j << 21)) | PTE_P |
				PTE_W | PTE_PS;
	}
	root = new_space();
	write_cr3((uint64_t)root);

	switch (bp->workload) {
	case BENCH_W_FAULTS:
		faults(huge);
		break;
	case BENCH_W_CTXSW:
		ctxsw(bp->flags & BENCH_F_PCID);
		break;
	case BENCH_W_CHURN:
		churn();
		break;
	case BENCH_W_GUPS:
		gups(huge);
		break;
	case BENCH_W_CPUID:
	case BENCH_W_PIO:
	case BENCH_W_MMIO:
	case BENCH_W_HLT:
		exit_cost(bp->workload);
		break;
	default:
		fail(BENCH_E_PARAMS);
	}
	command_last(BENCH_DONE);
	return 0;
}
