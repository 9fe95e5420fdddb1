/* SPDX-License-Identifier: Apache-2.0 */
#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAIN_MAX (16u << 20) /* SIMULATED limit of a scratch file (-EFBIG) */

static struct node *node_new(struct tree *t, struct node *parent, enum node_kind kind,
			     const char *name, mode_t perm)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->name = xstrdup(name);
	n->perm = perm;
	n->ino = t->by_ino.n;
	pv_push(&t->by_ino, n);
	if (parent) {
		if (node_child(parent, name)) {
			char *p = node_path(parent);
			fprintf(stderr, "vgpu-sim: internal error: duplicate node %s/%s\n", p, name);
			free(p);
			abort();
		}
		n->parent = parent;
		n->internal = parent->internal;
		n->scratch = parent->scratch;
		pv_push(&parent->children, n);
	}
	return n;
}

void tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
	pv_push(&t->by_ino, NULL); /* inode 0 is invalid */
	t->root = node_new(t, NULL, NODE_DIR, "", 0755);
	/* FUSE_ROOT_ID is 1 */
	if (t->root->ino != 1)
		abort();
}

static void node_free(struct tree *t, struct node *n)
{
	for (size_t i = 0; i < n->children.n; i++)
		node_free(t, n->children.v[i]);
	pv_free(&n->children);
	if (n->kind == NODE_FILE && n->ops && n->ops->release)
		n->ops->release(n->data);
	t->by_ino.v[n->ino] = NULL;
	free(n->target);
	free(n->name);
	free(n);
}

void tree_destroy(struct tree *t)
{
	if (t->root)
		node_free(t, t->root);
	pv_free(&t->by_ino);
	t->root = NULL;
}

struct node *tree_get(const struct tree *t, uint64_t ino)
{
	if (ino == 0 || ino >= t->by_ino.n)
		return NULL;
	return t->by_ino.v[ino];
}

struct node *node_child(const struct node *dir, const char *name)
{
	if (dir->kind != NODE_DIR)
		return NULL;
	for (size_t i = 0; i < dir->children.n; i++) {
		struct node *c = dir->children.v[i];
		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

struct node *tree_mkdir(struct tree *t, struct node *parent, const char *name)
{
	return node_new(t, parent, NODE_DIR, name, 0755);
}

struct node *tree_mkdirs(struct tree *t, struct node *base, const char *path)
{
	char *copy = xstrdup(path);
	struct node *cur = base;
	char *save = NULL;

	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		struct node *next = node_child(cur, tok);
		if (!next)
			next = tree_mkdir(t, cur, tok);
		else if (next->kind != NODE_DIR)
			abort();
		cur = next;
	}
	free(copy);
	return cur;
}

struct node *tree_file(struct tree *t, struct node *parent, const char *name, mode_t perm,
		       const struct file_ops *ops, void *data)
{
	struct node *n = node_new(t, parent, NODE_FILE, name, perm);

	n->ops = ops;
	n->data = data;
	return n;
}

static int text_show(struct node *n, struct strbuf *out)
{
	sb_puts(out, n->data);
	return 0;
}

static const struct file_ops text_ops = {
	.show = text_show,
	.release = free,
};

struct node *tree_text(struct tree *t, struct node *parent, const char *name, const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (!sb.buf)
		sb.buf = xstrdup("");
	return tree_file(t, parent, name, 0444, &text_ops, sb.buf);
}

/* Nodes from the root's child down to n (root excluded); *depth = count. */
static const struct node **node_chain(const struct node *n, size_t *depth)
{
	size_t d = 0;

	for (const struct node *p = n; p->parent; p = p->parent)
		d++;
	const struct node **chain = xcalloc(d ? d : 1, sizeof(*chain));
	size_t i = d;
	for (const struct node *p = n; p->parent; p = p->parent)
		chain[--i] = p;
	*depth = d;
	return chain;
}

struct node *tree_link(struct tree *t, struct node *dir, const char *name, const struct node *target)
{
	size_t dd, td, k = 0;
	const struct node **dc = node_chain(dir, &dd);
	const struct node **tc = node_chain(target, &td);
	struct strbuf sb = { 0 };

	while (k < dd && k < td && dc[k] == tc[k])
		k++;
	for (size_t i = k; i < dd; i++)
		sb_puts(&sb, i + 1 < dd || k < td ? "../" : "..");
	for (size_t i = k; i < td; i++) {
		sb_puts(&sb, tc[i]->name);
		if (i + 1 < td)
			sb_puts(&sb, "/");
	}
	if (!sb.len)
		sb_puts(&sb, ".");
	free(dc);
	free(tc);

	struct node *n = node_new(t, dir, NODE_LINK, name, 0777);
	n->target = sb.buf;
	return n;
}

struct node *tree_link_text(struct tree *t, struct node *dir, const char *name, const char *target)
{
	struct node *n = node_new(t, dir, NODE_LINK, name, 0777);

	n->target = xstrdup(target);
	return n;
}

static int plain_show(struct node *n, struct strbuf *out)
{
	const struct strbuf *sb = n->data;

	sb_append(out, sb->buf ? sb->buf : "", sb->len);
	return 0;
}

static void plain_release(void *data)
{
	sb_free(data);
	free(data);
}

static const struct file_ops plain_ops = { .show = plain_show, .release = plain_release };

struct node *tree_plain_file(struct tree *t, struct node *dir, const char *name, mode_t perm)
{
	return tree_file(t, dir, name, perm, &plain_ops, xcalloc(1, sizeof(struct strbuf)));
}

size_t plain_size(const struct node *n)
{
	return ((const struct strbuf *)n->data)->len;
}

const char *plain_bytes(const struct node *n)
{
	const struct strbuf *sb = n->data;

	return sb->buf ? sb->buf : "";
}

int plain_truncate(struct node *n, off_t size)
{
	struct strbuf *sb = n->data;

	if (size < 0 || (uint64_t)size > PLAIN_MAX)
		return -EFBIG;
	if ((size_t)size <= sb->len) {
		sb->len = (size_t)size;
		if (sb->buf)
			sb->buf[sb->len] = '\0';
		return 0;
	}
	size_t grow = (size_t)size - sb->len;
	char *zeros = xcalloc(grow, 1);
	sb_append(sb, zeros, grow);
	free(zeros);
	return 0;
}

int plain_write(struct node *n, const void *buf, size_t len, off_t off)
{
	struct strbuf *sb = n->data;

	if (off < 0 || (uint64_t)off + len > PLAIN_MAX)
		return -EFBIG;
	if ((size_t)off + len > sb->len)
		plain_truncate(n, (off_t)((size_t)off + len));
	if (len)
		memcpy(sb->buf + off, buf, len);
	return 0;
}

void tree_move(struct node *n, struct node *dir, const char *name)
{
	pv_remove(&n->parent->children, n);
	free(n->name);
	n->name = xstrdup(name);
	n->parent = dir;
	pv_push(&dir->children, n);
}

void tree_remove(struct tree *t, struct node *n)
{
	if (n->parent)
		pv_remove(&n->parent->children, n);
	node_free(t, n);
}

char *node_path(const struct node *n)
{
	size_t d;
	const struct node **chain = node_chain(n, &d);
	struct strbuf sb = { 0 };

	for (size_t i = 0; i < d; i++) {
		if (i)
			sb_puts(&sb, "/");
		sb_puts(&sb, chain[i]->name);
	}
	free(chain);
	return sb.buf ? sb.buf : xstrdup("");
}
