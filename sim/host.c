/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated host: PCI topology (host bridge, root ports, a NIC, an NVMe
 * drive, NVIDIA GPUs with their SR-IOV VFs, A16 boards behind a PCIe
 * switch) and the fixed sysfs skeleton.  Buses are numbered depth-first in
 * command-line order, so GPU index == PCI address order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The simulated host's /etc/machine-id (SIMULATED). */
#define SIM_MACHINE_ID "5ca1ab1e0ddba11c0ffee0000000f00d"

#include "pci.h"
#include "sim.h"

#define HOST_DRIVER_VERSION "525.105.14"      /* SIMULATED: a 525-era vGPU host driver */
#define HOST_DRIVER_VERSION_VFIO "550.90.05"  /* SIMULATED: a vGPU 17 host driver (vfio) */
#define ROOT_PORTS_PER_DOMAIN (31 * 8)
#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

const char *sim_host_driver_version(const struct sim *s)
{
	return s->any_vfio ? HOST_DRIVER_VERSION_VFIO : HOST_DRIVER_VERSION;
}

const char *const sim_framework_names[2] = {
	[SIM_FW_MDEV] = "mdev",
	[SIM_FW_VFIO] = "vfio",
};

/* The mdev bus and class exist only when some GPU uses mdev: a kernel >= 6.8
 * has no mdev for NVIDIA. */
static void skeleton(struct sim *s, bool any_mdev)
{
	struct tree *t = &s->tree;

	s->sys = tree_mkdir(t, t->root, "sys");
	s->sys_devices = tree_mkdir(t, s->sys, "devices");
	s->pci_devices = tree_mkdirs(t, s->sys, "bus/pci/devices");
	s->pci_drivers = tree_mkdirs(t, s->sys, "bus/pci/drivers");
	if (any_mdev) {
		s->mdev_devices = tree_mkdirs(t, s->sys, "bus/mdev/devices");
		s->mdev_driver = tree_mkdirs(t, s->sys, "bus/mdev/drivers/nvidia-vgpu-vfio");
		s->mdev_bus_class = tree_mkdirs(t, s->sys, "class/mdev_bus");
	}
	if (s->any_vfio)
		s->vfio_dev_class = tree_mkdirs(t, s->sys, "class/vfio-dev");
	s->iommu_groups = tree_mkdirs(t, s->sys, "kernel/iommu_groups");
	tree_text(t, tree_mkdirs(t, s->sys, "module/nvidia"), "version", "%s\n", sim_host_driver_version(s));
	tree_mkdirs(t, s->sys, "module/nvidia_vgpu_vfio");

	sim_add_scratch(s);
}

void sim_add_scratch(struct sim *s)
{
	struct tree *t = &s->tree;

	/* the host's /run: a tmpfs for tools' own state (locks, journals), not counted */
	struct node *run = tree_mkdir(t, t->root, "run");
	run->scratch = true;
	run->internal = true;
	/* /var/cache: a tmpfs too, for the tool's vGPU type-name cache, not counted */
	struct node *cache = tree_mkdirs(t, t->root, "var/cache");
	cache->scratch = true;
	cache->internal = true;

	/* /etc/machine-id (for --uuid-seed machine-id): 32 hex digits and a
	 * newline, as machine-id(5) has it. SIMULATED value, the same on every
	 * simulated host; not counted. */
	struct node *etc = tree_mkdir(t, t->root, "etc");
	etc->internal = true;
	tree_text(t, etc, "machine-id", "%s\n", SIM_MACHINE_ID)->internal = true;
}

static void new_root_complex(struct sim *s)
{
	char name[16];

	snprintf(name, sizeof(name), "pci%04x:00", s->alloc.domain);
	s->alloc.root_dir = tree_mkdir(&s->tree, s->sys_devices, name);
	s->alloc.next_bus = 1;
	s->alloc.next_root_port = 0;

	struct pci_fn hb = {
		.domain = s->alloc.domain, .vendor = 0x8086, .device = 0x2020,
		.subsys_vendor = 0x8086, .subsys_device = 0x0000, .class_code = 0x060000,
		.revision = 0x04, .port = PCIE_RC_INTEGRATED, .numa_node = 0,
	};
	s->alloc.host_bridge = pci_fn_new(s, s->alloc.root_dir, &hb);
}

/* A root port whose subtree needs nbuses bus numbers. */
static struct pci_fn *new_root_port(struct sim *s, unsigned nbuses, int numa)
{
	if (s->alloc.next_bus + nbuses - 1 > 255 || s->alloc.next_root_port >= ROOT_PORTS_PER_DOMAIN) {
		s->alloc.domain++;
		new_root_complex(s);
	}
	unsigned rp = s->alloc.next_root_port++;
	struct pci_fn tmpl = {
		.domain = s->alloc.domain, .bus = 0, .dev = 1 + rp % 31, .fn = rp / 31,
		.vendor = 0x8086, .device = 0x2030, .subsys_vendor = 0x8086, .subsys_device = 0x0000,
		.class_code = 0x060400, .revision = 0x04, .port = PCIE_ROOT_PORT, .driver = "pcieport",
		.secondary_bus = s->alloc.next_bus, .subordinate_bus = s->alloc.next_bus + nbuses - 1,
		.numa_node = numa, .irq = s->alloc.next_irq++, .link_gen = 3, .link_width = 16,
		.multifunction = rp >= 31,
	};
	s->alloc.next_bus += nbuses;
	return pci_fn_new(s, s->alloc.root_dir, &tmpl);
}

static struct pci_fn *bridge_fn(struct sim *s, struct node *dir, unsigned bus, unsigned dev,
				enum pcie_port port, unsigned sec, unsigned sub, int numa)
{
	/* SIMULATED: the A16 board's switch is shown as a PLX PEX 8747 */
	struct pci_fn tmpl = {
		.domain = s->alloc.domain, .bus = bus, .dev = dev, .vendor = 0x10b5, .device = 0x8747,
		.subsys_vendor = 0x10b5, .subsys_device = 0x8747, .class_code = 0x060400, .revision = 0xca,
		.port = port, .driver = "pcieport", .secondary_bus = sec, .subordinate_bus = sub,
		.numa_node = numa, .irq = s->alloc.next_irq++, .link_gen = 3, .link_width = 16,
	};
	return pci_fn_new(s, dir, &tmpl);
}

static void add_sriov_files(struct sim *s, struct pci_fn *pf, unsigned numvfs)
{
	struct tree *t = &s->tree;

	tree_text(t, pf->dir, "sriov_totalvfs", "%u\n", pf->totalvfs);
	tree_text(t, pf->dir, "sriov_numvfs", "%u\n", numvfs);
	tree_text(t, pf->dir, "sriov_offset", "4\n");
	tree_text(t, pf->dir, "sriov_stride", "1\n");
	tree_text(t, pf->dir, "sriov_vf_device", "%x\n", pf->device);
	tree_text(t, pf->dir, "sriov_drivers_autoprobe", "1\n");
}

static void add_nic(struct sim *s)
{
	struct pci_fn *rp = new_root_port(s, 1, 0);

	for (unsigned fn = 0; fn < 2; fn++) {
		struct pci_fn tmpl = {
			.domain = rp->domain, .bus = rp->secondary_bus, .fn = fn,
			.vendor = 0x8086, .device = 0x1572, .subsys_vendor = 0x8086, .subsys_device = 0x0001,
			.class_code = 0x020000, .revision = 0x01, .driver = "i40e", .numa_node = 0,
			.irq = s->alloc.next_irq++, .link_gen = 3, .link_width = 8, .multifunction = true,
			.totalvfs = 64, /* SR-IOV capable but no VFs enabled */
		};
		pci_alloc_bar(s, &tmpl.res[0], 8 * MiB, RES_MEM64_PREF);
		pci_alloc_bar(s, &tmpl.res[3], 32 * 1024, RES_MEM64_PREF);
		pci_alloc_bar(s, &tmpl.res[PCI_ROM_RES], 512 * 1024, RES_ROM);
		pci_alloc_bar(s, &tmpl.res[PCI_IOV_RES], 64 * 64 * 1024, RES_MEM64_PREF);
		pci_alloc_bar(s, &tmpl.res[PCI_IOV_RES + 3], 64 * 16 * 1024, RES_MEM64_PREF);
		struct pci_fn *f = pci_fn_new(s, rp->dir, &tmpl);
		add_sriov_files(s, f, 0);
	}
}

static void add_nvme(struct sim *s)
{
	struct pci_fn *rp = new_root_port(s, 1, 0);
	struct pci_fn tmpl = {
		.domain = rp->domain, .bus = rp->secondary_bus, .vendor = 0x144d, .device = 0xa808,
		.subsys_vendor = 0x144d, .subsys_device = 0xa801, .class_code = 0x010802, .revision = 0x00,
		.driver = "nvme", .numa_node = 0, .irq = s->alloc.next_irq++, .link_gen = 3, .link_width = 4,
	};

	pci_alloc_bar(s, &tmpl.res[0], 16 * 1024, RES_MEM64);
	pci_fn_new(s, rp->dir, &tmpl);
}

static void add_gpu(struct sim *s, struct node *dir, unsigned bus, const struct sim_gpu_req *req,
		    unsigned board, int numa, const struct sim_opts *o)
{
	const struct sim_model_spec *m = req->model;
	bool whole = s->gpus.n < 64 && (o->vfio_pci >> s->gpus.n) & 1; /* --vfio-pci */
	struct pci_fn tmpl = {
		.domain = s->alloc.domain, .bus = bus, .vendor = 0x10de, .device = m->device_id,
		.subsys_vendor = m->subsys_vendor, .subsys_device = m->subsys_device,
		.class_code = m->class_code, .revision = m->revision, .driver = whole ? "vfio-pci" : "nvidia",
		.numa_node = numa, .irq = s->alloc.next_irq++, .link_gen = m->pcie_gen, .link_width = 16,
		.totalvfs = m->num_vfs,
	};
	uint64_t fb = (uint64_t)m->fb_gb * GiB;
	uint64_t vf_bar1 = m->num_vfs ? pow2_ceil(fb / m->num_vfs) : 0;

	pci_alloc_bar(s, &tmpl.res[0], 16 * MiB, RES_MEM32);
	pci_alloc_bar(s, &tmpl.res[1], pow2_ceil(fb), RES_MEM64_PREF);
	pci_alloc_bar(s, &tmpl.res[3], 32 * MiB, RES_MEM64_PREF);
	pci_alloc_bar(s, &tmpl.res[5], 128, RES_IO);
	pci_alloc_bar(s, &tmpl.res[PCI_ROM_RES], 512 * 1024, RES_ROM);
	if (m->num_vfs) {
		pci_alloc_bar(s, &tmpl.res[PCI_IOV_RES], m->num_vfs * 256 * 1024ULL, RES_MEM32);
		pci_alloc_bar(s, &tmpl.res[PCI_IOV_RES + 1], m->num_vfs * vf_bar1, RES_MEM64_PREF);
		pci_alloc_bar(s, &tmpl.res[PCI_IOV_RES + 3], m->num_vfs * 32 * MiB, RES_MEM64_PREF);
	}

	struct sim_gpu *g = xcalloc(1, sizeof(*g));
	g->sim = s;
	g->index = (unsigned)s->gpus.n;
	g->board = board;
	g->spec = m;
	g->framework = req->framework;
	g->vf_bar1 = vf_bar1;
	g->policy = SIM_MIX_SAME_SIZE;
	g->pf = pci_fn_new(s, dir, &tmpl);
	pv_push(&s->gpus, g);
	control_add_gpu(s, g);

	if (whole) {
		/* Passed through whole: vfio-pci owns it; no vGPU parent, no VFs. */
		if (m->num_vfs)
			sriov_add_pf_files(s, g);
		return;
	}
	if (!m->num_vfs) {
		mdev_add_parent(s, g, g->pf);
		return;
	}
	sriov_add_pf_files(s, g);
	if (!o->vfs_disabled)
		sriov_enable(s, g, m->num_vfs);
	if (o->mixed_size)
		g->policy = SIM_MIX_MIXED_SIZE;
	g->display_mode = o->display_mode && g->framework == SIM_FW_VFIO;
}

/* root port -> switch upstream port -> one downstream port per GPU */
static void add_board(struct sim *s, const struct sim_gpu_req *req, int numa, const struct sim_opts *o)
{
	unsigned n = req->model->gpus_per_board;
	struct pci_fn *rp = new_root_port(s, 2 + n, numa);
	unsigned up_bus = rp->secondary_bus;
	unsigned int_bus = up_bus + 1;
	struct pci_fn *up = bridge_fn(s, rp->dir, up_bus, 0, PCIE_UPSTREAM, int_bus, int_bus + n, numa);
	unsigned board = s->nboards++;

	for (unsigned i = 0; i < n; i++) {
		unsigned gpu_bus = int_bus + 1 + i;
		struct pci_fn *down = bridge_fn(s, up->dir, int_bus, i, PCIE_DOWNSTREAM, gpu_bus, gpu_bus, numa);
		add_gpu(s, down->dir, gpu_bus, req, board, numa, o);
	}
}

unsigned sim_gpu_nvgpus(const struct sim *s, const struct sim_gpu *g)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->vgpus.n; i++)
		n += ((const struct sim_vgpu *)s->vgpus.v[i])->gpu == g;
	return n;
}

int sim_init(struct sim *s, const struct sim_gpu_req *reqs, size_t nreqs, const struct sim_opts *o)
{
	bool any_mdev = false;

	memset(s, 0, sizeof(*s));
	s->debug = o->debug;
	s->started = time(NULL);
	for (size_t i = 0; i < nreqs; i++) {
		if (reqs[i].framework == SIM_FW_VFIO)
			s->any_vfio = true;
		else
			any_mdev = true;
	}
	tree_init(&s->tree);
	skeleton(s, any_mdev);
	control_init(s);
	devices_init(s);

	s->alloc.mem32 = 0x90000000ULL;
	s->alloc.mem64 = 0x380000000000ULL;
	s->alloc.io = 0x1000;
	s->alloc.next_irq = 24;
	new_root_complex(s);
	add_nic(s);
	add_nvme(s);

	for (size_t i = 0; i < nreqs; i++) {
		const struct sim_gpu_req *req = &reqs[i];
		int numa = nreqs > 1 && i * 2 >= nreqs ? 1 : 0;

		if (req->model->gpus_per_board > 1) {
			add_board(s, req, numa, o);
		} else {
			struct pci_fn *rp = new_root_port(s, 1, numa);
			add_gpu(s, rp->dir, rp->secondary_bus, req, s->nboards++, numa, o);
		}
	}
	hostinfo_init(s);
	return 0;
}

void sim_fini(struct sim *s)
{
	devices_fini(s);
	mig_free_all(s);
	vfio_free_all(s);
	mdev_free_all(s);
	for (size_t i = 0; i < s->gpus.n; i++) {
		struct sim_gpu *g = s->gpus.v[i];
		pv_free(&g->vfs);
		pv_free(&g->parents);
		free(g);
	}
	pv_free(&s->gpus);
	for (size_t i = 0; i < s->fns.n; i++)
		pci_fn_free(s->fns.v[i]);
	pv_free(&s->fns);
	control_fini(s);
	tree_destroy(&s->tree);
	for (size_t i = 0; i < s->replay_owned.n; i++)
		free(s->replay_owned.v[i]);
	pv_free(&s->replay_owned);
	sb_free(&s->replay_notes);
}
