/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture: the tarball, written with libarchive loaded at run time (dlopen,
 * as NVML is). Linked, libarchive would pull libxml2 and ICU (30 MB) into
 * every program and the container image, for a command run once per bug
 * report; loaded here, only capture needs it, and without it capture says
 * which package to install. The types come from <archive.h> at build time.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture_int.h"

/* The soname Debian's libarchive13 ships. */
#define ARCHIVE_SONAME "libarchive.so.13"

struct la {
	void *lib;
#define F(name) __typeof__(name) *name
	F(archive_entry_new);
	F(archive_entry_set_pathname);
	F(archive_entry_set_mtime);
	F(archive_entry_set_filetype);
	F(archive_entry_set_perm);
	F(archive_entry_set_symlink);
	F(archive_entry_set_size);
	F(archive_entry_free);
	F(archive_write_new);
	F(archive_write_add_filter_gzip);
	F(archive_write_set_format_pax_restricted);
	F(archive_write_open_fd);
	F(archive_write_header);
	F(archive_write_data);
	F(archive_write_close);
	F(archive_write_free);
	F(archive_error_string);
#undef F
};

/* Load libarchive; 0, or -ENOENT with *err naming what to install. */
static int la_open(struct la *la, char **err)
{
	memset(la, 0, sizeof(*la));
	la->lib = dlopen(ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!la->lib) {
		const char *e = dlerror();
		*err = vdm_strdupf("capture needs libarchive to write its tarball (%s): %s; install it "
				   "(Debian: apt install libarchive13)", ARCHIVE_SONAME, e ? e : "not found");
		return -ENOENT;
	}
	/* POSIX allows converting dlsym's object pointer to a function pointer. */
#define L(name)                                                                                  \
	do {                                                                                     \
		*(void **)(&la->name) = dlsym(la->lib, #name);                                  \
		if (!la->name) {                                                                 \
			*err = vdm_strdupf("capture: %s has no %s", ARCHIVE_SONAME, #name);     \
			dlclose(la->lib);                                                        \
			return -ENOENT;                                                          \
		}                                                                                \
	} while (0)
	L(archive_entry_new);
	L(archive_entry_set_pathname);
	L(archive_entry_set_mtime);
	L(archive_entry_set_filetype);
	L(archive_entry_set_perm);
	L(archive_entry_set_symlink);
	L(archive_entry_set_size);
	L(archive_entry_free);
	L(archive_write_new);
	L(archive_write_add_filter_gzip);
	L(archive_write_set_format_pax_restricted);
	L(archive_write_open_fd);
	L(archive_write_header);
	L(archive_write_data);
	L(archive_write_close);
	L(archive_write_free);
	L(archive_error_string);
#undef L
	return 0;
}

static int put(const struct la *la, struct archive *a, const char *name, enum kind k, const char *data, size_t len,
	       unsigned mode, time_t when)
{
	struct archive_entry *e = la->archive_entry_new();
	la->archive_entry_set_pathname(e, name);
	la->archive_entry_set_mtime(e, when, 0);
	la->archive_entry_set_filetype(e, k == K_DIR ? AE_IFDIR : k == K_LINK ? AE_IFLNK : AE_IFREG);
	la->archive_entry_set_perm(e, mode);
	if (k == K_LINK)
		la->archive_entry_set_symlink(e, data);
	la->archive_entry_set_size(e, k == K_FILE ? (la_int64_t)len : 0);
	int rc = la->archive_write_header(a, e);
	if (rc == ARCHIVE_OK && k == K_FILE && len && la->archive_write_data(a, data, len) != (la_ssize_t)len)
		rc = ARCHIVE_FATAL;
	la->archive_entry_free(e);
	return rc == ARCHIVE_OK ? 0 : -EIO;
}

int vdm_capture_write_tar(struct cap *c, int fd, char **docs, const char *const *doc_names, size_t n_docs, char **err)
{
	struct la la;
	int rc = la_open(&la, err);
	if (rc)
		return rc;
	struct archive *a = la.archive_write_new();
	time_t now = time(NULL);

	la.archive_write_add_filter_gzip(a);
	la.archive_write_set_format_pax_restricted(a);
	if (la.archive_write_open_fd(a, fd) != ARCHIVE_OK)
		rc = -EIO;
	for (size_t i = 0; rc == 0 && i < n_docs; i++)
		rc = put(&la, a, doc_names[i], K_FILE, docs[i], strlen(docs[i]), 0644, now);
	for (size_t i = 0; rc == 0 && i < c->n_extra; i++)
		rc = put(&la, a, c->extra[i].path, K_FILE, c->extra[i].data, c->extra[i].len, 0644, now);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		if (i && !strcmp(c->e[i].path, c->e[i - 1].path))
			continue; /* reached twice (a VF that is also a parent) */
		char *name = vdm_strdupf("root/%s", c->e[i].path);
		rc = put(&la, a, name, c->e[i].kind, c->e[i].data, c->e[i].len, c->e[i].mode, now);
		free(name);
	}
	if (rc == 0 && la.archive_write_close(a) != ARCHIVE_OK)
		rc = -EIO;
	if (rc) {
		const char *e = la.archive_error_string(a);
		*err = vdm_strdupf("writing the capture: %s", e ? e : strerror(EIO));
	}
	la.archive_write_free(a);
	dlclose(la.lib);
	return rc;
}
