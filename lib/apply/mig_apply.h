/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a GPU plan's MIG steps, and the MIG state in the journal:
 * recorded, written, parsed and restored (mig_apply.c).
 */
#ifndef VGPUDM_MIG_APPLY_H
#define VGPUDM_MIG_APPLY_H

#include <stdbool.h>
#include <stdio.h>

#include "journal.h"

/* Run the GPU plan's MIG steps (between removes and creates). Returns the
 * number of changes made (>= 0), or -errno with *cause set; *done counts the
 * changes made before a failure. *reset_refused (may be NULL) is set when a
 * MIG mode change failed because its GPU reset was refused (a reboot with
 * the new mode would complete it). */
int vdm_mig_apply(struct vdm_host *h, const struct vdm_gpu_plan *gp, unsigned *done, bool *reset_refused,
		  char **cause);

/* Journal: record the MIG state of the plan's changed GPUs in s, write and
 * parse its lines ("mig <gpu> <mode> <vfs>", "gi <gpu> <profile> <start>
 * <size>": a PCI address, then decimals without sign, mode 0 or 1). parse
 * adds the line's state to s: 0, or -EINVAL with *why (static) saying what
 * is wrong with it; nothing is added then. */
void vdm_mig_snapshot(const struct vdm_gpu *g, struct vdm_snapshot *s);
void vdm_mig_journal_write(FILE *f, const struct vdm_snapshot *s, const char *gpu);
int vdm_mig_journal_parse(const char *line, struct vdm_snapshot *s, const char **why);
/* Restore the snapshot's MIG mode, VF state and GIs (after the vGPUs not in
 * it are gone, before the missing ones are made). 0 or -errno; *failed
 * counts failed steps. *host is rescanned. */
int vdm_mig_restore(struct vdm_host **host, const struct vdm_snapshot *s, int *failed, char **err);
/* Is the host's MIG state the snapshot's? */
bool vdm_mig_restored(const struct vdm_host *h, const struct vdm_snapshot *s);

#endif
