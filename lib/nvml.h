/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvml: the few NVML calls vgpu-dm uses, through dlopen("libnvidia-ml.so.1")
 * so that the tool runs (with less knowledge) where the library is missing.
 * VGPU_DM_NVML_LIBRARY names another library file (tests use a stand-in).
 */
#ifndef VGPUDM_NVML_H
#define VGPUDM_NVML_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

struct vdm_nvml;

/* Load and initialise NVML; NULL when it is not available (logged at debug). */
struct vdm_nvml *vdm_nvml_open(struct vdm_ctx *ctx);
void vdm_nvml_close(struct vdm_nvml *n);

/* Name of a vGPU type id ("NVIDIA L40S-4Q"); 0 or -errno. */
int vdm_nvml_type_name(struct vdm_nvml *n, unsigned type_id, char *buf, size_t len);
/* Type ids a GPU supports; returns the count or -errno; *ids is malloc'd. */
int vdm_nvml_supported_types(struct vdm_nvml *n, const char *pci_addr, unsigned **ids);
/* Per-GPU maximum of a type, or -errno. */
int vdm_nvml_type_max_instances(struct vdm_nvml *n, const char *pci_addr, unsigned type_id);
/* 1 mixed-size mode, 0 equal-size mode, or -errno. */
int vdm_nvml_mixed_size_mode(struct vdm_nvml *n, const char *pci_addr);

#endif
