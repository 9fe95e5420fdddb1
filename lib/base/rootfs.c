/* SPDX-License-Identifier: Apache-2.0 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PATH_LEN 4096
#define MAX_LINKS 40

struct entry {
	char *key;   /* root-relative directory path, normalised */
	int fd;      /* O_PATH handle */
};

struct vdm_rootfs {
	int rootfd;          /* the sysfs root: paths under sys/ */
	int hostfd;          /* the host root: every other path (proc/, run/, var/, etc/...) */
	bool no_openat2;     /* kernel < 5.6: resolve in user space */
	struct entry *tab;   /* open addressing, cap a power of two */
	size_t cap, n, max;
};

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

struct vdm_rootfs *vdm_rootfs_new(const char *root, const char *host, int *err_out)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int hfd = fd < 0 ? -1 : host ? open(host, O_PATH | O_DIRECTORY | O_CLOEXEC) : dup(fd);
	*err_out = fd < 0 || hfd < 0 ? -errno : 0;
	if (fd < 0 || hfd < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct vdm_rootfs *fs = vdm_xcalloc(1, sizeof(*fs));
	fs->rootfd = fd;
	fs->hostfd = hfd;
	/* Tests run the walk of kernels without openat2 on any kernel. */
	const char *walk = getenv("VGPU_DM_ROOTFS_WALK");
	fs->no_openat2 = walk && *walk == '1';
	/* Cached handles stay open for a scan: allow them, keep room for the rest. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < 16384 && rl.rlim_max > rl.rlim_cur) {
			rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		/* Leave room for the process's other files; past the cap, paths are
		 * still opened, from the nearest cached directory or the root. */
		fs->max = rl.rlim_cur > 512 ? (size_t)(rl.rlim_cur - 256) : rl.rlim_cur / 2;
		if (fs->max > 12288)
			fs->max = 12288;
	} else {
		fs->max = 256;
	}
	return fs;
}

/* Close and forget every cached directory handle. */
static void cache_clear(struct vdm_rootfs *fs)
{
	for (size_t i = 0; i < fs->cap; i++)
		if (fs->tab[i].key) {
			free(fs->tab[i].key);
			close(fs->tab[i].fd);
		}
	free(fs->tab);
	fs->tab = NULL;
	fs->cap = fs->n = 0;
}

void vdm_root_cache_flush(struct vdm_ctx *ctx)
{
	struct vdm_rootfs *fs = vdm__ctx_rootfs(ctx);
	if (fs)
		cache_clear(fs);
}

void vdm_rootfs_free(struct vdm_rootfs *fs)
{
	if (!fs)
		return;
	cache_clear(fs);
	close(fs->rootfd);
	close(fs->hostfd);
	free(fs);
}

/* The directory a normalised root-relative path starts from: sys/ is the
 * sysfs root's, everything else the host root's. */
static int base_fd(const struct vdm_rootfs *fs, const char *path)
{
	return vdm_rel_is_sysfs(path) ? fs->rootfd : fs->hostfd;
}

bool vdm_rel_is_sysfs(const char *rel)
{
	while (*rel == '/')
		rel++;
	return !strncmp(rel, "sys", 3) && (rel[3] == '/' || rel[3] == '\0');
}

static int cache_get(const struct vdm_rootfs *fs, const char *key, size_t n)
{
	if (!fs->cap)
		return -1;
	for (size_t i = hash(key, n) & (fs->cap - 1);; i = (i + 1) & (fs->cap - 1)) {
		const struct entry *e = &fs->tab[i];
		if (!e->key)
			return -1;
		if (strlen(e->key) == n && !memcmp(e->key, key, n))
			return e->fd;
	}
}

/* Takes fd (closed if it cannot be kept). */
static void cache_put(struct vdm_rootfs *fs, const char *key, int fd)
{
	if (fs->n >= fs->max || cache_get(fs, key, strlen(key)) >= 0) {
		close(fd);
		return;
	}
	if (2 * (fs->n + 1) > fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 64;
		struct entry *tab = vdm_xcalloc(cap, sizeof(*tab));
		for (size_t i = 0; i < fs->cap; i++) {
			if (!fs->tab[i].key)
				continue;
			size_t j = hash(fs->tab[i].key, strlen(fs->tab[i].key)) & (cap - 1);
			while (tab[j].key)
				j = (j + 1) & (cap - 1);
			tab[j] = fs->tab[i];
		}
		free(fs->tab);
		fs->tab = tab;
		fs->cap = cap;
	}
	size_t j = hash(key, strlen(key)) & (fs->cap - 1);
	while (fs->tab[j].key)
		j = (j + 1) & (fs->cap - 1);
	fs->tab[j].key = vdm_xstrdup(key);
	fs->tab[j].fd = fd;
	fs->n++;
}

/* Normalise a root-relative path lexically into out: no leading '/', no
 * empty or "." components, ".." removes the previous component and stops at
 * the root (as RESOLVE_IN_ROOT does). "" is the root. */
static int normalise(const char *in, char *out, size_t len)
{
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + (o > 0) + n + 1 > len)
				return -ENAMETOOLONG;
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
	return (int)o;
}

static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return true;
	return false;
}

/* ---- resolution ---- */

static int sys_openat2(int dfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = resolve | RESOLVE_NO_MAGICLINKS,
	};
	/* EAGAIN: a rename anywhere on the system raced with a "..": the kernel
	 * could not prove the walk stayed inside; asking again is the remedy. */
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN || tries >= 1000)
			return -errno;
	}
}

/* Kernels without openat2: walk the path one component at a time from the
 * root, expanding each symlink lexically inside the root. */
static int walk_open(struct vdm_rootfs *fs, const char *rel, int flags, mode_t mode)
{
	char path[PATH_LEN], next[PATH_LEN], target[PATH_LEN];
	if (normalise(rel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	int base = base_fd(fs, path);
	for (int links = 0; links <= MAX_LINKS; links++) {
		int cur = dup(base);
		if (cur < 0)
			return -errno;
		char *p = path;
		bool restart = false;
		if (!*p) {
			int fd = openat(cur, ".", flags | O_CLOEXEC, mode);
			close(cur);
			return fd < 0 ? -errno : fd;
		}
		for (;;) {
			char *slash = strchr(p, '/');
			bool last = slash == NULL;
			if (slash)
				*slash = '\0';
			int fd = openat(cur, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			struct stat st;
			if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode) &&
			    !(last && (flags & O_NOFOLLOW))) {
				ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
				close(fd);
				close(cur);
				if (n < 0)
					return -errno;
				target[n] = '\0';
				/* The link's directory is path up to p. */
				size_t dl = (size_t)(p - path);
				int w = target[0] == '/'
						? snprintf(next, sizeof(next), "%s/%s", target,
							   last ? "" : slash + 1)
						: snprintf(next, sizeof(next), "%.*s%s/%s", (int)dl, path,
							   target, last ? "" : slash + 1);
				if (w < 0 || (size_t)w >= sizeof(next) ||
				    normalise(next, path, sizeof(path)) < 0)
					return -ENAMETOOLONG;
				restart = true;
				break;
			}
			if (last) {
				if (fd >= 0)
					close(fd);
				fd = openat(cur, p, flags | O_NOFOLLOW | O_CLOEXEC, mode);
				int e = errno;
				close(cur);
				return fd < 0 ? -e : fd;
			}
			if (fd < 0) {
				int e = errno;
				close(cur);
				return -e;
			}
			close(cur);
			cur = fd;
			*slash = '/';
			p = slash + 1;
		}
		if (!restart)
			break;
	}
	return -ELOOP;
}

static int open_in_root(struct vdm_rootfs *fs, const char *rel, int flags, mode_t mode)
{
	if (!fs->no_openat2) {
		int fd = sys_openat2(base_fd(fs, rel), *rel ? rel : ".", flags, mode, RESOLVE_IN_ROOT);
		if (fd != -ENOSYS)
			return fd;
		fs->no_openat2 = true;
	}
	return walk_open(fs, rel, flags, mode);
}

int vdm_open_under(const char *root, const char *rel, int flags, char *real, size_t len)
{
	int err;
	char path[PATH_LEN];
	if (normalise(rel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	struct vdm_rootfs *fs = vdm_rootfs_new(root, NULL, &err);
	if (!fs)
		return err;
	int fd = open_in_root(fs, path, flags, 0);
	vdm_rootfs_free(fs);
	if (fd < 0 || !real)
		return fd;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, real, len);
	if (n < 0 || (size_t)n >= len) {
		int e = n < 0 ? -errno : -ENAMETOOLONG;
		close(fd);
		return e;
	}
	real[n] = '\0';
	return fd;
}

int vdm_root_open(struct vdm_ctx *ctx, const char *rel, int flags, mode_t mode)
{
	struct vdm_rootfs *fs = vdm__ctx_rootfs(ctx);
	char path[PATH_LEN];
	if (!fs)
		return vdm__ctx_root_error(ctx);
	if (vdm_ctx_read_only(ctx) && ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
		return -EROFS;
	if (normalise(rel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (!has_dotdot(rel) && !fs->no_openat2) {
		/* The longest cached directory above the path. */
		for (size_t n = strlen(path); n > 0; n--) {
			if (path[n] != '/' && path[n] != '\0')
				continue;
			int dfd = cache_get(fs, path, n);
			if (dfd < 0)
				continue;
			if (path[n] == '\0') {
				if (flags == (O_PATH | O_DIRECTORY)) {
					int fd = dup(dfd);
					return fd < 0 ? -errno : fd;
				}
				return sys_openat2(dfd, ".", flags, mode, RESOLVE_BENEATH);
			}
			int fd = sys_openat2(dfd, path + n + 1, flags, mode, RESOLVE_BENEATH);
			if (fd != -EXDEV)
				return fd;
			break; /* a link leaves that directory: resolve from the root */
		}
	}
	return open_in_root(fs, path, flags, mode);
}

int vdm_root_parent(struct vdm_ctx *ctx, const char *rel, const char **base)
{
	char dir[PATH_LEN];
	while (*rel == '/')
		rel++;
	size_t n = strlen(rel);
	while (n > 0 && rel[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(dir))
		return n ? -ENAMETOOLONG : -EINVAL;
	size_t b = n;
	while (b > 0 && rel[b - 1] != '/')
		b--;
	if ((n - b == 1 && rel[b] == '.') || (n - b == 2 && rel[b] == '.' && rel[b + 1] == '.'))
		return -EINVAL;
	*base = rel + b;
	memcpy(dir, rel, b);
	dir[b] = '\0';
	return vdm_root_open(ctx, dir, O_PATH | O_DIRECTORY, 0);
}

/* Cache the plain directory path (normalised), and those above it. Returns
 * the cached fd (owned by the cache) or -errno. */
static int cache_plain(struct vdm_ctx *ctx, struct vdm_rootfs *fs, const char *path)
{
	size_t n = strlen(path);
	int fd = cache_get(fs, path, n);
	if (fd >= 0 || n == 0)
		return n == 0 ? fs->hostfd : fd;
	const char *slash = strrchr(path, '/');
	if (slash && !fs->no_openat2) {
		char parent[PATH_LEN];
		memcpy(parent, path, (size_t)(slash - path));
		parent[slash - path] = '\0';
		int pfd = cache_plain(ctx, fs, parent);
		if (pfd >= 0)
			fd = sys_openat2(pfd, slash + 1, O_PATH | O_DIRECTORY, 0, RESOLVE_BENEATH);
	}
	if (fd < 0)
		fd = open_in_root(fs, path, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	cache_put(fs, path, fd);
	int got = cache_get(fs, path, n);
	return got >= 0 ? got : -EMFILE;
}

int vdm_root_cache_dir(struct vdm_ctx *ctx, const char *rel)
{
	struct vdm_rootfs *fs = vdm__ctx_rootfs(ctx);
	char path[PATH_LEN];
	if (!fs)
		return vdm__ctx_root_error(ctx);
	if (has_dotdot(rel) || normalise(rel, path, sizeof(path)) < 0)
		return -EINVAL;
	int fd = cache_plain(ctx, fs, path);
	return fd < 0 ? fd : 0;
}

int vdm_root_link_path(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len)
{
	char target[PATH_LEN], joined[PATH_LEN * 2];
	const char *base;
	int dfd = vdm_root_parent(ctx, rel, &base);
	if (dfd < 0)
		return dfd;
	vdm_ctx_stats(ctx)->links++;
	ssize_t n = readlinkat(dfd, base, target, sizeof(target) - 1);
	int e = errno;
	close(dfd);
	if (n < 0)
		return -e;
	target[n] = '\0';
	while (*rel == '/')
		rel++;
	if (target[0] == '/')
		snprintf(joined, sizeof(joined), "%s", target);
	else
		snprintf(joined, sizeof(joined), "%.*s%s", (int)(base - rel), rel, target);
	return normalise(joined, buf, len);
}

int vdm_root_cache_link(struct vdm_ctx *ctx, const char *rel)
{
	struct vdm_rootfs *fs = vdm__ctx_rootfs(ctx);
	char path[PATH_LEN], real[PATH_LEN];
	if (!fs)
		return vdm__ctx_root_error(ctx);
	if (has_dotdot(rel) || normalise(rel, path, sizeof(path)) < 0)
		return -EINVAL;
	if (cache_get(fs, path, strlen(path)) >= 0)
		return 0;
	int n = vdm_root_link_path(ctx, path, real, sizeof(real));
	if (n == -EINVAL) /* not a link */
		return vdm_root_cache_dir(ctx, path);
	if (n < 0)
		return n;
	int fd = cache_plain(ctx, fs, real);
	if (fd < 0)
		return fd;
	int d = dup(fd);
	if (d < 0)
		return -errno;
	cache_put(fs, path, d);
	return 0;
}

/* ---- the tool's own files (lock, journal, type cache) ---- */

int vdm_root_mkdirs(struct vdm_ctx *ctx, const char *rel, mode_t mode)
{
	char path[PATH_LEN];
	if (vdm_ctx_read_only(ctx))
		return -EROFS;
	int n = normalise(rel, path, sizeof(path));
	if (n < 0 || has_dotdot(rel))
		return n < 0 ? n : -EINVAL;
	for (int i = 0; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		const char *base;
		int dfd = vdm_root_parent(ctx, path, &base);
		if (dfd < 0)
			return dfd;
		int rc = mkdirat(dfd, base, mode) < 0 && errno != EEXIST ? -errno : 0;
		close(dfd);
		if (rc < 0)
			return rc;
		path[i] = c;
	}
	return 0;
}

int vdm_root_create(struct vdm_ctx *ctx, const char *rel, int flags, mode_t mode)
{
	int fd = vdm_root_open(ctx, rel, flags | O_CREAT | O_NOFOLLOW, mode);
	if (fd < 0)
		return fd;
	/* The mode whatever the umask; a file that was there keeps its owner. */
	if (fchmod(fd, mode) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int vdm_root_rename(struct vdm_ctx *ctx, const char *from, const char *to)
{
	const char *fb, *tb;
	if (vdm_ctx_read_only(ctx))
		return -EROFS;
	int fd = vdm_root_parent(ctx, from, &fb);
	if (fd < 0)
		return fd;
	int td = vdm_root_parent(ctx, to, &tb);
	if (td < 0) {
		close(fd);
		return td;
	}
	int rc = renameat(fd, fb, td, tb) < 0 ? -errno : 0;
	close(fd);
	close(td);
	return rc;
}

int vdm_root_unlink(struct vdm_ctx *ctx, const char *rel)
{
	const char *base;
	if (vdm_ctx_read_only(ctx))
		return -EROFS;
	int dfd = vdm_root_parent(ctx, rel, &base);
	if (dfd < 0)
		return dfd;
	int rc = unlinkat(dfd, base, 0) < 0 ? -errno : 0;
	close(dfd);
	return rc;
}
