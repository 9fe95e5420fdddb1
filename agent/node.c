/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Node's labels: state, operand pause/restore (reference §1.6, §7), and
 * waiting for the operand pods to leave (§1.7). Writes are PUTs of the whole
 * object with the resourceVersion just read (the GPU Operator's RBAC grants
 * nodes "update", not "patch"); a 409 Conflict reads again and redoes.
 * An empty label value is never written.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

const char *node_label(struct json_object *node, const char *key)
{
	return kube_str(kube_obj(kube_obj(node, "metadata"), "labels"), key);
}

/* Sleep up to ms, or less when a stop signal is pending. */
static void pause_ms(struct agent *a, long ms)
{
	struct pollfd p = {.fd = a->sigfd, .events = POLLIN};
	poll(&p, 1, (int)ms);
}

static bool stop_pending(struct agent *a)
{
	struct pollfd p = {.fd = a->sigfd, .events = POLLIN};
	return a->sigfd >= 0 && poll(&p, 1, 0) > 0;
}

static char *node_path(struct agent *a)
{
	char *n = kube_escape(a->o.node_name);
	char *p = vdm_strdupf("/api/v1/nodes/%s", n);
	free(n);
	return p;
}

void node_cache(struct agent *a, struct json_object *node)
{
	json_object_put(a->node);
	a->node = node ? json_object_get(node) : NULL;
}

int node_edit(struct agent *a, node_edit_fn fn, void *ud, char **err)
{
	char *path = node_path(a);
	int rc = -1;
	/* as client-go's RetryOnConflict: a short, jittered wait between tries */
	struct kube_backoff bo = {20, 1000, 0};
	for (int attempt = 0; attempt < 10; attempt++) {
		if (attempt > 0)
			pause_ms(a, kube_backoff_next(&bo));
		struct json_object *node = NULL, *resp = NULL;
		int st;
		if (attempt == 0 && a->node) {
			/* the newest copy the watch delivered: a stale one gets 409 */
			json_object_deep_copy(a->node, &node, NULL);
			st = node ? 200 : -1;
		} else {
			st = kube_request(a->kube, "GET", path, NULL, REQ_TIMEOUT_MS, &node, err);
		}
		if (st != 200) {
			if (st > 0) {
				char *m = kube_status_message(st, node);
				*err = vdm_strdupf("GET node %s: %s", a->o.node_name, m);
				free(m);
			}
			json_object_put(node);
			break;
		}
		struct json_object *md = kube_obj(node, "metadata"), *labels;
		if (!md) {
			*err = vdm_strdupf("GET node %s: no metadata in the reply", a->o.node_name);
			json_object_put(node);
			break;
		}
		if (!json_object_object_get_ex(md, "labels", &labels) ||
		    !json_object_is_type(labels, json_type_object)) {
			labels = json_object_new_object();
			json_object_object_add(md, "labels", labels);
		}
		/* items of a list and watch objects may lack these */
		json_object_object_add(node, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(node, "kind", json_object_new_string("Node"));
		if (!fn(labels, ud)) {
			json_object_put(node);
			rc = 0;
			break;
		}
		st = kube_request(a->kube, "PUT", path, node, REQ_TIMEOUT_MS, &resp, err);
		json_object_put(node);
		if (st == 200 || st == 201) {
			node_cache(a, resp);
			json_object_put(resp);
			rc = 0;
			break;
		}
		if (st == 409) {
			vdm_dbg(a->ctx, "node %s changed under us (409 Conflict): reading it again",
				a->o.node_name);
			json_object_put(resp);
			continue;
		}
		if (st > 0) {
			char *m = kube_status_message(st, resp);
			*err = vdm_strdupf("PUT node %s: %s", a->o.node_name, m);
			free(m);
		}
		json_object_put(resp);
		break;
	}
	if (rc < 0 && !*err)
		*err = vdm_strdupf("PUT node %s: still conflicting after 10 attempts", a->o.node_name);
	free(path);
	return rc;
}

struct set_args {
	const char *state;
	bool pause;
};

static bool set_label(struct json_object *labels, const char *key, const char *val)
{
	if (!val || !*val) /* never write an empty value */
		return false;
	const char *cur = kube_str(labels, key);
	if (cur && !strcmp(cur, val))
		return false;
	json_object_object_add(labels, key, json_object_new_string(val));
	return true;
}

static bool edit_set(struct json_object *labels, void *ud)
{
	struct set_args *s = ud;
	bool changed = s->state ? set_label(labels, LABEL_STATE, s->state) : false;
	static const char *const ops[] = {LABEL_DP, LABEL_VAL};
	for (int i = 0; i < 2; i++) {
		const char *cur = kube_str(labels, ops[i]);
		if (!cur || !*cur || !strcmp(cur, "false"))
			continue; /* not deployed: stays as it is (absent stays absent) */
		if (s->pause)
			changed |= set_label(labels, ops[i], PAUSED);
		else if (!strcmp(cur, PAUSED))
			changed |= set_label(labels, ops[i], "true");
	}
	return changed;
}

int node_set(struct agent *a, const char *state, bool pause, char **err)
{
	struct set_args s = {state, pause};
	if (pause)
		gate_hold(a); /* before the validator's preStop can run */
	int rc = node_edit(a, edit_set, &s, err);
	if (rc == 0 && !pause)
		gate_release(a); /* restored: the validator writes its files again */
	if (rc == 0)
		vdm_dbg(a->ctx, "node %s: %s%s%s", a->o.node_name, state ? "state " : "",
			state ? state : "", pause ? ", operands paused" : ", operands not paused");
	return rc;
}

/* --- waiting for the operand pods --- */

struct podset {
	char **names;
	size_t n;
	char *rv;
	bool progress;   /* the watch delivered an event */
};

static void podset_add(struct podset *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->names[i], name))
			return;
	p->names = vdm_xrealloc(p->names, p->n + 1, sizeof(char *));
	p->names[p->n++] = vdm_xstrdup(name);
}

static void podset_del(struct podset *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->names[i], name)) {
			free(p->names[i]);
			p->names[i] = p->names[--p->n];
			return;
		}
}

static void podset_clear(struct podset *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	free(p->rv);
	memset(p, 0, sizeof(*p));
}

static const char *obj_str(struct json_object *o, const char *a, const char *b)
{
	return kube_str(kube_obj(o, a), b);
}

/* A watch event line: ADDED/MODIFIED add, DELETED removes; stop when empty.
 * Lines that are not events (type not a string, object not an object) are
 * skipped. */
static int pod_line(void *ud, const char *line, size_t len)
{
	struct podset *p = ud;
	(void)len;
	struct json_object *ev = json_tokener_parse(line);
	const char *t = kube_str(ev, "type");
	struct json_object *obj = kube_obj(ev, "object");
	int stop = 0;
	if (t && obj) {
		const char *name = obj_str(obj, "metadata", "name");
		const char *rv = obj_str(obj, "metadata", "resourceVersion");
		p->progress |= strcmp(t, "ERROR") != 0;
		if (!strcmp(t, "ERROR")) {
			stop = 1; /* list again */
			free(p->rv);
			p->rv = NULL;
		} else {
			if (rv) {
				free(p->rv);
				p->rv = vdm_xstrdup(rv);
			}
			if (name && !strcmp(t, "DELETED"))
				podset_del(p, name);
			else if (name && (!strcmp(t, "ADDED") || !strcmp(t, "MODIFIED")))
				podset_add(p, name);
			stop = p->n == 0;
		}
	}
	json_object_put(ev);
	return stop;
}

static int list_pods(struct agent *a, const char *query, struct podset *p, char **err)
{
	char *path = vdm_strdupf("/api/v1/namespaces/%s/pods?%s", a->o.namespace, query);
	struct json_object *resp = NULL, *items;
	int st = kube_request(a->kube, "GET", path, NULL, REQ_TIMEOUT_MS, &resp, err);
	free(path);
	if (st == 404 && !kube_str(resp, "kind")) {
		st = 500; /* a 404 that is not a Status (a proxy's page) is no answer */
	}
	if (st == 404) { /* as upstream: NotFound counts as gone */
		podset_clear(p);
		json_object_put(resp);
		return 0;
	}
	if (st != 200) {
		if (st > 0) {
			char *m = kube_status_message(st, resp);
			*err = vdm_strdupf("listing pods in %s: %s", a->o.namespace, m);
			free(m);
		}
		json_object_put(resp);
		return -1;
	}
	podset_clear(p);
	const char *rv = obj_str(resp, "metadata", "resourceVersion");
	p->rv = rv ? vdm_xstrdup(rv) : NULL;
	if (resp && json_object_is_type(resp, json_type_object) &&
	    json_object_object_get_ex(resp, "items", &items) && json_object_is_type(items, json_type_array))
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			const char *name = obj_str(json_object_array_get_idx(items, i), "metadata", "name");
			if (name)
				podset_add(p, name);
		}
	json_object_put(resp);
	return 0;
}

static int wait_app(struct agent *a, const char *app, long deadline, char **err)
{
	char *node = vdm_strdupf("spec.nodeName=%s", a->o.node_name);
	char *sel = vdm_strdupf("app=%s", app);
	char *en = kube_escape(node), *es = kube_escape(sel);
	char *query = vdm_strdupf("fieldSelector=%s&labelSelector=%s", en, es);
	free(node), free(sel), free(en), free(es);
	struct podset p = {0};
	char *last = NULL; /* the last transient error, for the timeout message */
	struct kube_backoff bo = {200, 5000, 0};
	int rc;
	for (;;) {
		long left = deadline - kube_now_ms();
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		char *e = NULL;
		if (list_pods(a, query, &p, &e) < 0) {
			/* a failed list (500, connection lost) is tried again until the deadline */
			vdm_dbg(a->ctx, "%s", e);
			free(last);
			last = e;
			long ms = kube_backoff_next(&bo);
			pause_ms(a, left < ms ? left : ms);
			if (stop_pending(a)) {
				rc = -EINTR;
				break;
			}
			continue;
		}
		if (p.n == 0) {
			rc = 0;
			break;
		}
		vdm_dbg(a->ctx, "waiting for %zu %s pod(s) on %s to go", p.n, app, a->o.node_name);
		char *rv = kube_escape(p.rv ? p.rv : "");
		char *wpath = vdm_strdupf("/api/v1/namespaces/%s/pods?%s&resourceVersion=%s&"
					  "timeoutSeconds=%ld&watch=true", a->o.namespace, query, rv,
					  left / 1000 + 1);
		free(rv);
		long started = kube_now_ms();
		p.progress = false;
		rc = kube_stream_run(a->kube, wpath, deadline, a->sigfd, pod_line, &p, &e);
		free(wpath);
		if (rc == -2) {
			rc = -EINTR;
			break;
		}
		if (rc == -1) { /* a failed watch (410, 500...) */
			vdm_dbg(a->ctx, "pod watch: %s", e);
			free(last);
			last = e;
			e = NULL;
		}
		free(e);
		/* set empty, ERROR, ended or failed: list again to be sure; at once
		 * only after a watch that delivered events or ran a while */
		if (rc != -1 && (p.progress || kube_now_ms() - started >= 10000)) {
			kube_backoff_reset(&bo);
		} else {
			long ms = kube_backoff_next(&bo);
			left = deadline - kube_now_ms();
			pause_ms(a, left < ms ? (left > 0 ? left : 0) : ms);
		}
	}
	if (rc == -ETIMEDOUT && last)
		*err = last; /* node_wait_operands adds what timed out */
	else
		free(last);
	podset_clear(&p);
	free(query);
	return rc;
}

int node_wait_operands(struct agent *a, char **err)
{
	static const char *const apps[] = {APP_DP, APP_VAL};
	for (int i = 0; i < 2; i++) {
		long deadline = kube_now_ms() + (long)(a->o.pod_wait_s * 1000);
		char *last = NULL;
		int rc = wait_app(a, apps[i], deadline, &last);
		if (rc == -ETIMEDOUT)
			*err = vdm_strdupf("%s pods on node %s still there after %gs%s%s", apps[i],
					   a->o.node_name, a->o.pod_wait_s, last ? " (last error: " : "",
					   last ? last : "");
		if (rc == -ETIMEDOUT && last) {
			char *t = vdm_strdupf("%s)", *err);
			free(*err);
			*err = t;
		}
		free(last);
		if (rc < 0)
			return rc;
	}
	return 0;
}
