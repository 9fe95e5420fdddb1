/* SPDX-License-Identifier: Apache-2.0 */
/* MIG state of the scanned GPUs through NVML. The plan's MIG steps are in
 * plan/mig_plan.c, running and journalling them in apply/mig_apply.c. */
#include "mig.h"

#include "host.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* ---- scan ---- */

void vdm_mig_free(struct vdm_mig *m)
{
	if (!m)
		return;
	vdm_nvml_gips_free(m->profiles, m->n_profiles);
	free(m->denied);
	free(m->gis);
	free(m->type_gip);
	free(m->type_per_gi);
	free(m->vgpu_gi);
	free(m);
}

static unsigned type_number(const char *id)
{
	long v;
	return vdm_parse_long(strncmp(id, "nvidia-", 7) ? id : id + 7, 10, 0, UINT_MAX, &v) == 0 ? (unsigned)v : 0;
}

/* The catalogue's GPU-instance profiles of g's model (by PCI ids, else by
 * its type-name prefix); false if it has none. */
static bool catalogue_profiles(const struct vdm_gpu *g, struct vdm_mig *m)
{
	const struct vdm_cat_gpu *c = vdm_cat_gpu_by_pci(g->id.device, g->id.subsys_vendor, g->id.subsys_device);
	if ((!c || !c->n_gi_profiles) && g->model && *g->model)
		c = vdm_cat_gpu_by_model(g->model);
	if (!c || !c->n_gi_profiles)
		return false;
	m->profiles = vdm_xcalloc(c->n_gi_profiles, sizeof(*m->profiles));
	for (size_t i = 0; i < c->n_gi_profiles; i++) {
		const struct vdm_cat_gi_profile *cp = &c->gi_profiles[i];
		struct vdm_nvml_gip *p = &m->profiles[i];
		p->id = cp->id;
		p->index = cp->nvml_index;
		p->slices = cp->slices;
		p->max = cp->max_instances;
		p->mem_mib = cp->fb_mib;
		snprintf(p->name, sizeof(p->name), "%s", cp->name);
		p->pl = vdm_xcalloc(32, sizeof(*p->pl));
		for (unsigned k = 0; k < 32; k++)
			if (cp->starts_mask & (1u << k))
				p->pl[p->n_pl++] = (struct vdm_nvml_placement){k, cp->mem_slots};
	}
	m->n_profiles = c->n_gi_profiles;
	m->profiles_from_catalogue = true;
	return true;
}

/* NVML refused a call for want of privilege: remember it and say it once. */
static void refused(struct vdm_host *h, const struct vdm_gpu *g, struct vdm_mig *m, struct vdm_nvml *n)
{
	char lbl[64];
	if (m->denied)
		return;
	m->denied = vdm_strdupf("%s", vdm_nvml_last_error(n));
	vdm_gpu_label(g, lbl, sizeof(lbl));
	vdm_warn(h->ctx, "%s: its GPU instances are unknown: NVML refused %s; NVML lists and changes MIG "
		 "GPU instances only for a privileged caller (root)", lbl, m->denied);
}

static void scan_gpu(struct vdm_host *h, struct vdm_gpu *g, struct vdm_nvml *n)
{
	int cur, pend;
	if (vdm_nvml_mig_mode(n, g->addr, &cur, &pend) < 0)
		return;
	struct vdm_mig *m = vdm_xcalloc(1, sizeof(*m));
	m->mode = cur;
	m->pending = pend;
	int np = vdm_nvml_gi_profiles(n, g->addr, &m->profiles);
	m->n_profiles = np > 0 ? (size_t)np : 0;
	if (np == -EPERM)
		refused(h, g, m, n);
	else if (np == 0 && cur != 1)
		catalogue_profiles(g, m); /* NVML lists them only in MIG mode */
	if (cur == 1 && !m->denied) {
		struct vdm_nvml_gi *gis = NULL;
		int ng = vdm_nvml_gis(n, g->addr, m->profiles, m->n_profiles, &gis);
		if (ng == -EPERM)
			refused(h, g, m, n);
		for (int i = 0; i < ng; i++) {
			m->gis = vdm_xrealloc(m->gis, m->n_gis + 1, sizeof(*m->gis));
			m->gis[m->n_gis++] = (struct vdm_gi){gis[i].id, gis[i].profile_id, gis[i].start,
							      gis[i].size, gis[i].n_ci};
		}
		free(gis);
		/* by id, as nvidia-smi mig -lgi lists them */
		for (size_t i = 1; i < m->n_gis; i++)
			for (size_t j = i; j > 0 && m->gis[j - 1].id > m->gis[j].id; j--) {
				struct vdm_gi t = m->gis[j];
				m->gis[j] = m->gis[j - 1];
				m->gis[j - 1] = t;
			}
	}
	m->type_gip = vdm_xcalloc(g->n_types + 1, sizeof(int));
	m->type_per_gi = vdm_xcalloc(g->n_types + 1, sizeof(int));
	for (size_t t = 0; t < g->n_types; t++) {
		unsigned id = type_number(g->types[t].id);
		int gip;
		struct vdm_vgpu_type vt;
		if (vdm_nvml_type_gi_profile(n, id, &gip) < 0) /* NVML cannot say: the name can */
			gip = vdm_vgpu_type_parse(g->types[t].name, &vt, NULL) == 0 &&
					      vdm_vgpu_type_is_mig(&vt) ? -2 : VDM_NVML_TIME_SLICED;
		m->type_gip[t] = gip;
		int per = gip >= 0 ? vdm_nvml_type_per_gi(n, id) : 0;
		m->type_per_gi[t] = per > 0 ? per : 1; /* no MIG time-slicing: one per GI */
	}
	m->vgpu_gi = vdm_xcalloc(g->n_vgpus + 1, sizeof(int));
	struct vdm_nvml_vgpu *av = NULL;
	int nav = g->fw == VDM_FW_MDEV ? vdm_nvml_active_vgpus(n, g->addr, &av) : 0;
	for (size_t v = 0; v < g->n_vgpus; v++) {
		struct vdm_vgpu *vg = &g->vgpus[v];
		m->vgpu_gi[v] = -1;
		if (vg->type < 0 || m->type_gip[vg->type] == -1)
			continue;
		if (g->fw == VDM_FW_VFIO) {
			/* the driver picked the GI; it tells which [cube] */
			char rel[VDM_PATH_MAX];
			int gi = -1;
			snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/nvidia/gpu_instance_id",
				 vg->parent->addr);
			if (vdm_sysfs_read_int(h->ctx, rel, &gi) == 0 && gi >= 0)
				m->vgpu_gi[v] = gi;
		}
		for (int k = 0; k < nav; k++)
			if (!strcmp(av[k].uuid, vg->id))
				m->vgpu_gi[v] = av[k].gi;
	}
	free(av);
	g->mig = m;
}

void vdm_mig_scan(struct vdm_host *h)
{
	struct vdm_nvml *n = NULL;
	bool tried = false;
	for (size_t i = 0; i < h->n_gpus; i++) {
		struct vdm_gpu *g = &h->gpus[i];
		if (!g->sriov)
			continue; /* every MIG-capable GPU has SR-IOV */
		if (!tried) {
			tried = true;
			n = vdm_nvml_open(h->ctx);
		}
		if (!n)
			return;
		scan_gpu(h, g, n);
	}
	vdm_nvml_close(n);
}

const struct vdm_nvml_gip *vdm_mig_gip(const struct vdm_gpu *g, unsigned id)
{
	for (size_t i = 0; g->mig && i < g->mig->n_profiles; i++)
		if (g->mig->profiles[i].id == id)
			return &g->mig->profiles[i];
	return NULL;
}

const char *vdm_mig_profile_name(const struct vdm_gpu *g, unsigned id, char *buf, size_t len)
{
	const struct vdm_nvml_gip *p = vdm_mig_gip(g, id);
	if (p)
		snprintf(buf, len, "%s", p->name);
	else
		snprintf(buf, len, "profile %u", id);
	return buf;
}

bool vdm_mig_type_backed(const struct vdm_gpu *g, int type)
{
	if (type < 0 || (size_t)type >= g->n_types)
		return false;
	if (g->mig)
		return g->mig->type_gip[type] != -1;
	struct vdm_vgpu_type vt;
	return vdm_vgpu_type_parse(g->types[type].name, &vt, NULL) == 0 && vdm_vgpu_type_is_mig(&vt);
}
