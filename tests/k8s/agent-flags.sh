#!/bin/bash
# Flags and environment as upstream (required ones: one clear line, exit 1),
# GPU_CLIENTS_FILE validation, and the API client's kubeconfig forms: a CA
# inline (certificate-authority-data), tokenFile, insecure-skip-tls-verify,
# and a wrong CA (TLS is verified: nothing is sent).
. "$(dirname "$0")/agent-lib.sh"
run() { # run [ENV=V...] [-- ARGS...]: the agent in the foreground; $OUT, $ERR, $RC
	local e=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do e+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	env -u KUBECONFIG "${e[@]}" "$VGPU_K8S_DM" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	check_sanitizers "nvidia-k8s-vgpu-dm"
}
req=(NODE_NAME=n1 NAMESPACE=ns CONFIG_FILE=/nonexistent/config.yaml DEFAULT_VGPU_CONFIG=default)
for i in 0 1 2 3; do
	args=("${req[@]}")
	name=${args[$i]%%=*}
	unset "args[$i]"
	run "${args[@]}"
	expect_rc 1 "without $name"
	flag=$(echo "$name" | tr 'A-Z_' 'a-z-' | sed 's/^default-vgpu-config$/default-vgpu-config/')
	expect_eq "$(wc -l <"$ERR")" 1 "without $name: one line"
	expect_err "^Error: invalid --$flag flag: must not be empty \(set it or \\\$$name\)$" "without $name: names it"
done
run "${req[@]}" NODE_NAME=
expect_rc 1 "an empty NODE_NAME counts as missing"
run "${req[@]}" WITH_REBOOT=maybe
expect_rc 1 "WITH_REBOOT=maybe"
expect_err "invalid value \"maybe\" for WITH_REBOOT" "bad boolean named"
run "${req[@]}" -- --bogus
expect_rc 1 "unknown flag"
expect_err "flag provided but not defined: -bogus" "unknown flag named"
run -- --help
expect_rc 0 "--help"
for f in kubeconfig node-name namespace config-file default-vgpu-config host-root-mount \
	host-mig-manager-state-file host-kubelet-systemd-service driver-root-ctr-path gpu-clients-file \
	with-reboot with-shutdown-host-gpu-clients sysfs-root; do
	grep -q -- "--$f" "$OUT" || fail "--help lacks --$f"
done
expect_out '\[\$WITH_SHUTDOWN_HOST_GPU_CLIENTS\]' "--help names the environment variables"
run -- -n n1 --ns ns -f /x -d default --kubeconfig "$T_TMP/missing"
expect_rc 1 "flags given as upstream's aliases; missing kubeconfig"
expect_err "cannot read kubeconfig $T_TMP/missing" "missing kubeconfig named"
run "${req[@]}"
expect_rc 1 "no kubeconfig and not in a cluster"
expect_err "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined" "in-cluster needs the service env"
printf 'clusters: [\n' >"$T_TMP/bad-kc"
run "${req[@]}" KUBECONFIG="$T_TMP/bad-kc"
expect_rc 1 "unparseable kubeconfig"
expect_err "$T_TMP/bad-kc:[0-9]+:[0-9]+: " "kubeconfig error has line:col"

# GPU_CLIENTS_FILE
printf 'version: v1\nsystemd-services:\n  - a.service\n  - {x: 1}\n' >"$T_TMP/clients.yaml"
run "${req[@]}" GPU_CLIENTS_FILE="$T_TMP/clients.yaml"
expect_rc 1 "bad GPU clients file"
expect_err "GPU clients file $T_TMP/clients.yaml:4:5: not a systemd unit name \(not a string\)" "clients file error at line:col"
# Names go to `chroot HOST systemctl VERB -- NAME` as root: systemd's unit name rules.
for bad in "'*'" "'nv*.service'" "a/b.service" "../x.service" "foo@.service" "'a b.service'" \
	"'x[1].service'" "\"a\\u0000b\"" "'@x.service'"; do
	printf 'version: v1\nsystemd-services:\n  - a.service\n  - %s\n' "$bad" >"$T_TMP/clients.yaml"
	run "${req[@]}" GPU_CLIENTS_FILE="$T_TMP/clients.yaml"
	expect_rc 1 "clients file with $bad refused"
	expect_err "clients.yaml:4:5: not a systemd unit name \(" "clients file with $bad: one clear line"
done
{ printf 'version: v1\n#'; head -c 2000000 /dev/zero | tr '\0' x; } >"$T_TMP/clients.yaml"
run "${req[@]}" GPU_CLIENTS_FILE="$T_TMP/clients.yaml"
expect_rc 1 "a 2 MB clients file"
expect_err "clients.yaml: over 1024 KiB, not a list of services" "a clients file is read at most 1 MiB"
printf 'version: v1\nsystemd-services:\n  - nvsm\n  - -.mount\n  - getty@tty1.service\n  - x.y\n' >"$T_TMP/clients.yaml"
run "${req[@]}" GPU_CLIENTS_FILE="$T_TMP/clients.yaml"
expect_err "KUBERNETES_SERVICE_HOST" "valid unit names (no suffix, -.mount, an instance) accepted"
run "${req[@]}" NAMESPACE=a/b
expect_rc 1 "a namespace that is no DNS label"
expect_err 'invalid --namespace "a/b": a namespace is a DNS label' "bad namespace named"
run "${req[@]}" NODE_NAME='n1?x=1'
expect_rc 1 "a node name that is no DNS subdomain"
expect_err 'invalid --node-name "n1\?x=1"' "bad node name named"
# A service-account token with a CR/LF would add a header: refused at start.
mkdir -p "$T_TMP/sa"
printf 'abc\r\nX-Evil: 1\n' >"$T_TMP/sa/token"
run "${req[@]}" KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=1 VGPU_DM_SERVICE_ACCOUNT_DIR="$T_TMP/sa"
expect_rc 1 "a token with CR/LF"
expect_err "token file $T_TMP/sa/token holds a byte that cannot go into an HTTP header" "token with CR/LF refused, named"
printf 'version: v2\n' >"$T_TMP/clients.yaml"
run "${req[@]}" GPU_CLIENTS_FILE="$T_TMP/clients.yaml"
expect_err "version must be v1" "clients file version checked"

# kubeconfig forms against the test server (HTTPS, test CA, bearer token).
sim_start --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
echo -n "$K8S_TOKEN" >"$T_TMP/token"
kc() { # kc FILE CLUSTER-LINES USER-LINES
	printf 'apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster:\n    server: %s\n%s\nusers:\n- name: u\n  user:\n%s\n' \
		"$K8S_SERVER" "$2" "$3" >"$1"
}
mkdir -p "$T_TMP/kc"
kc "$T_TMP/kc/data" "    certificate-authority-data: $(base64 -w0 "$K8S/ca.pem")" "    tokenFile: ../token"
kc "$T_TMP/kc/insecure" "    insecure-skip-tls-verify: true" "    token: $K8S_TOKEN"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/other.key" -out "$T_TMP/other.pem" \
	-days 1 -subj /CN=other >/dev/null 2>&1
kc "$T_TMP/kc/wrongca" "    certificate-authority: ../other.pem" "    token: $K8S_TOKEN"
for k in data insecure; do
	k8s_unlabel "$K8S_NODE" "$LABEL_STATE" 2>/dev/null
	agent_start KUBECONFIG="$T_TMP/kc/$k"
	wait_state success
	agent_stop
	expect_eq "$AGENT_RC" 0 "kubeconfig '$k': works, exits 0"
done
has "WARN.*insecure-skip-tls-verify is set in $T_TMP/kc/insecure" "$AGENT_LOG" &&
	pass "insecure-skip-tls-verify: a warning at start" || fail "insecure-skip-tls-verify taken silently"
# kubectl refuses a CA beside insecure-skip-tls-verify; so does the agent.
kc "$T_TMP/kc/both" "    insecure-skip-tls-verify: true
    certificate-authority: $K8S/ca.pem" "    token: $K8S_TOKEN"
run "${req[@]}" KUBECONFIG="$T_TMP/kc/both"
expect_rc 1 "insecure-skip-tls-verify with certificate-authority"
expect_err "specifying a root certificates file with the insecure flag is not allowed" "CA + insecure refused as kubectl does"
kc "$T_TMP/kc/crlf" "    certificate-authority: $K8S/ca.pem" '    token: "abc\r\nX-Evil: 1"'
run "${req[@]}" KUBECONFIG="$T_TMP/kc/crlf"
expect_rc 1 "a kubeconfig token with CR/LF"
expect_err 'user "u": the token holds a byte that cannot go into an HTTP header' "kubeconfig token with CR/LF refused"
m=$(k8s_mark)
agent_start KUBECONFIG="$T_TMP/kc/wrongca"
k8s_wait_until 20 grep -q "SSL certificate problem\|certificate verify failed" "$AGENT_LOG" &&
	pass "a server the CA did not sign is refused" || fail "no TLS verification error in the log"
agent_stop
expect_eq "$(k8s_requests_since "$m" | grep -c nvidia-k8s-vgpu-dm)" 0 "wrong CA: no request reached the server"
agent_check_log
finish
