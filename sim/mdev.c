/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mdev parents, their supported types, and vGPU instances: the `create` and
 * `remove` files (sysfs-interfaces.md 1.3-1.4 and 2).  The capacity rules
 * behind `available_instances` are in capacity.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define UUID_LEN 36
#define VGPU_PARAMS_MAX 1024 /* SIMULATED limit for nvidia/vgpu_params (-E2BIG) */
#define MDEV_DRIVER "nvidia-vgpu-vfio"

/* ---- helpers ------------------------------------------------------------------ */

static void count(struct sim *s, enum sim_counter ok, enum sim_counter fail, int rc)
{
	s->counters[rc ? fail : ok]++;
}

/* 8-4-4-4-12 hex digits, any case; out gets the lowercase form. */
static bool parse_uuid(const char *buf, char out[UUID_LEN + 1])
{
	for (int i = 0; i < UUID_LEN; i++) {
		char c = buf[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!isxdigit((unsigned char)c)) {
			return false;
		}
		out[i] = (char)tolower((unsigned char)c);
	}
	out[UUID_LEN] = '\0';
	return true;
}

static struct sim_vgpu *find_vgpu(const struct sim *s, const char *uuid)
{
	for (size_t i = 0; i < s->vgpus.n; i++) {
		struct sim_vgpu *v = s->vgpus.v[i];
		if (strcmp(v->uuid, uuid) == 0)
			return v;
	}
	return NULL;
}

/* ---- vGPU instances ------------------------------------------------------------- */

static int remove_store(struct node *n, const char *buf, size_t len);

static const struct file_ops remove_ops = { .store = remove_store };

static int params_show(struct node *n, struct strbuf *out)
{
	const struct sim_vgpu *v = n->data;

	if (v->params)
		sb_puts(out, v->params);
	return 0;
}

static int params_store(struct node *n, const char *buf, size_t len)
{
	struct sim_vgpu *v = n->data;

	if (len > VGPU_PARAMS_MAX)
		return -E2BIG;
	if (v->devnode->nopen)
		return -EPERM; /* in use by a VM [nv460] */
	free(v->params);
	v->params = xmalloc(len + 1);
	memcpy(v->params, buf, len);
	v->params[len] = '\0';
	return 0;
}

static const struct file_ops params_ops = { .show = params_show, .store = params_store };

static void vgpu_create(struct sim *s, struct sim_mdev_type *t, const char *uuid)
{
	struct tree *tr = &s->tree;
	struct sim_vgpu *v = xcalloc(1, sizeof(*v));

	memcpy(v->uuid, uuid, sizeof(v->uuid));
	v->type = t;
	v->gpu = t->parent->gpu;
	v->spec = t->spec;
	v->placement = gpu_placement(s, v->gpu, v->spec);
	if (v->spec->gi) { /* MIG-backed: the driver picks the GI */
		v->gi = mig_fit_gi(s, v->gpu, v->spec);
		v->placement = v->gi ? mig_gi_nvgpus(s, v->gi) : 0;
	}
	v->dir = tree_mkdir(tr, t->parent->fn->dir, uuid);
	tree_link(tr, v->dir, "mdev_type", t->dir);
	tree_link(tr, v->dir, "driver", s->mdev_driver);
	tree_link(tr, v->dir, "subsystem", s->mdev_devices->parent);
	v->group_dir = sim_new_iommu_group(s, &v->iommu_group);
	tree_link(tr, v->dir, "iommu_group", v->group_dir);
	tree_link(tr, node_child(v->group_dir, "devices"), uuid, v->dir);
	char group[16];
	snprintf(group, sizeof(group), "%u", v->iommu_group);
	v->devnode = devnode_new(s, s->dev_vfio, group);
	tree_file(tr, v->dir, "remove", 0200, &remove_ops, v);
	tree_text(tr, v->dir, "uevent", "DRIVER=%s\n", MDEV_DRIVER);
	struct node *nv = tree_mkdir(tr, v->dir, "nvidia");
	tree_file(tr, nv, "vgpu_params", 0644, &params_ops, v);
	tree_text(tr, nv, "vm_name", "%s", "");
	struct node *pw = tree_mkdir(tr, v->dir, "power");
	tree_text(tr, pw, "runtime_status", "active\n");

	v->bus_link = tree_link(tr, s->mdev_devices, uuid, v->dir);
	v->type_link = tree_link(tr, t->devices, uuid, v->dir);
	v->driver_link = tree_link(tr, s->mdev_driver, uuid, v->dir);
	t->parent->nvgpus++;
	pv_push(&s->vgpus, v);
}

static void vgpu_destroy(struct sim *s, struct sim_vgpu *v)
{
	struct tree *tr = &s->tree;
	/* a replayed vGPU may lack links its capture did not hold */
	struct node *gone[] = { v->bus_link, v->type_link, v->driver_link, v->group_dir, v->dir };

	for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
		if (gone[i])
			tree_remove(tr, gone[i]);
	devnode_remove(v->devnode);
	v->type->parent->nvgpus--;
	pv_remove(&s->vgpus, v);
	free(v->params);
	free(v);
}

static int remove_store(struct node *n, const char *buf, size_t len)
{
	struct sim_vgpu *v = n->data;
	struct sim *s = v->type->parent->sim;
	unsigned long val = 0;
	int rc = control_take_fault(s, SIM_FAULT_REMOVE);

	if (!rc)
		rc = parse_kstrtoul(buf, len, 0, &val);
	if (!rc && val && v->devnode->nopen)
		rc = -EPERM; /* a VM holds it: usage count != 0 [nv460] */
	if (!rc && val)
		vgpu_destroy(s, v); /* frees n too */
	count(s, SIM_C_REMOVE_OK, SIM_C_REMOVE_FAIL, rc);
	return rc;
}

/* ---- types ---------------------------------------------------------------------- */

static int available_show(struct node *n, struct strbuf *out)
{
	const struct sim_mdev_type *t = n->data;

	sb_printf(out, "%u\n", mdev_available(t->parent->sim, t));
	return 0;
}

static const struct file_ops available_ops = { .show = available_show };

static int create_store(struct node *n, const char *buf, size_t len)
{
	struct sim_mdev_type *t = n->data;
	struct sim *s = t->parent->sim;
	char uuid[UUID_LEN + 1];
	int rc = control_take_fault(s, SIM_FAULT_CREATE);

	if (rc != 0)
		goto out;
	if (!(len == UUID_LEN || (len == UUID_LEN + 1 && buf[UUID_LEN] == '\n')))
		rc = -EINVAL;
	else if (!parse_uuid(buf, uuid))
		rc = -EINVAL;
	else if (find_vgpu(s, uuid))
		rc = -EEXIST;
	else if (mdev_available(s, t) == 0)
		rc = -EIO; /* what the NVIDIA driver returns for any RM failure */
	else
		vgpu_create(s, t, uuid);
out:
	count(s, SIM_C_CREATE_OK, SIM_C_CREATE_FAIL, rc);
	return rc;
}

static const struct file_ops create_ops = { .store = create_store };

static void add_type(struct sim *s, struct sim_parent *p, struct node *msd, const struct sim_type_spec *spec)
{
	struct tree *tr = &s->tree;
	struct sim_mdev_type *t = xcalloc(1, sizeof(*t));
	char dirname[32];
	struct strbuf sb = { 0 };

	t->parent = p;
	t->spec = spec;
	snprintf(dirname, sizeof(dirname), "nvidia-%u", spec->id);
	t->dir = tree_mkdir(tr, msd, dirname);
	sim_type_name(p->gpu->spec, spec, &sb);
	tree_text(tr, t->dir, "name", "%s", sb.buf);
	sb_reset(&sb);
	sim_type_description(spec, &sb);
	tree_text(tr, t->dir, "description", "%s", sb.buf);
	sb_free(&sb);
	tree_text(tr, t->dir, "device_api", "vfio-pci\n");
	tree_file(tr, t->dir, "available_instances", 0444, &available_ops, t);
	tree_file(tr, t->dir, "create", 0200, &create_ops, t);
	t->devices = tree_mkdir(tr, t->dir, "devices");
	pv_push(&p->types, t);
}

/* ---- replay: parents, types and vGPUs of a captured tree (replay.c) -------------- */

static struct node *replace_file(struct tree *tr, struct node *dir, const char *name, mode_t perm,
				 const struct file_ops *ops, void *data)
{
	struct node *old = node_child(dir, name);

	if (old)
		tree_remove(tr, old);
	return tree_file(tr, dir, name, perm, ops, data);
}

struct sim_parent *mdev_bind_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn)
{
	struct sim_parent *p = xcalloc(1, sizeof(*p));

	p->sim = s;
	p->gpu = gpu;
	p->fn = fn;
	p->class_link = s->mdev_bus_class ? node_child(s->mdev_bus_class, fn->bdf) : NULL;
	pv_push(&gpu->parents, p);
	pv_push(&s->parents, p);
	return p;
}

struct sim_mdev_type *mdev_bind_type(struct sim *s, struct sim_parent *p, struct node *dir,
				     const struct sim_type_spec *spec)
{
	struct sim_mdev_type *t = xcalloc(1, sizeof(*t));

	t->parent = p;
	t->spec = spec;
	t->dir = dir;
	t->devices = node_child(dir, "devices");
	if (!t->devices || t->devices->kind != NODE_DIR)
		t->devices = tree_mkdir(&s->tree, dir, "devices");
	replace_file(&s->tree, dir, "available_instances", 0444, &available_ops, t);
	replace_file(&s->tree, dir, "create", 0200, &create_ops, t);
	pv_push(&p->types, t);
	return t;
}

struct sim_vgpu *mdev_bind_vgpu(struct sim *s, struct sim_mdev_type *t, struct node *dir, unsigned group,
				struct sim_gi *gi, const char *params)
{
	struct tree *tr = &s->tree;
	struct sim_vgpu *v = xcalloc(1, sizeof(*v));
	char name[16];

	snprintf(v->uuid, sizeof(v->uuid), "%s", dir->name);
	v->type = t;
	v->gpu = t->parent->gpu;
	v->spec = t->spec;
	v->gi = gi;
	v->placement = gi ? mig_gi_nvgpus(s, gi) : gpu_placement(s, v->gpu, v->spec);
	v->dir = dir;
	v->params = params ? xstrdup(params) : NULL;
	v->bus_link = s->mdev_devices ? node_child(s->mdev_devices, v->uuid) : NULL;
	v->type_link = node_child(t->devices, v->uuid);
	v->driver_link = s->mdev_driver ? node_child(s->mdev_driver, v->uuid) : NULL;
	snprintf(name, sizeof(name), "%u", group);
	v->iommu_group = group;
	v->group_dir = s->iommu_groups && group ? node_child(s->iommu_groups, name) : NULL;
	v->devnode = devnode_new(s, s->dev_vfio, name);
	replace_file(tr, dir, "remove", 0200, &remove_ops, v);
	struct node *nv = node_child(dir, "nvidia");
	if (nv && nv->kind == NODE_DIR)
		replace_file(tr, nv, "vgpu_params", 0644, &params_ops, v);
	t->parent->nvgpus++;
	pv_push(&s->vgpus, v);
	return v;
}

void mdev_add_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn)
{
	struct sim_parent *p = xcalloc(1, sizeof(*p));
	const struct sim_model_spec *m = gpu->spec;

	p->sim = s;
	p->gpu = gpu;
	p->fn = fn;
	struct node *msd = tree_mkdir(&s->tree, fn->dir, "mdev_supported_types");
	for (size_t i = 0; i < m->ntypes; i++)
		add_type(s, p, msd, &m->types[i]);
	p->class_link = tree_link(&s->tree, s->mdev_bus_class, fn->bdf, fn->dir);
	pv_push(&gpu->parents, p);
	pv_push(&s->parents, p);
}

static void parent_free(struct sim_parent *p)
{
	for (size_t j = 0; j < p->types.n; j++)
		free(p->types.v[j]);
	pv_free(&p->types);
	free(p);
}

void mdev_remove_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn)
{
	for (size_t i = 0; i < gpu->parents.n; i++) {
		struct sim_parent *p = gpu->parents.v[i];
		if (p->fn != fn)
			continue;
		/* its mdev_supported_types go with the function's directory */
		tree_remove(&s->tree, p->class_link);
		pv_remove(&gpu->parents, p);
		pv_remove(&s->parents, p);
		parent_free(p);
		return;
	}
}

void mdev_free_all(struct sim *s)
{
	for (size_t i = 0; i < s->vgpus.n; i++) {
		struct sim_vgpu *v = s->vgpus.v[i];
		free(v->params);
		free(v);
	}
	pv_free(&s->vgpus);
	for (size_t i = 0; i < s->parents.n; i++)
		parent_free(s->parents.v[i]);
	pv_free(&s->parents);
}
