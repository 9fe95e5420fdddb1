/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture: a read-only record of what the tool sees on a host, for bug
 * reports and for `vgpu-sim --replay` (format: doc/capture.md). One gzip'd
 * tar holding
 *   manifest.json  format, tool version, limits, what is missing, unreadable
 *                  files (path, errno), truncated files, the commands run;
 *   host.json      the host scan (host/host.h): each NVIDIA GPU with its
 *                  directory, ids, framework, SR-IOV counts, VFs, parents,
 *                  type list (id, name, maximum) and vGPUs;
 *   nvml.json      what NVML answers per GPU: MIG mode (current, pending),
 *                  GPU-instance profiles with placements, GPU instances,
 *                  supported vGPU types with name, maximum, GI profile and
 *                  vGPUs per GI, heterogeneous mode, active vGPUs;
 *   commands/      `nvidia-smi -q`, `nvidia-smi vgpu -q` output (through
 *                  base exec: VGPU_DM_NVIDIA_SMI...), when the tool is there;
 *   root/...       the files under the host root the scan reads, as they
 *                  are: every NVIDIA GPU's, VF's and mdev parent's directory
 *                  (attributes, nvidia/, mdev_supported_types/, vfio-dev/,
 *                  vGPU directories), their bus, class and driver links,
 *                  their IOMMU groups, the driver and module versions
 *                  (sys/module, proc/driver/nvidia/version), the kernel
 *                  release (proc/sys/kernel/osrelease), proc/modules and
 *                  proc/cmdline.
 * Read-only: the context is put in read-only mode (ctx.h), so no write
 * under the root can happen; NVML is only queried; files without a read
 * permission (create, remove) are recorded with their mode, never opened;
 * symlinks are recorded as links, never followed, and a link leading out of
 * sys/ is never walked. Bounded by the options' time and size limits: what
 * does not fit is left out and said in the manifest ("complete": false).
 */
#ifndef VGPUDM_CAPTURE_H
#define VGPUDM_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"

#define VDM_CAPTURE_FORMAT "nvidia-vgpu-dm capture"
#define VDM_CAPTURE_FORMAT_VERSION 1

struct vdm_capture_opts {
	bool redact;              /* replace host names, VM names and UUIDs (consistently) */
	unsigned max_seconds;     /* the whole capture; 0: 120 */
	size_t max_bytes;         /* file contents and command outputs together; 0: 64 MiB */
	size_t max_file_bytes;    /* one file; 0: 1 MiB */
	const char *tool_version; /* recorded in the manifest */
};

struct vdm_capture_result {
	size_t entries;           /* files, directories and links under root/ */
	size_t bytes;             /* their contents and the command outputs */
	size_t gpus;
	bool complete;            /* no limit was hit */
	char **notes;             /* what is missing or was left out, one line each */
	size_t n_notes;
};

/* Capture the host under ctx's root into fd as a gzip'd tar. ctx is left
 * read-only. Returns 0, or -errno with *err one line (nothing usable was
 * written then). r is filled on success; free it with
 * vdm_capture_result_free. */
int vdm_capture(struct vdm_ctx *ctx, const struct vdm_capture_opts *o, int fd, struct vdm_capture_result *r,
		char **err);
void vdm_capture_result_free(struct vdm_capture_result *r);

/* ---- internal (capture.c, capture_nvml.c, capture_redact.c) ---- */
struct json_object;
/* nvml.json: what NVML answers for the scanned GPUs. */
struct json_object *vdm_capture_nvml(struct vdm_ctx *ctx, const struct vdm_host *h);

struct vdm_redact;
struct vdm_redact *vdm_redact_new(void);
void vdm_redact_free(struct vdm_redact *r);
/* Learn what to replace: every UUID in text, and a name (host or VM). */
void vdm_redact_scan(struct vdm_redact *r, const char *text, size_t len);
void vdm_redact_name(struct vdm_redact *r, const char *name, bool vm);
/* VM names from `nvidia-smi vgpu -q` output ("VM Name : x"). */
void vdm_redact_scan_vm_names(struct vdm_redact *r, const char *text, size_t len);
/* text with every learnt UUID and name replaced (malloc'd, *out_len set). */
char *vdm_redact_apply(const struct vdm_redact *r, const char *text, size_t len, size_t *out_len);
size_t vdm_redact_count(const struct vdm_redact *r);

#endif
