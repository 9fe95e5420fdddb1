/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inuse: which vGPUs a process (a VM's QEMU) holds. A VM holds a vGPU through
 * its VFIO group, /dev/vfio/<iommu group>, or its VFIO device,
 * /dev/vfio/devices/vfioN. Open files are read from /proc/<pid>/fd under the
 * same root as sysfs (tests use the simulator's /proc).
 */
#ifndef VGPUDM_INUSE_H
#define VGPUDM_INUSE_H

#include "host.h"

/* Fill user_pid and user_cmd of every vGPU of the host. Returns the number
 * of vGPUs in use, or -errno when /proc cannot be read at all. */
int vdm_host_find_users(struct vdm_host *h);

#endif
