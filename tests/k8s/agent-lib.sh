# The agent tests' own helpers, on top of tests/k8s/lib.sh (API server, kubectl,
# vgpu-sim): a ConfigMap-style config directory, starting and stopping
# nvidia-k8s-vgpu-dm, and checks on labels, Events and the simulated host.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${VGPU_K8S_DM:?VGPU_K8S_DM must name the nvidia-k8s-vgpu-dm binary}"
CM="$T_TMP/vgpu-config"        # the mounted ConfigMap (kubelet's layout)
PAUSED=paused-for-vgpu-change
AGENT_LOG="$T_TMP/agent.log"
AGENT_PID=""
AGENT_RUNS=0
# Fast retries and waits: the defaults (10 s, 120 s) are for clusters.
AGENT_ENV=(VGPU_DM_RETRY_BACKOFF=0.5 VGPU_DM_POD_WAIT_TIMEOUT=20 VGPU_DM_DEBUG=true)

agent_cleanup() {
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	if [ "${T_FAILS:-0}" -ne 0 ] && [ -s "$AGENT_LOG" ]; then
		echo "--- agent log (last lines)"
		tail -n 40 "$AGENT_LOG"
		[ -n "${AGENT_KEEP_LOGS:-}" ] && cp "$AGENT_LOG" "$K8S_REQLOG" "$AGENT_KEEP_LOGS/"
	fi
	k8s_cleanup
}
trap agent_cleanup EXIT

# cm_config FILE: make FILE the ConfigMap's config.yaml (a ..data swap).
cm_config() { k8s_cm_write "$CM" config.yaml "$1"; }

# agent_start [--incluster] [ENV=V...]: start the agent in the background
# against $ROOT, with the kubeconfig (default) or the service-account dir.
agent_start() {
	local mode=kubeconfig
	[ "${1:-}" = "--incluster" ] && { mode=incluster; shift; }
	local env=(NODE_NAME="$K8S_NODE" NAMESPACE="$K8S_OPERAND_NS" CONFIG_FILE="$CM/config.yaml"
		DEFAULT_VGPU_CONFIG=default VGPU_DM_SYSFS_ROOT="$ROOT" "${AGENT_ENV[@]}")
	if [ $mode = kubeconfig ]; then
		env+=(KUBECONFIG="$K8S_KUBECONFIG")
	else
		env+=(VGPU_DM_SERVICE_ACCOUNT_DIR="$K8S_SA_DIR" "${K8S_INCLUSTER_ENV[@]}")
	fi
	AGENT_RUNS=$((AGENT_RUNS + 1))
	echo "=== agent run $AGENT_RUNS" >>"$AGENT_LOG"
	env "${env[@]}" "$@" "$VGPU_K8S_DM" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
}

# agent_stop [SIGNAL]: stop it (default SIGTERM) and wait; its status in $AGENT_RC.
agent_stop() {
	AGENT_RC=0
	[ -n "$AGENT_PID" ] || return 0
	kill -"${1:-TERM}" "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_RC=$?
	AGENT_PID=""
}

agent_alive() { [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; }

# The agent's log must be free of sanitizer reports.
agent_check_log() {
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$AGENT_LOG"; then
		fail "agent: sanitizer report"
		grep -E -A20 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$AGENT_LOG" | head -40
	else
		pass "agent: no sanitizer report"
	fi
}

# has ARGS: grep that reads all its input (grep -q in a pipeline under pipefail can
# fail the pipeline with SIGPIPE).
has() { grep "$@" >/dev/null; }

state() { k8s_get_label "$K8S_NODE" "$LABEL_STATE"; }
plugin() { k8s_get_label "$K8S_NODE" "$LABEL_PLUGIN"; }
validator() { k8s_get_label "$K8S_NODE" "$LABEL_VALIDATOR"; }

# wait_state V [SECONDS]: the state label reads V (checked, not only waited).
wait_state() {
	if k8s_wait_label "$K8S_NODE" "$LABEL_STATE" "$1" "${2:-$K8S_TIMEOUT}"; then
		pass "state $1"
	else
		fail "state: '$(state)', expected '$1' (agent log: $(tail -n 5 "$AGENT_LOG" | tr '\n' '|'))"
	fi
}

# expect_operands V: both operand labels read V.
expect_operands() {
	expect_eq "$(plugin) $(validator)" "$1 $1" "operand labels are $1"
}

# wait_operands_back: both operand pods run again (the DaemonSet stand-in).
wait_operand_pods() {
	if k8s_wait_until "$K8S_TIMEOUT" eval '[ -n "$(k8s_operand_pods "$APP_PLUGIN")" ] &&
		[ -n "$(k8s_operand_pods "$APP_VALIDATOR")" ]'; then
		pass "operand pods running again"
	else
		fail "operand pods not back"
	fi
}

# expect_event REGEX description: an Event about the node matches.
expect_event() {
	if k8s_wait_event "$1" default 20; then pass "$2"; else
		fail "$2: no Event /$1/ ($(k8s_events | tail -n 5 | tr '\n' '|'))"
	fi
}
# count_events REGEX: how many Events match.
count_events() { k8s_events | grep -Ec -- "$1"; }

# expect_types "N TYPE[,N TYPE]" description: the simulated host's vGPUs.
expect_types() {
	expect_eq "$(vgpu_types | paste -sd, -)" "$1" "$2"
}

# Label writes the agent made since MARK: PUTs of the node.
node_puts_since() {
	k8s_requests_since "$1" | grep '"method":"PUT"' | grep -c "/api/v1/nodes/$K8S_NODE"
}
