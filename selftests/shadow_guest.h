/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest programs of shadow_test (shadow_guest.S): each symbol pair
 * bounds one program, copied to guest address 0x1000.
 */
#ifndef SHADOW_GUEST_H
#define SHADOW_GUEST_H

extern const unsigned char lm_pf_start[], lm_pf_end[], lm_pf_handler[];
extern const unsigned char lm_ad_start[], lm_ad_end[];
extern const unsigned char lm_invlpg_start[], lm_invlpg_end[];
extern const unsigned char lm_as_start[], lm_as_end[];
extern const unsigned char lm_flood_start[], lm_flood_end[];
extern const unsigned char lm_many_start[], lm_many_end[];
extern const unsigned char lm_alias_start[], lm_alias_end[];
extern const unsigned char lm_loop_start[], lm_loop_end[];
extern const unsigned char lm_share_start[], lm_share_end[];
extern const unsigned char lm_2m_start[], lm_2m_end[];
extern const unsigned char lm_2m_wp_start[], lm_2m_wp_end[];
extern const unsigned char lm_1g_start[], lm_1g_end[];
extern const unsigned char lm_cow_start[], lm_cow_end[], lm_cow_handler[];
extern const unsigned char pm_start[], pm_end[];

#endif /* SHADOW_GUEST_H */
