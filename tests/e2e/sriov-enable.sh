#!/bin/bash
# --enable-sriov: sriov-manage is run through lib/exec (clean signal mask,
# bounded by --sriov-timeout), and judged by the VFs it makes.
. "$(dirname "$0")/lib.sh"
sim_start --gpu L40S:vfio --vfs-disabled
pf=$(awk '$3 == "L40S" {print $2}' "$ROOT/.vgpu-sim/info")
CFG="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        L40S-24Q: 2\n' >"$CFG"
TOOLS="$T_TMP/tools"
mkdir -p "$TOOLS"
export VGPU_SIM_ROOT="$ROOT"

# A sriov-manage that hangs (ignoring SIGTERM, as a wedged driver script
# might) is killed at --sriov-timeout; it saw no blocked signal.
cat >"$TOOLS/hang" <<SH
#!/bin/bash
grep -E '^Sig(Blk|Ign)' /proc/self/status >"$T_TMP/hang.status"
trap '' TERM
sleep 20
SH
chmod +x "$TOOLS/hang"
VGPU_DM_SRIOV_MANAGE="$TOOLS/hang" dm apply -f "$CFG" --enable-sriov --sriov-timeout 1
expect_rc 1 "a hanging sriov-manage fails the run"
expect_err "$TOOLS/hang -e $pf failed \(still running when the 1 s of --sriov-timeout ran out: killed\)" "killed at --sriov-timeout, says so"
blk=$(awk '$1 == "SigBlk:" {print $2}' "$T_TMP/hang.status")
expect_eq "$blk" 0000000000000000 "sriov-manage runs with no signal blocked"
expect_eq "$(cat "$ROOT/sys/bus/pci/devices/$pf/sriov_numvfs")" 0 "no VFs after the failed run"

# sriov-manage exits 1 but the VFs appear: success is judged by the VFs.
cat >"$TOOLS/exit1" <<SH
#!/bin/bash
"$VGPU_SIM_SRIOV_MANAGE" "\$@"
echo "sriov-manage: some rebind step failed" >&2
exit 1
SH
chmod +x "$TOOLS/exit1"
VGPU_DM_SRIOV_MANAGE="$TOOLS/exit1" dm apply -f "$CFG" --enable-sriov
expect_rc 0 "sriov-manage exit 1 with VFs made: applied"
expect_err "WARN.*$TOOLS/exit1 -e $pf failed \(exit status 1\): sriov-manage: some rebind step failed; going by the VFs it made" "the failure is a warning"
dm assert -f "$CFG"
expect_rc 0 "assert after enabling"
fusermount3 -u "$ROOT"

# sriov-manage exits 1 and makes no VF: fails at once, with its message.
sim_start --gpu L40S:vfio --vfs-disabled
printf '#!/bin/sh\necho "cannot bind pci-pf-stub" >&2\nexit 1\n' >"$TOOLS/fails"
chmod +x "$TOOLS/fails"
VGPU_DM_SRIOV_MANAGE="$TOOLS/fails" dm apply -f "$CFG" --enable-sriov --sriov-timeout 600
expect_rc 1 "sriov-manage exit 1, no VFs"
expect_err "FATA.*GPU 0 \($pf\): $TOOLS/fails -e $pf failed \(exit status 1\): cannot bind pci-pf-stub, and it has no SR-IOV virtual functions" "fails at once, naming its output"

# The tools directory finds sriov-manage when no variable names it.
ln -s "$VGPU_SIM_SRIOV_MANAGE" "$TOOLS/sriov-manage"
VGPU_DM_TOOLS_DIR="$TOOLS" dm apply -f "$CFG" --enable-sriov
expect_rc 0 "sriov-manage found in VGPU_DM_TOOLS_DIR"
expect_err "Enabling SR-IOV virtual functions: $TOOLS/sriov-manage -e $pf" "names the program it ran"
fusermount3 -u "$ROOT"

# Two A100s, 4 x A100-10C fit on GPU 0 but 5 do not fit on GPU 1: the
# catalogue knows the maximum, so the run is refused before any VF is made.
sim_start --gpu A100 --gpu A100 --vfs-disabled
read -r a0 a1 < <(awk '$3 == "A100" {print $2}' "$ROOT/.vgpu-sim/info" | xargs)
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  x:
    - devices: [0]
      vgpu-devices:
        A100-10C: 4
    - devices: [1]
      vgpu-devices:
        A100-10C: 5
YAML
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" dm apply -f "$CFG" --enable-sriov
expect_rc 1 "refused before enabling"
expect_err "c\.yaml:9:9: GPU 1 \($a1\): 5 x A100-10C requested, but the GPU holds at most 4 \(the catalogue's maximum for A100, checked before enabling its SR-IOV virtual functions, which stay disabled\)" "refused from the catalogue, says the VFs stay off"
if grep -q "Enabling SR-IOV" "$ERR"; then fail "sriov-manage ran"; else pass "sriov-manage not run"; fi
expect_eq "$(cat "$ROOT/sys/bus/pci/devices/$a0/sriov_numvfs") $(cat "$ROOT/sys/bus/pci/devices/$a1/sriov_numvfs")" "0 0" "both GPUs have no VFs"

# Refused only once the VFs are there (two sizes on GPU 1, which the plan
# sees once the types are listed): the VFs this run enabled are disabled
# again, and the message says so.
sed -i 's/A100-10C: 5/A100-5C: 2\n        A100-10C: 1/' "$CFG"
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" dm apply -f "$CFG" --enable-sriov
expect_rc 1 "refused once the VFs are there"
expect_err "GPU 1 \($a1\): the config mixes vGPU sizes .*; the SR-IOV virtual functions this run enabled \($a0, $a1\) were disabled again" "says the VFs were disabled again"
expect_eq "$(cat "$ROOT/sys/bus/pci/devices/$a0/sriov_numvfs") $(cat "$ROOT/sys/bus/pci/devices/$a1/sriov_numvfs")" "0 0" "both GPUs have no VFs, as before the run"
expect_err "Disabling SR-IOV virtual functions: .*sriov-manage -d $a0" "ran sriov-manage -d"

# What can be checked before enabling is: a bad layout for a GPU that has
# its VFs (or needs none) refuses the run before any sriov-manage runs.
fusermount3 -u "$ROOT"
sim_start --gpu T4 --gpu A100 --vfs-disabled
a=$(awk '$3 == "A100" {print $2}' "$ROOT/.vgpu-sim/info")
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  x:
    - devices: [0]
      vgpu-devices:
        T4-4Q: 5
    - devices: [1]
      vgpu-devices:
        A100-10C: 4
YAML
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" dm apply -f "$CFG" --enable-sriov
expect_rc 1 "refused before enabling"
expect_err "GPU 0 \(.*\): 5 x T4-4Q requested, but the GPU holds at most 4" "the T4's problem is named"
if grep -q "Enabling SR-IOV" "$ERR"; then fail "sriov-manage ran before the refusal"; else pass "sriov-manage not run"; fi
expect_eq "$(cat "$ROOT/sys/bus/pci/devices/$a/sriov_numvfs")" 0 "A100 VFs untouched"
# Fixed, the same run enables and applies.
sed -i 's/T4-4Q: 5/T4-4Q: 4/' "$CFG"
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" dm apply -f "$CFG" --enable-sriov
expect_rc 0 "applied with the VFs enabled"
fusermount3 -u "$ROOT"

# A failure after enabling (an injected create fault) is rolled back, VFs too.
sim_start --gpu A100 --vfs-disabled
a=$(awk '$3 == "A100" {print $2}' "$ROOT/.vgpu-sim/info")
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        A100-10C: 4\n' >"$CFG"
echo "create 3 EIO" >"$ROOT/.vgpu-sim/faults"
VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" dm apply -f "$CFG" --enable-sriov
expect_rc 1 "a create fails after enabling"
expect_err "restored to its previous state.*; the SR-IOV virtual functions this run enabled \($a\) were disabled again" "rolled back, VFs disabled again"
expect_eq "$(cat "$ROOT/sys/bus/pci/devices/$a/sriov_numvfs")" 0 "no VFs left"
finish
