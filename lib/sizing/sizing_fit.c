/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sizing: placing the groups of a request on the GPUs (vdm_sizing_run).
 *
 * Groups go largest size first.  A group's GPUs are those whose chosen type
 * has room: first those already holding that type (or, in mixed-size mode,
 * anything), then the one whose room covers what is left most tightly
 * (larger GPUs stay free for larger needs), else the one with the most room;
 * ties by index.  A
 * group without --memory or --profile gets the largest size that still
 * gives every VM a vGPU.  What cannot be placed is said exactly: how many
 * GPUs of which model the group needs, and how many there are.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sizing_int.h"

static void add_alloc(struct vdm_sizing_gpu *g, int t, int count, int group)
{
	for (size_t a = 0; a < g->n_allocs; a++) {
		if (g->allocs[a].type == t && g->allocs[a].group == group) {
			g->allocs[a].count += count;
			return;
		}
	}
	g->allocs = vdm_xrealloc(g->allocs, g->n_allocs + 1, sizeof(*g->allocs));
	g->allocs[g->n_allocs++] = (struct vdm_sizing_alloc){.type = t, .count = count, .group = group};
}

static void append_why(struct vdm_sizing_gpu *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void append_why(struct vdm_sizing_gpu *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *part = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	if (g->why && strstr(g->why, part)) {
		free(part);
		return;
	}
	char *all = g->why ? vdm_strdupf("%s; %s", g->why, part) : part;
	if (g->why) {
		free(g->why);
		free(part);
	}
	g->why = all;
}

/* Room for types[t] on the GPU if it held nothing. */
static int room_empty(struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r, int t)
{
	size_t n = g->n_allocs;
	g->n_allocs = 0;
	int room = vdm_sizing_room(g, r, t);
	g->n_allocs = n;
	return room;
}

struct cand {
	size_t gpu;
	int type;
	int room;
	bool holds;
	bool used;
};

/* The next GPU for a group that still needs `need`: one already holding
 * vGPUs (packing), else the one whose room covers the need most tightly
 * (keeping larger GPUs free), else the one with the most room. */
static struct cand *next_cand(struct cand *c, size_t n, long need)
{
	struct cand *best = NULL;
	for (size_t i = 0; i < n; i++) {
		struct cand *x = &c[i];
		if (x->used)
			continue;
		if (!best) {
			best = x;
			continue;
		}
		if (x->holds != best->holds) {
			best = x->holds ? x : best;
			continue;
		}
		bool xc = x->room >= need, bc = best->room >= need;
		if (xc != bc)
			best = xc ? x : best;
		else if (xc ? x->room < best->room : x->room > best->room)
			best = x;
	}
	return best;
}

/* Place group k with memory_mib per vGPU; returns how many were placed. */
static int place(struct vdm_sizing *s, struct vdm_sizing_request *r, size_t k, long memory_mib)
{
	struct vdm_sizing_group *grp = &r->groups[k];
	struct cand *c = vdm_xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof(*c));
	size_t n = 0;
	for (size_t i = 0; i < s->n_gpus; i++) {
		char *why = NULL;
		int t = vdm_sizing_choose(&s->gpus[i], r, grp, memory_mib, &why);
		free(why);
		if (t < 0)
			continue;
		int room = vdm_sizing_room(&s->gpus[i], r, t);
		if (room > 0)
			c[n++] = (struct cand){.gpu = i, .type = t, .room = room,
					       .holds = s->gpus[i].n_allocs > 0};
	}
	long need = grp->fill ? LONG_MAX : grp->vms;
	int placed = 0;
	struct cand *x;
	while (need > 0 && (x = next_cand(c, n, need))) {
		int take = x->room < need ? x->room : (int)need;
		add_alloc(&s->gpus[x->gpu], x->type, take, (int)k);
		x->used = true;
		need -= take;
		placed += take;
	}
	free(c);
	return placed;
}

/* Back to what VMs hold. */
static void drop_allocs(struct vdm_sizing *s)
{
	for (size_t i = 0; i < s->n_gpus; i++)
		vdm_sizing_seed(&s->gpus[i]);
}

/* The size a group stands for, to order groups: its memory, or the size of
 * its pinned type on the first GPU that offers it. */
static long group_size(const struct vdm_sizing *s, const struct vdm_sizing_request *r, size_t k)
{
	const struct vdm_sizing_group *grp = &r->groups[k];
	if (!grp->profile)
		return grp->memory_mib;
	for (size_t i = 0; i < s->n_gpus; i++) {
		char *why = NULL;
		int t = vdm_sizing_choose(&s->gpus[i], r, grp, 0, &why);
		free(why);
		if (t >= 0)
			return s->gpus[i].types[t].fb_mib;
	}
	return 0;
}

static const char *limit_word(const struct vdm_sizing_gpu *g, const struct vdm_sizing_type *t, int room)
{
	if (g->vf_limit >= 0 && room == g->vf_limit && (t->max_instances < 0 || t->max_instances > room))
		return "one vGPU per VF";
	if (t->max_instances == room)
		return "the type's maximum";
	return "the frame buffer";
}

static void explain(struct vdm_sizing *s, const struct vdm_sizing_request *r, const long *mem,
		    bool searched)
{
	for (size_t i = 0; i < s->n_gpus; i++) {
		struct vdm_sizing_gpu *g = &s->gpus[i];
		int distinct = 0;
		for (size_t a = 0; a < g->n_allocs; a++) {
			bool seen = false;
			for (size_t b = 0; b < a; b++)
				seen |= g->allocs[b].type == g->allocs[a].type;
			distinct += !seen;
		}
		g->mixed = distinct > 1;
		for (size_t h = 0; h < g->n_held; h++)
			append_why(g, "keeps %d x %s that %s holds%s", g->held[h].count,
				   g->types[g->held[h].type].name, g->held[h].holders,
				   h ? "" : " (apply never removes a vGPU in use)");
		for (size_t a = 0; a < g->n_allocs; a++) {
			const struct vdm_sizing_alloc *al = &g->allocs[a];
			if (al->group < 0)
				continue; /* held: said above */
			const struct vdm_sizing_type *t = &g->types[al->type];
			const struct vdm_sizing_group *grp = &r->groups[al->group];
			const char *note = NULL;
			char gb[32];
			vdm_sizing_gb(mem[al->group], gb, sizeof(gb));
			char pre[80] = "";
			if (g->mixed)
				snprintf(pre, sizeof(pre), "%s: ", t->name);
			if (grp->profile)
				append_why(g, "%s--profile", pre);
			else if (searched)
				append_why(g, "%sthe largest %c size that gives all %d VMs a vGPU", pre,
					   t->series, grp->vms);
			else if (mem[al->group])
				append_why(g, "%sthe smallest %c size with %s", pre, t->series, gb);
			else
				append_why(g, "%sthe smallest %c size: no size gives all %d VMs a vGPU", pre,
					   t->series, grp->vms);
			if (!grp->profile) {
				vdm_sizing_series(g, r, t->mig, &note);
				if (note)
					append_why(g, "%s", note);
				else if (!r->series)
					append_why(g, "Q by default (no --use)");
			}
			if (t->mig)
				append_why(g, "MIG-backed: counted by GPU instances");
			int full = room_empty(g, r, al->type);
			if (!g->mixed && !g->n_held && al->count == full)
				append_why(g, "full at %d (%s)", full, limit_word(g, t, full));
		}
		if (g->mixed && g->mixed_mode == 1)
			append_why(g, "mixed-size mode");
		else if (g->mixed)
			append_why(g, "mixed sizes: switch the GPU to mixed-size mode first "
				   "(nvidia-smi vgpu -i %s -shm 1, after enabling its VFs)",
				   g->addr[0] ? g->addr : "<GPU>");
		else if (g->n_allocs > g->n_held && (r->n_groups > 1 || g->n_held))
			append_why(g, "one size per GPU (equal-size mode)");
		if (g->n_allocs)
			continue;
		/* unused: why the first group it could not take did not fit */
		for (size_t k = 0; k < r->n_groups && !g->why; k++) {
			char *why = NULL;
			if (vdm_sizing_choose(g, r, &r->groups[k], mem[k], &why) < 0)
				g->why = why;
			else
				free(why);
		}
		if (!g->why)
			g->why = vdm_xstrdup("not needed");
	}
}

/* "12 x 8 GB C-series", "4 x T4-2Q", "--fill with 8 GB C-series" */
static char *what(const struct vdm_sizing_request *r, const struct vdm_sizing_group *grp, long mem)
{
	char gb[32];
	vdm_sizing_gb(mem, gb, sizeof(gb));
	char *kind = grp->profile ? vdm_xstrdup(grp->profile)
		   : !mem && r->series ? vdm_strdupf("%c-series vGPUs", r->series)
		   : !mem ? vdm_xstrdup("vGPUs")
		   : r->series ? vdm_strdupf("%s %c-series", gb, r->series)
			       : vdm_strdupf("%s vGPUs", gb);
	/* "4 x 8 GB vGPUs", "4 x T4-8Q"; without a size, "4 vGPUs" */
	char *out = grp->fill ? vdm_strdupf("--fill with %s", kind)
		  : vdm_strdupf(mem || grp->profile ? "%d x %s" : "%d %s", grp->vms, kind);
	free(kind);
	return out;
}

static void shortfall(struct vdm_sizing *s, struct vdm_sizing_request *r, size_t k, long mem)
{
	const struct vdm_sizing_group *grp = &r->groups[k];
	char *w = what(r, grp, mem);
	const char *best = NULL, *best_type = NULL;
	int best_room = 0, have = 0, takers = 0, taken = 0, held = 0;
	char *reasons = NULL;

	for (size_t i = 0; i < s->n_gpus; i++) {
		struct vdm_sizing_gpu *g = &s->gpus[i];
		char *why = NULL;
		int t = vdm_sizing_choose(g, r, grp, mem, &why);
		int room = t >= 0 ? room_empty(g, r, t) : 0;
		if (t < 0 || room == 0) {
			if (why && (!reasons || !strstr(reasons, g->model))) {
				char *n = vdm_strdupf("%s%s%s: %s", reasons ? reasons : "",
						      reasons ? "; " : "", g->model, why);
				free(reasons);
				reasons = n;
			}
			free(why);
			continue;
		}
		free(why);
		takers++;
		if (room > best_room) {
			best = g->model;
			best_type = g->types[t].name;
			best_room = room;
		}
	}
	for (size_t i = 0; i < s->n_gpus && best; i++) {
		if (strcmp(s->gpus[i].model, best) != 0)
			continue;
		have++;
		bool other = false;
		for (size_t a = 0; a < s->gpus[i].n_allocs; a++)
			other |= s->gpus[i].allocs[a].group != (int)k && s->gpus[i].allocs[a].group >= 0;
		taken += other;
		held += s->gpus[i].n_held > 0;
	}
	const char *where = s->offline ? "the GPUs given have" : "this host has";
	char *line;
	if (!best) {
		line = vdm_strdupf("%s: no GPU %s can take it (%s)", w,
				   s->offline ? "given" : "here", reasons ? reasons : "no GPUs");
	} else if (grp->fill) {
		line = vdm_strdupf("%s: every GPU that takes it is used by the other vGPUs", w);
	} else {
		int placed = grp->placed;
		int short_by = grp->vms - placed;
		int need = (grp->vms + best_room - 1) / best_room;
		char extra[128] = "";
		if (taken)
			snprintf(extra, sizeof(extra), ", %d of them used by the other vGPUs", taken);
		if (held)
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
				 ", %d of them with vGPUs a VM holds (kept)", held);
		if (takers == have)
			line = vdm_strdupf("%s %s %d x %s; %s %d%s", w,
					   mem || grp->profile || grp->fill ? "needs" : "need", need, best, where,
					   have, extra);
		else
			line = vdm_strdupf("%s: %d placed, %d short; that needs %d more %s (%d per GPU as %s)",
					   w, placed, short_by, (short_by + best_room - 1) / best_room,
					   best, best_room, best_type);
	}
	free(reasons);
	free(w);
	vdm_sizing_unmet(s, line);
}

static int invalid(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(char **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	*err = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int check_request(const struct vdm_sizing *s, const struct vdm_sizing_request *r, char **err)
{
	if (!s->n_gpus)
		return invalid(err, "no GPU to size for: this host has no GPU with a vGPU framework "
			       "(give the GPUs with --gpu MODEL[xN])");
	if (!r->n_groups)
		return invalid(err, "say how many vGPUs: --vms N, or --fill");
	if (r->cuda && (r->series == 'A' || r->series == 'B'))
		return invalid(err, "%c-series vGPUs do not run CUDA (only C and Q do)", r->series);
	for (size_t k = 0; k < r->n_groups; k++) {
		const struct vdm_sizing_group *g = &r->groups[k];
		if (g->fill && r->n_groups > 1)
			return invalid(err, "--fill sizes one group of VMs; drop the other --vms");
		if (!g->fill && g->vms < 1)
			return invalid(err, "say how many vGPUs: --vms N, or --fill");
		if (g->fill && !g->memory_mib && !g->profile)
			return invalid(err, "--fill needs the size: --memory GB or --profile TYPE");
		if (!g->memory_mib && !g->profile && r->n_groups > 1)
			return invalid(err, "with several --vms, give each its --memory or --profile");
	}
	return 0;
}

/* With --mig: some GPU must have MIG-backed types to choose from. */
static int check_mig(const struct vdm_sizing *s, const struct vdm_sizing_request *r, char **err)
{
	if (!r->mig)
		return 0;
	for (size_t i = 0; i < s->n_gpus; i++)
		for (size_t t = 0; t < s->gpus[i].n_types; t++)
			if (s->gpus[i].types[t].mig)
				return 0;
	for (size_t i = 0; i < s->n_gpus; i++)
		if (s->gpus[i].mig_capable)
			return invalid(err, "--mig: MIG-backed sizing needs the MIG catalogue (MIG-backed "
				       "types and GPU-instance profiles), and it has none for %s yet; "
				       "plan without --mig for time-sliced vGPUs", s->gpus[i].model);
	return invalid(err, "--mig: no GPU %s is MIG capable (%s)", s->offline ? "given" : "here",
		       s->gpus[0].model);
}

static int cmp_desc(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

int vdm_sizing_run(struct vdm_sizing *s, struct vdm_sizing_request *r, char **err)
{
	int rc = check_request(s, r, err);
	if (rc == 0)
		rc = check_mig(s, r, err);
	if (rc)
		return rc;
	vdm_sizing_reset(s);
	s->req = r;
	for (size_t i = 0; i < s->n_gpus; i++)
		if (s->gpus[i].unplannable)
			vdm_sizing_unmet(s, vdm_xstrdup(s->gpus[i].unplannable));
	long *mem = vdm_xcalloc(r->n_groups, sizeof(*mem));
	bool searched = false;
	for (size_t k = 0; k < r->n_groups; k++) {
		mem[k] = r->groups[k].memory_mib;
		r->groups[k].placed = 0;
	}

	struct vdm_sizing_group *g0 = &r->groups[0];
	if (r->n_groups == 1 && !g0->fill && !g0->memory_mib && !g0->profile) {
		/* The largest size that still gives every VM a vGPU. Each distinct
		 * size is tried once, largest first, and the first that places every
		 * VM wins (a smaller size never places fewer): a few placements,
		 * not one per GPU and type (2048 GPUs took minutes). */
		size_t nfb = 0, cap = 0;
		long *fbs = NULL;
		for (size_t i = 0; i < s->n_gpus; i++)
			for (size_t t = 0; t < s->gpus[i].n_types; t++) {
				if (nfb == cap)
					fbs = vdm_xrealloc(fbs, cap = cap ? 2 * cap : 32, sizeof(*fbs));
				fbs[nfb++] = s->gpus[i].types[t].fb_mib;
			}
		if (nfb)
			qsort(fbs, nfb, sizeof(*fbs), cmp_desc);
		long best = 0;
		for (size_t i = 0; i < nfb && !best; i++) {
			if (i > 0 && fbs[i] == fbs[i - 1])
				continue;
			drop_allocs(s);
			if (place(s, r, 0, fbs[i]) >= g0->vms)
				best = fbs[i];
		}
		free(fbs);
		drop_allocs(s);
		mem[0] = best;
		searched = best > 0;
	}

	size_t *order = vdm_xcalloc(r->n_groups, sizeof(*order));
	long *key = vdm_xcalloc(r->n_groups, sizeof(*key));
	for (size_t k = 0; k < r->n_groups; k++) {
		order[k] = k;
		key[k] = r->groups[k].profile ? group_size(s, r, k) : mem[k];
	}
	for (size_t a = 1; a < r->n_groups; a++) /* stable, largest first */
		for (size_t b = a; b > 0 && key[order[b]] > key[order[b - 1]]; b--) {
			size_t x = order[b];
			order[b] = order[b - 1];
			order[b - 1] = x;
		}
	for (size_t j = 0; j < r->n_groups; j++) {
		size_t k = order[j];
		r->groups[k].placed = place(s, r, k, mem[k]);
	}
	for (size_t j = 0; j < r->n_groups; j++) {
		size_t k = order[j];
		const struct vdm_sizing_group *grp = &r->groups[k];
		if (grp->fill ? grp->placed == 0 : grp->placed < grp->vms)
			shortfall(s, r, k, mem[k]);
	}
	/* --mixed-size on this host's GPUs that are not in mixed-size mode:
	 * they took one size each; say how to change that */
	for (size_t i = 0; i < s->n_gpus && s->n_unmet && r->mixed_size; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[i];
		if (g->from_host && g->mixed_mode != 1 && g->mixed_capable == 1)
			vdm_sizing_unmet(s, vdm_strdupf(
				"--mixed-size: GPU %d (%s) is %s, one size per GPU; switch it while it "
				"holds no vGPU (nvidia-smi vgpu -i %s -shm 1) and plan again", g->index,
				g->addr, g->mixed_mode == 0 ? "in equal-size mode"
							    : "not known to be in mixed-size mode",
				g->addr));
	}
	explain(s, r, mem, searched);

	/* the label: the one type, when every used GPU has the same single type */
	const char *one = NULL;
	bool uniform = true;
	for (size_t i = 0; i < s->n_gpus; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[i];
		for (size_t a = 0; a < g->n_allocs; a++) {
			const char *n = g->types[g->allocs[a].type].name;
			if (one && strcmp(one, n) != 0)
				uniform = false;
			one = n;
		}
	}
	vdm_sizing_set_label(s, vdm_xstrdup(r->label ? r->label : uniform && one ? one : "default"));
	free(order);
	free(key);
	free(mem);
	vdm_sizing_driver_alternative(s, r);
	return s->n_unmet ? -ENOSPC : 0;
}
