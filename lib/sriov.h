/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sriov: enable the SR-IOV virtual functions of GPUs a config selects, with
 * NVIDIA's sriov-manage, and wait (bounded) until the vGPU manager sees them.
 * sriov-manage can exit 0 without making VFs, so success is judged by what
 * appears in sysfs, not by its status.
 */
#ifndef VGPUDM_SRIOV_H
#define VGPUDM_SRIOV_H

#include "host.h"
#include "spec.h"



/* GPUs of *host that cfg selects, have SR-IOV and no enabled VFs: run
 * "sriov-manage -e <addr>" for each, then rescan until each has a framework
 * or timeout_ms passes. On success *host is replaced by the new scan.
 * Returns the number of GPUs enabled, or -errno with *err set. */
int vdm_sriov_enable(struct vdm_host **host, const struct vdm_config *cfg, int timeout_ms, char **err);

/* Run "sriov-manage -e|-d <addr>" and wait up to timeout_ms until the PF's
 * sriov_numvfs is non-zero (enable) or zero. 0 or -errno with *err set.
 * MIG needs it: a mode change on Ampere needs the VFs off (doctor-plan-mig.md 4.2). */
int vdm_sriov_manage(struct vdm_ctx *ctx, const char *addr, bool enable, int timeout_ms, char **err);

#endif
