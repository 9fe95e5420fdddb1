/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated host: one struct sim per process, reachable from every FUSE
 * request through the session's user data.  No global mutable state. */
#ifndef VGPU_SIM_SIM_H
#define VGPU_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "catalogue.h"
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
};

/* ---- GPUs, mdev ----------------------------------------------------------- */

enum sim_mix_policy {
	SIM_MIX_SAME_TYPE, /* time-sliced non-SR-IOV: one type per GPU */
	SIM_MIX_SAME_SIZE, /* SR-IOV equal-size mode: one frame-buffer size */
};

struct sim_gpu {
	unsigned index;          /* order on the command line = PCI order */
	unsigned board;          /* boards (A16) hold several GPUs */
	const struct sim_model_spec *spec;
	enum sim_mix_policy policy;
	struct pci_fn *pf;
	struct ptrvec vfs;       /* struct pci_fn * */
	struct ptrvec parents;   /* struct sim_parent * */
};

struct sim_parent {
	struct sim *sim;
	struct sim_gpu *gpu;
	struct pci_fn *fn;
	unsigned nvgpus;
	struct ptrvec types;     /* struct sim_mdev_type * */
};

struct sim_mdev_type {
	struct sim_parent *parent;
	const struct sim_type_spec *spec;
	struct node *dir;
	struct node *devices;
};

struct sim_vgpu {
	char uuid[37];
	struct sim_mdev_type *type;
	unsigned iommu_group;
	struct node *dir;
	struct node *bus_link, *type_link, *driver_link, *group_dir;
	char *params;
};

/* ---- fault injection ------------------------------------------------------ */

enum sim_fault_op { SIM_FAULT_CREATE, SIM_FAULT_REMOVE };

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
	struct ptrvec vgpus;     /* struct sim_vgpu * */
	unsigned next_iommu_group;
	unsigned nboards;
	struct pci_alloc alloc;

	/* well-known directories */
	struct node *sys, *sys_devices, *pci_devices, *pci_drivers, *mdev_bus_class;
	struct node *mdev_devices, *mdev_driver, *iommu_groups;
};

/* host.c: builds the whole tree; the requests are GPUs (an A16 request adds
 * a board of four).  Returns 0 or -1 with a message on stderr. */
int sim_init(struct sim *s, const struct sim_model_spec *const *models, size_t nmodels, bool debug);
void sim_fini(struct sim *s);

/* pci.c */
struct pci_fn *pci_fn_new(struct sim *s, struct node *parent_dir, const struct pci_fn *tmpl);
void pci_fn_free(struct pci_fn *f);
void pci_alloc_bar(struct sim *s, struct pci_bar *bar, uint64_t size, uint64_t flags);
struct node *sim_new_iommu_group(struct sim *s, unsigned *group);

/* mdev.c */
void mdev_add_parent(struct sim *s, struct sim_gpu *gpu, struct pci_fn *fn);
/* The capacity rules: how many more vGPUs of this type the parent accepts. */
unsigned mdev_available(const struct sim *s, const struct sim_mdev_type *t);
void mdev_free_all(struct sim *s);

/* control.c */
void control_init(struct sim *s);
/* Consumes a pending fault for op if one fires now; returns its negative
 * errno, or 0. */
int control_take_fault(struct sim *s, enum sim_fault_op op);
void control_fini(struct sim *s);

#endif
