/* SPDX-License-Identifier: Apache-2.0 */
/* sizing: the result as a config file, a table and JSON (sizing.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sizing_int.h"

/* What one GPU gets, merged over groups, in allocation order. */
struct layout {
	size_t n;
	int type[16];
	int count[16];
};

static void layout_of(const struct vdm_sizing_gpu *g, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t a = 0; a < g->n_allocs; a++) {
		size_t j = 0;
		while (j < l->n && l->type[j] != g->allocs[a].type)
			j++;
		if (j == l->n) {
			if (l->n == sizeof(l->type) / sizeof(l->type[0]))
				continue;
			l->type[l->n++] = g->allocs[a].type;
		}
		l->count[j] += g->allocs[a].count;
	}
}

static bool same_layout(const struct vdm_sizing_gpu *a, const struct vdm_sizing_gpu *b)
{
	struct layout x, y;
	if (a->device_id != b->device_id || a->vendor_id != b->vendor_id)
		return false;
	layout_of(a, &x);
	layout_of(b, &y);
	if (x.n != y.n)
		return false;
	for (size_t i = 0; i < x.n; i++)
		if (strcmp(a->types[x.type[i]].name, b->types[y.type[i]].name) || x.count[i] != y.count[i])
			return false;
	return true;
}

/* One config entry: the GPUs (indexes into s->gpus) that share a layout. */
struct entry {
	size_t first;
	size_t *gpus;
	size_t n;
	bool all;     /* every GPU of this device id: `devices: all` */
};

static struct entry *entries(const struct vdm_sizing *s, size_t *n_out)
{
	struct entry *e = vdm_xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof(*e));
	size_t n = 0;
	bool *done = vdm_xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof(*done));
	for (size_t i = 0; i < s->n_gpus; i++) {
		if (done[i] || !s->gpus[i].n_allocs)
			continue;
		struct entry *x = &e[n++];
		x->first = i;
		x->gpus = vdm_xcalloc(s->n_gpus, sizeof(*x->gpus));
		size_t same_dev = 0;
		for (size_t j = i; j < s->n_gpus; j++) {
			if (!done[j] && same_layout(&s->gpus[i], &s->gpus[j])) {
				x->gpus[x->n++] = j;
				done[j] = true;
			}
		}
		for (size_t j = 0; j < s->n_gpus; j++)
			same_dev += s->gpus[j].device_id == s->gpus[i].device_id &&
				    s->gpus[j].vendor_id == s->gpus[i].vendor_id;
		x->all = same_dev == x->n;
	}
	free(done);
	*n_out = n;
	return e;
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].gpus);
	free(e);
}

struct buf {
	char *s;
	size_t len;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *part = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	size_t l = strlen(part);
	b->s = vdm_xrealloc(b->s, b->len + l + 1, 1);
	memcpy(b->s + b->len, part, l + 1);
	b->len += l;
	free(part);
}

static void put_quoted(struct buf *b, const char *s)
{
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s) &&
	    s[0] != '-' && s[0] != '.') {
		put(b, "%s", s);
		return;
	}
	put(b, "\"");
	for (; *s; s++)
		put(b, "%s%c", *s == '"' || *s == '\\' ? "\\" : "", *s);
	put(b, "\"");
}

char *vdm_sizing_config(const struct vdm_sizing *s)
{
	size_t n;
	struct entry *e = entries(s, &n);
	if (!n) {
		free_entries(e, n);
		return NULL;
	}
	struct buf b = {0};
	put(&b, "version: v1\nvgpu-configs:\n  ");
	put_quoted(&b, s->label ? s->label : "default");
	put(&b, ":\n");
	for (size_t i = 0; i < n; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[e[i].first];
		put(&b, "  - device-filter: \"0x%04X%04X\"\n", g->device_id, g->vendor_id);
		if (e[i].all) {
			put(&b, "    devices: all\n");
		} else {
			put(&b, "    devices: [");
			for (size_t j = 0; j < e[i].n; j++)
				put(&b, "%s%d", j ? ", " : "", s->gpus[e[i].gpus[j]].index);
			put(&b, "]\n");
		}
		put(&b, "    vgpu-devices:\n");
		struct layout l;
		layout_of(g, &l);
		for (size_t j = 0; j < l.n; j++)
			put(&b, "      %s: %d\n", g->types[l.type[j]].name, l.count[j]);
	}
	free_entries(e, n);
	return b.s;
}

static long used_mib(const struct vdm_sizing_gpu *g)
{
	long used = 0;
	for (size_t a = 0; a < g->n_allocs; a++)
		used += g->types[g->allocs[a].type].fb_mib * g->allocs[a].count;
	return used;
}

static const char *licence(char series)
{
	const struct vdm_cat_series *cs = vdm_cat_series(series);
	return cs ? cs->licence : "-";
}

/* "8" or "0.5" (GB, no unit) */
static void gbnum(long mib, char *buf, size_t len)
{
	if (mib % 1024 == 0)
		snprintf(buf, len, "%ld", mib / 1024);
	else
		snprintf(buf, len, "%.1f", mib / 1024.0);
}

#define NCOL 8
struct row {
	char *col[NCOL];
};

char *vdm_sizing_table(const struct vdm_sizing *s)
{
	static const char *const head[NCOL] = {"GPU", "MODEL", "TYPE", "COUNT", "MEMORY", "SPARE",
					       "LICENCE", "WHY"};
	struct row *rows = NULL;
	size_t nr = 0;
	int vgpus = 0, used_gpus = 0;

	for (size_t i = 0; i < s->n_gpus; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[i];
		struct layout l;
		layout_of(g, &l);
		char used[32], total[32], spare[32];
		long u = used_mib(g);
		gbnum(u, used, sizeof(used));
		gbnum(g->fb_mib, total, sizeof(total));
		gbnum(g->fb_mib - u > 0 ? g->fb_mib - u : 0, spare, sizeof(spare));
		used_gpus += l.n > 0;
		for (size_t j = 0; j < (l.n ? l.n : 1); j++) {
			rows = vdm_xrealloc(rows, nr + 1, sizeof(*rows));
			struct row *r = &rows[nr++];
			const struct vdm_sizing_type *t = l.n ? &g->types[l.type[j]] : NULL;
			r->col[0] = j ? vdm_xstrdup("") : vdm_strdupf("%d", g->index);
			r->col[1] = vdm_xstrdup(j ? "" : g->model);
			r->col[2] = vdm_xstrdup(t ? t->name : "-");
			r->col[3] = vdm_strdupf("%d", t ? l.count[j] : 0);
			r->col[4] = j ? vdm_xstrdup("") : vdm_strdupf("%s/%s GB", used, total);
			r->col[5] = j ? vdm_xstrdup("") : vdm_strdupf("%s GB", spare);
			r->col[6] = vdm_xstrdup(t ? licence(t->series) : "-");
			r->col[7] = vdm_xstrdup(j ? "" : g->why ? g->why : "");
			vgpus += t ? l.count[j] : 0;
		}
	}
	size_t w[NCOL];
	for (int c = 0; c < NCOL; c++) {
		w[c] = strlen(head[c]);
		for (size_t r = 0; r < nr; r++)
			w[c] = strlen(rows[r].col[c]) > w[c] ? strlen(rows[r].col[c]) : w[c];
	}
	struct buf b = {0};
	for (size_t r = 0; r <= nr; r++) {
		for (int c = 0; c < NCOL; c++) {
			const char *v = r ? rows[r - 1].col[c] : head[c];
			if (c == NCOL - 1)
				put(&b, "%s\n", v);
			else if (c == 3)
				put(&b, "%*s  ", (int)w[c], v);
			else
				put(&b, "%-*s  ", (int)w[c], v);
		}
	}
	int kept = 0;
	for (size_t i = 0; i < s->n_gpus; i++)
		for (size_t h = 0; h < s->gpus[i].n_held; h++)
			kept += s->gpus[i].held[h].count;
	char held[64] = "";
	if (kept)
		snprintf(held, sizeof(held), " (%d of them held by VMs, kept)", kept);
	put(&b, "%d vGPUs%s on %d of %zu GPUs, label \"%s\"\n", vgpus, held, used_gpus, s->n_gpus,
	    s->label ? s->label : "default");
	if (s->dependent) {
		put(&b, "driver: %s: listed by NVIDIA AI Enterprise's host driver, not by the NVIDIA vGPU "
		    "(graphics) host driver; with that driver: %s%s\n", s->dependent,
		    s->alternative ? "" : "short too: ",
		    s->alternative ? s->alternative : s->alternative_unmet ? s->alternative_unmet : "?");
	}
	for (size_t r = 0; r < nr; r++)
		for (int c = 0; c < NCOL; c++)
			free(rows[r].col[c]);
	free(rows);
	return b.s;
}

static struct json_object *config_json(const struct vdm_sizing *s)
{
	size_t n;
	struct entry *e = entries(s, &n);
	if (!n) {
		free_entries(e, n);
		return NULL;
	}
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[e[i].first];
		struct json_object *o = json_object_new_object();
		char id[16];
		snprintf(id, sizeof(id), "0x%04X%04X", g->device_id, g->vendor_id);
		json_object_object_add(o, "device-filter", json_object_new_string(id));
		if (e[i].all) {
			json_object_object_add(o, "devices", json_object_new_string("all"));
		} else {
			struct json_object *d = json_object_new_array();
			for (size_t j = 0; j < e[i].n; j++)
				json_object_array_add(d, json_object_new_int(s->gpus[e[i].gpus[j]].index));
			json_object_object_add(o, "devices", d);
		}
		struct json_object *vd = json_object_new_object();
		struct layout l;
		layout_of(g, &l);
		for (size_t j = 0; j < l.n; j++)
			json_object_object_add(vd, g->types[l.type[j]].name, json_object_new_int(l.count[j]));
		json_object_object_add(o, "vgpu-devices", vd);
		json_object_array_add(list, o);
	}
	free_entries(e, n);
	struct json_object *cfg = json_object_new_object(), *labels = json_object_new_object();
	json_object_object_add(cfg, "version", json_object_new_string("v1"));
	json_object_object_add(labels, s->label ? s->label : "default", list);
	json_object_object_add(cfg, "vgpu-configs", labels);
	return cfg;
}

struct json_object *vdm_sizing_json(const struct vdm_sizing *s)
{
	struct json_object *o = json_object_new_object(), *gpus = json_object_new_array();
	json_object_object_add(o, "label", json_object_new_string(s->label ? s->label : "default"));
	json_object_object_add(o, "met", json_object_new_boolean(s->n_unmet == 0));
	for (size_t i = 0; i < s->n_gpus; i++) {
		const struct vdm_sizing_gpu *g = &s->gpus[i];
		struct json_object *j = json_object_new_object(), *v = json_object_new_array();
		long u = used_mib(g);
		json_object_object_add(j, "index", json_object_new_int(g->index));
		json_object_object_add(j, "model", json_object_new_string(g->model));
		json_object_object_add(j, "address", g->addr[0] ? json_object_new_string(g->addr) : NULL);
		json_object_object_add(j, "source", json_object_new_string(g->from_host ? "host" : "catalogue"));
		json_object_object_add(j, "memory_mib", json_object_new_int64(g->fb_mib));
		json_object_object_add(j, "used_mib", json_object_new_int64(u));
		json_object_object_add(j, "spare_mib", json_object_new_int64(g->fb_mib > u ? g->fb_mib - u : 0));
		json_object_object_add(j, "mixed_size", json_object_new_boolean(g->mixed));
		struct layout l;
		layout_of(g, &l);
		for (size_t k = 0; k < l.n; k++) {
			const struct vdm_sizing_type *t = &g->types[l.type[k]];
			struct json_object *x = json_object_new_object();
			char series[2] = {t->series, 0};
			json_object_object_add(x, "type", json_object_new_string(t->name));
			json_object_object_add(x, "count", json_object_new_int(l.count[k]));
			int held = 0;
			for (size_t h = 0; h < g->n_held; h++)
				held += g->held[h].type == l.type[k] ? g->held[h].count : 0;
			json_object_object_add(x, "held", json_object_new_int(held));
			json_object_object_add(x, "series", json_object_new_string(series));
			json_object_object_add(x, "fb_mib", json_object_new_int64(t->fb_mib));
			json_object_object_add(x, "mig", json_object_new_boolean(t->mig));
			json_object_object_add(x, "licence", json_object_new_string(licence(t->series)));
			json_object_object_add(x, "driver_dependent", json_object_new_boolean(t->driver_dependent));
			json_object_array_add(v, x);
		}
		json_object_object_add(j, "vgpus", v);
		json_object_object_add(j, "why", json_object_new_string(g->why ? g->why : ""));
		json_object_array_add(gpus, j);
	}
	json_object_object_add(o, "gpus", gpus);
	struct json_object *unmet = json_object_new_array();
	for (size_t i = 0; i < s->n_unmet; i++)
		json_object_array_add(unmet, json_object_new_string(s->unmet[i]));
	json_object_object_add(o, "unmet", unmet);
	struct json_object *hd = NULL;
	if (s->dependent) {
		hd = json_object_new_object();
		json_object_object_add(hd, "dependent", json_object_new_string(s->dependent));
		json_object_object_add(hd, "alternative",
				       s->alternative ? json_object_new_string(s->alternative) : NULL);
		json_object_object_add(hd, "alternative_unmet", s->alternative_unmet ?
				       json_object_new_string(s->alternative_unmet) : NULL);
	}
	json_object_object_add(o, "host_driver", hd);
	json_object_object_add(o, "config", s->n_unmet ? NULL : config_json(s));
	return o;
}
