/* SPDX-License-Identifier: Apache-2.0 */
/* What apply and assert share: their flags, reading the file, picking the label. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "apply/apply.h"

void config_flags_help(FILE *f, struct cli *c, const char *cmd, const char *usage_line,
		       const struct opt *opts)
{
	fprintf(f, "NAME:\n   %s %s - %s\n\nUSAGE:\n   %s %s %s\n\nOPTIONS:\n", c->prog, cmd,
		usage_line, c->prog, cmd, "[command options] [arguments...]");
	opts_help(f, opts); /* --help is among opts */
}

int config_parse_flags(struct cli *c, const char *cmd, const struct opt *opts, int argc, char **argv,
		       struct config_flags *f)
{
	int i = opts_parse(c, cmd, opts, argc - 1, argv + 1);
	if (i < 0)
		return -1;
	if (f->debug)
		vdm_ctx_set_log(c->ctx, VDM_LOG_DEBUG, cli_log, c);
	if (f->help)
		return 1;
	if (i + 1 < argc) {
		cli_fatal(c, "unexpected argument '%s' (see '%s %s --help')", argv[i + 1], c->prog, cmd);
		return -1;
	}
	if (!f->file || !*f->file) {
		cli_fatal(c, "missing required flags 'config-file' (see '%s %s --help')", c->prog, cmd);
		return -1;
	}
	return 0;
}

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

/* Why a label is not there, for the error after "not present: LABEL": the
 * labels closest by edit distance ("did you mean T4-4Q?"), then the file's
 * labels, those that lay out a GPU of this host first (up to 12 shown). */
static char *labels_hint(struct cli *c, const struct vdm_spec *s, const char *label)
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
	struct vdm_host *h = NULL;
	char *err = NULL;
	char *why = vdm_root_problem(c->ctx);
	if (!why && vdm_host_scan(c->ctx, &h, &err) < 0)
		h = NULL;
	free(why);
	free(err);
	bool *here = calloc(s->n_configs ? s->n_configs : 1, sizeof(*here));
	size_t n_here = 0;
	for (size_t i = 0; here && h && i < s->n_configs; i++)
		if ((here[i] = selects_host_gpu(&s->configs[i], h)))
			n_here++;
	vdm_host_free(h);
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

int config_load(struct cli *c, struct config_flags *f, struct vdm_spec **spec,
		const struct vdm_config **cfg)
{
	char *err = NULL;
	vdm_dbg(c->ctx, "Parsing config file...");
	*spec = vdm_spec_load(f->file, &err);
	if (!*spec) {
		cli_fatal(c, "error parsing config file: %s", err);
		free(err);
		return -1;
	}
	vdm_dbg(c->ctx, "Selecting specific vGPU config...");
	const char *label = f->label && *f->label ? f->label : NULL;
	if (!label) {
		if ((*spec)->n_configs > 1) {
			cli_fatal(c, "error selecting VGPU config: missing required flag 'selected-config' "
				  "when more than one config available");
			goto fail;
		}
		label = (*spec)->configs[0].label;
	}
	*cfg = vdm_spec_find(*spec, label);
	if (!*cfg) {
		/* The label is the user's: shown quoted and escaped (a newline in it
		 * cannot make a second log line), with the labels the file has. */
		char *have = labels_hint(c, *spec, label);
		char *q = vdm_quote(label);
		cli_fatal(c, "error selecting VGPU config: selected vgpu-config not present: %s; %s",
			  q, have);
		free(q);
		free(have);
		goto fail;
	}
	return 0;
fail:
	vdm_spec_free(*spec);
	*spec = NULL;
	return -1;
}
