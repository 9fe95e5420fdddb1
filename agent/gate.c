/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GPU Operator's vGPU-manager gate, kept open while we hold its validator
 * paused.
 *
 * Under the operator, this agent's pod starts only once its init container
 * finds /run/nvidia/validations/vgpu-manager-ready (or host-vgpu-manager-ready)
 * on the host; the sandbox validator writes them. Pausing the validator (as
 * every layout change does, reference §1.6) runs the validator's preStop,
 * `rm -f` of every file in /run/nvidia/validations, the gate too. An agent pod
 * that dies then (a force delete, an eviction, a crash of the pod) is
 * replaced by one whose init container waits for a file only the paused
 * validator would write, and nothing un-pauses it: the node is wedged
 * (gpu-operator#2845, reference §3).
 *
 * So from the moment we pause the operands until we restore them, the gate
 * files that were there before are put back as soon as they go (inotify on
 * the directory, and a look every 200 ms). They state a fact the validator
 * had checked and that our pause did not change (the vGPU Manager is
 * there); the validator rewrites them when it runs again. A new agent pod
 * then gets past its init container, and its first reconcile restores the
 * paused labels. Files that were not there are never made.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

static const char *const gate_names[] = {"vgpu-manager-ready", "host-vgpu-manager-ready"};
#define N_GATES (sizeof(gate_names) / sizeof(gate_names[0]))
#define GATE_MAX 4096

struct gate {
	struct agent *a;
	char *dir;                 /* the host's /run/nvidia/validations */
	char *data[N_GATES];       /* content of each gate file at pause; NULL: absent */
	size_t len[N_GATES];
	int stop[2];               /* a pipe: written to stop the thread */
	pthread_t thread;
};

/* The host's /run/nvidia/validations, under the host root (HOST_ROOT_MOUNT,
 * /host in a pod, / on the host itself; base/ctx.h). */
static char *gate_dir(struct agent *a)
{
	const char *root = vdm_ctx_host_root(a->ctx);
	return vdm_strdupf("%s/run/nvidia/validations", strcmp(root, "/") ? root : "");
}

static char *read_small(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char *buf = malloc(GATE_MAX);
	ssize_t n = buf ? read(fd, buf, GATE_MAX) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

/* Put back every held gate file that is gone: written beside it, renamed in. */
static void gate_restore(struct gate *g)
{
	for (size_t i = 0; i < N_GATES; i++) {
		if (!g->data[i])
			continue;
		char *path = vdm_strdupf("%s/%s", g->dir, gate_names[i]);
		struct stat st;
		if (lstat(path, &st) == 0 || errno != ENOENT) {
			free(path);
			continue;
		}
		char *tmp = vdm_strdupf("%s/.%s.vgpu-dm", g->dir, gate_names[i]);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		bool ok = fd >= 0 && write(fd, g->data[i], g->len[i]) == (ssize_t)g->len[i];
		if (fd >= 0)
			ok = close(fd) == 0 && ok;
		if (ok && rename(tmp, path) == 0) {
			vdm_info(g->a->ctx, "put %s back (the paused validator's preStop removed it; "
				 "a new agent pod's init container waits for it)", path);
		} else {
			vdm_err(g->a->ctx, "cannot put %s back: %s", path, strerror(errno));
			unlink(tmp);
		}
		free(tmp);
		free(path);
	}
}

static void *gate_main(void *ud)
{
	struct gate *g = ud;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in >= 0 && inotify_add_watch(in, g->dir, IN_DELETE | IN_MOVED_FROM) < 0) {
		close(in);
		in = -1;
	}
	for (;;) {
		gate_restore(g);
		struct pollfd p[2] = {{.fd = g->stop[0], .events = POLLIN}, {.fd = in, .events = POLLIN}};
		int n = poll(p, in >= 0 ? 2 : 1, 200);
		if (n > 0 && p[0].revents)
			break;
		if (n > 0 && in >= 0 && p[1].revents) {
			char buf[4096];
			while (read(in, buf, sizeof(buf)) > 0) {
			}
		}
	}
	if (in >= 0)
		close(in);
	return NULL;
}

static void gate_free(struct gate *g)
{
	for (size_t i = 0; i < N_GATES; i++)
		free(g->data[i]);
	free(g->dir);
	free(g);
}

void gate_hold(struct agent *a)
{
	if (a->gate)
		return;
	struct gate *g = calloc(1, sizeof(*g));
	if (!g)
		return;
	g->a = a;
	g->dir = gate_dir(a);
	bool any = false;
	for (size_t i = 0; i < N_GATES; i++) {
		char *path = vdm_strdupf("%s/%s", g->dir, gate_names[i]);
		g->data[i] = read_small(path, &g->len[i]);
		any |= g->data[i] != NULL;
		free(path);
	}
	if (!any) { /* no gate here (not under the operator, or not yet validated) */
		gate_free(g);
		return;
	}
	if (pipe2(g->stop, O_CLOEXEC) < 0) {
		gate_free(g);
		return;
	}
	if (pthread_create(&g->thread, NULL, gate_main, g) != 0) {
		close(g->stop[0]);
		close(g->stop[1]);
		gate_free(g);
		return;
	}
	vdm_dbg(a->ctx, "holding the vGPU-manager gate in %s open while the operands are paused", g->dir);
	a->gate = g;
}

void gate_release(struct agent *a)
{
	struct gate *g = a->gate;
	if (!g)
		return;
	if (write(g->stop[1], "x", 1) < 0)
		vdm_err(a->ctx, "cannot stop the gate keeper: %s", strerror(errno));
	pthread_join(g->thread, NULL);
	close(g->stop[0]);
	close(g->stop[1]);
	gate_free(g);
	a->gate = NULL;
}
