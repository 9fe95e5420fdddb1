/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small sysfs trees for unit tests, written as plain files and relative
 * symlinks (as sysfs has them) under a temporary directory, root. Use setup
 * and teardown as cmocka fixtures: each test gets a fresh, empty root.
 */
#ifndef VGPUDM_TEST_FAKE_SYSFS_H
#define VGPUDM_TEST_FAKE_SYSFS_H

extern char root[256];

int setup(void **state);     /* make a fresh root */
int teardown(void **state);  /* remove it */

void mkdirs(const char *path);
/* Write root/rel (creating directories) with printf-formatted content. */
void put(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Make root/rel a symlink to target. */
void link_to(const char *rel, const char *target);
/* A PCI function: vendor, device, class, subsystem 0x10de:0x12a2. */
void pci(const char *bdf, const char *vendor, const char *device, const char *klass);
/* Make parent an mdev parent with the T4 Q types (1, 2, 4, 8, 16 GB; ids
 * nvidia-230..234 as the 510 driver numbers them); T4-4Q shows avail_4q
 * available instances, the others their maximum. */
void t4_types(const char *parent, int avail_4q);
/* An mdev vGPU on parent of type nvidia-<type_id>. */
void vgpu(const char *parent, const char *uuid, int type_id);

/* The whole of a file, malloc'd; NULL when it cannot be opened. */
char *read_all(const char *path);
/* Fail the test unless actual equals tests/golden/<name> (under
 * $VGPUDM_SRCDIR, else the working directory); VGPUDM_UPDATE_GOLDEN=1
 * rewrites the file instead. */
void check_golden(const char *name, const char *actual);

/* A scanned fake host, a parsed config and its plan, freed by world_done. */
struct vdm_ctx;
struct vdm_host;
struct vdm_spec;
struct vdm_plan;
struct world {
	struct vdm_ctx *ctx;
	struct vdm_host *host;
	struct vdm_spec *spec;
	struct vdm_plan *plan;
	char *err;
};
/* Scan root into w (cleared first); the scan must succeed. */
void scan(struct world *w);
/* Parse yaml (source "t.yaml"; it must be valid and have label) and plan it
 * with flags; returns vdm_plan_build's result. */
int plan_for(struct world *w, const char *yaml, const char *label, unsigned flags);
void done(struct world *w);
/* Two T4s listed out of address order (3b before af in the index), and a NIC. */
void two_t4_and_nic(void);

#endif
