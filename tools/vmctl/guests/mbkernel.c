// SPDX-License-Identifier: GPL-2.0
/*
 * A Multiboot 1 kernel: prints the magic it was given, its command line
 * and the memory map from the information structure, then exits through
 * the debug-exit port with 0x21 if everything was there, so vmctl exits
 * with status 67.
 */
#include "guest.h"

#define MB_BOOT_MAGIC		0x2badb002
#define MBI_MEMORY		BIT(0)
#define MBI_CMDLINE		BIT(2)
#define MBI_MMAP		BIT(6)
#define MBI_LOADER_NAME		BIT(9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

/* 64-bit fields on 4-byte boundaries: in halves, low first */
struct mb_mmap_entry {
	uint32_t size;
	uint32_t addr_lo, addr_hi;
	uint32_t len_lo, len_hi;
	uint32_t type;
};

static void print_mmap(const struct mb_info *mbi)
{
	uint32_t p = mbi->mmap_addr;
	const struct mb_mmap_entry *e;
	uint64_t addr, len;

	while (p < mbi->mmap_addr + mbi->mmap_length) {
		e = (const struct mb_mmap_entry *)p;
		addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;
		len = (uint64_t)e->len_hi << 32 | e->len_lo;
		puts("mmap: 0x");
		puthex(addr, 9);
		puts("-0x");
		puthex(addr + len - 1, 9);
		puts(e->type == 1 ? " available\n" : " reserved\n");
		p += e->size + sizeof(e->size);
	}
}

void mb_main(uint32_t magic, const struct mb_info *mbi)
{
	const uint32_t want = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP;

	puts("Hello from a Multiboot kernel on minivisor, in protected mode.\n");
	if (magic != MB_BOOT_MAGIC) {
		puts("bad magic 0x");
		puthex(magic, 8);
		putc('\n');
		debug_exit(1);
		return;
	}
	if (mbi->flags & MBI_LOADER_NAME) {
		puts("loader: ");
		puts((const char *)mbi->boot_loader_name);
		putc('\n');
	}
	if (mbi->flags & MBI_CMDLINE) {
		puts("cmdline: ");
		puts((const char *)mbi->cmdline);
		putc('\n');
	}
	if (mbi->flags & MBI_MEMORY) {
		puts("memory: lower ");
		putdec(mbi->mem_lower, 0);
		puts("K, upper ");
		putdec(mbi->mem_upper, 0);
		puts("K\n");
	}
	if (mbi->flags & MBI_MMAP)
		print_mmap(mbi);
	debug_exit((mbi->flags & want) == want ? 0x21 : 2);
}
