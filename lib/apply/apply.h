/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apply: carry out a checked plan. Removes, then creates, GPU by GPU, then
 * scans again and checks. On any failure the GPUs the plan changes are put
 * back as the plan's scan found them, with the same mechanism that recovers
 * from a journal (vdm_restore): vGPUs this run created go, those it removed
 * are made again with their ids on their parents; then it checks.
 */
#ifndef VGPUDM_APPLY_H
#define VGPUDM_APPLY_H

#include "plan/plan.h"

enum vdm_rollback {
	VDM_ROLLBACK_NONE,     /* nothing to undo */
	VDM_ROLLBACK_DONE,     /* the host is as it was before the run */
	VDM_ROLLBACK_FAILED,   /* it is not: see the message */
};

struct vdm_apply_stats {
	unsigned removed;
	unsigned created;
	unsigned kept;
	unsigned mig_steps;    /* MIG mode changes, GPU instances made or destroyed, VF toggles */
	bool reset_refused;    /* a MIG mode change failed because the GPU reset that activates it
				  was refused: a reboot with the new mode would complete it */
	enum vdm_rollback rollback;
};

/* Returns 0 when the host now matches the config, or -errno with *err set to
 * one line; the line says whether the host was restored. */
int vdm_apply(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
	      const struct vdm_plan *plan, struct vdm_apply_stats *stats, char **err);

/* The rest of the apply wing's face: the journal, pending journals, a whole run. */
#include "journal.h"
#include "pending.h"
#include "run.h"

#endif
