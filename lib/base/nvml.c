/* SPDX-License-Identifier: Apache-2.0 */
#include "nvml_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"

const char *vdm__nvml_strerror(struct vdm_nvml *n, nvmlReturn_t r)
{
	return n->error_string ? n->error_string(r) : "NVML error";
}

int vdm__nvml_errno(nvmlReturn_t r)
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

/* Where upstream looks under a driver root (vgpu-device-manager find.go). */
static const char *const lib_dirs[] = {
	"", "usr/lib64", "usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu",
	"lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu",
};

int vdm_nvml_find(struct vdm_ctx *ctx, char *path, size_t len, const char **how)
{
	const char *v = getenv("VGPU_DM_NVML_LIBRARY");
	if (v && *v) {
		*how = "VGPU_DM_NVML_LIBRARY";
		snprintf(path, len, "%s", v);
		return 0;
	}
	const char *host = vdm_ctx_host_root(ctx);
	const char *roots[] = {vdm_ctx_driver_root(ctx), strcmp(host, "/") ? host : NULL};
	static const char *const hows[] = {"under the driver root", "under the host root"};
	for (size_t r = 0; r < 2; r++) {
		if (!roots[r])
			continue;
		for (size_t d = 0; d < sizeof(lib_dirs) / sizeof(lib_dirs[0]); d++) {
			char rel[64];
			struct stat st;
			snprintf(rel, sizeof(rel), "%s/" VDM_NVML_SONAME, lib_dirs[d]);
			int fd = vdm_open_under(roots[r], rel, O_RDONLY, path, len);
			if (fd < 0)
				continue;
			bool reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
			close(fd);
			if (reg) {
				*how = hows[r];
				return 0;
			}
		}
	}
	*how = "the dynamic linker's search";
	snprintf(path, len, "%s", VDM_NVML_SONAME);
	return 1;
}

/* Why the last vdm_nvml_open failed (vdm_nvml_why). */
static char open_why[4096 + 512];

const char *vdm_nvml_why(void)
{
	return open_why[0] ? open_why
			   : "NVML was not asked (libnvidia-ml.so.1, or the file VGPU_DM_NVML_LIBRARY names)";
}

struct vdm_nvml *vdm_nvml_open(struct vdm_ctx *ctx)
{
	char path[4096];
	const char *how;
	int found = vdm_nvml_find(ctx, path, sizeof(path), &how);
	bool named = !strcmp(how, "VGPU_DM_NVML_LIBRARY");
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		/* Absent is common (mdev hosts need no NVML); there but unloadable is not. */
		const char *e = dlerror();
		vdm_log(ctx, found == 0 ? VDM_LOG_WARN : VDM_LOG_DEBUG, "NVML not available (%s, %s): %s",
			path, how, e ? e : "?");
		snprintf(open_why, sizeof(open_why), "NVML could not be loaded (%s): %s", e ? e : path,
			 named ? "check the file VGPU_DM_NVML_LIBRARY names"
			       : "install the driver's libnvidia-ml.so.1, or set VGPU_DM_NVML_LIBRARY to its path");
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
		vdm_log(ctx, found == 0 ? VDM_LOG_WARN : VDM_LOG_DEBUG, "NVML %s (%s): cannot initialise: %s",
			path, how, n->init ? vdm__nvml_strerror(n, r) : "no nvmlInit_v2");
		snprintf(open_why, sizeof(open_why), "NVML was loaded from %s but %s%s", path,
			 n->init ? "nvmlInit_v2 failed: " : "it has no nvmlInit_v2", n->init ? vdm__nvml_strerror(n, r) : "");
		if (n->init && r == NVML_ERROR_DRIVER_NOT_LOADED)
			snprintf(open_why + strlen(open_why), sizeof(open_why) - strlen(open_why), "%s",
				 getenv("VGPU_SIM_ROOT")
					 ? " (load the nvidia module; vgpu-sim's stand-in says this when "
					   "VGPU_SIM_ROOT is not its mount point)"
					 : " (load the nvidia module; for vgpu-sim's stand-in set VGPU_SIM_ROOT "
					   "to the mount point)");
		dlclose(lib);
		free(n);
		return NULL;
	}
	vdm_dbg(ctx, "NVML loaded from %s (%s)", path, how);
	open_why[0] = '\0';
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

int vdm__nvml_device(struct vdm_nvml *n, const char *addr, nvmlDevice_t *dev)
{
	if (!n->by_bus_id)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->by_bus_id(addr, dev);
	if (r != NVML_SUCCESS) {
		vdm_dbg(n->ctx, "NVML: no device %s: %s", addr, vdm__nvml_strerror(n, r));
		return vdm__nvml_errno(r);
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
		vdm_dbg(n->ctx, "NVML: vGPU type %u has no name: %s", type_id, vdm__nvml_strerror(n, r));
		return vdm__nvml_errno(r);
	}
	buf[len - 1] = '\0';
	return 0;
}

int vdm_nvml_supported_types(struct vdm_nvml *n, const char *addr, unsigned **ids)
{
	nvmlDevice_t dev;
	unsigned int count = 0;
	int rc = vdm__nvml_device(n, addr, &dev);
	*ids = NULL;
	if (rc < 0)
		return rc;
	if (!n->supported)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->supported(dev, &count, NULL);
	if (r != NVML_SUCCESS && r != NVML_ERROR_INSUFFICIENT_SIZE)
		return vdm__nvml_errno(r);
	if (count == 0)
		return 0;
	*ids = vdm_xcalloc(count, sizeof(**ids));
	r = n->supported(dev, &count, *ids);
	if (r != NVML_SUCCESS) {
		free(*ids);
		*ids = NULL;
		return vdm__nvml_errno(r);
	}
	return (int)count;
}

int vdm_nvml_type_max_instances(struct vdm_nvml *n, const char *addr, unsigned type_id)
{
	nvmlDevice_t dev;
	unsigned int count = 0;
	int rc = vdm__nvml_device(n, addr, &dev);
	if (rc < 0)
		return rc;
	if (!n->max_instances)
		return -EOPNOTSUPP;
	nvmlReturn_t r = n->max_instances(dev, type_id, &count);
	if (r == NVML_SUCCESS && count > (1u << 20))
		return -ERANGE; /* not a GPU's count: refused, not clamped */
	return r == NVML_SUCCESS ? (int)count : vdm__nvml_errno(r);
}

int vdm_nvml_mixed_size_mode(struct vdm_nvml *n, const char *addr)
{
	nvmlDevice_t dev;
	int rc = vdm__nvml_device(n, addr, &dev);
	if (rc < 0)
		return rc;
	if (!n->hetero_mode)
		return -EOPNOTSUPP;
	nvmlVgpuHeterogeneousMode_t m = {.version = NVML_VGPU_HETEROGENEOUS_MODE_V1};
	nvmlReturn_t r = n->hetero_mode(dev, &m);
	if (r != NVML_SUCCESS) {
		vdm_dbg(n->ctx, "NVML: mixed-size mode of %s unknown: %s", addr, vdm__nvml_strerror(n, r));
		return vdm__nvml_errno(r);
	}
	return m.mode ? 1 : 0;
}

/* ---- MIG ---- */

const char *vdm_nvml_last_error(const struct vdm_nvml *n)
{
	return n->last_error;
}

int vdm__nvml_failed(struct vdm_nvml *n, const char *what, nvmlReturn_t r)
{
	snprintf(n->last_error, sizeof(n->last_error), "%s: %s (NVML code %d)", what, vdm__nvml_strerror(n, r), r);
	vdm_dbg(n->ctx, "NVML %s", n->last_error);
	return vdm__nvml_errno(r);
}
