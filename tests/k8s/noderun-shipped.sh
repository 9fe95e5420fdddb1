#!/bin/bash
# deployments/kubernetes as shipped, run the way a cluster runs it: the real
# kubectl applies it (kustomize) to the test API server, tests/k8s/noderun.py
# plays the kubelet for its DaemonSet's pod on a simulated node (a T4 and an
# A100 under vgpu-sim), from the image (or the installed files), with the
# pod's own volumes, env and service account. kubectl drives the labels.
. "$(dirname "$0")/noderun-lib.sh"
sim_start --gpu T4 --gpu A100
k8s_start --node-root "$K8S_NODE=$ROOT"
nr_image

kctl apply -k "$VGPUDM_SRCDIR/deployments/kubernetes" --validate=false >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply -k deployments/kubernetes"
DS=$(kctl get ds -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}')
[ "$(wc -l <<<"$DS")" = 1 ] && [ -n "$DS" ] && pass "one DaemonSet: $DS" || fail "DaemonSets: '$DS'"
NR_AGENT=$(kctl get ds -n "${DS%/*}" "${DS#*/}" -o jsonpath='{.spec.template.spec.containers[0].name}')
nr_start "$DS"

check_default_and_change
nr_agent_log | has "in-cluster" && pass "the agent found the pod's service account (in-cluster)" ||
	fail "the agent did not use the in-cluster configuration"
kctl get pod -n "${DS%/*}" "$(nr_status pod)" -o jsonpath='{.spec.nodeName} {.status.phase}' >"$OUT"
expect_eq "$(cat "$OUT")" "$K8S_NODE Running" "kubectl sees the pod on $K8S_NODE, Running"

check_holder
check_kill9

# kubectl delete pod: SIGTERM, the agent stops cleanly, a new pod takes over.
old=$(nr_status pod)
kctl delete pod -n "${DS%/*}" "$old" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl delete pod $old"
k8s_wait_until 60 eval '[ "$(nr_status pod)" != "$old" ] && [ "$(nr_status phase)" = Running ]' &&
	pass "a new pod $(nr_status pod) runs" || fail "no new pod after the delete"
nr_agent_log | has -E "received (Terminated|SIGTERM)" && pass "the old pod's agent got SIGTERM" ||
	fail "the agent did not log the SIGTERM"
wait_state success 60 "the new pod"
expect_operands true

nr_sanitizers
finish
