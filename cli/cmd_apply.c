/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apply: the flags, then vdm_run_apply (lib/apply/run.c) does the run; this file
 * prints its outcome and holds the stop signals while the lock is held.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "report/report.h"
#include "apply/apply.h"
#include "base/base.h"

static const char summary[] =
	"Apply changes (if necessary) for a specific vGPU device configuration from a configuration file";

static bool seconds_arg(struct cli *c, const char *flag, const char *s, long *out)
{
	long v;
	if (vdm_parse_long(s, 10, 0, 3600, &v) < 0) {
		cli_fatal(c, "invalid value \"%s\" for --%s: seconds from 0 to 3600", s, flag);
		return false;
	}
	*out = v;
	return true;
}

static bool set_uuid_seed(struct cli *c, const char *seed)
{
	char id[128];
	if (strcmp(seed, "machine-id")) {
		vdm_ctx_set_uuid_seed(c->ctx, seed);
		return true;
	}
	int rc = vdm_sysfs_read(c->ctx, "etc/machine-id", id, sizeof(id));
	if (rc <= 0) {
		char path[VDM_PATH_MAX];
		vdm_path(c->ctx, path, sizeof(path), "etc/machine-id");
		cli_fatal(c, "--uuid-seed machine-id: cannot read %s: %s", path,
			  rc < 0 ? strerror(-rc) : "empty file");
		return false;
	}
	vdm_ctx_set_uuid_seed(c->ctx, id);
	return true;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_plan(const struct vdm_plan *plan, bool json)
{
	if (json) {
		struct json_object *o = vdm_json_plan(plan);
		json_object_object_add(o, "refused", json_object_new_boolean(false));
		json_object_object_add(o, "refusal", NULL);
		print_json(o);
	} else {
		vdm_plan_print(stdout, plan);
	}
}

/* apply --dry-run --json that apply would refuse: the refusal as JSON on
 * stdout ("refused": true, the exit code, the message and, for a vGPU in
 * use, who holds it), as well as the usual FATA line on stderr. */
static void print_refusal_json(const struct vdm_run_result *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *f = json_object_new_object();
	json_object_object_add(o, "refused", json_object_new_boolean(true));
	json_object_object_add(f, "exit_code", json_object_new_int((int)r->status));
	json_object_object_add(f, "message", json_object_new_string(r->message ? r->message : ""));
	if (r->status == VDM_RUN_IN_USE) {
		const struct vdm_run_in_use *u = &r->in_use;
		struct json_object *iu = json_object_new_object();
		json_object_object_add(iu, "gpu_index", json_object_new_int(u->gpu_index));
		json_object_object_add(iu, "gpu", json_object_new_string(u->gpu));
		json_object_object_add(iu, "vgpu", json_object_new_string(u->vgpu));
		json_object_object_add(iu, "type", json_object_new_string(u->type));
		json_object_object_add(iu, "parent", json_object_new_string(u->parent));
		json_object_object_add(iu, "pid", json_object_new_int(u->pid));
		json_object_object_add(iu, "vm", *u->vm ? json_object_new_string(u->vm) : NULL);
		json_object_object_add(iu, "command", json_object_new_string(u->cmd));
		json_object_object_add(iu, "node", json_object_new_string(u->node));
		json_object_object_add(f, "in_use", iu);
	} else {
		json_object_object_add(f, "in_use", NULL);
	}
	json_object_object_add(o, "refusal", f);
	print_json(o);
}

static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

/* While apply holds the lock, SIGTERM (a pod being stopped), SIGINT, SIGHUP
 * and SIGQUIT wait until the host is consistent: applied, or rolled back.
 * SIGKILL cannot wait; the journal covers it. The mask is restored by
 * cmd_apply once the outcome is printed. */
struct held {
	sigset_t old;
	bool held;
};

static void hold_signals(bool hold, void *data)
{
	struct held *h = data;
	if (!hold || h->held)
		return;
	sigset_t stop;
	sigemptyset(&stop);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&stop, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &stop, &h->old);
	h->held = true;
}

static void release_signals(struct cli *c, struct held *h)
{
	if (!h->held)
		return;
	sigset_t pending;
	if (sigpending(&pending) == 0)
		for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
			if (sigismember(&pending, stop_signals[i]))
				vdm_warn(c->ctx, "received %s during the apply: stopping now that the host is "
					 "consistent", strsignal(stop_signals[i]));
	sigprocmask(SIG_SETMASK, &h->old, NULL); /* a pending signal ends the process here */
}

int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct config_flags f = {0};
	struct vdm_run_opts o = {0};
	bool json = false;
	const char *sriov_timeout = NULL, *lock_timeout = "60", *uuid_seed = NULL;
	const struct opt opts[] = {
		CONFIG_OPT_FILE(&f),
		CONFIG_OPT_LABEL(&f, "The label of the vgpu-config from the config file to apply to the node"),
		{"force", 0, OPT_BOOL, NULL, NULL,
		 "Remove vGPUs even when a process (a running VM) holds them", &o.force},
		{"dry-run", 0, OPT_BOOL, NULL, NULL,
		 "Print what apply would do (keep, remove, create per GPU) and change nothing", &o.dry_run},
		{"json", 0, OPT_BOOL, NULL, NULL, "With --dry-run: print the plan as JSON", &json},
		{"uuid-seed", 0, OPT_STRING, "VGPU_DM_UUID_SEED", "SEED",
		 "Make new vGPU UUIDs from SEED, GPU address, type and ordinal (UUIDv5) instead of at "
		 "random, so a rebuilt host gets the same UUIDs; 'machine-id' uses /etc/machine-id",
		 &uuid_seed},
		{"lock-timeout", 0, OPT_STRING, "VGPU_DM_LOCK_TIMEOUT", "SECONDS",
		 "How long to wait for another apply to finish (default 60)", &lock_timeout},
		{"enable-sriov", 0, OPT_BOOL, "VGPU_DM_ENABLE_SRIOV", NULL,
		 "Enable the SR-IOV VFs of selected GPUs that have none (sriov-manage -e) and wait for them",
		 &o.enable_sriov},
		{"sriov-timeout", 0, OPT_STRING, NULL, "SECONDS",
		 "How long --enable-sriov waits for the VFs (default 120)", &sriov_timeout},
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
	long ltimeout, stimeout;
	if (sriov_timeout && !o.enable_sriov) {
		cli_fatal(c, "--sriov-timeout goes with --enable-sriov (see '%s apply --help')", c->prog);
		return EXIT_FAIL;
	}
	if (!seconds_arg(c, "sriov-timeout", sriov_timeout ? sriov_timeout : "120", &stimeout) ||
	    !seconds_arg(c, "lock-timeout", lock_timeout, &ltimeout))
		return EXIT_FAIL;
	if (json && !o.dry_run) {
		cli_fatal(c, "--json goes with --dry-run (see '%s apply --help')", c->prog);
		return EXIT_FAIL;
	}
	o.sriov_timeout_ms = (int)stimeout * 1000;
	o.lock_timeout_ms = (int)ltimeout * 1000;

	if (uuid_seed && !set_uuid_seed(c, uuid_seed))
		return EXIT_FAIL;

	struct vdm_spec *spec;
	const struct vdm_config *cfg;
	if (config_load(c, &f, &spec, &cfg) < 0)
		return EXIT_FAIL;

	struct held held = {.held = false};
	o.critical = hold_signals;
	o.critical_data = &held;
	struct vdm_run_result r;
	int status = vdm_run_apply(c->ctx, spec, cfg, &o, &r);
	if (status == VDM_RUN_OK && o.dry_run)
		print_plan(r.plan, json);
	else if (status == VDM_RUN_OK)
		cli_info(c, "Selected vGPU device configuration successfully applied");
	else if (o.dry_run && json)
		print_refusal_json(&r);
	if (status != VDM_RUN_OK)
		cli_fatal(c, "%s", r.message);
	vdm_run_result_free(&r);
	vdm_spec_free(spec);
	release_signals(c, &held);
	return status;
}

_Static_assert(EXIT_OK == (int)VDM_RUN_OK && EXIT_FAIL == (int)VDM_RUN_FAILED &&
		       EXIT_IN_USE == (int)VDM_RUN_IN_USE && EXIT_LOCKED == (int)VDM_RUN_LOCKED &&
		       EXIT_ROLLBACK_FAILED == (int)VDM_RUN_ROLLBACK_FAILED,
	       "exit codes are the run outcome classes");
