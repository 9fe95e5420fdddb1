#!/bin/bash
# What the host refuses or fails: a vGPU a VM holds (failed, an Event naming
# the vGPU and the process, retried until the VM is gone), and a create the
# driver fails (rolled back, failed, retried, then success).
. "$(dirname "$0")/agent-lib.sh"
AGENT_ENV+=(VGPU_DM_RETRY_BACKOFF=1)
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
HOLDER=""
trap '[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; agent_cleanup' EXIT
agent_start
expect_event "vGPU config default applied" "default applied"
wait_state success

# A "VM" holds a vGPU of GPU 0 through its VFIO group.
gpu0=$(ls "$ROOT/sys/class/mdev_bus" | sort | head -1)
held=$(vgpus | awk -v g="$gpu0" '$3 == g {print $1}' | tail -1)
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
sleep 300 3<>"$ROOT/dev/vfio/$group" &
HOLDER=$!
# until it runs as sleep (before its exec it is a copy of this shell)
for _ in $(seq 100); do grep -qa "^sleep" "$ROOT/proc/$HOLDER/cmdline" 2>/dev/null && break; sleep 0.1; done
before=$(vgpus)
mark=$(k8s_mark)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
expect_event "^Warning VGPUInUse Node/$K8S_NODE vGPU config T4-4Q: .*vGPU $held \(T4-8Q\) on $gpu0 is in use by pid $HOLDER \(sleep 300\)" \
	"Event names the vGPU and the process"
wait_state failed
expect_eq "$(vgpus)" "$before" "in use: host unchanged"
k8s_requests_since "$mark" | grep "\"method\":\"PUT\"" | has paused-for-vgpu-change && fail "operands paused for a refused layout" || pass "refused before pausing the operands"
expect_operands true
# Retried while it fails; once the VM is gone the retry applies.
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
HOLDER=""
expect_event "^Normal Applied Node/$K8S_NODE vGPU config T4-4Q applied" "retry after the VM left: applied"
wait_state success
expect_types "8 T4-4Q" "host has T4-4Q"
expect_operands true

# The driver fails a create: rolled back, failed, retried, success.
before=$(vgpus)
echo "create 3 EIO" >"$ROOT/.vgpu-sim/faults"
mark=$(k8s_mark)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-2Q"
expect_event "^Warning ApplyFailed Node/$K8S_NODE vGPU config T4-2Q: .*" "Event: apply failed"
k8s_events | grep "ApplyFailed" | has -E "restored|rolled back|previous state" &&
	pass "the Event says the host was restored" || fail "no rollback in: $(k8s_events | grep ApplyFailed)"
expect_event "^Normal Applied Node/$K8S_NODE vGPU config T4-2Q applied" "retried: applied"
wait_state success
expect_types "16 T4-2Q" "host has T4-2Q"
states=$(k8s_requests_since "$mark" | grep '"method":"PUT"' | grep "/api/v1/nodes/$K8S_NODE" |
	grep -o "\"$LABEL_STATE\":\"[a-z]*\"" | cut -d'"' -f4 | uniq | paste -sd' ')
expect_eq "$states" "pending failed pending success" "state went pending, failed, pending, success"
expect_operands true
agent_stop
agent_check_log
finish
