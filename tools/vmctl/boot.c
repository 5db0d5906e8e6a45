// SPDX-License-Identifier: GPL-2.0
/*
 * The CPU state a loaded image starts in: real mode, 32-bit flat protected
 * mode (Multiboot), or 64-bit mode on identity page tables vmctl builds.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "vmctl.h"

#define CR0_PE		BIT_ULL(0)
#define CR0_ET		BIT_ULL(4)
#define CR0_PG		BIT_ULL(31)
#define CR4_PAE		BIT_ULL(5)
#define EFER_LME	BIT_ULL(8)
#define EFER_LMA	BIT_ULL(10)

#define PTE_P		BIT_ULL(0)
#define PTE_W		BIT_ULL(1)
#define PTE_PS		BIT_ULL(7)

/* The GDT at BOOT_GDT: null, 64-bit code, 32-bit code, data. */
#define SEL_CODE64	0x08
#define SEL_CODE32	0x10
#define SEL_DATA	0x18

static const uint64_t gdt[] = {
	0,
	0x00af9b000000ffffull,	/* code, L = 1, accessed */
	0x00cf9b000000ffffull,	/* code, D = 1, 4G, accessed */
	0x00cf93000000ffffull,	/* data, B = 1, 4G, accessed */
};

/* A flat segment as the GDT entry at @sel describes it. */
static void flat_segment(struct kvm_segment *s, uint16_t sel, bool code,
			 bool l)
{
	*s = (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = code ? 0xb : 0x3, .present = 1, .s = 1, .g = 1,
		.db = !l, .l = l,
	};
}

/* Identity map of the low 4G in 2M pages. */
static void build_page_tables(unsigned char *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + BOOT_PML4);
	uint64_t *pdpt = (uint64_t *)(mem + BOOT_PDPT);
	uint64_t *pd = (uint64_t *)(mem + BOOT_PD);
	unsigned int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT | PTE_P | PTE_W;
	for (i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD + i * 4096ull) | PTE_P | PTE_W;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
}

static void protected_mode(struct kvm_sregs *s, bool l)
{
	flat_segment(&s->cs, l ? SEL_CODE64 : SEL_CODE32, true, l);
	flat_segment(&s->ds, SEL_DATA, false, false);
	s->es = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	s->ss = s->ds;
	s->gdt.base = BOOT_GDT;
	s->gdt.limit = sizeof(gdt) - 1;
	s->cr0 = CR0_PE | CR0_ET;
}

/**
 * boot_setup() - put the vCPU in the state the loaded image starts in
 * @vcpu: the vCPU fd
 * @img: guest memory, for the GDT and page tables
 * @b: what the loader asked for
 *
 * Return: 0, or -1 after printing which ioctl failed.
 */
int boot_setup(int vcpu, struct image *img, const struct boot *b)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(vcpu, KVM_GET_SREGS, &s)) {
		perror("vmctl: KVM_GET_SREGS");
		return -1;
	}
	switch (b->mode) {
	case BOOT_REAL:
		s.cs.selector = 0;
		s.cs.base = 0;
		break;
	case BOOT_PROTECTED:
		memcpy(img->mem + BOOT_GDT, gdt, sizeof(gdt));
		protected_mode(&s, false);
		break;
	case BOOT_LONG:
		memcpy(img->mem + BOOT_GDT, gdt, sizeof(gdt));
		build_page_tables(img->mem);
		protected_mode(&s, true);
		s.cr0 |= CR0_PG;
		s.cr3 = BOOT_PML4;
		s.cr4 = CR4_PAE;
		s.efer = EFER_LME | EFER_LMA;
		break;
	}
	memset(&r, 0, sizeof(r));
	r.rip = b->entry;
	r.rsp = b->rsp;
	r.rax = b->rax;
	r.rbx = b->rbx;
	r.rflags = 2;
	if (ioctl(vcpu, KVM_SET_SREGS, &s)) {
		perror("vmctl: KVM_SET_SREGS");
		return -1;
	}
	if (ioctl(vcpu, KVM_SET_REGS, &r)) {
		perror("vmctl: KVM_SET_REGS");
		return -1;
	}
	return 0;
}
