/* SPDX-License-Identifier: Apache-2.0 */
/* Where the API server is and how to log in: in-cluster or a kubeconfig file. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/base.h"
#include "kube.h"

void kube_conf_free(struct kube_conf *c)
{
	free(c->server);
	free(c->ca_file);
	free(c->ca_data.data);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data.data);
	free(c->key_data.data);
	free(c->namespace);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

/* Read a small file whole, at most max bytes; NULL with errno set (EFBIG
 * when it is longer). Trailing whitespace stays. */
static char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = vdm_xcalloc(1, cap + 1);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n > max) {
			fclose(f);
			free(buf);
			errno = EFBIG;
			return NULL;
		}
		if (n == cap) {
			buf = vdm_xrealloc(buf, 2 * cap + 1, 1);
			cap *= 2;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
}

/* Token, namespace and certificate files are small; a kubeconfig with
 * inline certificates is a few KiB. */
#define SMALL_MAX (64L << 10)
#define KUBECONFIG_MAX (4L << 20)

char *kube_conf_token(const struct kube_conf *c, char **err);

int kube_conf_incluster(struct kube_conf *c, const char *dir, char **err)
{
	memset(c, 0, sizeof(*c));
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port) {
		*err = vdm_strdupf("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
				   "KUBERNETES_SERVICE_PORT must be defined");
		return -1;
	}
	c->server = strchr(host, ':') ? vdm_strdupf("https://[%s]:%s", host, port)
				       : vdm_strdupf("https://%s:%s", host, port);
	c->token_file = vdm_strdupf("%s/token", dir);
	c->ca_file = vdm_strdupf("%s/ca.crt", dir);
	c->source = vdm_strdupf("in-cluster (%s)", dir);
	char *tok = kube_conf_token(c, err);
	if (!tok) {
		kube_conf_free(c);
		return -1;
	}
	free(tok);
	char *nsfile = vdm_strdupf("%s/namespace", dir);
	c->namespace = slurp(nsfile, SMALL_MAX, NULL);
	if (c->namespace)
		trim(c->namespace);
	free(nsfile);
	return 0;
}

/* --- kubeconfig --- */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The "what" mapping of the item of list `list` whose name is `name`. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list, const char *name,
			  const char *what)
{
	yaml_node_t *l = map_get(d, root, list);
	if (!l || l->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
		yaml_node_t *it = yaml_document_get_node(d, *i);
		const char *n = scalar(map_get(d, it, "name"));
		if (n && !strcmp(n, name))
			return map_get(d, it, what);
	}
	return NULL;
}

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decode base64 (whitespace ignored). 0 or -1. */
static int b64decode(const char *s, struct kube_blob *out)
{
	size_t n = strlen(s);
	unsigned char *buf = vdm_xcalloc(1, n / 4 * 3 + 4);
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	for (; *s; s++) {
		if (strchr(" \t\r\n", *s))
			continue;
		if (*s == '=')
			break;
		int v = b64val((unsigned char)*s);
		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
		}
	}
	out->data = (char *)buf;
	out->len = o;
	return 0;
}

/* A path from the file, resolved against the kubeconfig's directory. */
static char *resolve(const char *dir, const char *p)
{
	return p[0] == '/' ? vdm_xstrdup(p) : vdm_strdupf("%s/%s", dir, p);
}

static int get_path(yaml_document_t *d, yaml_node_t *m, const char *key, const char *dir, char **out)
{
	const char *v = scalar(map_get(d, m, key));
	if (v && *v)
		*out = resolve(dir, v);
	return 0;
}

static int get_data(yaml_document_t *d, yaml_node_t *m, const char *key, struct kube_blob *out,
		    const char *path, char **err)
{
	const char *v = scalar(map_get(d, m, key));
	if (!v || !*v)
		return 0;
	if (b64decode(v, out) < 0) {
		*err = vdm_strdupf("%s: %s is not valid base64", path, key);
		return -1;
	}
	return 0;
}

static int parse_kubeconfig(struct kube_conf *c, yaml_document_t *d, const char *path, char **err)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	if (!root || root->type != YAML_MAPPING_NODE) {
		*err = vdm_strdupf("%s: not a kubeconfig (no top-level mapping)", path);
		return -1;
	}
	const char *cur = scalar(map_get(d, root, "current-context"));
	if (!cur || !*cur) {
		*err = vdm_strdupf("%s: no current-context", path);
		return -1;
	}
	yaml_node_t *ctx = named(d, root, "contexts", cur, "context");
	if (!ctx) {
		*err = vdm_strdupf("%s: context \"%s\" not found", path, cur);
		return -1;
	}
	const char *cname = scalar(map_get(d, ctx, "cluster")), *uname = scalar(map_get(d, ctx, "user"));
	const char *ns = scalar(map_get(d, ctx, "namespace"));
	yaml_node_t *cl = cname ? named(d, root, "clusters", cname, "cluster") : NULL;
	if (!cl) {
		*err = vdm_strdupf("%s: cluster \"%s\" of context \"%s\" not found", path,
				   cname ? cname : "", cur);
		return -1;
	}
	const char *server = scalar(map_get(d, cl, "server"));
	if (!server || !*server) {
		*err = vdm_strdupf("%s: cluster \"%s\" has no server", path, cname);
		return -1;
	}
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)) {
		*err = vdm_strdupf("%s: server \"%s\" is not an http(s) URL", path, server);
		return -1;
	}
	for (const char *q = server; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
			*err = vdm_strdupf("%s: cluster \"%s\": the server URL holds a space, a "
					   "control character or a non-ASCII byte", path, cname);
			return -1;
		}
	c->server = vdm_xstrdup(server);
	size_t sl = strlen(c->server);
	while (sl && c->server[sl - 1] == '/')
		c->server[--sl] = '\0';
	char *pathcopy = vdm_xstrdup(path);
	const char *dir = dirname(pathcopy);
	int rc = -1;
	get_path(d, cl, "certificate-authority", dir, &c->ca_file);
	if (get_data(d, cl, "certificate-authority-data", &c->ca_data, path, err) < 0)
		goto out;
	const char *insecure = scalar(map_get(d, cl, "insecure-skip-tls-verify"));
	c->insecure = insecure && !strcmp(insecure, "true");
	if (c->insecure && (c->ca_file || c->ca_data.data)) {
		/* as kubectl: a CA beside it would silently not count */
		*err = vdm_strdupf("%s: cluster \"%s\": specifying a root certificates file with the "
				   "insecure flag is not allowed (certificate-authority%s with "
				   "insecure-skip-tls-verify: true)", path, cname,
				   c->ca_data.data ? "-data" : "");
		goto out;
	}
	if (ns && *ns)
		c->namespace = vdm_xstrdup(ns);
	yaml_node_t *u = uname ? named(d, root, "users", uname, "user") : NULL;
	if (uname && *uname && !u) {
		*err = vdm_strdupf("%s: user \"%s\" of context \"%s\" not found", path, uname, cur);
		goto out;
	}
	if (u) {
		static const char *const unsupported[] = {"exec", "auth-provider", "username", "password"};
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
			if (map_get(d, u, unsupported[i])) {
				*err = vdm_strdupf("%s: user \"%s\": %s is not supported (use token, "
						   "tokenFile or a client certificate)", path, uname,
						   unsupported[i]);
				goto out;
			}
		const char *tok = scalar(map_get(d, u, "token"));
		if (tok && *tok && !kube_token_ok(tok)) {
			*err = vdm_strdupf("%s: user \"%s\": the token holds a byte that cannot go "
					   "into an HTTP header (control character, space or non-ASCII)",
					   path, uname);
			goto out;
		}
		if (tok && *tok)
			c->token = vdm_xstrdup(tok);
		get_path(d, u, "tokenFile", dir, &c->token_file);
		get_path(d, u, "client-certificate", dir, &c->cert_file);
		get_path(d, u, "client-key", dir, &c->key_file);
		if (get_data(d, u, "client-certificate-data", &c->cert_data, path, err) < 0 ||
		    get_data(d, u, "client-key-data", &c->key_data, path, err) < 0)
			goto out;
	}
	c->source = vdm_xstrdup(path);
	rc = 0;
out:
	free(pathcopy);
	return rc;
}

int kube_conf_kubeconfig(struct kube_conf *c, const char *path, char **err)
{
	memset(c, 0, sizeof(*c));
	if (strchr(path, ':')) {
		*err = vdm_strdupf("KUBECONFIG \"%s\": a list of files is not supported, give one file",
				   path);
		return -1;
	}
	size_t len;
	char *buf = slurp(path, KUBECONFIG_MAX, &len);
	if (!buf) {
		*err = errno == EFBIG ? vdm_strdupf("kubeconfig %s: over %ld MiB, not a kubeconfig", path,
						    KUBECONFIG_MAX >> 20)
				      : vdm_strdupf("cannot read kubeconfig %s: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_t p;
	yaml_document_t d;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int rc = -1;
	if (!yaml_parser_load(&p, &d)) {
		*err = vdm_strdupf("%s:%zu:%zu: %s", path, p.problem_mark.line + 1,
				   p.problem_mark.column + 1, p.problem ? p.problem : "invalid YAML");
	} else {
		rc = parse_kubeconfig(c, &d, path, err);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	free(buf);
	if (rc < 0)
		kube_conf_free(c);
	return rc;
}

/* For kube.c: the token to send now (read again from a file each time).
 * NULL with *err when the file cannot be read or holds a byte that cannot
 * go into a header. */
char *kube_conf_token(const struct kube_conf *c, char **err)
{
	if (c->token_file) {
		char *t = slurp(c->token_file, SMALL_MAX, NULL);
		if (!t) {
			*err = vdm_strdupf("cannot read token file %s: %s", c->token_file,
					   errno == EFBIG ? "over 64 KiB, not a token" : strerror(errno));
			return NULL;
		}
		trim(t);
		if (!kube_token_ok(t)) {
			*err = vdm_strdupf("token file %s holds a byte that cannot go into an HTTP header "
					   "(control character, space or non-ASCII): not sent", c->token_file);
			free(t);
			return NULL;
		}
		return t;
	}
	return c->token ? vdm_xstrdup(c->token) : NULL;
}
