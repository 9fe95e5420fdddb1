/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "apply.h"
#include "config.h"

static const char summary[] =
	"Apply changes (if necessary) for a specific vGPU device configuration from a configuration file";

int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct config_flags f = {0};
	const struct opt opts[] = {
		CONFIG_OPT_FILE(&f),
		CONFIG_OPT_LABEL(&f, "The label of the vgpu-config from the config file to apply to the node"),
		CONFIG_OPT_DEBUG(&f),
		CONFIG_OPT_HELP(&f),
		OPT_END,
	};
	int rc = config_parse_flags(c, "apply", opts, argc, argv, &f);
	if (rc) {
		if (rc > 0)
			config_flags_help(stdout, c, "apply", summary, opts);
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	}

	struct vdm_spec *spec;
	const struct vdm_config *cfg;
	if (config_load(c, &f, &spec, &cfg) < 0)
		return EXIT_FAIL;

	struct vdm_host *host = NULL;
	struct vdm_plan *plan = NULL;
	struct vdm_apply_stats st = {0};
	char *err = NULL;
	int status = EXIT_FAIL;

	vdm_dbg(c->ctx, "Checking current vGPU device configuration...");
	if (vdm_host_scan(c->ctx, &host, &err) < 0 ||
	    vdm_plan_build(host, spec, cfg, VDM_PLAN_CHECK, &plan, &err) < 0) {
		cli_fatal(c, "%s", err);
		goto out;
	}
	if (!vdm_plan_applied(plan)) {
		cli_info(c, "Applying vGPU device configuration...");
		if (vdm_apply(host, spec, cfg, plan, &st, &err) < 0) {
			cli_fatal(c, "%s", err);
			goto out;
		}
		vdm_dbg(c->ctx, "removed %u, created %u, kept %u vGPUs", st.removed, st.created, st.kept);
	}
	cli_info(c, "Selected vGPU device configuration successfully applied");
	status = EXIT_OK;
out:
	free(err);
	vdm_plan_free(plan);
	vdm_host_free(host);
	vdm_spec_free(spec);
	return status;
}
