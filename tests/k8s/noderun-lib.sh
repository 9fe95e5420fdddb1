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

# nr_skip REASON: the scenario cannot run here; say why and exit 77 (meson: skipped).
nr_skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || nr_skip "the node runner needs root (mount and PID namespaces)"

# nr_image: what the pod's containers run. The image's root filesystem when
# one was built (make image: $VGPU_DM_IMAGE_ROOTFS, or the build tree's), else
# the installed files (meson install --destdir from the build tree), laid over
# this system with the Containerfile's ENTRYPOINT and ENV.
nr_image() {
	local rootfs=${VGPU_DM_IMAGE_ROOTFS:-}
	if [ -z "$rootfs" ] && [ -n "${VGPUDM_BUILDDIR:-}" ] && [ -d "$VGPUDM_BUILDDIR/image/rootfs" ]; then
		rootfs="$VGPUDM_BUILDDIR/image/rootfs"
	fi
	if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
		NR_IMAGE="rootfs:$rootfs"
		echo "# image: the built image's rootfs $rootfs"
		return 0
	fi
	: "${VGPUDM_BUILDDIR:?VGPUDM_BUILDDIR must name the meson build directory}"
	local dest="$T_TMP/destdir"
	if ! meson install -C "$VGPUDM_BUILDDIR" --no-rebuild --quiet --destdir "$dest" >"$T_TMP/install.log" 2>&1; then
		cat "$T_TMP/install.log"
		echo "FATAL: meson install --destdir failed" >&2
		exit 1
	fi
	NR_IMAGE="install:$dest"
	echo "# image: no image built; the installed files (meson install --destdir) over this system"
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
# nr_kill9: kill -9 the running container (the runner restarts it).
nr_kill9() { kill -USR1 "$NR_PID"; }
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
