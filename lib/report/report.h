/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: a plan written for people (apply --dry-run). Per GPU in host order:
 *
 *   GPU 0 (0000:3b:00.0) T4: 4 x T4-4Q -> 2 x T4-8Q
 *     remove  <id>  T4-4Q  on 0000:3b:00.0
 *     create  <id>  T4-8Q  on 0000:3b:00.0
 *   GPU 1 (0000:af:00.0) T4: 2 x T4-8Q (already applied)
 *     keep    <id>  T4-8Q  on 0000:af:00.0
 *   GPU 2 (0000:d8:00.0): not selected by the config, left alone
 *   2 to create, 4 to remove, 2 kept
 *
 * Operations are listed in the plan's order, the order apply performs them
 * (removes, keeps, creates). Creates have their parent and id only in a plan
 * built with VDM_PLAN_CHECK, which is what apply builds. The JSON form is
 * vdm_json_plan (json.h).
 */
#ifndef VGPUDM_REPORT_H
#define VGPUDM_REPORT_H

#include <stdio.h>

#include "plan/plan.h"

void vdm_plan_print(FILE *f, const struct vdm_plan *plan);

/* The rest of the report wing's face: export, JSON, MIG printers. */
#include "export.h"
#include "json.h"
#include "mig_report.h"

#endif
