/* SPDX-License-Identifier: Apache-2.0 */
/*
 * doctor's parsers on the captured formats in tests/data/doctor/ (sources in
 * its README), and the facts tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doctor/doctor.h"
#include "doctor/doctor_parse.h"

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	const char *src = getenv("VGPUDM_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/data/doctor/%s", src && *src ? src : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s", path);
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void test_smi_guest(void **state)
{
	(void)state;
	char *t = slurp("guest-smi-q-a6000-unlicensed.txt", NULL);
	struct vdm_smi s;
	vdm_smi_parse(t, &s);
	assert_int_equal(s.n_gpus, 1);
	assert_string_equal(s.gpu_ids[0], "00000000:00:10.0");
	assert_string_equal(vdm_smi_value(&s, -1, "Driver Version"), "535.183.06");
	assert_string_equal(vdm_smi_value(&s, -1, "CUDA Version"), "12.2");
	/* The timestamp holds ':' characters: split on the first " : " only. */
	assert_string_equal(vdm_smi_value(&s, -1, "Timestamp"), "Mon Jun 10 09:12:44 2024");
	assert_string_equal(vdm_smi_value(&s, 0, "Product Name"), "NVIDIA RTXA6000-24Q");
	assert_string_equal(vdm_smi_value(&s, 0, "GPU Virtualization Mode/Virtualization Mode"), "VGPU");
	assert_string_equal(vdm_smi_value(&s, 0, "MIG Mode/Current"), "Disabled");
	/* The same key in two sections. */
	assert_string_equal(vdm_smi_value(&s, 0, "vGPU Software Licensed Product/Product Name"),
			    "NVIDIA RTX Virtual Workstation");
	const struct vdm_smi_field *ls = vdm_smi_get(&s, 0, "vGPU Software Licensed Product/License Status");
	assert_non_null(ls);
	assert_string_equal(ls->value, "Unlicensed");
	assert_int_equal(ls->line, 20);
	assert_int_equal(vdm_smi_gpu_by_addr(&s, "0000:00:10.0"), 0);
	assert_int_equal(vdm_smi_gpu_by_addr(&s, "0000:00:11.0"), -1);
	assert_null(vdm_smi_value(&s, 0, "License Status"));
	vdm_smi_free(&s);
	free(t);

	t = slurp("guest-smi-q-v100-8c-licensed.txt", NULL);
	vdm_smi_parse(t, &s);
	assert_string_equal(vdm_smi_value(&s, -1, "Attached vGPUs"), "1");
	assert_string_equal(vdm_smi_value(&s, 0, "Product Name"), "GRID V100D-8C");
	char exp[40];
	assert_int_equal(vdm_license_parse(vdm_smi_value(&s, 0, "vGPU Software Licensed Product/License Status"),
					   exp, sizeof(exp)),
			 VDM_LIC_LICENSED);
	assert_string_equal(exp, "2025-03-19 07:29:04 GMT");
	vdm_smi_free(&s);
	free(t);
}

static void test_smi_host(void **state)
{
	(void)state;
	char *t = slurp("host-smi-q-a16.txt", NULL);
	struct vdm_smi s;
	vdm_smi_parse(t, &s);
	assert_string_equal(vdm_smi_value(&s, -1, "CUDA Version"), "Not Found");
	assert_string_equal(vdm_smi_value(&s, 0, "GPU Virtualization Mode/Virtualization Mode"), "Host VGPU");
	assert_string_equal(vdm_smi_value(&s, 0, "GPU Virtualization Mode/Host VGPU Mode"), "SR-IOV");
	assert_string_equal(vdm_smi_value(&s, 0, "Bus Id"), "00000000:3D:00.0");
	assert_int_equal(vdm_smi_gpu_by_addr(&s, "0000:3d:00.0"), 0);
	vdm_smi_free(&s);
	free(t);
}

static void test_smi_vgpu(void **state)
{
	(void)state;
	char *t = slurp("host-smi-vgpu-q-rtxpro6000.txt", NULL);
	struct vdm_smi_vgpu *v;
	size_t n = vdm_smi_vgpu_parse(t, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].gpu, "00000001:C8:00.0");
	assert_string_equal(v[0].id, "3251637566");
	assert_string_equal(v[0].vm_name, "instance-00000005");
	assert_string_equal(v[0].name, "NVIDIA RTX Pro 6000 Blackwell DC-3Q");
	assert_string_equal(v[0].guest_driver, "580.105.08");
	assert_string_equal(v[0].license, "Unlicensed (Unrestricted)");
	assert_string_equal(v[0].gpu_instance, "N/A");
	assert_string_equal(v[1].guest_driver, "N/A");
	assert_string_equal(v[1].gpu_instance, "3");
	assert_int_equal(vdm_license_parse(v[1].license, NULL, 0), VDM_LIC_UNKNOWN);
	free(v);
	free(t);
	assert_int_equal(vdm_smi_vgpu_parse("", &v), 0);
	assert_null(v);
}

static void test_license(void **state)
{
	(void)state;
	char e[40];
	assert_int_equal(vdm_license_parse("Licensed (Expiry: 2026-7-7 16:1:44 GMT)", e, sizeof(e)), VDM_LIC_LICENSED);
	assert_string_equal(e, "2026-07-07 16:01:44 GMT");
	assert_int_equal(vdm_license_parse("Licensed", e, sizeof(e)), VDM_LIC_LICENSED);
	assert_string_equal(e, "");
	assert_int_equal(vdm_license_parse("Unlicensed (Unrestricted)", NULL, 0), VDM_LIC_UNLICENSED_UNRESTRICTED);
	assert_int_equal(vdm_license_parse("Unlicensed (Restricted)", NULL, 0), VDM_LIC_UNLICENSED_RESTRICTED);
	assert_int_equal(vdm_license_parse("Unlicensed", NULL, 0), VDM_LIC_UNLICENSED);
	assert_int_equal(vdm_license_parse(NULL, NULL, 0), VDM_LIC_UNKNOWN);
}

static void test_series(void **state)
{
	(void)state;
	bool mig;
	assert_int_equal(vdm_profile_series("NVIDIA RTXA6000-24Q", &mig), 'Q');
	assert_false(mig);
	assert_int_equal(vdm_profile_series("GRID V100D-8C", &mig), 'C');
	assert_int_equal(vdm_profile_series("GRID A100-1-5CME", &mig), 'C');
	assert_true(mig);
	assert_int_equal(vdm_profile_series("NVIDIA RTX Pro 6000 Blackwell DC-1-2Q", &mig), 'Q');
	assert_true(mig);
	assert_int_equal(vdm_profile_series("NVIDIA RTX Pro 6000 Blackwell DC-3Q", &mig), 'Q');
	assert_false(mig);
	assert_int_equal(vdm_profile_series("GRID T4-2B4", &mig), 'B'); /* four-head B-series */
	assert_int_equal(vdm_profile_series("NVIDIA L40S-4A", &mig), 'A');
	assert_int_equal(vdm_profile_series("GRID T4-1B", &mig), 'B');
	assert_int_equal(vdm_profile_series("NVIDIA A100-PCIE-40GB", &mig), 0);
	assert_int_equal(vdm_profile_series("Tesla T4", &mig), 0);
	assert_int_equal(vdm_profile_series(NULL, &mig), 0);
}

static void test_versions(void **state)
{
	(void)state;
	int p[4];
	assert_int_equal(vdm_version_parse("535.183.06", p), 3);
	assert_int_equal(p[0], 535);
	assert_int_equal(p[2], 6);
	assert_int_equal(vdm_version_parse("550.54", p), 2);
	assert_int_equal(vdm_version_parse("N/A", p), 0);
	assert_true(vdm_is_version("550.54.14"));
	assert_true(vdm_is_version("550.54"));
	assert_false(vdm_is_version("550"));
	assert_false(vdm_is_version("8? x"));
	assert_false(vdm_is_version("550..54"));
	assert_false(vdm_is_version(""));
	assert_true(vdm_version_cmp("525.60.13", "525.60.12") > 0);
	assert_true(vdm_version_cmp("470.223.02", "525.60.13") < 0);
	assert_int_equal(vdm_version_cmp("580", "580.0.0"), 0);
	assert_int_equal(vdm_kernel_version("6.8.0-45-generic"), 608);
	assert_int_equal(vdm_kernel_version("5.15.0-91-generic"), 515);
	assert_int_equal(vdm_kernel_version("x"), -1);

	char v[32];
	char *t = slurp("proc-driver-version-proprietary.txt", NULL);
	assert_int_equal(vdm_nvrm_version(t, v, sizeof(v)), 0);
	assert_string_equal(v, "470.103.01");
	free(t);
	t = slurp("proc-driver-version-open.txt", NULL);
	assert_int_equal(vdm_nvrm_version(t, v, sizeof(v)), 0);
	assert_string_equal(v, "580.95.05");
	free(t);
	assert_int_equal(vdm_nvrm_version("NVRM version: nothing here", v, sizeof(v)), -EINVAL);
	assert_int_equal(vdm_nvrm_version("NVRM version: NVIDIA UNIX Kernel Module  550.54  x", v, sizeof(v)), 0);
	assert_string_equal(v, "550.54");
}

static void test_facts(void **state)
{
	(void)state;
	assert_string_equal(vdm_cuda_min_driver(12), "525.60.13");
	assert_null(vdm_cuda_min_driver(10));
	assert_int_equal(vdm_driver_cuda_major("535.183.06"), 12);
	assert_int_equal(vdm_driver_cuda_major("525.60.12"), 11);
	assert_int_equal(vdm_driver_cuda_major("580.65.06"), 13);
	assert_int_equal(vdm_driver_cuda_major("440.33"), 0);
	assert_string_equal(vdm_branch_release(535), "16.x");
	assert_null(vdm_branch_release(999));
	struct vdm_gpu_facts buf;
	const struct vdm_gpu_facts *f = vdm_gpu_facts(0x26b9, 0x10de, 0x1851, NULL, &buf);
	assert_non_null(f);
	assert_string_equal(f->model, "L40S");
	assert_true(f->display_mode);
	assert_false(f->mig);
	f = vdm_gpu_facts(0, 0, 0, "NVIDIA H100 NVL", &buf);
	assert_non_null(f);
	assert_true(f->mig);
	f = vdm_gpu_facts(0x1eb8, 0x10de, 0x12a2, NULL, &buf);
	assert_non_null(f);
	assert_false(f->mig || f->display_mode);
	assert_null(vdm_gpu_facts(0x1234, 0, 0, "Not A GPU", &buf));
}

static void test_gridd(void **state)
{
	(void)state;
	char *t = slurp("gridd.conf.template", NULL);
	struct vdm_gridd g;
	vdm_gridd_parse(t, &g);
	assert_string_equal(g.feature_type.value, "1");
	assert_int_equal(g.feature_type.line, 12);
	assert_int_equal(g.server_address.line, 1);
	assert_string_equal(g.server_address.value, "");
	assert_int_equal(g.backup_address.line, 0); /* commented out */
	free(t);
	vdm_gridd_parse("ServerAddress = \"10.0.0.5\"\nServerPort=7070\n# FeatureType=4\nFeatureType=4\n", &g);
	assert_string_equal(g.server_address.value, "10.0.0.5");
	assert_string_equal(g.server_port.value, "7070");
	assert_string_equal(g.feature_type.value, "4");
	assert_int_equal(g.feature_type.line, 4);
}

static void test_docker(void **state)
{
	(void)state;
	char *t = slurp("docker-info.txt", NULL);
	struct vdm_docker_info i;
	vdm_docker_info_parse(t, &i);
	assert_string_equal(i.runtimes, "io.containerd.runc.v2 nvidia runc");
	assert_string_equal(i.default_runtime, "nvidia");
	assert_string_equal(i.server_version, "24.0.7");
	assert_int_equal(i.runtimes_line, 21);
	assert_true(vdm_word_in(i.runtimes, "nvidia"));
	assert_false(vdm_word_in(i.runtimes, "nvidi"));
	free(t);

	t = slurp("daemon.json", NULL);
	struct vdm_daemon_json dj;
	vdm_daemon_json_parse(t, &dj);
	assert_true(dj.parsed);
	assert_string_equal(dj.default_runtime, "nvidia");
	assert_true(dj.nvidia_runtime);
	assert_int_equal(dj.cdi, -1);
	free(t);
	vdm_daemon_json_parse("{\"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", "
			      "\"args\": []}}, \"features\": {\"cdi\": true}}", &dj);
	assert_true(dj.nvidia_runtime);
	assert_string_equal(dj.default_runtime, "");
	assert_int_equal(dj.cdi, 1);
	vdm_daemon_json_parse("{\"default-runtime\": \"nvidia\",", &dj);
	assert_false(dj.parsed);
	assert_true(strlen(dj.error) > 0);

	t = slurp("containerd-config.toml", NULL);
	struct vdm_containerd ct;
	vdm_containerd_parse(t, &ct);
	assert_int_equal(ct.version, 2);
	assert_string_equal(ct.default_runtime, "nvidia");
	assert_int_equal(ct.default_line, 6);
	assert_true(ct.nvidia_runtime);
	assert_int_equal(ct.nvidia_line, 7);
	assert_string_equal(ct.binary, "/usr/bin/nvidia-container-runtime");
	free(t);
	vdm_containerd_parse("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
			     "  default_runtime_name = \"runc\"\n", &ct);
	assert_false(ct.nvidia_runtime);
	assert_string_equal(ct.default_runtime, "runc");
}

static void test_pci_signature(void **state)
{
	(void)state;
	size_t n;
	char hv[16], hb[16];
	char *cfg = slurp("pci-config-vgpu.bin", &n);
	assert_int_equal(n, 256);
	assert_int_equal(vdm_pci_vgpu_signature((unsigned char *)cfg, n, hv, hb), 1);
	assert_string_equal(hv, "460.16");
	assert_string_equal(hb, "r460_00");
	/* Only the first 64 bytes: what a non-root reader gets. */
	assert_int_equal(vdm_pci_vgpu_signature((unsigned char *)cfg, 64, hv, hb), -EINVAL);
	free(cfg);
	cfg = slurp("pci-config-passthrough.bin", &n);
	assert_int_equal(vdm_pci_vgpu_signature((unsigned char *)cfg, n, hv, hb), 0);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smi_guest),   cmocka_unit_test(test_smi_host),
		cmocka_unit_test(test_smi_vgpu),    cmocka_unit_test(test_license),
		cmocka_unit_test(test_series),      cmocka_unit_test(test_versions),
		cmocka_unit_test(test_facts),       cmocka_unit_test(test_gridd),
		cmocka_unit_test(test_docker),      cmocka_unit_test(test_pci_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
