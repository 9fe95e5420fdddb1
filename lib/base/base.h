/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base: the ground every other wing stands on, and its one face. The run's
 * context (ctx.h), every path under the host root (rootfs.h), sysfs reads and
 * writes (sysfs.h), external commands (exec.h), NVML (nvml.h), the GPU
 * catalogue (catalogue.h) and the vocabulary of PCI ids and vGPU type names
 * (vocab.h). Other wings and the front ends include this header only.
 */
#ifndef VGPUDM_BASE_H
#define VGPUDM_BASE_H

#include "catalogue.h"
#include "ctx.h"
#include "exec.h"
#include "nvml.h"
#include "rootfs.h"
#include "sysfs.h"
#include "vocab.h"

#endif
