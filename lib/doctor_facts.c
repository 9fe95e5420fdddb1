/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Facts doctor judges by (doctor_facts.h). Sources:
 *  - CUDA major -> minimum driver: CUDA minor-version compatibility
 *    (docs.nvidia.com/deploy/cuda-compatibility), in doctor-plan-mig.md §2.4:
 *    11.x >= 450.80.02, 12.x >= 525.60.13, 13.x >= 580.
 *  - driver branch -> vGPU release: guest-and-host-checks.md §5 (NVIDIA's
 *    vgpuDriverCatalog.yaml v31, fastapi-dls README, vGPU 19.0 notes).
 *  - MIG-capable models: doctor-plan-mig.md §1.2 (A100/A30/H100/H200/B200
 *    class; vGPU 18 user guide: AI Enterprise only) and the catalogue's A100,
 *    A100D, H100 device ids (sim/catalogue.c).
 *  - display-mode models: doctor-plan-mig.md §1.5 names L40, L40S, A40,
 *    RTX A5000/A6000, RTX 6000 Ada; marked UNVERIFIED there (no primary text
 *    on displaymodeselector was found). Device ids: L40S from the
 *    catalogue; L40 0x26b5, A40 0x2235, RTX A6000 0x2230 from pci.ids.
 * TO MOVE: the GPU rows belong in lib/catalogue's gpus.tsv (columns
 * "mig" exists there; "display_mode" does not yet).
 */
#include "doctor_facts.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "doctor_parse.h"

static const struct {
	int major;
	const char *driver;
} cuda_table[] = {
	{11, "450.80.02"},
	{12, "525.60.13"},
	{13, "580"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *vdm_cuda_min_driver(int major)
{
	for (size_t i = 0; i < N(cuda_table); i++)
		if (cuda_table[i].major == major)
			return cuda_table[i].driver;
	return NULL;
}

int vdm_driver_cuda_major(const char *version)
{
	int best = 0;
	for (size_t i = 0; i < N(cuda_table); i++)
		if (vdm_version_cmp(version, cuda_table[i].driver) >= 0)
			best = cuda_table[i].major;
	return best;
}

int vdm_cuda_major_min(void)
{
	return cuda_table[0].major;
}

int vdm_cuda_major_max(void)
{
	return cuda_table[N(cuda_table) - 1].major;
}

static const struct {
	int branch;
	const char *release;
} releases[] = {
	{450, "11.x"}, {460, "12.x"}, {470, "13.x"}, {510, "14.x"}, {525, "15.x"},
	{535, "16.x"}, {550, "17.x"}, {570, "18.x"}, {580, "19.x"},
};

const char *vdm_branch_release(int branch)
{
	for (size_t i = 0; i < N(releases); i++)
		if (releases[i].branch == branch)
			return releases[i].release;
	return NULL;
}

static const struct {
	uint16_t device;
	const char *name;          /* as nvidia-smi's Product Name ends: "NVIDIA <name>" */
	struct vdm_gpu_facts f;
} gpus[] = {
	{0x26b9, "L40S", {"L40S", true, false}},
	{0x26b5, "L40", {"L40", true, false}},
	{0x2235, "A40", {"A40", true, false}},
	{0x2230, "RTX A6000", {"RTXA6000", true, false}},
	{0, "RTX A5000", {"RTXA5000", true, false}},
	{0, "RTX 6000 Ada Generation", {"RTX6000-Ada", true, false}},
	{0x20f1, "A100-PCIE-40GB", {"A100", false, true}},
	{0x20b5, "A100 80GB PCIe", {"A100D", false, true}},
	{0x20b7, "A30", {"A30", false, true}},
	{0x2331, "H100 PCIe", {"H100", false, true}},
	{0, "H100 NVL", {"H100", false, true}},
	{0, "H200", {"H200", false, true}},
	{0, "B200", {"B200", false, true}},
};

const struct vdm_gpu_facts *vdm_gpu_facts(uint16_t device_id, const char *product)
{
	if (device_id)
		for (size_t i = 0; i < N(gpus); i++)
			if (gpus[i].device == device_id)
				return &gpus[i].f;
	if (product) {
		const char *p = product;
		if (!strncmp(p, "NVIDIA ", 7))
			p += 7;
		for (size_t i = 0; i < N(gpus); i++)
			if (!strcasecmp(p, gpus[i].name))
				return &gpus[i].f;
	}
	return NULL;
}
