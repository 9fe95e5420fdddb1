#!/bin/bash
# The agent against the test API server and a simulated 2 x T4 host, driven
# with kubectl: no label (default applied), a label change (operands paused,
# then restored), a label naming no config, the label removed (default again).
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
mark=$(k8s_mark)
agent_start

# No label: DEFAULT_VGPU_CONFIG.
wait_state success
expect_types "4 T4-8Q" "no label: the default config is applied"
expect_event "^Normal Applied Node/$K8S_NODE vGPU config default applied" "Event: default applied"
expect_operands true
k8s_requests_since "$mark" | has '"watch":true' && pass "the agent watches the node" ||
	fail "no watch request"
k8s_requests_since "$mark" | grep '"watch":true' | has 'fieldSelector=metadata.name%3Dnode1' &&
	pass "watch uses fieldSelector metadata.name" || fail "watch without fieldSelector"

# A label change: pending + paused, pods gone, applied, restored.
wait_operand_pods
mark=$(k8s_mark)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
expect_event "^Normal Applied Node/$K8S_NODE vGPU config T4-4Q applied: 8 vGPUs created, 4 removed" \
	"Event: T4-4Q applied with counts"
wait_state success
expect_types "8 T4-4Q" "label T4-4Q: applied"
expect_operands true
puts=$(k8s_requests_since "$mark" | grep '"method":"PUT"' | grep "/api/v1/nodes/$K8S_NODE")
echo "$puts" | head -1 | has "\"$LABEL_STATE\":\"pending\"" && pass "first write: pending" ||
	fail "first write is not pending: $(echo "$puts" | head -1 | head -c 300)"
echo "$puts" | head -1 | has "\"$LABEL_PLUGIN\":\"paused-for-vgpu-change\"" &&
	echo "$puts" | head -1 | has "\"$LABEL_VALIDATOR\":\"paused-for-vgpu-change\"" &&
	pass "operands paused with it" || fail "operands not paused"
echo "$puts" | tail -1 | has "\"$LABEL_STATE\":\"success\"" &&
	echo "$puts" | tail -1 | has "\"$LABEL_PLUGIN\":\"true\"" && pass "last write: success, restored" ||
	fail "last write: $(echo "$puts" | tail -1 | head -c 300)"
k8s_requests_since "$mark" | grep '"method":"GET"' | has "pods" && pass "waited for the operand pods" ||
	fail "no pod list"
wait_operand_pods

# A label that names no config: failed, Event, host untouched. The Event
# and the log say which labels it may mean and list the file's, those for
# this host's T4s before the A100 one (the agent scanned the host).
before=$(vgpus)
{ cat "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
  printf '  A100-4C:\n    - devices: all\n      vgpu-devices:\n        A100-4C: 10\n'; } >"$T_TMP/c-a100.yaml"
cm_config "$T_TMP/c-a100.yaml"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-3Q"
wait_state failed
hint="did you mean T4-4Q or T4-2Q\\? [^ ]*config\\.yaml has, for this host.s GPUs: default, T4-4Q, T4-2Q, T4-16Q, none; others: A100-4C\$" # . for ': the regex goes through eval '...'
expect_event "^Warning UnknownConfig Node/$K8S_NODE selected vgpu-config not present: T4-3Q \\(label $LABEL_CONFIG\\), the host was not changed; $hint" \
	"Event: unknown config named, with the labels it may mean and the file's, this host's first"
grep -E "UnknownConfig: selected vgpu-config not present: T4-3Q \\(label $LABEL_CONFIG\\), the host was not changed; $hint" "$AGENT_LOG" >/dev/null &&
	pass "log: the same hint" || fail "log: no hint ($(grep UnknownConfig "$AGENT_LOG" | tail -n 1))"
expect_eq "$(vgpus)" "$before" "unknown config: host untouched"
expect_operands true

# The label removed: the default config again.
k8s_unlabel "$K8S_NODE" "$LABEL_CONFIG"
expect_event "^Normal Applied Node/$K8S_NODE vGPU config default applied: 4 vGPUs created, 8 removed" \
	"Event: label removed, default applied"
wait_state success
expect_types "4 T4-8Q" "label removed: default applied"
expect_operands true

# A restart with the layout in place: success, no write to the host.
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM while idle: exit 0"
sim_reset
agent_start
k8s_wait_event "AlreadyApplied" default 20 && pass "restart: already applied" || fail "no AlreadyApplied"
expect_eq "$(sim_counter write)" 0 "restart: no sysfs write"
agent_stop
agent_check_log
finish
