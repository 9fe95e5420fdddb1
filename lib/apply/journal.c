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

#include "mig_apply.h"
#include "base/base.h"

#define JOURNAL_MAGIC "nvidia-vgpu-dm journal v2"

/* ---- lock ---- */

static void ensure_run_dir(struct vdm_ctx *ctx)
{
	vdm_root_mkdirs(ctx, "run", 0755);
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
	/* Never through a planted symlink; 0644 whatever the umask. */
	int fd = vdm_root_create(ctx, VDM_LOCK_FILE, O_RDWR, 0644);
	if (fd < 0) {
		bool denied = fd == -EACCES || fd == -EPERM || fd == -EROFS;
		const char *root = vdm_ctx_root(ctx);
		bool real = !root || !*root || !strcmp(root, "/");
		*err = vdm_strdupf("cannot open the lock file %s: %s%s%s%s", path,
				   fd == -ELOOP ? "it is a symbolic link" : strerror(-fd),
				   denied ? (real ? "; apply changes the host's vGPUs and needs root (sudo)"
						  : "; apply needs root, or write access to the root it is given: ")
					  : "",
				   denied && !real ? root : "", denied && !real ? " (--sysfs-root)" : "");
		return fd;
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
		for (size_t o = 0; o < gp->n_ops; o++) {
			const struct vdm_op *op = &gp->ops[o];
			if (op->kind != VDM_OP_CREATE)
				continue;
			s->creates = vdm_xrealloc(s->creates, s->n_creates + 1, sizeof(*s->creates));
			struct vdm_snap_vgpu *sv = &s->creates[s->n_creates++];
			snprintf(sv->gpu, sizeof(sv->gpu), "%s", gp->gpu->addr);
			snprintf(sv->id, sizeof(sv->id), "%s", op->id);
			snprintf(sv->type_id, sizeof(sv->type_id), "%s", gp->gpu->types[op->type].id);
			snprintf(sv->parent, sizeof(sv->parent), "%s", op->parent->addr);
		}
	}
}

int vdm_journal_write(struct vdm_ctx *ctx, const struct vdm_plan *plan, char **err)
{
	char path[VDM_PATH_MAX];
	int rc = vdm_path(ctx, path, sizeof(path), VDM_JOURNAL_FILE);
	if (rc < 0)
		return rc;
	ensure_run_dir(ctx);
	/* A new file (O_EXCL, never through a symlink), 0600 whatever the umask.
	 * A journal.new left by a dead run is only half written: away with it. */
	vdm_root_unlink(ctx, VDM_JOURNAL_FILE ".new");
	int fd = vdm_root_create(ctx, VDM_JOURNAL_FILE ".new", O_WRONLY | O_EXCL, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		rc = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		*err = vdm_strdupf("cannot write the journal %s.new: %s", path, strerror(-rc));
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
		for (size_t v = 0; v < s.n_creates; v++)
			if (!strcmp(s.creates[v].gpu, s.gpus[g]))
				fprintf(f, "create %s %s %s %s\n", s.creates[v].gpu, s.creates[v].id,
					s.creates[v].type_id, s.creates[v].parent);
	}
	vdm_snapshot_free(&s);
	fprintf(f, "end\n");
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = false;
	rc = ok ? vdm_root_rename(ctx, VDM_JOURNAL_FILE ".new", VDM_JOURNAL_FILE) : -EIO;
	if (rc < 0) {
		*err = vdm_strdupf("cannot write the journal %s: %s", path, strerror(-rc));
		vdm_root_unlink(ctx, VDM_JOURNAL_FILE ".new");
		return rc;
	}
	vdm_dbg(ctx, "journal written: %s", path);
	return 0;
}

int vdm_journal_remove(struct vdm_ctx *ctx)
{
	int rc = vdm_root_unlink(ctx, VDM_JOURNAL_FILE);
	return rc == -ENOENT ? 0 : rc;
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
	free(s->creates);
	memset(s, 0, sizeof(*s));
}

/* Split line into exactly n space-separated words of at most len-1 chars. */
static bool words(char *line, char **w, int n, size_t len)
{
	char *save = NULL, *t = strtok_r(line, " ", &save);
	for (int i = 0; i < n; i++, t = strtok_r(NULL, " ", &save))
		if (!t || strlen(t) >= len)
			return false;
		else
			w[i] = t;
	return t == NULL;
}

static void add_line(struct vdm_snap_vgpu **v, size_t *n, char **w)
{
	*v = vdm_xrealloc(*v, *n + 1, sizeof(**v));
	struct vdm_snap_vgpu *sv = &(*v)[(*n)++];
	snprintf(sv->gpu, sizeof(sv->gpu), "%s", w[1]);
	snprintf(sv->id, sizeof(sv->id), "%s", w[2]);
	snprintf(sv->type_id, sizeof(sv->type_id), "%s", w[3]);
	snprintf(sv->parent, sizeof(sv->parent), "%s", w[4]);
}

/* Read a journal; 0 none, 1 read, -errno refused (with *err). Only a regular
 * file owned by root (or by the user running the tool) that no one else can
 * write is believed: it decides what the next apply removes. */
int vdm_journal_read(struct vdm_ctx *ctx, struct vdm_snapshot *s, char **err)
{
	char path[VDM_PATH_MAX], line[512];
	memset(s, 0, sizeof(*s));
	if (vdm_path(ctx, path, sizeof(path), VDM_JOURNAL_FILE) < 0)
		return 0;
	int fd = vdm_root_open(ctx, VDM_JOURNAL_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd == -ENOENT)
		return 0;
	struct stat st;
	const char *why = NULL;
	if (fd < 0)
		why = fd == -ELOOP ? "it is a symbolic link" : strerror(-fd);
	else if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		why = "not owned by root";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = "writable by others than its owner";
	FILE *f = why ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		*err = vdm_strdupf("%s: refusing the journal: %s; move it away after checking the host "
				   "with 'nvidia-vgpu-dm list'", path, why ? why : strerror(errno));
		return -EPERM;
	}
	bool magic = false, end = false, bad = false;
	int lineno = 0;
	while (!bad && !end && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		char *w[5];
		long pid;
		if (lineno == 1)
			bad = !(magic = !strcmp(line, JOURNAL_MAGIC));
		else if (!strncmp(line, "pid ", 4))
			bad = vdm_parse_long(line + 4, 10, 1, 0x7fffffff, &pid) < 0 || (s->pid = (int)pid) == 0;
		else if (!strncmp(line, "gpu ", 4)) {
			uint32_t key;
			bad = vdm_pci_addr_parse(line + 4, &key) < 0 || strlen(line + 4) >= VDM_ADDR_LEN;
			if (!bad) {
				s->gpus = vdm_xrealloc(s->gpus, s->n_gpus + 1, sizeof(*s->gpus));
				snprintf(s->gpus[s->n_gpus++], VDM_ADDR_LEN, "%s", line + 4);
			}
		} else if (!strncmp(line, "vgpu ", 5) || !strncmp(line, "create ", 7)) {
			bool create = line[0] == 'c';
			bad = !words(line, w, 5, VDM_ID_LEN) || strlen(w[1]) >= VDM_ADDR_LEN ||
			      strlen(w[3]) >= sizeof(s->v->type_id) || strlen(w[4]) >= VDM_ADDR_LEN;
			if (!bad && create)
				add_line(&s->creates, &s->n_creates, w);
			else if (!bad)
				add_line(&s->v, &s->n, w);
		} else if (!strncmp(line, "mig ", 4) || !strncmp(line, "gi ", 3))
			bad = vdm_mig_journal_parse(line, s, &why) < 0;
		else if (!strcmp(line, "end"))
			end = true;
		else
			bad = true;
	}
	bool trailing = end && fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!magic || !end || bad || trailing) {
		*err = vdm_strdupf("%s: not a complete %s (line %d%s%s); move it away after checking "
				   "the host with 'nvidia-vgpu-dm list'", path,
				   lineno == 1 && !magic ? "journal of this version" : "journal", lineno,
				   bad && why ? ": " : "", bad && why ? why : "");
		vdm_snapshot_free(s);
		return -EINVAL;
	}
	return 1;
}

static bool in_list(const struct vdm_snap_vgpu *v, size_t n, const char *gpu, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].gpu, gpu) && !strcmp(v[i].id, id))
			return true;
	return false;
}

/* Does the journal describe this host, as a run that died midway left it?
 * Every GPU it names is here, every line's GPU and parent are, and every
 * vGPU on those GPUs now is one it recorded or one that run was creating.
 * 0, or -EINVAL with *err naming what does not fit. */
static int journal_check(const struct vdm_host *h, const struct vdm_snapshot *s, const char *path,
			 char **err)
{
	for (size_t i = 0; i < s->n_gpus; i++)
		if (!vdm_host_gpu_by_addr((struct vdm_host *)h, s->gpus[i])) {
			*err = vdm_strdupf("%s names GPU %s, which this host does not have", path,
					   s->gpus[i]);
			return -EINVAL;
		}
	for (int pass = 0; pass < 2; pass++) {
		const struct vdm_snap_vgpu *v = pass ? s->creates : s->v;
		size_t n = pass ? s->n_creates : s->n;
		for (size_t i = 0; i < n; i++) {
			const struct vdm_gpu *g = vdm_host_gpu_by_addr((struct vdm_host *)h, v[i].gpu);
			bool listed = false, parent = false;
			for (size_t k = 0; k < s->n_gpus; k++)
				listed |= !strcmp(s->gpus[k], v[i].gpu);
			for (size_t p = 0; g && p < g->n_parents; p++)
				parent |= !strcmp(g->parents[p].addr, v[i].parent);
			if (!listed || !parent) {
				*err = vdm_strdupf("%s: vGPU %s is recorded on %s of GPU %s, which %s", path,
						   v[i].id, v[i].parent, v[i].gpu,
						   !listed ? "the journal does not list"
							   : "is not a parent of that GPU here");
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < s->n_gpus; i++) {
		const struct vdm_gpu *g = vdm_host_gpu_by_addr((struct vdm_host *)h, s->gpus[i]);
		for (size_t v = 0; v < g->n_vgpus; v++) {
			const char *id = g->vgpus[v].id;
			if (in_list(s->v, s->n, g->addr, id) || in_list(s->creates, s->n_creates, g->addr, id))
				continue;
			*err = vdm_strdupf("%s does not describe this host: vGPU %s on GPU %d (%s) is "
					   "neither in the state it records nor one that run was creating",
					   path, id, g->index, g->addr);
			return -EINVAL;
		}
	}
	return 0;
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
	int rc = vdm_host_rescan(host, err);
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
	rc = vdm_host_rescan(host, err);
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

int vdm_journal_load(const struct vdm_host *h, struct vdm_snapshot *s, char **err)
{
	char path[VDM_PATH_MAX];
	vdm_path(h->ctx, path, sizeof(path), VDM_JOURNAL_FILE);
	int rc = vdm_journal_read(h->ctx, s, err);
	if (rc <= 0)
		return rc;
	rc = journal_check(h, s, path, err);
	if (rc < 0) {
		char *msg = vdm_strdupf("refusing the journal of an earlier apply: %s; move it away "
					"after checking the host with 'nvidia-vgpu-dm list'", *err);
		free(*err);
		*err = msg;
		vdm_snapshot_free(s);
		return rc;
	}
	return 1;
}

int vdm_journal_recover(struct vdm_host **host, char **err)
{
	struct vdm_ctx *ctx = (*host)->ctx;
	struct vdm_snapshot s;
	char path[VDM_PATH_MAX];
	vdm_path(ctx, path, sizeof(path), VDM_JOURNAL_FILE);
	int rc = vdm_journal_read(ctx, &s, err);
	if (rc <= 0)
		return rc;
	rc = journal_check(*host, &s, path, err);
	if (rc < 0) {
		char *msg = vdm_strdupf("refusing the journal of an earlier apply: %s; move it away "
					"after checking the host with 'nvidia-vgpu-dm list'", *err);
		free(*err);
		*err = msg;
		vdm_snapshot_free(&s);
		return rc;
	}
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
