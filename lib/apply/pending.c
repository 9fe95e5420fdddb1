/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pending: the host as the next apply will start from it. An apply that died
 * midway leaves a journal; the next apply first restores the GPUs it names
 * to the vGPUs it records. --dry-run and export show that state, not the
 * half-applied one, and say so.
 */
#include "pending.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

static struct vdm_parent *parent_by_addr(struct vdm_gpu *g, const char *addr)
{
	for (size_t p = 0; p < g->n_parents; p++)
		if (!strcmp(g->parents[p].addr, addr))
			return &g->parents[p];
	return NULL;
}

static int type_by_id(const struct vdm_gpu *g, const char *id)
{
	for (size_t t = 0; t < g->n_types; t++)
		if (!strcmp(g->types[t].id, id))
			return (int)t;
	return -1;
}

/* Make g's vGPUs those the snapshot records for it. */
static void set_vgpus(struct vdm_gpu *g, const struct vdm_snapshot *s)
{
	for (size_t v = 0; v < g->n_vgpus; v++) {
		free(g->vgpus[v].type_id);
		free(g->vgpus[v].user_cmd);
		free(g->vgpus[v].user_node);
	}
	g->n_vgpus = 0;
	for (size_t p = 0; p < g->n_parents; p++)
		g->parents[p].n_vgpus = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct vdm_snap_vgpu *sv = &s->v[i];
		struct vdm_parent *p = strcmp(sv->gpu, g->addr) ? NULL : parent_by_addr(g, sv->parent);
		if (!p)
			continue;
		struct vdm_vgpu *v = vdm_gpu_add_vgpu(g);
		snprintf(v->id, sizeof(v->id), "%s", sv->id);
		v->type_id = vdm_xstrdup(sv->type_id);
		v->type = type_by_id(g, sv->type_id);
		v->parent = p;
		p->n_vgpus++;
	}
	vdm_gpu_sort_vgpus(g);
}

int vdm_host_view_pending(struct vdm_host *h, bool view, char **note, char **err)
{
	struct vdm_snapshot s;
	*note = NULL;
	int rc = vdm_journal_load(h, &s, err);
	if (rc <= 0)
		return rc;
	char *gpus = vdm_xstrdup("");
	for (size_t i = 0; i < s.n_gpus; i++) {
		struct vdm_gpu *g = vdm_host_gpu_by_addr(h, s.gpus[i]);
		char lbl[64];
		if (g) {
			if (view)
				set_vgpus(g, &s);
			vdm_gpu_label(g, lbl, sizeof(lbl));
		} else {
			snprintf(lbl, sizeof(lbl), "%s (not on this host)", s.gpus[i]);
		}
		char *more = vdm_strdupf("%s%s%s", gpus, i ? ", " : "", lbl);
		free(gpus);
		gpus = more;
	}
	if (view)
		h->restored_view = true;
	*note = vdm_strdupf("an earlier apply (pid %d) did not finish: the next apply first restores "
			    "%s from its journal /%s (%zu vGPU%s)%s%s", s.pid, gpus, VDM_JOURNAL_FILE,
			    s.n, s.n == 1 ? "" : "s", view ? "; shown as that restore leaves " : "",
			    view ? (s.n_gpus == 1 ? "it" : "them") : "");
	free(gpus);
	vdm_snapshot_free(&s);
	return 1;
}
