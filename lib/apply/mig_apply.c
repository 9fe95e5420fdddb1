/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MIG steps of an apply and of a rollback (mig.h). The order on SR-IOV GPUs
 * (doctor-plan-mig.md 4.2, 4.5): GPU instances go before the mode is turned
 * off; the driver refuses MIG off while VFs are enabled, so they are
 * disabled first; turning MIG on on Ampere needs a GPU reset, which fails
 * while VFs are enabled, so then too they are disabled around it. VFs are
 * enabled again before any GPU instance is made: enabling them destroys the
 * instances.
 */
#include "mig_apply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "base/base.h"

#define SRIOV_TIMEOUT_MS (120 * 1000)

static int num_vfs(struct vdm_ctx *ctx, const char *addr)
{
	char rel[VDM_PATH_MAX];
	int n = 0;
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/sriov_numvfs", addr);
	return vdm_sysfs_read_int(ctx, rel, &n) == 0 ? n : 0;
}

static char *mode_error(const char *lbl, int mode, int rc, struct vdm_nvml *n)
{
	const char *hint = rc == -EAGAIN
		? "the GPU reset that activates it failed: on Ampere GPUs a MIG mode change needs a "
		  "GPU reset, which fails while processes or nvidia_drm use the GPU (stop them, or "
		  "reboot with the new mode)"
		: rc == -EBUSY ? "the GPU is in use (vGPUs, VFs, GPU instances or another client)"
			       : "the driver refused it";
	return vdm_strdupf("%s: cannot turn MIG mode %s: %s; %s", lbl, mode ? "on" : "off",
			   vdm_nvml_last_error(n), hint);
}

/* Set the MIG mode of g, disabling its VFs around the change when the driver
 * needs that (mode off: always; mode on: when the reset fails with VFs
 * enabled) and enabling them again. Never leaves a mode pending. 0, or
 * -errno with *cause. *changes counts what was changed. */
static int set_mode(struct vdm_host *h, const struct vdm_gpu *g, struct vdm_nvml *n, int mode, int want_vfs,
		    unsigned *changes, bool *reset_refused, char **cause)
{
	struct vdm_ctx *ctx = h->ctx;
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	int vfs = num_vfs(ctx, g->addr);
	int rc = -EAGAIN;
	bool tried = mode == 1 || vfs == 0; /* the driver refuses MIG off with VFs */
	if (tried)
		rc = vdm_nvml_set_mig_mode(n, g->addr, mode);
	if (rc == -EAGAIN && g->sriov && vfs > 0) {
		if (tried)
			vdm_nvml_set_mig_mode(n, g->addr, !mode); /* cancel the pending change */
		vdm_info(ctx, "%s: disabling its VFs for the MIG mode change", lbl);
		rc = vdm_sriov_manage(ctx, g->addr, false, SRIOV_TIMEOUT_MS, cause);
		if (rc < 0)
			return rc;
		(*changes)++;
		rc = vdm_nvml_set_mig_mode(n, g->addr, mode);
	}
	if (rc < 0) {
		if (rc == -EAGAIN) {
			vdm_nvml_set_mig_mode(n, g->addr, !mode); /* not half-switched */
			if (reset_refused)
				*reset_refused = true;
		}
		*cause = mode_error(lbl, mode, rc, n);
		return rc;
	}
	(*changes)++;
	vdm_info(ctx, "%s: MIG mode %s", lbl, mode ? "on" : "off");
	if (want_vfs > 0 && num_vfs(ctx, g->addr) == 0) {
		rc = vdm_sriov_manage(ctx, g->addr, true, SRIOV_TIMEOUT_MS, cause);
		if (rc < 0)
			return rc;
		(*changes)++;
	}
	return 0;
}

static const struct vdm_nvml_gip *gip(const struct vdm_gpu *g, unsigned id)
{
	for (size_t i = 0; g->mig && i < g->mig->n_profiles; i++)
		if (g->mig->profiles[i].id == id)
			return &g->mig->profiles[i];
	return NULL;
}

/* p: the profile (NULL: unknown, refused) */
static int create_gi(struct vdm_ctx *ctx, const struct vdm_gpu *g, struct vdm_nvml *n,
		     const struct vdm_nvml_gip *p, unsigned start, char **cause)
{
	char lbl[64];
	unsigned id = 0;
	vdm_gpu_label(g, lbl, sizeof(lbl));
	int rc = p ? vdm_nvml_create_gi(n, g->addr, p, start, &id) : -EINVAL;
	if (rc < 0) {
		*cause = vdm_strdupf("%s: creating GPU instance %s at %u failed: %s", lbl,
				     p ? p->name : "?", start, p ? vdm_nvml_last_error(n) : "unknown profile");
		return rc;
	}
	vdm_info(ctx, "%s: GPU instance %u (%s at %u) and its compute instance created", lbl, id, p->name,
		 start);
	return 0;
}

static int destroy_gi(struct vdm_ctx *ctx, const struct vdm_gpu *g, struct vdm_nvml *n, unsigned id,
		      char **cause)
{
	char lbl[64];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	int rc = vdm_nvml_destroy_gi(n, g->addr, id);
	if (rc < 0) {
		*cause = vdm_strdupf("%s: destroying GPU instance %u failed: %s", lbl, id,
				     vdm_nvml_last_error(n));
		return rc;
	}
	vdm_info(ctx, "%s: GPU instance %u destroyed", lbl, id);
	return 0;
}

static const struct vdm_nvml_gip *find_gip(const struct vdm_nvml_gip *p, size_t np, unsigned id)
{
	for (size_t i = 0; i < np; i++)
		if (p[i].id == id)
			return &p[i];
	return NULL;
}

/* MIG mode has just been turned on: read the GPU-instance profiles again
 * (NVML lists them only in MIG mode, so a plan made with MIG off used the
 * catalogue's) and check that each GI the plan creates from step `from`
 * on is one of them, at one of its placements. 0 or -errno with *cause. */
static int reread_profiles(const struct vdm_gpu_plan *gp, struct vdm_nvml *n, size_t from,
			   struct vdm_nvml_gip **fresh, size_t *n_fresh, char **cause)
{
	const struct vdm_gpu *g = gp->gpu;
	char lbl[64], pn[48];
	vdm_gpu_label(g, lbl, sizeof(lbl));
	int np = vdm_nvml_gi_profiles(n, g->addr, fresh);
	if (np < 0) {
		*cause = vdm_strdupf("%s: MIG mode is on, but NVML's GPU-instance profiles cannot be read: %s",
				     lbl, vdm_nvml_last_error(n));
		return np;
	}
	*n_fresh = (size_t)np;
	for (size_t i = from; i < gp->mig->n_steps; i++) {
		const struct vdm_mig_step *s = &gp->mig->steps[i];
		if (s->kind != VDM_MIG_CREATE_GI)
			continue;
		const struct vdm_nvml_gip *p = find_gip(*fresh, *n_fresh, s->profile_id);
		bool placed = false;
		for (size_t k = 0; p && k < p->n_pl; k++)
			placed = placed || (p->pl[k].start == s->start && p->pl[k].size == s->size);
		if (!placed) {
			*cause = vdm_strdupf("%s: with MIG mode on, NVML does not offer GPU-instance profile %u "
					     "(%s) at %u:%u, which the plan took from the catalogue while MIG "
					     "mode was off; apply again to plan from NVML's profiles", lbl,
					     s->profile_id, vdm_mig_profile_name(g, s->profile_id, pn, sizeof(pn)),
					     s->start, s->size);
			return -EINVAL;
		}
	}
	return 0;
}

int vdm_mig_apply(struct vdm_host *h, const struct vdm_gpu_plan *gp, unsigned *done, bool *reset_refused,
		  char **cause)
{
	const struct vdm_gpu *g = gp->gpu;
	*done = 0;
	if (!vdm_mig_plan_changes(gp))
		return 0;
	struct vdm_nvml *n = vdm_nvml_open(h->ctx);
	if (!n) {
		char lbl[64];
		vdm_gpu_label(g, lbl, sizeof(lbl));
		*cause = vdm_strdupf("%s: NVML is no longer available for the MIG steps", lbl);
		return -EOPNOTSUPP;
	}
	int rc = 0;
	struct vdm_nvml_gip *fresh = NULL; /* the profiles read after MIG mode went on */
	size_t n_fresh = 0;
	bool reread = false;
	for (size_t i = 0; i < gp->mig->n_steps && rc == 0; i++) {
		const struct vdm_mig_step *s = &gp->mig->steps[i];
		switch (s->kind) {
		case VDM_MIG_DESTROY_GI:
			rc = destroy_gi(h->ctx, g, n, s->gi_id, cause);
			*done += rc == 0;
			break;
		case VDM_MIG_MODE:
			rc = set_mode(h, g, n, s->mode, g->num_vfs, done, reset_refused, cause);
			if (rc == 0 && s->mode == 1) {
				reread = true;
				rc = reread_profiles(gp, n, i + 1, &fresh, &n_fresh, cause);
			}
			break;
		case VDM_MIG_CREATE_GI:
			rc = create_gi(h->ctx, g, n,
				       reread ? find_gip(fresh, n_fresh, s->profile_id) : gip(g, s->profile_id),
				       s->start, cause);
			*done += rc == 0;
			break;
		case VDM_MIG_REUSE_GI:
			break;
		}
	}
	vdm_nvml_gips_free(fresh, n_fresh);
	vdm_nvml_close(n);
	return rc < 0 ? rc : (int)*done;
}

/* ---- rollback ---- */

static bool snap_gi(const struct vdm_snapshot *s, const char *gpu, unsigned profile, unsigned start)
{
	for (size_t i = 0; i < s->n_gi; i++)
		if (!strcmp(s->gi[i].gpu, gpu) && s->gi[i].profile_id == profile && s->gi[i].start == start)
			return true;
	return false;
}

static bool has_gi(const struct vdm_mig *m, unsigned profile, unsigned start)
{
	for (size_t i = 0; i < m->n_gis; i++)
		if (m->gis[i].profile_id == profile && m->gis[i].start == start)
			return true;
	return false;
}

static void count_fail(struct vdm_ctx *ctx, int *failed, char **cause)
{
	vdm_dbg(ctx, "restore: %s", *cause);
	free(*cause);
	*cause = NULL;
	(*failed)++;
}

int vdm_mig_restore(struct vdm_host **host, const struct vdm_snapshot *s, int *failed, char **err)
{
	struct vdm_ctx *ctx = (*host)->ctx;
	if (!s->n_mig)
		return 0;
	struct vdm_nvml *n = vdm_nvml_open(ctx);
	if (!n) {
		*err = vdm_strdupf("NVML is not available to restore MIG mode and GPU instances: %s",
				   vdm_nvml_why());
		return -EOPNOTSUPP;
	}
	unsigned changes = 0;
	char *cause = NULL;
	for (size_t k = 0; k < s->n_mig; k++) {
		const struct vdm_snap_mig *sm = &s->mig[k];
		struct vdm_gpu *g = vdm_host_gpu_by_addr(*host, sm->gpu);
		if (!g || !g->mig) {
			(*failed)++;
			continue;
		}
		/* GIs this run made (or that are extra) go first; those vGPUs use stay */
		for (size_t i = 0; i < g->mig->n_gis; i++) {
			const struct vdm_gi *gi = &g->mig->gis[i];
			bool in_use = false;
			for (size_t v = 0; v < g->n_vgpus; v++)
				in_use = in_use || g->mig->vgpu_gi[v] == (int)gi->id;
			if (in_use || snap_gi(s, g->addr, gi->profile_id, gi->start))
				continue;
			if (destroy_gi(ctx, g, n, gi->id, &cause) < 0)
				count_fail(ctx, failed, &cause);
		}
		if (g->mig->mode != sm->mode && set_mode(*host, g, n, sm->mode, sm->num_vfs, &changes, NULL, &cause) < 0)
			count_fail(ctx, failed, &cause);
		int vfs = num_vfs(ctx, g->addr);
		if ((sm->num_vfs > 0) != (vfs > 0) &&
		    vdm_sriov_manage(ctx, g->addr, sm->num_vfs > 0, SRIOV_TIMEOUT_MS, &cause) < 0)
			count_fail(ctx, failed, &cause);
	}
	int rc = vdm_host_rescan(host, err);
	for (size_t k = 0; rc == 0 && k < s->n_mig; k++) {
		struct vdm_gpu *g = vdm_host_gpu_by_addr(*host, s->mig[k].gpu);
		if (!g || !g->mig || g->mig->mode != 1)
			continue;
		for (size_t i = 0; i < s->n_gi; i++)
			if (!strcmp(s->gi[i].gpu, g->addr) && !has_gi(g->mig, s->gi[i].profile_id, s->gi[i].start) &&
			    create_gi(ctx, g, n, gip(g, s->gi[i].profile_id), s->gi[i].start, &cause) < 0)
				count_fail(ctx, failed, &cause);
	}
	vdm_nvml_close(n);
	return rc == 0 ? vdm_host_rescan(host, err) : rc;
}

bool vdm_mig_restored(const struct vdm_host *h, const struct vdm_snapshot *s)
{
	for (size_t k = 0; k < s->n_mig; k++) {
		const struct vdm_snap_mig *sm = &s->mig[k];
		const struct vdm_gpu *g = vdm_host_gpu_by_addr((struct vdm_host *)h, sm->gpu);
		if (!g || !g->mig || g->mig->mode != sm->mode)
			return false;
		size_t want = 0;
		for (size_t i = 0; i < s->n_gi; i++)
			if (!strcmp(s->gi[i].gpu, g->addr)) {
				want++;
				if (!has_gi(g->mig, s->gi[i].profile_id, s->gi[i].start))
					return false;
			}
		if (want != g->mig->n_gis)
			return false;
	}
	return true;
}

/* ---- journal ---- */

void vdm_mig_snapshot(const struct vdm_gpu *g, struct vdm_snapshot *s)
{
	if (!g->mig)
		return;
	s->mig = vdm_xrealloc(s->mig, s->n_mig + 1, sizeof(*s->mig));
	struct vdm_snap_mig *sm = &s->mig[s->n_mig++];
	snprintf(sm->gpu, sizeof(sm->gpu), "%s", g->addr);
	sm->mode = g->mig->mode;
	sm->num_vfs = g->num_vfs;
	for (size_t i = 0; i < g->mig->n_gis; i++) {
		s->gi = vdm_xrealloc(s->gi, s->n_gi + 1, sizeof(*s->gi));
		struct vdm_snap_gi *sg = &s->gi[s->n_gi++];
		snprintf(sg->gpu, sizeof(sg->gpu), "%s", g->addr);
		sg->profile_id = g->mig->gis[i].profile_id;
		sg->start = g->mig->gis[i].start;
		sg->size = g->mig->gis[i].size;
	}
}

void vdm_mig_journal_write(FILE *f, const struct vdm_snapshot *s, const char *gpu)
{
	for (size_t i = 0; i < s->n_mig; i++)
		if (!strcmp(s->mig[i].gpu, gpu))
			fprintf(f, "mig %s %d %d\n", gpu, s->mig[i].mode, s->mig[i].num_vfs);
	for (size_t i = 0; i < s->n_gi; i++)
		if (!strcmp(s->gi[i].gpu, gpu))
			fprintf(f, "gi %s %u %u %u\n", gpu, s->gi[i].profile_id, s->gi[i].start, s->gi[i].size);
}

/* The n words of line after its keyword, each a number in [0, max] but the
 * first, a PCI address: w[0] the address, v[1..n-1] the numbers. */
static const char *journal_words(const char *line, char (*gpu)[VDM_ADDR_LEN], long *v, int n,
				 const long *max)
{
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", line) >= (int)sizeof(buf))
		return "the line is too long";
	char *save = NULL, *t = strtok_r(buf, " ", &save); /* the keyword */
	for (int i = 0; i < n; i++) {
		t = strtok_r(NULL, " ", &save);
		if (!t)
			return "a field is missing";
		uint32_t key;
		if (i == 0 && (strlen(t) >= VDM_ADDR_LEN || vdm_pci_addr_parse(t, &key) < 0))
			return "the GPU is not a PCI address";
		if (i == 0)
			snprintf(*gpu, VDM_ADDR_LEN, "%s", t);
		else if (vdm_parse_long(t, 10, 0, max[i], &v[i]) < 0)
			return "a number is not a decimal in range";
	}
	return strtok_r(NULL, " ", &save) ? "too many fields" : NULL;
}

int vdm_mig_journal_parse(const char *line, struct vdm_snapshot *s, const char **why)
{
	long v[4];
	if (!strncmp(line, "mig ", 4)) {
		static const long max[] = {0, 1, 0xffff}; /* mode 0/1, SR-IOV VFs */
		struct vdm_snap_mig sm;
		if ((*why = journal_words(line, &sm.gpu, v, 3, max)))
			return -EINVAL;
		sm.mode = (int)v[1];
		sm.num_vfs = (int)v[2];
		s->mig = vdm_xrealloc(s->mig, s->n_mig + 1, sizeof(*s->mig));
		s->mig[s->n_mig++] = sm;
		return 0;
	}
	if (!strncmp(line, "gi ", 3)) {
		static const long max[] = {0, 0x7fffffff, 0x7fffffff, 0x7fffffff};
		struct vdm_snap_gi sg;
		if ((*why = journal_words(line, &sg.gpu, v, 4, max)))
			return -EINVAL;
		sg.profile_id = (unsigned)v[1];
		sg.start = (unsigned)v[2];
		sg.size = (unsigned)v[3];
		s->gi = vdm_xrealloc(s->gi, s->n_gi + 1, sizeof(*s->gi));
		s->gi[s->n_gi++] = sg;
		return 0;
	}
	*why = "not a MIG line";
	return -EINVAL;
}
