/* SPDX-License-Identifier: Apache-2.0 */
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mig_report.h"
#include "plan/plan.h"

bool vdm_export_gpu(const struct vdm_gpu *g)
{
	return g->fw != VDM_FW_NONE;
}

size_t vdm_export_n_gpus(const struct vdm_host *h)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n_gpus; i++)
		if (vdm_export_gpu(&h->gpus[i]))
			n++;
	return n;
}

int vdm_export_prepare(struct vdm_host *h, char **err)
{
	if (vdm_export_n_gpus(h) == 0) {
		if (h->n_gpus)
			*err = vdm_strdupf("none of the host's %zu NVIDIA GPUs has a vGPU framework "
					   "(mdev or vendor VFIO); nothing to export", h->n_gpus);
		else
			*err = vdm_strdupf("no NVIDIA GPU found; nothing to export");
		return -ENODEV;
	}
	vdm_export_warn_skipped(h);
	for (size_t i = 0; i < h->n_gpus; i++)
		vdm_mig_export_note(h->ctx, &h->gpus[i]);
	return 0;
}

size_t vdm_export_warn_skipped(struct vdm_host *h)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n_gpus; i++) {
		const struct vdm_gpu *g = &h->gpus[i];
		if (!vdm_export_gpu(g))
			continue;
		char lbl[64];
		vdm_gpu_label(g, lbl, sizeof(lbl));
		for (size_t v = 0; v < g->n_vgpus; v++) {
			const struct vdm_vgpu *vg = &g->vgpus[v];
			if (vg->type >= 0)
				continue;
			vdm_warn(h->ctx, "vGPU %s on %s has type %s, which the driver no longer lists; "
				 "it is left out of the export (applying the export would remove it)",
				 vg->id, lbl, vg->type_id ? vg->type_id : "(unknown)");
			n++;
		}
	}
	return n;
}

/* ---- output buffer for the emitter ---- */

struct obuf {
	char *s;
	size_t len, cap;
};

static int obuf_write(void *data, unsigned char *buf, size_t size)
{
	struct obuf *b = data;
	if (b->len + size + 1 > b->cap) {
		b->cap = (b->len + size + 1) * 2;
		b->s = vdm_xrealloc(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, buf, size);
	b->len += size;
	b->s[b->len] = '\0';
	return 1;
}

/* ---- events ---- */

struct em {
	yaml_emitter_t e;
	bool failed;
};

static void emit(struct em *m, yaml_event_t *ev, int ok)
{
	if (m->failed) {
		if (ok)
			yaml_event_delete(ev);
		return;
	}
	if (!ok || !yaml_emitter_emit(&m->e, ev))
		m->failed = true; /* yaml_emitter_emit frees the event, also on failure */
}

static void scalar(struct em *m, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
						  1, 1, style));
}

static void scalar_int(struct em *m, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	scalar(m, buf, YAML_PLAIN_SCALAR_STYLE);
}

static void map_start(struct em *m, yaml_mapping_style_t style)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, style));
}

static void map_end(struct em *m)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void seq_start(struct em *m, yaml_sequence_style_t style)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style));
}

static void seq_end(struct em *m)
{
	yaml_event_t ev;
	emit(m, &ev, yaml_sequence_end_event_initialize(&ev));
}

/* "T4-4Q=4,T4-8Q=0..." : a GPU's layout by type name, to compare GPUs. */
static char *layout_key(const struct vdm_gpu *g)
{
	int *cur = vdm_gpu_current_counts(g);
	char *key = vdm_xstrdup("");
	for (size_t t = 0; t < g->n_types; t++) {
		if (cur[t] <= 0)
			continue;
		char *more = vdm_strdupf("%s%s=%d,", key, g->types[t].name, cur[t]);
		free(key);
		key = more;
	}
	free(cur);
	return key;
}

size_t vdm_export_entries(struct vdm_host *h, struct vdm_export_entry **out)
{
	size_t n = 0;
	struct vdm_export_entry *e = vdm_xcalloc(h->n_gpus + 1, sizeof(*e));
	char **keys = vdm_xcalloc(h->n_gpus + 1, sizeof(*keys));
	for (size_t i = 0; i < h->n_gpus; i++)
		keys[i] = layout_key(&h->gpus[i]);
	bool *done = vdm_xcalloc(h->n_gpus + 1, sizeof(*done));
	for (size_t i = 0; i < h->n_gpus; i++) {
		const struct vdm_gpu *g = &h->gpus[i];
		if (done[i] || !vdm_export_gpu(g))
			continue;
		struct vdm_export_entry *x = &e[n++];
		x->gpu = g;
		x->indexes = vdm_xcalloc(h->n_gpus, sizeof(int));
		size_t same_model = 0;
		for (size_t k = 0; k < h->n_gpus; k++) {
			const struct vdm_gpu *o = &h->gpus[k];
			if (o->id.device != g->id.device || o->id.vendor != g->id.vendor)
				continue;
			same_model++;
			if (!done[k] && vdm_export_gpu(o) && !strcmp(keys[k], keys[i]) &&
			    vdm_gpu_is_mixed(o) == vdm_gpu_is_mixed(g)) {
				x->indexes[x->n++] = o->index;
				done[k] = true;
			}
		}
		/* every GPU with this id has this layout: "devices: all" with the filter */
		x->all = x->n > 1 && x->n == same_model;
	}
	for (size_t i = 0; i < h->n_gpus; i++)
		free(keys[i]);
	free(keys);
	free(done);
	*out = e;
	return n;
}

void vdm_export_entries_free(struct vdm_export_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].indexes);
	free(e);
}

/* "# GPU 1 (...) is in mixed-size mode ..." lines for the top of the file:
 * a layout of several sizes applies only to a GPU in that mode. */
static char *mixed_notes(const struct vdm_host *h)
{
	char *notes = vdm_xstrdup("");
	for (size_t i = 0; i < h->n_gpus; i++) {
		const struct vdm_gpu *g = &h->gpus[i];
		if (!vdm_export_gpu(g) || !g->sriov || !vdm_gpu_is_mixed(g))
			continue;
		char lbl[64];
		vdm_gpu_label(g, lbl, sizeof(lbl));
		char *more = vdm_strdupf("%s# %s is in mixed-size mode: a GPU this layout is applied to must "
					 "be too (nvidia-smi vgpu -i <address> -shm 1, while it holds no vGPU)\n",
					 notes, lbl);
		free(notes);
		notes = more;
	}
	return notes;
}

static void emit_entry(struct em *m, const struct vdm_export_entry *x)
{
	const struct vdm_gpu *g = x->gpu;
	char filter[32];
	struct vdm_devid id = g->id;
	id.has_subsys = false;
	vdm_devid_format(&id, filter, sizeof(filter));

	map_start(m, YAML_BLOCK_MAPPING_STYLE);
	scalar(m, "device-filter", YAML_PLAIN_SCALAR_STYLE);
	scalar(m, filter, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	scalar(m, "devices", YAML_PLAIN_SCALAR_STYLE);
	if (x->all) {
		scalar(m, "all", YAML_PLAIN_SCALAR_STYLE);
	} else {
		seq_start(m, YAML_FLOW_SEQUENCE_STYLE);
		for (size_t k = 0; k < x->n; k++)
			scalar_int(m, x->indexes[k]);
		seq_end(m);
	}
	scalar(m, "vgpu-devices", YAML_PLAIN_SCALAR_STYLE);
	int *cur = vdm_gpu_current_counts(g);
	bool any = false;
	for (size_t t = 0; t < g->n_types; t++)
		any |= cur[t] > 0;
	map_start(m, any ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
	for (size_t t = 0; t < g->n_types; t++) {
		if (cur[t] <= 0)
			continue;
		scalar(m, g->types[t].name, YAML_PLAIN_SCALAR_STYLE);
		scalar_int(m, cur[t]);
	}
	map_end(m);
	free(cur);
	map_end(m);
}

char *vdm_export_yaml(struct vdm_host *h, const char *label, char **err)
{
	if (!label || !*label)
		label = VDM_EXPORT_LABEL;
	if (vdm_export_prepare(h, err) < 0)
		return NULL;

	struct obuf out = {0};
	struct em m = {0};
	if (!yaml_emitter_initialize(&m.e)) {
		*err = vdm_strdupf("cannot initialize the YAML emitter");
		return NULL;
	}
	yaml_emitter_set_output(&m.e, obuf_write, &out);
	yaml_emitter_set_unicode(&m.e, 1);
	yaml_emitter_set_indent(&m.e, 2);
	yaml_emitter_set_width(&m.e, -1);

	yaml_event_t ev;
	emit(&m, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(&m, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	map_start(&m, YAML_BLOCK_MAPPING_STYLE);
	scalar(&m, "version", YAML_PLAIN_SCALAR_STYLE);
	scalar(&m, "v1", YAML_PLAIN_SCALAR_STYLE);
	scalar(&m, "vgpu-configs", YAML_PLAIN_SCALAR_STYLE);
	map_start(&m, YAML_BLOCK_MAPPING_STYLE);
	scalar(&m, label, YAML_ANY_SCALAR_STYLE);
	seq_start(&m, YAML_BLOCK_SEQUENCE_STYLE);
	struct vdm_export_entry *entries;
	size_t n = vdm_export_entries(h, &entries);
	for (size_t i = 0; i < n; i++)
		emit_entry(&m, &entries[i]);
	vdm_export_entries_free(entries, n);
	seq_end(&m);
	map_end(&m);
	map_end(&m);
	emit(&m, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(&m, &ev, yaml_stream_end_event_initialize(&ev));
	if (!m.failed && !yaml_emitter_flush(&m.e))
		m.failed = true;

	if (m.failed) {
		*err = vdm_strdupf("YAML emitter: %s", m.e.problem ? m.e.problem : "failed");
		yaml_emitter_delete(&m.e);
		free(out.s);
		return NULL;
	}
	yaml_emitter_delete(&m.e);
	char *notes = mixed_notes(h);
	char *yaml = vdm_strdupf("%s%s", notes, out.s ? out.s : "");
	free(notes);
	free(out.s);
	return yaml;
}
