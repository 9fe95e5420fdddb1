/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run: a whole apply or assert, as every front end runs it (the CLI, the
 * Kubernetes agent in-process). An apply takes the lock, restores what an
 * interrupted apply's journal records, enables SR-IOV VFs when asked, builds
 * the plan with every check, refuses to remove a vGPU in use, writes the
 * journal, carries the plan out (vdm_apply: verify, roll back), removes the
 * journal. It never prints (messages go to the context's log callback) and
 * never exits; the caller decides what to do with signals through hooks.
 */
#ifndef VGPUDM_RUN_H
#define VGPUDM_RUN_H

#include "apply.h"

/* The outcome class of a run: the CLI's exit codes (README, "Exit codes"). */
enum vdm_run_status {
	VDM_RUN_OK = 0,              /* applied, already applied, planned (dry run); asserted */
	VDM_RUN_FAILED = 1,          /* refused before any change, or failed and restored;
					assert: not applied */
	VDM_RUN_IN_USE = 3,          /* would remove a vGPU a process holds; nothing changed */
	VDM_RUN_LOCKED = 4,          /* another apply held the lock past lock_timeout_ms */
	VDM_RUN_ROLLBACK_FAILED = 5, /* failed and the host could not be restored (journal kept) */
};

struct vdm_run_opts {
	bool dry_run;              /* plan only: no lock, no write; the plan is returned */
	bool force;                /* remove vGPUs in use (each one is warned about) */
	bool enable_sriov;         /* run sriov-manage -e for selected GPUs without VFs */
	int sriov_timeout_ms;      /* for sriov-manage and the VFs to appear; 0: 120000 */
	int lock_timeout_ms;       /* wait for another apply's lock; < 0: 60000, 0: do not wait */
	/* Called once the lock is held, before anything else (hold_signals true), and
	 * once it is released (false). The CLI blocks SIGTERM/SIGINT/SIGHUP/SIGQUIT
	 * there so a stop waits until the host is consistent. May be NULL. */
	void (*critical)(bool hold_signals, void *data);
	void *critical_data;
};

/* The process that holds a vGPU an apply refused to remove (VDM_RUN_IN_USE). */
struct vdm_run_in_use {
	int gpu_index;
	char gpu[VDM_ADDR_LEN];        /* the GPU's PCI address */
	char vgpu[VDM_ID_LEN];         /* its UUID (mdev) or VF address (vendor VFIO) */
	char type[64];                 /* its type name (or type id if unnamed) */
	char parent[VDM_ADDR_LEN];
	int pid;
	char cmd[256];                 /* the process's command line */
	char vm[128];                  /* the VM it runs (QEMU -name guest=...), "" if not known */
	char node[128];                /* the /dev/vfio node it holds */
};

struct vdm_run_result {
	enum vdm_run_status status;
	char *message;                 /* one line: why it was refused or failed; NULL when OK */
	bool changed;                  /* vGPUs were created or removed (and stay so) */
	bool recovered;                /* an interrupted apply's journal was restored first */
	bool host_error;               /* assert: the host could not be read or planned (no GPU,
					  bad root...); message says why. Else a mismatch */
	bool reboot_completes;         /* failed because a MIG mode change needs a GPU reset the
					  driver refused: a reboot with the new mode would complete
					  it (the Kubernetes agent's WITH_REBOOT) */
	int sriov_enabled;             /* GPUs whose VFs this run enabled */
	struct vdm_apply_stats stats;  /* removed, created, kept; rollback outcome */
	struct vdm_run_in_use in_use;  /* status VDM_RUN_IN_USE: who holds what */
	struct vdm_plan *plan;         /* dry run (status OK): the plan, with its host */
	struct vdm_host *host;         /* the host plan was built against, owned by the result */
};

/* Apply cfg (a configuration of spec) to the host under ctx's root. Always
 * fills *r (free with vdm_run_result_free) and returns r->status. */
enum vdm_run_status vdm_run_apply(struct vdm_ctx *ctx, const struct vdm_spec *spec,
				  const struct vdm_config *cfg, const struct vdm_run_opts *o,
				  struct vdm_run_result *r);

/* Is cfg applied? VDM_RUN_OK, or VDM_RUN_FAILED with r->message saying why
 * not (the first GPU that differs, or what could not be read). Warns (log)
 * when an unfinished apply's journal is there. Never writes. */
enum vdm_run_status vdm_run_assert(struct vdm_ctx *ctx, const struct vdm_spec *spec,
				   const struct vdm_config *cfg, struct vdm_run_result *r);

void vdm_run_result_free(struct vdm_run_result *r);

/* Can ctx's root be scanned (a directory with sys/bus/pci/devices)? NULL, or
 * one malloc'd line saying what is wrong with it: missing, not a directory,
 * no sys/bus/pci/devices. Every command checks this first. */
char *vdm_root_problem(struct vdm_ctx *ctx);

/* vdm_labels_hint (plan.h) for a label spec does not have, with ctx's host
 * scanned when it can be (else from the file's labels alone, silently).
 * malloc'd. */
char *vdm_run_labels_hint(struct vdm_ctx *ctx, const struct vdm_spec *spec, const char *label);

/* Where this run finds the host, one malloc'd line for a start-up log:
 * "sysfs root /, host root /host (default /host, a mount point), lock
 * /host/run/nvidia-vgpu-dm.lock, journal /host/run/nvidia-vgpu-dm.journal,
 * driver root /driver-root, NVML /driver-root/usr/lib64/libnvidia-ml.so.1
 * (under the driver root), sriov-manage /usr/lib/nvidia/sriov-manage
 * (default, not found)". */
char *vdm_run_describe(struct vdm_ctx *ctx);

#endif
