/* SPDX-License-Identifier: Apache-2.0 */
/* doctor's file parsers: gridd.conf, docker info, daemon.json, containerd's
 * config.toml (first byte picks one). */
#include "doctor/doctor_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = fuzz_str(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0: {
		struct vdm_gridd g;
		vdm_gridd_parse(s, &g);
		if (strnlen(g.server_address.value, 256) == 256)
			abort();
		break;
	}
	case 1: {
		struct vdm_docker_info d;
		vdm_docker_info_parse(s, &d);
		vdm_word_in(d.runtimes, "nvidia");
		break;
	}
	case 2: {
		struct vdm_daemon_json j;
		vdm_daemon_json_parse(s, &j);
		if (!j.parsed && strnlen(j.error, sizeof(j.error)) == sizeof(j.error))
			abort();
		break;
	}
	default: {
		struct vdm_containerd c;
		vdm_containerd_parse(s, &c);
		break;
	}
	}
	free(s);
	return 0;
}
