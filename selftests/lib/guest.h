/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guests written in C, in the manner of KVM's selftests.
 *
 * The test program is linked static and not position independent, so its
 * loaded image has one fixed address range.  mv_vm_create() copies that
 * image into guest memory at the same guest-physical addresses and builds
 * 4-level page tables mapping all of the VM's memory 1:1, so a guest
 * function of the test is called, in 64-bit mode, at the address the host
 * knows it by; its globals and string constants are where the host has
 * them too (a copy taken at mv_vm_create(): mv_sync_to_guest() and
 * mv_sync_from_guest() move a global later).
 *
 * The guest talks to the host through a "ucall": it writes the address of
 * a struct mv_ucall on its stack to port MV_UCALL_PORT; the host finds the
 * struct by walking the guest's page tables.  GUEST_SYNC() checkpoints,
 * GUEST_ASSERT*() failures with file, line and values, and the end of the
 * guest function (return, or GUEST_DONE()) travel this way, as do
 * exceptions no handler claimed.
 *
 * The host side needs only <linux/kvm.h> and the device node of
 * mv_util.h ($MV_DEV, by default /dev/minivisor), so every test built on
 * it runs unchanged on /dev/kvm.
 *
 * Threads: a struct mv_vm is set up (memory, mappings, vCPUs, handlers)
 * by one thread before any vCPU runs; after that each struct mv_vcpu
 * belongs to the one thread that runs it, and the VM's memory is shared
 * with the guest as the test arranges.
 */
#ifndef MV_SELFTEST_GUEST_H
#define MV_SELFTEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "mv_util.h"

#define MV_PAGE_SIZE		0x1000ULL
#define MV_UCALL_PORT		0xfff0

/* Control register, EFER and page table bits the tests use. */
#define X86_CR0_PE		(1ULL << 0)
#define X86_CR0_MP		(1ULL << 1)
#define X86_CR0_ET		(1ULL << 4)
#define X86_CR0_NE		(1ULL << 5)
#define X86_CR0_WP		(1ULL << 16)
#define X86_CR0_PG		(1ULL << 31)
#define X86_CR4_PSE		(1ULL << 4)
#define X86_CR4_PAE		(1ULL << 5)
#define X86_CR4_PGE		(1ULL << 7)
#define X86_CR4_OSFXSR		(1ULL << 9)
#define X86_CR4_OSXMMEXCPT	(1ULL << 10)
#define MSR_EFER		0xc0000080
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define EFER_NXE		(1ULL << 11)
#define PTE_P			(1ULL << 0)
#define PTE_W			(1ULL << 1)
#define PTE_A			(1ULL << 5)
#define PTE_D			(1ULL << 6)
#define PTE_PS			(1ULL << 7)
#define PTE_NX			(1ULL << 63)

/* The 64-bit GDT every VM gets. */
#define MV_SEL_CODE64		0x08
#define MV_SEL_DATA		0x10
#define MV_SEL_TSS		0x18
#define MV_SEL_CODE32		0x28

enum mv_ucall_cmd {
	UCALL_NONE,		/* the exit was no ucall */
	UCALL_SYNC,		/* GUEST_SYNC(): args[0] is the value */
	UCALL_ASSERT,		/* GUEST_ASSERT*() failed */
	UCALL_DONE,		/* the guest function returned */
	UCALL_UNHANDLED,	/* exception: vector, error code, rip, cr2 */
};

/* What a ucall carries; the host may write args[] back for the guest. */
struct mv_ucall {
	uint64_t cmd;
	const char *file;	/* string constants: same address in the host */
	const char *expr;
	uint64_t line;
	uint64_t args[4];
};

/* ------------------------------------------------------------ guest side */

void mv_ucall(uint64_t cmd, const char *file, const char *expr, int line,
	      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
void __attribute__((noreturn))
mv_guest_assert_fail(const char *file, const char *expr, int line,
		     uint64_t a, uint64_t b);

#define GUEST_SYNC(v)	mv_ucall(UCALL_SYNC, __FILE__, NULL, __LINE__, \
				 (v), 0, 0, 0)
#define GUEST_SYNC2(v, w) mv_ucall(UCALL_SYNC, __FILE__, NULL, __LINE__, \
				   (v), (w), 0, 0)
#define GUEST_DONE()	mv_ucall(UCALL_DONE, __FILE__, NULL, __LINE__, \
				 0, 0, 0, 0)

#define GUEST_ASSERT(c)							\
	do {								\
		if (!(c))						\
			mv_guest_assert_fail(__FILE__, #c, __LINE__, 0, 0); \
	} while (0)

/* a == b, compared as 64-bit numbers; both values reach the host. */
#define GUEST_ASSERT_EQ(a, b)						\
	do {								\
		uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);	\
		if (__a != __b)						\
			mv_guest_assert_fail(__FILE__, #a " == " #b,	\
					     __LINE__, __a, __b);	\
	} while (0)

/* The registers an exception handler sees and may change. */
struct mv_ex_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* the CPU's frame */
};

typedef void (*mv_ex_handler_t)(struct mv_ex_regs *regs);

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)) : "memory");
}

#define MV_CR_ACCESSORS(n)						\
static inline uint64_t read_cr##n(void)					\
{									\
	uint64_t v;							\
									\
	asm volatile("mov %%cr" #n ", %0" : "=r"(v));			\
	return v;							\
}									\
static inline void write_cr##n(uint64_t v)				\
{									\
	asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");		\
}
MV_CR_ACCESSORS(0)
MV_CR_ACCESSORS(2)
MV_CR_ACCESSORS(3)
MV_CR_ACCESSORS(4)

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

/* ------------------------------------------------------------- host side */

/**
 * struct mv_vm - a VM whose memory holds a copy of the test's image
 * @dev: the system fd (/dev/kvm or /dev/minivisor)
 * @fd: the VM fd
 * @mem: the host's view of slot 0, guest-physical 0 up
 * @size: bytes in slot 0
 * @next: the next free guest-physical page of mv_vm_alloc()
 * @pml4: guest-physical address of the top page table
 * @gdt, @idt, @tss: guest-physical (= virtual) addresses of the tables
 * @vcpus: the vCPUs mv_vcpu_add() made, for mv_vm_free()
 *
 * All fields are set by the thread that builds the VM, before vCPUs run.
 */
struct mv_vm {
	int dev, fd;
	uint8_t *mem;
	uint64_t size;
	uint64_t next;
	uint64_t pml4;
	uint64_t gdt, idt, tss;
	struct mv_vcpu *vcpus[8];
};

/**
 * struct mv_vcpu - a vCPU in 64-bit mode at a guest function
 * @vm: its VM
 * @id: the vCPU id
 * @fd: the vCPU fd
 * @run: the shared struct kvm_run
 * @run_size: the size of its mapping
 * @stack: guest address of the top of its stack
 *
 * Owned by the thread that runs it.
 */
struct mv_vcpu {
	struct mv_vm *vm;
	int id, fd;
	struct kvm_run *run;
	size_t run_size;
	uint64_t stack;
};

struct mv_vm *mv_vm_create(uint64_t mem_size);
void mv_vm_free(struct mv_vm *vm);
uint64_t mv_vm_alloc(struct mv_vm *vm, uint64_t size);
int mv_vm_map(struct mv_vm *vm, uint64_t va, uint64_t gpa, uint64_t size,
	      uint64_t flags);
uint64_t *mv_vm_pte(struct mv_vm *vm, uint64_t va);
int mv_vm_add_slot(struct mv_vm *vm, int slot, uint64_t gpa, uint64_t size,
		   void *hva);
void *mv_gpa2hva(struct mv_vm *vm, uint64_t gpa);
uint64_t mv_gva2gpa(struct mv_vm *vm, uint64_t gva);
void *mv_gva2hva(struct mv_vm *vm, uint64_t gva);
void mv_vm_set_handler(struct mv_vm *vm, int vector, mv_ex_handler_t fn);

struct mv_vcpu *mv_vcpu_add(struct mv_vm *vm, int id, void *guest_code,
			    uint64_t arg0, uint64_t arg1);
int mv_vcpu_run(struct mv_vcpu *vcpu);
uint64_t mv_get_ucall(struct mv_vcpu *vcpu, struct mv_ucall *uc);
int mv_put_ucall(struct mv_vcpu *vcpu, const struct mv_ucall *uc);
uint64_t mv_vcpu_run_ucall(struct mv_vcpu *vcpu, struct mv_ucall *uc);
const char *mv_exit_str(struct mv_vcpu *vcpu, const struct mv_ucall *uc,
			char *buf, size_t len);

/* The guest's copy of global @g gets the host's value, or the reverse. */
#define mv_sync_to_guest(vm, g) \
	memcpy(mv_gva2hva(vm, (uintptr_t)&(g)), &(g), sizeof(g))
#define mv_sync_from_guest(vm, g) \
	memcpy(&(g), mv_gva2hva(vm, (uintptr_t)&(g)), sizeof(g))

/*
 * For kselftest_harness tests: run @vcpu to its next exit and require
 * ucall @cmd there; a failed GUEST_ASSERT or an unexpected exit says
 * what happened.  @uc receives the ucall.
 */
#define ASSERT_UCALL(vcpu, uc, cmd)					\
	do {								\
		char __buf[512];					\
		uint64_t __cmd = mv_vcpu_run_ucall(vcpu, uc);		\
		ASSERT_EQ((uint64_t)(cmd), __cmd)			\
			TH_LOG("%s", mv_exit_str(vcpu, uc, __buf,	\
						 sizeof(__buf)));	\
	} while (0)

#endif /* MV_SELFTEST_GUEST_H */
