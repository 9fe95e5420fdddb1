/* SPDX-License-Identifier: Apache-2.0 */
/* The config file parser (lib/spec): any bytes give a spec or one error. */
#include "fuzz.h"
#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *err = NULL;
	struct vdm_spec *s = vdm_spec_parse("fuzz.yaml", (const char *)data, size, &err);
	if (!s == !err)
		abort(); /* exactly one of them */
	if (s) {
		vdm_spec_find(s, "default");
		vdm_spec_find(s, "all-disabled");
	}
	vdm_spec_free(s);
	free(err);
	return 0;
}
