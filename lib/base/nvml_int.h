/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvml_int: what nvml.c (loading, vGPU types) and nvml_mig.c (MIG) share:
 * NVML's C interface, declared here from its documented signatures (nvml.h
 * 13.3; no NVIDIA header is used), the loaded library's function table and
 * the helpers that turn NVML's return codes into -errno.
 */
#ifndef VGPUDM_NVML_INT_H
#define VGPUDM_NVML_INT_H

#include "nvml.h"

/* NVML's C interface, declared here from its documented signatures. */
typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
typedef unsigned int nvmlVgpuTypeId_t;
typedef struct {
	unsigned int version;
	unsigned int mode;
} nvmlVgpuHeterogeneousMode_t;
typedef void *nvmlGpuInstance_t;
typedef void *nvmlComputeInstance_t;
typedef unsigned int nvmlVgpuInstance_t;
typedef struct {
	unsigned int start, size;
} nvmlGpuInstancePlacement_t;
typedef struct {
	unsigned int version, id, isP2pSupported, sliceCount, instanceCount, multiprocessorCount;
	unsigned int copyEngineCount, decoderCount, encoderCount, jpegCount, ofaCount;
	unsigned long long memorySizeMB;
	char name[96];
} nvmlGpuInstanceProfileInfo_v2_t;
typedef struct {
	nvmlDevice_t device;
	unsigned int id, profileId;
	nvmlGpuInstancePlacement_t placement;
} nvmlGpuInstanceInfo_t;
typedef struct {
	unsigned int id, sliceCount, instanceCount, multiprocessorCount, sharedCopyEngineCount;
	unsigned int sharedDecoderCount, sharedEncoderCount, sharedJpegCount, sharedOfaCount;
} nvmlComputeInstanceProfileInfo_t;
typedef struct {
	unsigned int version;
	nvmlVgpuTypeId_t vgpuTypeId;
	unsigned int maxInstancePerGI;
} nvmlVgpuTypeMaxInstance_v1_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_FUNCTION_NOT_FOUND 13
#define NVML_ERROR_RESET_REQUIRED 16
#define NVML_ERROR_IN_USE 19
#define NVML_ERROR_INSUFFICIENT_RESOURCES 23
#define NVML_INVALID_ID 0xFFFFFFFFu
#define NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED 0
/* No profile count: nvml.h (12.9 on) says to enumerate GPU- and compute-
 * instance profiles from 0 "until the API returns INVALID_ARGUMENT"; the
 * count grows (GI 0x11 up to 13.1, 0x12 from 13.2 with 3_SLICE_GFX; CI 8, 9
 * from 13.3 with 7_SLICE_NVL). This bound only stops a library that never
 * answers INVALID_ARGUMENT. */
#define PROFILE_SCAN_LIMIT 256u
#define NVML_GI_PROFILE_INFO_V2 ((unsigned)sizeof(nvmlGpuInstanceProfileInfo_v2_t) | (2u << 24))
#define NVML_VGPU_TYPE_MAX_INSTANCE_V1 ((unsigned)sizeof(nvmlVgpuTypeMaxInstance_v1_t) | (1u << 24))
#define NVML_VGPU_HETEROGENEOUS_MODE_V1 (sizeof(nvmlVgpuHeterogeneousMode_t) | (1u << 24))

struct vdm_nvml {
	struct vdm_ctx *ctx;
	void *lib;
	nvmlReturn_t (*init)(void);
	nvmlReturn_t (*shutdown)(void);
	const char *(*error_string)(nvmlReturn_t);
	nvmlReturn_t (*by_bus_id)(const char *, nvmlDevice_t *);
	nvmlReturn_t (*type_name)(nvmlVgpuTypeId_t, char *, unsigned int *);
	nvmlReturn_t (*supported)(nvmlDevice_t, unsigned int *, nvmlVgpuTypeId_t *);
	nvmlReturn_t (*max_instances)(nvmlDevice_t, nvmlVgpuTypeId_t, unsigned int *);
	nvmlReturn_t (*hetero_mode)(nvmlDevice_t, nvmlVgpuHeterogeneousMode_t *);
	nvmlReturn_t (*get_mig)(nvmlDevice_t, unsigned int *, unsigned int *);
	nvmlReturn_t (*set_mig)(nvmlDevice_t, unsigned int, nvmlReturn_t *);
	nvmlReturn_t (*gip_info)(nvmlDevice_t, unsigned int, nvmlGpuInstanceProfileInfo_v2_t *);
	nvmlReturn_t (*gip_placements)(nvmlDevice_t, unsigned int, nvmlGpuInstancePlacement_t *, unsigned int *);
	nvmlReturn_t (*gi_create)(nvmlDevice_t, unsigned int, const nvmlGpuInstancePlacement_t *, nvmlGpuInstance_t *);
	nvmlReturn_t (*gi_list)(nvmlDevice_t, unsigned int, nvmlGpuInstance_t *, unsigned int *);
	nvmlReturn_t (*gi_by_id)(nvmlDevice_t, unsigned int, nvmlGpuInstance_t *);
	nvmlReturn_t (*gi_info)(nvmlGpuInstance_t, nvmlGpuInstanceInfo_t *);
	nvmlReturn_t (*gi_destroy)(nvmlGpuInstance_t);
	nvmlReturn_t (*cip_info)(nvmlGpuInstance_t, unsigned int, unsigned int, nvmlComputeInstanceProfileInfo_t *);
	nvmlReturn_t (*ci_create)(nvmlGpuInstance_t, unsigned int, nvmlComputeInstance_t *);
	nvmlReturn_t (*ci_list)(nvmlGpuInstance_t, unsigned int, nvmlComputeInstance_t *, unsigned int *);
	nvmlReturn_t (*ci_destroy)(nvmlComputeInstance_t);
	nvmlReturn_t (*type_gip)(nvmlVgpuTypeId_t, unsigned int *);
	nvmlReturn_t (*type_per_gi)(nvmlVgpuTypeMaxInstance_v1_t *);
	nvmlReturn_t (*active_vgpus)(nvmlDevice_t, unsigned int *, nvmlVgpuInstance_t *);
	nvmlReturn_t (*vgpu_type)(nvmlVgpuInstance_t, nvmlVgpuTypeId_t *);
	nvmlReturn_t (*vgpu_gi)(nvmlVgpuInstance_t, unsigned int *);
	nvmlReturn_t (*vgpu_uuid)(nvmlVgpuInstance_t, char *, unsigned int);
	char last_error[160];
};

/* NVML's message for a code. */
const char *vdm__nvml_strerror(struct vdm_nvml *n, nvmlReturn_t r);
/* A code as -errno (IN_USE -EBUSY, ..., others -EIO; see nvml.h). */
int vdm__nvml_errno(nvmlReturn_t r);
/* The device at a PCI address; 0 or -errno. */
int vdm__nvml_device(struct vdm_nvml *n, const char *addr, nvmlDevice_t *dev);
/* Record a failed call's message in last_error; returns its -errno. */
int vdm__nvml_failed(struct vdm_nvml *n, const char *what, nvmlReturn_t r);

/* Return -EOPNOTSUPP (with last_error) when the library lacks a function. */
#define NEED(n, fn) \
	do { \
		if (!(n)->fn) { \
			snprintf((n)->last_error, sizeof((n)->last_error), "NVML lacks " #fn); \
			return -EOPNOTSUPP; \
		} \
	} while (0)

#endif
