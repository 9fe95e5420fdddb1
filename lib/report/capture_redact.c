/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture --redact: every UUID (8-4-4-4-12 hex digits, any case; GPU and vGPU
 * UUIDs, VM ids) becomes 00000000-0000-0000-0000-<n>, every VM name vm-<n>
 * and every host name host-<n>, numbered in order of first sight, the same
 * replacement wherever the value appears (file contents, paths, link
 * targets, JSON, command output), so a redacted capture still replays.
 * Names shorter than 3 characters are not replaced inside other text (they
 * would hit unrelated bytes); capture.c replaces a vm_name file whole.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture.h"

#define UUID_LEN 36
#define MIN_NAME 3

struct pair {
	char *from, *to;
	size_t from_len;
	bool uuid;
};

struct vdm_redact {
	struct pair *p;
	size_t n, cap;
	unsigned uuids, vms, hosts;
};

struct vdm_redact *vdm_redact_new(void)
{
	return vdm_xcalloc(1, sizeof(struct vdm_redact));
}

void vdm_redact_free(struct vdm_redact *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->p[i].from);
		free(r->p[i].to);
	}
	free(r->p);
	free(r);
}

size_t vdm_redact_count(const struct vdm_redact *r)
{
	return r->n;
}

static bool is_uuid_at(const char *s, size_t left)
{
	if (left < UUID_LEN)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	/* not part of a longer run of hex digits */
	return left == UUID_LEN || !isxdigit((unsigned char)s[UUID_LEN]);
}

static const struct pair *find(const struct vdm_redact *r, const char *s, size_t n, bool uuid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->p[i].uuid == uuid && r->p[i].from_len == n &&
		    (uuid ? !strncasecmp(r->p[i].from, s, n) : !memcmp(r->p[i].from, s, n)))
			return &r->p[i];
	return NULL;
}

static void add(struct vdm_redact *r, const char *from, size_t n, char *to, bool uuid)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->p = vdm_xrealloc(r->p, r->cap, sizeof(*r->p));
	}
	char *f = vdm_xcalloc(1, n + 1);
	memcpy(f, from, n);
	r->p[r->n++] = (struct pair){ f, to, n, uuid };
}

void vdm_redact_scan(struct vdm_redact *r, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && isxdigit((unsigned char)text[i - 1]))
			continue;
		if (!is_uuid_at(text + i, len - i))
			continue;
		if (!find(r, text + i, UUID_LEN, true))
			add(r, text + i, UUID_LEN, vdm_strdupf("00000000-0000-0000-0000-%012x", ++r->uuids), true);
		i += UUID_LEN - 1;
	}
}

void vdm_redact_name(struct vdm_redact *r, const char *name, bool vm)
{
	size_t n = name ? strlen(name) : 0;

	while (n && isspace((unsigned char)name[n - 1]))
		n--;
	if (!n || find(r, name, n, false))
		return;
	add(r, name, n, vm ? vdm_strdupf("vm-%u", ++r->vms) : vdm_strdupf("host-%u", ++r->hosts), false);
}

void vdm_redact_scan_vm_names(struct vdm_redact *r, const char *text, size_t len)
{
	const char *end = text + len;

	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl ? nl : end;
		const char *p = line;
		while (p < stop && isspace((unsigned char)*p))
			p++;
		if ((size_t)(stop - p) > 7 && !strncmp(p, "VM Name", 7)) {
			const char *colon = memchr(p, ':', (size_t)(stop - p));
			if (colon) {
				const char *v = colon + 1;
				while (v < stop && isspace((unsigned char)*v))
					v++;
				char *name = vdm_xcalloc(1, (size_t)(stop - v) + 1);
				memcpy(name, v, (size_t)(stop - v));
				vdm_redact_name(r, name, true);
				free(name);
			}
		}
		line = stop + 1;
	}
}

char *vdm_redact_apply(const struct vdm_redact *r, const char *text, size_t len, size_t *out_len)
{
	size_t cap = len + 64, n = 0;
	char *out = vdm_xcalloc(1, cap);

	for (size_t i = 0; i < len;) {
		const struct pair *hit = NULL;
		if ((i == 0 || !isxdigit((unsigned char)text[i - 1])) && is_uuid_at(text + i, len - i))
			hit = find(r, text + i, UUID_LEN, true);
		for (size_t k = 0; k < r->n && !(hit && hit->uuid); k++) { /* the longest name that matches */
			const struct pair *p = &r->p[k];
			if (!p->uuid && p->from_len >= MIN_NAME && p->from_len <= len - i &&
			    !memcmp(text + i, p->from, p->from_len) && (!hit || p->from_len > hit->from_len))
				hit = p;
		}
		const char *src = hit ? hit->to : text + i;
		size_t m = hit ? strlen(hit->to) : 1;
		if (n + m + 1 > cap) {
			cap = 2 * (n + m + 1);
			out = vdm_xrealloc(out, cap, 1);
		}
		memcpy(out + n, src, m);
		n += m;
		i += hit ? hit->from_len : 1;
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}
