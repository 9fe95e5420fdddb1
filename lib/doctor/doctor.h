/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor: the operator's vGPU checklist as a list of checks, on the
 * hypervisor (host.*) or inside the VM (guest.*). Each check has a stable id
 * ("host.driver.loaded"), an optional target ("GPU 0 (0000:3b:00.0)"), a
 * result, one line saying what was found (or why it was skipped), the
 * evidence it saw (a file under the root or a command, and the line it
 * read) and, for every result but ok, a remedy a person can act on.
 *
 * Every file is read under the context's root; every command (nvidia-smi,
 * systemctl, journalctl, docker) is found and run through exec.h. Sources of
 * the facts and formats: ../shared/reference/guest-and-host-checks.md and
 * doctor-plan-mig.md §1-2; the tables are in doctor_facts.c.
 */
#ifndef VGPUDM_DOCTOR_H
#define VGPUDM_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "base/base.h"
#include "spec/spec.h"

enum vdm_check_result {
	VDM_CHECK_OK,
	VDM_CHECK_WARN,
	VDM_CHECK_FAIL,
	VDM_CHECK_SKIP,
};

enum vdm_doctor_mode {
	VDM_DOCTOR_AUTO,   /* detect: nvidia-smi's Virtualization Mode, else PCI evidence */
	VDM_DOCTOR_HOST,
	VDM_DOCTOR_GUEST,
};

struct vdm_evidence {
	char *source;      /* a path under the root, or a command line ("nvidia-smi -q") */
	char *line;        /* what it said, one line ("" when it was absent) */
};

struct vdm_check {
	char *id;          /* stable: "guest.license.status" */
	char *target;      /* "GPU 0 (0000:3b:00.0)", "" for the machine */
	enum vdm_check_result result;
	char *summary;     /* one line: what was found, or why it was skipped */
	char *remedy;      /* NULL when ok */
	struct vdm_evidence *ev;
	size_t n_ev;
};

struct vdm_doctor_opts {
	enum vdm_doctor_mode mode;
	int cuda_major;                  /* --cuda N: the CUDA major the user needs; 0 none */
	const struct vdm_spec *spec;     /* -f/-c on a host: check the layout too */
	const struct vdm_config *cfg;
	int connect_timeout_ms;          /* licence server TCP connect; 0: 2000 */
};

struct vdm_doctor {
	struct vdm_ctx *ctx;
	enum vdm_doctor_mode mode;       /* HOST or GUEST after detection */
	char *mode_why;                  /* how it was decided: "nvidia-smi -q: Virtualization Mode : Host VGPU" */
	struct vdm_check *checks;
	size_t n_checks;
	const struct vdm_doctor_opts *opts;
	struct vdm_doctor_cache *cache;  /* command outputs, internal */
};

/* Run every check of the mode (detected when AUTO). Returns 0, or -errno
 * with *err set when doctor itself could not run (mode not detectable, no
 * root). The result is in *out. */
int vdm_doctor_run(struct vdm_ctx *ctx, const struct vdm_doctor_opts *o, struct vdm_doctor **out,
		   char **err);
void vdm_doctor_free(struct vdm_doctor *d);
/* 1 when any check failed, else 0. */
int vdm_doctor_failed(const struct vdm_doctor *d);
const char *vdm_check_result_name(enum vdm_check_result r);

/* The terminal table: one line per check (RESULT, CHECK, DETAIL: target and
 * summary), a remedy line ("fix:") and the evidence ("saw:") under every
 * non-ok check, then a count line. color: ANSI colours for the result word
 * (callers pass isatty()); width: wrap at word boundaries to end lines by
 * this column (the terminal's), 0 for one line each. */
void vdm_doctor_print(FILE *f, const struct vdm_doctor *d, bool color, unsigned width);
/* [{"id", "target", "result", "summary", "evidence": [{"source", "line"}],
 *   "remedy": string or null}, ...] in check order. */
struct json_object *vdm_doctor_json(const struct vdm_doctor *d);

/* ---- building checks (doctor_host.c, doctor_guest.c) ---- */
struct vdm_check *vdm_doctor_add(struct vdm_doctor *d, const char *id, const char *target,
				 enum vdm_check_result r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void vdm_check_evidence(struct vdm_check *c, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vdm_check_remedy(struct vdm_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run a tool through exec.h with args (NULL-terminated), cached per command
 * line for the run. Returns its exit status (>= 0), or -ENOENT when the tool
 * is not found, or another -errno. *out (may be NULL) points at its standard
 * output, owned by the doctor; *cmdline at the command as shown in evidence. */
int vdm_doctor_cmd(struct vdm_doctor *d, const char *tool, const char *const *args, const char **out,
		   const char **cmdline);

void vdm_doctor_host(struct vdm_doctor *d);
void vdm_doctor_guest(struct vdm_doctor *d);

/* The rest of the doctor wing's face: the facts it judges by. */
#include "doctor_facts.h"

#endif
