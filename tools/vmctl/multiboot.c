// SPDX-License-Identifier: GPL-2.0
/*
 * Multiboot 1 kernels, loaded the way QEMU's -kernel loads them: the header
 * within the first 8K; with flag 16 the load addresses of the header, else
 * the ELF segments; entered in 32-bit protected mode with EAX the magic and
 * EBX the information structure (memory sizes, memory map, command line).
 */
#include <stdio.h>
#include <string.h>

#include <linux/elf.h>

#include "vmctl.h"

#define MB_HEADER_MAGIC		0x1badb002
#define MB_BOOT_MAGIC		0x2badb002
#define MB_SEARCH		8192

/* header flags */
#define MB_PAGE_ALIGN		BIT(0)
#define MB_MEMORY_INFO		BIT(1)
#define MB_VIDEO_MODE		BIT(2)
#define MB_AOUT_KLUDGE		BIT(16)
#define MB_KNOWN_FLAGS		(MB_PAGE_ALIGN | MB_MEMORY_INFO | \
				 MB_VIDEO_MODE | MB_AOUT_KLUDGE)

/* information flags */
#define MBI_MEMORY		BIT(0)
#define MBI_CMDLINE		BIT(2)
#define MBI_MMAP		BIT(6)
#define MBI_LOADER_NAME		BIT(9)

/* the memory map types */
#define MB_MEM_AVAILABLE	1
#define MB_MEM_RESERVED		2

struct mb_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;
	uint32_t header_addr;	/* the rest only with MB_AOUT_KLUDGE */
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
};

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;	/* KiB from 0 */
	uint32_t mem_upper;	/* KiB from 1M */
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
	uint32_t size;		/* of the rest of the entry */
	uint32_t addr_lo, addr_hi;
	uint32_t len_lo, len_hi;
	uint32_t type;
};

/* Where the information structure and what it points to go. */
#define MB_INFO_ADDR		BOOT_INFO
#define MB_MMAP_ADDR		(BOOT_INFO + 0x100)
#define MB_NAME_ADDR		(BOOT_INFO + 0x1f0)
#define MB_CMDLINE_ADDR		(BOOT_INFO + 0x200)
#define MB_CMDLINE_MAX		(BOOT_INFO_END - MB_CMDLINE_ADDR)

/**
 * multiboot_find() - look for a Multiboot 1 header
 * @img: the image
 *
 * Return: the header's offset in the image, or -1 if there is none.
 */
int multiboot_find(const struct image *img)
{
	struct mb_header h;
	size_t off;

	for (off = 0; off + 12 <= img->size && off < MB_SEARCH; off += 4) {
		memcpy(&h, img->data + off, 12);
		if (h.magic == MB_HEADER_MAGIC &&
		    h.magic + h.flags + h.checksum == 0)
			return off;
	}
	return -1;
}

/* The a.out kludge: the file from header_addr on, at load_addr. */
static int load_kludge(struct image *img, const struct mb_header *h,
		       size_t header)
{
	uint64_t start, len, end;

	if (header + sizeof(*h) > img->size || h->load_addr > h->header_addr ||
	    h->header_addr - h->load_addr > header)
		goto bad;
	start = header - (h->header_addr - h->load_addr);
	len = img->size - start;
	if (h->load_end_addr) {
		if (h->load_end_addr < h->load_addr ||
		    h->load_end_addr - h->load_addr > len)
			goto bad;
		len = h->load_end_addr - h->load_addr;
	}
	end = h->bss_end_addr ? h->bss_end_addr : h->load_addr + len;
	if (end < h->load_addr + len ||
	    !image_fits(img, h->load_addr, end - h->load_addr))
		goto bad;
	memcpy(img->mem + h->load_addr, img->data + start, len);
	memset(img->mem + h->load_addr + len, 0, end - h->load_addr - len);
	return 0;
bad:
	fprintf(stderr,
		"vmctl: %s: bad image: Multiboot load addresses outside the file or guest memory\n",
		img->path);
	return -1;
}

/* The information structure, its memory map and command line. */
static void write_info(const struct run_options *o, struct image *img)
{
	struct mb_mmap_entry map[] = {
		{ 20, 0, 0, 0x9fc00, 0, MB_MEM_AVAILABLE },
		{ 20, 0x9fc00, 0, 0x400, 0, MB_MEM_RESERVED },
		{ 20, 0xf0000, 0, 0x10000, 0, MB_MEM_RESERVED },
		{ 20, 0x100000, 0, img->mem_size - 0x100000, 0,
		  MB_MEM_AVAILABLE },
	};
	struct mb_info info = {
		.flags = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME,
		.mem_lower = 0x9fc00 >> 10,
		.mem_upper = (img->mem_size - 0x100000) >> 10,
		.cmdline = MB_CMDLINE_ADDR,
		.mmap_length = sizeof(map),
		.mmap_addr = MB_MMAP_ADDR,
		.boot_loader_name = MB_NAME_ADDR,
	};
	char *cmdline = (char *)img->mem + MB_CMDLINE_ADDR;

	memcpy(img->mem + MB_INFO_ADDR, &info, sizeof(info));
	memcpy(img->mem + MB_MMAP_ADDR, map, sizeof(map));
	memcpy(img->mem + MB_NAME_ADDR, "vmctl", sizeof("vmctl"));
	/* as QEMU does: the kernel's file name, then --append */
	snprintf(cmdline, MB_CMDLINE_MAX, "%s%s%s", o->image,
		 o->append ? " " : "", o->append ? o->append : "");
}

/**
 * load_multiboot() - load a Multiboot 1 kernel and its information
 * @o: the options (image path, --append)
 * @img: the image and guest memory (at least 2M)
 * @b: filled in: 32-bit protected mode, EAX and EBX as Multiboot says
 * @header: offset of the header, from multiboot_find()
 *
 * Return: 0, or -1 after printing why the kernel cannot be loaded.
 */
int load_multiboot(const struct run_options *o, struct image *img,
		   struct boot *b, int header)
{
	struct mb_header h = { 0 };

	memcpy(&h, img->data + header,
	       img->size - header < sizeof(h) ? img->size - header : sizeof(h));
	if (h.flags & 0xffff & ~MB_KNOWN_FLAGS) {
		fprintf(stderr,
			"vmctl: %s: bad image: Multiboot flags %#x ask for what vmctl does not offer\n",
			img->path, h.flags);
		return -1;
	}
	if (img->mem_size < 0x200000) {
		fprintf(stderr, "vmctl: a Multiboot kernel needs --mem 2M or more\n");
		return -1;
	}
	if (o->append && strlen(o->image) + strlen(o->append) + 2 >
	    MB_CMDLINE_MAX) {
		fprintf(stderr, "vmctl: --append: longer than %d bytes\n",
			MB_CMDLINE_MAX - 2);
		return -1;
	}
	if (h.flags & MB_AOUT_KLUDGE) {
		if (load_kludge(img, &h, header))
			return -1;
		b->entry = h.entry_addr;
	} else if (!is_elf(img)) {
		fprintf(stderr,
			"vmctl: %s: bad image: a Multiboot kernel that is neither ELF nor has load addresses\n",
			img->path);
		return -1;
	} else if (load_elf(img, ELFCLASS32, &b->entry)) {
		return -1;
	}
	write_info(o, img);
	b->mode = BOOT_PROTECTED;
	b->rax = MB_BOOT_MAGIC;
	b->rbx = MB_INFO_ADDR;
	b->rsp = 0;
	b->format = "multiboot";
	return 0;
}
