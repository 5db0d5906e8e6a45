// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory follows the VMM's mappings: what the guest reads after the
 * VMM writes, MADV_DONTNEEDs, or munmaps and maps again; a deleted slot;
 * 2 MiB and 4 KiB second-level leaves as the binary stats
 * (KVM_GET_STATS_FD) count them.  Written against <linux/kvm.h> only, so it
 * runs on KVM too.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib/vm.h"

#define CODE_GPA	0x1000ULL
#define DATA_GPA	0x40000000ULL		/* 1 GiB, 2 MiB aligned */
#define SZ_2M		(2UL << 20)
#define PORT_ADDR	0x11
#define PORT_COUNT	0x12
#define PORT_VALUE	0x10

/*
 * 32-bit protected mode, flat, no paging: forever, read an address and a
 * page count from ports, read a dword from each of that many pages on from
 * the address, and write the last one read to a port.
 */
static const unsigned char reader[] = {
	0xe5, PORT_ADDR,			/* 0: in eax, PORT_ADDR */
	0x89, 0xc6,				/*    mov esi, eax */
	0xe5, PORT_COUNT,			/*    in eax, PORT_COUNT */
	0x89, 0xc1,				/*    mov ecx, eax */
	0x8b, 0x06,				/* 8: mov eax, [esi] */
	0x81, 0xc6, 0x00, 0x10, 0x00, 0x00,	/*    add esi, 0x1000 */
	0xe2, 0xf6,				/*    loop 8 */
	0xe7, PORT_VALUE,			/*    out PORT_VALUE, eax */
	0xeb, 0xea,				/*    jmp 0 */
};

/* Slot 1's memory */
struct data_slot {
	unsigned char *map;	/* what was mmapped */
	size_t map_size;
	unsigned char *data;	/* the slot's memory: 2 MiB aligned in @map */
	int advice_err;		/* errno of the madvise(), or 0 */
};

FIXTURE(tdp) {
	struct mv_guest g;
	struct data_slot d;
	unsigned char *data;	/* = d.data */
	int stats;
};

static struct kvm_segment flat32(__u16 sel, __u8 type)
{
	return (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .db = 1, .g = 1,
	};
}

FIXTURE_SETUP(tdp)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int r;

	self->d.map = MAP_FAILED;
	self->stats = -1;
	r = mv_guest_create(&self->g, 0, 0x10000);
	if (r == -EOPNOTSUPP)
		SKIP(return, "this backend does not run vCPUs yet");
	ASSERT_EQ(0, r) TH_LOG("guest: %s", strerror(-r));
	mv_guest_put(&self->g, CODE_GPA, reader, sizeof(reader));

	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs = flat32(0x8, 0xb);
	sregs.ds = flat32(0x10, 0x3);
	sregs.es = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.tr = (struct kvm_segment) {
		.selector = 0x18, .limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.cr0 = 0x11;		/* ET, PE */
	sregs.cr4 = 0;
	sregs.efer = 0;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));

	ASSERT_EQ(1, ioctl(self->g.dev, KVM_CHECK_EXTENSION,
			   KVM_CAP_BINARY_STATS_FD));
	self->stats = ioctl(self->g.vm, KVM_GET_STATS_FD, NULL);
	ASSERT_LE(0, self->stats) TH_LOG("KVM_GET_STATS_FD: %s",
					 strerror(errno));
}

FIXTURE_TEARDOWN(tdp)
{
	if (self->stats >= 0)
		close(self->stats);
	mv_guest_destroy(&self->g);
	if (self->d.map != MAP_FAILED)
		munmap(self->d.map, self->d.map_size);
}

/*
 * Slot 1 at DATA_GPA: @size bytes of anonymous memory at a 2 MiB aligned
 * address, with @advice (MADV_HUGEPAGE or MADV_NOHUGEPAGE); d->advice_err
 * says why the kernel did not take the advice (no THP, or no madvise()).
 */
static unsigned char *add_data_slot(struct __test_metadata *_metadata,
				    struct mv_guest *g, struct data_slot *d,
				    size_t size, int advice)
{
	struct kvm_userspace_memory_region region;
	unsigned long p;

	d->map_size = size + SZ_2M;
	d->map = mmap(NULL, d->map_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, d->map);
	p = ((unsigned long)d->map + SZ_2M - 1) & ~(SZ_2M - 1);
	d->data = (unsigned char *)p;
	d->advice_err = madvise(d->data, size, advice) ? errno : 0;
	region = (struct kvm_userspace_memory_region) {
		.slot = 1, .guest_phys_addr = DATA_GPA, .memory_size = size,
		.userspace_addr = p,
	};
	ASSERT_EQ(0, ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region));
	return d->data;
}

#define add_data(size, advice) \
	(self->data = add_data_slot(_metadata, &self->g, &self->d, size, \
				    advice))

static void expect_port(struct __test_metadata *_metadata, struct mv_guest *g,
			int dir, int port)
{
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason)
		TH_LOG("exit reason %u", g->run->exit_reason);
	ASSERT_EQ(dir, g->run->io.direction);
	ASSERT_EQ(port, g->run->io.port);
	ASSERT_EQ(4, g->run->io.size);
}

/* The guest reads a dword from each of @npages pages from @gpa on. */
static __u32 guest_read(struct __test_metadata *_metadata, struct mv_guest *g,
			__u64 gpa, __u32 npages)
{
	ASSERT_EQ(0, mv_guest_run(g));
	expect_port(_metadata, g, KVM_EXIT_IO_IN, PORT_ADDR);
	mv_guest_set_io_data(g, gpa);
	ASSERT_EQ(0, mv_guest_run(g));
	expect_port(_metadata, g, KVM_EXIT_IO_IN, PORT_COUNT);
	mv_guest_set_io_data(g, npages);
	ASSERT_EQ(0, mv_guest_run(g));
	expect_port(_metadata, g, KVM_EXIT_IO_OUT, PORT_VALUE);
	return mv_guest_io_data(g);
}

#define GUEST_READ(gpa, n) guest_read(_metadata, &self->g, gpa, n)

static void put32(unsigned char *p, __u32 v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * A statistic by name, from a stats fd, through the header and the
 * descriptors as api.rst says; -ENOENT when there is none by that name.
 */
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

	ASSERT_EQ(0, stat_get(fd, name, &v)) TH_LOG("stat %s", name);
	return v;
}

#define STAT(name) stat_value(_metadata, self->stats, name)

/* The stats fd reads as api.rst lays it out, from any offset. */
TEST_F(tdp, stats_layout)
{
	struct kvm_stats_header h;
	__u32 offsets[2];
	struct kvm_stats_desc *d;
	char id[256], *descs;
	size_t dsize;
	int seen = 0;

	ASSERT_EQ(sizeof(h), read(self->stats, &h, sizeof(h)));
	EXPECT_EQ(0U, h.flags);
	EXPECT_EQ(48U, h.name_size);	/* KVM's, since there were stats */
	EXPECT_EQ(sizeof(h), h.id_offset);
	EXPECT_EQ(h.id_offset + h.name_size, h.desc_offset);
	dsize = sizeof(*d) + h.name_size;
	EXPECT_EQ(h.desc_offset + h.num_desc * dsize, h.data_offset);
	ASSERT_LT(h.name_size, sizeof(id));
	/* read() goes on where the last one stopped: the id string */
	ASSERT_EQ(h.name_size, read(self->stats, id, h.name_size));
	id[h.name_size] = 0;
	EXPECT_EQ(0, strncmp(id, "kvm-", 4)) TH_LOG("id %s", id);
	EXPECT_EQ(getpid(), atoi(id + 4));
	/* pread() of a part of the header: desc_offset, data_offset */
	ASSERT_EQ(8, pread(self->stats, offsets, 8, 16));
	EXPECT_EQ(h.desc_offset, offsets[0]);
	EXPECT_EQ(h.data_offset, offsets[1]);

	descs = malloc(dsize * h.num_desc);
	ASSERT_NE(NULL, descs);
	ASSERT_EQ(dsize * h.num_desc,
		  pread(self->stats, descs, dsize * h.num_desc,
			h.desc_offset));
	for (__u32 i = 0; i < h.num_desc; i++) {
		d = (void *)(descs + i * dsize);
		if (!strcmp(d->name, "pages_4k") ||
		    !strcmp(d->name, "pages_2m")) {
			EXPECT_EQ(KVM_STATS_TYPE_INSTANT,
				  d->flags & KVM_STATS_TYPE_MASK);
			EXPECT_EQ(KVM_STATS_UNIT_NONE,
				  d->flags & KVM_STATS_UNIT_MASK);
			EXPECT_EQ(1, d->size);
			seen++;
		}
	}
	free(descs);
	EXPECT_EQ(2, seen);
	/* past the end: nothing */
	EXPECT_EQ(0, pread(self->stats, id, 8,
			   h.data_offset + 8 * 4096));
	/* the fd is read-only */
	EXPECT_EQ(-1, write(self->stats, id, 1));
}

/* The vCPU fd's stats: KVM's exit counters. */
TEST_F(tdp, vcpu_stats)
{
	static const unsigned char hlt = 0xf4;
	struct kvm_stats_header h;
	struct kvm_regs regs;
	char id[64];
	int fd;

	fd = ioctl(self->g.vcpu, KVM_GET_STATS_FD, NULL);
	ASSERT_LE(0, fd) TH_LOG("KVM_GET_STATS_FD: %s", strerror(errno));
	ASSERT_EQ(sizeof(h), pread(fd, &h, sizeof(h), 0));
	ASSERT_EQ(48U, h.name_size);
	ASSERT_EQ(48, pread(fd, id, 48, h.id_offset));
	id[48] = 0;
	EXPECT_EQ(0, strncmp(id, "kvm-", 4));
	EXPECT_EQ(0, strcmp(strchr(id, '/'), "/vcpu-0")) TH_LOG("id %s", id);
	EXPECT_EQ(0, stat_value(_metadata, fd, "io_exits"));
	EXPECT_EQ(0, stat_value(_metadata, fd, "halt_exits"));

	/* one HLT */
	mv_guest_put(&self->g, 0x1100, &hlt, 1);
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_GET_REGS, &regs));
	regs.rip = 0x1100;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, mv_guest_run(&self->g));
	ASSERT_EQ(KVM_EXIT_HLT, self->g.run->exit_reason);
	EXPECT_EQ(1, stat_value(_metadata, fd, "halt_exits"));
	EXPECT_EQ(0, stat_value(_metadata, fd, "io_exits"));

	/* two reads of three port accesses each */
	regs.rip = CODE_GPA;
	ASSERT_EQ(0, ioctl(self->g.vcpu, KVM_SET_REGS, &regs));
	EXPECT_EQ(0U, GUEST_READ(0x2000, 1));
	EXPECT_EQ(0U, GUEST_READ(0x3000, 1));
	EXPECT_EQ(6, stat_value(_metadata, fd, "io_exits"));
	EXPECT_EQ(1, stat_value(_metadata, fd, "halt_exits"));
	EXPECT_EQ(0, stat_value(_metadata, fd, "mmio_exits"));
	EXPECT_LE(7, stat_value(_metadata, fd, "exits"));
	close(fd);
}

/* MADV_DONTNEED: the guest then reads the zeros the VMM reads. */
TEST_F(tdp, madv_dontneed)
{
	__u64 zaps = 0, zaps2 = 0;
	bool ours;

	add_data(4 * SZ_2M, MADV_NOHUGEPAGE);
	if (madvise(self->data, 0x1000, MADV_NORMAL))
		SKIP(return, "madvise(): %s", strerror(errno));
	put32(self->data, 0xdeadbeef);
	put32(self->data + 0x3000, 0x12345678);
	EXPECT_EQ(0xdeadbeef, GUEST_READ(DATA_GPA, 1));
	EXPECT_EQ(0x12345678, GUEST_READ(DATA_GPA + 0x3000, 1));
	ours = stat_get(self->stats, "tdp_zaps", &zaps) == 0;

	ASSERT_EQ(0, madvise(self->data, 0x2000, MADV_DONTNEED));
	EXPECT_EQ(0, self->data[0]);
	EXPECT_EQ(0U, GUEST_READ(DATA_GPA, 1));
	EXPECT_EQ(0x12345678, GUEST_READ(DATA_GPA + 0x3000, 1));
	if (ours) {
		/* minivisor: exactly the one page the guest had mapped */
		EXPECT_EQ(0, stat_get(self->stats, "tdp_zaps", &zaps2));
		EXPECT_EQ(zaps + 1, zaps2);
	}

	/* the VMM writes the new page: the guest sees it */
	put32(self->data, 0xcafe0001);
	EXPECT_EQ(0xcafe0001, GUEST_READ(DATA_GPA, 1));
}

/* A VMM write to a page the guest already has mapped is seen at once. */
TEST_F(tdp, host_write_after_guest_read)
{
	add_data(SZ_2M, MADV_NOHUGEPAGE);
	put32(self->data + 0x5004, 0x11111111);
	EXPECT_EQ(0x11111111, GUEST_READ(DATA_GPA + 0x5004, 1));
	put32(self->data + 0x5004, 0x22222222);
	EXPECT_EQ(0x22222222, GUEST_READ(DATA_GPA + 0x5004, 1));
	put32(self->data + 0x5004, 0x33333333);
	EXPECT_EQ(0x33333333, GUEST_READ(DATA_GPA + 0x5004, 1));
}

/* munmap and a new MAP_FIXED mapping in its place: new, zeroed memory. */
TEST_F(tdp, munmap_and_map_fixed)
{
	void *p;

	add_data(SZ_2M, MADV_NOHUGEPAGE);
	put32(self->data + 0x1000, 0xa5a5a5a5);
	put32(self->data + 0x2000, 0x5a5a5a5a);
	EXPECT_EQ(0xa5a5a5a5, GUEST_READ(DATA_GPA + 0x1000, 1));
	EXPECT_EQ(0x5a5a5a5a, GUEST_READ(DATA_GPA + 0x2000, 1));

	ASSERT_EQ(0, munmap(self->data + 0x1000, 0x1000));
	p = mmap(self->data + 0x1000, 0x1000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(self->data + 0x1000, p);
	EXPECT_EQ(0U, GUEST_READ(DATA_GPA + 0x1000, 1));
	EXPECT_EQ(0x5a5a5a5a, GUEST_READ(DATA_GPA + 0x2000, 1));
	put32(self->data + 0x1000, 0x600d600d);
	EXPECT_EQ(0x600d600d, GUEST_READ(DATA_GPA + 0x1000, 1));

	/* MAP_FIXED straight over the old mapping does the same */
	p = mmap(self->data + 0x2000, 0x1000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(self->data + 0x2000, p);
	EXPECT_EQ(0U, GUEST_READ(DATA_GPA + 0x2000, 1));
}

/* A deleted slot is gone for the guest at once, though the VMM keeps it. */
TEST_F(tdp, slot_delete)
{
	struct kvm_userspace_memory_region region = { .slot = 1 };

	add_data(SZ_2M, MADV_NOHUGEPAGE);
	put32(self->data + 0x4000, 0x0badf00d);
	EXPECT_EQ(0x0badf00d, GUEST_READ(DATA_GPA + 0x4000, 1));
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &region));
	if (stat_get(self->stats, "tdp_zaps", &(__u64){0}) == 0)
		EXPECT_EQ(1, STAT("pages_4k"));	/* the code page */

	ASSERT_EQ(0, mv_guest_run(&self->g));
	expect_port(_metadata, &self->g, KVM_EXIT_IO_IN, PORT_ADDR);
	mv_guest_set_io_data(&self->g, DATA_GPA + 0x4000);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	expect_port(_metadata, &self->g, KVM_EXIT_IO_IN, PORT_COUNT);
	mv_guest_set_io_data(&self->g, 1);
	ASSERT_EQ(0, mv_guest_run(&self->g));
	/* KVM: MMIO; minivisor has no emulator yet: an internal error */
	EXPECT_TRUE(self->g.run->exit_reason == KVM_EXIT_MMIO ||
		    self->g.run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		TH_LOG("exit %u", self->g.run->exit_reason);
	if (self->g.run->exit_reason == KVM_EXIT_MMIO) {
		EXPECT_EQ(DATA_GPA + 0x4000, self->g.run->mmio.phys_addr);
		EXPECT_EQ(0, self->g.run->mmio.is_write);
	}
	EXPECT_EQ(0x0badf00d, *(__u32 *)(self->data + 0x4000));
}

/* Does the host back [p, p + size) with THPs?  From /proc/self/smaps. */
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

#define TOUCH_SIZE	(64UL << 20)
#define TOUCH_PAGES	(TOUCH_SIZE >> 12)

/*
 * The guest reads all 64 MiB of a slot whose memory the VMM wrote first
 * (so the host backs it now, with THPs when it can), then the stats count
 * the leaves.
 */
static void touch_64m(struct __test_metadata *_metadata, struct mv_guest *g,
		      struct data_slot *d, int stats, int advice, __u64 *p4k,
		      __u64 *p2m)
{
	unsigned char *data = add_data_slot(_metadata, g, d, TOUCH_SIZE,
					    advice);
	__u64 faults0 = 0, faults1 = 0;
	bool ours;

	for (size_t off = 0; off < TOUCH_SIZE; off += 4096)
		put32(data + off, off >> 12);
	/* the code page first, so that the count below is the data's only */
	EXPECT_EQ(0U, guest_read(_metadata, g, DATA_GPA, 1));
	ours = stat_get(stats, "tdp_faults", &faults0) == 0;

	EXPECT_EQ(TOUCH_PAGES - 1,
		  guest_read(_metadata, g, DATA_GPA, TOUCH_PAGES));
	*p4k = stat_value(_metadata, stats, "pages_4k");
	*p2m = stat_value(_metadata, stats, "pages_2m");
	if (ours) {
		stat_get(stats, "tdp_faults", &faults1);
		ksft_print_msg("64 MiB, %s: %llu faults, pages_4k %llu, pages_2m %llu\n",
			       advice == MADV_HUGEPAGE ? "THP" : "no THP",
			       (unsigned long long)(faults1 - faults0),
			       (unsigned long long)*p4k,
			       (unsigned long long)*p2m);
	}
}

/* 2 MiB-aligned THP-backed memory: 32 leaves of 2 MiB, on KVM too. */
TEST_F_TIMEOUT(tdp, pages_2m, 600)
{
	__u64 p4k, p2m;
	size_t huge;

	touch_64m(_metadata, &self->g, &self->d, self->stats, MADV_HUGEPAGE,
		  &p4k, &p2m);
	if (self->d.advice_err)
		SKIP(return, "madvise(MADV_HUGEPAGE): %s",
		     strerror(self->d.advice_err));
	huge = anon_huge_kb(self->d.data);
	if (huge != TOUCH_SIZE >> 10)
		SKIP(return, "the host gave %zu kB of THPs of 64 MiB", huge);
	EXPECT_EQ(TOUCH_SIZE / SZ_2M, p2m);
	/* the code page */
	EXPECT_EQ(1, p4k);
}

/* Without THPs: 4 KiB leaves only. */
TEST_F_TIMEOUT(tdp, pages_4k, 600)
{
	__u64 p4k, p2m;

	touch_64m(_metadata, &self->g, &self->d, self->stats, MADV_NOHUGEPAGE,
		  &p4k, &p2m);
	EXPECT_EQ(0, anon_huge_kb(self->d.data));
	EXPECT_EQ(0, p2m);
	EXPECT_EQ(TOUCH_PAGES + 1, p4k);
}

/* A 2 MiB leaf the host splits (DONTNEED of one page of the THP). */
TEST_F(tdp, split_2m)
{
	__u64 p4k, p2m;

	add_data(2 * SZ_2M, MADV_HUGEPAGE);
	if (self->d.advice_err)
		SKIP(return, "madvise(MADV_HUGEPAGE): %s",
		     strerror(self->d.advice_err));
	memset(self->data, 0x77, 2 * SZ_2M);
	if (anon_huge_kb(self->data) != 2 * SZ_2M >> 10)
		SKIP(return, "no THPs from the host");
	EXPECT_EQ(0x77777777, GUEST_READ(DATA_GPA + 0x1000, 1));
	EXPECT_EQ(0x77777777, GUEST_READ(DATA_GPA + SZ_2M, 1));
	p2m = STAT("pages_2m");
	EXPECT_EQ(2, p2m);

	/* one page of the first 2 MiB goes */
	ASSERT_EQ(0, madvise(self->data + 0x3000, 0x1000, MADV_DONTNEED));
	EXPECT_EQ(0U, GUEST_READ(DATA_GPA + 0x3000, 1));
	EXPECT_EQ(0x77777777, GUEST_READ(DATA_GPA + 0x4000, 1));
	EXPECT_EQ(0x77777777, GUEST_READ(DATA_GPA + 0x2000, 1));
	/* the second 2 MiB is still one leaf */
	EXPECT_EQ(0x77777777, GUEST_READ(DATA_GPA + SZ_2M + 0x3000, 1));
	p4k = STAT("pages_4k");
	p2m = STAT("pages_2m");
	EXPECT_EQ(1, p2m);
	/* the code page and the three pages read since the split */
	EXPECT_EQ(4, p4k);
}

/* Reads or writes /proc/sys/vm/nr_hugepages; -1 when it cannot. */
static long hugepages_sysctl(long set)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", set < 0 ? "r" : "w");
	long n = -1;

	if (!f)
		return -1;
	if (set < 0) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
	} else {
		n = fprintf(f, "%ld\n", set) > 0 ? set : -1;
	}
	if (fclose(f))
		n = -1;
	return n;
}

/* hugetlbfs memory (MAP_HUGETLB) is mapped with 2 MiB leaves too. */
TEST_F(tdp, pages_2m_hugetlb)
{
	struct kvm_userspace_memory_region region;
	long before = hugepages_sysctl(-1);
	__u64 p4k, p2m;

	if (before < 0 || hugepages_sysctl(before + 2) < 0 ||
	    hugepages_sysctl(-1) < before + 2) {
		if (before >= 0)
			hugepages_sysctl(before);
		SKIP(return, "cannot reserve two 2 MiB huge pages");
	}
	self->d.map_size = 2 * SZ_2M;
	self->d.map = mmap(NULL, self->d.map_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(MAP_FAILED, self->d.map) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, (unsigned long)self->d.map & (SZ_2M - 1));
	put32(self->d.map + 0x1000, 0x4854);
	put32(self->d.map + SZ_2M + 0x1ff000, 0x4855);
	region = (struct kvm_userspace_memory_region) {
		.slot = 1, .guest_phys_addr = DATA_GPA,
		.memory_size = 2 * SZ_2M,
		.userspace_addr = (unsigned long)self->d.map,
	};
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &region));

	EXPECT_EQ(0x4854U, GUEST_READ(DATA_GPA + 0x1000, 1));
	EXPECT_EQ(0x4855U, GUEST_READ(DATA_GPA + SZ_2M + 0x1ff000, 1));
	p4k = STAT("pages_4k");
	p2m = STAT("pages_2m");
	EXPECT_EQ(2, p2m);
	EXPECT_EQ(1, p4k);	/* the code page */

	/* the slot goes: the huge pages can go back */
	region.memory_size = 0;
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_SET_USER_MEMORY_REGION, &region));
	EXPECT_EQ(0, STAT("pages_2m"));
	munmap(self->d.map, self->d.map_size);
	self->d.map = MAP_FAILED;
	EXPECT_EQ(before, hugepages_sysctl(before));
}

TEST_HARNESS_MAIN
