/* SPDX-License-Identifier: Apache-2.0 */
/* sizing: the GPUs to size for, and the sizing rules (sizing.h). */
#include "sizing.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "sizing_int.h"
#include "spec/spec.h"

struct vdm_sizing *vdm_sizing_new(void)
{
	return vdm_xcalloc(1, sizeof(struct vdm_sizing));
}

void vdm_sizing_seed(struct vdm_sizing_gpu *g)
{
	free(g->allocs);
	g->allocs = NULL;
	g->n_allocs = 0;
	if (!g->n_held)
		return;
	g->allocs = vdm_xcalloc(g->n_held, sizeof(*g->allocs));
	for (size_t h = 0; h < g->n_held; h++)
		g->allocs[g->n_allocs++] = (struct vdm_sizing_alloc){
			.type = g->held[h].type, .count = g->held[h].count, .group = -1};
}

static void clear_result(struct vdm_sizing *s)
{
	for (size_t i = 0; i < s->n_gpus; i++) {
		struct vdm_sizing_gpu *g = &s->gpus[i];
		vdm_sizing_seed(g);
		g->mixed = false;
		free(g->why);
		g->why = NULL;
	}
	for (size_t i = 0; i < s->n_unmet; i++)
		free(s->unmet[i]);
	free(s->unmet);
	s->unmet = NULL;
	s->n_unmet = 0;
	free(s->label);
	s->label = NULL;
	free(s->dependent);
	s->dependent = NULL;
	free(s->alternative);
	s->alternative = NULL;
	free(s->alternative_unmet);
	s->alternative_unmet = NULL;
}

void vdm_sizing_free(struct vdm_sizing *s)
{
	if (!s)
		return;
	clear_result(s);
	for (size_t i = 0; i < s->n_gpus; i++) {
		struct vdm_sizing_gpu *g = &s->gpus[i];
		for (size_t t = 0; t < g->n_types; t++) {
			free(g->types[t].name);
			free(g->types[t].blocked);
		}
		free(g->types);
		for (size_t h = 0; h < g->n_held; h++)
			free(g->held[h].holders);
		free(g->held);
		free(g->allocs);
		free(g->unplannable);
		free(g->model);
	}
	free(s->gpus);
	free(s);
}

static struct vdm_sizing_gpu *add_gpu(struct vdm_sizing *s, const char *model)
{
	s->gpus = vdm_xrealloc(s->gpus, s->n_gpus + 1, sizeof(*s->gpus));
	struct vdm_sizing_gpu *g = &s->gpus[s->n_gpus];
	memset(g, 0, sizeof(*g));
	g->index = (int)s->n_gpus++;
	g->model = vdm_xstrdup(model);
	g->vf_limit = -1;
	g->mixed_mode = -1;
	g->mixed_capable = -1;
	return g;
}

static struct vdm_sizing_type *add_type(struct vdm_sizing_gpu *g, const char *name, char series,
					 long fb_mib, int max, bool mig)
{
	g->types = vdm_xrealloc(g->types, g->n_types + 1, sizeof(*g->types));
	g->types[g->n_types] = (struct vdm_sizing_type){
		.name = vdm_xstrdup(name), .series = series, .fb_mib = fb_mib,
		.max_instances = max, .mig = mig,
	};
	return &g->types[g->n_types++];
}

int vdm_sizing_add_model(struct vdm_sizing *s, const char *model, int n, char **err)
{
	const struct vdm_cat_gpu *c = vdm_cat_gpu_by_model(model);
	if (!c) {
		size_t len = 0;
		for (size_t i = 0; i < vdm_cat_gpu_count(); i++)
			len += strlen(vdm_cat_gpu_at(i)->model) + 1;
		char *names = vdm_xcalloc(len + 1, 1);
		for (size_t i = 0; i < vdm_cat_gpu_count(); i++) {
			strcat(names, i ? " " : "");
			strcat(names, vdm_cat_gpu_at(i)->model);
		}
		*err = vdm_strdupf("unknown GPU model \"%s\"; the catalogue knows: %s", model, names);
		free(names);
		return -ENOENT;
	}
	for (int k = 0; k < n; k++) {
		struct vdm_sizing_gpu *g = add_gpu(s, c->model);
		g->device_id = c->device_id;
		g->vendor_id = 0x10DE;
		g->fb_mib = c->fb_mib;
		g->vf_limit = c->sriov_vfs > 0 ? c->sriov_vfs : -1;
		/* without SR-IOV (before Ampere) a GPU has one size at a time,
		 * as the host's own check says (plan_check.c) */
		g->mixed_capable = c->sriov_vfs == 0 ? 0 : c->mixed_size;
		g->mig_capable = c->mig;
		for (size_t t = 0; t < c->n_types; t++) {
			const struct vdm_cat_type *ct = &c->types[t];
			if (strstr(ct->suffix, "B4")) /* real, but no config can name it */
				continue;
			add_type(g, ct->name, ct->series, ct->fb_mib, (int)ct->max_instances,
				 ct->gi_profile != NULL)->driver_dependent = ct->sim == VDM_CAT_SIM_UNOFFERED;
		}
	}
	s->offline = true;
	return 0;
}

int vdm_sizing_add_model_arg(struct vdm_sizing *s, const char *arg, char **err)
{
	char model[64];
	int n = 1;
	size_t len = strlen(arg);
	const char *x;

	if (len == 0 || len >= sizeof(model)) {
		*err = vdm_strdupf("--gpu \"%s\": expected MODEL or MODELxN (e.g. L40Sx2)", arg);
		return -EINVAL;
	}
	snprintf(model, sizeof(model), "%s", arg);
	if (!vdm_cat_gpu_by_model(arg)) {
		/* "L40Sx2" or "2xL40S" */
		long v = 0;
		if ((x = strrchr(arg, 'x')) && x[1] && strspn(x + 1, "0123456789") == strlen(x + 1)) {
			n = vdm_parse_long(x + 1, 10, 1, 64, &v) == 0 ? (int)v : 0;
			snprintf(model, sizeof(model), "%.*s", (int)(x - arg), arg);
		} else if ((x = strchr(arg, 'x')) && x > arg &&
			   strspn(arg, "0123456789") == (size_t)(x - arg)) {
			n = vdm_parse_long_prefix(arg, NULL, 10, 1, 64, &v) == 0 ? (int)v : 0;
			snprintf(model, sizeof(model), "%s", x + 1);
		}
		if (n < 1 || n > 64 || !model[0]) {
			*err = vdm_strdupf("--gpu \"%s\": the count must be 1 to 64", arg);
			return -EINVAL;
		}
	}
	return vdm_sizing_add_model(s, model, n, err);
}

/* The sizing type of a vGPU a VM holds: by name among the GPU's types, else
 * added from the catalogue (a vendor-VFIO GPU lists only what is creatable
 * now); -1 when neither can name it. */
static int held_type(struct vdm_sizing_gpu *g, const struct vdm_gpu *hg, const struct vdm_vgpu *vg,
		     const struct vdm_cat_gpu *c)
{
	const struct vdm_cat_type *ct = NULL;
	const char *name = vg->type >= 0 && (size_t)vg->type < hg->n_types ? hg->types[vg->type].name : NULL;
	if (!name && c && vg->type_id) {
		long id;
		const char *p = strncmp(vg->type_id, "nvidia-", 7) ? vg->type_id : vg->type_id + 7;
		if (vdm_parse_long(p, 10, 1, 1000000, &id) == 0 && (ct = vdm_cat_gpu_type_by_id(c, (unsigned)id)))
			name = ct->name;
	}
	if (!name)
		return -1;
	for (size_t t = 0; t < g->n_types; t++)
		if (!strcmp(g->types[t].name, name))
			return (int)t;
	if (!ct && c)
		ct = vdm_cat_gpu_type(c, name);
	struct vdm_vgpu_type p;
	const char *why;
	if (!ct || vdm_vgpu_type_parse(name, &p, &why) != 0)
		return -1;
	add_type(g, ct->name, ct->series, ct->fb_mib, (int)ct->max_instances, ct->gi_profile != NULL);
	return (int)g->n_types - 1;
}

/* Keep what a VM holds: one held allocation per type, with its holders. */
static void add_held(struct vdm_sizing_gpu *g, const struct vdm_gpu *hg, const struct vdm_cat_gpu *c)
{
	for (size_t v = 0; v < hg->n_vgpus; v++) {
		const struct vdm_vgpu *vg = &hg->vgpus[v];
		if (vg->user_pid <= 0)
			continue;
		int t = held_type(g, hg, vg, c);
		if (t < 0) {
			if (!g->unplannable)
				g->unplannable = vdm_strdupf("GPU %d (%s): vGPU %s, held by pid %d, is of a type "
							     "(%s) neither the driver nor the catalogue names; "
							     "plan cannot lay out around it",
							     hg->index, hg->addr, vg->id, vg->user_pid,
							     vg->type_id ? vg->type_id : "?");
			continue;
		}
		char who[160];
		if (vg->user_vm)
			snprintf(who, sizeof(who), "VM %s (pid %d)", vg->user_vm, vg->user_pid);
		else
			snprintf(who, sizeof(who), "pid %d", vg->user_pid);
		size_t h = 0;
		while (h < g->n_held && g->held[h].type != t)
			h++;
		if (h == g->n_held) {
			g->held = vdm_xrealloc(g->held, g->n_held + 1, sizeof(*g->held));
			g->held[g->n_held++] = (struct vdm_sizing_held){.type = t, .holders = vdm_xstrdup(who)};
		} else if (!strstr(g->held[h].holders, who)) {
			char *more = vdm_strdupf("%s, %s", g->held[h].holders, who);
			free(g->held[h].holders);
			g->held[h].holders = more;
		}
		g->held[h].count++;
	}
	vdm_sizing_seed(g);
}

int vdm_sizing_add_host(struct vdm_sizing *s, const struct vdm_host *h)
{
	int added = 0;
	for (size_t i = 0; i < h->n_gpus; i++) {
		const struct vdm_gpu *hg = &h->gpus[i];
		if (hg->fw == VDM_FW_NONE)
			continue;
		const struct vdm_cat_gpu *c = vdm_cat_gpu_by_pci(hg->id.device, hg->id.subsys_vendor,
								 hg->id.subsys_device);
		if (!c || (hg->model[0] && strcasecmp(c->model, hg->model) != 0))
			c = vdm_cat_gpu_by_model(hg->model);
		struct vdm_sizing_gpu *g = add_gpu(s, hg->model[0] ? hg->model : c ? c->model : "?");
		g->index = hg->index;
		snprintf(g->addr, sizeof(g->addr), "%s", hg->addr);
		g->device_id = hg->id.device;
		g->vendor_id = hg->id.vendor;
		g->from_host = true;
		g->vf_limit = hg->sriov && hg->total_vfs > 0 ? hg->total_vfs : -1;
		g->mixed_mode = vdm_gpu_is_mixed(hg) ? 1 : hg->mixed_size;
		g->mixed_capable = g->mixed_mode == 1 ? 1 : !hg->sriov ? 0 : c ? c->mixed_size : -1;
		long fb = 0;
		bool any_mig = false;
		for (size_t t = 0; t < hg->n_types; t++) {
			const struct vdm_vtype *vt = &hg->types[t];
			struct vdm_vgpu_type p;
			const char *why;
			if (vdm_vgpu_type_parse(vt->name, &p, &why) != 0)
				continue; /* "T4-2B4": no config can name it */
			long tfb = vt->fb_mib > 0 ? vt->fb_mib : p.gb ? p.gb * 1024L : 512;
			int max = vt->max_instances;
			const struct vdm_cat_type *ct = c ? vdm_cat_gpu_type(c, vt->name) : NULL;
			if (max < 0 && ct)
				max = (int)ct->max_instances;
			add_type(g, vt->name, p.series, tfb, max, vdm_vgpu_type_is_mig(&p));
			/* a GPU-instance profile NVML names only in MIG mode, and the
			 * catalogue not at all: apply cannot plan its GPU instances */
			const struct vdm_mig *m = hg->mig;
			int gip = m && m->type_gip ? m->type_gip[t] : -1;
			if (vdm_vgpu_type_is_mig(&p) && m && m->profiles_from_catalogue && gip >= 0 &&
			    !vdm_mig_gip(hg, (unsigned)gip))
				g->types[g->n_types - 1].blocked = vdm_strdupf(
					"%s needs GPU-instance profile %d, which NVML lists only in MIG mode: "
					"turn MIG mode on first (nvidia-smi -i %s -mig 1) and plan again",
					vt->name, gip, hg->addr);
			any_mig |= vdm_vgpu_type_is_mig(&p);
			if (!vdm_vgpu_type_is_mig(&p) && max > 0 && tfb * max > fb)
				fb = tfb * max;
		}
		/* the driver's lists win; the catalogue fills in what they cannot say */
		g->fb_mib = fb > 0 ? fb : c ? (long)c->fb_mib : 0;
		g->mig_capable = any_mig || (c && c->mig);
		add_held(g, hg, c);
		added++;
	}
	return added;
}

int vdm_sizing_host_driver(const char *word)
{
	if (word && !strcasecmp(word, "vgpu"))
		return VDM_HOST_DRIVER_VGPU;
	if (word && (!strcasecmp(word, "ai-enterprise") || !strcasecmp(word, "aie")))
		return VDM_HOST_DRIVER_AI_ENTERPRISE;
	return -1;
}

char vdm_sizing_use_series(const char *use)
{
	const struct vdm_cat_series *cs;
	for (size_t i = 0; (cs = vdm_cat_series_at(i)); i++)
		if (use && strcasecmp(cs->use, use) == 0)
			return cs->series;
	return 0;
}

/* ---- the rules ---- */

bool vdm_sizing_usable(const struct vdm_sizing_type *t, const struct vdm_sizing_request *r)
{
	return !t->blocked && !(t->driver_dependent && r->host_driver == VDM_HOST_DRIVER_VGPU);
}

static bool offers_series(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r, char series,
			  bool mig)
{
	for (size_t t = 0; t < g->n_types; t++)
		if (g->types[t].series == series && g->types[t].mig == mig && vdm_sizing_usable(&g->types[t], r))
			return true;
	return false;
}

static bool c_only(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r)
{
	bool any = false;
	for (size_t t = 0; t < g->n_types; t++) {
		if (!vdm_sizing_usable(&g->types[t], r))
			continue;
		if (g->types[t].series != 'C')
			return false;
		any = true;
	}
	return any;
}

/* Why the C-series is missing on this GPU, for --cuda's fallback to Q. */
static const char *no_c_note(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r)
{
	if (g->from_host)
		return "C-series not listed by this host's driver (C-series comes with NVIDIA AI "
		       "Enterprise's host driver); Q runs CUDA too";
	if (r->host_driver == VDM_HOST_DRIVER_VGPU && offers_series(g, &(struct vdm_sizing_request){0}, 'C', false))
		return "C-series not listed by the NVIDIA vGPU host driver; Q runs CUDA too";
	return "C-series not offered here; Q runs CUDA too";
}

/* The series a group gets on a GPU, 0 if none; *note says why when it is not
 * simply the one asked for. */
char vdm_sizing_series(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r,
		       bool mig, const char **note)
{
	*note = NULL;
	if (r->series) {
		if (offers_series(g, r, r->series, mig))
			return r->series;
		if (r->cuda && r->series == 'C' && offers_series(g, r, 'Q', mig)) {
			*note = no_c_note(g, r);
			return 'Q';
		}
		return 0;
	}
	if (offers_series(g, r, 'Q', mig))
		return 'Q';
	if (offers_series(g, r, 'C', mig)) {
		*note = c_only(g, r) ? "C-only GPU" : "no Q-series type here";
		return 'C';
	}
	return 0;
}

/* On a host only a GPU in mixed-size mode now takes two sizes: apply does not
 * switch the mode (it needs the GPU without vGPUs), so a plan that counted on
 * it would be refused there. From the catalogue, --mixed-size allows it. */
bool vdm_sizing_mixed_ok(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r)
{
	return g->mixed_mode == 1 || (r->mixed_size && g->mixed_capable == 1 && !g->from_host);
}

/* How many more vGPUs of type t the GPU takes, given what it holds. */
int vdm_sizing_room(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r, int t)
{
	const struct vdm_sizing_type *want = &g->types[t];
	long used_fb = 0;
	int total = 0, same = 0;

	for (size_t a = 0; a < g->n_allocs; a++) {
		const struct vdm_sizing_type *have = &g->types[g->allocs[a].type];
		if (have->mig != want->mig)
			return 0; /* time-sliced and MIG-backed never on one GPU */
		if (g->allocs[a].type != t && (want->mig || !vdm_sizing_mixed_ok(g, r)))
			return 0; /* one size (one type) per GPU */
		total += g->allocs[a].count;
		same += g->allocs[a].type == t ? g->allocs[a].count : 0;
		used_fb += have->fb_mib * g->allocs[a].count;
	}
	long room = want->max_instances >= 0 ? want->max_instances - same : INT_MAX;
	if (!want->mig && g->fb_mib > 0 && want->fb_mib > 0) {
		long fit = (g->fb_mib - used_fb) / want->fb_mib;
		room = fit < room ? fit : room;
	}
	if (g->vf_limit >= 0 && g->vf_limit - total < room)
		room = g->vf_limit - total;
	return room > 0 ? (int)room : 0;
}

/* The type a group gets on a GPU, or -1 with *why saying why not (malloc'd). */
int vdm_sizing_choose(const struct vdm_sizing_gpu *g, const struct vdm_sizing_request *r,
		      const struct vdm_sizing_group *grp, long memory_mib, char **why)
{
	*why = NULL;
	if (grp->profile) {
		for (size_t t = 0; t < g->n_types; t++) {
			const char *n = g->types[t].name;
			size_t ml = strlen(g->model);
			if (strcmp(n, grp->profile) == 0 ||
			    (strncmp(n, g->model, ml) == 0 && n[ml] == '-' && !strcmp(n + ml + 1, grp->profile))) {
				if (vdm_sizing_usable(&g->types[t], r))
					return (int)t;
				*why = g->types[t].blocked ? vdm_xstrdup(g->types[t].blocked)
					: vdm_strdupf("the NVIDIA vGPU host driver does not list %s", n);
				return -1;
			}
		}
		*why = vdm_strdupf("does not offer %s", grp->profile);
		return -1;
	}
	bool mig = r->mig && g->mig_capable;
	const char *note;
	char series = vdm_sizing_series(g, r, mig, &note);
	if (!series && mig) {
		mig = false;
		series = vdm_sizing_series(g, r, false, &note);
	}
	if (!series) {
		struct vdm_sizing_request any = *r;
		any.host_driver = VDM_HOST_DRIVER_ANY;
		if (r->host_driver == VDM_HOST_DRIVER_VGPU && vdm_sizing_series(g, &any, mig, &note))
			*why = vdm_strdupf("the NVIDIA vGPU host driver lists no %c-series type", r->series);
		else if (c_only(g, r))
			*why = vdm_strdupf("C-only GPU: offers no %c-series type", r->series);
		else
			*why = vdm_strdupf("offers no %c-series type", r->series);
		return -1;
	}
	int best = -1;
	long largest = 0;
	for (size_t t = 0; t < g->n_types; t++) {
		const struct vdm_sizing_type *ty = &g->types[t];
		if (ty->series != series || ty->mig != mig || !vdm_sizing_usable(ty, r))
			continue;
		largest = ty->fb_mib > largest ? ty->fb_mib : largest;
		if (ty->fb_mib < memory_mib)
			continue;
		if (best < 0 || ty->fb_mib < g->types[best].fb_mib)
			best = (int)t;
	}
	if (best < 0) {
		char a[32], b[32];
		vdm_sizing_gb(memory_mib, a, sizeof(a));
		vdm_sizing_gb(largest, b, sizeof(b));
		*why = vdm_strdupf("no %c-series type of %s or more (largest %s)", series, a, b);
	}
	return best;
}

void vdm_sizing_gb(long mib, char *buf, size_t len)
{
	if (mib % 1024 == 0)
		snprintf(buf, len, "%ld GB", mib / 1024);
	else
		snprintf(buf, len, "%.1f GB", mib / 1024.0);
}

void vdm_sizing_unmet(struct vdm_sizing *s, char *line)
{
	s->unmet = vdm_xrealloc(s->unmet, s->n_unmet + 1, sizeof(*s->unmet));
	s->unmet[s->n_unmet++] = line;
}

void vdm_sizing_set_label(struct vdm_sizing *s, char *label)
{
	free(s->label);
	s->label = label;
}

void vdm_sizing_reset(struct vdm_sizing *s)
{
	clear_result(s);
}
