/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "host/host.h"
#include "report/report.h"
#include "apply/apply.h"

static void print_gpu(struct vdm_host *h, struct vdm_gpu *g)
{
	printf("GPU %d  %s  %s  0x%04X%04X:0x%04X%04X  %s", g->index, g->addr,
	       *g->model ? g->model : "-", g->id.device, g->id.vendor, g->id.subsys_device,
	       g->id.subsys_vendor, vdm_framework_name(g->fw));
	if (g->sriov)
		printf("  SR-IOV %d/%d VFs", g->num_vfs, g->total_vfs);
	printf("  %zu parent%s\n", g->n_parents, g->n_parents == 1 ? "" : "s");
	if (g->n_types) {
		printf("  %-22s %-12s %7s %7s\n", "TYPE", "ID", "FREE", "MAX");
		for (size_t t = 0; t < g->n_types; t++) {
			const struct vdm_vtype *vt = &g->types[t];
			char max[16] = "unknown", free_s[16] = "unknown";
			if (vt->max_instances >= 0)
				snprintf(max, sizeof(max), "%d", vt->max_instances);
			int n = vdm_gpu_free_instances(h, g, (int)t);
			if (n >= 0)
				snprintf(free_s, sizeof(free_s), "%d", n);
			else if (n != VDM_FREE_UNKNOWN)
				vdm_warn(h->ctx, "GPU %d: %s", g->index, h->error);
			printf("  %-22s %-12s %7s %7s\n", vt->name, vt->id, free_s, max);
		}
	}
	vdm_mig_print_gpu(stdout, g);
	if (g->n_vgpus) {
		printf("  %-36s  %-22s %s\n", "VGPU", "TYPE", "PARENT");
		for (size_t v = 0; v < g->n_vgpus; v++) {
			const struct vdm_vgpu *vg = &g->vgpus[v];
			printf("  %-36s  %-22s %s\n", vg->id,
			       vg->type >= 0 ? g->types[vg->type].name : vg->type_id, vg->parent->addr);
		}
	} else {
		printf("  no vGPUs\n");
	}
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	bool json = false, help = false, debug = false;
	const struct opt opts[] = {
		{"json", 0, OPT_BOOL, NULL, NULL, "Print JSON", &json},
		{"debug", 'd', OPT_BOOL, "VGPU_DM_DEBUG", NULL, "Enable debug-level logging", &debug},
		{"help", 'h', OPT_BOOL, NULL, NULL, "show help", &help},
		OPT_END,
	};
	int rc = cmd_start(c, "list", "[--json]",
			   "List GPUs, the vGPU types they offer with free capacity, and existing vGPUs",
			   opts, argc, argv, &help, &debug);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_FAIL;

	struct vdm_host *h;
	char *err = vdm_root_problem(c->ctx);
	if (err || vdm_host_scan(c->ctx, &h, &err) < 0) {
		cli_fatal(c, "%s", err);
		free(err);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < h->n_unreadable; i++)
		vdm_warn(c->ctx, "%s: this device cannot be identified: GPU indexes after it are in doubt",
			 h->unreadable[i]);
	for (size_t i = 0; i < h->n_gpus; i++)
		if (h->gpus[i].unreadable)
			vdm_warn(c->ctx, "GPU %d (%s): its state cannot be read: %s", h->gpus[i].index,
				 h->gpus[i].addr, h->gpus[i].unreadable);
	cli_note_pending(c, h, false);
	if (json) {
		struct json_object *o = vdm_json_host(h);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (h->n_gpus == 0) {
		printf("no NVIDIA GPU found\n");
	} else {
		for (size_t g = 0; g < h->n_gpus; g++)
			print_gpu(h, &h->gpus[g]);
	}
	vdm_host_free(h);
	return EXIT_OK;
}
