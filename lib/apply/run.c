/* SPDX-License-Identifier: Apache-2.0 */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "host/host.h"
#include "journal.h"
#include "pending.h"

void vdm_run_result_free(struct vdm_run_result *r)
{
	free(r->message);
	vdm_plan_free(r->plan);
	vdm_host_free(r->host);
	memset(r, 0, sizeof(*r));
}

static enum vdm_run_status finish(struct vdm_run_result *r, enum vdm_run_status st, char *msg)
{
	r->status = st;
	free(r->message);
	r->message = msg;
	return st;
}

char *vdm_root_problem(struct vdm_ctx *ctx)
{
	const char *root = vdm_ctx_root(ctx);
	struct stat st;
	if (stat(root && *root ? root : "/", &st) < 0)
		return vdm_strdupf("the root directory %s (--sysfs-root) cannot be used: %s", root,
				   strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return vdm_strdupf("the root %s (--sysfs-root) is not a directory: it must be the "
				   "directory the host's /sys is under (/, or a vgpu-sim mount point)",
				   root);
	char path[VDM_PATH_MAX];
	vdm_path(ctx, path, sizeof(path), "sys/bus/pci/devices");
	if (stat(path, &st) < 0)
		return vdm_strdupf("cannot read %s: %s%s", path, strerror(errno),
				   strcmp(root, "/") ? " (is --sysfs-root a host's root or a vgpu-sim "
						       "mount point?)" : "");
	if (!S_ISDIR(st.st_mode))
		return vdm_strdupf("cannot read %s: %s", path, strerror(ENOTDIR));
	return NULL;
}

char *vdm_run_labels_hint(struct vdm_ctx *ctx, const struct vdm_spec *spec, const char *label)
{
	struct vdm_host *h = NULL;
	char *err = NULL;
	char *why = vdm_root_problem(ctx);
	if (!why && vdm_host_scan(ctx, &h, &err) < 0)
		h = NULL;
	free(why);
	free(err);
	char *hint = vdm_labels_hint(spec, label, h);
	vdm_host_free(h);
	return hint;
}

char *vdm_run_describe(struct vdm_ctx *ctx)
{
	char lock[VDM_PATH_MAX], journal[VDM_PATH_MAX], nvml[4096], sriov[4096];
	const char *nvml_how, *sriov_how;
	vdm_path(ctx, lock, sizeof(lock), VDM_LOCK_FILE);
	vdm_path(ctx, journal, sizeof(journal), VDM_JOURNAL_FILE);
	vdm_nvml_find(ctx, nvml, sizeof(nvml), &nvml_how);
	int rc = vdm_tool_find(ctx, "sriov-manage", sriov, sizeof(sriov), &sriov_how);
	const char *drv = vdm_ctx_driver_root(ctx);
	return vdm_strdupf("sysfs root %s, host root %s (%s), lock %s, journal %s, driver root %s, NVML %s "
			   "(%s), sriov-manage %s (%s%s)", vdm_ctx_root(ctx), vdm_ctx_host_root(ctx),
			   vdm_ctx_host_root_source(ctx), lock, journal, drv ? drv : "none", nvml, nvml_how,
			   sriov, sriov_how, rc == -ENOENT ? ", not found" : rc < 0 ? ", not executable" : "");
}

static void note_in_use(struct vdm_run_result *r, const struct vdm_host *h)
{
	const struct vdm_vgpu *v = h->refused_in_use;
	if (!v)
		return;
	const struct vdm_gpu *g = v->parent->gpu;
	struct vdm_run_in_use *u = &r->in_use;
	u->gpu_index = g->index;
	snprintf(u->gpu, sizeof(u->gpu), "%s", g->addr);
	snprintf(u->vgpu, sizeof(u->vgpu), "%s", v->id);
	snprintf(u->type, sizeof(u->type), "%s", v->type >= 0 ? g->types[v->type].name : v->type_id);
	snprintf(u->parent, sizeof(u->parent), "%s", v->parent->addr);
	u->pid = v->user_pid;
	snprintf(u->cmd, sizeof(u->cmd), "%s", v->user_cmd ? v->user_cmd : "");
	snprintf(u->node, sizeof(u->node), "%s", v->user_node ? v->user_node : "");
	snprintf(u->vm, sizeof(u->vm), "%s", v->user_vm ? v->user_vm : "");
}

static int sriov_timeout(const struct vdm_run_opts *o)
{
	return o->sriov_timeout_ms > 0 ? o->sriov_timeout_ms : 120000;
}

/* A GPU whose VFs are not enabled lists no types yet; what the catalogue
 * knows of its model can still refuse a layout before the VFs are made: a
 * count above the type's per-GPU maximum. (A type the catalogue does not
 * list is left to the driver's lists.) 0 or -ENOSPC with *err set. */
static int precheck_catalogue(const struct vdm_spec *spec, const struct vdm_config *cfg,
			      const struct vdm_gpu *g, char **err)
{
	const struct vdm_cat_gpu *cg = vdm_cat_gpu_by_pci(g->id.device, g->id.subsys_vendor,
							  g->id.subsys_device);
	const struct vdm_entry *e = NULL;
	for (size_t i = 0; i < cfg->n_entries; i++)
		if (vdm_entry_selects(&cfg->entries[i], g->index, &g->id))
			e = &cfg->entries[i];
	for (size_t t = 0; cg && e && t < e->n_types; t++) {
		const struct vdm_cat_type *ct = vdm_cat_gpu_type(cg, e->types[t].type);
		if (!ct || !ct->max_instances || e->types[t].count <= (int)ct->max_instances)
			continue;
		char lbl[64];
		vdm_gpu_label(g, lbl, sizeof(lbl));
		*err = vdm_strdupf("%s:%d:%d: %s: %d x %s requested, but the GPU holds at most %u "
				   "(the catalogue's maximum for %s, checked before enabling its SR-IOV "
				   "virtual functions, which stay disabled)", spec->source,
				   e->types[t].pos.line, e->types[t].pos.col, lbl, e->types[t].count,
				   ct->name, ct->max_instances, cg->model);
		return -ENOSPC;
	}
	return 0;
}

/* Before --enable-sriov makes VFs: check everything that can be checked
 * without them (every other selected GPU, in full; vGPUs in use; the
 * catalogue's maxima for the GPUs that need VFs). A refusal here leaves the
 * host as it was. */
static enum vdm_run_status precheck_sriov(struct vdm_ctx *ctx, const struct vdm_spec *spec,
					  const struct vdm_config *cfg, const struct vdm_run_opts *o,
					  struct vdm_run_result *r, bool *needed)
{
	*needed = false;
	for (size_t i = 0; i < r->host->n_gpus; i++)
		if (vdm_sriov_needed(r->host, cfg, i))
			*needed = true;
	if (!*needed)
		return VDM_RUN_OK;
	struct vdm_plan *plan = NULL;
	char *err = NULL;
	for (size_t i = 0; i < r->host->n_gpus; i++)
		if (vdm_sriov_needed(r->host, cfg, i) &&
		    precheck_catalogue(spec, cfg, &r->host->gpus[i], &err) < 0)
			return finish(r, VDM_RUN_FAILED, err);
	vdm_dbg(ctx, "Checking the GPUs that have VFs before enabling the others'...");
	vdm_host_find_users(r->host);
	int rc = vdm_plan_build(r->host, spec, cfg,
				VDM_PLAN_CHECK | VDM_PLAN_SKIP_NO_VFS | (o->force ? VDM_PLAN_FORCE : 0),
				&plan, &err);
	vdm_plan_free(plan);
	if (rc == -EBUSY) {
		note_in_use(r, r->host);
		return finish(r, VDM_RUN_IN_USE, err);
	}
	return rc < 0 ? finish(r, VDM_RUN_FAILED, err) : VDM_RUN_OK;
}

/* The run is refused or failed and restored after this run enabled VFs:
 * disable them again, so the host is as before the run, and say so. */
static void undo_sriov(struct vdm_run_result *r, const struct vdm_run_opts *o,
		       const struct vdm_sriov_enabled *e)
{
	if (!e->n || r->status == VDM_RUN_OK || r->status == VDM_RUN_ROLLBACK_FAILED)
		return;
	char *err = NULL, *gpus = vdm_xstrdup("");
	for (size_t i = 0; i < e->n; i++) {
		char *s = vdm_strdupf("%s%s%s", gpus, i ? ", " : "", e->addrs[i]);
		free(gpus);
		gpus = s;
	}
	int rc = vdm_sriov_disable(&r->host, e, sriov_timeout(o), &err);
	char *msg;
	if (rc == 0) {
		msg = vdm_strdupf("%s; the SR-IOV virtual functions this run enabled (%s) were disabled "
				  "again", r->message, gpus);
		r->sriov_enabled = 0;
	} else {
		msg = vdm_strdupf("%s; the SR-IOV virtual functions this run enabled (%s) could not be "
				  "disabled again: %s", r->message, gpus, err);
	}
	free(err);
	free(gpus);
	free(r->message);
	r->message = msg;
}

/* Everything after the lock: recover, enable VFs, plan, apply. */
static enum vdm_run_status apply_steps(struct vdm_ctx *ctx, const struct vdm_spec *spec,
				       const struct vdm_config *cfg, const struct vdm_run_opts *o,
				       struct vdm_run_result *r, struct vdm_sriov_enabled *enabled)
{
	struct vdm_plan *plan = NULL;
	char *err = NULL;
	int rc;

	vdm_dbg(ctx, "Checking current vGPU device configuration...");
	if (vdm_host_scan(ctx, &r->host, &err) < 0)
		return finish(r, VDM_RUN_FAILED, err);
	if (o->dry_run) {
		/* Plan from the state the apply will start from. */
		char *note = NULL;
		rc = vdm_host_view_pending(r->host, true, &note, &err);
		if (rc < 0)
			return finish(r, VDM_RUN_FAILED, err);
		if (note)
			vdm_warn(ctx, "%s", note);
		free(note);
	} else {
		rc = vdm_journal_recover(&r->host, &err);
		if (rc < 0)
			return finish(r, VDM_RUN_FAILED, err);
		r->recovered = rc > 0;
	}
	if (!o->dry_run && o->enable_sriov) {
		bool needed;
		if (precheck_sriov(ctx, spec, cfg, o, r, &needed) != VDM_RUN_OK)
			return r->status;
		if (needed) {
			rc = vdm_sriov_enable(&r->host, cfg, sriov_timeout(o), enabled, &err);
			r->sriov_enabled = (int)enabled->n;
			if (rc < 0)
				return finish(r, VDM_RUN_FAILED, err);
		}
	}
	if (vdm_plan_build(r->host, spec, cfg, 0, &plan, &err) < 0)
		return finish(r, VDM_RUN_FAILED, err);
	if (vdm_plan_applied(plan)) {
		if (o->dry_run)
			r->plan = plan;
		else
			vdm_plan_free(plan);
		return finish(r, VDM_RUN_OK, NULL);
	}

	/* Something changes: see which vGPUs are in use, then plan for real. */
	vdm_plan_free(plan);
	plan = NULL;
	vdm_host_find_users(r->host);
	rc = vdm_plan_build(r->host, spec, cfg, VDM_PLAN_CHECK | (o->force ? VDM_PLAN_FORCE : 0), &plan,
			    &err);
	if (rc == -EBUSY) {
		note_in_use(r, r->host);
		return finish(r, VDM_RUN_IN_USE, err);
	}
	if (rc < 0)
		return finish(r, VDM_RUN_FAILED, err);
	if (o->dry_run) {
		r->plan = plan;
		return finish(r, VDM_RUN_OK, NULL);
	}

	vdm_info(ctx, "Applying vGPU device configuration...");
	if (vdm_journal_write(ctx, plan, &err) < 0) {
		vdm_plan_free(plan);
		return finish(r, VDM_RUN_FAILED, err);
	}
	rc = vdm_apply(r->host, spec, cfg, plan, &r->stats, &err);
	vdm_plan_free(plan);
	if (rc < 0) {
		r->reboot_completes = r->stats.reset_refused;
		if (r->stats.rollback == VDM_ROLLBACK_FAILED)
			return finish(r, VDM_RUN_ROLLBACK_FAILED, err); /* the journal stays */
		vdm_journal_remove(ctx);
		return finish(r, VDM_RUN_FAILED, err);
	}
	vdm_journal_remove(ctx);
	r->changed = r->stats.removed || r->stats.created;
	vdm_dbg(ctx, "removed %u, created %u, kept %u vGPUs", r->stats.removed, r->stats.created,
		r->stats.kept);
	return finish(r, VDM_RUN_OK, NULL);
}

static enum vdm_run_status apply_locked(struct vdm_ctx *ctx, const struct vdm_spec *spec,
					const struct vdm_config *cfg, const struct vdm_run_opts *o,
					struct vdm_run_result *r)
{
	struct vdm_sriov_enabled enabled = {0};
	apply_steps(ctx, spec, cfg, o, r, &enabled);
	undo_sriov(r, o, &enabled);
	vdm_sriov_enabled_free(&enabled);
	return r->status;
}

enum vdm_run_status vdm_run_apply(struct vdm_ctx *ctx, const struct vdm_spec *spec,
				  const struct vdm_config *cfg, const struct vdm_run_opts *o,
				  struct vdm_run_result *r)
{
	static const struct vdm_run_opts defaults = {.lock_timeout_ms = -1};
	if (!o)
		o = &defaults;
	memset(r, 0, sizeof(*r));
	char *why = vdm_root_problem(ctx);
	if (why)
		return finish(r, VDM_RUN_FAILED, why);
	if (o->dry_run)
		return apply_locked(ctx, spec, cfg, o, r);

	char *err = NULL;
	int lock = vdm_lock(ctx, o->lock_timeout_ms < 0 ? 60000 : o->lock_timeout_ms, &err);
	if (lock < 0)
		return finish(r, lock == -ETIMEDOUT ? VDM_RUN_LOCKED : VDM_RUN_FAILED, err);
	if (o->critical)
		o->critical(true, o->critical_data);
	apply_locked(ctx, spec, cfg, o, r);
	vdm_unlock(lock);
	if (o->critical)
		o->critical(false, o->critical_data);
	return r->status;
}

enum vdm_run_status vdm_run_assert(struct vdm_ctx *ctx, const struct vdm_spec *spec,
				   const struct vdm_config *cfg, struct vdm_run_result *r)
{
	struct vdm_plan *plan = NULL;
	char *err = NULL;
	memset(r, 0, sizeof(*r));
	char *why = vdm_root_problem(ctx);
	if (why) {
		r->host_error = true;
		return finish(r, VDM_RUN_FAILED, why);
	}
	vdm_dbg(ctx, "Asserting vGPU device configuration...");
	if (vdm_journal_exists(ctx))
		vdm_warn(ctx, "an earlier apply did not finish (%s is there): the next apply "
			 "restores the GPUs it was changing", "/" VDM_JOURNAL_FILE);
	if (vdm_host_scan(ctx, &r->host, &err) < 0 ||
	    vdm_plan_build(r->host, spec, cfg, 0, &plan, &err) < 0) {
		r->host_error = true;
		return finish(r, VDM_RUN_FAILED, err);
	}
	bool applied = vdm_plan_applied(plan);
	if (!applied)
		err = vdm_plan_mismatch(plan);
	vdm_plan_free(plan);
	return finish(r, applied ? VDM_RUN_OK : VDM_RUN_FAILED, err);
}
