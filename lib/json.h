/* SPDX-License-Identifier: Apache-2.0 */
/* All JSON the tool prints is built here, from the library's objects. */
#ifndef VGPUDM_JSON_H
#define VGPUDM_JSON_H

#include <json-c/json.h>

#include "host.h"

/* {"gpus": [...]} with types (free capacity read from the driver) and vGPUs. */
struct json_object *vdm_json_host(struct vdm_host *host);

#endif
