/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's kubeconfig reader (agent/kubeconfig.c): a config or one error;
 * a token it accepts can go into a header, a server has no space or control
 * byte, and a CA never comes with insecure-skip-tls-verify. */
#include "fuzz.h"
#include "kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	struct kube_conf c;
	char *err = NULL;
	int rc = kube_conf_kubeconfig(&c, path, &err);
	if ((rc < 0) != (err != NULL))
		abort();
	if (rc == 0) {
		if (c.token && !kube_token_ok(c.token))
			abort();
		if (strpbrk(c.server, " \r\n\t"))
			abort();
		if (c.insecure && (c.ca_file || c.ca_data.data))
			abort();
		kube_conf_free(&c);
	}
	free(err);
	close(fd);
	return 0;
}
