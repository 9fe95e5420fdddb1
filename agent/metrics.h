/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: the agent's HTTP endpoint (libmicrohttpd, its own thread), off
 * unless --metrics-port / $VGPU_DM_METRICS_PORT is set.
 *   GET /metrics  Prometheus text exposition format 0.0.4
 *                 (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *                 state, applies, failures by reason, apply seconds (histogram),
 *                 vGPUs by type, last success time
 *   GET /healthz  liveness: 200 when the event loop answers a ping within 5 s,
 *                 or is busy (a reconcile, a request) for less than the busy
 *                 limit; else 503
 *   GET /readyz   readiness: 200 once this process has finished its first
 *                 reconcile (the state label written) and its node watch is
 *                 open; else 503
 * Every function is a no-op when the endpoint is off. The main thread
 * writes, the HTTP thread reads, under one mutex.
 */
#ifndef VGPUDM_AGENT_METRICS_H
#define VGPUDM_AGENT_METRICS_H

#include <stdbool.h>

struct agent;

/* Start serving on addr (NULL or "": every address) and port (0: any free
 * one; the port taken is logged). 0, or -1 with *err (malloc'd). */
int metrics_start(struct agent *a, const char *addr, int port, char **err);
void metrics_stop(struct agent *a);
/* The fd the event loop polls for liveness pings (-1 when off), and its
 * answer once the fd is readable. */
int metrics_ping_fd(struct agent *a);
void metrics_pong(struct agent *a);
/* The event loop is (not) inside a call that may block (reconcile, LIST). */
void metrics_busy(struct agent *a, bool busy);
/* The node watch is open (readiness). */
void metrics_watching(struct agent *a, bool open);
/* The state label was written (pending, success, failed, rebooting), for
 * the layout config. */
void metrics_state(struct agent *a, const char *state, const char *config);
/* A reconcile ended: ok, or failed with an Event reason. */
void metrics_outcome(struct agent *a, bool ok, const char *reason);
/* An apply (a change of the host) ran for seconds. */
void metrics_apply(struct agent *a, double seconds);
/* Count the host's vGPUs by type (one scan). */
void metrics_host(struct agent *a);

#endif
