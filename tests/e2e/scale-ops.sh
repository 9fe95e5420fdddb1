#!/bin/bash
# A scan costs about the least it needs: list and assert on two A16 boards
# (8 GPUs, 128 VF parents, half of them holding a vGPU) make at most 1.2 x
# the lookups, opens, reads and readlinks of an ideal scan (bench/minimum.py
# counts those from the mounted tree). Counts, not times: they are exact.
. "$(dirname "$0")/lib.sh"
sim_start --gpu 2xA16
CFG="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  half:\n    - devices: all\n      vgpu-devices:\n        A16-2Q: 8\n' >"$CFG"
dm apply -f "$CFG" -c half
expect_rc 0 "A16-2Q x 8 on 8 GPUs"
for c in list assert; do
	read -r l o r k < <(python3 "$VGPUDM_SRCDIR/bench/minimum.py" "$ROOT" "$c")
	min=$((l + o + r + k))
	sim_reset
	if [ "$c" = list ]; then dm list; else dm assert -f "$CFG" -c half; fi
	expect_rc 0 "$c"
	ops=$(($(sim_counter lookup) + $(sim_counter open) + $(sim_counter read) + $(sim_counter readlink)))
	if [ $((ops * 10)) -le $((min * 12)) ]; then
		pass "$c: $ops sysfs operations, the least is $min"
	else
		fail "$c: $ops sysfs operations, more than 1.2 x the least ($min)"
	fi
	# every type's name is read once per GPU, not once per VF
	expect_eq "$(sim_counter open)" "$o" "$c: opens exactly those an ideal scan needs"
done
finish
