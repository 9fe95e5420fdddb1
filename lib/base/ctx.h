/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx: the library context. It carries the root directory every sysfs path is
 * formed under, the log priority and callback (the library never prints by
 * itself), and counters of the sysfs I/O it did.
 */
#ifndef VGPUDM_CTX_H
#define VGPUDM_CTX_H

#include <stdarg.h>
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

/* root: directory all paths are formed under; NULL means "/", "" is refused
 * (-EINVAL). A root that cannot be opened is not an error here: every file
 * operation then fails with its errno (ENOENT, ENOTDIR...). */
int vdm_ctx_new(struct vdm_ctx **out, const char *root);
void vdm_ctx_free(struct vdm_ctx *ctx);
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
