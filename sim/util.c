/* SPDX-License-Identifier: Apache-2.0 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("vgpu-sim: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = { 0 };
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb.buf;
}

static void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void sb_append(struct strbuf *sb, const void *data, size_t len)
{
	sb_grow(sb, len);
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;

	sb_grow(sb, 64);
	size_t avail = sb->cap - sb->len;
	va_copy(ap2, ap);
	int n = vsnprintf(sb->buf + sb->len, avail, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	if ((size_t)n >= avail) {
		sb_grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	}
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void pv_push(struct ptrvec *pv, void *item)
{
	if (pv->n == pv->cap) {
		pv->cap = pv->cap ? pv->cap * 2 : 8;
		pv->v = xrealloc(pv->v, pv->cap * sizeof(*pv->v));
	}
	pv->v[pv->n++] = item;
}

int pv_remove(struct ptrvec *pv, const void *item)
{
	for (size_t i = 0; i < pv->n; i++) {
		if (pv->v[i] == item) {
			memmove(&pv->v[i], &pv->v[i + 1], (pv->n - i - 1) * sizeof(*pv->v));
			pv->n--;
			return 0;
		}
	}
	return -1;
}

void pv_free(struct ptrvec *pv)
{
	free(pv->v);
	pv->v = NULL;
	pv->n = pv->cap = 0;
}

int parse_kstrtoul(const char *buf, size_t len, unsigned base, unsigned long *out)
{
	size_t i = 0;
	unsigned long v = 0;

	if (len && buf[len - 1] == '\n')
		len--;
	if (i < len && buf[i] == '+')
		i++;
	bool hex_prefix = i + 2 < len && buf[i] == '0' && tolower((unsigned char)buf[i + 1]) == 'x' &&
			  isxdigit((unsigned char)buf[i + 2]);
	if (base == 0) {
		if (hex_prefix) {
			base = 16;
			i += 2;
		} else {
			base = i < len && buf[i] == '0' ? 8 : 10;
		}
	} else if (base == 16 && hex_prefix) {
		i += 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		int c = tolower((unsigned char)buf[i]);
		unsigned d;
		if (isdigit(c))
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (ULONG_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int parse_kstrtol(const char *buf, size_t len, long *out)
{
	unsigned long v;
	int rc;

	if (len && buf[0] == '-') {
		rc = parse_kstrtoul(buf + 1, len - 1, 10, &v);
		if (rc)
			return rc;
		if (v > (unsigned long)LONG_MAX + 1)
			return -ERANGE;
		*out = v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v;
		return 0;
	}
	rc = parse_kstrtoul(buf, len, 10, &v);
	if (rc)
		return rc;
	if (v > LONG_MAX)
		return -ERANGE;
	*out = (long)v;
	return 0;
}
