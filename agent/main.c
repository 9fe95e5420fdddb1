/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia-k8s-vgpu-dm: flags and environment variables with upstream's names
 * and defaults (reference §1.2), then the event loop. Each flag also reads
 * its environment variable; a flag on the command line wins.
 */
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "apply/apply.h"
#include "metrics.h"

enum kind { STR, BOOL, SECS };

struct flag {
	const char *name, *alias, *env;
	enum kind kind;
	void *dest;
	const char *help;
};

static struct timespec t0;

/* One log line a message: what the server, a file or a label sent may hold
 * any byte, so control bytes (a CR or LF would forge a line, ESC drives the
 * terminal) are written as \xNN. */
static void log_cb(struct vdm_ctx *ctx, int prio, const char *msg, void *ud)
{
	(void)ctx;
	(void)ud;
	const char *lvl = prio <= VDM_LOG_ERR ? "ERRO" : prio == VDM_LOG_WARN ? "WARN"
					       : prio <= VDM_LOG_INFO ? "INFO" : "DEBU";
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	flockfile(stderr);
	fprintf(stderr, "%s[%04ld] ", lvl, (long)(now.tv_sec - t0.tv_sec));
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			putc_unlocked(*p, stderr);
	putc_unlocked('\n', stderr);
	funlockfile(stderr);
}

/* RFC 1123 names as Kubernetes checks them: a label (namespace) is at most
 * 63 of [a-z0-9-], alphanumeric at both ends; a subdomain (node name) is
 * such labels joined by dots, at most 253. */
static bool dns1123(const char *s, bool subdomain)
{
	size_t n = strlen(s), run = 0;
	if (!n || n > (subdomain ? 253u : 63u))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (c == '.' && subdomain) {
			if (!run || s[i - 1] == '-')
				return false;
			run = 0;
			continue;
		}
		if (!alnum && c != '-')
			return false;
		if (c == '-' && !run)
			return false;
		run++;
	}
	return s[n - 1] != '-' && s[n - 1] != '.';
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("Error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, t[i]))
			return *out = true, true;
		if (!strcmp(s, f[i]))
			return *out = false, true;
	}
	return false;
}

static bool set(const struct flag *f, const char *v, const char *from)
{
	if (f->kind == STR) {
		*(const char **)f->dest = v;
		return true;
	}
	if (f->kind == BOOL) {
		if (parse_bool(v, f->dest))
			return true;
		fatal("invalid value \"%s\" for %s: parse error", v, from);
		return false;
	}
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d < 0 || d > 86400) {
		fatal("invalid value \"%s\" for %s: seconds from 0 to 86400", v, from);
		return false;
	}
	*(double *)f->dest = d;
	return true;
}

static void usage(const struct flag *flags)
{
	printf("NAME:\n   nvidia-k8s-vgpu-dm - NVIDIA vGPU Device Manager for Kubernetes: applies the "
	       "vGPU layout the node label %s names\n\nUSAGE:\n   nvidia-k8s-vgpu-dm [options]\n\n"
	       "OPTIONS:\n", LABEL_CONFIG);
	for (const struct flag *f = flags; f->name; f++) {
		char lhs[80];
		snprintf(lhs, sizeof(lhs), "--%s%s%s%s", f->name, f->alias ? ", " : "",
			 f->alias ? (strlen(f->alias) == 1 ? "-" : "--") : "", f->alias ? f->alias : "");
		printf("   %-42s %s", lhs, f->help);
		if (f->env)
			printf(" [$%s]", f->env);
		putchar('\n');
	}
	printf("   %-42s %s\n   %-42s %s\n", "--help, -h", "show help", "--version, -v", "print the version");
}

/* 0 go on, 1 done (help/version), -1 error */
static int parse(int argc, char **argv, const struct flag *flags)
{
	for (const struct flag *f = flags; f->name; f++) {
		const char *v = f->env ? getenv(f->env) : NULL;
		if (v && *v && !set(f, v, f->env))
			return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(flags);
			return 1;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
			printf("nvidia-k8s-vgpu-dm version %s\n", VGPUDM_VERSION);
			return 1;
		}
		if (a[0] != '-' || !a[1]) {
			fatal("unexpected argument '%s' (see --help)", a);
			return -1;
		}
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct flag *f = NULL;
		for (const struct flag *g = flags; g->name && !f; g++)
			if ((strlen(g->name) == len && !strncmp(g->name, name, len)) ||
			    (g->alias && strlen(g->alias) == len && !strncmp(g->alias, name, len)))
				f = g;
		if (!f) {
			fatal("flag provided but not defined: -%.*s", (int)len, name);
			return -1;
		}
		if (eq) {
			if (!set(f, eq + 1, a))
				return -1;
		} else if (f->kind == BOOL) {
			*(bool *)f->dest = true;
		} else if (i + 1 >= argc) {
			fatal("flag needs an argument: %s", a);
			return -1;
		} else if (!set(f, argv[++i], a)) {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct agent a = {.sigfd = -1};
	struct agent_opts *o = &a.o;
	o->mig_state_file = "/etc/systemd/system/nvidia-mig-manager.service.d/override.conf";
	o->kubelet_service = "kubelet.service";
	o->sa_dir = KUBE_SA_DIR;
	o->retry_base_s = 10;
	o->pod_wait_s = 120;
	const struct flag flags[] = {
		{"kubeconfig", NULL, "KUBECONFIG", STR, &o->kubeconfig, "absolute path to the kubeconfig file (default: in-cluster)"},
		{"node-name", "n", "NODE_NAME", STR, &o->node_name, "the name of the node to watch for label changes on"},
		{"namespace", "ns", "NAMESPACE", STR, &o->namespace, "the namespace the GPU Operator operands run in"},
		{"config-file", "f", "CONFIG_FILE", STR, &o->config_file, "the path to the vGPU configuration file"},
		{"default-vgpu-config", "d", "DEFAULT_VGPU_CONFIG", STR, &o->default_config, "the default vGPU config to use if no label is set"},
		{"host-root-mount", "m", "HOST_ROOT_MOUNT", STR, &o->host_root, "container path where the host root is mounted (default /host when it is a mount point, else /)"},
		{"host-mig-manager-state-file", "o", "HOST_MIG_MANAGER_STATE_FILE", STR, &o->mig_state_file, "host path of the mig-manager systemd drop-in holding its selected config"},
		{"host-kubelet-systemd-service", "k", "HOST_KUBELET_SYSTEMD_SERVICE", STR, &o->kubelet_service, "name of the host's kubelet systemd service (default kubelet.service)"},
		{"driver-root-ctr-path", "a", "DRIVER_ROOT_CTR_PATH", STR, &o->driver_root, "container path of the driver root, searched first for NVML and sriov-manage (default /driver-root)"},
		{"gpu-clients-file", "g", "GPU_CLIENTS_FILE", STR, &o->gpu_clients_file, "YAML file listing the host systemd services that use the GPUs"},
		{"with-reboot", "r", "WITH_REBOOT", BOOL, &o->with_reboot, "reboot the node if a GPU mode change needs it"},
		{"with-shutdown-host-gpu-clients", "w", "WITH_SHUTDOWN_HOST_GPU_CLIENTS", BOOL, &o->with_shutdown_clients, "stop the host GPU clients while GPU modes change"},
		{"sysfs-root", NULL, "VGPU_DM_SYSFS_ROOT", STR, &o->sysfs_root, "find the host's /sys (and, without --host-root-mount, every host path) under this directory"},
		{"debug", NULL, "VGPU_DM_DEBUG", BOOL, &o->debug, "debug-level logging"},
		{"force", NULL, "VGPU_DM_FORCE", BOOL, &o->force, "remove vGPUs even when a process (a VM) holds them"},
		{"retry-backoff", NULL, "VGPU_DM_RETRY_BACKOFF", SECS, &o->retry_base_s, "first retry delay after a failure, doubling up to 30x (default 10)"},
		{"pod-wait-timeout", NULL, "VGPU_DM_POD_WAIT_TIMEOUT", SECS, &o->pod_wait_s, "how long to wait for each operand's pods to go (default 120)"},
		{"watch-timeout", NULL, "VGPU_DM_WATCH_TIMEOUT", SECS, &o->watch_timeout_s, "timeoutSeconds of each node watch (default: random 300-600)"},
		{"service-account-dir", NULL, "VGPU_DM_SERVICE_ACCOUNT_DIR", STR, &o->sa_dir, "in-cluster credentials directory (default " KUBE_SA_DIR ")"},
		{"metrics-port", NULL, "VGPU_DM_METRICS_PORT", STR, &o->metrics_port, "serve /metrics, /healthz and /readyz on this TCP port (0: any free one; default: off)"},
		{"metrics-address", NULL, "VGPU_DM_METRICS_ADDRESS", STR, &o->metrics_addr, "listen address of --metrics-port (default: every address)"},
		{NULL, NULL, NULL, STR, NULL, NULL},
	};
	int rc = parse(argc, argv, flags);
	if (rc)
		return rc > 0 ? 0 : 1;
	static const struct {
		const char *flag, *env;
		size_t off;
	} required[] = {
		{"node-name", "NODE_NAME", offsetof(struct agent_opts, node_name)},
		{"namespace", "NAMESPACE", offsetof(struct agent_opts, namespace)},
		{"config-file", "CONFIG_FILE", offsetof(struct agent_opts, config_file)},
		{"default-vgpu-config", "DEFAULT_VGPU_CONFIG", offsetof(struct agent_opts, default_config)},
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *v = *(const char **)((char *)o + required[i].off);
		if (!v || !*v) {
			fatal("invalid --%s flag: must not be empty (set it or $%s)", required[i].flag,
			      required[i].env);
			return 1;
		}
	}
	if (!dns1123(o->node_name, true)) {
		fatal("invalid --node-name \"%s\": a Node name is a DNS subdomain (RFC 1123: lower-case "
		      "letters, digits, '-' and '.', at most 253)", o->node_name);
		return 1;
	}
	if (!dns1123(o->namespace, false)) {
		fatal("invalid --namespace \"%s\": a namespace is a DNS label (RFC 1123: lower-case "
		      "letters, digits and '-', at most 63)", o->namespace);
		return 1;
	}
	if (o->retry_base_s <= 0 || o->pod_wait_s <= 0) {
		fatal("--retry-backoff and --pod-wait-timeout must be more than 0 seconds");
		return 1;
	}
	long metrics_port = -1;
	if (o->metrics_port && *o->metrics_port) {
		char *end;
		metrics_port = strtol(o->metrics_port, &end, 10);
		if (*end || end == o->metrics_port || metrics_port < 0 || metrics_port > 65535) {
			fatal("invalid --metrics-port \"%s\": a TCP port from 0 to 65535", o->metrics_port);
			return 1;
		}
	}

	char *err = NULL;
	struct vdm_roots roots = {o->sysfs_root, o->host_root, o->driver_root};
	if (vdm_ctx_open(&a.ctx, &roots, &err) < 0) {
		fatal("%s", err);
		free(err);
		return 1;
	}
	vdm_ctx_set_log(a.ctx, o->debug ? VDM_LOG_DEBUG : VDM_LOG_INFO, log_cb, NULL);
	if (clients_validate(&a, &err) < 0) {
		fatal("%s", err);
		free(err);
		clients_free(&a);
		vdm_ctx_free(a.ctx);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct kube_conf kc;
	rc = o->kubeconfig && *o->kubeconfig ? kube_conf_kubeconfig(&kc, o->kubeconfig, &err)
					     : kube_conf_incluster(&kc, o->sa_dir, &err);
	if (rc < 0) {
		fatal("%s", err);
		free(err);
		clients_free(&a);
		vdm_ctx_free(a.ctx);
		curl_global_cleanup();
		return 1;
	}
	vdm_info(a.ctx, "Starting nvidia-k8s-vgpu-dm %s: node %s, API server %s (%s), config %s, default "
		 "%s", VGPUDM_VERSION, o->node_name, kc.server, kc.source, o->config_file, o->default_config);
	char *where = vdm_run_describe(a.ctx);
	vdm_info(a.ctx, "host: %s", where);
	free(where);
	if (kc.insecure)
		vdm_warn(a.ctx, "insecure-skip-tls-verify is set in %s: the API server's certificate is "
			 "not checked, anyone on the path can read and change what the agent sees",
			 kc.source);
	a.kube = kube_new(&kc);
	if (!a.kube) {
		fatal("out of memory");
		clients_free(&a);
		vdm_ctx_free(a.ctx);
		curl_global_cleanup();
		return 1;
	}

	/* Stop signals are read from a signalfd: an apply is never cut short. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.sigfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	kube_set_stop_fd(a.kube, a.sigfd);
	srandom((unsigned)(t0.tv_nsec ^ getpid()));

	/* After the signal mask: the HTTP thread inherits it (a stop signal must
	 * reach the signalfd, never kill the process from that thread). */
	/* A port that cannot be bound is logged, not fatal: the agent's work
	 * goes on, and the probes that fail say so to the kubelet. */
	if (metrics_port >= 0 && metrics_start(&a, o->metrics_addr, (int)metrics_port, &err) < 0) {
		vdm_err(a.ctx, "%s: running without /metrics and probes", err);
		free(err);
	}
	rc = agent_run(&a);
	if (!a.stop) /* a stop signal: what follows ends within a second */
		kube_stop_now(a.kube);
	struct signalfd_siginfo si;
	if (read(a.sigfd, &si, sizeof(si)) == sizeof(si))
		vdm_info(a.ctx, "received %s: stopping", strsignal((int)si.ssi_signo));
	/* On the way out, whatever happened: paused operands go back to true. */
	if (node_set(&a, NULL, false, &err) < 0) {
		vdm_err(a.ctx, "cannot restore the operand labels on the way out: %s", err);
		free(err);
	}
	if (a.host_clients_stopped)
		clients_start(&a);
	clients_free(&a);
	metrics_stop(&a);
	close(a.sigfd);
	kube_free(a.kube);
	free(a.label);
	free(a.last_key);
	free(a.node_uid);
	node_cache(&a, NULL);
	events_free();
	vdm_ctx_free(a.ctx);
	curl_global_cleanup();
	return rc < 0 ? 1 : 0;
}
