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
 * them too (a copy taken at mv_vm_create(): later the host reaches the
 * guest's copy of a global through mv_gva2hva(vm, (uintptr_t)&global)).
 *
 * The guest talks to the host through a "ucall": it writes the address of
 * a struct mv_ucall on its stack to port MV_UCALL_PORT; the host finds the
 * struct by walking the guest's page tables.  GUEST_SYNC() checkpoints,
 * GUEST_ASSERT*() failures with file, line and values, and the end of the
 * guest function (return, or GUEST_DONE()) travel this way, as do
 * exceptions no handler claimed.
 *
 * vCPUs start with RFLAGS.IF set: with no irqchip nothing is injected,
 * and emulated CPUs keep taking the host's interrupts (signal kicks).
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
#define X86_CR0_PE		_BITULL(0)
#define X86_CR0_MP		_BITULL(1)
#define X86_CR0_ET		_BITULL(4)
#define X86_CR0_NE		_BITULL(5)
#define X86_CR0_WP		_BITULL(16)
#define X86_CR0_PG		_BITULL(31)
#define X86_CR4_PSE		_BITULL(4)
#define X86_CR4_PAE		_BITULL(5)
#define X86_CR4_PGE		_BITULL(7)
#define X86_CR4_OSFXSR		_BITULL(9)
#define X86_CR4_OSXMMEXCPT	_BITULL(10)
#define MSR_EFER		0xc0000080
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define EFER_LME		_BITULL(8)
#define EFER_LMA		_BITULL(10)
#define EFER_NXE		_BITULL(11)
#define PTE_P			_BITULL(0)
#define PTE_W			_BITULL(1)
#define PTE_A			_BITULL(5)
#define PTE_D			_BITULL(6)
#define PTE_PS			_BITULL(7)
#define PTE_NX			_BITULL(63)

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
	__u64 cmd;
	const char *file;	/* string constants: same address in the host */
	const char *expr;
	__u64 line;
	__u64 args[4];
};

/* ------------------------------------------------------------ guest side */

void mv_ucall(__u64 cmd, const char *file, const char *expr, int line,
	      __u64 a0, __u64 a1, __u64 a2, __u64 a3);
void mv_guest_assert_fail(const char *file, const char *expr, int line,
			  __u64 a, __u64 b);

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
		__u64 __a = (__u64)(a), __b = (__u64)(b);	\
		if (__a != __b)						\
			mv_guest_assert_fail(__FILE__, #a " == " #b,	\
					     __LINE__, __a, __b);	\
	} while (0)

/* The registers an exception handler sees and may change. */
struct mv_ex_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 vector, error_code;
	__u64 rip, cs, rflags, rsp, ss;	/* the CPU's frame */
};

typedef void (*mv_ex_handler_t)(struct mv_ex_regs *regs);

static inline void outb(__u16 port, __u8 v)
{
	asm volatile("out %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(__u16 port, __u16 v)
{
	asm volatile("out %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(__u16 port, __u32 v)
{
	asm volatile("out %0, %1" : : "a"(v), "Nd"(port));
}

static inline __u8 inb(__u16 port)
{
	__u8 v;

	asm volatile("in %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline __u16 inw(__u16 port)
{
	__u16 v;

	asm volatile("in %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline __u32 inl(__u16 port)
{
	__u32 v;

	asm volatile("in %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline __u64 rdmsr(__u32 msr)
{
	__u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (__u64)hi << 32;
}

static inline void wrmsr(__u32 msr, __u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((__u32)v),
		     "d"((__u32)(v >> 32)) : "memory");
}

#define MV_CR_ACCESSORS(n)						\
static inline __u64 read_cr##n(void)					\
{									\
	__u64 v;							\
									\
	asm volatile("mov %%cr" #n ", %0" : "=r"(v));			\
	return v;							\
}									\
static inline void write_cr##n(__u64 v)				\
{									\
	asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");		\
}

MV_CR_ACCESSORS(0)

MV_CR_ACCESSORS(2)

MV_CR_ACCESSORS(3)

MV_CR_ACCESSORS(4)

static inline void cpuid(__u32 leaf, __u32 sub, __u32 r[4])
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
 * @df_stack: top of the stack #DF is delivered on (IST 2 of the TSS), so
 *	that a fault on a broken stack is reported, not a shutdown
 * @vcpus: the vCPUs mv_vcpu_add() made, for mv_vm_free()
 *
 * All fields are set by the thread that builds the VM, before vCPUs run.
 */
struct mv_vm {
	int dev, fd;
	__u8 *mem;
	__u64 size;
	__u64 next;
	__u64 pml4;
	__u64 gdt, idt, tss;
	__u64 df_stack;
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
	__u64 stack;
};

struct mv_vm *mv_vm_create(__u64 mem_size);
void mv_vm_free(struct mv_vm *vm);
__u64 mv_vm_alloc(struct mv_vm *vm, __u64 size);
int mv_vm_map(struct mv_vm *vm, __u64 va, __u64 gpa, __u64 size,
	      __u64 flags);
__u64 *mv_vm_pte(struct mv_vm *vm, __u64 va);
int mv_vm_add_slot(struct mv_vm *vm, int slot, __u64 gpa, __u64 size,
		   void *hva);
void *mv_gpa2hva(struct mv_vm *vm, __u64 gpa);
__u64 mv_gva2gpa(struct mv_vm *vm, __u64 gva);
void *mv_gva2hva(struct mv_vm *vm, __u64 gva);
void mv_vm_set_handler(struct mv_vm *vm, int vector, mv_ex_handler_t fn);

struct mv_vcpu *mv_vcpu_add(struct mv_vm *vm, int id, void *guest_code,
			    __u64 arg0, __u64 arg1);
int mv_vcpu_start(struct mv_vcpu *vcpu, void *guest_code, __u64 arg0,
		  __u64 arg1);
int mv_vcpu_run(struct mv_vcpu *vcpu);
__u64 mv_get_ucall(struct mv_vcpu *vcpu, struct mv_ucall *uc);
int mv_put_ucall(struct mv_vcpu *vcpu, const struct mv_ucall *uc);
__u64 mv_vcpu_run_ucall(struct mv_vcpu *vcpu, struct mv_ucall *uc);
const char *mv_exit_str(struct mv_vcpu *vcpu, const struct mv_ucall *uc,
			char *buf, size_t len);

/* The address of a label of a top-level asm block (code for other modes). */
#define MV_ASM_ADDR(label)						\
	({								\
		__u64 __a;						\
									\
		asm("lea " #label "(%%rip), %0" : "=r"(__a));		\
		__a;							\
	})

/*
 * For kselftest_harness tests: run @vcpu to its next exit and require
 * ucall @cmd there; a failed GUEST_ASSERT or an unexpected exit says
 * what happened.  @uc receives the ucall.
 */
#define ASSERT_UCALL(vcpu, uc, cmd)					\
	do {								\
		struct mv_vcpu *__v = (vcpu);				\
		struct mv_ucall *__u = (uc);				\
		__u64 __cmd = mv_vcpu_run_ucall(__v, __u);		\
		char __buf[512];					\
									\
		ASSERT_EQ((__u64)(cmd), __cmd)				\
			TH_LOG("%s", mv_exit_str(__v, __u, __buf,	\
						 sizeof(__buf)));	\
	} while (0)

#endif /* MV_SELFTEST_GUEST_H */
