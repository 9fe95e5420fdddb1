/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia-k8s-vgpu-dm: the Kubernetes node agent. It watches its Node's
 * nvidia.com/vgpu.config label and the mounted config file, and applies the
 * layout the label names through libvgpudm, in-process. Modules:
 *   main.c      flags and environment (upstream's names and defaults), start-up
 *   loop.c      the event loop: node watch (curl multi), signalfd, inotify, timerfd;
 *               LIST + WATCH of the Node (resourceVersion, bookmarks, 410 -> re-list)
 *   watch.c     what a LIST answer or a watch event says (untrusted input)
 *   node.c      label writes (GET + PUT with resourceVersion, retry on 409), operand
 *               pause/restore, waiting for operand pods
 *   reconcile.c one reconcile: parse, assert, pause, apply, restore, state, Event
 *   events.c    events.k8s.io/v1 Events about the Node
 *   clients.c   GPU_CLIENTS_FILE: host systemd services to stop around a MIG change
 *   metrics.c   /metrics, /healthz, /readyz (libmicrohttpd), off unless a port is set
 *   kube.c, kubeconfig.c  the API client
 * Reference: ../shared/reference/kubernetes-agent.md (§1 upstream behaviour).
 */
#ifndef VGPUDM_AGENT_H
#define VGPUDM_AGENT_H

#include <stdbool.h>

#include "base/base.h"
#include "kube.h"

#define LABEL_CONFIG "nvidia.com/vgpu.config"
#define LABEL_STATE "nvidia.com/vgpu.config.state"
#define LABEL_DP "nvidia.com/gpu.deploy.sandbox-device-plugin"
#define LABEL_VAL "nvidia.com/gpu.deploy.sandbox-validator"
#define APP_DP "nvidia-sandbox-device-plugin-daemonset"
#define APP_VAL "nvidia-sandbox-validator"
#define PAUSED "paused-for-vgpu-change"
#define EVENTS_NAMESPACE "default"   /* Events about a Node live there (reference §8) */

#define REQ_TIMEOUT_MS 15000L

struct agent_opts {
	const char *kubeconfig;
	const char *node_name;
	const char *namespace;
	const char *config_file;
	const char *default_config;
	const char *host_root;
	const char *mig_state_file;
	const char *kubelet_service;
	const char *driver_root;
	const char *gpu_clients_file;
	bool with_reboot;
	bool with_shutdown_clients;
	bool debug;
	bool force;                /* remove vGPUs a process holds (never by default) */
	const char *sysfs_root;
	const char *sa_dir;        /* service-account directory (in-cluster) */
	double retry_base_s;       /* first retry delay; doubles up to 30x */
	double pod_wait_s;         /* per operand */
	double watch_timeout_s;    /* timeoutSeconds of a watch; 0 = random 300-600 */
	const char *metrics_port;  /* /metrics and probes: unset or empty = off */
	const char *metrics_addr;  /* their listen address; unset = every address */
};

struct client {
	char *name;                /* a host systemd service */
	bool stopped;              /* stopped by us: start it again */
};

struct agent {
	struct agent_opts o;
	struct vdm_ctx *ctx;
	struct kube *kube;
	struct metrics *metrics;   /* metrics.h; NULL when off */
	int sigfd;                 /* SIGTERM, SIGINT, SIGHUP, SIGQUIT */
	bool stop;                 /* a stop signal was seen */
	char *node_uid;
	struct json_object *node;  /* the newest copy seen (watch, or our own PUT) */

	/* What the node asks for. */
	bool synced;               /* the node has been seen */
	char *label;               /* value of LABEL_CONFIG, NULL when absent or empty */
	bool dirty;                /* something may need a reconcile */

	/* The last reconcile. */
	char *last_key;            /* label and content of the layout it applied or tried */
	bool last_ok;
	int failures;              /* consecutive failures: the retry delay doubles */
	bool retry_armed;
	long retry_ms;             /* the armed retry's delay (retry_delay_ms + jitter) */
	bool retry_due;            /* the retry timer fired: try even if nothing changed */
	bool host_clients_stopped;
	bool after_reboot;         /* the state label read "rebooting" (we rebooted for a MIG
				      mode change): never reboot again until an apply succeeds */
	struct client *clients;    /* GPU_CLIENTS_FILE */
	size_t n_clients;
	struct gate *gate;         /* gate.c: held while the operands are paused */
};

/* gate.c: while we hold the operands paused, put back the GPU Operator's
 * vGPU-manager gate files (host /run/nvidia/validations/{host-,}vgpu-manager-ready)
 * that the paused validator's preStop removes, so that a new agent pod gets
 * past its init container. gate_hold notes which exist and starts a thread;
 * gate_release stops it. Both are no-ops when there is nothing to hold. */
void gate_hold(struct agent *a);
void gate_release(struct agent *a);

/* node.c */
struct json_object;
/* Edit a node's labels (a JSON object) in place; return true if changed. */
typedef bool (*node_edit_fn)(struct json_object *labels, void *ud);
/* Take the newest copy of the node (the watch's, else GET), edit, PUT with
 * its resourceVersion; on 409 read it again and redo, up to 10 times. 0 (also when nothing changed), or -1 with *err. */
int node_edit(struct agent *a, node_edit_fn fn, void *ud, char **err);
/* Set the state label and, with pause, pause the operands (one write);
 * without pause, restore paused operands (one write). state may be NULL. */
int node_set(struct agent *a, const char *state, bool pause, char **err);
/* Wait until no pod of either operand runs on this node. 0, -ETIMEDOUT,
 * -EINTR (stop signal), or -1 with *err. */
int node_wait_operands(struct agent *a, char **err);
const char *node_label(struct json_object *node, const char *key);
/* Keep this copy of the node (a reference is taken; NULL forgets). */
void node_cache(struct agent *a, struct json_object *node);

/* events.c: post an Event about the node; failures are only logged. A
 * repeat within 6 min updates the first one's series count; at most 25
 * requests at once, then one per 5 min (client-go's defaults). */
void event_post(struct agent *a, bool warning, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void events_free(void);

/* reconcile.c: one reconcile of the node's wish with the host. */
void reconcile(struct agent *a);
/* Delay before the next retry (ms), from the failure count. */
long retry_delay_ms(const struct agent *a);

/* loop.c */
int agent_run(struct agent *a);

/* watch.c: the node's LIST and WATCH answers. */
struct watch_pos {
	char *rv;                  /* resourceVersion to watch from */
	bool relist;               /* an ERROR event: list again */
	bool progress;             /* an ADDED/MODIFIED/DELETED/BOOKMARK event came */
	int events;                /* events read on this watch */
};
/* One line of the node watch (len bytes, NUL-terminated). 1: end this
 * watch (an ERROR event: w->relist); 0: go on. A line that is not a watch
 * event (not JSON, type not a string, object not an object...) is logged
 * and skipped. */
int watch_event(struct agent *a, struct watch_pos *w, const char *line, size_t len);
/* A LIST answer (any JSON, or NULL): its resourceVersion, and the node
 * when it is there (true). */
bool watch_list(struct agent *a, struct watch_pos *w, struct json_object *resp);
void watch_pos_free(struct watch_pos *w);
/* Take the node object seen by LIST or WATCH. */
void agent_node_seen(struct agent *a, struct json_object *node);

/* Where `chroot ... systemctl|reboot` goes: HOST_ROOT_MOUNT as given (upstream
 * chroots there whatever it is), else the host root the library found. */
static inline const char *agent_host_root(const struct agent *a)
{
	return a->o.host_root && *a->o.host_root ? a->o.host_root : vdm_ctx_host_root(a->ctx);
}

/* clients.c: GPU_CLIENTS_FILE. Parse it (at start); stop the active
 * services (WITH_SHUTDOWN_HOST_GPU_CLIENTS) and start again those stopped. */
int clients_validate(struct agent *a, char **err);
/* A valid systemd unit name for s (".service" added when it has no unit
 * type suffix), malloc'd; NULL with *why (static) when s is not one. */
char *clients_unit_name(const char *s, const char **why);
int clients_stop(struct agent *a, char **err);
void clients_start(struct agent *a);
void clients_free(struct agent *a);
/* WITH_REBOOT: run `chroot HOST_ROOT_MOUNT reboot`. 0, or -1 with *err. */
int host_reboot(struct agent *a, char **err);

#endif
