/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel resource flags as printed in the third column of `resource`. */
#ifndef VGPU_SIM_PCI_H
#define VGPU_SIM_PCI_H

#define RES_MEM32       0x40200ULL    /* 32-bit, non-prefetchable */
#define RES_MEM64       0x140204ULL   /* 64-bit, non-prefetchable */
#define RES_MEM64_PREF  0x14220cULL   /* 64-bit, prefetchable (GPU BAR1/BAR3) */
#define RES_IO          0x40101ULL
#define RES_ROM         0x46200ULL
#define RES_IS_MEM64    0x100000ULL
#define RES_IS_IO       0x100ULL

/* resource line index of the first SR-IOV VF BAR (PCI_IOV_RESOURCES) */
#define PCI_IOV_RES     7
#define PCI_ROM_RES     6

#endif
