/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apply: carry out a checked plan. Removes, then creates, GPU by GPU; every
 * change is recorded so that on any failure the host is put back as it was
 * (vGPUs this run created are removed, vGPUs it removed are made again with
 * their UUIDs on their parents); then the host is scanned again and checked.
 */
#ifndef VGPUDM_APPLY_H
#define VGPUDM_APPLY_H

#include "plan.h"

enum vdm_rollback {
	VDM_ROLLBACK_NONE,     /* nothing to undo */
	VDM_ROLLBACK_DONE,     /* the host is as it was before the run */
	VDM_ROLLBACK_FAILED,   /* it is not: see the message */
};

struct vdm_apply_stats {
	unsigned removed;
	unsigned created;
	unsigned kept;
	enum vdm_rollback rollback;
};

/* Returns 0 when the host now matches the config, or -errno with *err set to
 * one line; the line says whether the host was restored. */
int vdm_apply(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
	      const struct vdm_plan *plan, struct vdm_apply_stats *stats, char **err);

#endif
