#!/bin/bash
# Every refusal: one clear line naming what and where, exit 1, host unchanged.
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
  eight:
    - devices: all
      vgpu-devices:
        T4-8Q: 2
  unsupported:
    - devices: [1]
      vgpu-devices:
        T4-3Q: 2
  too-many:
    - devices: all
      vgpu-devices:
        T4-2Q: 9
  mixed-types:
    - devices: [0]
      vgpu-devices:
        T4-4Q: 2
        T4-2Q: 4
YAML
dm apply -f "$CFG" -c four
expect_rc 0 "set-up: apply four"
start=$(vgpus)
unchanged() { expect_eq "$(vgpus)" "$start" "$1: host unchanged"; }

dm apply -f "$CFG" -c unsupported
expect_rc 1 "type the GPU does not offer"
expect_err "^FATA\[[0-9]{4}\] .*c\.yaml:14:9: vGPU type T4-3Q is not supported on GPU 1 \(0000:[0-9a-f:.]+\) \(device 0x1EB8\); it supports: .*T4-1Q" "unsupported type message names file:line:col, GPU and supported types"
[ "$(wc -l <"$ERR")" -eq 1 ] && pass "one line" || fail "unsupported type: more than one line"
unchanged "unsupported type"

dm apply -f "$CFG" -c too-many
expect_rc 1 "more instances than the GPU holds"
expect_err "GPU 0 \(0000:[0-9a-f:.]+\): 9 x T4-2Q requested, but the GPU holds at most 8" "too-many message"
unchanged "too many"

printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        T4-8q: 2\n' >"$T_TMP/bad.yaml"
dm apply -f "$T_TMP/bad.yaml"
expect_rc 1 "invalid type name"
expect_err "bad\.yaml:6:9: .*T4-8q" "invalid type name: file:line:col"
unchanged "invalid type"

printf 'version: v1\nvgpu-configs:\n  x: [\n' >"$T_TMP/broken.yaml"
dm assert -f "$T_TMP/broken.yaml"
expect_rc 1 "broken YAML"
expect_err "broken\.yaml:[0-9]+:[0-9]+: " "broken YAML: file:line:col"

printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices: {T4-1Q: 0}\n' | dm apply -f -
expect_rc 1 "count 0 on stdin"
expect_err "<stdin>:5:[0-9]+: " "stdin errors name <stdin>:line:col"
unchanged "bad input"

# Two sizes on a pre-Ampere GPU, which the driver would refuse: refused by
# the plan, before any write.
sim_reset
dm apply -f "$CFG" -c mixed-types
expect_rc 1 "two sizes on a T4"
expect_err "GPU 0 \(0000:[0-9a-f:.]+\): the config mixes vGPU sizes \(T4-2Q and T4-4Q\); this GPU has no mixed-size mode" "refused in the plan, with the size rule"
expect_eq "$(sim_counter write)" 0 "mixed sizes: no write"
unchanged "refused mix"

# Injected faults mid-apply, at every step of "four -> eight" on two GPUs
# (8 removes, then 4 creates): the host ends exactly as it started each time.
for n in 1 2 3 4; do
	echo "create $n EIO" >"$ROOT/.vgpu-sim/faults"
	dm apply -f "$CFG" -c eight
	expect_rc 1 "create #$n fails"
	expect_err "creating T4-8Q vGPU .* failed: Input/output error.*restored to its previous state" "create #$n: rolled back"
	unchanged "create #$n fault"
	echo clear >"$ROOT/.vgpu-sim/faults"
done
for n in 1 2 3 4 5 6 7 8; do
	echo "remove $n EBUSY" >"$ROOT/.vgpu-sim/faults"
	dm apply -f "$CFG" -c eight
	expect_rc 1 "remove #$n fails"
	if [ "$n" -eq 1 ]; then
		expect_err "removing T4-4Q vGPU .* failed: Device or resource busy.*nothing had been changed" "remove #1: reported, nothing changed"
	else
		expect_err "removing T4-4Q vGPU .* failed: Device or resource busy.*restored to its previous state" "remove #$n: rolled back"
	fi
	unchanged "remove #$n fault"
	echo clear >"$ROOT/.vgpu-sim/faults"
done
[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "no journal left after rollbacks" || fail "journal left"

# The rollback itself fails (the driver refuses to recreate a removed vGPU):
# exit 5, the journal stays, and the next apply restores from it first.
printf 'create 3 EIO\ncreate 4 EIO\n' >"$ROOT/.vgpu-sim/faults"
dm apply -f "$CFG" -c eight
expect_rc 5 "rollback failed"
expect_err "ROLLBACK FAILED" "says the host is not restored"
[ -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "journal kept" || fail "journal missing after failed rollback"
echo clear >"$ROOT/.vgpu-sim/faults"
dm apply -f "$CFG" -c four
expect_rc 0 "the next apply recovers from the journal"
expect_err "did not finish: restoring" "recovery announced"
unchanged "after recovery"
dm apply -f "$CFG" -c eight
expect_rc 0 "with no fault the same apply succeeds"

# Hosts that cannot take vGPUs at all.
mkdir -p "$T_TMP/empty/sys/bus/pci/devices"
dm_at "$T_TMP/empty" apply -f "$CFG" -c four
expect_rc 1 "no NVIDIA GPU"
expect_err "no NVIDIA GPU found" "no GPU message"
dm_at "$T_TMP/nonexistent" apply -f "$CFG" -c four
expect_rc 1 "root without sysfs"
expect_err "the root directory .*/nonexistent \(--sysfs-root\) cannot be used: No such file or directory" "missing root message"
mkdir -p "$T_TMP/nosys"
dm_at "$T_TMP/nosys" apply -f "$CFG" -c four
expect_rc 1 "root without sysfs"
expect_err "nosys/sys/bus/pci/devices: No such file or directory" "missing sysfs message"

g="$T_TMP/nomgr/sys/bus/pci/devices/0000:3b:00.0"
mkdir -p "$g"
printf '0x10de\n' >"$g/vendor"; printf '0x1eb8\n' >"$g/device"; printf '0x030200\n' >"$g/class"
dm_at "$T_TMP/nomgr" apply -f "$CFG" -c four
expect_rc 1 "GPU bound to no driver"
expect_err "GPU 0 \(0000:3b:00.0\): no vGPU can be created: it is bound to no driver" "no driver message"
mkdir -p "$T_TMP/nomgr/sys/bus/pci/drivers/nvidia"
ln -s ../../drivers/nvidia "$g/driver"
dm_at "$T_TMP/nomgr" apply -f "$CFG" -c four
expect_rc 1 "GPU without vGPU manager"
expect_err "GPU 0 \(0000:3b:00.0\): no vGPU parent device found .* NVIDIA vGPU Manager" "no manager message"
mkdir -p "$T_TMP/norun/sys/bus/pci/devices"
: >"$T_TMP/norun/run"
dm_at "$T_TMP/norun" apply -f "$CFG" -c four
expect_rc 1 "lock file cannot be made"
expect_err "cannot open the lock file .*/norun/run/nvidia-vgpu-dm.lock: Not a directory" "lock failure names the file"
finish
