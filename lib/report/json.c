/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "mig_report.h"
#include "plan/plan.h"

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static struct json_object *devid(uint16_t dev, uint16_t ven)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "0x%04X%04X", dev, ven);
	return jstr(buf);
}

static struct json_object *gpu_json(struct vdm_host *h, struct vdm_gpu *g)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "index", json_object_new_int(g->index));
	json_object_object_add(o, "address", jstr(g->addr));
	json_object_object_add(o, "model", jstr(g->model));
	json_object_object_add(o, "device_id", devid(g->id.device, g->id.vendor));
	json_object_object_add(o, "subsystem_id", devid(g->id.subsys_device, g->id.subsys_vendor));
	json_object_object_add(o, "framework", jstr(vdm_framework_name(g->fw)));
	if (g->sriov) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "total_vfs", json_object_new_int(g->total_vfs));
		json_object_object_add(s, "num_vfs", json_object_new_int(g->num_vfs));
		json_object_object_add(o, "sriov", s);
	} else {
		json_object_object_add(o, "sriov", NULL);
	}
	struct json_object *parents = json_object_new_array();
	for (size_t p = 0; p < g->n_parents; p++)
		json_object_array_add(parents, jstr(g->parents[p].addr));
	json_object_object_add(o, "parents", parents);

	struct json_object *types = json_object_new_array();
	for (size_t t = 0; t < g->n_types; t++) {
		const struct vdm_vtype *vt = &g->types[t];
		struct json_object *to = json_object_new_object();
		json_object_object_add(to, "name", jstr(vt->name));
		json_object_object_add(to, "id", jstr(vt->id));
		json_object_object_add(to, "driver_name", jstr(vt->full_name));
		int free_n = vdm_gpu_free_instances(h, g, (int)t);
		json_object_object_add(to, "free", free_n < 0 ? NULL : json_object_new_int(free_n));
		json_object_object_add(to, "max_instances",
				       vt->max_instances >= 0 ? json_object_new_int(vt->max_instances) : NULL);
		json_object_object_add(to, "framebuffer_mib",
				       vt->fb_mib >= 0 ? json_object_new_int(vt->fb_mib) : NULL);
		json_object_array_add(types, to);
	}
	json_object_object_add(o, "types", types);

	struct json_object *vgpus = json_object_new_array();
	for (size_t v = 0; v < g->n_vgpus; v++) {
		const struct vdm_vgpu *vg = &g->vgpus[v];
		struct json_object *vo = json_object_new_object();
		/* id: the UUID (mdev) or the VF address (vendor VFIO) */
		json_object_object_add(vo, "id", jstr(vg->id));
		json_object_object_add(vo, "uuid", g->be && g->be->uuid_ids ? jstr(vg->id) : NULL);
		json_object_object_add(vo, "type", vg->type >= 0 ? jstr(g->types[vg->type].name) : NULL);
		json_object_object_add(vo, "type_id", jstr(vg->type_id));
		json_object_object_add(vo, "parent", jstr(vg->parent->addr));
		json_object_array_add(vgpus, vo);
	}
	json_object_object_add(o, "vgpus", vgpus);
	struct json_object *mig = vdm_mig_json_gpu(g);
	if (mig)
		json_object_object_add(o, "mig", mig);
	return o;
}

struct json_object *vdm_json_host(struct vdm_host *h)
{
	struct json_object *root = json_object_new_object();
	struct json_object *gpus = json_object_new_array();
	for (size_t i = 0; i < h->n_gpus; i++)
		json_object_array_add(gpus, gpu_json(h, &h->gpus[i]));
	json_object_object_add(root, "gpus", gpus);
	return root;
}

/* ---- export ---- */

struct json_object *vdm_json_export(struct vdm_host *h, const char *label, char **err)
{
	if (!label || !*label)
		label = VDM_EXPORT_LABEL;
	if (vdm_export_prepare(h, err) < 0)
		return NULL;

	struct json_object *entries = json_object_new_array();
	for (size_t i = 0; i < h->n_gpus; i++) {
		const struct vdm_gpu *g = &h->gpus[i];
		if (!vdm_export_gpu(g))
			continue;
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "device-filter", devid(g->id.device, g->id.vendor));
		struct json_object *devs = json_object_new_array();
		json_object_array_add(devs, json_object_new_int(g->index));
		json_object_object_add(e, "devices", devs);
		struct json_object *types = json_object_new_object();
		int *cur = vdm_gpu_current_counts(g);
		for (size_t t = 0; t < g->n_types; t++)
			if (cur[t] > 0)
				json_object_object_add(types, g->types[t].name, json_object_new_int(cur[t]));
		free(cur);
		json_object_object_add(e, "vgpu-devices", types);
		json_object_array_add(entries, e);
	}
	struct json_object *configs = json_object_new_object();
	json_object_object_add(configs, label, entries);
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "version", jstr("v1"));
	json_object_object_add(root, "vgpu-configs", configs);
	return root;
}

/* ---- plan (apply --dry-run) ---- */

/* {type name: count} for the types with a count > 0, in the GPU's type order. */
static struct json_object *counts_json(const struct vdm_gpu *g, const int *counts)
{
	struct json_object *o = json_object_new_object();
	for (size_t t = 0; t < g->n_types; t++)
		if (counts[t] > 0)
			json_object_object_add(o, g->types[t].name, json_object_new_int(counts[t]));
	return o;
}

static const char *op_name(enum vdm_op_kind k)
{
	switch (k) {
	case VDM_OP_KEEP: return "keep";
	case VDM_OP_REMOVE: return "remove";
	case VDM_OP_CREATE: return "create";
	}
	return "?";
}

/* The backend's type handle of an operation: the type's, or for a vGPU of a
 * type the driver no longer lists, the one the vGPU links to. */
static const char *op_type_id(const struct vdm_gpu *g, const struct vdm_op *op)
{
	if (op->type >= 0)
		return g->types[op->type].id;
	for (size_t v = 0; v < g->n_vgpus; v++)
		if (!strcmp(g->vgpus[v].id, op->id))
			return g->vgpus[v].type_id;
	return NULL;
}

struct json_object *vdm_json_plan(const struct vdm_plan *plan)
{
	struct json_object *root = json_object_new_object();
	struct json_object *gpus = json_object_new_array();
	size_t n_create = 0, n_remove = 0, n_keep = 0;
	for (size_t i = 0; i < plan->n_gpus; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		const struct vdm_gpu *g = gp->gpu;
		bool selected = gp->entry != NULL;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "index", json_object_new_int(g->index));
		json_object_object_add(o, "address", jstr(g->addr));
		json_object_object_add(o, "model", jstr(g->model));
		json_object_object_add(o, "selected", json_object_new_boolean(selected));
		json_object_object_add(o, "applied", json_object_new_boolean(selected && gp->matches));
		int *cur = vdm_gpu_current_counts(g);
		json_object_object_add(o, "current", counts_json(g, cur));
		free(cur);
		json_object_object_add(o, "wanted", selected && gp->want ? counts_json(g, gp->want) : NULL);
		struct json_object *ops = json_object_new_array();
		for (size_t k = 0; selected && k < gp->n_ops; k++) {
			const struct vdm_op *op = &gp->ops[k];
			struct json_object *oo = json_object_new_object();
			json_object_object_add(oo, "op", jstr(op_name(op->kind)));
			/* A random UUID this plan drew is not the one an apply will draw. */
			json_object_object_add(oo, "id", op->random_id ? NULL : jstr(op->id));
			if (op->random_id)
				json_object_object_add(oo, "id_at_apply", jstr("random"));
			json_object_object_add(oo, "type", op->type >= 0 ? jstr(g->types[op->type].name) : NULL);
			const char *tid = op_type_id(g, op);
			json_object_object_add(oo, "type_id", tid ? jstr(tid) : NULL);
			json_object_object_add(oo, "parent", op->parent ? jstr(op->parent->addr) : NULL);
			json_object_array_add(ops, oo);
		}
		json_object_object_add(o, "operations", ops);
		struct json_object *mig = selected ? vdm_mig_json_plan(gp) : NULL;
		if (mig)
			json_object_object_add(o, "mig_steps", mig);
		if (selected) {
			n_create += gp->n_create;
			n_remove += gp->n_remove;
			n_keep += gp->n_keep;
		}
		json_object_array_add(gpus, o);
	}
	json_object_object_add(root, "gpus", gpus);
	json_object_object_add(root, "create", json_object_new_int64((int64_t)n_create));
	json_object_object_add(root, "remove", json_object_new_int64((int64_t)n_remove));
	json_object_object_add(root, "keep", json_object_new_int64((int64_t)n_keep));
	return root;
}
