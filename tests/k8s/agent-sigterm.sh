#!/bin/bash
# SIGTERM (pod deletion): the running apply finishes or rolls back, operand
# labels are restored, the process exits 0; the state is never left pending.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
agent_start
expect_event "vGPU config default applied" "default applied"
wait_state success

# SIGTERM while waiting for the operand pods to go (they take 3 s).
k8s_fault '{"operands": {"delete_delay": 3}}'
before=$(vgpus)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
wait_state pending
expect_eq "$(plugin) $(validator)" "$PAUSED $PAUSED" "operands paused while waiting"
agent_stop TERM
expect_eq "$AGENT_RC" 0 "SIGTERM during the pod wait: exit 0"
expect_eq "$(state)" failed "state failed, not pending"
expect_operands true
expect_event "^Warning Interrupted Node/$K8S_NODE stopped before applying vGPU config T4-4Q" "Event: interrupted"
expect_eq "$(vgpus)" "$before" "host untouched"
k8s_fault '{"operands": {"delete_delay": 0.2}}'
agent_start
expect_event "vGPU config T4-4Q applied" "restart applies the label"
wait_state success
expect_operands true

# SIGTERM at several moments of a change: exit 0, labels restored, host one
# layout or the other, never pending.
settled() { [ "$(state)" = success ] && [ "$(vgpu_types | paste -sd, -)" = "$1" ]; }
target=default types="4 T4-8Q"
for d in 0.05 0.2 0.4 0.55 0.7 0.9 1.2; do
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=$target"
	sleep "$d"
	agent_stop TERM
	expect_eq "$AGENT_RC" 0 "SIGTERM after ${d}s: exit 0"
	s=$(state)
	[ "$s" = success ] || [ "$s" = failed ] && pass "SIGTERM after ${d}s: state $s" ||
		fail "SIGTERM after ${d}s: state '$s'"
	expect_operands true
	t=$(vgpu_types | paste -sd, -)
	[ "$t" = "4 T4-8Q" ] || [ "$t" = "8 T4-4Q" ] && pass "host is one layout ($t)" || fail "half-applied host: $t"
	[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "no journal" || fail "journal left"
	agent_start
	k8s_wait_until 30 settled "$types" && pass "restart: success, $target applied" ||
		fail "restart: $(state), $(vgpu_types | paste -sd, -)"
	if [ "$target" = default ]; then target=T4-4Q types="8 T4-4Q"; else target=default types="4 T4-8Q"; fi
done
agent_stop
agent_check_log
finish
