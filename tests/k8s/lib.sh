# Harness for the Kubernetes tests: a test API server (tests/k8s/apiserver.py) over
# HTTPS with a CA made here, a kubeconfig and a service-account directory for the
# agent, the real kubectl, and (through tests/e2e/lib.sh) a vgpu-sim host.
# Source it, call k8s_start, drive with kctl / k8s_* helpers, end with `finish`.
# Everything lives under $T_TMP and is removed at exit. See tests/k8s/README.md.

: "${VGPUDM_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# tests/e2e/lib.sh gives T_TMP, ROOT (the vgpu-sim mount point), sim_start,
# pass/fail/expect_*, vgpus, vgpu_types, finish. It insists on these two; a
# k8s test that does not touch the host does not need them.
: "${VGPU_DM:=nvidia-vgpu-dm}"
: "${VGPU_SIM:=vgpu-sim}"
# shellcheck source=../e2e/lib.sh
source "$VGPUDM_SRCDIR/tests/e2e/lib.sh"

K8S_LIB_DIR="$VGPUDM_SRCDIR/tests/k8s"
K8S="$T_TMP/k8s"                     # CA, certs, tokens, kubeconfig, logs
K8S_NODE="${K8S_NODE:-node1}"        # the node k8s_start creates
K8S_OPERAND_NS="${K8S_OPERAND_NS:-gpu-operator}"
K8S_TIMEOUT="${K8S_TIMEOUT:-60}"     # bound of every wait, seconds
K8S_PID=""
K8S_BG=()                            # other processes the test starts (k8s_bg)
KUBECTL="${KUBECTL:-$(command -v kubectl || true)}"
mkdir -p "$K8S/home" "$K8S/cache"

LABEL_CONFIG=nvidia.com/vgpu.config
LABEL_STATE=nvidia.com/vgpu.config.state
LABEL_PLUGIN=nvidia.com/gpu.deploy.sandbox-device-plugin
LABEL_VALIDATOR=nvidia.com/gpu.deploy.sandbox-validator
LABEL_DM=nvidia.com/gpu.deploy.vgpu-device-manager
APP_PLUGIN=nvidia-sandbox-device-plugin-daemonset
APP_VALIDATOR=nvidia-sandbox-validator

k8s_cleanup() {
	local p
	for p in "${K8S_BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$K8S_PID" ]; then
		kill "$K8S_PID" 2>/dev/null
		wait "$K8S_PID" 2>/dev/null
	fi
	if [ "${T_FAILS:-0}" -ne 0 ] && [ -s "$K8S/server.log" ]; then
		echo "--- apiserver stderr (last lines)"
		tail -n 20 "$K8S/server.log"
	fi
	cleanup # tests/e2e/lib.sh: unmount the simulated host, remove $T_TMP
}
trap k8s_cleanup EXIT

# k8s_bg CMD...: run CMD in the background, killed at exit; its pid in $!.
k8s_bg() {
	"$@" &
	K8S_BG+=("$!")
}

# The CA, and a server certificate for IP:127.0.0.1 / localhost signed by it.
k8s_certs() {
	[ -s "$K8S/server.pem" ] && return 0
	(
		cd "$K8S" &&
			openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
				-subj "/CN=vgpudm-test-ca" &&
			openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
				-subj "/CN=127.0.0.1" &&
			printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
				"basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
				"extendedKeyUsage=serverAuth" >server.ext &&
			openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
				-out server.pem -days 2 -extfile server.ext
	) >"$K8S/openssl.log" 2>&1 || {
		cat "$K8S/openssl.log" >&2
		echo "FATAL: openssl could not make the test CA" >&2
		exit 1
	}
}

# k8s_start [--bare] [apiserver options...]: start the server on an ephemeral
# port over HTTPS with token auth. Without --bare (and without --node/--fixture
# among the options) it creates $K8S_NODE with the three deploy labels "true".
# Sets K8S_PORT, K8S_SERVER, K8S_KUBECONFIG, K8S_SA_DIR, K8S_TOKEN, K8S_REQLOG.
k8s_start() {
	local bare=0 a defaults=()
	[ "${1:-}" = "--bare" ] && { bare=1; shift; }
	for a in "$@"; do
		case $a in --node | --node=* | --fixture | --fixture=*) bare=1 ;; esac
	done
	[ "$bare" -eq 0 ] && defaults=(--node "$K8S_NODE" --label "$LABEL_PLUGIN=true"
		--label "$LABEL_VALIDATOR=true" --label "$LABEL_DM=true")
	k8s_certs
	K8S_TOKEN="token-$RANDOM$RANDOM"
	echo "$K8S_TOKEN" >"$K8S/server-tokens"
	K8S_REQLOG="$K8S/requests.log"
	rm -f "$K8S/port"
	python3 "$K8S_LIB_DIR/apiserver.py" --port 0 --port-file "$K8S/port" \
		--tls-cert "$K8S/server.pem" --tls-key "$K8S/server.key" \
		--token-file "$K8S/server-tokens" --request-log "$K8S_REQLOG" \
		--operand-namespace "$K8S_OPERAND_NS" "${defaults[@]}" "$@" \
		>"$K8S/server.log" 2>&1 &
	K8S_PID=$!
	local i
	for i in $(seq 200); do
		[ -s "$K8S/port" ] && break
		if ! kill -0 "$K8S_PID" 2>/dev/null; then
			cat "$K8S/server.log" >&2
			echo "FATAL: the test apiserver exited" >&2
			K8S_PID=""
			exit 1
		fi
		sleep 0.05
	done
	[ -s "$K8S/port" ] || { echo "FATAL: the test apiserver did not listen" >&2; exit 1; }
	K8S_PORT=$(cat "$K8S/port")
	K8S_SERVER="https://127.0.0.1:$K8S_PORT"
	k8s_write_kubeconfig
	k8s_write_sa_dir
}

# The kubeconfig: CA by a path relative to the file, the token inline.
k8s_write_kubeconfig() {
	K8S_KUBECONFIG="$K8S/kubeconfig"
	cat >"$K8S_KUBECONFIG.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $K8S_SERVER
    certificate-authority: ca.pem
users:
- name: agent
  user:
    token: $K8S_TOKEN
contexts:
- name: test
  context:
    cluster: test
    user: agent
    namespace: $K8S_OPERAND_NS
current-context: test
EOF
	mv "$K8S_KUBECONFIG.tmp" "$K8S_KUBECONFIG"
}

# An in-cluster service-account directory laid out as the kubelet's projected
# volume is: token, ca.crt and namespace are symlinks through ..data, which a
# rotation swaps atomically. In-cluster clients also need K8S_INCLUSTER_ENV.
k8s_write_sa_dir() {
	K8S_SA_DIR="$K8S/serviceaccount"
	mkdir -p "$K8S_SA_DIR"
	local ts="..$(date +%Y_%m_%d_%H_%M_%S).$RANDOM"
	mkdir "$K8S_SA_DIR/$ts"
	echo -n "$K8S_TOKEN" >"$K8S_SA_DIR/$ts/token"
	cp "$K8S/ca.pem" "$K8S_SA_DIR/$ts/ca.crt"
	echo -n "$K8S_OPERAND_NS" >"$K8S_SA_DIR/$ts/namespace"
	local old
	old=$(readlink "$K8S_SA_DIR/..data" 2>/dev/null)
	ln -sfn "$ts" "$K8S_SA_DIR/..data_tmp"
	mv -T "$K8S_SA_DIR/..data_tmp" "$K8S_SA_DIR/..data"
	for f in token ca.crt namespace; do
		[ -L "$K8S_SA_DIR/$f" ] || ln -s "..data/$f" "$K8S_SA_DIR/$f"
	done
	[ -n "$old" ] && rm -rf "${K8S_SA_DIR:?}/$old"
	K8S_INCLUSTER_ENV=(KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$K8S_PORT")
}

# k8s_rotate_token [NEW]: a new token in the kubeconfig and the service-account
# directory, then the server accepts only NEW (the old one gets 401).
k8s_rotate_token() {
	K8S_TOKEN="${1:-token-$RANDOM$RANDOM}"
	k8s_write_kubeconfig
	k8s_write_sa_dir
	k8s_fault "{\"rotate_token\": \"$K8S_TOKEN\"}"
}

# kctl ARGS...: the real kubectl with the test kubeconfig, a fresh HOME and
# discovery cache, killed after $K8S_KUBECTL_LIMIT seconds (default 300) should
# it hang. /usr/bin/kubectl may be the Google Cloud SDK dispatcher (it asks
# /version, then runs kubectl.1.<minor>); the server answers /version, so both
# it and a plain kubectl work.
kctl() {
	HOME="$K8S/home" timeout "${K8S_KUBECTL_LIMIT:-300}" "$KUBECTL" \
		--kubeconfig "$K8S_KUBECONFIG" --cache-dir "$K8S/cache" "$@"
}

# The kubectl client's minor version (27 for v1.27.x; the JSON form is the
# same in old and new kubectl, unlike the text one).
k8s_kubectl_minor() {
	HOME="$K8S/home" "$KUBECTL" version --client -o json 2>/dev/null |
		sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n1
}

# A label key as a jsonpath: nvidia.com/vgpu.config -> nvidia\.com/vgpu\.config
k8s_jp_key() { printf '%s' "${1//./\\.}"; }

k8s_label() { # k8s_label NODE K=V...
	local node=$1
	shift
	kctl label node "$node" "$@" --overwrite >/dev/null
}
k8s_unlabel() { # k8s_unlabel NODE K...
	local node=$1 k args=()
	shift
	for k in "$@"; do args+=("$k-"); done
	kctl label node "$node" "${args[@]}" >/dev/null
}
k8s_get_label() { # k8s_get_label NODE K: prints the value ("" when absent)
	kctl get node "$1" -o jsonpath="{.metadata.labels.$(k8s_jp_key "$2")}"
}
k8s_has_label() { # k8s_has_label NODE K: true when the key exists (even empty)
	kctl get node "$1" -o jsonpath='{.metadata.labels}' | grep -q "\"$2\":"
}

# k8s_wait_label NODE K V [SECONDS]: wait until label K reads V. kubectl >= 1.23
# waits with `wait --for=jsonpath` (a watch); older ones (Debian's 1.20) poll.
k8s_wait_label() {
	local node=$1 k=$2 v=$3 t=${4:-$K8S_TIMEOUT}
	local minor
	minor=$(k8s_kubectl_minor)
	if [ "${minor:-0}" -ge 23 ]; then
		kctl wait --for=jsonpath="{.metadata.labels.$(k8s_jp_key "$k")}=$v" \
			"node/$node" --timeout="${t}s" >/dev/null
		return
	fi
	k8s_wait_until "$t" k8s_label_is "$node" "$k" "$v"
}
k8s_label_is() { [ "$(k8s_get_label "$1" "$2")" = "$3" ]; }
# k8s_wait_label_gone NODE K [SECONDS]
k8s_wait_label_gone() {
	k8s_wait_until "${3:-$K8S_TIMEOUT}" eval "! k8s_has_label '$1' '$2'"
}

# k8s_wait_until SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
k8s_wait_until() {
	local t=$1 end
	shift
	end=$((SECONDS + t))
	while [ "$SECONDS" -le "$end" ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# k8s_events [NS]: the Events in NS (default "default", where Events about a
# Node belong), one a line: "TYPE REASON KIND/NAME NOTE", oldest first. An
# Event with a series (repeats the client aggregated) is one line per
# occurrence (series.count), placed at its newest one (lastObservedTime).
k8s_events() {
	kctl get events.events.k8s.io -n "${1:-default}" -o json | python3 -c '
import json, sys
rows = []
for e in json.load(sys.stdin)["items"]:
    s = e.get("series") or {}
    when = s.get("lastObservedTime") or e.get("eventTime") or ""
    line = "%s %s %s/%s %s" % (e.get("type"), e.get("reason"), e["regarding"].get("kind"),
                               e["regarding"].get("name"), e.get("note"))
    rows.append((when, [line] * int(s.get("count") or 1)))
for _, lines in sorted(rows, key=lambda r: r[0]):
    print("\n".join(lines))
'
}
# k8s_wait_event REGEX [NS] [SECONDS]: wait until a line of k8s_events matches.
k8s_wait_event() {
	k8s_wait_until "${3:-$K8S_TIMEOUT}" eval "k8s_events '${2:-default}' | grep -Eq -- '$1'"
}

# k8s_pods [kubectl get pods options...]: pod names, one a line.
k8s_pods() {
	kctl get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' "$@"
}
# k8s_operand_pods APP [NODE]: the operand's pods on NODE, as the agent lists them.
k8s_operand_pods() {
	k8s_pods -n "$K8S_OPERAND_NS" -l "app=$1" --field-selector "spec.nodeName=${2:-$K8S_NODE}"
}

# k8s_curl PATH [curl options...]: a request to the server with the CA and token.
k8s_curl() {
	local p=$1
	shift
	curl -sS --cacert "$K8S/ca.pem" -H "Authorization: Bearer $(head -n1 "$K8S/server-tokens")" \
		"$@" "$K8S_SERVER$p"
}
# k8s_fault JSON: POST /_test/faults (see README.md); fails on a non-200 answer.
k8s_fault() {
	local out code
	out=$(k8s_curl /_test/faults -X POST -H "Content-Type: application/json" -d "$1" \
		-w '\n%{http_code}')
	code=${out##*$'\n'}
	if [ "$code" != 200 ]; then
		echo "k8s_fault $1: HTTP $code ${out%$'\n'*}" >&2
		return 1
	fi
}

# The request log is one JSON line per API request, numbered from 1 ("seq").
# k8s_mark prints the current count; k8s_requests_since MARK the lines after it.
k8s_mark() { wc -l <"$K8S_REQLOG" | tr -d ' '; }
k8s_requests_since() { tail -n +"$((${1:-0} + 1))" "$K8S_REQLOG"; }

# k8s_cm_write DIR KEY FILE: put FILE under KEY in a ConfigMap-style directory
# (kubelet's atomic writer: KEY -> ..data/KEY, ..data -> a timestamped dir that
# is swapped in one rename). Other keys are carried over.
k8s_cm_write() {
	local dir=$1 key=$2 src=$3 ts old f
	mkdir -p "$dir"
	ts="..$(date +%Y_%m_%d_%H_%M_%S).$RANDOM$RANDOM"
	mkdir "$dir/$ts"
	old=$(readlink "$dir/..data" 2>/dev/null)
	if [ -n "$old" ]; then
		for f in "$dir/$old"/*; do
			[ -e "$f" ] && cp "$f" "$dir/$ts/"
		done
	fi
	cp "$src" "$dir/$ts/$key"
	ln -sfn "$ts" "$dir/..data_tmp"
	mv -T "$dir/..data_tmp" "$dir/..data"
	for f in "$dir/$ts"/*; do
		f=$(basename "$f")
		[ -L "$dir/$f" ] || ln -s "..data/$f" "$dir/$f"
	done
	[ -n "$old" ] && rm -rf "${dir:?}/$old"
	return 0
}

# k8s_sim_start ARGS...: mount a vgpu-sim host at $ROOT (tests/e2e/lib.sh's
# sim_start); k8s_sim_stop unmounts it (cleanup does it anyway).
k8s_sim_start() { sim_start "$@"; }
k8s_sim_stop() {
	mountpoint -q "$ROOT" 2>/dev/null && { fusermount3 -u "$ROOT" || fusermount3 -uz "$ROOT"; }
	return 0
}

if [ -z "$KUBECTL" ]; then
	echo "FATAL: kubectl not found (scripts/install-deps installs Debian's kubernetes-client)" >&2
	exit 1
fi
