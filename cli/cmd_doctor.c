/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor: run the vGPU checklist (host or guest) and print it as a table or
 * JSON. Exit 0 when nothing fails, 1 when a check fails, 2 when doctor
 * itself could not run (bad usage, unreadable root, host/guest not known).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "doctor/doctor.h"

#define EXIT_DOCTOR_ERROR 2

static const char summary[] = "Check this hypervisor or VM for what keeps vGPUs from working, and say what to do";

int cmd_doctor(struct cli *c, int argc, char **argv)
{
	bool host = false, guest = false, json = false, help = false, debug = false;
	const char *file = NULL, *label = NULL, *cuda = NULL;
	const struct opt opts[] = {
		{"host", 0, OPT_BOOL, NULL, NULL, "Run the hypervisor checks (default: detect)", &host},
		{"guest", 0, OPT_BOOL, NULL, NULL, "Run the checks inside a VM (default: detect)", &guest},
		{"config-file", 'f', OPT_STRING, NULL, "FILE",
		 "On a host: also check that this layout can be applied here, and whether it is", &file},
		{"selected-config", 'c', OPT_STRING, NULL, "LABEL", "The label of the layout in FILE", &label},
		{"cuda", 0, OPT_STRING, NULL, "N", "In a VM: the CUDA major version the workloads need (11, 12, 13)",
		 &cuda},
		{"json", 0, OPT_BOOL, NULL, NULL, "Print the checks as a JSON array", &json},
		{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &debug},
		{"help", 'h', OPT_BOOL, NULL, NULL, "show help", &help},
		OPT_END,
	};
	int rc = cmd_start(c, "doctor", "[--host|--guest] [-f FILE [-c LABEL]] [--cuda N] [--json]", summary, opts,
			   argc, argv, &help, &debug);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_DOCTOR_ERROR;
	if (host && guest) {
		cli_fatal(c, "--host and --guest exclude each other (see '%s doctor --help')", c->prog);
		return EXIT_DOCTOR_ERROR;
	}
	struct vdm_doctor_opts o = {.mode = host ? VDM_DOCTOR_HOST : guest ? VDM_DOCTOR_GUEST : VDM_DOCTOR_AUTO};
	if (cuda) {
		const char *end = cuda;
		long v = 0;
		if (vdm_parse_long_prefix(cuda, &end, 10, 1, 1000, &v) < 0 || (*end && *end != '.') ||
		    !vdm_cuda_min_driver((int)v)) {
			cli_fatal(c, "invalid value \"%s\" for --cuda: a CUDA major version from %d to %d", cuda,
				  vdm_cuda_major_min(), vdm_cuda_major_max());
			return EXIT_DOCTOR_ERROR;
		}
		o.cuda_major = (int)v;
	}
	if (label && !file) {
		cli_fatal(c, "-c goes with -f (see '%s doctor --help')", c->prog);
		return EXIT_DOCTOR_ERROR;
	}
	struct vdm_spec *spec = NULL;
	if (file) {
		if (guest) {
			cli_fatal(c, "-f checks a layout on a host; it does not go with --guest");
			return EXIT_DOCTOR_ERROR;
		}
		struct config_flags f = {.file = file, .label = label};
		if (config_load(c, &f, &spec, &o.cfg) < 0)
			return EXIT_DOCTOR_ERROR;
		o.spec = spec;
	}

	struct vdm_doctor *d;
	char *err = NULL;
	if (vdm_doctor_run(c->ctx, &o, &d, &err) < 0) {
		cli_fatal(c, "%s", err);
		free(err);
		vdm_spec_free(spec);
		return EXIT_DOCTOR_ERROR;
	}
	int status = EXIT_OK;
	if (file && d->mode != VDM_DOCTOR_HOST) {
		cli_fatal(c, "-f checks a layout on a host, and this is a guest (%s); run it on the hypervisor",
			  d->mode_why);
		status = EXIT_DOCTOR_ERROR;
	} else if (json) {
		struct json_object *a = vdm_doctor_json(d);
		puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
	} else {
		/* On a terminal: colour (unless NO_COLOR) and lines wrapped to
		 * its width; piped: one line per entry, for grep. */
		const char *nc = getenv("NO_COLOR");
		bool tty = isatty(STDOUT_FILENO);
		struct winsize ws;
		unsigned width = tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60 ? ws.ws_col : 0;
		vdm_doctor_print(stdout, d, tty && !(nc && *nc), width);
	}
	if (status == EXIT_OK && vdm_doctor_failed(d))
		status = EXIT_FAIL;
	vdm_doctor_free(d);
	vdm_spec_free(spec);
	return status;
}
