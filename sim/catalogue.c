/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The catalogue is data: one row per GPU model, one list of time-sliced vGPU
 * types per model.  MIG-backed types are not simulated.
 *
 * Sources (see ../shared/reference/sysfs-interfaces.md):
 *  - type ids and names: vgpuConfig.xml of driver 510.47.03 as tabulated in
 *    KrutavShah/GPU_Virtualization-Wiki reference/vgpu-types.md ([wiki]);
 *    the A100D ids/names (692-698, "GRID A100D-4C") are also in stackhpc
 *    kayobe docs for driver 525.  So A100D uses the "GRID " prefix although
 *    it is an Ampere part: that is what real 510/525 drivers print.
 *  - Q and C maximums: upstream vgpu-device-manager config-example.yaml.
 *  - A and B maximums: frame buffer / type size (not verified, documented
 *    guess; the upstream example does not list them).
 *  - device ids: upstream default device filters; A16 subsystem 0x14A9 from
 *    vgpuDriverCatalog.  Other subsystem device ids are from memory of
 *    pci.ids and only cosmetic (SIMULATED: not checked against hardware).
 *  - num_vfs: SIMULATION CHOICE, not a verified sriov_totalvfs: A16 16 per
 *    GPU, A100 20, A100D 20, A10 24 (max instances of the smallest
 *    time-sliced type, or 20 for A100 as real hosts report 160 VFs on 8 GPUs).
 *    L40S 32, L4 24 and H100 20 (max instances of the smallest type).
 *  - L40S ids 1145-1166 and 2164 (L40S-3B), their names and their order:
 *    the real creatable_vgpu_types capture of an empty L40S VF.  That list
 *    has no C-series type, so the L40S C types are "unoffered": they are in
 *    the catalogue (maximums, names) but no file offers them.
 *  - SIMULATED ids: L4 (91xx), L40S C-series (92xx) and H100 (93xx).  The
 *    real ids are not known; these ranges are deliberately far from them.
 *  - L4 maximums: those of A10 (same 24 GB, sysfs-interfaces.md 4).  L40S B
 *    maximums: frame buffer / size, capped at 32 (not verified).
 *
 * MIG (../shared/reference/doctor-plan-mig.md 3.3, 3.5, 4.1):
 *  - GI profiles, their -lgip ids and counts per GPU: the 3.5 table (A100
 *    40 GB, 80 GB parts, A30, RTX PRO 6000).  NVML profile index constants
 *    (1_SLICE = 0, 2_SLICE = 1, 3_SLICE = 2, 4_SLICE = 3, 7_SLICE = 4,
 *    1_SLICE_REV1 (+me) = 7, 2_SLICE_REV1 = 8, 1_SLICE_REV2 (1g double
 *    memory) = 9, 1/2/4_SLICE_GFX = 10/11/12, 1_SLICE_ALL_ME = 15): NVML's
 *    header as the reference cites it.  Placements (memory slots, start
 *    offsets) follow the MIG user guide's A100 diagram: 8 slots on 7-slice
 *    parts, 4 on A30 and RTX PRO 6000.  SIMULATED: A30 profile ids, the RTX
 *    PRO 6000 2g/4g +gfx ids.
 *  - MIG-backed type maximums per GPU: upstream config-example.yaml (3.3).
 *    vGPUs per GI: GI memory / vGPU size (3.4: "Eight 3 GB vGPUs fit in a
 *    1g.24gb GI"), 1 on pre-Blackwell parts (no MIG time-slicing).
 *  - Type ids 474-478, 706 (A100) and 699-703, 707 (A100D): [wiki] and the
 *    stackhpc deployment (nvidia-699 = A100D-1-10C, nvidia-700 =
 *    A100D-2-20C).  SIMULATED ids: A100-1-10C 9401, A100D-1-20C 9411, H100
 *    MIG types 9311-9317, A30 (95xx), RTX PRO 6000 DC (96xx-97xx).
 *  - RTX PRO 6000 MIG-backed types need +gfx GIs although their names lack
 *    it (4.1); the driver lists DC-1-24Q, configs may write DC-1-24QGFX.
 *  - Ampere (A100, A100D, A30) needs a GPU reset to change MIG mode; Hopper
 *    and Blackwell do not (4.2).
 */
#include "catalogue.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TYPES(a) a, ARRAY_SIZE(a)

static const struct sim_type_spec t4_types[] = {
	{ 222, "1B", 16, NULL, 0 },  { 223, "2B", 8, NULL, 0 },  { 224, "2B4", 8, NULL, 0 },
	{ 225, "1A", 16, NULL, 0 },  { 226, "2A", 8, NULL, 0 },  { 227, "4A", 4, NULL, 0 },   { 228, "8A", 2, NULL, 0 },  { 229, "16A", 1, NULL, 0 },
	{ 230, "1Q", 16, NULL, 0 },  { 231, "2Q", 8, NULL, 0 },  { 232, "4Q", 4, NULL, 0 },   { 233, "8Q", 2, NULL, 0 },  { 234, "16Q", 1, NULL, 0 },
	{ 252, "1B4", 16, NULL, 0 },
	{ 319, "4C", 4, NULL, 0 },   { 320, "8C", 2, NULL, 0 },  { 321, "16C", 1, NULL, 0 },
};

/* V100 PCIe 16 GB (0x1DB4): ids from [wiki], same type set as T4. */
static const struct sim_type_spec v100_types[] = {
	{ 105, "1Q", 16, NULL, 0 },  { 106, "2Q", 8, NULL, 0 },  { 107, "4Q", 4, NULL, 0 },   { 108, "8Q", 2, NULL, 0 },  { 109, "16Q", 1, NULL, 0 },
	{ 110, "1A", 16, NULL, 0 },  { 111, "2A", 8, NULL, 0 },  { 112, "4A", 4, NULL, 0 },   { 113, "8A", 2, NULL, 0 },  { 114, "16A", 1, NULL, 0 },
	{ 115, "1B", 16, NULL, 0 },  { 163, "2B", 8, NULL, 0 },  { 217, "2B4", 8, NULL, 0 },  { 247, "1B4", 16, NULL, 0 },
	{ 299, "4C", 4, NULL, 0 },   { 300, "8C", 2, NULL, 0 },  { 301, "16C", 1, NULL, 0 },
};

static const struct sim_type_spec a10_types[] = {
	{ 588, "1B", 24, NULL, 0 },  { 589, "2B", 12, NULL, 0 },
	{ 590, "1Q", 24, NULL, 0 },  { 591, "2Q", 12, NULL, 0 }, { 592, "3Q", 8, NULL, 0 },   { 593, "4Q", 6, NULL, 0 },
	{ 594, "6Q", 4, NULL, 0 },   { 595, "8Q", 3, NULL, 0 },  { 596, "12Q", 2, NULL, 0 },  { 597, "24Q", 1, NULL, 0 },
	{ 598, "1A", 24, NULL, 0 },  { 599, "2A", 12, NULL, 0 }, { 600, "3A", 8, NULL, 0 },   { 601, "4A", 6, NULL, 0 },
	{ 602, "6A", 4, NULL, 0 },   { 603, "8A", 3, NULL, 0 },  { 604, "12A", 2, NULL, 0 },  { 605, "24A", 1, NULL, 0 },
	{ 610, "4C", 6, NULL, 0 },   { 611, "6C", 4, NULL, 0 },  { 612, "8C", 3, NULL, 0 },   { 613, "12C", 2, NULL, 0 }, { 614, "24C", 1, NULL, 0 },
};

static const struct sim_type_spec a16_types[] = {
	{ 709, "1B", 16, NULL, 0 },  { 710, "2B", 8, NULL, 0 },
	{ 711, "1Q", 16, NULL, 0 },  { 712, "2Q", 8, NULL, 0 },  { 713, "4Q", 4, NULL, 0 },   { 714, "8Q", 2, NULL, 0 },  { 715, "16Q", 1, NULL, 0 },
	{ 716, "1A", 16, NULL, 0 },  { 717, "2A", 8, NULL, 0 },  { 718, "4A", 4, NULL, 0 },   { 719, "8A", 2, NULL, 0 },  { 720, "16A", 1, NULL, 0 },
	{ 721, "4C", 4, NULL, 0 },   { 722, "8C", 2, NULL, 0 },  { 723, "16C", 1, NULL, 0 },
};

/* ---- MIG GPU-instance profiles ---- */

/* id, NVML index, name, compute slices, GB, max, memory slots, start mask */
static const struct sim_gi_profile gip_a100_40[] = {
	{ 19, 0, "1g.5gb",     1, 5,  7, 1, 0x7f },
	{ 20, 7, "1g.5gb+me",  1, 5,  1, 1, 0x7f },
	{ 15, 9, "1g.10gb",    1, 10, 4, 2, 0x55 },
	{ 14, 1, "2g.10gb",    2, 10, 3, 2, 0x15 },
	{ 9,  2, "3g.20gb",    3, 20, 2, 4, 0x11 },
	{ 5,  3, "4g.20gb",    4, 20, 1, 4, 0x01 },
	{ 0,  4, "7g.40gb",    7, 40, 1, 8, 0x01 },
};

/* A100/A800 80 GB and H100/H800 80 GB */
static const struct sim_gi_profile gip_80[] = {
	{ 19, 0, "1g.10gb",    1, 10, 7, 1, 0x7f },
	{ 20, 7, "1g.10gb+me", 1, 10, 1, 1, 0x7f },
	{ 15, 9, "1g.20gb",    1, 20, 4, 2, 0x55 },
	{ 14, 1, "2g.20gb",    2, 20, 3, 2, 0x15 },
	{ 9,  2, "3g.40gb",    3, 40, 2, 4, 0x11 },
	{ 5,  3, "4g.40gb",    4, 40, 1, 4, 0x01 },
	{ 0,  4, "7g.80gb",    7, 80, 1, 8, 0x01 },
};

/* A30: SIMULATED ids (the reference gives names and counts only) */
static const struct sim_gi_profile gip_a30[] = {
	{ 14, 0, "1g.6gb",     1, 6,  4, 1, 0x0f },
	{ 21, 7, "1g.6gb+me",  1, 6,  1, 1, 0x0f },
	{ 5,  1, "2g.12gb",    2, 12, 2, 2, 0x05 },
	{ 6,  8, "2g.12gb+me", 2, 12, 1, 2, 0x05 },
	{ 0,  3, "4g.24gb",    4, 24, 1, 4, 0x01 },
};

/* RTX PRO 6000 Blackwell: 14, 21, 47, 65, 0 from 3.5; SIMULATED: 5, 35, 32 */
static const struct sim_gi_profile gip_dc[] = {
	{ 14, 0,  "1g.24gb",        1, 24, 4, 1, 0x0f },
	{ 21, 7,  "1g.24gb+me",     1, 24, 1, 1, 0x0f },
	{ 47, 10, "1g.24gb+gfx",    1, 24, 4, 1, 0x0f },
	{ 65, 15, "1g.24gb+me.all", 1, 24, 1, 1, 0x0f },
	{ 5,  1,  "2g.48gb",        2, 48, 2, 2, 0x05 },
	{ 35, 11, "2g.48gb+gfx",    2, 48, 2, 2, 0x05 },
	{ 0,  3,  "4g.96gb",        4, 96, 1, 4, 0x01 },
	{ 32, 12, "4g.96gb+gfx",    4, 96, 1, 4, 0x01 },
};

#define GIPS(a) a, ARRAY_SIZE(a)
/* A MIG-backed type: id, suffix, max per GPU, GI profile, vGPUs per GI */
#define MIG(id, sfx, max, prof, per) { id, sfx, max, &prof, per }

/* A100 PCIe 40 GB: time-sliced C types, then MIG-backed ones. */
static const struct sim_type_spec a100_types[] = {
	{ 468, "4C", 10, NULL, 0 },  { 469, "5C", 8, NULL, 0 },  { 470, "8C", 5, NULL, 0 },   { 471, "10C", 4, NULL, 0 },
	{ 472, "20C", 2, NULL, 0 },  { 473, "40C", 1, NULL, 0 },
	MIG(474, "1-5C", 7, gip_a100_40[0], 1),   MIG(706, "1-5CME", 1, gip_a100_40[1], 1),
	MIG(9401, "1-10C", 4, gip_a100_40[2], 1), MIG(475, "2-10C", 3, gip_a100_40[3], 1),
	MIG(476, "3-20C", 2, gip_a100_40[4], 1),  MIG(477, "4-20C", 1, gip_a100_40[5], 1),
	MIG(478, "7-40C", 1, gip_a100_40[6], 1),
};

/* A100 PCIe 80 GB: time-sliced C types, then MIG-backed ones. */
static const struct sim_type_spec a100d_types[] = {
	{ 692, "4C", 20, NULL, 0 },  { 693, "8C", 10, NULL, 0 }, { 694, "10C", 8, NULL, 0 },  { 695, "16C", 5, NULL, 0 },
	{ 696, "20C", 4, NULL, 0 },  { 697, "40C", 2, NULL, 0 }, { 698, "80C", 1, NULL, 0 },
	MIG(699, "1-10C", 7, gip_80[0], 1),  MIG(707, "1-10CME", 1, gip_80[1], 1),
	MIG(9411, "1-20C", 4, gip_80[2], 1), MIG(700, "2-20C", 3, gip_80[3], 1),
	MIG(701, "3-40C", 2, gip_80[4], 1),  MIG(702, "4-40C", 1, gip_80[5], 1),
	MIG(703, "7-80C", 1, gip_80[6], 1),
};

/* A30 24 GB: SIMULATED ids. */
static const struct sim_type_spec a30_types[] = {
	{ 9501, "4C", 6, NULL, 0 },  { 9502, "6C", 4, NULL, 0 },  { 9503, "8C", 3, NULL, 0 },  { 9504, "12C", 2, NULL, 0 }, { 9505, "24C", 1, NULL, 0 },
	MIG(9511, "1-6C", 4, gip_a30[0], 1),    MIG(9512, "1-6CME", 1, gip_a30[1], 1),
	MIG(9513, "2-12C", 2, gip_a30[2], 1),   MIG(9514, "2-12CME", 1, gip_a30[3], 1),
	MIG(9515, "4-24C", 1, gip_a30[4], 1),
};

/* RTX PRO 6000 Blackwell Server Edition (DC): SIMULATED ids.  MIG-backed
 * types use the +gfx GIs; several vGPUs share one GI (MIG time-slicing). */
static const struct sim_type_spec dc_types[] = {
	{ 9601, "3Q", 32, NULL, 0 }, { 9602, "4Q", 24, NULL, 0 }, { 9603, "6Q", 16, NULL, 0 }, { 9604, "8Q", 12, NULL, 0 },
	{ 9605, "12Q", 8, NULL, 0 }, { 9606, "16Q", 6, NULL, 0 }, { 9607, "24Q", 4, NULL, 0 }, { 9608, "32Q", 3, NULL, 0 },
	{ 9609, "48Q", 2, NULL, 0 }, { 9610, "96Q", 1, NULL, 0 },
	{ 9611, "8C", 12, NULL, 0 }, { 9612, "12C", 8, NULL, 0 }, { 9613, "16C", 6, NULL, 0 }, { 9614, "24C", 4, NULL, 0 },
	{ 9615, "32C", 3, NULL, 0 }, { 9616, "48C", 2, NULL, 0 }, { 9617, "96C", 1, NULL, 0 },
	MIG(9651, "1-2Q", 48, gip_dc[2], 12), MIG(9652, "1-3Q", 32, gip_dc[2], 8),
	MIG(9653, "1-4Q", 24, gip_dc[2], 6),  MIG(9654, "1-6Q", 16, gip_dc[2], 4),
	MIG(9655, "1-8C", 12, gip_dc[2], 3),  MIG(9656, "1-8Q", 12, gip_dc[2], 3),
	MIG(9657, "1-12C", 8, gip_dc[2], 2),  MIG(9658, "1-12Q", 8, gip_dc[2], 2),
	MIG(9659, "1-16C", 2, gip_dc[2], 1),  MIG(9660, "1-16Q", 2, gip_dc[2], 1),
	MIG(9661, "1-24C", 4, gip_dc[2], 1),  MIG(9662, "1-24Q", 4, gip_dc[2], 1),
	MIG(9671, "2-8C", 4, gip_dc[5], 6),   MIG(9672, "2-8Q", 4, gip_dc[5], 6),
	MIG(9673, "2-12C", 8, gip_dc[5], 4),  MIG(9674, "2-12Q", 8, gip_dc[5], 4),
	MIG(9675, "2-16C", 6, gip_dc[5], 3),  MIG(9676, "2-16Q", 6, gip_dc[5], 3),
	MIG(9677, "2-24C", 4, gip_dc[5], 2),  MIG(9678, "2-24Q", 4, gip_dc[5], 2),
	MIG(9679, "2-32C", 1, gip_dc[5], 1),  MIG(9680, "2-32Q", 1, gip_dc[5], 1),
	MIG(9681, "2-48C", 2, gip_dc[5], 1),  MIG(9682, "2-48Q", 2, gip_dc[5], 1),
	MIG(9691, "4-24C", 4, gip_dc[7], 4),  MIG(9692, "4-24Q", 4, gip_dc[7], 4),
	MIG(9693, "4-32C", 3, gip_dc[7], 3),  MIG(9694, "4-32Q", 3, gip_dc[7], 3),
	MIG(9695, "4-48C", 2, gip_dc[7], 2),  MIG(9696, "4-48Q", 2, gip_dc[7], 2),
	MIG(9697, "4-96C", 1, gip_dc[7], 1),  MIG(9698, "4-96Q", 1, gip_dc[7], 1),
};

/* L40S: the real list, in the order creatable_vgpu_types prints it. */
static const struct sim_type_spec l40s_types[] = {
	{ 1145, "1B", 32, NULL, 0 }, { 1146, "2B", 24, NULL, 0 },
	{ 1147, "1Q", 32, NULL, 0 }, { 1148, "2Q", 24, NULL, 0 }, { 1149, "3Q", 16, NULL, 0 }, { 1150, "4Q", 12, NULL, 0 },
	{ 1151, "6Q", 8, NULL, 0 },  { 1152, "8Q", 6, NULL, 0 },  { 1153, "12Q", 4, NULL, 0 }, { 1154, "16Q", 3, NULL, 0 },
	{ 1155, "24Q", 2, NULL, 0 }, { 1156, "48Q", 1, NULL, 0 },
	{ 1157, "1A", 32, NULL, 0 }, { 1158, "2A", 24, NULL, 0 }, { 1159, "3A", 16, NULL, 0 }, { 1160, "4A", 12, NULL, 0 },
	{ 1161, "6A", 8, NULL, 0 },  { 1162, "8A", 6, NULL, 0 },  { 1163, "12A", 4, NULL, 0 }, { 1164, "16A", 3, NULL, 0 },
	{ 1165, "24A", 2, NULL, 0 }, { 1166, "48A", 1, NULL, 0 },
	{ 2164, "3B", 16, NULL, 0 },
};

/* L40S C-series: maximums from the upstream example; SIMULATED ids. */
static const struct sim_type_spec l40s_c_types[] = {
	{ 9201, "4C", 12, NULL, 0 }, { 9202, "6C", 8, NULL, 0 },  { 9203, "8C", 6, NULL, 0 },  { 9204, "12C", 4, NULL, 0 },
	{ 9205, "16C", 3, NULL, 0 }, { 9206, "24C", 2, NULL, 0 }, { 9207, "48C", 1, NULL, 0 },
};

/* L4: A10's maximums; SIMULATED ids. */
static const struct sim_type_spec l4_types[] = {
	{ 9101, "1B", 24, NULL, 0 }, { 9102, "2B", 12, NULL, 0 },
	{ 9103, "1Q", 24, NULL, 0 }, { 9104, "2Q", 12, NULL, 0 }, { 9105, "3Q", 8, NULL, 0 },  { 9106, "4Q", 6, NULL, 0 },
	{ 9107, "6Q", 4, NULL, 0 },  { 9108, "8Q", 3, NULL, 0 },  { 9109, "12Q", 2, NULL, 0 }, { 9110, "24Q", 1, NULL, 0 },
	{ 9111, "1A", 24, NULL, 0 }, { 9112, "2A", 12, NULL, 0 }, { 9113, "3A", 8, NULL, 0 },  { 9114, "4A", 6, NULL, 0 },
	{ 9115, "6A", 4, NULL, 0 },  { 9116, "8A", 3, NULL, 0 },  { 9117, "12A", 2, NULL, 0 }, { 9118, "24A", 1, NULL, 0 },
	{ 9119, "4C", 6, NULL, 0 },  { 9120, "6C", 4, NULL, 0 },  { 9121, "8C", 3, NULL, 0 },  { 9122, "12C", 2, NULL, 0 }, { 9123, "24C", 1, NULL, 0 },
};

/* H100 PCIe 80 GB: time-sliced C types, then MIG-backed ones; SIMULATED ids. */
static const struct sim_type_spec h100_types[] = {
	{ 9301, "4C", 20, NULL, 0 }, { 9302, "5C", 16, NULL, 0 }, { 9303, "8C", 10, NULL, 0 }, { 9304, "10C", 8, NULL, 0 },
	{ 9305, "16C", 5, NULL, 0 }, { 9306, "20C", 4, NULL, 0 }, { 9307, "40C", 2, NULL, 0 }, { 9308, "80C", 1, NULL, 0 },
	MIG(9311, "1-10C", 7, gip_80[0], 1),  MIG(9312, "1-10CME", 1, gip_80[1], 1),
	MIG(9313, "1-20C", 4, gip_80[2], 1),  MIG(9314, "2-20C", 3, gip_80[3], 1),
	MIG(9315, "3-40C", 2, gip_80[4], 1),  MIG(9316, "4-40C", 1, gip_80[5], 1),
	MIG(9317, "7-80C", 1, gip_80[6], 1),
};

#define NONE NULL, 0
/* GI profiles, memory slots, compute slices, reset needed for a mode change */
#define NOMIG NULL, 0, 0, 0, 0
#define MIG7(p, reset) GIPS(p), 8, 7, reset
#define MIG4(p, reset) GIPS(p), 4, 4, reset

/* Subsystem ids of L4, L40S and H100 are SIMULATED (cosmetic). */
static const struct sim_model_spec catalogue[] = {
	/* prefix  marketing                  dev    ssvid   ssid    rev   class     fb  vfs brd gen name_prefix  offered types      unoffered            simulated ids */
	{ "T4",    "Tesla T4",                0x1eb8, 0x10de, 0x12a2, 0xa1, 0x030200, 16,  0, 1, 3, "GRID ",   TYPES(t4_types),    NONE,                0, NOMIG },
	{ "V100",  "Tesla V100 PCIe 16GB",    0x1db4, 0x10de, 0x1214, 0xa1, 0x030200, 16,  0, 1, 3, "GRID ",   TYPES(v100_types),  NONE,                0, NOMIG },
	{ "A10",   "NVIDIA A10",              0x2236, 0x10de, 0x1482, 0xa1, 0x030200, 24, 24, 1, 4, "NVIDIA ", TYPES(a10_types),   NONE,                0, NOMIG },
	{ "A16",   "NVIDIA A16",              0x25b6, 0x10de, 0x14a9, 0xa1, 0x030200, 16, 16, 4, 4, "NVIDIA ", TYPES(a16_types),   NONE,                0, NOMIG },
	{ "A100",  "NVIDIA A100 PCIe 40GB",   0x20f1, 0x10de, 0x145f, 0xa1, 0x030200, 40, 20, 1, 4, "GRID ",   TYPES(a100_types),  NONE,                0, MIG7(gip_a100_40, 1) },
	{ "A100D", "NVIDIA A100 PCIe 80GB",   0x20b5, 0x10de, 0x1533, 0xa1, 0x030200, 80, 20, 1, 4, "GRID ",   TYPES(a100d_types), NONE,                0, MIG7(gip_80, 1) },
	{ "L4",    "NVIDIA L4",               0x27b8, 0x10de, 0x16ca, 0xa1, 0x030200, 24, 24, 1, 4, "NVIDIA ", TYPES(l4_types),    NONE,                1, NOMIG },
	{ "L40S",  "NVIDIA L40S",             0x26b9, 0x10de, 0x1851, 0xa1, 0x030200, 48, 32, 1, 4, "NVIDIA ", TYPES(l40s_types),  TYPES(l40s_c_types), 0, NOMIG },
	{ "H100",  "NVIDIA H100 PCIe",        0x2331, 0x10de, 0x1626, 0xa1, 0x030200, 80, 20, 1, 5, "NVIDIA ", TYPES(h100_types),  NONE,                1, MIG7(gip_80, 0) },
	{ "A30",   "NVIDIA A30",              0x20b7, 0x10de, 0x1532, 0xa1, 0x030200, 24, 16, 1, 4, "NVIDIA ", TYPES(a30_types),   NONE,                1, MIG4(gip_a30, 1) },
	{ "DC",    "NVIDIA RTX PRO 6000 Blackwell Server Edition", 0x2bb5, 0x10de, 0x204e, 0xa1, 0x030200, 96, 48, 1, 5, "NVIDIA RTX Pro 6000 Blackwell ", TYPES(dc_types), NONE, 1, MIG4(gip_dc, 0) },
};

size_t sim_catalogue_count(void)
{
	return ARRAY_SIZE(catalogue);
}

const struct sim_model_spec *sim_catalogue_get(size_t i)
{
	return i < ARRAY_SIZE(catalogue) ? &catalogue[i] : NULL;
}

const struct sim_model_spec *sim_catalogue_find(const char *prefix)
{
	for (size_t i = 0; i < ARRAY_SIZE(catalogue); i++)
		if (strcasecmp(catalogue[i].prefix, prefix) == 0)
			return &catalogue[i];
	return NULL;
}

const struct sim_type_spec *sim_model_type(const struct sim_model_spec *m, unsigned id, int *offered)
{
	for (size_t i = 0; i < m->ntypes; i++) {
		if (m->types[i].id == id) {
			if (offered)
				*offered = 1;
			return &m->types[i];
		}
	}
	for (size_t i = 0; i < m->nunoffered; i++) {
		if (m->unoffered[i].id == id) {
			if (offered)
				*offered = 0;
			return &m->unoffered[i];
		}
	}
	return NULL;
}

const struct sim_gi_profile *sim_model_gi_profile(const struct sim_model_spec *m, unsigned id)
{
	for (size_t i = 0; i < m->ngi_profiles; i++)
		if (m->gi_profiles[i].id == id)
			return &m->gi_profiles[i];
	return NULL;
}

/* The size part of a suffix: "1-5CME" -> "5CME". */
static const char *size_part(const struct sim_type_spec *t)
{
	const char *dash = strrchr(t->suffix, '-');

	return dash ? dash + 1 : t->suffix;
}

unsigned sim_type_fb_mib(const struct sim_type_spec *t)
{
	unsigned gb = (unsigned)strtoul(size_part(t), NULL, 10);

	return gb ? gb * 1024 : 512;
}

char sim_type_series(const struct sim_type_spec *t)
{
	const char *p = size_part(t);

	while (isdigit((unsigned char)*p))
		p++;
	return *p;
}

void sim_type_name_line(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out)
{
	sb_printf(out, "%s%s-%s", m->name_prefix, m->prefix, t->suffix);
}

void sim_type_name(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out)
{
	sim_type_name_line(m, t, out);
	sb_puts(out, "\n");
}

/* Per-series pattern of real sysfs (sysfs-interfaces.md 1.2). */
void sim_type_description(const struct sim_type_spec *t, struct strbuf *out)
{
	unsigned fb = sim_type_fb_mib(t);
	unsigned heads = 1, frl = 60;
	const char *res;

	switch (sim_type_series(t)) {
	case 'Q':
		heads = 4;
		res = fb <= 1024 ? "5120x2880" : "7680x4320";
		break;
	case 'B':
		heads = 4;
		frl = 45;
		res = "5120x2880";
		break;
	case 'A':
		res = "1280x1024";
		break;
	default: /* 'C' */
		res = "4096x2400";
		break;
	}
	sb_printf(out, "num_heads=%u, frl_config=%u, framebuffer=%uM, max_resolution=%s, max_instance=%u\n",
		  heads, frl, fb, res, t->max_instances);
}
