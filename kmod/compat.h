/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels minivisor builds against (6.1 and 6.12),
 * each behind a named helper, so that no version test is found elsewhere.
 */
#ifndef MV_COMPAT_H
#define MV_COMPAT_H

#include <linux/version.h>
#include <kunit/visibility.h>

#endif /* MV_COMPAT_H */
