/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MIG: the mode of a GPU, its GPU instances (GIs) and their compute
 * instances (CIs), as the NVIDIA driver keeps them (doctor-plan-mig.md 3.5,
 * 4).  The NVML stand-in drives them through control files under
 * .vgpu-sim/gpus/<BDF>/ (see sim/README.md):
 *
 *   mig_mode     "<current> <pending>"; write 0 or 1 (nvmlDeviceSetMigMode)
 *   gi_profiles  "<index> <id> <slices> <GB> <max> <size> <starts> <name>"
 *   gis          "<id> <profile id> <start> <size> <CIs> <CI profile index or -1>";
 *                write "create <profile id> [<start>]", "destroy <id>",
 *                "ci-create <id> [<CI profile index>]" or "ci-destroy <id>"
 *   ci_nvl       "1" when 7-slice GIs offer the 7_SLICE_NVL CI profile, else "0"
 *   mig_types    "<type id> <profile id> <vGPUs per GI>" of MIG-backed types
 *   vgpus        "<type id> <GI id or -1> <UUID or VF address>" of every vGPU
 *
 * Rules (facts from the reference, GUESS where marked):
 *  - A mode change is refused (EBUSY = NVML_ERROR_IN_USE) while a vGPU
 *    exists; turning MIG off also while VFs are enabled [cube
 *    TeardownMigVgpu] or GIs exist (GUESS).
 *  - Ampere (model mig_reset): the new mode is pending until a GPU reset;
 *    the reset is part of the mode write and succeeds only while the GPU has
 *    no VFs enabled (GUESS for the precise condition; mig-parted#181).
 *    Hopper and Blackwell switch at once.
 *  - GIs: the profile's count per GPU, placements in memory slots that may
 *    not overlap, compute slices that may not exceed the GPU's; otherwise
 *    ENOSPC (NVML_ERROR_INSUFFICIENT_RESOURCES).  Ids: the lowest free from
 *    1 (GUESS).  A GI is destroyed only without CIs and vGPUs (EBUSY).
 *  - One CI per GI, spanning it (SIMPLIFICATION: what `-C` makes): the
 *    full NVML_COMPUTE_INSTANCE_PROFILE_<n>_SLICE of the GI's n slices, or
 *    on a model with mig_ci_nvl and a 7-slice GI also 7_SLICE_NVL (8);
 *    another index is EOPNOTSUPP.
 *  - Enabling or disabling VFs destroys every GI [cube]: sriov.c calls
 *    mig_wipe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static struct sim_gi *gi_by_id(const struct sim_gpu *g, unsigned id)
{
	for (size_t i = 0; i < g->gis.n; i++) {
		struct sim_gi *gi = g->gis.v[i];
		if (gi->id == id)
			return gi;
	}
	return NULL;
}

int mig_full_ci_index(unsigned slices)
{
	/* NVML_COMPUTE_INSTANCE_PROFILE_{1,2,3,4,-,6,7,8}_SLICE */
	static const int idx[9] = { -1, 0, 1, 2, 3, -1, 6, 4, 5 };
	return slices < 9 ? idx[slices] : -1;
}

#define CI_7_SLICE_NVL 8u /* NVML_COMPUTE_INSTANCE_PROFILE_7_SLICE_NVL (NVML 13.3) */

bool mig_ci_allowed(const struct sim_model_spec *m, const struct sim_gi_profile *p, unsigned ci)
{
	if (mig_full_ci_index(p->slices) == (int)ci)
		return true;
	return m->mig_ci_nvl && p->slices == 7 && ci == CI_7_SLICE_NVL;
}

unsigned mig_gi_nvgpus(const struct sim *s, const struct sim_gi *gi)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->vgpus.n; i++)
		n += ((const struct sim_vgpu *)s->vgpus.v[i])->gi == gi;
	return n;
}

/* Can one more vGPU of type t go into gi?  Same profile, a CI, room, and
 * only one frame-buffer size per GI [cube]. */
static bool gi_fits(const struct sim *s, const struct sim_gi *gi, const struct sim_type_spec *t)
{
	unsigned n = 0;

	if (gi->profile != t->gi || gi->nci == 0)
		return false;
	for (size_t i = 0; i < s->vgpus.n; i++) {
		const struct sim_vgpu *v = s->vgpus.v[i];
		if (v->gi != gi)
			continue;
		if (sim_type_fb_mib(v->spec) != sim_type_fb_mib(t))
			return false;
		n++;
	}
	return n < t->per_gi;
}

struct sim_gi *mig_fit_gi(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *t)
{
	struct sim_gi *best = NULL;

	if (!g->mig_on || !t->gi)
		return NULL;
	for (size_t i = 0; i < g->gis.n; i++) {
		struct sim_gi *gi = g->gis.v[i];
		if (gi_fits(s, gi, t) && (!best || gi->id < best->id))
			best = gi;
	}
	return best;
}

void mig_wipe(struct sim_gpu *g)
{
	for (size_t i = 0; i < g->gis.n; i++)
		free(g->gis.v[i]);
	g->gis.n = 0;
}

void mig_free_all(struct sim *s)
{
	for (size_t i = 0; i < s->gpus.n; i++) {
		struct sim_gpu *g = s->gpus.v[i];
		mig_wipe(g);
		pv_free(&g->gis);
	}
}

/* ---- mode ---------------------------------------------------------------------- */

static int mode_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;

	sb_printf(out, "%d %d\n", g->mig_on, g->mig_pending);
	return 0;
}

static int mode_store(struct node *n, const char *buf, size_t len)
{
	struct sim_gpu *g = n->data;
	struct sim *s = g->sim;
	int fault = control_take_fault(s, SIM_FAULT_MIG);

	if (fault)
		return fault;
	if (len && buf[len - 1] == '\n')
		len--;
	if (len != 1 || (buf[0] != '0' && buf[0] != '1'))
		return -EINVAL;
	bool want = buf[0] == '1';
	if (want == g->mig_on) {
		g->mig_pending = want; /* cancels a pending change */
		return 0;
	}
	if (sim_gpu_nvgpus(s, g))
		return -EBUSY;
	if (!want && (g->vfs.n || g->gis.n))
		return -EBUSY;
	g->mig_pending = want;
	if (!g->spec->mig_reset || g->vfs.n == 0)
		g->mig_on = want; /* no reset needed, or the reset succeeded */
	return 0;
}

static const struct file_ops mode_ops = { .show = mode_show, .store = mode_store };

/* ---- profiles and types ------------------------------------------------------------- */

static int profiles_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;
	const struct sim_model_spec *m = g->spec;

	for (size_t i = 0; i < m->ngi_profiles; i++) {
		const struct sim_gi_profile *p = &m->gi_profiles[i];
		sb_printf(out, "%u %u %u %u %u %u ", p->index, p->id, p->slices, p->mem_gb, p->max, p->size);
		bool first = true;
		for (unsigned k = 0; k < 32; k++)
			if (p->starts_mask & (1u << k)) {
				sb_printf(out, "%s%u", first ? "" : ",", k);
				first = false;
			}
		sb_printf(out, " %s\n", p->name);
	}
	return 0;
}

static const struct file_ops profiles_ops = { .show = profiles_show };

static int ci_nvl_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;

	sb_printf(out, "%d\n", g->spec->mig_ci_nvl);
	return 0;
}

static const struct file_ops ci_nvl_ops = { .show = ci_nvl_show };

static int mig_types_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;
	const struct sim_model_spec *m = g->spec;

	for (size_t i = 0; i < m->ntypes; i++)
		if (m->types[i].gi)
			sb_printf(out, "%u %u %u\n", m->types[i].id, m->types[i].gi->id, m->types[i].per_gi);
	return 0;
}

static const struct file_ops mig_types_ops = { .show = mig_types_show };

static int vgpus_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;
	const struct sim *s = g->sim;

	for (size_t i = 0; i < s->vgpus.n; i++) {
		const struct sim_vgpu *v = s->vgpus.v[i];
		if (v->gpu != g)
			continue;
		sb_printf(out, "%u %d %s\n", v->spec->id, v->gi ? (int)v->gi->id : -1,
			  v->vf ? v->vf->fn->bdf : v->uuid);
	}
	return 0;
}

static const struct file_ops vgpus_ops = { .show = vgpus_show };

/* ---- GPU and compute instances ---------------------------------------------------- */

static int gis_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;
	unsigned last = 0;

	/* in id order */
	for (;;) {
		const struct sim_gi *next = NULL;
		for (size_t i = 0; i < g->gis.n; i++) {
			const struct sim_gi *gi = g->gis.v[i];
			if (gi->id > last && (!next || gi->id < next->id))
				next = gi;
		}
		if (!next)
			break;
		sb_printf(out, "%u %u %u %u %u %d\n", next->id, next->profile->id, next->start,
			  next->profile->size, next->nci, next->nci ? (int)next->ci_index : -1);
		last = next->id;
	}
	return 0;
}

static bool overlaps(const struct sim_gpu *g, unsigned start, unsigned size)
{
	for (size_t i = 0; i < g->gis.n; i++) {
		const struct sim_gi *gi = g->gis.v[i];
		if (start < gi->start + gi->profile->size && gi->start < start + size)
			return true;
	}
	return false;
}

static int gi_create(struct sim_gpu *g, unsigned profile_id, long start)
{
	const struct sim_gi_profile *p = sim_model_gi_profile(g->spec, profile_id);
	unsigned count = 0, slices = 0;

	if (!p)
		return -EINVAL;
	if (start >= 0 && (start >= 32 || !(p->starts_mask & (1u << start))))
		return -EINVAL;
	for (size_t i = 0; i < g->gis.n; i++) {
		const struct sim_gi *gi = g->gis.v[i];
		count += gi->profile == p;
		slices += gi->profile->slices;
	}
	if (count >= p->max || slices + p->slices > g->spec->mig_compute)
		return -ENOSPC;
	if (start < 0) {
		for (unsigned k = 0; k < 32 && start < 0; k++)
			if ((p->starts_mask & (1u << k)) && k + p->size <= g->spec->mig_slots &&
			    !overlaps(g, k, p->size))
				start = k;
		if (start < 0)
			return -ENOSPC;
	} else if ((unsigned)start + p->size > g->spec->mig_slots || overlaps(g, (unsigned)start, p->size)) {
		return -ENOSPC;
	}
	struct sim_gi *gi = xcalloc(1, sizeof(*gi));
	gi->profile = p;
	gi->start = (unsigned)start;
	for (gi->id = 1; gi_by_id(g, gi->id); gi->id++)
		;
	pv_push(&g->gis, gi);
	return 0;
}

static int gis_store(struct node *n, const char *buf, size_t len)
{
	struct sim_gpu *g = n->data;
	struct sim *s = g->sim;
	char line[64], verb[16];
	unsigned a = 0;
	long b = -1;

	if (len >= sizeof(line))
		return -EINVAL;
	memcpy(line, buf, len);
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	int k = sscanf(line, "%15s %u %ld", verb, &a, &b);
	bool create = k >= 2 && strcmp(verb, "create") == 0;
	if (create) {
		int fault = control_take_fault(s, SIM_FAULT_GI);
		if (fault)
			return fault;
	}
	bool ci_create = k >= 2 && strcmp(verb, "ci-create") == 0;
	if (k < 2 || (k == 3 && !create && !ci_create) || b < -1)
		return -EINVAL;
	if (!g->mig_on)
		return -EOPNOTSUPP;
	if (create)
		return gi_create(g, a, k == 3 ? b : -1);
	struct sim_gi *gi = gi_by_id(g, a);
	if (!gi)
		return -ENOENT;
	if (strcmp(verb, "destroy") == 0) {
		if (gi->nci || mig_gi_nvgpus(s, gi))
			return -EBUSY;
		pv_remove(&g->gis, gi);
		free(gi);
		return 0;
	}
	if (ci_create) {
		int ci = k == 3 ? (int)b : mig_full_ci_index(gi->profile->slices);
		if (ci < 0 || !mig_ci_allowed(g->spec, gi->profile, (unsigned)ci))
			return -EOPNOTSUPP;
		if (gi->nci)
			return -ENOSPC;
		gi->nci = 1;
		gi->ci_index = (unsigned)ci;
		return 0;
	}
	if (strcmp(verb, "ci-destroy") == 0) {
		if (!gi->nci)
			return -ENOENT;
		if (mig_gi_nvgpus(s, gi))
			return -EBUSY;
		gi->nci = 0;
		return 0;
	}
	return -EINVAL;
}

static const struct file_ops gis_ops = { .show = gis_show, .store = gis_store };

void mig_add_gpu_files(struct sim *s, struct sim_gpu *g, struct node *d)
{
	struct tree *t = &s->tree;

	tree_file(t, d, "mig_mode", 0644, &mode_ops, g);
	tree_file(t, d, "gi_profiles", 0444, &profiles_ops, g);
	tree_file(t, d, "ci_nvl", 0444, &ci_nvl_ops, g);
	tree_file(t, d, "gis", 0644, &gis_ops, g);
	tree_file(t, d, "mig_types", 0444, &mig_types_ops, g);
	tree_file(t, d, "vgpus", 0444, &vgpus_ops, g);
}
