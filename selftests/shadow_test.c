// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow paging (MV_CAP_MMU_MODE = MV_MMU_SHADOW): the mode capability,
 * guests in every paging mode, #PF error codes and CR2 delivered to a guest
 * handler, Accessed/Dirty bits, a guest changing its own page tables and
 * INVLPG, 64 address spaces switched round-robin with and without the root
 * cache, host MADV_DONTNEED and slot deletion under a running guest, and
 * two vCPUs sharing one address space.  Each checks the counters of
 * KVM_GET_STATS_FD it expects to move.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib/vm.h"
#include "shadow_guest.h"

#define MEM_SIZE	0x400000ULL	/* 4 MiB of guest memory at 0 */
#define CODE		0x1000ULL
#define GDT		0x3000ULL
#define IDT		0x4000ULL
#define MBOX		0x5000ULL	/* the #PF handler's CR2, error, resume */
#define STACK		0x9000ULL
#define PML4		0x10000ULL
#define PDPT		0x11000ULL
#define PD		0x12000ULL
#define PT		0x13000ULL
#define PD32		0x14000ULL	/* 32-bit guests' PD */
#define PDPT_PAE	0x15000ULL	/* PAE guests' PDPT (32-byte) */
#define PT2		0x16000ULL	/* 32-bit and PAE guests' second PT */
#define DATA		0x20000ULL	/* pages the tests play with */
#define AS_BASE		0x100000ULL	/* the 64 address spaces' tables */
#define NR_AS		64
#define PORT		0x10

#define P	0x1ULL
#define RW	0x2ULL
#define US	0x4ULL
#define A	0x20ULL
#define D	0x40ULL
#define PS	0x80ULL
#define NX	_BITULL(63)
#define BIT51	_BITULL(51)

FIXTURE(shadow) {
	struct mv_guest g;
	int stats;
};

static int vm_stats_fd(int vm)
{
	return ioctl(vm, KVM_GET_STATS_FD, NULL);
}

/* A statistic by name from a stats fd; -ENOENT when there is none. */
static int stat_get(int fd, const char *name, __u64 *val)
{
	struct kvm_stats_header h;
	size_t dsize;
	char *descs;
	int r = -ENOENT;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return -EIO;
	dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsize * h.num_desc);
	if (!descs)
		return -ENOMEM;
	if (pread(fd, descs, dsize * h.num_desc, h.desc_offset) !=
	    (ssize_t)(dsize * h.num_desc)) {
		free(descs);
		return -EIO;
	}
	for (__u32 i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsize);

		if (strcmp(d->name, name))
			continue;
		r = pread(fd, val, sizeof(*val), h.data_offset + d->offset) ==
			sizeof(*val) ? 0 : -EIO;
		break;
	}
	free(descs);
	return r;
}

static __u64 stat_value(struct __test_metadata *_metadata, int fd,
			const char *name)
{
	__u64 v = 0;

	EXPECT_EQ(0, stat_get(fd, name, &v)) TH_LOG("stat %s", name);
	return v;
}

#define STAT(name) stat_value(_metadata, self->stats, name)

/* Does this host run VMs on shadow tables? */
static bool have_shadow(void)
{
	int dev = mv_open_dev(), r;

	if (dev < 0)
		return false;
	r = ioctl(dev, KVM_CHECK_EXTENSION, MV_CAP_MMU_MODE);
	close(dev);
	return r > 0 && (r & MV_MMU_SHADOW);
}

FIXTURE_SETUP(shadow)
{
	int r;

	self->stats = -1;
	if (!have_shadow())
		SKIP(return, "no shadow paging on this host");
	setenv("MV_MMU", "shadow", 1);
	r = mv_guest_create(&self->g, 0, MEM_SIZE);
	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
	self->stats = vm_stats_fd(self->g.vm);
	ASSERT_LE(0, self->stats);
}

FIXTURE_TEARDOWN(shadow)
{
	if (self->stats >= 0)
		close(self->stats);
	mv_guest_destroy(&self->g);
}

static __u64 *gmem64(struct mv_guest *g, __u64 gpa)
{
	return (__u64 *)(g->mem + gpa);
}

static __u32 *gmem32(struct mv_guest *g, __u64 gpa)
{
	return (__u32 *)(g->mem + gpa);
}

static struct kvm_segment seg(__u16 sel, __u8 type, bool code, bool l)
{
	return (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = code && l, .db = !(code && l),
		.g = 1,
	};
}

static void set_cpuid(struct __test_metadata *_metadata, struct mv_guest *g,
		      int vcpu)
{
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	ASSERT_NE(NULL, cpuid);
	cpuid->nent = 256;
	ASSERT_EQ(0, ioctl(g->dev, KVM_GET_SUPPORTED_CPUID, cpuid));
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_CPUID2, cpuid));
	free(cpuid);
}

/* The flat segments and the registers of a vCPU starting at CODE. */
static void start_vcpu(struct __test_metadata *_metadata, struct mv_guest *g,
		       int vcpu, __u64 cr0, __u64 cr3, __u64 cr4, __u64 efer,
		       __u64 rsp, __u64 rdi)
{
	bool lm = efer & 0x400;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	set_cpuid(_metadata, g, vcpu);
	ASSERT_EQ(0, ioctl(vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs = seg(0x8, 0xb, true, lm);
	sregs.ds = seg(0x10, 0x3, false, lm);
	sregs.es = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.tr = (struct kvm_segment) {
		.selector = 0x18, .limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.gdt.base = GDT;
	sregs.gdt.limit = 0x1f;
	sregs.idt.base = IDT;
	sregs.idt.limit = 0xfff;
	sregs.cr0 = cr0;
	sregs.cr3 = cr3;
	sregs.cr4 = cr4;
	sregs.efer = efer;
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE;
	regs.rsp = rsp;
	regs.rdi = rdi;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_REGS, &regs));
}

/*
 * A 64-bit guest: the first 2 MiB identity-mapped with 4 KiB pages
 * (supervisor, writable, Accessed and Dirty clear), page 0 not mapped;
 * GDT; @code at CODE.
 */
static void long_mode(struct __test_metadata *_metadata, struct mv_guest *g,
		      const unsigned char *code, const unsigned char *end)
{
	__u64 *gdt = gmem64(g, GDT);
	int i;

	*gmem64(g, PML4) = PDPT | P | RW;
	*gmem64(g, PDPT) = PD | P | RW;
	*gmem64(g, PD) = PT | P | RW;
	for (i = 1; i < 512; i++)
		gmem64(g, PT)[i] = ((__u64)i << 12) | P | RW;
	gdt[1] = 0x00af9b000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;	/* data */
	gdt[3] = 0x00008b000000ffffULL;	/* TSS */
	mv_guest_put(g, CODE, code, end - code);
	/* PG, WP, ET, PE; PAE; NXE, LMA, LME */
	start_vcpu(_metadata, g, g->vcpu, 0x80010011, PML4, 0x20, 0xd00,
		   STACK, 0);
}

/* The next exit is OUT to PORT; returns its value. */
static __u32 next_out(struct __test_metadata *_metadata, struct mv_guest *g)
{
	int r = mv_guest_run(g);

	EXPECT_EQ(0, r);
	EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason)
		TH_LOG("exit %u, internal %u", g->run->exit_reason,
		       g->run->internal.suberror);
	if (r || g->run->exit_reason != KVM_EXIT_IO)
		return 0xdeadbeef;
	EXPECT_EQ(PORT, g->run->io.port);
	return mv_guest_io_data(g);
}

#define OUT() next_out(_metadata, &self->g)

static void expect_hlt(struct __test_metadata *_metadata, struct mv_guest *g)
{
	ASSERT_EQ(0, mv_guest_run(g));
	EXPECT_EQ(KVM_EXIT_HLT, g->run->exit_reason);
}

/* The capability: both modes announced; the mode is fixed by the vCPU. */
TEST(mode_cap)
{
	struct kvm_enable_cap cap = { .cap = MV_CAP_MMU_MODE };
	int dev, vm, vcpu, modes;

	if (!have_shadow())
		SKIP(return, "no shadow paging on this host");
	dev = mv_open_dev();
	ASSERT_LE(0, dev);
	modes = ioctl(dev, KVM_CHECK_EXTENSION, MV_CAP_MMU_MODE);
	EXPECT_NE(0, modes & MV_MMU_SHADOW);
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	EXPECT_EQ(modes, ioctl(vm, KVM_CHECK_EXTENSION, MV_CAP_MMU_MODE));
	cap.args[0] = 3;		/* both at once: not a mode */
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = 0;
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = MV_MMU_SHADOW;
	EXPECT_EQ(0, ioctl(vm, KVM_ENABLE_CAP, &cap));
	if (modes & MV_MMU_TDP) {
		cap.args[0] = MV_MMU_TDP;
		EXPECT_EQ(0, ioctl(vm, KVM_ENABLE_CAP, &cap));
		cap.args[0] = MV_MMU_SHADOW;
		EXPECT_EQ(0, ioctl(vm, KVM_ENABLE_CAP, &cap));
	}
	cap.flags = 1;
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.flags = 0;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	EXPECT_EQ(-1, ioctl(vm, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EBUSY, errno);
	close(vcpu);
	close(vm);
	close(dev);
}

static int write_param(const char *name, const char *val)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/sys/module/minivisor/parameters/%s",
		 name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -errno;
	close(fd);
	return r;
}

/*
 * A VM that does not choose gets the "mmu" parameter's mode: an unmodified
 * KVM client runs on shadow tables with mmu=shadow.
 */
TEST(mmu_parameter)
{
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct kvm_sregs sregs;
	struct mv_guest g;
	__u64 faults = 0;
	int stats, r;

	if (!have_shadow())
		SKIP(return, "no shadow paging on this host");
	if (access("/sys/module/minivisor/parameters/mmu", W_OK))
		SKIP(return, "no mmu parameter (not minivisor)");
	EXPECT_EQ(-EINVAL, write_param("mmu", "npt"));
	ASSERT_EQ(0, write_param("mmu", "shadow"));
	unsetenv("MV_MMU");
	r = mv_guest_create(&g, 0, MEM_SIZE);
	write_param("mmu", "tdp");
	ASSERT_EQ(0, r);
	/*
	 * Real mode at 0x1000 turns paging on (32-bit, one 4 MiB page at 0
	 * from the PD at 0x2000), then OUT 0x10, AL; HLT.  On VMX the first
	 * part runs on EPT, the rest on a shadow root.
	 */
	mv_guest_put(&g, 0x1000,
		     "\x66\xb8\x10\x00\x00\x00"	/* mov eax, 0x10 (PSE) */
		     "\x0f\x22\xe0"			/* mov cr4, eax */
		     "\x66\xb8\x00\x20\x00\x00"	/* mov eax, 0x2000 */
		     "\x0f\x22\xd8"			/* mov cr3, eax */
		     "\x0f\x20\xc0"			/* mov eax, cr0 */
		     "\x66\x0d\x01\x00\x00\x80"	/* or eax, PG | PE */
		     "\x0f\x22\xc0"			/* mov cr0, eax */
		     "\xe6\x10\xf4", 0x21);		/* out 0x10, al; hlt */
	mv_guest_put(&g, 0x2000, "\x83\x00\x00\x00", 4);	/* P RW PS */
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, mv_guest_run(&g));
	EXPECT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	EXPECT_EQ(0x10, g.run->io.port);
	ASSERT_EQ(0, ioctl(g.vcpu, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0x80000001ULL, sregs.cr0 & 0x80000001ULL);
	EXPECT_EQ(0x2000ULL, sregs.cr3);
	EXPECT_EQ(0x10ULL, sregs.cr4);
	stats = vm_stats_fd(g.vm);
	ASSERT_LE(0, stats);
	EXPECT_EQ(0, stat_get(stats, "shadow_faults", &faults));
	/* paging on: the code page, mapped by a shadow of the guest's PD */
	EXPECT_LE(1ULL, faults);
	close(stats);
	mv_guest_destroy(&g);
}

/* #PF error codes and CR2, as the guest's own handler sees them. */
TEST_F(shadow, pf_error_codes)
{
	__u64 *idt = gmem64(&self->g, IDT);
	__u64 handler = CODE + (lm_pf_handler - lm_pf_start);
	__u64 injected;

	long_mode(_metadata, &self->g, lm_pf_start, lm_pf_end);
	/* vector 14: a 64-bit interrupt gate to the handler */
	idt[28] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		((handler >> 16 & 0xffff) << 48);
	idt[29] = handler >> 32;
	gmem64(&self->g, PT)[0x20] = DATA | P;			/* read-only */
	gmem64(&self->g, PT)[0x21] = 0x21000 | P | RW | NX;
	gmem64(&self->g, PT)[0x22] = 0x22000 | P | RW | BIT51;
	*gmem32(&self->g, DATA) = 0x7e57;
	*gmem32(&self->g, 0x21000) = 0xc3;			/* ret */

	EXPECT_EQ(0x0U, OUT());		/* not present, supervisor read */
	EXPECT_EQ(0x400000U, OUT());
	EXPECT_EQ(0x3U, OUT());		/* protection, write */
	EXPECT_EQ(0x20000U, OUT());
	EXPECT_EQ(0x11U, OUT());	/* protection, fetch */
	EXPECT_EQ(0x21000U, OUT());
	EXPECT_EQ(0x9U, OUT());		/* reserved bit */
	EXPECT_EQ(0x22008U, OUT());
	EXPECT_EQ(0x7e57U, OUT());
	expect_hlt(_metadata, &self->g);

	injected = STAT("shadow_pf_injected");
	EXPECT_EQ(4ULL, injected);
	EXPECT_LT(injected, STAT("shadow_faults"));
	EXPECT_LE(4ULL, STAT("shadow_pages_created"));
	EXPECT_LE(1ULL, STAT("root_cache_misses"));
}

/* The walker sets Accessed and Dirty in the guest's entries. */
TEST_F(shadow, accessed_dirty)
{
	__u64 *pt = gmem64(&self->g, PT);

	long_mode(_metadata, &self->g, lm_ad_start, lm_ad_end);
	*gmem32(&self->g, 0x23000) = 0x1234;
	EXPECT_EQ(0x1234U, OUT());
	expect_hlt(_metadata, &self->g);

	EXPECT_EQ(A, pt[0x23] & (A | D));		/* read: A only */
	EXPECT_EQ(A | D, pt[0x24] & (A | D));		/* written */
	EXPECT_EQ(0ULL, pt[0x25] & (A | D));		/* untouched */
	EXPECT_EQ(A, *gmem64(&self->g, PD) & (A | D));
	EXPECT_EQ(0x5a5aU, *gmem32(&self->g, 0x24000));
	EXPECT_LE(3ULL, STAT("shadow_faults"));
	EXPECT_EQ(0ULL, STAT("shadow_pf_injected"));
}

/*
 * The guest rewrites a PTE in its own (write-protected) page table, which
 * maps itself: the write is emulated and the new entry (accessed, so it can
 * be) mapped at once; INVLPG, then a CR3 load, make the new mappings seen.
 */
TEST_F(shadow, guest_pte_write_invlpg)
{
	__u64 faults;
	int vstats;

	vstats = ioctl(self->g.vcpu, KVM_GET_STATS_FD, NULL);
	ASSERT_LE(0, vstats);
	long_mode(_metadata, &self->g, lm_invlpg_start, lm_invlpg_end);
	*gmem32(&self->g, 0x26000) = 0x1111;
	*gmem32(&self->g, 0x27000) = 0x2222;
	EXPECT_EQ(0x1111U, OUT());
	faults = stat_value(_metadata, vstats, "shadow_faults");
	EXPECT_EQ(0x2222U, OUT());
	/* the write to the table; the read after INVLPG found it mapped */
	EXPECT_EQ(faults + 1, stat_value(_metadata, vstats, "shadow_faults"));
	EXPECT_EQ(0x1111U, OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(0x26003ULL, *gmem64(&self->g, PT + 0x26 * 8) & ~(A | D));
	EXPECT_EQ(2ULL, STAT("pte_writes_emulated"));
	EXPECT_EQ(0ULL, STAT("shadow_pages_unsynced"));
	EXPECT_EQ(0ULL, STAT("shadow_pf_injected"));

	/* the vCPU's own counters: the INVLPG and the CR3 load flushed */
	EXPECT_LE(3ULL, stat_value(_metadata, vstats, "tlb_flushes"));
	/* the VM counts those that got as far as the host page */
	EXPECT_LE(STAT("shadow_faults"),
		  stat_value(_metadata, vstats, "shadow_faults"));
	EXPECT_LT(0ULL, stat_value(_metadata, vstats, "shadow_faults"));
	close(vstats);
}

/*
 * A page that stops being a page table: after its PD entry is cleared
 * the guest fills it with data; the first writes are emulated, then the
 * shadow is dropped as flooded and the rest go straight to memory.
 */
TEST_F(shadow, flooded_table)
{
	__u64 *pt2 = gmem64(&self->g, 0x14000);
	int i;

	long_mode(_metadata, &self->g, lm_flood_start, lm_flood_end);
	gmem64(&self->g, PD)[1] = 0x14000 | P | RW;
	pt2[0] = 0x26000 | P | RW;
	*gmem32(&self->g, 0x26000) = 0xf00d;
	EXPECT_EQ(0xf00dU, OUT());
	EXPECT_EQ(15U, OUT());
	expect_hlt(_metadata, &self->g);
	for (i = 0; i < 16; i++)
		EXPECT_EQ((__u64)i, pt2[i]);
	EXPECT_EQ(1ULL, STAT("shadow_pages_flooded"));
	/* the PD entry, then the data until the flood: 1 + 4 */
	EXPECT_EQ(5ULL, STAT("pte_writes_emulated"));
	EXPECT_EQ(0ULL, STAT("shadow_pages_unsynced"));
}

/* Builds the 64 address spaces of lm_as: private PDPT, PD, PT, page. */
/*
 * 24 shadows of one guest page table (every R/W, U/S and NX combination
 * of the PD entries above it, in each CR0.WP and EFER.NXE mode), then an
 * emulated write to one of its entries: more shadows to bring in step than
 * the vCPU caches rmap entries for, which must all see the new entry (the
 * reads after the write return the new page's value through all of them).
 */
TEST_F(shadow, many_shadows_one_table)
{
	__u64 *pd = gmem64(&self->g, PD);
	__u64 *t = gmem64(&self->g, 0x30000);
	int k;

	long_mode(_metadata, &self->g, lm_many_start, lm_many_end);
	*gmem64(&self->g, PML4) = PDPT | P | RW | US;
	*gmem64(&self->g, PDPT) = PD | P | RW | US;
	for (k = 1; k <= 8; k++)
		pd[k] = 0x30000 | P | A | ((k - 1) & 1 ? RW : 0) |
			((k - 1) & 2 ? US : 0) | (k > 4 ? NX : 0);
	t[5] = 0x40000 | P | RW | A | D;
	*gmem32(&self->g, 0x40000) = 0x1111;
	*gmem32(&self->g, 0x41000) = 0x2222;

	EXPECT_EQ(8 * 0x1111U, OUT());		/* WP, NXE */
	EXPECT_EQ(4 * 0x1111U, OUT());		/* WP */
	EXPECT_EQ(4 * 0x1111U, OUT());		/* none */
	EXPECT_EQ(8 * 0x1111U, OUT());		/* NXE */
	EXPECT_EQ(8 * 0x2222U, OUT());		/* NXE, after the write */
	EXPECT_EQ(8 * 0x2222U, OUT());		/* WP, NXE */
	EXPECT_EQ(4 * 0x2222U, OUT());		/* WP */
	EXPECT_EQ(4 * 0x2222U, OUT());		/* none */
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(0x41063ULL, t[5]);
	/* the 24 page-table shadows, and the roots and PDs above them */
	EXPECT_LE(24ULL + 8, STAT("shadow_pages_created"));
	EXPECT_LE(1ULL, STAT("pte_writes_emulated"));
	EXPECT_EQ(0ULL, STAT("shadow_pages_unsynced"));
	EXPECT_EQ(0ULL, STAT("shadow_pf_injected"));
}

#define ALIAS_SLOTS	32
#define ALIAS_SIZE	0x800000ULL	/* host memory behind every one */
#define ALIAS_GPA	0x10000000ULL

/* Puts @v at each dword the lm_alias guest reads, in its host memory */
static void alias_fill(void *mem, __u32 v)
{
	__u64 off;

	for (off = 0; off < ALIAS_SIZE; off += 0x80000)
		*(__u32 *)((char *)mem + off) = v;
}

/*
 * 32 slots alias the same 8 MiB of host memory; the guest reads through
 * all of them, then the host unmaps it (one invalidation covering every
 * slot, each wider than a thousand frames) and maps new memory there:
 * every alias must show the new memory, and the zap must not stall the
 * host (the kernel log is judged for soft lockups and RCU stalls).
 */
TEST_F(shadow, aliased_slots_munmap)
{
	__u64 *pd = gmem64(&self->g, PD);
	__u64 zaps, inval;
	void *mem, *again;
	int i;

	mem = mmap(NULL, ALIAS_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (i = 0; i < ALIAS_SLOTS; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = 1 + i,
			.guest_phys_addr = ALIAS_GPA + i * ALIAS_SIZE,
			.memory_size = ALIAS_SIZE,
			.userspace_addr = (unsigned long)mem,
		};

		ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION,
				   &r));
	}
	long_mode(_metadata, &self->g, lm_alias_start, lm_alias_end);
	for (i = 0; i < ALIAS_SLOTS * 4; i++)
		pd[128 + i] = (ALIAS_GPA + i * 0x200000ULL) | P | RW | A | D |
			PS;
	alias_fill(mem, 1);
	EXPECT_EQ(512U, OUT());

	zaps = STAT("tdp_zaps");
	inval = STAT("mmu_notifier_invalidations");
	ASSERT_EQ(0, munmap(mem, ALIAS_SIZE));
	again = mmap(mem, ALIAS_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(mem, again);
	EXPECT_LT(inval, STAT("mmu_notifier_invalidations"));
	/* at least one leaf through each alias went */
	EXPECT_LE(zaps + ALIAS_SLOTS, STAT("tdp_zaps"));
	alias_fill(mem, 2);
	EXPECT_EQ(1024U, OUT());
	munmap(mem, ALIAS_SIZE);
}

static void build_spaces(struct mv_guest *g)
{
	int i;

	for (i = 0; i < NR_AS; i++) {
		__u64 base = AS_BASE + i * 0x5000ULL;

		gmem64(g, base)[0] = PDPT | P | RW;	/* the shared low 2 MiB */
		gmem64(g, base)[1] = (base + 0x1000) | P | RW;
		gmem64(g, base + 0x1000)[0] = (base + 0x2000) | P | RW;
		gmem64(g, base + 0x2000)[0] = (base + 0x3000) | P | RW;
		gmem64(g, base + 0x3000)[0] = (base + 0x4000) | P | RW;
		*gmem32(g, base + 0x4000) = i + 1;
	}
}

/* MV_CAP_SHADOW_ROOT_CACHE on one VM: 0 or -errno */
static int set_root_cache(int vm, __u64 on)
{
	struct kvm_enable_cap cap = {
		.cap = MV_CAP_SHADOW_ROOT_CACHE, .args = { on },
	};

	return ioctl(vm, KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

/*
 * 64 address spaces round-robin: after the first round every CR3 load
 * finds its root, and no shadow page is built again.
 */
TEST_F(shadow, address_spaces_cached)
{
	__u64 created, hits, misses;
	int round;

	long_mode(_metadata, &self->g, lm_as_start, lm_as_end);
	build_spaces(&self->g);
	EXPECT_EQ(64U * 65 / 2, OUT());
	created = STAT("shadow_pages_created");
	misses = STAT("root_cache_misses");
	hits = STAT("root_cache_hits");
	EXPECT_LE((__u64)NR_AS, misses);
	/* a root, a PDPT, a PD and a PT of its own for each */
	EXPECT_LE(4ULL * NR_AS, created);
	for (round = 0; round < 3; round++)
		EXPECT_EQ(64U * 65 / 2, OUT());
	EXPECT_EQ(created, STAT("shadow_pages_created"));
	EXPECT_EQ(misses, STAT("root_cache_misses"));
	EXPECT_EQ(hits + 3ULL * NR_AS, STAT("root_cache_hits"));
	TH_LOG("first round: %llu shadow pages, %llu misses; then %llu hits",
	       (unsigned long long)created, (unsigned long long)misses,
	       (unsigned long long)(STAT("root_cache_hits") - hits));
}

/* The same without the root cache: every round builds it all again. */
TEST_F(shadow, address_spaces_uncached)
{
	__u64 created, zapped;
	int round;

	ASSERT_EQ(1, ioctl(self->g.vm, KVM_CHECK_EXTENSION,
			   MV_CAP_SHADOW_ROOT_CACHE));
	EXPECT_EQ(-EINVAL, set_root_cache(self->g.vm, 2));
	ASSERT_EQ(0, set_root_cache(self->g.vm, 0));
	long_mode(_metadata, &self->g, lm_as_start, lm_as_end);
	build_spaces(&self->g);
	EXPECT_EQ(64U * 65 / 2, OUT());
	created = STAT("shadow_pages_created");
	zapped = STAT("shadow_pages_zapped");
	for (round = 0; round < 2; round++)
		EXPECT_EQ(64U * 65 / 2, OUT());
	EXPECT_LE(created + 2ULL * 4 * NR_AS, STAT("shadow_pages_created"));
	EXPECT_LE(zapped + 2ULL * 4 * NR_AS, STAT("shadow_pages_zapped"));
	EXPECT_EQ(0ULL, STAT("root_cache_hits"));
}

/*
 * A budget of 64 shadow pages (KVM_SET_NR_MMU_PAGES, KVM's smallest) for
 * 64 address spaces of 4 each: the least recently used are reclaimed, the
 * guest sees nothing of it.  The budget set on a VM that holds more
 * (a first round under the default) zaps down to it at once, as KVM does.
 */
TEST(address_spaces_budget)
{
	struct mv_guest g;
	__u64 pages = 0, reclaimed = 0;
	int stats, round;

	if (!have_shadow())
		SKIP(return, "no shadow paging on this host");
	setenv("MV_MMU", "shadow", 1);
	ASSERT_EQ(0, mv_guest_create(&g, 0, MEM_SIZE));
	EXPECT_EQ(1, ioctl(g.vm, KVM_CHECK_EXTENSION,
			   KVM_CAP_MMU_SHADOW_CACHE_CONTROL));
	EXPECT_EQ(-1, ioctl(g.vm, KVM_SET_NR_MMU_PAGES, 63));
	EXPECT_EQ(EINVAL, errno);
	long_mode(_metadata, &g, lm_as_start, lm_as_end);
	build_spaces(&g);
	EXPECT_EQ(64U * 65 / 2, next_out(_metadata, &g));
	stats = vm_stats_fd(g.vm);
	ASSERT_LE(0, stats);
	EXPECT_EQ(0, stat_get(stats, "shadow_pages", &pages));
	EXPECT_LE(4ULL * NR_AS, pages);
	EXPECT_EQ(0, stat_get(stats, "shadow_pages_reclaimed", &reclaimed));
	EXPECT_EQ(0ULL, reclaimed);

	ASSERT_EQ(0, ioctl(g.vm, KVM_SET_NR_MMU_PAGES, 64));
	EXPECT_EQ(0, stat_get(stats, "shadow_pages", &pages));
	EXPECT_GE(64ULL, pages);
	for (round = 0; round < 2; round++)
		EXPECT_EQ(64U * 65 / 2, next_out(_metadata, &g));
	EXPECT_EQ(0, stat_get(stats, "shadow_pages", &pages));
	EXPECT_EQ(0, stat_get(stats, "shadow_pages_reclaimed", &reclaimed));
	EXPECT_GE(64ULL, pages);
	EXPECT_LT(64ULL, reclaimed);
	TH_LOG("%llu shadow pages, %llu reclaimed",
	       (unsigned long long)pages, (unsigned long long)reclaimed);
	close(stats);
	mv_guest_destroy(&g);
}

/* The host drops a page under the guest: the guest sees the new one. */
TEST_F(shadow, host_madv_dontneed)
{
	__u64 inval;

	long_mode(_metadata, &self->g, lm_loop_start, lm_loop_end);
	*gmem32(&self->g, 0x28000) = 0xabcd;
	EXPECT_EQ(0xabcdU, OUT());
	EXPECT_EQ(0xabcdU, OUT());
	inval = STAT("mmu_notifier_invalidations");
	if (madvise(self->g.mem + 0x28000, 0x1000, MADV_DONTNEED)) {
		/* a kernel without madvise(): drop it by mapping anew */
		ASSERT_EQ(self->g.mem + 0x28000,
			  mmap(self->g.mem + 0x28000, 0x1000,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	}
	EXPECT_LT(inval, STAT("mmu_notifier_invalidations"));
	EXPECT_EQ(0U, OUT());			/* a fresh zero page */
	*gmem32(&self->g, 0x28000) = 0x4321;
	EXPECT_EQ(0x4321U, OUT());
}

/* A slot deleted while the guest maps it: its accesses become MMIO. */
TEST_F(shadow, slot_delete)
{
	struct kvm_userspace_memory_region region = {
		.slot = 1, .guest_phys_addr = 0x28000 + MEM_SIZE,
		.memory_size = 0x1000,
	};
	void *page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u64 zaps;

	ASSERT_NE(MAP_FAILED, page);
	long_mode(_metadata, &self->g, lm_loop_start, lm_loop_end);
	/* gva 0x28000 maps the page of slot 1, above slot 0 */
	gmem64(&self->g, PT)[0x28] = (0x28000 + MEM_SIZE) | P | RW;
	region.userspace_addr = (unsigned long)page;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &region));
	*(__u32 *)page = 0x5107;
	EXPECT_EQ(0x5107U, OUT());
	zaps = STAT("tdp_zaps");
	region.memory_size = 0;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &region));
	EXPECT_LT(zaps, STAT("tdp_zaps"));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	/* MMIO now: the emulator's exit, or its failure while it has none */
	EXPECT_TRUE(self->g.run->exit_reason == KVM_EXIT_MMIO ||
		    self->g.run->exit_reason == KVM_EXIT_INTERNAL_ERROR);
	if (self->g.run->exit_reason == KVM_EXIT_MMIO)
		EXPECT_EQ(0x28000 + MEM_SIZE, self->g.run->mmio.phys_addr);
	munmap(page, 0x1000);
}

/*
 * A guest turns paging off and on again from real mode, rewriting a page
 * table meanwhile: its next access goes through the new entry.  (On VMX
 * the paging-off part runs on EPT, where the write is not seen: the
 * shadows are unsync meanwhile.  On SVM it runs on an identity shadow,
 * where the write is emulated.)
 */
TEST_F(shadow, paging_off_and_on)
{
	static const unsigned char code[] = {
		0x66, 0xb8, 0x00, 0x20, 0x00, 0x00,	/* mov eax, 0x2000 */
		0x0f, 0x22, 0xd8,			/* mov cr3, eax */
		0x0f, 0x20, 0xc0,			/* mov eax, cr0 */
		0x66, 0x0d, 0x01, 0x00, 0x00, 0x80,	/* or eax, PG | PE */
		0x0f, 0x22, 0xc0,			/* mov cr0, eax */
		0x66, 0xa1, 0x00, 0x50,			/* mov eax, [0x5000] */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0x0f, 0x20, 0xc0,			/* mov eax, cr0 */
		0x66, 0x25, 0xfe, 0xff, 0xff, 0x7f,	/* and eax, ~(PG|PE) */
		0x0f, 0x22, 0xc0,			/* mov cr0, eax */
		/* mov dword [0x3014], 0x6003: PT[5] maps 0x6000 */
		0x66, 0xc7, 0x06, 0x14, 0x30, 0x03, 0x60, 0x00, 0x00,
		0x0f, 0x20, 0xc0,			/* mov eax, cr0 */
		0x66, 0x0d, 0x01, 0x00, 0x00, 0x80,	/* or eax, PG | PE */
		0x0f, 0x22, 0xc0,			/* mov cr0, eax */
		0x66, 0xa1, 0x00, 0x50,			/* mov eax, [0x5000] */
		0x66, 0xe7, 0x10,			/* out 0x10, eax */
		0xf4,					/* hlt */
	};
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct kvm_sregs sregs;
	__u32 *pt = gmem32(&self->g, 0x3000);
	int i;

	mv_guest_put(&self->g, 0x1000, code, sizeof(code));
	*gmem32(&self->g, 0x2000) = 0x3000 | P | RW;	/* 32-bit PD */
	for (i = 0; i < 1024; i++)
		pt[i] = (i << 12) | P | RW;
	*gmem32(&self->g, 0x5000) = 0x11111111;
	*gmem32(&self->g, 0x6000) = 0x22222222;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));

	EXPECT_EQ(0x11111111U, OUT());
	EXPECT_EQ(0x22222222U, OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(0x6003U, pt[5] & ~0x60U);	/* the guest's, A and D aside */
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0x80000001ULL, sregs.cr0 & 0x80000001ULL);
	/* the write was emulated (SVM) or made while untracked (VMX) */
	EXPECT_LE(1ULL, STAT("pte_writes_emulated") +
		  STAT("shadow_pages_unsynced"));
	EXPECT_LE(2ULL, STAT("shadow_faults"));
}

/* 32-bit paging, with a 4 MiB page (PSE) and a 4 KiB one. */
TEST_F(shadow, paging_32bit)
{
	__u32 *pd = gmem32(&self->g, PD32), *pt = gmem32(&self->g, PT);
	__u64 *gdt = gmem64(&self->g, GDT);
	int i;

	gdt[1] = 0x00cf9b000000ffffULL;	/* 32-bit code */
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[3] = 0x00008b000000ffffULL;
	pd[0] = PT | P | RW;		/* 0-4 MiB: 4 KiB pages, identity */
	for (i = 1; i < 1024; i++)
		pt[i] = (i << 12) | P | RW;
	pd[1] = 0x000000 | P | RW | PS;	/* 4-8 MiB: the 4 MiB page at 0 */
	pd[2] = PT2 | P | RW;		/* 8 MiB: 4 KiB pages */
	gmem32(&self->g, PT2)[0] = 0x29000 | P | RW;
	*gmem32(&self->g, 0x10) = 0x4a4a;
	mv_guest_put(&self->g, CODE, pm_start, pm_end - pm_start);
	/* PG, ET, PE; PSE */
	start_vcpu(_metadata, &self->g, self->g.vcpu, 0x80000011, PD32, 0x10,
		   0, STACK, 0);
	EXPECT_EQ(0x4a4aU, OUT());
	EXPECT_EQ(0x32323232U, OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(A | D, gmem32(&self->g, PT2)[0] & (A | D));
	EXPECT_EQ(A, pd[1] & (A | D));
	EXPECT_LE(3ULL, STAT("shadow_pages_created"));
	EXPECT_EQ(0ULL, STAT("shadow_pf_injected"));
}

/* PAE paging, with a 2 MiB page and a 4 KiB one. */
TEST_F(shadow, paging_pae)
{
	__u64 *pdpt = gmem64(&self->g, PDPT_PAE), *pd = gmem64(&self->g, PD);
	__u64 *pt = gmem64(&self->g, PT), *gdt = gmem64(&self->g, GDT);
	int i;

	gdt[1] = 0x00cf9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[3] = 0x00008b000000ffffULL;
	pdpt[0] = PD | P;
	pd[0] = PT | P | RW;		/* 0-2 MiB: 4 KiB pages */
	for (i = 1; i < 512; i++)
		pt[i] = ((__u64)i << 12) | P | RW;
	pd[2] = 0x000000 | P | RW | PS;	/* 4-6 MiB: the 2 MiB page at 0 */
	pd[4] = PT2 | P | RW;		/* 8 MiB */
	gmem64(&self->g, PT2)[0] = 0x29000 | P | RW;
	*gmem32(&self->g, 0x10) = 0x5a5a;
	mv_guest_put(&self->g, CODE, pm_start, pm_end - pm_start);
	/* PG, ET, PE; PAE */
	start_vcpu(_metadata, &self->g, self->g.vcpu, 0x80000011, PDPT_PAE,
		   0x20, 0, STACK, 0);
	EXPECT_EQ(0x5a5aU, OUT());
	EXPECT_EQ(0x32323232U, OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(A | D, gmem64(&self->g, PT2)[0] & (A | D));
	EXPECT_EQ(A, pd[2] & (A | D));
	EXPECT_LE(3ULL, STAT("shadow_pages_created"));
}

#define SLOT1		0x40000000ULL	/* slot 1: 2 MiB at 1 GiB */
#define SZ_2M		0x200000UL

/* Slot 1's memory, 2 MiB aligned in the VMM's */
struct slot_2m {
	void *map;
	unsigned char *data;
};

/* Does the host back @p with THPs?  AnonHugePages in /proc/self/smaps. */
static size_t anon_huge_kb(void *p)
{
	unsigned long start, end, target = (unsigned long)p;
	size_t kb = 0;
	bool in = false;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start <= target && target < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %zu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * Slot 1 at SLOT1: 2 MiB of anonymous memory with @advice
 * (MADV_HUGEPAGE or MADV_NOHUGEPAGE), the first dword of each page
 * holding the page's number, written now so that the host backs it.
 * Returns the THP kB the host gave, or -1 if the advice was refused.
 */
static long add_slot_2m(struct __test_metadata *_metadata, struct mv_guest *g,
			struct slot_2m *s, int advice)
{
	struct kvm_userspace_memory_region region = {
		.slot = 1, .guest_phys_addr = SLOT1, .memory_size = SZ_2M,
	};
	unsigned long off;

	s->map = mmap(NULL, 2 * SZ_2M, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -1;
	}
	s->data = (void *)(((unsigned long)s->map + SZ_2M - 1) &
			   ~(SZ_2M - 1));
	if (madvise(s->data, SZ_2M, advice))
		return -1;
	for (off = 0; off < SZ_2M; off += 0x1000)
		*(__u32 *)(s->data + off) = off >> 12;
	region.userspace_addr = (unsigned long)s->data;
	EXPECT_EQ(0, ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region));
	return anon_huge_kb(s->data);
}

static void put_slot_2m(struct slot_2m *s)
{
	if (s->map)
		munmap(s->map, 2 * SZ_2M);
}

/* lm_2m's sum: the first dword of every 16th page */
static __u32 sum_2m(void)
{
	__u32 sum = 0, k;

	for (k = 0; k < 32; k++)
		sum += k * 16;
	return sum;
}

/*
 * A guest 2 MiB page over a THP: one 2 MiB shadow leaf, a fault or two
 * for all of it, and the guest's data where it should be.
 */
TEST_F(shadow, large_page_2m)
{
	__u64 *pd = gmem64(&self->g, PD);
	struct slot_2m s;
	long huge;

	huge = add_slot_2m(_metadata, &self->g, &s, MADV_HUGEPAGE);
	if (huge < (long)(SZ_2M >> 10)) {
		put_slot_2m(&s);
		SKIP(return, "no THP for the slot (%ld kB)", huge);
	}
	long_mode(_metadata, &self->g, lm_2m_start, lm_2m_end);
	pd[3] = SLOT1 | P | RW | PS;
	EXPECT_EQ(sum_2m(), OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(sum_2m(), *(__u32 *)(s.data + 0x1ff000));
	EXPECT_EQ(A | D, pd[3] & (A | D));
	EXPECT_EQ(1ULL, STAT("shadow_pages_2m"));
	/* the code page, the read, the write that set Dirty: not 32 */
	EXPECT_GT(8ULL, STAT("shadow_faults"));
	put_slot_2m(&s);
}

/* The same over 4 KiB host pages: 4 KiB shadow leaves, a fault each. */
TEST_F(shadow, large_page_4k_host)
{
	__u64 *pd = gmem64(&self->g, PD);
	struct slot_2m s;
	long huge;

	huge = add_slot_2m(_metadata, &self->g, &s, MADV_NOHUGEPAGE);
	ASSERT_EQ(0, huge);
	long_mode(_metadata, &self->g, lm_2m_start, lm_2m_end);
	pd[3] = SLOT1 | P | RW | PS;
	EXPECT_EQ(sum_2m(), OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(sum_2m(), *(__u32 *)(s.data + 0x1ff000));
	EXPECT_EQ(0ULL, STAT("shadow_pages_2m"));
	EXPECT_LE(33ULL, STAT("shadow_faults"));
	put_slot_2m(&s);
}

/*
 * A guest page table inside a guest 2 MiB page over a THP: once shadowed,
 * the 2 MiB leaf goes and the range is mapped by 4 KiB leaves, so that the
 * guest's write to the table through the large page is still caught.
 */
TEST_F(shadow, large_page_wp)
{
	__u64 *pd = gmem64(&self->g, PD);
	struct slot_2m s;
	long huge;

	huge = add_slot_2m(_metadata, &self->g, &s, MADV_HUGEPAGE);
	if (huge < (long)(SZ_2M >> 10)) {
		put_slot_2m(&s);
		SKIP(return, "no THP for the slot (%ld kB)", huge);
	}
	long_mode(_metadata, &self->g, lm_2m_wp_start, lm_2m_wp_end);
	pd[3] = SLOT1 | P | RW | PS;			/* gva 0x600000 */
	pd[4] = (SLOT1 + 0x10000) | P | RW;		/* gva 0x800000 */
	*(__u64 *)(s.data + 0x10000) = (SLOT1 + 0x20000) | P | RW;
	*(__u32 *)(s.data + 0x20000) = 0x2222;
	*(__u32 *)(s.data + 0x50000) = 0x5050;

	EXPECT_EQ(0x3333U, OUT());
	EXPECT_EQ(1ULL, STAT("shadow_pages_2m"));
	EXPECT_EQ(0x2222U, OUT());
	/* the table in it is shadowed: the writable 2 MiB leaf went */
	EXPECT_EQ(0ULL, STAT("shadow_pages_2m"));
	EXPECT_EQ(0x3333U, OUT());	/* the entry the guest rewrote */
	EXPECT_EQ(0x5050U, OUT());	/* 4 KiB leaves for the rest */
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(0ULL, STAT("shadow_pages_2m"));
	EXPECT_EQ(1ULL, STAT("pte_writes_emulated"));
	EXPECT_EQ((SLOT1 + 0x30000) | P | RW | A,
		  *(__u64 *)(s.data + 0x10000) & ~D);
	put_slot_2m(&s);
}

/*
 * 1 GiB guest pages: over the THP-backed slot a 2 MiB leaf under the
 * direct shadow of the 1 GiB page; over slot 0's 4 KiB pages, 4 KiB ones.
 */
TEST_F(shadow, large_page_1g)
{
	__u64 *pdpt = gmem64(&self->g, PDPT);
	struct slot_2m s;
	long huge;

	huge = add_slot_2m(_metadata, &self->g, &s, MADV_HUGEPAGE);
	if (huge < (long)(SZ_2M >> 10)) {
		put_slot_2m(&s);
		SKIP(return, "no THP for the slot (%ld kB)", huge);
	}
	long_mode(_metadata, &self->g, lm_1g_start, lm_1g_end);
	pdpt[1] = SLOT1 | P | RW | PS;		/* gva 1 GiB: gpa 1 GiB */
	pdpt[2] = 0 | P | RW | PS;		/* gva 2 GiB: gpa 0 */
	*gmem32(&self->g, DATA) = 0x1616;
	EXPECT_EQ(sum_2m(), OUT());
	EXPECT_EQ(0x1616U, OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(sum_2m(), *(__u32 *)(s.data + 0x1ff000));
	EXPECT_EQ(A | D, pdpt[1] & (A | D));
	EXPECT_EQ(A, pdpt[2] & (A | D));
	/* read while clean, then written: a read-only and a writable one */
	EXPECT_EQ(2ULL, STAT("shadow_pages_2m"));
	EXPECT_GT(10ULL, STAT("shadow_faults"));
	put_slot_2m(&s);
}

/*
 * Copy-on-write done by the guest kernel: a page shared read-only by two
 * address spaces is copied by the #PF handler of the one that writes it,
 * which remaps it writable there (an emulated write to its write-protected
 * page table) and INVLPGs; the other space keeps the original.
 */
TEST_F(shadow, guest_cow)
{
	__u64 *idt = gmem64(&self->g, IDT);
	__u64 handler = CODE + (lm_cow_handler - lm_cow_start);
	int i;

	long_mode(_metadata, &self->g, lm_cow_start, lm_cow_end);
	idt[28] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		((handler >> 16 & 0xffff) << 48);
	idt[29] = handler >> 32;
	/* space A (CR3 0x10000): gva 0x200000 through the table at 0x14000 */
	gmem64(&self->g, PD)[1] = 0x14000 | P | RW;
	gmem64(&self->g, 0x14000)[0] = 0x30000 | P;
	/* space B (CR3 0x17000): the same low 2 MiB, its own table 0x1a000 */
	*gmem64(&self->g, 0x17000) = 0x18000 | P | RW;
	*gmem64(&self->g, 0x18000) = 0x19000 | P | RW;
	gmem64(&self->g, 0x19000)[0] = PT | P | RW;
	gmem64(&self->g, 0x19000)[1] = 0x1a000 | P | RW;
	gmem64(&self->g, 0x1a000)[0] = 0x30000 | P;
	for (i = 0; i < 1024; i++)
		gmem32(&self->g, 0x30000)[i] = 0xc0c0 + i;

	EXPECT_EQ(0xc0c0U, OUT());	/* read: its table is shadowed */
	EXPECT_EQ(0x3U, OUT());		/* protection, write */
	EXPECT_EQ(0x200000U, OUT());
	EXPECT_EQ(0x1111U, OUT());	/* space A: its copy */
	EXPECT_EQ(0xc0c0U, OUT());	/* space B: the shared page */
	EXPECT_EQ(0x1111U, OUT());
	expect_hlt(_metadata, &self->g);
	EXPECT_EQ(0xc0c0U, *gmem32(&self->g, 0x30000));
	EXPECT_EQ(0x1111U, *gmem32(&self->g, 0x31000));
	for (i = 1; i < 1024; i++)
		EXPECT_EQ(0xc0c0U + i, gmem32(&self->g, 0x31000)[i]);
	EXPECT_EQ(0x31000 | P | RW | A | D, gmem64(&self->g, 0x14000)[0]);
	EXPECT_EQ(0x30000 | P | A, gmem64(&self->g, 0x1a000)[0]);
	EXPECT_EQ(1ULL, STAT("shadow_pf_injected"));
	EXPECT_EQ(1ULL, STAT("pte_writes_emulated"));
	EXPECT_LE(2ULL, STAT("root_cache_misses"));
}

struct share_arg {
	struct mv_guest *g;
	int vcpu;
	struct kvm_run *run;
	__u32 result;
	int exit_reason;
};

static void *share_thread(void *p)
{
	struct share_arg *a = p;

	a->result = 0xffffffff;
	if (ioctl(a->vcpu, KVM_RUN, 0))
		return NULL;
	a->exit_reason = a->run->exit_reason;
	if (a->run->exit_reason == KVM_EXIT_IO)
		memcpy(&a->result, (char *)a->run + a->run->io.data_offset, 4);
	return NULL;
}

/* Two vCPUs rewrite entries of one shared page table, concurrently. */
TEST_F(shadow, two_vcpus_share)
{
	struct share_arg args[2];
	pthread_t th[2];
	int i, vcpu1;

	long_mode(_metadata, &self->g, lm_share_start, lm_share_end);
	vcpu1 = ioctl(self->g.vm, KVM_CREATE_VCPU, 1);
	ASSERT_LE(0, vcpu1);
	start_vcpu(_metadata, &self->g, vcpu1, 0x80010011, PML4, 0x20, 0xd00,
		   STACK - 0x800, 1);
	/* vCPU 0 starts with RDI = 0 */
	gmem64(&self->g, PD)[1] = 0x14000 | P | RW;
	for (i = 0; i < 4; i++)
		*gmem64(&self->g, 0x30000 + i * 0x1000) = 0x30000 + i * 0x1000;
	args[0] = (struct share_arg){ .g = &self->g, .vcpu = self->g.vcpu,
				      .run = self->g.run };
	args[1] = (struct share_arg){ .g = &self->g, .vcpu = vcpu1 };
	args[1].run = mmap(NULL, self->g.run_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, vcpu1, 0);
	ASSERT_NE(MAP_FAILED, args[1].run);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, share_thread,
					    &args[i]));
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(KVM_EXIT_IO, args[i].exit_reason);
		EXPECT_EQ(200U, args[i].result) TH_LOG("vCPU %d", i);
	}
	EXPECT_LE(2ULL, STAT("pte_writes_emulated") +
		  STAT("shadow_pages_unsynced"));
	munmap(args[1].run, self->g.run_size);
	close(vcpu1);
}

TEST_HARNESS_MAIN
