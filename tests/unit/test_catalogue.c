/* SPDX-License-Identifier: Apache-2.0 */
/* The GPU catalogue: look-ups, and every row consistent with the type-name
 * grammar the config parser uses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "spec/spec.h"

static void test_by_model(void **state)
{
	(void)state;
	const struct vdm_cat_gpu *g = vdm_cat_gpu_by_model("T4");

	assert_non_null(g);
	assert_string_equal(g->model, "T4");
	assert_int_equal(g->device_id, 0x1EB8);
	assert_int_equal(g->fb_mib, 16384);
	assert_int_equal(g->sriov_vfs, 0);
	assert_false(g->mig);
	assert_int_equal(g->mixed_size, 0);
	assert_ptr_equal(vdm_cat_gpu_by_model("t4"), g);
	assert_null(vdm_cat_gpu_by_model("T5"));
	assert_null(vdm_cat_gpu_by_model(NULL));
	g = vdm_cat_gpu_by_model("H100");
	assert_non_null(g);
	assert_true(g->mig);
	assert_int_equal(g->fb_mib, 81920);
}

static void test_by_pci(void **state)
{
	(void)state;
	const struct vdm_cat_gpu *g = vdm_cat_gpu_by_pci(0x26B9, 0x10DE, 0x1851);

	assert_non_null(g);
	assert_string_equal(g->model, "L40S");
	/* subsystem unknown: the device id decides */
	g = vdm_cat_gpu_by_pci(0x25B6, 0, 0);
	assert_non_null(g);
	assert_string_equal(g->model, "A16");
	g = vdm_cat_gpu_by_pci(0x25B6, 0x10DE, 0x14A9);
	assert_string_equal(g->model, "A16");
	assert_null(vdm_cat_gpu_by_pci(0x0001, 0x10DE, 0));
	/* one device id, two models: the subsystem decides */
	g = vdm_cat_gpu_by_pci(0x25B6, 0x10DE, 0x159D);
	assert_non_null(g);
	assert_string_equal(g->model, "A2");
	assert_string_equal(vdm_cat_gpu_by_pci(0x1E78, 0x10DE, 0x13D8)->model, "RTX8000P");
	assert_string_equal(vdm_cat_gpu_by_pci(0x1E78, 0x10DE, 0x13D9)->model, "RTX6000P");
	/* a second device id of a model (pci-ids.tsv) */
	g = vdm_cat_gpu_by_pci(0x20B8, 0x10DE, 0);
	assert_non_null(g);
	assert_string_equal(g->model, "A100D");
	assert_string_equal(vdm_cat_gpu_by_pci(0x2336, 0x10DE, 0x1234)->model, "H100XM");
	assert_true(vdm_cat_pci_count() >= 4);
}

static void test_types(void **state)
{
	(void)state;
	const struct vdm_cat_gpu *g = vdm_cat_gpu_by_model("T4"), *owner = NULL;
	const struct vdm_cat_type *t = vdm_cat_gpu_type(g, "T4-8Q");

	assert_non_null(t);
	assert_string_equal(t->suffix, "8Q");
	assert_int_equal(t->id, 233);
	assert_int_equal(t->series, 'Q');
	assert_int_equal(t->fb_mib, 8192);
	assert_int_equal(t->max_instances, 2);
	assert_null(t->gi_profile);
	assert_ptr_equal(vdm_cat_gpu_type(g, "8Q"), t);
	assert_ptr_equal(vdm_cat_gpu_type_by_id(g, 233), t);
	assert_null(vdm_cat_gpu_type_by_id(g, 0));
	assert_null(vdm_cat_gpu_type(g, "T4-3Q"));
	assert_ptr_equal(vdm_cat_type_by_name("T4-8Q", &owner), t);
	assert_ptr_equal(owner, g);
	t = vdm_cat_type_by_name("L40S-4C", &owner);
	assert_non_null(t);
	assert_string_equal(owner->model, "L40S");
	assert_int_equal(t->sim, VDM_CAT_SIM_UNOFFERED);
	assert_int_equal(t->max_instances, 12);
	assert_null(vdm_cat_type_by_name("L40S-5Q", NULL));
	assert_null(vdm_cat_type_by_name("T4", NULL));
}

static void test_series(void **state)
{
	(void)state;
	const struct vdm_cat_series *s = vdm_cat_series('C');

	assert_non_null(s);
	assert_string_equal(s->licence, "NVIDIA AI Enterprise");
	assert_string_equal(s->use, "compute");
	assert_true(s->cuda);
	assert_ptr_equal(vdm_cat_series('c'), s);
	assert_string_equal(vdm_cat_series('Q')->licence, "vWS");
	assert_true(vdm_cat_series('Q')->cuda);
	assert_false(vdm_cat_series('B')->cuda);
	assert_false(vdm_cat_series('A')->cuda);
	assert_string_equal(vdm_cat_series('A')->licence, "vApps");
	assert_null(vdm_cat_series('X'));
	assert_int_equal(vdm_cat_series_count(), 4);
}

/* Every row: the name parses with the config grammar, belongs to its
 * model, its series and size agree with the name, it fits the GPU, and
 * a MIG-backed type is on a MIG-capable GPU with a GI profile. */
static void test_rows_consistent(void **state)
{
	(void)state;
	size_t n_types = 0;

	assert_true(vdm_cat_gpu_count() >= 51);
	for (size_t i = 0; i < vdm_cat_gpu_count(); i++) {
		const struct vdm_cat_gpu *g = vdm_cat_gpu_at(i);

		assert_non_null(g->source);
		assert_true(g->n_types > 0);
		assert_ptr_equal(vdm_cat_gpu_by_model(g->model), g);
		if (g->sim) {
			assert_non_null(g->name_prefix);
			assert_true(g->gpus_per_board >= 1);
		}
		for (size_t j = 0; j < g->n_types; j++) {
			const struct vdm_cat_type *t = &g->types[j];
			struct vdm_vgpu_type p;
			const char *why = NULL;
			char base[64];

			n_types++;
			assert_non_null(t->source);
			assert_true(t->max_instances >= 1);
			assert_true(t->fb_mib <= g->fb_mib);
			assert_ptr_equal(vdm_cat_type_by_name(t->name, NULL), t);
			if (strstr(t->suffix, "B4")) /* 2B4: real, but not in upstream's grammar */
				continue;
			if (vdm_vgpu_type_parse(t->name, &p, &why) != 0)
				fail_msg("%s: %s", t->name, why);
			assert_string_equal(p.gpu, g->model);
			assert_int_equal(p.series, t->series);
			assert_int_equal(vdm_vgpu_type_is_mig(&p), t->gi_profile != NULL);
			if (t->gi_profile) {
				assert_true(g->mig);
				/* simulated only with the model's GI profiles */
				if (t->sim != VDM_CAT_SIM_NO) {
					assert_non_null(vdm_cat_gi_profile(g, t->gi_profile));
					assert_true(vdm_cat_type_per_gi(g, t) >= 1);
				}
			} else {
				assert_int_equal(t->fb_mib, p.gb ? (unsigned)p.gb * 1024 : 512);
			}
			assert_int_equal(vdm_vgpu_type_base_name(t->name, base, sizeof(base)), 0);
		}
	}
	assert_true(n_types >= 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_model),
		cmocka_unit_test(test_by_pci),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_rows_consistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
