#!/bin/bash
# The agent follows the mounted ConfigMap: a ..data swap that changes the
# selected layout is applied, one that changes only other layouts is not, an
# unparseable file gives failed + an Event with file:line:col and leaves the
# host alone; fixing it brings success back.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
CFG="$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
cm_config "$CFG"
agent_start
expect_event "^Normal Applied Node/$K8S_NODE vGPU config default applied" "default applied"
wait_state success
expect_types "4 T4-8Q" "start: default (2 x T4-8Q per GPU)"

# The selected layout (default) changes in the ConfigMap: applied.
sed 's/T4-8Q: 2/T4-16Q: 1/' "$CFG" >"$T_TMP/c2.yaml"
cm_config "$T_TMP/c2.yaml"
expect_event "^Normal Applied Node/$K8S_NODE vGPU config default applied: 2 vGPUs created, 4 removed" \
	"..data swap changing the selected layout: re-applied"
wait_state success
expect_types "2 T4-16Q" "host has the new default"

# Only another layout changes: nothing to do, no write to the host.
sim_reset
n_events=$(k8s_events | wc -l)
sed 's/T4-4Q: 4/T4-4Q: 3/' "$T_TMP/c2.yaml" >"$T_TMP/c3.yaml"
grep -c . "$AGENT_LOG" >"$T_TMP/loglen"
cm_config "$T_TMP/c3.yaml"
k8s_wait_until 20 eval 'tail -n +$(cat "$T_TMP/loglen") "$AGENT_LOG" | has "vGPU config default unchanged and applied: nothing to do"' &&
	pass "unrelated edit seen and found not to matter" || fail "agent did not look at the edit"
expect_eq "$(k8s_events | wc -l)" "$n_events" "unrelated edit: no Event"
expect_eq "$(sim_counter write)" 0 "unrelated edit: no sysfs write"
expect_eq "$(state)" success "unrelated edit: still success"

# An unparseable file: failed, Event with file:line:col, host untouched.
printf 'version: v1\nvgpu-configs:\n  default:\n    - devices: all\n      vgpu-devices:\n        T4-8Q: [2\n' \
	>"$T_TMP/bad.yaml"
cm_config "$T_TMP/bad.yaml"
expect_event "^Warning InvalidConfig Node/$K8S_NODE error parsing config file $CM/config.yaml: $CM/config.yaml:[0-9]+:[0-9]+: " \
	"Event names file:line:col"
wait_state failed
expect_eq "$(sim_counter write)" 0 "invalid file: no sysfs write"
expect_types "2 T4-16Q" "invalid file: host untouched"
expect_operands true

# Fixed again: back to success without touching the host.
cm_config "$T_TMP/c3.yaml"
expect_event "^Normal AlreadyApplied Node/$K8S_NODE vGPU config default is already applied" \
	"fixed file: already applied"
wait_state success
expect_eq "$(sim_counter write)" 0 "fixed file: no sysfs write"

# A plain in-place edit of the file (no ConfigMap) is followed too.
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"
cp "$T_TMP/c3.yaml" "$T_TMP/plain.yaml"
agent_start CONFIG_FILE="$T_TMP/plain.yaml"
wait_state success
sed -i 's/T4-16Q: 1/T4-2Q: 8/' "$T_TMP/plain.yaml"
expect_event "vGPU config default applied: 16 vGPUs created, 2 removed" "plain file edit applied"
expect_types "16 T4-2Q" "host follows the edited file"
agent_stop
agent_check_log
finish
