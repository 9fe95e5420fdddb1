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
		char *have = vdm_run_labels_hint(c->ctx, *spec, label);
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
