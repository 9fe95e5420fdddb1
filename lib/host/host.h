/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host: one scan of the host's sysfs into an in-memory model. GPUs are the
 * NVIDIA physical functions in PCI-address order (their position is the GPU
 * index config files use). Each GPU has the vGPU types its driver offers, the
 * devices vGPUs are created on ("parents": the PF itself, or its SR-IOV VFs)
 * and the vGPUs that exist now. A backend per framework fills and changes it.
 */
#ifndef VGPUDM_HOST_H
#define VGPUDM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "spec/spec.h"

#define VDM_ADDR_LEN 32   /* "dddd:bb:dd.f" plus room */
#define VDM_UUID_LEN 37
#define VDM_ID_LEN 40     /* a UUID (mdev) or a VF address (vendor VFIO) */

enum vdm_framework {
	VDM_FW_NONE = 0,  /* no vGPU manager sees this GPU */
	VDM_FW_MDEV,      /* mediated devices (kernels < 6.8) */
	VDM_FW_VFIO,      /* NVIDIA vendor-specific VFIO on SR-IOV VFs (kernels >= 6.8, vGPU 17+) */
};

struct vdm_gpu;
struct vdm_host;

/* One vGPU type a GPU offers. */
struct vdm_vtype {
	char *id;         /* backend's handle: "nvidia-230" for mdev */
	char *name;       /* type name as configs write it: "T4-1Q" */
	char *full_name;  /* as the driver prints it: "GRID T4-1Q" */
	int max_instances;/* per GPU, from the driver's description; -1 unknown */
	int fb_mib;       /* frame buffer per vGPU in MiB; -1 unknown */
};

/* A device vGPUs are created on. */
struct vdm_parent {
	char addr[VDM_ADDR_LEN];
	char *dir;         /* its directory, root-relative ("sys/devices/.../0000:06:00.4") */
	struct vdm_gpu *gpu;
	int n_vgpus;       /* vGPUs on it now */
	int *avail;        /* per type (gpu->types order); -1 = not read yet */
};

struct vdm_vgpu {
	char id[VDM_ID_LEN];       /* the UUID (mdev) or the VF's address (vendor VFIO) */
	int type;                  /* index in gpu->types, -1 if the driver no longer lists it */
	char *type_id;             /* backend handle ("nvidia-230", "1150") */
	struct vdm_parent *parent;
	int user_pid;              /* a process holding it (vdm_host_find_users), 0 if none seen */
	char *user_cmd;            /* that process's command line */
	char *user_node;           /* the /dev/vfio node it holds */
};

struct vdm_backend;
struct vdm_mig;

struct vdm_gpu {
	int index;
	char addr[VDM_ADDR_LEN];
	char *dir;                 /* its directory, root-relative (the bus link resolved) */
	uint32_t addr_key;         /* numeric address, for ordering */
	struct vdm_devid id;       /* always has_subsys = true */
	char *model;               /* type-name prefix: "T4", "A100D"; "" if no types */
	enum vdm_framework fw;
	const struct vdm_backend *be;
	bool sriov;                /* PF with SR-IOV capability */
	int total_vfs, num_vfs;
	int mixed_size;            /* 1 mixed-size mode, 0 equal-size (always without SR-IOV), -1 unknown */
	struct vdm_vtype *types;
	size_t n_types;
	int *id_index;             /* hash of types[].id -> index (vdm_gpu_type_by_id) */
	size_t id_cap, id_indexed;
	struct vdm_parent *parents;
	size_t n_parents;
	struct vdm_vgpu *vgpus;   /* sorted by parent address then UUID */
	size_t n_vgpus;
	struct vdm_mig *mig;       /* MIG state (mig.h); NULL: not MIG-capable or no NVML */
	char *unreadable;          /* "<file>: <why>": state that could not be read
				      (SR-IOV counts, a VF's vGPU type...); plans refuse the GPU */
};

/* An SR-IOV virtual function of an NVIDIA GPU, seen during the scan. */
struct vdm_vf {
	char addr[VDM_ADDR_LEN];
	char pf[VDM_ADDR_LEN];     /* its physical function */
	char *dir;                 /* root-relative */
};

struct vdm_host {
	struct vdm_ctx *ctx;
	struct vdm_vf *vfs;        /* sorted by address */
	size_t n_vfs;
	char *driver_version;      /* sys/module/nvidia/version, "" if unknown */
	struct vdm_gpu *gpus;
	size_t n_gpus;
	/* "<file>: <why>" of each PCI function that may be an NVIDIA GPU but
	 * whose vendor, class or ids cannot be read: it is not in gpus, so the
	 * index of every GPU after it is in doubt (plans refuse index-based
	 * selection while there is one). */
	char **unreadable;
	size_t n_unreadable;
	char *error;               /* "<file>: <why>" of the last failed backend read */
	/* Set by vdm_plan_build when it refuses (-EBUSY) to remove this vGPU,
	 * which a process holds. */
	const struct vdm_vgpu *refused_in_use;
	/* The vGPUs of some GPUs are those a pending journal records, not the
	 * driver's (vdm_host_view_pending): live counts do not apply. */
	bool restored_view;
};

/* A framework's implementation. */
struct vdm_backend {
	const char *name;
	bool uuid_ids;          /* vGPUs are named by a UUID the caller chooses (mdev) */
	/* Fill types, parents and vGPUs of the GPUs this backend owns. */
	int (*scan)(struct vdm_host *host);
	/* How many more vGPUs of a type the parent takes now, or -errno. */
	int (*available)(struct vdm_host *host, struct vdm_parent *p, int type);
	/* Create a vGPU (named id when uuid_ids); returns 0 or -errno. */
	int (*create)(struct vdm_host *host, struct vdm_parent *p, int type, const char *id);
	/* Destroy an existing vGPU; returns 0 or -errno. */
	int (*destroy)(struct vdm_host *host, const struct vdm_vgpu *v);
};

extern const struct vdm_backend vdm_backend_mdev;
extern const struct vdm_backend vdm_backend_vfio;

/* "<full path of rel>: <why>" for a read of rel that returned rc. */
char *vdm_unreadable(struct vdm_ctx *ctx, const char *rel, int rc);
/* Record it as h->error (for the message of a refusal); returns rc. */
int vdm_host_error(struct vdm_host *h, const char *rel, int rc);

/* Scan the host. Returns 0 or -errno (with *err describing it). */
int vdm_host_scan(struct vdm_ctx *ctx, struct vdm_host **out, char **err);
/* Scan again and replace *host with the new scan (the old one is freed);
 * on failure *host is kept and -errno returned with *err set. */
int vdm_host_rescan(struct vdm_host **host, char **err);
void vdm_host_free(struct vdm_host *host);

const char *vdm_framework_name(enum vdm_framework fw);
/* Index of a type on a GPU by config name; a MIG attribute suffix the GPU
 * does not list is matched against the base name. -1 if none. */
int vdm_gpu_find_type(const struct vdm_gpu *gpu, const char *name);
/* How many more vGPUs of a type the parent takes now (cached), or -errno
 * with host->error naming the file that could not be read. */
int vdm_parent_available(struct vdm_host *host, struct vdm_parent *p, int type);
/* Free instances of a type on a GPU now: the sum over its parents, capped by
 * the type's per-GPU maximum; VDM_FREE_UNKNOWN when that maximum is not known
 * and the parents are VFs (each says only whether it can take one more);
 * -errno (host->error set) when a parent's count cannot be read. */
#define VDM_FREE_UNKNOWN (-1000000)
int vdm_gpu_free_instances(struct vdm_host *host, struct vdm_gpu *gpu, int type);
/* Number of vGPUs of a type on a GPU. */
int vdm_gpu_count_type(const struct vdm_gpu *gpu, int type);
/* "GPU 0 (0000:3b:00.0)" */
void vdm_gpu_label(const struct vdm_gpu *gpu, char *buf, size_t len);

/* A parent that is an SR-IOV virtual function holds one vGPU. */
static inline bool vdm_parent_is_vf(const struct vdm_parent *p)
{
	return p->addr[0] && strcmp(p->addr, p->gpu->addr) != 0;
}

/* Index of the type with backend id "id" on a GPU, or -1: O(1). */
int vdm_gpu_type_by_id(struct vdm_gpu *gpu, const char *id);
/* Add a type to a GPU's list; returns its index. */
int vdm_gpu_add_type(struct vdm_gpu *gpu, const char *id, const char *full_name);

/* Internal helpers for backends. */
struct vdm_gpu *vdm_host_gpu_by_addr(struct vdm_host *host, const char *addr);
struct vdm_parent *vdm_gpu_add_parent(struct vdm_gpu *gpu, const char *addr, const char *dir);
/* A VF the scan saw (binary search), or NULL. */
const struct vdm_vf *vdm_host_vf(const struct vdm_host *host, const char *addr);
struct vdm_vgpu *vdm_gpu_add_vgpu(struct vdm_gpu *gpu);
void vdm_gpu_sort_vgpus(struct vdm_gpu *gpu);

/* The rest of the host wing's face: in-use vGPUs, MIG state, SR-IOV. */
#include "inuse.h"
#include "mig.h"
#include "sriov.h"

#endif
