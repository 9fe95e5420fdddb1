#!/bin/bash
# The tool reads the files captured on real hosts (tests/data/
# real-sysfs-captures) as they are: an A2 VF under mdev and an L40S VF under
# vendor VFIO. The captures hold only the VFs; the PFs and links around them
# are made here, the captured files are copied byte for byte.
. "$(dirname "$0")/lib.sh"
CAP="$DATA/real-sysfs-captures/sys"
[ -d "$CAP" ] || { echo "missing $CAP"; exit 1; }
R="$T_TMP/real"
dev="$R/sys/devices/pci0000:00"
mkdir -p "$R/sys/bus/pci/devices" "$R/sys/class/mdev_bus" "$dev"

pf() { # pf BDF DEVICE SUBSYS_DEVICE: an NVIDIA PF with SR-IOV
	mkdir -p "$dev/$1"
	printf '0x10de\n' >"$dev/$1/vendor"; printf '%s\n' "$2" >"$dev/$1/device"
	printf '0x030200\n' >"$dev/$1/class"; printf '0x10de\n' >"$dev/$1/subsystem_vendor"
	printf '%s\n' "$3" >"$dev/$1/subsystem_device"
	printf '1\n' >"$dev/$1/sriov_totalvfs"; printf '1\n' >"$dev/$1/sriov_numvfs"
	ln -s "../../../devices/pci0000:00/$1" "$R/sys/bus/pci/devices/$1"
}
vf() { # vf PF VF: the VF's links
	ln -s "../$2" "$dev/$1/virtfn0"
	ln -s "../$1" "$dev/$2/physfn"
	ln -s "../../../devices/pci0000:00/$2" "$R/sys/bus/pci/devices/$2"
}

# A2 (mdev): the captured VF with its PCI files and mdev_supported_types.
pf 0000:08:00.0 0x25b6 0x157e
cp -a "$CAP/class/mdev_bus/0000:08:01.7" "$dev/0000:08:01.7"
chmod -R u+w "$dev/0000:08:01.7"
vf 0000:08:00.0 0000:08:01.7
ln -s "../../devices/pci0000:00/0000:08:01.7" "$R/sys/class/mdev_bus/0000:08:01.7"

# L40S (vendor VFIO): the captured VF's nvidia/ directory.
pf 0000:26:00.0 0x26b9 0x1851
mkdir -p "$dev/0000:26:00.4"
cp -a "$CAP/bus/pci/devices/0000:26:00.4/nvidia" "$dev/0000:26:00.4/"
chmod -R u+w "$dev/0000:26:00.4"
printf '0x10de\n' >"$dev/0000:26:00.4/vendor"; printf '0x26b9\n' >"$dev/0000:26:00.4/device"
printf '0x030200\n' >"$dev/0000:26:00.4/class"
vf 0000:26:00.0 0000:26:00.4

dm_at "$R" list --json
expect_rc 0 "list reads the captured files"
python3 - "$OUT" <<'PY' && pass "A2 and L40S read as on the real hosts" || fail "captured formats"
import json, sys
a2, l40s = json.load(open(sys.argv[1]))["gpus"]
assert a2["framework"] == "mdev" and a2["model"] == "A2" and a2["parents"] == ["0000:08:01.7"], a2
t = {x["name"]: x for x in a2["types"]}
assert len(t) == 15, sorted(t)
assert t["A2-1B"]["id"] == "nvidia-742" and t["A2-1B"]["driver_name"] == "NVIDIA A2-1B"
assert t["A2-4Q"]["max_instances"] == 4 and t["A2-4Q"]["framebuffer_mib"] == 4096
assert t["A2-16C"]["max_instances"] == 1
# one 4 GB vGPU exists elsewhere on the GPU: only the 4 GB types have room
assert sorted(n for n, x in t.items() if x["free"]) == ["A2-4A", "A2-4C", "A2-4Q"], t
assert l40s["framework"] == "vfio" and l40s["model"] == "L40S", l40s
names = {x["name"]: x["id"] for x in l40s["types"]}
assert len(names) == 23 and names["L40S-1B"] == "1145" and names["L40S-48A"] == "1166"
assert names["L40S-3B"] == "2164", names
assert l40s["vgpus"] == []
PY
printf 'version: v1\nvgpu-configs:\n  x:\n    - device-filter: "0x26B910DE"\n      devices: all\n      vgpu-devices:\n        L40S-8Q: 1\n' >"$T_TMP/c.yaml"
dm_at "$R" apply -f "$T_TMP/c.yaml" --dry-run
expect_rc 0 "plan on the captured L40S"
expect_out "create +0000:26:00.4 +L40S-8Q" "the free captured VF gets the vGPU"
cp "$OUT" "$T_TMP/dry.host"
dm_at "$R" list --json
cp "$OUT" "$T_TMP/list.host"

# The same host captured (nvidia-vgpu-dm capture, no NVML here) and replayed
# (vgpu-sim --replay): the tool sees the same on both, and the replay says
# what the rules need that the capture lacks.
dm_at "$R" capture -o "$T_TMP/real.tar.gz"
expect_rc 0 "capture of the host made of the real captures"
REPLAY="$T_TMP/replay"
mkdir -p "$REPLAY"
trap 'mountpoint -q "$REPLAY" && fusermount3 -u "$REPLAY"; cleanup' EXIT
"$VGPU_SIM" --replay "$T_TMP/real.tar.gz" "$REPLAY" 2>"$ERR"
RC=$?
expect_rc 0 "vgpu-sim --replay mounts it"
expect_err "replay: GPU 0000:08:00.0: subsystem 0x157e is not in the catalogue" "the A2 is matched by device id, and it says so"
expect_err "replay: GPU 0000:26:00.0: no heterogeneous .*equal-size is assumed" "no NVML answers: the mode assumed is said"
expect_err "replay: the capture holds no NVML answers" "no NVML at all is said"
# (through cat: cmp -s takes sysfs-like sizes, 4096, for a difference)
cmp -s "$CAP/bus/pci/devices/0000:26:00.4/nvidia/creatable_vgpu_types" \
	<(cat "$REPLAY/sys/devices/pci0000:00/0000:26:00.4/nvidia/creatable_vgpu_types") &&
	pass "the replayed L40S VF lists the captured bytes" || fail "the replayed L40S VF's creatable_vgpu_types differ"
cmp -s "$CAP/class/mdev_bus/0000:08:01.7/mdev_supported_types/nvidia-746/description" \
	<(cat "$REPLAY/sys/devices/pci0000:00/0000:08:01.7/mdev_supported_types/nvidia-746/description") &&
	pass "the replayed A2 VF's type files are the captured bytes" || fail "the replayed A2 description differs"
dm_at "$REPLAY" list --json
expect_rc 0 "list on the replay"
# The A2's capture holds one VF, not the 4 GB vGPU elsewhere on its GPU that
# keeps the other sizes at 0: the replay's rules see no vGPU there. The
# L40S is whole.
python3 - "$T_TMP/list.host" "$OUT" <<'PY' && pass "list --json of the L40S identical on the replay" || fail "L40S differs on the replay"
import json, sys
a, b = (json.load(open(f))["gpus"] for f in sys.argv[1:])
assert a[1] == b[1], (a[1], b[1])
assert [t["name"] for t in a[0]["types"]] == [t["name"] for t in b[0]["types"]]
PY
dm_at "$REPLAY" apply -f "$T_TMP/c.yaml" --dry-run
cmp -s "$T_TMP/dry.host" "$OUT" && pass "dry run identical on the replay" || fail "dry run differs on the replay"
# creates by the simulator's rules on the captured types
VF="$REPLAY/sys/devices/pci0000:00/0000:26:00.4/nvidia"
echo 1152 >"$VF/current_vgpu_type" && pass "create L40S-8Q (captured id 1152) on the replayed VF" || fail "create on the replayed VF"
expect_eq "$(cat "$VF/current_vgpu_type")" 1152 "the replayed VF holds it"
expect_eq "$(cat "$VF/creatable_vgpu_types")" "ID    : vGPU Name" "an occupied VF lists no type"
TYPES="$REPLAY/sys/devices/pci0000:00/0000:08:01.7/mdev_supported_types"
echo 8a3f3e1c-2b7d-4c55-9c1e-0f6f9a1b2c3d >"$TYPES/nvidia-746/create" && pass "create an A2 vGPU on the replay" ||
	fail "create on the replayed A2"
expect_eq "$(cat "$TYPES/nvidia-746/available_instances")" 0 "the A2 VF is full after it"
finish
