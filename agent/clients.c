/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GPU_CLIENTS_FILE, upstream's format: the host systemd services that use
 * the GPUs (reference §1.2, §1.9):
 *   version: v1
 *   systemd-services:
 *     - nvsm.service
 * With WITH_SHUTDOWN_HOST_GPU_CLIENTS the active ones are stopped while the
 * vGPUs change and started again afterwards, on every way out, as upstream
 * does with `chroot $HOST_ROOT_MOUNT systemctl ...`. chroot is found and run
 * through lib/exec (VGPU_DM_CHROOT overrides it).
 *
 * The names run as root on the host, so the file is refused unless each is
 * a valid unit name by systemd's rules (src/basic/unit-name.c): at most 255
 * bytes of [A-Za-z0-9:_.\-] and '@' (prefix@instance), ending in a unit type
 * suffix; a name without one gets ".service", as systemctl adds it. No glob
 * (`stop '*'` would stop every loaded unit), no path, no template without an
 * instance; and "--" goes before the name, so "-.mount" is no option.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "agent.h"
#include "base/base.h"

#define SYSTEMCTL_TIMEOUT_MS 60000
#define CLIENTS_MAX (1 << 20)

static yaml_node_t *get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *const unit_types[] = {".service", ".socket", ".target", ".device", ".mount",
					 ".automount", ".swap", ".timer", ".path", ".slice", ".scope"};

char *clients_unit_name(const char *s, const char **why)
{
	size_t n = strlen(s);
	const char *dot = strrchr(s, '.');
	bool typed = false;
	for (size_t i = 0; dot && i < sizeof(unit_types) / sizeof(unit_types[0]); i++)
		typed |= !strcmp(dot, unit_types[i]);
	char *u = typed ? vdm_xstrdup(s) : vdm_strdupf("%s.service", s);
	size_t len = strlen(u), base = (size_t)(strrchr(u, '.') - u);
	const char *at = memchr(u, '@', base);
	*why = NULL;
	if (!n)
		*why = "empty";
	else if (len > 255)
		*why = "longer than 255 bytes";
	else if (strchr(s, '/'))
		*why = "a path, not a unit name";
	else if (strpbrk(s, "*?[]"))
		*why = "a glob pattern (systemctl would act on every unit that matches)";
	else if (base == 0 || at == u)
		*why = "no name before the suffix";
	else if (at && at + 1 == u + base)
		*why = "a template without an instance";
	for (size_t i = 0; !*why && i < base; i++) {
		unsigned char c = (unsigned char)u[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    !strchr(":-_.\\", c) && !(c == '@' && at))
			*why = "a character systemd does not allow in a unit name";
	}
	if (*why) {
		free(u);
		return NULL;
	}
	return u;
}

static int parse(struct agent *a, yaml_document_t *d, const char *path, char **err)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *v, *l;
	if (!root || root->type != YAML_MAPPING_NODE) {
		*err = vdm_strdupf("GPU clients file %s: not a mapping", path);
		return -1;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		const char *key = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";
		if (strcmp(key, "version") && strcmp(key, "systemd-services")) {
			*err = vdm_strdupf("GPU clients file %s:%zu:%zu: unknown field \"%s\"", path,
					   k->start_mark.line + 1, k->start_mark.column + 1, key);
			return -1;
		}
	}
	v = get(d, root, "version");
	if (!v || v->type != YAML_SCALAR_NODE || strcmp((char *)v->data.scalar.value, "v1")) {
		*err = vdm_strdupf("GPU clients file %s: version must be v1", path);
		return -1;
	}
	l = get(d, root, "systemd-services");
	if (!l)
		return 0;
	if (l->type != YAML_SEQUENCE_NODE) {
		*err = vdm_strdupf("GPU clients file %s:%zu:%zu: systemd-services must be a list", path,
				   l->start_mark.line + 1, l->start_mark.column + 1);
		return -1;
	}
	for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
		yaml_node_t *s = yaml_document_get_node(d, *i);
		const char *why = "not a string";
		char *u = NULL;
		if (s->type == YAML_SCALAR_NODE && strlen((char *)s->data.scalar.value) != s->data.scalar.length)
			why = "a NUL byte";
		else if (s->type == YAML_SCALAR_NODE)
			u = clients_unit_name((char *)s->data.scalar.value, &why);
		if (!u) {
			*err = vdm_strdupf("GPU clients file %s:%zu:%zu: not a systemd unit name (%s)%s%.80s%s",
					   path, s->start_mark.line + 1, s->start_mark.column + 1, why,
					   s->type == YAML_SCALAR_NODE ? ": \"" : "",
					   s->type == YAML_SCALAR_NODE ? (char *)s->data.scalar.value : "",
					   s->type == YAML_SCALAR_NODE ? "\"" : "");
			return -1;
		}
		a->clients = vdm_xrealloc(a->clients, a->n_clients + 1, sizeof(*a->clients));
		a->clients[a->n_clients].name = u;
		a->clients[a->n_clients++].stopped = false;
	}
	return 0;
}

int clients_validate(struct agent *a, char **err)
{
	const char *path = a->o.gpu_clients_file;
	if (!path || !*path)
		return 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		*err = vdm_strdupf("GPU clients file %s: %s", path, strerror(errno));
		return -1;
	}
	/* a list of a few service names: read at most CLIENTS_MAX bytes */
	char *buf = vdm_xcalloc(1, CLIENTS_MAX + 1);
	size_t len = fread(buf, 1, CLIENTS_MAX + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || len > CLIENTS_MAX) {
		*err = bad ? vdm_strdupf("GPU clients file %s: cannot read it", path)
			   : vdm_strdupf("GPU clients file %s: over %d KiB, not a list of services", path,
					 CLIENTS_MAX >> 10);
		free(buf);
		return -1;
	}
	yaml_parser_t p;
	yaml_document_t d;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int rc = -1;
	if (!yaml_parser_load(&p, &d)) {
		*err = vdm_strdupf("GPU clients file %s:%zu:%zu: %s", path, p.problem_mark.line + 1,
				   p.problem_mark.column + 1, p.problem ? p.problem : "invalid YAML");
	} else {
		rc = parse(a, &d, path, err);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	free(buf);
	return rc;
}

void clients_free(struct agent *a)
{
	for (size_t i = 0; i < a->n_clients; i++)
		free(a->clients[i].name);
	free(a->clients);
	a->clients = NULL;
	a->n_clients = 0;
}

/* chroot HOST_ROOT systemctl VERB NAME: 0 exit status 0, 1 another status,
 * -1 could not run it (*err). */
static int systemctl(struct agent *a, const char *verb, const char *name, char **err)
{
	char path[4096];
	int rc = vdm_tool_find(a->ctx, "chroot", path, sizeof(path), NULL);
	if (rc < 0) {
		*err = vdm_strdupf("cannot find chroot (%s) to run systemctl on the host", path);
		return -1;
	}
	char *const argv[] = {"chroot", (char *)agent_host_root(a), "systemctl", (char *)verb, "--",
			      (char *)name, NULL};
	struct vdm_exec_opts o = {.timeout_ms = SYSTEMCTL_TIMEOUT_MS, .out = VDM_EXEC_DISCARD,
				  .err = VDM_EXEC_CAPTURE};
	struct vdm_exec_result r;
	rc = vdm_exec(path, argv, &o, &r, err);
	if (rc == 0 && r.exit_code != 0 && strcmp(verb, "is-active")) {
		char *how = vdm_exec_outcome(&r), *line = vdm_exec_last_line(&r);
		*err = vdm_strdupf("chroot %s systemctl %s %s: %s%s%s", agent_host_root(a), verb, name, how,
				   line ? ": " : "", line ? line : "");
		free(how);
		free(line);
	}
	int out = rc < 0 ? -1 : r.exit_code == 0 ? 0 : 1;
	vdm_exec_result_free(&r);
	return out;
}

int clients_stop(struct agent *a, char **err)
{
	if (!a->o.with_shutdown_clients)
		return 0;
	for (size_t i = 0; i < a->n_clients; i++) {
		struct client *c = &a->clients[i];
		int rc = systemctl(a, "is-active", c->name, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue; /* not running: nothing to stop, nothing to start later */
		vdm_info(a->ctx, "Stopping host GPU client %s", c->name);
		if (systemctl(a, "stop", c->name, err) != 0)
			return -1;
		c->stopped = true;
		a->host_clients_stopped = true;
	}
	return 0;
}

void clients_start(struct agent *a)
{
	for (size_t i = 0; i < a->n_clients; i++) {
		struct client *c = &a->clients[i];
		if (!c->stopped)
			continue;
		char *err = NULL;
		vdm_info(a->ctx, "Starting host GPU client %s", c->name);
		if (systemctl(a, "start", c->name, &err) != 0) {
			vdm_err(a->ctx, "%s", err);
			free(err);
		}
		c->stopped = false;
	}
	a->host_clients_stopped = false;
}

/* WITH_REBOOT: `chroot HOST_ROOT reboot`, as upstream starts it (chroot
 * through lib/exec, so VGPU_DM_CHROOT overrides it). 0 when it ran and
 * exited 0, else -1 with *err. */
int host_reboot(struct agent *a, char **err)
{
	char path[4096];
	int rc = vdm_tool_find(a->ctx, "chroot", path, sizeof(path), NULL);
	if (rc < 0) {
		*err = vdm_strdupf("cannot find chroot (%s) to reboot the host", path);
		return -1;
	}
	char *const argv[] = {"chroot", (char *)agent_host_root(a), "reboot", NULL};
	struct vdm_exec_opts o = {.timeout_ms = SYSTEMCTL_TIMEOUT_MS, .out = VDM_EXEC_DISCARD,
				  .err = VDM_EXEC_CAPTURE};
	struct vdm_exec_result r;
	rc = vdm_exec(path, argv, &o, &r, err);
	if (rc == 0 && r.exit_code != 0) {
		char *how = vdm_exec_outcome(&r), *line = vdm_exec_last_line(&r);
		*err = vdm_strdupf("chroot %s reboot: %s%s%s", agent_host_root(a), how, line ? ": " : "",
				   line ? line : "");
		free(how);
		free(line);
	}
	int out = rc == 0 && r.exit_code == 0 ? 0 : -1;
	vdm_exec_result_free(&r);
	return out;
}
