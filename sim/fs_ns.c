/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The namespace is the kernel's: users cannot add or remove entries, except
 * in scratch directories (run/), which behave like a tmpfs: files and
 * directories are created, removed and renamed there. No symbolic or hard
 * links anywhere (EPERM).
 */
#include "fs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim.h"

/* The scratch directory parent where name may be created: 0 or an errno. */
static int scratch_dir(struct sim *s, fuse_ino_t parent, const char *name, struct node **dir)
{
	*dir = tree_get(&s->tree, parent);
	if (!*dir)
		return ENOENT;
	if (!(*dir)->scratch)
		return (*dir)->kind == NODE_DIR ? EACCES : ENOTDIR;
	if ((*dir)->kind != NODE_DIR)
		return ENOTDIR;
	return name && node_child(*dir, name) ? EEXIST : 0;
}

void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *d;
	int err = scratch_dir(s, parent, name, &d);

	fs_trace(s, "create", d, name, err);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	struct node *n = tree_plain_file(&s->tree, d, name, mode & 07777);
	struct open_file *of = xcalloc(1, sizeof(*of));
	struct fuse_entry_param e;

	of->ops = n->ops;
	memset(&e, 0, sizeof(e));
	e.ino = n->ino;
	e.generation = 1;
	fs_fill_stat(s, n, &e.attr);
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_create(req, &e, fi) != 0)
		free(of);
}

void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct sim *s = sim_of(req);
	struct node *d;
	int err = scratch_dir(s, parent, name, &d);

	(void)rdev;
	if (!err && !S_ISREG(mode))
		err = EPERM; /* only plain files */
	fs_trace(s, "mknod", d, name, err);
	if (err)
		fuse_reply_err(req, err == EACCES ? EPERM : err);
	else
		fs_reply_entry(req, s, tree_plain_file(&s->tree, d, name, mode & 07777));
}

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct sim *s = sim_of(req);
	struct node *d;
	int err = scratch_dir(s, parent, name, &d);

	fs_trace(s, "mkdir", d, name, err);
	if (err) {
		fuse_reply_err(req, err == EACCES ? EPERM : err);
		return;
	}
	struct node *n = tree_mkdir(&s->tree, d, name);
	n->perm = mode & 07777;
	fs_reply_entry(req, s, n);
}

void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sim *s = sim_of(req);
	struct node *d;
	int err = scratch_dir(s, parent, NULL, &d);
	struct node *n = err ? NULL : node_child(d, name);

	if (!err)
		err = !n ? ENOENT : n->kind == NODE_DIR ? EISDIR : 0;
	fs_trace(s, "unlink", d, name, err);
	if (!err)
		tree_remove(&s->tree, n); /* SIMPLIFICATION: open handles read ENODEV */
	fuse_reply_err(req, err == EACCES ? EPERM : err);
}

void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sim *s = sim_of(req);
	struct node *d;
	int err = scratch_dir(s, parent, NULL, &d);
	struct node *n = err ? NULL : node_child(d, name);

	if (!err)
		err = !n ? ENOENT : n->kind != NODE_DIR ? ENOTDIR : n->children.n ? ENOTEMPTY : 0;
	fs_trace(s, "rmdir", d, name, err);
	if (!err)
		tree_remove(&s->tree, n);
	fuse_reply_err(req, err == EACCES ? EPERM : err);
}

void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static bool is_ancestor(const struct node *a, const struct node *n)
{
	for (; n; n = n->parent)
		if (n == a)
			return true;
	return false;
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct sim *s = sim_of(req);
	struct node *from, *to;
	int err = scratch_dir(s, parent, NULL, &from);
	struct node *n = NULL, *old = NULL;

	if (!err)
		err = scratch_dir(s, newparent, NULL, &to);
	if (!err) {
		n = node_child(from, name);
		old = node_child(to, newname);
		if (flags)
			err = EINVAL; /* no RENAME_NOREPLACE / RENAME_EXCHANGE */
		else if (!n)
			err = ENOENT;
		else if (n->kind == NODE_DIR && is_ancestor(n, to))
			err = EINVAL;
		else if (old && old->kind == NODE_DIR && n->kind != NODE_DIR)
			err = EISDIR;
		else if (old && old->kind != NODE_DIR && n->kind == NODE_DIR)
			err = ENOTDIR;
		else if (old && old->kind == NODE_DIR && old->children.n)
			err = ENOTEMPTY;
	}
	fs_trace(s, "rename", from, name, err);
	if (!err && n != old) {
		if (old)
			tree_remove(&s->tree, old);
		tree_move(n, to, newname);
	}
	fuse_reply_err(req, err == EACCES ? EPERM : err);
}

void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}
