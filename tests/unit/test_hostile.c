/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's own evidence, when it cannot be read: a GPU whose identity or
 * state cannot be parsed is never dropped or taken for free; numbers out of
 * range are refused, never clamped; a long creatable_vgpu_types is parsed
 * once per VF.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "fake_sysfs.h"
#include "host/host.h"
#include "plan/plan.h"
#include "spec/spec.h"

static const char yaml[] =
	"version: v1\n"
	"vgpu-configs:\n"
	"  first:\n"
	"    - devices: [0]\n"
	"      vgpu-devices: {}\n"
	"  all-4q:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        T4-4Q: 2\n"
	"  l40s:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        L40S-4Q: 1\n";

static bool contains(const char *s, const char *part)
{
	if (!s || !strstr(s, part))
		fail_msg("'%s' lacks '%s'", s ? s : "(null)", part);
	return true;
}

/* An NVIDIA function before the selected GPU whose class cannot be parsed:
 * the GPU after it would become index 0, so index selection refuses. */
static void test_unparsable_class_refuses_index(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x03zz00");
	pci("0000:af:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:af:00.0", 4);
	vgpu("0000:af:00.0", "11111111-0000-0000-0000-000000000000", 232);
	scan(&w);
	assert_int_equal(w.host->n_gpus, 1);
	assert_int_equal(w.host->n_unreadable, 1);
	assert_int_equal(plan_for(&w, yaml, "first", VDM_PLAN_CHECK), -EIO);
	contains(w.err, "t.yaml:4:7: GPU indexes cannot be trusted on this host: ");
	contains(w.err, "/sys/bus/pci/devices/0000:3b:00.0/class: cannot be parsed");
	done(&w);
	/* Selection by "all" plans the GPUs that can be read. */
	scan(&w);
	assert_int_equal(plan_for(&w, yaml, "all-4q", VDM_PLAN_CHECK), 0);
	assert_int_equal(w.plan->gpus[0].n_create, 1);
	done(&w);
}

static void test_device_out_of_range(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1ffff", "0x030200");
	pci("0000:af:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:af:00.0", 4);
	scan(&w);
	assert_int_equal(w.host->n_unreadable, 1);
	contains(w.host->unreadable[0], "0000:3b:00.0/device: number out of range");
	assert_int_equal(plan_for(&w, yaml, "first", 0), -EIO);
	done(&w);
}

/* SR-IOV state that cannot be read: the GPU keeps its index, plans refuse it. */
static void test_unparsable_numvfs(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	put("sys/bus/pci/devices/0000:3b:00.0/sriov_totalvfs", "4\n");
	put("sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "four\n");
	scan(&w);
	assert_int_equal(w.host->n_gpus, 1);
	assert_int_equal(plan_for(&w, yaml, "first", VDM_PLAN_CHECK), -EIO);
	contains(w.err, "GPU 0 (0000:3b:00.0): its state cannot be read: ");
	contains(w.err, "0000:3b:00.0/sriov_numvfs: cannot be parsed");
	done(&w);
}

/* An L40S-like PF with n free vendor-VFIO VFs, each listing text. */
static void vfio_gpu(int n, const char *text)
{
	pci("0000:26:00.0", "0x10de", "0x26b9", "0x030200");
	put("sys/bus/pci/devices/0000:26:00.0/sriov_totalvfs", "%d\n", n);
	put("sys/bus/pci/devices/0000:26:00.0/sriov_numvfs", "%d\n", n);
	for (int i = 0; i < n; i++) {
		char vf[32], rel[256], target[64];
		snprintf(vf, sizeof(vf), "0000:27:%02x.%d", i / 8, i % 8);
		pci(vf, "0x10de", "0x26b9", "0x030200");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/physfn", vf);
		link_to(rel, "../0000:26:00.0");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:26:00.0/virtfn%d", i);
		snprintf(target, sizeof(target), "../%s", vf);
		link_to(rel, target);
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/nvidia/current_vgpu_type", vf);
		put(rel, "0\n");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/nvidia/creatable_vgpu_types", vf);
		put(rel, "%s", text);
	}
}

static const char l40s_list[] = "ID    : vGPU Name\n1155  : NVIDIA L40S-4Q\n1156  : NVIDIA L40S-6Q\n";

/* A current_vgpu_type that cannot be parsed is not a free VF. */
static void test_unparsable_current_type(void **state)
{
	(void)state;
	struct world w;
	vfio_gpu(2, l40s_list);
	put("sys/bus/pci/devices/0000:27:00.0/nvidia/current_vgpu_type", "11x5\n");
	scan(&w);
	assert_int_equal(w.host->gpus[0].fw, VDM_FW_VFIO);
	assert_int_equal(w.host->gpus[0].parents[0].n_vgpus, 1); /* held, not free */
	assert_int_equal(plan_for(&w, yaml, "l40s", VDM_PLAN_CHECK), -EIO);
	contains(w.err, "GPU 0 (0000:26:00.0): its state cannot be read: ");
	contains(w.err, "0000:27:00.0/nvidia/current_vgpu_type: cannot be parsed");
	done(&w);
}

/* An id too large for the driver's numbers is refused, not clamped. */
static void test_creatable_id_out_of_range(void **state)
{
	(void)state;
	struct world w;
	vfio_gpu(1, "ID    : vGPU Name\n99999999999999999999 : NVIDIA L40S-4Q\n");
	scan(&w);
	assert_int_equal(w.host->gpus[0].n_types, 0);
	contains(w.host->gpus[0].unreadable, "creatable_vgpu_types: number out of range");
	assert_int_equal(plan_for(&w, yaml, "l40s", VDM_PLAN_CHECK), -EIO);
	done(&w);
}

/* available_instances that cannot be parsed: not "no room", but the file. */
static void test_unparsable_available(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 4);
	put("sys/bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-232/available_instances",
	    "lots\n");
	scan(&w);
	int t = vdm_gpu_find_type(&w.host->gpus[0], "T4-4Q");
	assert_true(vdm_gpu_free_instances(w.host, &w.host->gpus[0], t) < 0);
	assert_int_equal(plan_for(&w, yaml, "all-4q", VDM_PLAN_CHECK), -EINVAL);
	contains(w.err, "GPU 0 (0000:3b:00.0): the driver's count of free T4-4Q vGPUs cannot be "
			"read: ");
	contains(w.err, "nvidia-232/available_instances: cannot be parsed");
	done(&w);
	/* and a negative count is out of range, not 0 */
	put("sys/bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-232/available_instances",
	    "-3\n");
	scan(&w);
	assert_true(vdm_gpu_free_instances(w.host, &w.host->gpus[0], t) < 0);
	contains(w.host->error, "available_instances: number out of range");
	done(&w);
}

/* A description whose max_instance is out of range: refused, not clamped. */
static void test_description_out_of_range(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 4);
	put("sys/bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-232/description",
	    "num_heads=4, framebuffer=4096M, max_instance=99999999999999999999\n");
	scan(&w);
	contains(w.host->gpus[0].unreadable, "nvidia-232/description: cannot be parsed");
	assert_int_equal(plan_for(&w, yaml, "all-4q", VDM_PLAN_CHECK), -EIO);
	done(&w);
}

/* 700 types listed on each of 32 free VFs: each list is read (and parsed)
 * once, not once per type. */
static void test_long_creatable_read_once_per_vf(void **state)
{
	(void)state;
	struct world w;
	size_t len = 32 + 700 * 32;
	char *text = malloc(len), *p = text;
	p += sprintf(p, "ID    : vGPU Name\n");
	for (int i = 0; i < 700; i++)
		p += sprintf(p, "%d  : NVIDIA L40S-%dQ\n", 2000 + i, i % 48 + 1);
	vfio_gpu(32, text);
	free(text);
	scan(&w);
	struct vdm_gpu *g = &w.host->gpus[0];
	assert_int_equal(g->n_types, 700);
	unsigned long before = vdm_ctx_stats(w.ctx)->reads;
	for (size_t t = 0; t < g->n_types; t++) {
		/* a count, or "unknown" (no maximum known for VF parents): never an error */
		int n = vdm_gpu_free_instances(w.host, g, (int)t);
		assert_true(n >= 0 || n == VDM_FREE_UNKNOWN);
	}
	assert_true(vdm_ctx_stats(w.ctx)->reads - before <= 32);
	done(&w);
}

/* An empty root is refused; it does not mean "/". */
static void test_empty_root_refused(void **state)
{
	(void)state;
	struct vdm_ctx *ctx = (struct vdm_ctx *)1;
	assert_int_equal(vdm_ctx_new(&ctx, ""), -EINVAL);
	assert_null(ctx);
	assert_int_equal(vdm_ctx_new(&ctx, NULL), 0);
	assert_string_equal(vdm_ctx_root(ctx), "/");
	vdm_ctx_free(ctx);
}

/* The one number parser (lib/base): whole string, range, no wrap. */
static void test_parse_long(void **state)
{
	(void)state;
	long v = -7;
	assert_int_equal(vdm_parse_long("64", 10, 1, 64, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(vdm_parse_long("4294967297", 10, 1, 64, &v), -ERANGE);
	assert_int_equal(vdm_parse_long("18446744073709551617", 10, 0, LONG_MAX, &v), -ERANGE);
	assert_int_equal(vdm_parse_long("9223372036854775808", 10, 0, LONG_MAX, &v), -ERANGE);
	assert_int_equal(vdm_parse_long("0", 10, 1, 64, &v), -ERANGE);
	assert_int_equal(vdm_parse_long("-1", 10, 0, 64, &v), -EINVAL);
	assert_int_equal(vdm_parse_long("-1", 10, -5, 64, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(vdm_parse_long("+1", 10, 0, 64, &v), -EINVAL);
	assert_int_equal(vdm_parse_long(" 1", 10, 0, 64, &v), -EINVAL);
	assert_int_equal(vdm_parse_long("1 ", 10, 0, 64, &v), -EINVAL);
	assert_int_equal(vdm_parse_long("", 10, 0, 64, &v), -EINVAL);
	assert_int_equal(vdm_parse_long("0x10", 0, 0, 64, &v), 0);
	assert_int_equal(v, 16);
	const char *end = NULL;
	assert_int_equal(vdm_parse_long_prefix("535_00", &end, 10, 1, 100000, &v), 0);
	assert_int_equal(v, 535);
	assert_string_equal(end, "_00");
	assert_int_equal(vdm_parse_long_prefix("4294967308.0", &end, 10, 1, 1000, &v), -ERANGE);
	assert_int_equal(vdm_parse_long_prefix("x1", &end, 10, 1, 1000, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_empty_root_refused),
		cmocka_unit_test_setup_teardown(test_unparsable_class_refuses_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unparsable_numvfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unparsable_current_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_creatable_id_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unparsable_available, setup, teardown),
		cmocka_unit_test_setup_teardown(test_description_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_creatable_read_once_per_vf, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
