/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube: a small Kubernetes API client over libcurl (TLS verified) with JSON
 * bodies (json-c). Two ways to find the API server:
 *  - in-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 *    the service account's token, ca.crt and namespace files from a directory
 *    (/var/run/secrets/kubernetes.io/serviceaccount; tests override it);
 *  - a kubeconfig file (parsed with libyaml): the current context's cluster
 *    (server, certificate-authority[-data], insecure-skip-tls-verify) and user
 *    (token, tokenFile, client-certificate[-data], client-key[-data]); file
 *    paths are relative to the kubeconfig's directory.
 * A token file is read again for every request, so a token the kubelet
 * rotates is used from the next request on. As client-go does, credentials
 * are only sent over https.
 * Sources: ../shared/reference/kubernetes-agent.md §4.3, §4.4, §4.6.
 */
#ifndef VGPUDM_AGENT_KUBE_H
#define VGPUDM_AGENT_KUBE_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* The most a response body or one watch line may hold (bytes). A Node is a
 * few KiB; anything over this ends the connection with a log line. */
#define KUBE_BODY_MAX (16L << 20)
/* After a stop signal, requests still running or started are cut this many
 * ms after the signal was first seen. */
#define KUBE_STOP_GRACE_MS 1000L

struct kube_blob {
	char *data;
	size_t len;
};

struct kube_conf {
	char *server;            /* "https://host:port", no trailing slash */
	char *ca_file;           /* or ca_data */
	struct kube_blob ca_data;
	bool insecure;           /* insecure-skip-tls-verify */
	char *token;             /* a fixed token, or token_file */
	char *token_file;
	char *cert_file, *key_file;
	struct kube_blob cert_data, key_data;
	char *namespace;         /* the context's or service account's namespace, may be NULL */
	char *source;            /* "in-cluster (DIR)" or the kubeconfig path, for messages */
};

/* In-cluster configuration from the environment and the service-account
 * directory dir. 0, or -1 with *err set (malloc'd). */
int kube_conf_incluster(struct kube_conf *c, const char *dir, char **err);
/* A kubeconfig file. 0, or -1 with *err naming the file and what is wrong. */
int kube_conf_kubeconfig(struct kube_conf *c, const char *path, char **err);
void kube_conf_free(struct kube_conf *c);

struct kube;

/* A client; takes over conf's contents. NULL on out-of-memory. */
struct kube *kube_new(struct kube_conf *conf);
void kube_free(struct kube *k);
const struct kube_conf *kube_conf_of(const struct kube *k);

/* Blocking request: method "GET"/"PUT"/"POST"/"PATCH" (a JSON merge
 * patch)/"DELETE", path from the server
 * root ("/api/v1/nodes/n1"), body NULL or a JSON object (not consumed).
 * Waits at most timeout_ms. Returns the HTTP status, with *resp the parsed
 * JSON body (NULL if none or not JSON; caller puts it); or -1 on a transport
 * error with *err set. On 401 the token is read again and the request is
 * retried once. */
int kube_request(struct kube *k, const char *method, const char *path, struct json_object *body,
		 long timeout_ms, struct json_object **resp, char **err);

/* A message for a failed status: the Status object's message if there is
 * one. malloc'd. */
char *kube_status_message(int status, struct json_object *resp);

/* Streams (watches): newline-separated JSON documents. The line callback gets
 * each complete line (without the newline), and returns nonzero to stop. */
typedef int (*kube_line_fn)(void *ud, const char *line, size_t len);
struct kube_stream;

/* Start a GET stream on a curl multi handle; the caller drives the multi and
 * calls kube_stream_done when curl reports this transfer finished (match with
 * kube_stream_easy). max_s bounds the whole transfer (a stalled server). */
struct kube_stream *kube_stream_start(struct kube *k, CURLM *multi, const char *path, long max_s,
				      kube_line_fn fn, void *ud, char **err);
CURL *kube_stream_easy(const struct kube_stream *s);
/* After the transfer ended with result res: the HTTP status (0 if none), or -1
 * on a transport error; *err describes a failure (transport or HTTP). */
int kube_stream_result(struct kube_stream *s, CURLcode res, char **err);
/* Remove from the multi handle and free. */
void kube_stream_free(struct kube_stream *s);
/* Was the stream stopped by its line callback? */
bool kube_stream_stopped(const struct kube_stream *s);

/* Run one stream to its end, blocking: returns 1 when the line callback
 * stopped it, 0 when the server ended it, -2 when stop_fd became readable,
 * -3 at deadline_ms (CLOCK_MONOTONIC), -1 on error (*err set). */
int kube_stream_run(struct kube *k, const char *path, long deadline_ms, int stop_fd, kube_line_fn fn,
		    void *ud, char **err);

/* Stop signals: once fd (a signalfd) is readable, every request and
 * stream ends at most KUBE_STOP_GRACE_MS later (a request that finishes
 * sooner still counts: the state written on the way out). kube_stop_now
 * starts that grace period without looking at the fd. */
void kube_set_stop_fd(struct kube *k, int fd);
void kube_stop_now(struct kube *k);

/* What the server sends is untrusted: each field may be missing, null or of
 * another type. kube_str: the member key of object o when it is a string,
 * else NULL; kube_obj: the member when it is an object, else NULL (o may be
 * NULL or not an object). */
const char *kube_str(struct json_object *o, const char *key);
struct json_object *kube_obj(struct json_object *o, const char *key);

/* A bearer token that can go into an HTTP header: 1 to 16384 bytes of
 * printable ASCII other than space (RFC 6750 b64token is narrower; the
 * point is no CR, LF or other byte that ends or splits a header). */
bool kube_token_ok(const char *t);

/* Capped exponential backoff with jitter, for every way back to the
 * server: the n-th consecutive wait is d = min(cap, base * 2^n) ms, drawn
 * uniformly from [d/2, d] so that agents restarted together spread out.
 * Reset after an attempt that made progress. */
struct kube_backoff {
	long base_ms, cap_ms;
	int n;
};
long kube_backoff_next(struct kube_backoff *b);
void kube_backoff_reset(struct kube_backoff *b);

/* Percent-encode a query value. malloc'd. */
char *kube_escape(const char *s);
/* CLOCK_MONOTONIC in ms. */
long kube_now_ms(void);

#endif
