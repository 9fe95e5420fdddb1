/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --replay: the captured GPUs (host.json, nvml.json) as simulator GPUs bound
 * to the captured directories (see replay.c). A GPU's model is the
 * catalogue's (by device id) with the captured types; what the capture lacks
 * and the rules need is assumed and noted.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay.h"
#include "sim.h"

/* Memory that lives as long as the host (models of captured GPUs). */
static void *own(struct sim *s, void *p)
{
	pv_push(&s->replay_owned, p);
	return p;
}
#define OWN(s, p) ((__typeof__(p))own(s, p))

/* ---- GPUs ---------------------------------------------------------------------------- */

/* The catalogue model with this device id and subsystem, else the first
 * with the device id (*exact false). */
static const struct sim_model_spec *catalogue_model(unsigned device, unsigned subsys, bool *exact)
{
	const struct sim_model_spec *found = NULL;

	*exact = false;
	for (size_t i = 0; i < sim_catalogue_count(); i++) {
		const struct sim_model_spec *m = sim_catalogue_get(i);
		if (m->device_id != device)
			continue;
		if (m->subsys_device == subsys) {
			*exact = true;
			return m;
		}
		found = found ? found : m;
	}
	return found;
}

static json_object *nvml_gpu(json_object *nvml, const char *addr)
{
	json_object *gpus = rj_get(nvml, "gpus");

	for (size_t i = 0; i < rj_len(gpus); i++) {
		const char *a = rj_str(rj_at(gpus, i), "addr");
		if (a && !strcasecmp(a, addr))
			return rj_at(gpus, i);
	}
	return NULL;
}

static json_object *nvml_type(json_object *ng, unsigned id)
{
	json_object *types = rj_get(ng, "types");

	for (size_t i = 0; i < rj_len(types); i++)
		if (rj_num(rj_at(types, i), "id", -1) == (long)id)
			return rj_at(types, i);
	return NULL;
}

/* GI profiles from NVML's answers; the catalogue model gives NVML's profile
 * index (else the position). */
static void gi_profiles(struct sim *s, struct sim_model_spec *m, const struct sim_model_spec *cat, json_object *ng,
			const char *addr)
{
	json_object *arr = rj_get(ng, "gi_profiles");
	size_t n = rj_len(arr);

	if (!n) {
		if (cat && cat->ngi_profiles) {
			replay_note(s, "GPU %s: no GPU-instance profiles in the capture (NVML); the catalogue's %s profiles are used",
			     addr, cat->prefix);
			m->gi_profiles = cat->gi_profiles;
			m->ngi_profiles = cat->ngi_profiles;
		}
		return;
	}
	struct sim_gi_profile *p = OWN(s, xcalloc(n, sizeof(*p)));
	for (size_t i = 0; i < n; i++) {
		json_object *o = rj_at(arr, i), *pl = rj_get(o, "placements");
		const struct sim_gi_profile *cp = cat ? sim_model_gi_profile(cat, (unsigned)rj_num(o, "id", 0)) : NULL;
		p[i] = (struct sim_gi_profile){
			.id = (unsigned)rj_num(o, "id", 0), .index = cp ? cp->index : (unsigned)i,
			.name = OWN(s, xstrdup(rj_str(o, "name") ? rj_str(o, "name") : "?")), .slices = (unsigned)rj_num(o, "slices", 1),
			.mem_gb = (unsigned)(rj_num(o, "mem_mib", 0) / 1024), .max = (unsigned)rj_num(o, "max", 1),
		};
		if (!strncmp(p[i].name, "MIG ", 4))
			memmove((char *)p[i].name, p[i].name + 4, strlen(p[i].name + 4) + 1);
		for (size_t k = 0; k < rj_len(pl); k++) {
			unsigned start = (unsigned)rj_num(rj_at(pl, k), "start", 0), size = (unsigned)rj_num(rj_at(pl, k), "size", 1);
			if (start < 32)
				p[i].starts_mask |= 1u << start;
			p[i].size = size;
			if (start + size > m->mig_slots)
				m->mig_slots = start + size;
		}
		if (p[i].slices > m->mig_compute)
			m->mig_compute = p[i].slices;
		if (!cp)
			replay_note(s, "GPU %s: GI profile %u is not in the catalogue: its NVML profile index is taken as %zu",
			     addr, p[i].id, i);
	}
	m->gi_profiles = p;
	m->ngi_profiles = n;
}

/* A model spec of the captured GPU: the catalogue's model (frame buffer, MIG
 * reset) with the captured types. */
static struct sim_model_spec *model_of(struct sim *s, json_object *hg, json_object *ng, const char *addr)
{
	struct sim_model_spec *m = OWN(s, xcalloc(1, sizeof(*m)));
	unsigned device = (unsigned)strtoul(rj_str(hg, "device") ? rj_str(hg, "device") : "0", NULL, 16);
	unsigned subsys = (unsigned)strtoul(rj_str(hg, "subsystem_device") ? rj_str(hg, "subsystem_device") : "0", NULL, 16);
	bool exact;
	const struct sim_model_spec *cat = catalogue_model(device, subsys, &exact);
	json_object *types = rj_get(hg, "types");
	const char *model = rj_str(hg, "model") && *rj_str(hg, "model") ? rj_str(hg, "model") : cat ? cat->prefix : "GPU";

	if (cat)
		*m = *cat;
	if (cat && !exact)
		replay_note(s, "GPU %s: subsystem 0x%04x is not in the catalogue: the %s model (same device id 0x%04x) "
			    "gives its frame buffer (%u GB) and MIG rules", addr, subsys, cat->prefix, device, cat->fb_gb);
	m->prefix = OWN(s, xstrdup(model));
	m->marketing = OWN(s, xstrdup(cat ? cat->marketing : model));
	m->device_id = (uint16_t)device;
	m->subsys_device = (uint16_t)subsys;
	m->num_vfs = (unsigned)rj_num(hg, "total_vfs", 0);
	m->types = NULL;
	m->ntypes = 0;
	m->unoffered = NULL;
	m->nunoffered = 0;
	m->gi_profiles = NULL;
	m->ngi_profiles = 0;
	m->mig_slots = m->mig_compute = 0;
	gi_profiles(s, m, cat, ng, addr);
	if (m->ngi_profiles && cat && cat->ngi_profiles) { /* the catalogue knows the GPU's slices */
		m->mig_slots = cat->mig_slots;
		m->mig_compute = cat->mig_compute;
	}
	if (m->ngi_profiles && !cat)
		replay_note(s, "GPU %s: device 0x%04x is not in the catalogue: a MIG mode change is taken to need no GPU reset",
		     addr, device);

	struct sim_type_spec *t = OWN(s, xcalloc(rj_len(types) + 1, sizeof(*t)));
	unsigned max_fb = 0;
	m->name_prefix = NULL;
	for (size_t i = 0; i < rj_len(types); i++) {
		json_object *o = rj_at(types, i);
		const char *id = rj_str(o, "id"), *name = rj_str(o, "name"), *full = rj_str(o, "full_name");
		if (!id || !name)
			continue;
		unsigned num_id = (unsigned)strtoul(!strncmp(id, "nvidia-", 7) ? id + 7 : id, NULL, 10);
		const char *dash = strchr(name, '-');
		const struct sim_type_spec *ct = cat ? sim_model_type(cat, num_id, NULL) : NULL;
		json_object *nt = nvml_type(ng, num_id);
		long max = rj_num(o, "max_instances", -1);
		size_t k = m->ntypes;

		t[k].id = num_id;
		t[k].suffix = OWN(s, xstrdup(dash ? dash + 1 : name));
		if (max < 0)
			max = rj_num(nt, "max_instances", -1);
		if (max < 0 && ct)
			max = ct->max_instances;
		if (max < 0) {
			replay_note(s, "GPU %s: type %s (%s) has no maximum in the capture: 1 is assumed", addr, id, name);
			max = 1;
		}
		t[k].max_instances = (unsigned)max;
		long gip = nt ? rj_num(nt, "gi_profile", -1) : -1;
		if (gip >= 0) {
			t[k].gi = sim_model_gi_profile(m, (unsigned)gip);
			t[k].per_gi = (unsigned)rj_num(nt, "per_gi", 1);
		} else if (!nt && ct && ct->gi) {
			t[k].gi = sim_model_gi_profile(m, ct->gi->id);
			t[k].per_gi = ct->per_gi;
		}
		if ((gip >= 0 || (ct && ct->gi)) && !t[k].gi)
			replay_note(s, "GPU %s: type %s is MIG-backed but the capture has no GI profile for it: it is taken as time-sliced",
			     addr, name);
		if (!m->name_prefix && full && strlen(full) >= strlen(name) &&
		    !strcmp(full + strlen(full) - strlen(name), name))
			m->name_prefix = OWN(s, xasprintf("%.*s", (int)(strlen(full) - strlen(name)), full));
		if (sim_type_fb_mib(&t[k]) > max_fb)
			max_fb = sim_type_fb_mib(&t[k]);
		m->ntypes++;
	}
	m->types = t;
	if (!m->name_prefix)
		m->name_prefix = OWN(s, xstrdup(cat ? cat->name_prefix : "NVIDIA "));
	if (!cat) {
		m->fb_gb = (max_fb + 1023) / 1024;
		replay_note(s, "GPU %s: device 0x%04x is not in the catalogue: its frame buffer is taken as its largest type's (%u GB)",
		     addr, device, m->fb_gb);
	}
	return m;
}

/* A PCI function of the capture: its address and directory. */
static struct pci_fn *bind_fn(struct sim *s, const char *addr, const char *dir, char **err)
{
	struct node *d = replay_lookup_dir(s, dir);
	unsigned dom, bus, dev, fn;

	if (!d || sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		*err = xasprintf("host.json: device %s: its directory '%s' is not in the capture", addr,
				 dir ? dir : "?");
		return NULL;
	}
	struct pci_fn *f = xcalloc(1, sizeof(*f));
	f->domain = dom;
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	snprintf(f->bdf, sizeof(f->bdf), "%s", addr);
	f->vendor = 0x10de;
	f->dir = d;
	f->iommu_group = replay_link_number(d, "iommu_group");
	pv_push(&s->fns, f);
	return f;
}

static struct sim_gi *gi_by_id(struct sim_gpu *g, long id)
{
	for (size_t i = 0; i < g->gis.n; i++)
		if ((long)((struct sim_gi *)g->gis.v[i])->id == id)
			return g->gis.v[i];
	return NULL;
}

static void mig_state(struct sim *s, struct sim_gpu *g, json_object *ng)
{
	json_object *mode = rj_get(ng, "mig_mode"), *gis = rj_get(ng, "gis");

	if (!g->spec->ngi_profiles)
		return;
	if (!mode)
		replay_note(s, "GPU %s: no MIG mode in the capture (NVML): MIG is taken as off", g->pf->bdf);
	g->mig_on = rj_num(mode, "current", 0) == 1;
	g->mig_pending = rj_num(mode, "pending", g->mig_on) == 1;
	for (size_t i = 0; i < rj_len(gis); i++) {
		json_object *o = rj_at(gis, i);
		const struct sim_gi_profile *p = sim_model_gi_profile(g->spec, (unsigned)rj_num(o, "profile_id", 0));
		if (!p) {
			replay_note(s, "GPU %s: GPU instance %ld has an unknown profile: left out", g->pf->bdf, rj_num(o, "id", 0));
			continue;
		}
		struct sim_gi *gi = xcalloc(1, sizeof(*gi));
		bool has_ci = rj_num(o, "n_ci", 0) > 0;
		int ci = mig_full_ci_index(p->slices);
		*gi = (struct sim_gi){ (unsigned)rj_num(o, "id", 0), p, (unsigned)rj_num(o, "start", 0),
				       has_ci && ci >= 0, ci >= 0 ? (unsigned)ci : 0 };
		pv_push(&g->gis, gi);
	}
}

static const struct sim_type_spec *type_by_id(const struct sim_gpu *g, const char *id)
{
	if (!id)
		return NULL;
	return sim_model_type(g->spec, (unsigned)strtoul(!strncmp(id, "nvidia-", 7) ? id + 7 : id, NULL, 10), NULL);
}

static long nvml_vgpu_gi(json_object *ng, const char *uuid)
{
	json_object *v = rj_get(ng, "vgpus");

	for (size_t i = 0; i < rj_len(v); i++)
		if (rj_str(rj_at(v, i), "uuid") && !strcasecmp(rj_str(rj_at(v, i), "uuid"), uuid))
			return rj_num(rj_at(v, i), "gi", -1);
	return -1;
}

static int bind_mdev(struct sim *s, struct sim_gpu *g, json_object *hg, json_object *ng, char **err)
{
	json_object *parents = rj_get(hg, "parents"), *vgpus = rj_get(hg, "vgpus");

	for (size_t i = 0; i < rj_len(parents); i++) {
		const char *addr = rj_str(rj_at(parents, i), "addr");
		struct pci_fn *fn = !addr ? NULL : !strcmp(addr, g->pf->bdf) ? g->pf : NULL;
		for (size_t k = 0; !fn && addr && k < g->vfs.n; k++)
			if (!strcmp(((struct pci_fn *)g->vfs.v[k])->bdf, addr))
				fn = g->vfs.v[k];
		if (!fn && addr && !(fn = bind_fn(s, addr, rj_str(rj_at(parents, i), "dir"), err)))
			return -1;
		if (!fn)
			continue;
		struct sim_parent *p = mdev_bind_parent(s, g, fn);
		struct node *msd = replay_lookup_dir(s, rj_str(rj_at(parents, i), "dir"));
		msd = msd ? node_child(msd, "mdev_supported_types") : NULL;
		for (size_t k = 0; msd && k < msd->children.n; k++) {
			struct node *td = msd->children.v[k];
			const struct sim_type_spec *spec = type_by_id(g, td->name);
			if (td->kind == NODE_DIR && spec)
				mdev_bind_type(s, p, td, spec);
		}
		for (size_t k = 0; k < rj_len(vgpus); k++) {
			json_object *v = rj_at(vgpus, k);
			const char *uuid = rj_str(v, "id"), *parent = rj_str(v, "parent");
			struct sim_mdev_type *t = NULL;
			if (!uuid || !parent || strcmp(parent, fn->bdf))
				continue;
			for (size_t j = 0; j < p->types.n && !t; j++) {
				struct sim_mdev_type *c = p->types.v[j];
				if (type_by_id(g, rj_str(v, "type_id")) == c->spec)
					t = c;
			}
			struct node *dir = node_child(fn->dir, uuid);
			if (!t || !dir || dir->kind != NODE_DIR) {
				replay_note(s, "GPU %s: vGPU %s: its type or directory is not in the capture: it cannot be removed",
				     g->pf->bdf, uuid);
				continue;
			}
			mdev_bind_vgpu(s, t, dir, replay_link_number(dir, "iommu_group"), gi_by_id(g, nvml_vgpu_gi(ng, uuid)),
				       replay_captured(node_child(dir, "nvidia"), "vgpu_params"));
		}
	}
	return 0;
}

static void bind_vfio(struct sim *s, struct sim_gpu *g)
{
	for (size_t i = 0; i < g->vfs.n; i++) {
		struct pci_fn *fn = g->vfs.v[i];
		struct node *nv = node_child(fn->dir, "nvidia");
		struct node *vd = node_child(fn->dir, "vfio-dev");
		unsigned index = s->next_vfio_index;
		if (!nv || nv->kind != NODE_DIR)
			continue;
		for (size_t k = 0; vd && vd->kind == NODE_DIR && k < vd->children.n; k++)
			if (!strncmp(((struct node *)vd->children.v[k])->name, "vfio", 4))
				index = (unsigned)strtoul(((struct node *)vd->children.v[k])->name + 4, NULL, 10);
		if (index >= s->next_vfio_index)
			s->next_vfio_index = index + 1;
		const char *cur = replay_captured(nv, "current_vgpu_type"), *gi = replay_captured(nv, "gpu_instance_id");
		const char *pl = replay_captured(nv, "placement_id");
		long type = cur ? strtol(cur, NULL, 10) : 0;
		char *params = replay_captured(nv, "vgpu_params") ? xstrdup(replay_captured(nv, "vgpu_params")) : NULL;
		long gi_id = gi ? strtol(gi, NULL, 10) : -1;
		unsigned placement = pl ? (unsigned)strtoul(pl, NULL, 10) : 0;
		struct sim_vf *vf = vfio_bind_vf(s, g, fn, nv, index, params);
		free(params);
		if (type <= 0)
			continue;
		const struct sim_type_spec *spec = sim_model_type(g->spec, (unsigned)type, NULL);
		if (!spec) {
			replay_note(s, "GPU %s: VF %s holds type %ld, which the capture does not list: it is left out", g->pf->bdf,
			     fn->bdf, type);
			continue;
		}
		vfio_bind_vgpu(s, vf, spec, gi_by_id(g, gi_id), placement);
	}
}

int replay_add_gpu(struct sim *s, json_object *hg, json_object *nvml, char **err)
{
	const char *addr = rj_str(hg, "addr"), *fw = rj_str(hg, "framework");
	json_object *ng = addr ? nvml_gpu(nvml, addr) : NULL, *vfs = rj_get(hg, "vfs");

	if (!addr || !fw) {
		*err = xasprintf("host.json: a GPU without addr or framework");
		return -1;
	}
	if (strcmp(fw, "mdev") && strcmp(fw, "vfio")) {
		replay_note(s, "GPU %s: no vGPU framework (%s): served as captured, no creates", addr, fw);
		return 0;
	}
	struct sim_gpu *g = xcalloc(1, sizeof(*g));
	g->sim = s;
	g->index = (unsigned)s->gpus.n;
	g->board = g->index;
	g->framework = strcmp(fw, "vfio") ? SIM_FW_MDEV : SIM_FW_VFIO;
	if (!(g->pf = bind_fn(s, addr, rj_str(hg, "dir"), err))) {
		free(g);
		return -1;
	}
	g->pf->totalvfs = (unsigned)rj_num(hg, "total_vfs", 0);
	g->spec = model_of(s, hg, ng, addr);
	pv_push(&s->gpus, g);
	for (size_t i = 0; i < rj_len(vfs); i++) {
		struct pci_fn *f = bind_fn(s, rj_str(rj_at(vfs, i), "addr") ? rj_str(rj_at(vfs, i), "addr") : "?",
					   rj_str(rj_at(vfs, i), "dir"), err);
		if (!f)
			return -1;
		f->physfn = g->pf;
		pv_push(&g->vfs, f);
	}
	long mixed = rj_num(ng, "heterogeneous_mode", rj_num(hg, "mixed_size", -1));
	/* NVML answers NOT_SUPPORTED in MIG mode (nvml.h 12.8 on): then the GPU
	 * has no mixed-size mode to lack, and the capture recorded that answer. */
	const char *mixed_err = rj_str(ng, "heterogeneous_mode_error");
	if (g->spec->num_vfs && mixed < 0 && !(mixed_err && strcasestr(mixed_err, "not supported")))
		replay_note(s, "GPU %s: no heterogeneous (mixed-size) mode in the capture: equal-size is assumed", addr);
	g->policy = mixed == 1 ? SIM_MIX_MIXED_SIZE : SIM_MIX_SAME_SIZE;
	mig_state(s, g, ng);
	control_add_gpu(s, g);
	if (g->framework == SIM_FW_VFIO) {
		bind_vfio(s, g);
		return 0;
	}
	return bind_mdev(s, g, hg, ng, err);
}

