/* SPDX-License-Identifier: Apache-2.0 */
/* capture: nvml.json, what NVML answers for each scanned GPU (capture.h).
 * Only queries: no call here changes NVML state. A failed call is recorded
 * as "<what>_error" with NVML's message, so a replay knows what was
 * unanswered rather than absent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "capture.h"

static void add_error(json_object *o, const char *what, struct vdm_nvml *n, int rc)
{
	const char *msg = vdm_nvml_last_error(n);
	char key[64];

	snprintf(key, sizeof(key), "%s_error", what);
	json_object_object_add(o, key, json_object_new_string(msg && *msg ? msg : strerror(-rc)));
}

static json_object *gi_profiles(struct vdm_nvml_gip *p, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object(), *pl = json_object_new_array();
		json_object_object_add(o, "id", json_object_new_int((int)p[i].id));
		json_object_object_add(o, "name", json_object_new_string(p[i].name));
		json_object_object_add(o, "slices", json_object_new_int((int)p[i].slices));
		json_object_object_add(o, "max", json_object_new_int((int)p[i].max));
		json_object_object_add(o, "mem_mib", json_object_new_int64((int64_t)p[i].mem_mib));
		for (size_t k = 0; k < p[i].n_pl; k++) {
			json_object *x = json_object_new_object();
			json_object_object_add(x, "start", json_object_new_int((int)p[i].pl[k].start));
			json_object_object_add(x, "size", json_object_new_int((int)p[i].pl[k].size));
			json_object_array_add(pl, x);
		}
		json_object_object_add(o, "placements", pl);
		json_object_array_add(arr, o);
	}
	return arr;
}

static void mig(json_object *o, struct vdm_nvml *n, const char *addr)
{
	int cur, pend, rc = vdm_nvml_mig_mode(n, addr, &cur, &pend);
	struct vdm_nvml_gip *p = NULL;

	if (rc < 0) {
		add_error(o, "mig_mode", n, rc);
		return;
	}
	json_object *m = json_object_new_object();
	json_object_object_add(m, "current", json_object_new_int(cur));
	json_object_object_add(m, "pending", json_object_new_int(pend));
	json_object_object_add(o, "mig_mode", m);
	int np = vdm_nvml_gi_profiles(n, addr, &p);
	if (np < 0) {
		add_error(o, "gi_profiles", n, np);
		return;
	}
	json_object_object_add(o, "gi_profiles", gi_profiles(p, (size_t)np));
	struct vdm_nvml_gi *gis = NULL;
	int ng = vdm_nvml_gis(n, addr, p, (size_t)np, &gis);
	if (ng < 0) {
		add_error(o, "gis", n, ng);
	} else {
		json_object *arr = json_object_new_array();
		for (int i = 0; i < ng; i++) {
			json_object *g = json_object_new_object();
			json_object_object_add(g, "id", json_object_new_int((int)gis[i].id));
			json_object_object_add(g, "profile_id", json_object_new_int((int)gis[i].profile_id));
			json_object_object_add(g, "start", json_object_new_int((int)gis[i].start));
			json_object_object_add(g, "size", json_object_new_int((int)gis[i].size));
			json_object_object_add(g, "n_ci", json_object_new_int((int)gis[i].n_ci));
			json_object_array_add(arr, g);
		}
		json_object_object_add(o, "gis", arr);
	}
	free(gis);
	vdm_nvml_gips_free(p, (size_t)np);
}

static void types(json_object *o, struct vdm_nvml *n, const char *addr)
{
	unsigned *ids = NULL;
	int nt = vdm_nvml_supported_types(n, addr, &ids);

	if (nt < 0) {
		add_error(o, "supported_types", n, nt);
		return;
	}
	json_object *arr = json_object_new_array();
	for (int i = 0; i < nt; i++) {
		json_object *t = json_object_new_object();
		char name[128];
		json_object_object_add(t, "id", json_object_new_int((int)ids[i]));
		if (vdm_nvml_type_name(n, ids[i], name, sizeof(name)) == 0)
			json_object_object_add(t, "name", json_object_new_string(name));
		int max = vdm_nvml_type_max_instances(n, addr, ids[i]);
		if (max >= 0)
			json_object_object_add(t, "max_instances", json_object_new_int(max));
		int gip = VDM_NVML_TIME_SLICED;
		bool gip_known = vdm_nvml_type_gi_profile(n, ids[i], &gip) == 0;
		if (gip_known)
			json_object_object_add(t, "gi_profile", json_object_new_int(gip));
		int per = gip_known && gip >= 0 ? vdm_nvml_type_per_gi(n, ids[i]) : -1;
		if (per >= 0)
			json_object_object_add(t, "per_gi", json_object_new_int(per));
		json_object_array_add(arr, t);
	}
	json_object_object_add(o, "types", arr);
	free(ids);
}

static void vgpus(json_object *o, struct vdm_nvml *n, const char *addr)
{
	struct vdm_nvml_vgpu *v = NULL;
	int nv = vdm_nvml_active_vgpus(n, addr, &v);

	if (nv < 0) {
		add_error(o, "vgpus", n, nv);
		return;
	}
	json_object *arr = json_object_new_array();
	for (int i = 0; i < nv; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "type", json_object_new_int((int)v[i].type));
		json_object_object_add(x, "gi", json_object_new_int(v[i].gi));
		json_object_object_add(x, "uuid", json_object_new_string(v[i].uuid));
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "vgpus", arr);
	free(v);
}

json_object *vdm_capture_nvml(struct vdm_ctx *ctx, const struct vdm_host *h)
{
	json_object *root = json_object_new_object(), *gpus = json_object_new_array();
	struct vdm_nvml *n = vdm_nvml_open(ctx);

	json_object_object_add(root, "available", json_object_new_boolean(n != NULL));
	json_object_object_add(root, "gpus", gpus);
	if (!n)
		return root;
	for (size_t i = 0; i < h->n_gpus; i++) {
		const char *addr = h->gpus[i].addr;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "addr", json_object_new_string(addr));
		int mixed = vdm_nvml_mixed_size_mode(n, addr);
		if (mixed >= 0)
			json_object_object_add(o, "heterogeneous_mode", json_object_new_int(mixed));
		else
			add_error(o, "heterogeneous_mode", n, mixed);
		mig(o, n, addr);
		types(o, n, addr);
		vgpus(o, n, addr);
		json_object_array_add(gpus, o);
	}
	vdm_nvml_close(n);
	return root;
}
