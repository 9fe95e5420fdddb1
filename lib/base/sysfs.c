/* SPDX-License-Identifier: Apache-2.0 */
#include "sysfs.h"
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *vdm__ctx_prefix(const struct vdm_ctx *ctx, const char *rel);

int vdm_path(struct vdm_ctx *ctx, char *buf, size_t len, const char *rel)
{
	while (*rel == '/')
		rel++;
	int n = snprintf(buf, len, "%s/%s", vdm__ctx_prefix(ctx, rel), rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int vdm_sysfs_read(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	vdm_ctx_stats(ctx)->reads++;
	int fd = vdm_root_open(ctx, rel, O_RDONLY, 0);
	if (fd < 0) {
		vdm_dbg(ctx, "read %s: %s", path, strerror(-fd));
		return fd;
	}
	size_t got = 0;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			vdm_dbg(ctx, "read %s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		/* A sysfs attribute comes whole in one read (at most a page): a
		 * short read is the end, no need to ask again. */
		if ((size_t)n < len - 1 - (got - (size_t)n))
			break;
	}
	close(fd);
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\0'))
		got--;
	buf[got] = '\0';
	return (int)got;
}

/* An attribute holding one number: unsigned (u) or signed (s). -EINVAL if
 * it is not one number (decimal, or hex with 0x), -ERANGE if too large. */
static int read_number(struct vdm_ctx *ctx, const char *rel, bool is_signed, unsigned long long *u,
		       long long *s)
{
	char buf[64];
	int rc = vdm_sysfs_read(ctx, rel, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	char *end;
	const char *digits = buf + (is_signed && buf[0] == '-');
	errno = 0;
	if (is_signed)
		*s = strtoll(buf, &end, 0);
	else
		*u = strtoull(buf, &end, 0);
	if (!(*digits >= '0' && *digits <= '9') || end == buf || *end) {
		vdm_dbg(ctx, "read %s: not a number: '%s'", rel, buf);
		return -EINVAL;
	}
	if (errno == ERANGE) {
		vdm_dbg(ctx, "read %s: out of range: '%s'", rel, buf);
		return -ERANGE;
	}
	return 0;
}

int vdm_sysfs_read_u64(struct vdm_ctx *ctx, const char *rel, uint64_t *out)
{
	unsigned long long v;
	int rc = read_number(ctx, rel, false, &v, NULL);
	if (rc == 0)
		*out = v;
	return rc;
}

int vdm_sysfs_read_int(struct vdm_ctx *ctx, const char *rel, int *out)
{
	long long v;
	int rc = read_number(ctx, rel, true, NULL, &v);
	if (rc < 0)
		return rc;
	if (v < -2147483647LL || v > 2147483647LL) {
		vdm_dbg(ctx, "read %s: out of range: %lld", rel, v);
		return -ERANGE;
	}
	*out = (int)v;
	return 0;
}

int vdm_sysfs_write(struct vdm_ctx *ctx, const char *rel, const char *data)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	vdm_ctx_stats(ctx)->writes++;
	vdm_dbg(ctx, "write '%s' to %s", data, path);
	int fd = vdm_root_open(ctx, rel, O_WRONLY, 0);
	if (fd < 0) {
		vdm_dbg(ctx, "open %s: %s", path, strerror(-fd));
		return fd;
	}
	size_t len = strlen(data);
	ssize_t n;
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != len)
		rc = -EIO;
	if (rc < 0)
		vdm_dbg(ctx, "write %s: %s", path, strerror(-rc));
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int vdm_sysfs_readlink(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), rel);
	if (rc < 0)
		return rc;
	vdm_ctx_stats(ctx)->links++;
	const char *base;
	int dfd = vdm_root_parent(ctx, rel, &base);
	ssize_t n = dfd < 0 ? dfd : readlinkat(dfd, base, buf, len - 1);
	if (n < 0) {
		rc = dfd < 0 ? dfd : -errno;
		if (dfd >= 0)
			close(dfd);
		vdm_dbg(ctx, "readlink %s: %s", path, strerror(-rc));
		return rc;
	}
	close(dfd);
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return (int)n;
}

int vdm_sysfs_link_base(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len)
{
	char target[VDM_PATH_MAX];
	int rc = vdm_sysfs_readlink(ctx, rel, target, sizeof(target));
	if (rc < 0)
		return rc;
	while (rc > 1 && target[rc - 1] == '/')
		target[--rc] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	size_t bl = strlen(base);
	if (bl >= len)
		return -ENAMETOOLONG;
	memcpy(buf, base, bl + 1);
	return (int)bl;
}

bool vdm_sysfs_exists(struct vdm_ctx *ctx, const char *rel)
{
	int fd = vdm_root_open(ctx, rel, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void vdm_names_free(char **names, int n)
{
	if (!names)
		return;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int vdm_sysfs_list(struct vdm_ctx *ctx, const char *rel, char ***names)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), rel);
	*names = NULL;
	if (rc < 0)
		return rc;
	vdm_ctx_stats(ctx)->dirs++;
	int fd = vdm_root_open(ctx, rel, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		rc = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		vdm_dbg(ctx, "list %s: %s", path, strerror(-rc));
		return rc;
	}
	char **v = NULL;
	int n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = vdm_xrealloc(v, (size_t)cap, sizeof(*v));
		}
		v[n++] = vdm_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), cmp_names);
	*names = v;
	return n;
}

/* n hex digits (1..max) from *s, advancing it; -1 if none or too many. */
static long hex_field(const char **s, int max)
{
	long v = 0;
	int n = 0;
	for (; n <= max; n++, (*s)++) {
		char c = **s;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			break;
		v = v * 16 + d;
	}
	return n == 0 || n > max ? -1 : v;
}

int vdm_pci_addr_parse(const char *s, uint32_t *out)
{
	long dom = hex_field(&s, 4), bus, dev, fn;
	if (dom < 0 || *s++ != ':' || (bus = hex_field(&s, 2)) < 0 || *s++ != ':' ||
	    (dev = hex_field(&s, 2)) < 0 || *s++ != '.' || (fn = hex_field(&s, 1)) < 0 || *s ||
	    dev > 0x1f || fn > 7)
		return -EINVAL;
	*out = (uint32_t)((dom << 16) | (bus << 8) | (dev << 3) | fn);
	return 0;
}

int vdm_parse_long_prefix(const char *s, const char **endp, int base, long min, long max, long *out)
{
	const char *p = s;
	if (*p == '-' && min < 0)
		p++;
	if (!(*p >= '0' && *p <= '9'))
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, base);
	if (endp)
		*endp = end;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vdm_parse_long(const char *s, int base, long min, long max, long *out)
{
	const char *end;
	long v;
	int rc = vdm_parse_long_prefix(s, &end, base, min, max, &v);
	if (rc == -EINVAL || *end)
		return -EINVAL;
	if (rc < 0)
		return rc;
	*out = v;
	return 0;
}
