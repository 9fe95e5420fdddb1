/* SPDX-License-Identifier: Apache-2.0 */
/* export: print the host's current layout as a config file apply accepts. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "report/report.h"
#include "host/host.h"
#include "apply/apply.h"
#include "spec/spec.h"

int cmd_export(struct cli *c, int argc, char **argv)
{
	bool json = false, help = false, debug = false;
	const char *label = VDM_EXPORT_LABEL;
	const struct opt opts[] = {
		{"json", 0, OPT_BOOL, NULL, NULL, "Print the config as JSON (which is also YAML)", &json},
		{"label", 'l', OPT_STRING, NULL, "LABEL",
		 "Label of the exported configuration (default: " VDM_EXPORT_LABEL ")", &label},
		{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &debug},
		{"help", 'h', OPT_BOOL, NULL, NULL, "show help", &help},
		OPT_END,
	};
	int rc = cmd_start(c, "export", "[--json] [-l LABEL]",
			   "Print the host's current vGPU layout as a configuration file", opts, argc,
			   argv, &help, &debug);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (!label || !*label) {
		cli_fatal(c, "export: the label must not be empty");
		return EXIT_FAIL;
	}

	struct vdm_host *h;
	char *err = vdm_root_problem(c->ctx);
	if (err || vdm_host_scan(c->ctx, &h, &err) < 0) {
		cli_fatal(c, "%s", err);
		free(err);
		return EXIT_FAIL;
	}
	cli_note_pending(c, h, true);
	char *text = NULL;
	struct json_object *o = NULL;
	if (json) {
		o = vdm_json_export(h, label, &err);
		if (o)
			text = vdm_strdupf("%s\n", json_object_to_json_string_ext(
							 o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		text = vdm_export_yaml(h, label, &err);
	}
	json_object_put(o);
	vdm_host_free(h);
	if (!text) {
		cli_fatal(c, "export: %s", err);
		free(err);
		return EXIT_FAIL;
	}

	/* Promise kept: what is printed is a config the parser accepts, with the label. */
	struct vdm_spec *spec = vdm_spec_parse("<export>", text, strlen(text), &err);
	if (!spec || !vdm_spec_find(spec, label)) {
		cli_fatal(c, "export: the generated config does not parse: %s", err ? err : "label missing");
		free(err);
		vdm_spec_free(spec);
		free(text);
		return EXIT_FAIL;
	}
	vdm_spec_free(spec);
	fputs(text, stdout);
	free(text);
	return EXIT_OK;
}
