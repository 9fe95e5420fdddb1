/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export: the host's current vGPU layout written as a v1 config file with one
 * label, which apply accepts and assert then finds applied. One entry per GPU
 * that has a vGPU framework:
 *
 *   - device-filter: "0x1EB810DE"     device id + vendor id of the GPU
 *     devices: [0]                    its index
 *     vgpu-devices: {T4-4Q: 4}        its vGPUs counted by type, GPU type order
 *
 * vGPUs of a type the driver no longer lists (type -1) cannot be written; they
 * are left out, and each is named in a warning through the context's log.
 * The YAML is produced with libyaml's emitter; vdm_json_export (json.h) builds
 * the same structure as a JSON object.
 */
#ifndef VGPUDM_EXPORT_H
#define VGPUDM_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"

#define VDM_EXPORT_LABEL "current"

/* Does export write an entry for this GPU? (It has a vGPU framework.) */
bool vdm_export_gpu(const struct vdm_gpu *gpu);
/* Number of GPUs export writes an entry for; 0 means there is nothing to export
 * (a label needs at least one entry). */
size_t vdm_export_n_gpus(const struct vdm_host *host);
/* Log a warning for every vGPU export leaves out; returns how many. */
size_t vdm_export_warn_skipped(struct vdm_host *host);
/* Is there anything to export? -ENODEV with *err set if not; else warns
 * about what cannot be exported (vdm_export_warn_skipped) and returns 0. */
int vdm_export_prepare(struct vdm_host *host, char **err);

/* The host as a YAML v1 config with one label (NULL: "current"). Returns a
 * malloc'd NUL-terminated string, or NULL with *err set (malloc'd) when the
 * host has no GPU to export or the emitter fails. Warns about skipped vGPUs. */
char *vdm_export_yaml(struct vdm_host *host, const char *label, char **err);

#endif
