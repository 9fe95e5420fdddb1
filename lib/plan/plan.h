/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan: the selected configuration against the scanned host, per GPU, as a
 * list of operations (keep, remove, create). Building a plan for apply checks
 * everything that can be checked before the first write: every type is
 * offered by its GPU, counts fit the GPU, there are enough parents.
 */
#ifndef VGPUDM_PLAN_H
#define VGPUDM_PLAN_H

#include "host/host.h"
#include "spec/spec.h"

enum vdm_op_kind {
	VDM_OP_KEEP,
	VDM_OP_REMOVE,
	VDM_OP_CREATE,
};

struct vdm_op {
	enum vdm_op_kind kind;
	struct vdm_parent *parent;
	int type;                       /* index in gpu->types; -1 for an unknown type being removed */
	char id[VDM_ID_LEN];
	bool random_id;                 /* a create whose id is a random UUID drawn for this plan
					   only: another run draws another (shown as such) */
};

struct vdm_mig_plan;

struct vdm_gpu_plan {
	struct vdm_gpu *gpu;
	const struct vdm_entry *entry;  /* NULL: no entry selects this GPU; it is left alone */
	int *want;                      /* per type of the GPU */
	bool matches;                   /* the GPU already has exactly what is wanted */
	struct vdm_op *ops;             /* removes, then keeps, then creates */
	size_t n_ops;
	size_t n_keep, n_remove, n_create;
	struct vdm_mig_plan *mig;       /* MIG steps (mig.h), NULL: none */
};

struct vdm_plan {
	struct vdm_host *host;
	struct vdm_gpu_plan *gpus;      /* one per host GPU, same order */
	size_t n_gpus;
	size_t n_selected;
};

enum {
	VDM_PLAN_CHECK = 1 << 0,        /* check capacity and place creates (for apply) */
	VDM_PLAN_FORCE = 1 << 1,        /* with CHECK: remove vGPUs a process holds (warns) */
	VDM_PLAN_SKIP_NO_VFS = 1 << 2,  /* leave out GPUs with SR-IOV and no usable VFs (checking
					   the others before --enable-sriov makes VFs) */
};

/* Build a plan for config cfg of spec. Returns 0, or -errno with *err set to
 * one line naming the GPU (and the file position where the config is at fault):
 * -EBUSY when it would remove a vGPU in use (see vdm_host_find_users). */
int vdm_plan_build(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
		   unsigned flags, struct vdm_plan **out, char **err);
void vdm_plan_free(struct vdm_plan *plan);
/* True when every selected GPU already matches. */
bool vdm_plan_applied(const struct vdm_plan *plan);
/* A one-line description of the first GPU that does not match, or NULL. */
char *vdm_plan_mismatch(const struct vdm_plan *plan);
/* "2 x T4-4Q, 1 x T4-8Q" or "no vGPUs"; for a GPU's wanted or current state. */
char *vdm_counts_str(const struct vdm_gpu *gpu, const int *counts);
int *vdm_gpu_current_counts(const struct vdm_gpu *gpu);

/* Why label is not in spec, for the text after "selected vgpu-config not
 * present: LABEL; " (plan_hint.c): "did you mean T4-4Q? " when labels are
 * close by edit distance, then "FILE has: A, B, ..." (up to 12, then the
 * total); with h (NULL: none, the host could not be scanned) the labels that
 * lay out a GPU of h come first: "FILE has, for this host's GPUs: A, B;
 * others: C, ...". Labels are quoted as vdm_quote does. malloc'd. */
char *vdm_labels_hint(const struct vdm_spec *s, const char *label, const struct vdm_host *h);

/* The rest of the plan wing's face: MIG steps. */
#include "mig_plan.h"

#endif
