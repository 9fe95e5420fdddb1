#!/bin/bash
# nvidia-vgpu-dm capture: read-only, redaction, limits, errors; and what
# vgpu-sim --replay refuses.
. "$(dirname "$0")/lib.sh"
export VGPU_SIM_ROOT="$ROOT" VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_TOOLS_DIR="$T_TMP/tools"
mkdir -p "$T_TMP/tools"
cp "$VGPUDM_SRCDIR/sim/nvidia-smi" "$T_TMP/tools/"
CFG="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: [0]\n      vgpu-devices:\n        L40S-8Q: 2\n    - devices: [1]\n      vgpu-devices:\n        T4-4Q: 2\n' >"$CFG"
sim_start --gpu L40S:vfio --gpu T4
dm apply -f "$CFG" -c x
expect_rc 0 "a host with vGPUs on both frameworks"

# --- read-only: not one write under the root, no type cache (list makes one)
rm -rf "$ROOT/var/cache/nvidia-vgpu-dm"
sim_reset
dm capture -o "$T_TMP/a.tar.gz"
expect_rc 0 "capture"
expect_err "Capture of 2 GPUs" "it says what it wrote"
expect_eq "$(sim_counter write)" 0 "capture writes nothing under the root"
[ -e "$ROOT/var/cache/nvidia-vgpu-dm" ] && fail "capture wrote the type cache" || pass "capture writes no type cache"
dm list
[ -e "$ROOT/var/cache/nvidia-vgpu-dm" ] && pass "(list does write it: the check above can fail)" ||
	fail "list wrote no type cache: the read-only check proves nothing"
tar -tzf "$T_TMP/a.tar.gz" >"$T_TMP/names" 2>&1
for e in manifest.json host.json nvml.json commands/nvidia-smi-q.txt commands/nvidia-smi-vgpu-q.txt \
	root/proc/driver/nvidia/version root/proc/sys/kernel/osrelease root/sys/module/nvidia/version; do
	grep -qFx "$e" "$T_TMP/names" && pass "the capture holds $e" || fail "the capture lacks $e"
done
grep -q "/mdev_supported_types/nvidia-232/create$" "$T_TMP/names" && pass "write-only files recorded" ||
	fail "no create file recorded"
tar -xzOf "$T_TMP/a.tar.gz" manifest.json >"$T_TMP/manifest.json"
python3 - "$T_TMP/manifest.json" <<'PY' && pass "manifest: format, version, complete, unreadable with errno" || fail "manifest"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format"] == "nvidia-vgpu-dm capture" and m["format_version"] == 1, m
assert m["version"] and m["complete"] is True and m["redacted"] is False, m
assert m["kernel_release"] == "6.8.0-45-generic", m["kernel_release"]
assert any(u["path"].endswith("/nvidia/gpu_instance_id") and u["errno"] == 6 for u in m["unreadable"]), m["unreadable"]
assert [c["outcome"] for c in m["commands"]] == ["exit status 0", "exit status 0"], m["commands"]
PY
tar -xzOf "$T_TMP/a.tar.gz" nvml.json >"$T_TMP/nvml.json"
python3 - "$T_TMP/nvml.json" <<'PY' && pass "nvml.json: heterogeneous mode, types with maximums" || fail "nvml.json"
import json, sys
n = json.load(open(sys.argv[1]))
assert n["available"] is True
l40s = n["gpus"][0]
assert l40s["heterogeneous_mode"] == 0 and "mig_mode_error" in l40s, l40s.keys()
t = {x["name"]: x for x in l40s["types"]}
assert t["NVIDIA L40S-8Q"]["max_instances"] == 6 and t["NVIDIA L40S-8Q"]["gi_profile"] == -1, t
PY

# --- redaction: no UUID, VM name or host name of the host is left
uuids=$(ls "$ROOT/sys/bus/mdev/devices")
dm capture --redact -o "$T_TMP/r.tar.gz"
expect_rc 0 "capture --redact"
mkdir -p "$T_TMP/r" && tar -xzf "$T_TMP/r.tar.gz" -C "$T_TMP/r"
left=""
for u in $uuids; do grep -rqF "$u" "$T_TMP/r" && left+=" $u"; find "$T_TMP/r" -name "*$u*" | grep -q . && left+=" $u"; done
expect_eq "$left" "" "no vGPU UUID is left, in contents or names"
grep -rq "sim-vm-" "$T_TMP/r" && fail "a VM name is left" || pass "VM names (nvidia-smi vgpu -q) replaced"
grep -q "VM Name *: vm-1" "$T_TMP/r/commands/nvidia-smi-vgpu-q.txt" && pass "VM names become vm-N" || fail "no vm-N"
n=$(ls "$T_TMP/r/root/sys/bus/mdev/devices" | grep -c '^00000000-0000-0000-0000-0000000000')
expect_eq "$n" 2 "the vGPUs keep distinct replacement UUIDs"
grep -q '"redacted": true' "$T_TMP/r/manifest.json" && pass "the manifest says redacted" || fail "manifest: redacted"
REPLAY="$T_TMP/replay"
mkdir -p "$REPLAY"
trap 'mountpoint -q "$REPLAY" && fusermount3 -u "$REPLAY"; cleanup' EXIT
"$VGPU_SIM" --replay "$T_TMP/r.tar.gz" "$REPLAY" 2>"$ERR"
RC=$?
expect_rc 0 "a redacted capture replays"
VGPU_SIM_ROOT="$REPLAY" dm_at "$REPLAY" assert -f "$CFG" -c x
expect_rc 0 "the redacted replay holds the layout"
fusermount3 -u "$REPLAY"

# --- limits: what does not fit is left out and said; the tarball stays whole
dm capture --max-size 8K -o "$T_TMP/small.tar.gz"
expect_rc 0 "capture --max-size 8K still writes a capture"
expect_err "size limit .* reached" "the size limit is said"
expect_err "INCOMPLETE" "and the result is marked incomplete"
tar -tzf "$T_TMP/small.tar.gz" >/dev/null 2>&1 && pass "the incomplete tarball is whole" || fail "broken tarball"

# --- errors: one line, exit 1, no file left
dm capture --timeout 0
expect_rc 1 "--timeout 0 refused"
expect_err "timeout must be 1..86400" "it says the range"
dm capture --max-size 1T
expect_rc 1 "--max-size 1T refused"
dm capture -o "$T_TMP/no/such/dir/x.tar.gz"
expect_rc 1 "an output in a missing directory"
expect_err "cannot write .*x.tar.gz" "it names the file"
dm_at "$T_TMP/nowhere" capture -o "$T_TMP/x.tar.gz"
expect_rc 1 "a root that is not there"
[ -e "$T_TMP/x.tar.gz" ] && fail "a failed capture left a file" || pass "a failed capture leaves no file"
cd "$T_TMP" && dm capture && cd - >/dev/null
ls "$T_TMP"/nvidia-vgpu-dm-capture-*.tar.gz >/dev/null 2>&1 && pass "default name nvidia-vgpu-dm-capture-<time>.tar.gz" ||
	fail "no default-named capture"

# --- vgpu-sim --replay refuses what is not a capture: exit 2, nothing mounted
refuse() { # refuse FILE WHY
	"$VGPU_SIM" --replay "$1" "$REPLAY" 2>"$ERR"
	RC=$?
	expect_rc 2 "--replay refuses $2"
	mountpoint -q "$REPLAY" && { fail "$2: mounted"; fusermount3 -u "$REPLAY"; }
}
echo "not a tarball" >"$T_TMP/junk"
refuse "$T_TMP/junk" "a file that is not a tar"
mkdir -p "$T_TMP/evil/root" && cp "$T_TMP/r/manifest.json" "$T_TMP/r/host.json" "$T_TMP/evil/"
tar -czf "$T_TMP/evil.tar.gz" -C "$T_TMP/evil" manifest.json host.json
tar -czf "$T_TMP/evil2.tar.gz" -C "$T_TMP/evil" --transform 's|^host.json|root/../../etc/passwd|' manifest.json host.json
refuse "$T_TMP/evil2.tar.gz" "an entry with .."
tar -czf "$T_TMP/evil3.tar.gz" -C "$T_TMP/evil" --transform 's|^host.json|root/run/x|' manifest.json host.json
refuse "$T_TMP/evil3.tar.gz" "an entry under run/"
tar -czf "$T_TMP/nohost.tar.gz" -C "$T_TMP/evil" manifest.json
refuse "$T_TMP/nohost.tar.gz" "a capture without host.json"
expect_err "no host.json" "and says what is missing"
"$VGPU_SIM" --replay "$T_TMP/r.tar.gz" --gpu T4 "$REPLAY" 2>"$ERR"
RC=$?
expect_rc 2 "--replay with --gpu refused"
finish
