/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sizing: types not every host driver lists.
 *
 * A plan from the catalogue does not know which host driver the GPUs will
 * run.  NVIDIA ships two: NVIDIA AI Enterprise's (vGPU for Compute, the
 * C-series) and NVIDIA vGPU's (graphics: vWS, vPC, vApps).  On vGPU 16 and
 * later the C-series is licensed only through NVIDIA AI Enterprise
 * (../shared/reference/doctor-plan-mig.md 3.7), and a real L40S running the
 * graphics driver lists no C-series type (sysfs-interfaces.md, the
 * harvester capture: catalogue source cap-l40s).  The catalogue marks such
 * types (column sim=unoffered); vgpu-sim's L40S, like the capture, does not
 * list them.
 *
 * When a plan with no --host-driver uses one, the plan for the graphics
 * driver is made as well, so that `plan` can say what changes on such a
 * host and how to get that plan (--host-driver vgpu).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sizing_int.h"

/* "L40S-8C" (each dependent type used, once), or NULL. */
static char *dependent_used(const struct vdm_sizing *s)
{
	char *out = NULL;
	for (size_t i = 0; i < s->n_gpus; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[i];
		for (size_t a = 0; a < g->n_allocs; a++) {
			const struct vdm_sizing_type *t = &g->types[g->allocs[a].type];
			if (!t->driver_dependent || (out && strstr(out, t->name)))
				continue;
			char *more = out ? vdm_strdupf("%s, %s", out, t->name) : vdm_xstrdup(t->name);
			free(out);
			out = more;
		}
	}
	return out;
}

/* "6 x L40S-8Q", "4 x L40S-8Q, 2 x L40S-4Q": every vGPU the plan makes,
 * by type in order of first use, summed over GPUs. */
static char *summary(const struct vdm_sizing *s)
{
	const char **names = NULL;
	int *counts = NULL;
	size_t n = 0;
	for (size_t i = 0; i < s->n_gpus; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[i];
		for (size_t a = 0; a < g->n_allocs; a++) {
			const char *name = g->types[g->allocs[a].type].name;
			size_t j = 0;
			while (j < n && strcmp(names[j], name))
				j++;
			if (j == n) {
				names = vdm_xrealloc(names, n + 1, sizeof(*names));
				counts = vdm_xrealloc(counts, n + 1, sizeof(*counts));
				names[n] = name;
				counts[n++] = 0;
			}
			counts[j] += g->allocs[a].count;
		}
	}
	char *out = NULL;
	for (size_t j = 0; j < n; j++) {
		char *more = vdm_strdupf("%s%s%d x %s", out ? out : "", out ? ", " : "", counts[j], names[j]);
		free(out);
		out = more;
	}
	free(names);
	free(counts);
	return out;
}

void vdm_sizing_driver_alternative(struct vdm_sizing *s, const struct vdm_sizing_request *r)
{
	if (r->host_driver != VDM_HOST_DRIVER_ANY || !(s->dependent = dependent_used(s)))
		return;
	/* The same GPUs (offline: only catalogue GPUs carry dependent types) and
	 * the same request, for the graphics driver. */
	struct vdm_sizing *alt = vdm_sizing_new();
	char *err = NULL;
	for (size_t i = 0; i < s->n_gpus; i++) {
		if (vdm_sizing_add_model(alt, s->gpus[i].model, 1, &err) < 0) {
			free(err);
			vdm_sizing_free(alt);
			return;
		}
	}
	struct vdm_sizing_request r2 = *r;
	r2.host_driver = VDM_HOST_DRIVER_VGPU;
	r2.groups = vdm_xcalloc(r->n_groups ? r->n_groups : 1, sizeof(*r2.groups));
	memcpy(r2.groups, r->groups, r->n_groups * sizeof(*r2.groups));
	int rc = vdm_sizing_run(alt, &r2, &err);
	if (rc == 0)
		s->alternative = summary(alt);
	else if (rc == -ENOSPC && alt->n_unmet)
		s->alternative_unmet = vdm_xstrdup(alt->unmet[0]);
	free(err);
	free(r2.groups);
	vdm_sizing_free(alt);
}
