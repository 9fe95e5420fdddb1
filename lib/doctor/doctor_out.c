/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor's printers: the terminal table and the JSON array (doctor.h).
 *
 *   vGPU host (nvidia-smi -q line 9: Virtualization Mode : Host VGPU)
 *   RESULT  CHECK                 DETAIL
 *   ok      host.driver.loaded    nvidia 550.90.05 is loaded
 *   FAIL    host.sriov.vfs        GPU 0 (0000:03:00.0): 0 of 32 SR-IOV VFs enabled
 *             fix: /usr/lib/nvidia/sriov-manage -e 0000:03:00.0
 *             saw: /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs: 0
 *   14 checks: 11 ok, 0 warn, 1 fail, 2 skip
 */
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

static const char *word(enum vdm_check_result r)
{
	switch (r) {
	case VDM_CHECK_OK:
		return "ok";
	case VDM_CHECK_WARN:
		return "WARN";
	case VDM_CHECK_FAIL:
		return "FAIL";
	case VDM_CHECK_SKIP:
		break;
	}
	return "skip";
}

static const char *colour(enum vdm_check_result r)
{
	switch (r) {
	case VDM_CHECK_OK:
		return "\033[32m";
	case VDM_CHECK_WARN:
		return "\033[33m";
	case VDM_CHECK_FAIL:
		return "\033[1;31m";
	case VDM_CHECK_SKIP:
		break;
	}
	return "\033[2m";
}

/* Text from column indent on, wrapped at word boundaries so lines end by
 * column width (0: no wrap); continuation lines start at column cont. */
static void wrapped(FILE *f, const char *text, size_t indent, size_t cont, size_t width)
{
	size_t col = indent;
	const char *p = text;
	if (!width || indent + strlen(text) <= width) {
		fprintf(f, "%s\n", text);
		return;
	}
	while (*p) {
		size_t w = strcspn(p, " ");
		if (col > cont && col + 1 + w > width) {
			fprintf(f, "\n%*s", (int)cont, "");
			col = cont;
		} else if (col > indent && col > cont) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void vdm_doctor_print(FILE *f, const struct vdm_doctor *d, bool color, unsigned width)
{
	size_t w = strlen("CHECK");
	unsigned count[4] = {0};
	for (size_t i = 0; i < d->n_checks; i++) {
		size_t l = strlen(d->checks[i].id);
		if (l > w)
			w = l;
	}
	fprintf(f, "%s (%s)\n", d->mode == VDM_DOCTOR_HOST ? "vGPU host" : "vGPU guest", d->mode_why);
	fprintf(f, "%-6s  %-*s  %s\n", "RESULT", (int)w, "CHECK", "DETAIL");
	for (size_t i = 0; i < d->n_checks; i++) {
		const struct vdm_check *c = &d->checks[i];
		count[c->result]++;
		if (color)
			fprintf(f, "%s%-6s\033[0m", colour(c->result), word(c->result));
		else
			fprintf(f, "%-6s", word(c->result));
		char *detail = vdm_strdupf("%s%s%s", c->target, *c->target ? ": " : "", c->summary);
		fprintf(f, "  %-*s  ", (int)w, c->id);
		wrapped(f, detail, 8 + w + 2, 8 + w + 4, width);
		free(detail);
		if (c->result == VDM_CHECK_OK)
			continue;
		size_t in = 8 + w + 4;
		if (c->remedy) {
			fprintf(f, "%*sfix: ", (int)in, "");
			wrapped(f, c->remedy, in + 5, in + 5, width);
		}
		for (size_t e = 0; e < c->n_ev; e++) {
			char *line = vdm_strdupf("%s%s%s", c->ev[e].source, *c->ev[e].line ? ": " : "", c->ev[e].line);
			fprintf(f, "%*ssaw: ", (int)in, "");
			wrapped(f, line, in + 5, in + 5, width);
			free(line);
		}
	}
	fprintf(f, "%zu checks: %u ok, %u warn, %u fail, %u skip\n", d->n_checks, count[VDM_CHECK_OK],
		count[VDM_CHECK_WARN], count[VDM_CHECK_FAIL], count[VDM_CHECK_SKIP]);
}

struct json_object *vdm_doctor_json(const struct vdm_doctor *d)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < d->n_checks; i++) {
		const struct vdm_check *c = &d->checks[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(c->id));
		json_object_object_add(o, "target", json_object_new_string(c->target));
		json_object_object_add(o, "result", json_object_new_string(vdm_check_result_name(c->result)));
		json_object_object_add(o, "summary", json_object_new_string(c->summary));
		struct json_object *ev = json_object_new_array();
		for (size_t e = 0; e < c->n_ev; e++) {
			struct json_object *x = json_object_new_object();
			json_object_object_add(x, "source", json_object_new_string(c->ev[e].source));
			json_object_object_add(x, "line", json_object_new_string(c->ev[e].line));
			json_object_array_add(ev, x);
		}
		json_object_object_add(o, "evidence", ev);
		json_object_object_add(o, "remedy", c->remedy ? json_object_new_string(c->remedy) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}
