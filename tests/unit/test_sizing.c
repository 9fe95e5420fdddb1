/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sizing (the plan command's library): each rule, the operator's guide's
 * examples, unmeetable requests with their exact messages, every
 * time-sliced label of upstream's example reproduced from the catalogue,
 * and the table against golden files tests/golden/sizing-*.
 * VGPUDM_UPDATE_GOLDEN=1 rewrites those.
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
#include "sizing/sizing.h"
#include "sizing/sizing_int.h"
#include "spec/spec.h"

#define GB 1024L

/* A sizing of catalogue GPUs ("T4", "L40Sx2", ...; NULL-terminated). */
static struct vdm_sizing *gpus(const char *first, ...)
{
	struct vdm_sizing *s = vdm_sizing_new();
	va_list ap;
	va_start(ap, first);
	for (const char *m = first; m; m = va_arg(ap, const char *)) {
		char *err = NULL;
		if (vdm_sizing_add_model_arg(s, m, &err) != 0)
			fail_msg("%s: %s", m, err);
	}
	va_end(ap);
	return s;
}

struct req {
	struct vdm_sizing_group g[4];
	struct vdm_sizing_request r;
};

static struct vdm_sizing_request *one(struct req *q, int vms, long mem_mib, char series)
{
	memset(q, 0, sizeof(*q));
	q->g[0] = (struct vdm_sizing_group){.vms = vms, .memory_mib = mem_mib};
	q->r = (struct vdm_sizing_request){.groups = q->g, .n_groups = 1, .series = series};
	return &q->r;
}

static void run_ok(struct vdm_sizing *s, struct vdm_sizing_request *r)
{
	char *err = NULL;
	int rc = vdm_sizing_run(s, r, &err);
	if (rc != 0)
		fail_msg("run: %d %s %s", rc, err ? err : "", s->n_unmet ? s->unmet[0] : "");
}

static void expect_config(struct vdm_sizing *s, const char *want)
{
	char *text = vdm_sizing_config(s);
	assert_non_null(text);
	assert_string_equal(text, want);
	char *err = NULL;
	struct vdm_spec *spec = vdm_spec_parse("<t>", text, strlen(text), &err);
	if (!spec)
		fail_msg("%s", err);
	assert_non_null(vdm_spec_find(spec, s->label));
	vdm_spec_free(spec);
	free(text);
}

static void expect_unmet(struct vdm_sizing *s, struct vdm_sizing_request *r, const char *want)
{
	char *err = NULL;
	assert_int_equal(vdm_sizing_run(s, r, &err), -ENOSPC);
	assert_null(err);
	assert_int_equal(s->n_unmet, 1);
	assert_string_equal(s->unmet[0], want);
}

static int alloc_count(const struct vdm_sizing_gpu *g, const char *type)
{
	int n = 0;
	for (size_t a = 0; a < g->n_allocs; a++)
		if (!strcmp(g->types[g->allocs[a].type].name, type))
			n += g->allocs[a].count;
	return n;
}

/* ---- the guide's examples ---- */

static void test_guide_1x8q(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("T4", NULL);
	run_ok(s, one(&q, 1, 8 * GB, 'Q'));
	expect_config(s, "version: v1\nvgpu-configs:\n  T4-8Q:\n  - device-filter: \"0x1EB810DE\"\n"
			 "    devices: all\n    vgpu-devices:\n      T4-8Q: 1\n");
	vdm_sizing_free(s);
}

static void test_guide_4x2q(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("T4", NULL);
	run_ok(s, one(&q, 4, 2 * GB, 'Q'));
	expect_config(s, "version: v1\nvgpu-configs:\n  T4-2Q:\n  - device-filter: \"0x1EB810DE\"\n"
			 "    devices: all\n    vgpu-devices:\n      T4-2Q: 4\n");
	vdm_sizing_free(s);
}

/* (1 x 8Q) + (4 x 2Q) on two GPUs: one size per GPU, sizes spread. */
static void test_guide_two_gpus(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("T4x2", NULL);
	one(&q, 1, 8 * GB, 'Q');
	q.g[1] = (struct vdm_sizing_group){.vms = 4, .memory_mib = 2 * GB};
	q.r.n_groups = 2;
	run_ok(s, &q.r);
	expect_config(s, "version: v1\nvgpu-configs:\n  default:\n"
			 "  - device-filter: \"0x1EB810DE\"\n    devices: [0]\n    vgpu-devices:\n      T4-8Q: 1\n"
			 "  - device-filter: \"0x1EB810DE\"\n    devices: [1]\n    vgpu-devices:\n      T4-2Q: 4\n");
	char *t = vdm_sizing_table(s);
	check_golden("sizing-guide-two-t4.txt", t);
	free(t);
	vdm_sizing_free(s);
}

/* The issue's own unmeetable example. */
static void test_unmeetable(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("L40S", NULL);
	one(&q, 12, 8 * GB, 'C');
	q.r.cuda = true;
	expect_unmet(s, &q.r, "12 x 8 GB C-series needs 2 x L40S; the GPUs given have 1");
	assert_int_equal(q.g[0].placed, 6);
	char *t = vdm_sizing_table(s);
	check_golden("sizing-unmet-l40s.txt", t);
	free(t);
	vdm_sizing_free(s);

	s = gpus("L40S", "T4", NULL);
	expect_unmet(s, &q.r, "12 x 8 GB C-series: 8 placed, 4 short; that needs 1 more L40S "
			      "(6 per GPU as L40S-8C)");
	vdm_sizing_free(s);

	s = gpus("L40S", NULL);
	expect_unmet(s, one(&q, 2, 64 * GB, 'Q'),
		     "2 x 64 GB Q-series: no GPU given can take it (L40S: no Q-series type of 64 GB "
		     "or more (largest 48 GB))");
	vdm_sizing_free(s);
}

/* No size given and no size gives every VM a vGPU: the smallest size, said so, and the
 * shortfall counts vGPUs, not "x vGPUs" of no size. */
static void test_unmeetable_without_size(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("H100", NULL);
	one(&q, 30, 0, 'C');
	expect_unmet(s, &q.r, "30 C-series vGPUs need 2 x H100; the GPUs given have 1");
	char *t = vdm_sizing_table(s);
	assert_non_null(strstr(t, "the smallest C size: no size gives all 30 VMs a vGPU"));
	assert_null(strstr(t, "0 GB;"));
	free(t);
	vdm_sizing_free(s);
}

/* ---- the rules ---- */

/* The smallest listed size that gives each VM its memory. */
static void test_smallest_size(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("T4", NULL);
	run_ok(s, one(&q, 2, 3 * GB, 'Q'));        /* no 3Q on T4: 4Q */
	assert_int_equal(alloc_count(&s->gpus[0], "T4-4Q"), 2);
	run_ok(s, one(&q, 1, 4 * GB + 1, 'C'));    /* a MiB over 4 GB: 8C */
	assert_int_equal(alloc_count(&s->gpus[0], "T4-8C"), 1);
	vdm_sizing_free(s);
	s = gpus("L40S", NULL);
	run_ok(s, one(&q, 2, 3 * GB, 'Q'));        /* L40S lists 3Q */
	assert_int_equal(alloc_count(&s->gpus[0], "L40S-3Q"), 2);
	vdm_sizing_free(s);
}

/* Without --memory: the largest size that still gives every VM a vGPU. */
static void test_largest_that_fits(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("H100", NULL);
	run_ok(s, one(&q, 3, 0, 0));
	assert_int_equal(alloc_count(&s->gpus[0], "H100-20C"), 3);
	vdm_sizing_free(s);
	s = gpus("T4x2", NULL);
	run_ok(s, one(&q, 2, 0, 'Q'));
	assert_int_equal(alloc_count(&s->gpus[0], "T4-16Q") + alloc_count(&s->gpus[1], "T4-16Q"), 2);
	vdm_sizing_free(s);
}

/* Per GPU: min(type maximum, frame buffer / size, VFs). */
static void test_capacity_limits(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("L40S", NULL);
	one(&q, 0, 1 * GB, 'Q');
	q.g[0].fill = true;
	run_ok(s, &q.r);
	assert_int_equal(alloc_count(&s->gpus[0], "L40S-1Q"), 32);   /* the maximum, not 48 */
	s->gpus[0].vf_limit = 10;                                     /* fewer VFs */
	run_ok(s, &q.r);
	assert_int_equal(alloc_count(&s->gpus[0], "L40S-1Q"), 10);
	s->gpus[0].vf_limit = -1;
	for (size_t t = 0; t < s->gpus[0].n_types; t++)
		s->gpus[0].types[t].max_instances = -1;             /* maximum unknown: frame buffer */
	run_ok(s, &q.r);
	assert_int_equal(alloc_count(&s->gpus[0], "L40S-1Q"), 48);
	vdm_sizing_free(s);
}

/* One size per GPU unless mixed-size mode is there (or allowed and supported). */
static void test_one_size_per_gpu(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("L40S", NULL);
	one(&q, 1, 8 * GB, 'Q');
	q.g[1] = (struct vdm_sizing_group){.vms = 4, .memory_mib = 2 * GB};
	q.r.n_groups = 2;
	expect_unmet(s, &q.r, "4 x 2 GB Q-series needs 1 x L40S; the GPUs given have 1, "
			      "1 of them used by the other vGPUs");
	q.r.mixed_size = true;                                         /* L40S supports it */
	run_ok(s, &q.r);
	assert_true(s->gpus[0].mixed);
	assert_int_equal(alloc_count(&s->gpus[0], "L40S-8Q"), 1);
	assert_int_equal(alloc_count(&s->gpus[0], "L40S-2Q"), 4);
	assert_non_null(strstr(s->gpus[0].why, "switch the GPU to mixed-size mode first"));
	vdm_sizing_free(s);
	s = gpus("T4", NULL);                                          /* T4: no mixed-size mode */
	expect_unmet(s, &q.r, "4 x 2 GB Q-series needs 1 x T4; the GPUs given have 1, "
			      "1 of them used by the other vGPUs");
	s->gpus[0].mixed_mode = 1;                                     /* a host in the mode wins */
	q.r.mixed_size = false;
	run_ok(s, &q.r);
	assert_true(s->gpus[0].mixed);
	assert_non_null(strstr(s->gpus[0].why, "mixed-size mode"));
	vdm_sizing_free(s);
}

/* Time-sliced and MIG-backed never on one GPU. */
static void test_no_mig_with_time_sliced(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("H100", NULL);
	struct vdm_sizing_gpu *g = &s->gpus[0];
	g->types = vdm_xrealloc(g->types, g->n_types + 1, sizeof(*g->types));
	g->types[g->n_types++] = (struct vdm_sizing_type){
		.name = vdm_xstrdup("H100-1-10C"), .series = 'C', .fb_mib = 10 * GB,
		.max_instances = 7, .mig = true};
	g->mixed_mode = 1;
	run_ok(s, one(&q, 1, 8 * GB, 'C'));
	assert_int_equal(alloc_count(g, "H100-8C"), 1);
	assert_int_equal(vdm_sizing_room(g, &q.r, (int)g->n_types - 1), 0);
	/* --mig: the MIG-backed type, counted by GPU instances (7), not frame buffer */
	q.r.mig = true;
	one(&q, 0, 10 * GB, 'C');
	q.r.mig = true;
	q.g[0].fill = true;
	run_ok(s, &q.r);
	assert_int_equal(alloc_count(g, "H100-1-10C"), 7);
	assert_int_equal(alloc_count(g, "H100-8C"), 0);
	vdm_sizing_free(s);
}

/* --mig without MIG data says what is missing. */
static void test_mig_needs_catalogue(void **state)
{
	(void)state;
	struct req q;
	char *err = NULL;
	struct vdm_sizing *s = gpus("H100", NULL);
	struct vdm_sizing_gpu *g = &s->gpus[0];
	size_t k = 0;                      /* a MIG-capable GPU without MIG-backed rows */
	for (size_t t = 0; t < g->n_types; t++) {
		if (g->types[t].mig)
			free(g->types[t].name);
		else
			g->types[k++] = g->types[t];
	}
	g->n_types = k;
	one(&q, 2, 10 * GB, 'C');
	q.r.mig = true;
	assert_int_equal(vdm_sizing_run(s, &q.r, &err), -EINVAL);
	assert_string_equal(err, "--mig: MIG-backed sizing needs the MIG catalogue (MIG-backed types "
				 "and GPU-instance profiles), and it has none for H100 yet; plan "
				 "without --mig for time-sliced vGPUs");
	free(err);
	vdm_sizing_free(s);
	s = gpus("T4", NULL);
	assert_int_equal(vdm_sizing_run(s, &q.r, &err), -EINVAL);
	assert_string_equal(err, "--mig: no GPU given is MIG capable (T4)");
	free(err);
	vdm_sizing_free(s);
}

/* C-only GPUs get C types; CUDA means C, or Q where C is not offered. */
static void test_series_rules(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("H100", NULL);
	run_ok(s, one(&q, 2, 8 * GB, 0));
	assert_int_equal(alloc_count(&s->gpus[0], "H100-8C"), 2);
	assert_non_null(strstr(s->gpus[0].why, "C-only GPU"));
	expect_unmet(s, one(&q, 2, 8 * GB, 'Q'),
		     "2 x 8 GB Q-series: no GPU given can take it (H100: C-only GPU: offers no "
		     "Q-series type)");
	vdm_sizing_free(s);

	s = gpus("L40S", NULL);
	struct vdm_sizing_gpu *g = &s->gpus[0];
	size_t k = 0;                      /* as the real L40S driver: no C-series listed */
	for (size_t t = 0; t < g->n_types; t++) {
		if (g->types[t].series == 'C')
			free(g->types[t].name);
		else
			g->types[k++] = g->types[t];
	}
	g->n_types = k;
	one(&q, 2, 4 * GB, 'C');
	q.r.cuda = true;
	run_ok(s, &q.r);
	assert_int_equal(alloc_count(g, "L40S-4Q"), 2);
	assert_non_null(strstr(g->why, "Q runs CUDA too"));
	q.r.cuda = false;                  /* plain --series C: not offered */
	expect_unmet(s, &q.r, "2 x 4 GB C-series: no GPU given can take it (L40S: offers no "
			      "C-series type)");
	vdm_sizing_free(s);

	assert_int_equal(vdm_sizing_use_series("compute"), 'C');
	assert_int_equal(vdm_sizing_use_series("workstation"), 'Q');
	assert_int_equal(vdm_sizing_use_series("desktop"), 'B');
	assert_int_equal(vdm_sizing_use_series("apps"), 'A');
	assert_int_equal(vdm_sizing_use_series("games"), 0);
}

static void test_bad_requests(void **state)
{
	(void)state;
	struct req q;
	char *err = NULL;
	struct vdm_sizing *s = gpus("T4", NULL);
	one(&q, 1, 2 * GB, 'B');
	q.r.cuda = true;
	assert_int_equal(vdm_sizing_run(s, &q.r, &err), -EINVAL);
	assert_string_equal(err, "B-series vGPUs do not run CUDA (only C and Q do)");
	free(err);
	one(&q, 0, 0, 'Q');
	q.g[0].fill = true;
	assert_int_equal(vdm_sizing_run(s, &q.r, &err), -EINVAL);
	assert_string_equal(err, "--fill needs the size: --memory GB or --profile TYPE");
	free(err);
	vdm_sizing_free(s);
	s = vdm_sizing_new();
	assert_int_equal(vdm_sizing_add_model_arg(s, "T5", &err), -ENOENT);
	assert_non_null(strstr(err, "unknown GPU model \"T5\"; the catalogue knows: T4 V100"));
	free(err);
	assert_int_equal(vdm_sizing_add_model_arg(s, "T4x0", &err), -EINVAL);
	free(err);
	assert_int_equal(vdm_sizing_add_model_arg(s, "2xA100X", &err), 0);
	assert_int_equal(vdm_sizing_add_model_arg(s, "H100XMx3", &err), 0);
	assert_int_equal(s->n_gpus, 5);
	assert_string_equal(s->gpus[4].model, "H100XM");
	assert_int_equal(vdm_sizing_run(s, one(&q, 0, 0, 0), &err), -EINVAL);
	assert_string_equal(err, "say how many vGPUs: --vms N, or --fill");
	free(err);
	vdm_sizing_free(s);
}

/* Every time-sliced label of upstream's example (tests/data, vGPU 20.0) is
 * what `plan --gpu MODEL --profile TYPE --fill` writes: the label, one
 * entry, devices all, TYPE: N, and the default label's device filter. */
static void test_upstream_labels(void **state)
{
	(void)state;
	char *err = NULL;
	struct vdm_spec *ex = vdm_spec_load("tests/data/upstream/upstream-config-example.yaml", &err);
	if (!ex)
		fail_msg("%s", err);
	const struct vdm_config *def = vdm_spec_find(ex, "default");
	assert_non_null(def);
	int checked = 0;
	for (size_t i = 0; i < ex->n_configs; i++) {
		const struct vdm_config *c = &ex->configs[i];
		struct vdm_vgpu_type p;
		const char *why;
		if (!strcmp(c->label, "default") || vdm_vgpu_type_parse(c->label, &p, &why) != 0 ||
		    vdm_vgpu_type_is_mig(&p))
			continue;
		assert_int_equal(c->n_entries, 1);
		assert_int_equal(c->entries[0].n_types, 1);
		int want = c->entries[0].types[0].count;
		struct vdm_sizing *s = vdm_sizing_new();
		if (vdm_sizing_add_model(s, p.gpu, 1, &err) != 0)
			fail_msg("%s: %s", c->label, err);
		struct req q;
		one(&q, 0, 0, 0);
		q.g[0].fill = true;
		q.g[0].profile = c->label;
		run_ok(s, &q.r);
		assert_string_equal(s->label, c->label);
		char *text = vdm_sizing_config(s);
		/* the filter upstream's default label gives the model */
		char filter[24] = "";
		for (size_t e = 0; e < def->n_entries && !filter[0]; e++) {
			struct vdm_vgpu_type dp;
			if (vdm_vgpu_type_parse(def->entries[e].types[0].type, &dp, &why) == 0 &&
			    !strcmp(dp.gpu, p.gpu))
				vdm_devid_format(&def->entries[e].filters[0], filter, sizeof(filter));
		}
		char *expect = vdm_strdupf("version: v1\nvgpu-configs:\n  %s:\n  - device-filter: \"%s\"\n"
					   "    devices: all\n    vgpu-devices:\n      %s: %d\n",
					   c->label, filter, c->label, want);
		if (strcmp(text, expect) != 0)
			fail_msg("%s: got\n%swant\n%s", c->label, text, expect);
		free(expect);
		free(text);
		vdm_sizing_free(s);
		checked++;
	}
	assert_int_equal(checked, 471);
	vdm_spec_free(ex);
}

static void test_json(void **state)
{
	(void)state;
	struct req q;
	struct vdm_sizing *s = gpus("T4x2", NULL);
	one(&q, 1, 8 * GB, 'Q');
	q.g[1] = (struct vdm_sizing_group){.vms = 4, .memory_mib = 2 * GB};
	q.r.n_groups = 2;
	run_ok(s, &q.r);
	struct json_object *o = vdm_sizing_json(s);
	char *t = vdm_strdupf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
									     JSON_C_TO_STRING_SPACED));
	check_golden("sizing-guide-two-t4.json", t);
	free(t);
	json_object_put(o);
	vdm_sizing_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guide_1x8q),
		cmocka_unit_test(test_guide_4x2q),
		cmocka_unit_test(test_guide_two_gpus),
		cmocka_unit_test(test_unmeetable),
		cmocka_unit_test(test_unmeetable_without_size),
		cmocka_unit_test(test_smallest_size),
		cmocka_unit_test(test_largest_that_fits),
		cmocka_unit_test(test_capacity_limits),
		cmocka_unit_test(test_one_size_per_gpu),
		cmocka_unit_test(test_no_mig_with_time_sliced),
		cmocka_unit_test(test_mig_needs_catalogue),
		cmocka_unit_test(test_series_rules),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_upstream_labels),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
