/* SPDX-License-Identifier: Apache-2.0 */
/* --replay FILE: a host made from a capture of nvidia-vgpu-dm (replay.c). */
#ifndef VGPU_SIM_REPLAY_H
#define VGPU_SIM_REPLAY_H

#include "sim.h"

/* Build the host from the capture FILE (a tarball). Returns 0, or -1 with
 * *err one line (malloc'd) saying what is wrong with the file. */
int sim_replay_init(struct sim *s, const char *file, const struct sim_opts *o, char **err);
/* What the capture lacks that the rules need, and what is assumed instead:
 * one line each, "" if nothing. */
const char *sim_replay_notes(const struct sim *s);

/* ---- internal (replay.c, replay_gpu.c) ---- */
#include <json-c/json.h>

void replay_note(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON: member (NULL if none), string member, integer member (dflt if none
 * or not an integer), array length (0 if not an array), array element. */
json_object *rj_get(json_object *o, const char *key);
const char *rj_str(json_object *o, const char *key);
long rj_num(json_object *o, const char *key, long dflt);
size_t rj_len(json_object *arr);
json_object *rj_at(json_object *arr, size_t i);
/* The node at a root-relative path (links not followed); NULL if none. */
struct node *replay_lookup(struct sim *s, const char *path);
struct node *replay_lookup_dir(struct sim *s, const char *path);
/* A captured file's bytes; NULL if none or unreadable. */
const char *replay_captured(struct node *dir, const char *name);
/* The number ending a link's target ("../../kernel/iommu_groups/12"); 0 if none. */
unsigned replay_link_number(struct node *dir, const char *name);
/* A GPU of host.json with its NVML answers. 0, or -1 with *err. */
int replay_add_gpu(struct sim *s, json_object *host_gpu, json_object *nvml, char **err);

#endif
