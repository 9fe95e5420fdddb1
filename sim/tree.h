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
 * including the one being written.  release() frees node->data.
 * open() (optional) runs when a process opens the file: accmode is
 * O_RDONLY/O_WRONLY/O_RDWR, pid the opener as FUSE reports it (a thread id);
 * it may set *handle and returns 0 or a negative errno.  close() gets that
 * handle when the open file is released, even if the node is gone by then. */
struct file_ops {
	int (*show)(struct node *n, struct strbuf *out);
	int (*store)(struct node *n, const char *buf, size_t len);
	void (*release)(void *data);
	int (*open)(struct node *n, int accmode, pid_t pid, void **handle);
	void (*close)(void *handle);
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
	bool internal;               /* under .vgpu-sim or run/: not counted */
	bool hidden;                 /* not listed by readdir */
	bool scratch;                /* under run/: a tmpfs where users create, write,
				      * remove and rename entries; files are plain */
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

/* Symlink with literal target text (e.g. an absolute path, as /proc shows). */
struct node *tree_link_text(struct tree *t, struct node *dir, const char *name, const char *target);

/* A plain file (for scratch directories): bytes written at any offset,
 * st_size is their length. */
struct node *tree_plain_file(struct tree *t, struct node *dir, const char *name, mode_t perm);
size_t plain_size(const struct node *n);
const char *plain_bytes(const struct node *n);
/* 0, or -EFBIG beyond the simulator's limit. */
int plain_write(struct node *n, const void *buf, size_t len, off_t off);
int plain_truncate(struct node *n, off_t size);

/* Moves n into dir under a new name (rename); the caller has removed any
 * entry of that name. */
void tree_move(struct node *n, struct node *dir, const char *name);

/* Unlinks n from its parent and frees it with its whole subtree. */
void tree_remove(struct tree *t, struct node *n);

/* Path relative to the mount root, e.g. "sys/bus/pci"; "" for the root.
 * Caller frees. */
char *node_path(const struct node *n);

#endif
