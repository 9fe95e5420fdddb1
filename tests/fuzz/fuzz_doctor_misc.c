/* SPDX-License-Identifier: Apache-2.0 */
/* doctor's small parsers: license status, versions, /proc/driver/nvidia/version,
 * kernel release, profile series, and the vGPU signature in PCI config space. */
#include "doctor/doctor_parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	char buf[64];
	int part[4];
	bool mig;
	vdm_license_parse(s, buf, sizeof(buf));
	if (vdm_version_parse(s, part) == 0)
		vdm_version_cmp(s, "550.54.14");
	vdm_is_version(s);
	vdm_nvrm_version(s, buf, sizeof(buf));
	vdm_kernel_version(s);
	vdm_profile_series(s, &mig);
	char hv[64] = "", hb[64] = "";
	vdm_pci_vgpu_signature(data, size, hv, hb);
	free(s);
	return 0;
}
