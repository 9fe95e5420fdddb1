/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the sizing files (sizing.c, sizing_fit.c, sizing_out.c) only. */
#ifndef VGPUDM_SIZING_INT_H
#define VGPUDM_SIZING_INT_H

#include "sizing.h"

/* May this GPU hold different sizes (in mixed-size mode, or able to be and allowed)? */
bool vdm_sizing_mixed_ok(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r);
/* How many more vGPUs of types[t] the GPU takes beside what it holds: the
 * type's maximum, the frame buffer left (time-sliced), the VFs left. */
int vdm_sizing_room(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r, int t);
/* The type a group gets on a GPU with memory_mib per vGPU (0: any size), or
 * -1 with *why (malloc'd) saying why none. */
int vdm_sizing_choose(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r,
		      const struct vdm_sizing_group *grp, long memory_mib, char **why);
/* The series the request gives a GPU, and a note when it is not the one
 * asked for ("C-only GPU"); 0 if none. */
char vdm_sizing_series(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r,
		       bool mig, const char **note);
/* May the request use this type (not blocked on this host, not one its host driver lacks)? */
bool vdm_sizing_usable(const struct vdm_sizing_type *t, const struct vdm_sizing_request *r);
/* Start the GPU's allocations again from what VMs hold (group -1). */
void vdm_sizing_seed(struct vdm_sizing_gpu *g);
/* After a run with host_driver ANY: set s->dependent and s->alternative
 * (sizing_driver.c). */
void vdm_sizing_driver_alternative(struct vdm_sizing *s, const struct vdm_sizing_request *r);
/* "8 GB", "0.5 GB" */
void vdm_sizing_gb(long mib, char *buf, size_t len);
void vdm_sizing_unmet(struct vdm_sizing *s, char *line);
void vdm_sizing_set_label(struct vdm_sizing *s, char *label);
void vdm_sizing_reset(struct vdm_sizing *s);

#endif
