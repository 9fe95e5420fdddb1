/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apply: lock, recover an interrupted apply, (enable VFs), plan with every
 * check, refuse to remove a vGPU in use, journal, execute, verify, roll back.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "config.h"
#include "inuse.h"
#include "journal.h"
#include "json.h"
#include "report.h"
#include "sriov.h"
#include "sysfs.h"

static const char summary[] =
	"Apply changes (if necessary) for a specific vGPU device configuration from a configuration file";

static bool seconds_arg(struct cli *c, const char *flag, const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 3600) {
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

struct apply_opts {
	bool enable_sriov, force, dry_run, json;
	long sriov_timeout;
};

static void print_plan(const struct vdm_plan *plan, bool json)
{
	if (json) {
		struct json_object *o = vdm_json_plan(plan);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		vdm_plan_print(stdout, plan);
	}
}

/* Plan and apply (under the lock), or with dry_run only plan and print.
 * Returns the exit status. */
static int apply_locked(struct cli *c, const struct vdm_spec *spec, const struct vdm_config *cfg,
			const struct apply_opts *o)
{
	struct vdm_host *host = NULL;
	struct vdm_plan *plan = NULL;
	struct vdm_apply_stats st = {0};
	char *err = NULL;
	int status = EXIT_FAIL, rc;

	vdm_dbg(c->ctx, "Checking current vGPU device configuration...");
	if (vdm_host_scan(c->ctx, &host, &err) < 0 ||
	    (!o->dry_run && vdm_journal_recover(&host, &err) < 0) ||
	    (!o->dry_run && o->enable_sriov &&
	     vdm_sriov_enable(&host, cfg, (int)o->sriov_timeout * 1000, &err) < 0) ||
	    vdm_plan_build(host, spec, cfg, 0, &plan, &err) < 0)
		goto fail;
	if (vdm_plan_applied(plan)) {
		if (o->dry_run) {
			print_plan(plan, o->json);
			status = EXIT_OK;
			goto out;
		}
		goto done;
	}

	/* Something changes: see which vGPUs are in use, then plan for real. */
	vdm_plan_free(plan);
	plan = NULL;
	vdm_host_find_users(host);
	rc = vdm_plan_build(host, spec, cfg, VDM_PLAN_CHECK | (o->force ? VDM_PLAN_FORCE : 0), &plan,
			    &err);
	if (rc == -EBUSY)
		status = EXIT_IN_USE;
	if (rc < 0)
		goto fail;
	if (o->dry_run) {
		print_plan(plan, o->json);
		status = EXIT_OK;
		goto out;
	}

	cli_info(c, "Applying vGPU device configuration...");
	if (vdm_journal_write(c->ctx, plan, &err) < 0)
		goto fail;
	rc = vdm_apply(host, spec, cfg, plan, &st, &err);
	if (rc < 0) {
		if (st.rollback == VDM_ROLLBACK_FAILED)
			status = EXIT_ROLLBACK_FAILED; /* the journal stays for the next run */
		else
			vdm_journal_remove(c->ctx);
		goto fail;
	}
	vdm_journal_remove(c->ctx);
	vdm_dbg(c->ctx, "removed %u, created %u, kept %u vGPUs", st.removed, st.created, st.kept);
done:
	cli_info(c, "Selected vGPU device configuration successfully applied");
	status = EXIT_OK;
	goto out;
fail:
	cli_fatal(c, "%s", err);
out:
	free(err);
	vdm_plan_free(plan);
	vdm_host_free(host);
	return status;
}

int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct config_flags f = {0};
	struct apply_opts o = {0};
	const char *sriov_timeout = "120", *lock_timeout = "60", *uuid_seed = NULL;
	const struct opt opts[] = {
		CONFIG_OPT_FILE(&f),
		CONFIG_OPT_LABEL(&f, "The label of the vgpu-config from the config file to apply to the node"),
		{"force", 0, OPT_BOOL, NULL, NULL,
		 "Remove vGPUs even when a process (a running VM) holds them", &o.force},
		{"dry-run", 0, OPT_BOOL, NULL, NULL,
		 "Print what apply would do (keep, remove, create per GPU) and change nothing", &o.dry_run},
		{"json", 0, OPT_BOOL, NULL, NULL, "With --dry-run: print the plan as JSON", &o.json},
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
	long ltimeout;
	if (!seconds_arg(c, "sriov-timeout", sriov_timeout, &o.sriov_timeout) ||
	    !seconds_arg(c, "lock-timeout", lock_timeout, &ltimeout))
		return EXIT_FAIL;
	if (o.json && !o.dry_run) {
		cli_fatal(c, "--json goes with --dry-run (see '%s apply --help')", c->prog);
		return EXIT_FAIL;
	}

	if (uuid_seed && !set_uuid_seed(c, uuid_seed))
		return EXIT_FAIL;

	struct vdm_spec *spec;
	const struct vdm_config *cfg;
	if (config_load(c, &f, &spec, &cfg) < 0)
		return EXIT_FAIL;

	char *err = NULL;
	if (!vdm_sysfs_exists(c->ctx, "sys/bus/pci/devices")) {
		char path[VDM_PATH_MAX];
		vdm_path(c->ctx, path, sizeof(path), "sys/bus/pci/devices");
		cli_fatal(c, "cannot read %s: %s", path, strerror(ENOENT));
		vdm_spec_free(spec);
		return EXIT_FAIL;
	}
	if (o.dry_run) {
		int status = apply_locked(c, spec, cfg, &o);
		vdm_spec_free(spec);
		return status;
	}
	int lock = vdm_lock(c->ctx, (int)ltimeout * 1000, &err);
	if (lock < 0) {
		cli_fatal(c, "%s", err);
		free(err);
		vdm_spec_free(spec);
		return lock == -ETIMEDOUT ? EXIT_LOCKED : EXIT_FAIL;
	}
	/* SIGTERM (a pod being stopped), SIGINT or SIGHUP wait until the host is
	 * consistent: applied, or rolled back. SIGKILL cannot wait; the journal
	 * covers it. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	int status = apply_locked(c, spec, cfg, &o);
	vdm_unlock(lock);
	sigset_t pending;
	if (sigpending(&pending) == 0)
		for (int sig = 1; sig < 32; sig++)
			if (sigismember(&stop, sig) && sigismember(&pending, sig))
				vdm_warn(c->ctx, "received %s during the apply: stopping now that the host is "
					 "consistent", strsignal(sig));
	vdm_spec_free(spec);
	sigprocmask(SIG_SETMASK, &old, NULL); /* a pending signal ends the process here */
	return status;
}
