/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vgpu-sim: mounts a FUSE tree that looks like the sysfs of an NVIDIA vGPU
 * host (mdev framework).  See sim/README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "sim.h"

#ifndef VGPU_SIM_VERSION
#define VGPU_SIM_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2
#define MAX_COPIES 256

struct options {
	struct ptrvec models; /* const struct sim_model_spec * */
	const char *mountpoint;
	bool foreground;
	bool debug;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vgpu-sim [OPTIONS] MOUNTPOINT\n"
		"Mount a simulated NVIDIA vGPU host sysfs (mdev framework) at MOUNTPOINT.\n"
		"The mount looks like a host's /: MOUNTPOINT/sys/... The command returns once\n"
		"the tree is usable; stop it with: fusermount3 -u MOUNTPOINT\n"
		"\n"
		"Options:\n"
		"  -g, --gpu MODEL       add a GPU; repeatable; NxMODEL adds N copies (e.g. 2xT4).\n"
		"                        Default when no --gpu is given: --gpu T4 --gpu T4\n"
		"      --framework NAME  vGPU framework to simulate; only \"mdev\" (the default)\n"
		"  -f, --foreground      stay in the foreground\n"
		"  -d, --debug           print every FUSE operation to stderr (implies -f)\n"
		"  -h, --help            show this help and exit\n"
		"  -V, --version         show the version and exit\n"
		"\n"
		"Models:\n");
	for (size_t i = 0; i < sim_catalogue_count(); i++) {
		const struct sim_model_spec *m = sim_catalogue_get(i);
		fprintf(out, "  %-6s %s, 0x%04x, %u GB", m->prefix, m->marketing, m->device_id, m->fb_gb);
		if (m->gpus_per_board > 1)
			fprintf(out, ", board of %u GPUs behind a PCIe switch", m->gpus_per_board);
		if (m->num_vfs)
			fprintf(out, ", SR-IOV: %u VFs per GPU are the mdev parents\n", m->num_vfs);
		else
			fprintf(out, ", the PF is the mdev parent\n");
	}
	fprintf(out,
		"\n"
		"Control files (their accesses are not counted):\n"
		"  MOUNTPOINT/.vgpu-sim/counters  operation counters; write \"reset\" to zero them\n"
		"  MOUNTPOINT/.vgpu-sim/faults    write \"create N ERRNO\" or \"remove N ERRNO\": the Nth\n"
		"                                 such write from now fails; \"clear\" clears\n"
		"  MOUNTPOINT/.vgpu-sim/info      the simulated GPUs\n");
}

static int add_models(struct options *o, const char *arg)
{
	const char *name = arg;
	unsigned long copies = 1;

	if (isdigit((unsigned char)arg[0])) {
		char *end;
		copies = strtoul(arg, &end, 10);
		if ((*end != 'x' && *end != 'X') || copies == 0 || copies > MAX_COPIES) {
			fprintf(stderr, "vgpu-sim: bad GPU count in '%s' (use NxMODEL, 1 <= N <= %d)\n", arg,
				MAX_COPIES);
			return -1;
		}
		name = end + 1;
	}
	const struct sim_model_spec *m = sim_catalogue_find(name);
	if (!m) {
		fprintf(stderr, "vgpu-sim: unknown GPU model '%s' (known:", name);
		for (size_t i = 0; i < sim_catalogue_count(); i++)
			fprintf(stderr, " %s", sim_catalogue_get(i)->prefix);
		fprintf(stderr, ")\n");
		return -1;
	}
	for (unsigned long i = 0; i < copies; i++)
		pv_push(&o->models, (void *)m);
	return 0;
}

/* Returns -1 to continue, else the exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "gpu", required_argument, NULL, 'g' },
		{ "framework", required_argument, NULL, 'F' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":g:fdhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (add_models(o, optarg))
				return EXIT_USAGE;
			break;
		case 'F':
			if (strcmp(optarg, "mdev") != 0) {
				fprintf(stderr, "vgpu-sim: unknown framework '%s' (supported: mdev)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			o->debug = o->foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vgpu-sim %s\n", VGPU_SIM_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "vgpu-sim: option '%s' needs an argument (see --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "vgpu-sim: unknown option '%s' (see --help)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vgpu-sim: missing MOUNTPOINT (see --help)\n");
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "vgpu-sim: unexpected argument '%s' (see --help)\n", argv[optind + 1]);
		return EXIT_USAGE;
	}
	o->mountpoint = argv[optind];
	struct stat st;
	int err = stat(o->mountpoint, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (err) {
		fprintf(stderr, "vgpu-sim: mountpoint '%s': %s\n", o->mountpoint, strerror(err));
		return EXIT_USAGE;
	}
	if (o->models.n == 0) {
		add_models(o, "T4");
		add_models(o, "T4");
	}
	return -1;
}

static int serve(struct sim *s, const struct options *o, const char *argv0)
{
	char *fargv[] = { (char *)argv0, "-o", "fsname=vgpu-sim,subtype=vgpu-sim", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se = fuse_session_new(&args, &sim_fs_ops, sizeof(sim_fs_ops), s);
	int rc = 1;

	fuse_opt_free_args(&args);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, o->mountpoint) != 0)
		goto out_signals;
	/* the mount is up: only now let the parent return */
	if (fuse_daemonize(o->foreground) != 0)
		goto out_unmount;
	rc = fuse_session_loop(se);
	rc = rc < 0 ? 1 : 0; /* > 0: ended by a signal */
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	int rc = parse_args(argc, argv, &o);

	if (rc >= 0) {
		pv_free(&o.models);
		return rc;
	}
	struct sim *s = xmalloc(sizeof(*s));
	rc = sim_init(s, (const struct sim_model_spec *const *)o.models.v, o.models.n, o.debug);
	pv_free(&o.models);
	rc = rc == 0 ? serve(s, &o, argv[0]) : 1;
	sim_fini(s);
	free(s);
	return rc;
}
