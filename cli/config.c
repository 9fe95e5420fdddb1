/* SPDX-License-Identifier: Apache-2.0 */
/* What apply and assert share: their flags, reading the file, picking the label. */
#include <stdlib.h>
#include <string.h>

#include "config.h"

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

/* "a, b, c" or "a, b, ... (711 labels)": the labels of a file, for an error. */
static char *labels_of(const struct vdm_spec *s)
{
	const size_t shown = 12;
	char *out = vdm_xstrdup("");
	for (size_t i = 0; i < s->n_configs && i < shown; i++) {
		char *q = cli_quote(s->configs[i].label);
		char *more = vdm_strdupf("%s%s%s", out, i ? ", " : "", q);
		free(q);
		free(out);
		out = more;
	}
	if (s->n_configs > shown) {
		char *more = vdm_strdupf("%s, ... (%zu labels)", out, s->n_configs);
		free(out);
		out = more;
	}
	return out;
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
		char *have = labels_of(*spec);
		char *q = cli_quote(label);
		cli_fatal(c, "error selecting VGPU config: selected vgpu-config not present: %s; %s has: %s",
			  q, (*spec)->source, have);
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
