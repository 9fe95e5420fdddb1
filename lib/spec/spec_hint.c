/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a wrong name in a config file probably meant: a sysfs type id for a
 * type name, the closest catalogue type name, the closest key; and the check
 * of type names against the catalogue (vdm_spec_check_types).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "spec.h"
#include "spec_hint.h"

/* "nvidia-232" or "232": the number, else 0. */
static unsigned sysfs_type_id(const char *s)
{
	const char *p = strncmp(s, "nvidia-", 7) ? s : s + 7;
	if (!*p || *p == '0' || strlen(p) > 6 || strspn(p, "0123456789") != strlen(p))
		return 0;
	return (unsigned)strtoul(p, NULL, 10);
}

/* Every catalogue type name, in catalogue order (pointers into it). */
static const char **catalogue_names(size_t *n)
{
	size_t total = 0;
	for (size_t i = 0; i < vdm_cat_gpu_count(); i++)
		total += vdm_cat_gpu_at(i)->n_types;
	const char **names = vdm_xcalloc(total + 1, sizeof(*names));
	*n = 0;
	for (size_t i = 0; i < vdm_cat_gpu_count(); i++) {
		const struct vdm_cat_gpu *g = vdm_cat_gpu_at(i);
		for (size_t t = 0; t < g->n_types; t++)
			names[(*n)++] = g->types[t].name;
	}
	return names;
}

char *spec_type_hint(const char *name, const char *why)
{
	unsigned id = sysfs_type_id(name);
	if (id) {
		char *which = NULL;
		for (size_t i = 0; i < vdm_cat_gpu_count(); i++) {
			const struct vdm_cat_gpu *g = vdm_cat_gpu_at(i);
			const struct vdm_cat_type *t = vdm_cat_gpu_type_by_id(g, id);
			if (!t)
				continue;
			char *more = vdm_strdupf("%s%s%s%s", which ? which : "", which ? " or " : "", t->name,
						 g->ids_simulated ? " (an id vgpu-sim makes up)" : "");
			free(which);
			which = more;
		}
		char *out = which ? vdm_strdupf("it looks like a sysfs vGPU type id (%s is %s); config files "
						"name the type", name, which)
				  : vdm_strdupf("it looks like a sysfs vGPU type id, which config files do not "
						"use: name the type (nvidia-vgpu-dm list shows each type's name "
						"and id)");
		free(which);
		return out;
	}
	size_t n;
	const char **names = catalogue_names(&n);
	char *close = vdm_did_you_mean(name, names, n);
	free(names);
	char *out = vdm_strdupf("%s%s%s", why, close ? "; " : "", close ? close : "");
	free(close);
	return out;
}

char *spec_key_hint(const char *key, const char *const *known, size_t n)
{
	char **q = vdm_xcalloc(n + 1, sizeof(*q));
	for (size_t i = 0; i < n; i++)
		q[i] = vdm_strdupf("'%s'", known[i]);
	char *quoted = vdm_strdupf("'%s'", key);
	char *close = vdm_did_you_mean(quoted, (const char *const *)q, n);
	free(quoted);
	for (size_t i = 0; i < n; i++)
		free(q[i]);
	free(q);
	char *out = close ? vdm_strdupf("; %s", close) : vdm_xstrdup("");
	free(close);
	return out;
}

int vdm_spec_check_types(const struct vdm_spec *spec, const struct vdm_config *cfg, char **err)
{
	for (size_t c = 0; c < spec->n_configs; c++)
		for (size_t e = 0; (!cfg || cfg == &spec->configs[c]) && e < spec->configs[c].n_entries; e++) {
			const struct vdm_entry *en = &spec->configs[c].entries[e];
			for (size_t t = 0; t < en->n_types; t++) {
				const struct vdm_type_count *tc = &en->types[t];
				struct vdm_vgpu_type vt;
				const char *why;
				char base[64];
				if (vdm_vgpu_type_parse(tc->type, &vt, &why) < 0 ||
				    vdm_vgpu_type_base_name(tc->type, base, sizeof(base)) < 0)
					continue; /* the parser refused it already */
				const struct vdm_cat_gpu *g = vdm_cat_gpu_by_model(vt.gpu);
				if (!g || vdm_cat_gpu_type(g, tc->type) || vdm_cat_gpu_type(g, base))
					continue; /* a model the catalogue does not know: the host decides */
				const char **names = vdm_xcalloc(g->n_types + 1, sizeof(*names));
				for (size_t k = 0; k < g->n_types; k++)
					names[k] = g->types[k].name;
				char *close = vdm_did_you_mean(tc->type, names, g->n_types);
				free(names);
				*err = vdm_strdupf("%s:%d:%d: vGPU type '%s' is not a %s type in the catalogue%s%s",
						   spec->source, tc->pos.line, tc->pos.col, tc->type, g->model,
						   close ? "; " : "", close ? close : "");
				free(close);
				return -EINVAL;
			}
		}
	return 0;
}
