/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vendor-specific VFIO backend: kernels >= 6.8 with vGPU 17 and later.
 * There is no mdev. Each SR-IOV VF of the GPU holds at most one vGPU, made by
 * writing a type id to <VF>/nvidia/current_vgpu_type and destroyed by writing
 * 0. <VF>/nvidia/creatable_vgpu_types lists what the VF can take now:
 *
 *     ID    : vGPU Name
 *     1145  : NVIDIA L40S-1B
 *
 * The list shrinks as vGPUs are made and is empty on a full GPU, so type ids
 * are also named from the other VFs' lists, from a cache kept per driver
 * version and device id, and from NVML when it is there. An id that cannot be
 * named stays unnamed (assert reports it), it is never guessed.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "base/base.h"

#define PCI_DEVICES "sys/bus/pci/devices"
#define DEFAULT_CACHE_DIR "/var/cache/nvidia-vgpu-dm"


/* Frame buffer from the type name ("L40S-4Q" -> 4096 MiB, "M60-0Q" -> 512). */
static int name_fb_mib(const char *name)
{
	struct vdm_vgpu_type t;
	if (vdm_vgpu_type_parse(name, &t, NULL) < 0)
		return -1;
	return t.gb ? t.gb * 1024 : 512;
}

#define CREATABLE_MAX (64 * 1024)

/* Parse a creatable_vgpu_types text in one pass: with add_types, name the
 * types the GPU does not know yet; with avail (one int per type of the
 * GPU), set 1 for every type listed. Returns the number of types listed, or
 * -EINVAL (a line of another shape) / -ERANGE (an id out of range). */
static int parse_creatable(char *text, struct vdm_gpu *g, bool add_types, int *avail)
{
	int n = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		if (!(line[0] >= '0' && line[0] <= '9')) /* the "ID    : vGPU Name" header */
			continue;
		char *end = line;
		while (*end >= '0' && *end <= '9')
			end++;
		char idbuf[24];
		size_t il = (size_t)(end - line);
		long id;
		if (il >= sizeof(idbuf))
			return -ERANGE;
		memcpy(idbuf, line, il);
		idbuf[il] = '\0';
		int rc = vdm_parse_long(idbuf, 10, 1, 0x7fffffff, &id);
		if (rc < 0)
			return rc;
		while (*end == ' ' || *end == '\t')
			end++;
		if (end != colon)
			return -EINVAL;
		char *name = colon + 1;
		while (*name == ' ' || *name == '\t')
			name++;
		size_t nl = strlen(name);
		while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\r'))
			name[--nl] = '\0';
		if (!*name)
			return -EINVAL;
		snprintf(idbuf, sizeof(idbuf), "%ld", id); /* canonical: no leading zeros */
		int t = vdm_gpu_type_by_id(g, idbuf);
		if (t < 0 && add_types)
			t = vdm_gpu_add_type(g, idbuf, name);
		if (avail && t >= 0)
			avail[t] = 1;
		n++;
	}
	return n;
}

/* A VF's creatable_vgpu_types, parsed (see parse_creatable). A list that
 * fills the buffer is no sysfs attribute: -EFBIG. -errno with h->error. */
static int read_creatable(struct vdm_host *h, struct vdm_gpu *g, const char *vf_dir, bool add_types,
			  int *avail)
{
	char rel[VDM_PATH_MAX + 64];
	char *buf = vdm_xcalloc(CREATABLE_MAX, 1);
	snprintf(rel, sizeof(rel), "%s/nvidia/creatable_vgpu_types", vf_dir);
	int rc = vdm_sysfs_read(h->ctx, rel, buf, CREATABLE_MAX);
	if (rc >= CREATABLE_MAX - 1)
		rc = -EFBIG;
	if (rc >= 0)
		rc = parse_creatable(buf, g, add_types, avail);
	free(buf);
	return rc < 0 ? vdm_host_error(h, rel, rc) : rc;
}

/* ---- the type cache ---- */

/* The cache file's root-relative path, or NULL: no driver version, or one
 * that cannot be a file name (it is read from the host: "x/../../y" must not
 * become a path). The directory is VGPU_DM_CACHE_DIR (default
 * /var/cache/nvidia-vgpu-dm), a path on the host: formed under the host root
 * once (vdm_host_rel: /host/var/cache/x in a pod is /var/cache/x). */
static char *cache_path(const struct vdm_host *h, const struct vdm_gpu *g)
{
	const char *dir = getenv("VGPU_DM_CACHE_DIR");
	const char *v = h->driver_version;
	char rel[VDM_PATH_MAX];
	if (!dir || !*dir)
		dir = DEFAULT_CACHE_DIR;
	if (!v || !*v)
		return NULL;
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	if (v[n] || n > 64 || v[0] == '.') {
		vdm_dbg(h->ctx, "driver version '%s' is not a plain name: no type cache", v);
		return NULL;
	}
	int rc = vdm_host_rel(h->ctx, dir, rel, sizeof(rel));
	if (rc < 0) {
		vdm_warn(h->ctx, "VGPU_DM_CACHE_DIR %s: %s: no vGPU type cache",
			 dir, rc == -EINVAL ? "not an absolute path on the host" : strerror(-rc));
		return NULL;
	}
	return vdm_strdupf("%s/vgpu-types-%s-%04x", rel, v, g->id.device);
}

static size_t cache_load(struct vdm_host *h, struct vdm_gpu *g)
{
	size_t entries = 0;
	char *path = cache_path(h, g);
	if (!path)
		return 0;
	int fd = vdm_root_open(h->ctx, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	struct stat st;
	FILE *f = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		f = fdopen(fd, "r");
	if (!f && fd >= 0)
		close(fd);
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			char *sp = strchr(line, ' ');
			line[strcspn(line, "\n")] = '\0';
			long id;
			if (!sp || sp == line)
				continue;
			*sp = '\0';
			if (!sp[1] || vdm_parse_long(line, 10, 1, 0x7fffffff, &id) < 0)
				continue;
			if (vdm_gpu_type_by_id(g, line) < 0)
				vdm_gpu_add_type(g, line, sp + 1);
			entries++;
		}
		fclose(f);
		vdm_dbg(h->ctx, "GPU %d: type names from cache %s", g->index, path);
	}
	free(path);
	return entries;
}

static void cache_store(struct vdm_host *h, struct vdm_gpu *g)
{
	char *path = cache_path(h, g);
	if (!path || g->n_types == 0) {
		free(path);
		return;
	}
	char *dir = vdm_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int mk = slash ? vdm_root_mkdirs(h->ctx, dir, 0755) : 0;
	/* A new temporary file (O_EXCL, not through a symlink), 0644 whatever
	 * the umask, renamed over the cache when complete. */
	unsigned rnd = 0;
	char *tmp = NULL;
	int fd = -EEXIST;
	for (int i = 0; i < 8 && fd == -EEXIST; i++) {
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (unsigned)rand();
		free(tmp);
		tmp = vdm_strdupf("%s.%d.%08x.tmp", path, (int)getpid(), rnd);
		fd = vdm_root_create(h->ctx, tmp, O_WRONLY | O_EXCL, 0644);
	}
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f && fd >= 0)
		close(fd);
	bool ok = f != NULL;
	for (size_t t = 0; ok && t < g->n_types; t++)
		ok = fprintf(f, "%s %s\n", g->types[t].id, g->types[t].full_name) > 0;
	if (f && fclose(f) != 0)
		ok = false;
	int rn = ok ? vdm_root_rename(h->ctx, tmp, path) : 0;
	if (ok && rn == 0) {
		vdm_dbg(h->ctx, "GPU %d: type names cached in %s", g->index, path);
	} else {
		/* Loud: a vendor-VFIO GPU lists only the types it can create now,
		 * so once it is full the names of the others come from here. */
		char shown[VDM_PATH_MAX];
		vdm_path(h->ctx, shown, sizeof(shown), path);
		int e = mk < 0 ? mk : fd < 0 ? fd : rn < 0 ? rn : -EIO;
		vdm_warn(h->ctx, "GPU %d: cannot write the vGPU type cache %s: %s; a later change away "
			 "from a full GPU may not find its type names (VGPU_DM_CACHE_DIR names a directory "
			 "on the host)", g->index, shown, strerror(-e));
		if (fd >= 0)
			vdm_root_unlink(h->ctx, tmp);
	}
	free(tmp);
	free(dir);
	free(path);
}

/* ---- scan ---- */

static int cmp_vf_addr(const void *a, const void *b)
{
	uint32_t x = 0, y = 0;
	vdm_pci_addr_parse((*(const struct vdm_vf *const *)a)->addr, &x);
	vdm_pci_addr_parse((*(const struct vdm_vf *const *)b)->addr, &y);
	return x < y ? -1 : x > y;
}

/* The GPU's VFs, in address order, as the PCI scan saw them. */
static int list_vfs(struct vdm_host *h, struct vdm_gpu *g, const struct vdm_vf ***vfs)
{
	const struct vdm_vf **out = vdm_xcalloc(h->n_vfs + 1, sizeof(*out));
	int k = 0;
	for (size_t i = 0; i < h->n_vfs; i++)
		if (!strcmp(h->vfs[i].pf, g->addr))
			out[k++] = &h->vfs[i];
	qsort(out, (size_t)k, sizeof(*out), cmp_vf_addr);
	*vfs = out;
	return k;
}

/* What NVML knows: every type the GPU supports with its name and maximum,
 * and the names of ids no list or cache named. */
static void nvml_enrich(struct vdm_host *h, struct vdm_gpu *g, struct vdm_nvml **nvml, bool *tried)
{
	char name[128], idbuf[24];
	if (!*tried) {
		*tried = true;
		*nvml = vdm_nvml_open(h->ctx);
	}
	if (!*nvml)
		return;
	unsigned *ids = NULL;
	int n = vdm_nvml_supported_types(*nvml, g->addr, &ids);
	for (int i = 0; i < n; i++) {
		snprintf(idbuf, sizeof(idbuf), "%u", ids[i]);
		if (vdm_gpu_type_by_id(g, idbuf) < 0 &&
		    vdm_nvml_type_name(*nvml, ids[i], name, sizeof(name)) == 0)
			vdm_gpu_add_type(g, idbuf, name);
	}
	free(ids);
	for (size_t v = 0; v < g->n_vgpus; v++) {
		struct vdm_vgpu *vg = &g->vgpus[v];
		if (vg->type >= 0)
			continue;
		vg->type = vdm_gpu_type_by_id(g, vg->type_id);
		long id;
		if (vg->type < 0 && vdm_parse_long(vg->type_id, 10, 0, UINT_MAX, &id) == 0 &&
		    vdm_nvml_type_name(*nvml, (unsigned)id, name, sizeof(name)) == 0)
			vg->type = vdm_gpu_add_type(g, vg->type_id, name);
	}
	for (size_t t = 0; t < g->n_types; t++) {
		long id;
		if (vdm_parse_long(g->types[t].id, 10, 0, UINT_MAX, &id) < 0)
			continue;
		int max = vdm_nvml_type_max_instances(*nvml, g->addr, (unsigned)id);
		if (max >= 0)
			g->types[t].max_instances = max;
	}
	int mode = vdm_nvml_mixed_size_mode(*nvml, g->addr);
	if (mode >= 0)
		g->mixed_size = mode;
}

static int scan_gpu(struct vdm_host *h, struct vdm_gpu *g, struct vdm_nvml **nvml, bool *nvml_tried)
{
	struct vdm_ctx *ctx = h->ctx;
	char rel[VDM_PATH_MAX + 64];
	const struct vdm_vf **vfs = NULL;
	int n = list_vfs(h, g, &vfs);
	if (n <= 0) {
		free(vfs);
		return 0;
	}
	int *cur = vdm_xcalloc((size_t)n, sizeof(int));
	bool vfio = false;
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s/nvidia", vfs[i]->dir);
		vdm_root_cache_dir(ctx, rel); /* current_vgpu_type, creatable_vgpu_types */
		snprintf(rel, sizeof(rel), "%s/nvidia/current_vgpu_type", vfs[i]->dir);
		int rc = vdm_sysfs_read_int(ctx, rel, &cur[i]);
		if (rc == -ENOENT && !vfio)
			break; /* not this framework */
		if (rc == 0 && cur[i] < 0)
			rc = -ERANGE;
		if (rc < 0) {
			/* Never taken for a free VF: the GPU is refused by plans. */
			if (!g->unreadable)
				g->unreadable = vdm_unreadable(ctx, rel, rc);
			cur[i] = -1;
		}
		vfio = true;
	}
	if (vfio) {
		g->fw = VDM_FW_VFIO;
		g->be = &vdm_backend_vfio;
		g->mixed_size = -1;
		for (int i = 0; i < n; i++)
			vdm_gpu_add_parent(g, vfs[i]->addr, vfs[i]->dir);
		/* Types: every free VF offers the same list; read lists until one
		 * is not empty, then the cache, then NVML for what is still unnamed. */
		for (int i = 0; i < n; i++) {
			if (cur[i] != 0)
				continue;
			int rc = read_creatable(h, g, vfs[i]->dir, true, NULL);
			if (rc < 0 && !g->unreadable)
				g->unreadable = vdm_xstrdup(h->error);
			if (rc != 0)
				break;
		}
		size_t cached = cache_load(h, g);
		for (int i = 0; i < n; i++) {
			if (cur[i] == 0)
				continue;
			struct vdm_parent *p = &g->parents[i];
			if (cur[i] < 0) { /* unknown: held, but by nothing we can name */
				p->n_vgpus++;
				continue;
			}
			struct vdm_vgpu *v = vdm_gpu_add_vgpu(g);
			snprintf(v->id, sizeof(v->id), "%s", p->addr);
			v->parent = p;
			v->type_id = vdm_strdupf("%d", cur[i]);
			v->type = vdm_gpu_type_by_id(g, v->type_id);
			p->n_vgpus++;
		}
		nvml_enrich(h, g, nvml, nvml_tried);
		for (size_t t = 0; t < g->n_types; t++)
			g->types[t].fb_mib = name_fb_mib(g->types[t].name);
		if (g->n_types > cached && !vdm_ctx_read_only(h->ctx))
			cache_store(h, g);
	}
	free(cur);
	free(vfs);
	return 0;
}

static int vfio_scan(struct vdm_host *h)
{
	struct vdm_nvml *nvml = NULL;
	bool tried = false;
	int rc = 0;
	for (size_t i = 0; i < h->n_gpus && rc == 0; i++)
		if (h->gpus[i].fw == VDM_FW_NONE && h->gpus[i].sriov)
			rc = scan_gpu(h, &h->gpus[i], &nvml, &tried);
	vdm_nvml_close(nvml);
	return rc;
}

/* 1 if the VF can take the type now (it is in its creatable list), else 0.
 * The list is read once per VF and answers for every type. */
static int vfio_available(struct vdm_host *h, struct vdm_parent *p, int type)
{
	if (p->n_vgpus > 0)
		return 0;
	int *avail = vdm_xcalloc(p->gpu->n_types ? p->gpu->n_types : 1, sizeof(int));
	int rc = read_creatable(h, p->gpu, p->dir, false, avail);
	if (rc >= 0)
		memcpy(p->avail, avail, p->gpu->n_types * sizeof(int));
	free(avail);
	return rc < 0 ? rc : p->avail[type];
}

static int vfio_create(struct vdm_host *h, struct vdm_parent *p, int type, const char *id)
{
	(void)id;
	char rel[VDM_PATH_MAX + 64];
	snprintf(rel, sizeof(rel), "%s/nvidia/current_vgpu_type", p->dir);
	return vdm_sysfs_write(h->ctx, rel, p->gpu->types[type].id);
}

static int vfio_destroy(struct vdm_host *h, const struct vdm_vgpu *v)
{
	char rel[VDM_PATH_MAX + 64];
	snprintf(rel, sizeof(rel), "%s/nvidia/current_vgpu_type", v->parent->dir);
	return vdm_sysfs_write(h->ctx, rel, "0");
}

const struct vdm_backend vdm_backend_vfio = {
	.name = "vfio",
	.uuid_ids = false,
	.scan = vfio_scan,
	.available = vfio_available,
	.create = vfio_create,
	.destroy = vfio_destroy,
};
