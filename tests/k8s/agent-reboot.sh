#!/bin/bash
# WITH_REBOOT with its guard against reboot loops, on an A100 (Ampere: a MIG
# mode change needs a GPU reset). The simulator refuses the reset (MIG mode
# writes fail with RESET_REQUIRED), so the apply of a MIG-backed layout fails
# and is rolled back; a reboot would complete it.
#  1. WITH_REBOOT: state rebooting (written before the reboot), operands
#     restored, an Event, `chroot HOST_ROOT_MOUNT reboot` once, exit 0.
#  2. Started again with the state rebooting and the reset still refused:
#     failed, Event "MIG mode change failed after reboot", no second reboot.
#  3. Without WITH_REBOOT: failed, no reboot.
. "$(dirname "$0")/agent-lib.sh"
sim_start --gpu A100:mdev
k8s_start
cat >"$T_TMP/c.yaml" <<'Y'
version: v1
vgpu-configs:
  default:
    - devices: all
      vgpu-devices:
        A100-4C: 2
  mig:
    - devices: all
      vgpu-devices:
        A100-1-5C: 7
Y
cm_config "$T_TMP/c.yaml"
# The reboot stand-in (lib/exec's VGPU_DM_CHROOT): logs its arguments and the
# state label the Node has when it runs.
cat >"$T_TMP/chroot" <<SH
#!/bin/bash
echo "\$* state=\$(HOME="$K8S/home" "$KUBECTL" --kubeconfig "$K8S_KUBECONFIG" --cache-dir "$K8S/cache" get node "$K8S_NODE" -o jsonpath='{.metadata.labels.nvidia\\.com/vgpu\\.config\\.state}')" >>"$T_TMP/reboot.log"
exit 0
SH
chmod +x "$T_TMP/chroot"
: >"$T_TMP/reboot.log"
AGENT_ENV+=(VGPU_DM_CHROOT="$T_TMP/chroot" HOST_ROOT_MOUNT=/hostroot VGPU_SIM_ROOT="$ROOT"
	VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE"
	VGPU_DM_RETRY_BACKOFF=30)
# Every MIG mode write (the change, its cancel, again with the VFs off) fails.
refuse_reset() { printf 'clear\nmig 1 EAGAIN\nmig 2 EAGAIN\nmig 3 EAGAIN\nmig 4 EAGAIN\n' >"$ROOT/.vgpu-sim/faults"; }
# wait_exit: the agent ends by itself; its status in $AGENT_RC.
wait_exit() {
	if k8s_wait_until 60 eval '! agent_alive'; then pass "$1"; else fail "$1: still running"; fi
	wait "$AGENT_PID" 2>/dev/null
	AGENT_RC=$?
	AGENT_PID=""
}

agent_start WITH_REBOOT=true
wait_state success
expect_types "2 A100-4C" "default applied"
before=$(vgpus)

# 1. reset refused + WITH_REBOOT: rebooting, operands back, one reboot, exit 0.
refuse_reset
k8s_label "$K8S_NODE" "$LABEL_CONFIG=mig"
expect_event "^Warning Rebooting Node/$K8S_NODE vGPU config mig: .*cannot turn MIG mode on.*rebooting the node" \
	"Event: rebooting to complete the MIG mode change"
wait_exit "WITH_REBOOT: the agent stops after starting the reboot"
expect_eq "$AGENT_RC" 0 "WITH_REBOOT: exit 0"
expect_eq "$(state)" rebooting "state rebooting"
expect_eq "$(cat "$T_TMP/reboot.log")" "/hostroot reboot state=rebooting" \
	"chroot HOST_ROOT_MOUNT reboot ran once, after the state was written"
expect_operands true
expect_eq "$(vgpus)" "$before" "host restored before the reboot"

# 2. started again, the reset still refused: failed, no second reboot.
refuse_reset
agent_start WITH_REBOOT=true
expect_event "^Warning MIGModeChangeFailedAfterReboot Node/$K8S_NODE vGPU config mig: MIG mode change failed after reboot: .*cannot turn MIG mode on" \
	"Event: MIG mode change failed after reboot"
wait_state failed
expect_eq "$(wc -l <"$T_TMP/reboot.log")" 1 "no second reboot"
expect_operands true
agent_alive && pass "the agent keeps running" || fail "the agent stopped"
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"

# 3. without WITH_REBOOT: failed, no reboot (the state no longer reads rebooting).
k8s_unlabel "$K8S_NODE" "$LABEL_CONFIG"
agent_start
wait_state success
refuse_reset
k8s_label "$K8S_NODE" "$LABEL_CONFIG=mig"
expect_event "^Warning ApplyFailed Node/$K8S_NODE vGPU config mig: .*cannot turn MIG mode on" \
	"Event: apply failed"
wait_state failed
expect_eq "$(wc -l <"$T_TMP/reboot.log")" 1 "without WITH_REBOOT: no reboot"
expect_operands true
expect_eq "$(vgpus)" "$before" "host untouched"
agent_stop
expect_eq "$AGENT_RC" 0 "SIGTERM: exit 0"
agent_check_log
finish
