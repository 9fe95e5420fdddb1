# The node-runner scenarios' helpers, on top of tests/k8s/lib.sh: a simulated
# node (vgpu-sim at $ROOT, the node's /), the test API server whose validator
# imitation acts on that node's /run/nvidia/validations, the image, and
# tests/k8s/noderun.py playing the kubelet for one DaemonSet pod. The real
# kubectl applies the manifests and drives the labels.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NR_STATE="$T_TMP/noderun"
NR_PID=""
NR_IMAGE=""      # --image value for noderun.py, set by nr_image
PAUSED=paused-for-vgpu-change
VALIDATIONS="$ROOT/run/nvidia/validations"

nr_cleanup() {
	if [ -n "$NR_PID" ]; then
		kill -TERM "$NR_PID" 2>/dev/null
		wait "$NR_PID" 2>/dev/null
	fi
	if [ "${T_FAILS:-0}" -ne 0 ]; then
		local f
		for f in "$NR_STATE/runner.log" "$NR_STATE"/logs/*.log; do
			[ -s "$f" ] || continue
			echo "--- $f (last lines)"
			tail -n 30 "$f"
		done
	fi
	k8s_cleanup
}
trap nr_cleanup EXIT

# NR_NEEDS: when set, what this scenario's agent lacks from work not merged
# yet (another branch); nr_fail_or_skip then reports a check that fails as
# skipped, with that reason, instead of failed.
NR_NEEDS=""
NR_SKIPS=0
nr_fail_or_skip() {
	if [ -n "$NR_NEEDS" ]; then
		NR_SKIPS=$((NR_SKIPS + 1))
		echo "SKIP - $* (needs: $NR_NEEDS)"
	else
		fail "$*"
	fi
}

# nr_skip REASON: the scenario cannot run here; say why and exit 77 (meson: skipped).
nr_skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || nr_skip "the node runner needs root (mount and PID namespaces)"

# nr_image: what the pod's containers run. The image when it has been built
# (make image, or the image test: the build tree's image/), refreshed with
# scripts/build-image (a no-op when up to date) in the plain build, or
# $VGPU_DM_IMAGE_ROOTFS when set. Else (no image built, no image tool, or the
# sanitizer build, whose binaries are the ones to check) the installed files
# (meson install --destdir) over this system, with the Containerfile's
# ENTRYPOINT and ENV. A cold image build (mmdebstrap, many minutes) is never
# started here.
nr_image() {
	local rootfs=${VGPU_DM_IMAGE_ROOTFS:-} tool
	: "${VGPUDM_BUILDDIR:?VGPUDM_BUILDDIR must name the meson build directory}"
	tool=$(command -v buildah || command -v podman || command -v docker || true)
	if [ -z "$rootfs" ] && [ -n "$tool" ] && [ "${VGPUDM_SANITIZE:-none}" = none ] &&
		[ -d "$VGPUDM_BUILDDIR/image/rootfs" ]; then
		if "$VGPUDM_SRCDIR/scripts/build-image" "$VGPUDM_BUILDDIR/image" >"$T_TMP/image.log" 2>&1; then
			rootfs="$VGPUDM_BUILDDIR/image/rootfs"
		else
			fail "scripts/build-image failed; running the installed files instead"
			tail -20 "$T_TMP/image.log"
		fi
	fi
	if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
		NR_IMAGE="rootfs:$rootfs"
		echo "# image: the built image's root file system $rootfs"
		return 0
	fi
	local dest="$T_TMP/destdir"
	if ! meson install -C "$VGPUDM_BUILDDIR" --no-rebuild --quiet --destdir "$dest" >"$T_TMP/install.log" 2>&1; then
		cat "$T_TMP/install.log"
		echo "FATAL: meson install --destdir failed" >&2
		exit 1
	fi
	NR_IMAGE="install:$dest"
	echo "# image: the installed files (meson install --destdir) over this system" \
		"($([ -z "$tool" ] && echo "no image tool" || { [ "${VGPUDM_SANITIZE:-none}" = none ] &&
			echo "no image built: make image" || echo "sanitizer build"; }))"
}

# nr_start NAMESPACE/DAEMONSET: the runner for that DaemonSet on $K8S_NODE.
nr_start() {
	mkdir -p "$NR_STATE"
	python3 "$K8S_LIB_DIR/noderun.py" --server "$K8S_SERVER" --ca "$K8S/ca.pem" \
		--token-file "$K8S/server-tokens" --node "$K8S_NODE" --node-root "$ROOT" \
		--daemonset "$1" --image "*=$NR_IMAGE" \
		--containerfile "$VGPUDM_SRCDIR/deployments/container/Containerfile" \
		--state-dir "$NR_STATE" --backoff 1 --poll 0.3 2>>"$NR_STATE/runner.log" &
	NR_PID=$!
}

# nr_status KEY: a field of the runner's status (pod, uid, phase, container, pid,
# restarts, pods, waiting).
nr_status() { sed -n "s/^$1=//p" "$NR_STATE/status" 2>/dev/null; }
# nr_wait KEY VALUE [SECONDS]
nr_wait() {
	k8s_wait_until "${3:-$K8S_TIMEOUT}" eval "[ \"\$(nr_status $1)\" = '$2' ]"
}
# nr_wait_running: until a container runs (not in its restart backoff).
nr_wait_running() { k8s_wait_until 60 eval '[ "$(nr_status pid)" != 0 ]'; }
# nr_kill_container: kill -9 the running container (the runner restarts it).
nr_kill_container() { kill -USR1 "$NR_PID"; }
# nr_log CONTAINER: that container's output, every run.
nr_log() { cat "$NR_STATE/logs/$1.log" 2>/dev/null; }
# nr_agent_log: the main container's.
nr_agent_log() { nr_log "$NR_AGENT"; }

state() { k8s_get_label "$K8S_NODE" "$LABEL_STATE"; }
plugin() { k8s_get_label "$K8S_NODE" "$LABEL_PLUGIN"; }
validator() { k8s_get_label "$K8S_NODE" "$LABEL_VALIDATOR"; }
has() { grep "$@" >/dev/null; }

wait_state() {
	if k8s_wait_label "$K8S_NODE" "$LABEL_STATE" "$1" "${2:-$K8S_TIMEOUT}"; then
		pass "state $1${3:+ ($3)}"
	else
		fail "state: '$(state)', expected '$1'${3:+ ($3)} (agent: $(nr_agent_log | tail -n 4 | tr '\n' '|'))"
	fi
}
expect_types() { expect_eq "$(vgpu_types | paste -sd, -)" "$1" "$2"; }
expect_operands() { expect_eq "$(plugin) $(validator)" "$1 $1" "operand labels are $1"; }

# nr_sanitizers: no sanitizer report in any container's output.
nr_sanitizers() {
	if cat "$NR_STATE"/logs/*.log | grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:"; then
		fail "a sanitizer report in a container's output"
		cat "$NR_STATE"/logs/*.log | grep -E -A20 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" | head -40
	else
		pass "no sanitizer report in the containers' output"
	fi
}

# A simulated VM: a real process that holds the vfio group of the vGPU $1
# (UUID) open through the node's /dev, so it shows in the node's proc view
# ($ROOT/proc/<pid>/fd) and nowhere a container's own /proc would show it.
vm_hold() {
	local group
	group=$(basename "$(readlink "$ROOT/sys/bus/mdev/devices/$1/iommu_group")")
	k8s_bg bash -c "exec 3<>'$ROOT/dev/vfio/$group'; exec -a qemu-system-x86_64 sleep 600"
	VM_PID=$!
	k8s_wait_until 10 test -d "$ROOT/proc/$VM_PID"
}
# nr_kill_pod: the pod dies at once (SIGKILL, no preStop) and a new one comes.
nr_kill_pod() { kill -USR2 "$NR_PID"; }

# ---- the checks both DaemonSets must pass (on a node with a T4 and an A100,
# ConfigMap = examples/config-mixed.yaml)

# check_default_and_change: the default layout at start, then a label change.
check_default_and_change() {
	nr_wait phase Running 60 && pass "pod $(nr_status pod) running" ||
		fail "pod not running: $(cat "$NR_STATE/status" | tr '\n' ' ')"
	wait_state success 60 "default"
	expect_types "4 A100-10C,4 T4-4Q" "the default layout is applied"
	expect_operands true
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=compute"
	k8s_wait_until 60 eval '[ "$(vgpu_types | paste -sd, -)" = "8 A100-5C,4 T4-4Q" ]'
	wait_state success 30 "label compute"
	expect_types "8 A100-5C,4 T4-4Q" "label compute: the A100 changed, the T4 kept"
	expect_operands true
}

# check_holder: a simulated VM holds a T4 vGPU; layout "none" must leave it. The
# VM is visible only through the node's proc (the container's /host/proc), not
# in the container's own /proc.
check_holder() {
	local u pid
	u=$(vgpus | awk '$2 ~ /^nvidia-/ {print $1}' | while read -r x; do
		grep -q T4 "$ROOT/sys/bus/mdev/devices/$x/mdev_type/name" && echo "$x"; done | head -n1)
	vm_hold "$u" || { fail "the simulated VM did not start"; return; }
	pid=$(nr_status pid)
	if nsenter -t "$pid" -m -p -- test -d "/host/proc/$VM_PID" &&
		! nsenter -t "$pid" -m -p -- test -d "/proc/$VM_PID"; then
		pass "the VM (pid $VM_PID) is in the container's /host/proc, not in its /proc"
	else
		fail "the VM's visibility in the container is not as on a node (pid $VM_PID)"
	fi
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=none"
	wait_state failed 60 "label none with a vGPU in use"
	[ -e "$ROOT/sys/bus/mdev/devices/$u" ] && pass "the held vGPU $u is still there" ||
		fail "the held vGPU $u was removed"
	expect_types "8 A100-5C,4 T4-4Q" "nothing changed on the host"
	expect_operands true
	if nr_agent_log | tail -n 20 | has -E "in use by pid $VM_PID \(qemu-system-x86"; then
		pass "the agent refused before any write, naming the VM (pid $VM_PID, qemu) it saw in /host/proc"
	else
		nr_fail_or_skip "the agent did not name the VM (pid $VM_PID) holding the vGPU"
	fi
	kill "$VM_PID"
	wait "$VM_PID" 2>/dev/null
	k8s_label "$K8S_NODE" "$LABEL_CONFIG=default"
	wait_state success 60 "default again once the VM is gone"
	expect_types "4 A100-10C,4 T4-4Q" "the default layout is back"
}

# check_kill9: kill -9 of the container mid-apply, at several moments; the
# kubelet restarts it (no init container again) and it recovers from the
# host's journal (the container's own /run is new at every start).
check_kill9() {
	local target=compute types="8 A100-5C,4 T4-4Q" d r
	settled() { [ "$(state)" = success ] && [ "$(plugin) $(validator)" = "true true" ] &&
		[ "$(vgpu_types | paste -sd, -)" = "$1" ]; }
	for d in 0.5 1.5 2.5 3.5; do
		nr_wait_running
		r=$(nr_status restarts)
		k8s_label "$K8S_NODE" "$LABEL_CONFIG=$target"
		sleep "$d"
		[ "$(state)" = pending ] && echo "# kill -9 after ${d}s: state pending"
		nr_kill_container
		nr_wait restarts $((r + 1)) 20 || fail "the container was not restarted"
		if k8s_wait_until 90 settled "$types"; then
			pass "kill -9 after ${d}s, restart: success, operands true, $target applied"
		else
			fail "kill -9 after ${d}s: state $(state), operands $(plugin)/$(validator), host $(vgpu_types | paste -sd, -)"
		fi
		[ ! -e "$ROOT/run/nvidia-vgpu-dm.journal" ] && pass "no journal left on the host" ||
			fail "a journal left on the host"
		if [ "$target" = default ]; then target=compute types="8 A100-5C,4 T4-4Q"; else
			target=default types="4 A100-10C,4 T4-4Q"; fi
	done
	# A dead apply's journal on the host (the T4's vGPUs), two of them
	# already gone: the restarted container restores the host from it first.
	local t4 j="$ROOT/run/nvidia-vgpu-dm.journal"
	t4=$(awk '$3 == "T4" {print $2}' "$ROOT/.vgpu-sim/info")
	nr_wait_running
	r=$(nr_status restarts)
	touch "$NR_STATE/hold"
	nr_kill_container
	nr_wait pid 0 20
	{
		echo "nvidia-vgpu-dm journal v2"
		echo "pid 999999"
		echo "gpu $t4"
		vgpus | awk -v g="$t4" '$3 == g {print "vgpu " g " " $1 " " $2 " " $3}'
		echo end
	} >"$j"
	for u in $(vgpus | awk -v g="$t4" '$3 == g {print $1}' | head -2); do
		echo 1 >"$ROOT/sys/bus/mdev/devices/$u/remove"
	done
	rm "$NR_STATE/hold"
	nr_wait restarts $((r + 1)) 30 || fail "the container was not restarted"
	k8s_wait_until "$([ -n "$NR_NEEDS" ] && echo 10 || echo 60)" eval '[ ! -e "$j" ]'
	[ -n "$NR_NEEDS" ] && rm -f "$j"
	wait_state success 60 "after a dead apply"
	expect_types "$([ "$target" = default ] && echo "8 A100-5C,4 T4-4Q" || echo "4 A100-10C,4 T4-4Q")" \
		"the host's journal was recovered: the layout is whole again"
	nr_agent_log | has "journal was restored first" && pass "the dead apply was undone from the host's journal" ||
		nr_fail_or_skip "no journal recovery in the agent's log"
}
