// SPDX-License-Identifier: GPL-2.0
/*
 * The guest library: guest-side ucall and exception entry, host-side VM,
 * page tables and vCPUs.  See guest.h.
 */
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest.h"

#define PAGE_MASK	(~(MV_PAGE_SIZE - 1))
#define HUGE_SIZE	(2ULL << 20)
#define PTE_ADDR	0x000ffffffffff000ULL
#define STACK_SIZE	(64ULL << 10)
#define DF_STACK_SIZE	(16ULL << 10)
/* the 64-bit TSS's IST 2 (IST 1 is left to the tests, e.g. for #DB) */
#define TSS_IST2	0x2c
#define DF_IST		2

/* ------------------------------------------------------------ guest side */

/*
 * Handlers the test installed with mv_vm_set_handler(), by vector.  Only
 * the guest's copy is used; the host writes it before vCPUs run.
 */
mv_ex_handler_t mv_guest_handlers[256];

void mv_ucall(__u64 cmd, const char *file, const char *expr, int line,
	      __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	struct mv_ucall uc;

	uc.cmd = cmd;
	uc.file = file;
	uc.expr = expr;
	uc.line = line;
	uc.args[0] = a0;
	uc.args[1] = a1;
	uc.args[2] = a2;
	uc.args[3] = a3;
	/* images and stacks live below 4 GiB: 32 bits of address suffice */
	asm volatile("outl %0, %1"
		     : : "a"((__u32)(uintptr_t)&uc), "Nd"(MV_UCALL_PORT)
		     : "memory");
}

void mv_guest_assert_fail(const char *file, const char *expr, int line,
			  __u64 a, __u64 b)
{
	for (;;)
		mv_ucall(UCALL_ASSERT, file, expr, line, a, b, 0, 0);
}

/* Where a guest function that returns goes: the host sees UCALL_DONE. */
void mv_guest_returned(void);
void mv_guest_returned(void)
{
	for (;;)
		mv_ucall(UCALL_DONE, __FILE__, NULL, __LINE__, 0, 0, 0, 0);
}

/* Called by the entry stubs below with the interrupted registers. */
void mv_guest_exception(struct mv_ex_regs *regs);
void mv_guest_exception(struct mv_ex_regs *regs)
{
	mv_ex_handler_t fn = mv_guest_handlers[regs->vector & 0xff];

	if (fn) {
		fn(regs);
		return;
	}
	for (;;)
		mv_ucall(UCALL_UNHANDLED, __FILE__, NULL, __LINE__,
			 regs->vector, regs->error_code, regs->rip,
			 read_cr2());
}

/*
 * mv_guest_entry: where a vCPU starts, with the guest function in RAX and
 * its arguments in RDI and RSI: a clean x87/SSE state, then the call.
 *
 * mv_guest_vectors: 256 stubs 16 bytes apart.  Each pushes a zero where
 * the CPU pushes no error code, then its vector, and joins the common
 * path, which saves the GPRs (as struct mv_ex_regs) and the x87/SSE state
 * around the C handler: compiled code may use XMM registers anywhere.
 * On entry the CPU aligned RSP to 16 and pushed 5 words; 2 + 15 more words
 * keep it aligned for the call.
 */
asm(".pushsection .text\n"
	".globl mv_guest_entry\n"
	"mv_guest_entry:\n"
	"	fninit\n"
	"	ldmxcsr mv_mxcsr_reset(%rip)\n"
	"	call *%rax\n"
	"	call mv_guest_returned\n"
	"	ud2\n"
	"mv_mxcsr_reset: .long 0x1f80\n"
	"	.balign 16\n"
	".globl mv_guest_vectors\n"
	"mv_guest_vectors:\n"
	"	vec = 0\n"
	"	.rept 256\n"
	"	.balign 16\n"
	"	.if (vec - 8) * (vec - 17) * (vec - 21) * (vec - 29) * (vec - 30)\n"
	"	.if vec < 10 || vec > 14\n"
	"	pushq $0\n"
	"	.endif\n"
	"	.endif\n"
	"	pushq $vec\n"
	"	jmp mv_guest_vector_common\n"
	"	vec = vec + 1\n"
	"	.endr\n"
	"mv_guest_vector_common:\n"
	"	push %r15; push %r14; push %r13; push %r12\n"
	"	push %r11; push %r10; push %r9; push %r8\n"
	"	push %rbp; push %rdi; push %rsi; push %rdx\n"
	"	push %rcx; push %rbx; push %rax\n"
	"	mov %rsp, %rdi\n"
	"	sub $512, %rsp\n"
	"	fxsave64 (%rsp)\n"
	"	cld\n"
	"	call mv_guest_exception\n"
	"	fxrstor64 (%rsp)\n"
	"	add $512, %rsp\n"
	"	pop %rax; pop %rbx; pop %rcx; pop %rdx\n"
	"	pop %rsi; pop %rdi; pop %rbp; pop %r8\n"
	"	pop %r9; pop %r10; pop %r11; pop %r12\n"
	"	pop %r13; pop %r14; pop %r15\n"
	"	add $16, %rsp\n"
	"	iretq\n"
	".popsection\n");

/* ------------------------------------------------------------- host side */

void *mv_gpa2hva(struct mv_vm *vm, __u64 gpa)
{
	return gpa < vm->size ? vm->mem + gpa : NULL;
}

/**
 * mv_vm_alloc() - guest memory for the test or the library
 * @vm: the VM
 * @size: bytes, rounded up to pages
 *
 * Zeroed pages of slot 0, mapped 1:1.  Not thread safe: call it while
 * the VM is being set up.  Returns the guest-physical (= virtual) address,
 * or 0 when slot 0 is full.
 */
__u64 mv_vm_alloc(struct mv_vm *vm, __u64 size)
{
	__u64 gpa = vm->next;

	size = (size + MV_PAGE_SIZE - 1) & PAGE_MASK;
	if (size > vm->size - gpa)
		return 0;
	vm->next += size;
	memset(vm->mem + gpa, 0, size);
	return gpa;
}

/* The entry of level @level (4: PML4 ... 1: PT) for @va, made if @make. */
static __u64 *pte_at(struct mv_vm *vm, __u64 va, int level, bool make)
{
	__u64 table = vm->pml4, *e;

	for (int l = 4; ; l--) {
		e = (__u64 *)mv_gpa2hva(vm, table) + ((va >> (3 + 9 * l)) & 511);
		if (l == level)
			return e;
		if (!(*e & PTE_P)) {
			if (!make)
				return NULL;
			table = mv_vm_alloc(vm, MV_PAGE_SIZE);
			if (!table)
				return NULL;
			*e = table | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = *e & PTE_ADDR;
	}
}

/**
 * mv_vm_map() - map guest-virtual @va to guest-physical @gpa
 * @vm: the VM
 * @va: page-aligned guest-virtual address
 * @gpa: page-aligned guest-physical address (need not be in a slot)
 * @size: bytes; 2 MiB pages where alignment allows, 4 KiB otherwise
 * @flags: PTE bits besides the address (PTE_P is implied; PTE_W, PTE_NX)
 *
 * Returns 0 or -ENOMEM, -EEXIST if a huge page is in the way.
 */
int mv_vm_map(struct mv_vm *vm, __u64 va, __u64 gpa, __u64 size,
	      __u64 flags)
{
	while (size) {
		bool huge = !(va & (HUGE_SIZE - 1)) &&
			    !(gpa & (HUGE_SIZE - 1)) && size >= HUGE_SIZE;
		__u64 step = huge ? HUGE_SIZE : MV_PAGE_SIZE;
		__u64 *e = pte_at(vm, va, huge ? 2 : 1, true);

		if (!e)
			return vm->next >= vm->size ? -ENOMEM : -EEXIST;
		*e = gpa | flags | PTE_P | (huge ? PTE_PS : 0);
		va += step;
		gpa += step;
		size -= step;
	}
	return 0;
}

/* The leaf entry mapping @va (PT or PD level), or NULL. */
__u64 *mv_vm_pte(struct mv_vm *vm, __u64 va)
{
	__u64 *pde = pte_at(vm, va, 2, false);

	if (!pde || !(*pde & PTE_P))
		return NULL;
	if (*pde & PTE_PS)
		return pde;
	return pte_at(vm, va, 1, false);
}

/* A walk of the guest's tables as they are now, from vm->pml4. */
__u64 mv_gva2gpa(struct mv_vm *vm, __u64 gva)
{
	__u64 table = vm->pml4, *e;

	for (int l = 4; l >= 1; l--) {
		e = mv_gpa2hva(vm, table);
		if (!e)
			return -1ULL;
		e += (gva >> (3 + 9 * l)) & 511;
		if (!(*e & PTE_P))
			return -1ULL;
		if (l == 1 || (l <= 3 && (*e & PTE_PS))) {
			__u64 mask = (1ULL << (3 + 9 * l)) - 1;

			return ((*e & PTE_ADDR) & ~mask) | (gva & mask);
		}
		table = *e & PTE_ADDR;
	}
	return -1ULL;
}

void *mv_gva2hva(struct mv_vm *vm, __u64 gva)
{
	return mv_gpa2hva(vm, mv_gva2gpa(vm, gva));
}

/* Installs @fn for exceptions of @vector in the guest's handler table. */
void mv_vm_set_handler(struct mv_vm *vm, int vector, mv_ex_handler_t fn)
{
	mv_ex_handler_t *t = mv_gva2hva(vm, (uintptr_t)mv_guest_handlers);

	t[vector] = fn;
}

/* Another slot: @size bytes of host memory @hva at @gpa. */
int mv_vm_add_slot(struct mv_vm *vm, int slot, __u64 gpa, __u64 size,
		   void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

static __u64 gdt_entry(__u32 base, __u32 limit, __u16 flags)
{
	return (limit & 0xffff) | (__u64)(base & 0xffffff) << 16 |
	       (__u64)flags << 40 | (__u64)(limit >> 16 & 0xf) << 48 |
	       (__u64)(base >> 24) << 56;
}

/*
 * GDT, TSS and IDT: one page each, in slot 0; and a stack of its own for
 * #DF, whose frame mv_exit_str() reports.
 */
static int build_tables(struct mv_vm *vm)
{
	__u64 *gdt, *idt, stubs = MV_ASM_ADDR(mv_guest_vectors);

	vm->gdt = mv_vm_alloc(vm, MV_PAGE_SIZE);
	vm->tss = mv_vm_alloc(vm, MV_PAGE_SIZE);
	vm->idt = mv_vm_alloc(vm, MV_PAGE_SIZE);
	vm->df_stack = mv_vm_alloc(vm, DF_STACK_SIZE);
	if (!vm->df_stack)
		return -ENOMEM;
	vm->df_stack += DF_STACK_SIZE;
	memcpy((__u8 *)mv_gpa2hva(vm, vm->tss) + TSS_IST2, &vm->df_stack, 8);
	gdt = mv_gpa2hva(vm, vm->gdt);
	/* flags: type, S, DPL, P in bits 0-7; AVL, L, D/B, G in bits 12-15 */
	gdt[MV_SEL_CODE64 / 8] = gdt_entry(0, 0xfffff, 0xa09b);
	gdt[MV_SEL_DATA / 8] = gdt_entry(0, 0xfffff, 0xc093);
	gdt[MV_SEL_TSS / 8] = gdt_entry(vm->tss, 0x67, 0x008b);
	gdt[MV_SEL_TSS / 8 + 1] = vm->tss >> 32;
	gdt[MV_SEL_CODE32 / 8] = gdt_entry(0, 0xfffff, 0xc09b);

	/* 64-bit interrupt gates, present, DPL 0, to the stubs */
	idt = mv_gpa2hva(vm, vm->idt);
	for (int v = 0; v < 256; v++) {
		__u64 fn = stubs + 16 * v;

		idt[2 * v] = (fn & 0xffff) | MV_SEL_CODE64 << 16 |
			     0x8eULL << 40 | (fn >> 16 & 0xffff) << 48;
		idt[2 * v + 1] = fn >> 32;
	}
	idt[2 * 8] |= (__u64)DF_IST << 32;
	return 0;
}

/* Copies each loaded segment of the program as it is now to @data's VM. */
static int copy_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	struct mv_vm *vm = data;

	if (info->dlpi_addr)	/* not the (static, not PIE) executable */
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const __typeof__(*info->dlpi_phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr + ph->p_memsz > vm->size)
			return -E2BIG;
		memcpy(vm->mem + ph->p_vaddr, (void *)ph->p_vaddr, ph->p_memsz);
		if (ph->p_vaddr + ph->p_memsz > vm->next)
			vm->next = ph->p_vaddr + ph->p_memsz;
	}
	return 1;
}

/**
 * mv_vm_create() - a VM holding the test's image, ready for vCPUs
 * @mem_size: bytes of slot 0 (guest-physical 0 up); must hold the image
 *	and what mv_vm_alloc() hands out
 *
 * Returns the VM, or NULL with errno set (EOPNOTSUPP and ENOENT come from
 * the device: no vCPUs on this host, no device).
 */
struct mv_vm *mv_vm_create(__u64 mem_size)
{
	struct mv_vm *vm = calloc(1, sizeof(*vm));
	int r = -ENOMEM;

	if (!vm)
		return NULL;
	vm->dev = -1;
	vm->fd = -1;
	mem_size = (mem_size + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	vm->dev = mv_open_dev();
	if (vm->dev < 0)
		goto fail_errno;
	vm->fd = ioctl(vm->dev, KVM_CREATE_VM, 0);
	if (vm->fd < 0 || mv_vm_choose_mmu(vm->fd))
		goto fail_errno;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		goto fail_errno;
	}
	vm->size = mem_size;
	r = mv_vm_add_slot(vm, 0, 0, mem_size, vm->mem);
	if (r)
		goto fail;

	/* the image as it is now, at its own addresses */
	r = dl_iterate_phdr(copy_segment, vm);
	if (r <= 0) {
		r = r ? r : -ENOEXEC;
		goto fail;
	}
	vm->next = (vm->next + MV_PAGE_SIZE - 1) & PAGE_MASK;
	r = -ENOMEM;
	vm->pml4 = mv_vm_alloc(vm, MV_PAGE_SIZE);
	if (!vm->pml4 || mv_vm_map(vm, 0, 0, mem_size, PTE_W))
		goto fail;
	r = build_tables(vm);
	if (r)
		goto fail;
	return vm;

fail_errno:
	r = -errno;
fail:
	mv_vm_free(vm);
	errno = -r;
	return NULL;
}

void mv_vm_free(struct mv_vm *vm)
{
	if (!vm)
		return;
	for (unsigned int i = 0; i < 8; i++) {
		struct mv_vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		munmap(v->run, v->run_size);
		close(v->fd);
		free(v);
	}
	if (vm->mem)
		munmap(vm->mem, vm->size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->dev >= 0)
		close(vm->dev);
	free(vm);
}

static struct kvm_segment flat_seg(__u16 sel, __u8 type, bool code64)
{
	return (struct kvm_segment) {
		.limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = code64, .db = !code64, .g = 1,
	};
}

/* The host's CPUID as the guest's: KVM wants CPUID.80000001:EDX.LM. */
static int set_cpuid(struct mv_vcpu *vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	int r = 0;

	if (!c)
		return -ENOMEM;
	c->nent = 256;
	if (ioctl(vcpu->vm->dev, KVM_GET_SUPPORTED_CPUID, c) ||
	    ioctl(vcpu->fd, KVM_SET_CPUID2, c))
		r = -errno;
	free(c);
	return r;
}

/* 64-bit mode, paging on our tables, SSE usable, the GDT/IDT/TSS above. */
static int set_long_mode(struct mv_vcpu *vcpu)
{
	struct mv_vm *vm = vcpu->vm;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s))
		return -errno;
	s.cs = flat_seg(MV_SEL_CODE64, 0xb, true);
	s.ds = flat_seg(MV_SEL_DATA, 0x3, false);
	s.es = s.ds;
	s.ss = s.ds;
	s.fs = s.ds;
	s.gs = s.ds;
	s.tr = (struct kvm_segment) {
		.base = vm->tss, .limit = 0x67, .selector = MV_SEL_TSS,
		.type = 0xb, .present = 1,
	};
	s.gdt.base = vm->gdt;
	s.gdt.limit = 0x2f;
	s.idt.base = vm->idt;
	s.idt.limit = 0xfff;
	s.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		X86_CR0_WP | X86_CR0_PG;
	s.cr3 = vm->pml4;
	s.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s.efer = EFER_LME | EFER_LMA;
	return ioctl(vcpu->fd, KVM_SET_SREGS, &s) ? -errno : 0;
}

/**
 * mv_vcpu_add() - vCPU @id of @vm, about to call guest_code(arg0, arg1)
 * @vm: the VM
 * @id: the vCPU id
 * @guest_code: a function of the test, run in 64-bit mode at CPL 0 on a
 *	64 KiB stack of its own; its return is UCALL_DONE
 * @arg0: its first argument
 * @arg1: its second argument
 *
 * Returns the vCPU, or NULL with errno set (EOPNOTSUPP: this hypervisor
 * runs no vCPUs here).
 */
struct mv_vcpu *mv_vcpu_add(struct mv_vm *vm, int id, void *guest_code,
			    __u64 arg0, __u64 arg1)
{
	struct mv_vcpu *vcpu;
	unsigned int i;
	int r;

	for (i = 0; i < 8 && vm->vcpus[i]; i++)
		;
	if (i == 8) {
		errno = ENOSPC;
		return NULL;
	}
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		free(vcpu);
		return NULL;
	}
	vm->vcpus[i] = vcpu;
	vcpu->run_size = ioctl(vm->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return NULL;
	}
	vcpu->stack = mv_vm_alloc(vm, STACK_SIZE);
	if (!vcpu->stack) {
		errno = ENOMEM;
		return NULL;
	}
	vcpu->stack += STACK_SIZE;
	r = set_cpuid(vcpu);
	if (!r)
		r = set_long_mode(vcpu);
	if (r) {
		errno = -r;
		return NULL;
	}
	r = mv_vcpu_start(vcpu, guest_code, arg0, arg1);
	if (r) {
		errno = -r;
		return NULL;
	}
	return vcpu;
}

/**
 * mv_vcpu_start() - (re)start @vcpu at guest_code(arg0, arg1)
 * @vcpu: the vCPU, in the mode mv_vcpu_add() set or one like it
 * @guest_code: a function of the test
 * @arg0: its first argument
 * @arg1: its second argument
 *
 * Only the general registers change: the stack is reset, RFLAGS.IF is
 * set, control registers and segments stay.  Returns 0 or -errno.
 */
int mv_vcpu_start(struct mv_vcpu *vcpu, void *guest_code, __u64 arg0,
		  __u64 arg1)
{
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = MV_ASM_ADDR(mv_guest_entry);
	regs.rax = (uintptr_t)guest_code;
	regs.rdi = arg0;
	regs.rsi = arg1;
	regs.rsp = vcpu->stack;
	/*
	 * Interrupts on: nothing is injected without an irqchip, and an
	 * emulated CPU (QEMU's TCG, Bochs) may stop taking the host's own
	 * interrupts, the kick of a signal among them, from a guest that
	 * loops with them off.
	 */
	regs.rflags = 0x202;
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) ? -errno : 0;
}

/* KVM_RUN; returns 0 or -errno. */
int mv_vcpu_run(struct mv_vcpu *vcpu)
{
	return ioctl(vcpu->fd, KVM_RUN, 0) ? -errno : 0;
}

/* Copies @len bytes between the host and guest-virtual @gva, page-wise. */
static int copy_gva(struct mv_vm *vm, __u64 gva, void *buf, size_t len,
		    bool to_guest)
{
	while (len) {
		size_t n = MV_PAGE_SIZE - (gva & ~PAGE_MASK);
		__u8 *p = mv_gva2hva(vm, gva);

		if (!p)
			return -EFAULT;
		n = n < len ? n : len;
		if (to_guest)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		gva += n;
		buf = (__u8 *)buf + n;
		len -= n;
	}
	return 0;
}

static __u64 ucall_gva(struct mv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	__u32 gva;

	if (run->exit_reason != KVM_EXIT_IO || run->io.port != MV_UCALL_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1)
		return 0;
	memcpy(&gva, (__u8 *)run + run->io.data_offset, 4);
	return gva;
}

/**
 * mv_get_ucall() - the ucall of @vcpu's last exit, if it was one
 * @vcpu: the vCPU
 * @uc: receives the ucall (may be NULL); zeroed if there was none
 *
 * Returns its command, or UCALL_NONE when the exit was something else
 * (the test looks at vcpu->run) or the struct was not readable.
 */
__u64 mv_get_ucall(struct mv_vcpu *vcpu, struct mv_ucall *uc)
{
	__u64 gva = ucall_gva(vcpu);
	struct mv_ucall tmp;

	if (!uc)
		uc = &tmp;
	memset(uc, 0, sizeof(*uc));
	if (!gva || copy_gva(vcpu->vm, gva, uc, sizeof(*uc), false))
		return UCALL_NONE;
	return uc->cmd;
}

/* Writes @uc back over the guest's struct of the current ucall. */
int mv_put_ucall(struct mv_vcpu *vcpu, const struct mv_ucall *uc)
{
	__u64 gva = ucall_gva(vcpu);

	if (!gva)
		return -EINVAL;
	return copy_gva(vcpu->vm, gva, (void *)uc, sizeof(*uc), true);
}

/* KVM_RUN, then mv_get_ucall(); a failed KVM_RUN is UCALL_NONE. */
__u64 mv_vcpu_run_ucall(struct mv_vcpu *vcpu, struct mv_ucall *uc)
{
	int r = mv_vcpu_run(vcpu);

	if (r) {
		memset(uc, 0, sizeof(*uc));
		return UCALL_NONE;
	}
	return mv_get_ucall(vcpu, uc);
}

static const char *const ucall_names[] = {
	"no ucall", "sync", "assert", "done", "unhandled exception",
};

/**
 * mv_exit_str() - what @vcpu's last exit was, for a failure message
 * @vcpu: the vCPU
 * @uc: the ucall mv_get_ucall() gave for it
 * @buf: where to write
 * @len: its size
 *
 * Returns @buf.
 */
const char *mv_exit_str(struct mv_vcpu *vcpu, const struct mv_ucall *uc,
			char *buf, size_t len)
{
	struct kvm_run *run = vcpu->run;
	__u64 *f;
	int n;

	switch (uc->cmd) {
	case UCALL_NONE:
		if (run->exit_reason == KVM_EXIT_IO)
			snprintf(buf, len, "exit io port %#x size %u count %u dir %u",
				 run->io.port, run->io.size, run->io.count,
				 run->io.direction);
		else if (run->exit_reason == KVM_EXIT_MMIO)
			snprintf(buf, len, "exit mmio %#llx len %u write %u",
				 (unsigned long long)run->mmio.phys_addr,
				 run->mmio.len, run->mmio.is_write);
		else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
			snprintf(buf, len, "exit internal error %u ndata %u data %#llx %#llx %#llx",
				 run->internal.suberror, run->internal.ndata,
				 (unsigned long long)run->internal.data[0],
				 (unsigned long long)run->internal.data[1],
				 (unsigned long long)run->internal.data[2]);
		else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
			snprintf(buf, len, "exit fail entry reason %#llx cpu %u",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
				 run->fail_entry.cpu);
		else
			snprintf(buf, len, "exit reason %u", run->exit_reason);
		break;
	case UCALL_ASSERT:
		snprintf(buf, len, "%s:%llu: guest assertion '%s' failed: %#llx vs %#llx",
			 uc->file, (unsigned long long)uc->line, uc->expr,
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1]);
		break;
	case UCALL_UNHANDLED:
		n = snprintf(buf, len, "guest exception %llu error %#llx at rip %#llx cr2 %#llx",
			     (unsigned long long)uc->args[0],
			     (unsigned long long)uc->args[1],
			     (unsigned long long)uc->args[2],
			     (unsigned long long)uc->args[3]);
		/* #DF: its frame on its own stack says where the CPU was */
		f = mv_gpa2hva(vcpu->vm, vcpu->vm->df_stack - 6 * 8);
		if (uc->args[0] == 8 && f && n > 0 && (size_t)n < len)
			snprintf(buf + n, len - n,
				 " (double fault: rip %#llx cs %#llx rflags %#llx rsp %#llx ss %#llx)",
				 (unsigned long long)f[1], (unsigned long long)f[2],
				 (unsigned long long)f[3], (unsigned long long)f[4],
				 (unsigned long long)f[5]);
		break;
	default:
		snprintf(buf, len, "ucall %s (%s:%llu) args %#llx %#llx",
			 uc->cmd < 5 ? ucall_names[uc->cmd] : "?", uc->file,
			 (unsigned long long)uc->line,
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1]);
	}
	return buf;
}
