/* SPDX-License-Identifier: Apache-2.0 */
/* MIG: what list, --dry-run and export show of it (mig.h). */
#include "mig_report.h"

#include <stdlib.h>
#include <string.h>

static const char *onoff(int mode)
{
	return mode ? "on" : "off";
}

void vdm_mig_print_plan(FILE *f, const struct vdm_gpu_plan *gp)
{
	char pn[48];
	for (size_t i = 0; gp->mig && i < gp->mig->n_steps; i++) {
		const struct vdm_mig_step *s = &gp->mig->steps[i];
		vdm_mig_profile_name(gp->gpu, s->profile_id, pn, sizeof(pn));
		switch (s->kind) {
		case VDM_MIG_MODE:
			fprintf(f, "  mig-mode    %s\n", onoff(s->mode));
			break;
		case VDM_MIG_DESTROY_GI:
			fprintf(f, "  gi-destroy  %u (%s at %u:%u)\n", s->gi_id, pn, s->start, s->size);
			break;
		case VDM_MIG_CREATE_GI:
			fprintf(f, "  gi-create   %s (profile %u) at %u:%u, with its compute instance\n", pn,
				s->profile_id, s->start, s->size);
			break;
		case VDM_MIG_REUSE_GI:
			fprintf(f, "  gi-reuse    %u (%s at %u:%u)\n", s->gi_id, pn, s->start, s->size);
			break;
		}
	}
}

void vdm_mig_print_gpu(FILE *f, const struct vdm_gpu *g)
{
	const struct vdm_mig *m = g->mig;
	char pn[48];
	if (!m)
		return;
	fprintf(f, "  MIG mode %s", onoff(m->mode));
	if (m->pending != m->mode)
		fprintf(f, " (pending %s: needs a GPU reset)", onoff(m->pending));
	fprintf(f, ", %zu GPU instance%s\n", m->n_gis, m->n_gis == 1 ? "" : "s");
	if (!m->n_gis)
		return;
	fprintf(f, "  %-12s %-16s %-9s %3s %5s\n", "GPU-INSTANCE", "PROFILE", "PLACEMENT", "CI", "VGPUS");
	for (size_t i = 0; i < m->n_gis; i++) {
		const struct vdm_gi *gi = &m->gis[i];
		int nv = 0;
		for (size_t v = 0; v < g->n_vgpus; v++)
			nv += m->vgpu_gi[v] == (int)gi->id;
		char pl[24];
		snprintf(pl, sizeof(pl), "%u:%u", gi->start, gi->size);
		fprintf(f, "  %-12u %-16s %-9s %3u %5d\n", gi->id,
			vdm_mig_profile_name(g, gi->profile_id, pn, sizeof(pn)), pl, gi->n_ci, nv);
	}
}

static struct json_object *gi_json(const struct vdm_gpu *g, unsigned id, unsigned profile, unsigned start,
				   unsigned size)
{
	char pn[48];
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int((int)id));
	json_object_object_add(o, "profile", json_object_new_string(vdm_mig_profile_name(g, profile, pn, sizeof(pn))));
	json_object_object_add(o, "profile_id", json_object_new_int((int)profile));
	json_object_object_add(o, "start", json_object_new_int((int)start));
	json_object_object_add(o, "size", json_object_new_int((int)size));
	return o;
}

struct json_object *vdm_mig_json_gpu(const struct vdm_gpu *g)
{
	const struct vdm_mig *m = g->mig;
	if (!m)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "mode", json_object_new_string(onoff(m->mode)));
	json_object_object_add(o, "pending", json_object_new_string(onoff(m->pending)));
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < m->n_gis; i++) {
		const struct vdm_gi *gi = &m->gis[i];
		struct json_object *e = gi_json(g, gi->id, gi->profile_id, gi->start, gi->size);
		json_object_object_add(e, "compute_instances", json_object_new_int((int)gi->n_ci));
		struct json_object *vs = json_object_new_array();
		for (size_t v = 0; v < g->n_vgpus; v++)
			if (m->vgpu_gi[v] == (int)gi->id)
				json_object_array_add(vs, json_object_new_string(g->vgpus[v].id));
		json_object_object_add(e, "vgpus", vs);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "gpu_instances", a);
	return o;
}

struct json_object *vdm_mig_json_plan(const struct vdm_gpu_plan *gp)
{
	static const char *const kinds[] = {
		[VDM_MIG_DESTROY_GI] = "gi-destroy", [VDM_MIG_MODE] = "mig-mode",
		[VDM_MIG_CREATE_GI] = "gi-create", [VDM_MIG_REUSE_GI] = "gi-reuse",
	};
	if (!gp->mig)
		return NULL;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < gp->mig->n_steps; i++) {
		const struct vdm_mig_step *s = &gp->mig->steps[i];
		struct json_object *e;
		if (s->kind == VDM_MIG_MODE) {
			e = json_object_new_object();
			json_object_object_add(e, "mode", json_object_new_string(onoff(s->mode)));
		} else {
			e = gi_json(gp->gpu, s->gi_id, s->profile_id, s->start, s->size);
			if (s->kind == VDM_MIG_CREATE_GI)
				json_object_object_add(e, "id", NULL);
		}
		json_object_object_add(e, "op", json_object_new_string(kinds[s->kind]));
		json_object_array_add(a, e);
	}
	return a;
}

void vdm_mig_export_note(struct vdm_ctx *ctx, const struct vdm_gpu *g)
{
	const struct vdm_mig *m = g->mig;
	char lbl[64], pn[48];
	if (!m || !m->mode)
		return;
	vdm_gpu_label(g, lbl, sizeof(lbl));
	char *list = vdm_xstrdup("");
	for (size_t i = 0; i < m->n_gis; i++) {
		char *l = vdm_strdupf("%s%s%s", list, i ? ", " : "",
				      vdm_mig_profile_name(g, m->gis[i].profile_id, pn, sizeof(pn)));
		free(list);
		list = l;
	}
	vdm_info(ctx, "%s: MIG mode on, %zu GPU instance%s%s%s%s; applying the export makes them again from "
		 "its MIG-backed types", lbl, m->n_gis, m->n_gis == 1 ? "" : "s", m->n_gis ? " (" : "", list,
		 m->n_gis ? ")" : "");
	free(list);
}
