/* SPDX-License-Identifier: Apache-2.0 */
/* One PCI function: its sysfs directory, attribute files, config space and
 * the links that tie it to its bus, driver and IOMMU group. */
#include "pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define PCI_CONFIG_SIZE 4096
#define SYSFS_PAGE 4096

static const char *cpulist_for(int node)
{
	/* a two-socket host with 64 hardware threads */
	switch (node) {
	case 0:
		return "0-15,32-47";
	case 1:
		return "16-31,48-63";
	default:
		return "0-63";
	}
}

static const char *cpumask_for(int node)
{
	switch (node) {
	case 0:
		return "0000ffff,0000ffff";
	case 1:
		return "ffff0000,ffff0000";
	default:
		return "ffffffff,ffffffff";
	}
}

static bool is_bridge(const struct pci_fn *f)
{
	return (f->class_code >> 8) == 0x0604;
}

static bool is_vf(const struct pci_fn *f)
{
	return f->physfn != NULL;
}

static unsigned nres(const struct pci_fn *f)
{
	return is_bridge(f) ? 17 : 13;
}

void pci_alloc_bar(struct sim *s, struct pci_bar *bar, uint64_t size, uint64_t flags)
{
	uint64_t *cursor = (flags & RES_IS_IO) ? &s->alloc.io
			 : (flags & RES_IS_MEM64) ? &s->alloc.mem64 : &s->alloc.mem32;
	uint64_t start = (*cursor + size - 1) & ~(size - 1);

	bar->start = start;
	bar->end = start + size - 1;
	bar->flags = flags;
	*cursor = bar->end + 1;
}

/* ---- config space ----------------------------------------------------------- */

static void put16(uint8_t *c, unsigned off, uint16_t v)
{
	c[off] = v & 0xff;
	c[off + 1] = v >> 8;
}

static void put32(uint8_t *c, unsigned off, uint32_t v)
{
	put16(c, off, v & 0xffff);
	put16(c, off + 2, v >> 16);
}

static uint32_t bar_reg(const struct pci_bar *b)
{
	if (!b->flags)
		return 0;
	if (b->flags & RES_IS_IO)
		return (uint32_t)b->start | 1;
	return ((uint32_t)b->start & ~0xfu) | (uint32_t)(b->flags & 0xf);
}

static void config_bars(uint8_t *c, const struct pci_bar *bars, unsigned off)
{
	for (unsigned i = 0; i < 6; i++) {
		const struct pci_bar *b = &bars[i];
		if (!b->flags)
			continue;
		put32(c, off + 4 * i, bar_reg(b));
		if (b->flags & RES_IS_MEM64 && i + 1 < 6)
			put32(c, off + 4 * (i + 1), (uint32_t)(b->start >> 32));
	}
}

static uint8_t pcie_port_type(enum pcie_port p)
{
	switch (p) {
	case PCIE_ROOT_PORT:
		return 4;
	case PCIE_UPSTREAM:
		return 5;
	case PCIE_DOWNSTREAM:
		return 6;
	case PCIE_RC_INTEGRATED:
		return 9;
	default:
		return 0;
	}
}

static void config_pcie_cap(const struct pci_fn *f, uint8_t *c)
{
	c[0x40] = 0x10; /* PCI Express */
	c[0x41] = 0x00;
	put16(c, 0x42, (uint16_t)(2 | pcie_port_type(f->port) << 4));
	put32(c, 0x4c, f->link_gen | f->link_width << 4);            /* link capabilities */
	if (!is_vf(f))
		put16(c, 0x52, (uint16_t)(f->link_gen | f->link_width << 4)); /* link status */
}

static void config_sriov_cap(const struct pci_fn *f, uint8_t *c)
{
	const unsigned o = 0x100;

	put32(c, o, 0x0010 | 1u << 16);         /* SR-IOV, version 1, last */
	put16(c, o + 0x08, 0x0009);             /* VF enable, VF MSE */
	put16(c, o + 0x0c, (uint16_t)f->totalvfs);
	put16(c, o + 0x0e, (uint16_t)f->totalvfs);
	put16(c, o + 0x10, (uint16_t)f->totalvfs);
	put16(c, o + 0x14, 4);                  /* first VF offset */
	put16(c, o + 0x16, 1);                  /* VF stride */
	put16(c, o + 0x1a, f->device);
	put32(c, o + 0x1c, 0x553);              /* supported page sizes */
	put32(c, o + 0x20, 1);                  /* system page size 4K */
	config_bars(c, &f->res[PCI_IOV_RES], o + 0x24);
}

static void build_config(const struct pci_fn *f, uint8_t *c)
{
	memset(c, 0, PCI_CONFIG_SIZE);
	/* a VF reads 0xffff in its vendor/device registers (A2 capture) */
	put16(c, 0x00, is_vf(f) ? 0xffff : f->vendor);
	put16(c, 0x02, is_vf(f) ? 0xffff : f->device);
	put16(c, 0x04, is_vf(f) ? 0x0004 : is_bridge(f) ? 0x0407 : 0x0006);
	c[0x08] = f->revision;
	c[0x09] = f->class_code & 0xff;
	c[0x0a] = (f->class_code >> 8) & 0xff;
	c[0x0b] = (f->class_code >> 16) & 0xff;
	c[0x0e] = (uint8_t)((is_bridge(f) ? 0x01 : 0x00) | (f->multifunction ? 0x80 : 0));
	if (is_bridge(f)) {
		config_bars(c, f->res, 0x10);
		c[0x18] = (uint8_t)f->bus;
		c[0x19] = (uint8_t)f->secondary_bus;
		c[0x1a] = (uint8_t)f->subordinate_bus;
	} else {
		if (!is_vf(f)) /* VF BARs live in the PF's SR-IOV capability */
			config_bars(c, f->res, 0x10);
		put16(c, 0x2c, f->subsys_vendor);
		put16(c, 0x2e, f->subsys_device);
	}
	if (f->port != PCIE_RC_INTEGRATED) {
		put16(c, 0x06, 0x0010); /* capability list */
		c[0x34] = 0x40;
		config_pcie_cap(f, c);
	}
	if (!is_vf(f) && !is_bridge(f) && f->port == PCIE_ENDPOINT) {
		c[0x3c] = (uint8_t)f->irq;
		c[0x3d] = 1; /* INTA */
	}
	if (f->totalvfs)
		config_sriov_cap(f, c);
	else if (is_vf(f))
		put32(c, 0x100, 0x000e | 1u << 16); /* ARI */
}

static int config_show(struct node *n, struct strbuf *out)
{
	uint8_t *c = xmalloc(PCI_CONFIG_SIZE);

	build_config(n->data, c);
	sb_append(out, c, PCI_CONFIG_SIZE);
	free(c);
	return 0;
}

static const struct file_ops config_ops = { .show = config_show };

/* ---- text attributes ------------------------------------------------------- */

static int resource_show(struct node *n, struct strbuf *out)
{
	const struct pci_fn *f = n->data;

	for (unsigned i = 0; i < nres(f); i++)
		sb_printf(out, "0x%016llx 0x%016llx 0x%016llx\n", (unsigned long long)f->res[i].start,
			  (unsigned long long)f->res[i].end, (unsigned long long)f->res[i].flags);
	return 0;
}

static const struct file_ops resource_ops = { .show = resource_show };

static int driver_override_show(struct node *n, struct strbuf *out)
{
	const struct pci_fn *f = n->data;

	sb_printf(out, "%s\n", f->driver_override ? f->driver_override : "(null)");
	return 0;
}

/* like the kernel's driver_set_override() */
static int driver_override_store(struct node *n, const char *buf, size_t len)
{
	struct pci_fn *f = n->data;

	if (len >= SYSFS_PAGE - 1)
		return -EINVAL;
	if (len && buf[len - 1] == '\n')
		len--;
	free(f->driver_override);
	f->driver_override = NULL;
	if (len) {
		f->driver_override = xmalloc(len + 1);
		memcpy(f->driver_override, buf, len);
		f->driver_override[len] = '\0';
	}
	return 0;
}

static const struct file_ops driver_override_ops = {
	.show = driver_override_show,
	.store = driver_override_store,
};

static void modalias(const struct pci_fn *f, struct strbuf *out)
{
	sb_printf(out, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", f->vendor, f->device,
		  f->subsys_vendor, f->subsys_device, f->class_code >> 16, (f->class_code >> 8) & 0xff,
		  f->class_code & 0xff);
}

static void add_ident_files(struct sim *s, struct pci_fn *f)
{
	struct tree *t = &s->tree;
	struct node *d = f->dir;
	struct strbuf ma = { 0 };

	tree_text(t, d, "vendor", "0x%04x\n", f->vendor);
	tree_text(t, d, "device", "0x%04x\n", f->device);
	tree_text(t, d, "subsystem_vendor", "0x%04x\n", f->subsys_vendor);
	tree_text(t, d, "subsystem_device", "0x%04x\n", f->subsys_device);
	tree_text(t, d, "class", "0x%06x\n", f->class_code);
	tree_text(t, d, "revision", "0x%02x\n", f->revision);
	modalias(f, &ma);
	tree_text(t, d, "modalias", "%s\n", ma.buf);
	struct strbuf ue = { 0 };
	if (f->driver)
		sb_printf(&ue, "DRIVER=%s\n", f->driver);
	sb_printf(&ue, "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n",
		  f->class_code, f->vendor, f->device, f->subsys_vendor, f->subsys_device, f->bdf, ma.buf);
	tree_text(t, d, "uevent", "%s", ue.buf);
	sb_free(&ue);
	sb_free(&ma);
	tree_file(t, d, "config", 0444, &config_ops, f);
	tree_file(t, d, "resource", 0444, &resource_ops, f);
}

static const char *link_speed(unsigned gen)
{
	switch (gen) {
	case 1:
		return "2.5 GT/s PCIe";
	case 2:
		return "5.0 GT/s PCIe";
	case 3:
		return "8.0 GT/s PCIe";
	case 4:
		return "16.0 GT/s PCIe";
	default:
		return "32.0 GT/s PCIe";
	}
}

static void add_misc_files(struct sim *s, struct pci_fn *f)
{
	struct tree *t = &s->tree;
	struct node *d = f->dir;
	bool nv = f->vendor == 0x10de;

	tree_text(t, d, "numa_node", "%d\n", f->numa_node);
	tree_text(t, d, "local_cpulist", "%s\n", cpulist_for(f->numa_node));
	tree_text(t, d, "local_cpus", "%s\n", cpumask_for(f->numa_node));
	tree_text(t, d, "irq", "%u\n", f->irq);
	tree_text(t, d, "enable", "%d\n", f->driver ? 1 : 0);
	tree_file(t, d, "driver_override", 0644, &driver_override_ops, f);
	tree_text(t, d, "ari_enabled", "%d\n", is_vf(f) || f->port == PCIE_DOWNSTREAM || f->port == PCIE_ROOT_PORT);
	tree_text(t, d, "broken_parity_status", "0\n");
	tree_text(t, d, "consistent_dma_mask_bits", "%d\n", nv ? 47 : 64);
	tree_text(t, d, "dma_mask_bits", "%d\n", nv ? 47 : 64);
	tree_text(t, d, "d3cold_allowed", "%d\n", is_vf(f) ? 0 : 1);
	tree_text(t, d, "msi_bus", "1\n");
	tree_text(t, d, "power_state", "D0\n");
	if (f->port != PCIE_RC_INTEGRATED) {
		tree_text(t, d, "current_link_speed", "%s\n", is_vf(f) ? "Unknown" : link_speed(f->link_gen));
		tree_text(t, d, "current_link_width", "%u\n", is_vf(f) ? 0 : f->link_width);
		tree_text(t, d, "max_link_speed", "%s\n", link_speed(f->link_gen));
		tree_text(t, d, "max_link_width", "%u\n", f->link_width);
	}
	if (f->port == PCIE_ENDPOINT)
		tree_text(t, d, "reset_method", "%s\n", is_vf(f) || !nv ? "flr" : "flr bus");
	if (is_bridge(f)) {
		tree_text(t, d, "secondary_bus_number", "%u\n", f->secondary_bus);
		tree_text(t, d, "subordinate_bus_number", "%u\n", f->subordinate_bus);
	}
	struct node *pw = tree_mkdir(t, d, "power");
	tree_text(t, pw, "control", "on\n");
	tree_text(t, pw, "runtime_status", "active\n");
}

struct node *sim_new_iommu_group(struct sim *s, unsigned *group)
{
	char name[24];

	*group = s->next_iommu_group++;
	snprintf(name, sizeof(name), "%u", *group);
	struct node *g = tree_mkdir(&s->tree, s->iommu_groups, name);
	tree_mkdir(&s->tree, g, "devices");
	tree_text(&s->tree, g, "type", "DMA\n");
	tree_text(&s->tree, g, "reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
	return g;
}

static void add_links(struct sim *s, struct pci_fn *f)
{
	struct tree *t = &s->tree;

	f->bus_link = tree_link(t, s->pci_devices, f->bdf, f->dir);
	tree_link(t, f->dir, "subsystem", s->pci_devices->parent);
	if (f->driver) {
		struct node *drv = tree_mkdirs(t, s->pci_drivers, f->driver);
		tree_link(t, f->dir, "driver", drv);
		f->driver_link = tree_link(t, drv, f->bdf, f->dir);
	}
	f->group_dir = sim_new_iommu_group(s, &f->iommu_group);
	tree_link(t, f->dir, "iommu_group", f->group_dir);
	tree_link(t, node_child(f->group_dir, "devices"), f->bdf, f->dir);
}

struct pci_fn *pci_fn_new(struct sim *s, struct node *parent_dir, const struct pci_fn *tmpl)
{
	struct pci_fn *f = xmalloc(sizeof(*f));

	*f = *tmpl;
	f->driver_override = NULL;
	snprintf(f->bdf, sizeof(f->bdf), "%04x:%02x:%02x.%x", f->domain, f->bus, f->dev, f->fn);
	f->dir = tree_mkdir(&s->tree, parent_dir, f->bdf);
	add_ident_files(s, f);
	add_misc_files(s, f);
	add_links(s, f);
	pv_push(&s->fns, f);
	return f;
}

void pci_fn_remove(struct sim *s, struct pci_fn *f)
{
	tree_remove(&s->tree, f->bus_link);
	if (f->driver_link)
		tree_remove(&s->tree, f->driver_link);
	tree_remove(&s->tree, f->group_dir);
	tree_remove(&s->tree, f->dir);
	pv_remove(&s->fns, f);
	pci_fn_free(f);
}

void pci_fn_free(struct pci_fn *f)
{
	free(f->driver_override);
	free(f);
}
