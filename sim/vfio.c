/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vendor-specific VFIO framework (vGPU 17+, kernel >= 6.8;
 * sysfs-interfaces.md 3): each VF of such a GPU stays bound to nvidia, has
 * vfio-dev/vfio<N> and a nvidia/ directory whose current_vgpu_type creates
 * and destroys the VF's single vGPU.  The PF has no nvidia/ directory.  The
 * capacity rules behind creatable_vgpu_types are in capacity.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define VGPU_PARAMS_MAX 1024  /* SIMULATED limit, as for mdev vgpu_params (-E2BIG) */
#define VFIO_CDEV_MAJOR 511   /* SIMULATED: the vfio cdev major is dynamic */

static void count(struct sim *s, enum sim_counter ok, enum sim_counter fail, int rc)
{
	s->counters[rc ? fail : ok]++;
}

/* A process holds the VF's vfio device (its cdev or its IOMMU group). */
static bool vf_in_use(const struct sim_vf *vf)
{
	return vf->dev_cdev->nopen || vf->dev_group->nopen;
}

/* ---- creatable_vgpu_types ------------------------------------------------------ */

static int creatable_show(struct node *n, struct strbuf *out)
{
	const struct sim_vf *vf = n->data;
	const struct sim_model_spec *m = vf->gpu->spec;

	sb_puts(out, "ID    : vGPU Name\n");
	for (size_t i = 0; i < m->ntypes; i++) {
		const struct sim_type_spec *t = &m->types[i];
		if (!vfio_creatable(vf->sim, vf, t))
			continue;
		sb_printf(out, "%-5d : ", (int)t->id);
		sim_type_name(m, t, out);
	}
	return 0;
}

static const struct file_ops creatable_ops = { .show = creatable_show };

/* ---- current_vgpu_type ------------------------------------------------------------ */

static int current_show(struct node *n, struct strbuf *out)
{
	const struct sim_vf *vf = n->data;

	sb_printf(out, "%d\n", vf->vgpu ? (int)vf->vgpu->spec->id : 0);
	return 0;
}

static void vgpu_create(struct sim *s, struct sim_vf *vf, const struct sim_type_spec *spec)
{
	struct sim_vgpu *v = xcalloc(1, sizeof(*v));

	v->gpu = vf->gpu;
	v->spec = spec;
	v->vf = vf;
	v->placement = gpu_placement(s, v->gpu, spec);
	if (spec->gi) { /* MIG-backed: the driver picks the GI; placement inside it */
		v->gi = mig_fit_gi(s, v->gpu, spec);
		v->placement = v->gi ? mig_gi_nvgpus(s, v->gi) : 0;
	}
	vf->vgpu = v;
	pv_push(&s->vgpus, v);
}

static void vgpu_destroy(struct sim *s, struct sim_vf *vf)
{
	pv_remove(&s->vgpus, vf->vgpu);
	free(vf->vgpu);
	vf->vgpu = NULL;
	free(vf->params); /* GUESS: the parameters go with the vGPU */
	vf->params = NULL;
}

/*
 * kstrtol(buf, 10): -EINVAL/-ERANGE.  Non-zero with a vGPU present, or 0
 * without one: -EPERM [nvvfio].  A type not creatable on this VF now: -EIO
 * [cube].  0 while a process holds the VF's device node: -EBUSY (GUESS).
 * A write of 0 counts as a remove, any other as a create (counters, faults).
 */
static int current_store(struct node *n, const char *buf, size_t len)
{
	struct sim_vf *vf = n->data;
	struct sim *s = vf->sim;
	long id = -1;
	int rc = parse_kstrtol(buf, len, &id);
	bool remove = rc == 0 && id == 0;
	int fault = control_take_fault(s, remove ? SIM_FAULT_REMOVE : SIM_FAULT_CREATE);

	if (fault) {
		rc = fault;
	} else if (rc) {
		/* parse error */
	} else if (!remove && vf->vgpu) {
		rc = -EPERM; /* "vGPU device already created" */
	} else if (remove && !vf->vgpu) {
		rc = -EPERM;
	} else if (!remove) {
		const struct sim_type_spec *t =
			id > 0 && id <= UINT_MAX ? sim_model_type(vf->gpu->spec, (unsigned)id, NULL) : NULL;
		if (!t || !vfio_creatable(s, vf, t))
			rc = -EIO;
		else
			vgpu_create(s, vf, t);
	} else if (vf_in_use(vf)) {
		rc = -EBUSY;
	} else {
		vgpu_destroy(s, vf);
	}
	if (remove)
		count(s, SIM_C_REMOVE_OK, SIM_C_REMOVE_FAIL, rc);
	else
		count(s, SIM_C_CREATE_OK, SIM_C_CREATE_FAIL, rc);
	return rc;
}

static const struct file_ops current_ops = { .show = current_show, .store = current_store };

/* ---- gpu_instance_id, placement_id: ENXIO without a vGPU [cube] ---------------- */

/* The GI of a MIG-backed vGPU [cube]; GUESS: a time-sliced vGPU has none
 * and reads "-1". */
static int gpu_instance_show(struct node *n, struct strbuf *out)
{
	const struct sim_vf *vf = n->data;

	if (!vf->vgpu)
		return -ENXIO;
	sb_printf(out, "%d\n", vf->vgpu->gi ? (int)vf->vgpu->gi->id : -1);
	return 0;
}

static const struct file_ops gpu_instance_ops = { .show = gpu_instance_show };

/* GUESS: the start of the vGPU's frame buffer in GiB (capacity.c). */
static int placement_show(struct node *n, struct strbuf *out)
{
	const struct sim_vf *vf = n->data;

	if (!vf->vgpu)
		return -ENXIO;
	sb_printf(out, "%u\n", vf->vgpu->placement);
	return 0;
}

static const struct file_ops placement_ops = { .show = placement_show };

/* ---- vgpu_params, warm_update -------------------------------------------------------- */

static int params_show(struct node *n, struct strbuf *out)
{
	const struct sim_vf *vf = n->data;

	if (vf->params)
		sb_puts(out, vf->params);
	return 0;
}

static int params_store(struct node *n, const char *buf, size_t len)
{
	struct sim_vf *vf = n->data;

	if (len > VGPU_PARAMS_MAX)
		return -E2BIG;
	if (vf->vgpu && vf_in_use(vf))
		return -EPERM; /* in use, like the mdev attribute [nv460] */
	free(vf->params);
	vf->params = xmalloc(len + 1);
	memcpy(vf->params, buf, len);
	vf->params[len] = '\0';
	return 0;
}

static const struct file_ops params_ops = { .show = params_show, .store = params_store };

/* GUESS: reads empty (as captured); writes are accepted and ignored. */
static int warm_update_show(struct node *n, struct strbuf *out)
{
	(void)n;
	(void)out;
	return 0;
}

static int warm_update_store(struct node *n, const char *buf, size_t len)
{
	(void)n;
	(void)buf;
	(void)len;
	return 0;
}

static const struct file_ops warm_update_ops = { .show = warm_update_show, .store = warm_update_store };

/* ---- VFs -------------------------------------------------------------------------------- */

/* A VF's nvidia/ files, in place of any there (a replayed VF has the captured ones). */
static void replace_file(struct tree *t, struct node *dir, const char *name, mode_t perm,
			 const struct file_ops *ops, void *data)
{
	struct node *old = node_child(dir, name);

	if (old)
		tree_remove(t, old);
	tree_file(t, dir, name, perm, ops, data);
}

/* The VF's state, its nvidia/ files under nv and its /dev/vfio nodes: what a
 * made-up VF and a replayed one share. */
static struct sim_vf *vf_new(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn, struct node *nv,
			     unsigned vfio_index)
{
	struct tree *t = &s->tree;
	struct sim_vf *vf = xcalloc(1, sizeof(*vf));
	char name[32];

	vf->sim = s;
	vf->gpu = gpu;
	vf->fn = fn;
	vf->vfio_index = vfio_index;
	replace_file(t, nv, "creatable_vgpu_types", 0444, &creatable_ops, vf);
	replace_file(t, nv, "current_vgpu_type", 0644, &current_ops, vf);
	replace_file(t, nv, "gpu_instance_id", 0444, &gpu_instance_ops, vf);
	replace_file(t, nv, "placement_id", 0444, &placement_ops, vf);
	replace_file(t, nv, "vgpu_params", 0644, &params_ops, vf);
	replace_file(t, nv, "warm_update", 0644, &warm_update_ops, vf);
	snprintf(name, sizeof(name), "vfio%u", vfio_index);
	vf->dev_cdev = devnode_new(s, s->dev_vfio_devices, name);
	snprintf(name, sizeof(name), "%u", fn->iommu_group);
	vf->dev_group = devnode_new(s, s->dev_vfio, name);
	pv_push(&gpu->vvfs, vf);
	return vf;
}

void vfio_add_vf(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn)
{
	struct tree *t = &s->tree;
	struct sim_vf *vf = vf_new(s, gpu, fn, tree_mkdir(t, fn->dir, "nvidia"), s->next_vfio_index++);
	char name[32];

	snprintf(name, sizeof(name), "vfio%u", vf->vfio_index);
	struct node *vd = tree_mkdir(t, tree_mkdir(t, fn->dir, "vfio-dev"), name);
	tree_text(t, vd, "dev", "%u:%u\n", VFIO_CDEV_MAJOR, vf->vfio_index);
	tree_text(t, vd, "uevent", "MAJOR=%u\nMINOR=%u\nDEVNAME=vfio/devices/%s\n", VFIO_CDEV_MAJOR,
		  vf->vfio_index, name);
	tree_link(t, vd, "device", fn->dir);
	tree_link(t, vd, "subsystem", s->vfio_dev_class);
	vf->class_link = tree_link(t, s->vfio_dev_class, name, vd);
}

/* ---- replay: a captured VF's nvidia/ directory (replay.c) -------------------------- */

struct sim_vf *vfio_bind_vf(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn, struct node *nv,
			    unsigned vfio_index, const char *params)
{
	struct sim_vf *vf = vf_new(s, gpu, fn, nv, vfio_index);
	char name[32];

	vf->params = params && *params ? xstrdup(params) : NULL;
	snprintf(name, sizeof(name), "vfio%u", vfio_index);
	vf->class_link = s->vfio_dev_class ? node_child(s->vfio_dev_class, name) : NULL;
	return vf;
}

void vfio_bind_vgpu(struct sim *s, struct sim_vf *vf, const struct sim_type_spec *spec, struct sim_gi *gi,
		    unsigned placement)
{
	struct sim_vgpu *v = xcalloc(1, sizeof(*v));

	v->gpu = vf->gpu;
	v->spec = spec;
	v->vf = vf;
	v->gi = gi;
	v->placement = placement;
	vf->vgpu = v;
	pv_push(&s->vgpus, v);
}

static void vf_free(struct sim_vf *vf)
{
	free(vf->params);
	free(vf);
}

void vfio_remove_last_vf(struct sim *s, struct sim_gpu *gpu)
{
	struct sim_vf *vf = gpu->vvfs.v[gpu->vvfs.n - 1];

	/* nvidia/ and vfio-dev/ go with the function's directory */
	devnode_remove(vf->dev_cdev);
	devnode_remove(vf->dev_group);
	tree_remove(&s->tree, vf->class_link);
	gpu->vvfs.n--;
	vf_free(vf);
}

void vfio_free_all(struct sim *s)
{
	for (size_t i = 0; i < s->gpus.n; i++) {
		struct sim_gpu *g = s->gpus.v[i];
		for (size_t j = 0; j < g->vvfs.n; j++)
			vf_free(g->vvfs.v[j]);
		pv_free(&g->vvfs);
	}
}
