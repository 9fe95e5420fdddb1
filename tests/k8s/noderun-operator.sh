#!/bin/bash
# The GPU Operator's own DaemonSet for the vGPU Device Manager
# (tests/data/gpu-operator/, our image put in, no variable of ours), applied
# with kubectl and run by tests/k8s/noderun.py on a simulated node (a T4 and an
# A100 under vgpu-sim). The test API server plays the operator's sandbox
# validator on the node's /run/nvidia/validations (its init containers write
# vgpu-manager-ready, its preStop removes every file there).
. "$(dirname "$0")/noderun-lib.sh"
NS=gpu-operator
DSFILE="$VGPUDM_SRCDIR/tests/data/gpu-operator/state-vgpu-device-manager.yaml"
sim_start --gpu T4 --gpu A100
# The validator is not deployed yet: no vgpu-manager-ready on the node.
k8s_start --node "$K8S_NODE" --label "$LABEL_DM=true" --label "$LABEL_PLUGIN=true" \
	--label "$LABEL_VALIDATOR=false" --node-root "$K8S_NODE=$ROOT"
nr_image
# The driver container's files on the node (/run/nvidia/driver): NVML and
# sriov-manage exist only there (the vgpu-sim stand-ins), as the operator's
# driver container leaves them; the pod sees them under /driver-root.
DR="$ROOT/run/nvidia/driver"
mkdir -p "$DR/usr/lib64" "$DR/usr/lib/nvidia"
cp "$VGPU_SIM_NVML" "$DR/usr/lib64/libnvidia-ml.so.1"
cp "$VGPU_SIM_SRIOV_MANAGE" "$DR/usr/lib/nvidia/sriov-manage"

# cm_apply FILE: ConfigMap default-vgpu-devices-config (the operator's default
# name) with FILE as its config.yaml (kubectl create's own POST is protobuf,
# which the test server does not speak: rendered, then applied as JSON).
cm_apply() {
	kctl create configmap default-vgpu-devices-config -n "$NS" --from-file=config.yaml="$1" \
		--dry-run=client -o json >"$T_TMP/cm.json" && kctl apply --validate=false -f "$T_TMP/cm.json"
}
cm_apply "$VGPUDM_SRCDIR/examples/config-mixed.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "ConfigMap default-vgpu-devices-config: examples/config-mixed.yaml"
kctl apply -f "$DSFILE" --validate=false >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply -f the operator's DaemonSet"
NR_AGENT=nvidia-vgpu-device-manager
nr_start "$NS/nvidia-vgpu-device-manager"

# --- the init container waits for the validation file
nr_wait phase "Init:0/1" 30 && pass "the pod starts in its init container" || fail "phase $(nr_status phase)"
sleep 6
expect_eq "$(nr_status phase)" "Init:0/1" "still in the init container without vgpu-manager-ready"
nr_log vgpu-manager-validation | has "waiting for NVIDIA vGPU Manager to be setup" &&
	pass "the init container says it waits" || fail "the init container's output"
k8s_has_label "$K8S_NODE" "$LABEL_STATE" && fail "the agent ran before the gate opened" ||
	pass "no state label yet: the agent has not started"
k8s_label "$K8S_NODE" "$LABEL_VALIDATOR=true"
k8s_wait_until 20 test -e "$VALIDATIONS/vgpu-manager-ready" &&
	pass "the validator wrote vgpu-manager-ready" || fail "no vgpu-manager-ready"

# --- what the shipped DaemonSet passes, under the operator's spec
check_default_and_change
# Under the operator's spec no variable of ours says where the host is: the
# agent must find it at HOST_ROOT_MOUNT (/host) itself, NVML and sriov-manage
# under DRIVER_ROOT_CTR_PATH (issue 16 item 1, branch k8s). Until the agent
# says at start where its journal is, the checks that need that are skipped.
nr_agent_log | grep -m1 -A3 "Starting nvidia-k8s-vgpu-dm" | sed 's/^/# /'
if ! nr_agent_log | grep -m1 -A3 "Starting nvidia-k8s-vgpu-dm" | has -i "journal.*/host/run"; then
	NR_NEEDS="the agent's host paths under HOST_ROOT_MOUNT and NVML/sriov-manage under DRIVER_ROOT_CTR_PATH (issue 16 item 1, branch k8s)"
	echo "# the agent does not log a journal under /host/run: $NR_NEEDS"
fi
check_holder
check_kill9

# --- the trap: the validator's preStop removes vgpu-manager-ready while the
# agent has it paused; the agent's pod dies then (SIGKILL, no SIGTERM: a force
# delete, an eviction, a crash of the pod). The new pod runs its init
# container again: it must get through, and the node must end unpaused.
k8s_fault '{"operands": {"grace": 6}}' # terminating operand pods stay listed 6 s
touch "$VALIDATIONS/vgpu-devices-ready"
cur=$(k8s_get_label "$K8S_NODE" "$LABEL_CONFIG")
if [ "$cur" = compute ]; then next=default types="4 A100-10C,4 T4-4Q"; else next=compute types="8 A100-5C,4 T4-4Q"; fi
old=$(nr_status pod)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=$next"
k8s_wait_until 20 eval '[ ! -e "$VALIDATIONS/vgpu-devices-ready" ]' &&
	pass "the paused validator's preStop ran (rm -f /run/nvidia/validations/*)" ||
	fail "the validator's preStop did not run"
expect_eq "$(state) $(validator)" "pending $PAUSED" "the agent holds the validator paused"
nr_kill_pod
k8s_wait_until 20 eval '[ -n "$(nr_status pod)" ] && [ "$(nr_status pod)" != "$old" ]' &&
	pass "a new pod $(nr_status pod)" || fail "no new pod"
nr_agent_log | has "put .*/host/run/nvidia/validations/vgpu-manager-ready back" &&
	pass "the old agent had put vgpu-manager-ready back at once" ||
	fail "the agent did not put vgpu-manager-ready back"
if nr_wait phase Running 30; then
	pass "the new pod got past its init container"
else
	fail "the new pod is stuck in $(nr_status phase) (files: $(ls "$VALIDATIONS" | tr '\n' ' '))"
fi
k8s_fault '{"operands": {"grace": 0.3}}'
wait_state success 90 "the new pod finished the change"
expect_operands true
expect_types "$types" "label $next applied"
k8s_wait_until 20 test -e "$VALIDATIONS/vgpu-devices-ready" &&
	pass "the validator ran again (vgpu-devices-ready)" || fail "the validator did not come back"

# --- MIG-backed vGPUs with NVML and sriov-manage only under /driver-root
# (the driver container's /run/nvidia/driver on the node)
cm_apply "$VGPUDM_SRCDIR/tests/data/k8s/noderun-mig.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply: the ConfigMap now has a MIG-backed layout"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=A100-1-5C"
if k8s_wait_label "$K8S_NODE" "$LABEL_STATE" success 120; then
	pass "state success (label A100-1-5C, MIG-backed)"
else
	nr_fail_or_skip "label A100-1-5C: state $(state) ($(nr_agent_log | grep -m1 -E 'Refused|ApplyFailed' | cut -c1-200))"
fi
gpu=$(awk '$3 == "A100" {print $2}' "$ROOT/.vgpu-sim/info")
mig="$(cut -d' ' -f1 "$ROOT/.vgpu-sim/gpus/$gpu/mig_mode") $(vgpu_types | paste -sd, -)"
if [ "$mig" = "1 7 A100-1-5C,4 T4-4Q" ]; then
	pass "the A100 in MIG mode with seven A100-1-5C vGPUs, the T4 kept"
else
	nr_fail_or_skip "MIG mode and vGPUs: '$mig', expected '1 7 A100-1-5C,4 T4-4Q'"
fi
start=$(nr_agent_log | grep -m1 "host: .*NVML")
for f in usr/lib64/libnvidia-ml.so.1 usr/lib/nvidia/sriov-manage; do
	has -F "/driver-root/$f" <<<"$start" && pass "the agent found /driver-root/$f" ||
		nr_fail_or_skip "the agent does not say it uses /driver-root/$f (${start:-no start line})"
done

nr_sanitizers
[ "$NR_SKIPS" -gt 0 ] && echo "# $NR_SKIPS check(s) skipped: needs $NR_NEEDS"
finish
