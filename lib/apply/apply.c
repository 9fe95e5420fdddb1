/* SPDX-License-Identifier: Apache-2.0 */
#include "apply.h"
#include "journal.h"
#include "mig_apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What an errno from the driver means, for a create or for a remove. */
static const char *errno_hint(int e, bool removing)
{
	if (removing)
		switch (e) {
		case EPERM:
		case EBUSY:
			return " (the vGPU is in use: a VM or another process holds it)";
		case EIO:
			return " (the driver refused to destroy it: a VM may still hold it, or the "
			       "vGPU manager is in a bad state; see the kernel log)";
		case ENOENT:
		case ENODEV:
			return " (it is gone: something else removed it meanwhile)";
		default:
			return "";
		}
	switch (e) {
	case EIO:
		return " (the driver refused: no room on the GPU, or a vGPU type it cannot hold "
		       "next to the existing ones)";
	case EEXIST:
		return " (a vGPU with this UUID already exists)";
	case EPERM:
	case EBUSY:
		return " (the parent device is busy)";
	default:
		return "";
	}
}

static const char *type_name(const struct vdm_parent *p, int type)
{
	return type >= 0 ? p->gpu->types[type].name : "(unlisted type)";
}

/* Put the GPUs the plan changes back as they were before the run (the
 * vGPUs this run created go, those it removed come back with their ids on
 * their parents) and check. Returns the message to report. */
static char *restore(struct vdm_host *h, const struct vdm_plan *plan, unsigned changed, char *cause,
		     enum vdm_rollback *outcome)
{
	if (changed == 0) {
		*outcome = VDM_ROLLBACK_NONE;
		char *msg = vdm_strdupf("%s; nothing had been changed", cause);
		free(cause);
		return msg;
	}
	struct vdm_snapshot before;
	struct vdm_host *now = NULL;
	char *rerr = NULL;
	vdm_snapshot_of_plan(plan, &before);
	int rc = vdm_host_scan(h->ctx, &now, &rerr);
	if (rc == 0)
		rc = vdm_restore(&now, &before, &rerr);
	vdm_snapshot_free(&before);
	vdm_host_free(now);
	*outcome = rc == 0 ? VDM_ROLLBACK_DONE : VDM_ROLLBACK_FAILED;
	char *msg = rc == 0 ? vdm_strdupf("%s; the host was restored to its previous state", cause)
			    : vdm_strdupf("%s; ROLLBACK FAILED (%s): the host is not in its previous "
					  "state, check it with 'nvidia-vgpu-dm list'", cause, rerr);
	free(rerr);
	free(cause);
	return msg;
}

static bool has_uuid(const struct vdm_gpu *g, const char *uuid, const char *type_id)
{
	for (size_t v = 0; v < g->n_vgpus; v++)
		if (!strcmp(g->vgpus[v].id, uuid))
			return !strcmp(g->vgpus[v].type_id, type_id);
	return false;
}

/* Scan again: every selected GPU matches and every kept or created vGPU is there. */
static char *verify(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
		    const struct vdm_plan *plan)
{
	struct vdm_host *now = NULL;
	struct vdm_plan *check = NULL;
	char *err = NULL;
	if (vdm_host_scan(h->ctx, &now, &err) < 0 || vdm_plan_build(now, spec, cfg, 0, &check, &err) < 0) {
		char *msg = vdm_strdupf("verification failed: %s", err);
		free(err);
		vdm_host_free(now);
		return msg;
	}
	char *mismatch = vdm_plan_mismatch(check);
	for (size_t i = 0; !mismatch && i < plan->n_gpus; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		for (size_t o = 0; !mismatch && o < gp->n_ops; o++) {
			const struct vdm_op *op = &gp->ops[o];
			if (op->kind != VDM_OP_REMOVE &&
			    !has_uuid(&now->gpus[i], op->id, gp->gpu->types[op->type].id))
				mismatch = vdm_strdupf("vGPU %s (%s) is missing", op->id,
						       gp->gpu->types[op->type].name);
		}
	}
	vdm_plan_free(check);
	vdm_host_free(now);
	if (!mismatch)
		return NULL;
	char *msg = vdm_strdupf("verification failed after applying: %s", mismatch);
	free(mismatch);
	return msg;
}

int vdm_apply(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
	      const struct vdm_plan *plan, struct vdm_apply_stats *stats, char **err)
{
	struct vdm_apply_stats st = {0};
	char *cause = NULL;
	int rc = 0;

	for (size_t i = 0; i < plan->n_gpus && !cause; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		char lbl[64];
		if (gp->matches) {
			if (gp->entry)
				vdm_dbg(h->ctx, "GPU %d: already as wanted, not touched", gp->gpu->index);
			continue;
		}
		vdm_gpu_label(gp->gpu, lbl, sizeof(lbl));
		bool mig_done = false;
		for (size_t o = 0; o <= gp->n_ops && !cause; o++) {
			/* MIG steps: after the removes, before the creates */
			if (!mig_done && (o == gp->n_ops || gp->ops[o].kind == VDM_OP_CREATE)) {
				unsigned n = 0;
				mig_done = true;
				rc = vdm_mig_apply(h, gp, &n, &st.reset_refused, &cause);
				st.mig_steps += n;
				if (rc < 0)
					break;
			}
			if (o == gp->n_ops)
				break;
			const struct vdm_op *op = &gp->ops[o];
			const struct vdm_backend *be = gp->gpu->be;
			if (op->kind == VDM_OP_KEEP) {
				st.kept++;
				continue;
			}
			bool removing = op->kind == VDM_OP_REMOVE;
			if (removing) {
				struct vdm_vgpu v = {.parent = op->parent, .type = op->type};
				memcpy(v.id, op->id, sizeof(v.id));
				rc = be->destroy(h, &v);
			} else {
				rc = be->create(h, op->parent, op->type, op->id);
			}
			vdm_dbg(h->ctx, "%s: %s %s vGPU %s on %s: %s", lbl, removing ? "remove" : "create",
				type_name(op->parent, op->type), op->id, op->parent->addr,
				rc ? strerror(-rc) : "ok");
			if (rc < 0)
				cause = vdm_strdupf("%s: %s %s vGPU %s on %s failed: %s%s", lbl,
						    removing ? "removing" : "creating",
						    type_name(op->parent, op->type), op->id,
						    op->parent->addr, strerror(-rc), errno_hint(-rc, removing));
			else if (removing)
				st.removed++;
			else
				st.created++;
		}
	}
	if (!cause)
		cause = verify(h, spec, cfg, plan);
	if (cause) {
		*err = restore(h, plan, st.removed + st.created + st.mig_steps, cause, &st.rollback);
		rc = rc < 0 ? rc : -EIO;
	} else {
		rc = 0;
	}
	if (stats)
		*stats = st;
	return rc;
}
