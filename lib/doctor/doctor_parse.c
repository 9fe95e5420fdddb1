/* SPDX-License-Identifier: Apache-2.0 */
/* Parsers of nvidia-smi, licence, Docker and containerd text: doctor_parse.h. */
#include "doctor_parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/base.h"

static void copy(char *dst, size_t len, const char *s, size_t n)
{
	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The next line of *p, without its newline, into line (cut to len - 1
 * bytes, as copy does); *p moves past it. */
static void next_line(const char **p, char *line, size_t len)
{
	const char *eol = strchr(*p, '\n');
	size_t n = eol ? (size_t)(eol - *p) : strlen(*p);
	copy(line, len, *p, n);
	*p += n + (eol ? 1 : 0);
}

static void trim_end(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* One line of "<indent>key : value": depth (indent / 4), key and value
 * (NULL when the line only names a section). Modifies line. */
static int split_line(char *line, char **key, char **value)
{
	size_t ind = strspn(line, " ");
	char *k = line + ind;
	trim_end(k);
	if (!*k)
		return -1;
	char *sep = strstr(k, " : ");
	char *v = NULL;
	if (sep) {
		v = sep + 3;
		*sep = '\0';
		trim_end(k);
		while (*v == ' ')
			v++;
	} else if (k[strlen(k) - 1] == ':' && strlen(k) >= 2 && k[strlen(k) - 2] == ' ') {
		k[strlen(k) - 2] = '\0'; /* "Key :" with an empty value */
		trim_end(k);
		v = k + strlen(k);
	}
	*key = k;
	*value = v;
	return (int)(ind / 4);
}

void vdm_smi_parse(const char *text, struct vdm_smi *out)
{
	memset(out, 0, sizeof(*out));
	char *copy_text = vdm_xstrdup(text ? text : "");
	char *sections[8] = {0};
	int gpu = -1;
	char *save = NULL;
	/* Linear in the text: line numbers are counted as the lines go by
	 * (each byte once), arrays grow by doubling. */
	size_t cap = 0, gcap = 0, counted = 0;
	int ln = 1;
	for (char *line = strtok_r(copy_text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *key, *value;
		int depth = split_line(line, &key, &value);
		if (depth < 0 || key[0] == '=')
			continue;
		if (depth == 0 && !value && !strncmp(key, "GPU ", 4)) {
			if (out->n_gpus == gcap)
				out->gpu_ids = vdm_xrealloc(out->gpu_ids, gcap = gcap ? 2 * gcap : 8, sizeof(char *));
			out->gpu_ids[out->n_gpus] = vdm_xstrdup(key + 4);
			gpu = (int)out->n_gpus++;
			memset(sections, 0, sizeof(sections));
			continue;
		}
		/* Inside a GPU block the fields are one level deeper. */
		int level = gpu >= 0 ? depth - 1 : depth;
		if (level < 0 || level >= 8)
			continue;
		char path[512] = "";
		for (int i = 0; i < level; i++) {
			if (!sections[i])
				break;
			strncat(path, sections[i], sizeof(path) - strlen(path) - 2);
			strcat(path, "/");
		}
		strncat(path, key, sizeof(path) - strlen(path) - 1);
		if (!value) {
			sections[level] = key;
			for (int i = level + 1; i < 8; i++)
				sections[i] = NULL;
			continue;
		}
		/* A key with a value can own deeper lines too ("vGPU ID : 32..."). */
		sections[level] = key;
		for (int i = level + 1; i < 8; i++)
			sections[i] = NULL;
		if (out->n == cap)
			out->f = vdm_xrealloc(out->f, cap = cap ? 2 * cap : 64, sizeof(*out->f));
		/* the newlines from the last field's line to this one */
		for (size_t off = (size_t)(line - copy_text); counted < off; counted++)
			ln += text[counted] == '\n';
		out->f[out->n].gpu = gpu;
		out->f[out->n].path = vdm_xstrdup(path);
		out->f[out->n].value = vdm_xstrdup(value);
		out->f[out->n].line = ln;
		out->n++;
	}
	/* Section names pointed into copy_text; the fields own their strings. */
	free(copy_text);
}

void vdm_smi_free(struct vdm_smi *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->f[i].path);
		free(s->f[i].value);
	}
	free(s->f);
	for (size_t i = 0; i < s->n_gpus; i++)
		free(s->gpu_ids[i]);
	free(s->gpu_ids);
	memset(s, 0, sizeof(*s));
}

const struct vdm_smi_field *vdm_smi_get(const struct vdm_smi *s, int gpu, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].gpu == gpu && !strcmp(s->f[i].path, path))
			return &s->f[i];
	return NULL;
}

const char *vdm_smi_value(const struct vdm_smi *s, int gpu, const char *path)
{
	const struct vdm_smi_field *f = vdm_smi_get(s, gpu, path);
	return f ? f->value : NULL;
}

/* "00000000:3B:00.0" or "0000:3b:00.0" -> domain, bus, dev, fn. */
static int bus_id(const char *s, unsigned v[4])
{
	return sscanf(s, "%x:%x:%x.%x", &v[0], &v[1], &v[2], &v[3]) == 4 ? 0 : -1;
}

int vdm_smi_gpu_by_addr(const struct vdm_smi *s, const char *addr)
{
	unsigned a[4], b[4];
	if (bus_id(addr, a) < 0)
		return -1;
	for (size_t i = 0; i < s->n_gpus; i++)
		if (bus_id(s->gpu_ids[i], b) == 0 && !memcmp(a, b, sizeof(a)))
			return (int)i;
	return -1;
}

size_t vdm_smi_vgpu_parse(const char *text, struct vdm_smi_vgpu **out)
{
	struct vdm_smi s;
	vdm_smi_parse(text, &s);
	struct vdm_smi_vgpu *v = NULL;
	size_t n = 0;
	for (size_t i = 0; i < s.n; i++) {
		const struct vdm_smi_field *f = &s.f[i];
		if (!strcmp(f->path, "vGPU ID")) {
			v = vdm_xrealloc(v, n + 1, sizeof(*v));
			memset(&v[n], 0, sizeof(*v));
			if (f->gpu >= 0)
				copy(v[n].gpu, sizeof(v[n].gpu), s.gpu_ids[f->gpu], strlen(s.gpu_ids[f->gpu]));
			copy(v[n].id, sizeof(v[n].id), f->value, strlen(f->value));
			n++;
			continue;
		}
		if (!n || strncmp(f->path, "vGPU ID/", 8))
			continue;
		const char *k = f->path + 8;
		struct vdm_smi_vgpu *c = &v[n - 1];
		struct {
			const char *key;
			char *dst;
			size_t len;
		} map[] = {
			{"VM Name", c->vm_name, sizeof(c->vm_name)},
			{"VM UUID", c->vm_uuid, sizeof(c->vm_uuid)},
			{"vGPU Name", c->name, sizeof(c->name)},
			{"Guest Driver Version", c->guest_driver, sizeof(c->guest_driver)},
			{"License Status", c->license, sizeof(c->license)},
			{"GPU Instance ID", c->gpu_instance, sizeof(c->gpu_instance)},
		};
		for (size_t m = 0; m < sizeof(map) / sizeof(map[0]); m++)
			if (!strcmp(k, map[m].key))
				copy(map[m].dst, map[m].len, f->value, strlen(f->value));
	}
	vdm_smi_free(&s);
	*out = v;
	return n;
}

enum vdm_license_state vdm_license_parse(const char *status, char *expiry, size_t len)
{
	if (expiry && len)
		expiry[0] = '\0';
	if (!status)
		return VDM_LIC_UNKNOWN;
	if (!strncmp(status, "Licensed", 8)) {
		int y, mo, d, h, mi, s;
		if (expiry && sscanf(status, "Licensed (Expiry: %d-%d-%d %d:%d:%d GMT)", &y, &mo, &d, &h, &mi,
				     &s) == 6)
			snprintf(expiry, len, "%04d-%02d-%02d %02d:%02d:%02d GMT", y, mo, d, h, mi, s);
		return VDM_LIC_LICENSED;
	}
	if (!strcmp(status, "Unlicensed (Unrestricted)"))
		return VDM_LIC_UNLICENSED_UNRESTRICTED;
	if (!strcmp(status, "Unlicensed (Restricted)"))
		return VDM_LIC_UNLICENSED_RESTRICTED;
	if (!strncmp(status, "Unlicensed", 10))
		return VDM_LIC_UNLICENSED;
	return VDM_LIC_UNKNOWN;
}

char vdm_profile_series(const char *name, bool *mig)
{
	if (mig)
		*mig = false;
	if (!name)
		return 0;
	/* The last space-separated word holds the type: "NVIDIA RTX Pro 6000 Blackwell DC-3Q". */
	const char *w = strrchr(name, ' ');
	w = w ? w + 1 : name;
	const char *last = strrchr(w, '-');
	if (!last || last == w)
		return 0;
	last++;
	size_t n = strlen(last);
	static const char *const attrs[] = {"MEALL", "NOME", "ME", "GFX"};
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		size_t a = strlen(attrs[i]);
		if (n > a && !strcmp(last + n - a, attrs[i]) && strchr("ABCQ", last[n - a - 1])) {
			n -= a;
			break;
		}
	}
	if (n >= 3 && !strcmp(last + n - 2, "B4"))
		n--; /* "T4-2B4": a B-series type with four heads */
	if (n < 2 || !strchr("ABCQ", last[n - 1]))
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (!isdigit((unsigned char)last[i]))
			return 0;
	if (mig) {
		/* <GPU>-<slices>-<GB><S>: the token before is one digit 1-9. */
		const char *prev = last - 1; /* the '-' */
		if (prev - w >= 2 && isdigit((unsigned char)prev[-1]) && prev[-1] != '0' && prev[-2] == '-')
			*mig = true;
	}
	return last[n - 1];
}

int vdm_version_parse(const char *s, int part[4])
{
	memset(part, 0, 4 * sizeof(int));
	if (!s || !isdigit((unsigned char)*s))
		return 0;
	int n = 0;
	long v;
	while (n < 4 && isdigit((unsigned char)*s)) {
		if (vdm_parse_long_prefix(s, &s, 10, 0, INT_MAX, &v) < 0) {
			memset(part, 0, 4 * sizeof(int));
			return 0; /* a part past INT_MAX: not a version */
		}
		part[n++] = (int)v;
		if (*s != '.')
			break;
		s++;
	}
	return n;
}

static bool is_version_token(const char *s, size_t n);

bool vdm_is_version(const char *s)
{
	return s && is_version_token(s, strlen(s));
}

int vdm_version_cmp(const char *a, const char *b)
{
	int x[4], y[4];
	vdm_version_parse(a, x);
	vdm_version_parse(b, y);
	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static bool is_version_token(const char *s, size_t n)
{
	int dots = 0;
	if (!n || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i - 1] == '.')
				return false;
			dots++;
		} else if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return dots >= 1 && dots <= 3;
}

int vdm_nvrm_version(const char *text, char *buf, size_t len)
{
	const char *p = text ? strstr(text, "Module") : NULL;
	if (!p)
		return -EINVAL;
	const char *eol = strchr(p, '\n');
	if (!eol)
		eol = p + strlen(p);
	while (p < eol) {
		while (p < eol && isspace((unsigned char)*p))
			p++;
		const char *t = p;
		while (p < eol && !isspace((unsigned char)*p))
			p++;
		if (is_version_token(t, (size_t)(p - t))) {
			copy(buf, len, t, (size_t)(p - t));
			return 0;
		}
	}
	return -EINVAL;
}

int vdm_kernel_version(const char *release)
{
	int p[4];
	if (vdm_version_parse(release, p) < 2)
		return -1;
	return p[0] * 100 + p[1];
}

void vdm_gridd_parse(const char *text, struct vdm_gridd *out)
{
	memset(out, 0, sizeof(*out));
	struct {
		const char *key;
		struct vdm_gridd_key *dst;
	} keys[] = {
		{"ServerAddress", &out->server_address},  {"ServerPort", &out->server_port},
		{"BackupServerAddress", &out->backup_address}, {"BackupServerPort", &out->backup_port},
		{"FeatureType", &out->feature_type},       {"ClientConfigTokenPath", &out->token_path},
	};
	const char *p = text ? text : "";
	for (int ln = 1; *p; ln++) {
		char line[512];
		next_line(&p, line, sizeof(line));
		char *s = line + strspn(line, " \t");
		if (*s == '#' || !*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		trim_end(s);
		char *v = eq + 1;
		v += strspn(v, " \t");
		trim_end(v);
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(s, keys[k].key)) {
				copy(keys[k].dst->value, sizeof(keys[k].dst->value), v, strlen(v));
				keys[k].dst->line = ln;
			}
	}
}

void vdm_docker_info_parse(const char *text, struct vdm_docker_info *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = text ? text : "";
	bool in_cdi = false;
	for (int ln = 1; *p; ln++) {
		char line[512];
		next_line(&p, line, sizeof(line));
		size_t ind = strspn(line, " ");
		char *s = line + ind;
		trim_end(s);
		if (in_cdi && ind >= 2 && !strchr(s, ':')) {
			if (*out->cdi_dirs)
				strncat(out->cdi_dirs, " ", sizeof(out->cdi_dirs) - strlen(out->cdi_dirs) - 1);
			strncat(out->cdi_dirs, s, sizeof(out->cdi_dirs) - strlen(out->cdi_dirs) - 1);
			continue;
		}
		in_cdi = false;
		if (!strncmp(s, "Runtimes:", 9)) {
			copy(out->runtimes, sizeof(out->runtimes), s + 9 + strspn(s + 9, " "),
			     strlen(s + 9 + strspn(s + 9, " ")));
			out->runtimes_line = ln;
		} else if (!strncmp(s, "Default Runtime:", 16)) {
			const char *v = s + 16 + strspn(s + 16, " ");
			copy(out->default_runtime, sizeof(out->default_runtime), v, strlen(v));
			out->default_line = ln;
		} else if (!strncmp(s, "Server Version:", 15)) {
			const char *v = s + 15 + strspn(s + 15, " ");
			copy(out->server_version, sizeof(out->server_version), v, strlen(v));
		} else if (!strncmp(s, "CDI spec directories:", 21)) {
			in_cdi = true;
		}
	}
}

bool vdm_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " ");
		size_t w = strcspn(p, " ");
		if (w == n && !strncmp(p, word, n))
			return true;
		p += w;
	}
	return false;
}

void vdm_daemon_json_parse(const char *text, struct vdm_daemon_json *out)
{
	memset(out, 0, sizeof(*out));
	out->cdi = -1;
	enum json_tokener_error jerr;
	struct json_object *o = json_tokener_parse_verbose(text ? text : "", &jerr);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(out->error, sizeof(out->error), "%s",
			 o ? "not a JSON object" : json_tokener_error_desc(jerr));
		json_object_put(o);
		return;
	}
	out->parsed = true;
	struct json_object *v, *rt, *nv, *path;
	if (json_object_object_get_ex(o, "default-runtime", &v) && json_object_is_type(v, json_type_string))
		snprintf(out->default_runtime, sizeof(out->default_runtime), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "runtimes", &rt) && json_object_object_get_ex(rt, "nvidia", &nv) &&
	    json_object_object_get_ex(nv, "path", &path) && json_object_is_type(path, json_type_string)) {
		const char *s = json_object_get_string(path);
		snprintf(out->nvidia_path, sizeof(out->nvidia_path), "%s", s);
		const char *base = strrchr(s, '/');
		base = base ? base + 1 : s;
		out->nvidia_runtime = !strcmp(base, "nvidia-container-runtime") ||
				      !strcmp(base, "nvidia-container-runtime.cdi");
	}
	struct json_object *feat, *cdi;
	if (json_object_object_get_ex(o, "features", &feat) && json_object_object_get_ex(feat, "cdi", &cdi))
		out->cdi = json_object_get_boolean(cdi) ? 1 : 0;
	json_object_put(o);
}

/* The value of `key = "value"` (or bare) on a line, or NULL. */
static const char *toml_value(char *s, const char *key, size_t *vlen)
{
	size_t k = strlen(key);
	if (strncmp(s, key, k))
		return NULL;
	char *p = s + k;
	p += strspn(p, " \t");
	if (*p != '=')
		return NULL;
	p++;
	p += strspn(p, " \t");
	if (*p == '"' || *p == '\'') {
		char q = *p++;
		char *e = strchr(p, q);
		*vlen = e ? (size_t)(e - p) : strlen(p);
	} else {
		*vlen = strcspn(p, " \t#");
	}
	return p;
}

void vdm_containerd_parse(const char *text, struct vdm_containerd *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = text ? text : "";
	char table[512] = "";
	for (int ln = 1; *p; ln++) {
		char line[512];
		next_line(&p, line, sizeof(line));
		char *s = line + strspn(line, " \t");
		trim_end(s);
		if (*s == '#' || !*s)
			continue;
		if (*s == '[') {
			copy(table, sizeof(table), s, strlen(s));
			size_t tl = strlen(table);
			const char *suffix[] = {".runtimes.nvidia]", ".runtimes.\"nvidia\"]"};
			for (size_t i = 0; i < 2; i++) {
				size_t sl = strlen(suffix[i]);
				if (tl >= sl && !strcmp(table + tl - sl, suffix[i]) && !out->nvidia_runtime) {
					out->nvidia_runtime = true;
					out->nvidia_line = ln;
				}
			}
			continue;
		}
		size_t vl;
		const char *v;
		if (!*table && (v = toml_value(s, "version", &vl))) {
			char num[16];
			long n;
			copy(num, sizeof(num), v, vl);
			out->version = vdm_parse_long(num, 10, 1, 1000, &n) == 0 ? (int)n : 0;
		}
		else if ((v = toml_value(s, "default_runtime_name", &vl)) && strstr(table, "containerd")) {
			copy(out->default_runtime, sizeof(out->default_runtime), v, vl);
			out->default_line = ln;
		} else if ((v = toml_value(s, "BinaryName", &vl)) &&
			   (strstr(table, "runtimes.nvidia.options") || strstr(table, "runtimes.\"nvidia\".options")))
			copy(out->binary, sizeof(out->binary), v, vl);
	}
}

int vdm_pci_vgpu_signature(const unsigned char *cfg, size_t len, char *host_version, char *host_branch)
{
	host_version[0] = host_branch[0] = '\0';
	if (len < 256)
		return -EINVAL;
	if (!(cfg[0x06] & 0x10))
		return 0;
	bool seen[256] = {0};
	unsigned pos = cfg[0x34];
	while (pos && pos + 2 < 256 && !seen[pos]) {
		seen[pos] = true;
		unsigned id = cfg[pos], next = cfg[pos + 1], clen = cfg[pos + 2];
		if (id == 0xff)
			break;
		if (id == 0x09) {
			if (clen < 5 || pos + clen > 256 || cfg[pos + 3] != 0x56 || cfg[pos + 4] != 0x46)
				return 0;
			const unsigned char *c = cfg + pos;
			/* Records from offset 5: (id, length, data); record 0 holds
			 * 10 bytes of host driver version and 10 of its branch. */
			unsigned r = 5;
			while (r + 1 < clen && c[r] != 0) {
				if (c[r + 1] == 0)
					break;
				r += c[r + 1];
			}
			if (r + 2 + 20 <= clen && c[r] == 0) {
				copy(host_version, 11, (const char *)c + r + 2, strnlen((const char *)c + r + 2, 10));
				copy(host_branch, 11, (const char *)c + r + 12, strnlen((const char *)c + r + 12, 10));
			}
			return 1;
		}
		pos = next;
	}
	return 0;
}
