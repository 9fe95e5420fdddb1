#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The NVML stand-in's MIG and vGPU-instance calls against what nvml.h 13.3
# documents (sim/README.md, "NVML stand-in"), called with python3 ctypes:
# profile info NOT_SUPPORTED with MIG off and INVALID_ARGUMENT at the end of
# the enumeration (0x12 GPU-instance, 9 compute-instance profiles), the DC's
# 3_SLICE_GFX and the H100's 7_SLICE_NVL, compute-instance profile IDs that
# are not their indices, the 80-byte mdev UUID buffer, NOT_FOUND for an
# unknown vGPU instance, heterogeneous mode NOT_SUPPORTED in MIG mode, and
# NO_PERMISSION for privileged calls of a caller that is not root.
#
# usage: tests/sim/test-nvml-mig.sh PATH/TO/vgpu-sim PATH/TO/NVML-STANDIN
# exit:  0 all checks passed, 1 a check failed, 77 FUSE not usable (skip)
set -u
set -o pipefail

SIM=$(realpath "${1:?usage: test-nvml-mig.sh PATH/TO/vgpu-sim PATH/TO/NVML-STANDIN}")
NVML=$(realpath "${2:?usage: test-nvml-mig.sh PATH/TO/vgpu-sim PATH/TO/NVML-STANDIN}")
[[ -d $NVML ]] && NVML=$NVML/libnvidia-ml.so.1
HERE=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
FG=${SIM_FOREGROUND:-0}
. "$HERE/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 calls the stand-in"; exit 77; }
PRELOAD=
command -v ldd >/dev/null &&
	PRELOAD=$(ldd "$NVML" | awk '/lib(asan|ubsan)\.so/ { print $3 }' | xargs | tr ' ' ':')

M=$WORK/host
mount_sim "$M" --allow-other --gpu DC:vfio --gpu H100:vfio --gpu A100:mdev || { not_ok "mount"; exit 1; }
DC=$(gpu_bdf "$M" 0) H100=$(gpu_bdf "$M" 1) A100=$(gpu_bdf "$M" 2)

# py [RUNNER...]: runs the python below (as RUNNER, e.g. setpriv ...) and
# prints "label=value" lines.
py() {
	"$@" env ${PRELOAD:+LD_PRELOAD=$PRELOAD} ASAN_OPTIONS=detect_leaks=0 VGPU_SIM_ROOT="$M" NVML="$NVML" \
		DC="$DC" H100="$H100" A100="$A100" python3 - <<'EOF'
import ctypes, os
from ctypes import byref, c_uint, c_void_p
lib = ctypes.CDLL(os.environ["NVML"])
def r(label, value): print("%s=%s" % (label, value))
class GIP(ctypes.Structure):   # nvmlGpuInstanceProfileInfo_v2_t
    _fields_ = [(n, c_uint) for n in ("version", "id", "isP2pSupported", "sliceCount", "instanceCount",
               "multiprocessorCount", "copyEngineCount", "decoderCount", "encoderCount", "jpegCount",
               "ofaCount")] + [("memorySizeMB", ctypes.c_ulonglong), ("name", ctypes.c_char * 96)]
V2 = ctypes.sizeof(GIP) | 2 << 24
class CIP(ctypes.Structure):   # nvmlComputeInstanceProfileInfo_t
    _fields_ = [(n, c_uint) for n in ("id", "sliceCount", "instanceCount", "multiprocessorCount",
               "sharedCopyEngineCount", "sharedDecoderCount", "sharedEncoderCount", "sharedJpegCount",
               "sharedOfaCount")]
class PL(ctypes.Structure):
    _fields_ = [("start", c_uint), ("size", c_uint)]
class Hetero(ctypes.Structure):
    _fields_ = [("version", c_uint), ("mode", c_uint)]
def dev(bdf):
    d = c_void_p(); lib.nvmlDeviceGetHandleByPciBusId_v2(bdf.encode(), byref(d)); return d
def gip(d, k):
    i = GIP(); i.version = V2; rc = lib.nvmlDeviceGetGpuInstanceProfileInfoV(d, k, byref(i)); return rc, i
def enum(d):   # indices until INVALID_ARGUMENT
    out, k = [], 0
    while True:
        rc, i = gip(d, k)
        if rc == 2: return out, k
        if rc == 0: out.append("%d:%d" % (k, i.id))
        k += 1
def setmig(d, m):
    a = c_uint(); return lib.nvmlDeviceSetMigMode(d, m, byref(a))
lib.nvmlInit_v2()
dc, h100, a100 = dev(os.environ["DC"]), dev(os.environ["H100"]), dev(os.environ["A100"])
n = c_uint(8); pls = (PL * 8)()
r("placements_mig_off", "%d/%d" % (lib.nvmlDeviceGetGpuInstancePossiblePlacements_v2(h100, 19, pls, byref(n)), n.value))
r("setmig", setmig(dc, 1))
if os.geteuid() == 0:
    r("info_mig_off", gip(h100, 0)[0])
    r("info_end_mig_off", gip(h100, 0x12)[0])
    i = GIP(); i.version = 0x1000000
    r("info_bad_version", lib.nvmlDeviceGetGpuInstanceProfileInfoV(h100, 0, byref(i)))
    r("dc_profiles", " ".join(enum(dc)[0]) + " end=%d" % enum(dc)[1])
    setmig(h100, 1)
    r("h100_profiles", " ".join(enum(h100)[0]))
    r("hetero_mig_on", lib.nvmlDeviceGetVgpuHeterogeneousMode(h100, byref(Hetero(0x1000008, 0))))
    gi = c_void_p()
    r("gi_create", lib.nvmlDeviceCreateGpuInstanceWithPlacement(h100, 0, byref(PL(0, 8)), byref(gi)))
    ci = CIP(); ids = []
    for k in range(64):
        rc = lib.nvmlGpuInstanceGetComputeInstanceProfileInfo(gi, k, 0, byref(ci))
        if rc == 2: break
        if rc == 0: ids.append("%d:%d" % (k, ci.id))
    r("ci_profiles", " ".join(ids) + " end=%d" % k)
    r("ci_eng_bad", lib.nvmlGpuInstanceGetComputeInstanceProfileInfo(gi, 4, 1, byref(ci)))
    cis, cnt = (c_void_p * 4)(), c_uint(4)
    r("ci_list_by_index", lib.nvmlGpuInstanceGetComputeInstances(gi, 4, cis, byref(cnt)))
    r("ci_create_by_index", lib.nvmlGpuInstanceCreateComputeInstance(gi, 8, byref(c_void_p())))
    r("ci_create_nvl", lib.nvmlGpuInstanceCreateComputeInstance(gi, 0x28, byref(c_void_p())))
    r("ci_list_nvl", "%d/%d" % (lib.nvmlGpuInstanceGetComputeInstances(gi, 0x28, cis, byref(cnt)), cnt.value))
    r("ci_list_full", "%d/%d" % (lib.nvmlGpuInstanceGetComputeInstances(gi, 0x24, cis, byref(cnt)), cnt.value))
    r("gi_destroy_with_ci", lib.nvmlGpuInstanceDestroy(gi))
    lib.nvmlGpuInstanceGetComputeInstances(gi, 0x28, cis, byref(cnt))
    r("ci_destroy", lib.nvmlComputeInstanceDestroy(c_void_p(cis[0])))
    r("gi_destroy", lib.nvmlGpuInstanceDestroy(gi))
else:
    gis, cnt = (c_void_p * 8)(), c_uint(8)
    r("list_gis", lib.nvmlDeviceGetGpuInstances(h100, 19, gis, byref(cnt)))
    r("gi_by_id", lib.nvmlDeviceGetGpuInstanceById(h100, 1, byref(c_void_p())))
    r("gi_create", lib.nvmlDeviceCreateGpuInstance(h100, 19, byref(c_void_p())))
    r("info_nonroot", gip(h100, 0)[0])
v = c_uint(0); ids = (c_uint * 8)()
cnt = c_uint(8); lib.nvmlDeviceGetActiveVgpus(a100, byref(cnt), ids)
r("vgpus", cnt.value)
buf = ctypes.create_string_buffer(80)
if cnt.value:
    r("uuid_40", lib.nvmlVgpuInstanceGetMdevUUID(ids[0], buf, 40))
    r("uuid_80", "%d/%d" % (lib.nvmlVgpuInstanceGetMdevUUID(ids[0], buf, 80), len(buf.value)))
t = c_uint()
r("type_unknown", lib.nvmlVgpuInstanceGetType(0x7777, byref(t)))
r("type_zero", lib.nvmlVgpuInstanceGetType(0, byref(t)))
r("gi_unknown", lib.nvmlVgpuInstanceGetGpuInstanceId(0x10009, byref(t)))
r("uuid_unknown", lib.nvmlVgpuInstanceGetMdevUUID(0x30009, buf, 80))
lib.nvmlShutdown()
EOF
}
val() { sed -n "s/^$1=//p" <<<"$res"; }

echo "# as root"
res=$(py)
eq "placements with MIG off (header: whatever the mode)" "0/7" "$(val placements_mig_off)"
eq "profile info with MIG off: NOT_SUPPORTED" 3 "$(val info_mig_off)"
eq "profile index 0x12 (past 3_SLICE_GFX): INVALID_ARGUMENT" 2 "$(val info_end_mig_off)"
eq "a bad info->version: INVALID_ARGUMENT (as nvml.h says)" 2 "$(val info_bad_version)"
eq "DC profiles by index until INVALID_ARGUMENT, 3_SLICE_GFX (0x11) last" \
	"0:14 1:5 3:0 7:21 10:47 11:35 12:32 15:65 17:70 end=18" "$(val dc_profiles)"
eq "H100 profiles" "0:19 1:14 2:9 3:5 4:0 7:20 9:15" "$(val h100_profiles)"
eq "heterogeneous mode in MIG mode: NOT_SUPPORTED" 3 "$(val hetero_mig_on)"
eq "7g GPU instance created" 0 "$(val gi_create)"
eq "its CI profiles: index:ID, 7_SLICE (4) and 7_SLICE_NVL (8), end at 9" "4:36 8:40 end=9" "$(val ci_profiles)"
eq "an engine profile past the count: INVALID_ARGUMENT" 2 "$(val ci_eng_bad)"
eq "list CIs by an index, not an ID: INVALID_ARGUMENT" 2 "$(val ci_list_by_index)"
eq "create a CI by an index: INVALID_ARGUMENT" 2 "$(val ci_create_by_index)"
eq "create the 7_SLICE_NVL CI by its ID" 0 "$(val ci_create_nvl)"
eq "it is listed under its profile's ID" "0/1" "$(val ci_list_nvl)"
eq "not under the other profile's" "0/0" "$(val ci_list_full)"
eq "GI destroy with a CI: IN_USE" 19 "$(val gi_destroy_with_ci)"
eq "CI destroy, then GI destroy" "0 0" "$(val ci_destroy) $(val gi_destroy)"
eq "mdev vGPUs listed" 0 "$(val vgpus)"
eq "unknown vGPU instance: NOT_FOUND" 6 "$(val type_unknown)"
eq "vGPU instance 0: INVALID_ARGUMENT" 2 "$(val type_zero)"
eq "unknown vGPU instance (GI id): NOT_FOUND" 6 "$(val gi_unknown)"
eq "unknown vGPU instance (mdev UUID): NOT_FOUND" 6 "$(val uuid_unknown)"

# an mdev vGPU of the A100 in MIG mode, for the UUID buffer
G=$M/.vgpu-sim/gpus/$A100
NV=$M/sys/bus/pci/devices/$A100/sriov_numvfs
echo 0 >"$NV" && echo 1 >"$G/mig_mode" && echo 20 >"$NV"
echo "create 14" >"$G/gis" && echo "ci-create 1" >"$G/gis"
eq "A100: a 2g.10gb instance with its compute instance" "1 14 0 2 1 1" "$(cat "$G/gis")"
VF=$(realpath "$M/sys/bus/pci/devices/$A100/virtfn0")
printf %s "$(newuuid)" >"$VF/mdev_supported_types/nvidia-475/create"
res=$(py)
eq "one mdev vGPU" 1 "$(val vgpus)"
eq "mdev UUID in 40 bytes: INSUFFICIENT_SIZE (NVML_DEVICE_UUID_BUFFER_SIZE is 80)" 7 "$(val uuid_40)"
eq "in 80 bytes: the 36-character UUID" "0/36" "$(val uuid_80)"

echo "# as nobody (setpriv)"
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 755 "$WORK"
	# a copy nobody can load: the build tree may be private (mktemp's 0700, /root)
	cp "$NVML" "$WORK/libnvidia-ml.so.1" && chmod 755 "$WORK/libnvidia-ml.so.1"
	res=$(NVML="$WORK/libnvidia-ml.so.1" py setpriv --reuid=nobody --regid=nogroup --clear-groups)
	eq "placements: NO_PERMISSION" "4/8" "$(val placements_mig_off)"
	eq "set MIG mode: NO_PERMISSION" 4 "$(val setmig)"
	eq "list GPU instances: NO_PERMISSION" 4 "$(val list_gis)"
	eq "GPU instance by id: NO_PERMISSION" 4 "$(val gi_by_id)"
	eq "create a GPU instance: NO_PERMISSION" 4 "$(val gi_create)"
	eq "profile info needs no privilege" 0 "$(val info_nonroot)"
	eq "vGPU queries need none either" 1 "$(val vgpus)"
else
	echo "# skipped: needs root, setpriv and user nobody"
fi

unmount_all
[[ $FG == 1 ]] && check_foreground_exits
echo "# $pass passed, $fail failed"
[[ $fail == 0 ]]
