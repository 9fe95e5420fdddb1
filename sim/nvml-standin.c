/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnvidia-ml.so.1 stand-in for a vgpu-sim host.  It implements a few NVML
 * calls with NVML's C signatures and return codes (declared here from the
 * public documentation; no NVIDIA header is used) and answers them from the
 * simulated host whose mount point is in VGPU_SIM_ROOT (else VGPU_DM_SYSFS_ROOT):
 *
 *   .vgpu-sim/gpus/<BDF>/     one directory per GPU (the NVML devices)
 *        types                "id max_instances name" of its offered types
 *        creatable            ids creatable now, one per line
 *        mixed_size           "0" or "1" (SR-IOV GPUs only)
 *   .vgpu-sim/types           "id name" of every type of the host's models
 *   sys/module/nvidia/version the driver version
 *
 * Choices: without either variable (or without a simulator there) nvmlInit_v2
 * returns NVML_ERROR_DRIVER_NOT_LOADED, as NVML does without the driver.
 * nvmlVgpuTypeGetName returns the same full name sysfs shows
 * ("NVIDIA L40S-1B", "GRID T4-1Q").  nvmlDeviceGetSupportedVgpus lists the
 * types the simulated driver offers on the GPU (not the unoffered L40S
 * C-series).  Not thread-safe.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvml-standin.h"

struct standin_state st;

/* ---- reading the simulator ---------------------------------------------------- */

static char *vpath(const char *fmt, va_list ap)
{
	char *rel = NULL, *path = NULL;

	if (vasprintf(&rel, fmt, ap) < 0)
		return NULL;
	if (asprintf(&path, "%s/%s", st.root, rel) < 0)
		path = NULL;
	free(rel);
	return path;
}

/* Contents of a file below the root, NUL-terminated; NULL with errno set. */
char *slurp(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = vpath(fmt, ap);
	va_end(ap);
	if (!path)
		return NULL;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return NULL;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t n;
	while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	int saved = errno;
	close(fd);
	if (buf)
		buf[len] = '\0';
	errno = saved;
	return buf;
}

/* One write() to a file below the root: 0 or an errno. */
int spew(const char *data, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = vpath(fmt, ap);
	va_end(ap);
	if (!path)
		return ENOMEM;

	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int err = fd < 0 ? errno : 0;
	free(path);
	if (fd >= 0) {
		if (write(fd, data, strlen(data)) < 0)
			err = errno;
		close(fd);
	}
	return err;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct nvmlDevice_st *)a)->bdf, ((const struct nvmlDevice_st *)b)->bdf);
}

static nvmlReturn_t load_devices(void)
{
	char *path = NULL;

	if (asprintf(&path, "%s/.vgpu-sim/gpus", st.root) < 0)
		return NVML_ERROR_MEMORY;
	DIR *d = opendir(path);
	free(path);
	if (!d)
		return NVML_ERROR_DRIVER_NOT_LOADED;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len >= sizeof(st.devs->bdf))
			continue;
		struct nvmlDevice_st *more = realloc(st.devs, (st.ndevs + 1) * sizeof(*more));
		if (!more) {
			closedir(d);
			return NVML_ERROR_MEMORY;
		}
		st.devs = more;
		memcpy(st.devs[st.ndevs++].bdf, e->d_name, len + 1);
	}
	closedir(d);
	if (st.ndevs)
		qsort(st.devs, st.ndevs, sizeof(*st.devs), cmp_dev);
	return NVML_SUCCESS;
}

static void unload(void)
{
	free(st.devs);
	free(st.root);
	st.devs = NULL;
	st.root = NULL;
	st.ndevs = 0;
}

bool valid_device(nvmlDevice_t dev)
{
	return dev && st.ndevs && dev >= st.devs && dev < st.devs + st.ndevs;
}

/* Line "id rest..." of a table whose first field is the type id; the rest
 * (after the separating space) is copied into *rest (malloc'd). */
bool table_find(const char *table, unsigned id, char **rest)
{
	for (const char *line = table; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *end;
		unsigned long v = strtoul(line, &end, 10);
		if (end != line && v == id && *end == ' ') {
			size_t n = len - (size_t)(end + 1 - line);
			*rest = malloc(n + 1);
			if (!*rest)
				return false;
			memcpy(*rest, end + 1, n);
			(*rest)[n] = '\0';
			return true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* Ids in the first field of each line; returns the count (ids may be NULL). */
unsigned table_ids(const char *table, nvmlVgpuTypeId_t *ids, unsigned max)
{
	unsigned n = 0;

	for (const char *line = table; line && *line;) {
		char *end;
		unsigned long v = strtoul(line, &end, 10);
		if (end != line) {
			if (ids && n < max)
				ids[n] = (nvmlVgpuTypeId_t)v;
			n++;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n;
}

/* ---- initialisation ---------------------------------------------------------------- */

NVML_API nvmlReturn_t nvmlInit_v2(void)
{
	if (st.refcount) {
		st.refcount++;
		return NVML_SUCCESS;
	}
	/* The mount: VGPU_SIM_ROOT, else the tool's own root (vgpu-sim --env sets both). */
	const char *root = getenv("VGPU_SIM_ROOT");
	if (!root || !*root)
		root = getenv("VGPU_DM_SYSFS_ROOT");
	if (!root || !*root)
		return NVML_ERROR_DRIVER_NOT_LOADED;
	st.root = strdup(root);
	if (!st.root)
		return NVML_ERROR_MEMORY;
	nvmlReturn_t r = load_devices();
	if (r != NVML_SUCCESS) {
		unload();
		return r;
	}
	st.refcount = 1;
	return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlInit(void)
{
	return nvmlInit_v2();
}

NVML_API nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
	(void)flags;
	return nvmlInit_v2();
}

NVML_API nvmlReturn_t nvmlShutdown(void)
{
	CHECK_INIT();
	if (--st.refcount == 0)
		unload();
	return NVML_SUCCESS;
}

NVML_API const char *nvmlErrorString(nvmlReturn_t result)
{
	switch (result) {
	case NVML_SUCCESS: return "Success";
	case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
	case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
	case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
	case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
	case NVML_ERROR_ALREADY_INITIALIZED: return "Already Initialized";
	case NVML_ERROR_NOT_FOUND: return "Not Found";
	case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
	case NVML_ERROR_INSUFFICIENT_POWER: return "Insufficient External Power";
	case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
	case NVML_ERROR_TIMEOUT: return "Timeout";
	case NVML_ERROR_IRQ_ISSUE: return "Interrupt Request Issue";
	case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML Shared Library Not Found";
	case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
	case NVML_ERROR_CORRUPTED_INFOROM: return "Corrupted infoROM";
	case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
	case NVML_ERROR_RESET_REQUIRED: return "GPU requires restart";
	case NVML_ERROR_OPERATING_SYSTEM: return "The operating system has blocked the request.";
	case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
	case NVML_ERROR_IN_USE: return "In use by another client";
	case NVML_ERROR_MEMORY: return "Insufficient Memory";
	case NVML_ERROR_NO_DATA: return "No data";
	case NVML_ERROR_INSUFFICIENT_RESOURCES: return "Ran out of critical resources, other than memory";
	case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
	default: return "Unknown Error";
	}
}

NVML_API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
	CHECK_INIT();
	if (!version)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *v = slurp("sys/module/nvidia/version");
	if (!v)
		return NVML_ERROR_UNKNOWN;
	v[strcspn(v, "\n")] = '\0';
	nvmlReturn_t r = NVML_ERROR_INSUFFICIENT_SIZE;
	if (strlen(v) < length) {
		memcpy(version, v, strlen(v) + 1);
		r = NVML_SUCCESS;
	}
	free(v);
	return r;
}

/* ---- devices ---------------------------------------------------------------------------- */

NVML_API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
{
	CHECK_INIT();
	if (!deviceCount)
		return NVML_ERROR_INVALID_ARGUMENT;
	*deviceCount = st.ndevs;
	return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	CHECK_INIT();
	if (!device || index >= st.ndevs)
		return NVML_ERROR_INVALID_ARGUMENT;
	*device = &st.devs[index];
	return NVML_SUCCESS;
}

/* "domain:bus:device.function" (domain of any width, e.g. "00000000:3B:00.0"),
 * or "bus:device.function"; hex, any case. */
static bool parse_bus_id(const char *s, char out[16])
{
	unsigned dom = 0, bus, dev, fn;
	int n = -1;

	if (sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) != 4 || s[n] != '\0') {
		n = -1;
		dom = 0;
		if (sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) != 3 || s[n] != '\0')
			return false;
	}
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return false;
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return false;
	snprintf(out, 16, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return true;
}

NVML_API nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device)
{
	char bdf[16];

	CHECK_INIT();
	if (!pciBusId || !device || !parse_bus_id(pciBusId, bdf))
		return NVML_ERROR_INVALID_ARGUMENT;
	for (unsigned i = 0; i < st.ndevs; i++) {
		if (strcmp(st.devs[i].bdf, bdf) == 0) {
			*device = &st.devs[i];
			return NVML_SUCCESS;
		}
	}
	return NVML_ERROR_NOT_FOUND; /* also a VF: the host's NVML sees PFs only */
}

/* ---- vGPU types ------------------------------------------------------------------------ */

static nvmlReturn_t id_list(nvmlDevice_t dev, const char *file, unsigned int *count, nvmlVgpuTypeId_t *ids)
{
	CHECK_DEVICE(dev);
	if (!count)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *table = slurp(".vgpu-sim/gpus/%s/%s", dev->bdf, file);
	if (!table)
		return NVML_ERROR_UNKNOWN;
	unsigned n = table_ids(table, NULL, 0);
	nvmlReturn_t r = NVML_SUCCESS;
	if (n > *count || (n && !ids)) {
		r = NVML_ERROR_INSUFFICIENT_SIZE;
	} else {
		table_ids(table, ids, n);
	}
	*count = n;
	free(table);
	return r;
}

NVML_API nvmlReturn_t nvmlDeviceGetSupportedVgpus(nvmlDevice_t device, unsigned int *vgpuCount,
						  nvmlVgpuTypeId_t *vgpuTypeIds)
{
	return id_list(device, "types", vgpuCount, vgpuTypeIds);
}

NVML_API nvmlReturn_t nvmlDeviceGetCreatableVgpus(nvmlDevice_t device, unsigned int *vgpuCount,
						  nvmlVgpuTypeId_t *vgpuTypeIds)
{
	return id_list(device, "creatable", vgpuCount, vgpuTypeIds);
}

NVML_API nvmlReturn_t nvmlVgpuTypeGetName(nvmlVgpuTypeId_t vgpuTypeId, char *vgpuTypeName, unsigned int *size)
{
	CHECK_INIT();
	if (!vgpuTypeName || !size)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *table = slurp(".vgpu-sim/types");
	char *name = NULL;
	bool found = table && table_find(table, vgpuTypeId, &name);
	free(table);
	if (!found)
		return NVML_ERROR_INVALID_ARGUMENT;
	size_t len = strlen(name);
	nvmlReturn_t r = NVML_SUCCESS;
	if (len + 1 > *size) {
		*size = (unsigned int)(len + 1);
		r = NVML_ERROR_INSUFFICIENT_SIZE;
	} else {
		memcpy(vgpuTypeName, name, len + 1);
	}
	free(name);
	return r;
}

/* From the name's "-<N><series>" suffix: N GiB. */
NVML_API nvmlReturn_t nvmlVgpuTypeGetFramebufferSize(nvmlVgpuTypeId_t vgpuTypeId, unsigned long long *fbSize)
{
	CHECK_INIT();
	if (!fbSize)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *table = slurp(".vgpu-sim/types");
	char *name = NULL;
	bool found = table && table_find(table, vgpuTypeId, &name);
	free(table);
	if (!found)
		return NVML_ERROR_INVALID_ARGUMENT;
	const char *dash = strrchr(name, '-');
	unsigned long gb = dash ? strtoul(dash + 1, NULL, 10) : 0;
	*fbSize = gb ? gb << 30 : 512ULL << 20;
	free(name);
	return NVML_SUCCESS;
}

NVML_API nvmlReturn_t nvmlVgpuTypeGetMaxInstances(nvmlDevice_t device, nvmlVgpuTypeId_t vgpuTypeId,
						  unsigned int *vgpuInstanceCount)
{
	CHECK_DEVICE(device);
	if (!vgpuInstanceCount)
		return NVML_ERROR_INVALID_ARGUMENT;
	char *table = slurp(".vgpu-sim/gpus/%s/types", device->bdf);
	char *rest = NULL;
	bool found = table && table_find(table, vgpuTypeId, &rest);
	free(table);
	if (!found)
		return NVML_ERROR_INVALID_ARGUMENT;
	*vgpuInstanceCount = (unsigned int)strtoul(rest, NULL, 10);
	free(rest);
	return NVML_SUCCESS;
}

/* ---- mixed-size ("heterogeneous") mode ---------------------------------------------------- */

NVML_API nvmlReturn_t nvmlDeviceGetVgpuHeterogeneousMode(nvmlDevice_t device,
							 nvmlVgpuHeterogeneousMode_t *pHeterogeneousMode)
{
	CHECK_DEVICE(device);
	if (!pHeterogeneousMode)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (pHeterogeneousMode->version != nvmlVgpuHeterogeneousMode_v1)
		return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	char *v = slurp(".vgpu-sim/gpus/%s/mixed_size", device->bdf);
	if (!v)
		return errno == ENOENT ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_UNKNOWN;
	pHeterogeneousMode->mode = v[0] == '1';
	free(v);
	return NVML_SUCCESS;
}

/* nvidia-smi vgpu -shm 0|1: NVML_ERROR_IN_USE (rc 19) while vGPUs exist. */
NVML_API nvmlReturn_t nvmlDeviceSetVgpuHeterogeneousMode(nvmlDevice_t device,
							 const nvmlVgpuHeterogeneousMode_t *pHeterogeneousMode)
{
	CHECK_DEVICE(device);
	if (!pHeterogeneousMode || pHeterogeneousMode->mode > 1)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (pHeterogeneousMode->version != nvmlVgpuHeterogeneousMode_v1)
		return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	switch (spew(pHeterogeneousMode->mode ? "1" : "0", ".vgpu-sim/gpus/%s/mixed_size", device->bdf)) {
	case 0:
		return NVML_SUCCESS;
	case ENOENT:
		return NVML_ERROR_NOT_SUPPORTED;
	case EBUSY:
		return NVML_ERROR_IN_USE;
	default:
		return NVML_ERROR_UNKNOWN;
	}
}
