/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VGPUDM_CLI_H
#define VGPUDM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "base/base.h"

/* Exit codes (README, "Exit codes"). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,             /* not applied, invalid config or usage, apply refused or
				      failed and rolled back */
	EXIT_IN_USE = 3,           /* apply would remove a vGPU a process holds (no --force) */
	EXIT_LOCKED = 4,           /* another apply held the lock past --lock-timeout */
	EXIT_ROLLBACK_FAILED = 5,  /* apply failed and the host could not be restored */
};

/* What every command gets: the library context made from global options. */
struct cli {
	struct vdm_ctx *ctx;
	const char *prog;
	bool debug;
};

/* Log like upstream's logrus text output: "INFO[0000] message" on stderr,
 * where 0000 is cli_elapsed_secs since the start. */
struct timespec;
/* Whole seconds from start to now (0.29 s from x.9 is 0, not 1). */
long cli_elapsed_secs(const struct timespec *start, const struct timespec *now);
void cli_log(struct vdm_ctx *ctx, int prio, const char *msg, void *userdata);
void cli_fatal(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_info(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options: Go-flag style, as upstream's CLI accepts them: -f X, -f=X,
 * --config-file X, --config-file=X, -config-file X; a bool as -a or -a=false.
 * Parsing stops at the first non-option or "--". The environment variable, if
 * any, gives the default. */
enum opt_kind { OPT_STRING, OPT_BOOL, OPT_LIST };
/* OPT_LIST: a repeatable option; dest is a struct opt_list, values in order. */
#define OPT_LIST_MAX 32
struct opt_list {
	const char *v[OPT_LIST_MAX];
	size_t n;
};
struct opt {
	const char *name;       /* long name */
	char shortname;         /* 0 if none */
	enum opt_kind kind;
	const char *env;        /* NULL if none */
	const char *argname;    /* for help: "FILE" */
	const char *help;
	void *dest;             /* const char **, bool * or struct opt_list * */
};
/* Returns index of the first non-option argument, or -1 after printing an error. */
int opts_parse(struct cli *c, const char *cmd, const struct opt *opts, int argc, char **argv);
void opts_help(FILE *f, const struct opt *opts);
/* The usual start of a command without positional arguments: parse opts,
 * print help when *help gets set, refuse extra arguments, turn on debug
 * logging when *debug gets set. Returns 0 to go on, 1 when help was printed,
 * -1 after reporting an error. */
int cmd_start(struct cli *c, const char *cmd, const char *usage, const char *summary,
	      const struct opt *opts, int argc, char **argv, const bool *help, const bool *debug);
bool parse_bool(const char *s, bool *out);
/* Warn about an unfinished apply's journal; with view, show h as the next
 * apply's restore leaves it (export: the layout apply starts from). */
struct vdm_host;
void cli_note_pending(struct cli *c, struct vdm_host *h, bool view);

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *summary;
};

int cmd_apply(struct cli *c, int argc, char **argv);
int cmd_assert(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_plan(struct cli *c, int argc, char **argv);
int cmd_doctor(struct cli *c, int argc, char **argv);
int cmd_capture(struct cli *c, int argc, char **argv);

#endif
