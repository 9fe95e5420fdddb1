/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The models vgpu-sim simulates, taken from the library's catalogue
 * (lib/base/catalogue.h, the data in data/catalogue/<name>.tsv, with their sources):
 * every model whose "sim" column is yes or ids-simulated, its "offered"
 * types (what mdev_supported_types and creatable_vgpu_types list, in that
 * order) and its "unoffered" ones (names and maxima known, never listed:
 * the L40S C-series, absent from the real capture).  MIG-backed types are
 * simulated with their GPU-instance profile (mig-profiles.tsv); a type's
 * vGPUs per instance are the profile's memory over the vGPU's
 * (vdm_cat_type_per_gi); a MIG mode change needs a GPU reset on Ampere.
 *
 * The views below are built once, on first use, and live until exit.
 */
#include "models.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"

static struct sim_model_spec *models;
static size_t nmodels;

static struct sim_gi_profile *profiles_of(const struct vdm_cat_gpu *g, unsigned *slots, unsigned *compute)
{
	struct sim_gi_profile *v = calloc(g->n_gi_profiles ? g->n_gi_profiles : 1, sizeof(*v));

	if (!v)
		abort();
	*slots = *compute = 0;
	for (size_t i = 0; i < g->n_gi_profiles; i++) {
		const struct vdm_cat_gi_profile *p = &g->gi_profiles[i];
		v[i] = (struct sim_gi_profile){ p->id, p->nvml_index, p->name, p->slices, p->fb_mib / 1024,
						p->max_instances, p->mem_slots, p->starts_mask };
		for (unsigned k = 0; k < 32; k++)
			if ((p->starts_mask & (1u << k)) && k + p->mem_slots > *slots)
				*slots = k + p->mem_slots;
		if (p->slices > *compute)
			*compute = p->slices;
	}
	return v;
}

static struct sim_type_spec *types_of(const struct vdm_cat_gpu *g, const struct sim_gi_profile *gips,
				      enum vdm_cat_sim which, size_t *n)
{
	struct sim_type_spec *v = calloc(g->n_types ? g->n_types : 1, sizeof(*v));

	if (!v)
		abort();
	*n = 0;
	for (size_t i = 0; i < g->n_types; i++) {
		const struct vdm_cat_type *t = &g->types[i];

		if (t->sim != which)
			continue;
		v[*n].id = t->id;
		v[*n].suffix = t->suffix;
		v[*n].max_instances = t->max_instances;
		const struct vdm_cat_gi_profile *p = vdm_cat_gi_profile(g, t->gi_profile);
		if (p) {
			v[*n].gi = &gips[p - g->gi_profiles];
			v[*n].per_gi = vdm_cat_type_per_gi(g, t);
		}
		(*n)++;
	}
	return v;
}

static void load(void)
{
	if (models)
		return;
	models = calloc(vdm_cat_gpu_count(), sizeof(*models));
	if (!models)
		abort();
	for (size_t i = 0; i < vdm_cat_gpu_count(); i++) {
		const struct vdm_cat_gpu *g = vdm_cat_gpu_at(i);
		struct sim_model_spec *m = &models[nmodels];

		if (!g->sim)
			continue;
		m->prefix = g->model;
		m->marketing = g->marketing;
		m->device_id = g->device_id;
		m->subsys_vendor = g->subsys_vendor;
		m->subsys_device = g->subsys_device;
		m->revision = g->revision;
		m->class_code = g->class_code;
		m->fb_gb = g->fb_mib / 1024;
		m->num_vfs = (unsigned)g->sriov_vfs; /* known for every simulated model */
		m->gpus_per_board = g->gpus_per_board;
		m->pcie_gen = g->pcie_gen;
		m->name_prefix = g->name_prefix;
		struct sim_gi_profile *gips = profiles_of(g, &m->mig_slots, &m->mig_compute);
		m->gi_profiles = gips;
		m->ngi_profiles = g->n_gi_profiles;
		m->mig_reset = g->n_gi_profiles && g->arch && !strcmp(g->arch, "Ampere");
		m->types = types_of(g, gips, VDM_CAT_SIM_OFFERED, &m->ntypes);
		m->unoffered = types_of(g, gips, VDM_CAT_SIM_UNOFFERED, &m->nunoffered);
		m->ids_simulated = g->ids_simulated;
		nmodels++;
	}
}

size_t sim_catalogue_count(void)
{
	load();
	return nmodels;
}

const struct sim_model_spec *sim_catalogue_get(size_t i)
{
	load();
	return i < nmodels ? &models[i] : NULL;
}

const struct sim_model_spec *sim_catalogue_find(const char *prefix)
{
	load();
	for (size_t i = 0; i < nmodels; i++)
		if (strcasecmp(models[i].prefix, prefix) == 0)
			return &models[i];
	return NULL;
}

const struct sim_type_spec *sim_model_type(const struct sim_model_spec *m, unsigned id, int *offered)
{
	for (size_t i = 0; i < m->ntypes; i++) {
		if (m->types[i].id == id) {
			if (offered)
				*offered = 1;
			return &m->types[i];
		}
	}
	for (size_t i = 0; i < m->nunoffered; i++) {
		if (m->unoffered[i].id == id) {
			if (offered)
				*offered = 0;
			return &m->unoffered[i];
		}
	}
	return NULL;
}

const struct sim_gi_profile *sim_model_gi_profile(const struct sim_model_spec *m, unsigned id)
{
	for (size_t i = 0; i < m->ngi_profiles; i++)
		if (m->gi_profiles[i].id == id)
			return &m->gi_profiles[i];
	return NULL;
}

/* The size part of a suffix: "1-5CME" -> "5CME". */
static const char *size_part(const struct sim_type_spec *t)
{
	const char *dash = strrchr(t->suffix, '-');

	return dash ? dash + 1 : t->suffix;
}

unsigned sim_type_fb_mib(const struct sim_type_spec *t)
{
	unsigned gb = (unsigned)strtoul(size_part(t), NULL, 10);

	return gb ? gb * 1024 : 512;
}

char sim_type_series(const struct sim_type_spec *t)
{
	const char *p = size_part(t);

	while (isdigit((unsigned char)*p))
		p++;
	return *p;
}

void sim_type_name_line(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out)
{
	sb_printf(out, "%s%s-%s", m->name_prefix, m->prefix, t->suffix);
}

void sim_type_name(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out)
{
	sim_type_name_line(m, t, out);
	sb_puts(out, "\n");
}

/* Per-series pattern of real sysfs (sysfs-interfaces.md 1.2). */
void sim_type_description(const struct sim_type_spec *t, struct strbuf *out)
{
	unsigned fb = sim_type_fb_mib(t);
	unsigned heads = 1, frl = 60;
	const char *res;

	switch (sim_type_series(t)) {
	case 'Q':
		heads = 4;
		res = fb <= 1024 ? "5120x2880" : "7680x4320";
		break;
	case 'B':
		heads = 4;
		frl = 45;
		res = "5120x2880";
		break;
	case 'A':
		res = "1280x1024";
		break;
	default: /* 'C' */
		res = "4096x2400";
		break;
	}
	sb_printf(out, "num_heads=%u, frl_config=%u, framebuffer=%uM, max_resolution=%s, max_instance=%u\n",
		  heads, frl, fb, res, t->max_instances);
}
