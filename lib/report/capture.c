/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture: collect what the host scan reads, and more that a bug report
 * needs, into one gzip'd tar (capture.h; format in doc/capture.md). The
 * directories come from the scan itself (host/host.h: GPUs, VFs, parents,
 * vGPUs), so the capture follows the scan's knowledge of which devices
 * matter; within them it records files, links and a few known
 * subdirectories, bounded in depth, time and bytes.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "capture_int.h"

#define DEFAULT_SECONDS 120
#define DEFAULT_BYTES (64u << 20)
#define DEFAULT_FILE_BYTES (1u << 20)
#define MAX_DEPTH 4
#define MAX_ENTRIES 200000

double vdm_capture_elapsed(const struct cap *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - c->start.tv_sec) + (double)(now.tv_nsec - c->start.tv_nsec) / 1e9;
}

void vdm_capture_note(struct cap *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	json_object_array_add(c->notes, json_object_new_string(s));
	free(s);
}

/* false once a limit is hit (said once in the notes). */
bool vdm_capture_within_limits(struct cap *c)
{
	if (c->stopped)
		return false;
	if (vdm_capture_elapsed(c) > c->o.max_seconds)
		vdm_capture_note(c, "time limit (%u s) reached: the rest of the host is not captured", c->o.max_seconds);
	else if (c->bytes >= c->o.max_bytes)
		vdm_capture_note(c, "size limit (%zu bytes) reached: the rest of the host is not captured", c->o.max_bytes);
	else if (c->n >= MAX_ENTRIES)
		vdm_capture_note(c, "entry limit (%d) reached: the rest of the host is not captured", MAX_ENTRIES);
	else
		return true;
	c->stopped = true;
	return false;
}

static struct entry *add(struct cap *c, const char *path, enum kind k, char *data, size_t len, unsigned mode)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->e = vdm_xrealloc(c->e, c->cap, sizeof(*c->e));
	}
	c->e[c->n] = (struct entry){ vdm_xstrdup(path), k, data, len, mode };
	c->bytes += len;
	return &c->e[c->n++];
}

static void unreadable(struct cap *c, const char *path, int err)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "error", json_object_new_string(strerror(err)));
	json_object_array_add(c->unreadable, o);
}

/* Read a file (never a link: O_NOFOLLOW), at most max_file_bytes: name in
 * the directory dfd (a handle opened inside the root), or path when dfd < 0. */
static void read_file(struct cap *c, int dfd, const char *name, const char *path, unsigned mode)
{
	size_t max = c->o.max_file_bytes, n = 0;
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = dfd >= 0 ? openat(dfd, name, flags) : vdm_root_open(c->ctx, path, flags, 0);
	char *buf = vdm_xcalloc(1, max + 1);
	int err = 0;

	if (dfd >= 0 && fd < 0)
		fd = -errno;
	if (fd < 0) {
		err = -fd;
	} else {
		while (n <= max) {
			ssize_t r = read(fd, buf + n, max + 1 - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				err = errno;
			if (r <= 0)
				break;
			n += (size_t)r;
		}
		close(fd);
	}
	if (err) {
		unreadable(c, path, err);
		n = 0;
	} else if (n > max) {
		n = max;
		json_object_array_add(c->truncated, json_object_new_string(path));
	}
	add(c, path, K_FILE, buf, n, mode);
}

static bool skipped_file(const char *name)
{
	/* BAR and ROM images, VPD (reads can stall the device): never read */
	return !strncmp(name, "resource", 8) || !strcmp(name, "rom") || !strcmp(name, "vpd");
}

/* The attributes of a PCI function the tool (scan, doctor) reads or a
 * report needs; the others (power, msi, link speeds...) are left out. */
static bool wanted_device_file(const char *name)
{
	static const char *const names[] = {
		"vendor", "device", "class", "subsystem_vendor", "subsystem_device", "revision",
		"sriov_totalvfs", "sriov_numvfs", "sriov_offset", "sriov_stride", "sriov_vf_device",
		"sriov_drivers_autoprobe", "numa_node", "driver_override", "uevent", "modalias", "enable",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static bool uuid_like(const char *s)
{
	return strlen(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';
}

/* The subdirectories of a device directory the tool reads; deeper, all
 * but power/. */
static bool wanted_dir(int depth, const char *name)
{
	if (depth == 0)
		return !strcmp(name, "nvidia") || !strcmp(name, "mdev_supported_types") ||
		       !strcmp(name, "vfio-dev") || uuid_like(name);
	return strcmp(name, "power") != 0;
}

static void add_link(struct cap *c, int dfd, const char *name, const char *path)
{
	char target[VDM_PATH_MAX];
	ssize_t n = dfd >= 0 ? readlinkat(dfd, name, target, sizeof(target) - 1)
			     : vdm_sysfs_readlink(c->ctx, path, target, sizeof(target));
	if (n < 0) {
		unreadable(c, path, dfd >= 0 ? errno : (int)-n);
		return;
	}
	target[n] = '\0';
	add(c, path, K_LINK, vdm_xstrdup(target), 0, 0777);
}

static void walk(struct cap *c, const char *path, int depth);

/* One entry of any kind, name in dfd (or path from the root when dfd < 0):
 * links recorded, never followed; directories walked (wanted ones, up to
 * MAX_DEPTH); files read when they have a read permission. */
static void add_entry(struct cap *c, int dfd, const char *name, const char *path, int depth)
{
	struct stat st;

	if (!vdm_capture_within_limits(c))
		return;
	int rc = 0;
	if (dfd >= 0) {
		rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	} else {
		const char *base;
		int pfd = vdm_root_parent(c->ctx, path, &base);
		rc = pfd < 0 ? pfd : fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		if (pfd >= 0)
			close(pfd);
	}
	if (rc < 0) {
		if (rc != -ENOENT)
			unreadable(c, path, -rc);
		return;
	}
	if (S_ISLNK(st.st_mode))
		add_link(c, dfd, name, path);
	else if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH && (depth < 0 || wanted_dir(depth, name)))
		walk(c, path, depth + 1);
	else if (depth == 0 && !wanted_device_file(name))
		return;
	else if (S_ISREG(st.st_mode) && !skipped_file(name) && (st.st_mode & 0444))
		read_file(c, dfd, name, path, st.st_mode & 0777);
	else if (S_ISREG(st.st_mode) && !skipped_file(name))
		add(c, path, K_FILE, vdm_xstrdup(""), 0, st.st_mode & 0777); /* write-only: never opened */
}

static void add_path(struct cap *c, const char *path, int depth)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	add_entry(c, -1, name, path, depth);
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A directory opened once through the root; its entries relative to it. */
static void walk(struct cap *c, const char *path, int depth)
{
	int dfd = vdm_root_open(c->ctx, path, O_RDONLY | O_DIRECTORY, 0);
	int lfd = dfd >= 0 ? dup(dfd) : -1;
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	char **names = NULL;
	size_t n = 0;

	if (!d) {
		unreadable(c, path, dfd < 0 ? -dfd : errno);
		if (lfd >= 0)
			close(lfd);
		if (dfd >= 0)
			close(dfd);
		return;
	}
	add(c, path, K_DIR, NULL, 0, 0755);
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = vdm_xrealloc(names, n + 1, sizeof(*names));
		names[n++] = vdm_xstrdup(de->d_name);
	}
	closedir(d);
	if (n) /* qsort's base may not be NULL, even for no element */
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		char *child = vdm_strdupf("%s/%s", path, names[i]);
		add_entry(c, dfd, names[i], child, depth);
		free(child);
		free(names[i]);
	}
	free(names);
	close(dfd);
}

/* A device's directory and what points at it: its bus link, its IOMMU
 * group (walked only when its link stays under sys/). */
static void device(struct cap *c, const char *addr, const char *dir)
{
	char *p = vdm_strdupf("sys/bus/pci/devices/%s", addr);
	add_path(c, p, 0);
	free(p);
	walk(c, dir, 0);
	p = vdm_strdupf("%s/iommu_group", dir);
	char group[VDM_PATH_MAX];
	if (vdm_root_link_path(c->ctx, p, group, sizeof(group)) > 0 && !strncmp(group, "sys/kernel/iommu_groups/", 24))
		walk(c, group, -1);
	free(p);
}

static bool seen(const struct cap *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].kind == K_DIR && !strcmp(c->e[i].path, path))
			return true;
	return false;
}

static void gpu(struct cap *c, const struct vdm_host *h, const struct vdm_gpu *g)
{
	device(c, g->addr, g->dir);
	for (size_t i = 0; i < h->n_vfs; i++)
		if (!strcmp(h->vfs[i].pf, g->addr))
			device(c, h->vfs[i].addr, h->vfs[i].dir);
	for (size_t i = 0; i < g->n_parents; i++) {
		const struct vdm_parent *p = &g->parents[i];
		char *link = vdm_strdupf("sys/class/mdev_bus/%s", p->addr);
		add_path(c, link, 0);
		free(link);
		if (!seen(c, p->dir))
			device(c, p->addr, p->dir);
	}
	for (size_t i = 0; i < g->n_vgpus; i++) {
		const struct vdm_vgpu *v = &g->vgpus[i];
		if (g->fw != VDM_FW_MDEV)
			continue;
		char *p = vdm_strdupf("sys/bus/mdev/devices/%s", v->id);
		add_path(c, p, 0);
		free(p);
		p = vdm_strdupf("sys/bus/mdev/drivers/nvidia-vgpu-vfio/%s", v->id);
		add_path(c, p, 0);
		free(p);
		char group[VDM_PATH_MAX];
		p = vdm_strdupf("%s/%s/iommu_group", v->parent->dir, v->id);
		if (vdm_root_link_path(c->ctx, p, group, sizeof(group)) > 0 &&
		    !strncmp(group, "sys/kernel/iommu_groups/", 24))
			walk(c, group, -1);
		free(p);
	}
}

char *vdm_capture_read_small(struct vdm_ctx *ctx, const char *rel)
{
	char buf[256];
	return vdm_sysfs_read(ctx, rel, buf, sizeof(buf)) > 0 ? vdm_xstrdup(buf) : NULL;
}

static int cmp_entry(const void *x, const void *y)
{
	return strcmp(((const struct entry *)x)->path, ((const struct entry *)y)->path);
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].path);
		free(e[i].data);
	}
	free(e);
}

int vdm_capture(struct vdm_ctx *ctx, const struct vdm_capture_opts *o, int fd, struct vdm_capture_result *r,
		char **err)
{
	struct cap c = { .ctx = ctx, .o = *o };
	struct vdm_host *h = NULL;
	static const char *const fixed[] = {
		"sys/module/nvidia/version", "sys/module/nvidia_vgpu_vfio/version", "proc/driver/nvidia/version",
		"proc/sys/kernel/osrelease", "proc/modules", "proc/cmdline",
	};
	static const char *const dirs[] = {
		"sys/bus/pci/devices", "sys/bus/mdev/devices", "sys/bus/mdev/drivers/nvidia-vgpu-vfio",
		"sys/class/mdev_bus", "sys/class/vfio-dev", "sys/kernel/iommu_groups",
	};

	memset(r, 0, sizeof(*r));
	c.o.max_seconds = o->max_seconds ? o->max_seconds : DEFAULT_SECONDS;
	c.o.max_bytes = o->max_bytes ? o->max_bytes : DEFAULT_BYTES;
	c.o.max_file_bytes = o->max_file_bytes ? o->max_file_bytes : DEFAULT_FILE_BYTES;
	c.o.tool_version = o->tool_version ? o->tool_version : "unknown";
	clock_gettime(CLOCK_MONOTONIC, &c.start);
	vdm_ctx_set_read_only(ctx, true);
	int rc = vdm_host_scan(ctx, &h, err);
	if (rc < 0)
		return rc;
	c.unreadable = json_object_new_array();
	c.truncated = json_object_new_array();
	c.notes = json_object_new_array();
	c.commands = json_object_new_array();
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		add_path(&c, fixed[i], -1);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) { /* there, even empty */
		int dfd = vdm_root_open(ctx, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
		if (dfd >= 0)
			add(&c, dirs[i], K_DIR, NULL, 0, 0755);
		if (dfd >= 0)
			close(dfd);
	}
	for (size_t i = 0; i < h->n_gpus; i++)
		gpu(&c, h, &h->gpus[i]);
	if (h->n_gpus == 0)
		vdm_capture_note(&c, "no NVIDIA GPU found under %s", vdm_ctx_root(ctx));
	json_object *docs[3] = { NULL, vdm_capture_host_json(h), vdm_capture_nvml(ctx, h) };
	if (!json_object_get_boolean(json_object_object_get(docs[2], "available")))
		vdm_capture_note(&c, "NVML is not available: nvml.json holds no answers");
	vdm_capture_command(&c, "commands/nvidia-smi-q.txt", (char *const[]){ "nvidia-smi", "-q", NULL });
	vdm_capture_command(&c, "commands/nvidia-smi-vgpu-q.txt", (char *const[]){ "nvidia-smi", "vgpu", "-q", NULL });
	if (c.n)
		qsort(c.e, c.n, sizeof(*c.e), cmp_entry);
	struct vdm_redact *red = o->redact ? vdm_capture_redaction(&c, docs + 1, 2) : NULL;
	docs[0] = vdm_capture_manifest(&c, h, o->redact);
	char *text[3];
	for (size_t i = 0; i < 3; i++)
		text[i] = vdm_capture_json_text(red, docs[i]);
	if (red && c.n)
		qsort(c.e, c.n, sizeof(*c.e), cmp_entry);
	static const char *const names[] = { "manifest.json", "host.json", "nvml.json" };
	rc = vdm_capture_write_tar(&c, fd, text, names, 3, err);
	if (rc == 0) {
		r->entries = c.n;
		r->bytes = c.bytes;
		r->gpus = h->n_gpus;
		r->complete = !c.stopped;
		r->n_notes = json_object_array_length(c.notes);
		r->notes = vdm_xcalloc(r->n_notes, sizeof(char *));
		for (size_t i = 0; i < r->n_notes; i++)
			r->notes[i] = vdm_xstrdup(json_object_get_string(json_object_array_get_idx(c.notes, i)));
	}
	for (size_t i = 0; i < 3; i++) {
		free(text[i]);
		json_object_put(docs[i]);
	}
	vdm_redact_free(red);
	json_object_put(c.unreadable);
	json_object_put(c.truncated);
	json_object_put(c.notes);
	json_object_put(c.commands);
	free_entries(c.e, c.n);
	free_entries(c.extra, c.n_extra);
	vdm_host_free(h);
	return rc;
}

void vdm_capture_result_free(struct vdm_capture_result *r)
{
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}
