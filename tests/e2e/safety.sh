#!/bin/bash
# Never remove a vGPU a process holds; one apply at a time; an apply that
# died midway is undone by the next run; deterministic UUIDs.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu T4
CFG="$T_TMP/c.yaml"
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  four:
    - devices: all
      vgpu-devices:
        T4-4Q: 4
  three:
    - devices: all
      vgpu-devices:
        T4-4Q: 3
  eight:
    - devices: all
      vgpu-devices:
        T4-8Q: 2
YAML
HOLDERS=()
stop_holders() { local p; for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; HOLDERS=(); }
trap 'in_main_shell && { stop_holders; cleanup; }' EXIT

dm apply -f "$CFG" -c four
expect_rc 0 "set-up: four"
# A "VM" holds the last vGPU of GPU 0 through its VFIO group.
gpu0=$(ls "$ROOT/sys/class/mdev_bus" | sort | head -1)
held=$(vgpus | awk -v g="$gpu0" '$3 == g {print $1}' | tail -1)
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
sleep 300 3<>"$ROOT/dev/vfio/$group" &
HOLDERS+=($!)
holder=$!
# until it runs as sleep (before its exec it is a copy of this shell)
for _ in $(seq 100); do grep -qa "^sleep" "$ROOT/proc/$holder/cmdline" 2>/dev/null && break; sleep 0.1; done
start=$(vgpus)

dm apply -f "$CFG" -c eight
expect_rc 3 "removing a vGPU in use is refused"
expect_err "GPU 0 \($gpu0\): vGPU $held \(T4-4Q\) on $gpu0 is in use by pid $holder \(sleep 300\), which holds /dev/vfio/$group; refusing to remove it \(--force overrides\)" "refusal names vGPU, process and node"
expect_eq "$(vgpus)" "$start" "refused: host unchanged"
dm apply -f "$CFG" -c eight --dry-run
expect_rc 3 "--dry-run reports the same refusal"
dm apply -f "$CFG" -c eight --dry-run --json
expect_rc 3 "--dry-run --json: the same refusal"
python3 - "$OUT" "$held" "$holder" <<'PY' && pass "--dry-run --json: the refusal and its holder as JSON" || fail "in-use refusal JSON"
import json, sys
p = json.load(open(sys.argv[1]))
r = p["refusal"]
assert p["refused"] is True and r["exit_code"] == 3, p
assert r["in_use"]["vgpu"] == sys.argv[2] and r["in_use"]["pid"] == int(sys.argv[3]), r
assert r["in_use"]["type"] == "T4-4Q", r
PY

dm apply -f "$CFG" -c three
expect_rc 0 "four -> three keeps the vGPU in use"
vgpus | grep -q "^$held " && pass "held vGPU kept" || fail "held vGPU removed"

dm apply -f "$CFG" -c eight --force
expect_rc 1 "--force: the driver still refuses while the VM holds it"
expect_err "WARN\[[0-9]+\] .*removing vGPU $held .* --force" "--force warns loudly"
expect_err "restored to its previous state|nothing had been changed" "and the host is put back"
stop_holders
dm apply -f "$CFG" -c eight
expect_rc 0 "once the VM is gone the apply goes through"

# One apply at a time.
flock "$ROOT/run/nvidia-vgpu-dm.lock" sleep 3 &
HOLDERS+=($!)
sleep 0.5
dm apply -f "$CFG" -c four --lock-timeout 1
expect_rc 4 "lock held elsewhere: gives up after --lock-timeout"
expect_err "is locked; gave up after 1 s" "lock timeout message"
dm apply -f "$CFG" -c four --lock-timeout 10
expect_rc 0 "waits for the lock, then applies"
expect_err "Waiting for another nvidia-vgpu-dm" "says it waits"
stop_holders

# Not root: the lock cannot be made, and the message says apply needs root
# (here: write access to the root it is given).
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	NR="$T_TMP/noroot"
	mkdir -p "$NR/sys/bus/pci/devices" "$NR/run"
	nobody_tools
	chmod 755 "$NR"
	cp "$CFG" "$NR/c.yaml" && chmod 644 "$NR/c.yaml"
	setpriv --reuid=65534 --regid=65534 --clear-groups env VGPU_DM_SYSFS_ROOT="$NR" \
		"$NOBODY_DM" apply -f "$NR/c.yaml" -c four >"$OUT" 2>"$ERR"
	RC=$?
	expect_rc 1 "not root: refused"
	expect_err "^FATA\[0000\] cannot open the lock file $NR/run/nvidia-vgpu-dm.lock: Permission denied; apply needs root, or write access to the root it is given: $NR \(--sysfs-root\)$" "not root: says apply needs root"
	chmod 700 "$T_TMP"
else
	pass "not-root lock message: skipped (needs root and setpriv to drop it)"
fi

# An apply that died midway: its journal says how the GPUs were.
before=$(vgpus)
write_dead_journal
# ...and what it had done before it died: two removed, one 8Q created.
for u in $(vgpus | awk '{print $1}' | head -2); do echo 1 >"$ROOT/sys/bus/mdev/devices/$u/remove"; done
dm assert -f "$CFG" -c four
expect_rc 1 "the half-applied host does not match"
expect_err "WARN.*an earlier apply did not finish" "assert warns about the journal"
dm apply -f "$CFG" -c four
expect_rc 0 "next apply recovers, then applies"
expect_err "an earlier apply \(pid 999999\) did not finish: restoring the 2 GPUs" "recovery announced"
expect_eq "$(vgpus)" "$before" "the host is back as it was before the dead apply (same UUIDs)"
[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "journal removed" || fail "journal left behind"

# SIGTERM (a pod stopped) at any moment: the host ends fully before or fully
# after, never half-applied, and no journal is left.
label=eight
for delay in 0 0.02 0.05 0.1 0.2 0.3; do
	VGPU_DM_SYSFS_ROOT="$ROOT" "$VGPU_DM" apply -f "$CFG" -c "$label" >"$OUT" 2>"$ERR" &
	pid=$!
	sleep "$delay"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	check_sanitizers "apply killed after ${delay}s"
	dm assert -f "$CFG" -c four; a=$RC
	dm assert -f "$CFG" -c eight; b=$RC
	if [ $((a + b)) -eq 1 ]; then pass "SIGTERM after ${delay}s: host is four or eight"; else fail "SIGTERM after ${delay}s: half-applied host"; fi
	[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "SIGTERM after ${delay}s: no journal" || fail "journal left after SIGTERM"
	[ "$label" = eight ] && label=four || label=eight
done
dm apply -f "$CFG" -c four
expect_rc 0 "settle on four"

# Deterministic UUIDs: the same seed on a rebuilt host gives the same UUIDs.
dm apply -f "$CFG" -c eight --uuid-seed host-a
first=$(vgpus | awk '{print $1}')
printf 'version: v1\nvgpu-configs:\n  none:\n    - devices: all\n      vgpu-devices: {}\n' >"$T_TMP/none.yaml"
dm apply -f "$T_TMP/none.yaml"
expect_rc 0 "wipe"
VGPU_DM_UUID_SEED=host-a dm apply -f "$CFG" -c eight
expect_rc 0 "rebuild with the same seed"
expect_eq "$(vgpus | awk '{print $1}')" "$first" "same UUIDs after a rebuild"
dm apply -f "$T_TMP/none.yaml"
dm apply -f "$CFG" -c eight --uuid-seed host-b
[ "$(vgpus | awk '{print $1}')" != "$first" ] && pass "another seed, other UUIDs" || fail "seed ignored"
# machine-id: the simulator has an etc/machine-id; the seed is its contents.
dm apply -f "$T_TMP/none.yaml"
dm apply -f "$CFG" -c eight --uuid-seed machine-id
expect_rc 0 "--uuid-seed machine-id with the simulator's etc/machine-id"
by_file=$(vgpus | awk '{print $1}')
dm apply -f "$T_TMP/none.yaml"
dm apply -f "$CFG" -c eight --uuid-seed "$(cat "$ROOT/etc/machine-id")"
expect_eq "$(vgpus | awk '{print $1}')" "$by_file" "machine-id means the file's contents"
mkdir -p "$T_TMP/nomid/sys/bus/pci/devices"
dm_at "$T_TMP/nomid" apply -f "$CFG" -c four --uuid-seed machine-id
expect_rc 1 "--uuid-seed machine-id without /etc/machine-id"
expect_err "cannot read .*/etc/machine-id" "names the missing file"
finish
