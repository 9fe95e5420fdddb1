#!/bin/bash
# Ten label changes in about a second collapse to the newest: the node ends
# with the last value applied, after far fewer than ten applies.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
agent_start
expect_event "vGPU config default applied" "default applied"
wait_state success
layouts=(T4-4Q T4-2Q T4-16Q none T4-4Q default T4-2Q T4-16Q T4-4Q T4-2Q)
n0=$(count_events "Applied|AlreadyApplied")
m=$(k8s_mark)
pids=()
for l in "${layouts[@]}"; do
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=$l" &
	pids+=($!)
	sleep 0.05
done
wait "${pids[@]}"
span=$(k8s_requests_since "$m" | grep '"method":"PATCH"' |
	python3 -c 'import sys, json; t = [json.loads(l)["time"] for l in sys.stdin]; print("%d %.2f" % (len(t), max(t) - min(t)))')
echo "# label PATCHes and their time span (s): $span"
expect_eq "${span%% *}" 10 "ten label writes reached the server"
# The last write wins on the server; that is the value the agent must end with.
last=$(k8s_get_label "$K8S_NODE" "$LABEL_CONFIG")
case $last in
T4-4Q) types="8 T4-4Q" ;; T4-2Q) types="16 T4-2Q" ;; T4-16Q) types="2 T4-16Q" ;;
none) types="" ;; default) types="4 T4-8Q" ;;
esac
if k8s_wait_until 60 eval '[ "$(state)" = success ] && [ "$(vgpu_types | paste -sd, -)" = "$types" ] &&
	k8s_events | tail -n 1 | has "vGPU config $last "'; then
	pass "ends with the newest label ($last) applied"
else
	fail "state $(state), host $(vgpu_types | paste -sd, -), last Event: $(k8s_events | tail -n 1)"
fi
expect_operands true
applies=$(($(count_events "Applied|AlreadyApplied") - n0))
[ "$applies" -lt 10 ] && pass "collapsed: $applies applies for 10 changes" || fail "$applies applies for 10 changes"
agent_stop
agent_check_log
finish
