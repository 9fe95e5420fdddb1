#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of vgpu-sim's vendor-specific VFIO framework (vGPU 17+,
# kernel >= 6.8), per-GPU frameworks, equal-/mixed-size modes, SR-IOV
# enable/disable with the sriov-manage stand-in, the NVML stand-in library,
# and the dev/vfio + proc/<pid> emulation ("is this vGPU in use?").
#
# usage: tests/sim/test-sim-vfio.sh PATH/TO/vgpu-sim PATH/TO/NVML-STANDIN
#        NVML-STANDIN is libnvidia-ml.so.1 or the directory holding it.
# env:   SIM_FOREGROUND=1  run the mounts in foreground (-f) and fail on any
#                          sanitizer report or non-zero exit after unmount
#        SRIOV_MANAGE      the sriov-manage stand-in (default: sim/sriov-manage
#                          next to this test's source tree)
# exit:  0 all checks passed, 1 a check failed, 77 FUSE not usable (skip)
set -u
set -o pipefail

SIM=${1:?usage: test-sim-vfio.sh PATH/TO/vgpu-sim PATH/TO/NVML-STANDIN}
NVML=${2:?usage: test-sim-vfio.sh PATH/TO/vgpu-sim PATH/TO/NVML-STANDIN}
SIM=$(realpath "$SIM")
NVML=$(realpath "$NVML")
[[ -d $NVML ]] && NVML=$NVML/libnvidia-ml.so.1
if [[ ! -f $NVML ]]; then
	echo "FAIL - no NVML stand-in library at $NVML"
	exit 1
fi
HERE=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
SRIOV_MANAGE=${SRIOV_MANAGE:-$HERE/../../sim/sriov-manage}
CAPTURE=$HERE/../data/real-sysfs-captures/sys/bus/pci/devices/0000:26:00.4/nvidia
FG=${SIM_FOREGROUND:-0}

. "$HERE/lib.sh"
# VF directory of virtfn$2 of PF $1 (below $S)
vfdir() { realpath "$S/bus/pci/devices/$1/virtfn$2"; }
# same bytes (cmp alone trusts st_size, which is 4096 for every sysfs file)
same_bytes() { cmp -s <(cat "$1") <(cat "$2"); }
# type ids listed by a VF's creatable_vgpu_types, space separated
creatable() { awk 'NR > 1 { print $1 }' "$1/nvidia/creatable_vgpu_types" | xargs; }
# sets current_vgpu_type of virtfn$2 of PF $1 to $3; prints ok or the errno text
set_type() { try_write "$(vfdir "$1" "$2")/nvidia/current_vgpu_type" "$3"; }

HEADER="ID    : vGPU Name"
# The real L40S capture's list (ids 1145-1166, 2164).
L40S_LIST=$(
	echo "$HEADER"
	i=1145
	for t in 1B 2B 1Q 2Q 3Q 4Q 6Q 8Q 12Q 16Q 24Q 48Q 1A 2A 3A 4A 6A 8A 12A 16A 24A 48A; do
		printf '%-5d : NVIDIA L40S-%s\n' "$i" "$t"
		i=$((i + 1))
	done
	printf '%-5d : NVIDIA L40S-%s\n' 2164 3B
)

# ===========================================================================
echo "# all-vfio host: --framework vfio --gpu L40S --gpu A10 --gpu H100 --gpu L4 --gpu A16"
M=$WORK/vfio
S=$M/sys
mount_sim "$M" --framework vfio --gpu L40S --gpu A10 --gpu H100 --gpu L4 --gpu A16
eq "simulator starts" 0 "$?"
eq "info lists 8 GPUs" "L40S A10 H100 L4 A16 A16 A16 A16" "$(grep -v '^#' "$M/.vgpu-sim/info" | awk '{ print $3 }' | xargs)"
L40S=$(gpu_bdf "$M" 0)
A10=$(gpu_bdf "$M" 1)
H100=$(gpu_bdf "$M" 2)
L4=$(gpu_bdf "$M" 3)
A16=$(gpu_bdf "$M" 4)
echo "# L40S=$L40S A10=$A10 H100=$H100 L4=$L4 A16[0]=$A16"

echo "# vfio layout"
check "no sys/class/mdev_bus on an all-vfio host" test ! -e "$S/class/mdev_bus"
check "no sys/bus/mdev on an all-vfio host" test ! -e "$S/bus/mdev"
eq "no mdev_supported_types anywhere" 0 "$(find "$S/devices" -name mdev_supported_types | wc -l)"
for g in "$L40S" "$A10" "$H100" "$L4" "$A16"; do
	check "PF $g has no nvidia/" test ! -e "$S/bus/pci/devices/$g/nvidia"
done
eq "L40S sriov_totalvfs" 32 "$(<"$S/bus/pci/devices/$L40S/sriov_totalvfs")"
eq "L40S sriov_numvfs" 32 "$(<"$S/bus/pci/devices/$L40S/sriov_numvfs")"
eq "L4 sriov_totalvfs" 24 "$(<"$S/bus/pci/devices/$L4/sriov_totalvfs")"
eq "H100 sriov_totalvfs" 20 "$(<"$S/bus/pci/devices/$H100/sriov_totalvfs")"
eq "L40S device id" 0x26b9 "$(<"$S/bus/pci/devices/$L40S/device")"
eq "L4 device id" 0x27b8 "$(<"$S/bus/pci/devices/$L4/device")"
eq "H100 device id" 0x2331 "$(<"$S/bus/pci/devices/$H100/device")"
V0=$(vfdir "$L40S" 0)
eq "first VF at function 4" "${L40S%.0}.4" "$(basename "$V0")"
eq "VF physfn" "$L40S" "$(basename "$(realpath "$V0/physfn")")"
eq "VF driver is nvidia" nvidia "$(basename "$(readlink -f "$V0/driver")")"
eq "VF nvidia/ files" "creatable_vgpu_types current_vgpu_type gpu_instance_id placement_id vgpu_params warm_update" \
	"$(ls "$V0/nvidia" | xargs)"
eq "nvidia/ file modes" "444 644 444 444 644 644" \
	"$(cd "$V0/nvidia" && stat -c %a creatable_vgpu_types current_vgpu_type gpu_instance_id placement_id vgpu_params warm_update | xargs)"
nvf=$(find "$S/devices" -path '*/nvidia/current_vgpu_type' | wc -l)
eq "every VF (32+24+20+24+4x16) has nvidia/" 164 "$nvf"
vfio_names=$(for d in "$S"/bus/pci/devices/*; do [[ -d $d/vfio-dev ]] && ls "$d/vfio-dev"; done)
eq "every VF has one vfio-dev/vfioN" 164 "$(wc -l <<<"$vfio_names")"
eq "vfioN unique per host" 164 "$(sort -u <<<"$vfio_names" | wc -l)"
check "no PF has vfio-dev" bash -c "! ls -d '$S'/bus/pci/devices/{$L40S,$A10,$H100}/vfio-dev 2>/dev/null | grep -q ."
vn=$(ls "$V0/vfio-dev")
eq "vfio-dev/vfioN/device -> the VF" "$V0" "$(realpath "$V0/vfio-dev/$vn/device")"
eq "sys/class/vfio-dev/vfioN -> the VF's vfio-dev dir" "$V0/vfio-dev/$vn" "$(realpath "$S/class/vfio-dev/$vn")"
eq "dev/vfio/devices has a node per VF" 164 "$(ls "$M/dev/vfio/devices" | wc -l)"
eq "dev/vfio/devices names = vfio-dev names" "$(sort <<<"$vfio_names" | xargs)" "$(ls "$M/dev/vfio/devices" | sort | xargs)"
check "dev/vfio/vfio exists" test -f "$M/dev/vfio/vfio"
eq "device nodes are 0600 regular files" "600 regular file" "$(stat -c '%a %F' "$M/dev/vfio/devices/$vn")"
vg=$(basename "$(realpath "$V0/iommu_group")")
check "dev/vfio/<group> of a vfio VF exists" test -f "$M/dev/vfio/$vg"
nbroken=$(find "$S" -type l -print0 | xargs -0 realpath -e 2>&1 >/dev/null | wc -l)
eq "all symlinks under sys resolve" 0 "$nbroken"
eq "no absolute symlinks under sys" 0 "$(find "$S" -type l -lname '/*' | wc -l)"
eq "proc/ has no process" "" "$(ls "$M/proc" | grep -E '^[0-9]+$')"
eq "driver version of a vGPU 17 host" "550.90.05" "$(<"$S/module/nvidia/version")"

echo "# exact bytes of an empty L40S VF (real capture)"
eq "creatable_vgpu_types of an empty L40S" "$L40S_LIST" "$(<"$V0/nvidia/creatable_vgpu_types")"
printf '%s\n' "$L40S_LIST" >"$WORK/l40s.expected"
check "creatable_vgpu_types byte-identical to the expected list" same_bytes "$WORK/l40s.expected" "$V0/nvidia/creatable_vgpu_types"
check "the real L40S capture is there ($CAPTURE)" test -d "$CAPTURE"
if [[ -d $CAPTURE ]]; then
	check "creatable_vgpu_types byte-identical to the capture" same_bytes "$CAPTURE/creatable_vgpu_types" "$V0/nvidia/creatable_vgpu_types"
	check "current_vgpu_type byte-identical to the capture" same_bytes "$CAPTURE/current_vgpu_type" "$V0/nvidia/current_vgpu_type"
	check "vgpu_params byte-identical to the capture" same_bytes "$CAPTURE/vgpu_params" "$V0/nvidia/vgpu_params"
	check "warm_update byte-identical to the capture" same_bytes "$CAPTURE/warm_update" "$V0/nvidia/warm_update"
fi
eq "current_vgpu_type is \"0\\n\"" "0000000   0  \\n" "$(od -c "$V0/nvidia/current_vgpu_type" | head -1 | sed 's/ *$//')"
eq "vgpu_params empty" 0 "$(wc -c <"$V0/nvidia/vgpu_params")"
eq "warm_update empty" 0 "$(wc -c <"$V0/nvidia/warm_update")"
eq "gpu_instance_id without vGPU" "No such device or address" "$(try_read "$V0/nvidia/gpu_instance_id")"
eq "placement_id without vGPU" "No such device or address" "$(try_read "$V0/nvidia/placement_id")"
eq "%-5d format on 4-digit ids" "1145  : NVIDIA L40S-1B" "$(sed -n 2p "$V0/nvidia/creatable_vgpu_types")"
eq "H100 list: C types only" "$(seq -s ' ' 9301 9308)" "$(creatable "$(vfdir "$H100" 0)")"
eq "H100 name" "9308  : NVIDIA H100-80C" "$(tail -1 "$(vfdir "$H100" 0)/nvidia/creatable_vgpu_types")"
eq "L4 lists 23 types" 23 "$(creatable "$(vfdir "$L4" 0)" | wc -w)"
eq "A10 (vfio) ids" "$(echo $(seq 588 605) $(seq 610 614))" "$(creatable "$(vfdir "$A10" 0)")"
eq "A16 (vfio) name" "711   : NVIDIA A16-1Q" "$(grep '^711 ' "$(vfdir "$A16" 0)/nvidia/creatable_vgpu_types")"
eq "no L40S C type creatable" "" "$(grep -- '-[0-9]*C$' "$V0/nvidia/creatable_vgpu_types")"

echo "# current_vgpu_type semantics (equal-size mode)"
echo reset >"$M/.vgpu-sim/counters"
eq "create L40S-4Q (1150) on VF0" ok "$(set_type "$L40S" 0 1150)"
eq "current_vgpu_type reads the id" "1150" "$(<"$V0/nvidia/current_vgpu_type")"
eq "occupied VF lists only the header" "$HEADER" "$(<"$V0/nvidia/creatable_vgpu_types")"
eq "gpu_instance_id with a vGPU" "-1" "$(<"$V0/nvidia/gpu_instance_id")"
eq "placement_id of the first 4 GB vGPU" 0 "$(<"$V0/nvidia/placement_id")"
eq "VF1: only 4 GB types (4Q, 4A)" "1150 1160" "$(creatable "$(vfdir "$L40S" 1)")"
eq "second id on an occupied VF" "Operation not permitted" "$(set_type "$L40S" 0 1150)"
eq "other size on VF1" "Input/output error" "$(set_type "$L40S" 1 1147)"
eq "unknown id" "Input/output error" "$(set_type "$L40S" 1 12345)"
eq "negative id" "Input/output error" "$(set_type "$L40S" 1 -5)"
eq "unoffered L40S C type" "Input/output error" "$(set_type "$L40S" 1 9201)"
eq "id of another model" "Input/output error" "$(set_type "$L40S" 1 9106)"
eq "garbage" "Invalid argument" "$(set_type "$L40S" 1 abc)"
eq "hex is not base 10" "Invalid argument" "$(set_type "$L40S" 1 0x47e)"
eq "leading space" "Invalid argument" "$(set_type "$L40S" 1 " 1160")"
eq "two newlines" "Invalid argument" "$(set_type "$L40S" 1 $'1160\n\n')"
eq "empty" "Invalid argument" "$(set_type "$L40S" 1 $'\n')"
eq "out of range of long" "Numerical result out of range" "$(set_type "$L40S" 1 99999999999999999999)"
eq "0 on an empty VF" "Operation not permitted" "$(set_type "$L40S" 1 0)"
eq "4A next to 4Q, with newline" ok "$(set_type "$L40S" 1 $'1160\n')"
eq "placement_id of the second" 4 "$(<"$(vfdir "$L40S" 1)/nvidia/placement_id")"
for i in $(seq 2 11); do set_type "$L40S" "$i" 1150 >/dev/null; done
eq "12 x 4 GB vGPUs exist (max 12)" 12 "$(grep -lv '^0$' "$S"/bus/pci/devices/"$L40S"/virtfn*/nvidia/current_vgpu_type | wc -l)"
eq "full GPU: a free VF lists only the header" "$HEADER" "$(<"$(vfdir "$L40S" 12)/nvidia/creatable_vgpu_types")"
eq "create on a full GPU" "Input/output error" "$(set_type "$L40S" 12 1150)"
eq "other GPUs unaffected" 23 "$(creatable "$(vfdir "$L4" 0)" | wc -w)"
eq "destroy with 0" ok "$(set_type "$L40S" 0 0)"
eq "destroy with 0 + newline" ok "$(set_type "$L40S" 1 $'0\n')"
eq "destroyed VF reads 0" 0 "$(<"$V0/nvidia/current_vgpu_type")"
eq "destroyed VF: ENXIO again" "No such device or address" "$(try_read "$V0/nvidia/placement_id")"
eq "free VF after destroy lists 4 GB types" "1150 1160" "$(creatable "$V0")"
for i in $(seq 2 11); do set_type "$L40S" "$i" 0 >/dev/null; done
eq "empty GPU: full list again" "$L40S_LIST" "$(<"$V0/nvidia/creatable_vgpu_types")"
eq "counter create_ok" 12 "$(counter "$M" create_ok)"
eq "counter create_fail" 13 "$(counter "$M" create_fail)"
eq "counter remove_ok" 12 "$(counter "$M" remove_ok)"
eq "counter remove_fail" 1 "$(counter "$M" remove_fail)"
eq "vgpu_params write" ok "$(try_write "$V0/nvidia/vgpu_params" "frame_rate_limiter=0")"
eq "vgpu_params reads back" "frame_rate_limiter=0" "$(<"$V0/nvidia/vgpu_params")"
eq "vgpu_params too long" "Argument list too long" "$(try_write "$V0/nvidia/vgpu_params" "$(printf '%01025d' 0)")"
eq "arm a create fault" ok "$(try_write "$M/.vgpu-sim/faults" "create 1 ENOSPC")"
eq "injected fault on current_vgpu_type" "No space left on device" "$(set_type "$L40S" 0 1147)"
eq "nothing created" 0 "$(<"$V0/nvidia/current_vgpu_type")"

echo "# mixed-size mode"
G=$M/.vgpu-sim/gpus/$L40S
eq "per-GPU control files" "creatable display_mode framework mixed_size model types" "$(ls "$G" | xargs)"
eq "framework" vfio "$(<"$G/framework")"
eq "equal-size by default" 0 "$(<"$G/mixed_size")"
eq "switch to mixed-size" ok "$(try_write "$G/mixed_size" 1)"
eq "mixed_size reads 1" 1 "$(<"$G/mixed_size")"
eq "bad mode" "Invalid argument" "$(try_write "$G/mixed_size" 2)"
eq "24Q on VF0" ok "$(set_type "$L40S" 0 1155)"
eq "change refused while a vGPU exists" "Device or resource busy" "$(try_write "$G/mixed_size" 0)"
eq "same mode is a no-op" ok "$(try_write "$G/mixed_size" $'1\n')"
eq "VF1: every size up to 24 GB except 48 GB" "1145 1146 1147 1148 1149 1150 1151 1152 1153 1154 1155 1157 1158 1159 1160 1161 1162 1163 1164 1165 2164" \
	"$(creatable "$(vfdir "$L40S" 1)")"
eq "16Q next to 24Q" ok "$(set_type "$L40S" 1 1154)"
eq "8 GB left: up to 8 GB types" "1145 1146 1147 1148 1149 1150 1151 1152 1157 1158 1159 1160 1161 1162 2164" \
	"$(creatable "$(vfdir "$L40S" 2)")"
eq "12Q does not fit" "Input/output error" "$(set_type "$L40S" 2 1153)"
eq "4A fits" ok "$(set_type "$L40S" 2 1160)"
eq "3B fits" ok "$(set_type "$L40S" 3 2164)"
eq "1B fits" ok "$(set_type "$L40S" 4 1145)"
eq "placement_ids: first fit, aligned to the size when possible" "0 32 24 28 31" \
	"$(for i in 0 1 2 3 4; do cat "$(vfdir "$L40S" "$i")/nvidia/placement_id"; done | xargs)"
eq "48 GB used: a free VF lists only the header" "$HEADER" "$(<"$(vfdir "$L40S" 5)/nvidia/creatable_vgpu_types")"
eq "GPU creatable list empty" "" "$(<"$G/creatable")"
for i in 0 1 2 3 4; do set_type "$L40S" "$i" 0 >/dev/null; done
eq "back to equal-size once empty" ok "$(try_write "$G/mixed_size" 0)"
eq "equal-size again: one size" ok "$(set_type "$L40S" 0 1152)"
eq "equal-size: only 8 GB types" "1152 1162" "$(creatable "$(vfdir "$L40S" 1)")"
set_type "$L40S" 0 0 >/dev/null
eq ".vgpu-sim/gpus has every GPU" 8 "$(ls "$M/.vgpu-sim/gpus" | wc -l)"
eq ".vgpu-sim/types: the capture's first line" "1145 NVIDIA L40S-1B" "$(grep '^1145 ' "$M/.vgpu-sim/types")"
eq ".vgpu-sim/types has the unoffered L40S C types" "9207 NVIDIA L40S-48C" "$(grep '^9207 ' "$M/.vgpu-sim/types")"
eq "gpus/<BDF>/types: id max name" "1147 32 NVIDIA L40S-1Q" "$(grep '^1147 ' "$G/types")"

# ===========================================================================
echo "# NVML stand-in ($NVML)"
if ! command -v python3 >/dev/null; then
	not_ok "python3 is needed to call the NVML stand-in"
fi
PRELOAD=
if command -v ldd >/dev/null; then
	# an ASan/UBSan build of the library needs the runtimes first in python
	PRELOAD=$(ldd "$NVML" | awk '/lib(asan|ubsan)\.so/ { print $3 }' | xargs | tr ' ' ':')
fi
nvml_py() {
	env -u VGPU_SIM_ROOT ${PRELOAD:+LD_PRELOAD=$PRELOAD} ASAN_OPTIONS=detect_leaks=0 NVML="$NVML" "$@" python3 - <<'EOF'
import ctypes, os
lib = ctypes.CDLL(os.environ["NVML"])
c_uint, byref = ctypes.c_uint, ctypes.byref
class Hetero(ctypes.Structure):
    _fields_ = [("version", c_uint), ("mode", c_uint)]
V1 = 0x1000008
out = []
def r(label, value):
    out.append("%s=%s" % (label, value))
lib.nvmlErrorString.restype = ctypes.c_char_p
r("before_init", lib.nvmlVgpuTypeGetName(1145, ctypes.create_string_buffer(64), byref(c_uint(64))))
rc = lib.nvmlInit_v2()
r("init", rc)
if rc == 0:
    buf = ctypes.create_string_buffer(80)
    r("drv", lib.nvmlSystemGetDriverVersion(buf, 80)); r("drv_str", buf.value.decode())
    r("drv_small", lib.nvmlSystemGetDriverVersion(buf, 3))
    n = c_uint(0)
    r("count", lib.nvmlDeviceGetCount_v2(byref(n))); r("count_n", n.value)
    dev = ctypes.c_void_p()
    l40s = os.environ["L40S"]
    r("by_bus", lib.nvmlDeviceGetHandleByPciBusId_v2(l40s.encode(), byref(dev)))
    dev2 = ctypes.c_void_p()
    long_id = ("0000" + l40s).upper()
    r("by_long_bus", lib.nvmlDeviceGetHandleByPciBusId_v2(long_id.encode(), byref(dev2)))
    r("same_handle", dev.value == dev2.value)
    r("by_vf", lib.nvmlDeviceGetHandleByPciBusId_v2(os.environ["VF0"].encode(), byref(dev2)))
    r("by_garbage", lib.nvmlDeviceGetHandleByPciBusId_v2(b"nonsense", byref(dev2)))
    name = ctypes.create_string_buffer(64); size = c_uint(64)
    r("name", lib.nvmlVgpuTypeGetName(1145, name, byref(size))); r("name_str", name.value.decode())
    size = c_uint(4)
    r("name_small", lib.nvmlVgpuTypeGetName(1145, name, byref(size))); r("name_need", size.value)
    size = c_uint(64)
    r("name_bad", lib.nvmlVgpuTypeGetName(4242, name, byref(size)))
    r("name_c", lib.nvmlVgpuTypeGetName(9207, name, byref(size))); r("name_c_str", name.value.decode())
    fb = ctypes.c_ulonglong()
    r("fb", lib.nvmlVgpuTypeGetFramebufferSize(1155, byref(fb))); r("fb_gib", fb.value >> 30)
    n = c_uint(0)
    r("sup_probe", lib.nvmlDeviceGetSupportedVgpus(dev, byref(n), None)); r("sup_n", n.value)
    ids = (c_uint * n.value)()
    r("sup", lib.nvmlDeviceGetSupportedVgpus(dev, byref(n), ids)); r("sup_first_last", "%d,%d" % (ids[0], ids[n.value - 1]))
    m = c_uint()
    r("max", lib.nvmlVgpuTypeGetMaxInstances(dev, 1147, byref(m))); r("max_n", m.value)
    n = c_uint(64); ids = (c_uint * 64)()
    r("creatable", lib.nvmlDeviceGetCreatableVgpus(dev, byref(n), ids)); r("creatable_n", n.value)
    h = Hetero(V1, 7)
    r("hetero", lib.nvmlDeviceGetVgpuHeterogeneousMode(dev, byref(h))); r("hetero_mode", h.mode)
    h = Hetero(1, 0)
    r("hetero_badver", lib.nvmlDeviceGetVgpuHeterogeneousMode(dev, byref(h)))
    r("set_mixed", lib.nvmlDeviceSetVgpuHeterogeneousMode(dev, byref(Hetero(V1, 1))))
    h = Hetero(V1, 0)
    lib.nvmlDeviceGetVgpuHeterogeneousMode(dev, byref(h)); r("hetero_after_set", h.mode)
    r("errstr", lib.nvmlErrorString(6).decode())
    r("shutdown", lib.nvmlShutdown())
    r("after_shutdown", lib.nvmlDeviceGetCount_v2(byref(n)))
print("\n".join(out))
EOF
}
res=$(nvml_py)
eq "nvmlInit_v2 without VGPU_SIM_ROOT: DRIVER_NOT_LOADED" "before_init=1 init=9" "$(xargs <<<"$res")"
res=$(nvml_py VGPU_SIM_ROOT="$M" L40S="$L40S" VF0="$(basename "$V0")")
echo "# $(xargs -d '\n' <<<"$res")"
nv() { sed -n "s/^$1=//p" <<<"$res"; }
eq "NVML before init: UNINITIALIZED" 1 "$(nv before_init)"
eq "nvmlInit_v2" 0 "$(nv init)"
eq "driver version" "0 550.90.05" "$(nv drv) $(nv drv_str)"
eq "driver version, buffer too small" 7 "$(nv drv_small)"
eq "device count" "0 8" "$(nv count) $(nv count_n)"
eq "handle by bus id" 0 "$(nv by_bus)"
eq "handle by 8-digit-domain upper-case bus id" "0 True" "$(nv by_long_bus) $(nv same_handle)"
eq "a VF is not an NVML device" 6 "$(nv by_vf)"
eq "bad bus id" 2 "$(nv by_garbage)"
eq "type name (full, as sysfs)" "0 NVIDIA L40S-1B" "$(nv name) $(nv name_str)"
eq "type name, buffer too small: size needed" "7 15" "$(nv name_small) $(nv name_need)"
eq "unknown type id" 2 "$(nv name_bad)"
eq "unoffered type has a name" "0 NVIDIA L40S-48C" "$(nv name_c) $(nv name_c_str)"
eq "framebuffer of 24Q" "0 24" "$(nv fb) $(nv fb_gib)"
eq "supported vGPUs: probe" "7 23" "$(nv sup_probe) $(nv sup_n)"
eq "supported vGPUs" "0 1145,2164" "$(nv sup) $(nv sup_first_last)"
eq "max instances of 1Q" "0 32" "$(nv max) $(nv max_n)"
eq "creatable vGPUs on an empty L40S" "0 23" "$(nv creatable) $(nv creatable_n)"
eq "heterogeneous mode: equal-size" "0 0" "$(nv hetero) $(nv hetero_mode)"
eq "struct version checked" 25 "$(nv hetero_badver)"
eq "set mixed-size through NVML" "0 1" "$(nv set_mixed) $(nv hetero_after_set)"
eq "the control file saw it" 1 "$(<"$G/mixed_size")"
eq "error string" "Not Found" "$(nv errstr)"
eq "shutdown; calls after it: UNINITIALIZED" "0 1" "$(nv shutdown) $(nv after_shutdown)"
set_type "$L40S" 0 1147 >/dev/null
res=$(env ${PRELOAD:+LD_PRELOAD=$PRELOAD} ASAN_OPTIONS=detect_leaks=0 VGPU_SIM_ROOT="$M" NVML="$NVML" L40S="$L40S" python3 -c '
import ctypes, os
lib = ctypes.CDLL(os.environ["NVML"])
class H(ctypes.Structure): _fields_ = [("version", ctypes.c_uint), ("mode", ctypes.c_uint)]
lib.nvmlInit_v2(); d = ctypes.c_void_p()
lib.nvmlDeviceGetHandleByPciBusId_v2(os.environ["L40S"].encode(), ctypes.byref(d))
print(lib.nvmlDeviceSetVgpuHeterogeneousMode(d, ctypes.byref(H(0x1000008, 0))))')
eq "set mode with a vGPU: NVML_ERROR_IN_USE (nvidia-smi rc 19)" 19 "$res"
set_type "$L40S" 0 0 >/dev/null
try_write "$G/mixed_size" 0 >/dev/null

# ===========================================================================
echo "# device nodes and proc/<pid> on the vfio host"
VN=$(ls "$V0/vfio-dev")
N=$M/dev/vfio/devices/$VN
eq "create 1Q on VF0" ok "$(set_type "$L40S" 0 1147)"
sleep 30 3<>"$N" &
sp=$!
BG+=("$sp")
check "proc/<pid> appears" wait_until test -d "$M/proc/$sp"
eq "proc lists only the holder" "$sp" "$(ls "$M/proc" | grep -E '^[0-9]+$' | xargs)"
eq "fd link text is absolute, like /proc" "/dev/vfio/devices/$VN" "$(readlink "$M/proc/$sp/fd/3")"
eq "fd link mode like an O_RDWR fd" "lrwx------" "$(stat -c %A "$M/proc/$sp/fd/3")"
eq "cmdline is NUL-separated like /proc" "sleep 30 " "$(tr '\0' ' ' <"$M/proc/$sp/cmdline")"
eq "cmdline bytes = the real ones" "$(od -c "/proc/$sp/cmdline")" "$(od -c "$M/proc/$sp/cmdline")"
eq "comm" sleep "$(<"$M/proc/$sp/comm")"
eq "destroy while the vfio device is open" "Device or resource busy" "$(set_type "$L40S" 0 0)"
eq "vgpu_params while in use" "Operation not permitted" "$(try_write "$V0/nvidia/vgpu_params" x)"
eq "vGPU kept" 1147 "$(<"$V0/nvidia/current_vgpu_type")"
kill "$sp"; wait "$sp" 2>/dev/null
check "proc/<pid> disappears when the holder exits" wait_until test ! -e "$M/proc/$sp"
eq "destroy once released" ok "$(set_type "$L40S" 0 0)"
check "VF node stays (VFs are still enabled)" test -f "$N"
vg0=$(basename "$(realpath "$V0/iommu_group")")
sleep 30 3<"$M/dev/vfio/$vg0" 4<"$M/dev/vfio/vfio" &
sp=$!
BG+=("$sp")
check "group + container held" wait_until test -L "$M/proc/$sp/fd/4"
eq "two fds, lowest free numbers" "3 4" "$(ls "$M/proc/$sp/fd" | xargs)"
eq "fd 3 -> group" "/dev/vfio/$vg0" "$(readlink "$M/proc/$sp/fd/3")"
eq "fd 4 -> container" "/dev/vfio/vfio" "$(readlink "$M/proc/$sp/fd/4")"
eq "read-only fd mode" "lr-x------" "$(stat -c %A "$M/proc/$sp/fd/3")"
eq "create 1Q again" ok "$(set_type "$L40S" 0 1147)"
eq "destroy while the VF's group is open" "Device or resource busy" "$(set_type "$L40S" 0 0)"
kill "$sp"; wait "$sp" 2>/dev/null
check "released" wait_until test ! -e "$M/proc/$sp"
eq "destroy" ok "$(set_type "$L40S" 0 0)"

# ===========================================================================
echo "# mixed frameworks: --gpu T4:mdev --gpu L40S:vfio --gpu 1xA16:mdev --gpu A10 --mixed-size"
M2=$WORK/mixed
S=$M2/sys
mount_sim "$M2" --gpu T4:mdev --gpu L40S:vfio --gpu 1xA16:mdev --gpu A10 --mixed-size
eq "mixed host starts" 0 "$?"
T4=$(gpu_bdf "$M2" 0)
L40S=$(gpu_bdf "$M2" 1)
A16=$(gpu_bdf "$M2" 2)
A10=$(gpu_bdf "$M2" 6)
eq "frameworks" "mdev vfio mdev mdev mdev mdev mdev" "$(for g in $(grep -v '^#' "$M2/.vgpu-sim/info" | awk '{ print $2 }'); do cat "$M2/.vgpu-sim/gpus/$g/framework"; done | xargs)"
check "sys/class/mdev_bus exists" test -d "$S/class/mdev_bus"
check "sys/bus/mdev exists" test -d "$S/bus/mdev/devices"
eq "mdev parents: T4 + 4x16 A16 VFs + 24 A10 VFs" 89 "$(ls "$S/class/mdev_bus" | wc -l)"
check "L40S VFs are not mdev parents" bash -c "! ls '$S/class/mdev_bus' | grep -q '^${L40S%:*}:0[0-4]\\.[4-7]'"
check "no L40S VF in mdev_bus" test ! -e "$S/class/mdev_bus/$(basename "$(vfdir "$L40S" 0)")"
check "L40S VF has no mdev_supported_types" test ! -e "$(vfdir "$L40S" 0)/mdev_supported_types"
check "L40S VF has nvidia/" test -f "$(vfdir "$L40S" 0)/nvidia/current_vgpu_type"
check "A16 (mdev) VF has no nvidia/ or vfio-dev" test ! -e "$(vfdir "$A16" 0)/nvidia" -a ! -e "$(vfdir "$A16" 0)/vfio-dev"
eq "only the L40S VFs have vfio-dev nodes" 32 "$(ls "$M2/dev/vfio/devices" | wc -l)"
eq "--mixed-size: vfio GPU starts mixed" 1 "$(<"$M2/.vgpu-sim/gpus/$L40S/mixed_size")"
eq "--mixed-size: an mdev SR-IOV GPU starts mixed too" 1 "$(<"$M2/.vgpu-sim/gpus/$A10/mixed_size")"
check "T4 has no mixed_size control" test ! -e "$M2/.vgpu-sim/gpus/$T4/mixed_size"
eq "driver version of a host with vfio GPUs" "550.90.05" "$(<"$S/module/nvidia/version")"
eq "vfio on the mixed host" ok "$(set_type "$L40S" 0 1156)"
eq "mixed-size: 48Q fills the GPU" "$HEADER" "$(<"$(vfdir "$L40S" 1)/nvidia/creatable_vgpu_types")"
set_type "$L40S" 0 0 >/dev/null

echo "# dev/vfio/<group> and proc/<pid> for an mdev vGPU"
TT=$S/class/mdev_bus/$T4/mdev_supported_types
u=$(newuuid)
eq "T4-1Q created" ok "$(try_write "$TT/nvidia-230/create" "$u")"
grp=$(basename "$(realpath "$S/bus/mdev/devices/$u/iommu_group")")
D=$M2/dev/vfio/$grp
check "dev/vfio/<group> of the vGPU exists" test -f "$D"
eq "its mode" 600 "$(stat -c %a "$D")"
(exec 3<>"$D"; exec sleep 30) &
sp=$!
BG+=("$sp")
check "proc/<pid> appears for a subshell holder" wait_until test -L "$M2/proc/$sp/fd/3"
eq "fd link" "/dev/vfio/$grp" "$(readlink "$M2/proc/$sp/fd/3")"
eq "cmdline of the holder after its exec" "sleep 30 " "$(tr '\0' ' ' <"$M2/proc/$sp/cmdline")"
eq "remove while a VM holds it" "Operation not permitted" "$(try_write "$S/bus/mdev/devices/$u/remove" 1)"
check "vGPU kept" test -d "$S/bus/mdev/devices/$u"
eq "remove 0 is still a no-op" ok "$(try_write "$S/bus/mdev/devices/$u/remove" 0)"
eq "vgpu_params while in use" "Operation not permitted" "$(try_write "$S/bus/mdev/devices/$u/nvidia/vgpu_params" x)"
eq "remove_fail counted" 1 "$(counter "$M2" remove_fail)"
kill "$sp"; wait "$sp" 2>/dev/null
check "holder gone" wait_until test ! -e "$M2/proc/$sp"
eq "remove once released" ok "$(try_write "$S/bus/mdev/devices/$u/remove" 1)"
check "dev node gone with the vGPU" test ! -e "$D"
eq "proc/ has no process again" "" "$(ls "$M2/proc" | grep -E '^[0-9]+$')"
echo reset >"$M2/.vgpu-sim/counters"
cat "$M2/dev/vfio/vfio" >/dev/null
check "accesses under dev/ are counted" test "$(counter "$M2" open)" -ge 1

# ===========================================================================
echo "# --vfs-disabled, sriov_numvfs and the sriov-manage stand-in"
M3=$WORK/disabled
S=$M3/sys
mount_sim "$M3" --gpu L40S:vfio --gpu A16:mdev --gpu T4 --vfs-disabled
eq "host with disabled VFs starts" 0 "$?"
L40S=$(gpu_bdf "$M3" 0)
A16=$(gpu_bdf "$M3" 1)
T4=$(gpu_bdf "$M3" 5)
P=$S/bus/pci/devices/$L40S
eq "sriov_numvfs 0" 0 "$(<"$P/sriov_numvfs")"
eq "sriov_totalvfs still 32" 32 "$(<"$P/sriov_totalvfs")"
eq "no virtfn links" 0 "$(ls -d "$P"/virtfn* 2>/dev/null | wc -l)"
eq "no NVIDIA VFs" 0 "$(ls -d "$S"/bus/pci/devices/*/physfn 2>/dev/null | wc -l)"
eq "no vfio device nodes" "" "$(ls "$M3/dev/vfio/devices")"
eq "mdev_bus: only the T4" "$T4" "$(ls "$S/class/mdev_bus" | xargs)"
eq "info shows 0 VFs" "0 0" "$(awk -v b="$L40S" '$2 == b { print $5 }' "$M3/.vgpu-sim/info") $(awk -v b="$A16" '$2 == b { print $5 }' "$M3/.vgpu-sim/info")"
eq "sriov_numvfs mode" 664 "$(stat -c %a "$P/sriov_numvfs")"
eq "more than total" "Numerical result out of range" "$(try_write "$P/sriov_numvfs" 33)"
eq "garbage" "Invalid argument" "$(try_write "$P/sriov_numvfs" many)"
eq "enable 4 VFs" ok "$(try_write "$P/sriov_numvfs" 4)"
eq "4 virtfn links" 4 "$(ls -d "$P"/virtfn* | wc -l)"
check "new VF has nvidia/" test -f "$(vfdir "$L40S" 3)/nvidia/creatable_vgpu_types"
eq "new VFs list the full catalogue" "$L40S_LIST" "$(<"$(vfdir "$L40S" 0)/nvidia/creatable_vgpu_types")"
eq "4 vfio nodes" 4 "$(ls "$M3/dev/vfio/devices" | wc -l)"
eq "changing a non-zero count" "Device or resource busy" "$(try_write "$P/sriov_numvfs" 8)"
eq "same count is a no-op" ok "$(try_write "$P/sriov_numvfs" $'4\n')"
eq "vGPU on a new VF" ok "$(set_type "$L40S" 1 1152)"
eq "disable refused while a vGPU exists" "Device or resource busy" "$(try_write "$P/sriov_numvfs" 0)"
set_type "$L40S" 1 0 >/dev/null
VN=$(ls "$(vfdir "$L40S" 2)/vfio-dev")
sleep 30 3<"$M3/dev/vfio/devices/$VN" &
sp=$!
BG+=("$sp")
wait_until test -d "$M3/proc/$sp"
eq "disable refused while a VF's node is open" "Device or resource busy" "$(try_write "$P/sriov_numvfs" 0)"
kill "$sp"; wait "$sp" 2>/dev/null
wait_until test ! -e "$M3/proc/$sp"
eq "disable" ok "$(try_write "$P/sriov_numvfs" 0)"
eq "VFs gone" 0 "$(ls -d "$P"/virtfn* 2>/dev/null | wc -l)"
eq "their nodes gone" "" "$(ls "$M3/dev/vfio/devices")"
nbroken=$(find "$S" -type l -print0 | xargs -0 realpath -e 2>&1 >/dev/null | wc -l)
eq "no dangling symlink after disabling" 0 "$nbroken"

SM=$SRIOV_MANAGE
out=$(env -u VGPU_SIM_ROOT "$SM" -e "$L40S" 2>&1)
eq "sriov-manage refuses without VGPU_SIM_ROOT" 1 "$?"
match "... and says why" "VGPU_SIM_ROOT" "$out"
eq "mixed-size while VFs are disabled" ok "$(try_write "$M3/.vgpu-sim/gpus/$L40S/mixed_size" 1)"
out=$(VGPU_SIM_ROOT=$M3 "$SM" -e "$L40S")
eq "sriov-manage -e exit status" 0 "$?"
eq "sriov-manage -e message" "Enabling VFs on $L40S" "$out"
eq "all VFs enabled" 32 "$(<"$P/sriov_numvfs")"
eq "enabling reset mixed-size mode" 0 "$(<"$M3/.vgpu-sim/gpus/$L40S/mixed_size")"
eq "VF nvidia/ after sriov-manage" "$L40S_LIST" "$(<"$(vfdir "$L40S" 31)/nvidia/creatable_vgpu_types")"
eq "sriov-manage -e again" "GPU at $L40S already has VFs enabled." "$(VGPU_SIM_ROOT=$M3 "$SM" -e "${L40S#0000:}")"
eq "sriov-manage -d" "Disabling VFs on $L40S" "$(VGPU_SIM_ROOT=$M3 "$SM" -d "${L40S^^}")"
eq "disabled" 0 "$(<"$P/sriov_numvfs")"
out=$(VGPU_SIM_ROOT=$M3 "$SM" -e ALL)
eq "sriov-manage -e ALL" "Enabling VFs on $L40S
Enabling VFs on $A16
Enabling VFs on $(gpu_bdf "$M3" 2)
Enabling VFs on $(gpu_bdf "$M3" 3)
Enabling VFs on $(gpu_bdf "$M3" 4)" "$out"
eq "A16 (mdev) VFs are mdev parents" 65 "$(ls "$S/class/mdev_bus" | wc -l)"
eq "A16 VF types" "$(seq -f nvidia-%g 709 723 | xargs)" "$(ls "$(vfdir "$A16" 0)/mdev_supported_types" | xargs)"
u=$(newuuid)
eq "mdev vGPU on an enabled A16 VF" ok "$(try_write "$(vfdir "$A16" 0)/mdev_supported_types/nvidia-711/create" "$u")"
out=$(VGPU_SIM_ROOT=$M3 "$SM" -d "$A16" 2>&1)
eq "sriov-manage -d fails while a vGPU exists" 1 "$?"
match "... with the kernel's error" "Device or resource busy" "$out"
try_write "$S/bus/mdev/devices/$u/remove" 1 >/dev/null
eq "sriov-manage -d ALL" 0 "$(VGPU_SIM_ROOT=$M3 "$SM" -d ALL >/dev/null; echo $?)"
eq "all disabled" "0 0" "$(<"$P/sriov_numvfs") $(<"$S/bus/pci/devices/$A16/sriov_numvfs")"
eq "mdev_bus: only the T4 again" "$T4" "$(ls "$S/class/mdev_bus" | xargs)"
eq "sriov-manage on the T4 (no SR-IOV) does nothing" "0 " "$(VGPU_SIM_ROOT=$M3 "$SM" -e "$T4"; echo "$? $(ls -d "$S/bus/pci/devices/$T4"/virtfn* 2>/dev/null)")"
out=$(VGPU_SIM_ROOT=$M3 "$SM" -e 0000:7f:00.0 2>&1)
eq "sriov-manage on a missing device" 1 "$?"

# ===========================================================================
echo "# run/: a tmpfs for the tool's lock and journal (not counted)"
R=$M3/run
echo reset >"$M3/.vgpu-sim/counters"
eq "create with >" ok "$(try_write "$R/nvidia-vgpu-dm.lock" "1234")"
eq "reads back" 1234 "$(<"$R/nvidia-vgpu-dm.lock")"
eq "real st_size" 4 "$(stat -c %s "$R/nvidia-vgpu-dm.lock")"
eq "O_TRUNC truncates" ok "$(try_write "$R/nvidia-vgpu-dm.lock" "7")"
eq "truncated" 7 "$(<"$R/nvidia-vgpu-dm.lock")"
flock "$R/nvidia-vgpu-dm.lock" sleep 2 &
fp=$!
BG+=("$fp")
sleep 0.3
check "flock is exclusive across processes" bash -c "! flock -n '$R/nvidia-vgpu-dm.lock' true"
wait "$fp"
check "flock free again" flock -n "$R/nvidia-vgpu-dm.lock" true
printf 'journal\n' >"$R/j.tmp" && mv "$R/j.tmp" "$R/nvidia-vgpu-dm.journal"
eq "rename over nothing" "journal" "$(<"$R/nvidia-vgpu-dm.journal")"
printf 'second\n' >"$R/j.tmp" && mv "$R/j.tmp" "$R/nvidia-vgpu-dm.journal"
eq "rename replaces" "second" "$(<"$R/nvidia-vgpu-dm.journal")"
check "mkdir and rmdir" bash -c "mkdir '$R/d' && touch '$R/d/f' && ! rmdir '$R/d' 2>/dev/null && rm '$R/d/f' && rmdir '$R/d'"
rm -f "$R"/nvidia-vgpu-dm.*
eq "unlink" "" "$(ls "$R")"
eq "run/ accesses are not counted" "0 0 0" "$(counter "$M3" open) $(counter "$M3" write) $(counter "$M3" read)"
eq "sys stays read-only" "Permission denied" "$(try_write "$S/newfile" x)"
eq "no rename into run/ from sys" "Operation not permitted" "$(mv "$S/bus/pci/devices/$T4" "$R/x" 2>&1 | sed 's/.*: //')"

# ===========================================================================
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
args_fail "T4:vfio (no SR-IOV)" --gpu T4:vfio "$B"
args_fail "V100:vfio (no SR-IOV)" --gpu 2xV100:vfio "$B"
args_fail "--framework vfio with a T4" --framework vfio --gpu T4 "$B"
args_fail "--framework vfio with the default host (2xT4)" --framework vfio "$B"
args_fail "unknown per-GPU framework" --gpu L40S:vgpu "$B"
args_fail "empty per-GPU framework" --gpu L40S: "$B"
args_fail "unknown framework" --framework nvidia "$B"
match "T4:vfio message" "T4 has no SR-IOV" "$("$SIM" --gpu T4:vfio "$B" 2>&1)"
M4=$WORK/ok
mount_sim "$M4" --gpu 2xL40S:vfio --gpu T4:mdev --framework vfio --gpu A10
eq "NxMODEL:vfio, --framework after --gpu, explicit mdev kept" "vfio vfio mdev vfio" \
	"$(for g in $(grep -v '^#' "$M4/.vgpu-sim/info" | awk '{ print $2 }'); do cat "$M4/.vgpu-sim/gpus/$g/framework"; done | xargs)"
match "--help documents vfio" "--gpu MODEL\\[:FW\\]" "$("$SIM" --help)"
match "--help lists L40S" "L40S +NVIDIA L40S, 0x26b9, 48 GB" "$("$SIM" --help)"

echo "# unmount"
unmount_all
[[ $FG == 1 ]] && check_foreground_exits

echo "# $pass passed, $fail failed"
[[ $fail == 0 ]]
