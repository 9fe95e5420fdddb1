/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capacity rules, for both frameworks (sysfs-interfaces.md 1.5, 2, 3
 * and 5).  This is the only file that knows them: mdev `available_instances`,
 * vfio `creatable_vgpu_types`, the control file `creatable` and the NVML
 * stand-in all come from here.
 *
 *  - SIM_MIX_SAME_SIZE (equal-size mode, the default, and the only rule of
 *    pre-Ampere GPUs such as T4 and V100): every vGPU on the GPU has the same
 *    frame-buffer size, any series (a V100 holding one V100-8Q still offers
 *    V100-8A and V100-8B), up to the wanted type's max_instance.
 *  - SIM_MIX_MIXED_SIZE (SR-IOV, mixed-size mode): any type whose frame
 *    buffer fits in what the other vGPUs leave free, and fewer vGPUs of that
 *    type than its own max_instance.  SIMPLIFICATION: real mixed-size mode
 *    has lower maximums for some types and placement constraints.
 *  - SR-IOV: one vGPU per VF.
 *  - MIG-backed types (mig.c): only in MIG mode, only into GPU instances of
 *    their profile; time-sliced types only with MIG mode off.
 */
#include <stdlib.h>

#include "sim.h"

static unsigned gpu_fb_mib(const struct sim_gpu *g)
{
	return g->spec->fb_gb * 1024;
}

static bool compatible(enum sim_mix_policy policy, const struct sim_type_spec *have,
		       const struct sim_type_spec *want)
{
	switch (policy) {
	case SIM_MIX_SAME_SIZE:
		return sim_type_fb_mib(have) == sim_type_fb_mib(want);
	case SIM_MIX_MIXED_SIZE:
		return true;
	}
	return false;
}

/* MIG-backed: only in MIG mode, into GIs of the type's profile that hold
 * vGPUs of its size only, up to its per-GI and per-GPU maximums (mig.c). */
static unsigned mig_room(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *want)
{
	unsigned same = 0, room = 0;

	if (!g->mig_on)
		return 0;
	for (size_t i = 0; i < s->vgpus.n; i++) {
		const struct sim_vgpu *v = s->vgpus.v[i];
		same += v->gpu == g && v->spec == want;
	}
	if (same >= want->max_instances)
		return 0;
	for (size_t i = 0; i < g->gis.n; i++) {
		const struct sim_gi *gi = g->gis.v[i];
		if (gi->profile != want->gi || !gi->nci)
			continue;
		unsigned n = 0;
		bool ok = true;
		for (size_t k = 0; k < s->vgpus.n; k++) {
			const struct sim_vgpu *v = s->vgpus.v[k];
			if (v->gi != gi)
				continue;
			n++;
			ok = ok && sim_type_fb_mib(v->spec) == sim_type_fb_mib(want);
		}
		if (ok && n < want->per_gi)
			room += want->per_gi - n;
	}
	return room < want->max_instances - same ? room : want->max_instances - same;
}

/* How many more vGPUs of type want the whole GPU accepts. */
static unsigned gpu_room(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *want)
{
	unsigned used = 0, same = 0, fb_used = 0;

	if (want->gi)
		return mig_room(s, g, want);
	if (g->mig_on)
		return 0; /* time-sliced types are not offered in MIG mode */

	for (size_t i = 0; i < s->vgpus.n; i++) {
		const struct sim_vgpu *v = s->vgpus.v[i];
		if (v->gpu != g)
			continue;
		if (!compatible(g->policy, v->spec, want))
			return 0;
		used++;
		same += v->spec == want;
		fb_used += sim_type_fb_mib(v->spec);
	}
	if (g->policy != SIM_MIX_MIXED_SIZE)
		return used >= want->max_instances ? 0 : want->max_instances - used;
	if (same >= want->max_instances || fb_used >= gpu_fb_mib(g))
		return 0;
	unsigned fit = (gpu_fb_mib(g) - fb_used) / sim_type_fb_mib(want);
	unsigned left = want->max_instances - same;
	return fit < left ? fit : left;
}

static bool offered(const struct sim_gpu *g, const struct sim_type_spec *t)
{
	return !g->display_mode && t >= g->spec->types && t < g->spec->types + g->spec->ntypes;
}

unsigned mdev_available(const struct sim *s, const struct sim_mdev_type *t)
{
	const struct sim_parent *p = t->parent;
	unsigned room = gpu_room(s, p->gpu, t->spec);

	if (p->gpu->spec->num_vfs) /* SR-IOV: each VF holds at most one vGPU */
		return p->nvgpus == 0 && room > 0 ? 1 : 0;
	return room;
}

bool vfio_creatable(const struct sim *s, const struct sim_vf *vf, const struct sim_type_spec *t)
{
	return !vf->vgpu && offered(vf->gpu, t) && gpu_room(s, vf->gpu, t) > 0;
}

bool gpu_creatable(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *t)
{
	if (!offered(g, t) || gpu_room(s, g, t) == 0)
		return false;
	/* SR-IOV: a free VF is needed; each VF holds at most one vGPU */
	return !g->spec->num_vfs || sim_gpu_nvgpus(s, g) < g->vfs.n;
}

/* First start in [0, total - size] whose range is free, trying multiples of
 * step only; -1 if none. */
static long first_fit(const unsigned char *busy, unsigned total, unsigned size, unsigned step)
{
	for (unsigned at = 0; at + size <= total; at += step) {
		unsigned k = 0;
		while (k < size && !busy[at + k])
			k++;
		if (k == size)
			return at;
	}
	return -1;
}

/* GUESS: placement ids count GiB from the start of the frame buffer. */
unsigned gpu_placement(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *t)
{
	unsigned total = g->spec->fb_gb;
	unsigned size = sim_type_fb_mib(t) / 1024;
	unsigned char *busy = xcalloc(total, 1);
	unsigned end = 0;

	if (size == 0)
		size = 1;
	for (size_t i = 0; i < s->vgpus.n; i++) {
		const struct sim_vgpu *v = s->vgpus.v[i];
		if (v->gpu != g)
			continue;
		unsigned vs = sim_type_fb_mib(v->spec) / 1024;
		for (unsigned k = v->placement; k < v->placement + vs && k < total; k++)
			busy[k] = 1;
		if (v->placement + vs > end)
			end = v->placement + vs;
	}
	long at = first_fit(busy, total, size, size);
	if (at < 0)
		at = first_fit(busy, total, size, 1);
	free(busy);
	return at < 0 ? end : (unsigned)at; /* fragmented: past the last one */
}
