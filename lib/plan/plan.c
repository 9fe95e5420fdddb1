/* SPDX-License-Identifier: Apache-2.0 */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "plan_int.h"
#include "mig_plan.h"
#include "base/base.h"

/* ---- small string builder for messages ---- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *piece = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	size_t pl = strlen(piece);
	if (b->len + pl + 1 > b->cap) {
		b->cap = (b->len + pl + 1) * 2;
		b->s = vdm_xrealloc(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, piece, pl + 1);
	b->len += pl;
	free(piece);
}

static char *sb_take(struct sbuf *b)
{
	return b->s ? b->s : vdm_xstrdup("");
}

int *vdm_gpu_current_counts(const struct vdm_gpu *g)
{
	int *c = vdm_xcalloc(g->n_types ? g->n_types : 1, sizeof(int));
	for (size_t i = 0; i < g->n_vgpus; i++)
		if (g->vgpus[i].type >= 0)
			c[g->vgpus[i].type]++;
	return c;
}

char *vdm_counts_str(const struct vdm_gpu *g, const int *counts)
{
	struct sbuf b = {0};
	for (size_t t = 0; t < g->n_types; t++)
		if (counts[t] > 0)
			sb_addf(&b, "%s%d x %s", b.len ? ", " : "", counts[t], g->types[t].name);
	if (!b.len)
		sb_addf(&b, "no vGPUs");
	return sb_take(&b);
}

/* ---- selection ---- */

static bool entry_supported(const struct vdm_gpu *g, const struct vdm_entry *e)
{
	for (size_t i = 0; i < e->n_types; i++)
		if (vdm_gpu_find_type(g, e->types[i].type) < 0)
			return false;
	return true;
}

/* The entry that decides a GPU's layout. Several entries may select one GPU
 * (the upstream example's "default" label lists device 0x1E78 twice, once per
 * board variant): the last one whose types the GPU offers wins, else the last. */
static const struct vdm_entry *select_entry(struct vdm_ctx *ctx, const struct vdm_gpu *g,
					    const struct vdm_config *cfg)
{
	const struct vdm_entry *last = NULL, *last_ok = NULL;
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_entries; i++) {
		const struct vdm_entry *e = &cfg->entries[i];
		if (!vdm_entry_selects(e, g->index, &g->id))
			continue;
		n++;
		last = e;
		if (entry_supported(g, e))
			last_ok = e;
	}
	if (n > 1)
		vdm_dbg(ctx, "GPU %d: %zu entries select it; using the one at line %d", g->index, n,
			(last_ok ? last_ok : last)->pos.line);
	return last_ok ? last_ok : last;
}

static char *supported_list(const struct vdm_gpu *g)
{
	struct sbuf b = {0};
	for (size_t t = 0; t < g->n_types; t++)
		sb_addf(&b, "%s%s", t ? ", " : "", g->types[t].name);
	return sb_take(&b);
}

static int no_manager_error(const struct vdm_gpu *g, char **err)
{
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	if (g->sriov && g->num_vfs == 0)
		*err = vdm_strdupf("%s: no vGPU can be created: its SR-IOV virtual functions are not "
				   "enabled (run: /usr/lib/nvidia/sriov-manage -e %s, or apply with "
				   "--enable-sriov)", lbl, g->addr);
	else
		*err = vdm_strdupf("%s: no vGPU parent device found for it (no mdev parent, no VF "
				   "with nvidia/current_vgpu_type): is the NVIDIA vGPU Manager installed "
				   "and loaded?", lbl);
	return -ENODEV;
}

static char *unsupported_error(const struct vdm_spec *spec, const struct vdm_type_count *tc,
			       const struct vdm_gpu *g)
{
	char lbl[64];
	struct vdm_vgpu_type vt;
	vdm_gpu_label(g, lbl, sizeof(lbl));
	char *list = supported_list(g);
	char *msg;
	bool mig = vdm_vgpu_type_parse(tc->type, &vt, NULL) == 0 && vdm_vgpu_type_is_mig(&vt);
	/* A MIG-backed type of this very GPU model (A100-1-5C on an A100), on
	 * either framework: the driver lists it once MIG mode is on and GPU
	 * instances exist; vgpu-dm makes those itself through NVML (mig.h), which
	 * also names the types a vendor-VFIO GPU supports. */
	if (mig && (!*g->model || !strcmp(vt.gpu, g->model)))
		msg = vdm_strdupf("%s:%d:%d: vGPU type %s is not offered by %s now: MIG-backed types "
				  "need MIG mode on and GPU instances created before the vGPUs, which "
				  "vgpu-dm does through NVML (%s); it offers: %s", spec->source,
				  tc->pos.line, tc->pos.col, tc->type, lbl,
				  g->mig ? "NVML does not list this type either"
					 : "not available: libnvidia-ml.so.1 or VGPU_DM_NVML_LIBRARY",
				  *list ? list : "no types");
	else if (g->fw == VDM_FW_VFIO && g->n_vgpus)
		msg = vdm_strdupf("%s:%d:%d: vGPU type %s is not offered by %s next to its current "
				  "vGPUs, and the driver's lists, the type cache and NVML do not name "
				  "it; it offers: %s", spec->source, tc->pos.line, tc->pos.col, tc->type,
				  lbl, *list ? list : "no types");
	else
		msg = vdm_strdupf("%s:%d:%d: vGPU type %s is not supported on %s (device 0x%04X); "
				  "it supports: %s", spec->source, tc->pos.line, tc->pos.col, tc->type,
				  lbl, g->id.device, *list ? list : "no types");
	free(list);
	return msg;
}

/* Desired counts per type of the GPU from the entry. */
static int resolve_want(const struct vdm_spec *spec, struct vdm_gpu_plan *gp, char **err)
{
	const struct vdm_gpu *g = gp->gpu;
	const struct vdm_entry *e = gp->entry;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	gp->want = vdm_xcalloc(g->n_types ? g->n_types : 1, sizeof(int));
	if (e->n_types && g->fw == VDM_FW_NONE)
		return no_manager_error(g, err);
	for (size_t i = 0; i < e->n_types; i++) {
		const struct vdm_type_count *tc = &e->types[i];
		int t = vdm_gpu_find_type(g, tc->type);
		if (t < 0) {
			*err = unsupported_error(spec, tc, g);
			return -EINVAL;
		}
		if (gp->want[t]) {
			*err = vdm_strdupf("%s:%d:%d: %s names the same vGPU type on %s as another key "
					   "of this entry (%s)", spec->source, tc->pos.line, tc->pos.col,
					   tc->type, lbl, g->types[t].name);
			return -EINVAL;
		}
		gp->want[t] = tc->count;
	}
	return 0;
}

/* ---- diff ---- */

struct vdm_op *vdm_plan_add_op(struct vdm_gpu_plan *gp, enum vdm_op_kind kind, struct vdm_parent *p,
				int type, const char *uuid)
{
	gp->ops = vdm_xrealloc(gp->ops, gp->n_ops + 1, sizeof(*gp->ops));
	struct vdm_op *op = &gp->ops[gp->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->parent = p;
	op->type = type;
	if (uuid)
		snprintf(op->id, sizeof(op->id), "%s", uuid);
	return op;
}

/* The namespace of vgpu-dm's name-based UUIDs (a fixed random UUID). */
static const char uuid_namespace[] = "3f0c1b8e-6a52-4d9e-9c7a-5be2f04a7d31";

void vdm_seeded_uuid(const char *seed, const struct vdm_gpu *g, int type, int k,
		     char out[VDM_ID_LEN])
{
	uuid_t u, ns;
	uuid_parse(uuid_namespace, ns);
	char *name = vdm_strdupf("%s/%s/%s/%d", seed, g->addr, g->types[type].name, k);
	uuid_generate_sha1(u, ns, name, strlen(name));
	free(name);
	uuid_unparse_lower(u, out);
}

/* Which seeded ordinal a vGPU's UUID is (below max), or -1. */
static int seeded_ordinal(const char *seed, const struct vdm_gpu *g, const struct vdm_vgpu *v, int max)
{
	char id[VDM_ID_LEN];
	if (!seed || v->type < 0 || !g->be || !g->be->uuid_ids)
		return -1;
	for (int k = 0; k < max; k++) {
		vdm_seeded_uuid(seed, g, v->type, k, id);
		if (!strcmp(id, v->id))
			return k;
	}
	return -1;
}

/* Keep vGPUs of each wanted type up to the wanted count, those a process
 * holds first; then, with a UUID seed, those with the lowest seeded ordinals
 * (so the host is what a fresh apply with the seed builds, and a rebuild
 * after a reboot brings the same UUIDs back); then in parent-address order.
 * Remove the rest. Creates are added later by place_creates. */
static void diff_gpu(struct vdm_ctx *ctx, struct vdm_gpu_plan *gp, bool warn)
{
	const struct vdm_gpu *g = gp->gpu;
	const char *seed = vdm_ctx_uuid_seed(ctx);
	int *kept = vdm_xcalloc(g->n_types ? g->n_types : 1, sizeof(int));
	bool *keep = vdm_xcalloc(g->n_vgpus ? g->n_vgpus : 1, sizeof(bool));
	int *ord = vdm_xcalloc(g->n_vgpus ? g->n_vgpus : 1, sizeof(int));
	int max_ord = (int)g->n_vgpus + 1;
	for (size_t i = 0; i < g->n_vgpus; i++)
		ord[i] = seeded_ordinal(seed, g, &g->vgpus[i], max_ord);
	/* pass 0: held by a process; 1..max_ord: seeded ordinal pass-1; then the rest */
	for (int pass = 0; pass <= max_ord + 1; pass++)
		for (size_t i = 0; i < g->n_vgpus; i++) {
			const struct vdm_vgpu *v = &g->vgpus[i];
			if (keep[i] || v->type < 0 || kept[v->type] >= gp->want[v->type])
				continue;
			bool held = v->user_pid != 0;
			if (pass == 0 ? !held : pass <= max_ord ? ord[i] != pass - 1 : false)
				continue;
			kept[v->type]++;
			keep[i] = true;
			if (held && seed && ord[i] != -1 && ord[i] >= gp->want[v->type] && warn)
				vdm_warn(ctx, "GPU %d (%s): keeping vGPU %s (%s, seeded ordinal %d), which pid "
					 "%d holds; a fresh apply with this --uuid-seed makes ordinals 0 to "
					 "%d, so after a rebuild its UUID does not come back",
					 g->index, g->addr, v->id, g->types[v->type].name, ord[i],
					 v->user_pid, gp->want[v->type] - 1);
		}
	free(ord);
	for (size_t i = 0; i < g->n_vgpus; i++) {
		const struct vdm_vgpu *v = &g->vgpus[i];
		if (!keep[i]) {
			vdm_plan_add_op(gp, VDM_OP_REMOVE, v->parent, v->type, v->id);
			gp->n_remove++;
		}
	}
	for (size_t i = 0; i < g->n_vgpus; i++) {
		const struct vdm_vgpu *v = &g->vgpus[i];
		if (keep[i]) {
			vdm_plan_add_op(gp, VDM_OP_KEEP, v->parent, v->type, v->id);
			gp->n_keep++;
		}
	}
	gp->matches = gp->n_remove == 0;
	for (size_t t = 0; t < g->n_types; t++)
		if (kept[t] != gp->want[t])
			gp->matches = false;
	free(kept);
	free(keep);
}

/* A vGPU the plan removes that a process holds: refuse, unless forced. */
static int check_in_use(struct vdm_host *h, const struct vdm_gpu_plan *gp, bool force, char **err)
{
	struct vdm_ctx *ctx = h->ctx;
	const struct vdm_gpu *g = gp->gpu;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	for (size_t i = 0; i < g->n_vgpus; i++) {
		const struct vdm_vgpu *v = &g->vgpus[i];
		if (!v->user_pid)
			continue;
		bool removed = false;
		for (size_t o = 0; o < gp->n_ops; o++)
			if (gp->ops[o].kind == VDM_OP_REMOVE && !strcmp(gp->ops[o].id, v->id))
				removed = true;
		if (!removed)
			continue;
		const char *tname = v->type >= 0 ? g->types[v->type].name : v->type_id;
		if (force) {
			vdm_warn(ctx, "%s: removing vGPU %s (%s) on %s although pid %d (%s) holds %s: --force",
				 lbl, v->id, tname, v->parent->addr, v->user_pid, v->user_cmd, v->user_node);
			continue;
		}
		*err = vdm_strdupf("%s: vGPU %s (%s) on %s is in use by pid %d (%s), which holds %s; "
				   "refusing to remove it (--force overrides)", lbl, v->id, tname,
				   v->parent->addr, v->user_pid, v->user_cmd, v->user_node);
		h->refused_in_use = v;
		return -EBUSY;
	}
	return 0;
}

/* ---- the plan ---- */

int vdm_plan_build(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
		   unsigned flags, struct vdm_plan **out, char **err)
{
	struct vdm_plan *plan = vdm_xcalloc(1, sizeof(*plan));
	int rc = 0;
	plan->host = h;
	plan->n_gpus = h->n_gpus;
	plan->gpus = vdm_xcalloc(h->n_gpus ? h->n_gpus : 1, sizeof(*plan->gpus));
	*out = NULL;

	/* A device that may be an NVIDIA GPU but cannot be identified: the
	 * index of every GPU after it is in doubt, so an entry that selects
	 * GPUs by index is refused; one that selects "all" (by device-filter)
	 * plans the GPUs that can be read and leaves that device alone. */
	for (size_t e = 0; e < cfg->n_entries && h->n_unreadable; e++) {
		const struct vdm_entry *en = &cfg->entries[e];
		if (en->all_devices)
			continue;
		*err = vdm_strdupf("%s:%d:%d: GPU indexes cannot be trusted on this host: %s (an NVIDIA "
				   "device that cannot be identified shifts the index of every GPU "
				   "after it); refusing to select GPUs by index", spec->source,
				   en->pos.line, en->pos.col, h->unreadable[0]);
		vdm_plan_free(plan);
		return -EIO;
	}
	for (size_t i = 0; i < h->n_unreadable; i++)
		vdm_warn(h->ctx, "%s: this device cannot be identified and is left alone", h->unreadable[i]);
	if (h->n_gpus == 0) {
		char path[VDM_PATH_MAX];
		vdm_path(h->ctx, path, sizeof(path), "sys/bus/pci/devices");
		*err = vdm_strdupf("no NVIDIA GPU found (no NVIDIA display or 3D controller in %s)", path);
		vdm_plan_free(plan);
		return -ENODEV;
	}
	for (size_t e = 0; e < cfg->n_entries; e++)
		for (size_t d = 0; d < cfg->entries[e].n_devices; d++)
			if ((size_t)cfg->entries[e].devices[d] >= h->n_gpus)
				vdm_warn(h->ctx, "%s:%d:%d: GPU index %d does not exist on this host (%zu GPUs)",
					 spec->source, cfg->entries[e].pos.line, cfg->entries[e].pos.col,
					 cfg->entries[e].devices[d], h->n_gpus);

	for (size_t i = 0; i < h->n_gpus && rc == 0; i++) {
		struct vdm_gpu_plan *gp = &plan->gpus[i];
		gp->gpu = &h->gpus[i];
		gp->entry = select_entry(h->ctx, gp->gpu, cfg);
		if ((flags & VDM_PLAN_SKIP_NO_VFS) && gp->gpu->sriov && gp->gpu->fw == VDM_FW_NONE)
			gp->entry = NULL;
		if (!gp->entry) {
			gp->matches = true;
			continue;
		}
		plan->n_selected++;
		if (gp->gpu->unreadable) {
			char lbl[64];
			vdm_gpu_label(gp->gpu, lbl, sizeof(lbl));
			*err = vdm_strdupf("%s: its state cannot be read: %s; refusing to plan it", lbl,
					   gp->gpu->unreadable);
			rc = -EIO;
			break;
		}
		rc = resolve_want(spec, gp, err);
		if (rc == 0) {
			diff_gpu(h->ctx, gp, flags & VDM_PLAN_CHECK);
			vdm_mig_match(gp);
		}
		if (rc == 0 && (flags & VDM_PLAN_CHECK) && !gp->matches) {
			rc = check_in_use(h, gp, flags & VDM_PLAN_FORCE, err);
			if (rc == 0)
				rc = vdm_plan_check_capacity(gp, err);
			if (rc == 0)
				rc = vdm_plan_check_sizes(h, gp, err);
			if (rc == 0)
				rc = vdm_mig_plan(h, gp, err);
			if (rc == 0)
				rc = vdm_plan_place_creates(h, gp, err);
		}
	}
	if (rc == 0 && plan->n_selected == 0 && !(flags & VDM_PLAN_SKIP_NO_VFS))
		vdm_warn(h->ctx, "config '%s' selects none of this host's %zu GPUs", cfg->label, h->n_gpus);
	if (rc < 0) {
		vdm_plan_free(plan);
		return rc;
	}
	*out = plan;
	return 0;
}

void vdm_plan_free(struct vdm_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_gpus; i++) {
		free(plan->gpus[i].want);
		free(plan->gpus[i].ops);
		vdm_mig_plan_free(plan->gpus[i].mig);
	}
	free(plan->gpus);
	free(plan);
}

bool vdm_plan_applied(const struct vdm_plan *plan)
{
	for (size_t i = 0; i < plan->n_gpus; i++)
		if (!plan->gpus[i].matches)
			return false;
	return true;
}

char *vdm_plan_mismatch(const struct vdm_plan *plan)
{
	for (size_t i = 0; i < plan->n_gpus; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		if (gp->matches)
			continue;
		char lbl[64];
		vdm_gpu_label(gp->gpu, lbl, sizeof(lbl));
		int *cur = vdm_gpu_current_counts(gp->gpu);
		char *have = vdm_counts_str(gp->gpu, cur);
		char *want = vdm_counts_str(gp->gpu, gp->want);
		size_t unknown = 0;
		for (size_t v = 0; v < gp->gpu->n_vgpus; v++)
			if (gp->gpu->vgpus[v].type < 0)
				unknown++;
		char *msg = vdm_strdupf("%s has %s%s, the config wants %s", lbl, have,
					unknown ? " (and vGPUs of types the driver no longer lists)" : "",
					want);
		free(cur);
		free(have);
		free(want);
		return msg;
	}
	return NULL;
}
