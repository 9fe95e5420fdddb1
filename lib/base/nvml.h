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

#define VDM_NVML_SONAME "libnvidia-ml.so.1"

/* Where NVML is, first match wins: $VGPU_DM_NVML_LIBRARY; libnvidia-ml.so.1
 * under the driver root (ctx.h), then under the host root when that is not
 * "/", each in /, /usr/lib64, /usr/lib/{x86_64,aarch64}-linux-gnu, /lib64,
 * /lib/{x86_64,aarch64}-linux-gnu (upstream's list, vgpu-device-manager
 * find.go), symlinks resolved inside that root; else the bare soname for the
 * dynamic linker's search. path gets the file (len bytes), *how where it
 * came from ("VGPU_DM_NVML_LIBRARY", "under the driver root", "under the
 * host root", "the dynamic linker's search"). 0 found, 1 left to the
 * dynamic linker. */
int vdm_nvml_find(struct vdm_ctx *ctx, char *path, size_t len, const char **how);
/* Load and initialise NVML (vdm_nvml_find); NULL when it is not available
 * (logged at debug when it was not found, as a warning when a file that was
 * found does not load or initialise). */
struct vdm_nvml *vdm_nvml_open(struct vdm_ctx *ctx);
void vdm_nvml_close(struct vdm_nvml *n);
/* Why NVML is not available, for a message: "NVML could not be loaded
 * (dlerror): install ... or set VGPU_DM_NVML_LIBRARY", or "NVML was loaded
 * from PATH but nvmlInit_v2 failed: <NVML's error> (hint)". The last
 * vdm_nvml_open of the process decides; static storage. */
const char *vdm_nvml_why(void);

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
	unsigned index;         /* its NVML_GPU_INSTANCE_PROFILE_* constant */
	unsigned slices;        /* compute slices */
	unsigned max;           /* instances per GPU */
	unsigned long long mem_mib;
	char name[48];          /* "1g.5gb+me" */
	struct vdm_nvml_placement *pl; /* every possible placement */
	size_t n_pl;
};
/* GPU-instance profiles of a GPU: every NVML_GPU_INSTANCE_PROFILE_* index
 * from 0 until NVML answers INVALID_ARGUMENT (nvml.h's forward-compatible
 * enumeration: no fixed count), with their placements. Returns the count,
 * *out malloc'd (free with vdm_nvml_gips_free); 0 while MIG mode is off
 * (nvml.h: profile info is NOT_SUPPORTED then); -EPERM when NVML refuses
 * the caller (placements need a privileged user), vdm_nvml_last_error
 * saying which call. */
int vdm_nvml_gi_profiles(struct vdm_nvml *n, const char *pci_addr, struct vdm_nvml_gip **out);
void vdm_nvml_gips_free(struct vdm_nvml_gip *p, size_t n);

struct vdm_nvml_gi {
	unsigned id, profile_id, start, size;
	unsigned n_ci;          /* compute instances */
};
/* The GPU instances of the given profiles, each with its compute instances
 * counted over every compute-instance profile (enumerated by index, listed
 * by the profile ID the profile-info call gives); returns the count, *out
 * malloc'd, or -errno (-EPERM: not a privileged caller). */
int vdm_nvml_gis(struct vdm_nvml *n, const char *pci_addr, const struct vdm_nvml_gip *p, size_t np,
		 struct vdm_nvml_gi **out);
/* Create a GPU instance of profile_id at placement start, then its full
 * compute instance (nvidia-smi mig -cgi ID -C). *id gets the GI id. If the
 * compute instance fails the GI is destroyed again. */
int vdm_nvml_create_gi(struct vdm_nvml *n, const char *pci_addr, const struct vdm_nvml_gip *p,
		       unsigned start, unsigned *id);
/* Destroy a GPU instance and its compute instances (of every profile). */
int vdm_nvml_destroy_gi(struct vdm_nvml *n, const char *pci_addr, unsigned gi_id);

/* The GI profile id a vGPU type needs, in *gip: >= 0, or
 * VDM_NVML_TIME_SLICED for a time-sliced type (NVML's
 * INVALID_GPU_INSTANCE_PROFILE_ID). 0, or -errno when NVML cannot say
 * (-EPERM among them: not "time-sliced"); *gip is then untouched. */
#define VDM_NVML_TIME_SLICED (-1)
int vdm_nvml_type_gi_profile(struct vdm_nvml *n, unsigned type_id, int *gip);
/* vGPUs of a MIG-backed type one GPU instance holds, or -errno. */
int vdm_nvml_type_per_gi(struct vdm_nvml *n, unsigned type_id);

struct vdm_nvml_vgpu {
	unsigned type;
	int gi;                 /* GPU instance id, -1 none */
	char uuid[80];          /* mdev UUID, "" on vendor VFIO; NVML_DEVICE_UUID_BUFFER_SIZE */
};
/* The GPU's active vGPUs; returns the count, *out malloc'd. */
int vdm_nvml_active_vgpus(struct vdm_nvml *n, const char *pci_addr, struct vdm_nvml_vgpu **out);

#endif
