/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest of df_test (df_guest.S), copied to guest address 0x1000.
 */
#ifndef DF_GUEST_H
#define DF_GUEST_H

extern const unsigned char df_guest_start[], df_guest_handler[],
	df_guest_end[];

#endif /* DF_GUEST_H */
