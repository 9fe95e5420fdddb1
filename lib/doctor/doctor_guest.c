/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor inside the VM: the guest.* checks (doctor.h). Facts and formats:
 * guest-and-host-checks.md §1a, §2-5 and doctor-plan-mig.md §2. The Docker
 * and containerd checks are in doctor_docker.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "doctor_facts.h"
#include "doctor_int.h"

#define GRIDD_CONF "etc/nvidia/gridd.conf"
#define TOKEN_DIR "etc/nvidia/ClientConfigToken"
#define RESTART_GRIDD "systemctl restart nvidia-gridd"

struct gctx {
	struct vdm_doctor *d;
	const struct vdm_smi *smi;
	int smi_rc;
	int gpu;                   /* the nvidia-smi GPU block looked at, -1 none */
	char bdf[32];              /* the first NVIDIA function, "" none */
	char version[64];          /* guest driver, "" unknown */
	char host_version[16], host_branch[16];
	char series;               /* of the vGPU profile, 0 unknown */
	bool vgpu;                 /* a vGPU (not passthrough) */
	bool driver;               /* module loaded */
	struct vdm_gridd conf;
	bool conf_present;
};

static void smi_ev(struct vdm_check *c, const struct vdm_smi_field *f, const char *key)
{
	if (f)
		vdm_check_evidence(c, "nvidia-smi -q", "line %d: %s : %s", f->line, key, f->value);
}

static const struct vdm_smi_field *gpu_field(struct gctx *g, const char *path)
{
	return g->smi && g->gpu >= 0 ? vdm_smi_get(g->smi, g->gpu, path) : NULL;
}

static void check_present(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	char **fns;
	int n = dr_nvidia_functions(d, &fns);
	struct vdm_check *c;
	if (n <= 0) {
		c = vdm_doctor_add(d, "guest.gpu.present", NULL, VDM_CHECK_FAIL, "no NVIDIA GPU in this VM");
		vdm_check_evidence(c, dr_path(d, "sys/bus/pci/devices"), "no function with vendor 0x10de, class 03");
		vdm_check_remedy(c, "on the hypervisor create a vGPU (nvidia-vgpu-dm apply) and add it to this VM's "
				 "definition (an mdev UUID, or the VF as a PCI host device), then restart the VM");
	} else {
		snprintf(g->bdf, sizeof(g->bdf), "%s", fns[0]);
		c = vdm_doctor_add(d, "guest.gpu.present", NULL, VDM_CHECK_OK, "%d NVIDIA GPU%s: %s%s", n,
				   n == 1 ? "" : "s", fns[0], n > 1 ? " ..." : "");
		char rel[VDM_PATH_MAX], dev[16] = "";
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", fns[0]);
		vdm_sysfs_read(d->ctx, rel, dev, sizeof(dev));
		vdm_check_evidence(c, dr_path(d, rel), "%s", dev);
	}
	for (int i = 0; i < n; i++)
		free(fns[i]);
	free(fns);
	if (g->smi && g->smi->n_gpus)
		g->gpu = *g->bdf && vdm_smi_gpu_by_addr(g->smi, g->bdf) >= 0 ? vdm_smi_gpu_by_addr(g->smi, g->bdf) : 0;
}

/* One source for what each deployment needs, used by every licence check
 * and remedy: does this guest need a licence at all, and which FeatureType
 * its gridd.conf takes. A vGPU takes 1 (its licence follows the profile); a
 * passed-through GPU takes 2 (vWS) or 4 (vCS); a GPU passed through whole
 * with the datacenter driver (nvidia-smi -q shows no "vGPU Software Licensed
 * Product" section) needs no licence. */
static bool needs_licence(const struct gctx *g)
{
	if (g->vgpu || !g->smi)
		return true;
	return gpu_field((struct gctx *)g, "vGPU Software Licensed Product/License Status") ||
	       gpu_field((struct gctx *)g, "vGPU Software Licensed Product/Product Name");
}

static int wanted_feature_type(const struct gctx *g)
{
	return g->vgpu || !g->smi ? 1 : g->series == 'C' ? 4 : 2;
}

static void check_vgpu(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	int sig = *g->bdf ? dr_pci_vgpu(d, g->bdf, g->host_version, g->host_branch) : -ENODEV;
	const struct vdm_smi_field *vm = gpu_field(g, "GPU Virtualization Mode/Virtualization Mode");
	struct vdm_check *c;
	char rel[VDM_PATH_MAX];
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/config", g->bdf);
	if (!*g->bdf && !vm) {
		vdm_doctor_add(d, "guest.gpu.vgpu", NULL, VDM_CHECK_SKIP, "no NVIDIA GPU (guest.gpu.present)");
		return;
	}
	g->vgpu = vm ? !strcmp(vm->value, "VGPU") : sig == 1;
	if (g->vgpu) {
		c = vdm_doctor_add(d, "guest.gpu.vgpu", NULL, VDM_CHECK_OK, "the GPU is a vGPU%s%s",
				   *g->host_version ? " of a host running driver " : "", g->host_version);
	} else if ((vm || sig == 0) && !needs_licence(g)) {
		/* What the guest.license.* checks will also say: nothing to license. */
		c = vdm_doctor_add(d, "guest.gpu.vgpu", NULL, VDM_CHECK_OK, "the GPU is not a vGPU (%s): it is "
				   "passed through whole, with the datacenter driver, and needs no licence",
				   vm ? vm->value : "no vGPU signature: passthrough");
		vdm_check_evidence(c, "nvidia-smi -q", "no \"vGPU Software Licensed Product\" section");
	} else if (vm || sig == 0) {
		c = vdm_doctor_add(d, "guest.gpu.vgpu", NULL, VDM_CHECK_WARN, "the GPU is not a vGPU (%s)",
				   vm ? vm->value : "no vGPU signature: passthrough");
		vdm_check_remedy(c, "a passed-through GPU works but is licensed as a physical GPU (gridd.conf "
				 "FeatureType=2 for vWS, 4 for vCS); for a vGPU attach an mdev or VF instead");
	} else {
		c = vdm_doctor_add(d, "guest.gpu.vgpu", NULL, VDM_CHECK_SKIP,
				   "cannot tell: no nvidia-smi and the PCI config space is not readable (needs root)");
	}
	smi_ev(c, vm, "Virtualization Mode");
	if (sig >= 0 && *g->bdf)
		vdm_check_evidence(c, dr_path(d, rel), sig == 1 ? "vendor capability \"VF\", host %s %s"
								 : "no vGPU vendor capability%s%s",
				   g->host_version, g->host_branch);
}

static void check_driver(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	char ver[64] = "";
	g->driver = vdm_sysfs_exists(d->ctx, "sys/module/nvidia");
	if (g->driver)
		vdm_sysfs_read(d->ctx, "sys/module/nvidia/version", ver, sizeof(ver));
	const struct vdm_smi_field *dv = g->smi ? vdm_smi_get(g->smi, -1, "Driver Version") : NULL;
	if (!dv && g->smi)
		dv = vdm_smi_get(g->smi, -1, "KMD Version");
	snprintf(g->version, sizeof(g->version), "%s", dv ? dv->value : ver);
	struct vdm_check *c;
	const char *want = *g->host_version ? g->host_version : "the host's vGPU release";
	if (!g->driver && !dv) {
		c = vdm_doctor_add(d, "guest.driver.loaded", NULL, VDM_CHECK_FAIL, "no GPU driver is loaded");
		vdm_check_evidence(c, dr_path(d, "sys/module/nvidia"), "absent");
		vdm_check_remedy(c, "install the NVIDIA vGPU guest driver (Linux .run or package) of the same vGPU "
				 "release as the host (%s), then: modprobe nvidia (or reboot)", want);
	} else if (g->smi_rc == -EXDEV) {
		c = vdm_doctor_add(d, "guest.driver.loaded", NULL, VDM_CHECK_OK, "the nvidia module %s is loaded "
				   "(nvidia-smi not asked: the root is not this machine's /)", ver);
	} else if (g->smi_rc) {
		c = vdm_doctor_add(d, "guest.driver.loaded", NULL, VDM_CHECK_FAIL, "the nvidia module %s is loaded but "
				   "nvidia-smi %s", ver, g->smi_rc == -ENOENT ? "is not installed" : "fails");
		vdm_check_evidence(c, "nvidia-smi -q", g->smi_rc == -ENOENT ? "not found" : "exit status %d",
				   g->smi_rc);
		vdm_check_remedy(c, "reinstall the guest driver package (it carries nvidia-smi); a failing nvidia-smi "
				 "often means the user-space and kernel driver versions differ: reboot");
	} else {
		c = vdm_doctor_add(d, "guest.driver.loaded", NULL, VDM_CHECK_OK, "driver %s, nvidia-smi works",
				   g->version);
		smi_ev(c, dv, "Driver Version");
	}
	if (g->driver)
		vdm_check_evidence(c, dr_path(d, "sys/module/nvidia/version"), "%s", ver);

	/* Guest branch against the host's (the PCI record). */
	int gp[4], hp[4];
	int host = vdm_version_parse(g->host_version, hp) ? hp[0] : 0;
	long hb;
	if (!host && !strncmp(g->host_branch, "r", 1) &&
	    vdm_parse_long_prefix(g->host_branch + 1, NULL, 10, 1, 100000, &hb) == 0)
		host = (int)hb;
	int guest = vdm_is_version(g->version) && vdm_version_parse(g->version, gp) ? gp[0] : 0;
	if (!guest || !host) {
		vdm_doctor_add(d, "guest.driver.branch", NULL, VDM_CHECK_SKIP, "%s",
			       !guest ? "no guest driver (guest.driver.loaded)"
				      : "the host's driver is not visible (no vGPU record in the PCI config space)");
		return;
	}
	enum vdm_check_result r = guest == host ? VDM_CHECK_OK : guest > host ? VDM_CHECK_FAIL : VDM_CHECK_WARN;
	c = vdm_doctor_add(d, "guest.driver.branch", NULL, r, "guest R%d, host R%d (%s)%s", guest, host,
			   *g->host_branch ? g->host_branch : g->host_version,
			   r == VDM_CHECK_OK ? "" : guest > host ? ": the guest is newer than the host"
								   : ": the guest is an older branch");
	vdm_check_evidence(c, dr_path(d, "sys/bus/pci/devices"), "host driver %s, branch %s", g->host_version,
			   g->host_branch);
	if (r != VDM_CHECK_OK)
		vdm_check_remedy(c, "install the guest driver from the host's vGPU release (%s); an older guest "
				 "branch is supported only as the previous branch under a later LTS vGPU Manager",
				 g->host_version);
}

static void check_cuda(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	int want = d->opts->cuda_major;
	const struct vdm_smi_field *pn = gpu_field(g, "Product Name");
	bool mig;
	struct vdm_check *c;
	g->series = pn ? vdm_profile_series(pn->value, &mig) : 0;
	const struct vdm_cat_series *cs = g->series ? vdm_cat_series(g->series) : NULL; /* CUDA, licence */
	if (!pn) {
		vdm_doctor_add(d, "guest.profile.cuda", NULL, VDM_CHECK_SKIP, "no nvidia-smi: the vGPU profile is not known");
	} else if (!g->series) {
		c = vdm_doctor_add(d, "guest.profile.cuda", NULL, g->vgpu ? VDM_CHECK_WARN : VDM_CHECK_OK,
				   "%s%s", pn->value, g->vgpu ? ": not a vGPU profile name" : ": a full GPU runs CUDA");
		smi_ev(c, pn, "Product Name");
		if (g->vgpu)
			vdm_check_remedy(c, "check the profile on the host: nvidia-smi vgpu -q shows its vGPU Name");
	} else if (!cs || !cs->cuda) {
		c = vdm_doctor_add(d, "guest.profile.cuda", NULL, want ? VDM_CHECK_FAIL : VDM_CHECK_WARN,
				   "%s is a %c-series profile: it cannot run CUDA or OpenCL%s", pn->value, g->series,
				   want ? ", and CUDA is wanted" : "");
		smi_ev(c, pn, "Product Name");
		vdm_check_remedy(c, "give the VM a C-series (compute) or Q-series (workstation) vGPU of the same size "
				 "on the host (change the type in the layout, nvidia-vgpu-dm apply, re-attach)");
	} else {
		c = vdm_doctor_add(d, "guest.profile.cuda", NULL, VDM_CHECK_OK,
				   "%s: %c-series (%s%s, licence %s) runs CUDA", pn->value, g->series, cs->use,
				   mig ? ", MIG-backed" : "", cs->licence);
		smi_ev(c, pn, "Product Name");
	}

	const struct vdm_smi_field *cv = g->smi ? vdm_smi_get(g->smi, -1, "CUDA Version") : NULL;
	if (!cv && g->smi)
		cv = vdm_smi_get(g->smi, -1, "CUDA UMD Version");
	int vp[4];
	if (!vdm_is_version(g->version) || !vdm_version_parse(g->version, vp)) {
		vdm_doctor_add(d, "guest.driver.cuda", NULL, VDM_CHECK_SKIP, "%s",
			       *g->version ? "the driver's version is not a version number"
					   : "no guest driver (guest.driver.loaded)");
		return;
	}
	int top = vdm_driver_cuda_major(g->version);
	if (!want && top) {
		c = vdm_doctor_add(d, "guest.driver.cuda", NULL, VDM_CHECK_OK,
				   "driver %s runs CUDA up to %d.x (ask with --cuda N)", g->version, top);
	} else if (!want) {
		c = vdm_doctor_add(d, "guest.driver.cuda", NULL, VDM_CHECK_WARN,
				   "driver %s is older than any CUDA %d driver (%s)", g->version, vdm_cuda_major_min(),
				   vdm_cuda_min_driver(vdm_cuda_major_min()));
		vdm_check_remedy(c, "install a guest driver of vGPU 11 or later (>= %s) with a matching vGPU Manager",
				 vdm_cuda_min_driver(vdm_cuda_major_min()));
	} else {
		const char *min = vdm_cuda_min_driver(want);
		bool ok = vdm_version_cmp(g->version, min) >= 0;
		c = vdm_doctor_add(d, "guest.driver.cuda", NULL, ok ? VDM_CHECK_OK : VDM_CHECK_FAIL,
				   "CUDA %d needs driver >= %s; this is %s%s", want, min, g->version,
				   ok ? "" : ": too old");
		if (!ok) {
			int mp[4];
			vdm_version_parse(min, mp);
			const char *rel = vdm_branch_release(mp[0]);
			vdm_check_remedy(c, "install a guest driver >= %s (vGPU %s or later) in the VM, with a vGPU Manager "
					 "of the same or a later release on the host", min, rel ? rel : "release");
		}
	}
	smi_ev(c, cv, "CUDA Version");
}

static void check_license_conf(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	int rc;
	struct vdm_check *c;
	if (!needs_licence(g)) {
		static const char *const ids[] = {"guest.license.conf", "guest.license.feature-type",
						  "guest.license.server"};
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			c = vdm_doctor_add(d, ids[i], NULL, VDM_CHECK_SKIP,
					   "a GPU passed through whole with the datacenter driver needs no licence");
			vdm_check_evidence(c, "nvidia-smi -q", "no \"vGPU Software Licensed Product\" section");
		}
		d->no_licence = true;
		return;
	}
	char *text = dr_read(d, GRIDD_CONF, &rc);
	g->conf_present = text != NULL;
	if (!text) {
		c = vdm_doctor_add(d, "guest.license.conf", NULL, VDM_CHECK_FAIL, "%s is missing", dr_path(d, GRIDD_CONF));
		vdm_check_evidence(c, dr_path(d, GRIDD_CONF), "%s", strerror(-rc));
		bool tmpl = vdm_sysfs_exists(d->ctx, "etc/nvidia/gridd.conf.template");
		vdm_check_remedy(c, "%s; set FeatureType=%d; put the client configuration token in "
				 "/etc/nvidia/ClientConfigToken/; " RESTART_GRIDD,
				 tmpl ? "cp /etc/nvidia/gridd.conf.template /etc/nvidia/gridd.conf"
				      : "create /etc/nvidia/gridd.conf (no gridd.conf.template is installed)",
				 wanted_feature_type(g));
		vdm_doctor_add(d, "guest.license.feature-type", NULL, VDM_CHECK_SKIP, "no gridd.conf");
	} else {
		vdm_gridd_parse(text, &g->conf);
		free(text);
		c = vdm_doctor_add(d, "guest.license.conf", NULL, VDM_CHECK_OK, "%s is present", dr_path(d, GRIDD_CONF));
		vdm_check_evidence(c, dr_path(d, GRIDD_CONF), "%d bytes", rc);

		/* FeatureType: 0 unlicensed, 1 vGPU (per type), 2 vWS, 4 vCS (physical GPUs). */
		const struct vdm_gridd_key *ft = &g->conf.feature_type;
		long lv;
		int v = !ft->line ? -1 : vdm_parse_long(ft->value, 10, 0, 4, &lv) == 0 ? (int)lv : 3;
		enum vdm_check_result r = VDM_CHECK_OK;
		const char *why = "";
		if (!ft->line || !*ft->value)
			r = VDM_CHECK_WARN, why = "FeatureType is not set";
		else if (v != 0 && v != 1 && v != 2 && v != 4)
			r = VDM_CHECK_FAIL, why = ": a reserved value";
		else if (v == 0)
			r = VDM_CHECK_FAIL, why = ": the unlicensed state";
		else if (g->vgpu && v == 4 && g->series == 'Q')
			r = VDM_CHECK_FAIL, why = ": Virtual Compute Server cannot license a Q-series vGPU";
		else if (g->vgpu && v == 2 && (g->series == 'A' || g->series == 'B'))
			r = VDM_CHECK_FAIL, why = ": RTX Virtual Workstation is not the licence of an A/B-series vGPU";
		else if (g->vgpu && v != 1)
			r = VDM_CHECK_WARN, why = ": a vGPU takes FeatureType=1 (its licence follows the profile)";
		else if (!g->vgpu && v == 1 && g->smi)
			r = VDM_CHECK_FAIL, why = ": 1 is for vGPUs; a passed-through GPU takes 2 (vWS) or 4 (vCS)";
		if (!ft->line || !*ft->value)
			c = vdm_doctor_add(d, "guest.license.feature-type", NULL, r, "%s", why);
		else
			c = vdm_doctor_add(d, "guest.license.feature-type", NULL, r, "FeatureType=%s%s", ft->value, why);
		if (ft->line)
			vdm_check_evidence(c, dr_path(d, GRIDD_CONF), "line %d: FeatureType=%s", ft->line, ft->value);
		if (r != VDM_CHECK_OK)
			vdm_check_remedy(c, "set FeatureType=%d in /etc/nvidia/gridd.conf, then " RESTART_GRIDD,
					 wanted_feature_type(g));
	}

	/* Where the licence comes from: an NLS client configuration token, or a server address. */
	const char *tokdir = *g->conf.token_path.value ? g->conf.token_path.value + (g->conf.token_path.value[0] == '/')
						      : TOKEN_DIR;
	char **names;
	int n = vdm_sysfs_list(d->ctx, tokdir, &names);
	const char *tok = NULL;
	for (int i = 0; i < n && !tok; i++)
		if (strlen(names[i]) > 4 && !strcmp(names[i] + strlen(names[i]) - 4, ".tok"))
			tok = names[i];
	if (tok) {
		c = vdm_doctor_add(d, "guest.license.server", NULL, VDM_CHECK_OK, "NLS client configuration token %s", tok);
		vdm_check_evidence(c, dr_path(d, tokdir), "%s", tok);
	} else if (*g->conf.server_address.value) {
		c = vdm_doctor_add(d, "guest.license.server", NULL, VDM_CHECK_OK, "license server %s",
				   g->conf.server_address.value);
		vdm_check_evidence(c, dr_path(d, GRIDD_CONF), "line %d: ServerAddress=%s", g->conf.server_address.line,
				   g->conf.server_address.value);
	} else {
		c = vdm_doctor_add(d, "guest.license.server", NULL, VDM_CHECK_FAIL,
				   "no licence source: no client configuration token and no ServerAddress");
		vdm_check_evidence(c, dr_path(d, tokdir), n < 0 ? "absent" : "no *.tok file");
		vdm_check_remedy(c, "download a client configuration token from your NLS (DLS or CLS) and copy the file "
				 "to /etc/nvidia/ClientConfigToken/ (chmod 744), or set ServerAddress= (legacy server); "
				 "then " RESTART_GRIDD);
	}
	if (n > 0)
		vdm_names_free(names, n);
}

/* TCP connect with a timeout: 0, or -errno. */
static int tcp_connect(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return -EHOSTUNREACH;
	int err = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			err = 0;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int pr = poll(&p, 1, timeout_ms);
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (pr == 0)
				err = -ETIMEDOUT;
			else if (pr < 0)
				err = -errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
				err = -soerr;
			else
				err = 0;
		} else {
			err = -errno;
		}
		close(fd);
		if (!err)
			break;
	}
	freeaddrinfo(res);
	return err;
}

static void check_license_reach(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	const char *addr = g->conf.server_address.value;
	if (d->no_licence) {
		vdm_doctor_add(d, "guest.license.reachable", NULL, VDM_CHECK_SKIP, "no licence needed "
			       "(guest.license.conf)");
		return;
	}
	if (!*addr) {
		vdm_doctor_add(d, "guest.license.reachable", NULL, VDM_CHECK_SKIP, "%s",
			       g->conf_present ? "no ServerAddress (an NLS token names its server itself)"
					       : "no gridd.conf");
		return;
	}
	const char *port = *g->conf.server_port.value ? g->conf.server_port.value : "7070";
	int timeout = d->opts->connect_timeout_ms > 0 ? d->opts->connect_timeout_ms : 2000;
	int rc = tcp_connect(addr, port, timeout);
	struct vdm_check *c;
	if (!rc) {
		c = vdm_doctor_add(d, "guest.license.reachable", NULL, VDM_CHECK_OK, "%s port %s accepts connections",
				   addr, port);
	} else {
		c = vdm_doctor_add(d, "guest.license.reachable", NULL, VDM_CHECK_FAIL,
				   "cannot connect to the license server %s port %s: %s", addr, port,
				   rc == -EHOSTUNREACH ? "unknown host" : strerror(-rc));
		vdm_check_remedy(c, "start the license server (it must stay up while vGPUs run), or fix "
				 "ServerAddress/ServerPort in /etc/nvidia/gridd.conf, or open TCP %s in the firewall", port);
	}
	vdm_check_evidence(c, dr_path(d, GRIDD_CONF), "line %d: ServerAddress=%s", g->conf.server_address.line, addr);
	vdm_check_evidence(c, "connect", "%s:%s within %d ms: %s", addr, port, timeout, rc ? strerror(-rc) : "ok");
}

static void check_license_status(struct gctx *g)
{
	struct vdm_doctor *d = g->d;
	const struct vdm_smi_field *ls = gpu_field(g, "vGPU Software Licensed Product/License Status");
	const struct vdm_smi_field *lp = gpu_field(g, "vGPU Software Licensed Product/Product Name");
	if (!ls) {
		vdm_doctor_add(d, "guest.license.status", NULL, VDM_CHECK_SKIP, "%s",
			       g->smi ? "nvidia-smi -q shows no licence status" : "no nvidia-smi");
		return;
	}
	char expiry[40];
	enum vdm_license_state st = vdm_license_parse(ls->value, expiry, sizeof(expiry));
	struct vdm_check *c;
	if (st == VDM_LIC_LICENSED) {
		c = vdm_doctor_add(d, "guest.license.status", NULL, VDM_CHECK_OK, "Licensed%s%s%s%s",
				   lp ? " for " : "", lp ? lp->value : "", *expiry ? ", expires " : "", expiry);
	} else {
		bool grace = st == VDM_LIC_UNLICENSED_UNRESTRICTED;
		c = vdm_doctor_add(d, "guest.license.status", NULL, grace ? VDM_CHECK_WARN : VDM_CHECK_FAIL, "%s%s",
				   ls->value, grace ? ": full speed for now, degraded once the grace period ends"
						    : ": CUDA work fails or is throttled");
		vdm_check_remedy(c, "fix the guest.license.* findings above, then " RESTART_GRIDD " and read "
				 "journalctl -u nvidia-gridd");
	}
	smi_ev(c, ls, "License Status");
}

void dr_guest_service(struct vdm_doctor *d);
void dr_guest_docker(struct vdm_doctor *d);

void vdm_doctor_guest(struct vdm_doctor *d)
{
	struct gctx g = {.d = d, .gpu = -1};
	g.smi_rc = dr_smi(d, &g.smi);
	check_present(&g);
	check_vgpu(&g);
	check_driver(&g);
	check_cuda(&g);
	check_license_conf(&g);
	check_license_reach(&g);
	check_license_status(&g);
	dr_guest_service(d);
	dr_guest_docker(d);
}
