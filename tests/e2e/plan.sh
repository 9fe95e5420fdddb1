#!/bin/bash
# plan: size vGPUs for a workload on simulated hosts (T4 mdev, an A16 board,
# an L40S on vendor VFIO in equal- and mixed-size mode, a C-only H100),
# `plan | apply -f -` and then `assert`; unmeetable requests and bad options
# with their messages; the table against golden files; --json.
. "$(dirname "$0")/lib.sh"
CFG="$T_TMP/plan.yaml"
GOLDEN="$VGPUDM_SRCDIR/tests/golden"

# plan on the host, piped into apply; both exit codes and plan's stderr kept.
plan_apply() {
	VGPU_DM_SYSFS_ROOT="$ROOT" "$VGPU_DM" plan "$@" 2>"$T_TMP/plan.err" |
		tee "$CFG" | VGPU_DM_SYSFS_ROOT="$ROOT" "$VGPU_DM" apply -f - >"$OUT" 2>"$ERR"
	local st=("${PIPESTATUS[@]}")
	PLAN_RC=${st[0]}
	RC=${st[2]}
	check_sanitizers "plan | apply"
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T_TMP/plan.err"; then
		fail "plan $*: sanitizer report"
	fi
}
golden() { # golden FILE NAME: compare with tests/golden/NAME
	if [ "${VGPUDM_UPDATE_GOLDEN:-}" = 1 ]; then cp "$1" "$GOLDEN/$2"; fi
	if diff -u "$GOLDEN/$2" "$1"; then pass "table matches $2"; else fail "table differs from $2"; fi
}
restart() {
	fusermount3 -u "$ROOT"
	sim_start "$@"
}

# ---- two T4s (mdev): the guide's (1 x 8Q) + (4 x 2Q) on two GPUs ----
sim_start --gpu T4 --gpu T4
plan_apply --vms 1 --memory 8 --vms 4 --memory 2
expect_eq "$PLAN_RC/$RC" "0/0" "T4 x2: plan | apply"
dm assert -f "$CFG"
expect_rc 0 "T4 x2: the planned layout asserts"
expect_eq "$(vgpu_types | tr '\n' ' ')" "4 T4-2Q 1 T4-8Q " "1 x T4-8Q and 4 x T4-2Q on the host"
expect_eq "$(grep -c 'devices: \[' "$CFG")" 2 "one entry per GPU: the GPUs differ"
golden "$T_TMP/plan.err" plan-host-t4x2.txt
dm plan --vms 4 --memory 2
expect_rc 0 "T4 x2: 4 x 2Q"
expect_out "^      T4-2Q: 4$" "4 x T4-2Q"
expect_out "^    devices: \[0\]$" "one of the two T4s used: an entry for it alone"
dm plan --vms 5 --memory 8
expect_rc 1 "T4 x2: 5 x 8Q is too many"
expect_err "FATA.*plan: 5 x 8 GB vGPUs needs 3 x T4; this host has 2$" "says exactly what is short"
expect_eq "$(wc -c <"$OUT")" 0 "no config printed when short"
dm plan --vms 2 --memory 4 --use desktop
expect_rc 1 "T4: no 4 GB B-series type"
expect_err "no B-series type of 4 GB or more \(largest 2 GB\)" "names the largest B size"
dm plan --vms 2 --memory 4 --mixed-size --vms 1 --memory 16
expect_rc 0 "T4 x2: --mixed-size on GPUs without it still spreads sizes"
expect_out "T4-16Q: 1" "16Q on one GPU"

# ---- an A16 board (4 GPUs, SR-IOV, mdev on VFs): fill with 4 GB workstation vGPUs ----
restart --gpu A16
plan_apply --fill --memory 4 --use workstation
expect_eq "$PLAN_RC/$RC" "0/0" "A16: plan --fill | apply"
expect_eq "$(vgpu_types | tr '\n' ' ')" "16 A16-4Q " "A16: 4 x 4Q on each of its 4 GPUs"
expect_eq "$(grep -c 'devices: all' "$CFG")" 1 "A16: one entry for the four GPUs"
dm assert -f "$CFG"
expect_rc 0 "A16: asserts"

# ---- L40S, vendor VFIO, equal-size mode ----
restart --gpu L40S:vfio
dm plan --vms 12 --memory 8 --cuda
expect_rc 1 "L40S: 12 x 8 GB for CUDA does not fit one L40S"
expect_err "plan: 12 x 8 GB C-series needs 2 x L40S; this host has 1$" "the issue's message"
expect_err "L40S-8Q .*C-series not listed by this host's driver \(C-series comes with NVIDIA AI Enterprise's host driver\); Q runs CUDA too" \
	"C not offered by the driver: Q, and why"
plan_apply --vms 6 --memory 8 --cuda
expect_eq "$PLAN_RC/$RC" "0/0" "L40S: 6 x 8 GB for CUDA"
dm assert -f "$CFG"
expect_rc 0 "L40S: asserts"
n=$(grep -lvx 0 "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | wc -l)
expect_eq "$n" 6 "six VFs hold a vGPU"
dm plan --vms 1 --memory 8 --vms 4 --memory 2
expect_rc 1 "L40S in equal-size mode: two sizes need two GPUs"
expect_err "4 x 2 GB vGPUs needs 1 x L40S; this host has 1, 1 of them used by the other vGPUs" \
	"says the one GPU is taken by the other size"

# ---- L40S, vendor VFIO, mixed-size mode (NVML says so) ----
restart --gpu L40S:vfio --mixed-size
export VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT"
plan_apply --vms 1 --memory 8 --vms 4 --memory 2
expect_eq "$PLAN_RC/$RC" "0/0" "L40S mixed-size: both sizes on one GPU"
expect_eq "$(grep -c 'L40S-8Q: 1\|L40S-2Q: 4' "$CFG")" 2 "8Q and 2Q in one entry"
grep -q "mixed-size mode" "$T_TMP/plan.err" && pass "the table says mixed-size mode" ||
	fail "table lacks mixed-size mode"
dm assert -f "$CFG"
expect_rc 0 "L40S mixed: asserts"
unset VGPU_DM_NVML_LIBRARY VGPU_SIM_ROOT

# ---- H100 (C-only) ----
restart --gpu H100
plan_apply --vms 4 --memory 10
expect_eq "$PLAN_RC/$RC" "0/0" "H100: 4 x 10 GB"
expect_eq "$(vgpu_types | tr '\n' ' ')" "4 H100-10C " "C-only GPU gets C types"
grep -q "C-only GPU" "$T_TMP/plan.err" && pass "the table says C-only" || fail "table lacks C-only"
grep -q "NVIDIA AI Enterprise" "$T_TMP/plan.err" && pass "C needs NVIDIA AI Enterprise" ||
	fail "licence missing"
dm assert -f "$CFG"
expect_rc 0 "H100: asserts"
dm plan --vms 2 --use workstation
expect_rc 1 "H100: no Q-series"
expect_err "H100: C-only GPU: offers no Q-series type" "C-only refusal"
# --mig: the catalogue has the H100's MIG-backed types; apply makes the GPU
# instances itself through NVML (the simulator's stand-in).
export VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_SIM_ROOT="$ROOT" VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE"
plan_apply --vms 2 --memory 10 --mig
expect_eq "$PLAN_RC/$RC" "0/0" "H100 --mig: planned, and applied with its GPU instances"
expect_eq "$(vgpu_types | tr '\n' ' ')" "2 H100-1-10C " "two MIG-backed vGPUs"
dm assert -f "$CFG"
expect_rc 0 "H100 --mig: asserts"
unset VGPU_DM_NVML_LIBRARY VGPU_SIM_ROOT VGPU_DM_SRIOV_MANAGE
restart --gpu H100 # MIG mode off again (without NVML nothing can turn it off)

# ---- --json: the table and the config; the config applies ----
dm plan --vms 2 --memory 20 --json
expect_rc 0 "--json"
python3 - "$OUT" >"$T_TMP/cfg.json" <<'PY' && pass "--json: table and config" || fail "--json"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["met"] and o["label"] == "H100-20C", o
g = o["gpus"][0]
assert g["source"] == "host" and g["address"] and g["vgpus"][0]["count"] == 2, g
assert g["vgpus"][0]["licence"] == "NVIDIA AI Enterprise", g
print(json.dumps(o["config"]))
PY
dm apply -f "$T_TMP/cfg.json"
expect_rc 0 "--json's config applies"
dm assert -f "$T_TMP/cfg.json"
expect_rc 0 "and asserts"

# ---- a VM holds a vGPU: plan keeps it, so plan | apply never meets the in-use refusal ----
restart --gpu T4 --gpu T4
cat >"$T_TMP/four.yaml" <<'YAML'
version: v1
vgpu-configs:
  four:
  - devices: all
    vgpu-devices:
      T4-4Q: 4
YAML
dm apply -f "$T_TMP/four.yaml" -c four
expect_rc 0 "set-up: 4 x T4-4Q on each T4"
held=$(ls "$ROOT/sys/bus/mdev/devices" | head -1)
held_gpu=$(basename "$(readlink -f "$ROOT/sys/bus/mdev/devices/$held/..")")
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
# a "VM": QEMU's -name guest=<domain> names it, the VFIO group is held
bash -c 'exec -a qemu-system-x86_64 python3 -c "import time; time.sleep(300)" "$@"' qemu \
	-name guest=win10,debug-threads=on 3<>"$ROOT/dev/vfio/$group" &
HOLDER=$!
trap 'in_main_shell && { kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null; cleanup; }' EXIT
# until it runs as the "VM" (before its exec it is a copy of this shell)
for _ in $(seq 100); do grep -qa "guest=win10" "$ROOT/proc/$HOLDER/cmdline" 2>/dev/null && break; sleep 0.1; done
# C-series on a T4 starts at 4C: 8 of them need both GPUs, and one holds a Q
dm plan --vms 8 --cuda
expect_rc 1 "T4 x2, a 4Q held: 8 CUDA vGPUs do not fit beside it"
expect_err "plan: 8 C-series vGPUs need 2 x T4; this host has 2, 1 of them with vGPUs a VM holds \(kept\)$" \
	"says a GPU is taken by what a VM holds"
expect_err "keeps 1 x T4-4Q that VM win10 \(pid $HOLDER\) holds \(apply never removes a vGPU in use\)" \
	"the table names the VM"
expect_eq "$(wc -c <"$OUT")" 0 "no config printed"
plan_apply --vms 8 --memory 2
expect_eq "$PLAN_RC/$RC" "0/0" "8 x 2 GB beside the held 4Q: plan | apply"
expect_eq "$(vgpu_types | tr '\n' ' ')" "8 T4-2Q 1 T4-4Q " "8 x T4-2Q on the free GPU, the held 4Q kept"
[ -e "$ROOT/sys/bus/mdev/devices/$held" ] && pass "the held vGPU keeps its UUID" || fail "the held vGPU is gone"
grep -q "T4-4Q: 1" "$CFG" && pass "the config keeps it" || fail "the config lacks the held vGPU"
plan_apply --vms 3 --memory 4
expect_eq "$PLAN_RC/$RC" "0/0" "3 x 4 GB: packed beside the held one"
expect_eq "$(vgpu_types | tr '\n' ' ')" "8 T4-2Q 4 T4-4Q " "3 new T4-4Q join the held one on its GPU; the GPU not needed is left alone"
expect_eq "$(basename "$(readlink -f "$ROOT/sys/bus/mdev/devices/$held/..")")" "$held_gpu" "still on its GPU"
dm plan --vms 2 --memory 4 --json
python3 - "$OUT" <<'PY' && pass "--json: held count" || fail "--json: held count"
import json, sys
o = json.load(open(sys.argv[1]))
v = [x for g in o["gpus"] for x in g["vgpus"]]
assert v == [dict(v[0], type="T4-4Q", count=3, held=1)], v
PY
kill $HOLDER; wait $HOLDER 2>/dev/null

# ---- offline (--gpu): types only one host driver lists ----
dm plan --gpu L40S --vms 6 --memory 8 --cuda
expect_rc 0 "offline L40S, CUDA: the catalogue's C-series"
expect_out "L40S-8C: 6" "L40S-8C from the catalogue"
expect_err "^driver: L40S-8C: listed by NVIDIA AI Enterprise's host driver, not by the NVIDIA vGPU \(graphics\) host driver; with that driver: 6 x L40S-8Q$" \
	"says it depends on the host driver, and what the other driver gets"
expect_err "^otherwise: .*nvidia-vgpu-dm plan --gpu L40S --vms 6 --memory 8 --cuda --host-driver vgpu$" \
	"the command for the other driver"
dm plan --gpu L40S --vms 6 --memory 8 --cuda --host-driver vgpu
expect_rc 0 "--host-driver vgpu"
expect_out "L40S-8Q: 6" "Q: the graphics driver's"
expect_err "C-series not listed by the NVIDIA vGPU host driver; Q runs CUDA too" "and why"
dm plan --gpu L40S --vms 2 --use compute --host-driver vgpu
expect_rc 1 "--use compute on the graphics driver"
expect_err "plan: .*L40S: the NVIDIA vGPU host driver lists no C-series type" "says the driver lacks C"
dm plan --gpu L40S --vms 2 --profile L40S-8C --host-driver vgpu
expect_rc 1 "--profile L40S-8C on the graphics driver"
expect_err "the NVIDIA vGPU host driver does not list L40S-8C" "says so"
dm plan --gpu L40S --vms 6 --memory 8 --cuda --host-driver ai-enterprise
expect_rc 0 "--host-driver ai-enterprise"
if grep -q "^driver:\|^otherwise:" "$ERR"; then fail "ai-enterprise: no flag expected"; else pass "ai-enterprise: no flag"; fi
dm plan --gpu T4 --vms 2 --cuda
if grep -q "^driver:" "$ERR"; then fail "T4-C flagged"; else pass "the T4's C-series is not flagged"; fi
dm plan --gpu L40S --vms 6 --memory 8 --cuda --json
python3 - "$OUT" <<'PY' && pass "--json: host_driver" || fail "--json: host_driver"
import json, sys
o = json.load(open(sys.argv[1]))
h = o["host_driver"]
assert h["dependent"] == "L40S-8C" and h["alternative"] == "6 x L40S-8Q", h
assert h["otherwise"].endswith("plan --gpu L40S --vms 6 --memory 8 --cuda --json --host-driver vgpu"), h
assert o["gpus"][0]["vgpus"][0]["driver_dependent"] is True
PY
dm plan --vms 1 --host-driver vgpu
expect_rc 1 "--host-driver on a host"
expect_err "is for --gpu" "says it is for --gpu"
dm plan --gpu L40S --vms 1 --host-driver grid
expect_rc 1 "bad --host-driver"
expect_err "plan: --host-driver \"grid\": expected vgpu or ai-enterprise" "named"

# ---- offline (--gpu) and bad options ----
dm plan --gpu T4x2 --vms 1 --memory 8 --vms 4 --memory 2
expect_rc 0 "offline: --gpu T4x2"
golden "$ERR" plan-offline-t4x2.txt
dm plan --gpu T5 --vms 1
expect_rc 1 "unknown model"
expect_err "plan: unknown GPU model \"T5\"; the catalogue knows: T4 V100" "unknown model named"
dm plan --gpu T4 --vms many
expect_rc 1 "bad --vms"
expect_err "plan: --vms \"many\": expected a number of VMs" "bad --vms named"
dm plan --gpu T4 --vms 1 --memory -2
expect_rc 1 "bad --memory"
# Numbers past the int range are refused, never wrapped (atoi made x4294967297 one GPU).
for g in L40Sx4294967297 4294967297xL40S L40Sx18446744073709551617 L40Sx0 L40Sx65; do
	dm plan --gpu "$g" --vms 1
	expect_rc 1 "--gpu $g refused"
	expect_err "plan: --gpu \"$g\": the count must be 1 to 64" "--gpu $g: the count named"
done
for v in 4294967297 9223372036854775808 100001 0 -1 +1 " 1" 1x; do
	dm plan --gpu T4 --vms "$v"
	expect_rc 1 "--vms '$v' refused"
done
dm apply -f "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml" -c default --lock-timeout 4294967297 --dry-run
expect_rc 1 "--lock-timeout past the range refused"
dm doctor --cuda 4294967308
expect_rc 2 "--cuda 4294967308 (12 + 2^32) refused, not taken for CUDA 12"
dm plan --gpu T4 --vms 1 --series X
expect_rc 1 "bad --series"
expect_err "expected C, Q, A or B" "bad --series named"
dm plan --gpu T4 --vms 1 --use workstation --series C
expect_rc 1 "--use and --series disagree"
dm plan --gpu T4 --fill --vms 2 --memory 2
expect_rc 1 "--fill with --vms"
dm plan --gpu T4 --vms 1 --vms 2 --memory 1 --memory 2 --memory 4
expect_rc 1 "three --memory for two groups"
expect_err "plan: 2 --vms for 3 groups of VMs" "groups mismatch named"
dm plan --gpu T4 --vms 1 --cuda --use desktop
expect_rc 1 "--cuda with B-series"
expect_err "B-series vGPUs do not run CUDA" "CUDA needs C or Q"
dm plan --gpu T4 --fill
expect_rc 1 "--fill without a size"
dm plan --gpu T4 --vms 2 --profile 8Q --label my-t4
expect_rc 0 "--profile by suffix, --label"
expect_out "^  my-t4:$" "the label"
expect_out "T4-8Q: 2" "the pinned type"

finish
