/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The facts doctor judges by, in one place (doctor_facts.c, with sources):
 * which driver a CUDA major needs, the vGPU release of a driver branch, and
 * per GPU model (from the shared catalogue) whether it is MIG-capable or
 * ships in display mode.
 */
#ifndef VGPUDM_DOCTOR_FACTS_H
#define VGPUDM_DOCTOR_FACTS_H

#include <stdbool.h>
#include <stdint.h>

/* Minimum Linux driver for a CUDA major (minor-version compatibility):
 * "525.60.13" for 12; NULL for a major the table does not know. */
const char *vdm_cuda_min_driver(int cuda_major);
/* The highest CUDA major a driver version runs, 0 if below all. */
int vdm_driver_cuda_major(const char *driver_version);
/* The lowest and highest CUDA majors the table knows. */
int vdm_cuda_major_min(void);
int vdm_cuda_major_max(void);

/* The vGPU software release of a driver branch (its first number): "16.x"
 * for 535; NULL if unknown. */
const char *vdm_branch_release(int branch);

/* What doctor needs to know of a GPU model (from the shared catalogue). */
struct vdm_gpu_facts {
	const char *model;        /* the catalogue's model: "L40S" */
	bool display_mode;        /* ships with its display on: vGPU needs it off (displaymodeselector) */
	bool mig;                 /* MIG-capable: vGPU types need the AI Enterprise vgpu-kvm build */
};
/* Facts of a GPU by PCI ids (device 0 skips), else by nvidia-smi's Product
 * Name ("NVIDIA L40S"); fills *out and returns it, or NULL if unknown. */
const struct vdm_gpu_facts *vdm_gpu_facts(uint16_t device_id, uint16_t subsys_vendor, uint16_t subsys_device,
					  const char *product, struct vdm_gpu_facts *out);

#endif
