/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Facts doctor judges by (doctor_facts.h). Sources:
 *  - CUDA major -> minimum driver: CUDA minor-version compatibility
 *    (docs.nvidia.com/deploy/cuda-compatibility), in doctor-plan-mig.md §2.4:
 *    11.x >= 450.80.02, 12.x >= 525.60.13, 13.x >= 580.
 *  - driver branch -> vGPU release: guest-and-host-checks.md §5 (NVIDIA's
 *    vgpuDriverCatalog.yaml v31, fastapi-dls README, vGPU 19.0 notes).
 *  - GPU models, PCI ids and MIG capability: the shared catalogue
 *    (lib/catalogue, data/catalogue/gpus.tsv).
 *  - display-mode models: doctor-plan-mig.md §1.5 names L40, L40S, A40,
 *    RTX A5000/A6000, RTX 6000 Ada; marked UNVERIFIED there (no primary text
 *    on displaymodeselector was found).
 */
#include "doctor_facts.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
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

/* Models that ship with their display outputs on and need them off for vGPU
 * (displaymodeselector): doctor-plan-mig.md §1.5, UNVERIFIED there. Names
 * are the catalogue's models. TO MOVE: a "display_mode" column of
 * data/catalogue/gpus.tsv. */
static const char *const display_models[] = {"L40", "L40S", "A40", "RTXA5000", "RTXA6000", "RTX6000-Ada"};

const struct vdm_gpu_facts *vdm_gpu_facts(uint16_t device_id, uint16_t subsys_vendor, uint16_t subsys_device,
					  const char *product, struct vdm_gpu_facts *out)
{
	const struct vdm_cat_gpu *g = device_id ? vdm_cat_gpu_by_pci(device_id, subsys_vendor, subsys_device) : NULL;
	if (!g && product) {
		/* nvidia-smi's Product Name is the catalogue's marketing name. */
		for (size_t i = 0; i < vdm_cat_gpu_count() && !g; i++)
			if (!strcasecmp(vdm_cat_gpu_at(i)->marketing, product))
				g = vdm_cat_gpu_at(i);
	}
	if (!g)
		return NULL;
	out->model = g->model;
	out->mig = g->mig;
	out->display_mode = false;
	for (size_t i = 0; i < N(display_models); i++)
		if (!strcmp(g->model, display_models[i]))
			out->display_mode = true;
	return out;
}
