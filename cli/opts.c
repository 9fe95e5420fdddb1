/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "apply/apply.h"

bool parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(s, t[i])) {
			*out = true;
			return true;
		}
		if (!strcmp(s, f[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static const struct opt *find(const struct opt *opts, const char *name, size_t len)
{
	for (const struct opt *o = opts; o->name; o++) {
		if (len == 1 && o->shortname == name[0])
			return o;
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	}
	return NULL;
}

static bool set_value(struct cli *c, const struct opt *o, const char *val, const char *from)
{
	if (o->kind == OPT_STRING) {
		*(const char **)o->dest = val;
		return true;
	}
	if (o->kind == OPT_LIST) {
		struct opt_list *l = o->dest;
		if (l->n == OPT_LIST_MAX) {
			cli_fatal(c, "too many %s (at most %d)", from, OPT_LIST_MAX);
			return false;
		}
		l->v[l->n++] = val;
		return true;
	}
	if (!parse_bool(val, (bool *)o->dest)) {
		cli_fatal(c, "invalid boolean value \"%s\" for %s: parse error", val, from);
		return false;
	}
	return true;
}

int opts_parse(struct cli *c, const char *cmd, const struct opt *opts, int argc, char **argv)
{
	for (const struct opt *o = opts; o->name; o++) {
		const char *v = o->env ? getenv(o->env) : NULL;
		if (v && *v && !set_value(c, o, v, o->env))
			return -1;
	}
	int i = 0;
	while (i < argc) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] != '-' || a[1] == '\0')
			return i;
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct opt *o = len ? find(opts, name, len) : NULL;
		if (!o) {
			cli_fatal(c, "flag provided but not defined: -%.*s (see '%s %s --help')", (int)len,
				  name, c->prog, cmd);
			return -1;
		}
		i++;
		if (eq) {
			if (!set_value(c, o, eq + 1, a))
				return -1;
		} else if (o->kind == OPT_BOOL) {
			*(bool *)o->dest = true;
		} else {
			if (i >= argc) {
				cli_fatal(c, "flag needs an argument: %s", a);
				return -1;
			}
			if (!set_value(c, o, argv[i++], a))
				return -1;
		}
	}
	return i;
}

void opts_help(FILE *f, const struct opt *opts)
{
	for (const struct opt *o = opts; o->name; o++) {
		char lhs[64];
		const char *sp = o->argname ? " " : "", *arg = o->argname ? o->argname : "";
		if (o->shortname)
			snprintf(lhs, sizeof(lhs), "--%s%s%s, -%c%s%s", o->name, sp, arg, o->shortname, sp, arg);
		else
			snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name, sp, arg);
		fprintf(f, "   %-36s %s", lhs, o->help);
		if (o->env)
			fprintf(f, " [$%s]", o->env);
		fputc('\n', f);
	}
}

int cmd_start(struct cli *c, const char *cmd, const char *usage, const char *summary,
	      const struct opt *opts, int argc, char **argv, const bool *help, const bool *debug)
{
	int i = opts_parse(c, cmd, opts, argc - 1, argv + 1);
	if (i < 0)
		return -1;
	if (*help) {
		printf("NAME:\n   %s %s - %s\n\nUSAGE:\n   %s %s %s\n\nOPTIONS:\n", c->prog, cmd, summary,
		       c->prog, cmd, usage);
		opts_help(stdout, opts);
		return 1;
	}
	if (i + 1 < argc) {
		cli_fatal(c, "unexpected argument '%s' (see '%s %s --help')", argv[i + 1], c->prog, cmd);
		return -1;
	}
	if (*debug)
		vdm_ctx_set_log(c->ctx, VDM_LOG_DEBUG, cli_log, c);
	return 0;
}

void cli_note_pending(struct cli *c, struct vdm_host *h, bool view)
{
	char *note = NULL, *err = NULL;
	if (vdm_host_view_pending(h, view, &note, &err) < 0)
		vdm_warn(c->ctx, "%s", err);
	else if (note)
		vdm_warn(c->ctx, "%s", note);
	free(note);
	free(err);
}
