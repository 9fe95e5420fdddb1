/* SPDX-License-Identifier: Apache-2.0 */
#include "ctx.h"
#include "rootfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vdm_ctx {
	char *root;
	int max_prio;
	vdm_log_fn log_fn;
	void *log_data;
	struct vdm_io_stats stats;
	char *uuid_seed;
	struct vdm_rootfs *fs;  /* NULL if the root cannot be opened */
	int root_error;         /* then: its -errno */
};

static void oom(void)
{
	fputs("vgpu-dm: out of memory\n", stderr);
	abort();
}

void *vdm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *vdm_xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > ((size_t)-1) / size)
		oom();
	size_t total = n * size;
	p = realloc(p, total ? total : 1);
	if (!p)
		oom();
	return p;
}

char *vdm_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		oom();
	return d;
}

char *vdm_vstrdupf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *vdm_strdupf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	return s;
}

int vdm_ctx_new(struct vdm_ctx **out, const char *root)
{
	*out = NULL;
	if (root && !*root)
		return -EINVAL; /* "" is not "/": a caller's empty variable must not mean the host */
	struct vdm_ctx *ctx = vdm_xcalloc(1, sizeof(*ctx));
	if (!root)
		root = "/";
	/* Keep the root without a trailing slash ("" for "/") so that paths
	 * are formed as root + "/" + relative. */
	size_t len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	ctx->root = strndup(root, len);
	if (!ctx->root)
		oom();
	if (strcmp(ctx->root, "/") == 0)
		ctx->root[0] = '\0';
	ctx->max_prio = VDM_LOG_INFO;
	ctx->fs = vdm_rootfs_new(root, &ctx->root_error);
	*out = ctx;
	return 0;
}

void vdm_ctx_free(struct vdm_ctx *ctx)
{
	if (!ctx)
		return;
	vdm_rootfs_free(ctx->fs);
	free(ctx->root);
	free(ctx->uuid_seed);
	free(ctx);
}

const char *vdm_ctx_root(const struct vdm_ctx *ctx)
{
	return ctx->root[0] ? ctx->root : "/";
}

void vdm_ctx_set_log(struct vdm_ctx *ctx, int max_prio, vdm_log_fn fn, void *userdata)
{
	ctx->max_prio = max_prio;
	ctx->log_fn = fn;
	ctx->log_data = userdata;
}

int vdm_ctx_log_prio(const struct vdm_ctx *ctx)
{
	return ctx->max_prio;
}

struct vdm_io_stats *vdm_ctx_stats(struct vdm_ctx *ctx)
{
	return &ctx->stats;
}

void vdm_ctx_set_uuid_seed(struct vdm_ctx *ctx, const char *seed)
{
	free(ctx->uuid_seed);
	ctx->uuid_seed = seed && *seed ? vdm_xstrdup(seed) : NULL;
}

const char *vdm_ctx_uuid_seed(const struct vdm_ctx *ctx)
{
	return ctx->uuid_seed;
}

void vdm_log(struct vdm_ctx *ctx, int prio, const char *fmt, ...)
{
	if (!ctx || prio > ctx->max_prio || !ctx->log_fn)
		return;
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	char *msg = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx, prio, msg, ctx->log_data);
	free(msg);
	errno = saved;
}

/* Internal: the root prefix ("" for "/"), for sysfs.c. */
const char *vdm__ctx_prefix(const struct vdm_ctx *ctx);
const char *vdm__ctx_prefix(const struct vdm_ctx *ctx)
{
	return ctx->root;
}

struct vdm_rootfs *vdm__ctx_rootfs(struct vdm_ctx *ctx)
{
	return ctx->fs;
}

int vdm__ctx_root_error(const struct vdm_ctx *ctx)
{
	return ctx->root_error ? ctx->root_error : -EBADF;
}
