/* SPDX-License-Identifier: Apache-2.0 */
/* The GPU models vgpu-sim can simulate and their time-sliced vGPU types: a
 * view of the library's catalogue (lib/base/catalogue.h, data/catalogue/). */
#ifndef VGPU_SIM_MODELS_H
#define VGPU_SIM_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A MIG GPU-instance profile (doctor-plan-mig.md 3.5).  Placements are in
 * memory slots: a GI of this profile covers `size` slots starting at a slot
 * whose bit is set in starts_mask. */
struct sim_gi_profile {
	unsigned id;             /* nvidia-smi mig -lgip ID = NVML profile id */
	unsigned index;          /* NVML_GPU_INSTANCE_PROFILE_* constant */
	const char *name;        /* "1g.5gb+me" */
	unsigned slices;         /* compute slices (the "1g") */
	unsigned mem_gb;         /* nominal memory (budgeting uses it, 3.4) */
	unsigned max;            /* instances per GPU */
	unsigned size;           /* memory slots one instance takes */
	unsigned starts_mask;    /* bit i: may start at memory slot i */
};

struct sim_type_spec {
	unsigned id;             /* numeric type id: directory nvidia-<id> */
	const char *suffix;      /* "1Q", "2B4", "40C", "1-5CME": name is <prefix>-<suffix> */
	unsigned max_instances;  /* per physical GPU */
	const struct sim_gi_profile *gi; /* MIG-backed: the GI profile it needs; NULL time-sliced */
	unsigned per_gi;         /* MIG-backed: vGPUs one GI holds */
};

struct sim_model_spec {
	const char *prefix;       /* vGPU type prefix as config files name it: "T4" */
	const char *marketing;    /* "Tesla T4" */
	uint16_t device_id;
	uint16_t subsys_vendor;
	uint16_t subsys_device;   /* of the PF; VFs report 0x0000 (A2 capture) */
	uint8_t revision;
	uint32_t class_code;
	unsigned fb_gb;
	unsigned num_vfs;         /* 0: no SR-IOV, the PF is the mdev parent */
	unsigned gpus_per_board;  /* > 1: a board of GPUs behind a PCIe switch */
	unsigned pcie_gen;        /* 3, 4 or 5: link speed files */
	const char *name_prefix;  /* "GRID " or "NVIDIA " */
	const struct sim_type_spec *types;   /* offered: mdev types, creatable_vgpu_types */
	size_t ntypes;
	/* In the catalogue (maximums, names) but not offered by this host's
	 * driver: never in mdev_supported_types nor creatable_vgpu_types
	 * (L40S C-series: absent from the real capture). */
	const struct sim_type_spec *unoffered;
	size_t nunoffered;
	int ids_simulated;        /* 1: type ids are invented (real ids unknown) */
	/* MIG (NULL/0 when the model has none) */
	const struct sim_gi_profile *gi_profiles;
	size_t ngi_profiles;
	unsigned mig_slots;       /* memory slots of the GPU (8 on A100, 4 on A30) */
	unsigned mig_compute;     /* compute slices (7 on A100, 4 on A30) */
	int mig_reset;            /* 1: a MIG mode change needs a GPU reset (Ampere) */
};

size_t sim_catalogue_count(void);
const struct sim_model_spec *sim_catalogue_get(size_t i);
/* Case-insensitive lookup by prefix; NULL if unknown. */
const struct sim_model_spec *sim_catalogue_find(const char *prefix);

/* Type by id among the model's offered and unoffered types; NULL if none.
 * *offered tells which list it is in (may be NULL). */
const struct sim_type_spec *sim_model_type(const struct sim_model_spec *m, unsigned id, int *offered);

/* GI profile of a model by NVML profile id; NULL if none. */
const struct sim_gi_profile *sim_model_gi_profile(const struct sim_model_spec *m, unsigned id);

/* Frame buffer of a type in MiB (suffix "0Q" = 512 MiB; "1-5C" = 5 GiB). */
unsigned sim_type_fb_mib(const struct sim_type_spec *t);
/* Series letter: 'A', 'B', 'C' or 'Q'. */
char sim_type_series(const struct sim_type_spec *t);
/* Contents of the type's name and description files (with "\n"). */
void sim_type_name(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out);
/* The same name without the newline: "NVIDIA L40S-1B". */
void sim_type_name_line(const struct sim_model_spec *m, const struct sim_type_spec *t, struct strbuf *out);
void sim_type_description(const struct sim_type_spec *t, struct strbuf *out);

#endif
