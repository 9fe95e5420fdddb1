/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia-vgpu-dm: the command table and global options. Each command is a row
 * here and a cmd_<name> function in its own file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply/apply.h"
#include "cli.h"

static const struct command commands[] = {
	{"apply", cmd_apply,
	 "Apply changes (if necessary) for a specific vGPU device configuration from a configuration file"},
	{"assert", cmd_assert,
	 "Assert that a specific vGPU device configuration is currently applied to the node"},
	{"list", cmd_list, "List GPUs, the vGPU types they offer with free capacity, and existing vGPUs"},
	{"export", cmd_export, "Print the host's current vGPU layout as a configuration file"},
	{"plan", cmd_plan, "Size vGPUs for a workload and print the configuration file that lays them out"},
	{"doctor", cmd_doctor, "Check this hypervisor or VM for what keeps vGPUs from working, and say what to do"},
	{"capture", cmd_capture,
	 "Record this host read-only into one tarball, for a bug report or vgpu-sim --replay"},
	{NULL, NULL, NULL},
};

static struct timespec start_time;

static long elapsed_secs(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return cli_elapsed_secs(&start_time, &now);
}

/* One log line. Control characters in the message (which may carry names
 * from the command line, a config file or the host) are written escaped, so
 * a message is always exactly one line. */
static void emit(const char *lvl, const char *msg)
{
	fprintf(stderr, "%s[%04ld] ", lvl, elapsed_secs());
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stderr);
		else if (*p < ' ' && *p != '\t')
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

void cli_log(struct vdm_ctx *ctx, int prio, const char *msg, void *userdata)
{
	(void)ctx;
	(void)userdata;
	const char *lvl = prio <= VDM_LOG_ERR ? "ERRO" : prio == VDM_LOG_WARN ? "WARN"
					       : prio <= VDM_LOG_INFO ? "INFO" : "DEBU";
	emit(lvl, msg);
}

static void vlog_as(const char *lvl, const char *fmt, va_list ap)
{
	char *msg = vdm_vstrdupf(fmt, ap);
	emit(lvl, msg);
	free(msg);
}

void cli_fatal(struct cli *c, const char *fmt, ...)
{
	(void)c;
	va_list ap;
	va_start(ap, fmt);
	vlog_as("FATA", fmt, ap);
	va_end(ap);
}

void cli_info(struct cli *c, const char *fmt, ...)
{
	(void)c;
	va_list ap;
	va_start(ap, fmt);
	vlog_as("INFO", fmt, ap);
	va_end(ap);
}

static void usage(FILE *f, const char *prog, const struct opt *opts)
{
	fprintf(f, "NAME:\n   %s - Manage NVIDIA vGPU devices\n\n", prog);
	fprintf(f, "USAGE:\n   %s [global options] command [command options] [arguments...]\n\n", prog);
	fprintf(f, "VERSION:\n   %s\n\nCOMMANDS:\n", VGPUDM_VERSION);
	for (const struct command *cmd = commands; cmd->name; cmd++)
		fprintf(f, "   %-8s %s\n", cmd->name, cmd->summary);
	fprintf(f, "   %-8s %s\n", "help", "Shows a list of commands or help for one command");
	fprintf(f, "\nGLOBAL OPTIONS:\n");
	opts_help(f, opts); /* lists --help and --version, which are among opts */
}

static const struct command *find_command(const char *name)
{
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

/* The user's word, quoted as upstream does ('bogus'), escaped when it has to be. */
static int unknown_command(struct cli *c, const char *name)
{
	char *q = vdm_quote(name);
	const char *mark = q[0] == '"' ? "" : "'";
	fprintf(stderr, "No help topic for %s%s%s\n", mark, q, mark);
	cli_fatal(c, "unknown command %s%s%s (see '%s --help')", mark, q, mark, c->prog);
	free(q);
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct cli c = {.prog = "nvidia-vgpu-dm"};
	const char *root = NULL;
	bool help = false, version = false;
	const struct opt opts[] = {
		{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &c.debug},
		{"sysfs-root", 0, OPT_STRING, "VGPU_DM_SYSFS_ROOT", "DIR",
		 "Directory the host's /sys is found under (default: /)", &root},
		{"help", 'h', OPT_BOOL, NULL, NULL, "show help", &help},
		{"version", 'v', OPT_BOOL, NULL, NULL, "print the version", &version},
		{NULL, 0, 0, NULL, NULL, NULL, NULL},
	};

	clock_gettime(CLOCK_MONOTONIC, &start_time);
	int i = opts_parse(&c, "", opts, argc - 1, argv + 1);
	if (i < 0)
		return EXIT_FAIL;
	i++;
	if (version) {
		printf("%s version %s\n", c.prog, VGPUDM_VERSION);
		return EXIT_OK;
	}
	if (help || i >= argc) {
		usage(stdout, c.prog, opts);
		return EXIT_OK;
	}
	const char *name = argv[i];
	if (!strcmp(name, "help") || !strcmp(name, "h")) {
		if (i + 1 < argc && find_command(argv[i + 1])) {
			char *hargv[] = {argv[i + 1], "--help", NULL};
			return find_command(argv[i + 1])->fn(&c, 2, hargv);
		}
		if (i + 1 < argc) {
			return unknown_command(&c, argv[i + 1]);
		}
		usage(stdout, c.prog, opts);
		return EXIT_OK;
	}
	const struct command *cmd = find_command(name);
	if (!cmd) {
		return unknown_command(&c, name);
	}
	/* In a pod with the host's / at /host (or $HOST_ROOT_MOUNT) and a
	 * driver root, the same roots as the agent: one lock, one journal. */
	struct vdm_roots roots = {.sysfs_root = root};
	char *err = NULL;
	if (vdm_ctx_open(&c.ctx, &roots, &err) < 0) {
		cli_fatal(&c, "%s", err);
		free(err);
		return EXIT_FAIL;
	}
	vdm_ctx_set_log(c.ctx, c.debug ? VDM_LOG_DEBUG : VDM_LOG_INFO, cli_log, &c);
	if (c.debug) {
		char *where = vdm_run_describe(c.ctx);
		vdm_dbg(c.ctx, "host: %s", where);
		free(where);
	}
	int rc = cmd->fn(&c, argc - i, argv + i);
	vdm_ctx_free(c.ctx);
	return rc;
}
