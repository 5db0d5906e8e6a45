// SPDX-License-Identifier: GPL-2.0
/*
 * ELF images: the PT_LOAD segments at their physical addresses.  A 64-bit
 * ELF is a guest of its own; a 32-bit one only as a Multiboot kernel.
 */
#include <stdio.h>
#include <string.h>

#include <linux/elf.h>

#include "vmctl.h"

/**
 * is_elf() - whether an image starts with the ELF magic
 * @img: the image
 *
 * Return: true for an ELF file of any class.
 */
bool is_elf(const struct image *img)
{
	return img->size >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG);
}

static int reject(const struct image *img, const char *why)
{
	fprintf(stderr, "vmctl: %s: bad image: %s\n", img->path, why);
	return -1;
}

/* One segment: checked against the file and guest memory, then copied. */
static int load_segment(struct image *img, uint64_t offset, uint64_t filesz,
			uint64_t paddr, uint64_t memsz)
{
	if (filesz > memsz || offset > img->size || filesz > img->size - offset)
		return reject(img, "an ELF segment lies outside the file");
	if (!image_fits(img, paddr, memsz)) {
		fprintf(stderr,
			"vmctl: %s: bad image: segment at %#llx (%#llx bytes) is not in guest memory above %#x\n",
			img->path, (unsigned long long)paddr,
			(unsigned long long)memsz, BOOT_INFO_END);
		return -1;
	}
	memcpy(img->mem + paddr, img->data + offset, filesz);
	memset(img->mem + paddr + filesz, 0, memsz - filesz);
	return 0;
}

static int load_elf32(struct image *img, uint64_t *entry)
{
	const struct elf32_hdr *eh = (const struct elf32_hdr *)img->data;
	struct elf32_phdr ph;
	unsigned int i;

	if (img->size < sizeof(*eh) || eh->e_phentsize != sizeof(ph) ||
	    eh->e_phoff > img->size ||
	    (uint64_t)eh->e_phnum * sizeof(ph) > img->size - eh->e_phoff)
		return reject(img, "truncated ELF headers");
	if (eh->e_machine != EM_386)
		return reject(img, "a 32-bit ELF that is not for i386");
	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, img->data + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD &&
		    load_segment(img, ph.p_offset, ph.p_filesz, ph.p_paddr,
				 ph.p_memsz))
			return -1;
	}
	*entry = eh->e_entry;
	return 0;
}

static int load_elf64(struct image *img, uint64_t *entry)
{
	const struct elf64_hdr *eh = (const struct elf64_hdr *)img->data;
	unsigned int i, loaded = 0;
	struct elf64_phdr ph;

	if (img->size < sizeof(*eh) || eh->e_phentsize != sizeof(ph) ||
	    eh->e_phoff > img->size ||
	    (uint64_t)eh->e_phnum * sizeof(ph) > img->size - eh->e_phoff)
		return reject(img, "truncated ELF headers");
	if (eh->e_machine != EM_X86_64)
		return reject(img, "a 64-bit ELF that is not for x86-64");
	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, img->data + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (load_segment(img, ph.p_offset, ph.p_filesz, ph.p_paddr,
				 ph.p_memsz))
			return -1;
		loaded++;
	}
	if (!loaded)
		return reject(img, "an ELF without loadable segments");
	*entry = eh->e_entry;
	return 0;
}

/**
 * load_elf() - load the PT_LOAD segments of an ELF image
 * @img: the image and guest memory
 * @class: ELFCLASS32 or ELFCLASS64, the class the caller can run
 * @entry: filled in with the entry point
 *
 * Return: 0, or -1 after printing why the image is bad.
 */
int load_elf(struct image *img, int class, uint64_t *entry)
{
	if (img->size < EI_NIDENT || img->data[EI_DATA] != ELFDATA2LSB)
		return reject(img, "not a little-endian ELF");
	if (img->data[EI_CLASS] != class)
		return reject(img, class == ELFCLASS64 ?
			   "not a 64-bit ELF (a 32-bit kernel needs a Multiboot header)" :
			   "not a 32-bit ELF");
	if (class == ELFCLASS32)
		return load_elf32(img, entry);
	return load_elf64(img, entry);
}
