/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pending: the host as the next apply will start from it, when an
 * interrupted apply left a journal (see journal.h).
 */
#ifndef VGPUDM_PENDING_H
#define VGPUDM_PENDING_H

#include "host/host.h"

/* If a journal is there and view is true, change the in-memory host h
 * (nothing on disk) so that the GPUs it names have the vGPUs it records, as
 * the next apply's restore will make them, and set h->restored_view (the
 * driver's live available_instances then no longer describe h). Returns 0
 * when there is no journal, 1 with *note set to one line naming the journal
 * and the GPUs (and, with view, that h shows them restored), or -errno with
 * *err set when the journal cannot be read. */
int vdm_host_view_pending(struct vdm_host *h, bool view, char **note, char **err);

#endif
