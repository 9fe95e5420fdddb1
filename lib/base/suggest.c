/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "did you mean": the words closest to a mistyped one by edit distance, for
 * every error that names something the user wrote and we do not know (a
 * label, a vGPU type name, a key of the config file); and how such a word
 * is quoted in a message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "vocab.h"

size_t vdm_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return VDM_EDIT_FAR;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			bool same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
			size_t best = diag + (same ? 0 : 1);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

char *vdm_did_you_mean(const char *word, const char *const *cands, size_t n)
{
	size_t best = VDM_EDIT_FAR, wl = strlen(word);
	size_t limit = wl / 3 > 2 ? wl / 3 : 2;
	for (size_t i = 0; i < n; i++) {
		size_t d = vdm_edit_distance(word, cands[i]);
		if (d < best)
			best = d;
	}
	if (best > limit)
		return NULL;
	char *out = NULL;
	size_t shown = 0;
	for (size_t i = 0; i < n && shown < 3; i++) {
		if (vdm_edit_distance(word, cands[i]) != best || !strcmp(word, cands[i]))
			continue;
		bool dup = false; /* the same word twice (a type of several GPUs) */
		for (size_t k = 0; k < i && !dup; k++)
			dup = !strcmp(cands[k], cands[i]) && vdm_edit_distance(word, cands[k]) == best;
		if (dup)
			continue;
		char *more = out ? vdm_strdupf("%s or %s", out, cands[i]) : vdm_strdupf("did you mean %s",
											  cands[i]);
		free(out);
		out = more;
		shown++;
	}
	if (!out)
		return NULL;
	char *q = vdm_strdupf("%s?", out);
	free(out);
	return q;
}

char *vdm_quote(const char *s)
{
	bool plain = *s != '\0';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '\'')
			plain = false;
	if (plain)
		return vdm_xstrdup(s);
	size_t n = strlen(s);
	char *out = vdm_xcalloc(n * 4 + 3, 1), *o = out;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			o += sprintf(o, "\\n");
		else if (*p == '\t')
			o += sprintf(o, "\\t");
		else if (*p == '"' || *p == '\\')
			o += sprintf(o, "\\%c", *p);
		else if (*p < ' ' || *p == 0x7f)
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o++ = '"';
	return out;
}
