/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The catalogue is data: one row per GPU model, one list of time-sliced vGPU
 * types per model.  MIG-backed types are not simulated.
 *
 * Sources (see /work/shared/reference/sysfs-interfaces.md):
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

static const struct sim_model_spec catalogue[] = {
	/* prefix  marketing                  dev    ssvid   ssid    rev   class     fb  vfs brd gen name_prefix */
	{ "T4",    "Tesla T4",                0x1eb8, 0x10de, 0x12a2, 0xa1, 0x030200, 16,  0, 1, 3, "GRID ",   TYPES(t4_types) },
	{ "V100",  "Tesla V100 PCIe 16GB",    0x1db4, 0x10de, 0x1214, 0xa1, 0x030200, 16,  0, 1, 3, "GRID ",   TYPES(v100_types) },
	{ "A10",   "NVIDIA A10",              0x2236, 0x10de, 0x1482, 0xa1, 0x030200, 24, 24, 1, 4, "NVIDIA ", TYPES(a10_types) },
	{ "A16",   "NVIDIA A16",              0x25b6, 0x10de, 0x14a9, 0xa1, 0x030200, 16, 16, 4, 4, "NVIDIA ", TYPES(a16_types) },
	{ "A100",  "NVIDIA A100 PCIe 40GB",   0x20f1, 0x10de, 0x145f, 0xa1, 0x030200, 40, 20, 1, 4, "GRID ",   TYPES(a100_types) },
	{ "A100D", "NVIDIA A100 PCIe 80GB",   0x20b5, 0x10de, 0x1533, 0xa1, 0x030200, 80, 20, 1, 4, "GRID ",   TYPES(a100d_types) },
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

void sim_type_name(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out)
{
	sb_printf(out, "%s%s-%s\n", m->name_prefix, m->prefix, t->suffix);
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
