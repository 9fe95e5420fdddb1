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
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: mdev vGPUs by UUID, vfio vGPUs by VF" || fail "list --json ids"
import json, sys
t4, l40s = json.load(open(sys.argv[1]))["gpus"]
assert all(v["uuid"] == v["id"] and len(v["id"]) == 36 for v in t4["vgpus"]), t4["vgpus"]
assert len(l40s["vgpus"]) == 4
assert all(v["uuid"] is None and v["id"] == v["parent"] and v["type"] == "L40S-12Q" for v in l40s["vgpus"])
PY
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
# sriov-manage can exit 0 without making VFs: the wait is bounded.
VGPU_DM_SRIOV_MANAGE=/bin/true dm apply -f "$CFG" --enable-sriov --sriov-timeout 1
expect_rc 1 "sriov-manage exits 0 but no VFs appear"
expect_err "GPU 0 \($pf\): no usable SR-IOV virtual functions 1 s after /bin/true -e $pf \(sriov_numvfs is 0\)" "bounded wait, clear message"
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" VGPU_SIM_ROOT="$ROOT" dm apply -f "$CFG" --enable-sriov
expect_rc 0 "--enable-sriov enables the VFs, then applies"
expect_err "Enabling SR-IOV virtual functions: .*sriov-manage -e $pf" "says what it runs"
dm assert -f "$CFG"
expect_rc 0 "assert after enabling"

# A VM holding a VF's VFIO device: its vGPU is not taken away.
vf=$(grep -lv '^0$' "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | head -1 | xargs dirname | xargs dirname)
node=$(ls "$vf/vfio-dev" | head -1)
sleep 300 3<>"$ROOT/dev/vfio/devices/$node" &
holder=$!
# until it runs as sleep (before its exec it is a copy of this shell)
for _ in $(seq 100); do grep -qa "^sleep" "$ROOT/proc/$holder/cmdline" 2>/dev/null && break; sleep 0.1; done
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices: {}\n' >"$T_TMP/none.yaml"
dm apply -f "$T_TMP/none.yaml"
expect_rc 3 "vendor VFIO: a VF in use is not freed"
expect_err "vGPU $(basename "$vf") \(L40S-24Q\) on $(basename "$vf") is in use by pid $holder \(sleep 300\), which holds /dev/vfio/devices/$node" "names the VF, the process and the node"
kill $holder; wait $holder 2>/dev/null
dm apply -f "$T_TMP/none.yaml"
expect_rc 0 "freed once the VM is gone"
fusermount3 -u "$ROOT"

# H100 (C series only): every size at its maximum; MIG-backed types need MIG.
sim_start --gpu H100:vfio
declare -A cmax=([4]=20 [5]=16 [8]=10 [10]=8 [16]=5 [20]=4 [40]=2 [80]=1)
for gb in 4 5 8 10 16 20 40 80; do
	printf 'version: v1\nvgpu-configs:\n  c:\n    - devices: all\n      vgpu-devices:\n        H100-%sC: %s\n' \
		"$gb" "${cmax[$gb]}" >"$CFG"
	dm apply -f "$CFG"
	expect_rc 0 "apply ${cmax[$gb]} x H100-${gb}C"
	dm assert -f "$CFG"
	expect_rc 0 "assert H100-${gb}C"
done
printf 'version: v1\nvgpu-configs:\n  mig:\n    - devices: all\n      vgpu-devices:\n        H100-1-10C: 2\n' >"$CFG"
dm apply -f "$CFG"
expect_rc 1 "MIG-backed type without GPU instances"
expect_err "c\.yaml:6:9: vGPU type H100-1-10C is not offered by GPU 0 .* now: MIG-backed types need MIG mode on and GPU instances created" "MIG message"
finish
