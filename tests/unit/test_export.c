/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export: the host's layout as YAML (libyaml emitter) and JSON on small sysfs
 * trees; the output parses, has the label, and a plan from it finds the host
 * applied. vGPUs of types the driver no longer lists are left out with a warning.
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
#include "report/report.h"
#include "fake_sysfs.h"
#include "host/host.h"
#include "plan/plan.h"
#include "spec/spec.h"

struct logbuf {
	char text[4096];
	int n_warn;
};

static void capture(struct vdm_ctx *ctx, int prio, const char *msg, void *data)
{
	(void)ctx;
	struct logbuf *l = data;
	if (prio == VDM_LOG_WARN)
		l->n_warn++;
	size_t len = strlen(l->text);
	snprintf(l->text + len, sizeof(l->text) - len, "%s\n", msg);
}

struct export_world {
	struct vdm_ctx *ctx;
	struct vdm_host *host;
	struct logbuf log;
	char *err;
};

static void scan_logged(struct export_world *w)
{
	memset(w, 0, sizeof(*w));
	vdm_ctx_new(&w->ctx, root);
	vdm_ctx_set_log(w->ctx, VDM_LOG_WARN, capture, &w->log);
	assert_int_equal(vdm_host_scan(w->ctx, &w->host, &w->err), 0);
}

static void done_logged(struct export_world *w)
{
	vdm_host_free(w->host);
	vdm_ctx_free(w->ctx);
	free(w->err);
}

/* The text is a valid config with this label, and the host matches it. */
static void assert_round_trip(struct export_world *w, const char *text, const char *label)
{
	char *err = NULL;
	struct vdm_spec *spec = vdm_spec_parse("export", text, strlen(text), &err);
	if (!spec)
		fail_msg("export does not parse: %s\n%s", err, text);
	assert_int_equal(spec->n_configs, 1);
	const struct vdm_config *cfg = vdm_spec_find(spec, label);
	assert_non_null(cfg);
	struct vdm_plan *plan = NULL;
	if (vdm_plan_build(w->host, spec, cfg, 0, &plan, &err) != 0)
		fail_msg("plan: %s", err);
	assert_true(vdm_plan_applied(plan));
	assert_int_equal(plan->n_selected, vdm_export_n_gpus(w->host));
	vdm_plan_free(plan);
	vdm_spec_free(spec);
}

static void hosts_t4_t4_nomgr(void)
{
	pci("0000:af:00.0", "0x10de", "0x1eb8", "0x030200");
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	pci("0000:d8:00.0", "0x10de", "0x20b5", "0x030200"); /* no vGPU manager: left out */
	pci("0000:00:1f.6", "0x8086", "0x15bb", "0x020000");
	t4_types("0000:3b:00.0", 2);
	t4_types("0000:af:00.0", 4);
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 232);
}

static void test_yaml(void **state)
{
	(void)state;
	struct export_world w;
	hosts_t4_t4_nomgr();
	scan_logged(&w);
	assert_int_equal(w.host->n_gpus, 3);
	assert_int_equal(vdm_export_n_gpus(w.host), 2);
	char *y = vdm_export_yaml(w.host, NULL, &w.err);
	assert_non_null(y);
	assert_string_equal(y, "version: v1\n"
			       "vgpu-configs:\n"
			       "  current:\n"
			       "  - device-filter: \"0x1EB810DE\"\n"
			       "    devices: [0]\n"
			       "    vgpu-devices:\n"
			       "      T4-4Q: 2\n"
			       "  - device-filter: \"0x1EB810DE\"\n"
			       "    devices: [1]\n"
			       "    vgpu-devices: {}\n");
	assert_int_equal(w.log.n_warn, 0);
	assert_round_trip(&w, y, "current");
	free(y);
	done_logged(&w);
}

static void test_json(void **state)
{
	(void)state;
	struct export_world w;
	hosts_t4_t4_nomgr();
	scan_logged(&w);
	struct json_object *o = vdm_json_export(w.host, "mine", &w.err);
	assert_non_null(o);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_string_equal(s, "{\"version\":\"v1\",\"vgpu-configs\":{\"mine\":["
			       "{\"device-filter\":\"0x1EB810DE\",\"devices\":[0],\"vgpu-devices\":{\"T4-4Q\":2}},"
			       "{\"device-filter\":\"0x1EB810DE\",\"devices\":[1],\"vgpu-devices\":{}}]}}");
	assert_round_trip(&w, s, "mine");
	/* and as the CLI prints it */
	assert_round_trip(&w, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_SPACED),
			  "mine");
	json_object_put(o);
	done_logged(&w);
}

/* Several types in the GPU's type order (not the order vGPUs were found in). */
static void test_type_order(void **state)
{
	(void)state;
	struct export_world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 4);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 233);
	vgpu("0000:3b:00.0", "22222222-0000-0000-0000-000000000000", 230);
	vgpu("0000:3b:00.0", "33333333-0000-0000-0000-000000000000", 230);
	scan_logged(&w);
	char *y = vdm_export_yaml(w.host, "two types", &w.err);
	assert_non_null(y);
	assert_string_equal(y, "version: v1\n"
			       "vgpu-configs:\n"
			       "  two types:\n"
			       "  - device-filter: \"0x1EB810DE\"\n"
			       "    devices: [0]\n"
			       "    vgpu-devices:\n"
			       "      T4-1Q: 2\n"
			       "      T4-8Q: 1\n");
	assert_round_trip(&w, y, "two types");
	free(y);
	done_logged(&w);
}

/* A label that needs quoting in YAML is quoted by the emitter. */
static void test_label_quoted(void **state)
{
	(void)state;
	struct export_world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 4);
	scan_logged(&w);
	const char *labels[] = {"a: b", "#x", "- y", "true", "0x10", "\"q\"", "ü"};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		char *y = vdm_export_yaml(w.host, labels[i], &w.err);
		assert_non_null(y);
		assert_round_trip(&w, y, labels[i]);
		free(y);
	}
	done_logged(&w);
}

/* A vGPU whose type the driver no longer lists cannot be written: it is left
 * out and named in a warning. */
static void test_unlisted_type_warned(void **state)
{
	(void)state;
	struct export_world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	t4_types("0000:3b:00.0", 4);
	vgpu("0000:3b:00.0", "11111111-0000-0000-0000-000000000000", 232);
	vgpu("0000:3b:00.0", "99999999-0000-0000-0000-000000000000", 999);
	scan_logged(&w);
	assert_int_equal(w.host->gpus[0].n_vgpus, 2);
	char *y = vdm_export_yaml(w.host, NULL, &w.err);
	assert_non_null(y);
	assert_non_null(strstr(y, "      T4-4Q: 1\n"));
	assert_null(strstr(y, "999"));
	assert_int_equal(w.log.n_warn, 1);
	assert_non_null(strstr(w.log.text, "99999999-0000-0000-0000-000000000000"));
	assert_non_null(strstr(w.log.text, "nvidia-999"));
	assert_non_null(strstr(w.log.text, "GPU 0 (0000:3b:00.0)"));
	free(y);
	struct json_object *o = vdm_json_export(w.host, NULL, &w.err);
	assert_non_null(o);
	assert_int_equal(w.log.n_warn, 2);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"version\":\"v1\",\"vgpu-configs\":{\"current\":["
			    "{\"device-filter\":\"0x1EB810DE\",\"devices\":[0],\"vgpu-devices\":{\"T4-4Q\":1}}]}}");
	json_object_put(o);
	done_logged(&w);
}

static void test_nothing_to_export(void **state)
{
	(void)state;
	struct export_world w;
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	scan_logged(&w);
	assert_null(vdm_export_yaml(w.host, NULL, &w.err));
	assert_string_equal(w.err, "none of the host's 1 NVIDIA GPUs has a vGPU framework (mdev or "
				   "vendor VFIO); nothing to export");
	free(w.err);
	w.err = NULL;
	assert_null(vdm_json_export(w.host, NULL, &w.err));
	assert_non_null(strstr(w.err, "nothing to export"));
	done_logged(&w);
}

static void test_no_gpu(void **state)
{
	(void)state;
	struct export_world w;
	pci("0000:00:1f.6", "0x8086", "0x15bb", "0x020000");
	scan_logged(&w);
	assert_null(vdm_export_yaml(w.host, NULL, &w.err));
	assert_string_equal(w.err, "no NVIDIA GPU found; nothing to export");
	done_logged(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_yaml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_quoted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlisted_type_warned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_gpu, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
