/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mig: MIG-backed vGPUs natively, through NVML (doctor-plan-mig.md 3.4, 3.5,
 * 4). The scan adds to each MIG-capable GPU its MIG mode, GPU-instance (GI)
 * profiles, GIs, the GI profile and per-GI maximum of each type, and the GI
 * of each vGPU. The plan adds the MIG steps a layout needs: GIs destroyed,
 * the MIG mode changed, GIs created (ceil(vGPUs / per-GI maximum) per
 * (profile, vGPU size), largest profiles first, placed first-fit; fitting
 * GIs are reused). Apply runs them between the removes and the creates:
 * destroy GIs -> MIG mode (VFs disabled and enabled again around it when
 * the driver needs that) -> create GIs with their compute instance -> the
 * vGPUs. VFs are never enabled after GIs were made (that destroys them).
 * Journal and rollback record and restore the mode and the GIs.
 */
#ifndef VGPUDM_MIG_H
#define VGPUDM_MIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

struct vdm_host;
struct vdm_gpu;

struct vdm_gi {
	unsigned id, profile_id, start, size; /* placement in memory slots */
	unsigned n_ci;
};

struct vdm_mig {
	int mode, pending;          /* 1 on, 0 off */
	struct vdm_nvml_gip *profiles;
	size_t n_profiles;
	/* The profiles are the catalogue's (data/catalogue/mig-profiles.tsv):
	 * MIG mode is off and NVML lists none until it is on (nvml.h: profile
	 * info is NOT_SUPPORTED then). Apply reads NVML's again after the switch. */
	bool profiles_from_catalogue;
	/* NVML refused to tell the GPU instances or placements ("nvmlDevice...:
	 * Insufficient Permissions (NVML code 4)"): not a privileged caller. The
	 * GIs are then unknown (n_gis 0 says nothing); NULL when all was read. */
	char *denied;
	struct vdm_gi *gis;
	size_t n_gis;
	int *type_gip;              /* per GPU type: GI profile id, -1 time-sliced
				       (VDM_NVML_TIME_SLICED), -2 MIG-backed by its name
				       but NVML could not say which profile */
	int *type_per_gi;           /* per GPU type: vGPUs one GI holds */
	int *vgpu_gi;               /* per vGPU (gpu->vgpus order): its GI id, -1 none or unknown */
};

/* Fill gpu->mig of the scanned host's MIG-capable GPUs (NVML needed;
 * without it gpu->mig stays NULL). A GPU whose GPU instances NVML refuses
 * to list (a caller that is not root) gets mig->denied and one warning. */
void vdm_mig_scan(struct vdm_host *h);
void vdm_mig_free(struct vdm_mig *m);
/* The GI profile's name ("1g.5gb+me"), or "profile <id>". */
const char *vdm_mig_profile_name(const struct vdm_gpu *g, unsigned profile_id, char *buf, size_t len);
/* Does the type need a GPU instance? From NVML, else from its name. */
bool vdm_mig_type_backed(const struct vdm_gpu *g, int type);
/* The GPU's GI profile with this id, or NULL. */
const struct vdm_nvml_gip *vdm_mig_gip(const struct vdm_gpu *g, unsigned id);

#endif
