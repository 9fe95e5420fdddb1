/* SPDX-License-Identifier: Apache-2.0 */
#include "sriov.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool needs_vfs(const struct vdm_gpu *g, const struct vdm_config *cfg)
{
	if (!g->sriov || g->fw != VDM_FW_NONE)
		return false;
	for (size_t e = 0; e < cfg->n_entries; e++)
		if (vdm_entry_selects(&cfg->entries[e], g->index, &g->id) && cfg->entries[e].n_types)
			return true;
	return false;
}

static int run_sriov_manage(struct vdm_ctx *ctx, const char *tool, const char *addr, char **err)
{
	vdm_info(ctx, "Enabling SR-IOV virtual functions: %s -e %s", tool, addr);
	pid_t pid = fork();
	if (pid < 0) {
		*err = vdm_strdupf("cannot run %s: %s", tool, strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		execl(tool, tool, "-e", addr, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			*err = vdm_strdupf("waiting for %s: %s", tool, strerror(errno));
			return -errno;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*err = vdm_strdupf("%s -e %s failed (%s %d)", tool, addr,
				   WIFEXITED(status) ? "exit status" : "signal",
				   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int vdm_sriov_enable(struct vdm_host **hostp, const struct vdm_config *cfg, int timeout_ms, char **err)
{
	struct vdm_host *h = *hostp;
	struct vdm_ctx *ctx = h->ctx;
	const char *tool = getenv("VGPU_DM_SRIOV_MANAGE");
	if (!tool || !*tool)
		tool = VDM_SRIOV_MANAGE;
	int enabled = 0;
	for (size_t i = 0; i < h->n_gpus; i++) {
		if (!needs_vfs(&h->gpus[i], cfg))
			continue;
		int rc = run_sriov_manage(ctx, tool, h->gpus[i].addr, err);
		if (rc < 0)
			return rc;
		enabled++;
	}
	if (!enabled)
		return 0;
	/* Wait until every GPU we enabled is seen by a backend. */
	long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct vdm_host *now = NULL;
		int rc = vdm_host_scan(ctx, &now, err);
		if (rc < 0)
			return rc;
		const struct vdm_gpu *late = NULL;
		for (size_t i = 0; i < now->n_gpus && !late; i++)
			if (needs_vfs(&now->gpus[i], cfg))
				late = &now->gpus[i];
		if (!late) {
			vdm_host_free(*hostp);
			*hostp = now;
			return enabled;
		}
		if (now_ms() >= deadline) {
			char lbl[64];
			vdm_gpu_label(late, lbl, sizeof(lbl));
			*err = vdm_strdupf("%s: no usable SR-IOV virtual functions %d s after %s -e %s "
					   "(sriov_numvfs is %d)", lbl, timeout_ms / 1000, tool, late->addr,
					   late->num_vfs);
			vdm_host_free(now);
			return -ETIMEDOUT;
		}
		vdm_host_free(now);
		usleep(200 * 1000);
	}
}
