#!/bin/bash
# The test API server speaks what the real kubectl speaks: every check below is
# made with kubectl (curl only sets faults), over HTTPS with the test CA and a
# bearer token, so the agent's scenario tests run against a proven server.
source "$(dirname "$0")/lib.sh"

k8s_start --bookmark-interval 1
N=$K8S_NODE

# --- reading
kctl get node "$N" -o json >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "get node -o json"
expect_out '"kind": "Node"' "get node -o json is a Node"
expect_eq "$(k8s_get_label "$N" "$LABEL_PLUGIN")" true "jsonpath reads a dotted label key"
kctl get node nosuch >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "get of a missing node"
expect_err 'Error from server \(NotFound\): nodes "nosuch" not found' "NotFound Status"
kctl get nodes -o name >"$OUT" 2>"$ERR"
expect_out "^node/$N\$" "get nodes lists the node"

# --- label, unlabel, patch
k8s_label "$N" example.com/colour=blue
expect_eq "$(k8s_get_label "$N" example.com/colour)" blue "label sets a value"
m=$(k8s_mark)
k8s_label "$N" example.com/colour=green
k8s_requests_since "$m" >"$OUT"
expect_out '"method":"PATCH","path":"/api/v1/nodes/'"$N"'","query":"fieldManager=kubectl-label' \
	"the request log shows kubectl's PATCH"
expect_out '"content_type":"application/merge-patch\+json"' "kubectl label sends a merge patch"
k8s_unlabel "$N" example.com/colour
if k8s_has_label "$N" example.com/colour; then fail "unlabel removes the key"; else pass "unlabel removes the key"; fi
kctl patch node "$N" --type merge -p '{"metadata":{"labels":{"example.com/m":"1"}}}' >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "patch --type merge"
kctl patch node "$N" -p '{"metadata":{"labels":{"example.com/s":"2"}}}' >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "patch (strategic merge)"
expect_eq "$(k8s_get_label "$N" example.com/m),$(k8s_get_label "$N" example.com/s)" 1,2 \
	"both patches landed"
kctl patch node "$N" --type json -p '[{"op":"add","path":"/metadata/labels/example.com~1j","value":"3"}]' \
	>"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "patch --type json"
expect_eq "$(k8s_get_label "$N" example.com/j)" 3 "the JSON patch landed"

# --- resourceVersion: monotonic; a stale one is a Conflict
rv1=$(kctl get node "$N" -o jsonpath='{.metadata.resourceVersion}')
k8s_label "$N" example.com/rv=a
rv2=$(kctl get node "$N" -o jsonpath='{.metadata.resourceVersion}')
if [ "$rv2" -gt "$rv1" ]; then pass "a write raises the resourceVersion ($rv1 -> $rv2)"; else fail "resourceVersion $rv1 -> $rv2"; fi
k8s_label "$N" example.com/rv=a
expect_eq "$(kctl get node "$N" -o jsonpath='{.metadata.resourceVersion}')" "$rv2" \
	"a no-op write keeps the resourceVersion"
kctl label node "$N" example.com/rv=b --overwrite --resource-version="$rv1" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "label with a stale --resource-version"
expect_err 'Error from server \(Conflict\)' "stale resourceVersion -> Conflict"
expect_eq "$(k8s_get_label "$N" example.com/rv)" a "the conflicting write changed nothing"
kctl label node "$N" example.com/rv=b --overwrite --resource-version="$rv2" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "label with the current --resource-version"

# --- PUT (kubectl replace): the resourceVersion in the body is a precondition
kctl get node "$N" -o json >"$K8S/node.json" 2>"$ERR"
sed -i 's/"example.com\/rv": "b"/"example.com\/rv": "put"/' "$K8S/node.json"
k8s_label "$N" example.com/other=1
kctl replace --validate=false -f "$K8S/node.json" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "replace (PUT) with a stale resourceVersion"
expect_err 'Error from server \(Conflict\)' "is a Conflict"
kctl get node "$N" -o json >"$K8S/node.json" 2>"$ERR"
sed -i 's/"example.com\/rv": "b"/"example.com\/rv": "put"/' "$K8S/node.json"
m=$(k8s_mark)
kctl replace --validate=false -f "$K8S/node.json" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "replace (PUT) with the current resourceVersion"
expect_eq "$(k8s_get_label "$N" example.com/rv)" put "the PUT landed"
k8s_requests_since "$m" >"$OUT"
expect_out '"method":"PUT","path":"/api/v1/nodes/'"$N"'".*"code":200.*"resourceVersion":"[0-9]+"' \
	"the request log shows the PUT and the resourceVersion in its body"

# --- operand pods: selectors, delete, the DaemonSet imitation
k8s_operand_pods "$APP_PLUGIN" >"$OUT" 2>"$ERR"
expect_out "^$APP_PLUGIN-[a-z0-9]{5}\$" "the sandbox device plugin pod runs on the node"
expect_eq "$(k8s_operand_pods "$APP_VALIDATOR" | wc -l)" 1 "one validator pod on the node"
expect_eq "$(k8s_pods -n "$K8S_OPERAND_NS" --field-selector spec.nodeName=elsewhere | wc -l)" 0 \
	"field selector spec.nodeName filters"
expect_eq "$(k8s_pods -n "$K8S_OPERAND_NS" -l 'app in (nosuch)' | wc -l)" 0 \
	"set-based label selector filters"
expect_eq "$(k8s_pods -A | wc -l)" 2 "get pods -A sees both operands"
old=$(k8s_operand_pods "$APP_VALIDATOR")
kctl delete pod -n "$K8S_OPERAND_NS" "$old" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "delete pod"
k8s_wait_until "$K8S_TIMEOUT" eval '[ -n "$(k8s_operand_pods "$APP_VALIDATOR")" ] && [ "$(k8s_operand_pods "$APP_VALIDATOR")" != "$old" ]'
RC=$?
expect_rc 0 "the DaemonSet imitation recreates a deleted pod under a new name"
kctl delete pod -n "$K8S_OPERAND_NS" nosuch >"$OUT" 2>"$ERR"
expect_err 'Error from server \(NotFound\): pods "nosuch" not found' "delete of a missing pod"

k8s_label "$N" "$LABEL_PLUGIN=paused-for-vgpu-change"
k8s_wait_until "$K8S_TIMEOUT" eval '[ -z "$(k8s_operand_pods "$APP_PLUGIN")" ]'
RC=$?
expect_rc 0 "paused deploy label -> the device plugin pod goes"
expect_eq "$(k8s_operand_pods "$APP_VALIDATOR" | wc -l)" 1 "the validator stays"
k8s_label "$N" "$LABEL_PLUGIN=true"
k8s_wait_until "$K8S_TIMEOUT" eval '[ -n "$(k8s_operand_pods "$APP_PLUGIN")" ]'
RC=$?
expect_rc 0 "deploy label back to true -> the device plugin pod comes back"
k8s_fault '{"operands": {"delete_delay": -1}}'
k8s_label "$N" "$LABEL_PLUGIN=false"
sleep 1
expect_eq "$(k8s_operand_pods "$APP_PLUGIN" | wc -l)" 1 "operands delete_delay -1: the pod stays"
k8s_fault '{"operands": {"delete_delay": 0}}'
k8s_wait_until "$K8S_TIMEOUT" eval '[ -z "$(k8s_operand_pods "$APP_PLUGIN")" ]'
RC=$?
expect_rc 0 "...and goes once the delay is 0"
k8s_label "$N" "$LABEL_PLUGIN=true"
k8s_unlabel "$N" "$LABEL_VALIDATOR"
k8s_wait_until "$K8S_TIMEOUT" eval '[ -z "$(k8s_operand_pods "$APP_VALIDATOR")" ]'
RC=$?
expect_rc 0 "deploy label removed -> the validator pod goes"
k8s_label "$N" "$LABEL_VALIDATOR=true"

# --- kubectl wait (LIST + WATCH) on a label another kubectl sets later
(sleep 1; k8s_label "$N" "$LABEL_STATE=success") &
bgl=$!
k8s_wait_label "$N" "$LABEL_STATE" success
RC=$?
wait "$bgl"
expect_rc 0 "kubectl wait --for=jsonpath sees a label set later"
kctl wait --for=jsonpath="{.metadata.labels.$(k8s_jp_key "$LABEL_STATE")}=failed" "node/$N" \
	--timeout=2s >"$OUT" 2>"$ERR"
RC=$?
if [ "$RC" -ne 0 ]; then pass "kubectl wait for a value that never comes times out"; else fail "kubectl wait returned 0 for a value never set"; fi
m=$(k8s_mark)
k8s_wait_label "$N" "$LABEL_STATE" success
k8s_requests_since "$m" >"$OUT"
if [ "$(k8s_kubectl_minor)" -ge 23 ]; then
	expect_out '"path":"/api/v1/nodes","query":"fieldSelector=metadata.name%3D'"$N"'&limit=500&resourceVersion=0' \
		"kubectl wait lists the node by field selector"
fi

# --- watch: kubectl get -w --output-watch-events
timeout 8 env HOME="$K8S/home" "$KUBECTL" --kubeconfig "$K8S_KUBECONFIG" --cache-dir "$K8S/cache" \
	get nodes --field-selector "metadata.name=$N" -w --output-watch-events >"$OUT" 2>"$ERR" &
w=$!
k8s_wait_until 10 grep -q ADDED "$OUT"
k8s_label "$N" example.com/watched=yes
k8s_wait_until 10 grep -q MODIFIED "$OUT"
kill "$w" 2>/dev/null
wait "$w" 2>/dev/null
expect_out "^ADDED +$N" "get -w prints the node as ADDED"
expect_out "^MODIFIED +$N" "get -w prints the label change as MODIFIED"

# A watch the server ends (close_watches) ends kubectl get -w. (ADDED comes
# from the LIST: wait for the watch request itself before closing.)
m=$(k8s_mark)
timeout 30 env HOME="$K8S/home" "$KUBECTL" --kubeconfig "$K8S_KUBECONFIG" --cache-dir "$K8S/cache" \
	get nodes -w --output-watch-events >"$OUT" 2>"$ERR" &
w=$!
k8s_wait_until 20 eval 'k8s_requests_since "$m" | grep -q "\"watch\":true"'
k8s_fault '{"close_watches": true}'
wait "$w"
RC=$?
if [ "$RC" -ne 124 ]; then pass "close_watches ends kubectl get -w (exit $RC)"; else fail "kubectl get -w still ran after close_watches"; fi

# --- raw watch streams: bookmarks, timeoutSeconds, 410 for a too-old resourceVersion
rv=$(kctl get node "$N" -o jsonpath='{.metadata.resourceVersion}')
kctl get --raw "/api/v1/nodes?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=$rv" \
	>"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "a watch with timeoutSeconds ends by itself"
expect_out '"type":"BOOKMARK".*"resourceVersion":"[0-9]+"' "the watch carries BOOKMARK events"
k8s_fault '{"compact": true}'
kctl get --raw "/api/v1/nodes?watch=true&timeoutSeconds=3&resourceVersion=$rv1" >"$OUT" 2>"$ERR"
expect_out '"type":"ERROR".*"code":410' "a watch from a compacted resourceVersion gets an ERROR 410 event"
kctl get --raw "/api/v1/nodes?watch=true&timeoutSeconds=20" >"$OUT" 2>"$ERR" &
w=$!
k8s_wait_until 10 grep -q ADDED "$OUT"
k8s_fault '{"expire_watches": true}'
wait "$w"
expect_out '"type":"ERROR".*"reason":"Expired".*"code":410' "expire_watches sends ERROR 410 to an open watch"
kctl get --raw "/api/v1/nodes?watch=true&timeoutSeconds=20" >"$OUT" 2>"$ERR" &
w=$!
k8s_wait_until 10 grep -q ADDED "$OUT"
k8s_fault '{"drop_watches": true}'
wait "$w"
RC=$?
expect_rc 1 "drop_watches cuts an open watch (kubectl sees an unexpected end)"
k8s_fault '{"gone_next_watch": {"count": 1, "mode": "status"}}'
kctl get --raw "/api/v1/nodes?watch=true&timeoutSeconds=3" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "gone_next_watch in status mode"
expect_err 'Gone|Expired|410|too old' "the watch is refused with 410"

# --- Events: both groups, readable with kubectl get events
cat >"$K8S/ev.json" <<EOF
{"apiVersion": "events.k8s.io/v1", "kind": "Event",
 "metadata": {"name": "$N.test1", "namespace": "default"},
 "eventTime": "2026-01-02T03:04:05.123456Z", "reportingController": "nvidia.com/vgpu-device-manager",
 "reportingInstance": "$N", "action": "Apply", "reason": "VGPUConfigApplied", "type": "Normal",
 "regarding": {"kind": "Node", "name": "$N", "apiVersion": "v1"}, "note": "applied T4-4Q on 0000:41:00.0"}
EOF
kctl create -f "$K8S/ev.json" --validate=false >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "create an events.k8s.io/v1 Event"
k8s_events >"$OUT"
expect_out "^Normal VGPUConfigApplied Node/$N applied T4-4Q" "k8s_events shows it"
kctl get events -n default -o jsonpath='{.items[0].involvedObject.name} {.items[0].message}' >"$OUT" 2>"$ERR"
expect_out "^$N applied T4-4Q" "kubectl get events (core/v1) shows it as involvedObject/message"
sed -e 's/"namespace": "default"/"namespace": "gpu-operator"/' -e 's/test1/test2/' "$K8S/ev.json" \
	>"$K8S/ev2.json"
kctl create -f "$K8S/ev2.json" --validate=false >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "an Event about a Node outside namespace default"
expect_err 'is invalid: regarding.namespace: does not match' "is Invalid, as kube-apiserver says"
sed -e 's/"eventTime": "[^"]*"/"eventTime": "2026-01-02T03:04:05Z"/' -e 's/test1/test3/' \
	"$K8S/ev.json" >"$K8S/ev3.json"
kctl create -f "$K8S/ev3.json" --validate=false >"$OUT" 2>"$ERR"
expect_err 'is invalid: eventTime' "an eventTime that is not a MicroTime is Invalid"

# --- faults
k8s_fault '{"conflict_next_writes": 1}'
kctl label node "$N" example.com/f=1 --overwrite >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "conflict_next_writes: the next write"
expect_err 'Conflict' "is a Conflict"
k8s_label "$N" example.com/f=1
expect_eq "$(k8s_get_label "$N" example.com/f)" 1 "the write after it succeeds"
k8s_fault '{"error_next_requests": {"count": 1, "path": "^/api/v1/nodes/"}}'
kctl get node "$N" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "error_next_requests: the next matching request"
expect_err 'InternalError' "is an InternalError (500)"
k8s_fault '{"stall_next": {"seconds": 5, "path": "^/api/v1/nodes/"}}'
kctl get node "$N" --request-timeout=1s >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "stall_next: kubectl with a 1 s timeout gives up"
k8s_fault '{"down_for": 6}'
kctl get node "$N" --request-timeout=3s >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "down_for: the server refuses connections"
expect_err 'refused|connect' "kubectl cannot connect"
k8s_wait_until 30 eval 'kctl get node "$N" -o name >/dev/null 2>&1'
RC=$?
expect_rc 0 "the server listens again on the same port"

# --- token rotation
cp "$K8S_KUBECONFIG" "$K8S/kubeconfig.old"
k8s_rotate_token
HOME="$K8S/home" "$KUBECTL" --kubeconfig "$K8S/kubeconfig.old" --cache-dir "$K8S/cache" \
	get node "$N" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "the old token after a rotation"
expect_err 'Unauthorized' "is Unauthorized"
kctl get node "$N" -o name >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "the new token works"
expect_eq "$(cat "$K8S_SA_DIR/token")" "$K8S_TOKEN" "the service-account token file was rotated"

# --- plain HTTP for debugging (no token: kubectl sends none over http)
python3 "$K8S_LIB_DIR/apiserver.py" --port 0 --port-file "$K8S/http-port" --node plain \
	>"$K8S/http.log" 2>&1 &
K8S_BG+=("$!")
k8s_wait_until 10 test -s "$K8S/http-port"
HOME="$K8S/home" "$KUBECTL" --server "http://127.0.0.1:$(cat "$K8S/http-port")" \
	--cache-dir "$K8S/cache" get node plain -o name >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "plain HTTP mode"

finish
