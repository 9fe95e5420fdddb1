/* SPDX-License-Identifier: Apache-2.0 */
#include "ctx.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vdm_ctx {
	char *root;             /* the sysfs root, "" for "/" */
	char *host;             /* the host root, "" for "/" */
	const char *host_how;   /* where it came from (static) */
	char *driver;           /* the driver root, NULL: none */
	const char *driver_how;
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

/* root without trailing slashes, "" for "/" */
static char *trimmed(const char *root)
{
	size_t len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	char *r = strndup(root, len);
	if (!r)
		oom();
	if (strcmp(r, "/") == 0)
		r[0] = '\0';
	return r;
}

static struct vdm_ctx *ctx_alloc(const char *root, const char *host, const char *host_how)
{
	struct vdm_ctx *ctx = vdm_xcalloc(1, sizeof(*ctx));
	/* Keep the roots without a trailing slash ("" for "/") so that paths
	 * are formed as root + "/" + relative. */
	ctx->root = trimmed(root);
	ctx->host = trimmed(host ? host : root);
	ctx->host_how = host_how;
	ctx->max_prio = VDM_LOG_INFO;
	ctx->fs = vdm_rootfs_new(root, host, &ctx->root_error);
	return ctx;
}

int vdm_ctx_new(struct vdm_ctx **out, const char *root)
{
	*out = NULL;
	if (root && !*root)
		return -EINVAL; /* "" is not "/": a caller's empty variable must not mean the host */
	*out = ctx_alloc(root ? root : "/", NULL, root ? "--sysfs-root" : "/");
	return 0;
}

/* A directory that is a mount point: a container's bind mount of the host's
 * root (statx STATX_ATTR_MOUNT_ROOT, Linux 5.8; else another device than /). */
static bool mounted_dir(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_STATX_SYNC_AS_STAT, STATX_TYPE, &sx) < 0 || !S_ISDIR(sx.stx_mode))
		return false;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	struct stat a, b;
	return stat(path, &a) == 0 && stat("/", &b) == 0 && a.st_dev != b.st_dev;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *given(const char *flag, const char *env)
{
	if (flag)
		return flag;
	const char *v = getenv(env);
	return v && *v ? v : NULL;
}

int vdm_ctx_open(struct vdm_ctx **out, const struct vdm_roots *r, char **err)
{
	static const struct vdm_roots none;
	if (!r)
		r = &none;
	*out = NULL;
	*err = NULL;
	if (r->sysfs_root && !*r->sysfs_root) {
		*err = vdm_xstrdup("--sysfs-root is empty: give a directory (/ for the host itself)");
		return -EINVAL;
	}
	const char *host = given(r->host_root, "HOST_ROOT_MOUNT"), *how;
	if (host) {
		const char *env = getenv("HOST_ROOT_MOUNT");
		how = r->host_root && !(env && !strcmp(env, r->host_root)) ? "--host-root-mount"
									     : "HOST_ROOT_MOUNT";
		if (!*host || !is_dir(host)) {
			*err = vdm_strdupf("%s %s: not a directory (it names where the host's / is mounted)",
					   how, host);
			return -ENOTDIR;
		}
	} else if (r->sysfs_root) {
		host = r->sysfs_root; /* a whole (simulated) host */
		how = "--sysfs-root";
	} else if (mounted_dir(VDM_HOST_ROOT_MOUNT)) {
		host = VDM_HOST_ROOT_MOUNT;
		how = "default " VDM_HOST_ROOT_MOUNT ", a mount point";
	} else {
		host = "/";
		how = "/";
	}
	struct vdm_ctx *ctx = ctx_alloc(r->sysfs_root ? r->sysfs_root : "/", host, how);
	const char *drv = given(r->driver_root, "DRIVER_ROOT_CTR_PATH");
	ctx->driver_how = !drv ? "default" : r->driver_root ? "--driver-root-ctr-path" : "DRIVER_ROOT_CTR_PATH";
	if (!drv)
		drv = VDM_DRIVER_ROOT_CTR_PATH;
	if (*drv && is_dir(drv) && strcmp(drv, "/"))
		ctx->driver = trimmed(drv);
	*out = ctx;
	return 0;
}

void vdm_ctx_free(struct vdm_ctx *ctx)
{
	if (!ctx)
		return;
	vdm_rootfs_free(ctx->fs);
	free(ctx->root);
	free(ctx->host);
	free(ctx->driver);
	free(ctx->uuid_seed);
	free(ctx);
}

const char *vdm_ctx_root(const struct vdm_ctx *ctx)
{
	return ctx->root[0] ? ctx->root : "/";
}

const char *vdm_ctx_host_root(const struct vdm_ctx *ctx)
{
	return ctx->host[0] ? ctx->host : "/";
}

const char *vdm_ctx_host_root_source(const struct vdm_ctx *ctx)
{
	return ctx->host_how;
}

const char *vdm_ctx_driver_root(const struct vdm_ctx *ctx)
{
	return ctx->driver;
}

int vdm_host_rel(const struct vdm_ctx *ctx, const char *value, char *rel, size_t len)
{
	if (!value || value[0] != '/')
		return -EINVAL;
	size_t n = strlen(ctx->host);
	const char *p = value;
	/* The host root's own spelling of a host path (/host/var/cache/x in a
	 * pod whose host root is /host): the same host path. */
	bool stripped = n && !strncmp(value, ctx->host, n) && (value[n] == '/' || value[n] == '\0');
	if (stripped)
		p = value + n;
	while (*p == '/')
		p++;
	int w = snprintf(rel, len, "%s", p);
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : stripped;
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

/* Internal: the prefix rel is formed under ("" for "/"), for sysfs.c. */
const char *vdm__ctx_prefix(const struct vdm_ctx *ctx, const char *rel);
const char *vdm__ctx_prefix(const struct vdm_ctx *ctx, const char *rel)
{
	return vdm_rel_is_sysfs(rel) ? ctx->root : ctx->host;
}

struct vdm_rootfs *vdm__ctx_rootfs(struct vdm_ctx *ctx)
{
	return ctx->fs;
}

int vdm__ctx_root_error(const struct vdm_ctx *ctx)
{
	return ctx->root_error ? ctx->root_error : -EBADF;
}
