#!/bin/bash
# Hosts with both frameworks, and GPUs whose VFs are not enabled.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4:mdev --gpu L40S:vfio
CFG="$T_TMP/c.yaml"
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  default:
    - device-filter: "0x1EB810DE"
      devices: all
      vgpu-devices:
        T4-4Q: 4
    - device-filter: "0x26B910DE"
      devices: all
      vgpu-devices:
        L40S-12Q: 4
YAML
dm list
expect_rc 0 "list a mixed host"
expect_out "^GPU 0 .* T4 .* mdev " "T4 uses mdev"
expect_out "^GPU 1 .* L40S .* vfio " "L40S uses vendor VFIO"
dm apply -f "$CFG"
expect_rc 0 "one config over both frameworks"
expect_eq "$(vgpu_types)" "4 T4-4Q" "T4: 4 mdev vGPUs"
n=$(grep -lv '^0$' "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | wc -l)
expect_eq "$n" 4 "L40S: 4 VFs hold a vGPU"
dm assert -f "$CFG"
expect_rc 0 "assert both"
sim_reset
dm apply -f "$CFG"
expect_eq "$(sim_counter write)" 0 "second apply writes nothing"
fusermount3 -u "$ROOT"

# VFs not enabled: a clear error, or --enable-sriov runs sriov-manage.
sim_start --gpu L40S:vfio --vfs-disabled
pf=$(awk '$3 == "L40S" {print $2}' "$ROOT/.vgpu-sim/info")
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        L40S-24Q: 2\n' >"$CFG"
dm apply -f "$CFG"
expect_rc 1 "VFs disabled"
expect_err "GPU 0 \($pf\): no vGPU can be created: its SR-IOV virtual functions are not enabled \(run: /usr/lib/nvidia/sriov-manage -e $pf" "names the sriov-manage command"
VGPU_DM_SRIOV_MANAGE=/nonexistent/sriov-manage dm apply -f "$CFG" --enable-sriov
expect_rc 1 "--enable-sriov with a missing sriov-manage"
expect_err "sriov-manage -e $pf failed" "failure of sriov-manage reported"
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" VGPU_SIM_ROOT="$ROOT" dm apply -f "$CFG" --enable-sriov
expect_rc 0 "--enable-sriov enables the VFs, then applies"
expect_err "Enabling SR-IOV virtual functions: .*sriov-manage -e $pf" "says what it runs"
dm assert -f "$CFG"
expect_rc 0 "assert after enabling"
finish
