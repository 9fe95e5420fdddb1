/* SPDX-License-Identifier: Apache-2.0 */
/* capture internals shared by capture.c (collecting) and capture_out.c
 * (host.json, the manifest, redaction, the tarball). */
#ifndef VGPUDM_CAPTURE_INT_H
#define VGPUDM_CAPTURE_INT_H

#include <time.h>

#include <json-c/json.h>

#include "capture.h"

enum kind { K_DIR, K_FILE, K_LINK };

struct entry {
	char *path;      /* root-relative */
	enum kind kind;
	char *data;      /* file bytes or link target */
	size_t len;
	unsigned mode;
};

struct cap {
	struct vdm_ctx *ctx;
	struct vdm_capture_opts o;
	struct timespec start;
	struct entry *e;
	size_t n, cap;
	size_t bytes;
	bool stopped;            /* a limit was hit */
	json_object *unreadable, *truncated, *notes, *commands;
	struct entry *extra;     /* commands/..., outside root/ */
	size_t n_extra;
};

void vdm_capture_note(struct cap *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double vdm_capture_elapsed(const struct cap *c);
/* false once a limit is hit (said once in the notes). */
bool vdm_capture_within_limits(struct cap *c);
/* A small attribute (up to 255 bytes, newline cut), malloc'd; NULL if unreadable. */
char *vdm_capture_read_small(struct vdm_ctx *ctx, const char *rel);

/* capture_out.c */
json_object *vdm_capture_host_json(const struct vdm_host *h);
void vdm_capture_command(struct cap *c, const char *file, char *const argv[]);
struct vdm_redact *vdm_capture_redaction(struct cap *c, json_object **docs, size_t n_docs);
char *vdm_capture_json_text(const struct vdm_redact *r, json_object *o);
json_object *vdm_capture_manifest(struct cap *c, const struct vdm_host *h, bool redacted);
int vdm_capture_write_tar(struct cap *c, int fd, char **docs, const char *const *doc_names, size_t n_docs,
			  char **err);

#endif
