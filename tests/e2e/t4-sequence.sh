#!/bin/bash
# Every label of upstream's T4 example applied in turn on a 2 x T4 host, each
# asserted; asserting a different label fails.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu T4
CFG="$DATA/upstream/upstream-config-t4.yaml"

declare -A expect=(
	[T4-1Q]="16 T4-1Q|16 T4-1Q" [T4-2Q]="8 T4-2Q|8 T4-2Q" [T4-4Q]="4 T4-4Q|4 T4-4Q"
	[T4-8Q]="2 T4-8Q|2 T4-8Q" [T4-16Q]="1 T4-16Q|1 T4-16Q"
	[T4-small]="16 T4-1Q|8 T4-2Q" [T4-medium]="4 T4-4Q|2 T4-8Q" [T4-large]="2 T4-8Q|1 T4-16Q"
)
gpu_types() { # per-GPU "count type" for GPU address $1
	local d
	for d in "$ROOT"/sys/bus/mdev/devices/*; do
		[ -e "$d" ] || continue
		[ "$(basename "$(dirname "$(readlink "$d")")")" == "$1" ] || continue
		awk '{print $NF}' "$d/mdev_type/name"
	done | sort | uniq -c | awk '{print $1, $2}'
}
gpus=($(ls "$ROOT/sys/class/mdev_bus" | sort))
expect_eq "${#gpus[@]}" 2 "two mdev parents"

prev=""
for label in T4-1Q T4-2Q T4-4Q T4-8Q T4-16Q T4-small T4-medium T4-large; do
	dm apply -f "$CFG" -c "$label"
	expect_rc 0 "apply $label"
	expect_err "Selected vGPU device configuration successfully applied" "apply $label message"
	IFS='|' read -r want0 want1 <<<"${expect[$label]}"
	expect_eq "$(gpu_types "${gpus[0]}")" "$want0" "$label: GPU 0 layout"
	expect_eq "$(gpu_types "${gpus[1]}")" "$want1" "$label: GPU 1 layout"
	dm assert -f "$CFG" -c "$label"
	expect_rc 0 "assert $label"
	expect_err "Selected vGPU device configuration is currently applied" "assert $label message"
	if [ -n "$prev" ]; then
		dm assert -f "$CFG" -c "$prev"
		expect_rc 1 "assert previous label $prev after $label"
		expect_err "Assertion failure: selected configuration not currently applied" \
			"assert $prev failure message"
	fi
	prev=$label
done
finish
