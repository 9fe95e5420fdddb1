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
#include "base/base.h"

#define MDEV_BUS "sys/class/mdev_bus"
#define MDEV_DEVICES "sys/bus/mdev/devices"

/* "num_heads=4, frl_config=60, framebuffer=1024M, ..., max_instance=16":
 * the number after key=, -1 if the key is not there, -2 if its value is not
 * a number up to 2^30 (out of range is refused, not clamped). */
static int desc_field(const char *desc, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = desc; (p = strstr(p, key)); p += kl) {
		if ((p == desc || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\n') && p[kl] == '=') {
			const char *d = p + kl + 1;
			char num[16];
			size_t n = strspn(d, "0123456789");
			long v;
			if (n == 0 || n >= sizeof(num))
				return -2;
			memcpy(num, d, n);
			num[n] = '\0';
			if (vdm_parse_long(num, 10, 0, 1 << 30, &v) < 0)
				return -2;
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

/* The types of a GPU, from one parent (every parent of a GPU offers the
 * same): the name and description of each, read once per GPU. */
static int read_types(struct vdm_host *h, struct vdm_gpu *g, const struct vdm_parent *par)
{
	struct vdm_ctx *ctx = h->ctx;
	char rel[VDM_PATH_MAX], buf[512];
	char **ids;
	const char *parent = par->addr;
	snprintf(rel, sizeof(rel), "%s/mdev_supported_types", par->dir);
	vdm_root_cache_dir(ctx, rel);
	int n = vdm_sysfs_list(ctx, rel, &ids);
	if (n < 0)
		return n == -ENOENT ? 0 : n;
	g->types = vdm_xcalloc((size_t)n, sizeof(*g->types));
	for (int i = 0; i < n; i++) {
		if (strncmp(ids[i], "nvidia-", 7))
			continue;
		snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s", par->dir, ids[i]);
		vdm_root_cache_dir(ctx, rel); /* name, description, available_instances */
		snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s/name", par->dir, ids[i]);
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
		snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s/description", par->dir, ids[i]);
		if (vdm_sysfs_read(ctx, rel, buf, sizeof(buf)) > 0) {
			t->max_instances = desc_field(buf, "max_instance");
			t->fb_mib = desc_field(buf, "framebuffer");
			if ((t->max_instances == -2 || t->fb_mib == -2) && !g->unreadable)
				g->unreadable = vdm_unreadable(ctx, rel, -EINVAL);
			if (t->max_instances < 0)
				t->max_instances = -1;
			if (t->fb_mib < 0)
				t->fb_mib = -1;
		}
	}
	vdm_names_free(ids, n);
	return 0;
}


/* The GPU a parent belongs to (itself, or the PF of a VF) and the
 * parent's directory into dir; NULL if it is no NVIDIA GPU's. */
static struct vdm_gpu *parent_gpu(struct vdm_host *h, const char *parent, char *dir, size_t len)
{
	char rel[VDM_PATH_MAX + 16], pf[VDM_ADDR_LEN];
	struct vdm_gpu *g = vdm_host_gpu_by_addr(h, parent);
	const struct vdm_vf *vf = g ? NULL : vdm_host_vf(h, parent);
	if (g || vf) {
		snprintf(dir, len, "%s", g ? g->dir : vf->dir);
		return g ? g : vdm_host_gpu_by_addr(h, vf->pf);
	}
	/* Not seen in the PCI scan: follow its mdev_bus link. */
	snprintf(rel, sizeof(rel), MDEV_BUS "/%s", parent);
	if (vdm_root_link_path(h->ctx, rel, dir, len) <= 0)
		return NULL;
	snprintf(rel, sizeof(rel), "%s/physfn", dir);
	if (vdm_sysfs_link_base(h->ctx, rel, pf, sizeof(pf)) < 0)
		return NULL;
	return vdm_host_gpu_by_addr(h, pf);
}

static struct vdm_parent *find_parent(struct vdm_host *h, const char *addr)
{
	const struct vdm_vf *vf = vdm_host_vf(h, addr);
	struct vdm_gpu *g = vdm_host_gpu_by_addr(h, vf ? vf->pf : addr);
	for (size_t p = 0; g && p < g->n_parents; p++)
		if (!strcmp(g->parents[p].addr, addr))
			return &g->parents[p];
	for (size_t i = 0; !vf && i < h->n_gpus; i++)
		for (size_t p = 0; p < h->gpus[i].n_parents; p++)
			if (!strcmp(h->gpus[i].parents[p].addr, addr))
				return &h->gpus[i].parents[p];
	return NULL;
}

static int scan_vgpus(struct vdm_host *h)
{
	struct vdm_ctx *ctx = h->ctx;
	char rel[VDM_PATH_MAX + 16], target[VDM_PATH_MAX], tid[128];
	char **uuids;
	vdm_root_cache_dir(ctx, MDEV_DEVICES);
	int n = vdm_sysfs_list(ctx, MDEV_DEVICES, &uuids);
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		/* <uuid> -> ../../../devices/.../<parent>/<uuid>, resolved inside the root */
		if (strlen(uuids[i]) != VDM_UUID_LEN - 1)
			continue;
		snprintf(rel, sizeof(rel), MDEV_DEVICES "/%s", uuids[i]);
		int rc = vdm_root_link_path(ctx, rel, target, sizeof(target));
		if (rc <= 0)
			continue;
		char *slash = strrchr(target, '/');
		if (!slash)
			continue;
		*slash = '\0';
		const char *pbase = strrchr(target, '/');
		char paddr[VDM_ADDR_LEN];
		pbase = pbase ? pbase + 1 : target;
		if (strlen(pbase) >= sizeof(paddr))
			continue;
		memcpy(paddr, pbase, strlen(pbase) + 1);
		*slash = '/';
		struct vdm_parent *p = find_parent(h, paddr);
		if (!p) {
			vdm_dbg(ctx, "mdev %s on %s: not an NVIDIA GPU's parent, ignored", uuids[i], paddr);
			continue;
		}
		snprintf(rel, sizeof(rel), "%s/mdev_type", target);
		rc = vdm_sysfs_link_base(ctx, rel, tid, sizeof(tid));
		if (rc < 0) {
			vdm_warn(ctx, "mdev %s: cannot read its type: %s", uuids[i], strerror(-rc));
			continue;
		}
		struct vdm_vgpu *v = vdm_gpu_add_vgpu(p->gpu);
		snprintf(v->id, sizeof(v->id), "%s", uuids[i]);
		v->parent = p;
		v->type_id = vdm_xstrdup(tid);
		v->type = -1; /* named once the GPU's types are read */
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
		char dir[VDM_PATH_MAX];
		struct vdm_gpu *g = parent_gpu(h, parents[i], dir, sizeof(dir));
		if (!g) {
			vdm_dbg(h->ctx, "mdev parent %s is not an NVIDIA GPU, ignored", parents[i]);
			continue;
		}
		vdm_gpu_add_parent(g, parents[i], dir);
		g->fw = VDM_FW_MDEV;
		g->be = &vdm_backend_mdev;
	}
	vdm_names_free(parents, n);
	if (rc == 0)
		rc = scan_vgpus(h);
	/* Types from one parent per GPU: a free one, whose directory the
	 * available_instances reads then share (see vdm_parent_available). */
	for (size_t i = 0; i < h->n_gpus && rc == 0; i++) {
		struct vdm_gpu *g = &h->gpus[i];
		if (g->fw != VDM_FW_MDEV || !g->n_parents)
			continue;
		struct vdm_parent *rep = &g->parents[0];
		for (size_t k = 0; k < g->n_parents; k++)
			if (!vdm_parent_is_vf(&g->parents[k]) || g->parents[k].n_vgpus == 0) {
				rep = &g->parents[k];
				break;
			}
		rc = read_types(h, g, rep);
		for (size_t v = 0; v < g->n_vgpus; v++)
			g->vgpus[v].type = vdm_gpu_type_by_id(g, g->vgpus[v].type_id);
	}
	if (rc == 0)
		read_modes(h);
	return rc;
}

static int mdev_available(struct vdm_host *h, struct vdm_parent *p, int type)
{
	char rel[VDM_PATH_MAX];
	int v;
	snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s/available_instances", p->dir,
		 p->gpu->types[type].id);
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
	snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s/create", p->dir,
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
