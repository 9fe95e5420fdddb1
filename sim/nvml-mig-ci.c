/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVML stand-in's compute-instance (CI) calls.  The simulator keeps one
 * CI per GPU instance, spanning it (sim/mig.c): the profile
 * NVML_COMPUTE_INSTANCE_PROFILE_<n>_SLICE of the GI's n slices, and on a
 * model that has it also 7_SLICE_NVL (NVML 13.3) for a 7-slice GI.
 *
 * As nvml.h 13.3 documents them:
 *  - nvmlGpuInstanceGetComputeInstanceProfileInfo takes a profile INDEX
 *    (one of NVML_COMPUTE_INSTANCE_PROFILE_*) and returns the profile's ID;
 *    create, list and (by way of the instance) destroy take the ID.  An
 *    index at or beyond NVML_COMPUTE_INSTANCE_PROFILE_COUNT (9) is
 *    INVALID_ARGUMENT (the end of an enumeration), an index this GI does not
 *    offer NOT_SUPPORTED.
 *  - SIMULATED: a profile's ID is 0x20 + its index.  Real drivers often
 *    number them like the indices; the header does not promise it, and
 *    distinct numbers make a caller that confuses the two fail here as it
 *    may on a real driver.  An ID that names no profile is INVALID_ARGUMENT,
 *    one of a profile this GI does not offer NOT_SUPPORTED.
 *  - create, list and destroy "Require privileged user": NO_PERMISSION for a
 *    caller whose effective uid is not 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml-standin.h"

typedef struct {
	unsigned int id;
	unsigned int sliceCount;
	unsigned int instanceCount;
	unsigned int multiprocessorCount;
	unsigned int sharedCopyEngineCount;
	unsigned int sharedDecoderCount;
	unsigned int sharedEncoderCount;
	unsigned int sharedJpegCount;
	unsigned int sharedOfaCount;
} nvmlComputeInstanceProfileInfo_t;

typedef struct nvmlComputeInstance_st {
	unsigned dev;
	unsigned gi;
} *nvmlComputeInstance_t;

#define POOL 512
static struct nvmlComputeInstance_st ci_pool[POOL];
static unsigned n_ci_pool;

#define CI_ID_BASE 0x20u         /* SIMULATED: profile ID = 0x20 + index */
#define CI_7_SLICE_NVL 8u        /* NVML_COMPUTE_INSTANCE_PROFILE_7_SLICE_NVL */

/* NVML_COMPUTE_INSTANCE_PROFILE_<n>_SLICE for n slices, or -1. */
static int full_index(unsigned slices)
{
	static const int idx[9] = { -1, 0, 1, 2, 3, -1, 6, 4, 5 };
	return slices < 9 ? idx[slices] : -1;
}

/* Does the GI offer CI profile index ci?  A 7-slice GI offers 7_SLICE_NVL
 * on the models the simulator gives it (the ".vgpu-sim/gpus/<BDF>/ci_nvl"
 * control file exists and reads 1). */
static bool offers(nvmlGpuInstance_t gi, const struct gi_row *row, unsigned ci)
{
	unsigned slices = gi_profile_slices(gi, row->profile);
	if (full_index(slices) == (int)ci)
		return true;
	if (slices != 7 || ci != CI_7_SLICE_NVL)
		return false;
	nvmlReturn_t r;
	char *t = gpu_file(&st.devs[gi->dev], "ci_nvl", &r);
	bool yes = t && t[0] == '1';
	free(t);
	return yes;
}

/* The CI profile index of an ID; INVALID_ARGUMENT if it names none. */
static nvmlReturn_t index_of(unsigned id, unsigned *ci)
{
	if (id < CI_ID_BASE || id - CI_ID_BASE >= NVML_COMPUTE_INSTANCE_PROFILE_COUNT)
		return NVML_ERROR_INVALID_ARGUMENT;
	*ci = id - CI_ID_BASE;
	return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfo(nvmlGpuInstance_t gpuInstance,
								   unsigned int profile, unsigned int engProfile,
								   nvmlComputeInstanceProfileInfo_t *info)
{
	struct gi_row row;
	nvmlReturn_t r = gi_row_of(gpuInstance, &row);
	if (r != NVML_SUCCESS)
		return r;
	if (!info || profile >= NVML_COMPUTE_INSTANCE_PROFILE_COUNT ||
	    engProfile >= NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_COUNT)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (!offers(gpuInstance, &row, profile))
		return NVML_ERROR_NOT_SUPPORTED;
	memset(info, 0, sizeof(*info));
	info->id = CI_ID_BASE + profile;
	info->sliceCount = gi_profile_slices(gpuInstance, row.profile);
	info->instanceCount = 1; /* SIMPLIFICATION: the one spanning the GI */
	return NVML_SUCCESS;
}

static nvmlReturn_t ci_handle(nvmlGpuInstance_t gi, nvmlComputeInstance_t *out)
{
	for (unsigned i = 0; i < n_ci_pool; i++)
		if (ci_pool[i].dev == gi->dev && ci_pool[i].gi == gi->id) {
			*out = &ci_pool[i];
			return NVML_SUCCESS;
		}
	if (n_ci_pool == POOL)
		return NVML_ERROR_MEMORY;
	ci_pool[n_ci_pool] = (struct nvmlComputeInstance_st){ gi->dev, gi->id };
	*out = &ci_pool[n_ci_pool++];
	return NVML_SUCCESS;
}

/* The row of a GI handle and the CI profile index of an ID it offers. */
static nvmlReturn_t gi_and_profile(nvmlGpuInstance_t gi, unsigned id, struct gi_row *row, unsigned *ci)
{
	nvmlReturn_t r = gi_row_of(gi, row);
	if (r == NVML_SUCCESS)
		r = index_of(id, ci);
	if (r == NVML_SUCCESS && !standin_privileged())
		r = NVML_ERROR_NO_PERMISSION;
	if (r == NVML_SUCCESS && !offers(gi, row, *ci))
		r = NVML_ERROR_NOT_SUPPORTED;
	return r;
}

NVML_API nvmlReturn_t nvmlGpuInstanceCreateComputeInstance(nvmlGpuInstance_t gpuInstance, unsigned int profileId,
							   nvmlComputeInstance_t *computeInstance)
{
	struct gi_row row;
	unsigned ci;
	if (!computeInstance)
		return NVML_ERROR_INVALID_ARGUMENT;
	nvmlReturn_t r = gi_and_profile(gpuInstance, profileId, &row, &ci);
	if (r != NVML_SUCCESS)
		return r;
	r = gis_cmd(&st.devs[gpuInstance->dev], "ci-create %u %ld", row.id, (long)ci);
	return r == NVML_SUCCESS ? ci_handle(gpuInstance, computeInstance) : r;
}

/* The CIs of one profile (by ID); the buffer holds the profile's
 * instanceCount (1). */
NVML_API nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t gpuInstance, unsigned int profileId,
							 nvmlComputeInstance_t *computeInstances, unsigned int *count)
{
	struct gi_row row;
	unsigned ci;
	if (!computeInstances || !count)
		return NVML_ERROR_INVALID_ARGUMENT;
	nvmlReturn_t r = gi_and_profile(gpuInstance, profileId, &row, &ci);
	if (r != NVML_SUCCESS)
		return r;
	*count = 0;
	if (row.nci && row.ci_index == (int)ci) {
		r = ci_handle(gpuInstance, &computeInstances[0]);
		if (r == NVML_SUCCESS)
			*count = 1;
	}
	return r;
}

/* NVML_ERROR_IN_USE while vGPUs use its GI. */
NVML_API nvmlReturn_t nvmlComputeInstanceDestroy(nvmlComputeInstance_t computeInstance)
{
	CHECK_INIT();
	if (!computeInstance || computeInstance < ci_pool || computeInstance >= ci_pool + n_ci_pool ||
	    computeInstance->dev >= st.ndevs)
		return NVML_ERROR_INVALID_ARGUMENT;
	CHECK_PRIVILEGED();
	return gis_cmd(&st.devs[computeInstance->dev], "ci-destroy %u", computeInstance->gi, -1);
}
