#!/bin/bash
# One frame-buffer size per GPU, on both frameworks, and the hints that go
# with refusals: the plan refuses what the driver would refuse, before any
# write; mixed-size mode (NVML) allows mixing; MIG-backed types on mdev get
# the MIG hint; a failed remove is explained as a remove.
. "$(dirname "$0")/lib.sh"
CFG="$T_TMP/c.yaml"
cfg() { printf 'version: v1\nvgpu-configs:\n  x:\n    - devices: all\n      vgpu-devices:\n' >"$CFG"
	for tc in "$@"; do printf '        %s\n' "$tc" >>"$CFG"; done; }

# An A10 (SR-IOV, mdev on its VFs): 4Q and 6Q together need mixed-size mode.
sim_start --gpu A10
pf=$(awk '$3 == "A10" {print $2}' "$ROOT/.vgpu-sim/info")
cfg "A10-4Q: 3" "A10-6Q: 2"
sim_reset
dm apply -f "$CFG" --dry-run
expect_rc 1 "A10 on mdev: mixed sizes refused by --dry-run"
expect_err "GPU 0 \($pf\): the config mixes vGPU sizes \(A10-4Q and A10-6Q\), which needs the GPU in mixed-size mode, and it is not known to be in it" "the same message as on vendor VFIO"
dm apply -f "$CFG"
expect_rc 1 "A10 on mdev: mixed sizes refused by apply"
expect_err "mixes vGPU sizes" "apply says why"
expect_eq "$(sim_counter write)" 0 "zero writes"
expect_eq "$(vgpus | wc -l)" 0 "no vGPU made"
# The same size in two series needs no mode.
cfg "A10-4Q: 3" "A10-4A: 2"
dm apply -f "$CFG"
expect_rc 0 "A10: 4Q and 4A together"
expect_eq "$(vgpu_types | xargs)" "2 A10-4A 3 A10-4Q" "five 4 GB vGPUs"
cfg "A10-4Q: 3" "A10-6Q: 2"
# Equal-size mode known from the driver's lists once a vGPU exists.
dm apply -f "$CFG"
expect_rc 1 "refused next to existing vGPUs"
expect_err "mixes vGPU sizes \(A10-4Q and A10-6Q\), which needs the GPU in mixed-size mode, and it is in equal-size mode" "mode read from the VFs"
fusermount3 -u "$ROOT"

# In mixed-size mode (NVML says so) the layout is planned and applied.
sim_start --gpu A10 --mixed-size
cfg "A10-4Q: 3" "A10-6Q: 2"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT" dm apply -f "$CFG"
expect_rc 0 "A10 in mixed-size mode: mixed sizes applied"
expect_eq "$(vgpu_types | xargs)" "3 A10-4Q 2 A10-6Q" "3 x 4Q and 2 x 6Q"
fusermount3 -u "$ROOT"

# Before Ampere (T4, V100): one size per GPU, any series.
sim_start --gpu V100 --gpu T4
cfg "V100-8Q: 1" "V100-8A: 1"
printf '    - devices: [1]\n      vgpu-devices:\n        T4-8Q: 1\n        T4-8C: 1\n' >>"$CFG"
sed -i 's/devices: all/devices: [0]/' "$CFG"
dm apply -f "$CFG"
expect_rc 0 "V100-8Q with V100-8A, T4-8Q with T4-8C"
expect_eq "$(vgpu_types | xargs)" "1 T4-8C 1 T4-8Q 1 V100-8A 1 V100-8Q" "both GPUs hold two series"
t4=$(awk '$3 == "T4" {print $2}' "$ROOT/.vgpu-sim/info")
cfg "T4-8Q: 1" "T4-4Q: 2"
sed -i 's/devices: all/devices: [1]/' "$CFG"
sim_reset
dm apply -f "$CFG"
expect_rc 1 "T4: two sizes refused"
expect_err "GPU 1 \($t4\): the config mixes vGPU sizes \(T4-4Q and T4-8Q\); this GPU has no mixed-size mode" "pre-Ampere rule named"
expect_eq "$(sim_counter write)" 0 "T4 mix: zero writes"

# A failed remove is explained as a remove, not as "no room".
cfg "T4-16Q: 1"
sed -i 's/devices: all/devices: [1]/' "$CFG"
echo "remove 1 EIO" >"$ROOT/.vgpu-sim/faults"
dm apply -f "$CFG"
expect_rc 1 "a remove the driver refuses"
expect_err "removing T4-8[QC] vGPU .* failed: Input/output error \(the driver refused to destroy it: a VM may still hold it" "remove hint"
if grep -q "no room" "$ERR"; then fail "remove failure blamed on room"; else pass "no create hint on a remove"; fi
echo clear >"$ROOT/.vgpu-sim/faults"
fusermount3 -u "$ROOT"

# MIG-backed types on an A100 under mdev: the MIG hint, as on vendor VFIO.
sim_start --gpu A100
cfg "A100-1-5C: 7"
dm apply -f "$CFG"
expect_rc 1 "A100-1-5C without MIG mode"
# (the driver lists the type; without NVML vgpu-dm cannot make the GPU instances)
expect_err "GPU 0 .*: MIG-backed vGPU types need MIG mode and GPU instances, which vgpu-dm manages through NVML, and NVML is not available" "MIG hint on mdev"
# Another model's MIG type is simply not supported.
cfg "H100-1-10C: 1"
dm apply -f "$CFG"
expect_err "vGPU type H100-1-10C is not supported on GPU 0" "another model's MIG type: not supported"
finish
