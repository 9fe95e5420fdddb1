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

#define CHECK_DEVICE(dev)                                \
	do {                                             \
		CHECK_INIT();                            \
		if (!valid_device(dev))                  \
			return NVML_ERROR_INVALID_ARGUMENT; \
	} while (0)

/* ---- MIG (nvml-mig.c, nvml-mig-vgpu.c) ---- */
#define NVML_INVALID_ID 0xFFFFFFFFu /* INVALID_GPU_INSTANCE_PROFILE_ID, _ID */

typedef unsigned int nvmlVgpuInstance_t;

/* Index of a device in st.devs. */
unsigned dev_index(nvmlDevice_t dev);
/* A per-GPU control file (.vgpu-sim/gpus/<BDF>/name); NULL with *r set
 * (NOT_SUPPORTED: not a MIG GPU). */
char *gpu_file(nvmlDevice_t dev, const char *name, nvmlReturn_t *r);

#endif
