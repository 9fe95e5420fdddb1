/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays a libFuzzer harness's inputs without libFuzzer (any compiler):
 * `fuzz_X FILE|DIR...` runs LLVMFuzzerTestOneInput once per file (a
 * directory: each regular file in it, sorted). `make check` runs every
 * harness over its seed corpus (tests/fuzz/corpus/X/) this way, in the
 * plain and the ASan+UBSan build, so an input that once crashed stays a test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, n = 0, r;
	uint8_t *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (!buf)
		return -1;
	/* an exact-size copy, so ASan sees reads past the input */
	uint8_t *in = malloc(n ? n : 1);
	memcpy(in, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int runs = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) < 0;
			runs++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.') {
				names = realloc(names, (n + 1) * sizeof(*names));
				names[n++] = strdup(e->d_name);
			}
		if (d)
			closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		for (size_t k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]);
			bad += run_file(path) < 0;
			runs++;
			free(names[k]);
		}
		free(names);
	}
	fprintf(stderr, "%s: %d inputs replayed, %d unreadable\n", argv[0], runs, bad);
	return bad || runs == 0 ? 1 : 0;
}
