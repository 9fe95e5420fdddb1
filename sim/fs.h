/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VGPU_SIM_FS_H
#define VGPU_SIM_FS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

/* Low-level FUSE operations serving struct sim's tree; the session's user
 * data must be the struct sim. */
extern const struct fuse_lowlevel_ops sim_fs_ops;

#endif
