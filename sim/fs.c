/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FUSE low-level operations over the in-memory tree.  All timeouts are 0 and
 * files are opened with direct_io, so the kernel asks for every lookup,
 * attribute and byte again and changes are visible at once, while files
 * report st_size 4096 like sysfs attributes.
 *
 * Scratch directories (run/) behave like a tmpfs instead: entries can be
 * created, removed and renamed there (fs_ns.c), and their files are plain
 * bytes.
 * Locks (flock, fcntl) are left to the kernel's local emulation.
 */
#include "fs.h"
#include "fs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

#define SYSFS_PAGE 4096

struct dir_entry {
	char *name;
	uint64_t ino;
	mode_t type;
};

struct dir_handle {
	struct dir_entry *ents;
	size_t n;
};

static void count(struct sim *s, const struct node *n, enum sim_counter c)
{
	if (!n || !n->internal)
		s->counters[c]++;
}

void fs_trace(struct sim *s, const char *op, const struct node *n, const char *name, int err)
{
	if (!s->debug)
		return;
	char *path = n ? node_path(n) : xstrdup("?");
	fprintf(stderr, "vgpu-sim: %-8s /%s%s%s -> %s\n", op, path, name ? "/" : "", name ? name : "",
		err ? strerror(err) : "ok");
	free(path);
}

static mode_t node_type(const struct node *n)
{
	switch (n->kind) {
	case NODE_DIR:
		return S_IFDIR;
	case NODE_LINK:
		return S_IFLNK;
	default:
		return S_IFREG;
	}
}

/* Control files can outgrow a page; report their real size so that tools
 * like tail see all of it.  (sysfs attributes all report one page.) */
static off_t internal_size(const struct node *n)
{
	struct strbuf sb = { 0 };
	off_t size = 0;

	if (n->ops->show && n->ops->show((struct node *)n, &sb) == 0)
		size = (off_t)sb.len;
	sb_free(&sb);
	return size;
}

void fs_fill_stat(const struct sim *s, const struct node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = s->started;
	st->st_ino = n->ino;
	st->st_mode = node_type(n) | n->perm;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = SYSFS_PAGE;
	switch (n->kind) {
	case NODE_DIR:
		st->st_nlink = 2;
		for (size_t i = 0; i < n->children.n; i++)
			if (((struct node *)n->children.v[i])->kind == NODE_DIR)
				st->st_nlink++;
		break;
	case NODE_LINK:
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(n->target);
		break;
	case NODE_FILE:
		st->st_nlink = 1;
		st->st_size = n->scratch ? (off_t)plain_size(n) : n->internal ? internal_size(n) : SYSFS_PAGE;
		break;
	}
}

void fs_reply_entry(fuse_req_t req, const struct sim *s, const struct node *n)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = n->ino;
	e.generation = 1;
	fs_fill_stat(s, n, &e.attr);
	e.attr_timeout = 0.0;
	e.entry_timeout = 0.0;
	fuse_reply_entry(req, &e);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sim *s = sim_of(req);
	struct node *p = tree_get(&s->tree, parent);
	struct node *c = p ? node_child(p, name) : NULL;
	int err = !p ? ENOENT : p->kind != NODE_DIR ? ENOTDIR : !c ? ENOENT : 0;

	count(s, c ? c : p, SIM_C_LOOKUP);
	fs_trace(s, "lookup", p, name, err);
	if (err)
		fuse_reply_err(req, err);
	else
		fs_reply_entry(req, s, c);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req); /* nodes live until removed; inode numbers are never reused */
}

static void op_forget_multi(fuse_req_t req, size_t count_, struct fuse_forget_data *forgets)
{
	(void)count_;
	(void)forgets;
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	struct stat st;

	(void)fi;
	count(s, n, SIM_C_GETATTR);
	fs_trace(s, "getattr", n, NULL, n ? 0 : ENOENT);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fs_fill_stat(s, n, &st);
	fuse_reply_attr(req, &st, 0.0);
}

/* Scratch entries: size and mode; times and owners are accepted and ignored. */
static int scratch_setattr(struct node *n, const struct stat *attr, int to_set)
{
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (n->kind != NODE_FILE)
			return EISDIR;
		int rc = plain_truncate(n, attr->st_size);
		if (rc < 0)
			return -rc;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		n->perm = attr->st_mode & 07777;
	return 0;
}

/* Truncation (shell "> file" uses O_TRUNC) is a no-op on writable attributes. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	struct stat st;
	int err = 0;

	(void)fi;
	if (!n)
		err = ENOENT;
	else if (n->scratch)
		err = scratch_setattr(n, attr, to_set);
	else if (n->kind != NODE_FILE)
		err = EPERM;
	else if (!n->ops->store)
		err = EACCES;
	fs_trace(s, "setattr", n, NULL, err);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fs_fill_stat(s, n, &st);
	fuse_reply_attr(req, &st, 0.0);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	int err = !n ? ENOENT : n->kind != NODE_LINK ? EINVAL : 0;

	count(s, n, SIM_C_READLINK);
	fs_trace(s, "readlink", n, NULL, err);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_readlink(req, n->target);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	int acc = fi->flags & O_ACCMODE;
	int err = 0;

	count(s, n, SIM_C_OPEN);
	if (!n)
		err = ENOENT;
	else if (n->kind == NODE_DIR)
		err = EISDIR;
	else if (!n->scratch && ((acc != O_WRONLY && !n->ops->show) || (acc != O_RDONLY && !n->ops->store)))
		err = EACCES; /* like kernfs: no show/store for the requested mode */
	fs_trace(s, "open", n, NULL, err);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (n->scratch && (fi->flags & O_TRUNC) && acc != O_RDONLY)
		plain_truncate(n, 0); /* FUSE_CAP_ATOMIC_O_TRUNC: no setattr comes */
	struct open_file *of = xcalloc(1, sizeof(*of));
	of->ops = n->ops;
	if (n->ops->open) {
		int rc = n->ops->open(n, acc, fuse_req_ctx(req)->pid, &of->handle);
		if (rc < 0) {
			free(of);
			fuse_reply_err(req, -rc);
			return;
		}
	}
	fi->fh = (uint64_t)(uintptr_t)of;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) != 0) {
		if (of->ops->close)
			of->ops->close(of->handle);
		sb_free(&of->content);
		free(of);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	count(s, n, SIM_C_READ);
	if (n && n->scratch) {
		size_t len = plain_size(n);
		fs_trace(s, "read", n, NULL, 0);
		if ((size_t)off >= len)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_buf(req, plain_bytes(n) + off, len - (size_t)off < size ? len - (size_t)off : size);
		return;
	}
	/* like seq_file: contents are produced at offset 0 and kept for the rest */
	if (off == 0 || !of->valid) {
		int rc = !n ? -ENODEV : !n->ops->show ? -EACCES : 0;
		if (rc == 0) {
			sb_reset(&of->content);
			rc = n->ops->show(n, &of->content);
		}
		fs_trace(s, "read", n, NULL, rc < 0 ? -rc : 0);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		of->valid = true;
	} else {
		fs_trace(s, "read", n, NULL, 0);
	}
	if ((size_t)off >= of->content.len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t len = of->content.len - (size_t)off;
	fuse_reply_buf(req, of->content.buf + off, len < size ? len : size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	count(s, n, SIM_C_WRITE);
	if (n && n->scratch) {
		int rc = plain_write(n, buf, size, off);
		fs_trace(s, "write", n, NULL, -rc);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, size);
		return;
	}
	/* sysfs stores ignore the offset */
	if (!n || !n->ops->store) {
		fs_trace(s, "write", n, NULL, n ? EACCES : ENODEV);
		fuse_reply_err(req, n ? EACCES : ENODEV);
		return;
	}
	/* kernfs hands a store() at most one page, NUL-terminated */
	size_t len = size < SYSFS_PAGE ? size : SYSFS_PAGE - 1;
	char *copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	char *path = s->debug ? node_path(n) : NULL;

	int rc = n->ops->store(n, copy, len); /* may free n */
	free(copy);
	of->valid = false;
	if (s->debug)
		fprintf(stderr, "vgpu-sim: %-8s /%s (%zu bytes) -> %s\n", "write", path, len,
			rc < 0 ? strerror(-rc) : "ok");
	free(path);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, len);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	(void)ino;
	if (of->ops->close)
		of->ops->close(of->handle);
	sb_free(&of->content);
	free(of);
	fuse_reply_err(req, 0);
}

static void dir_handle_free(struct dir_handle *dh)
{
	for (size_t i = 0; i < dh->n; i++)
		free(dh->ents[i].name);
	free(dh->ents);
	dh->ents = NULL;
	dh->n = 0;
}

static void dir_snapshot(struct dir_handle *dh, const struct node *d)
{
	dir_handle_free(dh);
	dh->ents = xcalloc(d->children.n + 2, sizeof(*dh->ents));
	dh->ents[dh->n++] = (struct dir_entry){ xstrdup("."), d->ino, S_IFDIR };
	dh->ents[dh->n++] = (struct dir_entry){ xstrdup(".."), d->parent ? d->parent->ino : d->ino, S_IFDIR };
	for (size_t i = 0; i < d->children.n; i++) {
		const struct node *c = d->children.v[i];
		if (!c->hidden)
			dh->ents[dh->n++] = (struct dir_entry){ xstrdup(c->name), c->ino, node_type(c) };
	}
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	int err = !n ? ENOENT : n->kind != NODE_DIR ? ENOTDIR : 0;

	fs_trace(s, "opendir", n, NULL, err);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	struct dir_handle *dh = xcalloc(1, sizeof(*dh));
	fi->fh = (uint64_t)(uintptr_t)dh;
	if (fuse_reply_open(req, fi) != 0)
		free(dh);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct sim *s = sim_of(req);
	struct node *n = tree_get(&s->tree, ino);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;

	count(s, n, SIM_C_READDIR);
	fs_trace(s, "readdir", n, NULL, n ? 0 : ENOENT);
	if (off == 0) {
		if (!n) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		dir_snapshot(dh, n); /* a consistent listing per pass, like rewinddir */
	}
	char *buf = xmalloc(size);
	size_t pos = 0;
	for (size_t i = (size_t)off; i < dh->n; i++) {
		struct stat st = { .st_ino = dh->ents[i].ino, .st_mode = dh->ents[i].type };
		size_t need = fuse_add_direntry(req, buf + pos, size - pos, dh->ents[i].name, &st, (off_t)(i + 1));
		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	dir_handle_free(dh);
	free(dh);
	fuse_reply_err(req, 0);
}

const struct fuse_lowlevel_ops sim_fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.create = fs_op_create,
	.mknod = fs_op_mknod,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_unlink,
	.rmdir = fs_op_rmdir,
	.symlink = fs_op_symlink,
	.rename = fs_op_rename,
	.link = fs_op_link,
};
