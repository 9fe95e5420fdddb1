/* SPDX-License-Identifier: Apache-2.0 */
/* Look-ups in the generated catalogue tables (see catalogue.h). */
#include "catalogue.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "catalogue_data.h"

size_t vdm_cat_gpu_count(void)
{
	return vdm_cat_n_gpus_;
}

const struct vdm_cat_gpu *vdm_cat_gpu_at(size_t i)
{
	return i < vdm_cat_n_gpus_ ? &vdm_cat_gpus_[i] : NULL;
}

const struct vdm_cat_gpu *vdm_cat_gpu_by_model(const char *model)
{
	if (!model)
		return NULL;
	for (size_t i = 0; i < vdm_cat_n_gpus_; i++)
		if (strcasecmp(vdm_cat_gpus_[i].model, model) == 0)
			return &vdm_cat_gpus_[i];
	return NULL;
}

/* 2: device and subsystem match; 1: device matches, subsystem unknown on
 * either side; 0: no match. */
static int pci_score(uint16_t dev, uint16_t ssv, uint16_t ssd,
		     uint16_t cdev, uint16_t cssv, uint16_t cssd)
{
	if (dev != cdev)
		return 0;
	if (ssd && cssd && ssv == cssv && ssd == cssd)
		return 2;
	return 1;
}

const struct vdm_cat_gpu *vdm_cat_gpu_by_pci(uint16_t device_id, uint16_t subsys_vendor,
					     uint16_t subsys_device)
{
	const struct vdm_cat_gpu *best = NULL;
	int best_score = 0;

	for (size_t i = 0; i < vdm_cat_n_gpus_; i++) {
		const struct vdm_cat_gpu *g = &vdm_cat_gpus_[i];
		int s = pci_score(device_id, subsys_vendor, subsys_device,
				  g->device_id, g->subsys_vendor, g->subsys_device);
		if (s > best_score) {
			best = g;
			best_score = s;
		}
	}
	for (size_t i = 0; i < vdm_cat_n_pcis_ && best_score < 2; i++) {
		const struct vdm_cat_pci *p = &vdm_cat_pcis_[i];
		int s = pci_score(device_id, subsys_vendor, subsys_device,
				  p->device_id, p->subsys_vendor, p->subsys_device);
		if (s > best_score) {
			best = vdm_cat_gpu_by_model(p->model);
			best_score = s;
		}
	}
	return best;
}

const struct vdm_cat_type *vdm_cat_gpu_type(const struct vdm_cat_gpu *g, const char *name)
{
	if (!g || !name)
		return NULL;
	for (size_t i = 0; i < g->n_types; i++)
		if (strcmp(g->types[i].name, name) == 0 || strcmp(g->types[i].suffix, name) == 0)
			return &g->types[i];
	return NULL;
}

const struct vdm_cat_type *vdm_cat_gpu_type_by_id(const struct vdm_cat_gpu *g, unsigned id)
{
	if (!g || !id)
		return NULL;
	for (size_t i = 0; i < g->n_types; i++)
		if (g->types[i].id == id)
			return &g->types[i];
	return NULL;
}

const struct vdm_cat_type *vdm_cat_type_by_name(const char *name, const struct vdm_cat_gpu **gpu)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < vdm_cat_n_gpus_; i++) {
		const struct vdm_cat_gpu *g = &vdm_cat_gpus_[i];
		size_t n = strlen(g->model);

		if (strncmp(name, g->model, n) != 0 || name[n] != '-')
			continue;
		for (size_t j = 0; j < g->n_types; j++) {
			if (strcmp(g->types[j].name, name) == 0) {
				if (gpu)
					*gpu = g;
				return &g->types[j];
			}
		}
	}
	return NULL;
}

const struct vdm_cat_series *vdm_cat_series(char series)
{
	for (size_t i = 0; i < vdm_cat_n_series_; i++)
		if (vdm_cat_series_[i].series == toupper((unsigned char)series))
			return &vdm_cat_series_[i];
	return NULL;
}

size_t vdm_cat_series_count(void)
{
	return vdm_cat_n_series_;
}

const struct vdm_cat_series *vdm_cat_series_at(size_t i)
{
	return i < vdm_cat_n_series_ ? &vdm_cat_series_[i] : NULL;
}

size_t vdm_cat_pci_count(void)
{
	return vdm_cat_n_pcis_;
}

const struct vdm_cat_pci *vdm_cat_pci_at(size_t i)
{
	return i < vdm_cat_n_pcis_ ? &vdm_cat_pcis_[i] : NULL;
}

const struct vdm_cat_gi_profile *vdm_cat_gi_profile(const struct vdm_cat_gpu *g, const char *name)
{
	for (size_t i = 0; g && name && i < g->n_gi_profiles; i++)
		if (!strcmp(g->gi_profiles[i].name, name))
			return &g->gi_profiles[i];
	return NULL;
}

unsigned vdm_cat_type_per_gi(const struct vdm_cat_gpu *g, const struct vdm_cat_type *t)
{
	const struct vdm_cat_gi_profile *p = vdm_cat_gi_profile(g, t->gi_profile);
	if (!p || !t->fb_mib)
		return 0;
	return p->fb_mib / t->fb_mib ? p->fb_mib / t->fb_mib : 1;
}
