/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's integer types and bool, for building kmod/emul/
 * in userspace (emulate.h includes this outside the kernel).
 */
#ifndef EMUL_TYPES_H
#define EMUL_TYPES_H

#include <stdbool.h>

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT8_TYPE__ s8;
typedef __INT16_TYPE__ s16;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;

#endif /* EMUL_TYPES_H */
