/* SPDX-License-Identifier: Apache-2.0 */
/* All JSON the tool prints is built here, from the library's objects. */
#ifndef VGPUDM_JSON_H
#define VGPUDM_JSON_H

#include <json-c/json.h>

#include "host/host.h"

/* {"gpus": [...]} with types (free capacity read from the driver) and vGPUs. */
struct json_object *vdm_json_host(struct vdm_host *host);

/* export --json: the host's layout as a v1 config with one label (NULL:
 * "current"), the structure vdm_export_yaml writes (export.h):
 * {"version": "v1", "vgpu-configs": {"current": [{"device-filter": "0x1EB810DE",
 * "devices": [0], "vgpu-devices": {"T4-4Q": 4}}]}}. NULL with *err set when
 * the host has no GPU to export. Warns about vGPUs it leaves out. */
struct json_object *vdm_json_export(struct vdm_host *host, const char *label, char **err);

struct vdm_plan;
/* apply --dry-run --json: {"gpus": [{"index", "address", "model", "selected",
 * "applied", "current": {type: count}, "wanted": {type: count} or null,
 * "operations": [{"op": "keep|remove|create", "id", "type", "type_id",
 * "parent"}]}], "create": N, "remove": N, "keep": N}. */
struct json_object *vdm_json_plan(const struct vdm_plan *plan);

#endif
