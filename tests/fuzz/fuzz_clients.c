/* SPDX-License-Identifier: Apache-2.0 */
/* GPU_CLIENTS_FILE (agent/clients.c): every name it accepts is a systemd
 * unit name: no glob, no path, no option, a unit type suffix. */
#include "agent.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	struct agent a = {.o = {.gpu_clients_file = path}};
	char *err = NULL;
	int rc = clients_validate(&a, &err);
	if ((rc < 0) != (err != NULL))
		abort();
	for (size_t i = 0; rc == 0 && i < a.n_clients; i++) {
		const char *n = a.clients[i].name;
		if (!*n || strpbrk(n, "*?[]/ \t\n") || strlen(n) > 255 || !strrchr(n, '.'))
			abort();
	}
	clients_free(&a);
	free(err);
	close(fd);
	return 0;
}
