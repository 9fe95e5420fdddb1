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

#endif
