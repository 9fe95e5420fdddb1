/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a GPU can still take (host.h): each parent's available instances of a
 * type, as its backend reads them, and the GPU's free instances of a type
 * bounded by max_instances, the size mode and the frame buffer left.
 */
#include "host.h"
#include "base/base.h"

#include <errno.h>
#include <stdlib.h>

int vdm_parent_available(struct vdm_host *h, struct vdm_parent *p, int type)
{
	struct vdm_gpu *g = p->gpu;
	if (type < 0 || (size_t)type >= g->n_types)
		return -EINVAL;
	/* The free VFs of an mdev GPU are interchangeable (what one can take
	 * depends on the GPU's vGPUs, not on the VF): the first free one
	 * answers for all, so a scan reads each type once per GPU. */
	if (g->fw == VDM_FW_MDEV && vdm_parent_is_vf(p) && p->n_vgpus == 0)
		for (size_t i = 0; i < g->n_parents; i++) {
			struct vdm_parent *q = &g->parents[i];
			if (vdm_parent_is_vf(q) && q->n_vgpus == 0) {
				if (q != p)
					return vdm_parent_available(h, q, type);
				break;
			}
		}
	if (!p->avail) {
		p->avail = vdm_xcalloc(g->n_types, sizeof(int));
		for (size_t i = 0; i < g->n_types; i++)
			p->avail[i] = -1;
	}
	if (p->avail[type] < 0) {
		int rc = g->be->available(h, p, type);
		if (rc < 0)
			return rc;
		p->avail[type] = rc;
	}
	return p->avail[type];
}

static bool mig_backed(const char *name)
{
	struct vdm_vgpu_type vt;
	return name && vdm_vgpu_type_parse(name, &vt, NULL) == 0 && vdm_vgpu_type_is_mig(&vt);
}

/* The GPU's frame buffer its vGPUs leave (MiB, the catalogue's size of the
 * model less each vGPU's), or -1 when a size is not known or a vGPU is
 * MIG-backed (a GPU instance's memory, not the time-sliced pool). */
static long fb_left(const struct vdm_gpu *g)
{
	const struct vdm_cat_gpu *cg = vdm_cat_gpu_by_pci(g->id.device, g->id.subsys_vendor,
							  g->id.subsys_device);
	if (!cg || !cg->fb_mib)
		return -1;
	long left = (long)cg->fb_mib;
	for (size_t v = 0; v < g->n_vgpus; v++) {
		int t = g->vgpus[v].type;
		if (t < 0 || g->types[t].fb_mib <= 0 || mig_backed(g->types[t].name))
			return -1;
		left -= g->types[t].fb_mib;
	}
	return left < 0 ? 0 : left;
}

bool vdm_gpu_is_mixed(const struct vdm_gpu *g)
{
	if (g->mixed_size >= 0)
		return g->mixed_size == 1;
	for (size_t v = 1; v < g->n_vgpus; v++) {
		int a = g->vgpus[0].type, b = g->vgpus[v].type;
		if (a >= 0 && b >= 0 && g->types[a].fb_mib > 0 && g->types[b].fb_mib > 0 &&
		    g->types[a].fb_mib != g->types[b].fb_mib)
			return true; /* two sizes side by side: only mixed-size mode allows it */
	}
	return false;
}

int vdm_gpu_free_instances(struct vdm_host *h, struct vdm_gpu *g, int type)
{
	int sum = 0;
	for (size_t p = 0; p < g->n_parents; p++) {
		if (vdm_parent_is_vf(&g->parents[p]) && g->parents[p].n_vgpus > 0)
			continue; /* a VF holds one vGPU: nothing to ask */
		int a = vdm_parent_available(h, &g->parents[p], type);
		if (a < 0)
			return a;
		sum += a;
	}
	/* Each VF reports whether it can take one more; the GPU as a whole
	 * still holds at most max_instances of a size (equal-size mode; of the
	 * type itself in mixed-size mode), and no more than its frame buffer
	 * left. Without those the sum over VFs says nothing beyond "at least
	 * one". */
	const struct vdm_vtype *vt = &g->types[type];
	bool vfs = g->n_parents && vdm_parent_is_vf(&g->parents[0]);
	bool mixed = vdm_gpu_is_mixed(g);
	if (vt->max_instances < 0 && sum > 1 && vfs)
		return VDM_FREE_UNKNOWN;
	if (vt->max_instances >= 0) {
		int same = 0;
		for (size_t v = 0; v < g->n_vgpus; v++) {
			int t = g->vgpus[v].type;
			if (t == type ||
			    (!mixed && t >= 0 && vt->fb_mib > 0 && g->types[t].fb_mib == vt->fb_mib))
				same++;
		}
		int cap = vt->max_instances - same;
		if (sum > cap)
			sum = cap < 0 ? 0 : cap;
	}
	if (sum > 1 && !mig_backed(vt->name)) {
		long left = vt->fb_mib > 0 ? fb_left(g) : -1;
		if (left >= 0 && sum > left / vt->fb_mib)
			sum = (int)(left / vt->fb_mib);
		else if (left < 0 && mixed && vfs)
			return VDM_FREE_UNKNOWN; /* mixed sizes, and the room left is not known */
	}
	return sum;
}
