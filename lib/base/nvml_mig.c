/* SPDX-License-Identifier: Apache-2.0 */
/* NVML's MIG calls (nvml.h): MIG mode, GPU- and compute-instance profiles,
 * instances, and the MIG facts of vGPU types and instances. */
#include "nvml_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a call needs of the loaded library: each function by its field name. */
struct need {
	bool have;
	const char *name;
};
#define HAVE(n, fn) ((struct need){(n)->fn != NULL, #fn})

/* The prologue of every per-GPU call here: addr as an NVML device, then
 * every function the call needs. 0, or -errno with last_error set (the
 * lookup's error, or -EOPNOTSUPP "NVML lacks gi_create"). */
static int device_needing(struct vdm_nvml *n, const char *addr, nvmlDevice_t *dev, size_t n_need,
			  const struct need *need)
{
	int rc = vdm__nvml_device(n, addr, dev);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n_need; i++)
		if (!need[i].have) {
			snprintf(n->last_error, sizeof(n->last_error), "NVML lacks %s", need[i].name);
			return -EOPNOTSUPP;
		}
	return 0;
}
#define DEVICE(n, addr, dev, ...) \
	device_needing(n, addr, dev, sizeof((struct need[]){__VA_ARGS__}) / sizeof(struct need), \
		       (struct need[]){__VA_ARGS__})

int vdm_nvml_mig_mode(struct vdm_nvml *n, const char *addr, int *current, int *pending)
{
	nvmlDevice_t dev;
	unsigned cur = 0, pend = 0;
	int rc = DEVICE(n, addr, &dev, HAVE(n, get_mig));
	if (rc < 0)
		return rc;
	nvmlReturn_t r = n->get_mig(dev, &cur, &pend);
	if (r != NVML_SUCCESS)
		return r == NVML_ERROR_NOT_SUPPORTED ? -EOPNOTSUPP : vdm__nvml_failed(n, "nvmlDeviceGetMigMode", r);
	*current = (int)cur;
	*pending = (int)pend;
	return 0;
}

int vdm_nvml_set_mig_mode(struct vdm_nvml *n, const char *addr, int mode)
{
	nvmlDevice_t dev;
	nvmlReturn_t act = NVML_SUCCESS;
	int rc = DEVICE(n, addr, &dev, HAVE(n, set_mig));
	if (rc < 0)
		return rc;
	nvmlReturn_t r = n->set_mig(dev, (unsigned)mode, &act);
	if (r != NVML_SUCCESS)
		return vdm__nvml_failed(n, "nvmlDeviceSetMigMode", r);
	if (act != NVML_SUCCESS) {
		vdm__nvml_failed(n, "activating the new MIG mode (GPU reset)", act);
		return -EAGAIN;
	}
	return 0;
}

void vdm_nvml_gips_free(struct vdm_nvml_gip *p, size_t np)
{
	for (size_t i = 0; p && i < np; i++)
		free(p[i].pl);
	free(p);
}

int vdm_nvml_gi_profiles(struct vdm_nvml *n, const char *addr, struct vdm_nvml_gip **out)
{
	nvmlDevice_t dev;
	int rc = DEVICE(n, addr, &dev, HAVE(n, gip_info), HAVE(n, gip_placements));
	*out = NULL;
	if (rc < 0)
		return rc;
	struct vdm_nvml_gip *p = NULL;
	int np = 0;
	for (unsigned k = 0; k < PROFILE_SCAN_LIMIT; k++) {
		nvmlGpuInstanceProfileInfo_v2_t info = {.version = NVML_GI_PROFILE_INFO_V2};
		nvmlReturn_t r = n->gip_info(dev, k, &info);
		if (r == NVML_ERROR_INVALID_ARGUMENT)
			break; /* the end of NVML's profiles */
		if (r == NVML_ERROR_NOT_SUPPORTED)
			continue; /* not on this GPU, or MIG mode is off */
		if (r != NVML_SUCCESS) {
			rc = vdm__nvml_failed(n, "nvmlDeviceGetGpuInstanceProfileInfoV", r);
			break;
		}
		p = vdm_xrealloc(p, (size_t)np + 1, sizeof(*p));
		struct vdm_nvml_gip *g = &p[np++];
		memset(g, 0, sizeof(*g));
		g->id = info.id;
		g->index = k;
		g->slices = info.sliceCount;
		g->max = info.instanceCount;
		g->mem_mib = info.memorySizeMB;
		info.name[sizeof(info.name) - 1] = '\0';
		const char *nm = strncmp(info.name, "MIG ", 4) ? info.name : info.name + 4;
		size_t nl = strnlen(nm, sizeof(g->name) - 1);
		memcpy(g->name, nm, nl);
		g->name[nl] = '\0';
		unsigned cnt = 0;
		r = n->gip_placements(dev, info.id, NULL, &cnt);
		if (r == NVML_SUCCESS && cnt) {
			nvmlGpuInstancePlacement_t *pl = vdm_xcalloc(cnt, sizeof(*pl));
			r = n->gip_placements(dev, info.id, pl, &cnt);
			if (r == NVML_SUCCESS) {
				g->pl = vdm_xcalloc(cnt, sizeof(*g->pl));
				for (unsigned i = 0; i < cnt; i++)
					g->pl[i] = (struct vdm_nvml_placement){pl[i].start, pl[i].size};
				g->n_pl = cnt;
			}
			free(pl);
		}
		if (r != NVML_SUCCESS) {
			rc = vdm__nvml_failed(n, "nvmlDeviceGetGpuInstancePossiblePlacements_v2", r);
			break;
		}
	}
	if (rc < 0) {
		vdm_nvml_gips_free(p, (size_t)np);
		return rc;
	}
	*out = p;
	return np;
}

/* A GPU instance's compute-instance profiles: enumerated by index until
 * INVALID_ARGUMENT; *ids gets each supported profile's ID (what create and
 * list take) and *counts its instanceCount. Returns the count or -errno. */
static int ci_profiles(struct vdm_nvml *n, nvmlGpuInstance_t gi, unsigned **ids, unsigned **counts)
{
	int np = 0;
	*ids = *counts = NULL;
	for (unsigned k = 0; n->cip_info && k < PROFILE_SCAN_LIMIT; k++) {
		nvmlComputeInstanceProfileInfo_t info;
		nvmlReturn_t r = n->cip_info(gi, k, NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &info);
		if (r == NVML_ERROR_INVALID_ARGUMENT)
			break;
		if (r == NVML_ERROR_NOT_SUPPORTED)
			continue;
		if (r != NVML_SUCCESS) {
			free(*ids);
			free(*counts);
			*ids = *counts = NULL;
			return vdm__nvml_failed(n, "nvmlGpuInstanceGetComputeInstanceProfileInfo", r);
		}
		*ids = vdm_xrealloc(*ids, (size_t)np + 1, sizeof(**ids));
		*counts = vdm_xrealloc(*counts, (size_t)np + 1, sizeof(**counts));
		(*ids)[np] = info.id;
		(*counts)[np++] = info.instanceCount ? info.instanceCount : 1;
	}
	return np;
}

/* Every compute instance of a GI (all profiles): their handles, malloc'd;
 * the count or -errno. */
static int gi_cis(struct vdm_nvml *n, nvmlGpuInstance_t gi, nvmlComputeInstance_t **out)
{
	unsigned *ids, *counts;
	int np = ci_profiles(n, gi, &ids, &counts);
	int total = 0;
	*out = NULL;
	if (np < 0)
		return np;
	for (int k = 0; k < np && total >= 0; k++) {
		nvmlComputeInstance_t *h = vdm_xcalloc(counts[k], sizeof(*h));
		unsigned c = counts[k];
		nvmlReturn_t r = n->ci_list ? n->ci_list(gi, ids[k], h, &c) : NVML_ERROR_FUNCTION_NOT_FOUND;
		if (r != NVML_SUCCESS) {
			total = vdm__nvml_failed(n, "nvmlGpuInstanceGetComputeInstances", r);
		} else {
			*out = vdm_xrealloc(*out, (size_t)total + c + 1, sizeof(**out));
			memcpy(*out + total, h, c * sizeof(*h));
			total += (int)c;
		}
		free(h);
	}
	free(ids);
	free(counts);
	if (total < 0) {
		free(*out);
		*out = NULL;
	}
	return total;
}

/* The index (NVML_COMPUTE_INSTANCE_PROFILE_<n>_SLICE) of the compute-
 * instance profile spanning a GI of n slices, what `nvidia-smi mig -cgi
 * ID -C` makes; -1 if none. Its ID comes from the profile-info call. */
static int full_ci_profile(unsigned slices)
{
	static const int idx[9] = {-1, 0, 1, 2, 3, -1, 6, 4, 5};
	return slices < 9 ? idx[slices] : -1;
}

int vdm_nvml_gis(struct vdm_nvml *n, const char *addr, const struct vdm_nvml_gip *p, size_t np,
		 struct vdm_nvml_gi **out)
{
	nvmlDevice_t dev;
	int rc = DEVICE(n, addr, &dev, HAVE(n, gi_list), HAVE(n, gi_info));
	*out = NULL;
	if (rc < 0)
		return rc;
	size_t cnt = 0;
	for (size_t k = 0; k < np; k++) {
		unsigned c = 0;
		nvmlGpuInstance_t *h = vdm_xcalloc(p[k].max ? p[k].max : 1, sizeof(*h));
		nvmlReturn_t r = n->gi_list(dev, p[k].id, h, &c);
		if (r != NVML_SUCCESS) {
			free(h);
			free(*out);
			*out = NULL;
			return vdm__nvml_failed(n, "nvmlDeviceGetGpuInstances", r);
		}
		for (unsigned i = 0; i < c; i++) {
			nvmlGpuInstanceInfo_t info;
			if (n->gi_info(h[i], &info) != NVML_SUCCESS)
				continue;
			*out = vdm_xrealloc(*out, cnt + 1, sizeof(**out));
			struct vdm_nvml_gi *g = &(*out)[cnt++];
			g->id = info.id;
			g->profile_id = info.profileId;
			g->start = info.placement.start;
			g->size = info.placement.size;
			nvmlComputeInstance_t *ci = NULL;
			int nci = gi_cis(n, h[i], &ci);
			free(ci);
			if (nci < 0) {
				free(h);
				free(*out);
				*out = NULL;
				return nci;
			}
			g->n_ci = (unsigned)nci;
		}
		free(h);
	}
	return (int)cnt;
}

int vdm_nvml_create_gi(struct vdm_nvml *n, const char *addr, const struct vdm_nvml_gip *p, unsigned start,
		       unsigned *id)
{
	nvmlDevice_t dev;
	int rc = DEVICE(n, addr, &dev, HAVE(n, gi_create), HAVE(n, gi_info), HAVE(n, cip_info),
			HAVE(n, ci_create));
	if (rc < 0)
		return rc;
	nvmlGpuInstancePlacement_t pl = {start, 0};
	for (size_t i = 0; i < p->n_pl; i++)
		if (p->pl[i].start == start)
			pl.size = p->pl[i].size;
	nvmlGpuInstance_t gi;
	nvmlReturn_t r = n->gi_create(dev, p->id, &pl, &gi);
	if (r != NVML_SUCCESS)
		return vdm__nvml_failed(n, "nvmlDeviceCreateGpuInstanceWithPlacement", r);
	nvmlGpuInstanceInfo_t info;
	r = n->gi_info(gi, &info);
	if (r != NVML_SUCCESS)
		return vdm__nvml_failed(n, "nvmlGpuInstanceGetInfo", r);
	*id = info.id;
	nvmlComputeInstanceProfileInfo_t cinfo;
	int cip = full_ci_profile(p->slices);
	nvmlComputeInstance_t ci;
	r = cip < 0 ? NVML_ERROR_NOT_SUPPORTED
		    : n->cip_info(gi, (unsigned)cip, NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &cinfo);
	if (r == NVML_SUCCESS)
		r = n->ci_create(gi, cinfo.id, &ci);
	if (r != NVML_SUCCESS) {
		rc = vdm__nvml_failed(n, "creating the compute instance", r);
		if (n->gi_destroy)
			n->gi_destroy(gi);
		return rc;
	}
	return 0;
}

int vdm_nvml_destroy_gi(struct vdm_nvml *n, const char *addr, unsigned gi_id)
{
	nvmlDevice_t dev;
	int rc = DEVICE(n, addr, &dev, HAVE(n, gi_by_id), HAVE(n, gi_destroy));
	if (rc < 0)
		return rc;
	nvmlGpuInstance_t gi;
	nvmlReturn_t r = n->gi_by_id(dev, gi_id, &gi);
	if (r != NVML_SUCCESS)
		return vdm__nvml_failed(n, "nvmlDeviceGetGpuInstanceById", r);
	/* its compute instances first, of every profile (7_SLICE_NVL too) */
	nvmlComputeInstance_t *ci = NULL;
	int nci = n->ci_destroy ? gi_cis(n, gi, &ci) : 0;
	for (int i = 0; i < nci; i++) {
		r = n->ci_destroy(ci[i]);
		if (r != NVML_SUCCESS) {
			free(ci);
			return vdm__nvml_failed(n, "nvmlComputeInstanceDestroy", r);
		}
	}
	free(ci);
	if (nci < 0)
		return nci;
	r = n->gi_destroy(gi);
	return r == NVML_SUCCESS ? 0 : vdm__nvml_failed(n, "nvmlGpuInstanceDestroy", r);
}

int vdm_nvml_type_gi_profile(struct vdm_nvml *n, unsigned type_id, int *gip)
{
	unsigned id = 0;
	NEED(n, type_gip);
	nvmlReturn_t r = n->type_gip(type_id, &id);
	if (r != NVML_SUCCESS)
		return vdm__nvml_failed(n, "nvmlVgpuTypeGetGpuInstanceProfileId", r);
	if (id != NVML_INVALID_ID && id > INT_MAX) {
		snprintf(n->last_error, sizeof(n->last_error),
			 "nvmlVgpuTypeGetGpuInstanceProfileId: profile id %u out of range", id);
		return -ERANGE;
	}
	*gip = id == NVML_INVALID_ID ? VDM_NVML_TIME_SLICED : (int)id;
	return 0;
}

int vdm_nvml_type_per_gi(struct vdm_nvml *n, unsigned type_id)
{
	NEED(n, type_per_gi);
	nvmlVgpuTypeMaxInstance_v1_t m = {.version = NVML_VGPU_TYPE_MAX_INSTANCE_V1, .vgpuTypeId = type_id};
	nvmlReturn_t r = n->type_per_gi(&m);
	if (r != NVML_SUCCESS)
		return vdm__nvml_failed(n, "nvmlVgpuTypeGetMaxInstancesPerGpuInstance", r);
	return (int)m.maxInstancePerGI;
}

int vdm_nvml_active_vgpus(struct vdm_nvml *n, const char *addr, struct vdm_nvml_vgpu **out)
{
	nvmlDevice_t dev;
	unsigned cnt = 0;
	int rc = DEVICE(n, addr, &dev, HAVE(n, active_vgpus));
	*out = NULL;
	if (rc < 0)
		return rc;
	nvmlReturn_t r = n->active_vgpus(dev, &cnt, NULL);
	if (r != NVML_SUCCESS && r != NVML_ERROR_INSUFFICIENT_SIZE)
		return vdm__nvml_failed(n, "nvmlDeviceGetActiveVgpus", r);
	if (!cnt)
		return 0;
	nvmlVgpuInstance_t *ids = vdm_xcalloc(cnt, sizeof(*ids));
	r = n->active_vgpus(dev, &cnt, ids);
	if (r != NVML_SUCCESS) {
		free(ids);
		return vdm__nvml_failed(n, "nvmlDeviceGetActiveVgpus", r);
	}
	struct vdm_nvml_vgpu *v = vdm_xcalloc(cnt, sizeof(*v));
	for (unsigned i = 0; i < cnt; i++) {
		nvmlVgpuTypeId_t t = 0;
		unsigned gi = NVML_INVALID_ID;
		if (n->vgpu_type)
			n->vgpu_type(ids[i], &t);
		if (n->vgpu_gi)
			n->vgpu_gi(ids[i], &gi);
		v[i].type = t;
		v[i].gi = gi == NVML_INVALID_ID ? -1 : (int)gi;
		nvmlReturn_t ur = n->vgpu_uuid ? n->vgpu_uuid(ids[i], v[i].uuid, sizeof(v[i].uuid))
					       : NVML_ERROR_FUNCTION_NOT_FOUND;
		if (ur != NVML_SUCCESS) {
			v[i].uuid[0] = '\0';
			if (ur != NVML_ERROR_NOT_SUPPORTED) /* NOT_SUPPORTED: vendor VFIO, no mdev */
				vdm__nvml_failed(n, "nvmlVgpuInstanceGetMdevUUID", ur);
		}
	}
	free(ids);
	*out = v;
	return (int)cnt;
}
