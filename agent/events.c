/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events (events.k8s.io/v1) about the Node, one per outcome. A Node is
 * cluster-scoped, so its Events live in namespace "default" (reference §8);
 * eventTime is a MicroTime (six fractional digits). A failed post is logged,
 * never fatal.
 *
 * As Kubernetes' own client (client-go tools/events) does:
 *  - an Event equal to one posted less than 6 minutes before (same type,
 *    reason and note) is not posted again: the first one's series
 *    {count, lastObservedTime} is updated (a merge PATCH);
 *  - posts and updates draw from a token bucket per agent: 25 at once, then
 *    one every 5 minutes (client-go's spam filter defaults). Past it an
 *    Event is only logged; a series' count still grows and goes out with
 *    its next update.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"

#define NOTE_MAX 1024
#define SERIES_MS (6L * 60 * 1000)   /* isomorphic Events within this make a series */
#define BURST 25
#define REFILL_MS (5L * 60 * 1000)   /* one more token each */
#define CACHE 16

struct seen {
	char *key;     /* type|reason|note */
	char *name;    /* the Event's metadata.name */
	long last_ms;  /* CLOCK_MONOTONIC of the newest occurrence */
	int count;
};

static struct {
	struct seen s[CACHE];
	double tokens;
	long refilled_ms;
	bool init;
} ev_state;

/* Take a token; false when the bucket is empty. */
static bool take_token(void)
{
	long now = kube_now_ms();
	if (!ev_state.init) {
		ev_state.init = true;
		ev_state.tokens = BURST;
		ev_state.refilled_ms = now;
	}
	ev_state.tokens += (double)(now - ev_state.refilled_ms) / REFILL_MS;
	if (ev_state.tokens > BURST)
		ev_state.tokens = BURST;
	ev_state.refilled_ms = now;
	if (ev_state.tokens < 1)
		return false;
	ev_state.tokens -= 1;
	return true;
}

void events_free(void)
{
	for (int i = 0; i < CACHE; i++) {
		free(ev_state.s[i].key);
		free(ev_state.s[i].name);
	}
	memset(&ev_state, 0, sizeof(ev_state));
}

static void now_micro(char *when, size_t n, struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, n, "%s.%06ldZ", stamp, ts->tv_nsec / 1000);
}

/* A repeat: update the series. true when done (or rate-limited: counted). */
static bool series_update(struct agent *a, struct seen *e, const char *reason)
{
	e->count++;
	e->last_ms = kube_now_ms();
	if (!take_token()) {
		vdm_dbg(a->ctx, "Event %s repeated (%d times): not sent, rate limit", reason, e->count);
		return true;
	}
	char when[64];
	struct timespec ts;
	now_micro(when, sizeof(when), &ts);
	struct json_object *p = json_object_new_object(), *series = json_object_new_object();
	json_object_object_add(series, "count", json_object_new_int(e->count));
	json_object_object_add(series, "lastObservedTime", json_object_new_string(when));
	json_object_object_add(p, "series", series);
	char *n = kube_escape(e->name);
	char *path = vdm_strdupf("/apis/events.k8s.io/v1/namespaces/" EVENTS_NAMESPACE "/events/%s", n);
	struct json_object *resp = NULL;
	char *err = NULL;
	int st = kube_request(a->kube, "PATCH", path, p, REQ_TIMEOUT_MS, &resp, &err);
	bool done = st == 200;
	if (!done && st != 404) {
		char *m = st > 0 ? kube_status_message(st, resp) : NULL;
		vdm_warn(a->ctx, "cannot update Event %s: %s", reason, m ? m : err);
		free(m);
		done = true; /* counted; the next repeat tries again */
	}
	free(err);
	free(n);
	free(path);
	json_object_put(resp);
	json_object_put(p);
	return done;
}

static struct json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

void event_post(struct agent *a, bool warning, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *note = vdm_vstrdupf(fmt, ap);
	va_end(ap);
	if (strlen(note) > NOTE_MAX - 1) { /* the API's limit for note */
		note[NOTE_MAX - 4] = '\0';
		strcat(note, "...");
	}
	vdm_log(a->ctx, warning ? VDM_LOG_WARN : VDM_LOG_INFO, "%s: %s", reason, note);

	char *key = vdm_strdupf("%s|%s|%s", warning ? "Warning" : "Normal", reason, note);
	struct seen *slot = &ev_state.s[0];
	for (int i = 0; i < CACHE; i++) {
		struct seen *e = &ev_state.s[i];
		if (e->key && !strcmp(e->key, key) && kube_now_ms() - e->last_ms < SERIES_MS &&
		    series_update(a, e, reason)) {
			free(key);
			free(note);
			return;
		}
		if (!e->key || e->last_ms < slot->last_ms)
			slot = e; /* a free one, else the oldest */
		if (!slot->key)
			break;
	}
	if (!take_token()) {
		vdm_dbg(a->ctx, "Event %s not sent: rate limit (%d, then one per %ld min)", reason, BURST,
			REFILL_MS / 60000);
		free(key);
		free(note);
		return;
	}

	struct timespec ts;
	char when[64];
	now_micro(when, sizeof(when), &ts);

	struct json_object *ev = json_object_new_object(), *md = json_object_new_object();
	char *name = vdm_strdupf("%s.%016llx", a->o.node_name,
				 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec);
	json_object_object_add(ev, "apiVersion", jstr("events.k8s.io/v1"));
	json_object_object_add(ev, "kind", jstr("Event"));
	json_object_object_add(md, "name", jstr(name));
	json_object_object_add(md, "namespace", jstr(EVENTS_NAMESPACE));
	json_object_object_add(ev, "metadata", md);
	json_object_object_add(ev, "eventTime", jstr(when));
	json_object_object_add(ev, "reportingController", jstr("nvidia.com/vgpu-device-manager"));
	char *inst = vdm_strdupf("nvidia-k8s-vgpu-dm-%s", a->o.node_name);
	if (strlen(inst) > 128)
		inst[128] = '\0';
	json_object_object_add(ev, "reportingInstance", jstr(inst));
	json_object_object_add(ev, "action", jstr("ApplyVGPUConfig"));
	json_object_object_add(ev, "reason", jstr(reason));
	json_object_object_add(ev, "type", jstr(warning ? "Warning" : "Normal"));
	json_object_object_add(ev, "note", jstr(note));
	struct json_object *reg = json_object_new_object();
	json_object_object_add(reg, "apiVersion", jstr("v1"));
	json_object_object_add(reg, "kind", jstr("Node"));
	json_object_object_add(reg, "name", jstr(a->o.node_name));
	if (a->node_uid)
		json_object_object_add(reg, "uid", jstr(a->node_uid));
	json_object_object_add(ev, "regarding", reg);

	struct json_object *resp = NULL;
	char *err = NULL;
	int st = kube_request(a->kube, "POST",
			      "/apis/events.k8s.io/v1/namespaces/" EVENTS_NAMESPACE "/events", ev,
			      REQ_TIMEOUT_MS, &resp, &err);
	if (st != 201 && st != 200) {
		char *m = st > 0 ? kube_status_message(st, resp) : NULL;
		vdm_warn(a->ctx, "cannot post Event %s: %s", reason, m ? m : err);
		free(m);
		free(key);
	} else {
		free(slot->key);
		free(slot->name);
		*slot = (struct seen){.key = key, .name = vdm_xstrdup(name), .last_ms = kube_now_ms(),
				      .count = 1};
	}
	free(err);
	json_object_put(resp);
	json_object_put(ev);
	free(name);
	free(inst);
	free(note);
}
