/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's calls into libvgpudm: assert and apply, in-process. */
#ifndef VGPUDM_AGENT_APPLY_H
#define VGPUDM_AGENT_APPLY_H

#include "agent.h"
#include "spec/spec.h"

struct agent_result {
	bool ok;
	const char *reason;     /* Event reason: Applied, VGPUInUse, ApplyFailed, ... (static) */
	char *msg;              /* one line: what failed, which GPU/vGPU/process, rollback outcome */
	unsigned created, removed, kept;
	bool reboot_completes;  /* a MIG mode change needs a GPU reset the driver refused */
};

/* An unfinished apply's journal is on the host. */
bool agent_journal_pending(struct agent *a);
/* Check the layout against the host without writing: 1 already applied;
 * 0 it can be applied (apply would pass every check, in-use vGPUs
 * included); -1 apply would refuse it, or the host cannot be read (*reason
 * "VGPUInUse" or "Refused", *err why). One dry run of lib/run. */
int agent_check(struct agent *a, const struct vdm_spec *spec, const struct vdm_config *cfg,
		const char **reason, char **err);
/* Apply (lock, recover, plan, in-use refusal, journal, execute, verify,
 * roll back) and fill r. Stop signals stay blocked (signalfd) meanwhile, so
 * an apply always finishes or rolls back. */
void agent_apply(struct agent *a, const struct vdm_spec *spec, const struct vdm_config *cfg,
		 struct agent_result *r);
void agent_result_free(struct agent_result *r);

#endif
