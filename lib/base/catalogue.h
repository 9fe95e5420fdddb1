/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalogue: the one table of GPU models, their vGPU types and the licence
 * each vGPU series needs, shared by vgpu-sim, `plan` and `doctor`.
 *
 * The facts live as data in data/catalogue/<name>.tsv (one row per fact, each
 * with a source; see data/catalogue/README.md).  scripts/gen-catalogue
 * checks them and turns them into C at build time (catalogue_data.c); this
 * module only looks them up.  All pointers returned point into static,
 * read-only tables: never free them.
 *
 * On a live host the driver's own lists (lib/host/host.h) win over the
 * catalogue: use it for what the host cannot say (a GPU you do not have,
 * licence editions, MIG capability, the frame buffer of a full GPU).
 */
#ifndef VGPUDM_CATALOGUE_H
#define VGPUDM_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What vgpu-sim does with a type (vgpu-types.tsv column "sim"). */
enum vdm_cat_sim {
	VDM_CAT_SIM_NO = 0,      /* "-": not simulated */
	VDM_CAT_SIM_OFFERED,     /* "offered": listed by the simulated driver */
	VDM_CAT_SIM_UNOFFERED,   /* "unoffered": known (names, maxima) but the real
				  * driver does not list it (L40S C-series) */
};

/* One vGPU type of a GPU model (a row of vgpu-types.tsv). */
struct vdm_cat_type {
	const char *name;          /* as config files write it: "T4-8Q", "A100-1-5C" */
	const char *suffix;        /* the name after "<model>-": "8Q", "1-5C" */
	unsigned id;               /* the driver's numeric type id (mdev "nvidia-<id>",
				    * vendor-VFIO creatable_vgpu_types); 0 unknown */
	char series;               /* 'A', 'B', 'C' or 'Q' */
	unsigned fb_mib;           /* frame buffer per vGPU in MiB ("0Q" = 512) */
	unsigned max_instances;    /* per physical GPU, equal-size mode */
	const char *gi_profile;    /* MIG-backed: GPU-instance profile ("1g.5gb");
				    * NULL: time-sliced */
	enum vdm_cat_sim sim;
	const char *source;        /* source tags of the row */
};

/* One MIG GPU-instance profile of a model (a row of mig-profiles.tsv). */
struct vdm_cat_gi_profile {
	const char *name;          /* "1g.5gb", "1g.5gb+me", "1g.24gb+gfx" */
	unsigned id;               /* nvidia-smi mig -lgip ID (NVML creates by it; 7g is 0) */
	unsigned nvml_index;       /* NVML_GPU_INSTANCE_PROFILE_* constant */
	unsigned slices;           /* compute slices */
	unsigned fb_mib;           /* nominal memory (budgeting uses it) */
	unsigned max_instances;    /* per GPU */
	unsigned mem_slots;        /* memory slots one instance covers */
	uint32_t starts_mask;      /* bit i: an instance may start at memory slot i */
	const char *source;
};

/* One GPU model (a row of gpus.tsv): one physical GPU, not a board. */
struct vdm_cat_gpu {
	const char *model;         /* the vGPU type-name prefix: "T4", "A100D", "RTX6000-Ada" */
	const char *marketing;     /* "Tesla T4" */
	uint16_t device_id;        /* PCI ids of the physical function */
	uint16_t subsys_vendor;
	uint16_t subsys_device;    /* 0: not known */
	unsigned fb_mib;           /* the GPU's frame buffer usable by vGPUs, MiB */
	const char *arch;          /* "Turing", "Ampere", "Ada", "Hopper"... */
	int sriov_vfs;             /* VFs per GPU; 0: no SR-IOV (mdev on the PF only);
				    * -1: SR-IOV, number not known */
	bool mig;                  /* MIG capable */
	int mixed_size;            /* mixed-size (heterogeneous) mode: 1 supported,
				    * 0 not, -1 unknown */
	/* vgpu-sim only (0 / NULL for models it does not simulate): */
	unsigned gpus_per_board;   /* > 1: a board of GPUs behind a PCIe switch */
	uint8_t revision;
	uint32_t class_code;
	unsigned pcie_gen;
	const char *name_prefix;   /* the driver's type-name prefix: "GRID " or "NVIDIA " */
	bool sim;                  /* vgpu-sim can simulate it */
	bool ids_simulated;        /* its type ids are invented by the simulator */
	const struct vdm_cat_type *types;  /* in the driver's listing order */
	size_t n_types;
	const char *source;
	const struct vdm_cat_gi_profile *gi_profiles; /* MIG: its GPU-instance profiles; NULL none */
	size_t n_gi_profiles;
};

/* One vGPU series (a row of series.tsv). */
struct vdm_cat_series {
	char series;               /* 'Q', 'C', 'B', 'A' */
	const char *use;           /* "workstation", "compute", "desktop", "apps" */
	const char *licence;       /* edition it needs, vGPU 16 and later: "vWS" */
	const char *licence_legacy;/* vGPU 15 and earlier */
	bool cuda;                 /* runs CUDA */
	const char *source;
};

/* Another PCI id of a model (a row of pci-ids.tsv). */
struct vdm_cat_pci {
	uint16_t device_id, subsys_vendor, subsys_device; /* subsys_device 0: any */
	const char *model;
	const char *source;
};

/* Models in file order: i < vdm_cat_gpu_count(), else NULL. */
size_t vdm_cat_gpu_count(void);
const struct vdm_cat_gpu *vdm_cat_gpu_at(size_t i);

/* A model by its type-name prefix, case-insensitive ("t4" finds "T4"); NULL if unknown. */
const struct vdm_cat_gpu *vdm_cat_gpu_by_model(const char *model);

/* The model of a physical function with these PCI ids.  A model whose
 * subsystem id matches wins; else the first with the device id whose
 * subsystem is not known or (when ssid is 0) any.  So 0x25B6 with
 * subsystem 0x14A9 is an A16, with 0x159D an A2.  NULL if unknown. */
const struct vdm_cat_gpu *vdm_cat_gpu_by_pci(uint16_t device_id, uint16_t subsys_vendor,
					     uint16_t subsys_device);

/* The type of a model by full name ("T4-8Q") or suffix ("8Q"); NULL if none. */
const struct vdm_cat_type *vdm_cat_gpu_type(const struct vdm_cat_gpu *g, const char *name);
/* The type of a model by driver id; NULL if none (or id 0). */
const struct vdm_cat_type *vdm_cat_gpu_type_by_id(const struct vdm_cat_gpu *g, unsigned id);

/* A type by full name among all models ("L40S-4Q"); *gpu gets its model
 * (gpu may be NULL).  NULL if no model lists it. */
const struct vdm_cat_type *vdm_cat_type_by_name(const char *name, const struct vdm_cat_gpu **gpu);

/* A GPU-instance profile of a model by name ("1g.5gb+me"); NULL if none. */
const struct vdm_cat_gi_profile *vdm_cat_gi_profile(const struct vdm_cat_gpu *g, const char *name);
/* vGPUs of a MIG-backed type one GPU instance holds: the profile's memory
 * over the vGPU's (doctor-plan-mig.md 3.4: eight 3 GB vGPUs in a 1g.24gb
 * instance), at least 1; 0 for a time-sliced type or an unknown profile. */
unsigned vdm_cat_type_per_gi(const struct vdm_cat_gpu *g, const struct vdm_cat_type *t);

/* A series by letter ('Q', 'C', 'B', 'A', case-insensitive); NULL if unknown. */
const struct vdm_cat_series *vdm_cat_series(char series);
/* All series, in file order. */
size_t vdm_cat_series_count(void);
const struct vdm_cat_series *vdm_cat_series_at(size_t i);

/* Extra PCI ids (aliases), in file order. */
size_t vdm_cat_pci_count(void);
const struct vdm_cat_pci *vdm_cat_pci_at(size_t i);

#endif
