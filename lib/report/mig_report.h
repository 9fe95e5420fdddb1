/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MIG state and MIG steps as people and programs read them (mig_report.c).
 */
#ifndef VGPUDM_MIG_REPORT_H
#define VGPUDM_MIG_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

#include "plan/plan.h"

/* Printers: the plan's MIG steps (dry-run), a GPU's MIG state (list). */
void vdm_mig_print_plan(FILE *f, const struct vdm_gpu_plan *gp);
void vdm_mig_print_gpu(FILE *f, const struct vdm_gpu *g);
struct json_object *vdm_mig_json_plan(const struct vdm_gpu_plan *gp);
struct json_object *vdm_mig_json_gpu(const struct vdm_gpu *g);
/* export: one info line per GPU in MIG mode (its instances), which the
 * exported MIG-backed type names make again. */
void vdm_mig_export_note(struct vdm_ctx *ctx, const struct vdm_gpu *g);

#endif
