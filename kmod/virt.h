/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Turning VMX/SVM on and off on every CPU, shared by all VMs.
 */
#ifndef MV_VIRT_H
#define MV_VIRT_H

#include "cpufeat.h"
#include "ops.h"

/* (c) chosen by mv_virt_init() at module init, constant afterwards */
extern const struct mv_vendor_ops *mv_ops;
extern struct mv_cpu_caps mv_caps;

struct dentry;

int mv_virt_init(void);
void mv_virt_debugfs_init(struct dentry *dir);
void mv_virt_exit(void);
int mv_virt_get(void);
void mv_virt_put(void);

#endif /* MV_VIRT_H */
