/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mdev backend: kernels before 6.8. Parents are listed in
 * sys/class/mdev_bus (the GPU itself, or its SR-IOV VFs on Ampere and later),
 * types in <parent>/mdev_supported_types/nvidia-<id>/, vGPUs in
 * sys/bus/mdev/devices/<uuid>. Create writes the UUID to the type's
 * "create"; destroy writes "1" to the vGPU's "remove".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "nvml.h"
#include "sysfs.h"

#define MDEV_BUS "sys/class/mdev_bus"
#define MDEV_DEVICES "sys/bus/mdev/devices"

/* "num_heads=4, frl_config=60, framebuffer=1024M, ..., max_instance=16" */
static int desc_field(const char *desc, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = desc; (p = strstr(p, key)); p += kl) {
		if ((p == desc || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\n') && p[kl] == '=') {
			char *end;
			long v = strtol(p + kl + 1, &end, 10);
			if (end == p + kl + 1 || v < 0 || v > 1 << 30)
				return -1;
			return (int)v;
		}
	}
	return -1;
}

/* The type name is the last word of "name" ("GRID T4-1Q" -> "T4-1Q"). */
static const char *last_word(const char *s)
{
	const char *w = strrchr(s, ' ');
	return w ? w + 1 : s;
}

static int read_types(struct vdm_host *h, struct vdm_gpu *g, const char *parent)
{
	struct vdm_ctx *ctx = h->ctx;
	char rel[VDM_PATH_MAX], buf[512];
	char **ids;
	snprintf(rel, sizeof(rel), MDEV_BUS "/%s/mdev_supported_types", parent);
	int n = vdm_sysfs_list(ctx, rel, &ids);
	if (n < 0)
		return n == -ENOENT ? 0 : n;
	g->types = vdm_xcalloc((size_t)n, sizeof(*g->types));
	for (int i = 0; i < n; i++) {
		if (strncmp(ids[i], "nvidia-", 7))
			continue;
		snprintf(rel, sizeof(rel), MDEV_BUS "/%s/mdev_supported_types/%s/name", parent, ids[i]);
		if (vdm_sysfs_read(ctx, rel, buf, sizeof(buf)) <= 0) {
			vdm_warn(ctx, "%s: type %s has no name, ignored", parent, ids[i]);
			continue;
		}
		struct vdm_vtype *t = &g->types[g->n_types++];
		t->id = vdm_xstrdup(ids[i]);
		t->full_name = vdm_xstrdup(buf);
		t->name = vdm_xstrdup(last_word(buf));
		t->max_instances = -1;
		t->fb_mib = -1;
		snprintf(rel, sizeof(rel), MDEV_BUS "/%s/mdev_supported_types/%s/description", parent, ids[i]);
		if (vdm_sysfs_read(ctx, rel, buf, sizeof(buf)) > 0) {
			t->max_instances = desc_field(buf, "max_instance");
			t->fb_mib = desc_field(buf, "framebuffer");
		}
	}
	vdm_names_free(ids, n);
	return 0;
}


/* The GPU a parent belongs to: itself, or the PF of a VF. */
static struct vdm_gpu *parent_gpu(struct vdm_host *h, const char *parent)
{
	char rel[VDM_PATH_MAX], pf[VDM_ADDR_LEN];
	struct vdm_gpu *g = vdm_host_gpu_by_addr(h, parent);
	if (g)
		return g;
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/physfn", parent);
	if (vdm_sysfs_link_base(h->ctx, rel, pf, sizeof(pf)) < 0)
		return NULL;
	return vdm_host_gpu_by_addr(h, pf);
}

static struct vdm_parent *find_parent(struct vdm_host *h, const char *addr)
{
	for (size_t i = 0; i < h->n_gpus; i++)
		for (size_t p = 0; p < h->gpus[i].n_parents; p++)
			if (!strcmp(h->gpus[i].parents[p].addr, addr))
				return &h->gpus[i].parents[p];
	return NULL;
}

static int scan_vgpus(struct vdm_host *h)
{
	struct vdm_ctx *ctx = h->ctx;
	char rel[VDM_PATH_MAX], target[VDM_PATH_MAX], tid[128];
	char **uuids;
	int n = vdm_sysfs_list(ctx, MDEV_DEVICES, &uuids);
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		/* <uuid> -> ../../../devices/.../<parent>/<uuid> */
		snprintf(rel, sizeof(rel), MDEV_DEVICES "/%s", uuids[i]);
		int rc = vdm_sysfs_readlink(ctx, rel, target, sizeof(target));
		if (rc < 0 || strlen(uuids[i]) != VDM_UUID_LEN - 1)
			continue;
		char *slash = strrchr(target, '/');
		if (!slash)
			continue;
		*slash = '\0';
		const char *paddr = strrchr(target, '/');
		paddr = paddr ? paddr + 1 : target;
		struct vdm_parent *p = find_parent(h, paddr);
		if (!p) {
			vdm_dbg(ctx, "mdev %s on %s: not an NVIDIA GPU's parent, ignored", uuids[i], paddr);
			continue;
		}
		snprintf(rel, sizeof(rel), MDEV_DEVICES "/%s/mdev_type", uuids[i]);
		rc = vdm_sysfs_link_base(ctx, rel, tid, sizeof(tid));
		if (rc < 0) {
			vdm_warn(ctx, "mdev %s: cannot read its type: %s", uuids[i], strerror(-rc));
			continue;
		}
		struct vdm_vgpu *v = vdm_gpu_add_vgpu(p->gpu);
		snprintf(v->id, sizeof(v->id), "%s", uuids[i]);
		v->parent = p;
		v->type_id = vdm_xstrdup(tid);
		v->type = vdm_gpu_type_by_id(p->gpu, tid);
		p->n_vgpus++;
	}
	vdm_names_free(uuids, n);
	return 0;
}

/* Equal-size or mixed-size mode of each mdev GPU: a GPU without SR-IOV
 * (before Ampere) has one frame-buffer size at a time, always; an SR-IOV
 * GPU's mode is asked of NVML when it is there, else unknown (the plan then
 * reads the VFs' available_instances). */
static void read_modes(struct vdm_host *h)
{
	struct vdm_nvml *nvml = NULL;
	bool tried = false;
	for (size_t i = 0; i < h->n_gpus; i++) {
		struct vdm_gpu *g = &h->gpus[i];
		if (g->fw != VDM_FW_MDEV)
			continue;
		g->mixed_size = g->sriov ? -1 : 0;
		if (!g->sriov)
			continue;
		if (!tried) {
			nvml = vdm_nvml_open(h->ctx);
			tried = true;
		}
		int mode = nvml ? vdm_nvml_mixed_size_mode(nvml, g->addr) : -1;
		if (mode >= 0)
			g->mixed_size = mode;
	}
	vdm_nvml_close(nvml);
}

static int mdev_scan(struct vdm_host *h)
{
	char **parents;
	int n = vdm_sysfs_list(h->ctx, MDEV_BUS, &parents);
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return n;
	/* Sort parents by PCI address within each GPU: the list is sorted by
	 * name, which for same-width addresses is address order. */
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		struct vdm_gpu *g = parent_gpu(h, parents[i]);
		if (!g) {
			vdm_dbg(h->ctx, "mdev parent %s is not an NVIDIA GPU, ignored", parents[i]);
			continue;
		}
		if (g->fw == VDM_FW_NONE) {
			g->fw = VDM_FW_MDEV;
			g->be = &vdm_backend_mdev;
			rc = read_types(h, g, parents[i]);
		}
		vdm_gpu_add_parent(g, parents[i]);
	}
	vdm_names_free(parents, n);
	if (rc == 0)
		rc = scan_vgpus(h);
	if (rc == 0)
		read_modes(h);
	return rc;
}

static int mdev_available(struct vdm_host *h, struct vdm_parent *p, int type)
{
	char rel[VDM_PATH_MAX];
	int v;
	snprintf(rel, sizeof(rel), MDEV_BUS "/%s/mdev_supported_types/%s/available_instances",
		 p->addr, p->gpu->types[type].id);
	int rc = vdm_sysfs_read_int(h->ctx, rel, &v);
	if (rc == 0 && (v < 0 || v > 1 << 20))
		rc = -ERANGE;
	if (rc < 0)
		return vdm_host_error(h, rel, rc);
	return v;
}

static int mdev_create(struct vdm_host *h, struct vdm_parent *p, int type, const char *uuid)
{
	char rel[VDM_PATH_MAX];
	snprintf(rel, sizeof(rel), MDEV_BUS "/%s/mdev_supported_types/%s/create", p->addr,
		 p->gpu->types[type].id);
	return vdm_sysfs_write(h->ctx, rel, uuid);
}

static int mdev_destroy(struct vdm_host *h, const struct vdm_vgpu *v)
{
	char rel[VDM_PATH_MAX];
	snprintf(rel, sizeof(rel), MDEV_DEVICES "/%s/remove", v->id);
	return vdm_sysfs_write(h->ctx, rel, "1");
}

const struct vdm_backend vdm_backend_mdev = {
	.name = "mdev",
	.uuid_ids = true,
	.scan = mdev_scan,
	.available = mdev_available,
	.create = mdev_create,
	.destroy = mdev_destroy,
};
