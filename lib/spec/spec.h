/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec: the vgpu-dm configuration file (version v1) parsed into a validated
 * in-memory layout. Every error names "source:line:col: what is wrong".
 */
#ifndef VGPUDM_SPEC_H
#define VGPUDM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* 1-based line and column of a YAML node. */
struct vdm_pos {
	int line;
	int col;
};

struct vdm_type_count {
	char *type;          /* as written, e.g. "T4-1Q" */
	int count;           /* > 0 */
	struct vdm_pos pos;  /* of the key */
};

struct vdm_entry {
	struct vdm_pos pos;              /* of the list item */
	bool all_devices;                /* devices: all */
	int *devices;                    /* devices: [0, 1] (GPU indexes) */
	size_t n_devices;
	struct vdm_devid *filters;       /* device-filter; none = every GPU */
	size_t n_filters;
	struct vdm_type_count *types;    /* vgpu-devices, file order; may be empty */
	size_t n_types;
};

struct vdm_config {
	char *label;
	struct vdm_pos pos;              /* of the label key */
	struct vdm_entry *entries;       /* >= 1 */
	size_t n_entries;
};

struct vdm_spec {
	char *source;                    /* file name as given, or "<stdin>" */
	struct vdm_config *configs;      /* file order */
	size_t n_configs;
};

/* Parse a whole document held in memory. On error returns NULL and sets
 * *err to a malloc'd "source:line:col: message" (caller frees). */
struct vdm_spec *vdm_spec_parse(const char *source, const char *buf, size_t len, char **err);
/* Read and parse a file; path "-" reads standard input (source "<stdin>").
 * A file that cannot be read gives "path: strerror". */
struct vdm_spec *vdm_spec_load(const char *path, char **err);
void vdm_spec_free(struct vdm_spec *spec);
/* The config with this label, or NULL. */
const struct vdm_config *vdm_spec_find(const struct vdm_spec *spec, const char *label);
/* Does an entry select the GPU at this index with this identity? */
bool vdm_entry_selects(const struct vdm_entry *e, int index, const struct vdm_devid *hw);

#endif
