/* SPDX-License-Identifier: Apache-2.0 */
/* run: a whole apply or assert through the library, as the agent calls it:
 * outcome class, message, who holds a vGPU, the caller's signal hook, and
 * nothing printed. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_sysfs.h"
#include "apply/apply.h"

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"

static int logged_errors;
static void collect(struct vdm_ctx *ctx, int prio, const char *msg, void *data)
{
	(void)ctx;
	(void)msg;
	(void)data;
	if (prio <= VDM_LOG_ERR)
		logged_errors++;
}

static int hook_calls[2];
static void hook(bool hold, void *data)
{
	(void)data;
	hook_calls[hold ? 1 : 0]++;
}

/* One T4 with two T4-4Q vGPUs; a QEMU (pid 777) holds the first. */
static void t4_in_use(void)
{
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 2);
	vgpu("0000:3b:00.0", U1, 232);
	vgpu("0000:3b:00.0", U2, 232);
	link_to("sys/bus/pci/devices/0000:3b:00.0/" U1 "/iommu_group", "../../../../kernel/iommu_groups/42");
	link_to("proc/777/fd/5", "/dev/vfio/42");
	put("proc/777/cmdline", "qemu-system-x86_64%c-name%cvm1", 0, 0);
}

static struct vdm_spec *spec_of(const char *yaml)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/c.yaml", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	char *err = NULL;
	struct vdm_spec *s = vdm_spec_load(path, &err);
	assert_non_null(s);
	return s;
}

static const char want_8q[] =
	"version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        T4-8Q: 1\n";
static const char want_4q[] =
	"version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 2\n";

/* Run an apply with standard output and error sent to a file; the library
 * must write nothing there. */
static enum vdm_run_status quiet_apply(struct vdm_ctx *ctx, const struct vdm_spec *s,
				       const struct vdm_run_opts *o, struct vdm_run_result *r)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/printed", root);
	fflush(stdout);
	fflush(stderr);
	int save1 = dup(1), save2 = dup(2);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	enum vdm_run_status st = vdm_run_apply(ctx, s, vdm_spec_find(s, "x"), o, r);
	fflush(stdout);
	fflush(stderr);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	return st;
}

static void in_use_refusal_names_the_holder(void **state)
{
	(void)state;
	t4_in_use();
	struct vdm_ctx *ctx;
	vdm_ctx_new(&ctx, root);
	vdm_ctx_set_log(ctx, VDM_LOG_DEBUG, collect, NULL);
	struct vdm_spec *s = spec_of(want_8q);
	struct vdm_run_opts o = {.critical = hook, .critical_data = NULL, .lock_timeout_ms = 0};
	struct vdm_run_result r;
	hook_calls[0] = hook_calls[1] = 0;
	assert_int_equal(quiet_apply(ctx, s, &o, &r), VDM_RUN_IN_USE);
	assert_int_equal(r.status, VDM_RUN_IN_USE);
	assert_non_null(strstr(r.message, "is in use by pid 777 (qemu-system-x86_64 -name vm1)"));
	assert_int_equal(r.in_use.pid, 777);
	assert_int_equal(r.in_use.gpu_index, 0);
	assert_string_equal(r.in_use.gpu, "0000:3b:00.0");
	assert_string_equal(r.in_use.vgpu, U1);
	assert_string_equal(r.in_use.type, "T4-4Q");
	assert_string_equal(r.in_use.parent, "0000:3b:00.0");
	assert_string_equal(r.in_use.cmd, "qemu-system-x86_64 -name vm1");
	assert_string_equal(r.in_use.node, "/dev/vfio/42");
	assert_false(r.changed);
	/* The hook brackets the locked part, once each way. */
	assert_int_equal(hook_calls[1], 1);
	assert_int_equal(hook_calls[0], 1);
	/* No journal was written. */
	char p[512];
	snprintf(p, sizeof(p), "%s/run/nvidia-vgpu-dm.journal", root);
	assert_int_not_equal(access(p, F_OK), 0);
	vdm_run_result_free(&r);
	vdm_spec_free(s);
	vdm_ctx_free(ctx);
}

static void locked_and_dry_run(void **state)
{
	(void)state;
	t4_in_use();
	struct vdm_ctx *ctx;
	vdm_ctx_new(&ctx, root);
	vdm_ctx_set_log(ctx, VDM_LOG_DEBUG, collect, NULL);
	struct vdm_spec *s = spec_of(want_8q);
	char p[512];
	snprintf(p, sizeof(p), "%s/run", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run/nvidia-vgpu-dm.lock", root);
	int fd = open(p, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	struct vdm_run_opts o = {.critical = hook, .lock_timeout_ms = 0};
	struct vdm_run_result r;
	hook_calls[0] = hook_calls[1] = 0;
	assert_int_equal(quiet_apply(ctx, s, &o, &r), VDM_RUN_LOCKED);
	assert_non_null(strstr(r.message, "is locked"));
	assert_int_equal(hook_calls[0] + hook_calls[1], 0);
	vdm_run_result_free(&r);
	/* A dry run takes no lock and returns the plan (with --force: no refusal). */
	o.dry_run = true;
	o.force = true;
	assert_int_equal(quiet_apply(ctx, s, &o, &r), VDM_RUN_OK);
	assert_null(r.message);
	assert_non_null(r.plan);
	assert_int_equal(r.plan->gpus[0].n_remove, 2);
	assert_int_equal(r.plan->gpus[0].n_create, 1);
	vdm_run_result_free(&r);
	close(fd);
	vdm_spec_free(s);
	vdm_ctx_free(ctx);
}

static void assert_and_bad_root(void **state)
{
	(void)state;
	t4_in_use();
	struct vdm_ctx *ctx;
	vdm_ctx_new(&ctx, root);
	vdm_ctx_set_log(ctx, VDM_LOG_DEBUG, collect, NULL);
	struct vdm_spec *s4 = spec_of(want_4q), *s8 = spec_of(want_8q);
	struct vdm_run_result r;
	assert_int_equal(vdm_run_assert(ctx, s4, vdm_spec_find(s4, "x"), &r), VDM_RUN_OK);
	assert_null(r.message);
	vdm_run_result_free(&r);
	assert_int_equal(vdm_run_assert(ctx, s8, vdm_spec_find(s8, "x"), &r), VDM_RUN_FAILED);
	assert_string_equal(r.message, "GPU 0 (0000:3b:00.0) has 2 x T4-4Q, the config wants 1 x T4-8Q");
	vdm_run_result_free(&r);
	/* Already applied: OK, nothing changed. */
	assert_int_equal(quiet_apply(ctx, s4, NULL, &r), VDM_RUN_OK);
	assert_false(r.changed);
	vdm_run_result_free(&r);
	vdm_ctx_free(ctx);
	/* A root with no sys/bus/pci/devices. */
	char empty[512];
	snprintf(empty, sizeof(empty), "%s/empty", root);
	mkdir(empty, 0755);
	vdm_ctx_new(&ctx, empty);
	vdm_ctx_set_log(ctx, VDM_LOG_DEBUG, collect, NULL);
	assert_int_equal(quiet_apply(ctx, s4, NULL, &r), VDM_RUN_FAILED);
	char want[1024];
	snprintf(want, sizeof(want), "cannot read %s/sys/bus/pci/devices: No such file or directory "
		 "(is --sysfs-root a host's root or a vgpu-sim mount point?)", empty);
	assert_string_equal(r.message, want);
	vdm_run_result_free(&r);
	vdm_spec_free(s4);
	vdm_spec_free(s8);
	vdm_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(in_use_refusal_names_the_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(locked_and_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(assert_and_bad_root, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
