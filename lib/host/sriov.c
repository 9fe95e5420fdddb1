/* SPDX-License-Identifier: Apache-2.0 */
#include "sriov.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

void vdm_sriov_enabled_free(struct vdm_sriov_enabled *e)
{
	free(e->addrs);
	e->addrs = NULL;
	e->n = 0;
}

static bool needs_vfs(const struct vdm_gpu *g, const struct vdm_config *cfg)
{
	if (!g->sriov || g->fw != VDM_FW_NONE)
		return false;
	for (size_t e = 0; e < cfg->n_entries; e++)
		if (vdm_entry_selects(&cfg->entries[e], g->index, &g->id) && cfg->entries[e].n_types)
			return true;
	return false;
}

bool vdm_sriov_needed(const struct vdm_host *h, const struct vdm_config *cfg, size_t gpu)
{
	return gpu < h->n_gpus && needs_vfs(&h->gpus[gpu], cfg);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run "tool -e|-d addr" with what is left of the deadline. 0 when it exited
 * 0; 1 when it ran and failed (*err says how); -errno when it could not run
 * or was killed at the deadline. */
static int run_sriov_manage(struct vdm_ctx *ctx, const char *tool, const char *flag,
			    const char *addr, long deadline, int timeout_ms, char **err)
{
	vdm_info(ctx, "%s SR-IOV virtual functions: %s %s %s",
		 flag[1] == 'e' ? "Enabling" : "Disabling", tool, flag, addr);
	long left = deadline - now_ms();
	struct vdm_exec_opts o = {
		.timeout_ms = left > 0 ? (int)left : 1,
		.out = VDM_EXEC_CAPTURE,
		.err = VDM_EXEC_CAPTURE,
	};
	char *argv[] = {(char *)tool, (char *)flag, (char *)addr, NULL};
	struct vdm_exec_result r;
	char *why = NULL;
	int rc = vdm_exec(tool, argv, &o, &r, &why);
	if (rc == 0 && r.exit_code == 0) {
		vdm_exec_result_free(&r);
		return 0;
	}
	char *line = vdm_exec_last_line(&r);
	char *how = rc == -ETIMEDOUT ? vdm_strdupf("still running when the %d s of --sriov-timeout "
						   "ran out: killed", timeout_ms / 1000)
		    : rc == 0 ? vdm_exec_outcome(&r) : NULL;
	*err = vdm_strdupf("%s %s %s failed (%s)%s%s", tool, flag, addr, how ? how : why,
			   line ? ": " : "", line ? line : "");
	free(line);
	free(how);
	free(why);
	vdm_exec_result_free(&r);
	return rc < 0 ? rc : 1;
}

int vdm_sriov_manage(struct vdm_ctx *ctx, const char *addr, bool enable, int timeout_ms, char **err)
{
	char tool[4096], rel[VDM_PATH_MAX];
	const char *flag = enable ? "-e" : "-d";
	int rc = vdm_tool_find("sriov-manage", tool, sizeof(tool), NULL);
	long deadline = now_ms() + timeout_ms;
	if (rc < 0) {
		*err = vdm_strdupf("%s %s %s failed: cannot run it: %s", tool, flag, addr, strerror(-rc));
		return rc;
	}
	char *why = NULL;
	rc = run_sriov_manage(ctx, tool, flag, addr, deadline, timeout_ms, &why);
	if (rc < 0) {
		*err = why;
		return rc;
	}
	/* its status is not the verdict: sriov_numvfs is */
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/sriov_numvfs", addr);
	for (;;) {
		vdm_root_cache_flush(ctx); /* the VFs' directories come and go */
		int n = -1;
		if (vdm_sysfs_read_int(ctx, rel, &n) == 0 && (enable ? n > 0 : n == 0)) {
			free(why);
			return 0;
		}
		if (now_ms() >= deadline) {
			*err = why ? why : vdm_strdupf("%s: sriov_numvfs is %d %d s after %s %s %s", addr, n,
						       timeout_ms / 1000, tool, flag, addr);
			return -ETIMEDOUT;
		}
		if (why) { /* it failed and nothing changed */
			*err = why;
			return -EIO;
		}
		usleep(100 * 1000);
	}
}

int vdm_sriov_enable(struct vdm_host **hostp, const struct vdm_config *cfg, int timeout_ms,
		     struct vdm_sriov_enabled *done, char **err)
{
	struct vdm_host *h = *hostp;
	struct vdm_ctx *ctx = h->ctx;
	char tool[4096];
	int found = vdm_tool_find("sriov-manage", tool, sizeof(tool), NULL);
	long deadline = now_ms() + timeout_ms;
	int enabled = 0;
	/* Per GPU index: how its sriov-manage failed, for the messages below. */
	char **failed = vdm_xcalloc(h->n_gpus, sizeof(*failed));
	size_t n_failed = h->n_gpus;
	int rc = 0;
	for (size_t i = 0; i < h->n_gpus; i++) {
		if (!needs_vfs(&h->gpus[i], cfg))
			continue;
		if (found < 0) {
			*err = vdm_strdupf("%s -e %s failed: cannot run it: %s", tool, h->gpus[i].addr,
					   strerror(-found));
			rc = found;
			goto out;
		}
		char *why = NULL;
		if (done) {
			done->addrs = vdm_xrealloc(done->addrs, done->n + 1, sizeof(*done->addrs));
			snprintf(done->addrs[done->n++], VDM_ADDR_LEN, "%s", h->gpus[i].addr);
		}
		rc = run_sriov_manage(ctx, tool, "-e", h->gpus[i].addr, deadline, timeout_ms, &why);
		if (rc < 0) {
			*err = why;
			goto out;
		}
		if (rc > 0) /* Its status is not the verdict: the VFs are (see below). */
			vdm_warn(ctx, "%s; going by the VFs it made", why);
		if (h->gpus[i].index >= 0 && (size_t)h->gpus[i].index < n_failed)
			failed[h->gpus[i].index] = why;
		else
			free(why);
		enabled++;
	}
	rc = 0;
	if (!enabled)
		goto out;
	/* Wait until every GPU we enabled is seen by a backend. A GPU whose
	 * sriov-manage failed and that has no VF at all fails at once. */
	for (;;) {
		struct vdm_host *now = NULL;
		rc = vdm_host_scan(ctx, &now, err);
		if (rc < 0)
			goto out;
		const struct vdm_gpu *late = NULL;
		for (size_t i = 0; i < now->n_gpus && !late; i++)
			if (needs_vfs(&now->gpus[i], cfg))
				late = &now->gpus[i];
		if (!late) {
			vdm_host_free(*hostp);
			*hostp = now;
			rc = enabled;
			goto out;
		}
		const char *fail = late->index >= 0 && (size_t)late->index < n_failed
					   ? failed[late->index] : NULL;
		bool hopeless = fail && late->num_vfs == 0;
		if (hopeless || now_ms() >= deadline) {
			char lbl[64];
			vdm_gpu_label(late, lbl, sizeof(lbl));
			if (hopeless)
				*err = vdm_strdupf("%s: %s, and it has no SR-IOV virtual functions", lbl,
						   fail);
			else
				*err = vdm_strdupf("%s: no usable SR-IOV virtual functions %d s after %s -e %s "
						   "(sriov_numvfs is %d)%s%s", lbl, timeout_ms / 1000, tool,
						   late->addr, late->num_vfs, fail ? "; " : "",
						   fail ? fail : "");
			vdm_host_free(now);
			rc = hopeless ? -EIO : -ETIMEDOUT;
			goto out;
		}
		vdm_host_free(now);
		usleep(200 * 1000);
	}
out:
	for (size_t i = 0; i < n_failed; i++)
		free(failed[i]);
	free(failed);
	return rc;
}

int vdm_sriov_disable(struct vdm_host **hostp, const struct vdm_sriov_enabled *e, int timeout_ms,
		      char **err)
{
	struct vdm_ctx *ctx = (*hostp)->ctx;
	char tool[4096];
	int found = vdm_tool_find("sriov-manage", tool, sizeof(tool), NULL);
	long deadline = now_ms() + timeout_ms;
	char *first = NULL;
	for (size_t i = 0; i < e->n && found == 0; i++) {
		char *why = NULL;
		if (run_sriov_manage(ctx, tool, "-d", e->addrs[i], deadline, timeout_ms, &why) != 0 &&
		    !first)
			first = why;
		else
			free(why);
	}
	/* Judged by sysfs, as enabling is. */
	int rc = vdm_host_rescan(hostp, err);
	if (rc < 0) {
		free(first);
		return rc;
	}
	struct vdm_host *now = *hostp;
	for (size_t i = 0; i < e->n; i++) {
		const struct vdm_gpu *g = vdm_host_gpu_by_addr(now, e->addrs[i]);
		if (g && g->num_vfs > 0) {
			char lbl[64];
			vdm_gpu_label(g, lbl, sizeof(lbl));
			*err = vdm_strdupf("%s still has %d SR-IOV virtual functions (%s)", lbl, g->num_vfs,
					   found < 0 ? "sriov-manage cannot be run" : first ? first
					   : "sriov-manage -d left them");
			free(first);
			return -EIO;
		}
	}
	free(first);
	return 0;
}
