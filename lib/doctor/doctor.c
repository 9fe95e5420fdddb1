/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor: the check list, the command cache, host/guest detection and the
 * run (doctor.h). The checks are in doctor_host.c and doctor_guest.c, the
 * printers in doctor_out.c.
 */
#include "doctor.h"
#include "base/base.h"

#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_int.h"
#include "doctor_parse.h"

#define CMD_TIMEOUT_MS 15000
#define CMD_OUT_MAX (1 << 20)   /* bytes of a command's output kept */

struct cmd_entry {
	char *key;                 /* tool and args joined by ' ' */
	int status;                /* exit status, or -errno */
	char *out;
};

struct vdm_doctor_cache {
	struct cmd_entry *e;
	size_t n;
	struct vdm_smi smi;        /* nvidia-smi -q, parsed once */
	int smi_status;            /* 1 parsed, 0 not run yet, <0 failed (-ENOENT: not installed) */
};

const char *vdm_check_result_name(enum vdm_check_result r)
{
	switch (r) {
	case VDM_CHECK_OK:
		return "ok";
	case VDM_CHECK_WARN:
		return "warn";
	case VDM_CHECK_FAIL:
		return "fail";
	case VDM_CHECK_SKIP:
		break;
	}
	return "skip";
}

/* What a check prints comes from files and commands: keep it one line of at
 * most max bytes (300 for summaries and evidence) of valid UTF-8 (control bytes and broken sequences become
 * '?'), so the table stays a table and --json stays valid. In place. */
static void clean_text_max(char *s, size_t max)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), o = 0;
	for (size_t i = 0; i < n && o < max;) {
		unsigned c = p[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = len > 0 && i + len <= n && (len == 1 || c >= 0xc2) && c <= 0xf4;
		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		/* no overlong forms, surrogates or code points past U+10FFFF */
		if (ok && len > 2) {
			unsigned c1 = p[i + 1];
			ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 > 0x9f) && !(c == 0xf0 && c1 < 0x90) &&
			     !(c == 0xf4 && c1 > 0x8f);
		}
		if (!ok || (len == 1 && (c < 0x20 || c == 0x7f))) {
			p[o++] = c == '\t' ? ' ' : '?';
			i++;
			continue;
		}
		if (o + len > max)
			break;
		memmove(p + o, p + i, len);
		o += len;
		i += len;
	}
	if (o == max && n > max)
		memcpy(p + max - 3, "...", 3);
	p[o] = '\0';
}

static void clean_text(char *s)
{
	clean_text_max(s, 300);
}

struct vdm_check *vdm_doctor_add(struct vdm_doctor *d, const char *id, const char *target,
				 enum vdm_check_result r, const char *fmt, ...)
{
	d->checks = vdm_xrealloc(d->checks, d->n_checks + 1, sizeof(*d->checks));
	struct vdm_check *c = &d->checks[d->n_checks++];
	memset(c, 0, sizeof(*c));
	c->id = vdm_xstrdup(id);
	c->target = vdm_xstrdup(target ? target : "");
	c->result = r;
	va_list ap;
	va_start(ap, fmt);
	c->summary = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	clean_text(c->summary);
	return c;
}

void vdm_check_evidence(struct vdm_check *c, const char *source, const char *fmt, ...)
{
	c->ev = vdm_xrealloc(c->ev, c->n_ev + 1, sizeof(*c->ev));
	struct vdm_evidence *e = &c->ev[c->n_ev++];
	e->source = vdm_xstrdup(source);
	va_list ap;
	va_start(ap, fmt);
	e->line = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	/* One line: cut at the first newline. */
	char *nl = strchr(e->line, '\n');
	if (nl)
		*nl = '\0';
	clean_text(e->line);
	clean_text(e->source);
}

void vdm_check_remedy(struct vdm_check *c, const char *fmt, ...)
{
	free(c->remedy);
	va_list ap;
	va_start(ap, fmt);
	c->remedy = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	/* like summaries: what came from gridd.conf or a tool cannot drive
	 * the terminal (remedies run longer: 1000 characters) */
	clean_text_max(c->remedy, 1000);
}

int vdm_doctor_failed(const struct vdm_doctor *d)
{
	for (size_t i = 0; i < d->n_checks; i++)
		if (d->checks[i].result == VDM_CHECK_FAIL)
			return 1;
	return 0;
}

int vdm_doctor_cmd(struct vdm_doctor *d, const char *tool, const char *const *args, const char **out,
		   const char **cmdline)
{
	char key[512];
	snprintf(key, sizeof(key), "%s", tool);
	for (size_t i = 0; args && args[i]; i++) {
		strncat(key, " ", sizeof(key) - strlen(key) - 1);
		strncat(key, args[i], sizeof(key) - strlen(key) - 1);
	}
	struct vdm_doctor_cache *c = d->cache;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].key, key)) {
			if (out)
				*out = c->e[i].out;
			if (cmdline)
				*cmdline = c->e[i].key;
			return c->e[i].status;
		}

	char path[VDM_PATH_MAX];
	const char *how = NULL;
	int status = vdm_tool_find(d->ctx, tool, path, sizeof(path), &how);
	char *output = NULL;
	if (status == 0 && dr_foreign_root(d) && how && (!strcmp(how, "PATH") || !strcmp(how, "default"))) {
		/* systemctl, journalctl, nvidia-smi, docker answer for the machine
		 * they run on, not for the root --sysfs-root names: not asked, unless
		 * the tool was named for this root (VGPU_DM_TOOLS_DIR, VGPU_DM_<TOOL>). */
		vdm_dbg(d->ctx, "doctor: %s not asked: the root is %s, not this machine's /", tool,
			vdm_ctx_root(d->ctx));
		status = -EXDEV;
	} else if (status == 0) {
		size_t n = 0;
		while (args && args[n])
			n++;
		char **argv = vdm_xcalloc(n + 2, sizeof(char *));
		argv[0] = (char *)tool;
		for (size_t i = 0; i < n; i++)
			argv[i + 1] = (char *)args[i];
		struct vdm_exec_opts o = {
			.timeout_ms = CMD_TIMEOUT_MS,
			.out = VDM_EXEC_CAPTURE,
			.err = VDM_EXEC_DISCARD,
			.capture_max = CMD_OUT_MAX,
		};
		struct vdm_exec_result r;
		char *err = NULL;
		int rc = vdm_exec(path, argv, &o, &r, &err);
		free(argv);
		if (rc < 0) {
			vdm_dbg(d->ctx, "doctor: %s: %s", key, err ? err : strerror(-rc));
			status = rc;
		} else {
			status = r.exit_code >= 0 ? r.exit_code : 128 + r.signal;
		}
		output = r.out ? vdm_xstrdup(r.out) : NULL;
		if (r.out_truncated)
			vdm_warn(d->ctx, "doctor: the output of `%s` is over %d MiB: only its first %d MiB "
				 "were read (the output was cut)", key, CMD_OUT_MAX >> 20, CMD_OUT_MAX >> 20);
		free(err);
		vdm_exec_result_free(&r);
	} else if (status != -EXDEV) {
		vdm_dbg(d->ctx, "doctor: %s not found (%s)", tool, strerror(-status));
		status = -ENOENT;
	}
	c->e = vdm_xrealloc(c->e, c->n + 1, sizeof(*c->e));
	c->e[c->n] = (struct cmd_entry){.key = vdm_xstrdup(key), .status = status,
					.out = output ? output : vdm_xstrdup("")};
	if (out)
		*out = c->e[c->n].out;
	if (cmdline)
		*cmdline = c->e[c->n].key;
	c->n++;
	return status;
}

bool dr_foreign_root(const struct vdm_doctor *d)
{
	const char *root = vdm_ctx_root(d->ctx);
	return root && *root && strcmp(root, "/");
}

const char *dr_dm(struct vdm_doctor *d)
{
	static char buf[VDM_PATH_MAX + 64];
	if (!dr_foreign_root(d))
		return "nvidia-vgpu-dm";
	snprintf(buf, sizeof(buf), "nvidia-vgpu-dm --sysfs-root %s", vdm_ctx_root(d->ctx));
	return buf;
}

const char *dr_unit_file(struct vdm_doctor *d, const char *unit)
{
	static const char *const dirs[] = {"etc/systemd/system", "run/systemd/system", "usr/lib/systemd/system",
					   "lib/systemd/system", "usr/local/lib/systemd/system"};
	static char found[VDM_PATH_MAX];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char rel[VDM_PATH_MAX];
		snprintf(rel, sizeof(rel), "%s/%s", dirs[i], unit);
		if (vdm_sysfs_exists(d->ctx, rel)) {
			snprintf(found, sizeof(found), "%s", rel);
			return found;
		}
	}
	return NULL;
}

int dr_smi(struct vdm_doctor *d, const struct vdm_smi **smi)
{
	struct vdm_doctor_cache *c = d->cache;
	if (!c->smi_status) {
		const char *out;
		static const char *const q[] = {"-q", NULL};
		int rc = vdm_doctor_cmd(d, "nvidia-smi", q, &out, NULL);
		if (rc == 0) {
			vdm_smi_parse(out, &c->smi);
			c->smi_status = 1;
		} else {
			c->smi_status = rc < 0 ? rc : -EIO;
		}
	}
	*smi = c->smi_status > 0 ? &c->smi : NULL;
	return c->smi_status > 0 ? 0 : c->smi_status;
}

char *dr_read(struct vdm_doctor *d, const char *rel, int *rc)
{
	char path[VDM_PATH_MAX];
	int r = vdm_path(d->ctx, path, sizeof(path), rel);
	char *buf = NULL;
	if (r == 0) {
		/* Inside the root, like every path: a link in the tree cannot lead out. */
		int fd = vdm_root_open(d->ctx, rel, O_RDONLY | O_NONBLOCK, 0);
		FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
		if (!f) {
			r = fd < 0 ? fd : -errno;
			if (fd >= 0)
				close(fd);
		} else {
			/* At most DR_READ_MAX bytes: a runaway file (a 2 GB
			 * gridd.conf, a log) is cut, and the user told so. */
			size_t len = 0, cap = 4096;
			buf = vdm_xcalloc(1, cap + 1);
			size_t n;
			while (len < DR_READ_MAX && (n = fread(buf + len, 1, cap - len, f)) > 0) {
				len += n;
				if (len == cap && cap < DR_READ_MAX) {
					cap = cap * 2 > DR_READ_MAX ? DR_READ_MAX : cap * 2;
					buf = vdm_xrealloc(buf, cap + 1, 1);
				}
			}
			buf[len] = '\0';
			if (len == DR_READ_MAX && fgetc(f) != EOF)
				vdm_warn(d->ctx, "doctor: %s is over %d MiB: only its first %d MiB were read "
					 "(the file was cut)", dr_path(d, rel), DR_READ_MAX >> 20,
					 DR_READ_MAX >> 20);
			fclose(f);
			r = (int)len;
		}
	}
	if (rc)
		*rc = r;
	return buf;
}

const char *dr_path(struct vdm_doctor *d, const char *rel)
{
	/* Evidence names a path as the machine under the root sees it, so
	 * output does not depend on where --sysfs-root points. Rotating
	 * buffers: up to four in one expression. */
	static char buf[4][VDM_PATH_MAX];
	static unsigned next;
	(void)d;
	char *b = buf[next++ % 4];
	snprintf(b, VDM_PATH_MAX, "/%s", rel);
	return b;
}

/* Does an NVIDIA PCI function carry the vGPU signature? 1 yes, 0 no, <0 unreadable. */
int dr_pci_vgpu(struct vdm_doctor *d, const char *bdf, char *hv, char *hb)
{
	char rel[VDM_PATH_MAX];
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/config", bdf);
	int rc;
	char *cfg = dr_read(d, rel, &rc);
	if (!cfg) {
		hv[0] = hb[0] = '\0';
		return rc;
	}
	rc = vdm_pci_vgpu_signature((const unsigned char *)cfg, (size_t)rc, hv, hb);
	free(cfg);
	return rc;
}

/* NVIDIA display/3D functions that are not VFs, sorted by name. */
int dr_nvidia_functions(struct vdm_doctor *d, char ***out)
{
	char **names;
	int n = vdm_sysfs_list(d->ctx, "sys/bus/pci/devices", &names);
	*out = NULL;
	if (n < 0)
		return n;
	char **res = vdm_xcalloc((size_t)n + 1, sizeof(char *));
	int k = 0;
	for (int i = 0; i < n; i++) {
		char rel[VDM_PATH_MAX];
		uint64_t vendor, klass;
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", names[i]);
		if (vdm_sysfs_read_u64(d->ctx, rel, &vendor) < 0 || vendor != 0x10de)
			continue;
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", names[i]);
		if (vdm_sysfs_read_u64(d->ctx, rel, &klass) < 0 || (klass >> 16) != 0x03)
			continue;
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/physfn", names[i]);
		if (vdm_sysfs_exists(d->ctx, rel))
			continue;
		res[k++] = vdm_xstrdup(names[i]);
	}
	vdm_names_free(names, n);
	*out = res;
	return k;
}

/* A PCI device only a VM has: virtio (0x1af4), QEMU's own (0x1b36), the
 * Q35/i440FX chipsets QEMU emulates (0x8086:0x29c0, 0x1237), Hyper-V
 * (0x1414). "<path>: vendor:device, a virtual device", or NULL. */
static char *virtual_pci(struct vdm_doctor *d)
{
	static const struct { uint64_t vendor, device; const char *what; } ids[] = {
		{0x1af4, 0, "virtio"},
		{0x1b36, 0, "QEMU"},
		{0x1414, 0, "Hyper-V"},
		{0x8086, 0x29c0, "QEMU's Q35 host bridge"},
		{0x8086, 0x1237, "QEMU's i440FX host bridge"},
	};
	char **names;
	int n = vdm_sysfs_list(d->ctx, "sys/bus/pci/devices", &names);
	char *why = NULL;
	for (int i = 0; i < n && !why; i++) {
		char rel[VDM_PATH_MAX];
		uint64_t vendor, device;
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", names[i]);
		if (vdm_sysfs_read_u64(d->ctx, rel, &vendor) < 0)
			continue;
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", names[i]);
		if (vdm_sysfs_read_u64(d->ctx, rel, &device) < 0)
			continue;
		for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]) && !why; k++)
			if (ids[k].vendor == vendor && (!ids[k].device || ids[k].device == device))
				why = vdm_strdupf("%s/%s is %04llx:%04llx (%s), a device only a VM has",
						  dr_path(d, "sys/bus/pci/devices"), names[i],
						  (unsigned long long)vendor, (unsigned long long)device,
						  ids[k].what);
	}
	if (n > 0)
		vdm_names_free(names, n);
	return why;
}

/* Host or guest, and why. Returns 0, or -ENODEV when nothing tells. */
static int detect(struct vdm_doctor *d)
{
	const struct vdm_smi *smi;
	const struct vdm_smi_field *none = NULL;
	if (dr_smi(d, &smi) == 0) {
		for (size_t g = 0; g < smi->n_gpus; g++) {
			const struct vdm_smi_field *f =
				vdm_smi_get(smi, (int)g, "GPU Virtualization Mode/Virtualization Mode");
			if (!f)
				continue;
			if (!strcmp(f->value, "None")) {
				/* Bare metal: a hypervisor with the wrong driver, or no
				 * hypervisor at all; the other evidence decides. */
				none = none ? none : f;
				continue;
			}
			if (!strcmp(f->value, "Host VGPU") || !strcmp(f->value, "Host VSGA"))
				d->mode = VDM_DOCTOR_HOST;
			else
				d->mode = VDM_DOCTOR_GUEST; /* VGPU, Pass-Through */
			d->mode_why = vdm_strdupf("nvidia-smi -q line %d: Virtualization Mode : %s", f->line,
						  f->value);
			return 0;
		}
	}
	char **fns;
	int n = dr_nvidia_functions(d, &fns);
	for (int i = 0; i < n && !d->mode_why; i++) {
		char hv[16], hb[16];
		if (dr_pci_vgpu(d, fns[i], hv, hb) == 1) {
			d->mode = VDM_DOCTOR_GUEST;
			d->mode_why = vdm_strdupf("%s carries the vGPU signature",
						  dr_path(d, "sys/bus/pci/devices"));
		}
	}
	for (int i = 0; i < n; i++)
		free(fns[i]);
	free(fns);
	if (d->mode_why)
		return 0;
	/* Evidence that separates the cases: the vGPU Manager's module only
	 * loads on a vGPU host; the CPU's hypervisor flag and QEMU's virtual PCI
	 * devices only show inside a VM. /sys/module/kvm proves nothing (a VM
	 * with nested virtualisation has it), nor does an empty mdev_bus. */
	if (vdm_sysfs_exists(d->ctx, "sys/module/nvidia_vgpu_vfio")) {
		d->mode = VDM_DOCTOR_HOST;
		d->mode_why = vdm_strdupf("%s exists: the vGPU Manager is loaded",
					  dr_path(d, "sys/module/nvidia_vgpu_vfio"));
		return 0;
	}
	int rc;
	char *cpu = dr_read(d, "proc/cpuinfo", &rc);
	bool flags = cpu && strstr(cpu, "flags");
	if (cpu && strstr(cpu, " hypervisor")) {
		d->mode = VDM_DOCTOR_GUEST;
		d->mode_why = vdm_strdupf("%s: flags include hypervisor, and no vGPU Manager module",
					  dr_path(d, "proc/cpuinfo"));
	}
	free(cpu);
	if (!d->mode_why)
		d->mode_why = virtual_pci(d);
	if (d->mode_why) {
		d->mode = VDM_DOCTOR_GUEST;
		return 0;
	}
	if (flags) {
		/* Bare metal: the would-be hypervisor (its driver may be missing). */
		d->mode = VDM_DOCTOR_HOST;
		d->mode_why = vdm_strdupf("%s: no hypervisor flag, and no PCI device only a VM has: not a VM",
					  dr_path(d, "proc/cpuinfo"));
		return 0;
	}
	char **parents;
	int np = vdm_sysfs_list(d->ctx, "sys/class/mdev_bus", &parents);
	if (np > 0) {
		d->mode = VDM_DOCTOR_HOST;
		d->mode_why = vdm_strdupf("%s lists %s, an mdev parent", dr_path(d, "sys/class/mdev_bus"),
					  parents[0]);
		vdm_names_free(parents, np);
		return 0;
	}
	if (np == 0)
		vdm_names_free(parents, np);
	if (none) {
		d->mode = VDM_DOCTOR_HOST;
		d->mode_why = vdm_strdupf("nvidia-smi -q line %d: Virtualization Mode : None, not in a VM "
					  "(no hypervisor flag, no virtual PCI device)", none->line);
	}
	return d->mode_why ? 0 : -ENODEV;
}

int vdm_doctor_run(struct vdm_ctx *ctx, const struct vdm_doctor_opts *o, struct vdm_doctor **out,
		   char **err)
{
	struct vdm_doctor *d = vdm_xcalloc(1, sizeof(*d));
	d->ctx = ctx;
	d->opts = o;
	d->cache = vdm_xcalloc(1, sizeof(*d->cache));
	*out = NULL;
	if (!vdm_sysfs_exists(ctx, "sys")) {
		char path[VDM_PATH_MAX];
		vdm_path(ctx, path, sizeof(path), "sys");
		*err = vdm_strdupf("cannot read %s: %s", path, strerror(ENOENT));
		vdm_doctor_free(d);
		return -ENOENT;
	}
	d->mode = o->mode;
	if (o->mode == VDM_DOCTOR_AUTO) {
		if (detect(d) < 0) {
			*err = vdm_strdupf("cannot tell a vGPU host from a guest here (no nvidia-smi, no "
					   "vGPU signature on an NVIDIA PCI device, no %s): run with "
					   "--host or --guest", dr_path(d, "sys/module/nvidia_vgpu_vfio"));
			vdm_doctor_free(d);
			return -ENODEV;
		}
	} else {
		d->mode_why = vdm_xstrdup(o->mode == VDM_DOCTOR_HOST ? "--host" : "--guest");
	}
	if (d->mode == VDM_DOCTOR_HOST)
		vdm_doctor_host(d);
	else
		vdm_doctor_guest(d);
	*out = d;
	return 0;
}

void vdm_doctor_free(struct vdm_doctor *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_checks; i++) {
		struct vdm_check *c = &d->checks[i];
		free(c->id);
		free(c->target);
		free(c->summary);
		free(c->remedy);
		for (size_t e = 0; e < c->n_ev; e++) {
			free(c->ev[e].source);
			free(c->ev[e].line);
		}
		free(c->ev);
	}
	free(d->checks);
	if (d->cache) {
		for (size_t i = 0; i < d->cache->n; i++) {
			free(d->cache->e[i].key);
			free(d->cache->e[i].out);
		}
		free(d->cache->e);
		if (d->cache->smi_status > 0)
			vdm_smi_free(&d->cache->smi);
		free(d->cache);
	}
	free(d->mode_why);
	free(d);
}
