/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers for vgpu-sim: allocation that never returns NULL, a growable
 * byte buffer and a growable pointer vector. */
#ifndef VGPU_SIM_UTIL_H
#define VGPU_SIM_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable buffer; always NUL-terminated after the first append, may hold
 * binary data (use len, not strlen). */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

void sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_puts(struct strbuf *sb, const char *s);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);

/* Like the kernel's kstrtoul(buf, base, &v) on a sysfs buffer of len bytes:
 * base 0 (0x.. hex, 0.. octal, else decimal), 10 or 16, an optional '+',
 * one optional trailing newline.  Returns 0, -EINVAL or -ERANGE. */
int parse_kstrtoul(const char *buf, size_t len, unsigned base, unsigned long *out);
/* Like kstrtol(buf, 10, &v): an optional '-' as well. */
int parse_kstrtol(const char *buf, size_t len, long *out);

/* Growable array of pointers, kept in insertion order. */
struct ptrvec {
	void **v;
	size_t n;
	size_t cap;
};

void pv_push(struct ptrvec *pv, void *item);
/* Removes the first occurrence of item, keeping order; returns 0 or -1. */
int pv_remove(struct ptrvec *pv, const void *item);
void pv_free(struct ptrvec *pv);

#endif
