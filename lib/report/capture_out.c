/* SPDX-License-Identifier: Apache-2.0 */
/* capture: host.json, the commands, the manifest, redaction and the tarball
 * (capture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_int.h"

#define CMD_TIMEOUT_MS 30000
#define CMD_MAX (4u << 20)

/* ---- host.json: the scan ---- */

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *jhex(unsigned v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "0x%04x", v);
	return json_object_new_string(buf);
}

static json_object *dev_ref(const char *addr, const char *dir)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "addr", jstr(addr));
	json_object_object_add(o, "dir", jstr(dir));
	return o;
}

json_object *vdm_capture_host_json(const struct vdm_host *h)
{
	json_object *root = json_object_new_object(), *gpus = json_object_new_array();

	json_object_object_add(root, "driver_version", jstr(h->driver_version));
	for (size_t i = 0; i < h->n_gpus; i++) {
		const struct vdm_gpu *g = &h->gpus[i];
		json_object *o = json_object_new_object(), *a;
		json_object_object_add(o, "index", json_object_new_int(g->index));
		json_object_object_add(o, "addr", jstr(g->addr));
		json_object_object_add(o, "dir", jstr(g->dir));
		json_object_object_add(o, "model", jstr(g->model));
		json_object_object_add(o, "framework", jstr(vdm_framework_name(g->fw)));
		json_object_object_add(o, "vendor", jhex(g->id.vendor));
		json_object_object_add(o, "device", jhex(g->id.device));
		json_object_object_add(o, "subsystem_vendor", jhex(g->id.subsys_vendor));
		json_object_object_add(o, "subsystem_device", jhex(g->id.subsys_device));
		json_object_object_add(o, "sriov", json_object_new_boolean(g->sriov));
		json_object_object_add(o, "total_vfs", json_object_new_int(g->total_vfs));
		json_object_object_add(o, "num_vfs", json_object_new_int(g->num_vfs));
		json_object_object_add(o, "mixed_size", json_object_new_int(g->mixed_size));
		if (g->unreadable)
			json_object_object_add(o, "unreadable", jstr(g->unreadable));
		json_object_object_add(o, "vfs", a = json_object_new_array());
		for (size_t k = 0; k < h->n_vfs; k++)
			if (!strcmp(h->vfs[k].pf, g->addr))
				json_object_array_add(a, dev_ref(h->vfs[k].addr, h->vfs[k].dir));
		json_object_object_add(o, "parents", a = json_object_new_array());
		for (size_t k = 0; k < g->n_parents; k++)
			json_object_array_add(a, dev_ref(g->parents[k].addr, g->parents[k].dir));
		json_object_object_add(o, "types", a = json_object_new_array());
		for (size_t k = 0; k < g->n_types; k++) {
			const struct vdm_vtype *t = &g->types[k];
			json_object *x = json_object_new_object();
			json_object_object_add(x, "id", jstr(t->id));
			json_object_object_add(x, "name", jstr(t->name));
			json_object_object_add(x, "full_name", jstr(t->full_name));
			json_object_object_add(x, "max_instances", json_object_new_int(t->max_instances));
			json_object_object_add(x, "fb_mib", json_object_new_int(t->fb_mib));
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "vgpus", a = json_object_new_array());
		for (size_t k = 0; k < g->n_vgpus; k++) {
			json_object *x = json_object_new_object();
			json_object_object_add(x, "id", jstr(g->vgpus[k].id));
			json_object_object_add(x, "type_id", jstr(g->vgpus[k].type_id));
			json_object_object_add(x, "parent", jstr(g->vgpus[k].parent->addr));
			json_object_array_add(a, x);
		}
		json_object_array_add(gpus, o);
	}
	json_object_object_add(root, "gpus", gpus);
	json_object *un = json_object_new_array();
	for (size_t i = 0; i < h->n_unreadable; i++)
		json_object_array_add(un, jstr(h->unreadable[i]));
	json_object_object_add(root, "unreadable", un);
	return root;
}

/* ---- commands ---- */

void vdm_capture_command(struct cap *c, const char *file, char *const argv[])
{
	char path[VDM_PATH_MAX];
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; argv[i]; i++)
		json_object_array_add(a, jstr(argv[i]));
	json_object_object_add(o, "argv", a);
	json_object_array_add(c->commands, o);
	if (vdm_tool_find(c->ctx, argv[0], path, sizeof(path), NULL) < 0) {
		json_object_object_add(o, "outcome", jstr("not found"));
		return;
	}
	if (!vdm_capture_within_limits(c)) {
		json_object_object_add(o, "outcome", jstr("not run: a capture limit was reached"));
		return;
	}
	double left_ms = (c->o.max_seconds - vdm_capture_elapsed(c)) * 1000;
	size_t left_bytes = c->o.max_bytes - c->bytes;
	struct vdm_exec_opts eo = {
		.timeout_ms = left_ms < CMD_TIMEOUT_MS ? (int)left_ms + 1 : CMD_TIMEOUT_MS,
		.out = VDM_EXEC_CAPTURE, .err = VDM_EXEC_CAPTURE,
		.capture_max = left_bytes < CMD_MAX ? left_bytes : CMD_MAX,
	};
	struct vdm_exec_result r;
	char *err = NULL;
	int rc = vdm_exec(path, argv, &eo, &r, &err);
	char *outcome = rc < 0 && rc != -ETIMEDOUT ? vdm_xstrdup(err ? err : strerror(-rc)) : vdm_exec_outcome(&r);
	json_object_object_add(o, "outcome", jstr(outcome));
	free(outcome);
	free(err);
	if (r.out) {
		json_object_object_add(o, "file", jstr(file));
		if (r.out_truncated)
			json_object_array_add(c->truncated, jstr(file));
		char *last = r.err && r.err_len ? vdm_exec_last_line(&r) : NULL;
		if (last)
			json_object_object_add(o, "stderr", jstr(last));
		free(last);
		c->extra = vdm_xrealloc(c->extra, c->n_extra + 1, sizeof(*c->extra));
		c->extra[c->n_extra++] = (struct entry){ vdm_xstrdup(file), K_FILE, vdm_xstrdup(r.out), r.out_len, 0644 };
		c->bytes += r.out_len;
	}
	vdm_exec_result_free(&r);
}

/* ---- redaction ---- */

static void redact_entry(const struct vdm_redact *r, struct entry *e)
{
	size_t n;
	char *s = vdm_redact_apply(r, e->path, strlen(e->path), &n);
	free(e->path);
	e->path = s;
	if (!e->data)
		return;
	s = vdm_redact_apply(r, e->data, e->kind == K_LINK ? strlen(e->data) : e->len, &n);
	free(e->data);
	e->data = s;
	if (e->kind == K_FILE)
		e->len = n;
}

char *vdm_capture_json_text(const struct vdm_redact *r, json_object *o)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n;
	return r ? vdm_redact_apply(r, t, strlen(t), &n) : vdm_xstrdup(t);
}

struct vdm_redact *vdm_capture_redaction(struct cap *c, json_object **docs, size_t n_docs)
{
	struct vdm_redact *r = vdm_redact_new();
	char host[256];

	if (!strcmp(vdm_ctx_root(c->ctx), "/") && gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		vdm_redact_name(r, host, false);
	}
	static const char *const host_files[] = { "etc/hostname", "proc/sys/kernel/hostname" };
	for (size_t i = 0; i < 2; i++) {
		char *h = vdm_capture_read_small(c->ctx, host_files[i]);
		if (h)
			vdm_redact_name(r, h, false);
		free(h);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &c->e[i];
		size_t pl = strlen(e->path);
		if (e->kind == K_FILE && pl > 15 && !strcmp(e->path + pl - 15, "/nvidia/vm_name") && e->len) {
			char *name = vdm_xcalloc(1, e->len + 1);
			memcpy(name, e->data, e->len);
			vdm_redact_name(r, name, true);
			free(name);
			free(e->data); /* whole, however short the name */
			e->data = vdm_strdupf("vm-redacted\n");
			e->len = strlen(e->data);
		}
		vdm_redact_scan(r, e->path, pl);
		if (e->data)
			vdm_redact_scan(r, e->data, e->kind == K_LINK ? strlen(e->data) : e->len);
	}
	for (size_t i = 0; i < c->n_extra; i++) {
		vdm_redact_scan_vm_names(r, c->extra[i].data, c->extra[i].len);
		vdm_redact_scan(r, c->extra[i].data, c->extra[i].len);
	}
	for (size_t i = 0; i < n_docs; i++) {
		const char *t = json_object_to_json_string(docs[i]);
		vdm_redact_scan(r, t, strlen(t));
	}
	for (size_t i = 0; i < c->n; i++)
		redact_entry(r, &c->e[i]);
	for (size_t i = 0; i < c->n_extra; i++)
		redact_entry(r, &c->extra[i]);
	return r;
}

json_object *vdm_capture_manifest(struct cap *c, const struct vdm_host *h, bool redacted)
{
	json_object *m = json_object_new_object(), *lim = json_object_new_object(), *g = json_object_new_array();
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	json_object_object_add(m, "format", jstr(VDM_CAPTURE_FORMAT));
	json_object_object_add(m, "format_version", json_object_new_int(VDM_CAPTURE_FORMAT_VERSION));
	json_object_object_add(m, "tool", jstr("nvidia-vgpu-dm"));
	json_object_object_add(m, "version", jstr(c->o.tool_version));
	json_object_object_add(m, "created", jstr(when));
	json_object_object_add(m, "root", jstr(vdm_ctx_root(c->ctx)));
	json_object_object_add(m, "redacted", json_object_new_boolean(redacted));
	json_object_object_add(m, "complete", json_object_new_boolean(!c->stopped));
	json_object_object_add(lim, "seconds", json_object_new_int((int)c->o.max_seconds));
	json_object_object_add(lim, "bytes", json_object_new_int64((int64_t)c->o.max_bytes));
	json_object_object_add(lim, "file_bytes", json_object_new_int64((int64_t)c->o.max_file_bytes));
	json_object_object_add(m, "limits", lim);
	json_object_object_add(m, "entries", json_object_new_int64((int64_t)c->n));
	json_object_object_add(m, "bytes", json_object_new_int64((int64_t)c->bytes));
	char *rel = vdm_capture_read_small(c->ctx, "proc/sys/kernel/osrelease");
	json_object_object_add(m, "kernel_release", jstr(rel));
	free(rel);
	json_object_object_add(m, "driver_version", jstr(h->driver_version));
	for (size_t i = 0; i < h->n_gpus; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "addr", jstr(h->gpus[i].addr));
		json_object_object_add(x, "model", jstr(h->gpus[i].model));
		json_object_object_add(x, "framework", jstr(vdm_framework_name(h->gpus[i].fw)));
		json_object_array_add(g, x);
	}
	json_object_object_add(m, "gpus", g);
	json_object_object_add(m, "commands", json_object_get(c->commands));
	json_object_object_add(m, "unreadable", json_object_get(c->unreadable));
	json_object_object_add(m, "truncated", json_object_get(c->truncated));
	json_object_object_add(m, "notes", json_object_get(c->notes));
	return m;
}

