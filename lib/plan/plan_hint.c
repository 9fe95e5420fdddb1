/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What to say when the selected label is not in the file: the labels it
 * probably meant and the ones the file has, those for this host's GPUs
 * first. Shared by the CLI's -c error and the agent's UnknownConfig Event.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"

/* Does a configuration lay out a GPU this host has: an entry selects it and
 * every type it names is of that GPU's model? (A label for another host's
 * GPUs is noise in a "not present" message.) */
static bool selects_host_gpu(const struct vdm_config *cfg, const struct vdm_host *h)
{
	for (size_t e = 0; e < cfg->n_entries; e++) {
		const struct vdm_entry *en = &cfg->entries[e];
		for (size_t i = 0; h && i < h->n_gpus; i++) {
			const struct vdm_gpu *g = &h->gpus[i];
			if (!vdm_entry_selects(en, g->index, &g->id))
				continue;
			bool fits = true;
			for (size_t t = 0; t < en->n_types && fits; t++) {
				struct vdm_vgpu_type vt;
				const char *why;
				fits = vdm_vgpu_type_parse(en->types[t].type, &vt, &why) == 0 &&
				       (!g->model[0] || !strcmp(vt.gpu, g->model));
			}
			if (fits)
				return true;
		}
	}
	return false;
}

static void append(char **out, const char *sep, const char *s)
{
	char *more = vdm_strdupf("%s%s%s", *out, **out ? sep : "", s);
	free(*out);
	*out = more;
}

char *vdm_labels_hint(const struct vdm_spec *s, const char *label, const struct vdm_host *h)
{
	const size_t shown = 12;
	/* Quoted: a label holding a newline must not make a second log line. */
	char **names = vdm_xcalloc(s->n_configs + 1, sizeof(*names));
	for (size_t i = 0; i < s->n_configs; i++)
		names[i] = vdm_quote(s->configs[i].label);
	char *close = vdm_did_you_mean(label, (const char *const *)names, s->n_configs);
	for (size_t i = 0; i < s->n_configs; i++)
		free(names[i]);
	free(names);
	char *out = close ? vdm_strdupf("%s ", close) : vdm_xstrdup("");
	free(close);
	bool *here = vdm_xcalloc(s->n_configs ? s->n_configs : 1, sizeof(*here));
	size_t n_here = 0;
	for (size_t i = 0; h && i < s->n_configs; i++)
		if ((here[i] = selects_host_gpu(&s->configs[i], h)))
			n_here++;
	if (n_here == s->n_configs)
		n_here = 0; /* every label is for this host: file order */
	char *list = vdm_xstrdup("");
	size_t n = 0;
	for (int pass = n_here ? 0 : 1; pass < 2; pass++) {
		if (pass == 1 && n_here && n_here < s->n_configs && n < shown)
			append(&list, "; ", "others:");
		for (size_t i = 0; i < s->n_configs && n < shown; i++) {
			if (n_here && here[i] != (pass == 0))
				continue;
			char *q = vdm_quote(s->configs[i].label);
			append(&list, (pass == 1 && n_here && list[strlen(list) - 1] == ':') ? " " : ", ", q);
			free(q);
			n++;
		}
	}
	free(here);
	if (s->n_configs > shown) {
		char *total = vdm_strdupf(", ... (%zu labels)", s->n_configs);
		append(&list, "", total);
		free(total);
	}
	char *more = vdm_strdupf("%s%s has%s: %s", out, s->source,
				 n_here ? ", for this host's GPUs" : "", list);
	free(list);
	free(out);
	return more;
}
