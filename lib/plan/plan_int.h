/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to plan.c and plan_check.c. */
#ifndef VGPUDM_PLAN_INT_H
#define VGPUDM_PLAN_INT_H

#include "plan.h"

/* Append an operation to a GPU's plan; returns it. uuid may be NULL. */
struct vdm_op *vdm_plan_add_op(struct vdm_gpu_plan *gp, enum vdm_op_kind kind, struct vdm_parent *p,
				int type, const char *uuid);
/* The seeded UUID of ordinal k of a type on a GPU: UUIDv5 (vgpu-dm's fixed
 * namespace) of "<seed>/<GPU address>/<type name>/<k>". */
void vdm_seeded_uuid(const char *seed, const struct vdm_gpu *g, int type, int k,
		     char out[VDM_ID_LEN]);

/* The checks of a changing GPU, in this order; 0 or -errno with *err set
 * (one line naming the GPU). place_creates adds the create operations. */
int vdm_plan_check_capacity(const struct vdm_gpu_plan *gp, char **err);
int vdm_plan_check_sizes(struct vdm_host *h, const struct vdm_gpu_plan *gp, char **err);
int vdm_plan_place_creates(struct vdm_host *h, struct vdm_gpu_plan *gp, char **err);

#endif
