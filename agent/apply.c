/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's calls into libvgpudm (lib/run: assert, dry run, apply), in-process. */
#include <stdlib.h>
#include <string.h>

#include "agent_apply.h"
#include "apply/apply.h"

bool agent_journal_pending(struct agent *a)
{
	return vdm_journal_exists(a->ctx);
}

static const char *reason_of(enum vdm_run_status st)
{
	switch (st) {
	case VDM_RUN_OK:
		return "Applied";
	case VDM_RUN_IN_USE:
		return "VGPUInUse";
	case VDM_RUN_LOCKED:
		return "Locked";
	case VDM_RUN_ROLLBACK_FAILED:
		return "RollbackFailed";
	default:
		return "ApplyFailed";
	}
}

int agent_check(struct agent *a, const struct vdm_spec *spec, const struct vdm_config *cfg,
		const char **reason, char **err)
{
	/* One dry run: every check apply makes before its first write, in-use
	 * vGPUs included; its plan also says whether anything would change. */
	struct vdm_run_opts o = {.dry_run = true, .force = a->o.force, .lock_timeout_ms = -1};
	struct vdm_run_result r = {0};
	enum vdm_run_status st = vdm_run_apply(a->ctx, spec, cfg, &o, &r);
	int rc;
	if (st == VDM_RUN_OK) {
		rc = r.plan && vdm_plan_applied(r.plan) ? 1 : 0;
	} else {
		*reason = st == VDM_RUN_IN_USE ? "VGPUInUse" : "Refused";
		*err = vdm_xstrdup(r.message ? r.message : "refused");
		rc = -1;
	}
	vdm_run_result_free(&r);
	return rc;
}

void agent_result_free(struct agent_result *r)
{
	free(r->msg);
	memset(r, 0, sizeof(*r));
}

void agent_apply(struct agent *a, const struct vdm_spec *spec, const struct vdm_config *cfg,
		 struct agent_result *r)
{
	/* Stop signals are already blocked (they are read from a signalfd), so
	 * no critical-section hook is needed: the apply finishes or rolls back. */
	struct vdm_run_opts o = {.force = a->o.force, .lock_timeout_ms = -1};
	struct vdm_run_result rr = {0};
	enum vdm_run_status st = vdm_run_apply(a->ctx, spec, cfg, &o, &rr);
	r->ok = st == VDM_RUN_OK;
	r->reason = reason_of(st);
	r->msg = rr.message ? vdm_xstrdup(rr.message) : NULL;
	r->created = rr.stats.created;
	r->removed = rr.stats.removed;
	r->kept = rr.stats.kept;
	r->reboot_completes = rr.reboot_completes;
	if (rr.recovered)
		vdm_info(a->ctx, "an interrupted apply's journal was restored first");
	vdm_run_result_free(&rr);
}
