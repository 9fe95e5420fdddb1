/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "config.h"
#include "apply/apply.h"

static const char summary[] =
	"Assert that a specific vGPU device configuration is currently applied to the node";

int cmd_assert(struct cli *c, int argc, char **argv)
{
	struct config_flags f = {0};
	const struct opt opts[] = {
		CONFIG_OPT_FILE(&f),
		CONFIG_OPT_LABEL(&f, "The name of the vgpu-config from the config file to assert is "
				     "applied to the node"),
		{"valid-config", 'a', OPT_BOOL, "VGPU_DM_VALID_CONFIG", NULL,
		 "Only assert that the config file is valid and the selected config is present in it",
		 &f.valid_only},
		CONFIG_OPT_DEBUG(&f),
		CONFIG_OPT_HELP(&f),
		OPT_END,
	};
	int rc = config_parse_flags(c, "assert", opts, argc, argv, &f);
	if (rc) {
		if (rc > 0)
			config_flags_help(stdout, c, "assert", summary, opts);
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	}

	struct vdm_spec *spec;
	const struct vdm_config *cfg;
	if (config_load(c, &f, &spec, &cfg) < 0)
		return EXIT_FAIL;
	if (f.valid_only) {
		cli_info(c, "Selected vGPU device configuration is valid");
		vdm_spec_free(spec);
		return EXIT_OK;
	}

	struct vdm_run_result r;
	int status = vdm_run_assert(c->ctx, spec, cfg, &r);
	if (r.message && r.host_error) /* not a mismatch: say why without -d */
		vdm_err(c->ctx, "%s", r.message);
	else if (r.message)
		vdm_dbg(c->ctx, "%s", r.message);
	vdm_run_result_free(&r);
	vdm_spec_free(spec);
	if (status != VDM_RUN_OK) {
		cli_fatal(c, "Assertion failure: selected configuration not currently applied");
		return EXIT_FAIL;
	}
	cli_info(c, "Selected vGPU device configuration is currently applied");
	return EXIT_OK;
}
