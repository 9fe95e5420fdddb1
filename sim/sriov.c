/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SR-IOV of GPUs (sysfs-interfaces.md 2): the PF's sriov_* attributes and
 * enabling or disabling its VFs.  Each VF becomes an mdev parent or a vfio
 * VF, depending on the GPU's framework.
 *
 * SIMULATION CHOICE: sriov_numvfs of a GPU PF is writable, as the stand-in
 * for NVIDIA's /usr/lib/nvidia/sriov-manage (see sim/sriov-manage).  The real
 * driver rejects raw writes; sriov-manage rebinds the PF to pci-pf-stub to
 * make them.  Enabling VFs resets the GPU to equal-size mode, as
 * sriov-manage does [cube].
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci.h"
#include "sim.h"

#define MiB (1024ULL * 1024)

static struct pci_fn *add_vf(struct sim *s, struct pci_fn *pf, unsigned i, uint64_t vf_bar1)
{
	unsigned rid = (pf->dev << 3 | pf->fn) + 4 + i; /* offset 4, stride 1 */
	struct pci_fn tmpl = {
		.domain = pf->domain, .bus = pf->bus + (rid >> 8), .dev = (rid >> 3) & 0x1f, .fn = rid & 7,
		.vendor = pf->vendor, .device = pf->device, .subsys_vendor = pf->subsys_vendor,
		.subsys_device = 0x0000, .class_code = pf->class_code, .revision = pf->revision,
		.driver = "nvidia", .numa_node = pf->numa_node, .irq = 0, .link_gen = pf->link_gen,
		.link_width = pf->link_width, .physfn = pf,
	};
	const struct pci_bar *iov = &pf->res[PCI_IOV_RES];

	tmpl.res[0] = (struct pci_bar){ iov[0].start + i * 256 * 1024, iov[0].start + (i + 1) * 256 * 1024 - 1, RES_MEM32 };
	tmpl.res[1] = (struct pci_bar){ iov[1].start + i * vf_bar1, iov[1].start + (i + 1) * vf_bar1 - 1, RES_MEM64_PREF };
	tmpl.res[3] = (struct pci_bar){ iov[3].start + i * 32 * MiB, iov[3].start + (i + 1) * 32 * MiB - 1, RES_MEM64_PREF };

	struct pci_fn *vf = pci_fn_new(s, pf->dir->parent, &tmpl);
	char name[32];
	snprintf(name, sizeof(name), "virtfn%u", i);
	tree_link(&s->tree, pf->dir, name, vf->dir);
	tree_link(&s->tree, vf->dir, "physfn", pf->dir);
	return vf;
}

void sriov_enable(struct sim *s, struct sim_gpu *g, unsigned n)
{
	mig_wipe(g); /* the rebind destroys GPU instances [cube] */
	for (unsigned i = 0; i < n; i++)
		pv_push(&g->vfs, add_vf(s, g->pf, i, g->vf_bar1));
	/* VFs are the mdev parents or vfio devices, never their PF */
	for (size_t i = 0; i < g->vfs.n; i++) {
		if (g->framework == SIM_FW_VFIO)
			vfio_add_vf(s, g, g->vfs.v[i]);
		else
			mdev_add_parent(s, g, g->vfs.v[i]);
	}
	g->policy = SIM_MIX_SAME_SIZE;
}

int sriov_disable(struct sim *s, struct sim_gpu *g)
{
	if (sim_gpu_nvgpus(s, g))
		return -EBUSY;
	for (size_t i = 0; i < g->vvfs.n; i++) {
		const struct sim_vf *vf = g->vvfs.v[i];
		if (vf->dev_cdev->nopen || vf->dev_group->nopen)
			return -EBUSY;
	}
	while (g->vfs.n) {
		size_t i = g->vfs.n - 1;
		struct pci_fn *vf = g->vfs.v[i];
		char name[32];

		if (g->framework == SIM_FW_VFIO)
			vfio_remove_last_vf(s, g);
		else
			mdev_remove_parent(s, g, vf);
		snprintf(name, sizeof(name), "virtfn%zu", i);
		tree_remove(&s->tree, node_child(g->pf->dir, name));
		pci_fn_remove(s, vf);
		g->vfs.n--;
	}
	mig_wipe(g); /* sriov-manage -d destroys GPU instances too [cube] */
	return 0;
}

static int numvfs_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;

	sb_printf(out, "%zu\n", g->vfs.n);
	return 0;
}

/* Like the kernel's sriov_numvfs_store(): kstrtou16(buf, 0); more than
 * sriov_totalvfs is -ERANGE; the current count is a no-op; changing a
 * non-zero count without disabling first is -EBUSY. */
static int numvfs_store(struct node *n, const char *buf, size_t len)
{
	struct sim_gpu *g = n->data;
	struct sim *s = g->sim;
	unsigned long num;
	int rc = parse_kstrtoul(buf, len, 0, &num);

	if (rc)
		return rc;
	if (num > 0xffff || num > g->pf->totalvfs)
		return -ERANGE;
	if (num == g->vfs.n)
		return 0;
	if (num == 0)
		return sriov_disable(s, g);
	if (g->vfs.n)
		return -EBUSY;
	sriov_enable(s, g, (unsigned)num);
	return 0;
}

static const struct file_ops numvfs_ops = { .show = numvfs_show, .store = numvfs_store };

void sriov_add_pf_files(struct sim *s, struct sim_gpu *g)
{
	struct tree *t = &s->tree;
	struct pci_fn *pf = g->pf;

	tree_text(t, pf->dir, "sriov_totalvfs", "%u\n", pf->totalvfs);
	tree_file(t, pf->dir, "sriov_numvfs", 0664, &numvfs_ops, g);
	tree_text(t, pf->dir, "sriov_offset", "4\n");
	tree_text(t, pf->dir, "sriov_stride", "1\n");
	tree_text(t, pf->dir, "sriov_vf_device", "%x\n", pf->device);
	tree_text(t, pf->dir, "sriov_drivers_autoprobe", "1\n");
}
