/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx: the library context. It carries the roots every path is formed under
 * (the sysfs root, the host root, the driver root: vdm_ctx_open), the log
 * priority and callback (the library never prints by itself), and counters
 * of the sysfs I/O it did.
 */
#ifndef VGPUDM_CTX_H
#define VGPUDM_CTX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum vdm_log_prio {
	VDM_LOG_ERR = 3,
	VDM_LOG_WARN = 4,
	VDM_LOG_INFO = 6,
	VDM_LOG_DEBUG = 7,
};

struct vdm_ctx;
typedef void (*vdm_log_fn)(struct vdm_ctx *ctx, int prio, const char *msg, void *userdata);

struct vdm_io_stats {
	unsigned long reads;    /* attribute reads */
	unsigned long writes;   /* attribute writes (create/remove...) */
	unsigned long dirs;     /* directory listings */
	unsigned long links;    /* readlink calls */
};

/* root: directory all paths are formed under (sysfs and host root alike);
 * NULL means "/", "" is refused (-EINVAL). A root that cannot be opened is
 * not an error here: every file operation then fails with its errno
 * (ENOENT, ENOTDIR...). No driver root. */
int vdm_ctx_new(struct vdm_ctx **out, const char *root);

/* Where a run finds the host. Inside the GPU Operator's pod
 * (kubernetes-agent.md §1.10) the host's / is mounted at /host, its /sys at
 * /sys and the driver root (/run/nvidia/driver) at /driver-root, and the
 * container's own /proc and /run are not the host's; on the host itself
 * everything is at /. Two roots (rootfs.h): sys/ paths are formed under the
 * sysfs root, every other path (proc/, run/, var/cache/, etc/) under the
 * host root. NULL fields mean "not given". */
#define VDM_HOST_ROOT_MOUNT "/host"
#define VDM_DRIVER_ROOT_CTR_PATH "/driver-root"
struct vdm_roots {
	const char *sysfs_root;   /* --sysfs-root: the sysfs root, default "/" */
	const char *host_root;    /* --host-root-mount */
	const char *driver_root;  /* --driver-root-ctr-path */
};
/* The host root: host_root, else $HOST_ROOT_MOUNT (either must be a
 * directory: else -ENOTDIR and *err), else sysfs_root when given (a whole
 * simulated host), else /host when it is a mount point (a container's view
 * of the host), else "/". The driver root, where NVML and sriov-manage are
 * looked for first (nvml.h, exec.h): driver_root, else
 * $DRIVER_ROOT_CTR_PATH, else /driver-root; none when it is not a
 * directory. 0, or -errno with *err (malloc'd, one line). */
int vdm_ctx_open(struct vdm_ctx **out, const struct vdm_roots *r, char **err);
/* The host root ("/", "/host", ...) and where it came from ("HOST_ROOT_MOUNT",
 * "--sysfs-root", "default /host, a mount point", "/"); the driver root, or
 * NULL when there is none. */
const char *vdm_ctx_host_root(const struct vdm_ctx *ctx);
const char *vdm_ctx_host_root_source(const struct vdm_ctx *ctx);
const char *vdm_ctx_driver_root(const struct vdm_ctx *ctx);
/* A host path a variable names (VGPU_DM_CACHE_DIR=/var/cache/x) as a
 * root-relative path in rel (len bytes): a path on the host, formed under
 * the host root once. Written with the host root's mount in front
 * (/host/var/cache/x under host root /host) it is the same host path.
 * 0, 1 when that prefix was dropped, -EINVAL for a relative value,
 * -ENAMETOOLONG. */
int vdm_host_rel(const struct vdm_ctx *ctx, const char *value, char *rel, size_t len);
void vdm_ctx_free(struct vdm_ctx *ctx);
/* The sysfs root ("/" unless --sysfs-root). */
const char *vdm_ctx_root(const struct vdm_ctx *ctx);
void vdm_ctx_set_log(struct vdm_ctx *ctx, int max_prio, vdm_log_fn fn, void *userdata);
int vdm_ctx_log_prio(const struct vdm_ctx *ctx);
struct vdm_io_stats *vdm_ctx_stats(struct vdm_ctx *ctx);
/* A seed for deterministic vGPU UUIDs (UUIDv5 of seed, GPU address, type and
 * ordinal); NULL for random ones. Copied. */
void vdm_ctx_set_uuid_seed(struct vdm_ctx *ctx, const char *seed);
const char *vdm_ctx_uuid_seed(const struct vdm_ctx *ctx);

/* Internal: the error opening the root, as -errno. */
int vdm__ctx_root_error(const struct vdm_ctx *ctx);

void vdm_log(struct vdm_ctx *ctx, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define vdm_err(ctx, ...) vdm_log(ctx, VDM_LOG_ERR, __VA_ARGS__)
#define vdm_warn(ctx, ...) vdm_log(ctx, VDM_LOG_WARN, __VA_ARGS__)
#define vdm_info(ctx, ...) vdm_log(ctx, VDM_LOG_INFO, __VA_ARGS__)
#define vdm_dbg(ctx, ...) vdm_log(ctx, VDM_LOG_DEBUG, __VA_ARGS__)

/* malloc'd printf; aborts on out-of-memory (the only sane response in a CLI
 * that must not leave half-written state: callers check before writing). */
char *vdm_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vdm_vstrdupf(const char *fmt, va_list ap);
void *vdm_xcalloc(size_t n, size_t size);
void *vdm_xrealloc(void *p, size_t n, size_t size);
char *vdm_xstrdup(const char *s);

#endif
