/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vgpu-sim: mounts a FUSE tree that looks like the sysfs of an NVIDIA vGPU
 * host (mdev or vendor-specific VFIO framework).  See sim/README.md.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "sim.h"

#ifndef VGPU_SIM_VERSION
#define VGPU_SIM_VERSION "0.1.0"
#endif
/* Where `meson install` puts the stand-ins (LIBEXECDIR/vgpu-sim). */
#ifndef VGPU_SIM_STANDIN_DIR
#define VGPU_SIM_STANDIN_DIR "/usr/local/libexec/vgpu-sim"
#endif

#define EXIT_USAGE 2
#define MAX_COPIES 256

#define FW_DEFAULT (-1) /* framework not given with the GPU: --framework decides */

struct options {
	struct sim_gpu_req *reqs;
	int *explicit_fw;     /* per request: enum sim_framework or FW_DEFAULT */
	size_t nreqs, cap;
	enum sim_framework framework;
	const char *mountpoint;
	bool foreground;
	struct sim_opts sim;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vgpu-sim [OPTIONS] MOUNTPOINT\n"
		"       eval \"$(vgpu-sim --env MOUNTPOINT)\"\n"
		"Mount a simulated NVIDIA vGPU host sysfs (mdev or vendor-specific VFIO framework)\n"
		"at MOUNTPOINT. The mount looks like a host's /: MOUNTPOINT/sys/... The command\n"
		"returns once the tree is usable; stop it with: fusermount3 -u MOUNTPOINT\n"
		"\n"
		"Options:\n"
		"  -g, --gpu MODEL[:FW]  add a GPU; repeatable; NxMODEL adds N copies (e.g. 2xT4);\n"
		"                        FW is mdev or vfio for this GPU (e.g. L40S:vfio).\n"
		"                        Default when no --gpu is given: --gpu T4 --gpu T4\n"
		"      --framework FW    framework of GPUs given without :FW: \"mdev\" (the default)\n"
		"                        or \"vfio\" (vendor-specific VFIO, kernel >= 6.8, vGPU 17+;\n"
		"                        SR-IOV GPUs only)\n"
		"      --mixed-size      SR-IOV GPUs start in mixed-size mode (default: equal-size)\n"
		"      --vfs-disabled    SR-IOV GPUs start with no VFs (sriov_numvfs 0); enable them\n"
		"                        by writing sriov_numvfs or with sim/sriov-manage\n"
		"      --list-models     print each GPU model and its frameworks, one a line\n"
		"                        (\"A10 mdev vfio\"), and exit\n"
		"      --env             print, for the vgpu-sim mount at MOUNTPOINT, the shell\n"
		"                        lines that point nvidia-vgpu-dm and the stand-ins at it\n"
		"                        (VGPU_DM_SYSFS_ROOT, VGPU_SIM_ROOT, VGPU_DM_NVML_LIBRARY,\n"
		"                        VGPU_DM_TOOLS_DIR), and exit:\n"
		"                        eval \"$(vgpu-sim --env MOUNTPOINT)\"\n"
		"      --display-mode    vfio GPUs are in display mode: their VFs list no vGPU type\n"
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
			fprintf(out, ", SR-IOV: %u VFs per GPU, mdev or vfio", m->num_vfs);
		else
			fprintf(out, ", the PF is the mdev parent (mdev only)");
		if (m->ngi_profiles)
			fprintf(out, ", MIG (%zu GI profiles%s)", m->ngi_profiles,
				m->mig_reset ? ", mode change needs a reset" : "");
		fprintf(out, "%s\n", m->ids_simulated ? ", SIMULATED type ids" : "");
	}
	fprintf(out,
		"\n"
		"Control files (their accesses are not counted):\n"
		"  MOUNTPOINT/.vgpu-sim/counters  operation counters; write \"reset\" to zero them\n"
		"  MOUNTPOINT/.vgpu-sim/faults    write \"create N ERRNO\" or \"remove N ERRNO\": the Nth\n"
		"                                 such write from now fails; \"clear\" clears\n"
		"  MOUNTPOINT/.vgpu-sim/info      the simulated GPUs\n"
		"  MOUNTPOINT/.vgpu-sim/types     \"id name\" of every vGPU type of the host's models\n"
		"  MOUNTPOINT/.vgpu-sim/gpus/BDF/ model, framework, types, creatable, and mixed_size\n"
		"                                 (SR-IOV GPUs; write 0 or 1 while the GPU has no vGPU);\n"
		"                                 MIG models: mig_mode, gi_profiles, gis, mig_types, vgpus\n"
		"                                 (see sim/README.md); faults also \"mig N ERRNO\" (mode\n"
		"                                 change) and \"gi N ERRNO\" (GPU-instance create)\n");
}

/*
 * The directory of the stand-ins (libnvidia-ml.so.1, nvidia-smi, sriov-manage,
 * systemctl): standin/ next to this program in a build tree (build/sim/standin),
 * else where `meson install` put them.
 */
static void standin_dir(char *dir, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			char probe[PATH_MAX + 32];
			snprintf(probe, sizeof(probe), "%s/standin/libnvidia-ml.so.1", exe);
			if (access(probe, R_OK) == 0 && strlen(exe) + sizeof("/standin") <= len) {
				snprintf(dir, len, "%s/standin", exe);
				return;
			}
		}
	}
	snprintf(dir, len, "%s", VGPU_SIM_STANDIN_DIR);
}

/* One `export NAME='VALUE'` line, VALUE quoted for the shell. */
static void export_line(FILE *out, const char *name, const char *value, const char *suffix)
{
	fprintf(out, "export %s='", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", out);
		else
			fputc(*p, out);
	}
	fprintf(out, "%s'\n", suffix);
}

/* --env MOUNTPOINT: the variables that point the tool and every stand-in at it. */
static int print_env(const char *mountpoint)
{
	char real[PATH_MAX], info[PATH_MAX + 32], dir[PATH_MAX], lib[PATH_MAX + 32];
	if (!realpath(mountpoint, real)) {
		fprintf(stderr, "vgpu-sim: mountpoint '%s': %s\n", mountpoint, strerror(errno));
		return EXIT_USAGE;
	}
	snprintf(info, sizeof(info), "%s/.vgpu-sim/info", real);
	if (access(info, R_OK) != 0) {
		fprintf(stderr, "vgpu-sim: '%s' is not a vgpu-sim mount; mount one first: vgpu-sim [--gpu MODEL]... %s\n",
			mountpoint, mountpoint);
		return EXIT_USAGE;
	}
	standin_dir(dir, sizeof(dir));
	snprintf(lib, sizeof(lib), "%s/libnvidia-ml.so.1", dir);
	if (access(lib, R_OK) != 0)
		fprintf(stderr, "vgpu-sim: warning: the stand-ins are not installed in %s\n", dir);
	export_line(stdout, "VGPU_DM_SYSFS_ROOT", real, "");
	export_line(stdout, "VGPU_SIM_ROOT", real, "");
	export_line(stdout, "VGPU_DM_NVML_LIBRARY", dir, "/libnvidia-ml.so.1");
	export_line(stdout, "VGPU_DM_TOOLS_DIR", dir, "");
	return 0;
}

/* --list-models: "MODEL FW..." per line, for scripts and shell completion. */
static void list_models(FILE *out)
{
	for (size_t i = 0; i < sim_catalogue_count(); i++) {
		const struct sim_model_spec *m = sim_catalogue_get(i);
		fprintf(out, "%s mdev%s\n", m->prefix, m->num_vfs ? " vfio" : "");
	}
}

static int parse_framework(const char *name, enum sim_framework *fw)
{
	for (size_t i = 0; i < ARRAY_SIZE(sim_framework_names); i++) {
		if (strcmp(name, sim_framework_names[i]) == 0) {
			*fw = (enum sim_framework)i;
			return 0;
		}
	}
	fprintf(stderr, "vgpu-sim: unknown framework '%s' (supported: mdev, vfio)\n", name);
	return -1;
}

static int check_framework(const struct sim_model_spec *m, enum sim_framework fw, const char *how)
{
	if (fw == SIM_FW_VFIO && !m->num_vfs) {
		fprintf(stderr, "vgpu-sim: %s has no SR-IOV and cannot use the vfio framework%s (use %s:mdev)\n",
			m->prefix, how, m->prefix);
		return -1;
	}
	return 0;
}

static void push_req(struct options *o, const struct sim_model_spec *m, int fw)
{
	if (o->nreqs == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->reqs = xrealloc(o->reqs, o->cap * sizeof(*o->reqs));
		o->explicit_fw = xrealloc(o->explicit_fw, o->cap * sizeof(*o->explicit_fw));
	}
	o->reqs[o->nreqs] = (struct sim_gpu_req){ .model = m, .framework = SIM_FW_MDEV };
	o->explicit_fw[o->nreqs] = fw;
	o->nreqs++;
}

static int add_models(struct options *o, const char *arg)
{
	char *copy = xstrdup(arg);
	const char *name = copy;
	unsigned long copies = 1;
	int fw = FW_DEFAULT;
	int rc = -1;
	char *colon = strchr(copy, ':');

	if (colon) {
		enum sim_framework f;
		*colon = '\0';
		if (parse_framework(colon + 1, &f))
			goto out;
		fw = (int)f;
	}
	if (isdigit((unsigned char)copy[0])) {
		char *end;
		copies = strtoul(copy, &end, 10);
		if ((*end != 'x' && *end != 'X') || copies == 0 || copies > MAX_COPIES) {
			fprintf(stderr, "vgpu-sim: bad GPU count in '%s' (use NxMODEL, 1 <= N <= %d)\n", arg,
				MAX_COPIES);
			goto out;
		}
		name = end + 1;
	}
	const struct sim_model_spec *m = sim_catalogue_find(name);
	if (!m) {
		fprintf(stderr, "vgpu-sim: unknown GPU model '%s' (known:", name);
		for (size_t i = 0; i < sim_catalogue_count(); i++)
			fprintf(stderr, " %s", sim_catalogue_get(i)->prefix);
		fprintf(stderr, ")\n");
		goto out;
	}
	if (fw != FW_DEFAULT && check_framework(m, (enum sim_framework)fw, ""))
		goto out;
	for (unsigned long i = 0; i < copies; i++)
		push_req(o, m, fw);
	rc = 0;
out:
	free(copy);
	return rc;
}

/* GPUs given without :FW get the --framework default. */
static int resolve_frameworks(struct options *o)
{
	for (size_t i = 0; i < o->nreqs; i++) {
		if (o->explicit_fw[i] != FW_DEFAULT) {
			o->reqs[i].framework = (enum sim_framework)o->explicit_fw[i];
			continue;
		}
		if (check_framework(o->reqs[i].model, o->framework, " set by --framework vfio"))
			return -1;
		o->reqs[i].framework = o->framework;
	}
	return 0;
}

/* Returns -1 to continue, else the exit status. */
/* Is something already mounted on path (/proc/self/mountinfo, field 5, with
 * its octal escapes for space, tab, newline and backslash)? */
static bool mounted_on(const char *path)
{
	char real[PATH_MAX], line[8192];
	if (!realpath(path, real))
		return false;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *field = line;
		for (int i = 0; i < 4 && field; i++) {
			field = strchr(field, ' ');
			if (field)
				field++;
		}
		if (!field)
			continue;
		char mnt[PATH_MAX];
		size_t n = 0;
		for (const char *p = field; *p && *p != ' ' && n + 1 < sizeof(mnt); p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
				mnt[n++] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else {
				mnt[n++] = *p;
			}
		}
		mnt[n] = '\0';
		found = !strcmp(mnt, real);
	}
	fclose(f);
	return found;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "gpu", required_argument, NULL, 'g' },
		{ "framework", required_argument, NULL, 'F' },
		{ "mixed-size", no_argument, NULL, 'M' },
		{ "vfs-disabled", no_argument, NULL, 'D' },
		{ "list-models", no_argument, NULL, 'L' },
		{ "env", no_argument, NULL, 'E' },
		{ "display-mode", no_argument, NULL, 'P' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	bool env = false;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":g:fdhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (add_models(o, optarg))
				return EXIT_USAGE;
			break;
		case 'F':
			if (parse_framework(optarg, &o->framework))
				return EXIT_USAGE;
			break;
		case 'M':
			o->sim.mixed_size = true;
			break;
		case 'D':
			o->sim.vfs_disabled = true;
			break;
		case 'L':
			list_models(stdout);
			return 0;
		case 'E':
			env = true;
			break;
		case 'P':
			o->sim.display_mode = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			o->sim.debug = o->foreground = true;
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
	if (env)
		return print_env(o->mountpoint);
	struct stat st;
	int err = stat(o->mountpoint, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (err) {
		fprintf(stderr, "vgpu-sim: mountpoint '%s': %s\n", o->mountpoint, strerror(err));
		return EXIT_USAGE;
	}
	if (mounted_on(o->mountpoint)) {
		fprintf(stderr, "vgpu-sim: mountpoint '%s' is already a mount point (another vgpu-sim?); "
			"unmount it first (fusermount3 -u %s)\n", o->mountpoint, o->mountpoint);
		return EXIT_USAGE;
	}
	if (o->nreqs == 0) {
		add_models(o, "T4");
		add_models(o, "T4");
	}
	if (resolve_frameworks(o))
		return EXIT_USAGE;
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
	struct options o = { .framework = SIM_FW_MDEV };
	int rc = parse_args(argc, argv, &o);

	if (rc < 0) {
		struct sim *s = xmalloc(sizeof(*s));
		rc = sim_init(s, o.reqs, o.nreqs, &o.sim);
		rc = rc == 0 ? serve(s, &o, argv[0]) : 1;
		sim_fini(s);
		free(s);
	}
	free(o.reqs);
	free(o.explicit_fw);
	return rc;
}
