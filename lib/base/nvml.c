/* SPDX-License-Identifier: Apache-2.0 */
#include "nvml.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_RESET_REQUIRED 16
#define NVML_ERROR_IN_USE 19
#define NVML_ERROR_INSUFFICIENT_RESOURCES 23
#define NVML_INVALID_ID 0xFFFFFFFFu
#define NVML_GPU_INSTANCE_PROFILE_COUNT 17   /* NVML_GPU_INSTANCE_PROFILE_1_SLICE .. _2_SLICE_ALL_ME */
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

static const char *nverr(struct vdm_nvml *n, nvmlReturn_t r)
{
	return n->error_string ? n->error_string(r) : "NVML error";
}

static int to_errno(nvmlReturn_t r)
{
	switch (r) {
	case NVML_ERROR_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	case NVML_ERROR_NOT_FOUND:
		return -ENOENT;
	case NVML_ERROR_INSUFFICIENT_SIZE:
	case NVML_ERROR_INSUFFICIENT_RESOURCES:
		return -ENOSPC;
	case NVML_ERROR_INVALID_ARGUMENT:
		return -EINVAL;
	case NVML_ERROR_NO_PERMISSION:
		return -EPERM;
	case NVML_ERROR_RESET_REQUIRED:
		return -EAGAIN;
	case NVML_ERROR_IN_USE:
		return -EBUSY;
	default:
		return -EIO;
	}
}

struct vdm_nvml *vdm_nvml_open(struct vdm_ctx *ctx)
{
	const char *path = getenv("VGPU_DM_NVML_LIBRARY");
	if (!path || !*path)
		path = "libnvidia-ml.so.1";
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		vdm_dbg(ctx, "NVML not available: %s", dlerror());
		return NULL;
	}
	struct vdm_nvml *n = vdm_xcalloc(1, sizeof(*n));
	n->ctx = ctx;
	n->lib = lib;
	/* POSIX allows converting dlsym's object pointer to a function pointer. */
#define SYM(field, name) *(void **)(&n->field) = dlsym(lib, name)
	SYM(init, "nvmlInit_v2");
	SYM(shutdown, "nvmlShutdown");
	SYM(error_string, "nvmlErrorString");
	SYM(by_bus_id, "nvmlDeviceGetHandleByPciBusId_v2");
	SYM(type_name, "nvmlVgpuTypeGetName");
	SYM(supported, "nvmlDeviceGetSupportedVgpus");
	SYM(max_instances, "nvmlVgpuTypeGetMaxInstances");
	SYM(hetero_mode, "nvmlDeviceGetVgpuHeterogeneousMode");
	SYM(get_mig, "nvmlDeviceGetMigMode");
	SYM(set_mig, "nvmlDeviceSetMigMode");
	SYM(gip_info, "nvmlDeviceGetGpuInstanceProfileInfoV");
	SYM(gip_placements, "nvmlDeviceGetGpuInstancePossiblePlacements_v2");
	SYM(gi_create, "nvmlDeviceCreateGpuInstanceWithPlacement");
	SYM(gi_list, "nvmlDeviceGetGpuInstances");
	SYM(gi_by_id, "nvmlDeviceGetGpuInstanceById");
	SYM(gi_info, "nvmlGpuInstanceGetInfo");
	SYM(gi_destroy, "nvmlGpuInstanceDestroy");
	SYM(cip_info, "nvmlGpuInstanceGetComputeInstanceProfileInfo");
	SYM(ci_create, "nvmlGpuInstanceCreateComputeInstance");
	SYM(ci_list, "nvmlGpuInstanceGetComputeInstances");
	SYM(ci_destroy, "nvmlComputeInstanceDestroy");
	SYM(type_gip, "nvmlVgpuTypeGetGpuInstanceProfileId");
	SYM(type_per_gi, "nvmlVgpuTypeGetMaxInstancesPerGpuInstance");
	SYM(active_vgpus, "nvmlDeviceGetActiveVgpus");
	SYM(vgpu_type, "nvmlVgpuInstanceGetType");
	SYM(vgpu_gi, "nvmlVgpuInstanceGetGpuInstanceId");
	SYM(vgpu_uuid, "nvmlVgpuInstanceGetMdevUUID");
#undef SYM
	nvmlReturn_t r = n->init ? n->init() : -1;
	if (r != NVML_SUCCESS) {
		vdm_dbg(ctx, "NVML %s: cannot initialise: %s", path, n->init ? nverr(n, r) : "no nvmlInit_v2");
		dlclose(lib);
		free(n);
		return NULL;
	}
	vdm_dbg(ctx, "NVML loaded from %s", path);
	return n;
}

void vdm_nvml_close(struct vdm_nvml *n)
{
	if (!n)
		return;
	if (n->shutdown)
		n->shutdown();
	dlclose(n->lib);
	free(n);
}

static int device(struct vdm_nvml *n, const char *addr, nvmlDevice_t *dev)
{
	if (!n->by_bus_id)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->by_bus_id(addr, dev);
	if (r != NVML_SUCCESS) {
		vdm_dbg(n->ctx, "NVML: no device %s: %s", addr, nverr(n, r));
		return to_errno(r);
	}
	return 0;
}

int vdm_nvml_type_name(struct vdm_nvml *n, unsigned type_id, char *buf, size_t len)
{
	unsigned int size = (unsigned int)len;
	if (!n->type_name)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->type_name(type_id, buf, &size);
	if (r != NVML_SUCCESS) {
		vdm_dbg(n->ctx, "NVML: vGPU type %u has no name: %s", type_id, nverr(n, r));
		return to_errno(r);
	}
	buf[len - 1] = '\0';
	return 0;
}

int vdm_nvml_supported_types(struct vdm_nvml *n, const char *addr, unsigned **ids)
{
	nvmlDevice_t dev;
	unsigned int count = 0;
	int rc = device(n, addr, &dev);
	*ids = NULL;
	if (rc < 0)
		return rc;
	if (!n->supported)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->supported(dev, &count, NULL);
	if (r != NVML_SUCCESS && r != NVML_ERROR_INSUFFICIENT_SIZE)
		return to_errno(r);
	if (count == 0)
		return 0;
	*ids = vdm_xcalloc(count, sizeof(**ids));
	r = n->supported(dev, &count, *ids);
	if (r != NVML_SUCCESS) {
		free(*ids);
		*ids = NULL;
		return to_errno(r);
	}
	return (int)count;
}

int vdm_nvml_type_max_instances(struct vdm_nvml *n, const char *addr, unsigned type_id)
{
	nvmlDevice_t dev;
	unsigned int count = 0;
	int rc = device(n, addr, &dev);
	if (rc < 0)
		return rc;
	if (!n->max_instances)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->max_instances(dev, type_id, &count);
	if (r == NVML_SUCCESS && count > (1u << 20))
		return -ERANGE; /* not a GPU's count: refused, not clamped */
	return r == NVML_SUCCESS ? (int)count : to_errno(r);
}

int vdm_nvml_mixed_size_mode(struct vdm_nvml *n, const char *addr)
{
	nvmlDevice_t dev;
	int rc = device(n, addr, &dev);
	if (rc < 0)
		return rc;
	if (!n->hetero_mode)
		return -EOPNOTSUPP;
	nvmlVgpuHeterogeneousMode_t m = {.version = NVML_VGPU_HETEROGENEOUS_MODE_V1};
	nvmlReturn_t r = n->hetero_mode(dev, &m);
	if (r != NVML_SUCCESS) {
		vdm_dbg(n->ctx, "NVML: mixed-size mode of %s unknown: %s", addr, nverr(n, r));
		return to_errno(r);
	}
	return m.mode ? 1 : 0;
}

/* ---- MIG ---- */

const char *vdm_nvml_last_error(const struct vdm_nvml *n)
{
	return n->last_error;
}

/* Record a failed call's message; returns its -errno. */
static int failed(struct vdm_nvml *n, const char *what, nvmlReturn_t r)
{
	snprintf(n->last_error, sizeof(n->last_error), "%s: %s (NVML code %d)", what, nverr(n, r), r);
	vdm_dbg(n->ctx, "NVML %s", n->last_error);
	return to_errno(r);
}

#define NEED(n, fn) \
	do { \
		if (!(n)->fn) { \
			snprintf((n)->last_error, sizeof((n)->last_error), "NVML lacks " #fn); \
			return -EOPNOTSUPP; \
		} \
	} while (0)

int vdm_nvml_mig_mode(struct vdm_nvml *n, const char *addr, int *current, int *pending)
{
	nvmlDevice_t dev;
	unsigned cur = 0, pend = 0;
	int rc = device(n, addr, &dev);
	if (rc < 0)
		return rc;
	NEED(n, get_mig);
	nvmlReturn_t r = n->get_mig(dev, &cur, &pend);
	if (r != NVML_SUCCESS)
		return r == NVML_ERROR_NOT_SUPPORTED ? -EOPNOTSUPP : failed(n, "nvmlDeviceGetMigMode", r);
	*current = (int)cur;
	*pending = (int)pend;
	return 0;
}

int vdm_nvml_set_mig_mode(struct vdm_nvml *n, const char *addr, int mode)
{
	nvmlDevice_t dev;
	nvmlReturn_t act = NVML_SUCCESS;
	int rc = device(n, addr, &dev);
	if (rc < 0)
		return rc;
	NEED(n, set_mig);
	nvmlReturn_t r = n->set_mig(dev, (unsigned)mode, &act);
	if (r != NVML_SUCCESS)
		return failed(n, "nvmlDeviceSetMigMode", r);
	if (act != NVML_SUCCESS) {
		failed(n, "activating the new MIG mode (GPU reset)", act);
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
	int rc = device(n, addr, &dev);
	*out = NULL;
	if (rc < 0)
		return rc;
	NEED(n, gip_info);
	NEED(n, gip_placements);
	struct vdm_nvml_gip *p = vdm_xcalloc(NVML_GPU_INSTANCE_PROFILE_COUNT, sizeof(*p));
	int np = 0;
	for (unsigned k = 0; k < NVML_GPU_INSTANCE_PROFILE_COUNT; k++) {
		nvmlGpuInstanceProfileInfo_v2_t info = {.version = NVML_GI_PROFILE_INFO_V2};
		if (n->gip_info(dev, k, &info) != NVML_SUCCESS)
			continue;
		struct vdm_nvml_gip *g = &p[np];
		g->id = info.id;
		g->slices = info.sliceCount;
		g->max = info.instanceCount;
		g->mem_mib = info.memorySizeMB;
		info.name[sizeof(info.name) - 1] = '\0';
		const char *nm = strncmp(info.name, "MIG ", 4) ? info.name : info.name + 4;
		size_t nl = strnlen(nm, sizeof(g->name) - 1);
		memcpy(g->name, nm, nl);
		g->name[nl] = '\0';
		unsigned cnt = 0;
		nvmlReturn_t r = n->gip_placements(dev, info.id, NULL, &cnt);
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
		np++;
	}
	*out = p;
	return np;
}

/* The full compute-instance profile of a GI of `slices` slices, or -1. */
static int full_ci_profile(unsigned slices)
{
	static const int idx[9] = {-1, 0, 1, 2, 3, -1, 6, 4, 5}; /* NVML_COMPUTE_INSTANCE_PROFILE_*_SLICE */
	return slices < 9 ? idx[slices] : -1;
}

int vdm_nvml_gis(struct vdm_nvml *n, const char *addr, const struct vdm_nvml_gip *p, size_t np,
		 struct vdm_nvml_gi **out)
{
	nvmlDevice_t dev;
	int rc = device(n, addr, &dev);
	*out = NULL;
	if (rc < 0)
		return rc;
	NEED(n, gi_list);
	NEED(n, gi_info);
	size_t cnt = 0;
	for (size_t k = 0; k < np; k++) {
		unsigned c = 0;
		nvmlGpuInstance_t *h = vdm_xcalloc(p[k].max ? p[k].max : 1, sizeof(*h));
		nvmlReturn_t r = n->gi_list(dev, p[k].id, h, &c);
		if (r != NVML_SUCCESS) {
			free(h);
			free(*out);
			*out = NULL;
			return failed(n, "nvmlDeviceGetGpuInstances", r);
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
			g->n_ci = 0;
			int cip = full_ci_profile(p[k].slices);
			nvmlComputeInstance_t ci[8];
			unsigned nci = 0;
			if (cip >= 0 && n->ci_list && n->ci_list(h[i], (unsigned)cip, ci, &nci) == NVML_SUCCESS)
				g->n_ci = nci;
		}
		free(h);
	}
	return (int)cnt;
}

int vdm_nvml_create_gi(struct vdm_nvml *n, const char *addr, const struct vdm_nvml_gip *p, unsigned start,
		       unsigned *id)
{
	nvmlDevice_t dev;
	int rc = device(n, addr, &dev);
	if (rc < 0)
		return rc;
	NEED(n, gi_create);
	NEED(n, gi_info);
	NEED(n, cip_info);
	NEED(n, ci_create);
	nvmlGpuInstancePlacement_t pl = {start, 0};
	for (size_t i = 0; i < p->n_pl; i++)
		if (p->pl[i].start == start)
			pl.size = p->pl[i].size;
	nvmlGpuInstance_t gi;
	nvmlReturn_t r = n->gi_create(dev, p->id, &pl, &gi);
	if (r != NVML_SUCCESS)
		return failed(n, "nvmlDeviceCreateGpuInstanceWithPlacement", r);
	nvmlGpuInstanceInfo_t info;
	r = n->gi_info(gi, &info);
	if (r != NVML_SUCCESS)
		return failed(n, "nvmlGpuInstanceGetInfo", r);
	*id = info.id;
	nvmlComputeInstanceProfileInfo_t cinfo;
	int cip = full_ci_profile(p->slices);
	nvmlComputeInstance_t ci;
	r = cip < 0 ? NVML_ERROR_NOT_SUPPORTED : n->cip_info(gi, (unsigned)cip, 0, &cinfo);
	if (r == NVML_SUCCESS)
		r = n->ci_create(gi, cinfo.id, &ci);
	if (r != NVML_SUCCESS) {
		rc = failed(n, "creating the compute instance", r);
		if (n->gi_destroy)
			n->gi_destroy(gi);
		return rc;
	}
	return 0;
}

int vdm_nvml_destroy_gi(struct vdm_nvml *n, const char *addr, unsigned gi_id)
{
	nvmlDevice_t dev;
	int rc = device(n, addr, &dev);
	if (rc < 0)
		return rc;
	NEED(n, gi_by_id);
	NEED(n, gi_destroy);
	nvmlGpuInstance_t gi;
	nvmlReturn_t r = n->gi_by_id(dev, gi_id, &gi);
	if (r != NVML_SUCCESS)
		return failed(n, "nvmlDeviceGetGpuInstanceById", r);
	for (unsigned cip = 0; cip < 8 && n->ci_list && n->ci_destroy; cip++) {
		nvmlComputeInstance_t ci[8];
		unsigned nci = 0;
		if (n->ci_list(gi, cip, ci, &nci) != NVML_SUCCESS)
			continue;
		for (unsigned i = 0; i < nci; i++) {
			r = n->ci_destroy(ci[i]);
			if (r != NVML_SUCCESS)
				return failed(n, "nvmlComputeInstanceDestroy", r);
		}
	}
	r = n->gi_destroy(gi);
	return r == NVML_SUCCESS ? 0 : failed(n, "nvmlGpuInstanceDestroy", r);
}

int vdm_nvml_type_gi_profile(struct vdm_nvml *n, unsigned type_id)
{
	unsigned id = 0;
	NEED(n, type_gip);
	nvmlReturn_t r = n->type_gip(type_id, &id);
	if (r != NVML_SUCCESS)
		return failed(n, "nvmlVgpuTypeGetGpuInstanceProfileId", r);
	return id == NVML_INVALID_ID ? -1 : (int)id;
}

int vdm_nvml_type_per_gi(struct vdm_nvml *n, unsigned type_id)
{
	NEED(n, type_per_gi);
	nvmlVgpuTypeMaxInstance_v1_t m = {.version = NVML_VGPU_TYPE_MAX_INSTANCE_V1, .vgpuTypeId = type_id};
	nvmlReturn_t r = n->type_per_gi(&m);
	if (r != NVML_SUCCESS)
		return failed(n, "nvmlVgpuTypeGetMaxInstancesPerGpuInstance", r);
	return (int)m.maxInstancePerGI;
}

int vdm_nvml_active_vgpus(struct vdm_nvml *n, const char *addr, struct vdm_nvml_vgpu **out)
{
	nvmlDevice_t dev;
	unsigned cnt = 0;
	int rc = device(n, addr, &dev);
	*out = NULL;
	if (rc < 0)
		return rc;
	NEED(n, active_vgpus);
	nvmlReturn_t r = n->active_vgpus(dev, &cnt, NULL);
	if (r != NVML_SUCCESS && r != NVML_ERROR_INSUFFICIENT_SIZE)
		return failed(n, "nvmlDeviceGetActiveVgpus", r);
	if (!cnt)
		return 0;
	nvmlVgpuInstance_t *ids = vdm_xcalloc(cnt, sizeof(*ids));
	r = n->active_vgpus(dev, &cnt, ids);
	if (r != NVML_SUCCESS) {
		free(ids);
		return failed(n, "nvmlDeviceGetActiveVgpus", r);
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
		if (!n->vgpu_uuid || n->vgpu_uuid(ids[i], v[i].uuid, sizeof(v[i].uuid)) != NVML_SUCCESS)
			v[i].uuid[0] = '\0';
	}
	free(ids);
	*out = v;
	return (int)cnt;
}
