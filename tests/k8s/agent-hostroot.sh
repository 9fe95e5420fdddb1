#!/bin/bash
# The agent as the GPU Operator's pod sees the host (kubernetes-agent.md
# §1.10): sysfs at the container's /sys, the host's / at HOST_ROOT_MOUNT, the
# container's own /proc and /run empty of the host. A private mount namespace
# binds the simulated host's sys/ onto the "container's" sys/; the simulated
# host itself is the host root. Then:
#   - the start-up line names the roots, lock, journal, NVML, sriov-manage;
#   - lock and journal are the host's ($ROOT/run), never the container's;
#   - a vGPU a "VM" holds is seen only through the host root's proc/;
#   - a CLI run on the host and the agent exclude each other (one lock);
#   - VGPU_DM_CACHE_DIR written with the host root in front is the same
#     host path, not /host/host/...
. "$(dirname "$0")/agent-lib.sh"
AGENT_ENV+=(VGPU_DM_RETRY_BACKOFF=1)
sim_start --gpu T4 --gpu T4
k8s_start
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
CTR="$T_TMP/ctr"                # the container's root: its own proc/ and run/
mkdir -p "$CTR/sys" "$CTR/proc" "$CTR/run"
HOLDER=""
trap '[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; agent_cleanup' EXIT

# pod_start [ENV=V...]: the agent in its own mount namespace, sysfs from
# $CTR/sys (the host's, bound), host root $ROOT.
pod_start() {
	AGENT_RUNS=$((AGENT_RUNS + 1))
	echo "=== agent run $AGENT_RUNS (pod view)" >>"$AGENT_LOG"
	env NODE_NAME="$K8S_NODE" NAMESPACE="$K8S_OPERAND_NS" CONFIG_FILE="$CM/config.yaml" \
		DEFAULT_VGPU_CONFIG=default KUBECONFIG="$K8S_KUBECONFIG" "${AGENT_ENV[@]}" \
		VGPU_DM_SYSFS_ROOT="$CTR" HOST_ROOT_MOUNT="$ROOT" "$@" \
		unshare -m bash -c 'mount --make-rprivate / && mount --bind "$1/sys" "$2/sys" && exec "$3"' \
		pod "$ROOT" "$CTR" "$VGPU_K8S_DM" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
}

pod_start
wait_state success
expect_types "4 T4-8Q" "the default applied through the container's sysfs"
line=$(grep -m1 "host: sysfs root" "$AGENT_LOG")
case "$line" in
*"sysfs root $CTR, host root $ROOT (HOST_ROOT_MOUNT), lock $ROOT/run/nvidia-vgpu-dm.lock, journal $ROOT/run/nvidia-vgpu-dm.journal, driver root "*", NVML "*", sriov-manage "*)
	pass "the start-up line names the roots, lock, journal, NVML and sriov-manage" ;;
*) fail "start-up line: $line" ;;
esac
[ -e "$ROOT/run/nvidia-vgpu-dm.lock" ] && pass "the lock is the host's" || fail "no lock in the host's run/"
expect_eq "$(ls -A "$CTR/run")" "" "nothing in the container's run/"

# A VM holds a vGPU: only the host root's proc/ shows it.
gpu0=$(ls "$ROOT/sys/class/mdev_bus" | sort | head -1)
held=$(vgpus | awk -v g="$gpu0" '$3 == g {print $1}' | tail -1)
group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$held/iommu_group")")
sleep 300 3<>"$ROOT/dev/vfio/$group" &
HOLDER=$!
k8s_wait_until 5 test -e "$ROOT/proc/$HOLDER"
expect_eq "$(ls -A "$CTR/proc")" "" "the container's proc/ shows no VM"
before=$(vgpus)
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-4Q"
expect_event "^Warning VGPUInUse Node/$K8S_NODE vGPU config T4-4Q: .*vGPU $held \(T4-8Q\) on $gpu0 is in use by pid $HOLDER \(sleep 300\)" \
	"the holder seen through the host root's proc/"
wait_state failed
expect_eq "$(vgpus)" "$before" "in use: host unchanged"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
HOLDER=""
wait_state success
expect_types "8 T4-4Q" "after the VM left: T4-4Q"


# The host's lock: held on the host, the agent waits for it.
exec 9>"$ROOT/run/nvidia-vgpu-dm.lock"
flock 9
k8s_label "$K8S_NODE" "$LABEL_CONFIG=T4-2Q"
k8s_wait_until 30 grep -q "Waiting for another nvidia-vgpu-dm" "$AGENT_LOG" &&
	pass "the agent waits for the host's lock" || fail "the agent did not wait for the host's lock"
flock -u 9
exec 9>&-
wait_state success
expect_types "16 T4-2Q" "then applied"
agent_stop

# A MIG-backed layout on an A100 with NVML and sriov-manage only under the
# driver root (as the operator's driver container lays them out; the
# library's link is absolute, resolved inside the driver root). The
# sriov-manage there waits while $GATE exists, so an apply stays inside its
# lock for as long as the test needs: the agent and a CLI run on the host
# exclude each other.
mountpoint -q "$ROOT" && fusermount3 -u "$ROOT"
sim_start --gpu A100
cm_config "$VGPUDM_SRCDIR/tests/data/upstream/upstream-config-example.yaml"
k8s_unlabel "$K8S_NODE" "$LABEL_CONFIG"
DRV="$T_TMP/driver-root"
GATE="$T_TMP/gate"
CALLS="$T_TMP/sriov-calls"
mkdir -p "$DRV/usr/lib64" "$DRV/usr/lib/nvidia"
cp "$VGPU_SIM_NVML" "$DRV/usr/lib64/libnvidia-ml.so.550.54.14"
ln -s /usr/lib64/libnvidia-ml.so.550.54.14 "$DRV/usr/lib64/libnvidia-ml.so.1"
printf '#!/bin/bash\necho "$PPID $*" >>"%s"\nwhile [ -e "%s" ]; do sleep 0.1; done\nexec "%s" "$@"\n' \
	"$CALLS" "$GATE" "$VGPU_SIM_SRIOV_MANAGE" >"$DRV/usr/lib/nvidia/sriov-manage"
chmod 755 "$DRV/usr/lib/nvidia/sriov-manage"
export VGPU_SIM_ROOT="$ROOT"
pod_start DRIVER_ROOT_CTR_PATH="$DRV"
wait_state success
line=$(grep "host: sysfs root" "$AGENT_LOG" | tail -1)
has -F "NVML $DRV/usr/lib64/libnvidia-ml.so.550.54.14 (under the driver root)" <<<"$line" &&
	pass "NVML found under the driver root" || fail "NVML: $line"
has -F "sriov-manage $DRV/usr/lib/nvidia/sriov-manage (default, under the driver root)" <<<"$line" &&
	pass "sriov-manage found under the driver root" || fail "sriov-manage: $line"
touch "$GATE"
: >"$CALLS"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=A100-1-5C"
k8s_wait_until 60 test -s "$CALLS" && pass "the agent runs the driver root's sriov-manage" ||
	fail "no sriov-manage call (agent log: $(tail -n 5 "$AGENT_LOG" | tr '\n' '|'))"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" \
	VGPU_DM_SYSFS_ROOT="$ROOT" "$VGPU_DM" apply -f "$CM/config.yaml" -c default --lock-timeout 1 \
	>"$OUT" 2>"$ERR"
RC=$?
expect_rc 4 "a CLI run on the host gives up on the agent's lock"
has "another nvidia-vgpu-dm (pid $AGENT_PID) is applying a configuration" <"$ERR" &&
	pass "...naming the agent's pid" || fail "CLI: $(cat "$ERR")"
rm -f "$GATE"
wait_state success 120
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_SYSFS_ROOT="$ROOT" "$VGPU_DM" assert -f "$CM/config.yaml" \
	-c A100-1-5C >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "A100-1-5C applied (MIG mode on, GPU instances made through the driver root's NVML)"

# The other way: a CLI run on the host holds the lock (inside its
# sriov-manage); the agent waits for it.
touch "$GATE"
: >"$CALLS"
VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML" VGPU_DM_SRIOV_MANAGE="$DRV/usr/lib/nvidia/sriov-manage" \
	VGPU_DM_SYSFS_ROOT="$ROOT" "$VGPU_DM" apply -f "$CM/config.yaml" -c default >"$T_TMP/cli.out" 2>&1 &
CLI=$!
k8s_wait_until 60 test -s "$CALLS" && pass "the CLI holds the lock inside sriov-manage" ||
	fail "the CLI ran no sriov-manage: $(cat "$T_TMP/cli.out")"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=default"
k8s_wait_until 30 grep -q "Waiting for another nvidia-vgpu-dm (pid $CLI)" "$AGENT_LOG" &&
	pass "the agent waits for the CLI's lock" || fail "the agent did not wait for the CLI (pid $CLI)"
rm -f "$GATE"
wait "$CLI"
expect_eq "$?" 0 "the CLI's apply completed"
wait_state success 120
agent_stop
unset VGPU_SIM_ROOT

# VGPU_DM_CACHE_DIR: a host path; written with the host root in front it is
# the same path, not joined under the root twice.
mountpoint -q "$ROOT" && fusermount3 -u "$ROOT"
sim_start --gpu L40S:vfio
cm_config "$VGPUDM_SRCDIR/tests/data/k8s/config.yaml"
pod_start VGPU_DM_CACHE_DIR="$ROOT/var/cache/vgpu-dm-test"
k8s_label "$K8S_NODE" "$LABEL_CONFIG=none"
wait_state success
agent_stop
ls "$ROOT"/var/cache/vgpu-dm-test/vgpu-types-* >/dev/null 2>&1 &&
	pass "the type cache is in the host's /var/cache/vgpu-dm-test" ||
	fail "no type cache: $(ls -R "$ROOT/var" 2>&1 | head)"
[ ! -e "$ROOT/${ROOT#/}" ] && pass "not joined under the root twice" || fail "$ROOT/${ROOT#/} exists"
agent_check_log
finish
