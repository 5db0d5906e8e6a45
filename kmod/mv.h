/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions every part of the minivisor module shares.
 */
#ifndef MV_MV_H
#define MV_MV_H

#include <linux/printk.h>

/**
 * mv_fail() - return an error, saying in debug builds where it came from
 * @err: the negative errno to return
 *
 * Every error an ioctl returns goes through this, so that a developer who
 * enables the pr_debug() output (dynamic debug or -DDEBUG) learns which
 * check refused the call.
 */
#define mv_fail(err) __mv_fail(err, __func__, __LINE__)

static inline int __mv_fail(int err, const char *fn, int line)
{
	pr_debug("minivisor: %s:%d: error %d\n", fn, line, err);
	return err;
}

#endif /* MV_MV_H */
