/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the FUSE operations of fs.c and fs_ns.c. */
#ifndef VGPU_SIM_FS_INT_H
#define VGPU_SIM_FS_INT_H

#include "fs.h"
#include "sim.h"

struct open_file {
	struct strbuf content;
	bool valid;
	const struct file_ops *ops; /* for close(): the node may be gone by then */
	void *handle;               /* from ops->open() */
};

static inline struct sim *sim_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* With --debug: one line per operation, its node, name and outcome. */
void fs_trace(struct sim *s, const char *op, const struct node *n, const char *name, int err);
/* n's attributes as the kernel sees them (sysfs: st_size one page). */
void fs_fill_stat(const struct sim *s, const struct node *n, struct stat *st);
/* Reply to a lookup or a create of n, with timeouts 0. */
void fs_reply_entry(fuse_req_t req, const struct sim *s, const struct node *n);

/* fs_ns.c: entries made and removed (scratch directories only). */
void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi);
void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags);
void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);

#endif
