#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of vgpu-sim: mounts simulated hosts and checks layout,
# formats, create/remove semantics, capacity rules, fault injection,
# counters, parallel instances and command-line errors.
#
# usage: tests/sim/test-sim.sh PATH/TO/vgpu-sim
# env:   SIM_FOREGROUND=1  run the mounts in foreground (-f) and fail on any
#                          sanitizer report or non-zero exit after unmount
# exit:  0 all checks passed, 1 a check failed, 77 FUSE not usable (skip)
set -u
set -o pipefail

SIM=${1:?usage: test-sim.sh PATH/TO/vgpu-sim}
SIM=$(realpath "$SIM")
FG=${SIM_FOREGROUND:-0}

HERE=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
. "$HERE/lib.sh"
# entries of a directory, space separated, in glob order
names() { local a=("$1"/*); a=("${a[@]##*/}"); echo "${a[*]}"; }

M=$WORK/host
S=$M/sys

# ---------------------------------------------------------------------------
echo "# mount --gpu T4 --gpu A16 --gpu A100"
mount_sim "$M" --gpu T4 --gpu A16 --gpu A100
eq "simulator starts" 0 "$?"
check "tree usable as soon as the command returns" test -d "$S/bus/pci/devices"
check "hidden control dir not listed" bash -c "! ls -a '$M' | grep -q vgpu-sim"
check "control dir reachable" test -f "$M/.vgpu-sim/counters"
eq "info lists 6 GPUs" 6 "$(grep -vc '^#' "$M/.vgpu-sim/info")"

T4=$(gpu_bdf "$M" 0)
A16_0=$(gpu_bdf "$M" 1)
A16_1=$(gpu_bdf "$M" 2)
A100=$(gpu_bdf "$M" 5)
echo "# T4=$T4 A16[0]=$A16_0 A100=$A100"

# --- layout ------------------------------------------------------------------
echo "# layout"
bad=0
for d in "$S"/bus/pci/devices/*; do
	r=$(realpath -e "$d") || { bad=$((bad + 1)); continue; }
	[[ $r == "$S"/devices/pci* && -f $r/vendor && $(basename "$r") == $(basename "$d") ]] || bad=$((bad + 1))
done
eq "every sys/bus/pci/devices link resolves to its device dir" 0 "$bad"

nlinks=$(find "$S" -type l | wc -l)
nbroken=$(find "$S" -type l -print0 | xargs -0 realpath -e 2>&1 >/dev/null | wc -l)
eq "all $nlinks symlinks resolve" 0 "$nbroken"
abs=$(find "$S" -type l -lname '/*' | wc -l)
eq "no absolute symlinks" 0 "$abs"

eq "T4 PF driver link is relative like sysfs" "../../../../bus/pci/drivers/nvidia" \
	"$(readlink "$S/bus/pci/devices/$T4/driver")"
eq "bus/pci/devices link form" "../../../devices/pci0000:00/0000:00:03.0/$T4" \
	"$(readlink "$S/bus/pci/devices/$T4")"

nv_pf=0 nv_vf=0 other=0
declare -A classes
for d in "$S"/bus/pci/devices/*; do
	v=$(<"$d/vendor") c=$(<"$d/class")
	classes[$c]=1
	if [[ $v == 0x10de && $c == 0x0302* ]]; then
		if [[ -e $d/physfn ]]; then nv_vf=$((nv_vf + 1)); else nv_pf=$((nv_pf + 1)); fi
	else
		other=$((other + 1))
	fi
done
eq "NVIDIA GPU PFs (vendor 0x10de, class 0x0302xx)" 6 "$nv_pf"
eq "NVIDIA VFs (4x16 A16 + 20 A100)" 84 "$nv_vf"
check "non-NVIDIA devices present" test "$other" -ge 6
for c in 0x060000 0x060400 0x020000 0x010802; do
	check "a device of class $c exists" test -n "${classes[$c]:-}"
done

eq "mdev parents in sys/class/mdev_bus" 85 "$(ls "$S/class/mdev_bus" | wc -l)"
check "T4 PF is an mdev parent" test -d "$S/class/mdev_bus/$T4/mdev_supported_types"
check "A16 PF is not an mdev parent" test ! -e "$S/class/mdev_bus/$A16_0"
check "A16 PF has no mdev_supported_types" test ! -e "$S/bus/pci/devices/$A16_0/mdev_supported_types"
bad=0
for p in "$S"/class/mdev_bus/*; do
	[[ $(basename "$(realpath "$p")") == $(basename "$p") && -d $p/mdev_supported_types ]] || bad=$((bad + 1))
	[[ $(basename "$p") == "$T4" ]] && continue
	pf=$(basename "$(realpath "$p/physfn")")
	[[ -f $S/bus/pci/devices/$pf/sriov_totalvfs ]] || bad=$((bad + 1))
done
eq "every Ampere mdev parent is a VF whose physfn is an SR-IOV PF" 0 "$bad"

P=$S/bus/pci/devices/$A16_0
eq "A16 sriov_totalvfs" 16 "$(<"$P/sriov_totalvfs")"
eq "A16 sriov_numvfs" 16 "$(<"$P/sriov_numvfs")"
eq "A16 virtfn links" 16 "$(ls -d "$P"/virtfn* | wc -l)"
eq "A100 sriov_totalvfs" 20 "$(<"$S/bus/pci/devices/$A100/sriov_totalvfs")"
VF0=$(basename "$(realpath "$P/virtfn0")")
eq "virtfn0 -> sibling" "../$VF0" "$(readlink "$P/virtfn0")"
eq "VF physfn points back to PF" "$A16_0" "$(basename "$(realpath "$S/bus/pci/devices/$VF0/physfn")")"
eq "VF is a sibling of its PF" "$(dirname "$(realpath "$P")")" "$(dirname "$(realpath "$S/bus/pci/devices/$VF0")")"
check "T4 PF has no sriov_totalvfs" test ! -e "$S/bus/pci/devices/$T4/sriov_totalvfs"

# A16: root port -> switch upstream -> downstream -> GPU
rel=${P#"$S"/bus/pci/devices/}
path=$(realpath "$P")
up=$(dirname "$path")
bridges=0
while [[ $(basename "$up") != pci0000:00 ]]; do
	[[ $(<"$up/class") == 0x060400 ]] && bridges=$((bridges + 1))
	up=$(dirname "$up")
done
eq "A16 GPU sits behind 3 PCI bridges ($rel)" 3 "$bridges"
eq "4 A16 GPUs share one switch upstream port" 1 \
	"$(for i in 1 2 3 4; do dirname "$(dirname "$(realpath "$S/bus/pci/devices/$(gpu_bdf "$M" $i)")")"; done | sort -u | wc -l)"

# --- formats (as in the real A2 capture) ------------------------------------------
echo "# formats"
V=$S/bus/pci/devices/$VF0
eq "vendor" "0x10de" "$(<"$V/vendor")"
eq "device" "0x25b6" "$(<"$V/device")"
eq "class" "0x030200" "$(<"$V/class")"
eq "VF subsystem_device" "0x0000" "$(<"$V/subsystem_device")"
eq "A16 PF subsystem_device" "0x14a9" "$(<"$P/subsystem_device")"
eq "revision" "0xa1" "$(<"$V/revision")"
eq "driver_override" "(null)" "$(<"$V/driver_override")"
eq "vendor file is exactly \"0x10de\\n\"" 7 "$(wc -c <"$V/vendor")"
eq "resource has 13 lines" 13 "$(wc -l <"$V/resource")"
eq "resource lines are 3 x 0x%016llx" 0 \
	"$(grep -cv '^0x[0-9a-f]\{16\} 0x[0-9a-f]\{16\} 0x[0-9a-f]\{16\}$' "$V/resource")"
eq "bridge resource has 17 lines" 17 "$(wc -l <"$S/bus/pci/devices/0000:00:01.0/resource")"
eq "config is 4096 bytes" 4096 "$(wc -c <"$P/config")"
eq "PF config starts with vendor/device LE" "de10b625" "$(head -c 4 "$P/config" | od -An -tx1 | tr -d ' \n')"
eq "VF config reads ffff ffff like real VFs" "ffffffff" "$(head -c 4 "$V/config" | od -An -tx1 | tr -d ' \n')"
eq "config class bytes at 0x09" "000203" "$(dd if="$P/config" bs=1 skip=9 count=3 2>/dev/null | od -An -tx1 | tr -d ' \n')"
eq "config subsystem ids at 0x2c" "de10a914" "$(dd if="$P/config" bs=1 skip=44 count=4 2>/dev/null | od -An -tx1 | tr -d ' \n')"
eq "modalias" "pci:v000010DEd000025B6sv000010DEsd00000000bc03sc02i00" "$(<"$V/modalias")"
eq "uevent" "DRIVER=nvidia
PCI_CLASS=30200
PCI_ID=10DE:25B6
PCI_SUBSYS_ID=10DE:0000
PCI_SLOT_NAME=$VF0
MODALIAS=pci:v000010DEd000025B6sv000010DEsd00000000bc03sc02i00" "$(<"$V/uevent")"
match "numa_node" '^-?[0-9]+$' "$(<"$V/numa_node")"
eq "driver is nvidia" nvidia "$(basename "$(readlink -f "$V/driver")")"
eq "nvidia driver dir lists the VF" "$(realpath "$V")" "$(realpath "$S/bus/pci/drivers/nvidia/$VF0")"
g=$(realpath "$V/iommu_group")
match "iommu_group resolves to an integer dir" "^$S/kernel/iommu_groups/[0-9]+$" "$g"
eq "iommu group lists the device" "$(realpath "$V")" "$(realpath "$g/devices/$VF0")"
eq "NIC driver" i40e "$(basename "$(readlink "$S/bus/pci/devices/0000:01:00.0/driver")")"
check "realpath works through the mount" test "$(cd "$S/class/mdev_bus/$VF0" && pwd -P)" = "$(realpath "$V")"

TT=$S/class/mdev_bus/$T4/mdev_supported_types
AT=$S/class/mdev_bus/$VF0/mdev_supported_types
eq "T4 types" "nvidia-222 nvidia-223 nvidia-224 nvidia-225 nvidia-226 nvidia-227 nvidia-228 nvidia-229 nvidia-230 nvidia-231 nvidia-232 nvidia-233 nvidia-234 nvidia-252 nvidia-319 nvidia-320 nvidia-321" "$(names "$TT")"
eq "A16 VF types" "$(seq -f nvidia-%g 709 723 | xargs)" "$(names "$AT")"
eq "T4 name" "GRID T4-1Q" "$(<"$TT/nvidia-230/name")"
eq "A16 name" "NVIDIA A16-1Q" "$(<"$AT/nvidia-711/name")"
eq "A100 name" "GRID A100-4C" "$(<"$S/bus/pci/devices/$(basename "$(realpath "$S/bus/pci/devices/$A100/virtfn0")")/mdev_supported_types/nvidia-468/name")"
eq "Q description" "num_heads=4, frl_config=60, framebuffer=1024M, max_resolution=5120x2880, max_instance=16" "$(<"$AT/nvidia-711/description")"
eq "B description" "num_heads=4, frl_config=45, framebuffer=2048M, max_resolution=5120x2880, max_instance=8" "$(<"$AT/nvidia-710/description")"
eq "A description" "num_heads=1, frl_config=60, framebuffer=4096M, max_resolution=1280x1024, max_instance=4" "$(<"$AT/nvidia-718/description")"
eq "C description" "num_heads=1, frl_config=60, framebuffer=16384M, max_resolution=4096x2400, max_instance=1" "$(<"$AT/nvidia-723/description")"
eq "Q 2G description" "num_heads=4, frl_config=60, framebuffer=2048M, max_resolution=7680x4320, max_instance=8" "$(<"$TT/nvidia-231/description")"
eq "device_api" "vfio-pci" "$(<"$TT/nvidia-230/device_api")"
eq "create mode" 200 "$(stat -c %a "$TT/nvidia-230/create")"
eq "available_instances mode" 444 "$(stat -c %a "$TT/nvidia-230/available_instances")"
eq "name mode" 444 "$(stat -c %a "$TT/nvidia-230/name")"
eq "files report size 4096 like sysfs" 4096 "$(stat -c %s "$TT/nvidia-230/name")"
eq "T4 1Q available on idle GPU" 16 "$(<"$TT/nvidia-230/available_instances")"
eq "VF available on idle GPU" 1 "$(<"$AT/nvidia-711/available_instances")"
eq "write to a read-only file" "Permission denied" "$(try_write "$TT/nvidia-230/name" x)"
eq "read of write-only create" "Permission denied" "$(cat "$TT/nvidia-230/create" 2>&1 | sed 's/.*: //')"
eq "mkdir refused" "Operation not permitted" "$(mkdir "$S/foo" 2>&1 | sed 's/.*: //')"

# --- create / remove on a time-sliced T4 ------------------------------------------
echo "# create/remove on T4"
echo reset >"$M/.vgpu-sim/counters"
u1=$(newuuid)
eq "create without newline" ok "$(try_write "$TT/nvidia-230/create" "$u1")"
eq "available_instances drops" 15 "$(<"$TT/nvidia-230/available_instances")"
eq "other type now 0 on the same T4" 0 "$(<"$TT/nvidia-231/available_instances")"
u2=$(newuuid)
U2=${u2^^}
eq "create with newline, upper case" ok "$(try_write "$TT/nvidia-230/create" "$U2"$'\n')"
check "uuid stored lower case" test -d "$S/bus/mdev/devices/$u2"
check "no upper-case entry" test ! -e "$S/bus/mdev/devices/$U2"
eq "available_instances 14" 14 "$(<"$TT/nvidia-230/available_instances")"
eq "duplicate uuid" "File exists" "$(try_write "$TT/nvidia-230/create" "$u1")"
eq "duplicate uuid on another parent" "File exists" "$(try_write "$AT/nvidia-711/create" "$u1")"
eq "second type on a T4" "Input/output error" "$(try_write "$TT/nvidia-231/create" "$(newuuid)")"
eq "too short" "Invalid argument" "$(try_write "$TT/nvidia-230/create" "${u1:0:35}")"
eq "too long" "Invalid argument" "$(try_write "$TT/nvidia-230/create" "${u1}xx")"
eq "37 bytes without newline" "Invalid argument" "$(try_write "$TT/nvidia-230/create" "${u1}x")"
eq "garbage of right length" "Invalid argument" "$(try_write "$TT/nvidia-230/create" "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz")"
eq "dashes misplaced" "Invalid argument" "$(try_write "$TT/nvidia-230/create" "123456789-234-1234-1234-123456789012")"
eq "empty write" "Invalid argument" "$(try_write "$TT/nvidia-230/create" $'\n')"

D=$S/bus/mdev/devices/$u1
r=$(realpath -e "$D")
eq "mdev device lives under its parent" "$T4" "$(basename "$(dirname "$r")")"
eq "mdev_type link" "../mdev_supported_types/nvidia-230" "$(readlink "$D/mdev_type")"
eq "mdev_type resolves to the type dir" "$(realpath "$TT/nvidia-230")" "$(realpath "$D/mdev_type")"
eq "mdev_type name" "GRID T4-1Q" "$(<"$D/mdev_type/name")"
match "mdev iommu_group is an integer dir" "^$S/kernel/iommu_groups/[0-9]+$" "$(realpath -e "$D/iommu_group")"
grp=$(basename "$(realpath "$D/iommu_group")")
eq "mdev iommu group lists the mdev" "$r" "$(realpath "$S/kernel/iommu_groups/$grp/devices/$u1")"
eq "mdev driver" "$S/bus/mdev/drivers/nvidia-vgpu-vfio" "$(realpath -e "$D/driver")"
eq "mdev driver dir lists the mdev" "$r" "$(realpath "$S/bus/mdev/drivers/nvidia-vgpu-vfio/$u1")"
eq "type devices/ lists the mdev" "$r" "$(realpath -e "$TT/nvidia-230/devices/$u1")"
eq "type devices/ link form" "../../../$u1" "$(readlink "$TT/nvidia-230/devices/$u1")"
eq "remove mode" 200 "$(stat -c %a "$D/remove")"
eq "vm_name empty" "" "$(<"$D/nvidia/vm_name")"
eq "vgpu_params writable" ok "$(try_write "$D/nvidia/vgpu_params" "frame_rate_limiter=0")"
eq "vgpu_params reads back" "frame_rate_limiter=0" "$(<"$D/nvidia/vgpu_params")"
eq "remove garbage" "Invalid argument" "$(try_write "$D/remove" "yes")"
eq "remove negative" "Invalid argument" "$(try_write "$D/remove" "-1")"
eq "remove 0 is a no-op" ok "$(try_write "$D/remove" 0)"
check "device still there after remove 0" test -d "$D"
eq "remove 1" ok "$(try_write "$D/remove" 1)"
check "device dir gone" test ! -e "$r"
check "bus/mdev/devices link gone" test ! -L "$D"
check "type devices/ link gone" test ! -L "$TT/nvidia-230/devices/$u1"
check "iommu group gone" test ! -e "$S/kernel/iommu_groups/$grp"
eq "available_instances back to 15" 15 "$(<"$TT/nvidia-230/available_instances")"
eq "remove 0x1 (kstrtoul base 0)" ok "$(try_write "$S/bus/mdev/devices/$u2/remove" $'0x1\n')"
eq "T4 idle again: other type available" 8 "$(<"$TT/nvidia-231/available_instances")"

uuids=()
for i in $(seq 16); do
	u=$(newuuid); uuids+=("$u")
	[[ $(try_write "$TT/nvidia-230/create" "$u") == ok ]] || break
done
eq "16 T4-1Q created" 16 "$(ls "$TT/nvidia-230/devices" | wc -l)"
eq "T4 full: available 0" 0 "$(<"$TT/nvidia-230/available_instances")"
eq "create when full" "Input/output error" "$(try_write "$TT/nvidia-230/create" "$(newuuid)")"
for u in "${uuids[@]}"; do try_write "$S/bus/mdev/devices/$u/remove" 1 >/dev/null; done
eq "all removed" 0 "$(ls "$S/bus/mdev/devices" | wc -l)"
eq "counter create_ok" 18 "$(counter "$M" create_ok)"
eq "counter create_fail" 10 "$(counter "$M" create_fail)"
eq "counter remove_ok" 19 "$(counter "$M" remove_ok)"
eq "counter remove_fail" 2 "$(counter "$M" remove_fail)"

# --- SR-IOV capacity rules --------------------------------------------------------------
echo "# SR-IOV capacity (equal-size mode)"
vf() { basename "$(realpath "$S/bus/pci/devices/$1/virtfn$2")"; }
A0=$S/bus/pci/devices/$(vf "$A100" 0)/mdev_supported_types
A1=$S/bus/pci/devices/$(vf "$A100" 1)/mdev_supported_types
eq "A100 4C on VF0" ok "$(try_write "$A0/nvidia-468/create" "$(newuuid)")"
eq "VF0 full for every type" "0 0 0 0 0 0" "$(cat "$A0"/nvidia-46[89]/available_instances "$A0"/nvidia-47[0-3]/available_instances | xargs)"
eq "second vGPU on the same VF" "Input/output error" "$(try_write "$A0/nvidia-468/create" "$(newuuid)")"
eq "VF1: only the same size is available" "1 0 0 0 0 0" "$(cat "$A1"/nvidia-46[89]/available_instances "$A1"/nvidia-47[0-3]/available_instances | xargs)"
eq "VF1: other size refused" "Input/output error" "$(try_write "$A1/nvidia-470/create" "$(newuuid)")"
for i in $(seq 1 9); do try_write "$S/bus/pci/devices/$(vf "$A100" "$i")/mdev_supported_types/nvidia-468/create" "$(newuuid)" >/dev/null; done
eq "10 A100-4C exist (max_instance 10)" 10 "$(find "$S"/bus/pci/devices/"$A100"/virtfn*/mdev_supported_types/nvidia-468/devices/ -mindepth 1 | wc -l)"
A10V=$S/bus/pci/devices/$(vf "$A100" 10)/mdev_supported_types
eq "VF10: GPU full" 0 "$(<"$A10V/nvidia-468/available_instances")"
eq "create on full GPU" "Input/output error" "$(try_write "$A10V/nvidia-468/create" "$(newuuid)")"
B0=$S/bus/pci/devices/$(vf "$A16_0" 0)/mdev_supported_types
B1=$S/bus/pci/devices/$(vf "$A16_0" 1)/mdev_supported_types
C0=$S/bus/pci/devices/$(vf "$A16_1" 0)/mdev_supported_types
eq "A16-4Q on GPU0 VF0" ok "$(try_write "$B0/nvidia-713/create" "$(newuuid)")"
eq "same-size other series allowed (4Q 4A 4C)" "1 1 1" "$(cat "$B1/nvidia-713/available_instances" "$B1/nvidia-718/available_instances" "$B1/nvidia-721/available_instances" | xargs)"
eq "other sizes refused (1Q 8Q)" "0 0" "$(cat "$B1/nvidia-711/available_instances" "$B1/nvidia-714/available_instances" | xargs)"
eq "A16-4C next to 4Q" ok "$(try_write "$B1/nvidia-721/create" "$(newuuid)")"
eq "other GPU of the board unaffected" 1 "$(<"$C0/nvidia-711/available_instances")"

# --- fault injection ---------------------------------------------------------------------
echo "# fault injection"
F=$M/.vgpu-sim/faults
eq "arm create fault" ok "$(try_write "$F" "create 2 EIO")"
eq "faults lists it" "create 2 EIO" "$(<"$F")"
n0=$(ls "$S/bus/mdev/devices" | wc -l)
eq "1st create after arming succeeds" ok "$(try_write "$TT/nvidia-232/create" "$(newuuid)")"
eq "2nd create fails with EIO" "Input/output error" "$(try_write "$TT/nvidia-232/create" "$(newuuid)")"
eq "failed create changed nothing" $((n0 + 1)) "$(ls "$S/bus/mdev/devices" | wc -l)"
eq "fault consumed" "" "$(<"$F")"
eq "3rd create succeeds" ok "$(try_write "$TT/nvidia-232/create" "$(newuuid)")"
eq "errno by number" ok "$(try_write "$F" "create 1 28")"
eq "injected ENOSPC" "No space left on device" "$(try_write "$TT/nvidia-232/create" "$(newuuid)")"
u=$(ls "$TT/nvidia-232/devices" | head -1)
eq "arm remove fault" ok "$(try_write "$F" "remove 1 EBUSY")"
eq "remove fails with EBUSY" "Device or resource busy" "$(try_write "$S/bus/mdev/devices/$u/remove" 1)"
check "device kept after failed remove" test -d "$S/bus/mdev/devices/$u"
eq "multi-line arm" ok "$(try_write "$F" $'create 5 EPERM\nremove 3 ENODEV\n')"
eq "faults lists both" "create 5 EPERM|remove 3 ENODEV" "$(paste -sd'|' "$F")"
eq "clear" ok "$(try_write "$F" $'clear\n')"
eq "cleared" "" "$(<"$F")"
eq "bad fault line" "Invalid argument" "$(try_write "$F" "create zero EIO")"
eq "unknown errno name" "Invalid argument" "$(try_write "$F" "create 1 EWHATEVER")"
eq "remove works again" ok "$(try_write "$S/bus/mdev/devices/$u/remove" 1)"

# --- counters ---------------------------------------------------------------------------
echo "# counters"
eq "counters reset (no newline)" ok "$(try_write "$M/.vgpu-sim/counters" reset)"
c1=$(cat "$M/.vgpu-sim/counters")
c2=$(cat "$M/.vgpu-sim/counters")
eq "control file accesses are not counted" "$c1" "$c2"
eq "all counters zero after reset" 0 "$(awk '{ s += $2 } END { print s }' <<<"$c1")"
eq "counter names" "lookup getattr open read write readdir readlink create_ok create_fail remove_ok remove_fail" "$(awk '{ print $1 }' <<<"$c1" | xargs)"
cat "$TT/nvidia-230/name" >/dev/null
check "open counted" test "$(counter "$M" open)" -ge 1
check "read counted" test "$(counter "$M" read)" -ge 1
check "lookup counted" test "$(counter "$M" lookup)" -ge 5
ls "$TT" >/dev/null
check "readdir counted" test "$(counter "$M" readdir)" -ge 1
readlink "$S/bus/pci/devices/$T4" >/dev/null
check "readlink counted" test "$(counter "$M" readlink)" -ge 1
try_write "$TT/nvidia-230/create" bad >/dev/null
eq "write counted" 1 "$(counter "$M" write)"
eq "create_fail counted" 1 "$(counter "$M" create_fail)"
eq "counters reset (newline)" ok "$(try_write "$M/.vgpu-sim/counters" $'reset\n')"
eq "counters bad write" "Invalid argument" "$(try_write "$M/.vgpu-sim/counters" "zero")"

# --- a second simulator at the same time -------------------------------------------------------
echo "# two simulators"
M2=$WORK/host2
mount_sim "$M2" --gpu 2xT4 --gpu V100 --gpu A10 --gpu A100D
eq "second simulator starts" 0 "$?"
eq "second has 4+1 GPUs" "T4 T4 V100 A10 A100D" "$(grep -v '^#' "$M2/.vgpu-sim/info" | awk '{ print $3 }' | xargs)"
eq "first still has its own" "T4 A16 A16 A16 A16 A100" "$(grep -v '^#' "$M/.vgpu-sim/info" | awk '{ print $3 }' | xargs)"
V100T=$M2/sys/class/mdev_bus/$(gpu_bdf "$M2" 2)/mdev_supported_types
eq "V100 type name" "GRID V100-1Q" "$(<"$V100T/nvidia-105/name")"
A10P=$M2/sys/bus/pci/devices/$(gpu_bdf "$M2" 3)
eq "A10 VFs" 24 "$(<"$A10P/sriov_totalvfs")"
eq "A10 name" "NVIDIA A10-24Q" "$(<"$A10P/virtfn0/mdev_supported_types/nvidia-597/name")"
eq "A100D name" "GRID A100D-80C" "$(<"$M2/sys/bus/pci/devices/$(gpu_bdf "$M2" 4)/virtfn0/mdev_supported_types/nvidia-698/name")"
u=$(newuuid)
eq "create on the second" ok "$(try_write "$V100T/nvidia-105/create" "$u")"
check "not visible on the first" test ! -e "$S/bus/mdev/devices/$u"
# Before Ampere the rule is one frame-buffer size per GPU, any series: with
# a V100-1Q there, V100-1A and V100-1B are still offered, V100-2Q is not.
eq "V100: 1Q with a 1Q there" 15 "$(<"$V100T/nvidia-105/available_instances")"
for t in "$V100T"/*; do
	case "$(<"$t/name")" in
	"GRID V100-1A") eq "V100: 1A next to a 1Q" 15 "$(<"$t/available_instances")" ;;
	"GRID V100-1B") eq "V100: 1B next to a 1Q" 15 "$(<"$t/available_instances")" ;;
	"GRID V100-2Q") eq "V100: no 2Q next to a 1Q" 0 "$(<"$t/available_instances")" ;;
	esac
done
eq "same uuid on the first is fine" ok "$(try_write "$TT/nvidia-232/create" "$u")"
# A mount point that is already mounted is refused, not stacked on.
"$SIM" --gpu T4 "$M2" 2>"$WORK/stack.err"
eq "a second vgpu-sim on a mounted mountpoint: exit 2" 2 "$?"
match "... and says why" "is already a mount point" "$(<"$WORK/stack.err")"
eq "... one mount there" 1 "$(grep -c " $M2 " /proc/self/mountinfo)"
eq "the simulated host has an etc/machine-id" 33 "$(wc -c <"$M2/etc/machine-id")"
match "... of 32 hex digits" "^[0-9a-f]{32}$" "$(<"$M2/etc/machine-id")"
match "--help states the default host" "Default when no --gpu is given: --gpu T4 --gpu T4" "$("$SIM" --help)"
eq "--list-models: one line per model, frameworks after" "T4 mdev|L40S mdev vfio" \
	"$("$SIM" --list-models | grep -E '^(T4|L40S) ' | paste -sd'|')"
eq "--list-models lists the catalogue" "$(sed -n '/^Models:/,/^$/p' <("$SIM" --help) | grep -c '^  [A-Z]')" \
	"$("$SIM" --list-models | wc -l)"

# --- debug mode in foreground ------------------------------------------------------------------
echo "# foreground -d"
M3=$WORK/host3
mkdir -p "$M3"
"$SIM" -d --gpu T4 "$M3" 2>"$WORK/debug.log" &
dpid=$!
check "foreground -d mounts" wait_mounted "$M3"
cat "$M3/sys/class/mdev_bus/"*/mdev_supported_types/nvidia-230/name >/dev/null
fusermount3 -u "$M3"
wait "$dpid"
eq "foreground exits 0 after fusermount3 -u" 0 "$?"
check "debug output lists operations" grep -q "lookup" "$WORK/debug.log"
check "debug output lists reads" grep -q "read .*nvidia-230/name" "$WORK/debug.log"

# --- command line ---------------------------------------------------------------------------------
echo "# command line"
B=$WORK/bad
mkdir -p "$B"
args_fail() {
	local desc=$1; shift
	local err rc
	err=$("$SIM" "$@" 2>&1 >/dev/null); rc=$?
	eq "$desc: exit 2" 2 "$rc"
	eq "$desc: one line on stderr" 1 "$(printf '%s\n' "$err" | wc -l)"
	check "$desc: nothing mounted" bash -c "! mountpoint -q '$B'"
}
args_fail "unknown model" --gpu H200 "$B"
args_fail "bad count" --gpu 0xT4 "$B"
args_fail "missing mountpoint" --gpu T4
args_fail "unknown framework" --framework bogus "$B"
args_fail "unknown option" --frobnicate "$B"
args_fail "missing option argument" "$B" --gpu
args_fail "nonexistent mountpoint" "$WORK/does-not-exist"
args_fail "two mountpoints" "$B" "$B"
check "--help exits 0" bash -c "'$SIM' --help >/dev/null"
match "--help output" "Usage: vgpu-sim" "$("$SIM" --help)"
match "--version output" "^vgpu-sim [0-9]" "$("$SIM" --version)"

# --- MIG -----------------------------------------------------------------------------------------
echo "# MIG: mode, GPU instances, MIG-backed types"
M4=$WORK/mig
mount_sim "$M4" --gpu A100 --gpu H100:vfio
A=$(gpu_bdf "$M4" 0)
H=$(gpu_bdf "$M4" 1)
GA=$M4/.vgpu-sim/gpus/$A
GH=$M4/.vgpu-sim/gpus/$H
AV=$M4/sys/bus/pci/devices/$(basename "$(realpath "$M4/sys/bus/pci/devices/$A/virtfn0")")
HV=$M4/sys/bus/pci/devices/$(basename "$(realpath "$M4/sys/bus/pci/devices/$H/virtfn0")")
eq "MIG off at start" "0 0" "$(cat "$GA/mig_mode")"
eq "MIG-backed type not creatable with MIG off" 0 "$(cat "$AV/mdev_supported_types/nvidia-474/available_instances")"
eq "GI create with MIG off" "Operation not supported" "$(try_write "$GA/gis" "create 19")"
eq "A100 (Ampere): mode write with VFs enabled" ok "$(try_write "$GA/mig_mode" 1)"
eq "  stays pending (the reset fails)" "0 1" "$(cat "$GA/mig_mode")"
eq "  writing the current mode cancels it" "ok 0 0" "$(try_write "$GA/mig_mode" 0) $(cat "$GA/mig_mode")"
echo 0 >"$M4/sys/bus/pci/devices/$A/sriov_numvfs"
eq "  with VFs disabled the reset works" "ok 1 1" "$(try_write "$GA/mig_mode" 1) $(cat "$GA/mig_mode")"
eq "  a GI before the VFs" ok "$(try_write "$GA/gis" "create 19")"
echo 20 >"$M4/sys/bus/pci/devices/$A/sriov_numvfs"
eq "  enabling VFs destroys it" "" "$(cat "$GA/gis")"
eq "  7g.40gb" ok "$(try_write "$GA/gis" "create 0")"
eq "  no room next to it" "No space left on device" "$(try_write "$GA/gis" "create 19")"
eq "  a GI without a compute instance takes no vGPU" 0 \
	"$(cat "$AV/mdev_supported_types/nvidia-478/available_instances")"
eq "  ci-create" ok "$(try_write "$GA/gis" "ci-create 1")"
eq "  7-40C creatable on a free VF" 1 "$(cat "$AV/mdev_supported_types/nvidia-478/available_instances")"
eq "  time-sliced types not in MIG mode" 0 "$(cat "$AV/mdev_supported_types/nvidia-468/available_instances")"
eq "  create 7-40C" ok "$(try_write "$AV/mdev_supported_types/nvidia-478/create" "$(newuuid)")"
match "  vgpus names its GI" "^478 1 [0-9a-f-]{36}$" "$(cat "$GA/vgpus")"
eq "  GI with a vGPU: destroy refused" "Device or resource busy" "$(try_write "$GA/gis" "destroy 1")"
eq "  mode off refused while a vGPU exists" "Device or resource busy" "$(try_write "$GA/mig_mode" 0)"
eq "H100 (Hopper): mode on at once, VFs enabled" "ok 1 1" "$(try_write "$GH/mig_mode" 1) $(cat "$GH/mig_mode")"
eq "  placement given" "ok ok" "$(try_write "$GH/gis" "create 19 3") $(try_write "$GH/gis" "ci-create 1")"
eq "  an occupied placement" "No space left on device" "$(try_write "$GH/gis" "create 19 3")"
eq "  a placement the profile does not have" "Invalid argument" "$(try_write "$GH/gis" "create 14 1")"
match "  creatable_vgpu_types lists the 1g type" "9311  : NVIDIA H100-1-10C" "$(cat "$HV/nvidia/creatable_vgpu_types")"
eq "  the VF takes it" ok "$(try_write "$HV/nvidia/current_vgpu_type" 9311)"
eq "  gpu_instance_id names the GI" 1 "$(cat "$HV/nvidia/gpu_instance_id")"
eq "  mode off refused with VFs" "Device or resource busy" "$(try_write "$GH/mig_mode" 0)"
echo "mig 1 EBUSY" >"$M4/.vgpu-sim/faults"
eq "  fault on the mode write" "Device or resource busy" "$(try_write "$GA/mig_mode" 1)"
echo "gi 1 ENOSPC" >"$M4/.vgpu-sim/faults"
eq "  fault on a GI create" "No space left on device" "$(try_write "$GH/gis" "create 19 0")"

# --- unmount -------------------------------------------------------------------------------------
echo "# unmount"
unmount_all
check "first unmounted" bash -c "! mountpoint -q '$M'"
check "second unmounted" bash -c "! mountpoint -q '$M2'"
[[ $FG == 1 ]] && check_foreground_exits

echo "# $pass passed, $fail failed"
[[ $fail == 0 ]]
