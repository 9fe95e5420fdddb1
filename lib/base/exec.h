/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec: the one place where the tool finds and runs an external program
 * (sriov-manage, nvidia-smi, docker, systemctl, journalctl...). Nothing else
 * in the project calls fork, exec, system or popen.
 *
 * Finding a tool NAME (lower case letters, digits and '-'), first match wins:
 *   1. $VGPU_DM_<NAME>, NAME upper-cased with '-' as '_' (VGPU_DM_SRIOV_MANAGE,
 *      VGPU_DM_NVIDIA_SMI, VGPU_DM_DOCKER, VGPU_DM_SYSTEMCTL,
 *      VGPU_DM_JOURNALCTL...). A value with a '/' is the program's path; one
 *      without is a program name searched in $PATH (VGPU_DM_DOCKER=podman).
 *   2. $VGPU_DM_TOOLS_DIR: the program is $VGPU_DM_TOOLS_DIR/NAME, and only
 *      there (a tool missing from that directory is missing: tests use this to
 *      give a run exactly the tools they mean it to have).
 *   3. The tool's usual absolute path, for the tools that have one
 *      (sriov-manage: /usr/lib/nvidia/sriov-manage).
 *   4. NAME searched in $PATH (default PATH when unset:
 *      /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin).
 * Empty variables count as unset. Programs are not looked up under the
 * --sysfs-root: they are the machine's own.
 *
 * Running: posix_spawn with an empty signal mask and every signal at its
 * default disposition in the child, whatever the caller blocks or ignores (an
 * apply holds SIGTERM while it runs; its children must not inherit that). The
 * child gets its own process group, standard input from /dev/null, the
 * caller's environment, and standard output and error inherited, discarded or
 * captured (bounded). With a timeout the whole process group is sent SIGTERM
 * when it passes, and SIGKILL kill_grace_ms later if it is still there.
 */
#ifndef VGPUDM_EXEC_H
#define VGPUDM_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#define VDM_SRIOV_MANAGE_PATH "/usr/lib/nvidia/sriov-manage"

/* Find tool name as the header comment says. On success returns 0 with the
 * program's path in path (NUL-terminated, at most len bytes) and, if how is
 * not NULL, *how set to a static string saying where it came from: the
 * variable's name ("VGPU_DM_NVIDIA_SMI", "VGPU_DM_TOOLS_DIR"), "default" or
 * "PATH". Returns -ENOENT when it is not there (path then holds what was
 * tried: the explicit path, or the bare name after a $PATH search), -EACCES
 * when it is there but not executable, -EINVAL for a bad name, -ENAMETOOLONG. */
int vdm_tool_find(const char *name, char *path, size_t len, const char **how);

/* The variable vdm_tool_find reads first for name ("sriov-manage" ->
 * "VGPU_DM_SRIOV_MANAGE"), in buf of len bytes; returns buf. */
const char *vdm_tool_env_name(const char *name, char *buf, size_t len);

enum vdm_exec_stream {
	VDM_EXEC_INHERIT = 0,   /* the child writes where the caller does */
	VDM_EXEC_DISCARD,       /* /dev/null */
	VDM_EXEC_CAPTURE,       /* into vdm_exec_result.out / .err */
};

struct vdm_exec_opts {
	int timeout_ms;                 /* > 0: kill the child's group after this many ms; 0: no limit */
	int kill_grace_ms;              /* SIGTERM -> SIGKILL delay; 0 means 1000 */
	enum vdm_exec_stream out, err;  /* standard output, standard error */
	size_t capture_max;             /* bytes kept per captured stream; 0 means 64 KiB. More is
					   read and dropped (the child never blocks on a full pipe) */
};

struct vdm_exec_result {
	int exit_code;          /* 0..255 if it exited, else -1 */
	int signal;             /* the signal that ended it, else 0 */
	bool timed_out;         /* the timeout passed and the group was killed */
	int timeout_ms;         /* the timeout it had (0: none) */
	long elapsed_ms;        /* from spawn to reap */
	char *out, *err;        /* captured bytes, NUL-terminated (NULL if not captured) */
	size_t out_len, err_len;
	bool out_truncated, err_truncated;
};

/* Run argv (argv[0] is shown in messages; the program run is path) and wait
 * for it, at most o->timeout_ms. o may be NULL (inherit both streams, no
 * limit). r is always filled (free it with vdm_exec_result_free).
 * Returns 0 when the child ran and ended by itself (any exit status: look at
 * r), -ETIMEDOUT when it was killed at the timeout, or -errno when it could
 * not be started (-ENOENT, -EACCES, -ENOEXEC from the spawn); *err is then one
 * line naming the program and the reason. err may be NULL. */
int vdm_exec(const char *path, char *const argv[], const struct vdm_exec_opts *o,
	     struct vdm_exec_result *r, char **err);
void vdm_exec_result_free(struct vdm_exec_result *r);

/* "exit status 1", "killed by signal 9 (Killed)", "timed out after 1.5 s
 * (killed)" (the timeout, not the time the kill took): how a run ended, malloc'd. */
char *vdm_exec_outcome(const struct vdm_exec_result *r);
/* The last non-empty line of a captured stream (stderr, else stdout), at most
 * 200 bytes, malloc'd; NULL if there is none. For error messages. */
char *vdm_exec_last_line(const struct vdm_exec_result *r);

#endif
