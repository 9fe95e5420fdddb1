/* SPDX-License-Identifier: Apache-2.0 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"

extern char **environ;

/* Tools with a usual place outside $PATH. */
static const struct {
	const char *name, *path;
} defaults[] = {
	{"sriov-manage", VDM_SRIOV_MANAGE_PATH},
};

static bool valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

const char *vdm_tool_env_name(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "VGPU_DM_%s", name ? name : "");
	if (n < 0 || (size_t)n >= len)
		n = len ? (int)len - 1 : 0;
	for (char *p = buf + 8; p < buf + n; p++)
		*p = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
	return buf;
}

static int copy(char *path, size_t len, const char *s)
{
	if (strlen(s) >= len)
		return -ENAMETOOLONG;
	strcpy(path, s);
	return 0;
}

/* 0 if path is an executable regular file, else -errno. */
static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

static int search_path(const char *prog, char *path, size_t len)
{
	const char *p = getenv("PATH");
	if (!p || !*p)
		p = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int best = -ENOENT;
	while (*p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char cand[PATH_MAX];
		if (n && n + 1 + strlen(prog) < sizeof(cand)) {
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, prog);
			int rc = executable(cand);
			if (rc == 0)
				return copy(path, len, cand);
			if (rc == -EACCES)
				best = rc;
		}
		p += n + (end ? 1 : 0);
	}
	int rc = copy(path, len, prog);
	return rc < 0 ? rc : best;
}

static int explicit(const char *value, char *path, size_t len)
{
	if (!strchr(value, '/'))
		return search_path(value, path, len);
	int rc = copy(path, len, value);
	return rc < 0 ? rc : executable(path);
}

int vdm_tool_find(const char *name, char *path, size_t len, const char **how)
{
	static char env_how[80];
	const char *dummy;
	if (!how)
		how = &dummy;
	if (len)
		*path = 0;
	if (!valid_name(name))
		return -EINVAL;
	char var[80];
	vdm_tool_env_name(name, var, sizeof(var));
	const char *v = getenv(var);
	if (v && *v) {
		snprintf(env_how, sizeof(env_how), "%s", var);
		*how = env_how;
		return explicit(v, path, len);
	}
	const char *dir = getenv("VGPU_DM_TOOLS_DIR");
	if (dir && *dir) {
		*how = "VGPU_DM_TOOLS_DIR";
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof(cand), "%s/%s", dir, name) >= (int)sizeof(cand))
			return -ENAMETOOLONG;
		return explicit(cand, path, len);
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!strcmp(defaults[i].name, name)) {
			*how = "default";
			return explicit(defaults[i].path, path, len);
		}
	*how = "PATH";
	return search_path(name, path, len);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct sink {
	int fd;                 /* read end, -1 when closed */
	char *buf;
	size_t len, max;
	bool truncated;
};

/* Read what is there; returns false at EOF or error (fd closed). */
static bool drain(struct sink *s)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = read(s->fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			close(s->fd);
			s->fd = -1;
			return false;
		}
		size_t keep = s->len < s->max ? s->max - s->len : 0;
		if ((size_t)n > keep)
			s->truncated = true;
		else
			keep = (size_t)n;
		if (keep) {
			s->buf = vdm_xrealloc(s->buf, s->len + keep + 1, 1);
			memcpy(s->buf + s->len, tmp, keep);
			s->len += keep;
			s->buf[s->len] = 0;
		}
	}
}

/* Arrange the child's fd target; for a capture *wfd is the pipe's write end,
 * which the parent closes after the spawn. 0 or a positive errno. */
static int setup_stream(posix_spawn_file_actions_t *fa, enum vdm_exec_stream how, int target,
			struct sink *s, size_t max, int *wfd)
{
	s->fd = -1;
	s->max = max;
	if (how == VDM_EXEC_DISCARD)
		return posix_spawn_file_actions_addopen(fa, target, "/dev/null", O_WRONLY, 0);
	if (how != VDM_EXEC_CAPTURE)
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return errno;
	s->fd = p[0];
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	s->buf = vdm_xstrdup("");
	*wfd = p[1];
	return posix_spawn_file_actions_adddup2(fa, p[1], target);
}

int vdm_exec(const char *path, char *const argv[], const struct vdm_exec_opts *o,
	     struct vdm_exec_result *r, char **err)
{
	static const struct vdm_exec_opts none = {0};
	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
	const char *shown = argv && argv[0] ? argv[0] : path;
	size_t max = o->capture_max ? o->capture_max : 64 * 1024;
	int grace = o->kill_grace_ms > 0 ? o->kill_grace_ms : 1000;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigset_t none_set, all;
	sigemptyset(&none_set);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none_set);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	struct sink sinks[2] = {{.fd = -1}, {.fd = -1}};
	int wfd[2] = {-1, -1};
	int rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		rc = setup_stream(&fa, i ? o->err : o->out, i ? 2 : 1, &sinks[i], max, &wfd[i]);
	pid_t pid = -1;
	long start = now_ms();
	if (!rc)
		rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	for (int i = 0; i < 2; i++)
		if (wfd[i] >= 0)
			close(wfd[i]);
	if (rc) {
		for (int i = 0; i < 2; i++)
			if (sinks[i].fd >= 0)
				close(sinks[i].fd);
		free(sinks[0].buf);
		free(sinks[1].buf);
		if (err)
			*err = vdm_strdupf("cannot run %s: %s", shown, strerror(rc));
		return -rc;
	}

	/* Read the captured streams and wait for the child, at most to the deadline. */
	long deadline = o->timeout_ms > 0 ? start + o->timeout_ms : 0;
	long kill_at = 0;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			rc = errno; /* ECHILD: the caller lets the kernel reap children (SIGCHLD ignored) */
			break;
		}
		long now = now_ms();
		if (deadline && now >= deadline && !r->timed_out) {
			r->timed_out = true;
			kill(-pid, SIGTERM);
			kill_at = now + grace;
		}
		if (kill_at && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		}
		/* Poll the pipes (or just sleep) at most 50 ms, then look at the child again. */
		struct pollfd pf[2];
		int n = 0;
		for (int i = 0; i < 2; i++)
			if (sinks[i].fd >= 0)
				pf[n++] = (struct pollfd){.fd = sinks[i].fd, .events = POLLIN};
		int wait = 50;
		if (deadline && !r->timed_out && deadline - now < wait)
			wait = (int)(deadline - now);
		if (poll(pf, (nfds_t)n, wait < 0 ? 0 : wait) > 0)
			for (int i = 0; i < 2; i++)
				if (sinks[i].fd >= 0)
					drain(&sinks[i]);
	}
	r->elapsed_ms = now_ms() - start;
	/* What the child wrote before it ended; a grandchild keeping the pipe
	 * open is not waited for. */
	for (int i = 0; i < 2; i++)
		if (sinks[i].fd >= 0) {
			drain(&sinks[i]);
			if (sinks[i].fd >= 0)
				close(sinks[i].fd);
		}
	if (r->timed_out)
		kill(-pid, SIGKILL); /* what is left of its group */
	r->out = sinks[0].buf;
	r->out_len = sinks[0].len;
	r->out_truncated = sinks[0].truncated;
	r->err = sinks[1].buf;
	r->err_len = sinks[1].len;
	r->err_truncated = sinks[1].truncated;
	if (rc) {
		if (err)
			*err = vdm_strdupf("waiting for %s: %s", shown, strerror(rc));
		return -rc;
	}
	if (WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->signal = WTERMSIG(status);
	if (r->timed_out) {
		if (err) {
			char *how = vdm_exec_outcome(r);
			*err = vdm_strdupf("%s %s", shown, how);
			free(how);
		}
		return -ETIMEDOUT;
	}
	return 0;
}

void vdm_exec_result_free(struct vdm_exec_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *vdm_exec_outcome(const struct vdm_exec_result *r)
{
	if (r->timed_out)
		return vdm_strdupf("timed out after %d.%d s (killed)", r->timeout_ms / 1000,
				   (r->timeout_ms % 1000) / 100);
	if (r->signal)
		return vdm_strdupf("killed by signal %d (%s)", r->signal, strsignal(r->signal));
	return vdm_strdupf("exit status %d", r->exit_code);
}

static char *last_line(const char *s, size_t len)
{
	if (!s)
		return NULL;
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (!len)
		return NULL;
	size_t start = len;
	while (start && s[start - 1] != '\n')
		start--;
	size_t n = len - start > 200 ? 200 : len - start;
	char *line = vdm_xcalloc(n + 1, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[start + i];
		line[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	return line;
}

char *vdm_exec_last_line(const struct vdm_exec_result *r)
{
	char *l = last_line(r->err, r->err_len);
	return l ? l : last_line(r->out, r->out_len);
}
