/* SPDX-License-Identifier: Apache-2.0 */
/* Generic in-memory tree served by the FUSE layer: directories, files whose
 * contents come from callbacks, and symlinks.  Every node has a stable inode
 * number that is never reused, so a stale kernel inode can never reach a
 * different node after a removal. */
#ifndef VGPU_SIM_TREE_H
#define VGPU_SIM_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

enum node_kind { NODE_DIR, NODE_FILE, NODE_LINK };

struct node;

/* Behaviour of a file.  show() renders the whole contents (NULL: the file is
 * not readable); store() receives one write() as sysfs would (NULL: not
 * writable) and returns 0 or a negative errno; it may remove nodes,
 * including the one being written.  release() frees node->data. */
struct file_ops {
	int (*show)(struct node *n, struct strbuf *out);
	int (*store)(struct node *n, const char *buf, size_t len);
	void (*release)(void *data);
};

struct node {
	enum node_kind kind;
	char *name;
	uint64_t ino;
	mode_t perm;
	struct node *parent;
	struct ptrvec children;      /* NODE_DIR: struct node * */
	char *target;                /* NODE_LINK: relative target */
	const struct file_ops *ops;  /* NODE_FILE */
	void *data;                  /* NODE_FILE: owner's data for ops */
	bool internal;               /* under .vgpu-sim: not counted */
	bool hidden;                 /* not listed by readdir */
};

struct tree {
	struct node *root;
	struct ptrvec by_ino;        /* index = inode number; NULL = gone */
};

void tree_init(struct tree *t);
void tree_destroy(struct tree *t);

struct node *tree_get(const struct tree *t, uint64_t ino);
struct node *node_child(const struct node *dir, const char *name);

/* Creators abort on a duplicate name: the simulator's own logic must prevent
 * that (e.g. create returns EEXIST first). */
struct node *tree_mkdir(struct tree *t, struct node *parent, const char *name);
/* mkdir -p of a slash-separated path below base; returns the last dir. */
struct node *tree_mkdirs(struct tree *t, struct node *base, const char *path);
struct node *tree_file(struct tree *t, struct node *parent, const char *name, mode_t perm,
		       const struct file_ops *ops, void *data);
/* Read-only (0444) file with fixed text contents. */
struct node *tree_text(struct tree *t, struct node *parent, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Symlink dir/name pointing at target, stored as the shortest relative path
 * (up to the common ancestor), like sysfs links. */
struct node *tree_link(struct tree *t, struct node *dir, const char *name, const struct node *target);

/* Unlinks n from its parent and frees it with its whole subtree. */
void tree_remove(struct tree *t, struct node *n);

/* Path relative to the mount root, e.g. "sys/bus/pci"; "" for the root.
 * Caller frees. */
char *node_path(const struct node *n);

#endif
