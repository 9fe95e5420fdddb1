/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP(S) requests and watch streams to the Kubernetes API server (libcurl). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "kube.h"

char *kube_conf_token(const struct kube_conf *c, char **err);

struct kube {
	struct kube_conf conf;
	CURL *easy;        /* reused for blocking requests: one kept-alive connection */
	bool tls;
	int stop_fd;       /* a signalfd, or -1 */
	long stop_at;      /* CLOCK_MONOTONIC ms after which requests end; 0 none */
};

struct buf {
	char *p;
	size_t n, cap;
	bool over;         /* more than KUBE_BODY_MAX came: the transfer was ended */
};

/* Append; false (and nothing kept) past KUBE_BODY_MAX. */
static bool buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->n + n > (size_t)KUBE_BODY_MAX) {
		b->over = true;
		return false;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = vdm_xrealloc(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return true;
}

long kube_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct kube *kube_new(struct kube_conf *conf)
{
	struct kube *k = vdm_xcalloc(1, sizeof(*k));
	k->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	k->tls = !strncmp(k->conf.server, "https://", 8);
	k->stop_fd = -1;
	k->easy = curl_easy_init();
	if (!k->easy) {
		kube_conf_free(&k->conf);
		free(k);
		return NULL;
	}
	return k;
}

void kube_free(struct kube *k)
{
	if (!k)
		return;
	curl_easy_cleanup(k->easy);
	kube_conf_free(&k->conf);
	free(k);
}

const struct kube_conf *kube_conf_of(const struct kube *k)
{
	return &k->conf;
}

void kube_set_stop_fd(struct kube *k, int fd)
{
	k->stop_fd = fd;
}

void kube_stop_now(struct kube *k)
{
	if (!k->stop_at)
		k->stop_at = kube_now_ms() + KUBE_STOP_GRACE_MS;
}

/* Is it time to end the requests? Looks at the stop fd (no read). */
static bool stopping(struct kube *k)
{
	if (!k->stop_at && k->stop_fd >= 0) {
		struct pollfd p = {.fd = k->stop_fd, .events = POLLIN};
		if (poll(&p, 1, 0) > 0)
			kube_stop_now(k);
	}
	return k->stop_at && kube_now_ms() >= k->stop_at;
}

/* libcurl calls this at least once a second during a transfer, idle too. */
static int xfer_check(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	(void)dlt, (void)dln, (void)ult, (void)uln;
	return stopping(ud) ? 1 : 0;
}

const char *kube_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

struct json_object *kube_obj(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_object))
		return v;
	return NULL;
}

bool kube_token_ok(const char *t)
{
	size_t n = 0;
	for (; t[n]; n++)
		if ((unsigned char)t[n] < 0x21 || (unsigned char)t[n] > 0x7e)
			return false;
	return n > 0 && n <= 16384;
}

long kube_backoff_next(struct kube_backoff *b)
{
	long d = b->base_ms;
	for (int i = 0; i < b->n && d < b->cap_ms; i++)
		d *= 2;
	if (d > b->cap_ms)
		d = b->cap_ms;
	if (b->n < 64)
		b->n++;
	long half = d / 2;
	return half + (half > 0 ? random() % (d - half + 1) : 0);
}

void kube_backoff_reset(struct kube_backoff *b)
{
	b->n = 0;
}

char *kube_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = vdm_xstrdup(e ? e : "");
	curl_free(e);
	return r;
}

static void blob_opt(CURL *e, CURLoption opt, const struct kube_blob *b)
{
	struct curl_blob cb = {.data = b->data, .len = b->len, .flags = CURL_BLOB_COPY};
	curl_easy_setopt(e, opt, &cb);
}

/* Options common to every request. Returns the header list (caller frees)
 * or NULL with *err set when the token cannot be read. */
static struct curl_slist *setup(struct kube *k, CURL *e, const char *path, const char *ctype,
				bool *failed, char **err)
{
	const struct kube_conf *c = &k->conf;
	char *url = vdm_strdupf("%s%s", c->server, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "nvidia-k8s-vgpu-dm/" VGPUDM_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xfer_check);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, k);
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
		if (c->ca_data.data)
			blob_opt(e, CURLOPT_CAINFO_BLOB, &c->ca_data);
		else if (c->ca_file)
			curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	}
	if (c->cert_data.data)
		blob_opt(e, CURLOPT_SSLCERT_BLOB, &c->cert_data);
	else if (c->cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_data.data)
		blob_opt(e, CURLOPT_SSLKEY_BLOB, &c->key_data);
	else if (c->key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	if (ctype) {
		char *hdr = vdm_strdupf("Content-Type: %s", ctype);
		h = curl_slist_append(h, hdr);
		free(hdr);
	}
	if (k->tls) {
		char *tok = kube_conf_token(c, err);
		if (!tok && (c->token_file)) {
			curl_slist_free_all(h);
			*failed = true;
			return NULL;
		}
		if (tok) {
			char *hdr = vdm_strdupf("Authorization: Bearer %s", tok);
			h = curl_slist_append(h, hdr);
			free(hdr);
			free(tok);
		}
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	return h;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	return buf_add(ud, p, size * n) ? size * n : 0;
}

static int request_once(struct kube *k, const char *method, const char *path, const char *body,
			long timeout_ms, struct json_object **resp, char **err)
{
	CURL *e = k->easy;
	bool failed = false;
	curl_easy_reset(e);
	if (stopping(k)) {
		*err = vdm_strdupf("%s %s%s: not sent, stopping", method, k->conf.server, path);
		return -1;
	}
	if (k->stop_at && k->stop_at - kube_now_ms() < timeout_ms)
		timeout_ms = k->stop_at - kube_now_ms();
	/* PATCH bodies are JSON merge patches (RFC 7386) */
	const char *ctype = !body ? NULL : strcmp(method, "PATCH") ? "application/json"
								  : "application/merge-patch+json";
	struct curl_slist *h = setup(k, e, path, ctype, &failed, err);
	if (failed)
		return -1;
	struct buf b = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "GET"))
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	CURLcode rc = curl_easy_perform(e);
	curl_slist_free_all(h);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	if (rc != CURLE_OK) {
		if (b.over)
			*err = vdm_strdupf("%s %s%s: response body over %ld MiB: connection ended", method,
					   k->conf.server, path, KUBE_BODY_MAX >> 20);
		else if (rc == CURLE_ABORTED_BY_CALLBACK)
			*err = vdm_strdupf("%s %s%s: cut short, stopping", method, k->conf.server, path);
		else
			*err = vdm_strdupf("%s %s%s: %s", method, k->conf.server, path,
					   *errbuf ? errbuf : curl_easy_strerror(rc));
		free(b.p);
		return -1;
	}
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	*resp = b.p ? json_tokener_parse(b.p) : NULL;
	free(b.p);
	return (int)code;
}

int kube_request(struct kube *k, const char *method, const char *path, struct json_object *body,
		 long timeout_ms, struct json_object **resp, char **err)
{
	const char *s = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
	*resp = NULL;
	int code = request_once(k, method, path, s, timeout_ms, resp, err);
	if (code == 401 && (k->conf.token_file)) {
		/* the kubelet may have just rotated the token: read it again, once */
		json_object_put(*resp);
		*resp = NULL;
		code = request_once(k, method, path, s, timeout_ms, resp, err);
	}
	return code;
}

char *kube_status_message(int status, struct json_object *resp)
{
	const char *m = kube_str(resp, "message");
	if (m)
		return vdm_strdupf("HTTP %d: %s", status, m);
	return vdm_strdupf("HTTP %d", status);
}

/* --- streams --- */

struct kube_stream {
	CURL *e;
	CURLM *multi;
	struct curl_slist *h;
	struct buf line;     /* a partial line */
	struct buf body;     /* the body of a failed (non-200) response */
	kube_line_fn fn;
	void *ud;
	bool stopped;
	char errbuf[CURL_ERROR_SIZE];
	char *what;
};

static size_t stream_write(char *p, size_t size, size_t n, void *ud)
{
	struct kube_stream *s = ud;
	size_t len = size * n;
	long code = 0;
	curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		if (s->body.n < 65536)
			buf_add(&s->body, p, len);
		return len;
	}
	if (s->stopped)
		return CURL_WRITEFUNC_ERROR;
	/* Each byte is searched once: a line that never ends costs linear
	 * time, and ends the connection at KUBE_BODY_MAX. */
	char *start = p, *end = p + len, *nl;
	while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
		if (!buf_add(&s->line, start, (size_t)(nl - start)))
			return CURL_WRITEFUNC_ERROR;
		int stop = s->line.n > 0 && s->fn(s->ud, s->line.p, s->line.n);
		s->line.n = 0;
		start = nl + 1;
		if (stop) {
			s->stopped = true;
			return CURL_WRITEFUNC_ERROR;
		}
	}
	if (start < end && !buf_add(&s->line, start, (size_t)(end - start)))
		return CURL_WRITEFUNC_ERROR;
	return len;
}

struct kube_stream *kube_stream_start(struct kube *k, CURLM *multi, const char *path, long max_s,
				      kube_line_fn fn, void *ud, char **err)
{
	struct kube_stream *s = vdm_xcalloc(1, sizeof(*s));
	s->e = curl_easy_init();
	bool failed = false;
	if (!s->e || !(s->h = setup(k, s->e, path, NULL, &failed, err))) {
		if (!failed)
			*err = vdm_strdupf("out of memory");
		if (s->e)
			curl_easy_cleanup(s->e);
		free(s);
		return NULL;
	}
	s->fn = fn;
	s->ud = ud;
	s->multi = multi;
	s->what = vdm_strdupf("GET %s%s", k->conf.server, path);
	curl_easy_setopt(s->e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(s->e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
	if (max_s > 0)
		curl_easy_setopt(s->e, CURLOPT_TIMEOUT, max_s);
	curl_multi_add_handle(multi, s->e);
	return s;
}

CURL *kube_stream_easy(const struct kube_stream *s)
{
	return s->e;
}

bool kube_stream_stopped(const struct kube_stream *s)
{
	return s->stopped;
}

int kube_stream_result(struct kube_stream *s, CURLcode res, char **err)
{
	long code = 0;
	curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &code);
	if (s->stopped)
		return (int)code;
	if (s->line.over) {
		*err = vdm_strdupf("%s: a line over %ld MiB without a newline: connection ended", s->what,
				   KUBE_BODY_MAX >> 20);
		return -1;
	}
	if (res != CURLE_OK) {
		*err = vdm_strdupf("%s: %s", s->what, *s->errbuf ? s->errbuf : curl_easy_strerror(res));
		return -1;
	}
	if (code != 200) {
		struct json_object *o = s->body.p ? json_tokener_parse(s->body.p) : NULL;
		char *m = kube_status_message((int)code, o);
		*err = vdm_strdupf("%s: %s", s->what, m);
		free(m);
		json_object_put(o);
	}
	return (int)code;
}

void kube_stream_free(struct kube_stream *s)
{
	if (!s)
		return;
	curl_multi_remove_handle(s->multi, s->e);
	curl_easy_cleanup(s->e);
	curl_slist_free_all(s->h);
	free(s->line.p);
	free(s->body.p);
	free(s->what);
	free(s);
}

int kube_stream_run(struct kube *k, const char *path, long deadline_ms, int stop_fd, kube_line_fn fn,
		    void *ud, char **err)
{
	CURLM *m = curl_multi_init();
	long left = deadline_ms - kube_now_ms();
	struct kube_stream *s = kube_stream_start(k, m, path, left > 0 ? left / 1000 + 2 : 1, fn, ud, err);
	if (!s) {
		curl_multi_cleanup(m);
		return -1;
	}
	int rc = 0;
	for (;;) {
		int running = 0;
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int q;
		bool done = false;
		while ((msg = curl_multi_info_read(m, &q)))
			if (msg->msg == CURLMSG_DONE) {
				done = true;
				int code = kube_stream_result(s, msg->data.result, err);
				rc = s->stopped ? 1 : code == 200 ? 0 : -1;
				if (code > 0 && code != 200 && !*err)
					*err = vdm_strdupf("HTTP %d", code);
			}
		if (done)
			break;
		left = deadline_ms - kube_now_ms();
		if (left <= 0) {
			rc = -3;
			break;
		}
		struct curl_waitfd wfd = {.fd = stop_fd, .events = CURL_WAIT_POLLIN};
		curl_multi_poll(m, stop_fd >= 0 ? &wfd : NULL, stop_fd >= 0 ? 1 : 0,
				(int)(left > 1000000 ? 1000000 : left), NULL);
		if (stop_fd >= 0) {
			struct pollfd p = {.fd = stop_fd, .events = POLLIN};
			if (poll(&p, 1, 0) > 0) {
				rc = -2;
				break;
			}
		}
	}
	kube_stream_free(s);
	curl_multi_cleanup(m);
	return rc;
}
