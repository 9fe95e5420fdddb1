/* SPDX-License-Identifier: Apache-2.0 */
/* vGPU type names: upstream's grammar, field values, base names; words quoted in messages. */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "spec/spec.h"

struct valid_case {
	const char *name;
	const char *gpu;
	int g;
	int gb;
	char series;
	const char *attr;
};

static const struct valid_case valid[] = {
	/* time-sliced */
	{ "T4-8Q", "T4", 0, 8, 'Q', "" },
	{ "T4-1Q", "T4", 0, 1, 'Q', "" },
	{ "T4-16Q", "T4", 0, 16, 'Q', "" },
	{ "A16-8A", "A16", 0, 8, 'A', "" },
	{ "A16-8B", "A16", 0, 8, 'B', "" },
	{ "A16-8C", "A16", 0, 8, 'C', "" },
	{ "A100-5C", "A100", 0, 5, 'C', "" },
	{ "A100-40C", "A100", 0, 40, 'C', "" },
	{ "A100D-80C", "A100D", 0, 80, 'C', "" },
	{ "A40-48Q", "A40", 0, 48, 'Q', "" },
	{ "M60-0Q", "M60", 0, 0, 'Q', "" },
	{ "M10-0B", "M10", 0, 0, 'B', "" },
	{ "RTX6000-Ada-4Q", "RTX6000-Ada", 0, 4, 'Q', "" },
	{ "RTX6000-Ada-2Q", "RTX6000-Ada", 0, 2, 'Q', "" },
	{ "RTX5000-Ada-32Q", "RTX5000-Ada", 0, 32, 'Q', "" },
	{ "X-a-B-cD-1A", "X-a-B-cD", 0, 1, 'A', "" },
	{ "6000D-84Q", "6000D", 0, 84, 'Q', "" },
	{ "DC-48Q", "DC", 0, 48, 'Q', "" },
	{ "GB200-189C", "GB200", 0, 189, 'C', "" },
	{ "B300X-269C", "B300X", 0, 269, 'C', "" },
	{ "0-0A", "0", 0, 0, 'A', "" },
	{ "T4-2147483647Q", "T4", 0, 2147483647, 'Q', "" },
	/* MIG-backed */
	{ "A100-1-5C", "A100", 1, 5, 'C', "" },
	{ "A100-1-5CME", "A100", 1, 5, 'C', "ME" },
	{ "A100-1-5CNOME", "A100", 1, 5, 'C', "NOME" },
	{ "A100-1-5CMEALL", "A100", 1, 5, 'C', "MEALL" },
	{ "A100-1-5CGFX", "A100", 1, 5, 'C', "GFX" },
	{ "A100-2-10C", "A100", 2, 10, 'C', "" },
	{ "A30-2-12C", "A30", 2, 12, 'C', "" },
	{ "A100D-7-80C", "A100D", 7, 80, 'C', "" },
	{ "DC-1-24QGFX", "DC", 1, 24, 'Q', "GFX" },
	{ "DC-4-96CGFX", "DC", 4, 96, 'C', "GFX" },
	{ "6000D-1-42C", "6000D", 1, 42, 'C', "" },
	{ "H100-9-0A", "H100", 9, 0, 'A', "" },
	{ "H100-1-0B", "H100", 1, 0, 'B', "" },
	/* 63 characters of GPU name is the most that fits */
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0-1Q",
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0", 0, 1, 'Q', "" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0-1-1Q",
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0", 1, 1, 'Q', "" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-Abcdefghijklmnopqrstuvwxyz-1Q",
	  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-Abcdefghijklmnopqrstuvwxyz", 0, 1, 'Q', "" },
};

#define W_EMPTY     "empty name"
#define W_CHARS     "only letters, digits and '-' are allowed"
#define W_SHAPE     "expected <GPU>-<size><series> or <GPU>-<slices>-<size><series>[<attribute>]"
#define W_EMPTYPART "empty part between '-' separators"
#define W_GPU       "GPU name must be uppercase letters and digits"
#define W_GPULONG   "GPU name is too long"
#define W_WORD      "parts between the GPU name and the size must be letters only"
#define W_SLICES    "GPU-instance slice count must be a single digit 1-9"
#define W_SIZE      "missing frame buffer size"
#define W_ZERO      "frame buffer size must not have a leading zero"
#define W_SIZEBIG   "frame buffer size is too large"
#define W_NOSERIES  "missing series letter (A, B, C or Q)"
#define W_SERIES    "series must be A, B, C or Q"
#define W_ATTR      "MIG attribute must be ME, NOME, MEALL or GFX"
#define W_ATTR_TS   "attributes (ME, NOME, MEALL, GFX) are only valid on MIG-backed types"
#define W_TRAIL     "unexpected characters after the series letter"

struct invalid_case {
	const char *name;
	const char *why;
};

static const struct invalid_case invalid[] = {
	{ "", W_EMPTY },
	{ " A100-5C", W_CHARS },
	{ "A100 -5C", W_CHARS },
	{ "A100- 5C", W_CHARS },
	{ "A100-5C ", W_CHARS },
	{ " A100-1-5C", W_CHARS },
	{ "A100 -1-5C", W_CHARS },
	{ "A100- 1-5C", W_CHARS },
	{ "A100-1 -5C", W_CHARS },
	{ "A100-1- 5C", W_CHARS },
	{ "A100-1-5 C", W_CHARS },
	{ "A100-1-5C ", W_CHARS },
	{ "A100-1-5C Me", W_CHARS },
	{ "T4-8Q\n", W_CHARS },
	{ "T4_8Q", W_CHARS },
	{ "T4-8Q.", W_CHARS },
	{ "T4-\xc3\xa9Q", W_CHARS },
	{ "bogus", W_SHAPE },
	{ "T4", W_SHAPE },
	{ "8Q", W_SHAPE },
	{ "-8Q", W_EMPTYPART },
	{ "T4-", W_EMPTYPART },
	{ "T4--8Q", W_EMPTYPART },
	{ "-", W_EMPTYPART },
	{ "A100-1--5C", W_EMPTYPART },
	{ "t4-8Q", W_GPU },
	{ "Tesla-8Q", W_GPU },
	{ "a100-1-5C", W_GPU },
	{ "RTX6000-Ada4-4Q", W_WORD },
	{ "RTX6000-1-Ada-4Q", W_WORD },
	{ "A100-Ada-1-5C", W_WORD },
	{ "A100-1-2-5C", W_WORD },
	{ "A100-1a-5C", W_WORD },
	{ "A100-0-5C", W_SLICES },
	{ "A100-10-5C", W_SLICES },
	{ "A100-01-5C", W_SLICES },
	{ "T4-Q", W_SIZE },
	{ "A100-1-C", W_SIZE },
	{ "RTX6000-Ada", W_SIZE },
	{ "T4-08Q", W_ZERO },
	{ "T4-00Q", W_ZERO },
	{ "A100-1-05C", W_ZERO },
	{ "T4-2147483648Q", W_SIZEBIG },
	{ "T4-99999999999999999999Q", W_SIZEBIG },
	{ "T4-8", W_NOSERIES },
	{ "A100-1-5", W_NOSERIES },
	{ "T4-8q", W_SERIES },
	{ "A16-8E", W_SERIES },
	{ "T4-8D", W_SERIES },
	{ "A100-1-5c", W_SERIES },
	{ "A100-1-5Cme", W_ATTR },
	{ "A100-1-5Cab", W_ATTR },
	{ "A100-1-5CMEX", W_ATTR },
	{ "A100-1-5CMEME", W_ATTR },
	{ "A100-1-5CM", W_ATTR },
	{ "A100-1-5C0", W_ATTR },
	{ "A100-5CME", W_ATTR_TS },
	{ "A100-5CGFX", W_ATTR_TS },
	{ "T4-2B4", W_TRAIL },
	{ "T4-8QQ", W_TRAIL },
	{ "T4-8Qx", W_TRAIL },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ01-1Q", W_GPULONG },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ01-1-1Q", W_GPULONG },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-Abcdefghijklmnopqrstuvwxyza-1Q", W_GPULONG },
};

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid_case *c = &valid[i];
		struct vdm_vgpu_type t;
		const char *why = "unset";

		memset(&t, 0x55, sizeof(t));
		if (vdm_vgpu_type_parse(c->name, &t, &why) != 0)
			fail_msg("'%s' rejected: %s", c->name, why);
		assert_string_equal(t.gpu, c->gpu);
		assert_int_equal(t.g, c->g);
		assert_int_equal(t.gb, c->gb);
		assert_int_equal(t.series, c->series);
		assert_string_equal(t.attr, c->attr);
		assert_int_equal(vdm_vgpu_type_is_mig(&t), c->g > 0);
		/* why and out are optional */
		assert_int_equal(vdm_vgpu_type_parse(c->name, NULL, NULL), 0);
	}
}

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		struct vdm_vgpu_type t;
		const char *why = NULL;
		int r = vdm_vgpu_type_parse(c->name, &t, &why);

		if (r != -EINVAL)
			fail_msg("'%s' accepted (r=%d)", c->name, r);
		assert_non_null(why);
		if (strcmp(why, c->why) != 0)
			fail_msg("'%s': why is \"%s\", expected \"%s\"", c->name, why, c->why);
		assert_int_equal(vdm_vgpu_type_parse(c->name, NULL, NULL), -EINVAL);
	}
	assert_int_equal(vdm_vgpu_type_parse(NULL, NULL, NULL), -EINVAL);
}

/* Every time-sliced name with a MIG attribute or a lowercase series must be
 * rejected, and every valid name must stay valid after the series letter. */
static void test_series_letters(void **state)
{
	(void)state;
	for (int ch = 1; ch < 256; ch++) {
		char ts[16], mig[16];
		bool ok = ch == 'A' || ch == 'B' || ch == 'C' || ch == 'Q';

		snprintf(ts, sizeof(ts), "T4-8%c", ch);
		snprintf(mig, sizeof(mig), "A100-1-5%c", ch);
		assert_int_equal(vdm_vgpu_type_parse(ts, NULL, NULL) == 0, ok);
		assert_int_equal(vdm_vgpu_type_parse(mig, NULL, NULL) == 0, ok);
	}
	for (int d = 0; d <= 9; d++) {
		char mig[16];

		snprintf(mig, sizeof(mig), "A100-%d-5C", d);
		assert_int_equal(vdm_vgpu_type_parse(mig, NULL, NULL) == 0, d > 0);
	}
}

/* Differential check against upstream's two regular expressions (POSIX ERE
 * in the C locale) on many generated short names. */
static void test_matches_upstream_regex(void **state)
{
	static const char alphabet[] = "ABCQEMNOLGFXTad0125-";
	regex_t ts, mig;
	uint32_t rng = 12345;
	unsigned accepted = 0;

	(void)state;
	assert_int_equal(regcomp(&ts, "^[A-Z0-9]+(-[a-zA-Z]+)*-(0|[1-9][0-9]*)[ABCQ]$",
				 REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&mig, "^[A-Z0-9]+-[1-9]-(0|[1-9][0-9]*)[ABCQ](ME|NOME|MEALL|GFX)?$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (int i = 0; i < 300000; i++) {
		char s[16];
		size_t len;
		bool want, got;

		rng = rng * 1103515245u + 12345u;
		len = 1 + (rng >> 16) % 12;
		for (size_t j = 0; j < len; j++) {
			rng = rng * 1103515245u + 12345u;
			s[j] = alphabet[(rng >> 16) % (sizeof(alphabet) - 1)];
		}
		/* bias towards plausible shapes: force a '-' near the end */
		if (i % 2 && len > 3)
			s[len - 3] = '-';
		s[len] = '\0';
		want = regexec(&ts, s, 0, NULL, 0) == 0 || regexec(&mig, s, 0, NULL, 0) == 0;
		got = vdm_vgpu_type_parse(s, NULL, NULL) == 0;
		if (want != got)
			fail_msg("'%s': upstream %s, ours %s", s, want ? "accepts" : "rejects",
				 got ? "accepts" : "rejects");
		accepted += got;
	}
	/* the generator must exercise the accepting side too */
	assert_true(accepted > 1000);

	/* Every combination of plausible and broken pieces. */
	static const char *const gpus[] = { "A100", "T4", "a100", "", "DC", "6000D", "RTX6000" };
	static const char *const mids[] = { "", "-1", "-0", "-12", "-Ada", "-Ada-1", "-1-Ada", "-", "-ada-x" };
	static const char *const sizes[] = { "-5", "-0", "-05", "-40", "-", "5", "" };
	static const char *const series[] = { "C", "Q", "A", "B", "c", "E", "" };
	static const char *const attrs[] = { "", "ME", "NOME", "MEALL", "GFX", "me", "MEX", "M", "X", "Q" };
	unsigned mig_attr = 0;
#define N(a) (sizeof(a) / sizeof((a)[0]))
	for (size_t a = 0; a < N(gpus); a++)
	for (size_t b = 0; b < N(mids); b++)
	for (size_t c = 0; c < N(sizes); c++)
	for (size_t d = 0; d < N(series); d++)
	for (size_t e = 0; e < N(attrs); e++) {
		char s[64];
		struct vdm_vgpu_type t;
		bool want, got;

		snprintf(s, sizeof(s), "%s%s%s%s%s", gpus[a], mids[b], sizes[c], series[d], attrs[e]);
		want = regexec(&ts, s, 0, NULL, 0) == 0 || regexec(&mig, s, 0, NULL, 0) == 0;
		got = vdm_vgpu_type_parse(s, &t, NULL) == 0;
		if (want != got)
			fail_msg("'%s': upstream %s, ours %s", s, want ? "accepts" : "rejects",
				 got ? "accepts" : "rejects");
		if (got && t.attr[0])
			mig_attr++;
	}
#undef N
	assert_true(mig_attr > 100);
	regfree(&ts);
	regfree(&mig);
}

struct base_case {
	const char *in;
	const char *out;
};

static const struct base_case bases[] = {
	{ "DC-1-24QGFX", "DC-1-24Q" },
	{ "A100-1-5CME", "A100-1-5C" },
	{ "A100-1-5CNOME", "A100-1-5C" },
	{ "A100-1-5CMEALL", "A100-1-5C" },
	{ "A100-1-5CGFX", "A100-1-5C" },
	{ "A100-1-5C", "A100-1-5C" },
	{ "T4-8Q", "T4-8Q" },
	{ "RTX6000-Ada-4Q", "RTX6000-Ada-4Q" },
	/* not valid MIG-backed names: copied unchanged */
	{ "A100-5CME", "A100-5CME" },
	{ "A100-1-5Cme", "A100-1-5Cme" },
	{ "A100-1-5CMEX", "A100-1-5CMEX" },
	{ "GFX", "GFX" },
	{ "ME", "ME" },
	{ "", "" },
	{ "garbage MEALL", "garbage MEALL" },
};

static void test_base_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		char buf[80];

		memset(buf, 'x', sizeof(buf));
		assert_int_equal(vdm_vgpu_type_base_name(bases[i].in, buf, sizeof(buf)), 0);
		if (strcmp(buf, bases[i].out) != 0)
			fail_msg("base of '%s' is '%s', expected '%s'", bases[i].in, buf, bases[i].out);
	}
}

static void test_base_name_too_long(void **state)
{
	char buf[10];

	(void)state;
	/* "A100-1-5C" needs 10 bytes: fits even though the input is longer */
	assert_int_equal(vdm_vgpu_type_base_name("A100-1-5CMEALL", buf, 10), 0);
	assert_string_equal(buf, "A100-1-5C");
	assert_int_equal(vdm_vgpu_type_base_name("A100-1-5CMEALL", buf, 9), -ENAMETOOLONG);
	assert_int_equal(vdm_vgpu_type_base_name("T4-8Q", buf, 6), 0);
	assert_string_equal(buf, "T4-8Q");
	assert_int_equal(vdm_vgpu_type_base_name("T4-8Q", buf, 5), -ENAMETOOLONG);
	assert_int_equal(vdm_vgpu_type_base_name("T4-8Q", buf, 0), -ENAMETOOLONG);
	assert_int_equal(vdm_vgpu_type_base_name("", buf, 1), 0);
	assert_string_equal(buf, "");
}

/* A word the user wrote, as a message shows it: plain as is, else quoted
 * and escaped so it cannot forge a second log line. */
static void test_quote(void **state)
{
	static const char *const cases[][2] = {
		{"T4-4Q", "T4-4Q"},
		{"", "\"\""},
		{"a b", "\"a b\""},
		{"it's", "\"it's\""},
		{"nope\nFATA[0000] forged", "\"nope\\nFATA[0000] forged\""},
		{"t\tq\"b\\", "\"t\\tq\\\"b\\\\\""},
		{"\x01\x7f\xc3\xa9", "\"\\x01\\x7f\xc3\xa9\""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *q = vdm_quote(cases[i][0]);
		assert_string_equal(q, cases[i][1]);
		free(q);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_series_letters),
		cmocka_unit_test(test_matches_upstream_regex),
		cmocka_unit_test(test_base_name),
		cmocka_unit_test(test_base_name_too_long),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
