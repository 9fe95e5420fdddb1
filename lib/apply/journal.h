/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: the host's vGPUs as they were before an apply changed them,
 * written (and synced) under the root at run/nvidia-vgpu-dm.journal before the
 * first write and removed once the apply has finished, well or not. A journal
 * found by the next run means an apply died midway (killed, power loss): the
 * next run first puts those GPUs back as the journal says.
 * Also: the lock, run/nvidia-vgpu-dm.lock (flock), held for a whole apply.
 */
#ifndef VGPUDM_JOURNAL_H
#define VGPUDM_JOURNAL_H

#include "plan/plan.h"

#define VDM_LOCK_FILE "run/nvidia-vgpu-dm.lock"
#define VDM_JOURNAL_FILE "run/nvidia-vgpu-dm.journal"

/* Take the lock, waiting up to timeout_ms. Returns an fd to close to release
 * it, -ETIMEDOUT (with *err naming the holder), or another -errno. */
int vdm_lock(struct vdm_ctx *ctx, int timeout_ms, char **err);
void vdm_unlock(int fd);

/* Record the vGPUs of every GPU the plan changes. 0 or -errno. */
int vdm_journal_write(struct vdm_ctx *ctx, const struct vdm_plan *plan, char **err);
int vdm_journal_remove(struct vdm_ctx *ctx);
/* Is a journal of an unfinished apply there? */
bool vdm_journal_exists(struct vdm_ctx *ctx);
/* If a journal is there, restore what it records. Returns 0 if there was
 * none, 1 if the host was restored (journal removed), or -errno with *err
 * set (journal kept). *host is rescanned when anything was done. */
int vdm_journal_recover(struct vdm_host **host, char **err);
/* What a journal records: the GPUs concerned and their vGPUs. */
struct vdm_snap_vgpu {
	char gpu[VDM_ADDR_LEN];
	char id[VDM_ID_LEN];
	char type_id[32];
	char parent[VDM_ADDR_LEN];
};
/* MIG state of a GPU (mig.h): its mode and VF count, and its GPU instances. */
struct vdm_snap_mig {
	char gpu[VDM_ADDR_LEN];
	int mode, num_vfs;
};
struct vdm_snap_gi {
	char gpu[VDM_ADDR_LEN];
	unsigned profile_id, start, size;
};
struct vdm_snapshot {
	char (*gpus)[VDM_ADDR_LEN];
	size_t n_gpus;
	struct vdm_snap_vgpu *v;             /* the vGPUs before the run */
	size_t n;
	struct vdm_snap_vgpu *creates;       /* what the run was to create */
	size_t n_creates;
	int pid;                /* of the run that wrote it */
	struct vdm_snap_mig *mig;
	size_t n_mig;
	struct vdm_snap_gi *gi;
	size_t n_gi;
};
void vdm_snapshot_free(struct vdm_snapshot *s);
/* Read the journal into *s: 0 when there is none, 1 read, or -errno with
 * *err set when it is there but incomplete or unreadable. */
int vdm_journal_read(struct vdm_ctx *ctx, struct vdm_snapshot *s, char **err);
/* vdm_journal_read, then the checks recovery makes against the scanned host
 * h (a journal it would refuse is refused here too, with the same message). */
int vdm_journal_load(const struct vdm_host *h, struct vdm_snapshot *s, char **err);
/* The vGPUs, as scanned, of every GPU the plan changes. */
void vdm_snapshot_of_plan(const struct vdm_plan *plan, struct vdm_snapshot *s);

/* Make the vGPUs on the snapshot's GPUs equal to the snapshot's (the same
 * ids, types and parents): remove what is extra, create what is missing, then
 * check. *host is rescanned. 0, or -errno with *err set. */
int vdm_restore(struct vdm_host **host, const struct vdm_snapshot *snap, char **err);

#endif
