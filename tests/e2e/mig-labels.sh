#!/bin/bash
# Every MIG-backed label of upstream's example config for the simulated MIG
# models, applied one after the other (each a switch from the previous
# layout) and asserted, on one framework (mdev or vfio, the first argument).
# The GPU instances made are checked against the simulator's own per-GI
# maximums: ceil(vGPUs / vGPUs per instance).
. "$(dirname "$0")/lib.sh"
FW=${1:?framework: mdev or vfio}
CFG="$VGPUDM_SRCDIR/tests/data/upstream/upstream-config-example.yaml"

gpu_dir() { echo "$ROOT"/.vgpu-sim/gpus/*; }
mig_mode() { cat "$(gpu_dir)/mig_mode"; }
n_gis() { wc -l <"$(gpu_dir)/gis"; }
# The label's count: the line after "<label>:" under vgpu-devices.
label_count() { awk -v l="            $1:" 'index($0, l) == 1 {print $2; exit}' "$CFG"; }
# vGPUs per GI of a type name, from the simulator's tables.
per_gi() {
	local id
	id=$(awk -v n="$1" '$NF == n || $NF == n"" {print $1; exit}' "$ROOT/.vgpu-sim/types")
	awk -v i="$id" '$1 == i {print $3}' "$(gpu_dir)/mig_types"
}
n_vgpus() {
	if [ "$FW" = mdev ]; then
		find "$ROOT/sys/bus/mdev/devices" -mindepth 1 -maxdepth 1 | wc -l
	else
		grep -lv '^0$' "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type 2>/dev/null | wc -l
	fi
}

for model in A100 A100D A30 H100 DC; do
	mountpoint -q "$ROOT" && fusermount3 -u "$ROOT"
	sim_start --gpu "$model:$FW"
	sim_env # NVML, sriov-manage: the simulator's stand-ins
	labels=$(grep -E "^    $model-[1-9]-[0-9]+[ABCQ](ME|NOME|MEALL|GFX)?:\$" "$CFG" | tr -d ' :')
	[ -n "$labels" ] || fail "$model: no MIG-backed labels found"
	for label in $labels; do
		dm apply -f "$CFG" -c "$label"
		expect_rc 0 "$model/$FW: apply $label"
		dm assert -f "$CFG" -c "$label"
		expect_rc 0 "$model/$FW: assert $label"
		count=$(label_count "$label")
		base=${label%GFX}
		per=$(per_gi "$base")
		expect_eq "$(n_vgpus) $(mig_mode) $(n_gis)" "$count 1 1 $(((count + per - 1) / per))" \
			"$model/$FW: $label makes $count vGPUs in MIG mode in ceil($count/$per) GPU instances"
	done
done

# The model with MIG time-slicing: DC-1-8C x 12 is 4 instances of 1g.24gb+gfx, not 12.
dm apply -f "$CFG" -c DC-4-96C
dm apply -f "$CFG" -c DC-1-8C --dry-run
expect_rc 0 "dry-run DC-1-8C"
expect_eq "$(grep -c 'gi-create   1g.24gb+gfx' "$OUT") $(grep -c '^  gi-destroy' "$OUT")" "4 1" \
	"dry-run: 4 x 1g.24gb+gfx created, the 4g instance destroyed"
dm apply -f "$CFG" -c DC-1-8C --dry-run --json
python3 - "$OUT" <<'PY' && pass "dry-run --json lists the MIG steps" || fail "dry-run --json mig_steps"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]
ops = [s["op"] for s in g["mig_steps"]]
assert ops == ["gi-destroy"] + ["gi-create"] * 4, ops
assert all(s["profile"] == "1g.24gb+gfx" for s in g["mig_steps"][1:]), g["mig_steps"]
PY
dm apply -f "$CFG" -c DC-1-8C
expect_rc 0 "apply DC-1-8C"
expect_eq "$(n_vgpus) $(n_gis)" "12 4" "DC-1-8C x 12: 4 GPU instances"
awk '{print $2}' "$(gpu_dir)/gis" | sort -u >"$T_TMP/profiles"
expect_eq "$(cat "$T_TMP/profiles")" "47" "all of profile 47 (1g.24gb+gfx)"
dm list
expect_out "MIG mode on, 4 GPU instances" "list shows MIG mode and instances"
expect_eq "$(grep -cE '^  [0-9]+ +1g.24gb\+gfx +[0-3]:1 +1 +3$' "$OUT")" 4 "list: each instance holds 3 vGPUs"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: mig mode and instances with their vGPUs" || fail "list --json mig"
import json, sys
m = json.load(open(sys.argv[1]))["gpus"][0]["mig"]
assert m["mode"] == "on" and len(m["gpu_instances"]) == 4, m
assert all(len(gi["vgpus"]) == 3 and gi["compute_instances"] == 1 for gi in m["gpu_instances"]), m
PY

dm export
expect_rc 0 "export a MIG host"
expect_out "DC-1-8C: 12" "export names the MIG-backed type and count"
expect_err "MIG mode on, 4 GPU instances \(1g.24gb\+gfx, " "export notes MIG mode and the instances"
cp "$OUT" "$T_TMP/exported.yaml"
dm assert -f "$T_TMP/exported.yaml" -c current
expect_rc 0 "the export asserts on the host"

sim_reset
dm apply -f "$CFG" -c DC-1-8C
expect_rc 0 "second apply"
expect_eq "$(sim_counter write)" 0 "second apply writes nothing"
expect_eq "$(n_gis)" 4 "and leaves the instances"

# Kept vGPUs keep their instances: 12 -> 6 DC-1-8C keeps 6 vGPUs and the
# instances holding them, destroys only the emptied ones; 6 -> 6 + 2 x
# DC-1-12C (another size: its own instance) adds one instance.
K="$T_TMP/keep.yaml"
printf 'version: v1\nvgpu-configs:\n  six:\n    - devices: all\n      vgpu-devices:\n        DC-1-8C: 6\n  mixed:\n    - devices: all\n      vgpu-devices:\n        DC-1-8C: 6\n        DC-1-12C: 2\n' >"$K"
awk '{print $3}' "$(gpu_dir)/vgpus" | sort >"$T_TMP/v12"
dm apply -f "$K" -c six
expect_rc 0 "12 -> 6 x DC-1-8C"
awk '$2 != -1 {print $2}' "$(gpu_dir)/vgpus" | sort -u >"$T_TMP/used"
expect_eq "$(n_vgpus) $(n_gis) $(wc -l <"$T_TMP/used")" "6 2 2" "6 vGPUs in 2 instances, the 2 emptied ones destroyed"
expect_eq "$(awk '{print $1}' "$(gpu_dir)/gis" | sort | tr '\n' ' ')" "$(tr '\n' ' ' <"$T_TMP/used")" \
	"the instances left are those the kept vGPUs use"
awk '{print $3}' "$(gpu_dir)/vgpus" | sort >"$T_TMP/v6"
expect_eq "$(comm -13 "$T_TMP/v12" "$T_TMP/v6" | wc -l)" 0 "the 6 left are 6 of the 12 (same ids)"
dm apply -f "$K" -c mixed
expect_rc 0 "6 x DC-1-8C + 2 x DC-1-12C"
expect_eq "$(n_vgpus) $(n_gis)" "8 3" "a third instance for the other size"
dm assert -f "$K" -c mixed
expect_rc 0 "assert the mixed layout"
dm apply -f "$CFG" -c DC-1-8C

# Switching to a time-sliced layout turns MIG off (its instances go first),
# and back.
dm apply -f "$CFG" -c DC-24Q
expect_rc 0 "MIG-backed -> time-sliced"
expect_eq "$(n_vgpus) $(mig_mode) $(n_gis)" "4 0 0 0" "DC-24Q: MIG off, no instances"
dm assert -f "$CFG" -c DC-24Q
expect_rc 0 "assert DC-24Q"
dm apply -f "$CFG" -c DC-2-24QGFX
expect_rc 0 "time-sliced -> MIG-backed"
expect_eq "$(n_vgpus) $(mig_mode) $(n_gis)" "4 1 1 2" "DC-2-24QGFX: 2 x 2g instances"
dm assert -f "$CFG" -c DC-24Q
expect_rc 1 "the time-sliced layout no longer asserts"
finish
