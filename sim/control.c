/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hidden .vgpu-sim/ directory: operation counters, fault injection, a
 * human-readable list of the simulated GPUs, the type table and per-GPU
 * state (mixed-size mode) that the NVML stand-in reads.  Accesses below it
 * are not counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

const char *const sim_counter_names[SIM_C_COUNT] = {
	[SIM_C_LOOKUP] = "lookup",
	[SIM_C_GETATTR] = "getattr",
	[SIM_C_OPEN] = "open",
	[SIM_C_READ] = "read",
	[SIM_C_WRITE] = "write",
	[SIM_C_READDIR] = "readdir",
	[SIM_C_READLINK] = "readlink",
	[SIM_C_CREATE_OK] = "create_ok",
	[SIM_C_CREATE_FAIL] = "create_fail",
	[SIM_C_REMOVE_OK] = "remove_ok",
	[SIM_C_REMOVE_FAIL] = "remove_fail",
};

static const struct {
	const char *name;
	int err;
} errno_names[] = {
	{ "EIO", EIO },       { "EINVAL", EINVAL }, { "EEXIST", EEXIST }, { "EPERM", EPERM },
	{ "EBUSY", EBUSY },   { "ENODEV", ENODEV }, { "ENOSPC", ENOSPC }, { "EAGAIN", EAGAIN },
	{ "ENOMEM", ENOMEM }, { "EUSERS", EUSERS }, { "E2BIG", E2BIG },   { "EACCES", EACCES },
	{ "ENOENT", ENOENT }, { "ENXIO", ENXIO },
};

static const char *const fault_op_names[SIM_FAULT_COUNT] = {
	[SIM_FAULT_CREATE] = "create",
	[SIM_FAULT_REMOVE] = "remove",
	[SIM_FAULT_MIG] = "mig",
	[SIM_FAULT_GI] = "gi",
};

static const char *errno_name(int err)
{
	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return NULL;
}

static int parse_errno(const char *s)
{
	char *end;

	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (strcasecmp(errno_names[i].name, s) == 0)
			return errno_names[i].err;
	long v = strtol(s, &end, 10);
	if (*s && !*end && v > 0 && v < 4096)
		return (int)v;
	return 0;
}

/* ---- counters ----------------------------------------------------------------- */

static struct sim *sim_of(struct node *n)
{
	return n->data;
}

static int counters_show(struct node *n, struct strbuf *out)
{
	const struct sim *s = sim_of(n);

	for (int i = 0; i < SIM_C_COUNT; i++)
		sb_printf(out, "%s %llu\n", sim_counter_names[i], (unsigned long long)s->counters[i]);
	return 0;
}

static int counters_store(struct node *n, const char *buf, size_t len)
{
	if (len && buf[len - 1] == '\n')
		len--;
	if (len != 5 || memcmp(buf, "reset", 5) != 0)
		return -EINVAL;
	memset(sim_of(n)->counters, 0, sizeof(sim_of(n)->counters));
	return 0;
}

static const struct file_ops counters_ops = { .show = counters_show, .store = counters_store };

/* ---- faults ------------------------------------------------------------------- */

static int faults_show(struct node *n, struct strbuf *out)
{
	const struct sim *s = sim_of(n);

	for (size_t i = 0; i < s->faults.n; i++) {
		const struct sim_fault *f = s->faults.v[i];
		const char *name = errno_name(f->err);
		if (name)
			sb_printf(out, "%s %lu %s\n", fault_op_names[f->op], f->countdown, name);
		else
			sb_printf(out, "%s %lu %d\n", fault_op_names[f->op], f->countdown, f->err);
	}
	return 0;
}

static void faults_clear(struct sim *s)
{
	for (size_t i = 0; i < s->faults.n; i++)
		free(s->faults.v[i]);
	s->faults.n = 0;
}

/* One line: "clear" or "<create|remove|mig|gi> <N> <ERRNO>".  Returns 1 for clear,
 * 0 for a fault (filled in), -EINVAL otherwise. */
static int parse_fault_line(char *line, struct sim_fault *f)
{
	char *save = NULL;
	char *op = strtok_r(line, " \t", &save);
	char *num = op ? strtok_r(NULL, " \t", &save) : NULL;
	char *err = num ? strtok_r(NULL, " \t", &save) : NULL;
	char *end;

	if (op && !num && strcmp(op, "clear") == 0)
		return 1;
	if (!err || strtok_r(NULL, " \t", &save))
		return -EINVAL;
	int which = -1;
	for (int i = 0; i < SIM_FAULT_COUNT; i++)
		if (strcmp(op, fault_op_names[i]) == 0)
			which = i;
	if (which < 0)
		return -EINVAL;
	f->op = (enum sim_fault_op)which;
	f->countdown = strtoul(num, &end, 10);
	if (*end || f->countdown == 0 || num[0] == '-')
		return -EINVAL;
	f->err = parse_errno(err);
	return f->err ? 0 : -EINVAL;
}

/* Validates every line first, then applies them in order. */
static int faults_store(struct node *n, const char *buf, size_t len)
{
	struct sim *s = sim_of(n);
	char *copy = xmalloc(len + 1);
	struct ptrvec parsed = { 0 };
	int rc = 0;

	memcpy(copy, buf, len);
	copy[len] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
		struct sim_fault *f = xcalloc(1, sizeof(*f));
		int r = parse_fault_line(line, f);
		if (r < 0) {
			rc = r;
			free(f);
		} else if (r == 1) {
			free(f);
			pv_push(&parsed, NULL); /* clear marker */
		} else {
			pv_push(&parsed, f);
		}
	}
	if (!rc && parsed.n == 0)
		rc = -EINVAL;
	for (size_t i = 0; i < parsed.n; i++) {
		if (rc)
			free(parsed.v[i]);
		else if (!parsed.v[i])
			faults_clear(s);
		else
			pv_push(&s->faults, parsed.v[i]);
	}
	pv_free(&parsed);
	free(copy);
	return rc;
}

static const struct file_ops faults_ops = { .show = faults_show, .store = faults_store };

int control_take_fault(struct sim *s, enum sim_fault_op op)
{
	int err = 0;
	size_t kept = 0;

	for (size_t i = 0; i < s->faults.n; i++) {
		struct sim_fault *f = s->faults.v[i];
		if (f->op == op && --f->countdown == 0) {
			if (!err)
				err = f->err;
			free(f);
			continue;
		}
		s->faults.v[kept++] = f;
	}
	s->faults.n = kept;
	return -err;
}

/* ---- info --------------------------------------------------------------------- */

static int info_show(struct node *n, struct strbuf *out)
{
	const struct sim *s = sim_of(n);

	sb_puts(out, "# index bdf model board vfs name\n");
	for (size_t i = 0; i < s->gpus.n; i++) {
		const struct sim_gpu *g = s->gpus.v[i];
		sb_printf(out, "%u %s %s %u %zu %s\n", g->index, g->pf->bdf, g->spec->prefix, g->board,
			  g->vfs.n, g->spec->marketing);
	}
	return 0;
}

static const struct file_ops info_ops = { .show = info_show };

/* ---- types: "id name" of every catalogue type of the host's models ------------ */

static void list_types(const struct sim_model_spec *m, const struct sim_type_spec *types, size_t n,
		       struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		sb_printf(out, "%u ", types[i].id);
		sim_type_name(m, &types[i], out);
	}
}

static int types_show(struct node *n, struct strbuf *out)
{
	const struct sim *s = sim_of(n);

	for (size_t i = 0; i < s->gpus.n; i++) {
		const struct sim_model_spec *m = ((const struct sim_gpu *)s->gpus.v[i])->spec;
		size_t j = 0;
		while (((const struct sim_gpu *)s->gpus.v[j])->spec != m)
			j++;
		if (j < i)
			continue; /* model listed already */
		list_types(m, m->types, m->ntypes, out);
		list_types(m, m->unoffered, m->nunoffered, out);
	}
	return 0;
}

static const struct file_ops types_ops = { .show = types_show };

/* ---- gpus/<PF-BDF>/ ---------------------------------------------------------------- */

static int gpu_types_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;
	const struct sim_model_spec *m = g->spec;

	for (size_t i = 0; i < m->ntypes; i++) {
		sb_printf(out, "%u %u ", m->types[i].id, m->types[i].max_instances);
		sim_type_name(m, &m->types[i], out);
	}
	return 0;
}

static const struct file_ops gpu_types_ops = { .show = gpu_types_show };

static int gpu_creatable_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;
	const struct sim_model_spec *m = g->spec;

	for (size_t i = 0; i < m->ntypes; i++)
		if (gpu_creatable(g->sim, g, &m->types[i]))
			sb_printf(out, "%u\n", m->types[i].id);
	return 0;
}

static const struct file_ops gpu_creatable_ops = { .show = gpu_creatable_show };

int control_set_mixed(struct sim *s, struct sim_gpu *g, bool mixed)
{
	enum sim_mix_policy want = mixed ? SIM_MIX_MIXED_SIZE : SIM_MIX_SAME_SIZE;

	if (!g->spec->num_vfs)
		return -EOPNOTSUPP;
	if (g->policy == want)
		return 0;
	if (sim_gpu_nvgpus(s, g))
		return -EBUSY; /* nvidia-smi vgpu -shm: rc 19 [cube] */
	g->policy = want;
	return 0;
}

static int mixed_show(struct node *n, struct strbuf *out)
{
	const struct sim_gpu *g = n->data;

	sb_printf(out, "%d\n", g->policy == SIM_MIX_MIXED_SIZE);
	return 0;
}

static int mixed_store(struct node *n, const char *buf, size_t len)
{
	struct sim_gpu *g = n->data;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len != 1 || (buf[0] != '0' && buf[0] != '1'))
		return -EINVAL;
	return control_set_mixed(g->sim, g, buf[0] == '1');
}

static const struct file_ops mixed_ops = { .show = mixed_show, .store = mixed_store };

void control_add_gpu(struct sim *s, struct sim_gpu *g)
{
	struct tree *t = &s->tree;
	struct node *d = tree_mkdir(t, s->control_gpus, g->pf->bdf);

	tree_text(t, d, "model", "%s\n", g->spec->prefix);
	tree_text(t, d, "framework", "%s\n", sim_framework_names[g->framework]);
	tree_file(t, d, "types", 0444, &gpu_types_ops, g);
	tree_file(t, d, "creatable", 0444, &gpu_creatable_ops, g);
	if (g->spec->num_vfs)
		tree_file(t, d, "mixed_size", 0644, &mixed_ops, g);
	if (g->spec->ngi_profiles)
		mig_add_gpu_files(s, g, d);
}

void control_init(struct sim *s)
{
	struct node *d = tree_mkdir(&s->tree, s->tree.root, ".vgpu-sim");

	d->internal = true;
	d->hidden = true;
	tree_file(&s->tree, d, "counters", 0644, &counters_ops, s);
	tree_file(&s->tree, d, "faults", 0644, &faults_ops, s);
	tree_file(&s->tree, d, "info", 0444, &info_ops, s);
	tree_file(&s->tree, d, "types", 0444, &types_ops, s);
	s->control_gpus = tree_mkdir(&s->tree, d, "gpus");
}

void control_fini(struct sim *s)
{
	faults_clear(s);
	pv_free(&s->faults);
}
