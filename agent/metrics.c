/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's /metrics, /healthz and /readyz (metrics.h). */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "host/host.h"

#define PING_WAIT_S 5
#define N_BUCKETS 11
static const double buckets[N_BUCKETS] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
static const char *const states[] = {"pending", "success", "failed", "rebooting"};

struct count {
	char *key;
	double n;
};

struct metrics {
	struct MHD_Daemon *d;
	int efd;                      /* liveness pings to the event loop */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long pings, pongs;
	double busy_since;            /* monotonic seconds, 0: not busy */
	double busy_limit;            /* seconds a busy event loop still counts as live */
	bool reconciled, watching;
	char *state, *config;
	double applies, apply_sum, apply_count, apply_bucket[N_BUCKETS];
	double last_success;          /* unix seconds, 0: never */
	struct count *failures, *vgpus;
	size_t n_failures, n_vgpus;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void counts_free(struct count *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].key);
	free(c);
}

static void count_add(struct count **c, size_t *n, const char *key, double by)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*c)[i].key, key)) {
			(*c)[i].n += by;
			return;
		}
	*c = vdm_xrealloc(*c, *n + 1, sizeof(**c));
	(*c)[*n].key = vdm_xstrdup(key);
	(*c)[*n].n = by;
	(*n)++;
}

/* ---- the exposition ---- */

/* A label value escaped as the text format wants (\\, \", \n). */
static char *esc(const char *v)
{
	char *o = vdm_xcalloc(2 * strlen(v) + 1, 1), *p = o;
	for (; *v; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n')
			*p++ = '\\';
		*p++ = *v == '\n' ? 'n' : *v;
	}
	return o;
}

static void family(FILE *b, const char *name, const char *type, const char *help)
{
	fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labelled(FILE *b, const char *name, const char *label, const struct count *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *v = esc(c[i].key);
		fprintf(b, "%s{%s=\"%s\"} %.17g\n", name, label, v, c[i].n);
		free(v);
	}
}

static char *render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *b = open_memstream(&text, &len);
	if (!b)
		return vdm_xstrdup("");
	family(b, "vgpu_dm_build_info", "gauge", "The agent's version.");
	fprintf(b, "vgpu_dm_build_info{version=\"%s\"} 1\n", VGPUDM_VERSION);
	family(b, "vgpu_dm_state", "gauge",
	       "The node's nvidia.com/vgpu.config.state as this agent last wrote it (1 for that state).");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		fprintf(b, "vgpu_dm_state{state=\"%s\"} %d\n", states[i], m->state && !strcmp(m->state, states[i]));
	family(b, "vgpu_dm_selected_config_info", "gauge", "The vGPU config the agent last applied or tried.");
	if (m->config) {
		char *v = esc(m->config);
		fprintf(b, "vgpu_dm_selected_config_info{config=\"%s\"} 1\n", v);
		free(v);
	}
	family(b, "vgpu_dm_applies_total", "counter", "Applies that changed (or tried to change) the host.");
	fprintf(b, "vgpu_dm_applies_total %.17g\n", m->applies);
	family(b, "vgpu_dm_failures_total", "counter",
	       "Reconciles that ended with state failed, by the reason of their Event.");
	labelled(b, "vgpu_dm_failures_total", "reason", m->failures, m->n_failures);
	family(b, "vgpu_dm_apply_duration_seconds", "histogram", "How long each apply took.");
	for (int i = 0; i < N_BUCKETS; i++)
		fprintf(b, "vgpu_dm_apply_duration_seconds_bucket{le=\"%g\"} %.17g\n", buckets[i], m->apply_bucket[i]);
	fprintf(b, "vgpu_dm_apply_duration_seconds_bucket{le=\"+Inf\"} %.17g\n", m->apply_count);
	fprintf(b, "vgpu_dm_apply_duration_seconds_sum %.17g\n", m->apply_sum);
	fprintf(b, "vgpu_dm_apply_duration_seconds_count %.17g\n", m->apply_count);
	family(b, "vgpu_dm_vgpus", "gauge", "vGPUs on the host by type, after the last reconcile.");
	labelled(b, "vgpu_dm_vgpus", "type", m->vgpus, m->n_vgpus);
	family(b, "vgpu_dm_last_success_timestamp_seconds", "gauge",
	       "When a reconcile last ended with state success (Unix time; 0: never).");
	fprintf(b, "vgpu_dm_last_success_timestamp_seconds %.3f\n", m->last_success);
	fclose(b);
	return text ? text : vdm_xstrdup("");
}

/* ---- probes ---- */

/* Live: the event loop is busy for less than the limit, or answers a ping. */
static bool live(struct metrics *m, char **why)
{
	pthread_mutex_lock(&m->mu);
	bool ok;
	if (m->busy_since > 0) {
		double busy = mono() - m->busy_since;
		ok = busy < m->busy_limit;
		*why = vdm_strdupf("busy for %.0f s (limit %.0f s)", busy, m->busy_limit);
	} else {
		unsigned long want = ++m->pings;
		uint64_t one = 1;
		if (write(m->efd, &one, sizeof(one)) < 0) {
			/* the counter is full: pings are pending anyway */
		}
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += PING_WAIT_S;
		while (m->pongs < want && m->busy_since == 0 &&
		       pthread_cond_timedwait(&m->cv, &m->mu, &until) == 0) {
		}
		ok = m->pongs >= want || (m->busy_since > 0 && mono() - m->busy_since < m->busy_limit);
		*why = vdm_xstrdup(ok ? "the event loop answers" : "the event loop does not answer");
	}
	pthread_mutex_unlock(&m->mu);
	return ok;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	struct metrics *m = cls;
	static int first;
	if (!*state) { /* the headers: answer once the request is complete */
		*state = &first;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	const char *text = "text/plain; charset=utf-8";
	bool head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, vdm_xstrdup("only GET\n"));
	if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&m->mu);
		char *body = render(m);
		pthread_mutex_unlock(&m->mu);
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body);
	}
	if (!strcmp(url, "/healthz") || !strcmp(url, "/livez")) {
		char *why = NULL;
		bool ok = live(m, &why);
		char *body = vdm_strdupf("%s: %s\n", ok ? "ok" : "not live", why);
		free(why);
		return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text, body);
	}
	if (!strcmp(url, "/readyz")) {
		pthread_mutex_lock(&m->mu);
		bool ok = m->reconciled && m->watching;
		char *body = vdm_strdupf("%s: %s\n", ok ? "ok" : "not ready",
					 !m->reconciled ? "the node's vGPU config was not reconciled yet"
					 : !m->watching ? "the node watch is not open"
							: "reconciled, watching the node");
		pthread_mutex_unlock(&m->mu);
		return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text, body);
	}
	return reply(c, MHD_HTTP_NOT_FOUND, text, vdm_xstrdup("not found: /metrics, /healthz, /readyz\n"));
}

/* ---- the agent's side ---- */

int metrics_start(struct agent *a, const char *addr, int port, char **err)
{
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = in6addr_any};
	struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr *sa = (struct sockaddr *)&sa6;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (addr && *addr) {
		if (inet_pton(AF_INET, addr, &sa4.sin_addr) == 1) {
			sa = (struct sockaddr *)&sa4;
		} else if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
			flags |= MHD_USE_IPv6;
		} else {
			*err = vdm_strdupf("--metrics-address %s: not an IPv4 or IPv6 address", addr);
			return -1;
		}
	} else {
		flags |= MHD_USE_DUAL_STACK;
	}
	struct metrics *m = vdm_xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* A reconcile waits for each operand's pods, then applies (MIG changes
	 * and sriov-manage have their own timeouts): 30 min more is wedged. */
	m->busy_limit = 2 * a->o.pod_wait_s + 1800;
	m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->metrics = m;
	if (m->efd >= 0)
		m->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR, sa,
					MHD_OPTION_CONNECTION_LIMIT, 16U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
					MHD_OPTION_END);
	if (!m->d) {
		*err = vdm_strdupf("cannot serve /metrics on %s%s%s:%d: %s", addr && strchr(addr, ':') ? "[" : "",
				   addr && *addr ? addr : "*", addr && strchr(addr, ':') ? "]" : "", port,
				   errno ? strerror(errno) : "libmicrohttpd failed");
		metrics_stop(a);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	vdm_info(a->ctx, "serving /metrics, /healthz and /readyz on %s:%u", addr && *addr ? addr : "*",
		 di ? di->port : (unsigned)port);
	return 0;
}

void metrics_stop(struct agent *a)
{
	struct metrics *m = a->metrics;
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	if (m->efd >= 0)
		close(m->efd);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m->state);
	free(m->config);
	counts_free(m->failures, m->n_failures);
	counts_free(m->vgpus, m->n_vgpus);
	free(m);
	a->metrics = NULL;
}

int metrics_ping_fd(struct agent *a)
{
	return a->metrics ? a->metrics->efd : -1;
}

void metrics_pong(struct agent *a)
{
	struct metrics *m = a->metrics;
	uint64_t n;
	if (!m || read(m->efd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&m->mu);
	m->pongs = m->pings;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

void metrics_busy(struct agent *a, bool busy)
{
	struct metrics *m = a->metrics;
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->busy_since = busy ? mono() : 0;
	if (!busy) /* answered by coming back */
		m->pongs = m->pings;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

void metrics_watching(struct agent *a, bool open)
{
	struct metrics *m = a->metrics;
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->watching = open;
	pthread_mutex_unlock(&m->mu);
}

void metrics_state(struct agent *a, const char *state, const char *config)
{
	struct metrics *m = a->metrics;
	if (!m || !state)
		return;
	pthread_mutex_lock(&m->mu);
	free(m->state);
	m->state = vdm_xstrdup(state);
	if (config) {
		free(m->config);
		m->config = vdm_xstrdup(config);
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_outcome(struct agent *a, bool ok, const char *reason)
{
	struct metrics *m = a->metrics;
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->reconciled = true;
	if (ok)
		m->last_success = (double)time(NULL);
	else
		count_add(&m->failures, &m->n_failures, reason ? reason : "Unknown", 1);
	pthread_mutex_unlock(&m->mu);
}

void metrics_apply(struct agent *a, double seconds)
{
	struct metrics *m = a->metrics;
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->applies++;
	m->apply_sum += seconds;
	m->apply_count++;
	for (int i = 0; i < N_BUCKETS; i++)
		if (seconds <= buckets[i])
			m->apply_bucket[i]++;
	pthread_mutex_unlock(&m->mu);
}

void metrics_host(struct agent *a)
{
	struct metrics *m = a->metrics;
	if (!m)
		return;
	struct vdm_host *h = NULL;
	char *err = NULL;
	if (vdm_host_scan(a->ctx, &h, &err) < 0) {
		vdm_warn(a->ctx, "metrics: cannot count the host's vGPUs: %s", err);
		free(err);
		return;
	}
	struct count *c = NULL;
	size_t n = 0;
	for (size_t g = 0; g < h->n_gpus; g++) {
		const struct vdm_gpu *gpu = &h->gpus[g];
		for (size_t i = 0; i < gpu->n_vgpus; i++) {
			int t = gpu->vgpus[i].type;
			count_add(&c, &n, t >= 0 && (size_t)t < gpu->n_types ? gpu->types[t].name : "unknown", 1);
		}
	}
	vdm_host_free(h);
	pthread_mutex_lock(&m->mu);
	counts_free(m->vgpus, m->n_vgpus);
	m->vgpus = c;
	m->n_vgpus = n;
	pthread_mutex_unlock(&m->mu);
}
