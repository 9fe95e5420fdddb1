/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <stdio.h>

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
		json_object_object_add(to, "free", json_object_new_int(vdm_gpu_free_instances(h, g, (int)t)));
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
		json_object_object_add(vo, "uuid", jstr(vg->uuid));
		json_object_object_add(vo, "type", vg->type >= 0 ? jstr(g->types[vg->type].name) : NULL);
		json_object_object_add(vo, "type_id", jstr(vg->type_id));
		json_object_object_add(vo, "parent", jstr(vg->parent->addr));
		json_object_array_add(vgpus, vo);
	}
	json_object_object_add(o, "vgpus", vgpus);
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
