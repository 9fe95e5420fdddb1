/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor on the hypervisor: the host.* checks (doctor.h). Facts and rules:
 * doctor-plan-mig.md §1 (H1-H12), guest-and-host-checks.md §1b-1c, §4-5.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_facts.h"
#include "doctor_int.h"
#include "host/host.h"
#include "apply/apply.h"
#include "plan/plan.h"
#include "base/base.h"

#define SRIOV_MANAGE "/usr/lib/nvidia/sriov-manage"

struct hctx {
	struct vdm_doctor *d;
	struct vdm_host *host;          /* NULL when the scan failed */
	const struct vdm_smi *smi;      /* NULL without nvidia-smi */
	int smi_rc;
	struct vdm_run_result run;      /* -f/-c: the dry run, as apply --dry-run */
	bool ran;
	char version[64];               /* the loaded driver's version, "" if none */
	bool nvidia, vgpu_vfio;         /* modules loaded */
	int kernel;                     /* major*100+minor, -1 unknown */
	char kernel_release[128];
};

static void label(const struct vdm_gpu *g, char *buf, size_t len)
{
	vdm_gpu_label(g, buf, len);
}

/* The GPU's nvidia-smi block, -1 when not there. */
static int smi_gpu(struct hctx *h, const struct vdm_gpu *g)
{
	return h->smi ? vdm_smi_gpu_by_addr(h->smi, g->addr) : -1;
}

static void smi_evidence(struct vdm_check *c, const struct vdm_smi_field *f, const char *key)
{
	if (f)
		vdm_check_evidence(c, "nvidia-smi -q", "line %d: %s : %s", f->line, key, f->value);
}

static void check_modules(struct hctx *h)
{
	struct vdm_doctor *d = h->d;
	char ver[64] = "";
	int rc;
	h->nvidia = vdm_sysfs_exists(d->ctx, "sys/module/nvidia");
	h->vgpu_vfio = vdm_sysfs_exists(d->ctx, "sys/module/nvidia_vgpu_vfio");
	if (h->nvidia && vdm_sysfs_read(d->ctx, "sys/module/nvidia/version", ver, sizeof(ver)) > 0)
		snprintf(h->version, sizeof(h->version), "%s", ver);
	char *proc = dr_read(d, "proc/driver/nvidia/version", &rc);
	char nvrm[64] = "";
	if (proc && vdm_nvrm_version(proc, nvrm, sizeof(nvrm)) == 0 && !*h->version)
		snprintf(h->version, sizeof(h->version), "%s", nvrm);

	struct vdm_check *c;
	if (h->nvidia) {
		c = vdm_doctor_add(d, "host.driver.loaded", NULL, VDM_CHECK_OK, "the nvidia module %s is loaded",
				   *h->version ? h->version : "(version unknown)");
		vdm_check_evidence(c, dr_path(d, "sys/module/nvidia/version"), "%s", ver);
	} else {
		c = vdm_doctor_add(d, "host.driver.loaded", NULL, VDM_CHECK_FAIL,
				   "the NVIDIA driver is not loaded");
		vdm_check_evidence(c, dr_path(d, "sys/module/nvidia"), "absent");
		vdm_check_remedy(c, "install the NVIDIA vGPU Manager (the -vgpu-kvm .run package of your vGPU "
				 "release, or its distribution package), then: modprobe nvidia");
	}
	if (proc) {
		char *nl = strchr(proc, '\n');
		if (nl)
			*nl = '\0';
		vdm_check_evidence(c, dr_path(d, "proc/driver/nvidia/version"), "%s", proc);
	}
	free(proc);

	if (h->vgpu_vfio) {
		char vv[64] = "";
		vdm_sysfs_read(d->ctx, "sys/module/nvidia_vgpu_vfio/version", vv, sizeof(vv));
		c = vdm_doctor_add(d, "host.vgpu.module", NULL, VDM_CHECK_OK, "nvidia_vgpu_vfio%s%s is loaded",
				   *vv ? " " : "", vv);
		vdm_check_evidence(c, dr_path(d, "sys/module/nvidia_vgpu_vfio"), "%s", *vv ? vv : "present");
	} else if (!h->nvidia) {
		vdm_doctor_add(d, "host.vgpu.module", NULL, VDM_CHECK_SKIP,
			       "the nvidia module is not loaded (host.driver.loaded)");
	} else {
		c = vdm_doctor_add(d, "host.vgpu.module", NULL, VDM_CHECK_FAIL,
				   "nvidia is loaded but nvidia_vgpu_vfio is not: no vGPUs can be made");
		vdm_check_evidence(c, dr_path(d, "sys/module/nvidia_vgpu_vfio"), "absent");
		vdm_check_remedy(c, "modprobe nvidia_vgpu_vfio; if the module does not exist, the installed "
				 "driver is not the vGPU Manager: install the -vgpu-kvm package");
	}
}

static void check_manager(struct hctx *h)
{
	struct vdm_doctor *d = h->d;
	if (!h->nvidia) {
		vdm_doctor_add(d, "host.vgpu.manager", NULL, VDM_CHECK_SKIP,
			       "the NVIDIA driver is not loaded (host.driver.loaded)");
		return;
	}
	const char *out, *cmd;
	static const char *const args[] = {"is-active", "nvidia-vgpu-mgr", NULL};
	int rc = vdm_doctor_cmd(d, "systemctl", args, &out, &cmd);
	char line[128];
	snprintf(line, sizeof(line), "%s", rc == -ENOENT ? "not found" : out);
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (rc == 0) {
		struct vdm_check *c = vdm_doctor_add(d, "host.vgpu.manager", NULL, VDM_CHECK_OK,
						     "nvidia-vgpu-mgr is running");
		vdm_check_evidence(c, cmd, "%s", line);
		return;
	}
	/* The vGPU Manager container runs it without systemd: its pid file. */
	const char *pidrel = "run/nvidia-vgpu-mgr/nvidia-vgpu-mgr.pid";
	int pid = 0;
	if (vdm_sysfs_read_int(d->ctx, pidrel, &pid) == 0 && pid > 0) {
		char rel[64];
		snprintf(rel, sizeof(rel), "proc/%d", pid);
		if (vdm_sysfs_exists(d->ctx, rel)) {
			struct vdm_check *c = vdm_doctor_add(d, "host.vgpu.manager", NULL, VDM_CHECK_OK,
							     "nvidia-vgpu-mgr is running (pid %d)", pid);
			vdm_check_evidence(c, dr_path(d, pidrel), "%d", pid);
			return;
		}
	}
	if (rc == -EXDEV) {
		struct vdm_check *c = vdm_doctor_add(d, "host.vgpu.manager", NULL, VDM_CHECK_SKIP,
						     "systemctl not asked: it would answer for this machine, not "
						     "for the root --sysfs-root names; no pid file there");
		vdm_check_evidence(c, dr_path(d, pidrel), "absent");
		return;
	}
	struct vdm_check *c = vdm_doctor_add(d, "host.vgpu.manager", NULL, VDM_CHECK_FAIL,
					     "the vGPU Manager daemon nvidia-vgpu-mgr is not running");
	vdm_check_evidence(c, cmd, "%s", *line ? line : (rc > 0 ? "exit status non-zero" : "no output"));
	vdm_check_evidence(c, dr_path(d, pidrel), pid > 0 ? "pid %d is not running" : "absent", pid);
	/* Name only the units that are installed under the root. */
	const char *mgr = dr_unit_file(d, "nvidia-vgpu-mgr.service");
	if (mgr)
		vdm_check_evidence(c, dr_path(d, mgr), "installed");
	/* (dr_unit_file's buffer is reused by the next call) */
	const char *vgpud = mgr ? dr_unit_file(d, "nvidia-vgpud.service") : NULL;
	if (mgr)
		vdm_check_remedy(c, "systemctl restart %snvidia-vgpu-mgr; then journalctl -u nvidia-vgpu-mgr "
				 "for why it stopped", vgpud ? "nvidia-vgpud " : "");
	else
		vdm_check_remedy(c, "no nvidia-vgpu-mgr.service is installed (looked in /etc/systemd/system, "
				 "/usr/lib/systemd/system, /lib/systemd/system): install the vGPU Manager "
				 "package (the -vgpu-kvm .run installer adds the unit), or start the vGPU "
				 "Manager container");
}

static void check_driver_mode(struct hctx *h)
{
	struct vdm_doctor *d = h->d;
	if (!h->nvidia) {
		vdm_doctor_add(d, "host.driver.version", NULL, VDM_CHECK_SKIP,
			       "the NVIDIA driver is not loaded (host.driver.loaded)");
		vdm_doctor_add(d, "host.driver.mode", NULL, VDM_CHECK_SKIP,
			       "the NVIDIA driver is not loaded (host.driver.loaded)");
		return;
	}
	int p[4];
	int branch = vdm_is_version(h->version) && vdm_version_parse(h->version, p) ? p[0] : 0;
	const char *rel = vdm_branch_release(branch);
	const struct vdm_smi_field *dv = NULL;
	if (h->smi) {
		dv = vdm_smi_get(h->smi, -1, "Driver Version");
		if (!dv)
			dv = vdm_smi_get(h->smi, -1, "KMD Version");
	}
	struct vdm_check *c;
	if (dv && *h->version && vdm_version_cmp(dv->value, h->version)) {
		c = vdm_doctor_add(d, "host.driver.version", NULL, VDM_CHECK_WARN,
				   "nvidia-smi is %s but the loaded module is %s", dv->value, h->version);
		vdm_check_remedy(c, "the driver was upgraded without a reboot or module reload: reboot the host "
				 "(or stop the VMs and reload nvidia_vgpu_vfio and nvidia)");
	} else if (!branch) {
		c = vdm_doctor_add(d, "host.driver.version", NULL, VDM_CHECK_WARN,
				   "the loaded driver's version is not a version number");
		vdm_check_remedy(c, "reinstall the vGPU Manager; cat /sys/module/nvidia/version should print "
				 "its version (550.90.05)");
	} else {
		c = vdm_doctor_add(d, "host.driver.version", NULL, VDM_CHECK_OK, "%s, branch R%d%s%s%s",
				   h->version, branch, rel ? " (vGPU " : "", rel ? rel : "", rel ? ")" : "");
	}
	vdm_check_evidence(c, dr_path(d, "sys/module/nvidia/version"), "%s", h->version);
	smi_evidence(c, dv, dv && !strcmp(dv->path, "KMD Version") ? "KMD Version" : "Driver Version");

	if (!h->smi && h->smi_rc == -EXDEV) {
		c = vdm_doctor_add(d, "host.driver.mode", NULL, VDM_CHECK_SKIP,
				   "nvidia-smi not asked: it would describe this machine, not the root "
				   "--sysfs-root names (VGPU_DM_NVIDIA_SMI or VGPU_DM_TOOLS_DIR name one for it)");
		return;
	}
	if (!h->smi) {
		c = vdm_doctor_add(d, "host.driver.mode", NULL, VDM_CHECK_WARN,
				   "nvidia-smi %s: cannot see whether this is the vGPU Manager driver",
				   h->smi_rc == -ENOENT ? "is not installed" : "failed");
		vdm_check_evidence(c, "nvidia-smi -q", h->smi_rc == -ENOENT ? "not found" : "exit status %d",
				   h->smi_rc);
		vdm_check_remedy(c, "nvidia-smi comes with the vGPU Manager package; point VGPU_DM_NVIDIA_SMI "
				 "at it if it is installed elsewhere");
		return;
	}
	size_t n = h->smi->n_gpus, bad = 0;
	const struct vdm_smi_field *first_bad = NULL, *any = NULL;
	for (size_t g = 0; g < n; g++) {
		const struct vdm_smi_field *f =
			vdm_smi_get(h->smi, (int)g, "GPU Virtualization Mode/Virtualization Mode");
		if (!f)
			continue;
		any = any ? any : f;
		if (strcmp(f->value, "Host VGPU")) {
			bad++;
			first_bad = first_bad ? first_bad : f;
		}
	}
	if (!any) {
		c = vdm_doctor_add(d, "host.driver.mode", NULL, VDM_CHECK_WARN,
				   "nvidia-smi -q shows no Virtualization Mode");
		vdm_check_remedy(c, "check nvidia-smi -q by hand; a vGPU Manager shows Virtualization Mode : Host VGPU");
	} else if (bad) {
		c = vdm_doctor_add(d, "host.driver.mode", NULL, VDM_CHECK_FAIL,
				   "%zu of %zu GPUs are not in Host VGPU mode: the driver is not the vGPU Manager",
				   bad, n);
		smi_evidence(c, first_bad, "Virtualization Mode");
		vdm_check_remedy(c, "install the vGPU Manager (-vgpu-kvm) driver of your vGPU release; a datacenter "
				 "or guest driver cannot host vGPUs");
	} else {
		c = vdm_doctor_add(d, "host.driver.mode", NULL, VDM_CHECK_OK, "Host VGPU on %zu GPU%s", n,
				   n == 1 ? "" : "s");
		smi_evidence(c, any, "Virtualization Mode");
	}
}

static void check_iommu(struct hctx *h)
{
	struct vdm_doctor *d = h->d;
	char **names;
	int groups = vdm_sysfs_list(d->ctx, "sys/kernel/iommu_groups", &names);
	if (groups > 0)
		vdm_names_free(names, groups);
	int units = vdm_sysfs_list(d->ctx, "sys/class/iommu", &names);
	char first_unit[64] = "";
	if (units > 0) {
		snprintf(first_unit, sizeof(first_unit), "%s", names[0]);
		vdm_names_free(names, units);
	}
	int rc;
	char *cmdline = dr_read(d, "proc/cmdline", &rc);
	if (cmdline) {
		char *nl = strchr(cmdline, '\n');
		if (nl)
			*nl = '\0';
	}
	struct vdm_check *c;
	if (groups > 0)
		c = vdm_doctor_add(d, "host.iommu", NULL, VDM_CHECK_OK, "the IOMMU is on: %d IOMMU groups", groups);
	else
		c = vdm_doctor_add(d, "host.iommu", NULL, VDM_CHECK_FAIL,
				   "the IOMMU is off: no IOMMU groups, so VFIO cannot give devices to VMs");
	vdm_check_evidence(c, dr_path(d, "sys/kernel/iommu_groups"), groups >= 0 ? "%d entries" : "absent",
			   groups);
	if (units > 0)
		vdm_check_evidence(c, dr_path(d, "sys/class/iommu"), "%s%s", first_unit, units > 1 ? " ..." : "");
	if (cmdline)
		vdm_check_evidence(c, dr_path(d, "proc/cmdline"), "%s", cmdline);
	if (groups <= 0)
		vdm_check_remedy(c, "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) and SR-IOV in the BIOS; on Intel add "
				 "intel_iommu=on iommu=pt to the kernel command line (GRUB_CMDLINE_LINUX in "
				 "/etc/default/grub, then update-grub); reboot");
	free(cmdline);
}

static void check_kernel(struct hctx *h)
{
	struct vdm_doctor *d = h->d;
	h->kernel = -1;
	if (vdm_sysfs_read(d->ctx, "proc/sys/kernel/osrelease", h->kernel_release,
			   sizeof(h->kernel_release)) > 0)
		h->kernel = vdm_kernel_version(h->kernel_release);
}

/* Does the layout (if any) want MIG-backed or mixed sizes on this GPU? */
static const struct vdm_entry *wanted_entry(struct hctx *h, const struct vdm_gpu *g)
{
	if (h->ran && h->run.plan && (size_t)g->index < h->run.plan->n_gpus)
		return h->run.plan->gpus[g->index].entry;
	const struct vdm_config *cfg = h->d->opts->cfg;
	const struct vdm_entry *last = NULL;
	for (size_t i = 0; cfg && i < cfg->n_entries; i++)
		if (vdm_entry_selects(&cfg->entries[i], g->index, &g->id))
			last = &cfg->entries[i];
	return last;
}

/* Does the driver itself list vGPU types for this GPU now? On vendor VFIO the
 * host scan also names types from its cache and NVML; here only a free VF's
 * creatable_vgpu_types counts (a full GPU lists none but holds vGPUs). */
static bool driver_lists_types(struct hctx *h, const struct vdm_gpu *g)
{
	if (g->fw != VDM_FW_VFIO)
		return g->n_types > 0;
	if (g->n_vgpus)
		return true;
	for (size_t p = 0; p < g->n_parents; p++) {
		char rel[VDM_PATH_MAX];
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/nvidia/creatable_vgpu_types", g->parents[p].addr);
		int rc;
		char *text = dr_read(h->d, rel, &rc);
		bool any = text && strchr(text, '\n') && strchr(text, '\n')[1];
		free(text);
		if (any)
			return true;
	}
	return false;
}

/* Where a GPU's type list is read: its first parent's. */
static bool types_path(const struct vdm_gpu *g, char *rel, size_t len)
{
	if (!g->n_parents)
		return false;
	if (g->fw == VDM_FW_VFIO)
		snprintf(rel, len, "sys/bus/pci/devices/%s/nvidia/creatable_vgpu_types", g->parents[0].addr);
	else
		snprintf(rel, len, "sys/class/mdev_bus/%s/mdev_supported_types", g->parents[0].addr);
	return true;
}

static void check_gpu(struct hctx *h, struct vdm_gpu *g)
{
	struct vdm_doctor *d = h->d;
	char lbl[64], rel[VDM_PATH_MAX];
	label(g, lbl, sizeof(lbl));
	int sg = smi_gpu(h, g);
	const char *product = sg >= 0 ? vdm_smi_value(h->smi, sg, "Product Name") : NULL;
	struct vdm_gpu_facts fbuf;
	const struct vdm_gpu_facts *facts =
		vdm_gpu_facts(g->id.device, g->id.subsys_vendor, g->id.subsys_device, product, &fbuf);
	const char *model = *g->model ? g->model : facts ? facts->model : product ? product : "GPU";
	struct vdm_check *c;

	/* SR-IOV VFs (H6). */
	bool vfs_off = g->sriov && g->num_vfs == 0;
	char *bound = vdm_gpu_binding(g);
	if (bound && !h->nvidia && g->driver && !*g->driver) {
		/* Unbound because no nvidia module is loaded: host.driver.loaded says so. */
		free(bound);
		bound = NULL;
	}
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/sriov_numvfs", g->addr);
	if (bound && g->sriov) {
		vdm_doctor_add(d, "host.sriov.vfs", lbl, VDM_CHECK_SKIP, "not bound to nvidia (host.gpu.framework)");
		vfs_off = false;
	} else if (!g->sriov) {
		vdm_doctor_add(d, "host.sriov.vfs", lbl, VDM_CHECK_SKIP, "%s has no SR-IOV: its PF is the mdev parent",
			       model);
	} else if (g->num_vfs == g->total_vfs) {
		c = vdm_doctor_add(d, "host.sriov.vfs", lbl, VDM_CHECK_OK, "%d of %d SR-IOV VFs enabled", g->num_vfs,
				   g->total_vfs);
		vdm_check_evidence(c, dr_path(d, rel), "%d", g->num_vfs);
	} else {
		c = vdm_doctor_add(d, "host.sriov.vfs", lbl, g->num_vfs ? VDM_CHECK_WARN : VDM_CHECK_FAIL,
				   "%d of %d SR-IOV VFs enabled%s", g->num_vfs, g->total_vfs,
				   g->num_vfs ? "" : ": no vGPU can be made on it");
		vdm_check_evidence(c, dr_path(d, rel), "%d", g->num_vfs);
		vdm_check_remedy(c, "%s -e %s (or %s apply --enable-sriov); with VFs partly enabled, "
				 "-d first", SRIOV_MANAGE, g->addr, dr_dm(d));
	}

	/* Framework versus kernel (H7). */
	if (g->fw == VDM_FW_NONE && bound) {
		/* The GPU's own driver binding first: a vfio-pci GPU is passed
		 * through, not missing a vGPU Manager. */
		c = vdm_doctor_add(d, "host.gpu.framework", lbl, VDM_CHECK_FAIL, "no vGPU framework: %s", bound);
		char drel[VDM_PATH_MAX];
		snprintf(drel, sizeof(drel), "sys/bus/pci/devices/%s/driver", g->addr);
		vdm_check_evidence(c, dr_path(d, drel), "-> %s", *g->driver ? g->driver : "(none)");
		char *fix = vdm_gpu_binding_remedy(g);
		vdm_check_remedy(c, "%s", fix);
		free(fix);
	} else if (g->fw == VDM_FW_NONE) {
		if (vfs_off)
			vdm_doctor_add(d, "host.gpu.framework", lbl, VDM_CHECK_SKIP,
				       "no vGPU framework until its VFs are enabled (host.sriov.vfs)");
		else if (!h->nvidia)
			vdm_doctor_add(d, "host.gpu.framework", lbl, VDM_CHECK_SKIP,
				       "the NVIDIA driver is not loaded (host.driver.loaded)");
		else {
			c = vdm_doctor_add(d, "host.gpu.framework", lbl, VDM_CHECK_FAIL,
					   "neither mdev nor vendor-specific VFIO sees this GPU");
			vdm_check_evidence(c, dr_path(d, "sys/class/mdev_bus"), "no %s", g->addr);
			vdm_check_remedy(c, "load the vGPU Manager (modprobe nvidia_vgpu_vfio) and restart nvidia-vgpud; "
					 "on SR-IOV GPUs enable the VFs first");
		}
	} else {
		bool vfio = g->fw == VDM_FW_VFIO;
		bool fits = h->kernel < 0 || (vfio ? h->kernel >= 608 : h->kernel < 608);
		c = vdm_doctor_add(d, "host.gpu.framework", lbl, fits ? VDM_CHECK_OK : VDM_CHECK_WARN,
				   "%s%s%s%s", vfio ? "vendor-specific VFIO" : "mdev",
				   h->kernel < 0 ? "" : " on kernel ", h->kernel < 0 ? "" : h->kernel_release,
				   fits ? "" : vfio ? ": expected only on kernels >= 6.8"
					       : ": kernels >= 6.8 with vGPU 17+ use vendor-specific VFIO");
		if (types_path(g, rel, sizeof(rel)))
			vdm_check_evidence(c, dr_path(d, rel), "present");
		if (h->kernel >= 0)
			vdm_check_evidence(c, dr_path(d, "proc/sys/kernel/osrelease"), "%s", h->kernel_release);
		if (!fits)
			vdm_check_remedy(c, "use the vGPU Manager release made for this kernel (vendor-specific VFIO from "
					 "vGPU 17 on kernels >= 6.8; mdev before)");
	}
	free(bound);

	/* vGPU types (H4, display mode). */
	if (g->n_types && driver_lists_types(h, g)) {
		c = vdm_doctor_add(d, "host.gpu.types", lbl, VDM_CHECK_OK, "%s offers %zu vGPU types (%s ... %s)",
				   model, g->n_types, g->types[0].name, g->types[g->n_types - 1].name);
	} else if (g->n_vgpus && !g->n_types) {
		/* A full vendor-VFIO GPU lists nothing; its vGPUs' type names
		 * come from the type cache or NVML, and neither has them. */
		c = vdm_doctor_add(d, "host.gpu.types", lbl, VDM_CHECK_WARN,
				   "%s is full (%zu vGPUs): no VF lists a type now and neither the type cache nor "
				   "NVML names its vGPUs' types", model, g->n_vgpus);
		vdm_check_remedy(c, "install NVML (libnvidia-ml.so.1, with the vGPU Manager) or keep "
				 "VGPU_DM_CACHE_DIR (default /var/cache/nvidia-vgpu-dm) between runs");
	} else if (g->fw == VDM_FW_NONE) {
		vdm_doctor_add(d, "host.gpu.types", lbl, VDM_CHECK_SKIP, "no vGPU framework (host.gpu.framework)");
	} else {
		c = vdm_doctor_add(d, "host.gpu.types", lbl, VDM_CHECK_FAIL, "%s lists no vGPU types%s", model,
				   facts && facts->display_mode ? ": it is in display mode"
				   : facts && facts->mig ? ": the installed vGPU Manager does not support it" : "");
		if (types_path(g, rel, sizeof(rel)))
			vdm_check_evidence(c, dr_path(d, rel), "no types");
		const struct vdm_smi_field *dm = sg >= 0 ? vdm_smi_get(h->smi, sg, "Display Mode") : NULL;
		smi_evidence(c, dm, "Display Mode");
		if (facts && facts->display_mode)
			vdm_check_remedy(c, "%s GPUs ship with their display outputs on; switch the GPU to a display-off "
					 "mode with NVIDIA's displaymodeselector (vGPU user guide: GPUs that support "
					 "multiple display modes), reboot, then restart nvidia-vgpud", model);
		else if (facts && facts->mig)
			vdm_check_remedy(c, "MIG-capable GPUs (%s) need the NVIDIA AI Enterprise build of the vGPU "
					 "Manager, not the graphics vGPU package; check the vGPU support matrix", model);
		else
			vdm_check_remedy(c, "systemctl restart nvidia-vgpud; check journalctl -u nvidia-vgpud and that "
					 "this vGPU release supports the %s", model);
	}

	/* Mixed-size mode (H8) versus the layout. */
	const struct vdm_entry *e = wanted_entry(h, g);
	if (!g->sriov) {
		vdm_doctor_add(d, "host.gpu.mixed-size", lbl, VDM_CHECK_SKIP, "no SR-IOV: one type per GPU");
	} else {
		int sizes = 0, gb0 = -1;
		bool any_mig = false, any_ts = false;
		for (size_t i = 0; e && i < e->n_types; i++) {
			struct vdm_vgpu_type t;
			if (vdm_vgpu_type_parse(e->types[i].type, &t, NULL) < 0)
				continue;
			if (vdm_vgpu_type_is_mig(&t))
				any_mig = true;
			else
				any_ts = true;
			if (gb0 < 0)
				gb0 = t.gb, sizes = 1;
			else if (t.gb != gb0)
				sizes = 2;
		}
		(void)any_ts;
		/* The mode: NVML's (host scan), else nvidia-smi's vGPU Heterogeneous Mode. */
		const struct vdm_smi_field *hm =
			sg >= 0 ? vdm_smi_get(h->smi, sg, "GPU Virtualization Mode/vGPU Heterogeneous Mode") : NULL;
		int mixed = g->mixed_size;
		if (mixed < 0 && hm)
			mixed = !strcmp(hm->value, "Enabled") ? 1 : !strcmp(hm->value, "Disabled") ? 0 : -1;
		const char *mode = mixed == 1 ? "mixed-size" : mixed == 0 ? "equal-size" : "unknown";
		if (sizes == 2 && !any_mig && mixed != 1) {
			c = vdm_doctor_add(d, "host.gpu.mixed-size", lbl, VDM_CHECK_FAIL,
					   "the layout mixes vGPU sizes, the GPU is in %s mode", mode);
			vdm_check_evidence(c, d->opts->spec->source, "line %d: the entry for this GPU", e->pos.line);
			smi_evidence(c, hm, "vGPU Heterogeneous Mode");
			vdm_check_remedy(c, "while the GPU holds no vGPU and after its VFs are enabled: nvidia-smi vgpu "
					 "-i %s -shm 1", g->addr);
		} else if (mixed < 0) {
			vdm_doctor_add(d, "host.gpu.mixed-size", lbl, VDM_CHECK_SKIP,
				       "mode unknown (no NVML, no nvidia-smi field)%s",
				       e ? "; the layout uses one size" : "");
		} else {
			c = vdm_doctor_add(d, "host.gpu.mixed-size", lbl, VDM_CHECK_OK, "%s mode%s", mode,
					   sizes == 2 ? ", as the layout needs" : "");
			smi_evidence(c, hm, "vGPU Heterogeneous Mode");
		}
	}

	/* MIG mode (H9) versus MIG-backed types in the layout: NVML's (the host
	 * scan's MIG state), else nvidia-smi's. apply switches the mode itself
	 * when the layout needs it; what it cannot do, host.config.plan says. */
	const struct vdm_smi_field *mig = sg >= 0 ? vdm_smi_get(h->smi, sg, "MIG Mode/Current") : NULL;
	bool want_mig = false, want_ts = false;
	for (size_t i = 0; e && i < e->n_types; i++) {
		struct vdm_vgpu_type t;
		if (vdm_vgpu_type_parse(e->types[i].type, &t, NULL) == 0)
			*(vdm_vgpu_type_is_mig(&t) ? &want_mig : &want_ts) = true;
	}
	int on = g->mig ? g->mig->mode == 1 : mig && strcmp(mig->value, "N/A") ? !strcmp(mig->value, "Enabled") : -1;
	bool plan_ok = h->ran && h->run.status == VDM_RUN_OK;
	if (on < 0) {
		if (want_mig) {
			c = vdm_doctor_add(d, "host.gpu.mig", lbl, VDM_CHECK_FAIL,
					   "the layout wants MIG-backed types; MIG mode is %s", mig ? "N/A" : "not known");
			smi_evidence(c, mig, "MIG Mode / Current");
			vdm_check_remedy(c, "use a MIG-capable GPU, and NVML (libnvidia-ml.so.1) for apply to manage "
					 "MIG; check nvidia-smi -i %s -q | grep -A2 'MIG Mode'", g->addr);
		} else {
			vdm_doctor_add(d, "host.gpu.mig", lbl, VDM_CHECK_SKIP, "%s",
				       mig ? "not MIG-capable" : "MIG mode not known (no NVML, no MIG Mode in nvidia-smi -q)");
		}
		return;
	}
	bool bad = (want_mig && !on) || (want_ts && on);
	/* apply switches the mode only knowing it (NVML) and with a plan it accepts */
	enum vdm_check_result r = !bad ? VDM_CHECK_OK : plan_ok && g->mig ? VDM_CHECK_WARN : VDM_CHECK_FAIL;
	c = vdm_doctor_add(d, "host.gpu.mig", lbl, r, "MIG mode %s%s%s", on ? "Enabled" : "Disabled",
			   !bad ? "" : on ? ": the layout wants time-sliced types" : ": the layout wants MIG-backed types",
			   r == VDM_CHECK_WARN ? "; apply will switch it" : "");
	if (g->mig)
		vdm_check_evidence(c, "NVML", "MIG mode current %d, pending %d", g->mig->mode, g->mig->pending);
	smi_evidence(c, mig, "MIG Mode / Current");
	if (r == VDM_CHECK_WARN)
		vdm_check_remedy(c, "%s apply switches MIG mode %s (with no vGPU on the GPU; Ampere "
				 "needs a GPU reset, which apply does with the VFs disabled)", dr_dm(d),
				 on ? "off" : "on");
	else if (bad)
		vdm_check_remedy(c, "with no vGPU on the GPU: nvidia-smi -i %s -mig %d (Ampere: then reset the "
				 "GPU or reboot)", g->addr, on ? 0 : 1);
}

void vdm_doctor_host(struct vdm_doctor *d)
{
	struct hctx h = {.d = d};
	h.smi_rc = dr_smi(d, &h.smi);
	check_modules(&h);
	check_manager(&h);
	check_driver_mode(&h);
	check_iommu(&h);
	check_kernel(&h);

	char *err = NULL;
	struct vdm_check *c;
	if (vdm_host_scan(d->ctx, &h.host, &err) < 0) {
		c = vdm_doctor_add(d, "host.gpus", NULL, VDM_CHECK_FAIL, "cannot scan the host: %s", err);
		vdm_check_remedy(c, "check --sysfs-root and that /sys is mounted");
		free(err);
		return;
	}
	if (!h.host->n_gpus) {
		c = vdm_doctor_add(d, "host.gpus", NULL, VDM_CHECK_FAIL, "no NVIDIA GPU (display or 3D controller)");
		vdm_check_evidence(c, dr_path(d, "sys/bus/pci/devices"), "no function with vendor 0x10de");
		vdm_check_remedy(c, "check that the GPU is seated and enabled in the BIOS (lspci -d 10de:)");
	} else {
		c = vdm_doctor_add(d, "host.gpus", NULL, VDM_CHECK_OK, "%zu NVIDIA GPU%s", h.host->n_gpus,
				   h.host->n_gpus == 1 ? "" : "s");
		vdm_check_evidence(c, dr_path(d, "sys/bus/pci/devices"), "%s%s", h.host->gpus[0].addr,
				   h.host->n_gpus > 1 ? " ..." : "");
	}
	if (d->opts->cfg) {
		struct vdm_run_opts ro = {.dry_run = true};
		vdm_run_apply(d->ctx, d->opts->spec, d->opts->cfg, &ro, &h.run);
		h.ran = true;
	}
	for (size_t i = 0; i < h.host->n_gpus; i++)
		check_gpu(&h, &h.host->gpus[i]);
	dr_host_journal(d);
	dr_host_vgpus(d, h.host, h.smi != NULL, h.version);
	if (h.ran) {
		dr_host_config(d, &h.run);
		vdm_run_result_free(&h.run);
	}
	vdm_host_free(h.host);
}
