/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sriov: enable the SR-IOV virtual functions of GPUs a config selects, with
 * NVIDIA's sriov-manage (found and run through lib/exec), and wait (bounded)
 * until the vGPU manager sees them; disable them again when the run that
 * enabled them is refused or rolled back. sriov-manage can exit 0 without
 * making VFs, or non-zero after making them, so success is judged by what
 * appears in sysfs, not by its status.
 */
#ifndef VGPUDM_SRIOV_H
#define VGPUDM_SRIOV_H

#include "host.h"
#include "spec/spec.h"

/* The GPUs (PF addresses) whose VFs a run enabled. */
struct vdm_sriov_enabled {
	char (*addrs)[VDM_ADDR_LEN];
	size_t n;
};
void vdm_sriov_enabled_free(struct vdm_sriov_enabled *e);

/* Does cfg select a GPU of h that has SR-IOV, no enabled VFs and types to
 * create (a GPU vdm_sriov_enable would enable)? */
bool vdm_sriov_needed(const struct vdm_host *h, const struct vdm_config *cfg, size_t gpu);

/* GPUs of *host that cfg selects, have SR-IOV and no enabled VFs: run
 * "sriov-manage -e <addr>" for each, then rescan until each has a framework
 * or timeout_ms (for all of it, sriov-manage included) passes. On success
 * *host is replaced by the new scan. done (may be NULL) gets every GPU
 * sriov-manage was run for, also on failure, so that the caller can undo.
 * Returns the number of GPUs enabled, or -errno with *err set. */
int vdm_sriov_enable(struct vdm_host **host, const struct vdm_config *cfg, int timeout_ms,
		     struct vdm_sriov_enabled *done, char **err);

/* Disable the VFs of the GPUs in e ("sriov-manage -d <addr>"), within
 * timeout_ms, and check by a rescan (*host replaced) that they have none.
 * Returns 0, or -errno with *err set to one line naming what is still on. */
int vdm_sriov_disable(struct vdm_host **host, const struct vdm_sriov_enabled *e, int timeout_ms,
		      char **err);

/* Run "sriov-manage -e|-d <addr>" and wait up to timeout_ms until the PF's
 * sriov_numvfs is non-zero (enable) or zero. 0 or -errno with *err set.
 * MIG needs it: a mode change on Ampere needs the VFs off (doctor-plan-mig.md 4.2). */
int vdm_sriov_manage(struct vdm_ctx *ctx, const char *addr, bool enable, int timeout_ms, char **err);

#endif
