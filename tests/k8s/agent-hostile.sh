#!/bin/bash
# A misbehaving API server and a failing layout (issue 19): malformed and
# wrongly typed watch events are skipped (no crash); a server that answers
# every watch with 410 or an ERROR event sees a few requests, not a storm; a
# watch line that never ends is cut at 16 MiB with a log line; a stop signal
# ends the agent within a second or two even while a request stalls or a
# flood runs; touching an unchanged config after a failure neither applies
# again nor posts an Event; repeated Events become one Event with a count.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cp "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml" "$T_TMP/c.yaml"
printf '  mig:\n    - devices: all\n      vgpu-devices:\n        A100-1-5C: 7\n' >>"$T_TMP/c.yaml"
cm_config "$T_TMP/c.yaml"
AGENT_ENV+=(VGPU_DM_RETRY_BACKOFF=30)
agent_start
expect_event "vGPU config default applied" "default applied"
wait_state success
# watch requests, whatever the answer (a 410 status is logged as no watch)
watches_since() { k8s_requests_since "$1" | grep 'watch=true' | grep -c '"path":"/api/v1/nodes"'; }
lists_since() {
	k8s_requests_since "$1" | grep '"method":"GET"' | grep '"path":"/api/v1/nodes"' | grep -vc 'watch=true'
}

# 1. Every field may be missing, null or of another type.
m=$(k8s_mark)
N=$K8S_NODE L=$LABEL_CONFIG
k8s_fault "$(python3 -c '
import json, sys
n, l = sys.argv[1], sys.argv[2]
print(json.dumps({"watch_lines": ["{\"type\":null,\"object\":{}}", "{\"type\":\"MODIFIED\",\"object\":null}",
  "{\"type\":7,\"object\":[]}", "[1,2,3]", "\"a string\"", "null", "{\"type\":\"MODIFIED\"}",
  "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":5,\"resourceVersion\":{}}}}",
  {"type": "MODIFIED", "object": {"metadata": {"name": n, "labels": {l: 7}}}},
  {"type": "MODIFIED", "object": {"metadata": {"name": n, "labels": [l]}}},
  {"type": "MODIFIED", "object": {"metadata": {"name": n, "labels": {l: None}}}},
  "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"" + n + "\",\"labels\":{\"" + l + "\":\"T4-2Q\"}}}} trailing",
  "{\"type\":\"BOGUS\",\"object\":{}}", "not json \u001b[31m\rINFO[0000] forged",
  {"type": "ERROR", "object": {"code": "410", "message": {"x": 1}}}]}))' "$N" "$L")"
k8s_fault '{"drop_watches": true}'
k8s_wait_until 20 eval '[ "$(lists_since '"$m"')" -ge 1 ]' && pass "hostile events: ERROR still lists again" ||
	fail "no re-list after the hostile lines"
agent_alive && pass "hostile watch events: the agent runs on" || fail "the agent died on hostile watch events"
has -c "not a watch event" "$AGENT_LOG" && pass "malformed events logged" || fail "malformed events not logged"
has "node $K8S_NODE skipped: a label value not a string" "$AGENT_LOG" && pass "a label of another type: skipped, not taken as absent" ||
	fail "a label of another type not reported"
has -F 'not json \x1b[31m\x0dINFO[0000] forged' "$AGENT_LOG" && ! grep -q $'\e' "$AGENT_LOG" &&
	pass "control bytes from the server escaped in the log" ||
	fail "control bytes reached the log: $(grep -a 'not json' "$AGENT_LOG" | head -2)"
expect_eq "$(vgpu_types | paste -sd, -)" "4 T4-8Q" "hostile events: host unchanged"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
wait_state success
expect_types "8 T4-4Q" "after hostile events: a kubectl label change is applied"

# 2. 410 Gone / ERROR on every watch: capped, jittered backoff, not a storm.
m=$(k8s_mark)
k8s_fault '{"gone_next_watch": {"count": 100000, "mode": "event"}, "drop_watches": true}'
sleep 8
w=$(watches_since "$m") l=$(lists_since "$m")
k8s_fault '{"clear": true}'
[ "$w" -ge 2 ] && [ "$w" -le 12 ] && [ "$l" -le 12 ] && pass "ERROR on every watch: $w watches, $l lists in 8 s" ||
	fail "ERROR on every watch: $w watches, $l lists in 8 s (expected 2-12)"
# label_applied V TYPES: a kubectl label change reaches the host (the agent
# may still be in its backoff, up to 30 s).
label_applied() {
	want_types=$2
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=$1"
	if k8s_wait_until 60 eval '[ "$(vgpu_types | paste -sd, -)" = "$want_types" ] && [ "$(state)" = success ]'; then
		pass "$3: a kubectl label change is applied"
	else
		fail "$3: label $1 not applied (state $(state), host $(vgpu_types | paste -sd, -))"
	fi
}
label_applied default "4 T4-8Q" "after the ERROR storm"
m=$(k8s_mark)
k8s_fault '{"gone_next_watch": {"count": 100000, "mode": "status"}, "drop_watches": true}'
sleep 6
w=$(watches_since "$m")
k8s_fault '{"clear": true}'
[ "$w" -ge 2 ] && [ "$w" -le 10 ] && pass "410 status on every watch: $w watches in 6 s" ||
	fail "410 status on every watch: $w watches in 6 s (expected 2-10)"
label_applied T4-4Q "8 T4-4Q" "after the 410 storm"

# 3. A failed layout and an unchanged config touched again and again: no
# re-apply, no Event (the retry, 30 s away, is the only way back).
k8s_label "$K8S_NODE" "$LABEL_CONFIG=mig"
expect_event "^Warning Refused Node/$K8S_NODE vGPU config mig" "mig layout refused"
wait_state failed
n=$(count_events "vGPU config mig")
m=$(k8s_mark)
for i in $(seq 1 40); do cm_config "$T_TMP/c.yaml"; done
sleep 2
expect_eq "$(count_events "vGPU config mig")" "$n" "40 touches of an unchanged config: no Event"
expect_eq "$(node_puts_since "$m")" 0 "40 touches: no label write"
has "unchanged since the last attempt, which failed" "$AGENT_LOG" && pass "touches seen and found unchanged" ||
	fail "touches not looked at"

# Repeated Events: one Event object with a series count (client-go's way).
agent_stop
AGENT_ENV+=(VGPU_DM_RETRY_BACKOFF=0.3)
agent_start
k8s_wait_until 30 eval '[ "$(count_events "vGPU config mig")" -ge $((n + 3)) ]' &&
	pass "retries repeat the Event" || fail "no repeated Event ($(count_events "vGPU config mig"))"
objs=$(kctl get events.events.k8s.io -n default -o json | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["items"] if e.get("reason") == "Refused"))')
[ "$objs" -le 2 ] && pass "repeats aggregated: $objs Event object(s) with series counts" ||
	fail "repeats not aggregated: $objs Event objects"
label_applied default "4 T4-8Q" "after the repeats"
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"

# 4. A watch line that never ends: cut at 16 MiB, logged, watched again.
AGENT_ENV+=(VGPU_DM_RETRY_BACKOFF=30)
agent_start
wait_state success
m=$(k8s_mark)
k8s_fault '{"flood_next_watch": {"count": 1, "bytes": 20000000}, "drop_watches": true}'
k8s_wait_until 60 has "a line over 16 MiB without a newline: connection ended" "$AGENT_LOG" &&
	pass "a line over 16 MiB ends the connection, logged" || fail "no log line for the endless line"
k8s_wait_until 20 eval '[ "$(watches_since '"$m"')" -ge 2 ]' && pass "watched again after the flood" ||
	fail "no new watch after the flood"

# 5. Stop signals within a second or two, whatever the transfer does.
k8s_fault '{"flood_next_watch": {"count": 100, "bytes": 0}, "drop_watches": true}'
sleep 2
t0=$(date +%s%N)
agent_stop TERM
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] && pass "SIGTERM during an endless watch line: exit in ${ms} ms" ||
	fail "SIGTERM during an endless line took ${ms} ms"
expect_eq "$AGENT_RC" 0 "SIGTERM during the flood: exit 0"
k8s_fault '{"clear": true}'
agent_start
wait_state success
k8s_fault '{"stall_next": {"count": 20, "seconds": 30}, "drop_watches": true}'
sleep 2
t0=$(date +%s%N)
agent_stop TERM
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 3000 ] && pass "SIGTERM while the server stalls: exit in ${ms} ms" ||
	fail "SIGTERM while the server stalls took ${ms} ms"
k8s_fault '{"clear": true}'
agent_check_log
finish
