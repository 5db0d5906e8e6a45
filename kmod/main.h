/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The system-level ioctls, also answered on VM fds.
 */
#ifndef MV_MAIN_H
#define MV_MAIN_H

#include <linux/compiler_types.h>

long mv_check_extension(unsigned long cap);
long mv_get_info(void __user *uinfo);

#endif /* MV_MAIN_H */
