/* SPDX-License-Identifier: Apache-2.0 */
/* doctor's `nvidia-smi -q` and `nvidia-smi vgpu -q` parsers. */
#include "doctor/doctor_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct vdm_smi smi;
	vdm_smi_parse(s, &smi);
	for (size_t i = 0; i < smi.n; i++)
		if (smi.f[i].line < 1 || !smi.f[i].path || !smi.f[i].value)
			abort();
	vdm_smi_value(&smi, 0, "Product Name");
	if (smi.n_gpus)
		vdm_smi_gpu_by_addr(&smi, smi.gpu_ids[0]);
	vdm_smi_free(&smi);
	struct vdm_smi_vgpu *v = NULL;
	size_t n = vdm_smi_vgpu_parse(s, &v);
	for (size_t i = 0; i < n; i++)
		if (strnlen(v[i].name, sizeof(v[i].name)) == sizeof(v[i].name))
			abort(); /* always terminated */
	free(v);
	free(s);
	return 0;
}
