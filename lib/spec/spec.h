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

/* 1-based line and column of a YAML node. */
struct vdm_pos {
	int line;
	int col;
};

/* PCI identity: "0xDDDDVVVV" or "0xDDDDVVVV:0xSSSSssss" (device, vendor,
 * subsystem device, subsystem vendor). */
struct vdm_devid {
	uint16_t device;
	uint16_t vendor;
	uint16_t subsys_device;
	uint16_t subsys_vendor;
	bool has_subsys;
};

/* Parse a device filter string. Returns 0, or -EINVAL with *why set to a
 * static explanation. */
int vdm_devid_parse(const char *s, struct vdm_devid *out, const char **why);
/* Does a filter match a device? The subsystem is compared only when the
 * filter has one. */
bool vdm_devid_matches(const struct vdm_devid *filter, const struct vdm_devid *hw);
/* "0x1EB810DE" or "0x1EB810DE:0x12A210DE"; buf >= 24 bytes. */
void vdm_devid_format(const struct vdm_devid *id, char *buf, size_t len);

/* A vGPU type name as config files write it. */
struct vdm_vgpu_type {
	char gpu[64];  /* "T4", "RTX6000-Ada", "A100D", "DC" */
	int g;         /* GPU-instance slices (MIG-backed), 0 when time-sliced */
	int gb;        /* frame buffer in GB; 0 means 512 MB */
	char series;   /* 'A', 'B', 'C' or 'Q' */
	char attr[8];  /* MIG attribute: "", "ME", "NOME", "MEALL" or "GFX" */
};

/* Parse a type name with upstream's grammar. Returns 0, or -EINVAL with
 * *why set to a static explanation. */
int vdm_vgpu_type_parse(const char *s, struct vdm_vgpu_type *out, const char **why);
static inline bool vdm_vgpu_type_is_mig(const struct vdm_vgpu_type *t) { return t->g > 0; }
/* The name without a MIG attribute suffix ("DC-1-24QGFX" -> "DC-1-24Q");
 * other names are copied unchanged. Returns 0 or -ENAMETOOLONG. */
int vdm_vgpu_type_base_name(const char *s, char *buf, size_t len);

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
