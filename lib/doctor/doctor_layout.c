/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor on the hypervisor, the vGPUs and the layout: host.journal,
 * host.vgpus, host.vgpus.guest-driver, and with -f/-c host.config.plan and
 * host.config.applied, planned by vdm_run_apply with dry_run, the code
 * behind `apply --dry-run`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_int.h"
#include "host/host.h"
#include "apply/apply.h"
#include "plan/plan.h"

void dr_host_journal(struct vdm_doctor *d)
{
	struct vdm_check *c;
	if (vdm_journal_exists(d->ctx)) {
		c = vdm_doctor_add(d, "host.journal", NULL, VDM_CHECK_FAIL,
				   "an apply died midway: its journal is still there");
		vdm_check_evidence(c, dr_path(d, VDM_JOURNAL_FILE), "present");
		vdm_check_remedy(c, "run nvidia-vgpu-dm apply (with your -f/-c) again: it restores the GPUs the "
				 "journal names first, then applies");
	} else {
		c = vdm_doctor_add(d, "host.journal", NULL, VDM_CHECK_OK, "no unfinished apply");
		vdm_check_evidence(c, dr_path(d, VDM_JOURNAL_FILE), "absent");
	}
}

void dr_host_vgpus(struct vdm_doctor *d, struct vdm_host *h, bool have_smi, const char *host_version)
{
	size_t n = 0, gpus = 0;
	for (size_t i = 0; i < h->n_gpus; i++) {
		n += h->gpus[i].n_vgpus;
		gpus += h->gpus[i].n_vgpus > 0;
	}
	int used = n ? vdm_host_find_users(h) : 0;
	struct vdm_check *c;
	if (!n) {
		vdm_doctor_add(d, "host.vgpus", NULL, VDM_CHECK_OK, "no vGPUs exist yet");
	} else {
		c = vdm_doctor_add(d, "host.vgpus", NULL, VDM_CHECK_OK, "%zu vGPU%s on %zu GPU%s, %d held by a process",
				   n, n == 1 ? "" : "s", gpus, gpus == 1 ? "" : "s", used < 0 ? 0 : used);
		int shown = 0;
		for (size_t i = 0; i < h->n_gpus && shown < 3; i++)
			for (size_t v = 0; v < h->gpus[i].n_vgpus && shown < 3; v++) {
				const struct vdm_vgpu *vg = &h->gpus[i].vgpus[v];
				if (!vg->user_pid)
					continue;
				char rel[64];
				snprintf(rel, sizeof(rel), "proc/%d/fd", vg->user_pid);
				vdm_check_evidence(c, dr_path(d, rel), "%s holds %s (vGPU %s)",
						   vg->user_cmd ? vg->user_cmd : "?", vg->user_node ? vg->user_node : "?",
						   vg->id);
				shown++;
			}
	}

	/* Guest drivers the VMs run, against the host's branch. */
	if (!have_smi) {
		vdm_doctor_add(d, "host.vgpus.guest-driver", NULL, VDM_CHECK_SKIP, "nvidia-smi is not available");
		return;
	}
	const char *out, *cmd;
	static const char *const args[] = {"vgpu", "-q", NULL};
	int rc = vdm_doctor_cmd(d, "nvidia-smi", args, &out, &cmd);
	if (rc != 0) {
		c = vdm_doctor_add(d, "host.vgpus.guest-driver", NULL, VDM_CHECK_SKIP, "nvidia-smi vgpu -q failed");
		if (rc < 0)
			vdm_check_evidence(c, cmd, "%s", strerror(-rc));
		else
			vdm_check_evidence(c, cmd, "exit status %d", rc);
		return;
	}
	struct vdm_smi_vgpu *v;
	size_t nv = vdm_smi_vgpu_parse(out, &v);
	int hp[4];
	int host_branch = vdm_version_parse(host_version, hp) ? hp[0] : 0;
	size_t loaded = 0, newer = 0, older = 0;
	const struct vdm_smi_vgpu *bad = NULL;
	for (size_t i = 0; i < nv; i++) {
		int gp[4];
		if (!vdm_version_parse(v[i].guest_driver, gp))
			continue;
		loaded++;
		if (host_branch && gp[0] > host_branch) {
			newer++;
			bad = &v[i];
		} else if (host_branch && gp[0] < host_branch) {
			older++;
			if (!bad)
				bad = &v[i];
		}
	}
	if (!loaded) {
		vdm_doctor_add(d, "host.vgpus.guest-driver", NULL, VDM_CHECK_SKIP,
			       nv ? "no VM has loaded its guest driver yet" : "no vGPU is in a running VM");
	} else {
		enum vdm_check_result r = newer ? VDM_CHECK_FAIL : older ? VDM_CHECK_WARN : VDM_CHECK_OK;
		c = vdm_doctor_add(d, "host.vgpus.guest-driver", NULL, r,
				   "%zu VM%s report a guest driver: %zu of branch R%d, %zu older, %zu newer", loaded,
				   loaded == 1 ? "" : "s", loaded - newer - older, host_branch, older, newer);
		if (bad) {
			vdm_check_evidence(c, cmd, "VM %s (%s): Guest Driver Version : %s", bad->vm_name, bad->name,
					   bad->guest_driver);
			vdm_check_remedy(c, newer ? "a guest driver newer than the host's branch is not supported: install "
						    "the guest driver of the host's vGPU release in that VM"
						  : "older guest branches work only as the previous branch under a later "
						    "(LTS) vGPU Manager: check the release notes, or update the guest driver");
		}
	}
	free(v);
}

static void count_ops(const struct vdm_plan *p, size_t *cr, size_t *rm, size_t *kp)
{
	*cr = *rm = *kp = 0;
	for (size_t i = 0; i < p->n_gpus; i++) {
		*cr += p->gpus[i].n_create;
		*rm += p->gpus[i].n_remove;
		*kp += p->gpus[i].n_keep;
	}
}

void dr_host_config(struct vdm_doctor *d, const struct vdm_run_result *r)
{
	const struct vdm_spec *spec = d->opts->spec;
	const struct vdm_config *cfg = d->opts->cfg;
	struct vdm_check *c;
	if (r->status != VDM_RUN_OK || !r->plan) {
		c = vdm_doctor_add(d, "host.config.plan", cfg->label, VDM_CHECK_FAIL, "apply would refuse: %s",
				   r->message ? r->message : "no plan");
		vdm_check_evidence(c, spec->source, "line %d: label %s", cfg->pos.line, cfg->label);
		if (r->status == VDM_RUN_IN_USE)
			vdm_check_remedy(c, "stop the VM that holds the vGPU (pid %d), or choose a layout that keeps it; "
					 "apply --force removes it anyway", r->in_use.pid);
		else
			vdm_check_remedy(c, "change the layout or the host as the message says; nvidia-vgpu-dm apply "
					 "--dry-run -f %s -c %s shows the same plan", spec->source, cfg->label);
		vdm_doctor_add(d, "host.config.applied", cfg->label, VDM_CHECK_SKIP, "the layout cannot be planned here");
		return;
	}
	if (vdm_plan_applied(r->plan)) {
		c = vdm_doctor_add(d, "host.config.plan", cfg->label, VDM_CHECK_OK,
				   "can be applied here: %zu GPU%s selected", r->plan->n_selected,
				   r->plan->n_selected == 1 ? "" : "s");
		vdm_check_evidence(c, spec->source, "line %d: label %s", cfg->pos.line, cfg->label);
		vdm_doctor_add(d, "host.config.applied", cfg->label, VDM_CHECK_OK, "applied");
		return;
	}
	size_t cr, rm, kp;
	count_ops(r->plan, &cr, &rm, &kp);
	c = vdm_doctor_add(d, "host.config.plan", cfg->label, VDM_CHECK_OK,
			   "can be applied here: %zu to create, %zu to remove, %zu kept", cr, rm, kp);
	vdm_check_evidence(c, spec->source, "line %d: label %s", cfg->pos.line, cfg->label);
	char *mismatch = vdm_plan_mismatch(r->plan);
	c = vdm_doctor_add(d, "host.config.applied", cfg->label, VDM_CHECK_WARN, "not applied: %s",
			   mismatch ? mismatch : "differs");
	vdm_check_remedy(c, "nvidia-vgpu-dm apply -f %s -c %s", spec->source, cfg->label);
	free(mismatch);
}
