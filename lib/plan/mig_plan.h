/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MIG steps of a GPU plan (mig_plan.c): GIs destroyed, the MIG mode
 * changed, GIs created, fitting GIs reused. The MIG state they start from
 * is the host scan's (host/mig.h).
 */
#ifndef VGPUDM_MIG_PLAN_H
#define VGPUDM_MIG_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"

struct vdm_gpu_plan;

enum vdm_mig_step_kind {
	VDM_MIG_DESTROY_GI,
	VDM_MIG_MODE,
	VDM_MIG_CREATE_GI,
	VDM_MIG_REUSE_GI,
};

struct vdm_mig_step {
	enum vdm_mig_step_kind kind;
	int mode;                   /* VDM_MIG_MODE: 0 or 1 */
	unsigned gi_id;             /* destroy, reuse */
	unsigned profile_id;        /* GI steps */
	unsigned start, size;       /* GI placement */
};

struct vdm_mig_plan {
	struct vdm_mig_step *steps; /* destroys, mode, creates; reuses (no action) last */
	size_t n_steps;
};

/* Does the GPU plan want MIG-backed types? */
bool vdm_mig_wants(const struct vdm_gpu_plan *gp);

/* After the diff: a GPU whose vGPUs match is still unapplied when MIG mode is
 * off, a MIG-backed vGPU is not in a GI of its type's profile, or a GI holds
 * no vGPU (GPU instances the layout does not use are destroyed). */
void vdm_mig_match(struct vdm_gpu_plan *gp);
/* With the plan's removes known: the MIG steps (gp->mig), every check
 * before a write. 0 or -errno with *err one line. */
int vdm_mig_plan(struct vdm_host *h, struct vdm_gpu_plan *gp, char **err);
/* Does the plan change MIG state (mode or GIs)? */
bool vdm_mig_plan_changes(const struct vdm_gpu_plan *gp);
void vdm_mig_plan_free(struct vdm_mig_plan *mp);

#endif
