/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mig: MIG-backed vGPUs natively, through NVML (doctor-plan-mig.md 3.4, 3.5,
 * 4). The scan adds to each MIG-capable GPU its MIG mode, GPU-instance (GI)
 * profiles, GIs, the GI profile and per-GI maximum of each type, and the GI
 * of each vGPU. The plan adds the MIG steps a layout needs: GIs destroyed,
 * the MIG mode changed, GIs created (ceil(vGPUs / per-GI maximum) per
 * (profile, vGPU size), largest profiles first, placed first-fit; fitting
 * GIs are reused). Apply runs them between the removes and the creates:
 * destroy GIs -> MIG mode (VFs disabled and enabled again around it when
 * the driver needs that) -> create GIs with their compute instance -> the
 * vGPUs. VFs are never enabled after GIs were made (that destroys them).
 * Journal and rollback record and restore the mode and the GIs.
 */
#ifndef VGPUDM_MIG_H
#define VGPUDM_MIG_H

#include <stdio.h>

#include <json-c/json.h>

#include "journal.h"
#include "nvml.h"

struct vdm_gi {
	unsigned id, profile_id, start, size; /* placement in memory slots */
	unsigned n_ci;
};

struct vdm_mig {
	int mode, pending;          /* 1 on, 0 off */
	struct vdm_nvml_gip *profiles;
	size_t n_profiles;
	struct vdm_gi *gis;
	size_t n_gis;
	int *type_gip;              /* per GPU type: GI profile id, -1 time-sliced */
	int *type_per_gi;           /* per GPU type: vGPUs one GI holds */
	int *vgpu_gi;               /* per vGPU (gpu->vgpus order): its GI id, -1 none or unknown */
};

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

/* Fill gpu->mig of the scanned host's MIG-capable GPUs (NVML needed;
 * without it gpu->mig stays NULL). */
void vdm_mig_scan(struct vdm_host *h);
void vdm_mig_free(struct vdm_mig *m);
/* The GI profile's name ("1g.5gb+me"), or "profile <id>". */
const char *vdm_mig_profile_name(const struct vdm_gpu *g, unsigned profile_id, char *buf, size_t len);
/* Does the type need a GPU instance? From NVML, else from its name. */
bool vdm_mig_type_backed(const struct vdm_gpu *g, int type);
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

/* Run the GPU plan's MIG steps (between removes and creates). Returns the
 * number of changes made (>= 0), or -errno with *cause set; *done counts the
 * changes made before a failure. *reset_refused (may be NULL) is set when a
 * MIG mode change failed because its GPU reset was refused (a reboot with
 * the new mode would complete it). */
int vdm_mig_apply(struct vdm_host *h, const struct vdm_gpu_plan *gp, unsigned *done, bool *reset_refused,
		  char **cause);

/* Journal: record the MIG state of the plan's changed GPUs in s, write and
 * parse its lines ("mig <gpu> <mode> <vfs>", "gi <gpu> <profile> <start>
 * <size>"); parse returns true for a MIG line. */
void vdm_mig_snapshot(const struct vdm_gpu *g, struct vdm_snapshot *s);
void vdm_mig_journal_write(FILE *f, const struct vdm_snapshot *s, const char *gpu);
bool vdm_mig_journal_parse(const char *line, struct vdm_snapshot *s);
/* Restore the snapshot's MIG mode, VF state and GIs (after the vGPUs not in
 * it are gone, before the missing ones are made). 0 or -errno; *failed
 * counts failed steps. *host is rescanned. */
int vdm_mig_restore(struct vdm_host **host, const struct vdm_snapshot *s, int *failed, char **err);
/* Is the host's MIG state the snapshot's? */
bool vdm_mig_restored(const struct vdm_host *h, const struct vdm_snapshot *s);

/* Printers: the plan's MIG steps (dry-run), a GPU's MIG state (list). */
void vdm_mig_print_plan(FILE *f, const struct vdm_gpu_plan *gp);
void vdm_mig_print_gpu(FILE *f, const struct vdm_gpu *g);
struct json_object *vdm_mig_json_plan(const struct vdm_gpu_plan *gp);
struct json_object *vdm_mig_json_gpu(const struct vdm_gpu *g);
/* export: one info line per GPU in MIG mode (its instances), which the
 * exported MIG-backed type names make again. */
void vdm_mig_export_note(struct vdm_ctx *ctx, const struct vdm_gpu *g);

#endif
