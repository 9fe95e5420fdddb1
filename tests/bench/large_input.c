/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/large: doctor's `nvidia-smi -q` parser on large output. The A16
 * capture (tests/data/doctor/host-smi-q-a16.txt, path given as argv[1]) is
 * repeated to 0.25, 1 and 4 MiB and parsed; one row per size: fields, GPU
 * blocks, time, and time per MiB (flat when the parser is linear; it took
 * 19 s for 1 MiB when line numbers were found by rescanning the text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doctor/doctor_parse.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s host-smi-q-a16.txt\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	static char cap[1 << 20];
	size_t n = fread(cap, 1, sizeof(cap) - 1, f);
	fclose(f);
	cap[n] = '\0';
	/* the GPU blocks, after the header (first "GPU " line) */
	const char *blk = strstr(cap, "\nGPU ");
	blk = blk ? blk + 1 : cap;
	size_t hl = (size_t)(blk - cap), bl = n - hl;
	static const size_t sizes[] = {256 << 10, 1 << 20, 4 << 20};
	printf("%-28s %10s %8s %10s %10s\n", "nvidia-smi -q text", "fields", "GPUs", "parse ms", "ms/MiB");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *t = malloc(sizes[i] + n + 1);
		memcpy(t, cap, hl);
		size_t len = hl;
		while (len + bl < sizes[i]) {
			memcpy(t + len, blk, bl);
			len += bl;
		}
		t[len] = '\0';
		double t0 = now_s();
		struct vdm_smi s;
		vdm_smi_parse(t, &s);
		double ms = (now_s() - t0) * 1000;
		char what[40];
		snprintf(what, sizeof(what), "%.2f MiB", len / 1048576.0);
		printf("%-28s %10zu %8zu %10.1f %10.1f\n", what, s.n, s.n_gpus, ms, ms / (len / 1048576.0));
		vdm_smi_free(&s);
		free(t);
	}
	return 0;
}
