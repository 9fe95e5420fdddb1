/* SPDX-License-Identifier: Apache-2.0 */
#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct undo {
	enum vdm_op_kind kind;          /* what was done: VDM_OP_REMOVE or VDM_OP_CREATE */
	struct vdm_parent *parent;
	int type;
	char id[VDM_ID_LEN];
};

struct journal {
	struct undo *v;
	size_t n;
};

static void journal_add(struct journal *j, const struct vdm_op *op)
{
	j->v = vdm_xrealloc(j->v, j->n + 1, sizeof(*j->v));
	struct undo *u = &j->v[j->n++];
	u->kind = op->kind;
	u->parent = op->parent;
	u->type = op->type;
	memcpy(u->id, op->id, sizeof(u->id));
}

static const char *errno_hint(int e)
{
	switch (e) {
	case EIO:
		return " (the driver refused: no room on the GPU, or a vGPU type it cannot hold "
		       "next to the existing ones)";
	case EEXIST:
		return " (a vGPU with this UUID already exists)";
	case EPERM:
	case EBUSY:
		return " (the vGPU is in use)";
	default:
		return "";
	}
}

static const char *type_name(const struct vdm_parent *p, int type)
{
	return type >= 0 ? p->gpu->types[type].name : "(unlisted type)";
}

/* Undo the journal in reverse. Returns the number of steps that failed. */
static int rollback(struct vdm_host *h, struct journal *j)
{
	int failed = 0;
	for (size_t i = j->n; i-- > 0;) {
		struct undo *u = &j->v[i];
		const struct vdm_backend *be = u->parent->gpu->be;
		int rc;
		if (u->kind == VDM_OP_CREATE) {
			struct vdm_vgpu v = {.parent = u->parent, .type = u->type};
			memcpy(v.id, u->id, sizeof(v.id));
			rc = be->destroy(h, &v);
			vdm_dbg(h->ctx, "rollback: remove %s: %s", u->id, rc ? strerror(-rc) : "ok");
		} else {
			rc = u->type >= 0 ? be->create(h, u->parent, u->type, u->id) : -ENOENT;
			vdm_dbg(h->ctx, "rollback: recreate %s %s on %s: %s", type_name(u->parent, u->type),
				u->id, u->parent->addr, rc ? strerror(-rc) : "ok");
		}
		if (rc < 0)
			failed++;
	}
	return failed;
}

/* Does the host now hold exactly the vGPUs (uuid, type, parent) of the
 * original scan? */
static bool same_vgpus(const struct vdm_host *a, const struct vdm_host *b)
{
	if (a->n_gpus != b->n_gpus)
		return false;
	for (size_t i = 0; i < a->n_gpus; i++) {
		const struct vdm_gpu *x = &a->gpus[i], *y = &b->gpus[i];
		if (x->n_vgpus != y->n_vgpus)
			return false;
		for (size_t v = 0; v < x->n_vgpus; v++)
			if (strcmp(x->vgpus[v].id, y->vgpus[v].id) ||
			    strcmp(x->vgpus[v].type_id, y->vgpus[v].type_id) ||
			    strcmp(x->vgpus[v].parent->addr, y->vgpus[v].parent->addr))
				return false;
	}
	return true;
}

static char *restore(struct vdm_host *h, struct journal *j, char *cause, enum vdm_rollback *outcome)
{
	if (j->n == 0) {
		*outcome = VDM_ROLLBACK_NONE;
		char *msg = vdm_strdupf("%s; nothing had been changed", cause);
		free(cause);
		return msg;
	}
	int failed = rollback(h, j);
	struct vdm_host *now = NULL;
	char *serr = NULL;
	bool ok = failed == 0 && vdm_host_scan(h->ctx, &now, &serr) == 0 && same_vgpus(h, now);
	vdm_host_free(now);
	free(serr);
	*outcome = ok ? VDM_ROLLBACK_DONE : VDM_ROLLBACK_FAILED;
	char *msg = ok ? vdm_strdupf("%s; the host was restored to its previous state", cause)
		       : vdm_strdupf("%s; ROLLBACK FAILED (%d step%s): the host is not in its previous "
				     "state, check it with 'nvidia-vgpu-dm list'", cause, failed,
				     failed == 1 ? "" : "s");
	free(cause);
	return msg;
}

static bool has_uuid(const struct vdm_gpu *g, const char *uuid, const char *type_id)
{
	for (size_t v = 0; v < g->n_vgpus; v++)
		if (!strcmp(g->vgpus[v].id, uuid))
			return !strcmp(g->vgpus[v].type_id, type_id);
	return false;
}

/* Scan again: every selected GPU matches and every kept or created vGPU is there. */
static char *verify(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
		    const struct vdm_plan *plan)
{
	struct vdm_host *now = NULL;
	struct vdm_plan *check = NULL;
	char *err = NULL;
	if (vdm_host_scan(h->ctx, &now, &err) < 0 || vdm_plan_build(now, spec, cfg, 0, &check, &err) < 0) {
		char *msg = vdm_strdupf("verification failed: %s", err);
		free(err);
		vdm_host_free(now);
		return msg;
	}
	char *mismatch = vdm_plan_mismatch(check);
	for (size_t i = 0; !mismatch && i < plan->n_gpus; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		for (size_t o = 0; !mismatch && o < gp->n_ops; o++) {
			const struct vdm_op *op = &gp->ops[o];
			if (op->kind != VDM_OP_REMOVE &&
			    !has_uuid(&now->gpus[i], op->id, gp->gpu->types[op->type].id))
				mismatch = vdm_strdupf("vGPU %s (%s) is missing", op->id,
						       gp->gpu->types[op->type].name);
		}
	}
	vdm_plan_free(check);
	vdm_host_free(now);
	if (!mismatch)
		return NULL;
	char *msg = vdm_strdupf("verification failed after applying: %s", mismatch);
	free(mismatch);
	return msg;
}

int vdm_apply(struct vdm_host *h, const struct vdm_spec *spec, const struct vdm_config *cfg,
	      const struct vdm_plan *plan, struct vdm_apply_stats *stats, char **err)
{
	struct journal j = {0};
	struct vdm_apply_stats st = {0};
	char *cause = NULL;
	int rc = 0;

	for (size_t i = 0; i < plan->n_gpus && !cause; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		char lbl[64];
		if (gp->matches) {
			if (gp->entry)
				vdm_dbg(h->ctx, "GPU %d: already as wanted, not touched", gp->gpu->index);
			continue;
		}
		vdm_gpu_label(gp->gpu, lbl, sizeof(lbl));
		for (size_t o = 0; o < gp->n_ops && !cause; o++) {
			const struct vdm_op *op = &gp->ops[o];
			const struct vdm_backend *be = gp->gpu->be;
			if (op->kind == VDM_OP_KEEP) {
				st.kept++;
				continue;
			}
			if (op->kind == VDM_OP_REMOVE) {
				struct vdm_vgpu v = {.parent = op->parent, .type = op->type};
				memcpy(v.id, op->id, sizeof(v.id));
				rc = be->destroy(h, &v);
				vdm_dbg(h->ctx, "%s: remove %s vGPU %s on %s: %s", lbl,
					type_name(op->parent, op->type), op->id, op->parent->addr,
					rc ? strerror(-rc) : "ok");
				if (rc < 0)
					cause = vdm_strdupf("%s: removing %s vGPU %s on %s failed: %s%s", lbl,
							    type_name(op->parent, op->type), op->id,
							    op->parent->addr, strerror(-rc), errno_hint(-rc));
				else
					st.removed++;
			} else {
				rc = be->create(h, op->parent, op->type, op->id);
				vdm_dbg(h->ctx, "%s: create %s vGPU %s on %s: %s", lbl,
					type_name(op->parent, op->type), op->id, op->parent->addr,
					rc ? strerror(-rc) : "ok");
				if (rc < 0)
					cause = vdm_strdupf("%s: creating %s vGPU %s on %s failed: %s%s", lbl,
							    type_name(op->parent, op->type), op->id,
							    op->parent->addr, strerror(-rc), errno_hint(-rc));
				else
					st.created++;
			}
			if (rc == 0)
				journal_add(&j, op);
		}
	}
	if (!cause)
		cause = verify(h, spec, cfg, plan);
	if (cause) {
		*err = restore(h, &j, cause, &st.rollback);
		rc = rc < 0 ? rc : -EIO;
	} else {
		rc = 0;
	}
	free(j.v);
	if (stats)
		*stats = st;
	return rc;
}
