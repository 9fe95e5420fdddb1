#!/bin/bash
# NVML as its header (nvml.h 13.3) documents it, through the stand-in
# (sim/README.md "NVML stand-in"): the tool against what a real driver
# answers where the stand-in used to share the tool's assumptions.
#  - GPU-instance profile info is NOT_SUPPORTED while MIG mode is off: the
#    plan takes the catalogue's profiles, says so, and apply checks them
#    against NVML's after the switch; a type whose profile the catalogue
#    lacks is refused with what to do.
#  - profiles are enumerated until INVALID_ARGUMENT: the DC's 3_SLICE_GFX
#    profile (0x11, NVML 13.2) is found.
#  - compute-instance calls take the profile ID the profile-info call gives,
#    not the index; an instance of the 7_SLICE_NVL profile (NVML 13.3) is
#    counted and destroyed with its GPU instance.
#  - the mdev UUID buffer is NVML_DEVICE_UUID_BUFFER_SIZE (80): vGPUs of an
#    mdev MIG host are seen in their GPU instances, a second apply changes
#    nothing.
#  - a caller that is not root gets NO_PERMISSION for GPU instances: list
#    says so in one line, a plan that needs them refuses.
. "$(dirname "$0")/lib.sh"
CFG="$VGPUDM_SRCDIR/tests/data/upstream/upstream-config-example.yaml"
export VGPU_SIM_ROOT="$ROOT" VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE"
gpu_dir() { echo "$ROOT"/.vgpu-sim/gpus/*; }
restart() { mountpoint -q "$ROOT" && fusermount3 -u "$ROOT"; sim_start "$@"; }
# MIG mode on as an admin turns it on (nvidia-smi -mig 1; on Ampere with the
# VFs off for the GPU reset), so that each part below tests its own call.
mig_on() {
	local g pf
	g=$(gpu_dir)
	pf="$ROOT/sys/bus/pci/devices/$(basename "$g")/sriov_numvfs"
	local vfs
	vfs=$(cat "$pf")
	echo 0 >"$pf" && echo 1 >"$g/mig_mode" && echo "$vfs" >"$pf"
	expect_eq "$(cat "$g/mig_mode")" "1 1" "MIG mode on (as an admin would turn it on)"
}

# --- MIG off: profiles from the catalogue, checked after the switch -------------
restart --gpu H100:vfio
dm apply -f "$CFG" -c H100-2-20C --dry-run
expect_rc 0 "MIG off: dry-run of a MIG-backed layout"
expect_out "^  mig-mode    on \(GPU-instance profiles below: the catalogue's" "the plan says its profiles are the catalogue's"
expect_eq "$(grep -c '^  gi-create   2g.20gb (profile 14)' "$OUT")" 3 "3 x 2g.20gb planned with MIG off"
dm apply -f "$CFG" -c H100-2-20C --dry-run --json
python3 - "$OUT" <<'PY' && pass "dry-run --json: profiles_from catalogue" || fail "dry-run --json profiles_from"
import json, sys
s = json.load(open(sys.argv[1]))["gpus"][0]["mig_steps"]
assert s[0] == {"mode": "on", "profiles_from": "catalogue", "op": "mig-mode"}, s[0]
PY
dm apply -f "$CFG" -c H100-2-20C
expect_rc 0 "MIG off -> H100-2-20C applied"
expect_eq "$(awk '{print $2}' "$(gpu_dir)/gis" | sort | uniq -c | xargs)" "3 14" "3 instances of profile 14"

# --- a profile beyond NVML 13.1's count: DC 3g.72gb+gfx (3_SLICE_GFX, 0x11) ------
T="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  gfx3:\n    - devices: all\n      vgpu-devices:\n        DC-3-72C: 1\n' >"$T"
restart --gpu DC:vfio
dm apply -f "$T" -c gfx3
expect_rc 1 "MIG off: a type whose profile the catalogue lacks"
expect_err "DC-3-72C needs GPU-instance profile 70, which the catalogue does not list for this GPU, and NVML lists profiles only in MIG mode: turn MIG mode on first \(nvidia-smi -i 0000:03:00.0 -mig 1\)" \
	"it says why and what to do"
expect_eq "$(cat "$(gpu_dir)/mig_mode")" "0 0" "and changed nothing"
mig_on
dm apply -f "$T" -c gfx3
expect_rc 0 "MIG on: DC-3-72C (profile index 0x11) applied"
expect_eq "$(awk '{print $2}' "$(gpu_dir)/gis" | xargs)" 70 "one instance of profile 70 (3g.72gb+gfx)"
dm list
expect_out "^  [0-9]+ +3g.72gb\+gfx +0:3 +1 +1$" "list names the 3g.72gb+gfx instance"

# --- compute instances by profile ID; 7_SLICE_NVL ---------------------------------
restart --gpu H100:vfio
mig_on
dm apply -f "$CFG" -c H100-7-80C
expect_rc 0 "H100-7-80C"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: the 7g instance has its compute instance" || fail "compute instances"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]["mig"]["gpu_instances"]
assert len(g) == 1 and g[0]["compute_instances"] == 1 and len(g[0]["vgpus"]) == 1, g
PY
dm apply -f "$CFG" -c H100-4C
expect_rc 0 "back to time-sliced (its GI and CI destroyed)"
restart --gpu H100:vfio
mig_on
echo "create 0" >"$(gpu_dir)/gis" && echo "ci-create 1 8" >"$(gpu_dir)/gis"
expect_eq "$(cat "$(gpu_dir)/gis")" "1 0 0 8 1 8" "an admin's 7g instance with a 7_SLICE_NVL compute instance"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json counts the 7_SLICE_NVL compute instance" || fail "NVL CI not counted"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]["mig"]["gpu_instances"]
assert len(g) == 1 and g[0]["compute_instances"] == 1, g
PY
dm apply -f "$CFG" -c H100-4C
expect_rc 0 "the layout destroys it, compute instance first"
expect_eq "$(cat "$(gpu_dir)/mig_mode") $(wc -l <"$(gpu_dir)/gis")" "0 0 0" "MIG off, no instance left"

# --- mdev UUIDs with an 80-byte buffer ---------------------------------------------
restart --gpu A100:mdev
mig_on
dm apply -f "$CFG" -c A100-2-10C
expect_rc 0 "mdev: A100-2-10C"
dm list --json
python3 - "$OUT" <<'PY' && pass "mdev: each vGPU is in its GPU instance" || fail "mdev vGPUs not in their instances"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]["mig"]["gpu_instances"]
assert len(g) == 3 and all(len(i["vgpus"]) == 1 for i in g), g
PY
sim_reset
dm apply -f "$CFG" -c A100-2-10C
expect_rc 0 "mdev: the same layout again"
expect_eq "$(sim_counter write)" 0 "writes nothing (no instance in use planned for destroy)"

# --- a caller that is not root --------------------------------------------------
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	restart --allow-other --gpu H100:vfio
	mig_on
	dm apply -f "$CFG" -c H100-1-10C
	expect_rc 0 "as root: H100-1-10C"
	nobody_tools
	as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/ VGPU_DM_SYSFS_ROOT="$ROOT" \
			"$NOBODY_DM" "$@" >"$OUT" 2>"$ERR"
		RC=$?
	}
	as_nobody list
	expect_rc 0 "as nobody: list"
	expect_err "GPU 0 \(0000:03:00.0\): its GPU instances are unknown: NVML refused nvmlDeviceGetGpuInstancePossiblePlacements_v2: Insufficient Permissions \(NVML code 4\); NVML lists and changes MIG GPU instances only for a privileged caller \(root\)" \
		"as nobody: list says NVML refused, in one line"
	expect_eq "$(grep -c 'its GPU instances are unknown' "$ERR")" 1 "  once"
	cp "$CFG" "$T_TMP/nobody-tools/config.yaml" && chmod 644 "$T_TMP/nobody-tools/config.yaml"
	as_nobody apply -f "$T_TMP/nobody-tools/config.yaml" -c H100-2-20C --dry-run
	expect_rc 1 "as nobody: a dry-run that needs the instances fails"
	expect_err "cannot plan its MIG steps: NVML refused .*Insufficient Permissions.*: run as root" \
		"  saying why"
else
	echo "# skipped the non-root checks (needs root, setpriv and user nobody)"
fi
finish
