/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan: size vGPUs for a workload (lib/sizing/sizing.h) and print the config file
 * that lays them out; a table on stderr says what each GPU gets and why.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "host/host.h"
#include "sizing/sizing.h"
#include "spec/spec.h"

#define USAGE                                                                                   \
	"[--gpu MODEL[xN]]... (--vms N | --fill) [--memory GB] [--cuda | --series C|Q|A|B | "    \
	"--use compute|workstation|desktop|apps] [--profile TYPE] [--mig] [--mixed-size] "      \
	"[--host-driver vgpu|ai-enterprise] [--label NAME] [--json]"
#define SUMMARY "Size vGPUs for a workload and print the configuration file that lays them out"

static bool parse_count(const char *s, int *out)
{
	long v;
	if (!s || vdm_parse_long(s, 10, 1, 100000, &v) < 0)
		return false;
	*out = (int)v;
	return true;
}

/* "8", "0.5", "1.5" GB -> MiB (whole MiB, > 0) */
static bool parse_gb(const char *s, long *mib)
{
	char *end;
	double v;
	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > 1048576)
		return false;
	*mib = (long)(v * 1024);
	if ((double)*mib < v * 1024)
		(*mib)++;
	return true;
}

/* One value per group, or one for all; i-th value or NULL. */
static const char *nth(const struct opt_list *l, size_t i)
{
	return l->n == 0 ? NULL : l->n == 1 ? l->v[0] : l->v[i];
}

static int build_request(struct cli *c, struct vdm_sizing_request *r, const struct opt_list *vms,
			 const struct opt_list *mem, const struct opt_list *prof, bool fill,
			 const char *series, const char *use)
{
	size_t n = vms->n;
	n = mem->n > n ? mem->n : n;
	n = prof->n > n ? prof->n : n;
	if (!n && fill)
		n = 1;
	const struct opt_list *lists[] = {vms, mem, prof};
	const char *names[] = {"--vms", "--memory", "--profile"};
	for (int i = 0; i < 3; i++) {
		if (lists[i]->n > 1 && lists[i]->n != n) {
			cli_fatal(c, "plan: %zu %s for %zu groups of VMs: give one for all, or one per --vms",
				  lists[i]->n, names[i], n);
			return -1;
		}
	}
	if (fill && vms->n) {
		cli_fatal(c, "plan: --fill and --vms exclude each other");
		return -1;
	}
	r->groups = calloc(n ? n : 1, sizeof(*r->groups));
	r->n_groups = n;
	for (size_t i = 0; i < n; i++) {
		struct vdm_sizing_group *g = &r->groups[i];
		g->fill = fill;
		if (nth(vms, i) && !parse_count(nth(vms, i), &g->vms)) {
			cli_fatal(c, "plan: --vms \"%s\": expected a number of VMs (1 or more)", nth(vms, i));
			return -1;
		}
		if (nth(mem, i) && !parse_gb(nth(mem, i), &g->memory_mib)) {
			cli_fatal(c, "plan: --memory \"%s\": expected GB per vGPU (e.g. 8 or 0.5)", nth(mem, i));
			return -1;
		}
		g->profile = nth(prof, i);
	}
	if (series) {
		if (strlen(series) != 1 || !strchr("ABCQabcq", series[0])) {
			cli_fatal(c, "plan: --series \"%s\": expected C, Q, A or B", series);
			return -1;
		}
		r->series = (char)toupper((unsigned char)series[0]);
	}
	if (use) {
		char s = vdm_sizing_use_series(use);
		if (!s) {
			cli_fatal(c, "plan: --use \"%s\": expected compute, workstation, desktop or apps", use);
			return -1;
		}
		if (r->series && r->series != s) {
			cli_fatal(c, "plan: --use %s means %c-series, but --series says %c", use, s, r->series);
			return -1;
		}
		r->series = s;
	}
	if (r->cuda && !r->series)
		r->series = 'C';
	return 0;
}

/* One argument as the shell reads it back: as is when plain, else in single quotes. */
static void shell_word(FILE *f, const char *a)
{
	if (*a && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,+-") ==
			  strlen(a)) {
		fputs(a, f);
		return;
	}
	fputc('\'', f);
	for (; *a; a++) {
		if (*a == '\'')
			fputs("'\\''", f);
		else
			fputc(*a, f);
	}
	fputc('\'', f);
}

/* After a plan that used types only some host drivers list: the command
 * that plans for the other driver, runnable as it is (no newline). argv is
 * plan's (argv[0] "plan"), any --host-driver left out. */
static void write_otherwise(FILE *f, struct cli *c, int argc, char **argv)
{
	fprintf(f, "%s plan", c->prog);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--host-driver") || !strcmp(a, "-host-driver")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--host-driver=", 14) || !strncmp(a, "-host-driver=", 13))
			continue;
		fputc(' ', f);
		shell_word(f, a);
	}
	fputs(" --host-driver vgpu", f);
}

/* The config must be one the parser accepts, with the label. */
static bool config_ok(struct cli *c, const char *text, const char *label)
{
	char *err = NULL;
	struct vdm_spec *spec = vdm_spec_parse("<plan>", text, strlen(text), &err);
	bool ok = spec && vdm_spec_find(spec, label);
	if (!ok)
		cli_fatal(c, "plan: the generated config does not parse: %s", err ? err : "label missing");
	free(err);
	vdm_spec_free(spec);
	return ok;
}

int cmd_plan(struct cli *c, int argc, char **argv)
{
	struct opt_list gpus = {0}, vms = {0}, mem = {0}, prof = {0};
	bool fill = false, json = false, help = false, debug = false;
	const char *series = NULL, *use = NULL, *host_driver = NULL;
	struct vdm_sizing_request r = {0};
	const struct opt opts[] = {
		{"gpu", 'g', OPT_LIST, NULL, "MODEL[xN]",
		 "Plan for these GPUs (catalogue models, e.g. L40Sx2), not this host's", &gpus},
		{"vms", 'n', OPT_LIST, NULL, "N", "Number of vGPUs (VMs) wanted; repeat for groups", &vms},
		{"fill", 0, OPT_BOOL, NULL, NULL, "As many vGPUs as the GPUs hold", &fill},
		{"memory", 'm', OPT_LIST, NULL, "GB", "Frame buffer per vGPU (per --vms group)", &mem},
		{"cuda", 0, OPT_BOOL, NULL, NULL, "The VMs run CUDA: C-series (Q where C is not offered)",
		 &r.cuda},
		{"series", 0, OPT_STRING, NULL, "C|Q|A|B", "vGPU series", &series},
		{"use", 0, OPT_STRING, NULL, "USE",
		 "compute (C), workstation (Q), desktop (B) or apps (A)", &use},
		{"profile", 'p', OPT_LIST, NULL, "TYPE", "Use this vGPU type (e.g. T4-8Q, or 8Q)", &prof},
		{"mig", 0, OPT_BOOL, NULL, NULL, "Prefer MIG-backed types where the GPU has them", &r.mig},
		{"mixed-size", 0, OPT_BOOL, NULL, NULL,
		 "Allow different sizes on one GPU where it supports mixed-size mode", &r.mixed_size},
		{"host-driver", 0, OPT_STRING, NULL, "vgpu|ai-enterprise",
		 "With --gpu: the host driver the GPUs will run (NVIDIA vGPU, or NVIDIA AI Enterprise); "
		 "not given: every catalogue type, those only one driver lists flagged", &host_driver},
		{"label", 'l', OPT_STRING, NULL, "NAME",
		 "Label of the config (default: the type when there is one, else default)", &r.label},
		{"json", 0, OPT_BOOL, NULL, NULL, "Print the table (and the config) as JSON on stdout", &json},
		{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &debug},
		{"help", 'h', OPT_BOOL, NULL, NULL, "show help", &help},
		OPT_END,
	};
	int rc = cmd_start(c, "plan", USAGE, SUMMARY, opts, argc, argv, &help, &debug);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;
	if (r.label && !*r.label) {
		cli_fatal(c, "plan: the label must not be empty");
		return EXIT_FAIL;
	}
	if (build_request(c, &r, &vms, &mem, &prof, fill, series, use) < 0) {
		free(r.groups);
		return EXIT_FAIL;
	}
	if (host_driver) {
		int hd = vdm_sizing_host_driver(host_driver);
		if (hd < 0 || !gpus.n) {
			cli_fatal(c, hd < 0 ? "plan: --host-driver \"%s\": expected vgpu or ai-enterprise"
					    : "plan: --host-driver \"%s\" is for --gpu: on a host, its driver's "
					      "own lists say what it offers", host_driver);
			free(r.groups);
			return EXIT_FAIL;
		}
		r.host_driver = (enum vdm_host_driver)hd;
	}

	struct vdm_sizing *s = vdm_sizing_new();
	char *err = NULL;
	for (size_t i = 0; i < gpus.n; i++) {
		if (vdm_sizing_add_model_arg(s, gpus.v[i], &err) < 0)
			goto fail;
	}
	if (!gpus.n) {
		struct vdm_host *h;
		if (vdm_host_scan(c->ctx, &h, &err) < 0)
			goto fail;
		vdm_host_find_users(h); /* what a VM holds stays */
		vdm_sizing_add_host(s, h);
		vdm_host_free(h);
	}
	rc = vdm_sizing_run(s, &r, &err);
	if (rc == -EINVAL)
		goto fail;

	char *text = rc == 0 ? vdm_sizing_config(s) : NULL;
	if (rc == 0 && (!text || !config_ok(c, text, s->label))) {
		free(text);
		vdm_sizing_free(s);
		free(r.groups);
		return EXIT_FAIL;
	}
	if (json) {
		struct json_object *o = vdm_sizing_json(s);
		if (s->dependent) {
			char *line = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&line, &len);
			if (f) {
				write_otherwise(f, c, argc, argv);
				fclose(f);
				json_object_object_add(json_object_object_get(o, "host_driver"), "otherwise",
						       json_object_new_string(line));
				free(line);
			}
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_SPACED |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		char *table = vdm_sizing_table(s);
		fputs(table, stderr);
		free(table);
		if (s->dependent) {
			fputs("otherwise: ", stderr);
			write_otherwise(stderr, c, argc, argv);
			fputc('\n', stderr);
		}
	}
	for (size_t i = 0; i < s->n_unmet; i++)
		cli_fatal(c, "plan: %s", s->unmet[i]);
	if (text && !json)
		fputs(text, stdout);
	free(text);
	rc = s->n_unmet ? EXIT_FAIL : EXIT_OK;
	vdm_sizing_free(s);
	free(r.groups);
	return rc;
fail:
	cli_fatal(c, "plan: %s", err);
	free(err);
	vdm_sizing_free(s);
	free(r.groups);
	return EXIT_FAIL;
}
