/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan checks for apply (VDM_PLAN_CHECK): capacity, one frame-buffer size
 * per GPU unless in mixed-size mode, and where each new vGPU goes (with its
 * id). Everything here runs before the first write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "mig_plan.h"
#include "plan_int.h"

/* ---- capacity and placement (apply only) ---- */

static int removed_on(const struct vdm_gpu_plan *gp, const struct vdm_parent *p)
{
	int n = 0;
	for (size_t o = 0; o < gp->n_ops; o++)
		if (gp->ops[o].kind == VDM_OP_REMOVE && gp->ops[o].parent == p)
			n++;
	return n;
}

static bool uuid_taken(const struct vdm_gpu_plan *gp, const char *id)
{
	for (size_t o = 0; o < gp->n_ops; o++)
		if (!strcmp(gp->ops[o].id, id))
			return true;
	return false;
}

/* A random UUID, or with a seed the first UUIDv5 of
 * "<seed>/<GPU address>/<type>/<ordinal>" that this GPU's plan does not hold
 * yet: a host rebuilt from the same config gets the same UUIDs back. */
static void new_uuid(struct vdm_ctx *ctx, const struct vdm_gpu_plan *gp, int type, char out[VDM_ID_LEN])
{
	const char *seed = vdm_ctx_uuid_seed(ctx);
	if (!seed) {
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, out);
		return;
	}
	for (int ordinal = 0;; ordinal++) {
		vdm_seeded_uuid(seed, gp->gpu, type, ordinal, out);
		if (!uuid_taken(gp, out))
			return;
	}
}

int vdm_plan_check_capacity(const struct vdm_gpu_plan *gp, char **err)
{
	const struct vdm_gpu *g = gp->gpu;
	char lbl[64];
	long fb_total = -1, fb_want = 0;
	int n_want = 0;
	vdm_gpu_label(g, lbl, sizeof(lbl));
	for (size_t t = 0; t < g->n_types; t++) {
		const struct vdm_vtype *vt = &g->types[t];
		if (vt->max_instances > 0 && vt->fb_mib > 0 &&
		    (long)vt->max_instances * vt->fb_mib > fb_total)
			fb_total = (long)vt->max_instances * vt->fb_mib;
	}
	for (size_t t = 0; t < g->n_types; t++) {
		const struct vdm_vtype *vt = &g->types[t];
		int w = gp->want[t];
		if (!w)
			continue;
		n_want += w;
		if (vt->max_instances >= 0 && w > vt->max_instances) {
			*err = vdm_strdupf("%s: %d x %s requested, but the GPU holds at most %d",
					   lbl, w, vt->name, vt->max_instances);
			return -ENOSPC;
		}
		if (vt->fb_mib > 0)
			fb_want += (long)w * vt->fb_mib;
	}
	if (fb_total > 0 && fb_want > fb_total) {
		char *s = vdm_counts_str(g, gp->want);
		*err = vdm_strdupf("%s: %s needs %ld MiB of frame buffer, but the GPU has %ld MiB",
				   lbl, s, fb_want, fb_total);
		free(s);
		return -ENOSPC;
	}
	if (g->n_parents && vdm_parent_is_vf(&g->parents[0]) && (size_t)n_want > g->n_parents) {
		*err = vdm_strdupf("%s: %d vGPUs requested, but the GPU has %zu virtual functions "
				   "(one vGPU each)", lbl, n_want, g->n_parents);
		return -ENOSPC;
	}
	return 0;
}

/* Choose a parent for every vGPU to create. When nothing is removed on the
 * GPU, the driver's available_instances are current and are checked too. */
int vdm_plan_place_creates(struct vdm_host *h, struct vdm_gpu_plan *gp, char **err)
{
	struct vdm_gpu *g = gp->gpu;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	int *have = vdm_xcalloc(g->n_types ? g->n_types : 1, sizeof(int));
	int *used = vdm_xcalloc(g->n_parents ? g->n_parents : 1, sizeof(int));
	bool live = gp->n_remove == 0 && !h->restored_view &&
		    !vdm_mig_plan_changes(gp); /* MIG: GPU instances come first */
	int rc = 0;

	for (size_t o = 0; o < gp->n_ops; o++)
		if (gp->ops[o].kind == VDM_OP_KEEP)
			have[gp->ops[o].type]++;
	for (size_t p = 0; p < g->n_parents; p++)
		used[p] = g->parents[p].n_vgpus - removed_on(gp, &g->parents[p]);

	for (size_t t = 0; t < g->n_types && rc == 0; t++) {
		for (int k = have[t]; k < gp->want[t] && rc == 0; k++) {
			struct vdm_parent *chosen = NULL;
			for (size_t p = 0; p < g->n_parents && !chosen; p++) {
				struct vdm_parent *par = &g->parents[p];
				if (vdm_parent_is_vf(par) && used[p] > 0)
					continue; /* a VF holds one vGPU */
				if (live) {
					int avail = vdm_parent_available(h, par, (int)t);
					if (avail < 0) {
						*err = vdm_strdupf("%s: the driver's count of free %s "
								   "vGPUs cannot be read: %s", lbl,
								   g->types[t].name, h->error);
						rc = avail;
						break;
					}
					int placed = 0;
					for (size_t o = 0; o < gp->n_ops; o++)
						if (gp->ops[o].kind == VDM_OP_CREATE && gp->ops[o].parent == par &&
						    gp->ops[o].type == (int)t)
							placed++;
					if (avail <= placed)
						continue;
				}
				chosen = par;
				used[p]++;
			}
			if (rc < 0)
				break;
			if (!chosen) {
				char *cur = vdm_counts_str(g, have);
				*err = vdm_strdupf("%s: cannot create %d x %s next to %s: the driver reports "
						   "no room for more (available_instances)", lbl,
						   gp->want[t] - have[t], g->types[t].name, cur);
				free(cur);
				rc = -ENOSPC;
				break;
			}
			char id[VDM_ID_LEN];
			if (g->be->uuid_ids)
				new_uuid(h->ctx, gp, (int)t, id);
			else
				snprintf(id, sizeof(id), "%s", chosen->addr);
			vdm_plan_add_op(gp, VDM_OP_CREATE, chosen, (int)t, id)->random_id =
				g->be->uuid_ids && !vdm_ctx_uuid_seed(h->ctx);
			gp->n_create++;
		}
	}
	free(have);
	free(used);
	return rc;
}

/* ---- sizes: one frame-buffer size per GPU, unless in mixed-size mode ---- */

/* A time-sliced type's frame buffer in MiB (from the driver, else from its
 * name: "-4Q" is 4096); -1 for a MIG-backed type (its size is its GPU
 * instance's, not this rule's) or an unknown one. */
static int type_fb(const struct vdm_vtype *vt)
{
	struct vdm_vgpu_type p;
	bool parsed = vdm_vgpu_type_parse(vt->name, &p, NULL) == 0;
	if (parsed && vdm_vgpu_type_is_mig(&p))
		return -1;
	if (vt->fb_mib > 0)
		return vt->fb_mib;
	return parsed ? (p.gb ? p.gb * 1024 : 512) : -1;
}

/* Is the GPU in mixed-size mode? A GPU without SR-IOV (before Ampere) never
 * is. NVML says so when present; otherwise the driver's lists tell once a
 * vGPU exists: in equal-size mode a free VF offers only the size already in
 * use. 1, 0, or -1 unknown. */
static int mixed_size_mode(struct vdm_host *h, struct vdm_gpu *g)
{
	if (!g->sriov)
		return 0;
	if (g->mixed_size >= 0 || g->n_vgpus == 0 || h->restored_view)
		return g->mixed_size;
	int used_fb = -1;
	for (size_t v = 0; v < g->n_vgpus; v++)
		if (g->vgpus[v].type >= 0)
			used_fb = type_fb(&g->types[g->vgpus[v].type]);
	if (used_fb < 0)
		return -1;
	for (size_t p = 0; p < g->n_parents; p++) {
		struct vdm_parent *par = &g->parents[p];
		if (par->n_vgpus || !vdm_parent_is_vf(par))
			continue;
		bool offers_any = false;
		for (size_t t = 0; t < g->n_types; t++) {
			if (vdm_parent_available(h, par, (int)t) <= 0)
				continue;
			offers_any = true;
			if (type_fb(&g->types[t]) > 0 && type_fb(&g->types[t]) != used_fb)
				return 1;
		}
		if (offers_any)
			return 0;
	}
	return -1;
}

int vdm_plan_check_sizes(struct vdm_host *h, const struct vdm_gpu_plan *gp, char **err)
{
	struct vdm_gpu *g = gp->gpu;
	int first = -1, other = -1;
	if (vdm_mig_wants(gp))
		return 0; /* MIG-backed: one size per GPU instance, not per GPU */
	for (size_t t = 0; t < g->n_types; t++) {
		if (!gp->want[t] || type_fb(&g->types[t]) < 0)
			continue;
		if (first < 0)
			first = (int)t;
		else if (type_fb(&g->types[t]) != type_fb(&g->types[first]))
			other = (int)t;
	}
	if (other < 0)
		return 0;
	int mode = mixed_size_mode(h, g);
	if (mode == 1)
		return 0;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	if (!g->sriov) {
		*err = vdm_strdupf("%s: the config mixes vGPU sizes (%s and %s); this GPU has no "
				   "mixed-size mode: all its vGPUs have one frame-buffer size (any series)",
				   lbl, g->types[first].name, g->types[other].name);
		return -EINVAL;
	}
	*err = vdm_strdupf("%s: the config mixes vGPU sizes (%s and %s), which needs the GPU in "
			   "mixed-size mode, and it is %s; switch it while it holds no vGPU, after "
			   "its VFs are enabled: nvidia-smi vgpu -i %s -shm 1",
			   lbl, g->types[first].name, g->types[other].name,
			   mode == 0 ? "in equal-size mode"
				     : "not known to be in it (NVML is not available to ask)",
			   g->addr);
	return -EINVAL;
}

