/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVML stand-in's MIG calls about vGPU types and instances: the GI
 * profile and per-GI maximum of a type, the active vGPUs of a GPU with their
 * GI and mdev UUID (see nvml-mig.c for the GPU instances themselves).
 * As nvml.h 13.3 documents the vGPU-instance calls: instance 0 or a NULL
 * pointer is INVALID_ARGUMENT, an id that is no active vGPU NOT_FOUND; the
 * mdev UUID needs a buffer of NVML_DEVICE_UUID_BUFFER_SIZE (80) bytes,
 * INSUFFICIENT_SIZE below that whatever the UUID's length.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml-standin.h"

typedef struct {
	unsigned int version;
	nvmlVgpuTypeId_t vgpuTypeId;
	unsigned int maxInstancePerGI;
} nvmlVgpuTypeMaxInstance_v1_t;
#define nvmlVgpuTypeMaxInstance_v1 ((unsigned)sizeof(nvmlVgpuTypeMaxInstance_v1_t) | (1u << 24))

/* ---- vGPU types and instances ------------------------------------------------------------ */

/* "type profile per_gi" of a MIG-backed type on any GPU; false if none. */
static bool mig_type(nvmlVgpuTypeId_t type, unsigned *profile, unsigned *per_gi)
{
	for (unsigned d = 0; d < st.ndevs; d++) {
		char *t = slurp(".vgpu-sim/gpus/%s/mig_types", st.devs[d].bdf);
		char *rest = NULL;
		bool found = t && table_find(t, type, &rest) && sscanf(rest, "%u %u", profile, per_gi) == 2;
		free(rest);
		free(t);
		if (found)
			return true;
	}
	return false;
}

static bool type_exists(nvmlVgpuTypeId_t type)
{
	char *t = slurp(".vgpu-sim/types");
	char *rest = NULL;
	bool found = t && table_find(t, type, &rest);
	free(rest);
	free(t);
	return found;
}

/* INVALID_GPU_INSTANCE_PROFILE_ID for a time-sliced type. */
NVML_API nvmlReturn_t nvmlVgpuTypeGetGpuInstanceProfileId(nvmlVgpuTypeId_t vgpuTypeId, unsigned int *gpuInstanceProfileId)
{
	unsigned profile, per;
	CHECK_INIT();
	if (!gpuInstanceProfileId || !type_exists(vgpuTypeId))
		return NVML_ERROR_INVALID_ARGUMENT;
	*gpuInstanceProfileId = mig_type(vgpuTypeId, &profile, &per) ? profile : NVML_INVALID_ID;
	return NVML_SUCCESS;
}

/* vGPUs of a MIG-backed type one GI holds; NOT_SUPPORTED for time-sliced types. */
NVML_API nvmlReturn_t nvmlVgpuTypeGetMaxInstancesPerGpuInstance(nvmlVgpuTypeMaxInstance_v1_t *pMaxInstance)
{
	unsigned profile, per;
	CHECK_INIT();
	if (!pMaxInstance)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (pMaxInstance->version != nvmlVgpuTypeMaxInstance_v1)
		return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	if (!type_exists(pMaxInstance->vgpuTypeId))
		return NVML_ERROR_INVALID_ARGUMENT;
	if (!mig_type(pMaxInstance->vgpuTypeId, &profile, &per))
		return NVML_ERROR_NOT_SUPPORTED;
	pMaxInstance->maxInstancePerGI = per;
	return NVML_SUCCESS;
}

/* Line n (0-based) of a GPU's vgpus file: type, GI id (-1 none), id. */
static bool vgpu_line(unsigned dev, unsigned n, unsigned *type, int *gi, char *id, size_t idlen)
{
	char *t = slurp(".vgpu-sim/gpus/%s/vgpus", st.devs[dev].bdf);
	char *line = t;
	for (unsigned i = 0; line && *line && i < n; i++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	char buf[64];
	bool ok = line && sscanf(line, "%u %d %63s", type, gi, buf) == 3;
	if (ok)
		snprintf(id, idlen, "%s", buf);
	free(t);
	return ok;
}

NVML_API nvmlReturn_t nvmlDeviceGetActiveVgpus(nvmlDevice_t device, unsigned int *vgpuCount,
					       nvmlVgpuInstance_t *vgpuInstances)
{
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	if (!vgpuCount)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *t = gpu_file(device, "vgpus", &r);
	if (!t) {
		*vgpuCount = 0; /* not a MIG GPU: this stand-in lists none */
		return NVML_SUCCESS;
	}
	unsigned n = 0;
	for (char *line = t; line && *line; n++) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	free(t);
	r = NVML_SUCCESS;
	if (n > *vgpuCount || (n && !vgpuInstances))
		r = NVML_ERROR_INSUFFICIENT_SIZE;
	else
		for (unsigned i = 0; i < n; i++)
			vgpuInstances[i] = (dev_index(device) + 1) << 16 | (i + 1);
	*vgpuCount = n;
	return r;
}

static bool vgpu_of(nvmlVgpuInstance_t v, unsigned *type, int *gi, char *id, size_t idlen)
{
	unsigned dev = (v >> 16) - 1, n = (v & 0xffff) - 1;
	return st.refcount && (v >> 16) && (v & 0xffff) && dev < st.ndevs &&
	       vgpu_line(dev, n, type, gi, id, idlen);
}

/* INVALID_ARGUMENT for instance 0 or a NULL pointer, NOT_FOUND for an id
 * that is no active vGPU, else SUCCESS with its line. */
static nvmlReturn_t lookup(nvmlVgpuInstance_t v, const void *out, unsigned *type, int *gi, char *id, size_t idlen)
{
	if (!v || !out)
		return NVML_ERROR_INVALID_ARGUMENT;
	return vgpu_of(v, type, gi, id, idlen) ? NVML_SUCCESS : NVML_ERROR_NOT_FOUND;
}

NVML_API nvmlReturn_t nvmlVgpuInstanceGetType(nvmlVgpuInstance_t vgpuInstance, nvmlVgpuTypeId_t *vgpuTypeId)
{
	unsigned type;
	int gi;
	char id[64];
	CHECK_INIT();
	nvmlReturn_t r = lookup(vgpuInstance, vgpuTypeId, &type, &gi, id, sizeof(id));
	if (r != NVML_SUCCESS)
		return r;
	*vgpuTypeId = type;
	return NVML_SUCCESS;
}

/* INVALID_GPU_INSTANCE_ID for a time-sliced vGPU. */
NVML_API nvmlReturn_t nvmlVgpuInstanceGetGpuInstanceId(nvmlVgpuInstance_t vgpuInstance, unsigned int *gpuInstanceId)
{
	unsigned type;
	int gi;
	char id[64];
	CHECK_INIT();
	nvmlReturn_t r = lookup(vgpuInstance, gpuInstanceId, &type, &gi, id, sizeof(id));
	if (r != NVML_SUCCESS)
		return r;
	*gpuInstanceId = gi < 0 ? NVML_INVALID_ID : (unsigned)gi;
	return NVML_SUCCESS;
}

/* The mdev UUID; NOT_SUPPORTED for a vGPU on a vendor-VFIO VF (no mdev). */
NVML_API nvmlReturn_t nvmlVgpuInstanceGetMdevUUID(nvmlVgpuInstance_t vgpuInstance, char *mdevUuid, unsigned int size)
{
	unsigned type;
	int gi;
	char id[64];
	CHECK_INIT();
	nvmlReturn_t r = lookup(vgpuInstance, mdevUuid, &type, &gi, id, sizeof(id));
	if (r != NVML_SUCCESS)
		return r;
	if (strchr(id, ':'))
		return NVML_ERROR_NOT_SUPPORTED;
	if (size < NVML_DEVICE_UUID_BUFFER_SIZE || strlen(id) + 1 > size)
		return NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(mdevUuid, id, strlen(id) + 1);
	return NVML_SUCCESS;
}
