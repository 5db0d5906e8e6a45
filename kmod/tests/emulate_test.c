// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the instruction emulator (kmod/emul/), one test per case
 * of emulate_cases.h; testing/emul runs the same table in userspace.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "../emul/emulate.h"
#include "emulate_harness.h"

static void emulate_case_desc(const struct ec_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(emulate_case, ec_cases, emulate_case_desc);

static void emulate_case_test(struct kunit *test)
{
	const struct ec_case *c = test->param_value;
	struct ec_state *st;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	if (ec_run(st, c))
		KUNIT_FAIL(test, "%s: %s", c->name, st->msg);
}

static void emulate_decode_desc(const struct ec_decode *d, char *desc)
{
	strscpy(desc, d->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(emulate_decode, ec_decodes, emulate_decode_desc);

static void emulate_decode_test(struct kunit *test)
{
	const struct ec_decode *d = test->param_value;
	struct ec_state *st;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	if (ec_decode_run(st, d))
		KUNIT_FAIL(test, "%s: %s", d->name, st->msg);
}

static struct kunit_case emulate_test_cases[] = {
	KUNIT_CASE_PARAM(emulate_case_test, emulate_case_gen_params),
	KUNIT_CASE_PARAM(emulate_decode_test, emulate_decode_gen_params),
	{}
};

static struct kunit_suite emulate_test_suite = {
	.name = "minivisor_emulate",
	.test_cases = emulate_test_cases,
};

kunit_test_suite(emulate_test_suite);
