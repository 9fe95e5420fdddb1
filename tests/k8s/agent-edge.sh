#!/bin/bash
# Edges of a change: operand pods that never go (bounded wait: failed, labels
# restored, host untouched), a MIG-backed layout (refused by the library:
# failed, clearly), and the host GPU clients (GPU_CLIENTS_FILE with
# WITH_SHUTDOWN_HOST_GPU_CLIENTS) stopped around the change and started again.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu T4 --gpu T4
k8s_start
cp "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml" "$T_TMP/c.yaml"
printf '  mig:\n    - devices: all\n      vgpu-devices:\n        A100-1-5C: 7\n' >>"$T_TMP/c.yaml"
cm_config "$T_TMP/c.yaml"
# A stand-in for `chroot /host systemctl ...` (through lib/exec's VGPU_DM_CHROOT):
# a.service runs, b.service does not; every call is logged.
cat >"$T_TMP/chroot" <<SH
#!/bin/sh
echo "\$*" >>"$T_TMP/systemctl.log"
[ "\$3" = is-active ] && [ "\$5" = b.service ] && exit 3
exit 0
SH
chmod +x "$T_TMP/chroot"
printf 'version: v1\nsystemd-services:\n  - a.service\n  - b.service\n' >"$T_TMP/clients.yaml"
AGENT_ENV+=(VGPU_DM_POD_WAIT_TIMEOUT=2 VGPU_DM_RETRY_BACKOFF=30 VGPU_DM_CHROOT="$T_TMP/chroot"
	GPU_CLIENTS_FILE="$T_TMP/clients.yaml" WITH_SHUTDOWN_HOST_GPU_CLIENTS=true HOST_ROOT_MOUNT=/hostroot)
agent_start
expect_event "vGPU config default applied" "default applied"
wait_state success
expect_eq "$(cat "$T_TMP/systemctl.log" | paste -sd';' -)" \
	"/hostroot systemctl is-active -- a.service;/hostroot systemctl stop -- a.service;/hostroot systemctl is-active -- b.service;/hostroot systemctl start -- a.service" \
	"host GPU clients: the running one stopped during the change, then started"

# Operand pods that never go: bounded wait, failed, labels restored.
k8s_fault '{"operands": {"delete_delay": -1}}'
before=$(vgpus)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
expect_event "^Warning OperandsNotStopped Node/$K8S_NODE nvidia-sandbox-device-plugin-daemonset pods on node $K8S_NODE still there after 2s; the host was not changed" \
	"Event: operand pods did not go"
wait_state failed
expect_operands true
expect_eq "$(vgpus)" "$before" "host untouched"
k8s_fault '{"operands": {"delete_delay": 0.2}}'

# A MIG-backed layout goes through the library, which refuses it here.
k8s_label "$K8S_NODE" "$LABEL_CONFIG=mig"
expect_event "^Warning Refused Node/$K8S_NODE vGPU config mig: .*A100-1-5C" "Event: MIG-backed layout refused, type named"
wait_state failed
expect_eq "$(vgpus)" "$before" "host untouched"
expect_operands true
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"
agent_check_log
finish
