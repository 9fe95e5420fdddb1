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
 */
#include "catalogue.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

#define TYPES(a) a, ARRAY_SIZE(a)

static const struct sim_type_spec t4_types[] = {
	{ 222, "1B", 16 },  { 223, "2B", 8 },  { 224, "2B4", 8 },
	{ 225, "1A", 16 },  { 226, "2A", 8 },  { 227, "4A", 4 },   { 228, "8A", 2 },  { 229, "16A", 1 },
	{ 230, "1Q", 16 },  { 231, "2Q", 8 },  { 232, "4Q", 4 },   { 233, "8Q", 2 },  { 234, "16Q", 1 },
	{ 252, "1B4", 16 },
	{ 319, "4C", 4 },   { 320, "8C", 2 },  { 321, "16C", 1 },
};

/* V100 PCIe 16 GB (0x1DB4): ids from [wiki], same type set as T4. */
static const struct sim_type_spec v100_types[] = {
	{ 105, "1Q", 16 },  { 106, "2Q", 8 },  { 107, "4Q", 4 },   { 108, "8Q", 2 },  { 109, "16Q", 1 },
	{ 110, "1A", 16 },  { 111, "2A", 8 },  { 112, "4A", 4 },   { 113, "8A", 2 },  { 114, "16A", 1 },
	{ 115, "1B", 16 },  { 163, "2B", 8 },  { 217, "2B4", 8 },  { 247, "1B4", 16 },
	{ 299, "4C", 4 },   { 300, "8C", 2 },  { 301, "16C", 1 },
};

static const struct sim_type_spec a10_types[] = {
	{ 588, "1B", 24 },  { 589, "2B", 12 },
	{ 590, "1Q", 24 },  { 591, "2Q", 12 }, { 592, "3Q", 8 },   { 593, "4Q", 6 },
	{ 594, "6Q", 4 },   { 595, "8Q", 3 },  { 596, "12Q", 2 },  { 597, "24Q", 1 },
	{ 598, "1A", 24 },  { 599, "2A", 12 }, { 600, "3A", 8 },   { 601, "4A", 6 },
	{ 602, "6A", 4 },   { 603, "8A", 3 },  { 604, "12A", 2 },  { 605, "24A", 1 },
	{ 610, "4C", 6 },   { 611, "6C", 4 },  { 612, "8C", 3 },   { 613, "12C", 2 }, { 614, "24C", 1 },
};

static const struct sim_type_spec a16_types[] = {
	{ 709, "1B", 16 },  { 710, "2B", 8 },
	{ 711, "1Q", 16 },  { 712, "2Q", 8 },  { 713, "4Q", 4 },   { 714, "8Q", 2 },  { 715, "16Q", 1 },
	{ 716, "1A", 16 },  { 717, "2A", 8 },  { 718, "4A", 4 },   { 719, "8A", 2 },  { 720, "16A", 1 },
	{ 721, "4C", 4 },   { 722, "8C", 2 },  { 723, "16C", 1 },
};

/* A100 PCIe 40 GB: time-sliced C types only (MIG-backed 474-478, 706 omitted). */
static const struct sim_type_spec a100_types[] = {
	{ 468, "4C", 10 },  { 469, "5C", 8 },  { 470, "8C", 5 },   { 471, "10C", 4 },
	{ 472, "20C", 2 },  { 473, "40C", 1 },
};

/* A100 PCIe 80 GB: time-sliced C types only (MIG-backed 699-703, 707 omitted). */
static const struct sim_type_spec a100d_types[] = {
	{ 692, "4C", 20 },  { 693, "8C", 10 }, { 694, "10C", 8 },  { 695, "16C", 5 },
	{ 696, "20C", 4 },  { 697, "40C", 2 }, { 698, "80C", 1 },
};

/* L40S: the real list, in the order creatable_vgpu_types prints it. */
static const struct sim_type_spec l40s_types[] = {
	{ 1145, "1B", 32 }, { 1146, "2B", 24 },
	{ 1147, "1Q", 32 }, { 1148, "2Q", 24 }, { 1149, "3Q", 16 }, { 1150, "4Q", 12 },
	{ 1151, "6Q", 8 },  { 1152, "8Q", 6 },  { 1153, "12Q", 4 }, { 1154, "16Q", 3 },
	{ 1155, "24Q", 2 }, { 1156, "48Q", 1 },
	{ 1157, "1A", 32 }, { 1158, "2A", 24 }, { 1159, "3A", 16 }, { 1160, "4A", 12 },
	{ 1161, "6A", 8 },  { 1162, "8A", 6 },  { 1163, "12A", 4 }, { 1164, "16A", 3 },
	{ 1165, "24A", 2 }, { 1166, "48A", 1 },
	{ 2164, "3B", 16 },
};

/* L40S C-series: maximums from the upstream example; SIMULATED ids. */
static const struct sim_type_spec l40s_c_types[] = {
	{ 9201, "4C", 12 }, { 9202, "6C", 8 },  { 9203, "8C", 6 },  { 9204, "12C", 4 },
	{ 9205, "16C", 3 }, { 9206, "24C", 2 }, { 9207, "48C", 1 },
};

/* L4: A10's maximums; SIMULATED ids. */
static const struct sim_type_spec l4_types[] = {
	{ 9101, "1B", 24 }, { 9102, "2B", 12 },
	{ 9103, "1Q", 24 }, { 9104, "2Q", 12 }, { 9105, "3Q", 8 },  { 9106, "4Q", 6 },
	{ 9107, "6Q", 4 },  { 9108, "8Q", 3 },  { 9109, "12Q", 2 }, { 9110, "24Q", 1 },
	{ 9111, "1A", 24 }, { 9112, "2A", 12 }, { 9113, "3A", 8 },  { 9114, "4A", 6 },
	{ 9115, "6A", 4 },  { 9116, "8A", 3 },  { 9117, "12A", 2 }, { 9118, "24A", 1 },
	{ 9119, "4C", 6 },  { 9120, "6C", 4 },  { 9121, "8C", 3 },  { 9122, "12C", 2 }, { 9123, "24C", 1 },
};

/* H100 PCIe 80 GB: time-sliced C types only; SIMULATED ids (MIG-backed omitted). */
static const struct sim_type_spec h100_types[] = {
	{ 9301, "4C", 20 }, { 9302, "5C", 16 }, { 9303, "8C", 10 }, { 9304, "10C", 8 },
	{ 9305, "16C", 5 }, { 9306, "20C", 4 }, { 9307, "40C", 2 }, { 9308, "80C", 1 },
};

#define NONE NULL, 0

/* Subsystem ids of L4, L40S and H100 are SIMULATED (cosmetic). */
static const struct sim_model_spec catalogue[] = {
	/* prefix  marketing                  dev    ssvid   ssid    rev   class     fb  vfs brd gen name_prefix  offered types      unoffered            simulated ids */
	{ "T4",    "Tesla T4",                0x1eb8, 0x10de, 0x12a2, 0xa1, 0x030200, 16,  0, 1, 3, "GRID ",   TYPES(t4_types),    NONE,                0 },
	{ "V100",  "Tesla V100 PCIe 16GB",    0x1db4, 0x10de, 0x1214, 0xa1, 0x030200, 16,  0, 1, 3, "GRID ",   TYPES(v100_types),  NONE,                0 },
	{ "A10",   "NVIDIA A10",              0x2236, 0x10de, 0x1482, 0xa1, 0x030200, 24, 24, 1, 4, "NVIDIA ", TYPES(a10_types),   NONE,                0 },
	{ "A16",   "NVIDIA A16",              0x25b6, 0x10de, 0x14a9, 0xa1, 0x030200, 16, 16, 4, 4, "NVIDIA ", TYPES(a16_types),   NONE,                0 },
	{ "A100",  "NVIDIA A100 PCIe 40GB",   0x20f1, 0x10de, 0x145f, 0xa1, 0x030200, 40, 20, 1, 4, "GRID ",   TYPES(a100_types),  NONE,                0 },
	{ "A100D", "NVIDIA A100 PCIe 80GB",   0x20b5, 0x10de, 0x1533, 0xa1, 0x030200, 80, 20, 1, 4, "GRID ",   TYPES(a100d_types), NONE,                0 },
	{ "L4",    "NVIDIA L4",               0x27b8, 0x10de, 0x16ca, 0xa1, 0x030200, 24, 24, 1, 4, "NVIDIA ", TYPES(l4_types),    NONE,                1 },
	{ "L40S",  "NVIDIA L40S",             0x26b9, 0x10de, 0x1851, 0xa1, 0x030200, 48, 32, 1, 4, "NVIDIA ", TYPES(l40s_types),  TYPES(l40s_c_types), 0 },
	{ "H100",  "NVIDIA H100 PCIe",        0x2331, 0x10de, 0x1626, 0xa1, 0x030200, 80, 20, 1, 5, "NVIDIA ", TYPES(h100_types),  NONE,                1 },
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

unsigned sim_type_fb_mib(const struct sim_type_spec *t)
{
	unsigned gb = (unsigned)strtoul(t->suffix, NULL, 10);

	return gb ? gb * 1024 : 512;
}

char sim_type_series(const struct sim_type_spec *t)
{
	const char *p = t->suffix;

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
