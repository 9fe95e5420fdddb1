/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events (events.k8s.io/v1) about the Node, one per outcome. A Node is
 * cluster-scoped, so its Events live in namespace "default" (reference §8);
 * eventTime is a MicroTime (six fractional digits). A failed post is logged,
 * never fatal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"

#define NOTE_MAX 1024

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

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64], stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%06ldZ", stamp, ts.tv_nsec / 1000);

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
	}
	free(err);
	json_object_put(resp);
	json_object_put(ev);
	free(name);
	free(inst);
	free(note);
}
