/* SPDX-License-Identifier: Apache-2.0 */
/* capture: record the host read-only into one tarball for a bug report or
 * `vgpu-sim --replay` (the collecting is report/capture.h's). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "apply/apply.h"
#include "report/report.h"

static bool parse_positive(const char *s, unsigned long max, unsigned long *out)
{
	long v;
	if (vdm_parse_long(s, 10, 1, (long)max, &v) < 0)
		return false;
	*out = (unsigned long)v;
	return true;
}

/* "64", "64M", "512K", "1G": bytes (a plain number is MiB), 4 KiB .. 4 GiB. */
static bool parse_size(const char *s, size_t *out)
{
	char num[32];
	size_t n = strlen(s), shift = 20;
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n + 1);
	char u = num[n - 1];
	if (u == 'K' || u == 'k' || u == 'M' || u == 'm' || u == 'G' || u == 'g') {
		shift = u == 'K' || u == 'k' ? 10 : u == 'G' || u == 'g' ? 30 : 20;
		num[n - 1] = '\0';
	}
	long v;
	if (vdm_parse_long(num, 10, 1, 1L << (42 - shift), &v) < 0)
		return false;
	*out = (size_t)v << shift;
	return *out >= 4096 && *out <= (size_t)4 << 30;
}

/* The default output: nvidia-vgpu-dm-capture-<UTC time>.tar.gz here. */
static char *default_name(void)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
	return vdm_strdupf("nvidia-vgpu-dm-capture-%s.tar.gz", when);
}

int cmd_capture(struct cli *c, int argc, char **argv)
{
	bool help = false, debug = false, redact = false;
	const char *output = NULL, *timeout = "120", *max_size = "64M";
	const struct opt opts[] = {
		{"output", 'o', OPT_STRING, NULL, "TARBALL",
		 "Write the capture to FILE (default: nvidia-vgpu-dm-capture-<UTC time>.tar.gz; - is stdout)", &output},
		{"redact", 0, OPT_BOOL, NULL, NULL, "Replace host names, VM names and UUIDs (consistently)", &redact},
		{"timeout", 0, OPT_STRING, NULL, "SECONDS", "Stop collecting after SECONDS (default: 120)", &timeout},
		{"max-size", 0, OPT_STRING, NULL, "SIZE",
		 "Collect at most SIZE bytes of files and command output (K, M, G suffixes; a plain number is MiB; default: 64M)",
		 &max_size},
		{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &debug},
		{"help", 'h', OPT_BOOL, NULL, NULL, "show help", &help},
		OPT_END,
	};
	int rc = cmd_start(c, "capture", "[-o TARBALL] [--redact] [--timeout SECONDS] [--max-size SIZE]",
			   "Record this host's GPUs, vGPU types, vGPUs and NVML answers into one tarball, "
			   "read-only (for a bug report or vgpu-sim --replay)",
			   opts, argc, argv, &help, &debug);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	unsigned long secs;
	size_t bytes;
	if (!parse_positive(timeout, 86400, &secs) || !parse_size(max_size, &bytes)) {
		cli_fatal(c, "capture: --timeout must be 1..86400 seconds and --max-size 4K..4G (got %s, %s)",
			  timeout, max_size);
		return EXIT_FAIL;
	}
	char *err = vdm_root_problem(c->ctx);
	if (err) {
		cli_fatal(c, "%s", err);
		free(err);
		return EXIT_FAIL;
	}
	bool to_stdout = output && !strcmp(output, "-");
	if (to_stdout && isatty(STDOUT_FILENO)) {
		cli_fatal(c, "capture: not writing a tarball to a terminal (use -o FILE, or redirect)");
		return EXIT_FAIL;
	}
	char *name = output ? vdm_xstrdup(output) : default_name();
	char *tmp = vdm_strdupf("%s.tmp.%ld", name, (long)getpid());
	int fd = to_stdout ? STDOUT_FILENO : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_fatal(c, "capture: cannot write %s: %s", name, strerror(errno));
		free(name);
		free(tmp);
		return EXIT_FAIL;
	}
	struct vdm_capture_opts o = {
		.redact = redact, .max_seconds = (unsigned)secs, .max_bytes = bytes,
		.tool_version = VGPUDM_VERSION,
	};
	struct vdm_capture_result r;
	rc = vdm_capture(c->ctx, &o, fd, &r, &err);
	if (!to_stdout) {
		if (close(fd) < 0 && rc == 0) {
			err = vdm_strdupf("%s: %s", tmp, strerror(errno));
			rc = -EIO;
		}
		if (rc == 0 && rename(tmp, name) < 0) {
			err = vdm_strdupf("%s: %s", name, strerror(errno));
			rc = -EIO;
		}
		if (rc)
			unlink(tmp);
	}
	if (rc) {
		cli_fatal(c, "capture: %s", err);
		free(err);
	} else {
		for (size_t i = 0; i < r.n_notes; i++)
			vdm_warn(c->ctx, "capture: %s", r.notes[i]);
		cli_info(c, "Capture of %zu GPU%s (%zu files, directories and links, %zu bytes%s%s) written to %s",
			 r.gpus, r.gpus == 1 ? "" : "s", r.entries, r.bytes, redact ? ", redacted" : "",
			 r.complete ? "" : ", INCOMPLETE", to_stdout ? "standard output" : name);
		vdm_capture_result_free(&r);
	}
	free(name);
	free(tmp);
	return rc ? EXIT_FAIL : EXIT_OK;
}
