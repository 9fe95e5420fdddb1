/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the node's LIST and WATCH answers say (reference §4.1). Nothing the
 * server sends is trusted: a member may be missing, null or of another type,
 * and such an answer is logged (escaped, cut) and skipped, never followed.
 * loop.c does the requests; tests/fuzz/fuzz_watch.c feeds these directly.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static const char *meta_str(struct json_object *o, const char *key)
{
	return kube_str(kube_obj(o, "metadata"), key);
}

static void set_rv(struct watch_pos *w, const char *rv)
{
	if (!rv || !*rv)
		return;
	free(w->rv);
	w->rv = vdm_xstrdup(rv);
}

void watch_pos_free(struct watch_pos *w)
{
	free(w->rv);
	memset(w, 0, sizeof(*w));
}

/* A Node the agent can act on: metadata an object; labels, when there, an
 * object whose labels the agent reads are strings. Anything else (a label
 * 7, labels a list) is skipped, not taken for "label absent". */
static bool node_ok(struct agent *a, struct json_object *node, const char *from)
{
	struct json_object *md = kube_obj(node, "metadata"), *labels = NULL, *v;
	const char *bad = NULL;
	if (!md)
		bad = "no metadata object";
	else if (json_object_object_get_ex(md, "labels", &labels) && labels &&
		 !json_object_is_type(labels, json_type_object))
		bad = "labels not an object";
	else if (labels && ((json_object_object_get_ex(labels, LABEL_CONFIG, &v) &&
			     !json_object_is_type(v, json_type_string)) ||
			    (json_object_object_get_ex(labels, LABEL_STATE, &v) &&
			     !json_object_is_type(v, json_type_string))))
		bad = "a label value not a string";
	if (bad)
		vdm_warn(a->ctx, "%s: node %s skipped: %s", from, a->o.node_name, bad);
	return !bad;
}

void agent_node_seen(struct agent *a, struct json_object *node)
{
	node_cache(a, node);
	const char *uid = meta_str(node, "uid");
	if (uid && (!a->node_uid || strcmp(uid, a->node_uid))) {
		free(a->node_uid);
		a->node_uid = vdm_xstrdup(uid);
	}
	const char *v = node_label(node, LABEL_CONFIG);
	if (v && !*v)
		v = NULL;
	bool changed = !a->synced || (v == NULL) != (a->label == NULL) || (v && strcmp(v, a->label));
	if (!changed)
		return;
	if (a->synced)
		vdm_info(a->ctx, "label %s is now %s%s%s", LABEL_CONFIG, v ? "\"" : "",
			 v ? v : "absent", v ? "\"" : "");
	free(a->label);
	a->label = v ? vdm_xstrdup(v) : NULL;
	a->synced = true;
	a->dirty = true;
}

int watch_event(struct agent *a, struct watch_pos *w, const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *ev = tok ? json_tokener_parse_ex(tok, line, (int)(len > 0x7fffffff ? 0x7fffffff : len))
				     : NULL;
	for (size_t i = ev ? json_tokener_get_parse_end(tok) : len; i < len; i++)
		if (!strchr(" \t\r", line[i])) { /* bytes after the document */
			json_object_put(ev);
			ev = NULL;
			break;
		}
	json_tokener_free(tok);
	const char *t = kube_str(ev, "type");
	struct json_object *obj = kube_obj(ev, "object");
	if (!t || !obj) {
		vdm_warn(a->ctx, "node watch: not a watch event (a string type and an object wanted): "
			 "%.80s%s", line, len > 80 ? "..." : "");
		json_object_put(ev);
		return 0;
	}
	w->events++;
	int stop = 0;
	if (!strcmp(t, "ERROR")) {
		struct json_object *code;
		const char *msg = kube_str(obj, "message");
		vdm_info(a->ctx, "node watch: ERROR event (%d %.200s): listing again",
			 json_object_object_get_ex(obj, "code", &code) && json_object_is_type(code, json_type_int)
				 ? json_object_get_int(code) : 0,
			 msg ? msg : "");
		w->relist = true;
		stop = 1;
	} else if (!strcmp(t, "ADDED") || !strcmp(t, "MODIFIED") || !strcmp(t, "DELETED") ||
		   !strcmp(t, "BOOKMARK")) {
		w->progress = true;
		set_rv(w, meta_str(obj, "resourceVersion"));
		const char *name = meta_str(obj, "name");
		if (t[0] != 'D' && t[0] != 'B' && name && !strcmp(name, a->o.node_name) &&
		    node_ok(a, obj, "node watch"))
			agent_node_seen(a, obj);
	} else {
		vdm_warn(a->ctx, "node watch: unknown event type \"%.40s\": skipped", t);
	}
	json_object_put(ev);
	return stop;
}

bool watch_list(struct agent *a, struct watch_pos *w, struct json_object *resp)
{
	free(w->rv);
	w->rv = NULL;
	set_rv(w, meta_str(resp, "resourceVersion"));
	bool found = false;
	struct json_object *items;
	if (resp && json_object_is_type(resp, json_type_object) &&
	    json_object_object_get_ex(resp, "items", &items) && json_object_is_type(items, json_type_array))
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			struct json_object *n = json_object_array_get_idx(items, i);
			const char *name = meta_str(n, "name");
			if (name && !strcmp(name, a->o.node_name) && node_ok(a, n, "node list")) {
				agent_node_seen(a, n);
				found = true;
			}
		}
	return found;
}
