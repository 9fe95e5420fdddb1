/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a host's health checks (nvidia-vgpu-dm doctor) read besides the
 * devices, so that they can run on a simulated host:
 *  - proc/driver/nvidia/version: the two-line banner of nv-procfs.c
 *    (guest-and-host-checks.md §4). SIMULATED: whether the vgpu-kvm
 *    driver's banner differs is unknown; this is the proprietary form.
 *  - sys/module/nvidia_vgpu_vfio/version: the driver version, as KubeVirt's
 *    node labeller reads it.
 *  - proc/cmdline with intel_iommu=on iommu=pt, and sys/class/iommu/dmar0:
 *    the IOMMU is on (the IOMMU groups are made with the devices).
 *  - proc/sys/kernel/osrelease: 6.8.0-45-generic when any GPU uses vendor
 *    VFIO (kernels >= 6.8), else 5.15.0-91-generic. SIMULATED releases.
 *  - .vgpu-sim/gpus/<BDF>/display_mode: 1 for GPUs started with
 *    --display-mode (they offer no vGPU type), else 0; read by the
 *    nvidia-smi stand-in.
 */
#include "sim.h"

void hostinfo_init(struct sim *s)
{
	struct tree *t = &s->tree;
	const char *ver = sim_host_driver_version(s);
	struct node *proc = s->proc;

	tree_text(t, tree_mkdirs(t, proc, "driver/nvidia"), "version",
		  "NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Wed Jun  5 10:00:00 UTC 2024\n"
		  "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n", ver);
	tree_text(t, proc, "cmdline",
		  "BOOT_IMAGE=/boot/vmlinuz root=/dev/mapper/vg0-root ro intel_iommu=on iommu=pt\n");
	tree_text(t, tree_mkdirs(t, proc, "sys/kernel"), "osrelease", "%s\n",
		  s->any_vfio ? "6.8.0-45-generic" : "5.15.0-91-generic");
	tree_mkdirs(t, s->sys, "class/iommu/dmar0");
	tree_text(t, tree_mkdirs(t, s->sys, "module/nvidia_vgpu_vfio"), "version", "%s\n", ver);
	for (size_t i = 0; i < s->gpus.n; i++) {
		const struct sim_gpu *g = s->gpus.v[i];
		struct node *d = node_child(s->control_gpus, g->pf->bdf);
		if (d)
			tree_text(t, d, "display_mode", "%d\n", g->display_mode);
	}
}
