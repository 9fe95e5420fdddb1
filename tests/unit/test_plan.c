/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host scan and plan computation against small sysfs trees written into a
 * temporary directory (plain files and symlinks, as sysfs has them).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "fake_sysfs.h"
#include "host/host.h"
#include "plan/plan.h"
#include "spec/spec.h"

/* root, setup, teardown, put, link_to, pci, t4_types, vgpu: shared with other unit tests */

static void two_t4(void)
{
	/* Listed out of address order on purpose, plus a NIC and a non-GPU NVIDIA function. */
	two_t4_and_nic();
	pci("0000:3b:00.1", "0x10de", "0x10f8", "0x040300");
}

static const char t4_yaml[] =
	"version: v1\n"
	"vgpu-configs:\n"
	"  all-4q:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        T4-4Q: 4\n"
	"  two-4q:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        T4-4Q: 2\n"
	"  first-only:\n"
	"    - devices: [0]\n"
	"      vgpu-devices:\n"
	"        T4-8Q: 2\n"
	"  bad-type:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        T4-3Q: 2\n"
	"  too-many:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        T4-1Q: 17\n"
	"  too-big:\n"
	"    - devices: [1]\n"
	"      vgpu-devices:\n"
	"        T4-8Q: 2\n"
	"        T4-4Q: 1\n"
	"  empty:\n"
	"    - devices: all\n"
	"      vgpu-devices: {}\n";

static void test_scan_order_and_filter(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	assert_int_equal(w.host->n_gpus, 2);
	assert_string_equal(w.host->gpus[0].addr, "0000:3b:00.0");
	assert_string_equal(w.host->gpus[1].addr, "0000:af:00.0");
	assert_int_equal(w.host->gpus[1].index, 1);
	assert_string_equal(w.host->gpus[0].model, "T4");
	assert_int_equal(w.host->gpus[0].fw, VDM_FW_MDEV);
	assert_int_equal(w.host->gpus[0].n_types, 5);
	assert_int_equal(w.host->gpus[0].types[2].max_instances, 4);
	assert_int_equal(w.host->gpus[0].types[2].fb_mib, 4096);
	assert_string_equal(w.host->gpus[0].types[0].full_name, "GRID T4-1Q");
	assert_int_equal(w.host->gpus[0].id.subsys_device, 0x12a2);
	done(&w);
}

/* The hint after "selected vgpu-config not present": the close labels, then
 * the file's, those for this host's GPUs first; without a host, file order. */
static void test_labels_hint(void **state)
{
	static const char yaml[] =
		"version: v1\n"
		"vgpu-configs:\n"
		"  A100-4C:\n"
		"    - devices: all\n"
		"      vgpu-devices:\n"
		"        A100-4C: 10\n"
		"  T4-4Q:\n"
		"    - devices: all\n"
		"      vgpu-devices:\n"
		"        T4-4Q: 4\n"
		"  \"two words\":\n"
		"    - devices: all\n"
		"      vgpu-devices: {}\n";
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	w.spec = vdm_spec_parse("t.yaml", yaml, strlen(yaml), &w.err);
	assert_non_null(w.spec);
	char *hint = vdm_labels_hint(w.spec, "T4-4q", w.host);
	assert_string_equal(hint, "did you mean T4-4Q? t.yaml has, for this host's GPUs: T4-4Q, "
			    "\"two words\"; others: A100-4C");
	free(hint);
	hint = vdm_labels_hint(w.spec, "zzzzzzzz", NULL);
	assert_string_equal(hint, "t.yaml has: A100-4C, T4-4Q, \"two words\"");
	free(hint);
	hint = vdm_labels_hint(w.spec, "A100-4c", NULL);
	assert_string_equal(hint, "did you mean A100-4C? t.yaml has: A100-4C, T4-4Q, \"two words\"");
	free(hint);
	done(&w);
}

static void test_plan_create_on_empty(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "all-4q", VDM_PLAN_CHECK), 0);
	assert_false(vdm_plan_applied(w.plan));
	for (int g = 0; g < 2; g++) {
		assert_int_equal(w.plan->gpus[g].n_create, 4);
		assert_int_equal(w.plan->gpus[g].n_remove, 0);
		assert_int_equal(w.plan->gpus[g].ops[0].kind, VDM_OP_CREATE);
		assert_int_equal(strlen(w.plan->gpus[g].ops[0].id), 36);
	}
	assert_string_not_equal(w.plan->gpus[0].ops[0].id, w.plan->gpus[0].ops[1].id);
	done(&w);
}

static void test_plan_keeps_and_removes_surplus(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	vgpu("0000:3b:00.0", "44444444-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "33333333-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 232);
	scan(&w);
	assert_int_equal(w.host->gpus[0].n_vgpus, 4);
	assert_int_equal(plan_for(&w, t4_yaml, "two-4q", VDM_PLAN_CHECK), 0);
	struct vdm_gpu_plan *gp = &w.plan->gpus[0];
	assert_int_equal(gp->n_keep, 2);
	assert_int_equal(gp->n_remove, 2);
	assert_int_equal(gp->n_create, 0);
	/* the lowest UUIDs are kept, removes come first */
	assert_int_equal(gp->ops[0].kind, VDM_OP_REMOVE);
	assert_string_equal(gp->ops[0].id, "33333333-0000-0000-0000-000000000000");
	assert_string_equal(gp->ops[1].id, "44444444-0000-0000-0000-000000000000");
	assert_int_equal(gp->ops[2].kind, VDM_OP_KEEP);
	assert_string_equal(gp->ops[2].id, "11111111-0000-0000-0000-000000000000");
	/* the second GPU is empty and gets two new ones */
	assert_int_equal(w.plan->gpus[1].n_create, 2);
	done(&w);
}

static void test_plan_applied_when_matching(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 233);
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 233);
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "first-only", VDM_PLAN_CHECK), 0);
	assert_true(vdm_plan_applied(w.plan));
	assert_null(w.plan->gpus[1].entry); /* GPU 1 not selected: ignored */
	assert_int_equal(w.plan->n_selected, 1);
	done(&w);
}

static void test_plan_mismatch_text(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 230);
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "first-only", 0), 0);
	assert_false(vdm_plan_applied(w.plan));
	char *m = vdm_plan_mismatch(w.plan);
	assert_string_equal(m, "GPU 0 (0000:3b:00.0) has 1 x T4-1Q, the config wants 2 x T4-8Q");
	free(m);
	done(&w);
}

static void test_plan_unsupported_type(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "bad-type", VDM_PLAN_CHECK), -EINVAL);
	assert_string_equal(w.err, "t.yaml:18:9: vGPU type T4-3Q is not supported on GPU 0 "
				   "(0000:3b:00.0) (device 0x1EB8); it supports: T4-1Q, T4-2Q, "
				   "T4-4Q, T4-8Q, T4-16Q; did you mean T4-1Q or T4-2Q or T4-4Q?");
	assert_null(w.plan);
	done(&w);
}

static void test_plan_too_many(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "too-many", VDM_PLAN_CHECK), -ENOSPC);
	assert_string_equal(w.err, "GPU 0 (0000:3b:00.0): 17 x T4-1Q requested, but the GPU holds at most 16");
	done(&w);
}

static void test_plan_frame_buffer(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "too-big", VDM_PLAN_CHECK), -ENOSPC);
	assert_string_equal(w.err, "GPU 1 (0000:af:00.0): 1 x T4-4Q, 2 x T4-8Q needs 20480 MiB of "
				   "frame buffer, but the GPU has 16384 MiB");
	done(&w);
}

static void test_plan_live_capacity(void **state)
{
	(void)state;
	struct world w;
	/* The driver reports no room for T4-4Q next to what exists. */
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 0);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 232);
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "two-4q", VDM_PLAN_CHECK), -ENOSPC);
	assert_string_equal(w.err, "GPU 0 (0000:3b:00.0): cannot create 1 x T4-4Q next to 1 x T4-4Q: "
				   "the driver reports no room for more (available_instances)");
	done(&w);
}

static void test_plan_empty_removes_all(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	vgpu("0000:af:00.0", "11111111-0000-0000-0000-000000000000", 234);
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "empty", VDM_PLAN_CHECK), 0);
	assert_true(w.plan->gpus[0].matches);
	assert_false(w.plan->gpus[1].matches);
	assert_int_equal(w.plan->gpus[1].n_remove, 1);
	done(&w);
}

static void test_plan_no_gpu(void **state)
{
	(void)state;
	struct world w;
	pci("0000:00:1f.6", "0x8086", "0x15bb", "0x020000");
	scan(&w);
	assert_int_equal(plan_for(&w, t4_yaml, "all-4q", VDM_PLAN_CHECK), -ENODEV);
	assert_non_null(strstr(w.err, "no NVIDIA GPU found"));
	done(&w);
}

static void test_plan_no_manager(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	scan(&w);
	assert_int_equal(w.host->gpus[0].fw, VDM_FW_NONE);
	assert_int_equal(plan_for(&w, t4_yaml, "all-4q", VDM_PLAN_CHECK), -ENODEV);
	assert_non_null(strstr(w.err, "GPU 0 (0000:3b:00.0): no vGPU parent device found"));
	done(&w);
}

/* A GPU bound to vfio-pci is passed through, not missing a vGPU Manager. */
static void test_plan_vfio_pci(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	char drv[512];
	snprintf(drv, sizeof(drv), "%s/sys/bus/pci/devices/0000:3b:00.0/driver", root);
	assert_int_equal(unlink(drv), 0);
	link_to("sys/bus/pci/devices/0000:3b:00.0/driver", "../../drivers/vfio-pci");
	scan(&w);
	assert_string_equal(w.host->gpus[0].driver, "vfio-pci");
	assert_int_equal(plan_for(&w, t4_yaml, "all-4q", VDM_PLAN_CHECK), -ENODEV);
	assert_non_null(strstr(w.err, "GPU 0 (0000:3b:00.0): no vGPU can be created: it is bound to "
				      "vfio-pci, not to nvidia: it is passed through whole to a VM"));
	assert_null(strstr(w.err, "vGPU Manager installed"));
	done(&w);
}

/* Ampere-style: VFs are the parents, one vGPU each, creates go to free VFs in order. */
static void test_plan_sriov_vfs(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	put("sys/bus/pci/devices/0000:3b:00.0/sriov_totalvfs", "3\n");
	put("sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "3\n");
	const char *vfs[] = {"0000:3b:00.4", "0000:3b:00.5", "0000:3b:00.6"};
	for (int i = 0; i < 3; i++) {
		char rel[256];
		pci(vfs[i], "0x10de", "0x1eb8", "0x030200");
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/physfn", vfs[i]);
		link_to(rel, "../0000:3b:00.0");
		t4_types(vfs[i], 1);
	}
	vgpu("0000:3b:00.5", "11111111-0000-0000-0000-000000000000", 232);
	scan(&w);
	assert_int_equal(w.host->n_gpus, 1);
	assert_int_equal(w.host->gpus[0].n_parents, 3);
	assert_true(w.host->gpus[0].sriov);
	assert_int_equal(plan_for(&w, t4_yaml, "two-4q", VDM_PLAN_CHECK), 0);
	struct vdm_gpu_plan *gp = &w.plan->gpus[0];
	assert_int_equal(gp->n_keep, 1);
	assert_int_equal(gp->n_create, 1);
	assert_string_equal(gp->ops[gp->n_ops - 1].parent->addr, "0000:3b:00.4");
	vdm_plan_free(w.plan);
	vdm_spec_free(w.spec);
	w.plan = NULL;
	/* four 4Q need four VFs */
	assert_int_equal(plan_for(&w, t4_yaml, "all-4q", VDM_PLAN_CHECK), -ENOSPC);
	assert_string_equal(w.err, "GPU 0 (0000:3b:00.0): 4 vGPUs requested, but the GPU has 3 "
				   "virtual functions (one vGPU each)");
	done(&w);
}

static const char mig_yaml[] =
	"version: v1\n"
	"vgpu-configs:\n"
	"  dc:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        DC-1-24QGFX: 1\n";

static void test_plan_mig_suffix_matches_listed_name(void **state)
{
	(void)state;
	struct world w;
	pci("0000:3b:00.0", "0x10de", "0x2bb5", "0x030200");
	link_to("sys/class/mdev_bus/0000:3b:00.0", "../../bus/pci/devices/0000:3b:00.0");
	put("sys/bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-900/name",
	    "NVIDIA RTX Pro 6000 Blackwell DC-1-24Q\n");
	put("sys/bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-900/available_instances", "3\n");
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 900);
	scan(&w);
	assert_string_equal(w.host->gpus[0].types[0].name, "DC-1-24Q");
	/* no description file: the maximum comes from the catalogue (4 GPU instances) */
	assert_int_equal(w.host->gpus[0].types[0].max_instances, 4);
	assert_int_equal(plan_for(&w, mig_yaml, "dc", VDM_PLAN_CHECK), 0);
	assert_true(vdm_plan_applied(w.plan));
	done(&w);
}

static const char filter_yaml[] =
	"version: v1\n"
	"vgpu-configs:\n"
	"  default:\n"
	"    - device-filter: \"0x1EB810DE\"\n"
	"      devices: all\n"
	"      vgpu-devices:\n"
	"        T4-8Q: 2\n"
	"    - device-filter: \"0x1EB810DE\"\n"
	"      devices: all\n"
	"      vgpu-devices:\n"
	"        RTX6000P-12Q: 2\n"
	"    - device-filter: [\"0x20B510DE\"]\n"
	"      devices: all\n"
	"      vgpu-devices:\n"
	"        A100D-20C: 4\n";

static void test_plan_duplicate_filter_picks_supported(void **state)
{
	(void)state;
	struct world w;
	two_t4();
	scan(&w);
	assert_int_equal(plan_for(&w, filter_yaml, "default", VDM_PLAN_CHECK), 0);
	assert_int_equal(w.plan->gpus[0].entry->pos.line, 4);
	assert_int_equal(w.plan->gpus[0].n_create, 2);
	done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_order_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_create_on_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_keeps_and_removes_surplus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_applied_when_matching, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_mismatch_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_unsupported_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_frame_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_live_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_empty_removes_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_no_gpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_no_manager, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_vfio_pci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_sriov_vfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_mig_suffix_matches_listed_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_duplicate_filter_picks_supported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
