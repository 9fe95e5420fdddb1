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

/* ---- MIG (doctor-plan-mig.md 4); every call returns 0 or -errno and leaves
 * NVML's message for the last failure in vdm_nvml_last_error. NVML codes map:
 * IN_USE -EBUSY, INSUFFICIENT_RESOURCES -ENOSPC, RESET_REQUIRED -EAGAIN,
 * NOT_SUPPORTED -EOPNOTSUPP, NOT_FOUND -ENOENT, NO_PERMISSION -EPERM,
 * INVALID_ARGUMENT -EINVAL, others -EIO. ---- */

/* "In use by another client (NVML_ERROR_IN_USE)", or "" */
const char *vdm_nvml_last_error(const struct vdm_nvml *n);

/* Current and pending MIG mode (0 off, 1 on); -EOPNOTSUPP: not MIG-capable. */
int vdm_nvml_mig_mode(struct vdm_nvml *n, const char *pci_addr, int *current, int *pending);
/* Set MIG mode: 0 when it took effect; -EAGAIN when it stays pending because
 * the GPU reset that activates it failed (Ampere with VFs or clients). */
int vdm_nvml_set_mig_mode(struct vdm_nvml *n, const char *pci_addr, int mode);

struct vdm_nvml_placement {
	unsigned start, size;   /* memory slots */
};
struct vdm_nvml_gip {
	unsigned id;            /* the profile id NVML creates by (nvidia-smi -lgip ID) */
	unsigned slices;        /* compute slices */
	unsigned max;           /* instances per GPU */
	unsigned long long mem_mib;
	char name[48];          /* "1g.5gb+me" */
	struct vdm_nvml_placement *pl; /* every possible placement */
	size_t n_pl;
};
/* GPU-instance profiles of a GPU (every NVML profile constant it supports);
 * returns the count, *out malloc'd (free with vdm_nvml_gips_free). */
int vdm_nvml_gi_profiles(struct vdm_nvml *n, const char *pci_addr, struct vdm_nvml_gip **out);
void vdm_nvml_gips_free(struct vdm_nvml_gip *p, size_t n);

struct vdm_nvml_gi {
	unsigned id, profile_id, start, size;
	unsigned n_ci;          /* compute instances */
};
/* The GPU instances of the given profiles; returns the count, *out malloc'd. */
int vdm_nvml_gis(struct vdm_nvml *n, const char *pci_addr, const struct vdm_nvml_gip *p, size_t np,
		 struct vdm_nvml_gi **out);
/* Create a GPU instance of profile_id at placement start, then its full
 * compute instance (nvidia-smi mig -cgi ID -C). *id gets the GI id. If the
 * compute instance fails the GI is destroyed again. */
int vdm_nvml_create_gi(struct vdm_nvml *n, const char *pci_addr, const struct vdm_nvml_gip *p,
		       unsigned start, unsigned *id);
/* Destroy a GPU instance and its compute instances. */
int vdm_nvml_destroy_gi(struct vdm_nvml *n, const char *pci_addr, unsigned gi_id);

/* GI profile id a vGPU type needs; -1 for a time-sliced type, or -errno. */
int vdm_nvml_type_gi_profile(struct vdm_nvml *n, unsigned type_id);
/* vGPUs of a MIG-backed type one GPU instance holds, or -errno. */
int vdm_nvml_type_per_gi(struct vdm_nvml *n, unsigned type_id);

struct vdm_nvml_vgpu {
	unsigned type;
	int gi;                 /* GPU instance id, -1 none */
	char uuid[40];          /* mdev UUID, "" on vendor VFIO */
};
/* The GPU's active vGPUs; returns the count, *out malloc'd. */
int vdm_nvml_active_vgpus(struct vdm_nvml *n, const char *pci_addr, struct vdm_nvml_vgpu **out);

#endif
