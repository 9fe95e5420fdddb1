#!/bin/bash
# kill -9 at any moment, then a restart: the operand labels are restored and
# the layout ends applied (success) or reported (failed), never pending.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"

# A dead agent's leftovers: pending, both operands paused, and an apply that
# died midway (its journal, and two vGPUs already removed).
agent_start
expect_event "vGPU config default applied" "default applied"
wait_state success
agent_stop KILL
before=$(vgpus)
write_dead_journal
for u in $(vgpus | awk '{print $1}' | head -2); do echo 1 >"$ROOT/sys/bus/mdev/devices/$u/remove"; done
k8s_label "$K8S_NODE" "$LABEL_STATE=pending" "$LABEL_PLUGIN=$PAUSED" "$LABEL_VALIDATOR=$PAUSED" \
	"$LABEL_CONFIG=T4-4Q"
agent_start
expect_event "^Normal Applied Node/$K8S_NODE vGPU config T4-4Q applied" "restart after a dead apply: applied"
wait_state success
expect_operands true
expect_types "8 T4-4Q" "host has the label's layout"
[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "journal gone" || fail "journal left"
grep -q "journal was restored first" "$AGENT_LOG" && pass "the dead apply was undone first" ||
	fail "no journal recovery in the log"

# Paused labels left by a dead agent on a host that already matches:
# restored at start (upstream leaves them paused on this path).
agent_stop KILL
k8s_label "$K8S_NODE" "$LABEL_STATE=pending" "$LABEL_PLUGIN=$PAUSED" "$LABEL_VALIDATOR=$PAUSED"
agent_start
expect_event "AlreadyApplied Node/$K8S_NODE vGPU config T4-4Q is already applied" "already applied"
wait_state success
expect_operands true

# kill -9 at several moments of a label change: before the first write,
# while the operand pods go, around the apply.
settled() { # settled LAYOUT TYPES
	[ "$(state)" = success ] && [ "$(plugin) $(validator)" = "true true" ] &&
		[ "$(vgpu_types | paste -sd, -)" = "$1" ]
}
target=default types="4 T4-8Q"
for d in 0 0.1 0.25 0.4 0.6 0.8 1.0 1.5; do
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=$target"
	sleep "$d"
	agent_stop KILL
	s=$(state)
	[ "$s" = pending ] && echo "# killed after ${d}s while pending"
	agent_start
	if k8s_wait_until 30 settled "$types"; then
		pass "kill -9 after ${d}s, restart: success, operands true, $target applied"
	else
		fail "kill -9 after ${d}s: state $(state), operands $(plugin)/$(validator), host $(vgpu_types | paste -sd, -)"
	fi
	[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "no journal left" || fail "journal left"
	if [ "$target" = default ]; then target=T4-4Q types="8 T4-4Q"; else target=default types="4 T4-8Q"; fi
done
agent_stop
agent_check_log
finish
