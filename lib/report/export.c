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

static void emit_gpu(struct em *m, const struct vdm_gpu *g)
{
	char filter[32];
	struct vdm_devid id = g->id;
	id.has_subsys = false;
	vdm_devid_format(&id, filter, sizeof(filter));

	map_start(m, YAML_BLOCK_MAPPING_STYLE);
	scalar(m, "device-filter", YAML_PLAIN_SCALAR_STYLE);
	scalar(m, filter, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	scalar(m, "devices", YAML_PLAIN_SCALAR_STYLE);
	seq_start(m, YAML_FLOW_SEQUENCE_STYLE);
	scalar_int(m, g->index);
	seq_end(m);
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
	for (size_t i = 0; i < h->n_gpus; i++)
		if (vdm_export_gpu(&h->gpus[i]))
			emit_gpu(&m, &h->gpus[i]);
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
	return out.s ? out.s : vdm_xstrdup("");
}
