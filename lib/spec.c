/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec: load a v1 vgpu-dm configuration file with libyaml's document loader
 * and validate it into struct vdm_spec.
 *
 * Error messages are "source:line:col: message", one line. Conventions:
 * keys (fields, labels, vGPU types) are quoted with '...', values with "...",
 * and a wrong value is described after ", got".
 *
 * YAML merge keys ("<<: *anchor") are honoured the way YAML 1.1 defines them
 * (upstream's YAML library accepts them): explicit keys win over merged ones,
 * and earlier mappings in a merged list win over later ones.
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

#include "spec.h"

#define SPEC_MAX_INPUT   (16u << 20) /* bytes */
#define MAX_MERGE_DEPTH  16
#define MAX_NESTING      64          /* libyaml slows down quadratically */
#define MAX_ANCHORS      10000       /* libyaml looks anchors up linearly */
#define EXTRA_VISITS     1000000     /* node visits allowed beyond 2 per node */
#define QUOTE_MAX        64          /* bytes of a value shown in a message */
#define QBUF_SIZE        (32 + 4 * QUOTE_MAX + 8)
#define NQBUF            3

struct kv {
	yaml_node_t *key;
	yaml_node_t *val;
	const char *k;       /* key text (no interior NUL) */
	size_t klen;
	size_t order;        /* position in the flattened mapping */
	unsigned prio;       /* 0 explicit, n for the n-th merged mapping */
	bool merge;          /* the "<<" key itself (dropped after checks) */
};

struct kvs {
	struct kv *v;
	size_t n;
	size_t cap;
};

struct ctx {
	const char *source;
	yaml_document_t *doc;
	char *err;
	bool failed;
	size_t budget;
	char qbuf[NQBUF][QBUF_SIZE];
	unsigned qnext;
};

/* ---- messages ---------------------------------------------------------- */

static struct vdm_pos mark_pos(yaml_mark_t m)
{
	struct vdm_pos p = { (int)m.line + 1, (int)m.column + 1 };
	return p;
}

static struct vdm_pos npos(const yaml_node_t *n)
{
	return mark_pos(n->start_mark);
}

__attribute__((format(printf, 3, 4)))
static int failf(struct ctx *c, struct vdm_pos pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (c->failed)
		return -1;
	c->failed = true;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && asprintf(&c->err, "%s:%d:%d: %s", c->source, pos.line, pos.col, msg) < 0)
		c->err = NULL;
	free(msg);
	return -1;
}

/* An error without a position ("source: message"). */
static int fail_nopos(struct ctx *c, const char *msg)
{
	if (c->failed)
		return -1;
	c->failed = true;
	if (asprintf(&c->err, "%s: %s", c->source, msg) < 0)
		c->err = NULL;
	return -1;
}

static int oom(struct ctx *c)
{
	return fail_nopos(c, "out of memory");
}

/* prefix + s quoted with qc, escaped to one line and shortened. The result
 * lives in one of NQBUF rotating buffers. */
static const char *quote(struct ctx *c, const char *prefix, const char *s, size_t len, char qc)
{
	char *b = c->qbuf[c->qnext++ % NQBUF];
	size_t n = len > QUOTE_MAX ? QUOTE_MAX : len;
	size_t o;

	while (n > 0 && n < len && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--; /* do not cut a UTF-8 sequence */
	o = (size_t)snprintf(b, 32, "%s", prefix);
	b[o++] = qc;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\' || ch == (unsigned char)qc) {
			b[o++] = '\\';
			b[o++] = (char)ch;
		} else if (ch == '\n') {
			b[o++] = '\\';
			b[o++] = 'n';
		} else if (ch == '\t') {
			b[o++] = '\\';
			b[o++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(b + o, 5, "\\x%02x", ch);
		} else {
			b[o++] = (char)ch;
		}
	}
	if (n < len) {
		memcpy(b + o, "...", 3);
		o += 3;
	}
	b[o++] = qc;
	b[o] = '\0';
	return b;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
	return n->data.scalar.length;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* "key:" with nothing after it. */
static bool is_empty_plain(const yaml_node_t *n)
{
	return is_plain(n) && slen(n) == 0;
}

/* A YAML null: empty, "~" or null/Null/NULL, unquoted. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL" };

	if (!is_plain(n))
		return false;
	if (slen(n) == 0)
		return true;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strlen(nulls[i]) == slen(n) && memcmp(scalar(n), nulls[i], slen(n)) == 0)
			return true;
	return false;
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	return n->type == YAML_SCALAR_NODE && slen(n) == strlen(s) &&
	       memcmp(scalar(n), s, slen(n)) == 0;
}

/* What a node is, for "got ..." in messages. */
static const char *desc(struct ctx *c, const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		switch (n->data.scalar.style) {
		case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
			return quote(c, "quoted string ", scalar(n), slen(n), '"');
		case YAML_LITERAL_SCALAR_STYLE:
		case YAML_FOLDED_SCALAR_STYLE:
			return quote(c, "block string ", scalar(n), slen(n), '"');
		default:
			if (slen(n) == 0)
				return "an empty value";
			return quote(c, "", scalar(n), slen(n), '"');
		}
	default:
		return "nothing";
	}
}

static const char *qkey(struct ctx *c, const struct kv *kv)
{
	return quote(c, "", kv->k, kv->klen, '\'');
}

/* Where to report a problem with a value: an empty value has no useful
 * position of its own, so use its key. */
static struct vdm_pos vpos(const struct kv *kv)
{
	return is_empty_plain(kv->val) ? npos(kv->key) : npos(kv->val);
}

/* ---- node access ------------------------------------------------------- */

static int spend(struct ctx *c, const yaml_node_t *n)
{
	if (c->budget == 0)
		return failf(c, npos(n), "too many nodes after expanding aliases");
	c->budget--;
	return 0;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* Plain decimal integer 0|[1-9][0-9]*: 0 ok, 1 not an integer, 2 > INT_MAX. */
static int plain_uint(const yaml_node_t *n, int *out)
{
	const char *s;
	size_t len;
	long long v = 0;

	if (!is_plain(n) || slen(n) == 0)
		return 1;
	s = scalar(n);
	len = slen(n);
	if (len > 1 && s[0] == '0')
		return 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 1;
	for (size_t i = 0; i < len; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > INT_MAX)
			return 2;
	}
	*out = (int)v;
	return 0;
}

/* ---- mappings: duplicate keys and merge keys ----------------------------- */

static int kvs_push(struct ctx *c, struct kvs *a, const struct kv *kv)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct kv *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return oom(c);
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *kv;
	return 0;
}

static int cmp_key(const struct kv *a, const struct kv *b)
{
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int r = memcmp(a->k, b->k, n);

	if (r)
		return r;
	return (a->klen > b->klen) - (a->klen < b->klen);
}

static int cmp_key_order(const void *pa, const void *pb)
{
	const struct kv *a = pa, *b = pb;
	int r = cmp_key(a, b);

	if (r)
		return r;
	return (a->order > b->order) - (a->order < b->order);
}

static int cmp_key_prio_order(const void *pa, const void *pb)
{
	const struct kv *a = pa, *b = pb;
	int r = cmp_key(a, b);

	if (r)
		return r;
	if (a->prio != b->prio)
		return (a->prio > b->prio) - (a->prio < b->prio);
	return (a->order > b->order) - (a->order < b->order);
}

static int cmp_order(const void *pa, const void *pb)
{
	const struct kv *a = pa, *b = pb;

	return (a->order > b->order) - (a->order < b->order);
}

static bool is_merge_key(const yaml_node_t *k)
{
	return is_plain(k) && scalar_is(k, "<<");
}

/* Reject duplicate explicit keys: report the earliest second occurrence. */
static int check_duplicates(struct ctx *c, const struct kvs *all)
{
	struct kv *ex;
	size_t n = 0;
	const struct kv *first = NULL, *second = NULL;

	if (all->n < 2)
		return 0;
	ex = malloc(all->n * sizeof(*ex));
	if (!ex)
		return oom(c);
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].prio == 0)
			ex[n++] = all->v[i];
	qsort(ex, n, sizeof(*ex), cmp_key_order);
	for (size_t i = 0; i + 1 < n; i++) {
		if (cmp_key(&ex[i], &ex[i + 1]) != 0)
			continue;
		/* ex[i] starts a run: ex[i+1] is its second occurrence. */
		if (i == 0 || cmp_key(&ex[i - 1], &ex[i]) != 0) {
			if (!second || ex[i + 1].order < second->order) {
				first = &ex[i];
				second = &ex[i + 1];
			}
		}
	}
	if (second) {
		struct kv f = *first, s = *second;

		free(ex);
		return failf(c, npos(s.key), "duplicate key %s (first defined on line %d)",
			     qkey(c, &s), npos(f.key).line);
	}
	free(ex);
	return 0;
}

static int flatten(struct ctx *c, yaml_node_t *map, int depth, struct kvs *out);

static int merge_into(struct ctx *c, yaml_node_t *src, yaml_node_t *errnode, int depth,
		      unsigned prio, size_t *order, struct kvs *all)
{
	struct kvs sub = { 0 };
	int r = 0;

	if (src->type != YAML_MAPPING_NODE)
		return failf(c, npos(errnode), "'<<' expects a mapping or a list of mappings, got %s",
			     desc(c, src));
	if (flatten(c, src, depth + 1, &sub) < 0) {
		free(sub.v);
		return -1;
	}
	for (size_t i = 0; i < sub.n && r == 0; i++) {
		sub.v[i].prio = prio;
		sub.v[i].order = (*order)++;
		sub.v[i].merge = false;
		r = kvs_push(c, all, &sub.v[i]);
	}
	free(sub.v);
	return r;
}

/*
 * The effective key/value pairs of a mapping, in document order (merged
 * keys take the place of their "<<"), after checking that keys are strings
 * and not repeated. out->v must be freed by the caller, also on error.
 */
static int flatten(struct ctx *c, yaml_node_t *map, int depth, struct kvs *out)
{
	struct kvs all = { 0 };
	unsigned rank = 0;
	bool merged = false;
	size_t order = 0;
	size_t kept;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		struct kv kv = { 0 };

		kv.key = node(c, p->key);
		kv.val = node(c, p->value);
		if (spend(c, kv.key) < 0)
			goto fail;
		if (kv.key->type != YAML_SCALAR_NODE) {
			failf(c, npos(kv.key), "keys must be strings, got %s", desc(c, kv.key));
			goto fail;
		}
		kv.k = scalar(kv.key);
		kv.klen = slen(kv.key);
		if (memchr(kv.k, '\0', kv.klen)) {
			failf(c, npos(kv.key), "key %s contains a NUL character", qkey(c, &kv));
			goto fail;
		}
		kv.order = order++;
		if (is_merge_key(kv.key)) {
			kv.merge = true;
			merged = true;
			if (depth >= MAX_MERGE_DEPTH) {
				failf(c, npos(kv.key), "merge keys nested too deeply");
				goto fail;
			}
			if (kv.val->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *it = kv.val->data.sequence.items.start;
				     it < kv.val->data.sequence.items.top; it++) {
					yaml_node_t *m = node(c, *it);

					if (merge_into(c, m, m, depth, ++rank, &order, &all) < 0)
						goto fail;
				}
			} else if (merge_into(c, kv.val, is_empty_plain(kv.val) ? kv.key : kv.val,
					      depth, ++rank, &order, &all) < 0) {
				goto fail;
			}
		}
		if (kvs_push(c, &all, &kv) < 0)
			goto fail;
	}
	if (check_duplicates(c, &all) < 0)
		goto fail;

	/* Without merge keys, all keys are now known to be distinct. */
	if (!merged) {
		*out = all;
		return 0;
	}
	/* Keep, per key, the explicit pair or else the first merged one. */
	qsort(all.v, all.n, sizeof(*all.v), cmp_key_prio_order);
	kept = 0;
	for (size_t i = 0; i < all.n; i++) {
		if (all.v[i].merge)
			continue;
		if (kept > 0 && cmp_key(&all.v[kept - 1], &all.v[i]) == 0)
			continue;
		all.v[kept++] = all.v[i];
	}
	all.n = kept;
	if (kept > 1)
		qsort(all.v, all.n, sizeof(*all.v), cmp_order);
	*out = all;
	return 0;
fail:
	*out = all;
	return -1;
}

/* ---- schema ------------------------------------------------------------ */

static int parse_devices(struct ctx *c, const struct kv *kv, struct vdm_entry *e)
{
	yaml_node_t *v = kv->val;
	size_t n;

	if (v->type == YAML_SCALAR_NODE && scalar_is(v, "all")) {
		e->all_devices = true;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return failf(c, vpos(kv), "devices: expected 'all' or a list of GPU indexes, got %s",
			     desc(c, v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return 0;
	e->devices = calloc(n, sizeof(*e->devices));
	if (!e->devices)
		return oom(c);
	e->n_devices = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = node(c, v->data.sequence.items.start[i]);
		int r;

		if (spend(c, it) < 0)
			return -1;
		r = plain_uint(it, &e->devices[i]);
		if (r == 1)
			return failf(c, npos(it), "devices: GPU index must be a non-negative integer, got %s",
				     desc(c, it));
		if (r == 2)
			return failf(c, npos(it), "devices: GPU index is too large (maximum %d), got %s",
				     INT_MAX, desc(c, it));
	}
	return 0;
}

static int parse_filter(struct ctx *c, const yaml_node_t *n, struct vdm_devid *out)
{
	const char *why = NULL;

	if (memchr(scalar(n), '\0', slen(n)))
		why = "contains a NUL character";
	else if (vdm_devid_parse(scalar(n), out, &why) == 0)
		return 0;
	return failf(c, npos(n), "invalid device filter %s: %s",
		     quote(c, "", scalar(n), slen(n), '"'), why);
}

static int parse_filters(struct ctx *c, const struct kv *kv, struct vdm_entry *e)
{
	yaml_node_t *v = kv->val;
	size_t n;

	/* Upstream treats an empty filter as no filter. */
	if (is_null(v) || (v->type == YAML_SCALAR_NODE && slen(v) == 0))
		return 0;
	if (v->type == YAML_SCALAR_NODE) {
		e->filters = calloc(1, sizeof(*e->filters));
		if (!e->filters)
			return oom(c);
		e->n_filters = 1;
		return parse_filter(c, v, &e->filters[0]);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return failf(c, vpos(kv), "device-filter: expected a PCI device ID or a list of them, got %s",
			     desc(c, v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return 0;
	e->filters = calloc(n, sizeof(*e->filters));
	if (!e->filters)
		return oom(c);
	e->n_filters = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = node(c, v->data.sequence.items.start[i]);

		if (spend(c, it) < 0)
			return -1;
		if (it->type != YAML_SCALAR_NODE)
			return failf(c, npos(it), "device-filter: expected a PCI device ID, got %s",
				     desc(c, it));
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
	if (is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return failf(c, vpos(kv), "vgpu-devices: expected a mapping of vGPU type names to counts, got %s",
			     desc(c, v));
	if (flatten(c, v, 0, &types) < 0)
		goto out;
	if (types.n == 0) {
		r = 0;
		goto out;
	}
	e->types = calloc(types.n, sizeof(*e->types));
	if (!e->types) {
		oom(c);
		goto out;
	}
	e->n_types = types.n;
	for (size_t i = 0; i < types.n; i++) {
		const struct kv *t = &types.v[i];
		struct vdm_type_count *tc = &e->types[i];
		struct vdm_vgpu_type vt;
		const char *why;
		int count = 0, rc;

		if (spend(c, t->val) < 0)
			goto out;
		if (vdm_vgpu_type_parse(t->k, &vt, &why) < 0) {
			failf(c, npos(t->key), "invalid vGPU type %s: %s", qkey(c, t), why);
			goto out;
		}
		if (first_mig < 0) {
			first_mig = vdm_vgpu_type_is_mig(&vt);
		} else if (first_mig != vdm_vgpu_type_is_mig(&vt)) {
			failf(c, npos(t->key), "cannot mix time-sliced and MIG-backed vGPU types on one GPU");
			goto out;
		}
		rc = plain_uint(t->val, &count);
		if (rc == 2) {
			failf(c, vpos(t), "count for %s is too large (maximum %d), got %s",
			      qkey(c, t), INT_MAX, desc(c, t->val));
			goto out;
		}
		if (rc != 0 || count == 0) {
			failf(c, vpos(t), "count for %s must be a positive integer, got %s",
			      qkey(c, t), desc(c, t->val));
			goto out;
		}
		tc->type = strndup(t->k, t->klen);
		if (!tc->type) {
			oom(c);
			goto out;
		}
		tc->count = count;
		tc->pos = npos(t->key);
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

	e->pos = npos(n);
	if (n->type != YAML_MAPPING_NODE)
		return failf(c, e->pos, "expected an entry with 'devices' and 'vgpu-devices', got %s",
			     desc(c, n));
	if (flatten(c, n, 0, &f) < 0)
		goto out;
	for (size_t i = 0; i < f.n; i++) {
		const struct kv *kv = &f.v[i];

		if (spend(c, kv->val) < 0)
			goto out;
		if (scalar_is(kv->key, "devices")) {
			have_devices = true;
			if (parse_devices(c, kv, e) < 0)
				goto out;
		} else if (scalar_is(kv->key, "device-filter")) {
			if (parse_filters(c, kv, e) < 0)
				goto out;
		} else if (scalar_is(kv->key, "vgpu-devices")) {
			have_types = true;
			if (parse_types(c, kv, e) < 0)
				goto out;
		} else {
			failf(c, npos(kv->key), "unexpected field %s", qkey(c, kv));
			goto out;
		}
	}
	if (!have_devices) {
		failf(c, e->pos, "missing required field 'devices'");
		goto out;
	}
	if (!have_types) {
		failf(c, e->pos, "missing required field 'vgpu-devices'");
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
		return oom(c);
	cfg->pos = npos(kv->key);
	if (is_null(v))
		return failf(c, cfg->pos, "label %s: at least one entry is required", qkey(c, kv));
	if (v->type != YAML_SEQUENCE_NODE)
		return failf(c, npos(v), "label %s: expected a list of entries, got %s",
			     qkey(c, kv), desc(c, v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return failf(c, cfg->pos, "label %s: at least one entry is required", qkey(c, kv));
	cfg->entries = calloc(n, sizeof(*cfg->entries));
	if (!cfg->entries)
		return oom(c);
	cfg->n_entries = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = node(c, v->data.sequence.items.start[i]);

		if (spend(c, it) < 0 || parse_entry(c, it, &cfg->entries[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_configs(struct ctx *c, const struct kv *kv, struct vdm_spec *spec)
{
	yaml_node_t *v = kv->val;
	struct kvs labels = { 0 };
	int r = -1;

	if (is_null(v))
		return failf(c, vpos(kv), "vgpu-configs: at least one label is required");
	if (v->type != YAML_MAPPING_NODE)
		return failf(c, vpos(kv), "vgpu-configs: expected a mapping of labels to lists of entries, got %s",
			     desc(c, v));
	if (flatten(c, v, 0, &labels) < 0)
		goto out;
	if (labels.n == 0) {
		failf(c, npos(v), "vgpu-configs: at least one label is required");
		goto out;
	}
	spec->configs = calloc(labels.n, sizeof(*spec->configs));
	if (!spec->configs) {
		oom(c);
		goto out;
	}
	spec->n_configs = labels.n;
	for (size_t i = 0; i < labels.n; i++) {
		if (spend(c, labels.v[i].val) < 0 ||
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
		return failf(c, npos(root), "expected a mapping with 'version' and 'vgpu-configs', got %s",
			     desc(c, root));
	if (flatten(c, root, 0, &top) < 0)
		goto out;
	for (size_t i = 0; i < top.n; i++) {
		if (scalar_is(top.v[i].key, "version"))
			version = &top.v[i];
		else if (scalar_is(top.v[i].key, "vgpu-configs"))
			configs = &top.v[i];
	}
	/* A wrong version explains everything else, so it comes first. */
	if (version) {
		yaml_node_t *v = version->val;

		if (v->type != YAML_SCALAR_NODE) {
			failf(c, vpos(version), "version: expected a string, got %s", desc(c, v));
			goto out;
		}
		if (!scalar_is(v, "v1")) {
			failf(c, vpos(version), "unknown version %s (expected v1)",
			      quote(c, "", scalar(v), slen(v), '"'));
			goto out;
		}
	}
	for (size_t i = 0; i < top.n; i++) {
		if (&top.v[i] != version && &top.v[i] != configs) {
			failf(c, npos(top.v[i].key), "unexpected field %s", qkey(c, &top.v[i]));
			goto out;
		}
	}
	if (!version) {
		failf(c, npos(root), "missing required field 'version'");
		goto out;
	}
	if (!configs) {
		failf(c, npos(root), "missing required field 'vgpu-configs'");
		goto out;
	}
	r = parse_configs(c, configs, spec);
out:
	free(top.v);
	return r;
}

/* ---- entry points -------------------------------------------------------- */

static void yaml_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	struct vdm_pos pos;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		oom(c);
		return;
	case YAML_READER_ERROR:
		/* Only a byte offset is known: count lines and characters. */
		pos.line = 1;
		pos.col = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				pos.line++;
				pos.col = 1;
			} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
				pos.col++;
			}
		}
		failf(c, pos, "%s", problem);
		return;
	case YAML_COMPOSER_ERROR:
		if (p->context) { /* the only one with a context: a repeated anchor */
			failf(c, mark_pos(p->problem_mark), "duplicate anchor (first defined on line %d)",
			      mark_pos(p->context_mark).line);
			return;
		}
		failf(c, mark_pos(p->problem_mark), "%s", problem);
		return;
	default:
		if (p->context && (p->context_mark.line != p->problem_mark.line ||
				   p->context_mark.column != p->problem_mark.column)) {
			struct vdm_pos cp = mark_pos(p->context_mark);

			failf(c, mark_pos(p->problem_mark), "%s (%s at line %d, column %d)",
			      problem, p->context, cp.line, cp.col);
			return;
		}
		failf(c, mark_pos(p->problem_mark), "%s", problem);
		return;
	}
}

/*
 * A first pass over the events: syntax errors, a second document, and input
 * that would make libyaml's loader crawl (deep nesting, many anchors).
 */
static int prescan(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, anchors = 0;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return oom(c);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		yaml_event_type_t type;
		yaml_mark_t mark;
		bool anchored = false;

		if (!yaml_parser_parse(&p, &ev)) {
			yaml_error(c, &p, buf, len);
			r = -1;
			break;
		}
		type = ev.type;
		mark = ev.start_mark;
		if (type == YAML_SCALAR_EVENT)
			anchored = ev.data.scalar.anchor != NULL;
		else if (type == YAML_SEQUENCE_START_EVENT)
			anchored = ev.data.sequence_start.anchor != NULL;
		else if (type == YAML_MAPPING_START_EVENT)
			anchored = ev.data.mapping_start.anchor != NULL;
		yaml_event_delete(&ev);

		if (type == YAML_STREAM_END_EVENT)
			break;
		if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			r = failf(c, mark_pos(mark), "expected a single document, found another");
			break;
		}
		if (anchored && ++anchors > MAX_ANCHORS) {
			r = failf(c, mark_pos(mark), "too many anchors (more than %d)", MAX_ANCHORS);
			break;
		}
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > MAX_NESTING) {
				r = failf(c, mark_pos(mark), "nesting is too deep (more than %d levels)",
					  MAX_NESTING);
				break;
			}
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
	}
	yaml_parser_delete(&p);
	return r;
}

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
		fail_nopos(c, "input is larger than the 16 MiB limit");
		goto out;
	}
	if (!buf) {
		buf = "";
		len = 0;
	}
	if (prescan(c, buf, len) < 0)
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		oom(c);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_error(c, &parser, buf, len);
		goto out_parser;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		struct vdm_pos start = { 1, 1 };

		failf(c, start, "empty document");
		goto out_parser;
	}
	/* prescan() made sure that no second document follows. */
	c->budget = 2 * (size_t)(doc.nodes.top - doc.nodes.start) + EXTRA_VISITS;
	spec = calloc(1, sizeof(*spec));
	if (!spec || !(spec->source = strdup(c->source))) {
		oom(c);
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
