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
finish
