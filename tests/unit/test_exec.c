/* SPDX-License-Identifier: Apache-2.0 */
/* exec: finding tools (variables, tools dir, default, PATH) and running them
 * with a clean signal state, captured output, a timeout that kills. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"

static char dir[64];

static void write_script(const char *name, const char *body, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, mode);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vgpudm-exec.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_script("nvidia-smi", "echo fake-smi", 0755);
	write_script("docker", "echo not executable", 0644);
	unsetenv("VGPU_DM_TOOLS_DIR");
	unsetenv("VGPU_DM_NVIDIA_SMI");
	unsetenv("VGPU_DM_SRIOV_MANAGE");
	unsetenv("VGPU_DM_DOCKER");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void env_names(void **state)
{
	(void)state;
	char b[64];
	assert_string_equal(vdm_tool_env_name("sriov-manage", b, sizeof(b)), "VGPU_DM_SRIOV_MANAGE");
	assert_string_equal(vdm_tool_env_name("nvidia-smi", b, sizeof(b)), "VGPU_DM_NVIDIA_SMI");
	assert_string_equal(vdm_tool_env_name("journalctl", b, sizeof(b)), "VGPU_DM_JOURNALCTL");
}

static void lookup_order(void **state)
{
	(void)state;
	char p[4096], want[256];
	const char *how;
	/* PATH, then the tools dir, then the variable. */
	setenv("PATH", dir, 1);
	snprintf(want, sizeof(want), "%s/nvidia-smi", dir);
	assert_int_equal(vdm_tool_find("nvidia-smi", p, sizeof(p), &how), 0);
	assert_string_equal(p, want);
	assert_string_equal(how, "PATH");
	setenv("PATH", "/usr/bin:/bin", 1);
	assert_int_equal(vdm_tool_find("nvidia-smi", p, sizeof(p), &how), -ENOENT);
	assert_string_equal(p, "nvidia-smi");
	setenv("VGPU_DM_TOOLS_DIR", dir, 1);
	assert_int_equal(vdm_tool_find("nvidia-smi", p, sizeof(p), &how), 0);
	assert_string_equal(p, want);
	assert_string_equal(how, "VGPU_DM_TOOLS_DIR");
	/* Only there: sh exists in PATH but not in the tools dir. */
	assert_int_equal(vdm_tool_find("sh", p, sizeof(p), &how), -ENOENT);
	/* Not executable. */
	assert_int_equal(vdm_tool_find("docker", p, sizeof(p), &how), -EACCES);
	setenv("VGPU_DM_NVIDIA_SMI", "/bin/true", 1);
	assert_int_equal(vdm_tool_find("nvidia-smi", p, sizeof(p), &how), 0);
	assert_string_equal(p, "/bin/true");
	assert_string_equal(how, "VGPU_DM_NVIDIA_SMI");
	/* A bare name in the variable is searched in PATH. */
	setenv("VGPU_DM_DOCKER", "true", 1);
	assert_int_equal(vdm_tool_find("docker", p, sizeof(p), &how), 0);
	assert_true(strcmp(p, "/usr/bin/true") == 0 || strcmp(p, "/bin/true") == 0);
	unsetenv("VGPU_DM_TOOLS_DIR");
	unsetenv("VGPU_DM_NVIDIA_SMI");
	unsetenv("VGPU_DM_DOCKER");
	/* The default path of sriov-manage. */
	assert_int_equal(vdm_tool_find("sriov-manage", p, sizeof(p), &how), -ENOENT);
	assert_string_equal(p, VDM_SRIOV_MANAGE_PATH);
	assert_string_equal(how, "default");
	setenv("VGPU_DM_SRIOV_MANAGE", "/nonexistent/x", 1);
	assert_int_equal(vdm_tool_find("sriov-manage", p, sizeof(p), &how), -ENOENT);
	assert_string_equal(p, "/nonexistent/x");
	unsetenv("VGPU_DM_SRIOV_MANAGE");
	/* Names that could collide with other settings or form paths. */
	assert_int_equal(vdm_tool_find("../sh", p, sizeof(p), &how), -EINVAL);
	assert_int_equal(vdm_tool_find("", p, sizeof(p), &how), -EINVAL);
	assert_int_equal(vdm_tool_find("Docker", p, sizeof(p), &how), -EINVAL);
}

static void capture_and_status(void **state)
{
	(void)state;
	char *argv[] = {"sh", "-c", "echo out; echo first >&2; echo last err line >&2; exit 3", NULL};
	struct vdm_exec_opts o = {.out = VDM_EXEC_CAPTURE, .err = VDM_EXEC_CAPTURE};
	struct vdm_exec_result r;
	assert_int_equal(vdm_exec("/bin/sh", argv, &o, &r, NULL), 0);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(r.signal, 0);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "first\nlast err line\n");
	char *s = vdm_exec_last_line(&r);
	assert_string_equal(s, "last err line");
	free(s);
	s = vdm_exec_outcome(&r);
	assert_string_equal(s, "exit status 3");
	free(s);
	vdm_exec_result_free(&r);
}

static void bounded_capture(void **state)
{
	(void)state;
	/* 1 MiB of output into a 10-byte buffer: kept 10, the child never blocks. */
	char *argv[] = {"sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x", NULL};
	struct vdm_exec_opts o = {.out = VDM_EXEC_CAPTURE, .err = VDM_EXEC_DISCARD, .capture_max = 10};
	struct vdm_exec_result r;
	assert_int_equal(vdm_exec("/bin/sh", argv, &o, &r, NULL), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.out_len, 10);
	assert_string_equal(r.out, "xxxxxxxxxx");
	assert_true(r.out_truncated);
	assert_null(r.err);
	vdm_exec_result_free(&r);
}

/* The child starts with no blocked and no ignored signal, whatever the caller holds. */
static void clean_signal_state(void **state)
{
	(void)state;
	sigset_t hold, old;
	sigemptyset(&hold);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGQUIT);
	sigprocmask(SIG_BLOCK, &hold, &old);
	void (*prev)(int) = signal(SIGUSR1, SIG_IGN);
	char *argv[] = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
	struct vdm_exec_opts o = {.out = VDM_EXEC_CAPTURE};
	struct vdm_exec_result r;
	int rc = vdm_exec("/bin/grep", argv, &o, &r, NULL);
	signal(SIGUSR1, prev);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(rc, 0);
	/* Standard signals 1-31 are the low 31 bits; glibc keeps its own
	 * real-time signals (32 and up) as they are. */
	unsigned long long blk = ~0ULL, ign = ~0ULL;
	assert_int_equal(sscanf(r.out, "SigBlk:\t%llx\nSigIgn:\t%llx", &blk, &ign), 2);
	assert_int_equal(blk & 0x7fffffffULL, 0);
	assert_int_equal(ign & 0x7fffffffULL, 0);
	vdm_exec_result_free(&r);
}

static void timeout_kills(void **state)
{
	(void)state;
	sigset_t hold, old;
	sigemptyset(&hold);
	sigaddset(&hold, SIGTERM);
	sigprocmask(SIG_BLOCK, &hold, &old); /* as apply does */
	char *argv[] = {"sleep", "30", NULL};
	struct vdm_exec_opts o = {.timeout_ms = 100};
	struct vdm_exec_result r;
	char *err = NULL;
	assert_int_equal(vdm_exec("/bin/sleep", argv, &o, &r, &err), -ETIMEDOUT);
	assert_true(r.timed_out);
	assert_int_equal(r.signal, SIGTERM);
	assert_non_null(strstr(err, "sleep timed out after"));
	free(err);
	vdm_exec_result_free(&r);
	/* One that ignores SIGTERM, and its child: SIGKILL to the group. */
	char *argv2[] = {"sh", "-c", "trap '' TERM; sleep 30; echo survived", NULL};
	struct vdm_exec_opts o2 = {.timeout_ms = 100, .kill_grace_ms = 100, .out = VDM_EXEC_CAPTURE};
	assert_int_equal(vdm_exec("/bin/sh", argv2, &o2, &r, NULL), -ETIMEDOUT);
	assert_int_equal(r.signal, SIGKILL);
	assert_string_equal(r.out, "");
	vdm_exec_result_free(&r);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void cannot_start(void **state)
{
	(void)state;
	char *argv[] = {"/nonexistent/tool", NULL};
	struct vdm_exec_result r;
	char *err = NULL;
	assert_int_equal(vdm_exec("/nonexistent/tool", argv, NULL, &r, &err), -ENOENT);
	assert_string_equal(err, "cannot run /nonexistent/tool: No such file or directory");
	free(err);
	vdm_exec_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(env_names),
		cmocka_unit_test(lookup_order),
		cmocka_unit_test(capture_and_status),
		cmocka_unit_test(bounded_capture),
		cmocka_unit_test(clean_signal_state),
		cmocka_unit_test(timeout_kills),
		cmocka_unit_test(cannot_start),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
