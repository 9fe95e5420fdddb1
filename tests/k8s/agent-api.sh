#!/bin/bash
# The API server misbehaves: watches dropped or closed, 410 Gone (as a status
# and as an ERROR event), 409 Conflict on writes, 500s, the server down for a
# while (also in the middle of a change), the service-account token rotated.
# After each, a label change made with kubectl is still applied.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
agent_start --incluster
expect_event "vGPU config default applied" "in-cluster config: default applied"
wait_state success
target=T4-4Q types="8 T4-4Q"
# change: label the node with the next layout and wait until it is applied.
change() { # change WHAT
	local n
	n=$(count_events "vGPU config $target applied")
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=$target"
	if k8s_wait_until 40 eval '[ "$(count_events "vGPU config $target applied")" -gt "$n" ] &&
		[ "$(state)" = success ] && [ "$(vgpu_types | paste -sd, -)" = "$types" ]'; then
		pass "$1: $target applied"
	else
		fail "$1: $target not applied (state $(state), host $(vgpu_types | paste -sd, -))"
	fi
	expect_operands true
	if [ "$target" = default ]; then target=T4-4Q types="8 T4-4Q"; else target=default types="4 T4-8Q"; fi
}
watches_since() { k8s_requests_since "$1" | grep '"watch":true' | grep -c "/api/v1/nodes"; }
lists_since() {
	k8s_requests_since "$1" | grep '"method":"GET"' | grep '"path":"/api/v1/nodes"' |
		grep -vc '"watch":true'
}
# wait_rewatch MARK: the agent opened a new node watch after MARK.
wait_rewatch() { k8s_wait_until 20 eval '[ "$(watches_since '"$1"')" -ge 1 ]'; }

m=$(k8s_mark)
k8s_fault '{"drop_watches": true}'
wait_rewatch "$m" && pass "dropped watch: watched again" || fail "no new watch after a drop"
expect_eq "$(lists_since "$m")" 0 "dropped watch: no re-list (resourceVersion kept)"
change "after a dropped watch"

m=$(k8s_mark)
k8s_fault '{"close_watches": true}'
wait_rewatch "$m" && pass "closed watch: watched again" || fail "no new watch after a close"
change "after a closed watch"

m=$(k8s_mark)
k8s_fault '{"expire_watches": true}'
k8s_wait_until 20 eval '[ "$(lists_since '"$m"')" -ge 1 ]' && pass "ERROR 410 event: listed again" ||
	fail "no re-list after an ERROR event"
change "after an ERROR event"

m=$(k8s_mark)
k8s_fault '{"gone_next_watch": {"count": 1, "mode": "status"}, "drop_watches": true}'
k8s_wait_until 20 eval '[ "$(lists_since '"$m"')" -ge 1 ]' && pass "410 Gone status: listed again" ||
	fail "no re-list after 410"
change "after 410 Gone"

m=$(k8s_mark)
k8s_fault '{"conflict_next_writes": {"count": 3, "method": "PUT"}}'
change "with three 409 Conflicts"
c=$(k8s_requests_since "$m" | grep '"method":"PUT"' | grep -c '"code":409')
expect_eq "$c" 3 "the agent met three 409s and wrote again"

m=$(k8s_mark)
k8s_fault '{"error_next_requests": {"count": 2, "code": 500, "path": "/pods"}}'
change "with 500s on the pod list"

# The server down while idle: the agent reconnects with backoff.
m=$(k8s_mark)
k8s_fault '{"down_for": 3}'
sleep 4
k8s_wait_until 30 eval '[ "$(watches_since '"$m"')" -ge 1 ]' && pass "server back: watching again" ||
	fail "no watch after the server came back"
grep -q "trying again in" "$AGENT_LOG" && pass "reconnects with backoff" || fail "no backoff logged"
change "after the server was down"

# The server down in the middle of a change (while the operand pods go):
# the change fails, the labels cannot be written; once it is back, the retry
# restores them and applies.
k8s_fault '{"operands": {"delete_delay": 2}}'
k8s_label "$K8S_NODE" "$LABEL_CONFIG=$target"
k8s_wait_label "$K8S_NODE" "$LABEL_STATE" pending 20 && pass "pending" || fail "never pending"
k8s_fault '{"down_for": 3, "operands": {"delete_delay": 0.2}}'
sleep 4
if k8s_wait_until 40 eval '[ "$(state)" = success ] && [ "$(vgpu_types | paste -sd, -)" = "$types" ]'; then
	pass "down mid-change: retried, $target applied"
else
	fail "down mid-change: state $(state), host $(vgpu_types | paste -sd, -)"
fi
expect_operands true
if [ "$target" = default ]; then target=T4-4Q types="8 T4-4Q"; else target=default types="4 T4-8Q"; fi

# Token rotation: the kubelet swaps the projected token; the old one gets 401.
m=$(k8s_mark)
k8s_rotate_token
k8s_fault '{"drop_watches": true}'
change "after the token was rotated"
k8s_requests_since "$m" | grep nvidia-k8s-vgpu-dm | tail -n 5 | has '"code":401' &&
	fail "still 401 after the rotation" || pass "new token used"
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"
agent_check_log
finish
