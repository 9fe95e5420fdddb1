/* SPDX-License-Identifier: Apache-2.0 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mig.h"
#include "sysfs.h"

#define JOURNAL_MAGIC "nvidia-vgpu-dm journal v1"

/* ---- lock ---- */

static void ensure_run_dir(struct vdm_ctx *ctx)
{
	char path[VDM_PATH_MAX];
	if (vdm_path(ctx, path, sizeof(path), "run") == 0)
		mkdir(path, 0755);
}

int vdm_lock(struct vdm_ctx *ctx, int timeout_ms, char **err)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), VDM_LOCK_FILE);
	if (rc < 0) {
		*err = vdm_strdupf("lock file path too long");
		return rc;
	}
	ensure_run_dir(ctx);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		*err = vdm_strdupf("cannot open the lock file %s: %s", path, strerror(errno));
		return rc;
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool said = false;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = -errno;
			*err = vdm_strdupf("cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return rc;
		}
		char holder[32] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &now);
		long waited = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
		if (waited >= timeout_ms) {
			*err = vdm_strdupf("another nvidia-vgpu-dm (pid %s) is applying a configuration: "
					   "%s is locked; gave up after %d s (--lock-timeout)",
					   *holder ? holder : "?", path, timeout_ms / 1000);
			close(fd);
			return -ETIMEDOUT;
		}
		if (!said) {
			vdm_info(ctx, "Waiting for another nvidia-vgpu-dm (pid %s) to finish",
				 *holder ? holder : "?");
			said = true;
		}
		usleep(100 * 1000);
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) != len)
		vdm_dbg(ctx, "cannot record our pid in %s", path);
	return fd;
}

void vdm_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- journal file ---- */

void vdm_snapshot_of_plan(const struct vdm_plan *plan, struct vdm_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = (int)getpid();
	for (size_t i = 0; i < plan->n_gpus; i++) {
		const struct vdm_gpu_plan *gp = &plan->gpus[i];
		if (gp->matches)
			continue;
		s->gpus = vdm_xrealloc(s->gpus, s->n_gpus + 1, sizeof(*s->gpus));
		snprintf(s->gpus[s->n_gpus++], VDM_ADDR_LEN, "%s", gp->gpu->addr);
		for (size_t v = 0; v < gp->gpu->n_vgpus; v++) {
			const struct vdm_vgpu *vg = &gp->gpu->vgpus[v];
			s->v = vdm_xrealloc(s->v, s->n + 1, sizeof(*s->v));
			struct vdm_snap_vgpu *sv = &s->v[s->n++];
			snprintf(sv->gpu, sizeof(sv->gpu), "%s", gp->gpu->addr);
			snprintf(sv->id, sizeof(sv->id), "%s", vg->id);
			snprintf(sv->type_id, sizeof(sv->type_id), "%s", vg->type_id);
			snprintf(sv->parent, sizeof(sv->parent), "%s", vg->parent->addr);
		}
		vdm_mig_snapshot(gp->gpu, s);
	}
}

int vdm_journal_write(struct vdm_ctx *ctx, const struct vdm_plan *plan, char **err)
{
	char path[VDM_PATH_MAX], tmp[VDM_PATH_MAX + 8];
	int rc = vdm_path(ctx, path, sizeof(path), VDM_JOURNAL_FILE);
	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	ensure_run_dir(ctx);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		*err = vdm_strdupf("cannot write the journal %s: %s", tmp, strerror(errno));
		return rc;
	}
	struct vdm_snapshot s;
	vdm_snapshot_of_plan(plan, &s);
	fprintf(f, "%s\npid %d\n", JOURNAL_MAGIC, s.pid);
	for (size_t g = 0; g < s.n_gpus; g++) {
		fprintf(f, "gpu %s\n", s.gpus[g]);
		for (size_t v = 0; v < s.n; v++)
			if (!strcmp(s.v[v].gpu, s.gpus[g]))
				fprintf(f, "vgpu %s %s %s %s\n", s.v[v].gpu, s.v[v].id, s.v[v].type_id,
					s.v[v].parent);
		vdm_mig_journal_write(f, &s, s.gpus[g]);
	}
	vdm_snapshot_free(&s);
	fprintf(f, "end\n");
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		rc = -errno;
		*err = vdm_strdupf("cannot write the journal %s: %s", path, strerror(errno));
		unlink(tmp);
		return rc ? rc : -EIO;
	}
	vdm_dbg(ctx, "journal written: %s", path);
	return 0;
}

int vdm_journal_remove(struct vdm_ctx *ctx)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), VDM_JOURNAL_FILE);
	if (rc < 0)
		return rc;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

bool vdm_journal_exists(struct vdm_ctx *ctx)
{
	return vdm_sysfs_exists(ctx, VDM_JOURNAL_FILE);
}

void vdm_snapshot_free(struct vdm_snapshot *s)
{
	free(s->gpus);
	free(s->v);
	free(s->mig);
	free(s->gi);
	memset(s, 0, sizeof(*s));
}

/* Read a journal; 0 none, 1 read, -errno broken (with *err). */
static int journal_read(struct vdm_ctx *ctx, struct vdm_snapshot *s, char **err)
{
	char path[VDM_PATH_MAX], line[512];
	memset(s, 0, sizeof(*s));
	if (vdm_path(ctx, path, sizeof(path), VDM_JOURNAL_FILE) < 0)
		return 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	bool magic = false, end = false;
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		struct vdm_snap_vgpu v;
		char gpu[VDM_ADDR_LEN];
		if (lineno == 1) {
			magic = !strcmp(line, JOURNAL_MAGIC);
			if (!magic)
				break;
		} else if (sscanf(line, "pid %d", &s->pid) == 1) {
			continue;
		} else if (sscanf(line, "gpu %31s", gpu) == 1) {
			s->gpus = vdm_xrealloc(s->gpus, s->n_gpus + 1, sizeof(*s->gpus));
			snprintf(s->gpus[s->n_gpus++], VDM_ADDR_LEN, "%s", gpu);
		} else if (sscanf(line, "vgpu %31s %39s %31s %31s", v.gpu, v.id, v.type_id, v.parent) == 4) {
			s->v = vdm_xrealloc(s->v, s->n + 1, sizeof(*s->v));
			s->v[s->n++] = v;
		} else if (vdm_mig_journal_parse(line, s)) {
			continue;
		} else if (!strcmp(line, "end")) {
			end = true;
		} else {
			break;
		}
	}
	fclose(f);
	if (!magic || !end) {
		*err = vdm_strdupf("%s: not a complete journal (line %d); move it away after checking "
				   "the host with 'nvidia-vgpu-dm list'", path, lineno);
		vdm_snapshot_free(s);
		return -EINVAL;
	}
	return 1;
}

/* ---- restore ---- */

static bool snap_has_gpu(const struct vdm_snapshot *s, const char *addr)
{
	for (size_t i = 0; i < s->n_gpus; i++)
		if (!strcmp(s->gpus[i], addr))
			return true;
	return false;
}

static const struct vdm_vgpu *find_vgpu(const struct vdm_host *h, const struct vdm_snap_vgpu *sv)
{
	const struct vdm_gpu *g = vdm_host_gpu_by_addr((struct vdm_host *)h, sv->gpu);
	for (size_t v = 0; g && v < g->n_vgpus; v++)
		if (!strcmp(g->vgpus[v].id, sv->id))
			return &g->vgpus[v];
	return NULL;
}

static bool same(const struct vdm_vgpu *v, const struct vdm_snap_vgpu *sv)
{
	return !strcmp(v->type_id, sv->type_id) && !strcmp(v->parent->addr, sv->parent);
}

static bool in_snapshot(const struct vdm_snapshot *s, const struct vdm_vgpu *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].id, v->id) && same(v, &s->v[i]))
			return true;
	return false;
}

static int rescan(struct vdm_host **host, char **err)
{
	struct vdm_host *now;
	int rc = vdm_host_scan((*host)->ctx, &now, err);
	if (rc < 0)
		return rc;
	vdm_host_free(*host);
	*host = now;
	return 0;
}

int vdm_restore(struct vdm_host **host, const struct vdm_snapshot *s, char **err)
{
	struct vdm_ctx *ctx = (*host)->ctx;
	int failed = 0;
	/* 1: remove every vGPU the snapshot does not have (or has otherwise). */
	for (size_t i = 0; i < (*host)->n_gpus; i++) {
		struct vdm_gpu *g = &(*host)->gpus[i];
		if (!snap_has_gpu(s, g->addr))
			continue;
		for (size_t v = 0; v < g->n_vgpus; v++)
			if (!in_snapshot(s, &g->vgpus[v])) {
				int rc = g->be->destroy(*host, &g->vgpus[v]);
				vdm_dbg(ctx, "restore: remove %s: %s", g->vgpus[v].id, rc ? strerror(-rc) : "ok");
				failed += rc < 0;
			}
	}
	int rc = rescan(host, err);
	if (rc < 0)
		return rc;
	/* 1b: MIG mode, VFs and GPU instances as they were. */
	rc = vdm_mig_restore(host, s, &failed, err);
	if (rc < 0)
		return rc;
	/* 2: create what is missing, with its id, type and parent. */
	for (size_t i = 0; i < s->n; i++) {
		if (find_vgpu(*host, &s->v[i]))
			continue;
		struct vdm_gpu *g = vdm_host_gpu_by_addr(*host, s->v[i].gpu);
		struct vdm_parent *p = NULL;
		int type = -1;
		for (size_t k = 0; g && k < g->n_parents; k++)
			if (!strcmp(g->parents[k].addr, s->v[i].parent))
				p = &g->parents[k];
		for (size_t t = 0; g && t < g->n_types; t++)
			if (!strcmp(g->types[t].id, s->v[i].type_id))
				type = (int)t;
		rc = p && type >= 0 ? g->be->create(*host, p, type, s->v[i].id) : -ENOENT;
		vdm_dbg(ctx, "restore: create %s (%s) on %s: %s", s->v[i].id, s->v[i].type_id,
			s->v[i].parent, rc ? strerror(-rc) : "ok");
		failed += rc < 0;
	}
	rc = rescan(host, err);
	if (rc < 0)
		return rc;
	/* 3: check. */
	size_t have = 0;
	for (size_t i = 0; i < (*host)->n_gpus; i++) {
		const struct vdm_gpu *g = &(*host)->gpus[i];
		if (snap_has_gpu(s, g->addr))
			have += g->n_vgpus;
	}
	bool ok = have == s->n;
	for (size_t i = 0; ok && i < s->n; i++) {
		const struct vdm_vgpu *v = find_vgpu(*host, &s->v[i]);
		ok = v && same(v, &s->v[i]);
	}
	ok = ok && vdm_mig_restored(*host, s);
	if (!ok) {
		*err = vdm_strdupf("could not restore the vGPUs (and GPU instances) as they were (%d step%s failed)", failed,
				   failed == 1 ? "" : "s");
		return -EIO;
	}
	return 0;
}

int vdm_journal_recover(struct vdm_host **host, char **err)
{
	struct vdm_ctx *ctx = (*host)->ctx;
	struct vdm_snapshot s;
	int rc = journal_read(ctx, &s, err);
	if (rc <= 0)
		return rc;
	vdm_warn(ctx, "an earlier apply (pid %d) did not finish: restoring the %zu GPU%s it was "
		 "changing to their state before it (%zu vGPU%s)", s.pid, s.n_gpus,
		 s.n_gpus == 1 ? "" : "s", s.n, s.n == 1 ? "" : "s");
	rc = vdm_restore(host, &s, err);
	vdm_snapshot_free(&s);
	if (rc < 0) {
		char *msg = vdm_strdupf("recovering from an interrupted apply: %s; the journal is kept",
					*err);
		free(*err);
		*err = msg;
		return rc;
	}
	vdm_journal_remove(ctx);
	return 1;
}
