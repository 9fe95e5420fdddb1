/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device nodes and a synthesized /proc, so that "is this vGPU in use by a
 * VM?" can be tested:
 *
 *  - dev/vfio/vfio, dev/vfio/<group> (an mdev vGPU's IOMMU group, or a vfio
 *    VF's) and dev/vfio/devices/vfio<N> (a vfio VF) are regular files that
 *    any process can open; an open handle counts as holding the device, as
 *    QEMU does.  Reads are empty, writes are accepted and dropped.
 *  - proc/<pid>/ exists while that process holds a node open:
 *    fd/<n> -> /dev/vfio/<group> (absolute, as the real /proc shows it;
 *    "... (deleted)" once the node is gone), cmdline and comm.
 *
 * <pid> is the thread-group id of the opener (FUSE reports the thread).
 * <n> is the lowest number >= 3 free among that process's handles here: not
 * the real fd number, which FUSE does not tell.  cmdline and comm are read
 * from the real /proc/<pid> while the same process (same start time) lives,
 * so an exec after the open (bash: `sleep 30 3<>node &`) shows the new
 * program; otherwise the copy taken at the first open is shown.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define FIRST_FD 3

/* ---- the real /proc ---------------------------------------------------------- */

static bool read_real(const char *path, struct strbuf *out)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	sb_reset(out);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_append(out, buf, (size_t)n);
	close(fd);
	return n == 0;
}

static int real_tgid(int pid)
{
	struct strbuf sb = { 0 };
	char path[64];
	int tgid = pid;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_real(path, &sb)) {
		const char *p = strstr(sb.buf, "\nTgid:");
		if (p)
			tgid = atoi(p + 6);
	}
	sb_free(&sb);
	return tgid > 0 ? tgid : pid;
}

/* Field 22 of /proc/<pid>/stat; 0 if unknown. */
static unsigned long long real_starttime(int pid)
{
	struct strbuf sb = { 0 };
	char path[64];
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_real(path, &sb) && sb.buf) {
		const char *p = strrchr(sb.buf, ')'); /* comm may hold spaces and parens */
		for (int field = 2; p && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			start = strtoull(p + 1, NULL, 10);
	}
	sb_free(&sb);
	return start;
}

/* ---- proc/<pid> -------------------------------------------------------------------- */

static bool same_process(const struct sim_proc *p)
{
	return p->starttime && real_starttime(p->pid) == p->starttime;
}

/* which: "cmdline" or "comm" */
static void proc_attr(const struct sim_proc *p, const char *which, const char *copy, size_t copy_len,
		      struct strbuf *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", p->pid, which);
	if (same_process(p) && read_real(path, out) && out->len)
		return;
	sb_reset(out);
	sb_append(out, copy, copy_len);
}

static int cmdline_show(struct node *n, struct strbuf *out)
{
	const struct sim_proc *p = n->data;

	proc_attr(p, "cmdline", p->cmdline, p->cmdline_len, out);
	return 0;
}

static const struct file_ops cmdline_ops = { .show = cmdline_show };

static int comm_show(struct node *n, struct strbuf *out)
{
	const struct sim_proc *p = n->data;

	proc_attr(p, "comm", p->comm, strlen(p->comm), out);
	return 0;
}

static const struct file_ops comm_ops = { .show = comm_show };

static struct sim_proc *proc_get(struct sim *s, int pid)
{
	for (size_t i = 0; i < s->procs.n; i++) {
		struct sim_proc *p = s->procs.v[i];
		if (p->pid == pid)
			return p;
	}

	struct sim_proc *p = xcalloc(1, sizeof(*p));
	struct strbuf sb = { 0 };
	char path[64];

	p->sim = s;
	p->pid = pid;
	p->starttime = real_starttime(pid);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (read_real(path, &sb) && sb.len) {
		p->cmdline = xmalloc(sb.len);
		memcpy(p->cmdline, sb.buf, sb.len);
		p->cmdline_len = sb.len;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	p->comm = read_real(path, &sb) && sb.len ? xstrdup(sb.buf) : xstrdup("?\n");
	sb_free(&sb);

	snprintf(path, sizeof(path), "%d", pid);
	p->dir = tree_mkdir(&s->tree, s->proc, path);
	p->dir->perm = 0555;
	tree_file(&s->tree, p->dir, "cmdline", 0444, &cmdline_ops, p);
	tree_file(&s->tree, p->dir, "comm", 0444, &comm_ops, p);
	p->fd_dir = tree_mkdir(&s->tree, p->dir, "fd");
	p->fd_dir->perm = 0500;
	pv_push(&s->procs, p);
	return p;
}

static void proc_free(struct sim_proc *p)
{
	pv_free(&p->holds);
	free(p->cmdline);
	free(p->comm);
	free(p);
}

static unsigned lowest_free_fd(const struct sim_proc *p)
{
	for (unsigned fd = FIRST_FD;; fd++) {
		size_t i = 0;
		while (i < p->holds.n && ((const struct sim_hold *)p->holds.v[i])->fd != fd)
			i++;
		if (i == p->holds.n)
			return fd;
	}
}

/* ---- device nodes ---------------------------------------------------------------- */

static int dev_show(struct node *n, struct strbuf *out)
{
	(void)n;
	(void)out;
	return 0;
}

static int dev_store(struct node *n, const char *buf, size_t len)
{
	(void)n;
	(void)buf;
	(void)len;
	return 0;
}

static int dev_open(struct node *n, int accmode, pid_t pid, void **handle)
{
	struct sim_devnode *dn = n->data;
	struct sim *s = dn->sim;
	struct sim_hold *h = xcalloc(1, sizeof(*h));

	h->sim = s;
	h->dn = dn;
	dn->nopen++;
	if (pid > 0) {
		struct sim_proc *p = proc_get(s, real_tgid((int)pid));
		char name[16];

		h->proc = p;
		h->fd = lowest_free_fd(p);
		snprintf(name, sizeof(name), "%u", h->fd);
		h->link = tree_link_text(&s->tree, p->fd_dir, name, dn->path);
		/* lr-x------, l-wx------ or lrwx------ like /proc/<pid>/fd */
		h->link->perm = accmode == O_RDONLY ? 0500 : accmode == O_WRONLY ? 0300 : 0700;
		pv_push(&p->holds, h);
	}
	pv_push(&s->holds, h);
	*handle = h;
	return 0;
}

static void dev_close(void *handle)
{
	struct sim_hold *h = handle;
	struct sim *s = h->sim;
	struct sim_proc *p = h->proc;

	if (h->dn)
		h->dn->nopen--;
	if (p) {
		tree_remove(&s->tree, h->link);
		pv_remove(&p->holds, h);
		if (p->holds.n == 0) {
			tree_remove(&s->tree, p->dir);
			pv_remove(&s->procs, p);
			proc_free(p);
		}
	}
	pv_remove(&s->holds, h);
	free(h);
}

static void dev_release(void *data)
{
	struct sim_devnode *dn = data;

	free(dn->path);
	free(dn);
}

static const struct file_ops dev_ops = {
	.show = dev_show,
	.store = dev_store,
	.release = dev_release,
	.open = dev_open,
	.close = dev_close,
};

struct sim_devnode *devnode_new(struct sim *s, struct node *dir, const char *name)
{
	struct sim_devnode *dn = xcalloc(1, sizeof(*dn));

	dn->sim = s;
	dn->node = tree_file(&s->tree, dir, name, 0600, &dev_ops, dn);
	char *rel = node_path(dn->node);
	dn->path = xasprintf("/%s", rel);
	free(rel);
	return dn;
}

void devnode_remove(struct sim_devnode *dn)
{
	struct sim *s = dn->sim;

	for (size_t i = 0; i < s->holds.n; i++) {
		struct sim_hold *h = s->holds.v[i];
		if (h->dn != dn)
			continue;
		h->dn = NULL;
		if (h->link) {
			char *stale = xasprintf("%s (deleted)", dn->path);
			free(h->link->target);
			h->link->target = stale;
		}
	}
	tree_remove(&s->tree, dn->node); /* frees dn */
}

void devices_init(struct sim *s)
{
	struct tree *t = &s->tree;

	s->proc = tree_mkdirs(t, t->root, "proc"); /* a replayed capture has proc/ already */
	s->proc->perm = 0555;
	s->dev_vfio = tree_mkdirs(t, t->root, "dev/vfio");
	s->vfio_container = devnode_new(s, s->dev_vfio, "vfio");
	if (s->any_vfio)
		s->dev_vfio_devices = tree_mkdirs(t, s->dev_vfio, "devices");
}

void devices_fini(struct sim *s)
{
	/* handles still open at unmount; the nodes go with the tree */
	for (size_t i = 0; i < s->holds.n; i++)
		free(s->holds.v[i]);
	pv_free(&s->holds);
	for (size_t i = 0; i < s->procs.n; i++)
		proc_free(s->procs.v[i]);
	pv_free(&s->procs);
}
