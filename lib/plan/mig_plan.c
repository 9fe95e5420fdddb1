/* SPDX-License-Identifier: Apache-2.0 */
/* The MIG steps a GPU plan needs (mig_plan.h). */
#include "mig_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

bool vdm_mig_wants(const struct vdm_gpu_plan *gp)
{
	for (size_t t = 0; gp->want && t < gp->gpu->n_types; t++)
		if (gp->want[t] > 0 && vdm_mig_type_backed(gp->gpu, (int)t))
			return true;
	return false;
}

static bool wants_time_sliced(const struct vdm_gpu_plan *gp)
{
	for (size_t t = 0; gp->want && t < gp->gpu->n_types; t++)
		if (gp->want[t] > 0 && !vdm_mig_type_backed(gp->gpu, (int)t))
			return true;
	return false;
}

static const struct vdm_gi *find_gi(const struct vdm_mig *m, int id)
{
	for (size_t i = 0; id >= 0 && i < m->n_gis; i++)
		if (m->gis[i].id == (unsigned)id)
			return &m->gis[i];
	return NULL;
}

/* ---- match and plan ---- */

void vdm_mig_match(struct vdm_gpu_plan *gp)
{
	const struct vdm_gpu *g = gp->gpu;
	const struct vdm_mig *m = g->mig;
	if (!gp->entry || !gp->matches || !m || !vdm_mig_wants(gp))
		return;
	if (m->mode != 1) {
		gp->matches = false;
		return;
	}
	for (size_t v = 0; v < g->n_vgpus; v++) {
		int t = g->vgpus[v].type;
		if (t < 0 || m->type_gip[t] == -1)
			continue;
		const struct vdm_gi *gi = find_gi(m, m->vgpu_gi[v]);
		if (!gi || (m->type_gip[t] >= 0 && gi->profile_id != (unsigned)m->type_gip[t]))
			gp->matches = false;
	}
	/* and no GPU instance the layout does not use */
	for (size_t i = 0; i < m->n_gis; i++) {
		bool used = false;
		for (size_t v = 0; v < g->n_vgpus; v++)
			used = used || m->vgpu_gi[v] == (int)m->gis[i].id;
		if (!used)
			gp->matches = false;
	}
}

static struct vdm_mig_step *add_step(struct vdm_mig_plan *mp, enum vdm_mig_step_kind kind)
{
	mp->steps = vdm_xrealloc(mp->steps, mp->n_steps + 1, sizeof(*mp->steps));
	struct vdm_mig_step *s = &mp->steps[mp->n_steps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

void vdm_mig_plan_free(struct vdm_mig_plan *mp)
{
	if (mp)
		free(mp->steps);
	free(mp);
}

bool vdm_mig_plan_changes(const struct vdm_gpu_plan *gp)
{
	for (size_t i = 0; gp->mig && i < gp->mig->n_steps; i++)
		if (gp->mig->steps[i].kind != VDM_MIG_REUSE_GI)
			return true;
	return false;
}

struct group {
	unsigned profile;
	int fb, total, kept, per;
};

/* Index of a vGPU in g->vgpus by id, or -1. */
static int vgpu_index(const struct vdm_gpu *g, const char *id)
{
	for (size_t v = 0; v < g->n_vgpus; v++)
		if (!strcmp(g->vgpus[v].id, id))
			return (int)v;
	return -1;
}

/* A free placement of p next to the GIs in busy[] (start, size pairs). */
static int place(const struct vdm_nvml_gip *p, const unsigned (*busy)[2], size_t nb)
{
	for (size_t i = 0; i < p->n_pl; i++) {
		bool free_ = true;
		for (size_t k = 0; k < nb && free_; k++)
			free_ = p->pl[i].start + p->pl[i].size <= busy[k][0] ||
				busy[k][0] + busy[k][1] <= p->pl[i].start;
		if (free_)
			return (int)i;
	}
	return -1;
}

static int cmp_size(const void *a, const void *b)
{
	const struct vdm_nvml_gip *x = *(const struct vdm_nvml_gip *const *)a;
	const struct vdm_nvml_gip *y = *(const struct vdm_nvml_gip *const *)b;
	if (x->slices != y->slices)
		return x->slices > y->slices ? -1 : 1;
	if (x->mem_mib != y->mem_mib)
		return x->mem_mib > y->mem_mib ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int plan_off(struct vdm_gpu_plan *gp, char **err)
{
	const struct vdm_gpu *g = gp->gpu;
	const struct vdm_mig *m = g->mig;
	for (size_t i = 0; i < m->n_gis; i++)
		add_step(gp->mig, VDM_MIG_DESTROY_GI)->gi_id = m->gis[i].id;
	for (size_t i = 0; i < gp->mig->n_steps; i++) {
		struct vdm_mig_step *s = &gp->mig->steps[i];
		const struct vdm_gi *gi = find_gi(m, (int)s->gi_id);
		s->profile_id = gi->profile_id;
		s->start = gi->start;
		s->size = gi->size;
	}
	for (size_t o = 0; o < gp->n_ops; o++)
		if (gp->ops[o].kind == VDM_OP_KEEP) {
			char lbl[64];
			vdm_gpu_label(g, lbl, sizeof(lbl));
			*err = vdm_strdupf("%s: the layout needs MIG mode off, but vGPU %s stays", lbl,
					   gp->ops[o].id);
			return -EINVAL;
		}
	add_step(gp->mig, VDM_MIG_MODE)->mode = 0;
	return 0;
}

int vdm_mig_plan(struct vdm_host *h, struct vdm_gpu_plan *gp, char **err)
{
	(void)h;
	const struct vdm_gpu *g = gp->gpu;
	const struct vdm_mig *m = g->mig;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	bool want_mig = vdm_mig_wants(gp);
	if (!want_mig && !(wants_time_sliced(gp) && m && m->mode == 1))
		return 0;
	if (!m) {
		*err = vdm_strdupf("%s: MIG-backed vGPU types need MIG mode and GPU instances, which "
				   "vgpu-dm manages through NVML, and NVML is not available "
				   "(libnvidia-ml.so.1, or the file VGPU_DM_NVML_LIBRARY names)", lbl);
		return -EOPNOTSUPP;
	}
	gp->mig = vdm_xcalloc(1, sizeof(*gp->mig));
	if (!want_mig)
		return plan_off(gp, err);

	/* GIs: what kept vGPUs occupy, and their frame-buffer size */
	int *occ = vdm_xcalloc(m->n_gis + 1, sizeof(int)), *occ_fb = vdm_xcalloc(m->n_gis + 1, sizeof(int));
	bool *used = vdm_xcalloc(m->n_gis + 1, sizeof(bool));
	for (size_t o = 0; o < gp->n_ops; o++) {
		int v = gp->ops[o].kind == VDM_OP_KEEP ? vgpu_index(g, gp->ops[o].id) : -1;
		const struct vdm_gi *gi = v >= 0 ? find_gi(m, m->vgpu_gi[v]) : NULL;
		if (!gi)
			continue;
		size_t k = (size_t)(gi - m->gis);
		occ[k]++;
		occ_fb[k] = g->types[gp->ops[o].type].fb_mib;
		used[k] = true;
	}
	/* groups of (GI profile, vGPU size) */
	struct group *grp = vdm_xcalloc(g->n_types + 1, sizeof(*grp));
	size_t ng = 0;
	int rc = 0;
	for (size_t t = 0; t < g->n_types && rc == 0; t++) {
		if (gp->want[t] <= 0)
			continue;
		int prof = m->type_gip[t];
		if (prof < 0 || !vdm_mig_gip(g, (unsigned)prof)) {
			*err = vdm_strdupf("%s: NVML does not name a GPU-instance profile of this GPU for "
					   "vGPU type %s", lbl, g->types[t].name);
			rc = -EINVAL;
			break;
		}
		size_t k = 0;
		while (k < ng && !(grp[k].profile == (unsigned)prof && grp[k].fb == g->types[t].fb_mib))
			k++;
		if (k == ng)
			grp[ng++] = (struct group){(unsigned)prof, g->types[t].fb_mib, 0, 0, m->type_per_gi[t]};
		grp[k].total += gp->want[t];
		if (m->type_per_gi[t] < grp[k].per)
			grp[k].per = m->type_per_gi[t];
	}
	/* how many new GIs per group: room in GIs with kept vGPUs of the group,
	 * then empty GIs of the profile (reused), then new ones */
	const struct vdm_nvml_gip **create = NULL;
	size_t n_create = 0;
	for (size_t k = 0; k < ng && rc == 0; k++) {
		int room = 0, kept = 0;
		for (size_t i = 0; i < m->n_gis; i++)
			if (m->gis[i].profile_id == grp[k].profile && occ[i] && occ_fb[i] == grp[k].fb) {
				kept += occ[i];
				room += grp[k].per > occ[i] ? grp[k].per - occ[i] : 0;
			}
		int need = grp[k].total - kept - room;
		for (size_t i = 0; i < m->n_gis && need > 0; i++)
			if (m->gis[i].profile_id == grp[k].profile && !used[i] && m->gis[i].n_ci) {
				used[i] = true;
				struct vdm_mig_step *s = add_step(gp->mig, VDM_MIG_REUSE_GI);
				s->gi_id = m->gis[i].id;
				need -= grp[k].per;
			}
		for (; need > 0; need -= grp[k].per) {
			create = vdm_xrealloc(create, n_create + 1, sizeof(*create));
			create[n_create++] = vdm_mig_gip(g, grp[k].profile);
		}
	}
	/* empty GIs nothing reuses go (first: the new ones may need their room) */
	unsigned (*busy)[2] = vdm_xcalloc(m->n_gis + n_create + 1, sizeof(*busy));
	size_t nb = 0;
	unsigned slices = 0, compute = 0;
	for (size_t i = 0; i < m->n_profiles; i++)
		compute = m->profiles[i].slices > compute ? m->profiles[i].slices : compute;
	struct vdm_mig_plan *steps = gp->mig;
	gp->mig = vdm_xcalloc(1, sizeof(*gp->mig));
	for (size_t i = 0; i < m->n_gis; i++) {
		const struct vdm_nvml_gip *p = vdm_mig_gip(g, m->gis[i].profile_id);
		if (!used[i] && !occ[i]) { /* the layout does not use it */
			struct vdm_mig_step *s = add_step(gp->mig, VDM_MIG_DESTROY_GI);
			s->gi_id = m->gis[i].id;
			continue;
		}
		busy[nb][0] = m->gis[i].start;
		busy[nb++][1] = m->gis[i].size;
		slices += p ? p->slices : 0;
	}
	if (m->mode != 1)
		add_step(gp->mig, VDM_MIG_MODE)->mode = 1;
	if (n_create > 1)
		qsort(create, n_create, sizeof(*create), cmp_size);
	for (size_t c = 0; c < n_create && rc == 0; c++) {
		const struct vdm_nvml_gip *p = create[c];
		unsigned same = 0;
		for (size_t i = 0; i < m->n_gis; i++)
			same += m->gis[i].profile_id == p->id && (used[i] || occ[i]);
		for (size_t i = 0; i < c; i++)
			same += create[i] == p;
		int at = same < p->max && slices + p->slices <= compute ? place(p, busy, nb) : -1;
		if (at < 0) {
			size_t of_p = 0;
			for (size_t i = 0; i < n_create; i++)
				of_p += create[i] == p;
			*err = vdm_strdupf("%s: the GPU instances this layout needs do not fit: %zu new x %s "
					   "(at most %u per GPU) next to the %zu instance%s it keeps or makes "
					   "first (one instance per %s vGPUs of a size, larger profiles placed "
					   "first)", lbl, of_p, p->name, p->max, nb, nb == 1 ? "" : "s",
					   "up to the type's per-instance maximum of");
			rc = -ENOSPC;
			break;
		}
		struct vdm_mig_step *s = add_step(gp->mig, VDM_MIG_CREATE_GI);
		s->profile_id = p->id;
		s->start = p->pl[at].start;
		s->size = p->pl[at].size;
		busy[nb][0] = s->start;
		busy[nb++][1] = s->size;
		slices += p->slices;
	}
	/* fill in destroys' placements, then the reuses (no action) last */
	for (size_t i = 0; i < gp->mig->n_steps; i++) {
		struct vdm_mig_step *s = &gp->mig->steps[i];
		const struct vdm_gi *gi = s->kind == VDM_MIG_DESTROY_GI ? find_gi(m, (int)s->gi_id) : NULL;
		if (gi) {
			s->profile_id = gi->profile_id;
			s->start = gi->start;
			s->size = gi->size;
		}
	}
	for (size_t i = 0; i < steps->n_steps; i++) {
		const struct vdm_gi *gi = find_gi(m, (int)steps->steps[i].gi_id);
		struct vdm_mig_step *s = add_step(gp->mig, VDM_MIG_REUSE_GI);
		*s = steps->steps[i];
		s->profile_id = gi->profile_id;
		s->start = gi->start;
		s->size = gi->size;
	}
	vdm_mig_plan_free(steps);
	free(busy);
	free(create);
	free(grp);
	free(occ);
	free(occ_fb);
	free(used);
	return rc;
}
