/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsers of what doctor reads, as pure functions over text (no I/O), each
 * tested on real captured formats (tests/data/doctor/, sources in its
 * README). Formats: ../shared/reference/guest-and-host-checks.md.
 */
#ifndef VGPUDM_DOCTOR_PARSE_H
#define VGPUDM_DOCTOR_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* ---- nvidia-smi -q (text) ---------------------------------------------
 * Lines are "<4 spaces per level><key padded> : <value>"; a key without a
 * value opens a section. The split is on the first " : " (values such as
 * bus ids and expiry times hold ':'). Each field is kept with its section
 * path, "GPU Virtualization Mode/Virtualization Mode", per GPU block
 * ("GPU 00000000:00:10.0" at column 0); fields before the first GPU have
 * gpu -1. */
struct vdm_smi_field {
	int gpu;           /* index of the GPU block, -1 for the top */
	char *path;        /* sections and key joined by '/' */
	char *value;
	int line;          /* 1-based line in the output */
};

struct vdm_smi {
	struct vdm_smi_field *f;
	size_t n;
	char **gpu_ids;    /* "00000000:00:10.0", per GPU block */
	size_t n_gpus;
};

void vdm_smi_parse(const char *text, struct vdm_smi *out);
void vdm_smi_free(struct vdm_smi *s);
/* The field at path in GPU block gpu (-1: top level), or NULL. */
const struct vdm_smi_field *vdm_smi_get(const struct vdm_smi *s, int gpu, const char *path);
/* Its value, or NULL. Several spellings may be given, tried in order (a
 * NULL-terminated list): nvidia-smi renamed "Driver Version" to "KMD
 * Version". */
const char *vdm_smi_value(const struct vdm_smi *s, int gpu, const char *path);
/* The GPU block whose bus id is this PCI address ("0000:3b:00.0" matches
 * "00000000:3B:00.0"), or -1. */
int vdm_smi_gpu_by_addr(const struct vdm_smi *s, const char *addr);

/* ---- nvidia-smi vgpu -q ---------------------------------------------- */
struct vdm_smi_vgpu {
	char gpu[32];          /* bus id of the GPU block */
	char id[32];           /* vGPU ID */
	char vm_name[128];
	char vm_uuid[64];
	char name[96];         /* vGPU Name: "NVIDIA RTX Pro 6000 Blackwell DC-3Q" */
	char guest_driver[32]; /* Guest Driver Version; "N/A" before the guest driver loads */
	char license[96];      /* License Status */
	char gpu_instance[16]; /* GPU Instance ID: a number (MIG-backed) or "N/A" */
};

/* Returns the number of vGPUs; *out is malloc'd (NULL when 0). */
size_t vdm_smi_vgpu_parse(const char *text, struct vdm_smi_vgpu **out);

/* ---- licence status ---------------------------------------------------- */
enum vdm_license_state {
	VDM_LIC_UNKNOWN,
	VDM_LIC_LICENSED,              /* "Licensed", "Licensed (Expiry: 2026-7-7 16:1:44 GMT)" */
	VDM_LIC_UNLICENSED_UNRESTRICTED,
	VDM_LIC_UNLICENSED_RESTRICTED,
	VDM_LIC_UNLICENSED,
};
/* expiry (may be NULL, >= 20 bytes) gets "2026-07-07 16:01:44 GMT" when given. */
enum vdm_license_state vdm_license_parse(const char *status, char *expiry, size_t len);

/* ---- profile (vGPU type) names ------------------------------------------ */
/* Series letter of a product or vGPU name: the last '-' token's letter
 * before an optional ME/NOME/MEALL/GFX suffix ("NVIDIA RTXA6000-24Q" -> 'Q',
 * "GRID A100-1-5CME" -> 'C'); 0 when the name is not a vGPU type.
 * *mig is set when the name is MIG-backed (<GPU>-<slices>-<GB><series>). */
char vdm_profile_series(const char *name, bool *mig);

/* ---- versions ---------------------------------------------------------- */
/* "535.183.06" -> {535, 183, 6}; returns the number of parts (>= 1) or 0. */
int vdm_version_parse(const char *s, int part[4]);
/* Is s exactly a driver version: 2 to 4 dot-separated numbers ("550.54.14")? */
bool vdm_is_version(const char *s);
/* <0, 0, >0 like strcmp, on parsed parts (missing parts are 0). */
int vdm_version_cmp(const char *a, const char *b);
/* The first version token after "Module" in /proc/driver/nvidia/version
 * ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.103.01  Thu ..."),
 * into buf; 0 or -EINVAL. */
int vdm_nvrm_version(const char *text, char *buf, size_t len);
/* Kernel release "6.8.0-45-generic" -> major*100 + minor (608); -1 if bad. */
int vdm_kernel_version(const char *release);

/* ---- /etc/nvidia/gridd.conf --------------------------------------------- */
struct vdm_gridd_key {
	char value[256];
	int line;                 /* 0: absent (or commented out) */
};
struct vdm_gridd {
	struct vdm_gridd_key server_address, server_port, backup_address, backup_port,
		feature_type, token_path;
};
void vdm_gridd_parse(const char *text, struct vdm_gridd *out);

/* ---- Docker ------------------------------------------------------------ */
struct vdm_docker_info {
	char runtimes[256];        /* " Runtimes: io.containerd.runc.v2 nvidia runc" */
	char default_runtime[64];  /* " Default Runtime: nvidia" */
	char server_version[64];
	char cdi_dirs[256];        /* " CDI spec directories:" values, space separated */
	int runtimes_line, default_line;
};
void vdm_docker_info_parse(const char *text, struct vdm_docker_info *out);
/* Whether a space-separated list holds a word. */
bool vdm_word_in(const char *list, const char *word);

struct vdm_daemon_json {
	bool parsed;               /* valid JSON object */
	char error[128];           /* when not parsed */
	char default_runtime[64];
	bool nvidia_runtime;       /* runtimes.nvidia.path ends in nvidia-container-runtime */
	char nvidia_path[256];
	int cdi;                   /* features.cdi: 1, 0, or -1 absent */
};
void vdm_daemon_json_parse(const char *text, struct vdm_daemon_json *out);

/* ---- containerd config.toml (the few keys doctor needs) ---------------- */
struct vdm_containerd {
	int version;                  /* "version = 2"; 0 absent */
	char default_runtime[64];     /* default_runtime_name of the CRI containerd table */
	int default_line;
	bool nvidia_runtime;          /* a ...runtimes.nvidia table */
	int nvidia_line;
	char binary[256];             /* its options.BinaryName */
};
void vdm_containerd_parse(const char *text, struct vdm_containerd *out);

/* ---- PCI config space: the vGPU signature (guest) ----------------------- */
/* Walk the capability list of a config space dump to the vendor-specific
 * capability (id 0x09). Returns 1 when it carries the vGPU signature "VF"
 * (bytes 3, 4), filling host_version/host_branch (>= 11 bytes each) from its
 * record 0 when present ("" otherwise); 0 when not a vGPU; -EINVAL when the
 * dump is too short (config space needs root beyond 64 bytes). */
int vdm_pci_vgpu_signature(const unsigned char *cfg, size_t len, char *host_version,
			   char *host_branch);

#endif
