/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sizing: choose vGPU types and counts for a workload on a set of GPUs and
 * write the result as a config file `apply` accepts (the `plan` command).
 * Not to be confused with plan.h, the diff `apply --dry-run` prints.
 *
 * The GPUs come from this host's scan (the driver's own lists of types and
 * maxima win) or from the catalogue (a model you do not have yet).  The
 * workload is one or more groups of VMs, each "N vGPUs of at least M MiB"
 * or "N x TYPE", of one series.  Rules (../shared/reference/doctor-plan-mig.md
 * 3.6, the operator's guide):
 *   - the smallest listed size that gives each VM its memory;
 *   - per GPU: min(type maximum, frame buffer / size, VFs) vGPUs of a size;
 *   - one size per GPU, unless the GPU is in mixed-size mode (or supports it
 *     and the request allows it); different sizes go to different GPUs;
 *   - time-sliced and MIG-backed types never share a GPU;
 *   - C-only GPUs get C types; CUDA runs on C and Q only;
 *   - on a host, the vGPUs a VM holds stay where they are, as they are (apply
 *     never removes a vGPU in use): they count against the GPU's room and are
 *     written into the config, beside (not part of) the VMs asked for;
 *   - planned from the catalogue, a type that not every host driver lists
 *     (the L40S C-series: NVIDIA AI Enterprise's host driver lists it, the
 *     NVIDIA vGPU (graphics) host driver, as a real capture shows, does not)
 *     is flagged, and the plan for the other driver is made too.
 */
#ifndef VGPUDM_SIZING_H
#define VGPUDM_SIZING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "host/host.h"

/* One type a GPU offers, as the sizer sees it. */
struct vdm_sizing_type {
	char *name;              /* "T4-8Q" */
	char series;             /* 'A', 'B', 'C', 'Q' */
	long fb_mib;             /* per vGPU */
	int max_instances;       /* per GPU; -1 unknown (then frame buffer / size) */
	bool mig;                /* MIG-backed */
	bool driver_dependent;   /* catalogue only: some host drivers do not list it
				  * (catalogue column sim=unoffered, source cap-l40s) */
	char *blocked;           /* why this host cannot take it now (malloc'd), else NULL */
};

/* vGPUs a VM (a process) holds on a host GPU: kept as they are. */
struct vdm_sizing_held {
	int type;                /* index in the GPU's types */
	int count;
	char *holders;           /* "VM win10 (pid 4242), pid 77", for people */
};

/* What a GPU gets: count vGPUs of types[type], for request group `group`
 * (-1: vGPUs a VM holds, kept). */
struct vdm_sizing_alloc {
	int type;
	int count;
	int group;
};

struct vdm_sizing_gpu {
	int index;               /* host GPU index, or position among --gpu models */
	char *model;             /* "T4" */
	char addr[VDM_ADDR_LEN]; /* "" when planned from the catalogue */
	uint16_t device_id, vendor_id;
	bool from_host;          /* types from the host's driver, else the catalogue */
	long fb_mib;             /* the GPU's frame buffer */
	int vf_limit;            /* vGPUs at most (SR-IOV: one per VF); -1 no such limit */
	int mixed_mode;          /* mixed-size mode now: 1 yes, 0 no, -1 unknown */
	int mixed_capable;       /* 1 supports mixed-size mode, 0 not, -1 unknown */
	bool mig_capable;
	struct vdm_sizing_type *types;
	size_t n_types;
	struct vdm_sizing_held *held;   /* kept: allocations of group -1 in every run */
	size_t n_held;
	char *unplannable;       /* a held vGPU plan cannot name ("its type is not listed"); NULL */
	/* result of vdm_sizing_run */
	struct vdm_sizing_alloc *allocs;
	size_t n_allocs;
	bool mixed;              /* sized in mixed-size mode */
	char *why;               /* why this choice (or why unused) */
};

/* One group of VMs. */
struct vdm_sizing_group {
	int vms;                 /* vGPUs wanted; 0 with fill */
	bool fill;               /* as many as the GPUs hold */
	long memory_mib;         /* per vGPU; 0 not given */
	const char *profile;     /* a type name ("T4-8Q") or suffix ("8Q") to pin; NULL */
	int placed;              /* result: vGPUs placed */
};

struct vdm_sizing_request {
	struct vdm_sizing_group *groups;
	size_t n_groups;
	char series;             /* 'A', 'B', 'C', 'Q', or 0 (Q where offered, else C) */
	bool cuda;               /* must run CUDA: C, or Q where C is not offered */
	bool mig;                /* prefer MIG-backed types where the GPU has them */
	bool mixed_size;         /* may use mixed-size mode where the GPU supports it */
	const char *label;       /* NULL: the type when there is one, else "default" */
	enum vdm_host_driver {   /* offline plans: which host driver the GPUs run */
		VDM_HOST_DRIVER_ANY = 0,       /* not said: every catalogue type, the
						* driver-dependent ones flagged */
		VDM_HOST_DRIVER_VGPU,          /* NVIDIA vGPU (graphics: vWS, vPC, vApps):
						* no driver-dependent type */
		VDM_HOST_DRIVER_AI_ENTERPRISE, /* NVIDIA AI Enterprise (vGPU for Compute) */
	} host_driver;
};

struct vdm_sizing {
	struct vdm_sizing_gpu *gpus;
	size_t n_gpus;
	bool offline;            /* GPUs from --gpu (catalogue) */
	const struct vdm_sizing_request *req;   /* of the last run */
	char *label;             /* the label written */
	char **unmet;            /* one line per shortfall */
	size_t n_unmet;
	/* After a run that used driver-dependent types with host_driver ANY:
	 * which ("L40S-8C"), and what the plan for VDM_HOST_DRIVER_VGPU gives
	 * ("6 x L40S-8Q"; NULL when that plan cannot meet the request).  NULL
	 * when no such type was used. */
	char *dependent;
	char *alternative;
	char *alternative_unmet; /* that plan's first shortfall, when it has one */
};

struct vdm_sizing *vdm_sizing_new(void);
void vdm_sizing_free(struct vdm_sizing *s);

/* Add n GPUs of a catalogue model ("L40S", case-insensitive).  -ENOENT with
 * *err (malloc'd) naming the known models when it is not in the catalogue. */
int vdm_sizing_add_model(struct vdm_sizing *s, const char *model, int n, char **err);
/* Parse "MODEL" or "MODELxN" ("L40Sx2", "2xL40S" too) and add it. */
int vdm_sizing_add_model_arg(struct vdm_sizing *s, const char *arg, char **err);
/* Add every GPU of a scanned host that has a vGPU framework.  Types,
 * maxima, VFs and mixed-size mode are the host's; the catalogue (found by
 * PCI id, else by model) adds the frame buffer and MIG and mixed-size
 * capability.  vGPUs a process holds (run vdm_host_find_users on h first)
 * are kept: held allocations.  Returns the number of GPUs added. */
int vdm_sizing_add_host(struct vdm_sizing *s, const struct vdm_host *h);

/* Size the request.  0: every group placed; -ENOSPC: something is short
 * (s->unmet says what, exactly); -EINVAL: the request itself is wrong (*err,
 * malloc'd).  Sets each group's `placed`.  The request must outlive s's
 * use of it. */
int vdm_sizing_run(struct vdm_sizing *s, struct vdm_sizing_request *req, char **err);

/* After a run: the v1 config (one label; an entry per distinct layout,
 * `devices: all` where every GPU of a device id gets the same), malloc'd.
 * NULL when no GPU got a vGPU. */
char *vdm_sizing_config(const struct vdm_sizing *s);
/* The table for people: per GPU type, count, memory used / spare, licence
 * edition, why.  malloc'd, lines end in "\n". */
char *vdm_sizing_table(const struct vdm_sizing *s);
/* The same as JSON: {"label", "met", "gpus": [{"index", "model", "address",
 * "source", "memory_mib", "used_mib", "spare_mib", "mixed_size",
 * "vgpus": [{"type", "count", "held", "series", "fb_mib", "mig", "licence",
 * "driver_dependent"}], "why"}], "unmet": [...], "host_driver": null or
 * {"dependent", "alternative"}, "config": {...} or null}.  "held": of
 * "count", those a VM holds (kept). */
struct json_object *vdm_sizing_json(const struct vdm_sizing *s);

/* "vgpu" or "ai-enterprise" -> the driver; -1 when neither. */
int vdm_sizing_host_driver(const char *word);

/* Series of a `--use` word ("compute" -> 'C'...), 0 if unknown. */
char vdm_sizing_use_series(const char *use);

#endif
