/* SPDX-License-Identifier: Apache-2.0 */
#include "inuse.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

struct holder {
	char node[96];   /* "/dev/vfio/12" */
	int pid;
};

struct holders {
	struct holder *v;
	size_t n;
	int unreadable;  /* processes whose fds could not be listed */
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int scan_proc(struct vdm_ctx *ctx, struct holders *hs)
{
	char **pids;
	int n = vdm_sysfs_list(ctx, "proc", &pids);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		char rel[VDM_PATH_MAX], target[VDM_PATH_MAX];
		char **fds;
		if (!all_digits(pids[i]))
			continue;
		snprintf(rel, sizeof(rel), "proc/%s/fd", pids[i]);
		int nf = vdm_sysfs_list(ctx, rel, &fds);
		if (nf < 0) {
			if (nf != -ENOENT) /* ENOENT: the process just ended */
				hs->unreadable++;
			continue;
		}
		for (int f = 0; f < nf; f++) {
			snprintf(rel, sizeof(rel), "proc/%s/fd/%s", pids[i], fds[f]);
			if (vdm_sysfs_readlink(ctx, rel, target, sizeof(target)) <= 0 ||
			    strncmp(target, "/dev/vfio/", 10) || strlen(target) >= sizeof(hs->v->node))
				continue;
			hs->v = vdm_xrealloc(hs->v, hs->n + 1, sizeof(*hs->v));
			memcpy(hs->v[hs->n].node, target, strlen(target) + 1);
			long pid;
			if (vdm_parse_long(pids[i], 10, 1, 0x7fffffff, &pid) < 0)
				continue;
			hs->v[hs->n].pid = (int)pid;
			hs->n++;
		}
		vdm_names_free(fds, nf);
	}
	vdm_names_free(pids, n);
	return 0;
}

/* The process's command line with NULs as spaces. */
static char *cmdline(struct vdm_ctx *ctx, int pid)
{
	char rel[64], buf[512];
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
	int fd = vdm_root_open(ctx, rel, O_RDONLY, 0);
	ssize_t got = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
	size_t len = got > 0 ? (size_t)got : 0;
	if (fd >= 0)
		close(fd);
	while (len && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return vdm_xstrdup(len ? buf : "?");
}

/* The /dev/vfio nodes through which a vGPU can be held. */
static int vgpu_nodes(struct vdm_host *h, const struct vdm_vgpu *v, char nodes[][96], int max)
{
	char rel[VDM_PATH_MAX], base[64];
	int n = 0;
	if (v->parent->gpu->fw == VDM_FW_MDEV) {
		snprintf(rel, sizeof(rel), "sys/bus/mdev/devices/%s/iommu_group", v->id);
		if (vdm_sysfs_link_base(h->ctx, rel, base, sizeof(base)) > 0 && n < max)
			snprintf(nodes[n++], 96, "/dev/vfio/%s", base);
		return n;
	}
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group", v->parent->addr);
	if (vdm_sysfs_link_base(h->ctx, rel, base, sizeof(base)) > 0 && n < max)
		snprintf(nodes[n++], 96, "/dev/vfio/%s", base);
	char **names;
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vfio-dev", v->parent->addr);
	int k = vdm_sysfs_list(h->ctx, rel, &names);
	for (int i = 0; i < k && n < max; i++)
		snprintf(nodes[n++], 96, "/dev/vfio/devices/%.60s", names[i]);
	vdm_names_free(names, k < 0 ? 0 : k);
	return n;
}

int vdm_host_find_users(struct vdm_host *h)
{
	struct holders hs = {0};
	int rc = scan_proc(h->ctx, &hs);
	if (rc < 0) {
		vdm_warn(h->ctx, "cannot read %s/proc to see which vGPUs are in use: %s",
			 strcmp(vdm_ctx_root(h->ctx), "/") ? vdm_ctx_root(h->ctx) : "", strerror(-rc));
		return rc;
	}
	if (hs.unreadable)
		vdm_warn(h->ctx, "could not inspect the open files of %d process%s (not root?): a vGPU "
			 "they hold would not be seen as in use", hs.unreadable,
			 hs.unreadable == 1 ? "" : "es");
	int used = 0;
	for (size_t g = 0; g < h->n_gpus && hs.n; g++) {
		for (size_t i = 0; i < h->gpus[g].n_vgpus; i++) {
			struct vdm_vgpu *v = &h->gpus[g].vgpus[i];
			char nodes[4][96];
			int nn = vgpu_nodes(h, v, nodes, 4);
			for (int k = 0; k < nn && !v->user_pid; k++)
				for (size_t j = 0; j < hs.n; j++)
					if (!strcmp(hs.v[j].node, nodes[k])) {
						v->user_pid = hs.v[j].pid;
						v->user_node = vdm_xstrdup(nodes[k]);
						v->user_cmd = cmdline(h->ctx, v->user_pid);
						used++;
						vdm_dbg(h->ctx, "vGPU %s is in use: pid %d holds %s", v->id,
							v->user_pid, nodes[k]);
						break;
					}
		}
	}
	free(hs.v);
	return used;
}
