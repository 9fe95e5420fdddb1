/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated host: one struct sim per process, reachable from every FUSE
 * request through the session's user data.  No global mutable state. */
#ifndef VGPU_SIM_SIM_H
#define VGPU_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "models.h"
#include "tree.h"
#include "util.h"

enum sim_counter {
	SIM_C_LOOKUP,
	SIM_C_GETATTR,
	SIM_C_OPEN,
	SIM_C_READ,
	SIM_C_WRITE,
	SIM_C_READDIR,
	SIM_C_READLINK,
	SIM_C_CREATE_OK,
	SIM_C_CREATE_FAIL,
	SIM_C_REMOVE_OK,
	SIM_C_REMOVE_FAIL,
	SIM_C_COUNT
};

extern const char *const sim_counter_names[SIM_C_COUNT];

/* ---- PCI ---------------------------------------------------------------- */

enum pcie_port { PCIE_ENDPOINT, PCIE_ROOT_PORT, PCIE_UPSTREAM, PCIE_DOWNSTREAM, PCIE_RC_INTEGRATED };

struct pci_bar {
	uint64_t start, end, flags;
};

#define PCI_NUM_RESOURCES 17 /* 6 BARs + ROM + 6 IOV + 4 bridge windows */

struct pci_fn {
	unsigned domain, bus, dev, fn;
	char bdf[16];
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	uint8_t revision;
	enum pcie_port port;
	unsigned secondary_bus, subordinate_bus; /* bridges */
	struct pci_bar res[PCI_NUM_RESOURCES];
	const char *driver;      /* NULL: no driver bound */
	unsigned iommu_group;
	int numa_node;
	unsigned irq;
	unsigned link_gen, link_width;
	bool multifunction;
	struct pci_fn *physfn;   /* VF: its PF */
	unsigned totalvfs;       /* PF with SR-IOV */
	char *driver_override;   /* NULL: "(null)" */
	struct node *dir;
	struct node *bus_link, *driver_link, *group_dir; /* removed with the function */
};

/* ---- GPUs, mdev, vendor-specific VFIO ------------------------------------ */

enum sim_framework {
	SIM_FW_MDEV, /* mdev parents: the PF (pre-Ampere) or the VFs */
	SIM_FW_VFIO, /* vendor-specific VFIO (kernel >= 6.8): VF nvidia/ dirs */
};

extern const char *const sim_framework_names[2];

enum sim_mix_policy {
	SIM_MIX_SAME_SIZE,  /* equal-size mode (pre-Ampere: always): one frame-buffer size, any series */
	SIM_MIX_MIXED_SIZE, /* SR-IOV mixed-size mode: any sizes that fit */
};

/* A MIG GPU instance (doctor-plan-mig.md 4). */
struct sim_gi {
	unsigned id;             /* GPU instance id */
	const struct sim_gi_profile *profile;
	unsigned start;          /* first memory slot */
	unsigned nci;            /* compute instances (0 or 1: one that spans the GI) */
	unsigned ci_index;       /* its NVML_COMPUTE_INSTANCE_PROFILE_* (with nci 1) */
};

struct sim_gpu {
	struct sim *sim;
	unsigned index;          /* order on the command line = PCI order */
	unsigned board;          /* boards (A16) hold several GPUs */
	const struct sim_model_spec *spec;
	enum sim_framework framework;
	enum sim_mix_policy policy;
	struct pci_fn *pf;
	uint64_t vf_bar1;        /* size of each VF's BAR1 */
	struct ptrvec vfs;       /* struct pci_fn *, the enabled VFs */
	struct ptrvec parents;   /* struct sim_parent *: mdev parents */
	struct ptrvec vvfs;      /* struct sim_vf *: vfio VFs, same order as vfs */
	/* MIG (models with GI profiles) */
	bool mig_on;             /* current MIG mode */
	bool mig_pending;        /* pending MIG mode (differs only on Ampere before a reset) */
	struct ptrvec gis;       /* struct sim_gi *, by creation */
	bool display_mode;       /* --display-mode: lists no vGPU types (hostinfo.c) */
};

struct sim_parent {
	struct sim *sim;
	struct sim_gpu *gpu;
	struct pci_fn *fn;
	unsigned nvgpus;
	struct ptrvec types;     /* struct sim_mdev_type * */
	struct node *class_link; /* sys/class/mdev_bus/<BDF> */
};

struct sim_mdev_type {
	struct sim_parent *parent;
	const struct sim_type_spec *spec;
	struct node *dir;
	struct node *devices;
};

struct sim_devnode;

/* A vGPU of either framework.  gpu and spec are what the capacity rules
 * look at; the rest belongs to its framework. */
struct sim_vgpu {
	struct sim_gpu *gpu;
	const struct sim_type_spec *spec;
	unsigned placement;      /* start of its frame buffer on the GPU, GiB (MIG: offset in its GI) */
	struct sim_gi *gi;       /* MIG-backed: its GPU instance */
	char *params;            /* mdev: nvidia/vgpu_params */
	/* mdev */
	char uuid[37];
	struct sim_mdev_type *type;
	unsigned iommu_group;
	struct node *dir;
	struct node *bus_link, *type_link, *driver_link, *group_dir;
	struct sim_devnode *devnode; /* dev/vfio/<group> */
	/* vfio */
	struct sim_vf *vf;
};

/* A VF of a GPU using the vendor-specific VFIO framework. */
struct sim_vf {
	struct sim *sim;
	struct sim_gpu *gpu;
	struct pci_fn *fn;
	unsigned vfio_index;     /* vfio-dev/vfio<N>, dev/vfio/devices/vfio<N> */
	struct sim_vgpu *vgpu;   /* NULL: no vGPU (current_vgpu_type 0) */
	char *params;            /* nvidia/vgpu_params */
	struct node *class_link; /* sys/class/vfio-dev/vfio<N> */
	struct sim_devnode *dev_cdev, *dev_group;
};

/* ---- device nodes and the synthesized /proc -------------------------------- */

/* A regular file under dev/vfio standing for a character device. */
struct sim_devnode {
	struct sim *sim;
	struct node *node;
	char *path;              /* as /proc shows it: "/dev/vfio/12" */
	unsigned nopen;          /* open handles: the device is in use */
};

/* One open handle of a device node (one fd of some process). */
struct sim_hold {
	struct sim *sim;
	struct sim_devnode *dn;  /* NULL once the node is gone (stale) */
	struct sim_proc *proc;   /* NULL: pid unknown */
	unsigned fd;             /* proc/<pid>/fd/<fd> */
	struct node *link;
};

/* proc/<pid>: a process holding device nodes open. */
struct sim_proc {
	struct sim *sim;
	int pid;                 /* thread-group id */
	unsigned long long starttime; /* /proc/<pid>/stat field 22 at open */
	char *cmdline;           /* snapshot at first open */
	size_t cmdline_len;
	char *comm;              /* snapshot, with "\n" */
	struct node *dir, *fd_dir;
	struct ptrvec holds;     /* struct sim_hold * */
};

/* ---- fault injection ------------------------------------------------------ */

enum sim_fault_op { SIM_FAULT_CREATE, SIM_FAULT_REMOVE, SIM_FAULT_MIG, SIM_FAULT_GI, SIM_FAULT_COUNT };

struct sim_fault {
	enum sim_fault_op op;
	unsigned long countdown; /* fires when it reaches 0 */
	int err;
};

/* ---- the host --------------------------------------------------------------- */

struct pci_alloc {
	unsigned domain;
	unsigned next_bus;
	unsigned next_root_port;
	uint64_t mem32, mem64, io;
	unsigned next_irq;
	struct pci_fn *host_bridge;
	struct node *root_dir;   /* sys/devices/pciDDDD:00 */
};

struct sim {
	struct tree tree;
	bool debug;
	time_t started;          /* every node's timestamps */
	uint64_t counters[SIM_C_COUNT];
	struct ptrvec faults;    /* struct sim_fault * */

	struct ptrvec fns;       /* struct pci_fn *, every PCI function */
	struct ptrvec gpus;      /* struct sim_gpu * */
	struct ptrvec parents;   /* struct sim_parent * */
	struct ptrvec vgpus;     /* struct sim_vgpu *, both frameworks */
	struct ptrvec procs;     /* struct sim_proc * */
	struct ptrvec holds;     /* struct sim_hold *, every open device node handle */
	unsigned next_iommu_group;
	unsigned next_vfio_index;
	unsigned nboards;
	bool any_vfio;
	struct pci_alloc alloc;

	/* well-known directories; the mdev ones are NULL when no GPU uses mdev */
	struct node *sys, *sys_devices, *pci_devices, *pci_drivers, *mdev_bus_class;
	struct node *mdev_devices, *mdev_driver, *iommu_groups, *vfio_dev_class;
	struct node *dev_vfio, *dev_vfio_devices, *proc;
	struct node *control_gpus; /* .vgpu-sim/gpus */
	struct sim_devnode *vfio_container; /* dev/vfio/vfio */
	/* --replay (replay.c) */
	struct strbuf replay_notes;   /* what the capture lacks, one line each */
	struct ptrvec replay_owned;   /* models made from the capture, freed at the end */
};

/* One GPU request from the command line (an A16 request adds a board of four). */
struct sim_gpu_req {
	const struct sim_model_spec *model;
	enum sim_framework framework;
};

struct sim_opts {
	bool debug;
	bool vfs_disabled;       /* SR-IOV GPUs start with sriov_numvfs 0 */
	bool mixed_size;         /* vfio GPUs start in mixed-size mode */
	bool display_mode;       /* vfio GPUs are in display mode: they offer no vGPU type */
	uint64_t vfio_pci;       /* bit i: GPU i is bound to vfio-pci (passed through whole) */
};

/* host.c: builds the whole tree.  Returns 0 or -1 with a message on stderr. */
int sim_init(struct sim *s, const struct sim_gpu_req *reqs, size_t nreqs, const struct sim_opts *o);
void sim_fini(struct sim *s);
/* run/, var/cache (tmpfs-like, for the tool's own state) and etc/machine-id. */
void sim_add_scratch(struct sim *s);
/* Number of vGPUs on a GPU. */
unsigned sim_gpu_nvgpus(const struct sim *s, const struct sim_gpu *g);

/* pci.c */
struct pci_fn *pci_fn_new(struct sim *s, struct node *parent_dir, const struct pci_fn *tmpl);
/* Removes a function's directory, links and IOMMU group, and frees it. */
void pci_fn_remove(struct sim *s, struct pci_fn *f);
void pci_fn_free(struct pci_fn *f);
void pci_alloc_bar(struct sim *s, struct pci_bar *bar, uint64_t size, uint64_t flags);
struct node *sim_new_iommu_group(struct sim *s, unsigned *group);

/* capacity.c: the capacity rules, the only place that knows them. */
/* How many more vGPUs of this type the mdev parent accepts. */
unsigned mdev_available(const struct sim *s, const struct sim_mdev_type *t);
/* Whether a vfio VF's creatable_vgpu_types lists this type now. */
bool vfio_creatable(const struct sim *s, const struct sim_vf *vf, const struct sim_type_spec *t);
/* Whether some parent or VF of the GPU accepts this type now. */
bool gpu_creatable(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *t);
/* Start (GiB) for a new vGPU of type t on g: first fit, aligned to its size
 * when possible. */
unsigned gpu_placement(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *t);

/* mig.c: MIG mode, GPU and compute instances (control files for NVML). */
void mig_add_gpu_files(struct sim *s, struct sim_gpu *g, struct node *control_dir);
/* The GI a new vGPU of MIG-backed type t goes into (lowest id that fits), or NULL. */
struct sim_gi *mig_fit_gi(const struct sim *s, const struct sim_gpu *g, const struct sim_type_spec *t);
/* vGPUs in a GI now. */
unsigned mig_gi_nvgpus(const struct sim *s, const struct sim_gi *gi);
/* NVML_COMPUTE_INSTANCE_PROFILE_* of the compute instance spanning a GI of
 * `slices` slices, or -1. */
int mig_full_ci_index(unsigned slices);
/* May a GI of this profile hold a compute instance of NVML profile index ci? */
bool mig_ci_allowed(const struct sim_model_spec *m, const struct sim_gi_profile *p, unsigned ci);
/* Destroys every GI and CI of the GPU (VFs enabled or disabled: the driver
 * rebinds). */
void mig_wipe(struct sim_gpu *g);
void mig_free_all(struct sim *s);

/* mdev.c */
void mdev_add_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn);
/* Removes the parent of fn (VFs being disabled: it has no vGPU). */
void mdev_remove_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn);
void mdev_free_all(struct sim *s);
/* replay.c: bind the captured parent (fn's directory), type directory and
 * vGPU directory; their dynamic files are replaced by the simulator's. */
struct sim_parent *mdev_bind_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn);
struct sim_mdev_type *mdev_bind_type(struct sim *s, struct sim_parent *p, struct node *dir,
				     const struct sim_type_spec *spec);
struct sim_vgpu *mdev_bind_vgpu(struct sim *s, struct sim_mdev_type *t, struct node *dir, unsigned group,
				struct sim_gi *gi, const char *params);

/* vfio.c */
void vfio_add_vf(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn);
/* Removes the vfio state of the gpu's last VF (it has no vGPU). */
void vfio_remove_last_vf(struct sim *s, struct sim_gpu *gpu);
void vfio_free_all(struct sim *s);
/* replay.c: a captured VF's nvidia/ directory, and the vGPU it holds. */
struct sim_vf *vfio_bind_vf(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn, struct node *nv,
			    unsigned vfio_index, const char *params);
void vfio_bind_vgpu(struct sim *s, struct sim_vf *vf, const struct sim_type_spec *spec, struct sim_gi *gi,
		    unsigned placement);

/* sriov.c: VFs of an SR-IOV GPU (PF attribute sriov_numvfs). */
void sriov_add_pf_files(struct sim *s, struct sim_gpu *g);
void sriov_enable(struct sim *s, struct sim_gpu *g, unsigned n);
/* 0, or -EBUSY when a vGPU exists on the GPU or a VF's device node is open. */
int sriov_disable(struct sim *s, struct sim_gpu *g);

/* devices.c: dev/vfio nodes, who holds them open, and proc/<pid>. */
void devices_init(struct sim *s);
/* A node dev/vfio/<name> ("12", "devices/vfio3"). */
struct sim_devnode *devnode_new(struct sim *s, struct node *dir, const char *name);
/* Removes the node; open handles stay valid but stale ("(deleted)"). */
void devnode_remove(struct sim_devnode *dn);
void devices_fini(struct sim *s);

/* control.c */
void control_init(struct sim *s);
/* .vgpu-sim/gpus/<PF-BDF>/ for a GPU. */
void control_add_gpu(struct sim *s, struct sim_gpu *g);
/* Sets equal-size (0) or mixed-size (1) mode of an SR-IOV GPU: 0, or -EBUSY
 * if a vGPU exists and the mode would change. */
int control_set_mixed(struct sim *s, struct sim_gpu *g, bool mixed);
/* Consumes a pending fault for op if one fires now; returns its negative
 * errno, or 0. */
int control_take_fault(struct sim *s, enum sim_fault_op op);
void control_fini(struct sim *s);

/* hostinfo.c: what a host's health checks read besides the devices:
 * proc/driver/nvidia/version, proc/cmdline, proc/sys/kernel/osrelease,
 * sys/class/iommu, the vGPU module's version, and per GPU the control file
 * display_mode. Called once the GPUs exist. */
void hostinfo_init(struct sim *s);
/* The simulated host driver's version ("550.90.05"). */
const char *sim_host_driver_version(const struct sim *s);

#endif
