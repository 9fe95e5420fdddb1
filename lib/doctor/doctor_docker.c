/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor inside the VM, services and containers: guest.license.service,
 * guest.license.log (nvidia-gridd), guest.docker.* and guest.containerd.runtime.
 * Formats: guest-and-host-checks.md §2-3, doctor-plan-mig.md §2.3.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_int.h"
#include "base/base.h"

#define CONFIGURE_DOCKER "nvidia-ctk runtime configure --runtime=docker --set-as-default && systemctl restart docker"
#define CONFIGURE_CONTAINERD \
	"nvidia-ctk runtime configure --runtime=containerd --set-as-default && systemctl restart containerd"

static void first_line(char *dst, size_t len, const char *s)
{
	size_t n = strcspn(s ? s : "", "\n");
	if (n >= len)
		n = len - 1;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

/* The last line of a log that says the licence was got or refused. */
static const char *last_license_line(const char *log, size_t *len, bool *good)
{
	const char *best = NULL;
	for (const char *p = log; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (memmem(p, n, "nvidia-gridd", 12) || memmem(p, n, "gridd", 5)) {
			if (memmem(p, n, "License acquired successfully", 29)) {
				best = p, *len = n, *good = true;
			} else if (memmem(p, n, "Failed to acquire license", 25) ||
				   memmem(p, n, "Valid GRID license not found", 28)) {
				best = p, *len = n, *good = false;
			}
		}
		p += n + (eol ? 1 : 0);
	}
	return best;
}

void dr_guest_service(struct vdm_doctor *d)
{
	const char *out, *cmd;
	static const char *const active[] = {"is-active", "nvidia-gridd", NULL};
	int rc = vdm_doctor_cmd(d, "systemctl", active, &out, &cmd);
	char line[160];
	first_line(line, sizeof(line), rc == -ENOENT ? "not found" : out);
	struct vdm_check *c;
	if (rc == 0) {
		c = vdm_doctor_add(d, "guest.license.service", NULL, VDM_CHECK_OK, "nvidia-gridd is running");
	} else if (rc == -ENOENT) {
		c = vdm_doctor_add(d, "guest.license.service", NULL, VDM_CHECK_SKIP, "no systemctl here");
	} else {
		c = vdm_doctor_add(d, "guest.license.service", NULL, VDM_CHECK_FAIL,
				   "nvidia-gridd, the licensing daemon, is not running (%s)", *line ? line : "inactive");
		vdm_check_remedy(c, "systemctl enable --now nvidia-gridd; journalctl -u nvidia-gridd says why it stopped");
	}
	vdm_check_evidence(c, cmd, "%s", line);

	static const char *const jargs[] = {"-u", "nvidia-gridd", "-n", "200", "--no-pager", NULL};
	rc = vdm_doctor_cmd(d, "journalctl", jargs, &out, &cmd);
	char *messages = NULL;
	const char *src = cmd;
	if (rc != 0 || !out || !*out) {
		/* The operator's guide: grep gridd /var/log/messages. */
		int r;
		messages = dr_read(d, "var/log/messages", &r);
		if (!messages)
			messages = dr_read(d, "var/log/syslog", &r);
		if (messages) {
			out = messages;
			src = dr_path(d, "var/log/messages");
		}
	}
	size_t n = 0;
	bool good = false;
	const char *l = out ? last_license_line(out, &n, &good) : NULL;
	if (!l) {
		c = vdm_doctor_add(d, "guest.license.log", NULL, VDM_CHECK_SKIP,
				   "no nvidia-gridd licence line in its log");
		vdm_check_evidence(c, src, rc == -ENOENT && !messages ? "not found" : "no matching line");
	} else {
		char ln[512];
		first_line(ln, n + 1 < sizeof(ln) ? n + 1 : sizeof(ln), l);
		c = vdm_doctor_add(d, "guest.license.log", NULL, good ? VDM_CHECK_OK : VDM_CHECK_FAIL, "%s",
				   good ? "the last licence event: acquired" : "the last licence event: a failure");
		vdm_check_evidence(c, src, "%s", ln);
		if (!good)
			vdm_check_remedy(c, "check the license server and the token (guest.license.server, "
					 "guest.license.reachable), then systemctl restart nvidia-gridd");
	}
	free(messages);
}

void dr_guest_docker(struct vdm_doctor *d)
{
	const char *out, *cmd;
	static const char *const info_args[] = {"info", NULL};
	int rc = vdm_doctor_cmd(d, "docker", info_args, &out, &cmd);
	struct vdm_check *c;
	struct vdm_docker_info info;
	vdm_docker_info_parse(rc == 0 ? out : "", &info);
	int r;
	char *dj_text = dr_read(d, "etc/docker/daemon.json", &r);
	struct vdm_daemon_json dj;
	vdm_daemon_json_parse(dj_text ? dj_text : "", &dj);
	bool dj_present = dj_text != NULL;
	free(dj_text);
	const char *dj_path = dr_path(d, "etc/docker/daemon.json");

	if (rc == -ENOENT) {
		c = vdm_doctor_add(d, "guest.docker.installed", NULL, VDM_CHECK_WARN, "Docker is not installed");
		vdm_check_evidence(c, "docker", "not found");
		vdm_check_remedy(c, "if containers are to use the GPU: install Docker Engine and the NVIDIA Container "
				 "Toolkit (nvidia-container-toolkit)");
		vdm_doctor_add(d, "guest.docker.runtime", NULL, VDM_CHECK_SKIP, "no Docker");
		vdm_doctor_add(d, "guest.docker.default", NULL, VDM_CHECK_SKIP, "no Docker");
	} else {
		if (rc == 0) {
			c = vdm_doctor_add(d, "guest.docker.installed", NULL, VDM_CHECK_OK, "Docker %s is running",
					   *info.server_version ? info.server_version : "(version unknown)");
		} else {
			c = vdm_doctor_add(d, "guest.docker.installed", NULL, VDM_CHECK_WARN,
					   "docker info fails (exit status %d): is the daemon running?", rc);
			vdm_check_remedy(c, "systemctl start docker");
		}
		vdm_check_evidence(c, cmd, "%s", rc == 0 ? "Server Version" : "failed");

		if (dj_present && !dj.parsed) {
			c = vdm_doctor_add(d, "guest.docker.runtime", NULL, VDM_CHECK_FAIL,
					   "daemon.json is not valid JSON: %s", dj.error);
			vdm_check_evidence(c, dj_path, "%s", dj.error);
			vdm_check_remedy(c, "fix /etc/docker/daemon.json (Docker does not start with it), or "
					 "regenerate it: " CONFIGURE_DOCKER);
			vdm_doctor_add(d, "guest.docker.default", NULL, VDM_CHECK_SKIP, "daemon.json is not valid");
			goto containerd;
		}
		bool live = rc == 0 && info.runtimes_line;
		bool runtime = live ? vdm_word_in(info.runtimes, "nvidia") : dj.nvidia_runtime;
		bool cdi_spec = vdm_sysfs_exists(d->ctx, "etc/cdi/nvidia.yaml") ||
				vdm_sysfs_exists(d->ctx, "var/run/cdi/nvidia.yaml");
		int sv[4];
		vdm_version_parse(info.server_version, sv);
		bool cdi_on = dj.cdi == 1 || sv[0] > 28 || (sv[0] == 28 && sv[1] >= 2);
		if (runtime) {
			c = vdm_doctor_add(d, "guest.docker.runtime", NULL, VDM_CHECK_OK, "the nvidia runtime is configured");
		} else if (cdi_spec && cdi_on) {
			c = vdm_doctor_add(d, "guest.docker.runtime", NULL, VDM_CHECK_OK,
					   "CDI: run containers with --device nvidia.com/gpu=all");
			vdm_check_evidence(c, dr_path(d, "etc/cdi/nvidia.yaml"), "present");
		} else {
			c = vdm_doctor_add(d, "guest.docker.runtime", NULL, VDM_CHECK_FAIL,
					   "no NVIDIA runtime in Docker%s", cdi_spec ? " (a CDI spec exists, Docker's CDI is off)" : "");
			vdm_check_remedy(c, "install nvidia-container-toolkit, then: " CONFIGURE_DOCKER);
		}
		if (live)
			vdm_check_evidence(c, "docker info", "line %d: Runtimes: %s", info.runtimes_line, info.runtimes);
		vdm_check_evidence(c, dj_path, dj_present ? (dj.nvidia_runtime ? "runtimes.nvidia.path: %s"
									       : "no runtimes.nvidia%s")
							  : "absent%s", dj.nvidia_path);

		const char *def = live && info.default_line ? info.default_runtime : dj.default_runtime;
		if (!runtime) {
			vdm_doctor_add(d, "guest.docker.default", NULL, VDM_CHECK_SKIP, "no NVIDIA runtime (guest.docker.runtime)");
		} else {
			bool ok = !strcmp(def, "nvidia");
			c = vdm_doctor_add(d, "guest.docker.default", NULL, ok ? VDM_CHECK_OK : VDM_CHECK_FAIL,
					   ok ? "nvidia is the default runtime" : "the default runtime is %s, not nvidia: "
					   "containers see no GPU unless run with --runtime=nvidia", *def ? def : "runc");
			if (live && info.default_line)
				vdm_check_evidence(c, "docker info", "line %d: Default Runtime: %s", info.default_line,
						   info.default_runtime);
			vdm_check_evidence(c, dj_path, *dj.default_runtime ? "default-runtime: %s" : "no default-runtime%s",
					   dj.default_runtime);
			if (!ok)
				vdm_check_remedy(c, "set \"default-runtime\": \"nvidia\" in /etc/docker/daemon.json, or: "
						 CONFIGURE_DOCKER);
		}
	}

containerd:;
	/* containerd, where it is configured (Kubernetes nodes). */
	static const char *const cpaths[] = {"etc/containerd/conf.d/99-nvidia.toml", "etc/containerd/config.toml"};
	char *text = NULL;
	const char *cpath = NULL;
	for (size_t i = 0; i < 2 && !text; i++) {
		text = dr_read(d, cpaths[i], &r);
		cpath = cpaths[i];
	}
	if (!text) {
		vdm_doctor_add(d, "guest.containerd.runtime", NULL, VDM_CHECK_SKIP, "containerd is not configured here");
		return;
	}
	struct vdm_containerd ct;
	vdm_containerd_parse(text, &ct);
	free(text);
	if (ct.nvidia_runtime && !strcmp(ct.default_runtime, "nvidia"))
		c = vdm_doctor_add(d, "guest.containerd.runtime", NULL, VDM_CHECK_OK,
				   "the nvidia runtime is containerd's default");
	else if (ct.nvidia_runtime)
		c = vdm_doctor_add(d, "guest.containerd.runtime", NULL, VDM_CHECK_WARN,
				   "containerd has the nvidia runtime, its default is %s",
				   *ct.default_runtime ? ct.default_runtime : "runc");
	else
		c = vdm_doctor_add(d, "guest.containerd.runtime", NULL, VDM_CHECK_WARN,
				   "containerd has no nvidia runtime");
	if (ct.nvidia_line)
		vdm_check_evidence(c, dr_path(d, cpath), "line %d: runtimes.nvidia%s%s", ct.nvidia_line,
				   *ct.binary ? ", BinaryName " : "", ct.binary);
	if (ct.default_line)
		vdm_check_evidence(c, dr_path(d, cpath), "line %d: default_runtime_name = \"%s\"", ct.default_line,
				   ct.default_runtime);
	else
		vdm_check_evidence(c, dr_path(d, cpath), "no default_runtime_name");
	if (c->result != VDM_CHECK_OK)
		vdm_check_remedy(c, CONFIGURE_CONTAINERD);
}
