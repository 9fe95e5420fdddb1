/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vGPU type names, with upstream's grammar:
 *   time-sliced  ^[A-Z0-9]+(-[a-zA-Z]+)*-(0|[1-9][0-9]*)[ABCQ]$
 *   MIG-backed   ^[A-Z0-9]+-[1-9]-(0|[1-9][0-9]*)[ABCQ](ME|NOME|MEALL|GFX)?$
 * Both are matched by hand: split at '-', then check each part. The two
 * forms never match the same string (the time-sliced middle parts are
 * letters only, the MIG slice count is a digit).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "vocab.h"

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

/* Longest attribute first is not needed: the whole suffix is compared. */
static const char *const attrs[] = { "ME", "NOME", "MEALL", "GFX" };

static bool is_upper_or_digit(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool all_of(const char *s, size_t n, bool (*pred)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!pred(s[i]))
			return false;
	return true;
}

static const char *match_attr(const char *s)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(s, attrs[i]) == 0)
			return attrs[i];
	return NULL;
}

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

int vdm_vgpu_type_parse(const char *s, struct vdm_vgpu_type *out, const char **why)
{
	struct vdm_vgpu_type t;
	const char *dummy;
	const char *part[3] = { NULL, NULL, NULL }; /* first, second, last */
	size_t plen[3] = { 0, 0, 0 };
	size_t nparts = 0;
	const char *p, *last, *sfx;
	size_t gpu_len, nd;
	bool mig;
	long long gb;

	if (!why)
		why = &dummy;
	memset(&t, 0, sizeof(t));
	if (!s || !*s)
		return fail(why, W_EMPTY);
	for (p = s; *p; p++)
		if (!is_letter(*p) && !is_digit(*p) && *p != '-')
			return fail(why, W_CHARS);

	/* Split at '-': remember the first, second and last parts. */
	p = s;
	for (;;) {
		const char *dash = strchr(p, '-');
		size_t n = dash ? (size_t)(dash - p) : strlen(p);

		if (n == 0)
			return fail(why, W_EMPTYPART);
		if (nparts < 2) {
			part[nparts] = p;
			plen[nparts] = n;
		}
		part[2] = p;
		plen[2] = n;
		nparts++;
		if (!dash)
			break;
		p = dash + 1;
	}
	if (nparts < 2)
		return fail(why, W_SHAPE);
	if (!all_of(part[0], plen[0], is_upper_or_digit))
		return fail(why, W_GPU);

	last = part[2];
	mig = nparts == 3 && all_of(part[1], plen[1], is_digit);
	if (mig) {
		if (plen[1] != 1 || part[1][0] == '0')
			return fail(why, W_SLICES);
		gpu_len = plen[0];
	} else {
		/* Every middle part must be letters only. */
		for (p = part[0] + plen[0] + 1; p < last; ) {
			const char *dash = strchr(p, '-');

			if (!all_of(p, (size_t)(dash - p), is_letter))
				return fail(why, W_WORD);
			p = dash + 1;
		}
		gpu_len = (size_t)(last - 1 - s);
	}
	if (gpu_len >= sizeof(t.gpu))
		return fail(why, W_GPULONG);

	/* Last part: <size><series>[<attribute>] */
	for (nd = 0; is_digit(last[nd]); nd++)
		;
	if (nd == 0)
		return fail(why, W_SIZE);
	if (nd > 1 && last[0] == '0')
		return fail(why, W_ZERO);
	gb = 0;
	for (size_t i = 0; i < nd; i++) {
		gb = gb * 10 + (last[i] - '0');
		if (gb > INT_MAX)
			return fail(why, W_SIZEBIG);
	}
	switch (last[nd]) {
	case 'A': case 'B': case 'C': case 'Q':
		break;
	case '\0':
		return fail(why, W_NOSERIES);
	default:
		return fail(why, W_SERIES);
	}
	sfx = last + nd + 1;
	if (*sfx) {
		const char *a = match_attr(sfx);

		if (mig && !a)
			return fail(why, W_ATTR);
		if (!mig)
			return fail(why, a ? W_ATTR_TS : W_TRAIL);
		strcpy(t.attr, a);
	}

	memcpy(t.gpu, s, gpu_len);
	t.gpu[gpu_len] = '\0';
	t.g = mig ? part[1][0] - '0' : 0;
	t.gb = (int)gb;
	t.series = last[nd];
	if (out)
		*out = t;
	return 0;
}

int vdm_vgpu_type_base_name(const char *s, char *buf, size_t len)
{
	struct vdm_vgpu_type t;
	size_t n = strlen(s);

	if (vdm_vgpu_type_parse(s, &t, NULL) == 0 && vdm_vgpu_type_is_mig(&t))
		n -= strlen(t.attr);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}
