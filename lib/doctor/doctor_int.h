/* SPDX-License-Identifier: Apache-2.0 */
/* doctor's internal helpers, shared by doctor.c, doctor_host.c, doctor_guest.c. */
#ifndef VGPUDM_DOCTOR_INT_H
#define VGPUDM_DOCTOR_INT_H

#include "doctor.h"
#include "doctor_parse.h"

/* nvidia-smi -q, run and parsed once: 0 with *smi, or the failure (-ENOENT:
 * not installed; -EIO: it ran and failed). */
int dr_smi(struct vdm_doctor *d, const struct vdm_smi **smi);
/* Is the root another machine's (a --sysfs-root other than /)? Then the
 * tools found on PATH (systemctl, journalctl, nvidia-smi) are not asked:
 * they would answer for this machine; vdm_doctor_cmd returns -EXDEV. */
bool dr_foreign_root(const struct vdm_doctor *d);
/* "nvidia-vgpu-dm", with " --sysfs-root ROOT" when one was given: how a
 * remedy names the tool (static storage). */
const char *dr_dm(struct vdm_doctor *d);
/* The unit file of a systemd unit under the root (etc/systemd/system,
 * usr/lib/systemd/system, lib/systemd/system...), root-relative, or NULL
 * when none is installed (static storage). */
const char *dr_unit_file(struct vdm_doctor *d, const char *unit);
/* Bytes of a file dr_read keeps; more is cut, with a warning. */
#define DR_READ_MAX (4 << 20)
/* A whole file under the root, at most DR_READ_MAX bytes (malloc'd,
 * NUL-terminated, *rc its length; NULL with *rc = -errno). A longer file is
 * cut there and a warning names it. */
char *dr_read(struct vdm_doctor *d, const char *rel, int *rc);
/* The path as evidence shows it: "/" + rel (relative to --sysfs-root). */
const char *dr_path(struct vdm_doctor *d, const char *rel);
/* The vGPU signature of an NVIDIA function's config space (1 yes, 0 no,
 * <0 unreadable); hv/hb (>= 11 bytes) get the host driver version and branch. */
int dr_pci_vgpu(struct vdm_doctor *d, const char *bdf, char *hv, char *hb);
/* NVIDIA display/3D functions that are not VFs, sorted; count or -errno. */
int dr_nvidia_functions(struct vdm_doctor *d, char ***out);

/* doctor_layout.c */
struct vdm_host;
struct vdm_run_result;
void dr_host_journal(struct vdm_doctor *d);
void dr_host_vgpus(struct vdm_doctor *d, struct vdm_host *h, bool have_smi, const char *host_version);
/* r: the dry run of -f/-c (vdm_run_apply). */
void dr_host_config(struct vdm_doctor *d, const struct vdm_run_result *r);

#endif
