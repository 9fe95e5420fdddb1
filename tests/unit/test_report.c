/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plan printers (apply --dry-run): vdm_plan_print and vdm_json_plan on
 * small sysfs trees, against golden files tests/golden/plan-*.{txt,json}.
 * VGPUDM_UPDATE_GOLDEN=1 rewrites the golden files from the output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "fake_sysfs.h"
#include "host/host.h"
#include "report/report.h"
#include "plan/plan.h"
#include "spec/spec.h"

/* Plan as apply does (with every check), then give the creates fixed ids so
 * that the output can be compared. */
static void plan_fixed(struct world *w, const char *yaml, const char *label)
{
	if (plan_for(w, yaml, label, VDM_PLAN_CHECK) != 0)
		fail_msg("plan: %s", w->err);
	unsigned n = 0;
	for (size_t g = 0; g < w->plan->n_gpus; g++)
		for (size_t o = 0; o < w->plan->gpus[g].n_ops; o++)
			if (w->plan->gpus[g].ops[o].kind == VDM_OP_CREATE)
				snprintf(w->plan->gpus[g].ops[o].id, sizeof(w->plan->gpus[g].ops[o].id),
					 "00000000-0000-0000-0000-%012u", ++n);
}

static char *printed(const struct vdm_plan *plan)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	vdm_plan_print(m, plan);
	fclose(m);
	return buf;
}

static char *as_json(const struct vdm_plan *plan)
{
	struct json_object *o = vdm_json_plan(plan);
	char *s = vdm_strdupf("%s\n", json_object_to_json_string_ext(
					      o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static const char yaml[] =
	"version: v1\n"
	"vgpu-configs:\n"
	"  change:\n"
	"    - devices: [0]\n"
	"      vgpu-devices:\n"
	"        T4-8Q: 2\n"
	"  two-4q:\n"
	"    - devices: all\n"
	"      vgpu-devices:\n"
	"        T4-4Q: 2\n"
	"  none:\n"
	"    - devices: all\n"
	"      vgpu-devices: {}\n";

/* GPU 0: 4 x T4-4Q -> 2 x T4-8Q (4 removes, 2 creates); GPU 1 not selected. */
static void test_print_change(void **state)
{
	(void)state;
	struct world w;
	two_t4_and_nic();
	vgpu("0000:3b:00.0", "44444444-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "33333333-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 232);
	scan(&w);
	plan_fixed(&w, yaml, "change");
	char *s = printed(w.plan);
	check_golden("plan-change.txt", s);
	free(s);
	s = as_json(w.plan);
	check_golden("plan-change.json", s);
	free(s);
	done(&w);
}

/* Keep, remove (one of a type the driver no longer lists) and create on two GPUs. */
static void test_print_mixed(void **state)
{
	(void)state;
	struct world w;
	two_t4_and_nic();
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "33333333-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "55555555-0000-0000-0000-000000000000", 999);
	scan(&w);
	assert_int_equal(w.host->gpus[0].n_vgpus, 4);
	plan_fixed(&w, yaml, "two-4q");
	struct vdm_gpu_plan *gp = &w.plan->gpus[0];
	assert_int_equal(gp->n_keep, 2);
	assert_int_equal(gp->n_remove, 2);
	assert_int_equal(w.plan->gpus[1].n_create, 2);
	char *s = printed(w.plan);
	check_golden("plan-mixed.txt", s);
	free(s);
	s = as_json(w.plan);
	check_golden("plan-mixed.json", s);
	free(s);
	done(&w);
}

/* Everything already matches: keeps only, and "(already applied)". */
static void test_print_applied(void **state)
{
	(void)state;
	struct world w;
	two_t4_and_nic();
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 233);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 233);
	scan(&w);
	plan_fixed(&w, yaml, "change");
	assert_true(vdm_plan_applied(w.plan));
	char *s = printed(w.plan);
	check_golden("plan-applied.txt", s);
	free(s);
	s = as_json(w.plan);
	check_golden("plan-applied.json", s);
	free(s);
	done(&w);
}

/* vgpu-devices: {} on a GPU with vGPUs and on an empty one. */
static void test_print_none(void **state)
{
	(void)state;
	struct world w;
	two_t4_and_nic();
	vgpu("0000:af:00.0", "11111111-0000-0000-0000-000000000000", 234);
	scan(&w);
	plan_fixed(&w, yaml, "none");
	char *s = printed(w.plan);
	assert_string_equal(s, "GPU 0 (0000:3b:00.0) T4: no vGPUs (already applied)\n"
			       "GPU 1 (0000:af:00.0) T4: 1 x T4-16Q -> no vGPUs\n"
			       "  remove  11111111-0000-0000-0000-000000000000  T4-16Q  on 0000:af:00.0\n"
			       "0 to create, 1 to remove, 0 kept\n");
	free(s);
	struct json_object *o = vdm_json_plan(w.plan);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"gpus\":[{\"index\":0,\"address\":\"0000:3b:00.0\",\"model\":\"T4\","
			    "\"selected\":true,\"applied\":true,\"current\":{},\"wanted\":{},"
			    "\"operations\":[]},{\"index\":1,\"address\":\"0000:af:00.0\",\"model\":"
			    "\"T4\",\"selected\":true,\"applied\":false,\"current\":{\"T4-16Q\":1},"
			    "\"wanted\":{},\"operations\":[{\"op\":\"remove\",\"id\":"
			    "\"11111111-0000-0000-0000-000000000000\",\"type\":\"T4-16Q\",\"type_id\":"
			    "\"nvidia-234\",\"parent\":\"0000:af:00.0\"}]}],\"create\":0,\"remove\":1,"
			    "\"keep\":0}");
	json_object_put(o);
	done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_print_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_none, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
