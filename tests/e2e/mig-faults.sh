#!/bin/bash
# A fault at each step of a MIG apply (MIG mode, GPU instance, vGPU) rolls
# the host back to exactly its state before: vGPUs (same ids, types,
# parents), MIG mode and GPU instances. On an A100 (Ampere: the mode change
# needs the VFs off for the GPU reset) with mdev, an H100 (no reset) with
# vendor VFIO. The framework is the first argument.
. "$(dirname "$0")/lib.sh"
FW=${1:?framework: mdev or vfio}
CFG="$VGPUDM_SRCDIR/tests/data/upstream/upstream-config-example.yaml"
if [ "$FW" = mdev ]; then M=A100 TS=A100-4C MIG1=A100-1-5C MIG2=A100-2-10C; else M=H100 TS=H100-4C MIG1=H100-1-10C MIG2=H100-2-20C; fi
sim_start --gpu "$M:$FW"
sim_env # NVML, sriov-manage: the simulator's stand-ins
G=$(echo "$ROOT"/.vgpu-sim/gpus/*)

# Everything a rollback must restore, one line per item.
state() {
	echo "mode $(cat "$G/mig_mode")"
	sed 's/^/gi /' "$G/gis"
	sed 's/^/vgpu /' "$G/vgpus" | sort
	if [ "$FW" = vfio ]; then
		for f in "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type; do
			[ "$(cat "$f")" = 0 ] && continue
			echo "vf $(basename "$(dirname "$(dirname "$f")")") $(cat "$f") gi $(cat "$(dirname "$f")/gpu_instance_id")"
		done
	fi
}
fault() { echo "$1" >"$ROOT/.vgpu-sim/faults"; }
# fault_case FROM TO FAULT MESSAGE-REGEX: FROM applied, then TO fails at FAULT and is rolled back.
fault_case() {
	dm apply -f "$CFG" -c "$1"
	expect_rc 0 "$FW: start from $1"
	state >"$T_TMP/before"
	fault "$3"
	dm apply -f "$CFG" -c "$2"
	fault clear
	expect_rc 1 "$FW: $1 -> $2 with fault '$3' fails"
	expect_err "$4" "$FW: $1 -> $2 ('$3'): the message names the step"
	expect_err "restored to its previous state" "$FW: $1 -> $2 ('$3'): says it restored the host"
	state >"$T_TMP/after"
	if cmp -s "$T_TMP/before" "$T_TMP/after"; then
		pass "$FW: $1 -> $2 ('$3'): vGPUs, MIG mode and GPU instances as before"
	else
		fail "$FW: $1 -> $2 ('$3'): state differs: $(diff "$T_TMP/before" "$T_TMP/after" | head -20 | tr '\n' ' ')"
	fi
	dm assert -f "$CFG" -c "$1"
	expect_rc 0 "$FW: $1 still asserts"
	[ -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && fail "$FW: journal left behind" || pass "$FW: no journal left"
}

# time-sliced -> MIG-backed: the mode change, an instance, a vGPU fail
fault_case "$TS" "$MIG1" "mig 1 EBUSY" "cannot turn MIG mode on: .*In use by another client"
fault_case "$TS" "$MIG1" "gi 3 ENOSPC" "creating GPU instance .* failed: .*Ran out of critical resources"
fault_case "$TS" "$MIG1" "create 4 EIO" "creating $MIG1 vGPU .* failed: Input/output error"
# MIG-backed -> another MIG-backed layout: instances destroyed, made, then a fault
fault_case "$MIG1" "$MIG2" "gi 2 ENOSPC" "creating GPU instance"
fault_case "$MIG1" "$MIG2" "create 2 EIO" "creating $MIG2 vGPU .* failed: Input/output error"
# MIG-backed -> time-sliced: the mode change back off fails, or a vGPU
fault_case "$MIG1" "$TS" "mig 1 EBUSY" "cannot turn MIG mode off"
fault_case "$MIG1" "$TS" "create 3 EIO" "creating $TS vGPU .* failed: Input/output error"

# A refusal before anything changed: nothing to restore, exit 1.
dm apply -f "$CFG" -c "$MIG1"
state >"$T_TMP/before"
fault "mig 1 EBUSY"
dm apply -f "$CFG" -c "$TS" --dry-run
expect_rc 0 "$FW: dry-run writes nothing (the fault stays pending)"
expect_out "^  mig-mode    off" "$FW: dry-run shows the mode step"
expect_out "^  gi-destroy  " "$FW: dry-run shows the instance steps"
fault clear
state >"$T_TMP/after"
cmp -s "$T_TMP/before" "$T_TMP/after" && pass "$FW: dry-run changed nothing" || fail "$FW: dry-run changed the host"

# A failed rollback (exit 5) keeps the journal; the next run restores MIG
# mode, instances and vGPUs from it.
dm apply -f "$CFG" -c "$TS"
expect_rc 0 "$FW: back to $TS"
state >"$T_TMP/before"
printf 'create 4 EIO\ncreate 6 EIO\n' >"$ROOT/.vgpu-sim/faults"
dm apply -f "$CFG" -c "$MIG1"
fault clear
expect_rc 5 "$FW: a rollback that fails too"
grep -q '^mig ' "$ROOT/run/nvidia-vgpu-dm.journal" && pass "$FW: the journal records the MIG mode" ||
	fail "$FW: no mig line in the journal"
dm apply -f "$CFG" -c "$TS"
expect_rc 0 "$FW: the next apply recovers"
expect_err "did not finish: restoring" "$FW: it says it restores from the journal"
state >"$T_TMP/after"
cmp -s "$T_TMP/before" "$T_TMP/after" && pass "$FW: recovered exactly (same vGPU ids, MIG off, no instances)" ||
	fail "$FW: recovered state differs: $(diff "$T_TMP/before" "$T_TMP/after" | head -20 | tr '\n' ' ')"
finish
