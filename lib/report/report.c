/* SPDX-License-Identifier: Apache-2.0 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "mig_report.h"

static const char *op_word(enum vdm_op_kind k)
{
	switch (k) {
	case VDM_OP_KEEP: return "keep";
	case VDM_OP_REMOVE: return "remove";
	case VDM_OP_CREATE: return "create";
	}
	return "?";
}

/* The vGPU an operation names, or NULL (a create). */
static const struct vdm_vgpu *op_vgpu(const struct vdm_gpu *g, const struct vdm_op *op)
{
	for (size_t v = 0; v < g->n_vgpus; v++)
		if (!strcmp(g->vgpus[v].id, op->id))
			return &g->vgpus[v];
	return NULL;
}

/* The type column: the type's name, or for a vGPU of a type the driver no
 * longer lists, the backend's handle it links to. */
static void op_type(const struct vdm_gpu *g, const struct vdm_op *op, char *buf, size_t len)
{
	if (op->type >= 0 && (size_t)op->type < g->n_types) {
		snprintf(buf, len, "%s", g->types[op->type].name);
		return;
	}
	const struct vdm_vgpu *v = op_vgpu(g, op);
	snprintf(buf, len, "%s (unlisted type)", v && v->type_id ? v->type_id : "?");
}

/* What the GPU has now: "4 x T4-4Q", with vGPUs of types the driver no longer
 * lists added by their handle: "1 x nvidia-999 (unlisted type)". */
static void print_current(FILE *f, const struct vdm_gpu *g)
{
	int *cur = vdm_gpu_current_counts(g);
	char *s = vdm_counts_str(g, cur);
	bool any = false;
	for (size_t t = 0; t < g->n_types; t++)
		any |= cur[t] > 0;
	free(cur);
	bool printed = false;
	if (any) {
		fputs(s, f);
		printed = true;
	}
	free(s);
	for (size_t v = 0; v < g->n_vgpus; v++) {
		const struct vdm_vgpu *vg = &g->vgpus[v];
		if (vg->type >= 0)
			continue;
		const char *tid = vg->type_id ? vg->type_id : "?";
		bool seen = false;
		for (size_t w = 0; w < v && !seen; w++)
			seen = g->vgpus[w].type < 0 &&
			       !strcmp(g->vgpus[w].type_id ? g->vgpus[w].type_id : "?", tid);
		if (seen)
			continue;
		int n = 0;
		for (size_t w = v; w < g->n_vgpus; w++)
			n += g->vgpus[w].type < 0 &&
			     !strcmp(g->vgpus[w].type_id ? g->vgpus[w].type_id : "?", tid);
		fprintf(f, "%s%d x %s (unlisted type)", printed ? ", " : "", n, tid);
		printed = true;
	}
	if (!printed)
		fputs("no vGPUs", f);
}

static void print_gpu(FILE *f, const struct vdm_gpu_plan *gp)
{
	const struct vdm_gpu *g = gp->gpu;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	if (!gp->entry) {
		fprintf(f, "%s: not selected by the config, left alone\n", lbl);
		return;
	}
	fputs(lbl, f);
	if (g->model && *g->model)
		fprintf(f, " %s", g->model);
	fputs(": ", f);
	char *want = gp->want ? vdm_counts_str(g, gp->want) : vdm_xstrdup("no vGPUs");
	if (gp->matches) {
		fprintf(f, "%s (already applied)\n", want);
	} else {
		print_current(f, g);
		fprintf(f, " -> %s\n", want);
	}
	free(want);

	int w_id = 0, w_type = 0;
	char type[96];
	/* A random UUID drawn for this plan is not what an apply will draw. */
	static const char random_id[] = "(random at apply)";
	for (size_t k = 0; k < gp->n_ops; k++) {
		op_type(g, &gp->ops[k], type, sizeof(type));
		int li = (int)strlen(gp->ops[k].random_id ? random_id : gp->ops[k].id),
		    lt = (int)strlen(type);
		w_id = li > w_id ? li : w_id;
		w_type = lt > w_type ? lt : w_type;
	}
	bool mig = false;
	for (size_t k = 0; k < gp->n_ops; k++) {
		const struct vdm_op *op = &gp->ops[k];
		if (!mig && op->kind == VDM_OP_CREATE) {
			vdm_mig_print_plan(f, gp); /* run after the removes, before the creates */
			mig = true;
		}
		op_type(g, op, type, sizeof(type));
		fprintf(f, "  %-6s  %-*s  %-*s  on %s\n", op_word(op->kind), w_id,
			op->random_id ? random_id : op->id, w_type, type, op->parent ? op->parent->addr : "?");
	}
	if (!mig)
		vdm_mig_print_plan(f, gp);
}

void vdm_plan_print(FILE *f, const struct vdm_plan *plan)
{
	size_t n_create = 0, n_remove = 0, n_keep = 0;
	for (size_t i = 0; i < plan->n_gpus; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		print_gpu(f, gp);
		if (gp->entry) {
			n_create += gp->n_create;
			n_remove += gp->n_remove;
			n_keep += gp->n_keep;
		}
	}
	fprintf(f, "%zu to create, %zu to remove, %zu kept\n", n_create, n_remove, n_keep);
}
