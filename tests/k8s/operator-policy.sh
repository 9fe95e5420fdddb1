#!/bin/bash
# doc/kubernetes.md's way to run our image from the GPU Operator: its
# ClusterPolicy block read as the operator reads spec.vgpuDeviceManager (the
# image reference from repository/image/version, the ConfigMap, the env it
# appends), checked against what we build and what the agent reads; then the
# agent run with the operator's environment plus that env (the metrics port
# moved to a free one), /metrics scraped with curl while kubectl changes the
# node's label.
. "$(dirname "$0")/agent-lib.sh"
DOC="$VGPUDM_SRCDIR/doc/kubernetes.md"

# The block after the "<!-- clusterpolicy" marker, as JSON lines the shell reads.
python3 - "$DOC" "$VGPUDM_SRCDIR/deployments/kubernetes/daemonset.yaml" >"$T_TMP/policy" 2>&1 <<'PY'
import re, sys, yaml
doc = open(sys.argv[1]).read()
m = re.search(r"<!-- clusterpolicy.*?-->\n```yaml\n(.*?)```", doc, re.S)
p = yaml.safe_load(m.group(1))
assert p["kind"] == "ClusterPolicy" and p["apiVersion"] == "nvidia.com/v1", p
v = p["spec"]["vgpuDeviceManager"]
known = {"enabled", "repository", "image", "version", "imagePullPolicy", "imagePullSecrets",
         "config", "env", "args", "resources"}  # gpu-operator api/nvidia/v1 VGPUDeviceManagerSpec
assert set(v) <= known, set(v) - known
ver = str(v["version"])
ref = f'{v["repository"]}/{v["image"]}' + (f"@{ver}" if ver.startswith("sha256:") else f":{ver}")
ds = yaml.safe_load(open(sys.argv[2]))
built = ds["spec"]["template"]["spec"]["containers"][0]["image"]   # what make image tags
print("ref", ref)
print("built", built)
print("config", v["config"]["name"], v["config"].get("default", "default"))
for e in v.get("env", []):
    print("env", e["name"], e["value"])
cm = re.search(r"kubectl create configmap -n gpu-operator (\S+) \\\n\s+--from-file=config.yaml=(\S+)", doc)
print("cmdoc", cm.group(1), cm.group(2))
PY
[ $? = 0 ] && pass "the ClusterPolicy block parses; only fields of spec.vgpuDeviceManager" ||
	fail "ClusterPolicy block: $(cat "$T_TMP/policy")"
get() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "$T_TMP/policy"; }
expect_eq "$(get ref)" "registry.example.com/vgpu/vgpu-dm:0.1.0" "the operator's image reference"
built=$(get built)
expect_eq "${built##*/}" "vgpu-dm:$(sed -n "s/.*version : '\([^']*\)'.*/\1/p" "$VGPUDM_SRCDIR/meson.build" | head -1)" \
	"image name and version are the ones we build ($built)"
read -r cfgname cfgdefault <<<"$(get config)"
read -r cmname cmfile <<<"$(get cmdoc)"
expect_eq "$cmname" "$cfgname" "the documented ConfigMap is the one config.name names"
[ -f "$VGPUDM_SRCDIR/$cmfile" ] && pass "its file $cmfile exists" || fail "no $cmfile"
"$VGPU_K8S_DM" --help >"$OUT" 2>&1
while read -r name value; do
	grep -q "\[\$$name\]" "$OUT" && pass "the agent reads \$$name" || fail "the agent does not read \$$name"
done < <(get env)

# The agent with the operator's environment (NAMESPACE, NODE_NAME,
# CONFIG_FILE, DEFAULT_VGPU_CONFIG from config.default) and the policy's env.
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/$cmfile"
policy_env=()
while read -r name value; do
	[ "$name" = VGPU_DM_METRICS_PORT ] && value=0 # a free port here
	policy_env+=("$name=$value")
done < <(get env)
AGENT_ENV=(VGPU_DM_RETRY_BACKOFF=0.5 VGPU_DM_POD_WAIT_TIMEOUT=20)
agent_start --incluster DEFAULT_VGPU_CONFIG="$cfgdefault" VGPU_DM_METRICS_ADDRESS=127.0.0.1 "${policy_env[@]}"
wait_state success
port=$(sed -n 's/.*serving \/metrics, \/healthz and \/readyz on 127.0.0.1:\([0-9]*\)$/\1/p' "$AGENT_LOG" | tail -1)
[ -n "$port" ] && pass "the policy's VGPU_DM_METRICS_PORT turns the endpoint on" || fail "no metrics port logged"
curl -sS --max-time 10 "http://127.0.0.1:$port/metrics" >"$OUT" 2>"$ERR"
grep -qx 'vgpu_dm_state{state="success"} 1' "$OUT" && pass "/metrics: state success" ||
	fail "/metrics: $(grep vgpu_dm_state "$OUT")"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=compute"
wait_state success
curl -sS --max-time 10 "http://127.0.0.1:$port/metrics" >"$OUT" 2>"$ERR"
grep -qx 'vgpu_dm_selected_config_info{config="compute"} 1' "$OUT" && pass "/metrics follows the label" ||
	fail "/metrics: $(grep selected "$OUT")"
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"
agent_check_log
finish
