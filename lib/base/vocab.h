/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vocabulary every wing speaks: a GPU's PCI identity as config files and
 * sysfs write it, and a vGPU type name as NVIDIA writes it. Parsed and
 * formatted in devid.c and vgpu_type.c.
 */
#ifndef VGPUDM_VOCAB_H
#define VGPUDM_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Edit distance (Levenshtein, letters compared without case) between a
 * and b; VDM_EDIT_FAR for words over 64 bytes. */
#define VDM_EDIT_FAR ((size_t)99)
size_t vdm_edit_distance(const char *a, const char *b);
/* "did you mean X?" or "did you mean X or Y?" (up to 3): the candidates
 * closest to word by edit distance, within a third of its length (at least
 * 2), in the given order; NULL when none is that close. malloc'd. */
char *vdm_did_you_mean(const char *word, const char *const *cands, size_t n);
/* s as it may appear in a message (a label, a command, a file name the user
 * gave): as is when it is plain printable ASCII without quotes or spaces,
 * else in double quotes with C escapes (\n, \t, \", \\, \xNN), so that a
 * newline in it cannot make a second log line. malloc'd. */
char *vdm_quote(const char *s);

#endif
