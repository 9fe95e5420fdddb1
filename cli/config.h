/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VGPUDM_CLI_CONFIG_H
#define VGPUDM_CLI_CONFIG_H

#include "cli.h"
#include "spec/spec.h"

struct config_flags {
	const char *file;
	const char *label;
	bool valid_only;
	bool debug;
	bool help;
};

#define CONFIG_OPT_FILE(f) \
	{"config-file", 'f', OPT_STRING, "VGPU_DM_CONFIG_FILE", "FILE", \
	 "Path to the configuration file ('-' reads standard input)", &(f)->file}
#define CONFIG_OPT_LABEL(f, what) \
	{"selected-config", 'c', OPT_STRING, "VGPU_DM_SELECTED_CONFIG", "LABEL", what, &(f)->label}
#define CONFIG_OPT_DEBUG(f) \
	{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &(f)->debug}
#define CONFIG_OPT_HELP(f) {"help", 'h', OPT_BOOL, NULL, NULL, "show help", &(f)->help}
#define OPT_END {NULL, 0, 0, NULL, NULL, NULL, NULL}

/* 0: go on; 1: help was asked (printed by caller); -1: error already reported. */
int config_parse_flags(struct cli *c, const char *cmd, const struct opt *opts, int argc, char **argv,
		       struct config_flags *f);
void config_flags_help(FILE *f, struct cli *c, const char *cmd, const char *usage_line,
		       const struct opt *opts);
/* Read the file and find the selected label; reports errors itself. */
int config_load(struct cli *c, struct config_flags *f, struct vdm_spec **spec,
		const struct vdm_config **cfg);

#endif
