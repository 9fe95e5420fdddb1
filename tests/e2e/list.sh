#!/bin/bash
# list: text and JSON views of a host, compared with golden files for an
# empty host, and checked for vGPUs after an apply.
. "$(dirname "$0")/lib.sh"
sim_start --gpu T4 --gpu A100
GOLD="$VGPUDM_SRCDIR/tests/golden"

dm list
expect_rc 0 "list"
[ "${VGPUDM_UPDATE_GOLDEN:-}" = 1 ] && cp "$OUT" "$GOLD/list-t4-a100.txt"
if diff -u "$GOLD/list-t4-a100.txt" "$OUT"; then pass "list text matches golden"; else fail "list text differs from golden"; fi
dm list --json
expect_rc 0 "list --json"
[ "${VGPUDM_UPDATE_GOLDEN:-}" = 1 ] && cp "$OUT" "$GOLD/list-t4-a100.json"
if diff -u "$GOLD/list-t4-a100.json" "$OUT"; then pass "list json matches golden"; else fail "list json differs from golden"; fi

printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: [0]\n      vgpu-devices:\n        T4-8Q: 2\n' >"$T_TMP/c.yaml"
dm apply -f "$T_TMP/c.yaml"
expect_rc 0 "apply 2 x T4-8Q"
dm list
n=$(grep -cE '^  [0-9a-f-]{36}  T4-8Q ' "$OUT")
expect_eq "$n" 2 "list shows the two vGPUs"
expect_out "^  T4-8Q +nvidia-[0-9]+ +0 +2$" "T4-8Q has no free instance left"
expect_out "^  T4-1Q +nvidia-[0-9]+ +0 +16$" "other types show 0 free next to T4-8Q"
dm list --json
python3 - "$OUT" <<'PY' && pass "json vGPUs have uuid, type, parent" || fail "json vGPUs"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]
assert len(g["vgpus"]) == 2
for v in g["vgpus"]:
    assert v["type"] == "T4-8Q" and len(v["uuid"]) == 36 and v["parent"] == g["address"]
PY

# A VM holds a vGPU: libvirt's QEMU ("-name guest=<domain>,..." and a long
# command line). list names the VM and the pid; apply's refusal names the VM.
held=$(vgpus | head -1 | awk '{print $1}')
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
long=$(printf -- '-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,id=hostdev0 %.0s' "$held" $(seq 12))
bash -c 'exec -a qemu-system-x86_64 python3 -c "import time; time.sleep(300)" "$@"' qemu \
	-name guest=win10-ws,debug-threads=on -S -machine pc-q35-8.2,usb=off $long 3<>"$ROOT/dev/vfio/$group" &
qemu=$!
trap 'kill $qemu 2>/dev/null; cleanup' EXIT
# until it runs as the "VM" (before its exec it is a copy of this shell)
for _ in $(seq 100); do grep -qa "guest=win10-ws" "$ROOT/proc/$qemu/cmdline" 2>/dev/null && break; sleep 0.1; done
dm list
expect_out "^  $held +T4-8Q +[0-9a-f:.]+ +VM win10-ws \(pid $qemu\)$" "list: the holder is the VM (libvirt domain) and its pid"
dm list --json
python3 - "$OUT" "$held" "$qemu" <<'PY' && pass "list --json: the holder's vm, pid and node" || fail "list --json holder"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"][0]
v = {x["id"]: x for x in g["vgpus"]}
h = v[sys.argv[2]]["holder"]
assert h["vm"] == "win10-ws" and h["pid"] == int(sys.argv[3]) and h["node"].startswith("/dev/vfio/"), h
assert "-name guest=win10-ws" in h["command"], h
assert [x["holder"] for x in g["vgpus"] if x["id"] != sys.argv[2]] == [None], g["vgpus"]
PY
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: [0]\n      vgpu-devices:\n        T4-4Q: 4\n' >"$T_TMP/c4.yaml"
dm apply -f "$T_TMP/c4.yaml"
expect_rc 3 "removing the VM's vGPU is refused"
expect_err "vGPU $held \(T4-8Q\) on [0-9a-f:.]+ is in use by VM win10-ws \(pid $qemu\), which holds /dev/vfio/$group; refusing" "the refusal names the VM"
if grep -q "sysfsdev" "$ERR"; then fail "the refusal carries the QEMU command line"; else pass "no QEMU command line in the refusal"; fi
kill $qemu; wait $qemu 2>/dev/null
fusermount3 -u "$ROOT"

# An empty L40S on vendor VFIO without NVML: 32 free VFs each offer
# L40S-48Q, but the GPU takes one; the maximum comes from the catalogue.
sim_start --gpu L40S:vfio
dm list
expect_rc 0 "list an L40S without NVML"
expect_out "^  L40S-48Q +[0-9]+ +1 +1$" "L40S-48Q: FREE 1, MAX 1 (not 32)"
expect_out "^  L40S-1Q +[0-9]+ +32 +32$" "L40S-1Q: FREE 32, MAX 32"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: free and max of L40S-48Q are 1" || fail "list --json L40S-48Q"
import json, sys
t = {x["name"]: x for x in json.load(open(sys.argv[1]))["gpus"][0]["types"]}
assert t["L40S-48Q"]["free"] == 1 and t["L40S-48Q"]["max_instances"] == 1, t["L40S-48Q"]
PY
fusermount3 -u "$ROOT"

# Mixed-size mode: 4 x 4Q + 2 x 8Q leave 16 GB of 48. FREE is what can be
# created now (the frame buffer left, not the free VFs), and creating it works.
sim_start --gpu L40S:vfio --mixed-size
printf 'version: v1\nvgpu-configs:\n  mix:\n    - devices: all\n      vgpu-devices:\n        L40S-4Q: 4\n        L40S-8Q: 2\n' >"$T_TMP/mix.yaml"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT" dm apply -f "$T_TMP/mix.yaml"
expect_rc 0 "mixed-size: 4 x 4Q + 2 x 8Q"
dm list
expect_out "^GPU 0 .* vfio  SR-IOV 32/32 VFs  mixed-size  32 parents$" "list shows mixed-size mode"
expect_out "^  L40S-1B +1145 +16 +32$" "L40S-1B: FREE 16 (16 GB left), not 26 free VFs"
expect_out "^  L40S-16Q +[0-9]+ +1 +3$" "L40S-16Q: FREE 1"
expect_out "^  L40S-4Q +[0-9]+ +4 +12$" "L40S-4Q: FREE 4"
expect_out "^  L40S-24Q +[0-9]+ +0 +2$" "L40S-24Q: FREE 0"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: schema_version 2, mixed_size true, free 16" || fail "list --json mixed-size"
import json, sys
j = json.load(open(sys.argv[1]))
g = j["gpus"][0]
t = {x["name"]: x for x in g["types"]}
assert j["schema_version"] == 2 and g["mixed_size"] is True and g["driver"] == "nvidia", g
assert t["L40S-1B"]["free"] == 16 and t["L40S-16Q"]["free"] == 1, t["L40S-1B"]
assert all(v["holder"] is None for v in g["vgpus"])
PY
printf '        L40S-1B: %s\n' 17 >"$T_TMP/n"
cat "$T_TMP/mix.yaml" "$T_TMP/n" >"$T_TMP/mix17.yaml"
dm apply -f "$T_TMP/mix17.yaml"
expect_rc 1 "17 x 1B (FREE said 16): refused"
printf '        L40S-1B: %s\n' 16 >"$T_TMP/n"
cat "$T_TMP/mix.yaml" "$T_TMP/n" >"$T_TMP/mix16.yaml"
dm apply -f "$T_TMP/mix16.yaml"
expect_rc 0 "16 x 1B (what FREE said): created"
dm list
expect_out "^  L40S-1B +1145 +0 +32$" "then L40S-1B: FREE 0"
fusermount3 -u "$ROOT"

# A GPU bound to vfio-pci (passed through whole): list and apply say so.
sim_start --gpu T4 --gpu T4 --vfio-pci 1
dm list
expect_out "^GPU 1 .* none  0 parents$" "the passed-through GPU has no vGPU framework"
expect_out "^  bound to vfio-pci, not to nvidia: it is passed through whole to a VM" "list: its driver binding and what it means"
dm list --json
python3 - "$OUT" <<'PY' && pass "list --json: driver vfio-pci with its note" || fail "list --json driver"
import json, sys
g = json.load(open(sys.argv[1]))["gpus"]
assert g[0]["driver"] == "nvidia" and g[0]["driver_note"] is None, g[0]
assert g[1]["driver"] == "vfio-pci" and "passed through whole" in g[1]["driver_note"], g[1]
PY
printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 4\n' >"$T_TMP/all.yaml"
dm apply -f "$T_TMP/all.yaml"
expect_rc 1 "apply on every GPU: refused"
expect_err "GPU 1 \(0000:04:00.0\): no vGPU can be created: it is bound to vfio-pci, not to nvidia: it is passed through whole to a VM .*echo 0000:04:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind.*or leave GPU 1 out of the layout" "apply: names the binding, not the vGPU Manager"
if grep -q "vGPU Manager installed" "$ERR"; then fail "apply still blames the vGPU Manager"; else pass "apply does not blame the vGPU Manager"; fi
finish
