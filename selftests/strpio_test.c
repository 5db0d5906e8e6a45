// SPDX-License-Identifier: GPL-2.0
/*
 * String port I/O from a 64-bit guest: REP OUTS and REP INS of bytes,
 * words and dwords, across a page boundary, forwards and (bytes)
 * backwards.  An implementation may split one REP into several exits of
 * smaller counts: the host accumulates exits until the guest's next
 * ucall and checks the whole stream, what run->io says about each piece,
 * and, after INS, the guest's memory.  The guest checks its buffers and
 * RCX/RSI/RDI.  Written against <linux/kvm.h> only.
 */
#include "kselftest_harness.h"
#include "lib/guest.h"

#define PORT		0x3e8
#define BUF_OFFSET	0xf00		/* buffers cross a page boundary */

struct op {
	bool in, back;
	__u8 size;
	__u16 count;
	__u8 seed;
};

static const struct op ops[] = {
	{ .in = false, .size = 1, .count = 700, .seed = 1 },
	{ .in = false, .size = 2, .count = 300, .seed = 2 },
	{ .in = false, .size = 4, .count = 150, .seed = 3 },
	{ .in = false, .size = 1, .count = 33, .seed = 4, .back = true },
	{ .in = true, .size = 1, .count = 700, .seed = 5 },
	{ .in = true, .size = 2, .count = 300, .seed = 6 },
	{ .in = true, .size = 4, .count = 150, .seed = 7 },
	{ .in = true, .size = 1, .count = 33, .seed = 8, .back = true },
};

/* Byte @i of the stream of op @seed; the same formula on both sides. */
static inline __u8 pat(__u8 seed, unsigned int i)
{
	return (__u8)(i * 13 + seed * 37 + (i >> 8));
}

/* @buf gets the stream as memory holds it: reversed when DF is set. */
static inline void fill(__u8 *buf, const struct op *op)
{
	unsigned int n = op->count * op->size;

	for (unsigned int i = 0; i < n; i++)
		buf[op->back ? n - 1 - i : i] = pat(op->seed, i);
}

static void guest_strpio(__u8 *buf)
{
	for (unsigned int k = 0; k < ARRAY_SIZE(ops); k++) {
		const struct op *op = &ops[k];
		unsigned int n = op->count * op->size;
		__u64 cnt = op->count;
		__u8 *p = op->back ? buf + n - 1 : buf, *want;

		if (!op->in) {
			fill(buf, op);
			if (op->back)
				asm volatile("std; rep outsb; cld"
					     : "+S"(p), "+c"(cnt) : "d"(PORT) : "memory");
			else if (op->size == 1)
				asm volatile("rep outsb"
					     : "+S"(p), "+c"(cnt) : "d"(PORT) : "memory");
			else if (op->size == 2)
				asm volatile("rep outsw"
					     : "+S"(p), "+c"(cnt) : "d"(PORT) : "memory");
			else
				asm volatile("rep outsl"
					     : "+S"(p), "+c"(cnt) : "d"(PORT) : "memory");
		} else {
			for (unsigned int i = 0; i < n + 16; i++)
				buf[i] = 0xee;
			if (op->back)
				asm volatile("std; rep insb; cld"
					     : "+D"(p), "+c"(cnt) : "d"(PORT) : "memory");
			else if (op->size == 1)
				asm volatile("rep insb"
					     : "+D"(p), "+c"(cnt) : "d"(PORT) : "memory");
			else if (op->size == 2)
				asm volatile("rep insw"
					     : "+D"(p), "+c"(cnt) : "d"(PORT) : "memory");
			else
				asm volatile("rep insl"
					     : "+D"(p), "+c"(cnt) : "d"(PORT) : "memory");
			/* the data, and nothing past it */
			want = buf + 8192;
			fill(want, op);
			for (unsigned int i = 0; i < n; i++)
				GUEST_ASSERT_EQ(buf[i], want[i]);
			GUEST_ASSERT_EQ(buf[n], 0xee);
		}
		GUEST_ASSERT_EQ(cnt, 0);
		GUEST_ASSERT_EQ(p, op->back ? buf - 1 : buf + n);
		GUEST_SYNC(k);
	}
}

TEST(rep_ins_outs)
{
	__u8 *stream, *want, *buf;
	struct mv_vcpu *vcpu;
	struct mv_ucall uc;
	struct mv_vm *vm;
	__u64 gbuf;
	char msg[512];

	vm = mv_vm_create(16 << 20);
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	gbuf = mv_vm_alloc(vm, 4 * 4096) + BUF_OFFSET;
	vcpu = mv_vcpu_add(vm, 0, guest_strpio, gbuf, 0);
	if (!vcpu && errno == EOPNOTSUPP)
		SKIP(mv_vm_free(vm); return, "no vCPUs on this backend yet");
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	buf = mv_gpa2hva(vm, gbuf);
	stream = calloc(1, 4096);
	want = calloc(1, 4096);
	ASSERT_NE(NULL, stream);
	ASSERT_NE(NULL, want);

	for (unsigned int k = 0; k < ARRAY_SIZE(ops); k++) {
		const struct op *op = &ops[k];
		unsigned int n = op->count * op->size, got = 0, exits = 0;
		struct kvm_run *run = vcpu->run;

		for (unsigned int i = 0; i < n; i++)
			want[i] = pat(op->seed, i);
		for (;;) {
			unsigned int bytes;
			__u8 *data;

			ASSERT_EQ(0, mv_vcpu_run(vcpu));
			if (mv_get_ucall(vcpu, &uc) != UCALL_NONE)
				break;
			ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
				TH_LOG("op %u: %s", k, mv_exit_str(vcpu, &uc, msg, sizeof(msg)));
			ASSERT_EQ(op->in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT,
				  run->io.direction) TH_LOG("op %u", k);
			ASSERT_EQ(PORT, run->io.port);
			ASSERT_EQ(op->size, run->io.size);
			ASSERT_GE(run->io.count, 1);
			bytes = run->io.count * op->size;
			ASSERT_LE(got + bytes, n)
				TH_LOG("op %u: %u bytes after %u", k, bytes, got);
			ASSERT_LE(run->io.data_offset + bytes, vcpu->run_size);
			data = (__u8 *)run + run->io.data_offset;
			if (op->in)
				memcpy(data, want + got, bytes);
			else
				memcpy(stream + got, data, bytes);
			got += bytes;
			exits++;
		}
		ASSERT_EQ(UCALL_SYNC, uc.cmd)
			TH_LOG("op %u: %s", k, mv_exit_str(vcpu, &uc, msg, sizeof(msg)));
		EXPECT_EQ(k, uc.args[0]);
		EXPECT_EQ(n, got);
		if (!op->in) {
			EXPECT_EQ(0, memcmp(want, stream, n)) TH_LOG("op %u", k);
		} else {
			/* the guest's memory as the host sees it */
			for (unsigned int i = 0; i < n; i++) {
				ASSERT_EQ(want[i], buf[op->back ? n - 1 - i : i])
					TH_LOG("op %u byte %u", k, i);
			}
			EXPECT_EQ(0xee, buf[n]);
		}
		TH_LOG("op %u: %u bytes in %u exits", k, n, exits);
	}
	ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	free(stream);
	free(want);
	mv_vm_free(vm);
}

TEST_HARNESS_MAIN
