/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the NVML stand-in's files: NVML's types and return codes (from
 * the public documentation) and the helpers that read the simulator. */
#ifndef VGPU_SIM_NVML_STANDIN_H
#define VGPU_SIM_NVML_STANDIN_H

#include <stdbool.h>

#define NVML_API __attribute__((visibility("default")))

typedef enum nvmlReturn_enum {
	NVML_SUCCESS = 0,
	NVML_ERROR_UNINITIALIZED = 1,
	NVML_ERROR_INVALID_ARGUMENT = 2,
	NVML_ERROR_NOT_SUPPORTED = 3,
	NVML_ERROR_NO_PERMISSION = 4,
	NVML_ERROR_ALREADY_INITIALIZED = 5,
	NVML_ERROR_NOT_FOUND = 6,
	NVML_ERROR_INSUFFICIENT_SIZE = 7,
	NVML_ERROR_INSUFFICIENT_POWER = 8,
	NVML_ERROR_DRIVER_NOT_LOADED = 9,
	NVML_ERROR_TIMEOUT = 10,
	NVML_ERROR_IRQ_ISSUE = 11,
	NVML_ERROR_LIBRARY_NOT_FOUND = 12,
	NVML_ERROR_FUNCTION_NOT_FOUND = 13,
	NVML_ERROR_CORRUPTED_INFOROM = 14,
	NVML_ERROR_GPU_IS_LOST = 15,
	NVML_ERROR_RESET_REQUIRED = 16,
	NVML_ERROR_OPERATING_SYSTEM = 17,
	NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
	NVML_ERROR_IN_USE = 19,
	NVML_ERROR_MEMORY = 20,
	NVML_ERROR_NO_DATA = 21,
	NVML_ERROR_VGPU_ECC_NOT_SUPPORTED = 22,
	NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
	NVML_ERROR_FREQ_NOT_SUPPORTED = 24,
	NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
	NVML_ERROR_DEPRECATED = 26,
	NVML_ERROR_NOT_READY = 27,
	NVML_ERROR_GPU_NOT_FOUND = 28,
	NVML_ERROR_INVALID_STATE = 29,
	NVML_ERROR_UNKNOWN = 999,
} nvmlReturn_t;

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef unsigned int nvmlVgpuTypeId_t;

typedef struct nvmlVgpuHeterogeneousMode_v1_st {
	unsigned int version;
	unsigned int mode; /* 0 equal-size, 1 mixed-size */
} nvmlVgpuHeterogeneousMode_v1_t;
typedef nvmlVgpuHeterogeneousMode_v1_t nvmlVgpuHeterogeneousMode_t;

/* NVML_STRUCT_VERSION(VgpuHeterogeneousMode, 1): sizeof | 1 << 24 */
#define nvmlVgpuHeterogeneousMode_v1 0x1000008u

struct nvmlDevice_st {
	char bdf[16]; /* "0000:3b:00.0", as the simulator names it */
};

struct standin_state {
	unsigned refcount;
	char *root;
	struct nvmlDevice_st *devs;
	unsigned ndevs;
};
extern struct standin_state st;

/* Contents of a file below the root, NUL-terminated; NULL with errno set. */
char *slurp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One write() to a file below the root: 0 or an errno. */
int spew(const char *data, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool valid_device(nvmlDevice_t dev);
/* Line "id rest..." of a table: rest copied (malloc'd). */
bool table_find(const char *table, unsigned id, char **rest);
/* Ids in the first field of each line; returns the count (ids may be NULL). */
unsigned table_ids(const char *table, nvmlVgpuTypeId_t *ids, unsigned max);

#define CHECK_INIT()                                 \
	do {                                         \
		if (!st.refcount)                    \
			return NVML_ERROR_UNINITIALIZED; \
	} while (0)

/* Privileged calls (the header's "Requires privileged user" / "Requires
 * root user"): NVML_ERROR_NO_PERMISSION unless the caller's effective uid is
 * 0 (SIMPLIFICATION: the real driver checks access to the MIG "config"
 * capability, /dev/nvidia-caps, root-only by default). */
#define CHECK_PRIVILEGED()                           \
	do {                                         \
		if (!standin_privileged())           \
			return NVML_ERROR_NO_PERMISSION; \
	} while (0)
bool standin_privileged(void);

#define CHECK_DEVICE(dev)                                \
	do {                                             \
		CHECK_INIT();                            \
		if (!valid_device(dev))                  \
			return NVML_ERROR_INVALID_ARGUMENT; \
	} while (0)

/* ---- MIG (nvml-mig.c, nvml-mig-ci.c, nvml-mig-vgpu.c) ---- */
#define NVML_INVALID_ID 0xFFFFFFFFu /* INVALID_GPU_INSTANCE_PROFILE_ID, _ID */
/* Profile counts of the header this stand-in follows (nvml.h 13.3): GPU-
 * instance profiles 0 .. 0x11 (3_SLICE_GFX, NVML 13.2), compute-instance
 * profiles 0 .. 8 (7_SLICE_NVL, NVML 13.3).  A profile index at or beyond
 * the count is NVML_ERROR_INVALID_ARGUMENT, which is how the header tells
 * callers to enumerate ("until the API returns INVALID_ARGUMENT"). */
#define NVML_GPU_INSTANCE_PROFILE_COUNT 0x12u
#define NVML_COMPUTE_INSTANCE_PROFILE_COUNT 0x9u
#define NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_COUNT 0x1u
/* Buffer size the header documents for UUIDs (vGPU, mdev): 80 bytes. */
#define NVML_DEVICE_UUID_BUFFER_SIZE 80u

typedef unsigned int nvmlVgpuInstance_t;

/* Index of a device in st.devs. */
unsigned dev_index(nvmlDevice_t dev);
/* A per-GPU control file (.vgpu-sim/gpus/<BDF>/name); NULL with *r set
 * (NOT_SUPPORTED: not a MIG GPU). */
char *gpu_file(nvmlDevice_t dev, const char *name, nvmlReturn_t *r);
/* NVML_SUCCESS when the GPU is in MIG mode; NOT_SUPPORTED when it is off or
 * the GPU has none. */
nvmlReturn_t mig_enabled(nvmlDevice_t dev);
/* A control file's errno as NVML's code. */
nvmlReturn_t from_errno(int err);
/* "<cmd>" written to the GPU's gis control file. */
nvmlReturn_t gis_cmd(nvmlDevice_t dev, const char *fmt, unsigned a, long b);

struct gi_row {
	unsigned id, profile, start, size, nci;
	int ci_index; /* NVML_COMPUTE_INSTANCE_PROFILE_* of its CI, -1 none */
};
typedef struct nvmlGpuInstance_st {
	unsigned dev;  /* index in st.devs */
	unsigned id;
} *nvmlGpuInstance_t;
/* The GI row of a handle (INVALID_ARGUMENT if it is gone). */
nvmlReturn_t gi_row_of(nvmlGpuInstance_t gi, struct gi_row *row);
/* Compute slices of a GI profile of the handle's GPU (0: unknown). */
unsigned gi_profile_slices(nvmlGpuInstance_t gi, unsigned profile_id);

#endif
