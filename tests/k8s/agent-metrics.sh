#!/bin/bash
# /metrics, /healthz and /readyz (libmicrohttpd) scraped with curl over
# loopback while the agent works a simulated 2 x T4 host, with kubectl
# changing the label: the state, applies, failures by reason (a vGPU a "VM"
# holds), apply seconds, vGPUs by type and the last success time move as the
# node does. Off unless the port is set; a bad port is refused at start.
. "$(dirname "$0")/agent-lib.sh"
AGENT_ENV+=(VGPU_DM_RETRY_BACKOFF=1)
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
HOLDER=""
trap '[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; agent_cleanup' EXIT

# Off by default: no listening line in the log.
agent_start
wait_state success
agent_stop
grep -q "serving /metrics" "$AGENT_LOG" && fail "metrics served without a port" ||
	pass "no port set: no HTTP endpoint"

# A bad port: one clear line, exit 1.
out=$(env NODE_NAME=x NAMESPACE=x CONFIG_FILE=x DEFAULT_VGPU_CONFIG=x KUBECONFIG="$K8S_KUBECONFIG" \
	"$VGPU_K8S_DM" --metrics-port 70000 2>&1)
expect_eq "$?:$out" '1:Error: invalid --metrics-port "70000": a TCP port from 0 to 65535' \
	"--metrics-port 70000 is refused"

# Port 0: a free port, logged; loopback only.
: >"$AGENT_LOG"
agent_start VGPU_DM_METRICS_PORT=0 VGPU_DM_METRICS_ADDRESS=127.0.0.1
port=""
k8s_wait_until 20 eval 'port=$(sed -n "s/.*serving \/metrics, \/healthz and \/readyz on 127.0.0.1:\([0-9]*\)$/\1/p" "$AGENT_LOG" | tail -1); [ -n "$port" ]'
[ -n "$port" ] && pass "the agent logs its metrics port ($port)" || fail "no metrics port in the log"
URL="http://127.0.0.1:$port"
scrape() { curl -sS --max-time 10 "$URL/metrics"; }
# metric NAME{LABELS}: its value in a fresh scrape ("" when absent)
metric() { scrape | awk -v k="$1" '$1 == k {print $2}'; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL$1"; }

wait_state success
k8s_wait_until 20 eval '[ "$(code /readyz)" = 200 ]' && pass "ready once the default is applied" ||
	fail "/readyz: $(curl -s "$URL/readyz")"
expect_eq "$(code /healthz)" 200 "/healthz: live (the event loop answers)"
curl -s "$URL/healthz" | has "^ok: the event loop answers" && pass "/healthz says why" ||
	fail "/healthz body: $(curl -s "$URL/healthz")"
expect_eq "$(code /nothing)" 404 "an unknown path is 404"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" 405 "POST is 405"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$URL/metrics")
expect_eq "$ctype" "text/plain; version=0.0.4; charset=utf-8" "the text exposition's content type"
scrape >"$T_TMP/m1"
for f in vgpu_dm_state vgpu_dm_applies_total vgpu_dm_failures_total vgpu_dm_apply_duration_seconds \
	vgpu_dm_vgpus vgpu_dm_last_success_timestamp_seconds; do
	grep -q "^# TYPE $f " "$T_TMP/m1" && pass "family $f" || fail "no family $f"
done
expect_eq "$(metric 'vgpu_dm_state{state="success"}') $(metric 'vgpu_dm_state{state="failed"}')" "1 0" \
	"state success"
expect_eq "$(metric 'vgpu_dm_vgpus{type="T4-8Q"}')" 4 "4 x T4-8Q counted"
expect_eq "$(metric 'vgpu_dm_selected_config_info{config="default"}')" 1 "selected config default"
# The first run applied the default: this one found it applied, no apply.
expect_eq "$(metric vgpu_dm_applies_total) $(metric vgpu_dm_apply_duration_seconds_count)" "0 0" \
	"already applied: no apply counted"
last=$(metric vgpu_dm_last_success_timestamp_seconds)
now=$(date +%s)
awk -v l="$last" -v n="$now" 'BEGIN {exit !(l > n - 120 && l <= n + 1)}' &&
	pass "last success time is now-ish ($last)" || fail "last success $last, now $now"
# Every sample line parses: NAME{LABELS} VALUE
bad=$(grep -v '^#' "$T_TMP/m1" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfNa]+$')
expect_eq "$bad" "" "every sample line is valid exposition text"

# A label change: T4-4Q applied, counted.
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
expect_event "^Normal Applied Node/$K8S_NODE vGPU config T4-4Q applied" "T4-4Q applied"
wait_state success
expect_eq "$(metric 'vgpu_dm_vgpus{type="T4-4Q"}') $(metric 'vgpu_dm_vgpus{type="T4-8Q"}')" "8 " \
	"vGPUs by type follow the host: 8 x T4-4Q, no T4-8Q"
expect_eq "$(metric vgpu_dm_applies_total)" 1 "one apply"
expect_eq "$(metric vgpu_dm_apply_duration_seconds_count)" 1 "one apply timed"
expect_eq "$(metric 'vgpu_dm_apply_duration_seconds_bucket{le="+Inf"}')" 1 "the +Inf bucket holds it"
sum=$(metric vgpu_dm_apply_duration_seconds_sum)
awk -v s="$sum" 'BEGIN {exit !(s > 0 && s < 60)}' && pass "apply seconds summed ($sum)" ||
	fail "apply seconds sum $sum"

# A VM holds a vGPU: T4-2Q is refused, failures{reason="VGPUInUse"} counts it.
gpu0=$(ls "$ROOT/sys/class/mdev_bus" | sort | head -1)
held=$(vgpus | awk -v g="$gpu0" '$3 == g {print $1}' | tail -1)
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
sleep 300 3<>"$ROOT/dev/vfio/$group" &
HOLDER=$!
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-2Q"
wait_state failed
k8s_wait_until 10 eval '[ -n "$(metric "vgpu_dm_failures_total{reason=\"VGPUInUse\"}")" ]'
f=$(metric 'vgpu_dm_failures_total{reason="VGPUInUse"}')
[ -n "$f" ] && [ "$f" -ge 1 ] && pass "failures{reason=VGPUInUse} = $f" || fail "no VGPUInUse failure: $(scrape | grep failures)"
expect_eq "$(metric 'vgpu_dm_state{state="failed"}') $(metric 'vgpu_dm_state{state="success"}')" "1 0" \
	"state failed"
expect_eq "$(metric 'vgpu_dm_selected_config_info{config="T4-2Q"}')" 1 "selected config T4-2Q"
expect_eq "$(code /healthz)" 200 "live while it retries"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
HOLDER=""
wait_state success
k8s_wait_until 10 eval '[ "$(metric "vgpu_dm_vgpus{type=\"T4-2Q\"}")" = 16 ]'
expect_eq "$(metric 'vgpu_dm_vgpus{type="T4-2Q"}')" 16 "after the VM left: 16 x T4-2Q"
expect_eq "$(metric 'vgpu_dm_state{state="success"}')" 1 "state success again"
expect_eq "$(metric vgpu_dm_applies_total)" 2 "the refusal was no apply; the retry was"

# Liveness while the event loop is busy: a reconcile waiting for operand pods
# that never go is busy, not dead.
k8s_fault '{"operands": {"delete_delay": -1}}' >/dev/null
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
wait_state pending
expect_eq "$(code /healthz)" 200 "live while busy waiting for the operand pods"
curl -s "$URL/healthz" | has "^ok: busy for" && pass "/healthz says it is busy" ||
	fail "/healthz: $(curl -s "$URL/healthz")"
expect_eq "$(metric 'vgpu_dm_state{state="pending"}')" 1 "state pending while it waits"
k8s_fault '{"operands": {"delete_delay": 0.2}}' >/dev/null
wait_state success 60

# Readiness follows the node watch: the API server down, then back.
k8s_fault '{"down_for": 4}' >/dev/null
k8s_wait_until 10 eval '[ "$(code /readyz)" = 503 ]' && pass "not ready while the API server is down" ||
	fail "/readyz stayed $(code /readyz)"
k8s_wait_until 40 eval '[ "$(code /readyz)" = 200 ]' && pass "ready again once the watch is back" ||
	fail "/readyz: $(curl -s "$URL/readyz")"
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0 with the HTTP thread running"
curl -s --max-time 2 "$URL/metrics" >/dev/null && fail "still serving after exit" || pass "the port is closed at exit"
agent_check_log
finish
