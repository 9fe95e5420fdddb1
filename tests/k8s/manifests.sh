#!/bin/bash
# deployments/kubernetes: kustomize renders it offline, kubectl creates every
# object in the test API server (a server-side dry run first), and what was
# created grants exactly the RBAC the agent needs and runs the agent the way
# its flags and the GPU Operator's contract expect.
K8S_OPERAND_NS=test-operands # the server must not have gpu-operator already
source "$(dirname "$0")/lib.sh"

DEP="$VGPUDM_SRCDIR/deployments/kubernetes"
NS=gpu-operator
SA=nvidia-vgpu-device-manager

# --- offline render
HOME="$K8S/home" "$KUBECTL" kustomize "$DEP" >"$K8S/rendered.yaml" 2>"$ERR"
RC=$?
expect_rc 0 "kubectl kustomize deployments/kubernetes renders offline"
cp "$K8S/rendered.yaml" "$OUT"
for k in Namespace ServiceAccount ClusterRole ClusterRoleBinding Role RoleBinding DaemonSet ConfigMap; do
	expect_out "^kind: $k\$" "the render has a $k"
done
expect_eq "$(grep -c '^kind:' "$K8S/rendered.yaml")" 10 "ten objects in all"
if grep -q 'name: vgpu-devices-config-' "$K8S/rendered.yaml"; then
	fail "the ConfigMap name has no hash suffix"
else
	pass "the ConfigMap name has no hash suffix (edits are followed in place)"
fi
if [ -n "${VGPU_DM:-}" ] && [ -x "$VGPU_DM" ]; then
	dm assert --valid-config -f "$VGPUDM_SRCDIR/examples/config-mixed.yaml" -c default
	expect_rc 0 "the ConfigMap's example config is valid and has 'default'"
fi

# --- every object is accepted by a server (the test one: no schema, but
# kubectl parses each document and maps its kind through discovery)
k8s_start --bare --no-operands
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
expect_out "daemonset.apps/nvidia-vgpu-device-manager created \(server dry run\)" \
	"the dry run names the DaemonSet"
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
expect_eq "$(jp role -n "$NS" "$SA" -o jsonpath="$RULES")" \
	'[""] ["pods"] ["get","list","watch"]' \
	"Role in $NS: pods get/list/watch and nothing else"
expect_eq "$(jp role -n default "$SA-events" -o jsonpath="$RULES")" \
	'["events.k8s.io",""] ["events"] ["create","patch"]' \
	"Role in default: events create and patch (both groups) and nothing else"
expect_eq "$(jp clusterroles -o name | wc -l),$(jp roles -A -o name | wc -l)" 1,2 \
	"no other ClusterRole or Role"
SUBJ='{.roleRef.kind}/{.roleRef.name} {range .subjects[*]}{.kind}/{.namespace}/{.name}{end}'
expect_eq "$(jp clusterrolebinding "$SA" -o jsonpath="$SUBJ")" \
	"ClusterRole/$SA ServiceAccount/$NS/$SA" "ClusterRoleBinding to the ServiceAccount"
expect_eq "$(jp rolebinding -n "$NS" "$SA" -o jsonpath="$SUBJ")" \
	"Role/$SA ServiceAccount/$NS/$SA" "RoleBinding in $NS to the ServiceAccount"
expect_eq "$(jp rolebinding -n default "$SA-events" -o jsonpath="$SUBJ")" \
	"Role/$SA-events ServiceAccount/$NS/$SA" "RoleBinding in default to the ServiceAccount"
expect_eq "$(jp serviceaccount -n "$NS" "$SA" -o name)" "serviceaccount/$SA" "the ServiceAccount"

# --- the DaemonSet
DS=(daemonset -n "$NS" nvidia-vgpu-device-manager)
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
for e in NODE_NAME=spec.nodeName NAMESPACE=metadata.namespace CONFIG_FILE=/vgpu-config/config.yaml \
	DEFAULT_VGPU_CONFIG=default HOST_ROOT_MOUNT=/host DRIVER_ROOT_CTR_PATH=/driver-root \
	VGPU_DM_SYSFS_ROOT=/host; do
	if grep -qx -- "$e" <<<"$ENVS"; then pass "env $e"; else fail "env $e missing (have: $(echo $ENVS))"; fi
done
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
for m in /vgpu-config=vgpu-devices-config /sys=/sys /host=/ /driver-root=/run/nvidia/driver; do
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
kctl get configmap -n "$NS" vgpu-devices-config -o jsonpath='{.data.config\.yaml}' >"$K8S/cm.yaml" 2>"$ERR"
if cmp -s "$K8S/cm.yaml" "$VGPUDM_SRCDIR/examples/config-mixed.yaml"; then
	pass "ConfigMap vgpu-devices-config's config.yaml is examples/config-mixed.yaml"
else
	fail "ConfigMap vgpu-devices-config's config.yaml differs from examples/config-mixed.yaml"
	diff "$K8S/cm.yaml" "$VGPUDM_SRCDIR/examples/config-mixed.yaml" | head -n 10
fi

# --- the Containerfile builds both binaries (it cannot be built here: no engine)
CF="$VGPUDM_SRCDIR/deployments/container/Containerfile"
grep -Eq '^FROM .* AS build' "$CF" && pass "Containerfile: a build stage" || fail "Containerfile: no build stage"
grep -q 'meson setup' "$CF" && pass "Containerfile: meson build" || fail "Containerfile: no meson build"
grep -Eq 'COPY --from=build .*nvidia-k8s-vgpu-dm .*nvidia-vgpu-dm' "$CF" &&
	pass "Containerfile: ships nvidia-k8s-vgpu-dm and nvidia-vgpu-dm" || fail "Containerfile: binaries"
grep -Eq '^ENTRYPOINT \["nvidia-k8s-vgpu-dm"\]' "$CF" && pass "Containerfile: the agent is the entrypoint" ||
	fail "Containerfile: entrypoint"

finish
