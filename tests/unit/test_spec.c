/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration file parser: valid files (upstream's examples, filters,
 * aliases), every error message with its exact position (golden table),
 * entry selection and PCI device IDs.
 *
 * Data files are read from $VGPUDM_SRCDIR/tests/data/spec (default: the
 * current directory), upstream's examples from tests/data/upstream (copied
 * there with their source noted: the suite needs nothing outside the repo).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spec/spec.h"

/* The usual head of a document. */
#define V1 "version: v1\nvgpu-configs:\n"

/* ---- helpers ----------------------------------------------------------- */

static char *path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		p = NULL;
	assert_non_null(p);
	return p;
}

static const char *srcdir(void)
{
	const char *d = getenv("VGPUDM_SRCDIR");

	return d && *d ? d : ".";
}

/* A test data file's path, in a static buffer: nothing to free, so a test
 * that fails midway (cmocka jumps out of it) leaks nothing. */
static const char *data_file(const char *dir, const char *name)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, PATH_MAX, "%s/tests/data/%s/%s", srcdir(), dir, name);
	return p;
}

static const char *data_path(const char *name)
{
	return data_file("spec", name);
}

/* Upstream's example files, committed in tests/data/upstream (see its README). */
static const char *upstream_path(const char *name)
{
	return data_file("upstream", name);
}

static struct vdm_spec *load_ok(const char *path)
{
	char *err = (char *)"unset";
	struct vdm_spec *s = vdm_spec_load(path, &err);

	if (!s) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", err ? err : "(no message)");
		free(err);
		fail_msg("loading %s failed: %s", path, msg);
	}
	assert_null(err);
	return s;
}

static struct vdm_spec *parse_ok(const char *doc)
{
	char *err = (char *)"unset";
	struct vdm_spec *s = vdm_spec_parse("t.yaml", doc, strlen(doc), &err);

	if (!s) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", err ? err : "(no message)");
		free(err);
		fail_msg("parsing failed: %s\n--- document:\n%s", msg, doc);
	}
	assert_null(err);
	return s;
}

static const struct vdm_config *find(const struct vdm_spec *s, const char *label)
{
	const struct vdm_config *c = vdm_spec_find(s, label);

	if (!c)
		fail_msg("label '%s' not found", label);
	return c;
}

static void assert_types(const struct vdm_entry *e, size_t n, ...)
{
	va_list ap;

	assert_int_equal(e->n_types, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *type = va_arg(ap, const char *);
		int count = va_arg(ap, int);

		assert_string_equal(e->types[i].type, type);
		assert_int_equal(e->types[i].count, count);
	}
	va_end(ap);
}

static void assert_devices(const struct vdm_entry *e, size_t n, ...)
{
	va_list ap;

	assert_false(e->all_devices);
	assert_int_equal(e->n_devices, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(e->devices[i], va_arg(ap, int));
	va_end(ap);
}

static void assert_filter(const struct vdm_entry *e, size_t i, const char *text)
{
	char buf[32];

	assert_true(i < e->n_filters);
	vdm_devid_format(&e->filters[i], buf, sizeof(buf));
	assert_string_equal(buf, text);
}

/* ---- upstream's examples --------------------------------------------------- */

static void test_upstream_example(void **state)
{
	const char *path = upstream_path("upstream-config-example.yaml");
	struct vdm_spec *s;
	FILE *f;
	char line[512];
	size_t labels = 0, entries = 0;

	(void)state;
	s = load_ok(path);
	assert_string_equal(s->source, path);
	assert_int_equal(s->n_configs, 711);

	for (size_t i = 0; i < s->n_configs; i++) {
		const struct vdm_config *c = &s->configs[i];

		assert_ptr_equal(vdm_spec_find(s, c->label), c);
		assert_true(c->n_entries >= 1);
		for (size_t j = 0; j < c->n_entries; j++) {
			const struct vdm_entry *e = &c->entries[j];

			entries++;
			assert_true(e->all_devices);
			assert_true(e->n_types >= 1);
			for (size_t k = 0; k < e->n_types; k++) {
				struct vdm_vgpu_type t;
				const char *why = NULL;

				if (vdm_vgpu_type_parse(e->types[k].type, &t, &why) != 0)
					fail_msg("%s: type '%s': %s", c->label, e->types[k].type, why);
				assert_true(e->types[k].count > 0);
			}
		}
	}

	/* Independently of the parser: every label line ("    NAME:") of the
	 * file must be findable, at that line. */
	f = fopen(path, "r");
	assert_non_null(f);
	for (int lineno = 1; fgets(line, sizeof(line), f); lineno++) {
		size_t n = strcspn(line, "\r\n");
		const struct vdm_config *c;

		line[n] = '\0';
		if (n < 6 || strncmp(line, "    ", 4) != 0 || line[4] == ' ' || line[4] == '-' ||
		    line[n - 1] != ':')
			continue;
		line[n - 1] = '\0';
		c = find(s, line + 4);
		assert_int_equal(c->pos.line, lineno);
		assert_int_equal(c->pos.col, 5);
		labels++;
	}
	fclose(f);
	assert_int_equal(labels, 711);
	assert_int_equal(entries, 766);

	/* a few spot checks */
	{
		const struct vdm_config *c = find(s, "DC-1-24QGFX");

		assert_int_equal(c->n_entries, 1);
		assert_types(&c->entries[0], 1, "DC-1-24QGFX", 4);
		assert_int_equal(c->entries[0].n_filters, 0);

		c = find(s, "default");
		assert_int_equal(c->n_entries, 56);
		assert_filter(&c->entries[0], 0, "0x1DB110DE");
		assert_types(&c->entries[0], 1, "V100X-8Q", 2);
		assert_filter(&c->entries[55], 0, "0x318210DE");
		assert_types(&c->entries[55], 1, "B300X-269C", 1);
	}
	vdm_spec_free(s);
}

static void test_upstream_t4(void **state)
{
	const char *path = upstream_path("upstream-config-t4.yaml");
	struct vdm_spec *s;
	const struct vdm_config *c;
	static const char *const labels[] = {
		"T4-1Q", "T4-2Q", "T4-4Q", "T4-8Q", "T4-16Q", "T4-small", "T4-medium", "T4-large",
	};

	(void)state;
	s = load_ok(path);
	assert_int_equal(s->n_configs, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_string_equal(s->configs[i].label, labels[i]);
		assert_ptr_equal(vdm_spec_find(s, labels[i]), &s->configs[i]);
	}
	c = find(s, "T4-1Q");
	assert_int_equal(c->n_entries, 1);
	assert_true(c->entries[0].all_devices);
	assert_types(&c->entries[0], 1, "T4-1Q", 16);

	c = find(s, "T4-medium");
	assert_int_equal(c->n_entries, 2);
	assert_devices(&c->entries[0], 1, 0);
	assert_types(&c->entries[0], 1, "T4-4Q", 4);
	assert_devices(&c->entries[1], 1, 1);
	assert_types(&c->entries[1], 1, "T4-8Q", 2);

	assert_null(vdm_spec_find(s, "T4-1q"));
	assert_null(vdm_spec_find(s, ""));
	assert_null(vdm_spec_find(s, NULL));
	assert_null(vdm_spec_find(NULL, "T4-1Q"));
	vdm_spec_free(s);
}

/* The one-off example of upstream's README, piped to "-f -". */
static void test_readme_stdin(void **state)
{
	const char *path = data_path("readme-oneoff.yaml");
	struct vdm_spec *s;
	const struct vdm_config *c;

	(void)state;
	assert_non_null(freopen(path, "r", stdin));
	s = load_ok("-");
	assert_string_equal(s->source, "<stdin>");
	assert_int_equal(s->n_configs, 1);
	c = find(s, "T4-1Q");
	assert_int_equal(c->pos.line, 3);
	assert_int_equal(c->pos.col, 3);
	assert_int_equal(c->n_entries, 1);
	assert_int_equal(c->entries[0].pos.line, 4);
	assert_int_equal(c->entries[0].pos.col, 5);
	assert_true(c->entries[0].all_devices);
	assert_int_equal(c->entries[0].n_filters, 0);
	assert_types(&c->entries[0], 1, "T4-1Q", 16);
	assert_int_equal(c->entries[0].types[0].pos.line, 6);
	assert_int_equal(c->entries[0].types[0].pos.col, 7);
	vdm_spec_free(s);
}

/* ---- valid forms --------------------------------------------------------------- */

static void test_filters_file(void **state)
{
	const char *path = data_path("filters.yaml");
	struct vdm_spec *s;
	const struct vdm_config *c;
	const struct vdm_entry *e;

	(void)state;
	s = load_ok(path);
	assert_int_equal(s->n_configs, 3);

	c = find(s, "a16-mixed");
	assert_int_equal(c->n_entries, 3);
	e = &c->entries[0];
	assert_int_equal(e->n_filters, 1);
	assert_true(e->filters[0].has_subsys);
	assert_int_equal(e->filters[0].device, 0x25B6);
	assert_int_equal(e->filters[0].vendor, 0x10DE);
	assert_int_equal(e->filters[0].subsys_device, 0x14A9);
	assert_int_equal(e->filters[0].subsys_vendor, 0x10DE);
	assert_true(e->all_devices);
	assert_types(e, 1, "A16-4Q", 4);

	e = &c->entries[1];
	assert_int_equal(e->n_filters, 2);
	assert_filter(e, 0, "0x25B610DE:0x157E10DE");
	assert_filter(e, 1, "0x20B510DE");
	assert_false(e->filters[1].has_subsys);
	assert_devices(e, 3, 0, 2, 5);
	assert_types(e, 2, "A2-8Q", 2, "A2-4Q", 1);
	assert_int_equal(e->types[1].pos.line, 13);
	assert_int_equal(e->types[1].pos.col, 9);

	e = &c->entries[2];
	assert_int_equal(e->n_filters, 1);
	assert_filter(e, 0, "0x1EB810DE");
	assert_int_equal(e->n_types, 0);
	assert_null(e->types);

	c = find(s, "no-filter");
	assert_int_equal(c->n_entries, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c->entries[i].n_filters, 0);
	assert_true(c->entries[0].all_devices);
	assert_types(&c->entries[0], 1, "T4-1Q", 1);
	assert_true(c->entries[1].all_devices); /* "all" quoted */
	assert_int_equal(c->entries[1].n_types, 0); /* "vgpu-devices:" empty */
	assert_devices(&c->entries[2], 0);
	assert_int_equal(c->entries[2].n_types, 0);

	c = find(s, "big-index");
	assert_devices(&c->entries[0], 2, INT_MAX, 0);
	vdm_spec_free(s);
}

static void test_anchors_file(void **state)
{
	const char *path = data_path("anchors.yaml");
	struct vdm_spec *s;
	const struct vdm_config *c;
	const struct vdm_entry *e;

	(void)state;
	s = load_ok(path);
	assert_int_equal(s->n_configs, 4);

	c = find(s, "a100-small");
	assert_int_equal(c->n_entries, 1);
	assert_true(c->entries[0].all_devices);
	assert_types(&c->entries[0], 1, "A100-1-5C", 7);

	c = find(s, "a100-small-again");
	assert_int_equal(c->n_entries, 1);
	assert_true(c->entries[0].all_devices);
	assert_types(&c->entries[0], 1, "A100-1-5C", 7);

	c = find(s, "a100-split");
	assert_int_equal(c->n_entries, 2);
	assert_devices(&c->entries[0], 1, 0);
	assert_types(&c->entries[0], 1, "A100-1-5C", 7);
	assert_devices(&c->entries[1], 1, 1);
	assert_types(&c->entries[1], 1, "A100-2-10C", 3);

	c = find(s, "a100-merge");
	assert_int_equal(c->n_entries, 3);
	e = &c->entries[0]; /* explicit devices win over the merged ones */
	assert_devices(e, 2, 2, 3);
	assert_types(e, 1, "A100-1-5C", 7);
	assert_int_equal(e->n_filters, 0);
	e = &c->entries[1]; /* the first merged mapping wins */
	assert_true(e->all_devices);
	assert_types(e, 1, "A100-1-5C", 7);
	assert_filter(e, 0, "0x20B010DE");
	e = &c->entries[2];
	assert_devices(e, 1, 4);
	assert_types(e, 2, "A100-1-5C", 7, "A100-1-5CME", 1);
	vdm_spec_free(s);
}

static void test_inline_valid(void **state)
{
	struct vdm_spec *s;
	const struct vdm_config *c;

	(void)state;
	/* explicit document markers, quoted version, flow style everywhere */
	s = parse_ok("%YAML 1.1\n---\nversion: \"v1\"\n"
		     "vgpu-configs: {x: [{devices: [3, 1], vgpu-devices: {'A40-48Q': 1}}]}\n...\n");
	c = find(s, "x");
	assert_devices(&c->entries[0], 2, 3, 1);
	assert_types(&c->entries[0], 1, "A40-48Q", 1);
	vdm_spec_free(s);

	/* a whole entry and a whole list reused through aliases; order kept */
	s = parse_ok("version: v1\n"
		     "vgpu-configs:\n"
		     "  zeta: &l\n"
		     "  - &e\n"
		     "    devices: all\n"
		     "    vgpu-devices: {M60-0Q: 32, M60-1Q: 16}\n"
		     "  - *e\n"
		     "  alpha: *l\n"
		     "  mid:\n"
		     "  - *e\n");
	assert_int_equal(s->n_configs, 3);
	assert_string_equal(s->configs[0].label, "zeta");
	assert_string_equal(s->configs[1].label, "alpha");
	assert_string_equal(s->configs[2].label, "mid");
	c = find(s, "alpha");
	assert_int_equal(c->n_entries, 2);
	assert_types(&c->entries[1], 2, "M60-0Q", 32, "M60-1Q", 16);
	assert_int_equal(c->pos.line, 8);
	assert_int_equal(c->entries[0].pos.line, 4); /* an alias reports its anchor */
	vdm_spec_free(s);

	/* a label that looks like a number, a count at INT_MAX, MIG attributes */
	s = parse_ok("version: v1\n"
		     "vgpu-configs:\n"
		     "  1:\n"
		     "  - devices: [0]\n"
		     "    vgpu-devices:\n"
		     "      A100-1-5CME: 1\n"
		     "      A100-1-5CNOME: 2147483647\n"
		     "      A100-3-20C: 1\n");
	c = find(s, "1");
	assert_types(&c->entries[0], 3, "A100-1-5CME", 1, "A100-1-5CNOME", INT_MAX, "A100-3-20C", 1);
	vdm_spec_free(s);

	/* empty merges change nothing */
	s = parse_ok(V1 "  a:\n  - <<: []\n    devices: all\n    vgpu-devices: {<<: {}, T4-1Q: 2}\n");
	c = find(s, "a");
	assert_true(c->entries[0].all_devices);
	assert_types(&c->entries[0], 1, "T4-1Q", 2);
	vdm_spec_free(s);

	/* merged keys keep their order, in place of the "<<"; an explicit key
	 * stays where it is written */
	s = parse_ok(V1 "  a:\n  - devices: all\n    vgpu-devices:\n      T4-1B: 9\n"
		     "      <<: [{T4-1Q: 1, T4-2Q: 2, T4-4Q: 3, T4-8Q: 4, T4-16Q: 5, T4-1A: 6, T4-2A: 7},\n"
		     "           {T4-16Q: 50, T4-4A: 8}]\n"
		     "      T4-2B: 10\n"
		     "      T4-2Q: 20\n");
	c = find(s, "a");
	assert_types(&c->entries[0], 10, "T4-1B", 9, "T4-1Q", 1, "T4-4Q", 3, "T4-8Q", 4, "T4-16Q", 5,
		     "T4-1A", 6, "T4-2A", 7, "T4-4A", 8, "T4-2B", 10, "T4-2Q", 20);
	assert_int_equal(c->entries[0].types[9].pos.line, 10);
	assert_int_equal(c->entries[0].types[4].pos.line, 7); /* the first T4-16Q wins */
	vdm_spec_free(s);

	/* an error pointer is optional, also on success */
	{
		const char *doc = "version: v1\nvgpu-configs: {a: [{devices: all, vgpu-devices: {}}]}\n";

		s = vdm_spec_parse("t.yaml", doc, strlen(doc), NULL);
	}
	assert_non_null(s);
	vdm_spec_free(s);
	vdm_spec_free(NULL);
}

/* ---- the golden table of errors ------------------------------------------------ */

struct bad_case {
	const char *name;
	const char *doc;
	size_t len; /* 0: strlen(doc) */
	const char *want;
};

#define B10 "[[[[[[[[[["
#define ENTRY(body) V1 "  a:\n  - " body
#define TYPES(body) ENTRY("devices: all\n    vgpu-devices:\n") body

static const struct bad_case bad[] = {
	/* documents and YAML syntax */
	{ "empty input", "", 0, "t.yaml:1:1: empty document" },
	{ "only comments", "# nothing here\n\n", 0, "t.yaml:1:1: empty document" },
	{ "second document", "version: v1\n---\nversion: v1\n", 0,
	  "t.yaml:2:1: expected a single document, found another" },
	{ "second document after end marker", "version: v1\n...\n---\nfoo: bar\n", 0,
	  "t.yaml:3:1: expected a single document, found another" },
	{ "bare second document", "version: v1\n...\nfoo: bar\n", 0,
	  "t.yaml:3:1: did not find expected <document start>" },
	{ "empty second document", "version: v1\n---\n", 0,
	  "t.yaml:2:1: expected a single document, found another" },
	{ "syntax error in second document", "version: v1\n---\n[\n", 0,
	  "t.yaml:2:1: expected a single document, found another" },
	{ "nesting too deep", V1 "  a: " B10 B10 B10 B10 B10 B10 B10 B10 "\n", 0,
	  "t.yaml:3:68: nesting is too deep (more than 64 levels)" },
	{ "unclosed flow", V1 "  a: [\n", 0, "t.yaml:4:1: did not find expected node content" },
	{ "unclosed flow mapping", V1 "  a: [{devices: all, vgpu-devices: {}]\n", 0,
	  "t.yaml:3:38: did not find expected ',' or '}' (while parsing a flow mapping at line 3, column 7)" },
	{ "unclosed quote", "version: \"v1\n", 0,
	  "t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at line 1, column 10)" },
	{ "tab indentation", "version: v1\n\tvgpu-configs: {}\n", 0,
	  "t.yaml:2:1: found a tab character that violates indentation (while scanning a plain scalar at line 1, column 10)" },
	{ "tab before a key", V1 "  a:\n\t- devices: all\n", 0,
	  "t.yaml:4:1: found character that cannot start any token" },
	{ "bad indentation", ENTRY("devices: all\n   vgpu-devices: {}\n"), 0,
	  "t.yaml:5:4: did not find expected key (while parsing a block mapping at line 3, column 3)" },
	{ "mapping value in scalar", "version: v1: v2\n", 0,
	  "t.yaml:1:12: mapping values are not allowed in this context" },
	{ "duplicate anchor", "version: &a v1\nvgpu-configs: &a {}\n", 0,
	  "t.yaml:2:15: duplicate anchor (first defined on line 1)" },
	{ "undefined alias", "version: *v\n", 0, "t.yaml:1:10: found undefined alias" },
	{ "control character", "version: v1\x01\n", 0,
	  "t.yaml:1:12: control characters are not allowed" },
	{ "invalid UTF-8", "version: v1\nvgpu-configs: \xff\n", 0,
	  "t.yaml:2:15: invalid leading UTF-8 octet" },
	{ "NUL byte", "version: v1\0\n", 13, "t.yaml:1:12: control characters are not allowed" },

	/* top level */
	{ "root is a list", "- version: v1\n", 0,
	  "t.yaml:1:1: expected a mapping with 'version' and 'vgpu-configs', got a list" },
	{ "root is a string", "hello\n", 0,
	  "t.yaml:1:1: expected a mapping with 'version' and 'vgpu-configs', got \"hello\"" },
	{ "root is empty", "---\n", 0,
	  "t.yaml:2:1: expected a mapping with 'version' and 'vgpu-configs', got an empty value" },
	{ "missing version", "vgpu-configs:\n  a:\n  - devices: all\n    vgpu-devices: {}\n", 0,
	  "t.yaml:1:1: missing required field 'version'" },
	{ "missing vgpu-configs", "\n\nversion: v1\n", 0,
	  "t.yaml:3:1: missing required field 'vgpu-configs'" },
	{ "unknown version", "version: v2\nvgpu-configs: {}\n", 0,
	  "t.yaml:1:10: unknown version \"v2\" (expected v1)" },
	{ "numeric version", "version: 1\n", 0, "t.yaml:1:10: unknown version \"1\" (expected v1)" },
	{ "quoted wrong version", "version: 'V1'\n", 0,
	  "t.yaml:1:10: unknown version \"V1\" (expected v1)" },
	{ "empty version", "version:\nvgpu-configs: {}\n", 0,
	  "t.yaml:1:1: unknown version \"\" (expected v1)" },
	{ "version is a list", "version: [v1]\n", 0,
	  "t.yaml:1:10: version: expected a string, got a list" },
	{ "unexpected top-level field", "version: v1\nfoo: bar\nvgpu-configs: {}\n", 0,
	  "t.yaml:2:1: unexpected field 'foo'" },
	{ "misspelled version", "verison: v1\n", 0, "t.yaml:1:1: unexpected field 'verison'" },
	{ "wrong version comes before unexpected fields", "foo: 1\nversion: v0\n", 0,
	  "t.yaml:2:10: unknown version \"v0\" (expected v1)" },
	{ "duplicate version", "version: v1\nversion: v1\n", 0,
	  "t.yaml:2:1: duplicate key 'version' (first defined on line 1)" },
	{ "list as key", "version: v1\n[a]: b\n", 0, "t.yaml:2:1: keys must be strings, got a list" },
	{ "mapping as key", "version: v1\n? {a: b}\n: c\n", 0,
	  "t.yaml:2:3: keys must be strings, got a mapping" },
	{ "no labels", "version: v1\nvgpu-configs: {}\n", 0,
	  "t.yaml:2:15: vgpu-configs: at least one label is required" },
	{ "empty vgpu-configs", "version: v1\nvgpu-configs:\n", 0,
	  "t.yaml:2:1: vgpu-configs: at least one label is required" },
	{ "null vgpu-configs", "version: v1\nvgpu-configs: ~\n", 0,
	  "t.yaml:2:15: vgpu-configs: at least one label is required" },
	{ "vgpu-configs is a list", V1 "- a\n", 0,
	  "t.yaml:3:1: vgpu-configs: expected a mapping of labels to lists of entries, got a list" },
	{ "vgpu-configs is a string", "version: v1\nvgpu-configs: all\n", 0,
	  "t.yaml:2:15: vgpu-configs: expected a mapping of labels to lists of entries, got \"all\"" },

	/* labels */
	{ "label without entries", V1 "  a:\n", 0,
	  "t.yaml:3:3: label 'a': at least one entry is required" },
	{ "label with empty list", V1 "  b: []\n", 0,
	  "t.yaml:3:3: label 'b': at least one entry is required" },
	{ "label is a mapping", V1 "  T4-1Q:\n    devices: all\n    vgpu-devices: {}\n", 0,
	  "t.yaml:4:5: label 'T4-1Q': expected a list of entries, got a mapping" },
	{ "label is a string", V1 "  a: all\n", 0,
	  "t.yaml:3:6: label 'a': expected a list of entries, got \"all\"" },
	{ "duplicate label",
	  V1 "  a:\n  - devices: all\n    vgpu-devices: {}\n"
	     "  b:\n  - devices: all\n    vgpu-devices: {}\n"
	     "  a:\n  - devices: all\n    vgpu-devices: {}\n", 0,
	  "t.yaml:9:3: duplicate key 'a' (first defined on line 3)" },
	{ "earliest second occurrence is reported",
	  V1 "  a: [{devices: all, vgpu-devices: {}}]\n"
	     "  b: [{devices: all, vgpu-devices: {}}]\n"
	     "  b: [{devices: all, vgpu-devices: {}}]\n"
	     "  a: [{devices: all, vgpu-devices: {}}]\n", 0,
	  "t.yaml:5:3: duplicate key 'b' (first defined on line 4)" },
	{ "duplicate label, quoted", V1 "  a: [{devices: all, vgpu-devices: {}}]\n  \"a\": []\n", 0,
	  "t.yaml:4:3: duplicate key 'a' (first defined on line 3)" },
	{ "alias cycle", V1 "  a: &x [*x]\n", 0,
	  "t.yaml:3:6: expected an entry with 'devices' and 'vgpu-devices', got a list" },

	/* entries */
	{ "entry is a string", ENTRY("all\n"), 0,
	  "t.yaml:4:5: expected an entry with 'devices' and 'vgpu-devices', got \"all\"" },
	{ "entry is a list", ENTRY("[0]\n"), 0,
	  "t.yaml:4:5: expected an entry with 'devices' and 'vgpu-devices', got a list" },
	{ "missing devices", ENTRY("vgpu-devices: {}\n"), 0,
	  "t.yaml:4:5: missing required field 'devices'" },
	{ "missing vgpu-devices", ENTRY("devices: all\n"), 0,
	  "t.yaml:4:5: missing required field 'vgpu-devices'" },
	{ "missing both", ENTRY("device-filter: 0x1EB810DE\n"), 0,
	  "t.yaml:4:5: missing required field 'devices'" },
	{ "missing in a later entry", V1 "  a:\n  - devices: all\n    vgpu-devices: {}\n  - {devices: [1]}\n", 0,
	  "t.yaml:6:5: missing required field 'vgpu-devices'" },
	{ "unexpected entry field", ENTRY("devices: all\n    device_filter: x\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:5:5: unexpected field 'device_filter'" },
	{ "mig-devices is not ours", ENTRY("devices: all\n    mig-devices: {}\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:5:5: unexpected field 'mig-devices'" },
	{ "duplicate entry field", ENTRY("devices: all\n    devices: [0]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:5:5: duplicate key 'devices' (first defined on line 4)" },

	/* devices */
	{ "devices is a word", ENTRY("devices: some\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:14: devices: expected 'all' or a list of GPU indexes, got \"some\"" },
	{ "devices is All", ENTRY("devices: All\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:14: devices: expected 'all' or a list of GPU indexes, got \"All\"" },
	{ "devices is a number", ENTRY("devices: 0\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:14: devices: expected 'all' or a list of GPU indexes, got \"0\"" },
	{ "devices is a mapping", ENTRY("devices: {0: x}\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:14: devices: expected 'all' or a list of GPU indexes, got a mapping" },
	{ "devices is empty", ENTRY("devices:\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:5: devices: expected 'all' or a list of GPU indexes, got an empty value" },
	{ "quoted index", ENTRY("devices: [\"0\"]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got quoted string \"0\"" },
	{ "negative index", ENTRY("devices: [0, -1]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:18: devices: GPU index must be a non-negative integer, got \"-1\"" },
	{ "fractional index", ENTRY("devices: [1.5]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got \"1.5\"" },
	{ "leading zero index", ENTRY("devices: [01]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got \"01\"" },
	{ "plus sign index", ENTRY("devices: [+1]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got \"+1\"" },
	{ "hex index", ENTRY("devices: [0x1]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got \"0x1\"" },
	{ "word index", ENTRY("devices: [all]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got \"all\"" },
	{ "block list index", ENTRY("devices:\n      - 0\n      - one\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:6:9: devices: GPU index must be a non-negative integer, got \"one\"" },
	{ "index too large", ENTRY("devices: [2147483648]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index is too large (maximum 2147483647), got \"2147483648\"" },
	{ "index far too large", ENTRY("devices: [99999999999999999999999]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index is too large (maximum 2147483647), got \"99999999999999999999999\"" },
	{ "nested list index", ENTRY("devices: [[0]]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:15: devices: GPU index must be a non-negative integer, got a list" },

	/* device-filter */
	{ "short filter", ENTRY("device-filter: \"0x1EB8\"\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"0x1EB8\": "
	  "expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE" },
	{ "filter without 0x", ENTRY("device-filter: 1EB810DE\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"1EB810DE\": "
	  "expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE" },
	{ "model name as filter", ENTRY("device-filter: [0x1EB810DE, MODEL]\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:33: invalid device filter \"MODEL\": "
	  "expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE" },
	{ "short subsystem", ENTRY("device-filter: \"0x25B610DE:0x14A9\"\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"0x25B610DE:0x14A9\": "
	  "subsystem must be 0x and 8 hex digits (subsystem device then vendor ID), e.g. 0x12A210DE" },
	{ "empty subsystem", ENTRY("device-filter: \"0x25B610DE:\"\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"0x25B610DE:\": "
	  "subsystem must be 0x and 8 hex digits (subsystem device then vendor ID), e.g. 0x12A210DE" },
	{ "extra separator", ENTRY("device-filter: \"0x25B610DE:0x14A910DE:extra\"\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"0x25B610DE:0x14A910DE:extra\": "
	  "expected <device-vendor> or <device-vendor>:<subsystem>, found more than one ':'" },
	{ "filter is a mapping", ENTRY("device-filter: {a: b}\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: device-filter: expected a PCI device ID or a list of them, got a mapping" },
	{ "filter list holds a list", ENTRY("device-filter: [[0x1EB810DE]]\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:21: device-filter: expected a PCI device ID, got a list" },
	{ "empty filter in a list", ENTRY("device-filter: [\"\"]\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:21: invalid device filter \"\": empty device ID" },
	{ "filter with spaces", ENTRY("device-filter: \" 0x1EB810DE\"\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \" 0x1EB810DE\": "
	  "expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE" },

	/* vgpu-devices */
	{ "vgpu-devices is a list", ENTRY("devices: all\n    vgpu-devices: [T4-1Q]\n"), 0,
	  "t.yaml:5:19: vgpu-devices: expected a mapping of vGPU type names to counts, got a list" },
	{ "vgpu-devices is a string", ENTRY("devices: all\n    vgpu-devices: T4-1Q\n"), 0,
	  "t.yaml:5:19: vgpu-devices: expected a mapping of vGPU type names to counts, got \"T4-1Q\"" },
	{ "lowercase series", TYPES("      T4-8q: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'T4-8q': series must be A, B, C or Q" },
	{ "lowercase attribute", TYPES("      A100-1-5Cme: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'A100-1-5Cme': MIG attribute must be ME, NOME, MEALL or GFX" },
	{ "text after series", TYPES("      T4-2B4: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'T4-2B4': unexpected characters after the series letter" },
	{ "leading zero size", TYPES("      T4-08Q: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'T4-08Q': frame buffer size must not have a leading zero" },
	{ "no series", TYPES("      T4-8: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'T4-8': missing series letter (A, B, C or Q)" },
	{ "no GPU", TYPES("      -8Q: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type '-8Q': empty part between '-' separators" },
	{ "leading space", TYPES("      \" T4-1Q\": 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type ' T4-1Q': only letters, digits and '-' are allowed" },
	{ "empty type", TYPES("      \"\": 1\n"), 0, "t.yaml:6:7: invalid vGPU type '': empty name" },
	{ "MIG-style name with a word", TYPES("      A100-Ada-1-5C: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'A100-Ada-1-5C': parts between the GPU name and the size must be letters only" },
	{ "attribute on time-sliced", TYPES("      A100-5CME: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'A100-5CME': attributes (ME, NOME, MEALL, GFX) are only valid on MIG-backed types" },
	{ "type is a number", TYPES("      8: 1\n"), 0,
	  "t.yaml:6:7: invalid vGPU type '8': expected <GPU>-<size><series> or <GPU>-<slices>-<size><series>[<attribute>]" },
	{ "type is a list", TYPES("      [T4-1Q]: 1\n"), 0, "t.yaml:6:7: keys must be strings, got a list" },
	{ "mixed, time-sliced first", TYPES("      A100-5C: 1\n      A100-1-5C: 2\n"), 0,
	  "t.yaml:7:7: cannot mix time-sliced and MIG-backed vGPU types on one GPU" },
	{ "mixed, MIG-backed first", TYPES("      A100-1-5CME: 1\n      A100-1-5C: 1\n      A100-5C: 2\n"), 0,
	  "t.yaml:8:7: cannot mix time-sliced and MIG-backed vGPU types on one GPU" },
	{ "mixed in flow style", ENTRY("devices: all\n    vgpu-devices: {A100-1-5C: 1, A100-4C: 1}\n"), 0,
	  "t.yaml:5:34: cannot mix time-sliced and MIG-backed vGPU types on one GPU" },
	{ "zero count", TYPES("      T4-1Q: 0\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got \"0\"" },
	{ "negative count", TYPES("      T4-1Q: -1\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got \"-1\"" },
	{ "quoted count", TYPES("      T4-1Q: \"2\"\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got quoted string \"2\"" },
	{ "single-quoted count", TYPES("      T4-1Q: '2'\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got quoted string \"2\"" },
	{ "block string count", TYPES("      T4-1Q: |\n        2\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got block string \"2\\n\"" },
	{ "fractional count", TYPES("      T4-1Q: 1.5\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got \"1.5\"" },
	{ "leading zero count", TYPES("      T4-1Q: 010\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got \"010\"" },
	{ "word count", TYPES("      T4-1Q: two\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got \"two\"" },
	{ "empty count", TYPES("      T4-1Q:\n"), 0,
	  "t.yaml:6:7: count for 'T4-1Q' must be a positive integer, got an empty value" },
	{ "list count", TYPES("      T4-1Q: [1]\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' must be a positive integer, got a list" },
	{ "count too large", TYPES("      T4-1Q: 2147483648\n"), 0,
	  "t.yaml:6:14: count for 'T4-1Q' is too large (maximum 2147483647), got \"2147483648\"" },
	{ "type error before count error", TYPES("      T4-8q: 0\n"), 0,
	  "t.yaml:6:7: invalid vGPU type 'T4-8q': series must be A, B, C or Q" },
	{ "duplicate type", TYPES("      T4-1Q: 1\n      T4-2Q: 1\n      T4-1Q: 2\n"), 0,
	  "t.yaml:8:7: duplicate key 'T4-1Q' (first defined on line 6)" },

	/* merge keys */
	{ "merge of a string", ENTRY("<<: 5\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:9: '<<' expects a mapping or a list of mappings, got \"5\"" },
	{ "merge of a list with a string", ENTRY("<<: [{devices: all}, x]\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:26: '<<' expects a mapping or a list of mappings, got \"x\"" },
	{ "two merge keys", ENTRY("<<: {devices: all}\n    <<: {vgpu-devices: {}}\n"), 0,
	  "t.yaml:5:5: duplicate key '<<' (first defined on line 4)" },
	{ "error inside merged mapping", ENTRY("<<: {devices: all, vgpu-devices: {T4-1Q: 0}}\n"), 0,
	  "t.yaml:4:46: count for 'T4-1Q' must be a positive integer, got \"0\"" },
	{ "duplicate inside merged mapping", ENTRY("<<: {devices: all, devices: all}\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:24: duplicate key 'devices' (first defined on line 4)" },
	{ "quoted << is not a merge", ENTRY("\"<<\": {devices: all}\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:5: unexpected field '<<'" },
	{ "merge of nothing", ENTRY("<<:\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:5: '<<' expects a mapping or a list of mappings, got an empty value" },
	{ "merge cycle", ENTRY("&m {<<: *m}\n"), 0, "t.yaml:4:9: merge keys nested too deeply" },
	{ "unexpected field from a merge", ENTRY("<<: {foo: 1}\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:10: unexpected field 'foo'" },

	/* messages stay on one line and short */
	{ "label with control characters", V1 "  \"a\\tb\\x01'\\\\\": []\n", 0,
	  "t.yaml:3:3: label 'a\\tb\\x01\\'\\\\': at least one entry is required" },
	{ "label with a newline", V1 "  \"a\\nb\": []\n", 0,
	  "t.yaml:3:3: label 'a\\nb': at least one entry is required" },
	{ "long label",
	  V1 "  abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz: []\n", 0,
	  "t.yaml:3:3: label 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl...': "
	  "at least one entry is required" },
	{ "long UTF-8 label is cut between characters",
	  V1 "  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9: []\n", 0,
	  "t.yaml:3:3: label 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': "
	  "at least one entry is required" },
	{ "UTF-8 label", V1 "  \xc3\xa9t\xc3\xa9: []\n", 0,
	  "t.yaml:3:3: label '\xc3\xa9t\xc3\xa9': at least one entry is required" },
	{ "NUL in a key", V1 "  \"a\\0b\": []\n", 0,
	  "t.yaml:3:3: key 'a\\x00b' contains a NUL character" },
	{ "NUL in a filter", ENTRY("device-filter: \"0x1EB810DE\\0\"\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"0x1EB810DE\\x00\": contains a NUL character" },
	{ "quote in a filter", ENTRY("device-filter: '\"'\n    devices: all\n    vgpu-devices: {}\n"), 0,
	  "t.yaml:4:20: invalid device filter \"\\\"\": expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE" },
};

static void run_bad_case(void **state)
{
	const struct bad_case *c = *state;
	size_t len = c->len ? c->len : strlen(c->doc);
	char *err = NULL;
	struct vdm_spec *s = vdm_spec_parse("t.yaml", c->doc, len, &err);

	if (s) {
		vdm_spec_free(s);
		fail_msg("accepted; expected: %s", c->want);
	}
	if (!err)
		fail_msg("no error message; expected: %s", c->want);
	if (strcmp(err, c->want) != 0) {
		print_error("got:      %s\nexpected: %s\n", err, c->want);
		free(err);
		fail();
	}
	assert_null(strchr(err, '\n'));
	free(err);
	/* without an error pointer: no crash, no leak */
	assert_null(vdm_spec_parse("t.yaml", c->doc, len, NULL));
}

/* Aliases cannot blow up the work: 1000 entries each with 1000 indexes. */
static void test_alias_bomb(void **state)
{
	size_t cap = 64 * 1024, n = 0;
	char *doc = malloc(cap);
	char *err = NULL;
	struct vdm_spec *s;

	(void)state;
	assert_non_null(doc);
	n += (size_t)sprintf(doc + n, V1 "  a: &l\n  - &e {vgpu-devices: {}, devices: [0");
	for (int i = 1; i < 1000; i++)
		n += (size_t)sprintf(doc + n, ",%d", i % 10);
	n += (size_t)sprintf(doc + n, "]}\n");
	for (int i = 1; i < 1000; i++)
		n += (size_t)sprintf(doc + n, "  - *e\n");
	n += (size_t)sprintf(doc + n, "  b: *l\n  c: *l\n");
	assert_true(n < cap);
	s = vdm_spec_parse("t.yaml", doc, n, &err);
	assert_null(s);
	assert_non_null(err);
	assert_string_equal(err, "t.yaml:4:101: too many nodes after expanding aliases");
	free(err);
	free(doc);
}

/* libyaml compares every anchor with every earlier one: at most 10000. */
static void test_anchor_limit(void **state)
{
	const char *line = "  - &a%05d {devices: all, vgpu-devices: {}}\n";
	size_t cap = 64 + 10001 * 48, n;
	char *doc = malloc(cap);
	char *err = NULL;
	struct vdm_spec *s;

	(void)state;
	assert_non_null(doc);
	n = (size_t)sprintf(doc, V1 "  a:\n");
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(doc + n, line, i);
	s = vdm_spec_parse("t.yaml", doc, n, &err);
	if (!s)
		fail_msg("%s", err);
	assert_int_equal(s->configs[0].n_entries, 10000);
	vdm_spec_free(s);

	n += (size_t)sprintf(doc + n, line, 10000);
	assert_true(n < cap);
	assert_null(vdm_spec_parse("t.yaml", doc, n, &err));
	assert_string_equal(err, "t.yaml:10004:5: too many anchors (more than 10000)");
	free(err);
	free(doc);
}

/* ---- files and limits ------------------------------------------------------- */

static char *tmpdir_path;

static int make_tmpdir(void **state)
{
	const char *t = getenv("TMPDIR");
	char *tmpl = path_join(t && *t ? t : "/tmp", "vgpudm-spec-XXXXXX");

	(void)state;
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return -1;
	}
	tmpdir_path = tmpl;
	return 0;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	if (tmpdir_path) {
		rmdir(tmpdir_path);
		free(tmpdir_path);
		tmpdir_path = NULL;
	}
	return 0;
}

static char *write_tmp(const char *name, const char *fill, size_t size)
{
	char *p = path_join(tmpdir_path, name);
	FILE *f = fopen(p, "w");
	size_t flen = strlen(fill);

	assert_non_null(f);
	for (size_t done = 0; done < size; done += flen)
		assert_int_equal(fwrite(fill, 1, size - done < flen ? size - done : flen, f),
				 size - done < flen ? size - done : flen);
	assert_int_equal(fclose(f), 0);
	return p;
}

static void assert_load_error(const char *path, const char *want)
{
	char *err = NULL;

	assert_null(vdm_spec_load(path, &err));
	assert_non_null(err);
	assert_string_equal(err, want);
	free(err);
	assert_null(vdm_spec_load(path, NULL));
}

static void test_load_errors(void **state)
{
	char *missing = path_join(tmpdir_path, "missing.yaml");
	char *want;

	(void)state;
	assert_int_equal(asprintf(&want, "%s: No such file or directory", missing) > 0, 1);
	assert_load_error(missing, want);
	free(want);
	assert_int_equal(asprintf(&want, "%s: Is a directory", tmpdir_path) > 0, 1);
	assert_load_error(tmpdir_path, want);
	free(want);
	/* A FIFO would block until a writer comes: refused at once. */
	char *fifo = path_join(tmpdir_path, "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(asprintf(&want, "%s: not a regular file (a FIFO, socket or device is "
				  "refused; use - for standard input)", fifo) > 0, 1);
	assert_load_error(fifo, want);
	unlink(fifo);
	free(fifo);
	free(want);
	free(missing);
}

static void test_load_size_limit(void **state)
{
	const size_t limit = 16u << 20;
	/* 32-byte comment lines */
	const char *line = "# padding padding padding pad.\n\n";
	char *at_limit = write_tmp("limit.yaml", line, limit);
	char *over = write_tmp("over.yaml", line, limit + 1);
	char *want;
	char *buf;
	char *err = NULL;

	(void)state;
	/* exactly 16 MiB is read (and is an empty document) */
	assert_int_equal(asprintf(&want, "%s:1:1: empty document", at_limit) > 0, 1);
	assert_load_error(at_limit, want);
	free(want);
	assert_int_equal(asprintf(&want, "%s: input is larger than the 16 MiB limit", over) > 0, 1);
	assert_load_error(over, want);
	free(want);

	buf = malloc(limit + 1);
	assert_non_null(buf);
	memset(buf, ' ', limit + 1);
	assert_null(vdm_spec_parse("big.yaml", buf, limit + 1, &err));
	assert_string_equal(err, "big.yaml: input is larger than the 16 MiB limit");
	free(err);
	free(buf);

	unlink(at_limit);
	unlink(over);
	free(at_limit);
	free(over);
}

static void test_stdin_error(void **state)
{
	char *p = write_tmp("v2.yaml", "version: v2\n", 12);

	(void)state;
	assert_non_null(freopen(p, "r", stdin));
	assert_load_error("-", "<stdin>:1:10: unknown version \"v2\" (expected v1)");
	unlink(p);
	free(p);
}

/* ---- entry selection -------------------------------------------------------- */

static void test_entry_selects(void **state)
{
	struct vdm_devid t4 = { .device = 0x1EB8, .vendor = 0x10DE };
	struct vdm_devid a16 = { .device = 0x25B6, .vendor = 0x10DE,
				 .subsys_device = 0x14A9, .subsys_vendor = 0x10DE, .has_subsys = true };
	struct vdm_devid a2 = { .device = 0x25B6, .vendor = 0x10DE,
				.subsys_device = 0x157E, .subsys_vendor = 0x10DE, .has_subsys = true };
	struct vdm_spec *s;
	const struct vdm_config *c;
	const struct vdm_entry *e;

	(void)state;
	s = parse_ok(V1
		     "  sel:\n"
		     "  - devices: all\n"                                   /* 0 */
		     "    vgpu-devices: {}\n"
		     "  - devices: [1, 3]\n"                                /* 1 */
		     "    vgpu-devices: {}\n"
		     "  - device-filter: 0x1EB810DE\n"                      /* 2 */
		     "    devices: all\n"
		     "    vgpu-devices: {}\n"
		     "  - device-filter: [0x25B610DE:0x157E10DE, 0x1EB810DE]\n" /* 3 */
		     "    devices: [0]\n"
		     "    vgpu-devices: {}\n"
		     "  - device-filter: 0x25B610DE\n"                      /* 4 */
		     "    devices: []\n"
		     "    vgpu-devices: {}\n"
		     "  - device-filter: 0x25B610DE:0x14A910DE\n"           /* 5 */
		     "    devices: all\n"
		     "    vgpu-devices: {}\n");
	c = find(s, "sel");
	assert_int_equal(c->n_entries, 6);

	e = &c->entries[0];
	assert_true(vdm_entry_selects(e, 0, &t4));
	assert_true(vdm_entry_selects(e, 7, &a16));
	assert_true(vdm_entry_selects(e, 7, NULL));

	e = &c->entries[1];
	assert_false(vdm_entry_selects(e, 0, &t4));
	assert_true(vdm_entry_selects(e, 1, &t4));
	assert_false(vdm_entry_selects(e, 2, &t4));
	assert_true(vdm_entry_selects(e, 3, &a16));
	assert_false(vdm_entry_selects(e, -1, &t4));

	e = &c->entries[2];
	assert_true(vdm_entry_selects(e, 5, &t4));
	assert_false(vdm_entry_selects(e, 5, &a16));
	assert_false(vdm_entry_selects(e, 5, NULL)); /* unknown identity */

	e = &c->entries[3];
	assert_true(vdm_entry_selects(e, 0, &a2));
	assert_true(vdm_entry_selects(e, 0, &t4));
	assert_false(vdm_entry_selects(e, 0, &a16));
	assert_false(vdm_entry_selects(e, 1, &a2)); /* filter matches, index does not */

	e = &c->entries[4]; /* an empty device list selects nothing */
	assert_false(vdm_entry_selects(e, 0, &a16));

	e = &c->entries[5];
	assert_true(vdm_entry_selects(e, 2, &a16));
	assert_false(vdm_entry_selects(e, 2, &a2));
	vdm_spec_free(s);
}

/* ---- PCI device IDs ------------------------------------------------------------- */

struct devid_case {
	const char *in;
	const char *why; /* NULL: valid */
	const char *formatted;
};

#define W_PRIMARY "expected 0x and 8 hex digits (device then vendor ID), e.g. 0x1EB810DE"
#define W_SUBSYS  "subsystem must be 0x and 8 hex digits (subsystem device then vendor ID), e.g. 0x12A210DE"
#define W_COLONS  "expected <device-vendor> or <device-vendor>:<subsystem>, found more than one ':'"

static const struct devid_case devids[] = {
	{ "0x1EB810DE", NULL, "0x1EB810DE" },
	{ "0x1eb810de", NULL, "0x1EB810DE" },
	{ "0X1EB810DE", NULL, "0x1EB810DE" },
	{ "0x25B610DE:0x14A910DE", NULL, "0x25B610DE:0x14A910DE" },
	{ "0x25b610de:0X14a910De", NULL, "0x25B610DE:0x14A910DE" },
	{ "0x00000000", NULL, "0x00000000" },
	{ "0xFFFFFFFF:0x00000000", NULL, "0xFFFFFFFF:0x00000000" },
	{ "", "empty device ID", NULL },
	{ "0x", W_PRIMARY, NULL },
	{ "0x1EB8", W_PRIMARY, NULL },
	{ "0x1EB810D", W_PRIMARY, NULL },
	{ "0x1EB810DE0", W_PRIMARY, NULL },
	{ "1EB810DE", W_PRIMARY, NULL },
	{ "0x1EB810DG", W_PRIMARY, NULL },
	{ " 0x1EB810DE", W_PRIMARY, NULL },
	{ "0x1EB810DE ", W_PRIMARY, NULL },
	{ "515375326", W_PRIMARY, NULL },
	{ "not-a-device-id", W_PRIMARY, NULL },
	{ "MODEL", W_PRIMARY, NULL },
	{ ":0x14A910DE", W_PRIMARY, NULL },
	{ "0x25B610DE:", W_SUBSYS, NULL },
	{ "0x25B610DE:not-a-subsystem", W_SUBSYS, NULL },
	{ "0x25B610DE:0x14A9", W_SUBSYS, NULL },
	{ "0x25B610DE:14A910DE", W_SUBSYS, NULL },
	{ "0x25B610DE:0x14A910DE:extra", W_COLONS, NULL },
	{ "0x25B610DE::0x14A910DE", W_COLONS, NULL },
};

static void test_devid_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(devids) / sizeof(devids[0]); i++) {
		const struct devid_case *c = &devids[i];
		struct vdm_devid id;
		const char *why = NULL;
		int r = vdm_devid_parse(c->in, &id, &why);

		if (c->why) {
			if (r != -EINVAL)
				fail_msg("'%s' accepted", c->in);
			if (strcmp(why, c->why) != 0)
				fail_msg("'%s': why \"%s\", expected \"%s\"", c->in, why, c->why);
		} else {
			char buf[24];

			if (r != 0)
				fail_msg("'%s' rejected: %s", c->in, why);
			vdm_devid_format(&id, buf, sizeof(buf));
			assert_string_equal(buf, c->formatted);
			assert_int_equal(id.has_subsys, strchr(c->in, ':') != NULL);
		}
		assert_int_equal(vdm_devid_parse(c->in, NULL, NULL), c->why ? -EINVAL : 0);
	}
	assert_int_equal(vdm_devid_parse(NULL, NULL, NULL), -EINVAL);
}

static void test_devid_fields_and_format(void **state)
{
	struct vdm_devid id;
	char buf[24];
	char small[11];

	(void)state;
	assert_int_equal(vdm_devid_parse("0x25B610DE:0x14A910DE", &id, NULL), 0);
	assert_int_equal(id.device, 0x25B6);
	assert_int_equal(id.vendor, 0x10DE);
	assert_int_equal(id.subsys_device, 0x14A9);
	assert_int_equal(id.subsys_vendor, 0x10DE);
	assert_true(id.has_subsys);

	assert_int_equal(vdm_devid_parse("0x1EB810DE", &id, NULL), 0);
	assert_int_equal(id.subsys_device, 0);
	assert_int_equal(id.subsys_vendor, 0);
	assert_false(id.has_subsys);

	id = (struct vdm_devid){ .device = 0x1EB8, .vendor = 0x10DE, .subsys_device = 0x12A2,
				 .subsys_vendor = 0x10DE, .has_subsys = true };
	vdm_devid_format(&id, buf, sizeof(buf));
	assert_string_equal(buf, "0x1EB810DE:0x12A210DE");
	vdm_devid_format(&id, small, sizeof(small)); /* truncated, terminated */
	assert_string_equal(small, "0x1EB810DE");
	id.has_subsys = false;
	vdm_devid_format(&id, buf, sizeof(buf));
	assert_string_equal(buf, "0x1EB810DE");
	id = (struct vdm_devid){ .device = 0xA, .vendor = 0xB };
	vdm_devid_format(&id, buf, sizeof(buf));
	assert_string_equal(buf, "0x000A000B");
}

static void test_devid_matches(void **state)
{
	struct vdm_devid a16 = { 0x25B6, 0x10DE, 0x14A9, 0x10DE, true };
	struct vdm_devid a2 = { 0x25B6, 0x10DE, 0x157E, 0x10DE, true };
	struct vdm_devid primary = { 0x25B6, 0x10DE, 0, 0, false };
	struct vdm_devid unknown_sub = { 0x25B6, 0x10DE, 0, 0, true };
	struct vdm_devid other = { 0x1E30, 0x10DE, 0, 0, false };
	struct vdm_devid other_vendor = { 0x25B6, 0x1002, 0, 0, false };

	(void)state;
	/* upstream's cases */
	assert_true(vdm_devid_matches(&primary, &a16));
	assert_true(vdm_devid_matches(&a16, &a16));
	assert_false(vdm_devid_matches(&a16, &a2));
	assert_false(vdm_devid_matches(&a16, &unknown_sub));
	assert_true(vdm_devid_matches(&unknown_sub, &unknown_sub));
	assert_false(vdm_devid_matches(&other, &a16));
	/* and a few more */
	assert_false(vdm_devid_matches(&other_vendor, &a16));
	assert_true(vdm_devid_matches(&primary, &primary));
	assert_false(vdm_devid_matches(&a16, &primary));
	assert_true(vdm_devid_matches(&unknown_sub, &primary));
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_upstream_example),
		cmocka_unit_test(test_upstream_t4),
		cmocka_unit_test(test_readme_stdin),
		cmocka_unit_test(test_filters_file),
		cmocka_unit_test(test_anchors_file),
		cmocka_unit_test(test_inline_valid),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_anchor_limit),
		cmocka_unit_test_setup_teardown(test_load_errors, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_size_limit, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_stdin_error, make_tmpdir, remove_tmpdir),
		cmocka_unit_test(test_entry_selects),
		cmocka_unit_test(test_devid_parse),
		cmocka_unit_test(test_devid_fields_and_format),
		cmocka_unit_test(test_devid_matches),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t nbad = sizeof(bad) / sizeof(bad[0]);
	struct CMUnitTest *tests = calloc(nfixed + nbad, sizeof(*tests));
	int r;

	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	/* one named test per invalid document */
	for (size_t i = 0; i < nbad; i++) {
		tests[nfixed + i].name = bad[i].name;
		tests[nfixed + i].test_func = run_bad_case;
		tests[nfixed + i].initial_state = (void *)&bad[i];
	}
	r = _cmocka_run_group_tests("spec", tests, nfixed + nbad, NULL, NULL);
	free(tests);
	return r;
}
