#!/bin/bash
# capture and replay, round trip: simulated models on one framework (the
# first argument: mdev or vfio; models without SR-IOV only on mdev; the
# models are the other arguments, all of them if none is given), laid out
# (a MIG-backed layout on the MIG models), is captured with
# `nvidia-vgpu-dm capture`, replayed with `vgpu-sim --replay`, and the tool
# must see the same host on both: `list --json`, `export`, a dry run of
# another layout. Then that layout is applied on both (creates and removes
# by the simulator's rules on the captured types; UUIDs from the same
# --uuid-seed) and the two hosts must still list the same.
. "$(dirname "$0")/lib.sh"
FW=${1:?framework: mdev or vfio}
shift
MODELS=" $* "
CFG="$DATA/upstream/upstream-config-example.yaml"
REPLAY="$T_TMP/replay"
CAP="$T_TMP/capture.tar.gz"
# No nvidia-smi in most rounds (it is slow); one round runs sim/nvidia-smi.
mkdir -p "$T_TMP/tools"
export VGPU_SIM_ROOT="$ROOT" VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_TOOLS_DIR="$T_TMP/tools"
export VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE"
trap 'mountpoint -q "$REPLAY" && fusermount3 -u "$REPLAY"; cleanup' EXIT

# The type names a GPU of the simulated host offers (list --json).
type_names() { python3 -c 'import json,sys; print("\n".join(t["name"] for t in json.load(open(sys.argv[1]))["gpus"][0]["types"]))' "$1"; }
# Labels of the example config for a model whose name is an offered type.
labels_for() { # labels_for MODEL TYPES-FILE
	grep -E "^    $1-[0-9][-0-9A-Z]*:\$" "$CFG" | tr -d ' :' | grep -Fxf "$2"
}
# Run the tool on the replay (NVML from the replay too); output in $OUT, $ERR.
on_replay() { VGPU_SIM_ROOT="$REPLAY" dm_at "$REPLAY" "$@"; }
same() { # same NAME: the tool's answers on the host ($T_TMP/host.NAME) and on the replay
	if cmp -s "$T_TMP/host.$1" "$OUT"; then pass "$round: $1 identical on the replay"
	else fail "$round: $1 differs on the replay: $(diff "$T_TMP/host.$1" "$OUT" | head -20)"; fi
}

n=0
while read -r model fws; do
	case " $fws " in *" $FW "*) ;; *) continue ;; esac
	[ "$MODELS" = "  " ] || case "$MODELS" in *" $model "*) ;; *) continue ;; esac
	round="$model:$FW"
	mountpoint -q "$ROOT" && fusermount3 -u "$ROOT"
	mountpoint -q "$REPLAY" && fusermount3 -u "$REPLAY"
	sim_start --gpu "$model:$FW"
	dm list --json
	cp "$OUT" "$T_TMP/types.json"
	type_names "$T_TMP/types.json" >"$T_TMP/types"
	labels=$(labels_for "$model" "$T_TMP/types")
	# MIG models: two MIG-backed layouts (a replay keeps its captured VFs, so
	# no MIG mode change that needs the VFs disabled)
	mig=$(grep -E "^$model-[0-9]+-" <<<"$labels")
	[ -n "$mig" ] && labels=$mig
	first=$(head -1 <<<"$labels")
	second=$(grep -vFx "$first" <<<"$labels" | tail -1)
	[ -n "$first" ] && [ -n "$second" ] || { fail "$round: no two labels of the example config"; continue; }
	dm apply -f "$CFG" -c "$first" --uuid-seed machine-id
	expect_rc 0 "$round: apply $first"

	if [ $n -eq 0 ]; then cp "$VGPUDM_SRCDIR/sim/nvidia-smi" "$T_TMP/tools/"; else rm -f "$T_TMP/tools/nvidia-smi"; fi
	rm -f "$CAP"
	dm capture -o "$CAP" --timeout 500 # the suite runs on a loaded machine
	expect_rc 0 "$round: capture"
	if [ $n -eq 0 ]; then
		tar -xzOf "$CAP" commands/nvidia-smi-vgpu-q.txt >"$T_TMP/smi" 2>&1
		grep -q "vGPU Name" "$T_TMP/smi" && pass "$round: nvidia-smi vgpu -q output captured" ||
			fail "$round: no nvidia-smi vgpu -q output: $(head -3 "$T_TMP/smi")"
	fi
	n=$((n + 1))
	mkdir -p "$REPLAY"
	"$VGPU_SIM" --replay "$CAP" "$REPLAY" 2>"$T_TMP/replay.err"
	RC=$?
	expect_rc 0 "$round: vgpu-sim --replay mounts the capture"
	[ -s "$T_TMP/replay.err" ] && fail "$round: a capture of a simulated host lacks nothing, yet: $(cat "$T_TMP/replay.err")"

	for q in "list --json" "export" "apply --dry-run -f $CFG -c $second --uuid-seed machine-id" \
		"apply --dry-run --json -f $CFG -c $second --uuid-seed machine-id"; do
		name=$(tr ' /' '__' <<<"${q%% -f*}")
		# shellcheck disable=SC2086
		dm $q
		cp "$OUT" "$T_TMP/host.$name"
		# shellcheck disable=SC2086
		on_replay $q
		same "$name"
	done

	dm apply -f "$CFG" -c "$second" --uuid-seed machine-id
	expect_rc 0 "$round: apply $second on the simulated host"
	on_replay apply -f "$CFG" -c "$second" --uuid-seed machine-id
	expect_rc 0 "$round: apply $second on the replay"
	dm list --json
	cp "$OUT" "$T_TMP/host.after"
	on_replay list --json
	same after
	on_replay assert -f "$CFG" -c "$second"
	expect_rc 0 "$round: the replay holds $second"
done < <("$VGPU_SIM" --list-models)
[ $n -gt 0 ] || fail "no model runs on $FW"
finish
