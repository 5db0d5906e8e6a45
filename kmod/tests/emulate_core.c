// SPDX-License-Identifier: GPL-2.0
/*
 * The emulator compiled into the KUnit module itself.  Its two files are pure
 * (no kernel headers, nothing exported), so the suite links its own copy
 * of the same source, built with the same flags as minivisor.ko's.
 */
#include "../emul/decode.c"
#include "../emul/emulate.c"
