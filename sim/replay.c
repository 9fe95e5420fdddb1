/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --replay FILE: a host made from a capture (`nvidia-vgpu-dm capture`, the
 * format is doc/capture.md). Every captured file, directory and link under
 * root/ is served as captured (bytes, mode, read errors). The GPUs of
 * host.json and what NVML answered (nvml.json) become simulator GPUs bound
 * to those captured directories: the files that create and remove vGPUs and
 * those whose answer changes with them (available_instances, create, remove,
 * creatable_vgpu_types, current_vgpu_type, gpu_instance_id, placement_id,
 * vgpu_params) follow the simulator's rules (capacity.c, mig.c) with the
 * captured type ids, names and maximums. What the rules need and the capture
 * lacks is assumed and said at mount time (sim_replay_notes).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay.h"
#include "sim.h"

#define MAX_FILE (1u << 20)          /* bytes of one captured file */
#define MAX_TOTAL (256u << 20)       /* bytes of all captured files */
#define MAX_ENTRIES 500000u
#define MAX_META (16u << 20)         /* manifest.json, host.json, nvml.json */

struct blob {
	int err;                    /* captured read error (errno), 0 if none */
	size_t len;
	char bytes[];
};

static int blob_show(struct node *n, struct strbuf *out)
{
	const struct blob *b = n->data;

	if (b->err)
		return -b->err;
	sb_append(out, b->bytes, b->len);
	return 0;
}

static const struct file_ops blob_ops = { .show = blob_show, .release = free };
static const struct file_ops blob_wo_ops = { .release = free }; /* captured write-only (create, remove) */

void replay_note(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&s->replay_notes, fmt, ap);
	va_end(ap);
	sb_puts(&s->replay_notes, "\n");
}

/* ---- the captured tree -------------------------------------------------------------- */

/* The directory that holds path's last component (made as needed), *base
 * pointing at that component; NULL for a bad path (empty, "..", ".", a
 * component that is not a directory, a reserved top-level name). */
static struct node *entry_dir(struct sim *s, char *path, const char **base)
{
	struct node *cur = s->tree.root;
	char *save = NULL, *tok = strtok_r(path, "/", &save);
	static const char *const reserved[] = { ".vgpu-sim", "run", "dev", "var", "etc" };

	for (size_t i = 0; tok && i < ARRAY_SIZE(reserved); i++)
		if (!strcmp(tok, reserved[i]))
			return NULL;
	while (tok) {
		char *next = strtok_r(NULL, "/", &save);
		if (!strcmp(tok, "..") || !strcmp(tok, "."))
			return NULL;
		if (!next) {
			*base = tok;
			return cur;
		}
		struct node *c = node_child(cur, tok);
		if (!c)
			c = tree_mkdir(&s->tree, cur, tok);
		else if (c->kind != NODE_DIR)
			return NULL;
		cur = c;
		tok = next;
	}
	return NULL;
}

static int add_entry(struct sim *s, struct archive *a, struct archive_entry *e, const char *rel,
		     size_t *total, char **err)
{
	char *path = xstrdup(rel);
	const char *base = NULL;
	struct node *dir = entry_dir(s, path, &base);
	mode_t type = archive_entry_filetype(e);
	int rc = -1;

	if (!dir) {
		*err = xasprintf("entry 'root/%s': not a path under the host root", rel);
		goto out;
	}
	struct node *old = node_child(dir, base);
	if (type == AE_IFDIR) {
		if (old && old->kind != NODE_DIR) {
			*err = xasprintf("entry 'root/%s': a directory and a file", rel);
			goto out;
		}
		struct node *d = old ? old : tree_mkdir(&s->tree, dir, base);
		d->perm = archive_entry_perm(e) & 0777;
		rc = 0;
		goto out;
	}
	if (old) {
		*err = xasprintf("entry 'root/%s' twice", rel);
		goto out;
	}
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		if (!target || !*target) {
			*err = xasprintf("entry 'root/%s': a link without a target", rel);
			goto out;
		}
		tree_link_text(&s->tree, dir, base, target);
		rc = 0;
		goto out;
	}
	if (type != AE_IFREG) {
		*err = xasprintf("entry 'root/%s': not a file, directory or link", rel);
		goto out;
	}
	la_int64_t size = archive_entry_size(e);
	if (size < 0 || size > MAX_FILE || *total + (size_t)size > MAX_TOTAL) {
		*err = xasprintf("entry 'root/%s': too large (limits: %u bytes a file, %u in all)", rel, MAX_FILE,
				 MAX_TOTAL);
		goto out;
	}
	struct blob *b = xcalloc(1, sizeof(*b) + (size_t)size + 1);
	la_ssize_t got = size ? archive_read_data(a, b->bytes, (size_t)size) : 0;
	if (got != size) {
		free(b);
		*err = xasprintf("entry 'root/%s': %s", rel, got < 0 ? archive_error_string(a) : "short");
		goto out;
	}
	b->len = (size_t)size;
	*total += b->len;
	mode_t perm = archive_entry_perm(e) & 0777;
	tree_file(&s->tree, dir, base, perm, (perm & 0444) ? &blob_ops : &blob_wo_ops, b);
	rc = 0;
out:
	free(path);
	return rc;
}

static char *read_meta(struct archive *a, struct archive_entry *e, const char *name, char **err)
{
	la_int64_t size = archive_entry_size(e);

	if (size < 0 || size > MAX_META) {
		*err = xasprintf("%s: too large", name);
		return NULL;
	}
	char *buf = xcalloc(1, (size_t)size + 1);
	if (archive_read_data(a, buf, (size_t)size) != size) {
		*err = xasprintf("%s: %s", name, archive_error_string(a) ? archive_error_string(a) : "short");
		free(buf);
		return NULL;
	}
	return buf;
}

struct capture {
	json_object *manifest, *host, *nvml;
};

static json_object *parse_json(const char *text, const char *name, char **err)
{
	json_object *o = json_tokener_parse(text);

	if (!o || !json_object_is_type(o, json_type_object)) {
		*err = xasprintf("%s: not a JSON object", name);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int load(struct sim *s, const char *file, struct capture *c, char **err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t total = 0, n = 0;
	int rc = 0, r;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 16384) != ARCHIVE_OK) {
		*err = xasprintf("%s", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		json_object **meta = NULL;
		while (name && name[0] == '.' && name[1] == '/')
			name += 2;
		if (!name || ++n > MAX_ENTRIES) {
			*err = xasprintf("more than %u entries", MAX_ENTRIES);
			rc = -1;
		} else if (!strncmp(name, "root/", 5) && name[5]) {
			rc = add_entry(s, a, e, name + 5, &total, err);
		} else if (!strcmp(name, "manifest.json")) {
			meta = &c->manifest;
		} else if (!strcmp(name, "host.json")) {
			meta = &c->host;
		} else if (!strcmp(name, "nvml.json")) {
			meta = &c->nvml;
		}
		if (meta && rc == 0) {
			char *text = read_meta(a, e, name, err);
			if (!text || *meta || !(*meta = parse_json(text, name, err)))
				rc = -1;
			if (text && rc && !*err)
				*err = xasprintf("%s twice", name);
			free(text);
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF) {
		*err = xasprintf("%s", archive_error_string(a));
		rc = -1;
	}
	archive_read_free(a);
	if (rc == 0 && (!c->manifest || !c->host)) {
		*err = xasprintf("no %s: not a capture of nvidia-vgpu-dm", c->manifest ? "host.json" : "manifest.json");
		rc = -1;
	}
	return rc;
}

/* ---- JSON helpers --------------------------------------------------------------------- */

json_object *rj_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *rj_str(json_object *o, const char *key)
{
	json_object *v = rj_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long rj_num(json_object *o, const char *key, long dflt)
{
	json_object *v = rj_get(o, key);

	return v && json_object_is_type(v, json_type_int) ? (long)json_object_get_int64(v) : dflt;
}

size_t rj_len(json_object *arr)
{
	return arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

json_object *rj_at(json_object *arr, size_t i)
{
	return json_object_array_get_idx(arr, i);
}

/* The node at a root-relative path, links not followed; NULL if none. */
struct node *replay_lookup(struct sim *s, const char *path)
{
	char *copy = xstrdup(path);
	struct node *cur = s->tree.root;
	char *save = NULL;

	for (char *tok = strtok_r(copy, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save))
		cur = cur->kind == NODE_DIR ? node_child(cur, tok) : NULL;
	free(copy);
	return cur;
}

struct node *replay_lookup_dir(struct sim *s, const char *path)
{
	struct node *n = path ? replay_lookup(s, path) : NULL;

	return n && n->kind == NODE_DIR ? n : NULL;
}

/* A captured file's bytes (NULL: none or unreadable). */
const char *replay_captured(struct node *dir, const char *name)
{
	struct node *n = dir ? node_child(dir, name) : NULL;

	if (!n || n->kind != NODE_FILE || (n->ops != &blob_ops && n->ops != &blob_wo_ops))
		return NULL;
	const struct blob *b = n->data;
	return b->err ? NULL : b->bytes;
}

/* The number at the end of a link's target ("../../kernel/iommu_groups/12"). */
unsigned replay_link_number(struct node *dir, const char *name)
{
	struct node *n = dir ? node_child(dir, name) : NULL;

	if (!n || n->kind != NODE_LINK)
		return 0;
	const char *slash = strrchr(n->target, '/');
	return (unsigned)strtoul(slash ? slash + 1 : n->target, NULL, 10);
}

/* Captured read errors: manifest "unreadable": [{"path", "errno"}]. */
static void mark_unreadable(struct sim *s, json_object *manifest)
{
	json_object *arr = rj_get(manifest, "unreadable");

	for (size_t i = 0; i < rj_len(arr); i++) {
		const char *path = rj_str(rj_at(arr, i), "path");
		long err = rj_num(rj_at(arr, i), "errno", 0);
		struct node *n = path ? replay_lookup(s, path) : NULL;
		if (n && n->kind == NODE_FILE && n->ops == &blob_ops && err > 0 && err < 4096)
			((struct blob *)n->data)->err = (int)err;
	}
}

/* The largest group number under sys/kernel/iommu_groups, + 1. */
static unsigned next_group(const struct node *groups)
{
	unsigned next = 1;

	for (size_t i = 0; groups && i < groups->children.n; i++) {
		unsigned n = (unsigned)strtoul(((struct node *)groups->children.v[i])->name, NULL, 10);
		if (n >= next)
			next = n + 1;
	}
	return next;
}

int sim_replay_init(struct sim *s, const char *file, const struct sim_opts *o, char **err)
{
	struct capture c = { 0 };
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->debug = o->debug;
	s->started = time(NULL);
	tree_init(&s->tree);
	control_init(s);
	if (load(s, file, &c, err))
		goto out;
	const char *format = rj_str(c.manifest, "format");
	if (!format || strcmp(format, "nvidia-vgpu-dm capture") || rj_num(c.manifest, "format_version", 0) != 1) {
		*err = xasprintf("manifest.json: not a capture of format \"nvidia-vgpu-dm capture\" version 1");
		goto out;
	}
	mark_unreadable(s, c.manifest);
	json_object *gpus = rj_get(c.host, "gpus");
	for (size_t i = 0; i < rj_len(gpus); i++)
		s->any_vfio |= rj_str(rj_at(gpus, i), "framework") && !strcmp(rj_str(rj_at(gpus, i), "framework"), "vfio");
	sim_add_scratch(s);
	devices_init(s);
	s->sys = replay_lookup_dir(s, "sys");
	s->pci_devices = replay_lookup_dir(s, "sys/bus/pci/devices");
	s->mdev_devices = replay_lookup_dir(s, "sys/bus/mdev/devices");
	s->mdev_driver = replay_lookup_dir(s, "sys/bus/mdev/drivers/nvidia-vgpu-vfio");
	s->mdev_bus_class = replay_lookup_dir(s, "sys/class/mdev_bus");
	s->vfio_dev_class = replay_lookup_dir(s, "sys/class/vfio-dev");
	s->iommu_groups = replay_lookup_dir(s, "sys/kernel/iommu_groups");
	s->next_iommu_group = next_group(s->iommu_groups);
	if (!c.nvml || !rj_get(c.nvml, "gpus") || !json_object_get_boolean(rj_get(c.nvml, "available")))
		replay_note(s, "the capture holds no NVML answers: MIG is taken as off and SR-IOV GPUs as equal-size");
	for (size_t i = 0; i < rj_len(gpus); i++)
		if (replay_add_gpu(s, rj_at(gpus, i), c.nvml, err))
			goto out;
	for (size_t i = 0; i < s->gpus.n; i++) {
		struct sim_gpu *g = s->gpus.v[i];
		if (g->framework != SIM_FW_MDEV || (s->mdev_devices && s->mdev_driver && s->iommu_groups))
			continue;
		replay_note(s, "GPU %s: the capture has no sys/bus/mdev/devices, sys/bus/mdev/drivers/nvidia-vgpu-vfio "
			    "or sys/kernel/iommu_groups: they are added (empty) for the vGPUs created here", g->pf->bdf);
		s->mdev_devices = tree_mkdirs(&s->tree, s->tree.root, "sys/bus/mdev/devices");
		s->mdev_driver = tree_mkdirs(&s->tree, s->tree.root, "sys/bus/mdev/drivers/nvidia-vgpu-vfio");
		s->iommu_groups = tree_mkdirs(&s->tree, s->tree.root, "sys/kernel/iommu_groups");
	}
	rc = 0;
out:
	json_object_put(c.manifest);
	json_object_put(c.host);
	json_object_put(c.nvml);
	return rc;
}

const char *sim_replay_notes(const struct sim *s)
{
	return s->replay_notes.buf ? s->replay_notes.buf : "";
}
