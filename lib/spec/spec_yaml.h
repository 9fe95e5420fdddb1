/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_yaml: the YAML layer of the config parser (internal to lib/spec*.c).
 * libyaml's document tree walked as mappings of key/value pairs with merge
 * keys ("<<") flattened and duplicates refused, the scalar helpers, the
 * parser's own errors, and the "source:line:col: message" error formatting.
 * spec.c holds the v1 schema on top of it.
 */
#ifndef VGPUDM_SPEC_YAML_H
#define VGPUDM_SPEC_YAML_H

#include <stdbool.h>
#include <stddef.h>

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

/* Messages. Each fail function sets c->err once to "source:line:col: message"
 * (fail_nopos: "source: message"; oom: out of memory) and returns -1.
 * spec_quote() and spec_desc() format a value for a message into one of the
 * context's NQBUF rotating buffers (at most QUOTE_MAX bytes shown). */
struct vdm_pos spec_npos(const yaml_node_t *n);
__attribute__((format(printf, 3, 4)))
int spec_failf(struct ctx *c, struct vdm_pos pos, const char *fmt, ...);
int spec_fail_nopos(struct ctx *c, const char *msg);
int spec_oom(struct ctx *c);
const char *spec_quote(struct ctx *c, const char *prefix, const char *s, size_t len, char qc);

/* Nodes. spec_scalar/slen: a scalar's text and length; spec_is_null: YAML
 * null (~, null, empty plain); spec_node: the node with id, NULL if none;
 * spec_spend: charge one visit against the context's budget (-1 when spent:
 * alias bombs); spec_plain_uint: a plain decimal int >= 0: 0, 1 not such
 * a number (or a leading zero), 2 larger than INT_MAX. */
const char *spec_scalar(const yaml_node_t *n);
size_t spec_slen(const yaml_node_t *n);
bool spec_is_null(const yaml_node_t *n);
bool spec_scalar_is(const yaml_node_t *n, const char *s);
const char *spec_desc(struct ctx *c, const yaml_node_t *n);
const char *spec_qkey(struct ctx *c, const struct kv *kv);
struct vdm_pos spec_vpos(const struct kv *kv);
int spec_spend(struct ctx *c, const yaml_node_t *n);
yaml_node_t *spec_node(struct ctx *c, int id);
int spec_plain_uint(const yaml_node_t *n, int *out);

/* A mapping as key/value pairs: merge keys flattened (depth <=
 * MAX_MERGE_DEPTH), explicit keys first, duplicates refused. 0 or -1. */
int spec_flatten(struct ctx *c, yaml_node_t *map, int depth, struct kvs *out);

/* libyaml's own parser error as one line with its position; spec_prescan
 * refuses inputs that would make libyaml slow (nesting, anchors). */
void spec_yaml_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len);
int spec_prescan(struct ctx *c, const char *buf, size_t len);

#endif
