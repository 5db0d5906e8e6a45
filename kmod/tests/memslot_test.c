// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: memory slot checks and bookkeeping (kmod/memslot.c).
 */
#include <kunit/test.h>
#include <linux/kvm.h>
#include <linux/prandom.h>
#include <linux/sizes.h>

#include "../memslot.h"

#define MB	SZ_1M

struct memslot_ctx {
	struct mv_memslot store[8];
	u64 index[128];
	struct mv_memslots slots;
};

static int memslot_init(struct kunit *test)
{
	struct memslot_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx),
						GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->slots.slot = ctx->store;
	ctx->slots.cap = ARRAY_SIZE(ctx->store);
	ctx->slots.index = ctx->index;
	ctx->slots.index_cap = ARRAY_SIZE(ctx->index);
	/* 48 bits of guest-physical address, as 4-level tables reach */
	ctx->slots.max_gfn = BIT_ULL(36) - 1;
	test->priv = ctx;
	return 0;
}

/* Checks and applies a request; returns what the check said. */
static int set(struct kunit *test, u32 slot, u32 flags, u64 gpa, u64 size,
	       u64 uaddr, enum mv_memslot_change *changep)
{
	struct memslot_ctx *ctx = test->priv;
	struct mv_memslot_request req = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = uaddr,
	};
	enum mv_memslot_change change = MV_MEMSLOT_NONE;
	struct mv_memslot new;
	int r;

	r = mv_memslot_check(&ctx->slots, &req, &new, &change);
	if (!r)
		KUNIT_EXPECT_EQ(test, mv_memslot_apply(&ctx->slots, &new,
						       change), 0);
	if (changep)
		*changep = change;
	return r;
}

/*
 * Slots past what the second-level tables reach are refused, created or
 * moved there; one ending on the last frame is fine.
 */
static void memslot_max_gfn_test(struct kunit *test)
{
	enum mv_memslot_change change;
	u64 top = BIT_ULL(48);

	KUNIT_EXPECT_EQ(test, set(test, 0, 0, top, MB, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, top - MB / 2, MB, 0x10000000,
				  NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, BIT_ULL(52), MB, 0x10000000,
				  NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, top - MB, MB, 0x10000000,
				  &change), 0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_CREATE);
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, 0, MB, 0x20000000, NULL), 0);
	/* moving a slot there */
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, top, MB, 0x20000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, top - 2 * MB, MB, 0x20000000,
				  &change), 0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_MOVE);
}

static void memslot_bad_requests_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, set(test, 0, KVM_MEM_LOG_DIRTY_PAGES, 0, MB,
				  0x10000000, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 1U << 7, 0, MB, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, MB + 1, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0x800, MB, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, MB, 0x10000010, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 1U << 16, 0, 0, MB, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, MV_MEMSLOTS_MAX, 0, 0, MB, 0x10000000,
				  NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, -MB, 2 * MB, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, (1ULL << 31) << 12,
				  0x10000000, NULL), -EINVAL);
	/* deleting what is not there */
	KUNIT_EXPECT_EQ(test, set(test, 3, 0, 0, 0, 0, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->slots.nr, 0U);
}

static void memslot_overlap_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;

	KUNIT_ASSERT_EQ(test, set(test, 0, 0, 16 * MB, 16 * MB, 0x10000000,
				  NULL), 0);
	/* inside, across either end, around: all overlap */
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, 20 * MB, MB, 0x20000000, NULL),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, 15 * MB, 2 * MB, 0x20000000,
				  NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, 31 * MB, 2 * MB, 0x20000000,
				  NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, 0, 64 * MB, 0x20000000, NULL),
			-EEXIST);
	/* touching at either end does not */
	KUNIT_EXPECT_EQ(test, set(test, 1, 0, 32 * MB, MB, 0x20000000, NULL),
			0);
	KUNIT_EXPECT_EQ(test, set(test, 2, 0, 15 * MB, MB, 0x30000000, NULL),
			0);
	KUNIT_EXPECT_EQ(test, ctx->slots.nr, 3U);
}

static void memslot_sorted_lookup_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;
	const struct mv_memslot *s;

	KUNIT_ASSERT_EQ(test, set(test, 5, 0, 0x100000000ULL, MB, 0x50000000,
				  NULL), 0);
	KUNIT_ASSERT_EQ(test, set(test, 1, 0, 0, 640 << 10, 0x10000000, NULL),
			0);
	KUNIT_ASSERT_EQ(test, set(test, 2, KVM_MEM_READONLY, 0xfff00000, MB,
				  0x20000000, NULL), 0);
	KUNIT_ASSERT_EQ(test, ctx->slots.nr, 3U);
	KUNIT_EXPECT_EQ(test, ctx->slots.slot[0].id, 1);
	KUNIT_EXPECT_EQ(test, ctx->slots.slot[1].id, 2);
	KUNIT_EXPECT_EQ(test, ctx->slots.slot[2].id, 5);

	s = mv_memslot_find_gfn(&ctx->slots, 0x9f);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->id, 1);
	KUNIT_EXPECT_NULL(test, mv_memslot_find_gfn(&ctx->slots, 0xa0));
	s = mv_memslot_find_gfn(&ctx->slots, 0xfffff);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->flags, (u32)KVM_MEM_READONLY);
	KUNIT_EXPECT_EQ(test, s->userspace_addr, 0x20000000ULL);
	/* slot 5 starts right where slot 2 ends */
	s = mv_memslot_find_gfn(&ctx->slots, 0x100000);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->id, 5);
	s = mv_memslot_find_gfn(&ctx->slots, 0x1000ff);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->id, 5);
	KUNIT_EXPECT_NULL(test, mv_memslot_find_gfn(&ctx->slots, 0x100100));
	KUNIT_EXPECT_NULL(test, mv_memslot_find_id(&ctx->slots, 3));
}

static void memslot_change_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;
	enum mv_memslot_change change;
	const struct mv_memslot *s;

	KUNIT_ASSERT_EQ(test, set(test, 0, 0, 0, 2 * MB, 0x10000000, &change),
			0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_CREATE);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, 2 * MB, 0x10000000, &change),
			0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_NONE);
	/* size, user address and read-only-ness are fixed for life */
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, 4 * MB, 0x10000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, 2 * MB, 0x20000000, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, set(test, 0, KVM_MEM_READONLY, 0, 2 * MB,
				  0x10000000, NULL), -EINVAL);
	/* a move */
	KUNIT_ASSERT_EQ(test, set(test, 1, 0, 8 * MB, MB, 0x30000000, NULL), 0);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 7 * MB, 2 * MB, 0x10000000,
				  NULL), -EEXIST);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 16 * MB, 2 * MB, 0x10000000,
				  &change), 0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_MOVE);
	KUNIT_EXPECT_NULL(test, mv_memslot_find_gfn(&ctx->slots, 0));
	s = mv_memslot_find_gfn(&ctx->slots, 16 * MB >> 12);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, s->id, 0);
	KUNIT_EXPECT_EQ(test, ctx->slots.slot[0].id, 1);
	/* deletion, then the id and the range are free again */
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 0, 0, 0, &change), 0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_DELETE);
	KUNIT_EXPECT_EQ(test, ctx->slots.nr, 1U);
	KUNIT_EXPECT_EQ(test, set(test, 0, 0, 16 * MB, MB, 0x40000000, &change),
			0);
	KUNIT_EXPECT_EQ(test, change, MV_MEMSLOT_CREATE);
}

static void memslot_full_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;
	struct mv_memslot new = { .base_gfn = 1000, .npages = 1, .id = 99 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctx->store); i++)
		KUNIT_ASSERT_EQ(test, set(test, i, 0, i * MB, MB,
					  0x10000000 + i * MB, NULL), 0);
	KUNIT_EXPECT_EQ(test, mv_memslot_apply(&ctx->slots, &new,
					       MV_MEMSLOT_CREATE), -ENOSPC);
	KUNIT_EXPECT_EQ(test, mv_memslot_apply(&ctx->slots, &new,
					       MV_MEMSLOT_DELETE), -ENOENT);
}

/* an id past the index (the owner did not grow it) finds no slot */
static void memslot_index_cap_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;
	struct mv_memslot new = { .base_gfn = 1000, .npages = 1, .id = 128 };

	KUNIT_EXPECT_NULL(test, mv_memslot_find_id(&ctx->slots, 128));
	KUNIT_EXPECT_NULL(test, mv_memslot_find_id(&ctx->slots, 0xffff));
	KUNIT_EXPECT_EQ(test, mv_memslot_apply(&ctx->slots, &new,
					       MV_MEMSLOT_CREATE), -ENOSPC);
	KUNIT_EXPECT_EQ(test, ctx->slots.nr, 0U);
}

#define MODEL_IDS	48
#define MODEL_FRAMES	256

/*
 * 1000 random creations, moves, flag changes and deletions of small slots
 * in a small space, against a model that keeps, per id, the slot or nothing:
 * every request's verdict (an overlap is -EEXIST), and after each one
 * every lookup by id and by frame, and the sort order.
 */
static void memslot_random_model_test(struct kunit *test)
{
	struct memslot_ctx *ctx = test->priv;
	struct { u64 base, npages; u32 flags; bool used; } model[MODEL_IDS];
	s8 holder[MODEL_FRAMES + 8];
	struct rnd_state rnd;
	unsigned int op, id, i;

	memset(model, 0, sizeof(model));
	ctx->slots.slot = kunit_kcalloc(test, MODEL_IDS,
					sizeof(*ctx->slots.slot), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->slots.slot);
	ctx->slots.cap = MODEL_IDS;
	ctx->slots.index_cap = MODEL_IDS;
	prandom_seed_state(&rnd, 12);

	for (op = 0; op < 1000; op++) {
		u64 base = prandom_u32_state(&rnd) % MODEL_FRAMES;
		u64 npages = 1 + prandom_u32_state(&rnd) % 8;
		u32 flags = 0;
		bool meets = false, del;
		int r, want;

		id = prandom_u32_state(&rnd) % MODEL_IDS;
		del = model[id].used && !(prandom_u32_state(&rnd) % 3);
		if (model[id].used && !del) {
			/* a slot keeps its size and read-only-ness */
			npages = model[id].npages;
			flags = model[id].flags;
		} else if (!model[id].used) {
			flags = prandom_u32_state(&rnd) % 4 ? 0 :
				KVM_MEM_READONLY;
		}
		for (i = 0; i < MODEL_IDS && !del; i++)
			if (i != id && model[i].used &&
			    base < model[i].base + model[i].npages &&
			    model[i].base < base + npages)
				meets = true;
		want = meets && (!model[id].used || base != model[id].base) ?
			-EEXIST : 0;
		r = set(test, id, flags, base << 12, del ? 0 : npages << 12,
			0x10000000 + ((u64)id << 24), NULL);
		KUNIT_ASSERT_EQ_MSG(test, r, want, "op %u id %u", op, id);
		if (!r) {
			model[id].used = !del;
			model[id].base = base;
			model[id].npages = npages;
			model[id].flags = flags;
		}

		for (i = 0; i < MODEL_IDS; i++) {
			const struct mv_memslot *s =
				mv_memslot_find_id(&ctx->slots, i);

			KUNIT_ASSERT_EQ_MSG(test, !!s, model[i].used,
					    "op %u id %u", op, i);
			if (s)
				KUNIT_ASSERT_EQ(test, s->base_gfn,
						model[i].base);
		}
		for (i = 0; i + 1 < ctx->slots.nr; i++)
			KUNIT_ASSERT_LE(test, ctx->slots.slot[i].base_gfn +
					ctx->slots.slot[i].npages,
					ctx->slots.slot[i + 1].base_gfn);
		memset(holder, 0xff, sizeof(holder));
		for (id = 0; id < MODEL_IDS; id++)
			for (i = 0; model[id].used && i < model[id].npages; i++)
				holder[model[id].base + i] = id;
		for (i = 0; i < ARRAY_SIZE(holder); i++) {
			const struct mv_memslot *s =
				mv_memslot_find_gfn(&ctx->slots, i);

			KUNIT_ASSERT_EQ_MSG(test, s ? (int)s->id : -1,
					    (int)holder[i], "op %u frame %u",
					    op, i);
		}
	}
}

static struct kunit_case memslot_test_cases[] = {
	KUNIT_CASE(memslot_bad_requests_test),
	KUNIT_CASE(memslot_max_gfn_test),
	KUNIT_CASE(memslot_overlap_test),
	KUNIT_CASE(memslot_sorted_lookup_test),
	KUNIT_CASE(memslot_change_test),
	KUNIT_CASE(memslot_full_test),
	KUNIT_CASE(memslot_index_cap_test),
	KUNIT_CASE(memslot_random_model_test),
	{}
};

static struct kunit_suite memslot_test_suite = {
	.name = "minivisor_memslot",
	.init = memslot_init,
	.test_cases = memslot_test_cases,
};

kunit_test_suite(memslot_test_suite);
