/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_yaml: the YAML layer of the config parser; see spec_yaml.h.
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

#include "spec_yaml.h"

/* ---- messages ---------------------------------------------------------- */

static struct vdm_pos mark_pos(yaml_mark_t m)
{
	struct vdm_pos p = { (int)m.line + 1, (int)m.column + 1 };
	return p;
}

struct vdm_pos spec_npos(const yaml_node_t *n)
{
	return mark_pos(n->start_mark);
}

__attribute__((format(printf, 3, 4)))
int spec_failf(struct ctx *c, struct vdm_pos pos, const char *fmt, ...)
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
int spec_fail_nopos(struct ctx *c, const char *msg)
{
	if (c->failed)
		return -1;
	c->failed = true;
	if (asprintf(&c->err, "%s: %s", c->source, msg) < 0)
		c->err = NULL;
	return -1;
}

int spec_oom(struct ctx *c)
{
	return spec_fail_nopos(c, "out of memory");
}

/* prefix + s quoted with qc, escaped to one line and shortened. The result
 * lives in one of NQBUF rotating buffers. */
const char *spec_quote(struct ctx *c, const char *prefix, const char *s, size_t len, char qc)
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

const char *spec_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

size_t spec_slen(const yaml_node_t *n)
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
	return is_plain(n) && spec_slen(n) == 0;
}

/* A YAML null: empty, "~" or null/Null/NULL, unquoted. */
bool spec_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL" };

	if (!is_plain(n))
		return false;
	if (spec_slen(n) == 0)
		return true;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strlen(nulls[i]) == spec_slen(n) && memcmp(spec_scalar(n), nulls[i], spec_slen(n)) == 0)
			return true;
	return false;
}

bool spec_scalar_is(const yaml_node_t *n, const char *s)
{
	return n->type == YAML_SCALAR_NODE && spec_slen(n) == strlen(s) &&
	       memcmp(spec_scalar(n), s, spec_slen(n)) == 0;
}

/* What a node is, for "got ..." in messages. */
const char *spec_desc(struct ctx *c, const yaml_node_t *n)
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
			return spec_quote(c, "quoted string ", spec_scalar(n), spec_slen(n), '"');
		case YAML_LITERAL_SCALAR_STYLE:
		case YAML_FOLDED_SCALAR_STYLE:
			return spec_quote(c, "block string ", spec_scalar(n), spec_slen(n), '"');
		default:
			if (spec_slen(n) == 0)
				return "an empty value";
			return spec_quote(c, "", spec_scalar(n), spec_slen(n), '"');
		}
	default:
		return "nothing";
	}
}

const char *spec_qkey(struct ctx *c, const struct kv *kv)
{
	return spec_quote(c, "", kv->k, kv->klen, '\'');
}

/* Where to report a problem with a value: an empty value has no useful
 * position of its own, so use its key. */
struct vdm_pos spec_vpos(const struct kv *kv)
{
	return is_empty_plain(kv->val) ? spec_npos(kv->key) : spec_npos(kv->val);
}

/* ---- node access ------------------------------------------------------- */

int spec_spend(struct ctx *c, const yaml_node_t *n)
{
	if (c->budget == 0)
		return spec_failf(c, spec_npos(n), "too many nodes after expanding aliases");
	c->budget--;
	return 0;
}

yaml_node_t *spec_node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* Plain decimal integer 0|[1-9][0-9]*: 0 ok, 1 not an integer, 2 > INT_MAX. */
int spec_plain_uint(const yaml_node_t *n, int *out)
{
	const char *s;
	size_t len;
	long v = 0;

	if (!is_plain(n) || spec_slen(n) == 0)
		return 1;
	s = spec_scalar(n);
	len = spec_slen(n);
	if ((len > 1 && s[0] == '0') || strlen(s) != len)
		return 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 1;
	/* lib/base's parser: the range check is the one every number gets */
	int rc = vdm_parse_long(s, 10, 0, INT_MAX, &v);
	if (rc == -ERANGE)
		return 2;
	if (rc < 0)
		return 1;
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
			return spec_oom(c);
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
	return is_plain(k) && spec_scalar_is(k, "<<");
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
		return spec_oom(c);
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
		return spec_failf(c, spec_npos(s.key), "duplicate key %s (first defined on line %d)",
			     spec_qkey(c, &s), spec_npos(f.key).line);
	}
	free(ex);
	return 0;
}

static int merge_into(struct ctx *c, yaml_node_t *src, yaml_node_t *errnode, int depth,
		      unsigned prio, size_t *order, struct kvs *all)
{
	struct kvs sub = { 0 };
	int r = 0;

	if (src->type != YAML_MAPPING_NODE)
		return spec_failf(c, spec_npos(errnode), "'<<' expects a mapping or a list of mappings, got %s",
			     spec_desc(c, src));
	if (spec_flatten(c, src, depth + 1, &sub) < 0) {
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
int spec_flatten(struct ctx *c, yaml_node_t *map, int depth, struct kvs *out)
{
	struct kvs all = { 0 };
	unsigned rank = 0;
	bool merged = false;
	size_t order = 0;
	size_t kept;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		struct kv kv = { 0 };

		kv.key = spec_node(c, p->key);
		kv.val = spec_node(c, p->value);
		if (spec_spend(c, kv.key) < 0)
			goto fail;
		if (kv.key->type != YAML_SCALAR_NODE) {
			spec_failf(c, spec_npos(kv.key), "keys must be strings, got %s", spec_desc(c, kv.key));
			goto fail;
		}
		kv.k = spec_scalar(kv.key);
		kv.klen = spec_slen(kv.key);
		if (memchr(kv.k, '\0', kv.klen)) {
			spec_failf(c, spec_npos(kv.key), "key %s contains a NUL character", spec_qkey(c, &kv));
			goto fail;
		}
		kv.order = order++;
		if (is_merge_key(kv.key)) {
			kv.merge = true;
			merged = true;
			if (depth >= MAX_MERGE_DEPTH) {
				spec_failf(c, spec_npos(kv.key), "merge keys nested too deeply");
				goto fail;
			}
			if (kv.val->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *it = kv.val->data.sequence.items.start;
				     it < kv.val->data.sequence.items.top; it++) {
					yaml_node_t *m = spec_node(c, *it);

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


/* A tab in the leading white space of line (0-based) of buf: its position,
 * else line 0. libyaml's own words for it ("found a tab character that
 * violates indentation", or a confused "could not find expected ':'") do not
 * say what to do. */
static struct vdm_pos indent_tab(const char *buf, size_t len, size_t line)
{
	size_t i = 0;
	for (size_t l = 0; l < line && i < len; i++)
		if (buf[i] == '\n')
			l++;
	for (size_t col = 1; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++, col++)
		if (buf[i] == '\t')
			return (struct vdm_pos){(int)line + 1, (int)col};
	return (struct vdm_pos){0, 0};
}

void spec_yaml_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	struct vdm_pos pos;

	if (p->error == YAML_SCANNER_ERROR || p->error == YAML_PARSER_ERROR) {
		pos = indent_tab(buf, len, p->problem_mark.line);
		if (pos.line) {
			spec_failf(c, pos, "tab in indentation, use spaces (YAML indents with spaces only)");
			return;
		}
	}

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		spec_oom(c);
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
		spec_failf(c, pos, "%s", problem);
		return;
	case YAML_COMPOSER_ERROR:
		if (p->context) { /* the only one with a context: a repeated anchor */
			spec_failf(c, mark_pos(p->problem_mark), "duplicate anchor (first defined on line %d)",
			      mark_pos(p->context_mark).line);
			return;
		}
		spec_failf(c, mark_pos(p->problem_mark), "%s", problem);
		return;
	default:
		if (p->context && (p->context_mark.line != p->problem_mark.line ||
				   p->context_mark.column != p->problem_mark.column)) {
			struct vdm_pos cp = mark_pos(p->context_mark);

			spec_failf(c, mark_pos(p->problem_mark), "%s (%s at line %d, column %d)",
			      problem, p->context, cp.line, cp.col);
			return;
		}
		spec_failf(c, mark_pos(p->problem_mark), "%s", problem);
		return;
	}
}

/*
 * A first pass over the events: syntax errors, a second document, and input
 * that would make libyaml's loader crawl (deep nesting, many anchors).
 */
int spec_prescan(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, anchors = 0;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return spec_oom(c);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		yaml_event_type_t type;
		yaml_mark_t mark;
		bool anchored = false;

		if (!yaml_parser_parse(&p, &ev)) {
			spec_yaml_error(c, &p, buf, len);
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
			r = spec_failf(c, mark_pos(mark), "expected a single document, found another");
			break;
		}
		if (anchored && ++anchors > MAX_ANCHORS) {
			r = spec_failf(c, mark_pos(mark), "too many anchors (more than %d)", MAX_ANCHORS);
			break;
		}
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > MAX_NESTING) {
				r = spec_failf(c, mark_pos(mark), "nesting is too deep (more than %d levels)",
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

