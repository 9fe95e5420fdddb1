#!/bin/bash
# deployments/kubernetes: kustomize renders it offline, kubectl creates every
# object in the test API server (a server-side dry run first) beside an
# installed GPU Operator (its namespace gpu-operator exists), and what was
# created uses names of its own, grants exactly the RBAC the agent needs,
# runs the agent with probes the way its flags and the GPU Operator's
# contract expect, and `kubectl delete -k` removes it without touching the
# operator's namespace.
K8S_OPERAND_NS=gpu-operator # the GPU Operator is installed: its namespace exists
source "$(dirname "$0")/lib.sh"

DEP="$VGPUDM_SRCDIR/deployments/kubernetes"
NS=vgpu-dm
OPNS=gpu-operator
SA=vgpu-dm-agent

# --- offline render
HOME="$K8S/home" "$KUBECTL" kustomize "$DEP" >"$K8S/rendered.yaml" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl kustomize deployments/kubernetes renders offline"
cp "$K8S/rendered.yaml" "$OUT"
for k in Namespace ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding DaemonSet ConfigMap; do
	expect_out "^kind: $k\$" "the render has a $k"
done
expect_eq "$(grep -c '^kind:' "$K8S/rendered.yaml")" 10 "ten objects in all"
if grep -q 'name: vgpu-dm-config-' "$K8S/rendered.yaml"; then
	fail "the ConfigMap name has no hash suffix"
else
	pass "the ConfigMap name has no hash suffix (edits are followed in place)"
fi
# Names and labels of our own: none of the operator's.
python3 - "$K8S/rendered.yaml" >"$OUT" 2>&1 <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
bad = []
for d in docs:
    md = d["metadata"]
    what = f'{d["kind"]}/{md.get("namespace", "")}/{md["name"]}'
    if "nvidia" in md["name"] or "gpu-operator" == md["name"]:
        bad.append(f"{what}: a name of the operator's")
    if md.get("labels", {}).get("app.kubernetes.io/part-of") != "vgpu-dm":
        bad.append(f"{what}: no app.kubernetes.io/part-of=vgpu-dm label")
    if d["kind"] == "Namespace" and md["name"] != "vgpu-dm":
        bad.append(f"{what}: a namespace that is not ours")
    if d["kind"] == "DaemonSet":
        labels = d["spec"]["template"]["metadata"].get("labels", {})
        if "app" in labels or "app" in d["spec"]["selector"].get("matchLabels", {}):
            bad.append(f"{what}: the operator's 'app' label key")
    ns = md.get("namespace")
    if ns == "gpu-operator" and (d["kind"], md["name"]) not in (("Role", "vgpu-dm-agent-operands"), ("RoleBinding", "vgpu-dm-agent-operands")):
        bad.append(f"{what}: in the operator's namespace")
print("\n".join(bad) if bad else "ok")
PY
expect_eq "$(cat "$OUT")" ok "names and labels of our own; only the operands Role/RoleBinding in gpu-operator"
if [ -n "${VGPU_DM:-}" ] && [ -x "$VGPU_DM" ]; then
	dm assert --valid-config -f "$VGPUDM_SRCDIR/examples/config-mixed.yaml" -c default
	expect_rc 0 "the ConfigMap's example config is valid and has 'default'"
fi

# --- every object is accepted by a server (the test one: no schema, but
# kubectl parses each document and maps its kind through discovery), beside
# something of the operator's in its namespace.
k8s_start --bare --no-operands
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: operator-owned\n  namespace: %s\ndata:\n  a: b\n' \
	"$OPNS" >"$K8S/operator-owned.yaml"
kctl create --validate=false -f "$K8S/operator-owned.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "the operator's namespace holds a ConfigMap of its own"
# A dry run cannot create objects in a namespace that does not exist yet
# (kube-apiserver says NotFound too): dry-run the Namespace, create it, then
# dry-run everything.
kctl apply --dry-run=server --validate=false -f "$DEP/namespace.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply --dry-run=server of the Namespace"
kctl create --validate=false -f "$DEP/namespace.yaml" >"$OUT" 2>"$ERR"
kctl apply --dry-run=server --validate=false -f "$K8S/rendered.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply --dry-run=server"
expect_out "daemonset.apps/vgpu-dm-agent created \(server dry run\)" "the dry run names the DaemonSet"
kctl get daemonsets -A -o name >"$OUT" 2>"$ERR"
expect_eq "$(wc -l <"$OUT")" 0 "the dry run stored nothing"
kctl apply --validate=false -f "$K8S/rendered.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply of every object"
expect_eq "$(grep -c ' created$' "$OUT")" 9 "nine objects created (the Namespace was there)"
kctl apply --validate=false -f "$K8S/rendered.yaml" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl apply again"
expect_eq "$(grep -c ' unchanged$' "$OUT")" 10 "...changes nothing"

jp() { kctl get "$@" 2>>"$ERR"; }
RULES='{range .rules[*]}{.apiGroups}{" "}{.resources}{" "}{.verbs}{"\n"}{end}'

# --- RBAC: exactly these rules, bound to the agent's ServiceAccount
expect_eq "$(jp clusterrole "$SA" -o jsonpath="$RULES")" \
	'[""] ["nodes"] ["get","list","watch","update"]' \
	"ClusterRole: nodes get/list/watch/update and nothing else"
expect_eq "$(jp role -n "$OPNS" "$SA-operands" -o jsonpath="$RULES")" \
	'[""] ["pods"] ["get","list","watch"]' \
	"Role in $OPNS: pods get/list/watch and nothing else"
expect_eq "$(jp role -n default "$SA-events" -o jsonpath="$RULES")" \
	'["events.k8s.io",""] ["events"] ["create","patch"]' \
	"Role in default: events create and patch (both groups) and nothing else"
expect_eq "$(jp clusterroles -o name | wc -l),$(jp roles -A -o name | wc -l)" 1,2 \
	"no other ClusterRole or Role"
SUBJ='{.roleRef.kind}/{.roleRef.name} {range .subjects[*]}{.kind}/{.namespace}/{.name}{end}'
expect_eq "$(jp clusterrolebinding "$SA" -o jsonpath="$SUBJ")" \
	"ClusterRole/$SA ServiceAccount/$NS/$SA" "ClusterRoleBinding to the ServiceAccount"
expect_eq "$(jp rolebinding -n "$OPNS" "$SA-operands" -o jsonpath="$SUBJ")" \
	"Role/$SA-operands ServiceAccount/$NS/$SA" "RoleBinding in $OPNS to the ServiceAccount"
expect_eq "$(jp rolebinding -n default "$SA-events" -o jsonpath="$SUBJ")" \
	"Role/$SA-events ServiceAccount/$NS/$SA" "RoleBinding in default to the ServiceAccount"
expect_eq "$(jp serviceaccount -n "$NS" "$SA" -o name)" "serviceaccount/$SA" "the ServiceAccount"

# --- the DaemonSet
DS=(daemonset -n "$NS" vgpu-dm-agent)
P=.spec.template.spec
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.serviceAccountName}")" "$SA" "runs as the ServiceAccount"
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.nodeSelector.nvidia\.com/gpu\.deploy\.vgpu-device-manager}")" \
	true "nodeSelector nvidia.com/gpu.deploy.vgpu-device-manager=true"
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.containers[0].securityContext.privileged}")" true \
	"privileged"
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.hostPID}")" false "hostPID false"
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.containers[0].command[0]}")" nvidia-k8s-vgpu-dm \
	"runs nvidia-k8s-vgpu-dm"
grace=$(jp "${DS[@]}" -o jsonpath="{$P.terminationGracePeriodSeconds}")
if [ "${grace:-0}" -ge 60 ]; then pass "terminationGracePeriodSeconds $grace leaves time for an apply"; else fail "terminationGracePeriodSeconds '$grace'"; fi

ENVS=$(jp "${DS[@]}" -o jsonpath="{range $P.containers[0].env[*]}{.name}={.value}{.valueFrom.fieldRef.fieldPath}{\"\\n\"}{end}")
for e in NODE_NAME=spec.nodeName NAMESPACE=$OPNS CONFIG_FILE=/vgpu-config/config.yaml \
	DEFAULT_VGPU_CONFIG=default VGPU_DM_METRICS_PORT=9402; do
	if grep -qx -- "$e" <<<"$ENVS"; then pass "env $e"; else fail "env $e missing (have: $(echo $ENVS))"; fi
done
# The host's paths come from the pod's mounts, as under the operator: no
# root or cache variable (VGPU_DM_CACHE_DIR=/host/... was joined twice).
for n in VGPU_DM_SYSFS_ROOT VGPU_DM_CACHE_DIR HOST_ROOT_MOUNT DRIVER_ROOT_CTR_PATH; do
	grep -q "^$n=" <<<"$ENVS" && fail "the DaemonSet sets $n" || pass "no $n: the mounts say it"
done

# --- probes: the agent's /healthz and /readyz on the port it serves
PORTS=$(jp "${DS[@]}" -o jsonpath="{range $P.containers[0].ports[*]}{.name}={.containerPort}{\"\\n\"}{end}")
expect_eq "$PORTS" "metrics=9402" "containerPort metrics is VGPU_DM_METRICS_PORT"
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.containers[0].livenessProbe.httpGet.path} {$P.containers[0].livenessProbe.httpGet.port}")" \
	"/healthz metrics" "livenessProbe: GET /healthz on metrics"
expect_eq "$(jp "${DS[@]}" -o jsonpath="{$P.containers[0].readinessProbe.httpGet.path} {$P.containers[0].readinessProbe.httpGet.port}")" \
	"/readyz metrics" "readinessProbe: GET /readyz on metrics"
lt=$(jp "${DS[@]}" -o jsonpath="{$P.containers[0].livenessProbe.timeoutSeconds}")
[ "${lt:-1}" -gt 5 ] && pass "liveness timeout ${lt}s is longer than the agent's 5 s ping" ||
	fail "liveness timeout '${lt}' must exceed the agent's 5 s ping"
# Every variable the DaemonSet sets is one the agent reads: its --help lists
# it, or (the library's VGPU_DM_* ones) doc/configuration.md documents it.
if [ -z "${VGPU_K8S_DM:-}" ] && [ -n "${VGPU_DM:-}" ]; then
	VGPU_K8S_DM="$(dirname "$(dirname "$VGPU_DM")")/agent/nvidia-k8s-vgpu-dm"
fi
if [ -x "${VGPU_K8S_DM:-}" ]; then
	"$VGPU_K8S_DM" --help >"$OUT" 2>&1
	for n in $(cut -d= -f1 <<<"$ENVS"); do
		if grep -q "\[\$$n\]" "$OUT"; then
			pass "nvidia-k8s-vgpu-dm --help lists \$$n"
		elif [[ $n == VGPU_DM_* ]] && grep -q "$n" "$VGPUDM_SRCDIR/doc/configuration.md"; then
			pass "$n is a library variable in doc/configuration.md"
		else
			fail "the DaemonSet sets $n, which the agent does not read"
		fi
	done
else
	fail "nvidia-k8s-vgpu-dm not found (VGPU_K8S_DM='${VGPU_K8S_DM:-}')"
fi

MOUNTS=$(jp "${DS[@]}" -o jsonpath="{range $P.containers[0].volumeMounts[*]}{.mountPath}={.name}{\"\\n\"}{end}")
VOLS=$(jp "${DS[@]}" -o jsonpath="{range $P.volumes[*]}{.name}={.hostPath.path}{.configMap.name}{\"\\n\"}{end}")
for m in /vgpu-config=vgpu-dm-config /sys=/sys /host=/ /driver-root=/run/nvidia/driver; do
	mp=${m%%=*} src=${m#*=}
	name=$(grep "^$mp=" <<<"$MOUNTS" | cut -d= -f2)
	if [ -n "$name" ] && grep -qx -- "$name=$src" <<<"$VOLS"; then
		pass "$mp is $src"
	else
		fail "$mp should be $src (mounts: $(echo $MOUNTS); volumes: $(echo $VOLS))"
	fi
done
if jp "${DS[@]}" -o json | grep -q '"subPath"'; then
	fail "no subPath mount (the ConfigMap would never update)"
else
	pass "no subPath mount (ConfigMap edits reach the agent)"
fi

# --- the ConfigMap it mounts
kctl get configmap -n "$NS" vgpu-dm-config -o jsonpath='{.data.config\.yaml}' >"$K8S/cm.yaml" 2>"$ERR"
if cmp -s "$K8S/cm.yaml" "$VGPUDM_SRCDIR/examples/config-mixed.yaml"; then
	pass "ConfigMap vgpu-dm-config's config.yaml is examples/config-mixed.yaml"
else
	fail "ConfigMap vgpu-dm-config's config.yaml differs from examples/config-mixed.yaml"
	diff "$K8S/cm.yaml" "$VGPUDM_SRCDIR/examples/config-mixed.yaml" | head -n 10
fi

# --- kubectl delete -k: ours go, the operator's namespace and objects stay
HOME="$K8S/home" kctl delete -k "$DEP" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl delete -k deployments/kubernetes"
expect_eq "$(kctl get namespace "$OPNS" -o name 2>&1)" "namespace/$OPNS" "the operator's namespace is still there"
expect_eq "$(kctl get configmap -n "$OPNS" operator-owned -o name 2>&1)" "configmap/operator-owned" \
	"...with the operator's objects"
expect_eq "$(kctl get role,rolebinding -n "$OPNS" -o name 2>&1)" "" "our Role and RoleBinding there are gone"
kctl get namespace "$NS" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "our namespace $NS is gone"
expect_eq "$(kctl get clusterrole,clusterrolebinding -o name 2>&1)" "" "our cluster-wide objects are gone"

# The Containerfile is built, checked and run by tests/image/image.sh.

finish
