#!/bin/bash
# The vendor-specific VFIO framework (kernel >= 6.8, vGPU 17+) on an L40S:
# every size applied and asserted, size switches, a full GPU asserted with no
# names left in any creatable list, mixed sizes, keeping VFs, second apply.
. "$(dirname "$0")/lib.sh"
sim_start --gpu L40S:vfio
CFG="$T_TMP/c.yaml"
l40s=$(awk '$3 == "L40S" {print $2}' "$ROOT/.vgpu-sim/info")
type_id() { # the simulator's id of a type by its full name
	awk -v n="$1" '{id = $1; $1 = ""; sub(/^ /, ""); if ($0 == n) print id}' "$ROOT/.vgpu-sim/types"
}

[ ! -e "$ROOT/sys/class/mdev_bus" ] && pass "no mdev on a vfio host" || fail "mdev_bus exists"
dm list --json
expect_rc 0 "list"
python3 - "$OUT" <<'PY' && pass "list: vfio framework, 32 VF parents, L40S types" || fail "list json"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]
assert g["framework"] == "vfio" and g["model"] == "L40S", g
assert len(g["parents"]) == 32, len(g["parents"])
names = [t["name"] for t in g["types"]]
assert "L40S-1Q" in names and "L40S-48Q" in names and "L40S-3B" in names, names
PY

# Every Q size the GPU lists, at its maximum, applied then asserted.
declare -A qmax=([1]=32 [2]=24 [3]=16 [4]=12 [6]=8 [8]=6 [12]=4 [16]=3 [24]=2 [48]=1)
for gb in 1 2 3 4 6 8 12 16 24 48; do
	printf 'version: v1\nvgpu-configs:\n  q:\n    - devices: all\n      vgpu-devices:\n        L40S-%sQ: %s\n' \
		"$gb" "${qmax[$gb]}" >"$CFG"
	dm apply -f "$CFG"
	expect_rc 0 "apply ${qmax[$gb]} x L40S-${gb}Q"
	id=$(type_id "NVIDIA L40S-${gb}Q")
	n=$(grep -lx "$id" "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | wc -l)
	expect_eq "$n" "${qmax[$gb]}" "${qmax[$gb]} VFs hold L40S-${gb}Q"
	dm assert -f "$CFG"
	expect_rc 0 "assert L40S-${gb}Q"
done

# A full GPU: no VF lists any creatable type, yet assert names the vGPUs
# (from the type cache the earlier runs filled).
printf 'version: v1\nvgpu-configs:\n  full:\n    - devices: all\n      vgpu-devices:\n        L40S-1Q: 32\n  four:\n    - devices: all\n      vgpu-devices:\n        L40S-4Q: 4\n  eight:\n    - devices: all\n      vgpu-devices:\n        L40S-8Q: 2\n  mixed:\n    - devices: all\n      vgpu-devices:\n        L40S-4Q: 2\n        L40S-8Q: 2\n  mixed-series:\n    - devices: all\n      vgpu-devices:\n        L40S-4Q: 2\n        L40S-4A: 2\n' >"$CFG"
dm apply -f "$CFG" -c full
expect_rc 0 "apply 32 x L40S-1Q"
left=$(cat "$ROOT"/sys/bus/pci/devices/*/nvidia/creatable_vgpu_types | grep -vc '^ID')
expect_eq "$left" 0 "a full GPU: no creatable type left in any VF"
dm assert -f "$CFG" -c full
expect_rc 0 "assert full GPU (names from the cache)"
mv "$ROOT/var/cache/nvidia-vgpu-dm" "$ROOT/var/cache/saved"
dm -d assert -f "$CFG" -c full
expect_rc 1 "assert full GPU with no cache and no NVML: not guessed"
expect_err "vGPU type L40S-1Q is not offered by GPU 0 .* the driver's lists, the type cache and NVML do not name it" "unnamed ids are reported, not guessed"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT" dm assert -f "$CFG" -c full
expect_rc 0 "assert full GPU named through NVML"
rm -rf "$ROOT/var/cache/nvidia-vgpu-dm"; mv "$ROOT/var/cache/saved" "$ROOT/var/cache/nvidia-vgpu-dm"

# Switch sizes; keep VFs the target still wants.
dm apply -f "$CFG" -c four
expect_rc 0 "1Q -> 4Q"
kept=$(grep -l -v '^0$' "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | sort)
sim_reset
dm apply -f "$CFG" -c four
expect_rc 0 "second apply"
expect_eq "$(sim_counter write)" 0 "second apply writes nothing"
dm apply -f "$CFG" -c mixed-series
expect_rc 0 "4Q -> 4Q + 4A (same size, equal-size mode allows it)"
now=$(grep -l -v '^0$' "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | sort | head -2)
expect_eq "$now" "$(echo "$kept" | head -2)" "the first two 4Q VFs kept their vGPUs"

# Mixed sizes need mixed-size mode.
before=$(cat "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | tr '\n' ' ')
dm apply -f "$CFG" -c mixed
expect_rc 1 "mixed sizes refused in equal-size mode"
expect_err "GPU 0 \($l40s\): the config mixes vGPU sizes \(L40S-4Q and L40S-8Q\).*equal-size mode.*nvidia-smi vgpu -i $l40s -shm 1" "mixed-size refusal names GPU and remedy"
expect_eq "$(cat "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | tr '\n' ' ')" "$before" "refused: host unchanged"
dm apply -f "$CFG" -c eight
expect_rc 0 "back to one size"
printf 'version: v1\nvgpu-configs:\n  none:\n    - devices: all\n      vgpu-devices: {}\n' >"$T_TMP/none.yaml"
dm apply -f "$T_TMP/none.yaml"
expect_rc 0 "remove all"
echo 1 >"$ROOT/.vgpu-sim/gpus/$l40s/mixed_size"
dm apply -f "$CFG" -c mixed
expect_rc 1 "mixed-size mode unknown without NVML on an empty GPU: refused"
expect_err "not known to be in it \(NVML could not be loaded \(.*libnvidia-ml.so.1.*\): install the driver's libnvidia-ml.so.1, or set VGPU_DM_NVML_LIBRARY to its path\)" "says NVML could not be loaded, and what to set"
VGPU_DM_NVML_LIBRARY="$T_TMP/no-such-libnvidia-ml.so" dm apply -f "$CFG" -c mixed
expect_err "not known to be in it \(NVML could not be loaded \(.*no-such-libnvidia-ml.so.*\): check the file VGPU_DM_NVML_LIBRARY names\)" "a wrong VGPU_DM_NVML_LIBRARY: says so"
VGPU_SIM_ROOT="$T_TMP" VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" dm apply -f "$CFG" -c mixed
expect_err "not known to be in it \(NVML was loaded from .* but nvmlInit_v2 failed: .*VGPU_SIM_ROOT is not its mount point\)" "NVML loaded but its init failed: says which, and what to set"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT" dm apply -f "$CFG" -c mixed
expect_rc 0 "mixed sizes applied in mixed-size mode (NVML says so)"
dm assert -f "$CFG" -c mixed
expect_rc 0 "assert mixed (no NVML needed: the lists show mixed-size mode)"
finish
