/* SPDX-License-Identifier: Apache-2.0 */
#include "fake_sysfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "host/host.h"
#include "plan/plan.h"
#include "spec/spec.h"

char root[256];

void mkdirs(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

void put(const char *rel, const char *fmt, ...)
{
	char path[1024], dir[1024];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

void link_to(const char *rel, const char *target)
{
	char path[1024], dir[1024];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	assert_int_equal(symlink(target, path), 0);
}

void pci(const char *bdf, const char *vendor, const char *device, const char *klass)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", bdf);
	put(rel, "%s\n", vendor);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", bdf);
	put(rel, "%s\n", device);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", bdf);
	put(rel, "%s\n", klass);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/subsystem_vendor", bdf);
	put(rel, "0x10de\n");
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/subsystem_device", bdf);
	put(rel, "0x12a2\n");
}

void t4_types(const char *parent, int avail_4q)
{
	static const struct { int id, gb, max; } q[] = {
		{230, 1, 16}, {231, 2, 8}, {232, 4, 4}, {233, 8, 2}, {234, 16, 1}};
	char rel[256], cls[128];
	snprintf(cls, sizeof(cls), "sys/class/mdev_bus/%s", parent);
	char target[128];
	snprintf(target, sizeof(target), "../../bus/pci/devices/%s", parent);
	link_to(cls, target);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/mdev_supported_types/nvidia-%d/name",
			 parent, q[i].id);
		put(rel, "GRID T4-%dQ\n", q[i].gb);
		snprintf(rel, sizeof(rel),
			 "sys/bus/pci/devices/%s/mdev_supported_types/nvidia-%d/description", parent,
			 q[i].id);
		put(rel, "num_heads=4, frl_config=60, framebuffer=%dM, max_resolution=7680x4320, "
			 "max_instance=%d\n", q[i].gb * 1024, q[i].max);
		snprintf(rel, sizeof(rel),
			 "sys/bus/pci/devices/%s/mdev_supported_types/nvidia-%d/available_instances",
			 parent, q[i].id);
		put(rel, "%d\n", q[i].gb == 4 ? avail_4q : q[i].max);
	}
}

void vgpu(const char *parent, const char *uuid, int type_id)
{
	char rel[256], target[256];
	snprintf(rel, sizeof(rel), "sys/bus/mdev/devices/%s", uuid);
	snprintf(target, sizeof(target), "../../../bus/pci/devices/%s/%s", parent, uuid);
	link_to(rel, target);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s/mdev_type", parent, uuid);
	snprintf(target, sizeof(target), "../mdev_supported_types/nvidia-%d", type_id);
	link_to(rel, target);
}

int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/vgpudm-unit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(root));
	return 0;
}

int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

void scan(struct world *w)
{
	memset(w, 0, sizeof(*w));
	vdm_ctx_new(&w->ctx, root);
	assert_int_equal(vdm_host_scan(w->ctx, &w->host, &w->err), 0);
}

int plan_for(struct world *w, const char *yaml, const char *label, unsigned flags)
{
	w->spec = vdm_spec_parse("t.yaml", yaml, strlen(yaml), &w->err);
	if (!w->spec)
		fail_msg("spec: %s", w->err);
	const struct vdm_config *cfg = vdm_spec_find(w->spec, label);
	assert_non_null(cfg);
	return vdm_plan_build(w->host, w->spec, cfg, flags, &w->plan, &w->err);
}

void done(struct world *w)
{
	vdm_plan_free(w->plan);
	vdm_spec_free(w->spec);
	vdm_host_free(w->host);
	vdm_ctx_free(w->ctx);
	free(w->err);
}

void two_t4_and_nic(void)
{
	pci("0000:af:00.0", "0x10de", "0x1eb8", "0x030200");
	pci("0000:3b:00.0", "0x10de", "0x1eb8", "0x030200");
	pci("0000:00:1f.6", "0x8086", "0x15bb", "0x020000");
	t4_types("0000:3b:00.0", 4);
	t4_types("0000:af:00.0", 4);
}

char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

void check_golden(const char *name, const char *actual)
{
	char path[1024];
	const char *src = getenv("VGPUDM_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/golden/%s", src && *src ? src : ".", name);
	const char *update = getenv("VGPUDM_UPDATE_GOLDEN");
	if (update && !strcmp(update, "1")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(actual, f);
		fclose(f);
		return;
	}
	char *want = read_all(path);
	if (!want)
		fail_msg("cannot read golden file %s", path);
	if (strcmp(want, actual) != 0) {
		print_error("--- %s (golden)\n%s--- actual\n%s---\n", path, want, actual);
		free(want);
		fail_msg("output differs from %s (VGPUDM_UPDATE_GOLDEN=1 rewrites it)", path);
	}
	free(want);
}
