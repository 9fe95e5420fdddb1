/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysfs: the only code that touches the host. Every path is relative to the
 * context root ("sys/bus/pci/devices/0000:3b:00.0/vendor"); failures are
 * logged at debug level with the full path and errno.
 */
#ifndef VGPUDM_SYSFS_H
#define VGPUDM_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

#define VDM_PATH_MAX 4096

/* Full path of a root-relative path into buf; -ENAMETOOLONG if it does not fit. */
int vdm_path(struct vdm_ctx *ctx, char *buf, size_t len, const char *rel);

/* Read an attribute into buf (NUL-terminated, trailing newlines removed).
 * Returns the length or -errno. */
int vdm_sysfs_read(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len);
/* Read an attribute holding one number (decimal, or hex with 0x). */
int vdm_sysfs_read_u64(struct vdm_ctx *ctx, const char *rel, uint64_t *out);
int vdm_sysfs_read_int(struct vdm_ctx *ctx, const char *rel, int *out);
/* Write a whole attribute in one write(2). Returns 0 or -errno. */
int vdm_sysfs_write(struct vdm_ctx *ctx, const char *rel, const char *data);
/* The last component of a symlink's target. Returns length or -errno. */
int vdm_sysfs_link_base(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len);
/* The symlink's target as written. Returns length or -errno. */
int vdm_sysfs_readlink(struct vdm_ctx *ctx, const char *rel, char *buf, size_t len);
bool vdm_sysfs_exists(struct vdm_ctx *ctx, const char *rel);

/* Sorted names in a directory (no "." or ".."). Returns count or -errno;
 * free with vdm_names_free. A missing directory gives -ENOENT. */
int vdm_sysfs_list(struct vdm_ctx *ctx, const char *rel, char ***names);
void vdm_names_free(char **names, int n);

/* The one number parser for what a user, a file or the host hands us:
 * never atoi (which wraps: "L40Sx4294967297" was one GPU) or an unchecked
 * strtol. A whole string as a number in [min, max]: base 10, or base 0 (0x
 * hex, decimal); no sign unless min < 0, no spaces, nothing after it. 0, or
 * -EINVAL (not a number) or -ERANGE (out of range, also past LONG_MAX). */
int vdm_parse_long(const char *s, int base, long min, long max, long *out);
/* The same for a number at the start of s ("535" of "r535_00", "12" of
 * "12.4"): at least one digit; *end (may be NULL) gets what follows it. */
int vdm_parse_long_prefix(const char *s, const char **end, int base, long min, long max, long *out);

/* PCI address "dddd:bb:dd.f" to a number that sorts like the bus does. */
int vdm_pci_addr_parse(const char *s, uint32_t *out);

#endif
