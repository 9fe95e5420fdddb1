/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event loop. One poll (curl_multi_poll) over the node watch's socket,
 * a signalfd (stop signals), an inotify fd (the config directory: the
 * kubelet swaps the ConfigMap's ..data symlink) and a timerfd (retry or
 * reconnect). Idle, the process sleeps there: no timer runs while the watch
 * is open, apart from the transfer's own deadline (timeoutSeconds + 30 s).
 *
 * The watch (reference §4.1): LIST the node (fieldSelector
 * metadata.name=NODE), then WATCH from the list's resourceVersion with
 * allowWatchBookmarks and timeoutSeconds. A stream the server ends is
 * watched again from the last resourceVersion; 410 Gone or an ERROR event
 * lists again. Every way back to the server waits (capped, jittered
 * backoff: 0.25-0.5 s doubling to 15-30 s) unless the watch just ended made
 * progress (delivered an event or bookmark, or lasted 10 s): a server that
 * answers every watch with 410 or an ERROR sees a few requests a minute,
 * not thousands a second. A LIST that succeeds is no progress by itself.
 * Changes that arrive while an apply runs are read afterwards; only the
 * newest label value counts.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent.h"
#include "metrics.h"

enum wstate { W_LIST, W_WATCH, W_WATCHING, W_WAIT_LIST, W_WAIT_WATCH };

#define PROGRESS_MS 10000L /* a watch this long made progress, events or not */

struct loop {
	struct agent *a;
	CURLM *multi;
	struct kube_stream *stream;
	enum wstate ws;
	struct watch_pos w;
	struct kube_backoff bo; /* LIST and WATCH */
	long started;         /* when the current watch started */
	int tfd_retry, tfd_conn, ifd;
	char *cfg_dir, *cfg_base;
};

static int watch_line(void *ud, const char *line, size_t len)
{
	struct loop *l = ud;
	return watch_event(l->a, &l->w, line, len);
}

static void arm(int tfd, long ms)
{
	struct itimerspec its = {0};
	if (ms > 0) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000;
	}
	timerfd_settime(tfd, 0, &its, NULL);
}

static void conn_failed(struct loop *l, enum wstate next, const char *why)
{
	long ms = kube_backoff_next(&l->bo);
	vdm_warn(l->a->ctx, "%s; trying again in %.1fs", why, ms / 1000.0);
	l->ws = next;
	arm(l->tfd_conn, ms);
}

static char *node_selector(struct agent *a)
{
	char *sel = vdm_strdupf("metadata.name=%s", a->o.node_name);
	char *e = kube_escape(sel);
	free(sel);
	return e;
}

static void do_list(struct loop *l)
{
	struct agent *a = l->a;
	char *sel = node_selector(a), *err = NULL;
	char *path = vdm_strdupf("/api/v1/nodes?fieldSelector=%s", sel);
	struct json_object *resp = NULL;
	int st = kube_request(a->kube, "GET", path, NULL, REQ_TIMEOUT_MS, &resp, &err);
	free(path);
	free(sel);
	if (st != 200) {
		char *m = st > 0 ? kube_status_message(st, resp) : NULL;
		char *why = vdm_strdupf("cannot list node %s: %s", a->o.node_name, m ? m : err);
		conn_failed(l, W_WAIT_LIST, why);
		free(why), free(m), free(err);
		json_object_put(resp);
		return;
	}
	if (!watch_list(a, &l->w, resp))
		vdm_warn(a->ctx, "node %s not found: waiting for it to appear", a->o.node_name);
	json_object_put(resp);
	l->ws = W_WATCH;
}

static void start_watch(struct loop *l)
{
	struct agent *a = l->a;
	long t = a->o.watch_timeout_s > 0 ? (long)a->o.watch_timeout_s : 300 + random() % 301;
	char *sel = node_selector(a), *rv = kube_escape(l->w.rv ? l->w.rv : ""), *err = NULL;
	char *path = vdm_strdupf("/api/v1/nodes?allowWatchBookmarks=true&fieldSelector=%s&"
				 "resourceVersion=%s&timeoutSeconds=%ld&watch=true", sel, rv, t);
	free(sel);
	free(rv);
	l->w.relist = false;
	l->w.progress = false;
	l->w.events = 0;
	l->started = kube_now_ms();
	l->stream = kube_stream_start(a->kube, l->multi, path, t + 30, watch_line, l, &err);
	free(path);
	if (!l->stream) {
		conn_failed(l, W_WAIT_LIST, err);
		free(err);
		return;
	}
	l->ws = W_WATCHING;
}

static void watch_ended(struct loop *l, CURLcode res)
{
	char *err = NULL;
	int st = kube_stream_result(l->stream, res, &err);
	bool stopped = kube_stream_stopped(l->stream);
	long lasted = kube_now_ms() - l->started;
	kube_stream_free(l->stream);
	l->stream = NULL;
	bool progress = l->w.progress || lasted >= PROGRESS_MS;
	if (progress)
		kube_backoff_reset(&l->bo);
	const char *why = NULL;
	char *msg = NULL;
	enum wstate next = W_LIST;
	if (l->w.relist) {
		why = "node watch: ERROR event";
	} else if (st == 410) {
		vdm_info(l->a->ctx, "node watch: resourceVersion too old (410 Gone): listing again");
		why = "node watch: 410 Gone";
	} else if (st == 200 && !stopped) {
		/* the server ended the watch (timeoutSeconds): watch again from rv */
		next = W_WATCH;
		why = "node watch closed without an event";
	} else if (st < 0) {
		next = W_WATCH;
		why = msg = vdm_strdupf("node watch: %s", err ? err : "failed");
		progress = false; /* a lost connection always waits a little */
	} else {
		why = msg = vdm_strdupf("node watch: %s", err ? err : "failed");
		progress = false;
	}
	if (progress)
		l->ws = next;
	else
		conn_failed(l, next == W_LIST ? W_WAIT_LIST : W_WAIT_WATCH, why);
	free(msg);
	free(err);
}

/* Read the inotify events; true if the config file may have changed. */
static bool config_event(struct loop *l)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;
	while ((n = read(l->ifd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (e->len && (!strcmp(e->name, "..data") || !strcmp(e->name, l->cfg_base)))
				hit = true;
			p += sizeof(*e) + e->len;
		}
	return hit;
}

static void drain(struct loop *l)
{
	for (int i = 0; i < 64 && l->stream; i++) {
		int n = 0, running;
		curl_multi_poll(l->multi, NULL, 0, 0, &n);
		curl_multi_perform(l->multi, &running);
		if (n == 0)
			break;
	}
}

static void handle_curl(struct loop *l)
{
	int running, q;
	curl_multi_perform(l->multi, &running);
	CURLMsg *m;
	while ((m = curl_multi_info_read(l->multi, &q)))
		if (m->msg == CURLMSG_DONE && l->stream && m->easy_handle == kube_stream_easy(l->stream))
			watch_ended(l, m->data.result);
}

static int setup(struct loop *l, struct agent *a)
{
	l->a = a;
	l->multi = curl_multi_init();
	l->tfd_retry = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->tfd_conn = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (!l->multi || l->tfd_retry < 0 || l->tfd_conn < 0 || l->ifd < 0) {
		vdm_err(a->ctx, "cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	char *d = vdm_xstrdup(a->o.config_file), *b = vdm_xstrdup(a->o.config_file);
	l->cfg_dir = vdm_xstrdup(dirname(d));
	l->cfg_base = vdm_xstrdup(basename(b));
	free(d);
	free(b);
	if (inotify_add_watch(l->ifd, l->cfg_dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE |
						      IN_MOVED_FROM) < 0)
		vdm_warn(a->ctx, "cannot watch %s for config changes: %s", l->cfg_dir, strerror(errno));
	l->ws = W_LIST;
	return 0;
}

static void teardown(struct loop *l)
{
	kube_stream_free(l->stream);
	if (l->multi)
		curl_multi_cleanup(l->multi);
	if (l->tfd_retry >= 0)
		close(l->tfd_retry);
	if (l->tfd_conn >= 0)
		close(l->tfd_conn);
	if (l->ifd >= 0)
		close(l->ifd);
	watch_pos_free(&l->w);
	free(l->cfg_dir);
	free(l->cfg_base);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

int agent_run(struct agent *a)
{
	struct loop l = {.tfd_retry = -1, .tfd_conn = -1, .ifd = -1, .bo = {500, 30000, 0}};
	if (setup(&l, a) < 0) {
		teardown(&l);
		return -1;
	}
	while (!a->stop) {
		if (l.ws == W_LIST) {
			metrics_busy(a, true);
			do_list(&l);
			metrics_busy(a, false);
		}
		if (l.ws == W_WATCH)
			start_watch(&l);
		if (a->synced && a->dirty) {
			drain(&l); /* the newest label value wins */
			bool was_armed = a->retry_armed;
			metrics_busy(a, true);
			reconcile(a);
			metrics_busy(a, false);
			if (a->retry_armed)
				arm(l.tfd_retry, a->retry_ms);
			else if (was_armed)
				arm(l.tfd_retry, 0);
		}
		if (a->stop || readable(a->sigfd))
			break;
		if (l.ws == W_LIST || l.ws == W_WATCH)
			continue;
		metrics_watching(a, l.ws == W_WATCHING);
		struct curl_waitfd fds[] = {
			{.fd = a->sigfd, .events = CURL_WAIT_POLLIN},
			{.fd = l.ifd, .events = CURL_WAIT_POLLIN},
			{.fd = l.tfd_retry, .events = CURL_WAIT_POLLIN},
			{.fd = l.tfd_conn, .events = CURL_WAIT_POLLIN},
			{.fd = metrics_ping_fd(a), .events = CURL_WAIT_POLLIN},
		};
		curl_multi_poll(l.multi, fds, fds[4].fd >= 0 ? 5 : 4, INT_MAX, NULL);
		if (fds[4].fd >= 0 && fds[4].revents)
			metrics_pong(a);
		if (fds[0].revents || readable(a->sigfd))
			break; /* before reading more of the watch: a stop is never kept waiting */
		handle_curl(&l);
		if (fds[1].revents && config_event(&l)) {
			vdm_dbg(a->ctx, "%s changed", a->o.config_file);
			a->dirty = true;
		}
		uint64_t ticks;
		if (fds[2].revents && read(l.tfd_retry, &ticks, sizeof(ticks)) > 0) {
			a->retry_armed = false;
			a->dirty = true;
			a->retry_due = true;
		}
		if (fds[3].revents && read(l.tfd_conn, &ticks, sizeof(ticks)) > 0)
			l.ws = l.ws == W_WAIT_LIST ? W_LIST : l.ws == W_WAIT_WATCH ? W_WATCH : l.ws;
	}
	teardown(&l);
	return 0;
}
