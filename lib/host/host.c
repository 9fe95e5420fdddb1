/* SPDX-License-Identifier: Apache-2.0 */
#include "host.h"
#include "base/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig.h"

#define PCI_VENDOR_NVIDIA 0x10de

static const struct vdm_backend *const backends[] = {
	&vdm_backend_mdev,
	&vdm_backend_vfio,
};

const char *vdm_framework_name(enum vdm_framework fw)
{
	switch (fw) {
	case VDM_FW_MDEV:
		return "mdev";
	case VDM_FW_VFIO:
		return "vfio";
	case VDM_FW_NONE:
		break;
	}
	return "none";
}

void vdm_gpu_label(const struct vdm_gpu *gpu, char *buf, size_t len)
{
	snprintf(buf, len, "GPU %d (%s)", gpu->index, gpu->addr);
}

char *vdm_gpu_binding(const struct vdm_gpu *g)
{
	if (!g->driver || !strcmp(g->driver, "nvidia"))
		return NULL;
	if (!*g->driver)
		return vdm_xstrdup("bound to no driver: the nvidia module has not claimed it (blacklisted, "
				   "or its probe failed: see dmesg)");
	if (!strcmp(g->driver, "vfio-pci"))
		return vdm_xstrdup("bound to vfio-pci, not to nvidia: it is passed through whole to a VM "
				   "(or kept for one), so the vGPU Manager cannot split it into vGPUs");
	return vdm_strdupf("bound to %s, not to nvidia: the vGPU Manager cannot use it%s", g->driver,
			   !strcmp(g->driver, "nouveau") ? " (blacklist nouveau, the open-source driver)" : "");
}

char *vdm_gpu_binding_remedy(const struct vdm_gpu *g)
{
	if (!g->driver || !strcmp(g->driver, "nvidia"))
		return NULL;
	if (!*g->driver)
		return vdm_strdupf("echo %s > /sys/bus/pci/drivers/nvidia/bind (after modprobe nvidia), or "
				   "leave GPU %d out of the layout", g->addr, g->index);
	return vdm_strdupf("to make vGPUs on it, stop the VM that uses it, then echo %s > "
			   "/sys/bus/pci/drivers/%s/unbind; echo %s > /sys/bus/pci/drivers/nvidia/bind "
			   "(and drop what binds it at boot: vfio-pci.ids=, driver_override); or leave "
			   "GPU %d out of the layout", g->addr, g->driver, g->addr, g->index);
}

void vdm_vgpu_holder(const struct vdm_vgpu *v, char *buf, size_t len)
{
	if (!v->user_pid)
		snprintf(buf, len, "%s", "");
	else if (v->user_vm)
		snprintf(buf, len, "VM %s (pid %d)", v->user_vm, v->user_pid);
	else
		snprintf(buf, len, "pid %d (%.80s%s)", v->user_pid, v->user_cmd ? v->user_cmd : "?",
			 v->user_cmd && strlen(v->user_cmd) > 80 ? "..." : "");
}

char *vdm_unreadable(struct vdm_ctx *ctx, const char *rel, int rc)
{
	char path[VDM_PATH_MAX];
	vdm_path(ctx, path, sizeof(path), rel);
	return vdm_strdupf("%s: %s", path,
			   rc == -EINVAL ? "cannot be parsed"
			   : rc == -ERANGE ? "number out of range" : strerror(-rc));
}

int vdm_host_error(struct vdm_host *h, const char *rel, int rc)
{
	free(h->error);
	h->error = vdm_unreadable(h->ctx, rel, rc);
	vdm_dbg(h->ctx, "%s", h->error);
	return rc;
}

static int cmp_gpu(const void *a, const void *b)
{
	const struct vdm_gpu *x = a, *y = b;
	return x->addr_key < y->addr_key ? -1 : x->addr_key > y->addr_key;
}

static void add_unreadable(struct vdm_host *h, char *msg)
{
	vdm_dbg(h->ctx, "%s", msg);
	h->unreadable = vdm_xrealloc(h->unreadable, h->n_unreadable + 1, sizeof(*h->unreadable));
	h->unreadable[h->n_unreadable++] = msg;
}

/* Read one identity number of a PCI function (directory dir) into *out (at
 * most max). 0, or -errno with *msg naming the file. Optional files may be
 * missing. */
static int read_id(struct vdm_ctx *ctx, const char *dir, const char *attr, uint64_t max,
		   bool optional, uint64_t *out, char **msg)
{
	char rel[VDM_PATH_MAX + 32];
	snprintf(rel, sizeof(rel), "%s/%s", dir, attr);
	int rc = vdm_sysfs_read_u64(ctx, rel, out);
	if (rc == -ENOENT && optional) {
		*out = 0;
		return 0;
	}
	if (rc == 0 && *out > max)
		rc = -ERANGE;
	if (rc < 0)
		*msg = vdm_unreadable(ctx, rel, rc);
	return rc;
}

static int cmp_vf(const void *a, const void *b)
{
	return strcmp(((const struct vdm_vf *)a)->addr, ((const struct vdm_vf *)b)->addr);
}

const struct vdm_vf *vdm_host_vf(const struct vdm_host *h, const char *addr)
{
	struct vdm_vf key;
	snprintf(key.addr, sizeof(key.addr), "%s", addr);
	return h->n_vfs ? bsearch(&key, h->vfs, h->n_vfs, sizeof(*h->vfs), cmp_vf) : NULL;
}

static void add_vf(struct vdm_host *h, const char *addr, const char *pf, const char *dir)
{
	if (strlen(addr) >= VDM_ADDR_LEN || vdm_host_vf(h, addr))
		return;
	h->vfs = vdm_xrealloc(h->vfs, h->n_vfs + 1, sizeof(*h->vfs));
	struct vdm_vf *v = &h->vfs[h->n_vfs++];
	memset(v, 0, sizeof(*v));
	snprintf(v->addr, sizeof(v->addr), "%s", addr);
	snprintf(v->pf, sizeof(v->pf), "%s", pf);
	v->dir = vdm_xstrdup(dir);
	/* Kept sorted; VFs come mostly in order, so this is nearly free. */
	for (size_t i = h->n_vfs - 1; i > 0 && strcmp(h->vfs[i - 1].addr, h->vfs[i].addr) > 0; i--) {
		struct vdm_vf t = h->vfs[i];
		h->vfs[i] = h->vfs[i - 1];
		h->vfs[i - 1] = t;
	}
}

/* The PF's VFs from its virtfnN links (they name the VF's directory,
 * "../0000:06:00.4"): recorded so that their own entries need no look. */
static void read_virtfns(struct vdm_host *h, const struct vdm_gpu *g)
{
	char rel[VDM_PATH_MAX + 32], dir[VDM_PATH_MAX];
	for (int i = 0; i < g->num_vfs; i++) {
		snprintf(rel, sizeof(rel), "%s/virtfn%d", g->dir, i);
		if (vdm_root_link_path(h->ctx, rel, dir, sizeof(dir)) <= 0)
			continue;
		const char *base = strrchr(dir, '/');
		uint32_t key;
		base = base ? base + 1 : dir;
		if (vdm_pci_addr_parse(base, &key) == 0)
			add_vf(h, base, g->addr, dir);
	}
}

/* The directory of PCI function dev: its sys/bus/pci/devices link, read
 * once and resolved inside the root; the directory above it is cached, so
 * the next function behind the same bridge costs one lookup. */
static int function_dir(struct vdm_ctx *ctx, const char *dev, char *dir, size_t len)
{
	char rel[VDM_PATH_MAX];
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", dev);
	int n = vdm_root_link_path(ctx, rel, dir, len);
	if (n == -EINVAL) /* a directory, not a link */
		n = snprintf(dir, len, "%s", rel);
	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		vdm_root_cache_dir(ctx, dir);
		*slash = '/';
	}
	return 0;
}

/* Is this PCI function an NVIDIA GPU physical function? 1 yes, 0 no. A
 * function that may be one but whose identity cannot be read is recorded in
 * h->unreadable (GPU indexes after it cannot be trusted). A GPU whose SR-IOV
 * state cannot be read is kept with g->unreadable set. */
static int probe_gpu(struct vdm_host *h, const char *dev, struct vdm_gpu *g)
{
	struct vdm_ctx *ctx = h->ctx;
	char dir[VDM_PATH_MAX], rel[VDM_PATH_MAX + 32], pf[VDM_ADDR_LEN], *msg = NULL;
	uint64_t vendor, klass, v;

	if (vdm_host_vf(h, dev))
		return 0; /* a VF its PF named */
	if (vdm_pci_addr_parse(dev, &g->addr_key) < 0 || strlen(dev) >= sizeof(g->addr)) {
		vdm_dbg(ctx, "sys/bus/pci/devices/%s: not a PCI address, ignored", dev);
		return 0;
	}
	int rc = function_dir(ctx, dev, dir, sizeof(dir));
	if (rc < 0) {
		add_unreadable(h, vdm_unreadable(ctx, dir, rc));
		return 0;
	}
	if (read_id(ctx, dir, "vendor", 0xffff, false, &vendor, &msg) < 0) {
		add_unreadable(h, msg);
		return 0;
	}
	if (vendor != PCI_VENDOR_NVIDIA)
		return 0;
	/* A VF belongs to its PF (one its PF did not name). */
	snprintf(rel, sizeof(rel), "%s/physfn", dir);
	if (vdm_sysfs_link_base(ctx, rel, pf, sizeof(pf)) > 0) {
		add_vf(h, dev, pf, dir);
		return 0;
	}
	vdm_root_cache_dir(ctx, dir); /* the GPU's attributes: one lookup each */
	if (read_id(ctx, dir, "class", 0xffffff, false, &klass, &msg) < 0) {
		add_unreadable(h, msg);
		return 0;
	}
	/* VGA-compatible (0x0300xx) and 3D controllers (0x0302xx). */
	if ((klass >> 8) != 0x0300 && (klass >> 8) != 0x0302)
		return 0;
	snprintf(g->addr, sizeof(g->addr), "%s", dev);
	g->id.vendor = (uint16_t)vendor;
	g->id.has_subsys = true;
	if (read_id(ctx, dir, "device", 0xffff, false, &v, &msg) < 0) {
		add_unreadable(h, msg);
		return 0;
	}
	g->id.device = (uint16_t)v;
	if (read_id(ctx, dir, "subsystem_vendor", 0xffff, true, &v, &msg) < 0) {
		add_unreadable(h, msg);
		return 0;
	}
	g->id.subsys_vendor = (uint16_t)v;
	if (read_id(ctx, dir, "subsystem_device", 0xffff, true, &v, &msg) < 0) {
		add_unreadable(h, msg);
		return 0;
	}
	g->id.subsys_device = (uint16_t)v;
	g->dir = vdm_xstrdup(dir);
	char drv[64] = "";
	snprintf(rel, sizeof(rel), "%s/driver", dir);
	if (vdm_sysfs_link_base(ctx, rel, drv, sizeof(drv)) <= 0)
		drv[0] = '\0';
	g->driver = vdm_xstrdup(drv);
	snprintf(rel, sizeof(rel), "%s/sriov_totalvfs", dir);
	rc = vdm_sysfs_read_int(ctx, rel, &g->total_vfs);
	if (rc == 0 && g->total_vfs < 0)
		rc = -ERANGE;
	if (rc == 0) {
		g->sriov = true;
		snprintf(rel, sizeof(rel), "%s/sriov_numvfs", dir);
		rc = vdm_sysfs_read_int(ctx, rel, &g->num_vfs);
		if (rc == 0 && (g->num_vfs < 0 || g->num_vfs > g->total_vfs))
			rc = -ERANGE;
	}
	if (rc < 0 && rc != -ENOENT) {
		g->unreadable = vdm_unreadable(ctx, rel, rc);
		g->num_vfs = 0;
	}
	read_virtfns(h, g);
	return 1;
}

static char *gpu_model(const struct vdm_gpu *g)
{
	for (size_t i = 0; i < g->n_types; i++) {
		struct vdm_vgpu_type t;
		if (vdm_vgpu_type_parse(g->types[i].name, &t, NULL) == 0)
			return vdm_xstrdup(t.gpu);
	}
	return vdm_xstrdup("");
}

/* What the driver (and NVML) did not say about a type, from the catalogue
 * of the GPU's model: its per-GPU maximum and frame buffer. */
static void from_catalogue(struct vdm_gpu *g)
{
	const struct vdm_cat_gpu *cg = *g->model ? vdm_cat_gpu_by_model(g->model) : NULL;
	for (size_t t = 0; cg && t < g->n_types; t++) {
		struct vdm_vtype *vt = &g->types[t];
		const struct vdm_cat_type *ct = vdm_cat_gpu_type(cg, vt->name);
		if (!ct)
			continue;
		if (vt->max_instances < 0 && ct->max_instances > 0)
			vt->max_instances = (int)ct->max_instances;
		if (vt->fb_mib <= 0 && ct->fb_mib > 0)
			vt->fb_mib = (int)ct->fb_mib;
	}
}

int vdm_host_scan(struct vdm_ctx *ctx, struct vdm_host **out, char **err)
{
	struct vdm_host *h = vdm_xcalloc(1, sizeof(*h));
	char **devs;
	int n, rc;

	h->ctx = ctx;
	*out = NULL;
	vdm_root_cache_flush(ctx); /* the tree may have changed since the last scan */
	vdm_root_cache_dir(ctx, "sys/bus/pci/devices");
	char ver[64];
	h->driver_version = vdm_xstrdup(vdm_sysfs_read(ctx, "sys/module/nvidia/version", ver, sizeof(ver)) > 0 ? ver : "");
	n = vdm_sysfs_list(ctx, "sys/bus/pci/devices", &devs);
	if (n < 0) {
		char path[VDM_PATH_MAX];
		vdm_path(ctx, path, sizeof(path), "sys/bus/pci/devices");
		*err = vdm_strdupf("cannot read %s: %s", path, strerror(-n));
		free(h->driver_version);
		free(h);
		return n;
	}
	h->gpus = vdm_xcalloc((size_t)n, sizeof(*h->gpus));
	for (int i = 0; i < n; i++) {
		struct vdm_gpu *g = &h->gpus[h->n_gpus];
		if (probe_gpu(h, devs[i], g) == 1)
			h->n_gpus++;
		else
			{ free(g->dir); memset(g, 0, sizeof(*g)); }
	}
	vdm_names_free(devs, n);
	qsort(h->gpus, h->n_gpus, sizeof(*h->gpus), cmp_gpu);
	for (size_t i = 0; i < h->n_gpus; i++)
		h->gpus[i].index = (int)i;

	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		rc = backends[b]->scan(h);
		if (rc < 0) {
			*err = vdm_strdupf("%s scan failed: %s", backends[b]->name, strerror(-rc));
			vdm_host_free(h);
			return rc;
		}
	}
	for (size_t i = 0; i < h->n_gpus; i++) {
		struct vdm_gpu *g = &h->gpus[i];
		g->model = gpu_model(g);
		from_catalogue(g);
		vdm_gpu_sort_vgpus(g);
		vdm_dbg(ctx, "GPU %d: %s device 0x%04x framework %s, %zu types, %zu parents, %zu vGPUs",
			g->index, g->addr, g->id.device, vdm_framework_name(g->fw), g->n_types,
			g->n_parents, g->n_vgpus);
	}
	vdm_mig_scan(h);
	*out = h;
	return 0;
}

int vdm_host_rescan(struct vdm_host **host, char **err)
{
	struct vdm_host *now;
	int rc = vdm_host_scan((*host)->ctx, &now, err);
	if (rc < 0)
		return rc;
	vdm_host_free(*host);
	*host = now;
	return 0;
}

void vdm_host_free(struct vdm_host *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_gpus; i++) {
		struct vdm_gpu *g = &h->gpus[i];
		for (size_t t = 0; t < g->n_types; t++) {
			free(g->types[t].id);
			free(g->types[t].name);
			free(g->types[t].full_name);
		}
		free(g->types);
		free(g->id_index);
		for (size_t p = 0; p < g->n_parents; p++) {
			free(g->parents[p].avail);
			free(g->parents[p].dir);
		}
		free(g->parents);
		for (size_t v = 0; v < g->n_vgpus; v++) {
			free(g->vgpus[v].type_id);
			free(g->vgpus[v].user_cmd);
			free(g->vgpus[v].user_node);
			free(g->vgpus[v].user_vm);
		}
		free(g->vgpus);
		free(g->model);
		free(g->driver);
		vdm_mig_free(g->mig);
		free(g->unreadable);
		free(g->dir);
	}
	for (size_t i = 0; i < h->n_vfs; i++)
		free(h->vfs[i].dir);
	free(h->vfs);
	for (size_t i = 0; i < h->n_unreadable; i++)
		free(h->unreadable[i]);
	free(h->unreadable);
	free(h->error);
	free(h->gpus);
	free(h->driver_version);
	free(h);
}

int vdm_gpu_add_type(struct vdm_gpu *g, const char *id, const char *full_name)
{
	g->types = vdm_xrealloc(g->types, g->n_types + 1, sizeof(*g->types));
	struct vdm_vtype *t = &g->types[g->n_types];
	const char *w = strrchr(full_name, ' ');
	t->id = vdm_xstrdup(id);
	t->full_name = vdm_xstrdup(full_name);
	t->name = vdm_xstrdup(w ? w + 1 : full_name);
	t->max_instances = -1;
	t->fb_mib = -1;
	return (int)g->n_types++;
}

static size_t id_hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

int vdm_gpu_type_by_id(struct vdm_gpu *g, const char *id)
{
	if (g->id_cap < 2 * g->n_types + 2) { /* grow and rebuild */
		free(g->id_index);
		g->id_cap = 16;
		while (g->id_cap < 4 * g->n_types + 4)
			g->id_cap *= 2;
		g->id_index = vdm_xcalloc(g->id_cap, sizeof(int));
		for (size_t i = 0; i < g->id_cap; i++)
			g->id_index[i] = -1;
		g->id_indexed = 0;
	}
	for (; g->id_indexed < g->n_types; g->id_indexed++) {
		size_t j = id_hash(g->types[g->id_indexed].id) & (g->id_cap - 1);
		while (g->id_index[j] >= 0)
			j = (j + 1) & (g->id_cap - 1);
		g->id_index[j] = (int)g->id_indexed;
	}
	for (size_t j = id_hash(id) & (g->id_cap - 1); g->id_index[j] >= 0; j = (j + 1) & (g->id_cap - 1))
		if (!strcmp(g->types[g->id_index[j]].id, id))
			return g->id_index[j];
	return -1;
}

struct vdm_gpu *vdm_host_gpu_by_addr(struct vdm_host *h, const char *addr)
{
	for (size_t i = 0; i < h->n_gpus; i++)
		if (!strcmp(h->gpus[i].addr, addr))
			return &h->gpus[i];
	return NULL;
}

struct vdm_parent *vdm_gpu_add_parent(struct vdm_gpu *g, const char *addr, const char *dir)
{
	g->parents = vdm_xrealloc(g->parents, g->n_parents + 1, sizeof(*g->parents));
	struct vdm_parent *p = &g->parents[g->n_parents++];
	memset(p, 0, sizeof(*p));
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->dir = vdm_xstrdup(dir);
	p->gpu = g;
	return p;
}

struct vdm_vgpu *vdm_gpu_add_vgpu(struct vdm_gpu *g)
{
	g->vgpus = vdm_xrealloc(g->vgpus, g->n_vgpus + 1, sizeof(*g->vgpus));
	struct vdm_vgpu *v = &g->vgpus[g->n_vgpus++];
	memset(v, 0, sizeof(*v));
	v->type = -1;
	return v;
}

static int cmp_vgpu(const void *a, const void *b)
{
	const struct vdm_vgpu *x = a, *y = b;
	uint32_t ka = 0, kb = 0;
	vdm_pci_addr_parse(x->parent->addr, &ka);
	vdm_pci_addr_parse(y->parent->addr, &kb);
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return strcmp(x->id, y->id);
}

void vdm_gpu_sort_vgpus(struct vdm_gpu *g)
{
	if (g->n_vgpus > 1)
		qsort(g->vgpus, g->n_vgpus, sizeof(*g->vgpus), cmp_vgpu);
}

int vdm_gpu_find_type(const struct vdm_gpu *g, const char *name)
{
	for (size_t i = 0; i < g->n_types; i++)
		if (!strcmp(g->types[i].name, name))
			return (int)i;
	char base[128];
	if (vdm_vgpu_type_base_name(name, base, sizeof(base)) == 0 && strcmp(base, name))
		for (size_t i = 0; i < g->n_types; i++)
			if (!strcmp(g->types[i].name, base))
				return (int)i;
	return -1;
}

int vdm_gpu_count_type(const struct vdm_gpu *g, int type)
{
	int n = 0;
	for (size_t i = 0; i < g->n_vgpus; i++)
		if (g->vgpus[i].type == type)
			n++;
	return n;
}
