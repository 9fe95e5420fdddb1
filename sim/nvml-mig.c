/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVML stand-in's MIG calls: MIG mode, GPU-instance profiles and
 * placements, GPU and compute instances, the GI profile and per-GI maximum
 * of vGPU types, and the active vGPUs with their GI.  Signatures and return
 * codes as NVML documents them; answers from the simulator's control files
 * (sim/mig.c).  A control file's errno maps to NVML codes: EBUSY IN_USE (19),
 * ENOSPC INSUFFICIENT_RESOURCES (23), EINVAL INVALID_ARGUMENT (2), ENOENT
 * NOT_FOUND (6), EOPNOTSUPP NOT_SUPPORTED (3), EPERM/EACCES NO_PERMISSION
 * (4), EAGAIN RESET_REQUIRED (16), anything else UNKNOWN (999).
 * Handles of GPU and compute instances stay valid until nvmlShutdown (a
 * fixed pool: NVML_ERROR_MEMORY when it is full).  vGPU instance ids are
 * only stable while no vGPU of the GPU is created or destroyed.
 *
 * As nvml.h 13.3 documents them: profile info is NOT_SUPPORTED while MIG
 * mode is off and INVALID_ARGUMENT for an index at or beyond the profile
 * count; the calls marked "Requires privileged user" (placements, GPU
 * instance create, list, by-id, destroy) and nvmlDeviceSetMigMode ("Requires
 * root user") are NO_PERMISSION for a caller whose effective uid is not 0;
 * listing and by-id lookups are NOT_SUPPORTED while MIG mode is off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml-standin.h"


typedef struct {
	unsigned int start;
	unsigned int size;
} nvmlGpuInstancePlacement_t;

typedef struct {
	unsigned int version;
	unsigned int id;
	unsigned int isP2pSupported;
	unsigned int sliceCount;
	unsigned int instanceCount;
	unsigned int multiprocessorCount;
	unsigned int copyEngineCount;
	unsigned int decoderCount;
	unsigned int encoderCount;
	unsigned int jpegCount;
	unsigned int ofaCount;
	unsigned long long memorySizeMB;
	char name[96];
} nvmlGpuInstanceProfileInfo_v2_t;
#define nvmlGpuInstanceProfileInfo_v2 ((unsigned)sizeof(nvmlGpuInstanceProfileInfo_v2_t) | (2u << 24))

typedef struct {
	nvmlDevice_t device;
	unsigned int id;
	unsigned int profileId;
	nvmlGpuInstancePlacement_t placement;
} nvmlGpuInstanceInfo_t;


#define POOL 512
static struct nvmlGpuInstance_st gi_pool[POOL];
static unsigned n_gi_pool;

unsigned dev_index(nvmlDevice_t dev)
{
	return (unsigned)(dev - st.devs);
}

nvmlReturn_t from_errno(int err)
{
	switch (err) {
	case 0: return NVML_SUCCESS;
	case EBUSY: return NVML_ERROR_IN_USE;
	case ENOSPC: return NVML_ERROR_INSUFFICIENT_RESOURCES;
	case EINVAL: return NVML_ERROR_INVALID_ARGUMENT;
	case ENOENT: return NVML_ERROR_NOT_FOUND;
	case EOPNOTSUPP: return NVML_ERROR_NOT_SUPPORTED;
	case EPERM: case EACCES: return NVML_ERROR_NO_PERMISSION;
	case EAGAIN: return NVML_ERROR_RESET_REQUIRED;
	default: return NVML_ERROR_UNKNOWN;
	}
}

/* A per-GPU control file; NULL with *r set (NOT_SUPPORTED: not a MIG GPU). */
char *gpu_file(nvmlDevice_t dev, const char *name, nvmlReturn_t *r)
{
	char *t = slurp(".vgpu-sim/gpus/%s/%s", dev->bdf, name);
	if (!t)
		*r = errno == ENOENT ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_UNKNOWN;
	return t;
}

nvmlReturn_t gis_cmd(nvmlDevice_t dev, const char *fmt, unsigned a, long b)
{
	char cmd[64];
	if (b >= 0)
		snprintf(cmd, sizeof(cmd), fmt, a, b);
	else
		snprintf(cmd, sizeof(cmd), fmt, a);
	return from_errno(spew(cmd, ".vgpu-sim/gpus/%s/gis", dev->bdf));
}

nvmlReturn_t mig_enabled(nvmlDevice_t dev)
{
	nvmlReturn_t r;
	unsigned cur = 0, pend = 0;
	char *t = gpu_file(dev, "mig_mode", &r);
	if (!t)
		return r;
	r = sscanf(t, "%u %u", &cur, &pend) == 2 ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
	free(t);
	return r == NVML_SUCCESS && cur != 1 ? NVML_ERROR_NOT_SUPPORTED : r;
}

/* ---- mode ------------------------------------------------------------------------ */

NVML_API nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode,
					   unsigned int *pendingMode)
{
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	if (!currentMode || !pendingMode)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *t = gpu_file(device, "mig_mode", &r);
	if (!t)
		return r;
	r = sscanf(t, "%u %u", currentMode, pendingMode) == 2 ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
	free(t);
	return r;
}

/* The mode is set; *activationStatus tells whether it took effect: on
 * Ampere the GPU reset fails while VFs are enabled and the new mode stays
 * pending (NVML_ERROR_IN_USE). */
NVML_API nvmlReturn_t nvmlDeviceSetMigMode(nvmlDevice_t device, unsigned int mode,
					   nvmlReturn_t *activationStatus)
{
	unsigned cur, pend;
	CHECK_DEVICE(device);
	if (mode > 1 || !activationStatus)
		return NVML_ERROR_INVALID_ARGUMENT;
	CHECK_PRIVILEGED();
	nvmlReturn_t r = nvmlDeviceGetMigMode(device, &cur, &pend);
	if (r != NVML_SUCCESS)
		return r;
	r = from_errno(spew(mode ? "1" : "0", ".vgpu-sim/gpus/%s/mig_mode", device->bdf));
	if (r != NVML_SUCCESS)
		return r;
	r = nvmlDeviceGetMigMode(device, &cur, &pend);
	if (r != NVML_SUCCESS)
		return r;
	*activationStatus = cur == mode ? NVML_SUCCESS : NVML_ERROR_IN_USE;
	return NVML_SUCCESS;
}

/* ---- GPU-instance profiles -------------------------------------------------------------- */

struct prof {
	unsigned index, id, slices, gb, max, size;
	char starts[64], name[40];
};

/* The profile whose NVML index (by_index) or id is key; false if none. */
static bool find_prof(nvmlDevice_t dev, unsigned key, bool by_index, struct prof *p, nvmlReturn_t *r)
{
	char *t = gpu_file(dev, "gi_profiles", r);
	bool found = false;
	for (char *line = t; line && *line && !found;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		found = sscanf(line, "%u %u %u %u %u %u %63s %39s", &p->index, &p->id, &p->slices, &p->gb,
			       &p->max, &p->size, p->starts, p->name) == 8 &&
			(by_index ? p->index : p->id) == key;
		line = nl ? nl + 1 : NULL;
	}
	if (t && !found)
		*r = by_index ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_INVALID_ARGUMENT;
	free(t);
	return found;
}

NVML_API nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned int profile,
							   nvmlGpuInstanceProfileInfo_v2_t *info)
{
	struct prof p;
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	/* nvml.h: INVALID_ARGUMENT for a bad info->version too */
	if (!info || info->version != nvmlGpuInstanceProfileInfo_v2 || profile >= NVML_GPU_INSTANCE_PROFILE_COUNT)
		return NVML_ERROR_INVALID_ARGUMENT;
	r = mig_enabled(device);
	if (r != NVML_SUCCESS)
		return r; /* no MIG, or MIG mode off: NOT_SUPPORTED */
	if (!find_prof(device, profile, true, &p, &r))
		return r;
	memset(info, 0, sizeof(*info));
	info->version = nvmlGpuInstanceProfileInfo_v2;
	info->id = p.id;
	info->sliceCount = p.slices;
	info->instanceCount = p.max;
	info->memorySizeMB = (unsigned long long)p.gb * 1024;
	snprintf(info->name, sizeof(info->name), "MIG %s", p.name);
	return NVML_SUCCESS;
}

/* Every placement of the profile, whatever exists now (as NVML documents). */
NVML_API nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements_v2(nvmlDevice_t device, unsigned int profileId,
								    nvmlGpuInstancePlacement_t *placements,
								    unsigned int *count)
{
	struct prof p;
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	if (!count)
		return NVML_ERROR_INVALID_ARGUMENT;
	CHECK_PRIVILEGED();
	if (!find_prof(device, profileId, false, &p, &r))
		return r; /* whatever the MIG mode (as NVML documents) */
	unsigned n = 0;
	for (char *s = p.starts; *s;) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s)
			break;
		if (placements) {
			if (n >= *count)
				return NVML_ERROR_INSUFFICIENT_SIZE;
			placements[n] = (nvmlGpuInstancePlacement_t){ (unsigned)v, p.size };
		}
		n++;
		s = *end == ',' ? end + 1 : end;
	}
	*count = n;
	return NVML_SUCCESS;
}

/* ---- GPU instances ------------------------------------------------------------------ */

/* The GPU's instances; returns the count (at most max), -1 on error. */
static int read_gis(nvmlDevice_t dev, struct gi_row *rows, int max, nvmlReturn_t *r)
{
	char *t = gpu_file(dev, "gis", r);
	int n = 0;
	if (!t)
		return -1;
	for (char *line = t; line && *line && n < max;) {
		struct gi_row g;
		if (sscanf(line, "%u %u %u %u %u %d", &g.id, &g.profile, &g.start, &g.size, &g.nci,
			   &g.ci_index) == 6)
			rows[n++] = g;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	free(t);
	return n;
}

static nvmlReturn_t gi_handle(nvmlDevice_t dev, unsigned id, nvmlGpuInstance_t *out)
{
	unsigned d = dev_index(dev);
	for (unsigned i = 0; i < n_gi_pool; i++)
		if (gi_pool[i].dev == d && gi_pool[i].id == id) {
			*out = &gi_pool[i];
			return NVML_SUCCESS;
		}
	if (n_gi_pool == POOL)
		return NVML_ERROR_MEMORY;
	gi_pool[n_gi_pool] = (struct nvmlGpuInstance_st){ d, id };
	*out = &gi_pool[n_gi_pool++];
	return NVML_SUCCESS;
}

/* The GI row of a handle; NVML_ERROR_INVALID_ARGUMENT if it is gone. */
nvmlReturn_t gi_row_of(nvmlGpuInstance_t gi, struct gi_row *row)
{
	struct gi_row rows[64];
	nvmlReturn_t r;
	CHECK_INIT();
	if (!gi || gi < gi_pool || gi >= gi_pool + n_gi_pool || gi->dev >= st.ndevs)
		return NVML_ERROR_INVALID_ARGUMENT;
	int n = read_gis(&st.devs[gi->dev], rows, 64, &r);
	if (n < 0)
		return r;
	for (int i = 0; i < n; i++)
		if (rows[i].id == gi->id) {
			*row = rows[i];
			return NVML_SUCCESS;
		}
	return NVML_ERROR_INVALID_ARGUMENT;
}

static nvmlReturn_t create_gi(nvmlDevice_t device, unsigned profileId, long start, nvmlGpuInstance_t *gi)
{
	struct gi_row before[64], after[64];
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	if (!gi)
		return NVML_ERROR_INVALID_ARGUMENT;
	CHECK_PRIVILEGED();
	int nb = read_gis(device, before, 64, &r);
	if (nb < 0)
		return r;
	r = gis_cmd(device, start >= 0 ? "create %u %ld" : "create %u", profileId, start);
	if (r != NVML_SUCCESS)
		return r;
	int na = read_gis(device, after, 64, &r);
	for (int i = 0; i < na; i++) {
		bool old = false;
		for (int k = 0; k < nb; k++)
			old = old || before[k].id == after[i].id;
		if (!old)
			return gi_handle(device, after[i].id, gi);
	}
	return NVML_ERROR_UNKNOWN;
}

NVML_API nvmlReturn_t nvmlDeviceCreateGpuInstance(nvmlDevice_t device, unsigned int profileId,
						  nvmlGpuInstance_t *gpuInstance)
{
	return create_gi(device, profileId, -1, gpuInstance);
}

NVML_API nvmlReturn_t nvmlDeviceCreateGpuInstanceWithPlacement(nvmlDevice_t device, unsigned int profileId,
							       const nvmlGpuInstancePlacement_t *placement,
							       nvmlGpuInstance_t *gpuInstance)
{
	if (!placement)
		return NVML_ERROR_INVALID_ARGUMENT;
	return create_gi(device, profileId, (long)placement->start, gpuInstance);
}

/* The GIs of one profile (by profile id); *count returns how many. */
NVML_API nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned int profileId,
						nvmlGpuInstance_t *gpuInstances, unsigned int *count)
{
	struct gi_row rows[64];
	struct prof p;
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	if (!count || !gpuInstances)
		return NVML_ERROR_INVALID_ARGUMENT;
	CHECK_PRIVILEGED();
	r = mig_enabled(device);
	if (r != NVML_SUCCESS)
		return r;
	if (!find_prof(device, profileId, false, &p, &r))
		return r;
	int n = read_gis(device, rows, 64, &r);
	if (n < 0)
		return r;
	unsigned k = 0;
	for (int i = 0; i < n; i++) {
		if (rows[i].profile != profileId)
			continue;
		if (k >= p.max)
			return NVML_ERROR_INSUFFICIENT_SIZE;
		r = gi_handle(device, rows[i].id, &gpuInstances[k++]);
		if (r != NVML_SUCCESS)
			return r;
	}
	*count = k;
	return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetGpuInstanceById(nvmlDevice_t device, unsigned int id,
						   nvmlGpuInstance_t *gpuInstance)
{
	struct gi_row rows[64];
	nvmlReturn_t r;
	CHECK_DEVICE(device);
	if (!gpuInstance)
		return NVML_ERROR_INVALID_ARGUMENT;
	CHECK_PRIVILEGED();
	r = mig_enabled(device);
	if (r != NVML_SUCCESS)
		return r;
	int n = read_gis(device, rows, 64, &r);
	if (n < 0)
		return r;
	for (int i = 0; i < n; i++)
		if (rows[i].id == id)
			return gi_handle(device, id, gpuInstance);
	return NVML_ERROR_NOT_FOUND;
}

NVML_API nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t gpuInstance, nvmlGpuInstanceInfo_t *info)
{
	struct gi_row row;
	if (!info)
		return NVML_ERROR_INVALID_ARGUMENT;
	nvmlReturn_t r = gi_row_of(gpuInstance, &row);
	if (r != NVML_SUCCESS)
		return r;
	info->device = &st.devs[gpuInstance->dev];
	info->id = row.id;
	info->profileId = row.profile;
	info->placement = (nvmlGpuInstancePlacement_t){ row.start, row.size };
	return NVML_SUCCESS;
}

/* NVML_ERROR_IN_USE while it holds compute instances or vGPUs. */
NVML_API nvmlReturn_t nvmlGpuInstanceDestroy(nvmlGpuInstance_t gpuInstance)
{
	struct gi_row row;
	nvmlReturn_t r = gi_row_of(gpuInstance, &row);
	if (r != NVML_SUCCESS)
		return r;
	CHECK_PRIVILEGED();
	return gis_cmd(&st.devs[gpuInstance->dev], "destroy %u", row.id, -1);
}

unsigned gi_profile_slices(nvmlGpuInstance_t gi, unsigned profile_id)
{
	struct prof p;
	nvmlReturn_t r;
	return find_prof(&st.devs[gi->dev], profile_id, false, &p, &r) ? p.slices : 0;
}

