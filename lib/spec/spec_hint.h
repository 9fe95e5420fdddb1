/* SPDX-License-Identifier: Apache-2.0 */
/* spec's hints for a wrong name: what the user probably meant (spec_hint.c). */
#ifndef VGPUDM_SPEC_HINT_H
#define VGPUDM_SPEC_HINT_H

#include <stddef.h>

/* Why the grammar refuses a vGPU type name, the text after "invalid vGPU
 * type 'X': ": "it looks like a sysfs vGPU type id (nvidia-232 is T4-4Q);
 * ..." for an mdev type directory name or a vendor-VFIO id, else why
 * followed by "; did you mean T4-4Q?" when a catalogue name is close
 * (malloc'd). */
char *spec_type_hint(const char *name, const char *why);
/* "; did you mean 'vgpu-devices'?" for a key that is none of known, or "". */
char *spec_key_hint(const char *key, const char *const *known, size_t n);

#endif
