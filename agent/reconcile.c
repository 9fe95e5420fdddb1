/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One reconcile: the layout the label names (or DEFAULT_VGPU_CONFIG) against
 * the host, as upstream's updateConfig (reference §1.6) with its wedges
 * removed (§7):
 *   parse the file and find the layout (fails: state failed, Event; for a
 *   label the file does not have, the labels it may mean, as the CLI's -c)
 *   already applied (no unfinished journal): state success
 *   otherwise: state pending + operands paused (one write), wait (bounded)
 *   for their pods to go, apply through libvgpudm (plan, in-use refusal,
 *   journal, rollback), then state success/failed + operands restored (one
 *   write).
 * Every way out restores operand labels that read paused-for-vgpu-change,
 * also the "already applied" and "invalid file" ones, so a restart after a
 * kill -9 heals the node. A failure is retried after 10 s, 20 s, ... up to
 * 5 min (each plus up to 10% jitter) while nothing changes; a new label value
 * or layout retries at once. The same label and layout as the last attempt
 * (a touched file, a ConfigMap rewritten with the same content, an edit of
 * another layout) is not applied again, whatever the outcome was: a failure
 * waits for its retry, so no storm of applies or Events. WITH_REBOOT: an apply that a reboot would complete (a MIG mode
 * change whose GPU reset was refused) reboots the node, once: see reboot().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_apply.h"
#include "apply/apply.h"
#include "metrics.h"
#include "spec/spec.h"

long retry_delay_ms(const struct agent *a)
{
	double base = a->o.retry_base_s * 1000, d = base;
	for (int i = 1; i < a->failures && d < base * 30; i++)
		d *= 2;
	if (d > base * 30)
		d = base * 30;
	return d < 1 ? 1 : (long)d;
}

/* The selected layout written out without positions: equal strings, equal
 * layouts. */
static char *layout_key(const char *label, const struct vdm_config *cfg)
{
	char *k = vdm_strdupf("%s|", label);
	for (size_t i = 0; i < cfg->n_entries; i++) {
		const struct vdm_entry *e = &cfg->entries[i];
		char *n = vdm_strdupf("%s[f", k);
		free(k);
		k = n;
		for (size_t j = 0; j < e->n_filters; j++) {
			char id[32];
			vdm_devid_format(&e->filters[j], id, sizeof(id));
			n = vdm_strdupf("%s,%s", k, id);
			free(k);
			k = n;
		}
		n = vdm_strdupf("%s;d%s", k, e->all_devices ? "all" : "");
		free(k);
		k = n;
		for (size_t j = 0; j < e->n_devices; j++) {
			n = vdm_strdupf("%s,%d", k, e->devices[j]);
			free(k);
			k = n;
		}
		for (size_t j = 0; j < e->n_types; j++) {
			n = vdm_strdupf("%s;%s=%d", k, e->types[j].type, e->types[j].count);
			free(k);
			k = n;
		}
		n = vdm_strdupf("%s]", k);
		free(k);
		k = n;
	}
	return k;
}

static const char *selected(const struct agent *a)
{
	return a->label ? a->label : a->o.default_config;
}

/* Kubernetes' wait.Jitter(d, 0.1): d plus up to 10%. */
static long jitter(long d)
{
	return d + random() % (d / 10 + 1);
}

/* The end of every reconcile: state, operands back, Event, retry timer. */
static void finish(struct agent *a, bool ok, char *key, bool warning, const char *reason,
		   const char *note)
{
	char *err = NULL;
	bool written = node_set(a, ok ? "success" : "failed", false, &err) == 0;
	if (!written) {
		vdm_err(a->ctx, "cannot write the node's state (%s): %s", ok ? "success" : "failed", err);
		free(err);
	}
	event_post(a, warning, reason, "%s", note);
	if (written)
		metrics_state(a, ok ? "success" : "failed", selected(a));
	metrics_outcome(a, ok && written, !ok ? reason : "StateNotWritten");
	metrics_host(a);
	free(a->last_key);
	a->last_key = key;
	a->last_ok = ok && written;
	if (a->last_ok) {
		a->after_reboot = false;
		a->failures = 0;
		a->retry_armed = false;
	} else {
		a->failures++;
		a->retry_armed = true;
		a->retry_ms = jitter(retry_delay_ms(a));
		vdm_info(a->ctx, "trying again in %.1fs unless the label or the config changes first",
			 a->retry_ms / 1000.0);
	}
}

/* WITH_REBOOT after an apply that a reboot would complete (the MIG mode
 * change's GPU reset was refused; the host was restored): state rebooting
 * and operands restored (one write, on the Node before anything else), an
 * Event, `chroot HOST_ROOT_MOUNT reboot`, and the agent stops (exit 0). The
 * persisted "rebooting" is what stops a loop: the next start that fails the
 * same way sets failed instead. false (nothing done but the log) when the
 * state cannot be written or the reboot cannot be started: the caller then
 * reports the failure as usual. */
static bool reboot(struct agent *a, const char *label, const char *why)
{
	char *err = NULL;
	if (node_set(a, "rebooting", false, &err) < 0) {
		vdm_err(a->ctx, "not rebooting: cannot write the node's state (rebooting): %s", err);
		free(err);
		return false;
	}
	metrics_state(a, "rebooting", label);
	event_post(a, true, "Rebooting", "vGPU config %s: %s; rebooting the node to complete the MIG "
		   "mode change", label, why ? why : "apply failed");
	vdm_info(a->ctx, "rebooting the node (chroot %s reboot)", agent_host_root(a));
	if (host_reboot(a, &err) < 0) {
		vdm_err(a->ctx, "cannot reboot: %s", err);
		free(err);
		return false;
	}
	a->stop = true;
	return true;
}

void reconcile(struct agent *a)
{
	bool retry = a->retry_due;
	a->retry_due = false;
	a->dirty = false;
	const char *label = selected(a);
	char *err = NULL;
	const char *st = a->node ? node_label(a->node, LABEL_STATE) : NULL;
	if (st && !strcmp(st, "rebooting") && !a->after_reboot) {
		vdm_info(a->ctx, "the node was rebooted for a MIG mode change: it will not be rebooted again");
		a->after_reboot = true;
	}

	/* The key of this attempt: the layout, or what is wrong with the file. */
	struct vdm_spec *spec = vdm_spec_load(a->o.config_file, &err);
	const struct vdm_config *cfg = spec ? vdm_spec_find(spec, label) : NULL;
	char *key = !spec ? vdm_strdupf("!invalid|%s|%s", label, err)
		    : !cfg ? vdm_strdupf("!unknown|%s", label) : layout_key(label, cfg);
	if (!retry && a->last_key && !strcmp(key, a->last_key)) {
		if (a->last_ok)
			vdm_dbg(a->ctx, "vGPU config %s unchanged and applied: nothing to do", label);
		else
			vdm_dbg(a->ctx, "vGPU config %s unchanged since the last attempt, which failed: "
				"nothing to do until the retry", label);
		free(key);
		free(err);
		vdm_spec_free(spec);
		return;
	}
	if (!spec) {
		char *note = vdm_strdupf("error parsing config file %s: %s; the host was not changed",
					 a->o.config_file, err);
		finish(a, false, key, true, "InvalidConfig", note);
		free(note);
		free(err);
		return;
	}
	if (!cfg) {
		/* As the CLI's -c error: the labels meant and those the file has,
		 * this host's first. The hint last: a long one is what the
		 * Event's 1024 bytes cut. */
		char *q = vdm_quote(label);
		char *hint = vdm_run_labels_hint(a->ctx, spec, label);
		char *note = vdm_strdupf("selected vgpu-config not present: %s (%s %s), the host was not "
					 "changed; %s", q, a->label ? "label" : "default",
					 a->label ? LABEL_CONFIG : "config", hint);
		finish(a, false, key, true, "UnknownConfig", note);
		free(note);
		free(hint);
		free(q);
		vdm_spec_free(spec);
		return;
	}
	vdm_info(a->ctx, "Updating to vGPU config: %s", label);

	/* Already there, or refused: no operand is paused for nothing. After an
	 * apply died midway (its journal is there) only apply can tell. */
	const char *reason = NULL;
	int rc = agent_journal_pending(a) ? 0 : agent_check(a, spec, cfg, &reason, &err);
	if (rc != 0) {
		char *note = rc > 0 ? vdm_strdupf("vGPU config %s is already applied", label)
			     : rc == -1 ? vdm_strdupf("vGPU config %s: %s; the host was not changed", label, err)
					: vdm_strdupf("cannot read the host: %s", err);
		finish(a, rc > 0, key, rc < 0, rc > 0 ? "AlreadyApplied" : reason ? reason : "HostUnreadable",
		       note);
		free(note);
		free(err);
		vdm_spec_free(spec);
		return;
	}

	/* Changing: pending, operands paused, their pods gone. */
	if (node_set(a, "pending", true, &err) < 0) {
		char *note = vdm_strdupf("cannot pause the sandbox operands on %s: %s; the host was "
					 "not changed", a->o.node_name, err);
		finish(a, false, key, true, "PauseFailed", note);
		free(note);
		free(err);
		vdm_spec_free(spec);
		return;
	}
	metrics_state(a, "pending", label);
	rc = node_wait_operands(a, &err);
	if (rc < 0) {
		char *note = rc == -EINTR ? vdm_strdupf("stopped before applying vGPU config %s; the "
							"host was not changed", label)
					  : vdm_strdupf("%s; the host was not changed", err);
		finish(a, false, key, true, rc == -EINTR ? "Interrupted" : "OperandsNotStopped", note);
		free(note);
		free(err);
		vdm_spec_free(spec);
		return;
	}

	struct agent_result r = {0};
	if (clients_stop(a, &err) < 0) {
		r.reason = "HostClientsNotStopped";
		r.msg = vdm_strdupf("%s; the host was not changed", err);
		free(err);
		err = NULL;
	} else {
		agent_apply(a, spec, cfg, &r);
	}
	if (a->host_clients_stopped)
		clients_start(a);
	if (!r.ok && r.reboot_completes && a->after_reboot) {
		char *note = vdm_strdupf("vGPU config %s: MIG mode change failed after reboot: %s", label,
					 r.msg ? r.msg : "apply failed");
		finish(a, false, key, true, "MIGModeChangeFailedAfterReboot", note);
		free(note);
		agent_result_free(&r);
		vdm_spec_free(spec);
		return;
	}
	if (!r.ok && r.reboot_completes && a->o.with_reboot && reboot(a, label, r.msg)) {
		free(key);
		agent_result_free(&r);
		vdm_spec_free(spec);
		return;
	}
	char *note;
	if (r.ok)
		note = vdm_strdupf("vGPU config %s applied: %u vGPUs created, %u removed, %u kept", label,
				   r.created, r.removed, r.kept);
	else
		note = vdm_strdupf("vGPU config %s: %s", label, r.msg ? r.msg : "apply failed");
	finish(a, r.ok, key, !r.ok, r.reason, note);
	free(note);
	agent_result_free(&r);
	vdm_spec_free(spec);
}
