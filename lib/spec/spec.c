/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec: load a v1 vgpu-dm configuration file with libyaml's document loader
 * and validate it into struct vdm_spec. The YAML layer (mappings, merge keys,
 * duplicates, scalars, error formatting) is spec_yaml.c; this file is the v1
 * schema and the entry points.
 *
 * Error messages are "source:line:col: message", one line. Conventions:
 * keys (fields, labels, vGPU types) are quoted with '...', values with "...",
 * and a wrong value is described after ", got".
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "spec_yaml.h"

/* ---- the v1 schema ------------------------------------------------------ */

static int parse_devices(struct ctx *c, const struct kv *kv, struct vdm_entry *e)
{
	yaml_node_t *v = kv->val;
	size_t n;

	if (v->type == YAML_SCALAR_NODE && spec_scalar_is(v, "all")) {
		e->all_devices = true;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return spec_failf(c, spec_vpos(kv), "devices: expected 'all' or a list of GPU indexes, got %s",
			     spec_desc(c, v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return 0;
	e->devices = calloc(n, sizeof(*e->devices));
	if (!e->devices)
		return spec_oom(c);
	e->n_devices = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = spec_node(c, v->data.sequence.items.start[i]);
		int r;

		if (spec_spend(c, it) < 0)
			return -1;
		r = spec_plain_uint(it, &e->devices[i]);
		if (r == 1)
			return spec_failf(c, spec_npos(it), "devices: GPU index must be a non-negative integer, got %s",
				     spec_desc(c, it));
		if (r == 2)
			return spec_failf(c, spec_npos(it), "devices: GPU index is too large (maximum %d), got %s",
				     INT_MAX, spec_desc(c, it));
	}
	return 0;
}

static int parse_filter(struct ctx *c, const yaml_node_t *n, struct vdm_devid *out)
{
	const char *why = NULL;

	if (memchr(spec_scalar(n), '\0', spec_slen(n)))
		why = "contains a NUL character";
	else if (vdm_devid_parse(spec_scalar(n), out, &why) == 0)
		return 0;
	return spec_failf(c, spec_npos(n), "invalid device filter %s: %s",
		     spec_quote(c, "", spec_scalar(n), spec_slen(n), '"'), why);
}

static int parse_filters(struct ctx *c, const struct kv *kv, struct vdm_entry *e)
{
	yaml_node_t *v = kv->val;
	size_t n;

	/* Upstream treats an empty filter as no filter. */
	if (spec_is_null(v) || (v->type == YAML_SCALAR_NODE && spec_slen(v) == 0))
		return 0;
	if (v->type == YAML_SCALAR_NODE) {
		e->filters = calloc(1, sizeof(*e->filters));
		if (!e->filters)
			return spec_oom(c);
		e->n_filters = 1;
		return parse_filter(c, v, &e->filters[0]);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return spec_failf(c, spec_vpos(kv), "device-filter: expected a PCI device ID or a list of them, got %s",
			     spec_desc(c, v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return 0;
	e->filters = calloc(n, sizeof(*e->filters));
	if (!e->filters)
		return spec_oom(c);
	e->n_filters = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = spec_node(c, v->data.sequence.items.start[i]);

		if (spec_spend(c, it) < 0)
			return -1;
		if (it->type != YAML_SCALAR_NODE)
			return spec_failf(c, spec_npos(it), "device-filter: expected a PCI device ID, got %s",
				     spec_desc(c, it));
		if (parse_filter(c, it, &e->filters[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_types(struct ctx *c, const struct kv *kv, struct vdm_entry *e)
{
	yaml_node_t *v = kv->val;
	struct kvs types = { 0 };
	int first_mig = -1;
	int r = -1;

	/* "vgpu-devices:" with no value: upstream reads it as no vGPUs. */
	if (spec_is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return spec_failf(c, spec_vpos(kv), "vgpu-devices: expected a mapping of vGPU type names to counts, got %s",
			     spec_desc(c, v));
	if (spec_flatten(c, v, 0, &types) < 0)
		goto out;
	if (types.n == 0) {
		r = 0;
		goto out;
	}
	e->types = calloc(types.n, sizeof(*e->types));
	if (!e->types) {
		spec_oom(c);
		goto out;
	}
	e->n_types = types.n;
	for (size_t i = 0; i < types.n; i++) {
		const struct kv *t = &types.v[i];
		struct vdm_type_count *tc = &e->types[i];
		struct vdm_vgpu_type vt;
		const char *why;
		int count = 0, rc;

		if (spec_spend(c, t->val) < 0)
			goto out;
		if (vdm_vgpu_type_parse(t->k, &vt, &why) < 0) {
			spec_failf(c, spec_npos(t->key), "invalid vGPU type %s: %s", spec_qkey(c, t), why);
			goto out;
		}
		if (first_mig < 0) {
			first_mig = vdm_vgpu_type_is_mig(&vt);
		} else if (first_mig != vdm_vgpu_type_is_mig(&vt)) {
			spec_failf(c, spec_npos(t->key), "cannot mix time-sliced and MIG-backed vGPU types on one GPU");
			goto out;
		}
		rc = spec_plain_uint(t->val, &count);
		if (rc == 2) {
			spec_failf(c, spec_vpos(t), "count for %s is too large (maximum %d), got %s",
			      spec_qkey(c, t), INT_MAX, spec_desc(c, t->val));
			goto out;
		}
		if (rc != 0 || count == 0) {
			spec_failf(c, spec_vpos(t), "count for %s must be a positive integer, got %s",
			      spec_qkey(c, t), spec_desc(c, t->val));
			goto out;
		}
		tc->type = strndup(t->k, t->klen);
		if (!tc->type) {
			spec_oom(c);
			goto out;
		}
		tc->count = count;
		tc->pos = spec_npos(t->key);
	}
	r = 0;
out:
	free(types.v);
	return r;
}

static int parse_entry(struct ctx *c, yaml_node_t *n, struct vdm_entry *e)
{
	struct kvs f = { 0 };
	bool have_devices = false, have_types = false;
	int r = -1;

	e->pos = spec_npos(n);
	if (n->type != YAML_MAPPING_NODE)
		return spec_failf(c, e->pos, "expected an entry with 'devices' and 'vgpu-devices', got %s",
			     spec_desc(c, n));
	if (spec_flatten(c, n, 0, &f) < 0)
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		const struct kv *kv = &f.v[i];

		if (spec_spend(c, kv->val) < 0)
			goto out;
		if (spec_scalar_is(kv->key, "devices")) {
			have_devices = true;
			if (parse_devices(c, kv, e) < 0)
				goto out;
		} else if (spec_scalar_is(kv->key, "device-filter")) {
			if (parse_filters(c, kv, e) < 0)
				goto out;
		} else if (spec_scalar_is(kv->key, "vgpu-devices")) {
			have_types = true;
			if (parse_types(c, kv, e) < 0)
				goto out;
		} else {
			spec_failf(c, spec_npos(kv->key), "unexpected field %s", spec_qkey(c, kv));
			goto out;
		}
	}
	if (!have_devices) {
		spec_failf(c, e->pos, "missing required field 'devices'");
		goto out;
	}
	if (!have_types) {
		spec_failf(c, e->pos, "missing required field 'vgpu-devices'");
		goto out;
	}
	r = 0;
out:
	free(f.v);
	return r;
}

static int parse_config(struct ctx *c, const struct kv *kv, struct vdm_config *cfg)
{
	yaml_node_t *v = kv->val;
	size_t n;

	cfg->label = strndup(kv->k, kv->klen);
	if (!cfg->label)
		return spec_oom(c);
	cfg->pos = spec_npos(kv->key);
	if (spec_is_null(v))
		return spec_failf(c, cfg->pos, "label %s: at least one entry is required", spec_qkey(c, kv));
	if (v->type != YAML_SEQUENCE_NODE)
		return spec_failf(c, spec_npos(v), "label %s: expected a list of entries, got %s",
			     spec_qkey(c, kv), spec_desc(c, v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return spec_failf(c, cfg->pos, "label %s: at least one entry is required", spec_qkey(c, kv));
	cfg->entries = calloc(n, sizeof(*cfg->entries));
	if (!cfg->entries)
		return spec_oom(c);
	cfg->n_entries = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = spec_node(c, v->data.sequence.items.start[i]);

		if (spec_spend(c, it) < 0 || parse_entry(c, it, &cfg->entries[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_configs(struct ctx *c, const struct kv *kv, struct vdm_spec *spec)
{
	yaml_node_t *v = kv->val;
	struct kvs labels = { 0 };
	int r = -1;

	if (spec_is_null(v))
		return spec_failf(c, spec_vpos(kv), "vgpu-configs: at least one label is required");
	if (v->type != YAML_MAPPING_NODE)
		return spec_failf(c, spec_vpos(kv), "vgpu-configs: expected a mapping of labels to lists of entries, got %s",
			     spec_desc(c, v));
	if (spec_flatten(c, v, 0, &labels) < 0)
		goto out;
	if (labels.n == 0) {
		spec_failf(c, spec_npos(v), "vgpu-configs: at least one label is required");
		goto out;
	}
	spec->configs = calloc(labels.n, sizeof(*spec->configs));
	if (!spec->configs) {
		spec_oom(c);
		goto out;
	}
	spec->n_configs = labels.n;
	for (size_t i = 0; i < labels.n; i++) {
		if (spec_spend(c, labels.v[i].val) < 0 ||
		    parse_config(c, &labels.v[i], &spec->configs[i]) < 0)
			goto out;
	}
	r = 0;
out:
	free(labels.v);
	return r;
}

static int parse_root(struct ctx *c, yaml_node_t *root, struct vdm_spec *spec)
{
	struct kvs top = { 0 };
	const struct kv *version = NULL, *configs = NULL;
	int r = -1;

	if (root->type != YAML_MAPPING_NODE)
		return spec_failf(c, spec_npos(root), "expected a mapping with 'version' and 'vgpu-configs', got %s",
			     spec_desc(c, root));
	if (spec_flatten(c, root, 0, &top) < 0)
		goto out;
	for (size_t i = 0; i < top.n; i++) {
		if (spec_scalar_is(top.v[i].key, "version"))
			version = &top.v[i];
		else if (spec_scalar_is(top.v[i].key, "vgpu-configs"))
			configs = &top.v[i];
	}
	/* A wrong version explains everything else, so it comes first. */
	if (version) {
		yaml_node_t *v = version->val;

		if (v->type != YAML_SCALAR_NODE) {
			spec_failf(c, spec_vpos(version), "version: expected a string, got %s", spec_desc(c, v));
			goto out;
		}
		if (!spec_scalar_is(v, "v1")) {
			spec_failf(c, spec_vpos(version), "unknown version %s (expected v1)",
			      spec_quote(c, "", spec_scalar(v), spec_slen(v), '"'));
			goto out;
		}
	}
	for (size_t i = 0; i < top.n; i++) {
		if (&top.v[i] != version && &top.v[i] != configs) {
			spec_failf(c, spec_npos(top.v[i].key), "unexpected field %s", spec_qkey(c, &top.v[i]));
			goto out;
		}
	}
	if (!version) {
		spec_failf(c, spec_npos(root), "missing required field 'version'");
		goto out;
	}
	if (!configs) {
		spec_failf(c, spec_npos(root), "missing required field 'vgpu-configs'");
		goto out;
	}
	r = parse_configs(c, configs, spec);
out:
	free(top.v);
	return r;
}

/* ---- entry points -------------------------------------------------------- */

struct vdm_spec *vdm_spec_parse(const char *source, const char *buf, size_t len, char **err)
{
	struct ctx *c;
	struct vdm_spec *spec = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	bool have_doc = false;

	if (err)
		*err = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->source = source ? source : "<input>";
	c->doc = &doc;
	if (len > SPEC_MAX_INPUT) {
		spec_fail_nopos(c, "input is larger than the 16 MiB limit");
		goto out;
	}
	if (!buf) {
		buf = "";
		len = 0;
	}
	if (spec_prescan(c, buf, len) < 0)
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		spec_oom(c);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		spec_yaml_error(c, &parser, buf, len);
		goto out_parser;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		struct vdm_pos start = { 1, 1 };

		spec_failf(c, start, "empty document");
		goto out_parser;
	}
	/* spec_prescan() made sure that no second document follows. */
	c->budget = 2 * (size_t)(doc.nodes.top - doc.nodes.start) + EXTRA_VISITS;
	spec = calloc(1, sizeof(*spec));
	if (!spec || !(spec->source = strdup(c->source))) {
		spec_oom(c);
		goto out_parser;
	}
	if (parse_root(c, root, spec) < 0)
		goto out_parser;
out_parser:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
out:
	if (c->failed) {
		vdm_spec_free(spec);
		spec = NULL;
		if (err)
			*err = c->err;
		else
			free(c->err);
	}
	free(c);
	return spec;
}

struct vdm_spec *vdm_spec_load(const char *path, char **err)
{
	bool is_stdin = path && strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path ? path : "(null)";
	FILE *f = is_stdin ? stdin : NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	struct vdm_spec *spec = NULL;
	const char *problem = NULL;
	int errnum = 0;

	if (err)
		*err = NULL;
	if (!is_stdin && path) {
		/* A FIFO or a device would block or never end: only a regular file
		 * (O_NONBLOCK: opening a FIFO does not wait for a writer). */
		struct stat st;
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			errnum = errno;
		} else if (!S_ISREG(st.st_mode)) {
			if (S_ISDIR(st.st_mode))
				errnum = EISDIR;
			else
				problem = "not a regular file (a FIFO, socket or device is refused; "
					  "use - for standard input)";
		} else if (fcntl(fd, F_SETFL, 0) < 0 || !(f = fdopen(fd, "r"))) {
			errnum = errno;
		}
		if (!f && fd >= 0)
			close(fd);
	}
	if (!f) {
		if (!problem && !errnum)
			errnum = EINVAL;
		goto fail;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			if (ncap > SPEC_MAX_INPUT + 1)
				ncap = SPEC_MAX_INPUT + 1;
			if (ncap <= cap) {
				problem = "input is larger than the 16 MiB limit";
				goto fail;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				errnum = ENOMEM;
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		errno = 0;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				errnum = errno ? errno : EIO;
				goto fail;
			}
			break;
		}
	}
	if (n > SPEC_MAX_INPUT) {
		problem = "input is larger than the 16 MiB limit";
		goto fail;
	}
	if (!is_stdin)
		fclose(f);
	spec = vdm_spec_parse(name, buf, n, err);
	free(buf);
	return spec;
fail:
	if (f && !is_stdin)
		fclose(f);
	free(buf);
	if (err && asprintf(err, "%s: %s", name, problem ? problem : strerror(errnum)) < 0)
		*err = NULL;
	return NULL;
}

void vdm_spec_free(struct vdm_spec *spec)
{
	if (!spec)
		return;
	for (size_t i = 0; i < spec->n_configs; i++) {
		struct vdm_config *cfg = &spec->configs[i];

		for (size_t j = 0; j < cfg->n_entries; j++) {
			struct vdm_entry *e = &cfg->entries[j];

			for (size_t k = 0; k < e->n_types; k++)
				free(e->types[k].type);
			free(e->types);
			free(e->devices);
			free(e->filters);
		}
		free(cfg->entries);
		free(cfg->label);
	}
	free(spec->configs);
	free(spec->source);
	free(spec);
}

const struct vdm_config *vdm_spec_find(const struct vdm_spec *spec, const char *label)
{
	if (!spec || !label)
		return NULL;
	for (size_t i = 0; i < spec->n_configs; i++)
		if (spec->configs[i].label && strcmp(spec->configs[i].label, label) == 0)
			return &spec->configs[i];
	return NULL;
}

bool vdm_entry_selects(const struct vdm_entry *e, int index, const struct vdm_devid *hw)
{
	if (e->n_filters > 0) {
		bool any = false;

		for (size_t i = 0; hw && i < e->n_filters && !any; i++)
			any = vdm_devid_matches(&e->filters[i], hw);
		if (!any)
			return false;
	}
	if (e->all_devices)
		return true;
	for (size_t i = 0; i < e->n_devices; i++)
		if (e->devices[i] == index)
			return true;
	return false;
}
