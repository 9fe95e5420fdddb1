/* SPDX-License-Identifier: Apache-2.0 */
/* The two roots of a context (ctx.h, rootfs.h): sys/ under the sysfs root,
 * every other path under the host root; how the host root and the driver
 * root are chosen; host paths named by variables; NVML and sriov-manage
 * found under the driver root, then the host root. Directories under /tmp
 * stand for a pod's /sys, /host and /driver-root. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply/apply.h"
#include "base/base.h"

static char top[64], sysr[96], hostr[96], drv[96];

static void put(const char *root, const char *rel, const char *text, mode_t mode)
{
	char p[512], cmd[600];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static void link_at(const char *root, const char *rel, const char *target)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void clear_env(void)
{
	unsetenv("HOST_ROOT_MOUNT");
	unsetenv("DRIVER_ROOT_CTR_PATH");
	unsetenv("VGPU_DM_NVML_LIBRARY");
	unsetenv("VGPU_DM_SRIOV_MANAGE");
	unsetenv("VGPU_DM_TOOLS_DIR");
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/vgpudm-roots.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(sysr, sizeof(sysr), "%s/ctr", top);
	snprintf(hostr, sizeof(hostr), "%s/host", top);
	snprintf(drv, sizeof(drv), "%s/driver-root", top);
	put(sysr, "sys/module/nvidia/version", "550.54\n", 0644);
	put(sysr, "proc/1/cmdline", "container-init", 0644);
	put(hostr, "proc/1/cmdline", "systemd", 0644);
	put(hostr, "sys/module/nvidia/version", "host-sys-not-this\n", 0644);
	clear_env();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	clear_env();
	return system(cmd) == 0 ? 0 : -1;
}

static void read_rel(struct vdm_ctx *ctx, const char *rel, const char *want)
{
	char buf[128];
	assert_true(vdm_sysfs_read(ctx, rel, buf, sizeof(buf)) >= 0);
	buf[strcspn(buf, "\n")] = '\0';
	assert_string_equal(buf, want);
}

/* One root: everything under it, as before (a simulated host). */
static void one_root(void **state)
{
	(void)state;
	struct vdm_ctx *ctx;
	char *err;
	struct vdm_roots r = {.sysfs_root = hostr};
	assert_int_equal(vdm_ctx_open(&ctx, &r, &err), 0);
	read_rel(ctx, "sys/module/nvidia/version", "host-sys-not-this");
	read_rel(ctx, "proc/1/cmdline", "systemd");
	assert_string_equal(vdm_ctx_host_root(ctx), hostr);
	assert_string_equal(vdm_ctx_host_root_source(ctx), "--sysfs-root");
	vdm_ctx_free(ctx);
	assert_int_equal(vdm_ctx_new(&ctx, hostr), 0);
	read_rel(ctx, "proc/1/cmdline", "systemd");
	vdm_ctx_free(ctx);
}

/* A pod: sysfs from its /sys, host paths from the host root. */
static void two_roots(void **state)
{
	(void)state;
	struct vdm_ctx *ctx;
	char *err, p[256], want[256];
	setenv("HOST_ROOT_MOUNT", hostr, 1);
	struct vdm_roots r = {.sysfs_root = sysr};
	assert_int_equal(vdm_ctx_open(&ctx, &r, &err), 0);
	read_rel(ctx, "sys/module/nvidia/version", "550.54");
	read_rel(ctx, "proc/1/cmdline", "systemd"); /* the host's, not the container's */
	assert_string_equal(vdm_ctx_host_root_source(ctx), "HOST_ROOT_MOUNT");
	vdm_path(ctx, p, sizeof(p), VDM_LOCK_FILE);
	snprintf(want, sizeof(want), "%s/run/nvidia-vgpu-dm.lock", hostr);
	assert_string_equal(p, want);
	vdm_path(ctx, p, sizeof(p), "sys/bus/pci/devices");
	snprintf(want, sizeof(want), "%s/sys/bus/pci/devices", sysr);
	assert_string_equal(p, want);
	/* The tool's own files go to the host root. */
	assert_int_equal(vdm_root_mkdirs(ctx, "run", 0755), 0);
	int fd = vdm_root_create(ctx, "run/x.lock", O_RDWR, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/run/x.lock", hostr);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/run/x.lock", sysr);
	assert_int_equal(access(p, F_OK), -1);
	/* A symlink in the host's /proc cannot lead out of the host root. */
	link_at(hostr, "proc/escape", "/../../ctr/sys/module/nvidia/version");
	char buf[64];
	assert_int_equal(vdm_sysfs_read(ctx, "proc/escape", buf, sizeof(buf)), -ENOENT);
	vdm_ctx_free(ctx);

	/* A flag wins over the variable; a host root that is no directory is refused. */
	struct vdm_roots bad = {.sysfs_root = sysr, .host_root = "/nonexistent/host"};
	assert_int_equal(vdm_ctx_open(&ctx, &bad, &err), -ENOTDIR);
	assert_string_equal(err, "--host-root-mount /nonexistent/host: not a directory (it names where "
				 "the host's / is mounted)");
	free(err);
	setenv("HOST_ROOT_MOUNT", "/etc/hostname", 1);
	assert_int_equal(vdm_ctx_open(&ctx, &r, &err), -ENOTDIR);
	free(err);
	unsetenv("HOST_ROOT_MOUNT");
}

/* Nothing given: / unless /host is a mount point (a container's view). */
static void defaults(void **state)
{
	(void)state;
	struct vdm_ctx *ctx;
	char *err;
	assert_int_equal(vdm_ctx_open(&ctx, NULL, &err), 0);
	assert_string_equal(vdm_ctx_root(ctx), "/");
	const char *how = vdm_ctx_host_root_source(ctx);
	if (!strcmp(how, "/"))
		assert_string_equal(vdm_ctx_host_root(ctx), "/");
	else
		assert_string_equal(vdm_ctx_host_root(ctx), "/host");
	vdm_ctx_free(ctx);
	struct vdm_roots empty = {.sysfs_root = ""};
	assert_int_equal(vdm_ctx_open(&ctx, &empty, &err), -EINVAL);
	free(err);
}

/* VGPU_DM_CACHE_DIR and friends: a path on the host, under the root once. */
static void host_paths(void **state)
{
	(void)state;
	struct vdm_ctx *ctx;
	char *err, rel[256], with[256];
	struct vdm_roots r = {.sysfs_root = sysr, .host_root = hostr};
	assert_int_equal(vdm_ctx_open(&ctx, &r, &err), 0);
	assert_int_equal(vdm_host_rel(ctx, "/var/cache/nvidia-vgpu-dm", rel, sizeof(rel)), 0);
	assert_string_equal(rel, "var/cache/nvidia-vgpu-dm");
	snprintf(with, sizeof(with), "%s/var/cache/nvidia-vgpu-dm", hostr);
	assert_int_equal(vdm_host_rel(ctx, with, rel, sizeof(rel)), 1);
	assert_string_equal(rel, "var/cache/nvidia-vgpu-dm");
	snprintf(with, sizeof(with), "%sx/var", hostr); /* a sibling, not under it */
	assert_int_equal(vdm_host_rel(ctx, with, rel, sizeof(rel)), 0);
	assert_int_equal(vdm_host_rel(ctx, "var/cache", rel, sizeof(rel)), -EINVAL);
	vdm_ctx_free(ctx);
	assert_int_equal(vdm_ctx_new(&ctx, NULL), 0);
	assert_int_equal(vdm_host_rel(ctx, "/var/cache/x", rel, sizeof(rel)), 0);
	assert_string_equal(rel, "var/cache/x");
	vdm_ctx_free(ctx);
}

/* NVML: the driver root's (upstream's directories, symlinks resolved inside
 * it), then the host root's, then the dynamic linker; the variable first. */
static void nvml_search(void **state)
{
	(void)state;
	struct vdm_ctx *ctx;
	char *err, p[4096], want[256];
	const char *how;
	put(drv, "usr/lib64/libnvidia-ml.so.550.54", "not really ELF", 0644);
	link_at(drv, "usr/lib64/libnvidia-ml.so.1", "/usr/lib64/libnvidia-ml.so.550.54");
	put(hostr, "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", "host copy", 0644);
	struct vdm_roots r = {.sysfs_root = sysr, .host_root = hostr, .driver_root = drv};
	assert_int_equal(vdm_ctx_open(&ctx, &r, &err), 0);
	assert_string_equal(vdm_ctx_driver_root(ctx), drv);
	assert_int_equal(vdm_nvml_find(ctx, p, sizeof(p), &how), 0);
	snprintf(want, sizeof(want), "%s/usr/lib64/libnvidia-ml.so.550.54", drv);
	assert_string_equal(p, want);
	assert_string_equal(how, "under the driver root");
	setenv("VGPU_DM_NVML_LIBRARY", "/opt/stand-in.so", 1);
	assert_int_equal(vdm_nvml_find(ctx, p, sizeof(p), &how), 0);
	assert_string_equal(p, "/opt/stand-in.so");
	assert_string_equal(how, "VGPU_DM_NVML_LIBRARY");
	unsetenv("VGPU_DM_NVML_LIBRARY");
	vdm_ctx_free(ctx);

	/* No driver root: the host root's. */
	struct vdm_roots r2 = {.sysfs_root = sysr, .host_root = hostr, .driver_root = "/nonexistent"};
	assert_int_equal(vdm_ctx_open(&ctx, &r2, &err), 0);
	assert_null(vdm_ctx_driver_root(ctx));
	assert_int_equal(vdm_nvml_find(ctx, p, sizeof(p), &how), 0);
	snprintf(want, sizeof(want), "%s/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", hostr);
	assert_string_equal(p, want);
	assert_string_equal(how, "under the host root");
	/* Loading a file that is no library: NULL (a warning), no crash. */
	assert_null(vdm_nvml_open(ctx));
	vdm_ctx_free(ctx);

	/* Neither: the soname, for the dynamic linker. DRIVER_ROOT_CTR_PATH counts. */
	struct vdm_roots r3 = {.sysfs_root = sysr};
	setenv("DRIVER_ROOT_CTR_PATH", drv, 1);
	assert_int_equal(vdm_ctx_open(&ctx, &r3, &err), 0);
	assert_int_equal(vdm_nvml_find(ctx, p, sizeof(p), &how), 0);
	assert_string_equal(how, "under the driver root");
	vdm_ctx_free(ctx);
	unsetenv("DRIVER_ROOT_CTR_PATH");
	assert_int_equal(vdm_ctx_open(&ctx, &r3, &err), 0);
	assert_int_equal(vdm_nvml_find(ctx, p, sizeof(p), &how), 1);
	assert_string_equal(p, "libnvidia-ml.so.1");
	vdm_ctx_free(ctx);
}

/* sriov-manage: its usual path under the driver root, then the host root. */
static void sriov_manage_search(void **state)
{
	(void)state;
	struct vdm_ctx *ctx;
	char *err, p[4096], want[256];
	const char *how;
	put(hostr, "usr/lib/nvidia/sriov-manage", "#!/bin/sh\nexit 0\n", 0755);
	struct vdm_roots r = {.sysfs_root = sysr, .host_root = hostr, .driver_root = drv};
	assert_int_equal(vdm_ctx_open(&ctx, &r, &err), 0);
	assert_int_equal(vdm_tool_find(ctx, "sriov-manage", p, sizeof(p), &how), 0);
	snprintf(want, sizeof(want), "%s/usr/lib/nvidia/sriov-manage", hostr);
	assert_string_equal(p, want);
	assert_string_equal(how, "default, under the host root");
	put(drv, "usr/lib/nvidia/sriov-manage", "#!/bin/sh\nexit 0\n", 0755);
	assert_int_equal(vdm_tool_find(ctx, "sriov-manage", p, sizeof(p), &how), 0);
	snprintf(want, sizeof(want), "%s/usr/lib/nvidia/sriov-manage", drv);
	assert_string_equal(p, want);
	assert_string_equal(how, "default, under the driver root");
	/* The one overridable place: the variable still wins. */
	setenv("VGPU_DM_SRIOV_MANAGE", "/bin/true", 1);
	assert_int_equal(vdm_tool_find(ctx, "sriov-manage", p, sizeof(p), &how), 0);
	assert_string_equal(p, "/bin/true");
	unsetenv("VGPU_DM_SRIOV_MANAGE");
	/* Not executable under the driver root: the next place. */
	snprintf(p, sizeof(p), "%s/usr/lib/nvidia/sriov-manage", drv);
	chmod(p, 0644);
	assert_int_equal(vdm_tool_find(ctx, "sriov-manage", p, sizeof(p), &how), 0);
	assert_string_equal(how, "default, under the host root");
	/* The start-up line names all of it. */
	char *line = vdm_run_describe(ctx), want2[1024];
	snprintf(want2, sizeof(want2), "host root %s (--host-root-mount), lock %s/run/nvidia-vgpu-dm.lock, "
		 "journal %s/run/nvidia-vgpu-dm.journal, driver root %s", hostr, hostr, hostr, drv);
	assert_non_null(strstr(line, want2));
	assert_non_null(strstr(line, "sriov-manage"));
	free(line);
	vdm_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_root),
		cmocka_unit_test(two_roots),
		cmocka_unit_test(defaults),
		cmocka_unit_test(host_paths),
		cmocka_unit_test(nvml_search),
		cmocka_unit_test(sriov_manage_search),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
