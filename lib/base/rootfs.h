/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rootfs: every file the tool opens, reads, writes, creates or lists is
 * reached through here, confined to the context's root directory.
 *
 * Paths are root-relative ("sys/bus/pci/devices/0000:3b:00.0/vendor"; a
 * leading '/' is ignored). They are resolved by the kernel with openat2(2)
 * RESOLVE_IN_ROOT from a directory handle on the root: a symlink inside the
 * tree, absolute ("/elsewhere") or relative ("../../.."), can never lead
 * outside the root; magic links (/proc/PID/fd/N) are never followed.
 *
 * Directory handles are cached (vdm_root_cache_dir, vdm_root_cache_link), and
 * a path under a cached directory is opened relative to it (RESOLVE_BENEATH,
 * falling back to the root when a link leaves it): a scan that caches a
 * device's directory opens each of its attributes in one lookup.
 */
#ifndef VGPUDM_ROOTFS_H
#define VGPUDM_ROOTFS_H

#include <sys/types.h>

#include "ctx.h"

struct vdm_rootfs;

/* Open root (a directory) for ctx. NULL with *err_out = -errno if it cannot
 * be opened; then every call below returns that error. */
struct vdm_rootfs *vdm_rootfs_new(const char *root, int *err_out);
void vdm_rootfs_free(struct vdm_rootfs *fs);

/* openat(2) of rel within the root: flags as open(2) (O_CLOEXEC is added;
 * mode only with O_CREAT). Returns an fd or -errno. */
int vdm_root_open(struct vdm_ctx *ctx, const char *rel, int flags, mode_t mode);
/* The directory holding rel's last component (an fd to close), with *base
 * pointing into rel at that component: for readlinkat, fstatat, mkdirat,
 * unlinkat, renameat. -errno on failure; -EINVAL for an empty rel. */
int vdm_root_parent(struct vdm_ctx *ctx, const char *rel, const char **base);
/* Cache a handle on directory rel. With link_ok, rel may be a symlink to a
 * directory: its target is read once and resolved lexically inside the
 * root, and the directories on the way are cached too. 0 or -errno. */
int vdm_root_cache_dir(struct vdm_ctx *ctx, const char *rel);
int vdm_root_cache_link(struct vdm_ctx *ctx, const char *rel);
/* The root-relative directory a symlink rel resolves to (lexically, inside
 * the root) into buf. Returns its length or -errno. */
int vdm_root_link_path(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len);
/* Forget every cached handle (the tree may have changed: VFs enabled...). */
void vdm_root_cache_flush(struct vdm_ctx *ctx);

/* The tool's own files. mkdirs: every missing directory of rel, with mode.
 * create: open rel with flags | O_CREAT | O_NOFOLLOW (a planted symlink is
 * refused with ELOOP; add O_EXCL for a new file) and set mode whatever the
 * umask; returns the fd. rename (within the root) and unlink: 0 or -errno. */
int vdm_root_mkdirs(struct vdm_ctx *ctx, const char *rel, mode_t mode);
int vdm_root_create(struct vdm_ctx *ctx, const char *rel, int flags, mode_t mode);
int vdm_root_rename(struct vdm_ctx *ctx, const char *from, const char *to);
int vdm_root_unlink(struct vdm_ctx *ctx, const char *rel);

/* Internal: the context's rootfs (ctx.c). */
struct vdm_rootfs *vdm__ctx_rootfs(struct vdm_ctx *ctx);

#endif
