#!/bin/bash
# One way to wire up the simulator: `eval "$(vgpu-sim --env MOUNTPOINT)"`
# points nvidia-vgpu-dm and every stand-in (NVML, nvidia-smi, sriov-manage,
# systemctl) at the mount, with nothing else set; the stand-ins also find the
# mount from VGPU_DM_SYSFS_ROOT alone; the simulated nvidia-smi does what
# doctor's remedies say (vgpu -shm, -mig), run as doctor prints them.
. "$(dirname "$0")/lib.sh"
unset VGPU_SIM_ROOT VGPU_DM_NVML_LIBRARY VGPU_DM_TOOLS_DIR VGPU_DM_SRIOV_MANAGE VGPU_DM_NVIDIA_SMI \
	VGPU_DM_SYSTEMCTL VGPU_DM_SYSFS_ROOT
CFG="$T_TMP/c.yaml"
# The remedy of a check in doctor --json output ($OUT).
remedy() {
	python3 -c 'import json, sys
for c in json.load(open(sys.argv[1])):
    if c["id"] == sys.argv[2] and c["remedy"]:
        print(c["remedy"]); break' "$OUT" "$1"
}

# ---- --env: the lines, for a mount point whose name needs quoting ----
M="$T_TMP/it's a host"
mkdir -p "$M"
"$VGPU_SIM" --gpu L40S:vfio "$M" || { echo "FATAL: vgpu-sim failed" >&2; exit 1; }
env_out=$("$VGPU_SIM" --env "$M")
expect_eq "$?" 0 "--env on a mount: exit 0"
expect_eq "$(sed 's/=.*//' <<<"$env_out" | tr '\n' ' ')" \
	"export VGPU_DM_SYSFS_ROOT export VGPU_SIM_ROOT export VGPU_DM_NVML_LIBRARY export VGPU_DM_TOOLS_DIR " \
	"--env prints the four export lines"
(
	eval "$env_out"
	[ "$VGPU_DM_SYSFS_ROOT" == "$(realpath "$M")" ] && [ "$VGPU_SIM_ROOT" == "$VGPU_DM_SYSFS_ROOT" ]
) && pass "eval gives back the mount point's absolute path, quote and space included" ||
	fail "--env quoting: $env_out"
TOOLS=$(eval "$env_out"; echo "$VGPU_DM_TOOLS_DIR")
NVML=$(eval "$env_out"; echo "$VGPU_DM_NVML_LIBRARY")
expect_eq "$(realpath "$TOOLS")" "$(realpath "$(dirname "$VGPU_SIM")/standin")" "build tree: the stand-ins are build/sim/standin"
expect_eq "$NVML" "$TOOLS/libnvidia-ml.so.1" "VGPU_DM_NVML_LIBRARY is the stand-in directory's NVML"
for s in libnvidia-ml.so.1 nvidia-smi sriov-manage systemctl; do
	[ -x "$TOOLS/$s" ] && pass "stand-in $s is there" || fail "no stand-in $TOOLS/$s"
done
fusermount3 -u "$M"

"$VGPU_SIM" --env "$T_TMP" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 2 "--env on a directory that is no vgpu-sim mount"
expect_err "is not a vgpu-sim mount; mount one first" "... says so in one line"
expect_eq "$(wc -l <"$ERR") $(wc -c <"$OUT")" "1 0" "... one line on stderr, nothing to eval"

# ---- nothing but the eval: mixed sizes, MIG, doctor ----
sim_start --gpu L40S:vfio --gpu A100:vfio --gpu H100:vfio
sim_env
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  lab:
    - devices: [0]
      vgpu-devices:
        L40S-8Q: 2
        L40S-4Q: 4
    - devices: [1]
      vgpu-devices:
        A100-2-10C: 3
    - devices: [2]
      vgpu-devices:
        H100-1-10C: 7
YAML
dm doctor --json
expect_rc 0 "doctor on the simulated host: nothing fails (systemctl is the stand-in)"
check_id() { # check_id ID RESULT TARGET
	python3 -c 'import json, sys
sys.exit(0 if any(c["id"] == sys.argv[2] and c["result"] == sys.argv[3] and sys.argv[4] in c["target"]
                  for c in json.load(open(sys.argv[1]))) else 1)' "$OUT" "$@"
}
check_id host.vgpu.manager ok "" && pass "host.vgpu.manager ok: the vGPU Manager runs on the simulated host" ||
	fail "host.vgpu.manager is not ok"

dm doctor --json -f "$CFG" -c lab
fix=$(remedy host.gpu.mixed-size)
expect_eq "$(grep -o 'nvidia-smi vgpu -i [0-9a-f:.]* -shm 1' <<<"$fix")" "nvidia-smi vgpu -i 0000:03:00.0 -shm 1" \
	"doctor's remedy for mixed sizes names nvidia-smi vgpu -shm"
out=$(cd "$T_TMP" && PATH="$VGPU_DM_TOOLS_DIR:$PATH" eval "$(grep -o 'nvidia-smi vgpu -i [0-9a-f:.]* -shm 1' <<<"$fix")")
expect_eq "$?" 0 "the remedy, run as doctor prints it: exit 0"
expect_eq "$out" "Enabled vGPU heterogeneous mode for GPU 00000000:03:00.0.
All done." "... and it says what it did"
expect_eq "$(cat "$ROOT/.vgpu-sim/gpus/0000:03:00.0/mixed_size")" 1 "... the L40S is in mixed-size mode"
fix=$(remedy host.gpu.mig)
mig=$(grep -o 'nvidia-smi -i [0-9a-f:.]* -mig 1' <<<"$fix" | head -1)
h100=$(awk '$3 == "H100" {print $2}' "$ROOT/.vgpu-sim/info")
if [ -n "$mig" ]; then
	PATH="$VGPU_DM_TOOLS_DIR:$PATH" eval "${mig/ -i * -mig/ -i $h100 -mig}" >/dev/null
	expect_eq "$(cat "$ROOT/.vgpu-sim/gpus/$h100/mig_mode")" "1 1" "doctor's MIG remedy, run on the H100: MIG mode on"
else
	pass "doctor leaves MIG mode to apply (no nvidia-smi -mig remedy)"
fi
dm apply -f "$CFG" -c lab
expect_rc 0 "apply of mixed sizes and MIG-backed vGPUs with nothing set but the eval"
dm assert -f "$CFG" -c lab
expect_rc 0 "... asserted"
dm doctor --json -f "$CFG" -c lab
expect_rc 0 "doctor with the layout applied: nothing fails"

# ---- the simulated nvidia-smi: -i, its exit codes ----
smi() { "$VGPU_DM_TOOLS_DIR/nvidia-smi" "$@" >"$OUT" 2>"$ERR"; RC=$?; }
smi vgpu -i 0 -shm 0
expect_rc 19 "vgpu -shm with vGPUs on the GPU: In use by another client"
expect_out "In use by another client" "... said as the real command says it"
smi -i 7 -q
expect_rc 6 "-i of a GPU that is not there"
smi -i 00000000:04:00.0 -q
expect_eq "$(grep -c 'Product Name' "$OUT")" 1 "-i 00000000:04:00.0 -q: one GPU"
expect_out "NVIDIA A100" "... the A100"
smi -i 0 -mig 1
expect_rc 3 "-mig on the L40S: not supported"
smi vgpu -shm 2
expect_rc 2 "-shm 2: a bad argument"

# ---- the stand-ins find the mount from VGPU_DM_SYSFS_ROOT alone ----
unset VGPU_SIM_ROOT
smi -q
expect_rc 0 "nvidia-smi -q with only VGPU_DM_SYSFS_ROOT"
expect_eq "$(grep -c 'Product Name' "$OUT")" 3 "... sees the three GPUs"
out=$("$VGPU_DM_TOOLS_DIR/sriov-manage" -e 0000:03:00.0)
expect_eq "$out" "GPU at 0000:03:00.0 already has VFs enabled." "sriov-manage with only VGPU_DM_SYSFS_ROOT"
dm apply -f "$CFG" -c lab
expect_rc 0 "apply (NVML for the MIG-backed types) with only VGPU_DM_SYSFS_ROOT"
expect_err "already applied|successfully applied" "... nothing to change"
unset VGPU_DM_SYSFS_ROOT
out=$("$VGPU_DM_TOOLS_DIR/sriov-manage" -e 0000:03:00.0 2>&1)
expect_eq "$?" 1 "sriov-manage with neither variable: refused"
expect_eq "$(grep -c 'vgpu-sim --env' <<<"$out")" 1 "... and it names vgpu-sim --env"

# ---- systemctl ----
sc() { "$VGPU_DM_TOOLS_DIR/systemctl" "$@" >"$OUT" 2>"$ERR"; RC=$?; }
sc is-active nvidia-vgpu-mgr.service
expect_rc 0 "systemctl is-active nvidia-vgpu-mgr.service"
expect_out "^active$" "... active"
sc is-active nvidia-gridd
expect_rc 3 "systemctl is-active of another unit: inactive, exit 3"
VGPU_SIM_UNITS="" sc -q is-active nvidia-vgpu-mgr
expect_rc 3 "VGPU_SIM_UNITS='': the manager is not running"
sc restart nvidia-vgpu-mgr
expect_rc 1 "a verb that is not simulated: exit 1"
finish
