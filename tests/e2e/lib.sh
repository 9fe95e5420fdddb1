# Shared by the end-to-end tests: start a simulated host, run the tool, check.
# Each test script sources this, calls sim_start with vgpu-sim options, then
# runs checks; any failed check makes the script exit non-zero at the end.
set -uo pipefail
export LC_ALL=C

: "${VGPU_DM:?VGPU_DM must name the nvidia-vgpu-dm binary}"
: "${VGPU_SIM:?VGPU_SIM must name the vgpu-sim binary}"
: "${VGPUDM_SRCDIR:=.}"
# Test data committed in the repository (tests/data/README.md files give sources).
DATA="$VGPUDM_SRCDIR/tests/data"
EXAMPLES="$VGPUDM_SRCDIR/examples"

T_FAILS=0
T_CHECKS=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vgpudm-e2e.XXXXXX")
ROOT="$T_TMP/host"
OUT="$T_TMP/out"
ERR="$T_TMP/err"
RC=0
# The tool's vGPU type-name cache is under the root like every path it writes
# (the simulator's var/cache is a scratch directory): the default is used.
unset VGPU_DM_CACHE_DIR

# The shell that sourced this file. A background job killed before it has
# exec'd (kill right after `cmd &`) is still a copy of this shell and runs the
# EXIT trap: only the test's own shell may clean up.
T_MAIN_PID=$BASHPID
in_main_shell() { [ "$BASHPID" = "$T_MAIN_PID" ]; }
cleanup() {
	in_main_shell || return 0
	if mountpoint -q "$ROOT" 2>/dev/null; then
		fusermount3 -u "$ROOT" 2>/dev/null || fusermount3 -uz "$ROOT" 2>/dev/null
	fi
	rm -rf "$T_TMP"
}
trap cleanup EXIT

sim_start() {
	mkdir -p "$ROOT"
	if ! "$VGPU_SIM" "$@" "$ROOT"; then
		echo "FATAL: vgpu-sim $* failed to start" >&2
		exit 1
	fi
}

# Copies of the tool (and of the NVML stand-in, when VGPU_DM_NVML_LIBRARY
# names it) that another user can run: a clone under a private directory
# (mktemp's 0700, /root) is out of nobody's reach. Sets NOBODY_DM, and points
# VGPU_DM_NVML_LIBRARY at the copy. Makes $T_TMP reachable (mode 755).
nobody_tools() {
	local d="$T_TMP/nobody-tools"
	chmod 755 "$T_TMP"
	mkdir -p "$d" && chmod 755 "$d"
	cp "$VGPU_DM" "$d/nvidia-vgpu-dm" && chmod 755 "$d/nvidia-vgpu-dm"
	NOBODY_DM="$d/nvidia-vgpu-dm"
	if [ -n "${VGPU_DM_NVML_LIBRARY:-}" ]; then
		cp "$VGPU_DM_NVML_LIBRARY" "$d/libnvidia-ml.so.1" && chmod 755 "$d/libnvidia-ml.so.1"
		export VGPU_DM_NVML_LIBRARY="$d/libnvidia-ml.so.1"
	fi
}

# Point the tool and every stand-in of the simulator (NVML, nvidia-smi,
# sriov-manage, systemctl) at the mount, the way the README tells users to.
sim_env() {
	local e
	if ! e=$("$VGPU_SIM" --env "$ROOT"); then
		echo "FATAL: vgpu-sim --env $ROOT failed" >&2
		exit 1
	fi
	eval "$e"
}

# Run the tool against the simulated host; stdout in $OUT, stderr in $ERR, status in $RC.
dm() {
	dm_at "$ROOT" "$@"
}
# The same against another root directory.
dm_at() {
	local root=$1
	shift
	VGPU_DM_SYSFS_ROOT="$root" "$VGPU_DM" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	check_sanitizers "nvidia-vgpu-dm $*"
	return 0
}

# A sanitizer report in the tool's stderr fails the test whatever the exit code
# (LeakSanitizer keeps an exit status of 1 as it is).
check_sanitizers() {
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$ERR"; then
		fail "$1: sanitizer report"
	fi
}

pass() { T_CHECKS=$((T_CHECKS + 1)); echo "ok - $*"; }
fail() {
	T_CHECKS=$((T_CHECKS + 1)); T_FAILS=$((T_FAILS + 1))
	echo "not ok - $*"
	echo "  stdout: $(head -c 2000 "$OUT" 2>/dev/null)"
	echo "  stderr: $(head -c 2000 "$ERR" 2>/dev/null)"
}

expect_rc() { # expect_rc N description
	if [ "$RC" -eq "$1" ]; then pass "$2 (exit $1)"; else fail "$2: exit $RC, expected $1"; fi
}
expect_err() { # expect_err REGEX description
	if grep -Eq -- "$1" "$ERR"; then pass "$2"; else fail "$2: stderr lacks /$1/"; fi
}
expect_out() {
	if grep -Eq -- "$1" "$OUT"; then pass "$2"; else fail "$2: stdout lacks /$1/"; fi
}
expect_eq() { # expect_eq ACTUAL EXPECTED description
	if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: got '$1', expected '$2'"; fi
}

# The vGPUs on the host as sorted "uuid type-id parent" lines.
vgpus() {
	local d
	for d in "$ROOT"/sys/bus/mdev/devices/*; do
		[ -e "$d" ] || continue
		echo "$(basename "$d") $(basename "$(readlink "$d/mdev_type")") $(basename "$(dirname "$(readlink "$d")")")"
	done | sort
}

# The journal an apply that died (pid 999999) leaves: the mdev vGPUs now on
# each mdev GPU, in the tool's journal format v2 (lib/apply/journal.c).
write_dead_journal() {
	{
		echo "nvidia-vgpu-dm journal v2"
		echo "pid 999999"
		for g in $(ls "$ROOT/sys/class/mdev_bus" | sort); do
			echo "gpu $g"
			vgpus | awk -v g="$g" '$3 == g {print "vgpu " g " " $1 " " $2 " " $3}'
		done
		echo end
	} >"$ROOT/run/nvidia-vgpu-dm.journal"
}
# Count vGPUs per type name: "2 T4-8Q" lines, sorted.
vgpu_types() {
	local d
	for d in "$ROOT"/sys/bus/mdev/devices/*; do
		[ -e "$d" ] || continue
		awk '{print $NF}' "$d/mdev_type/name"
	done | sort | uniq -c | awk '{print $1, $2}'
}
sim_counter() { # sim_counter NAME
	awk -v n="$1" '$1 == n {print $2}' "$ROOT/.vgpu-sim/counters"
}
sim_reset() { echo reset >"$ROOT/.vgpu-sim/counters"; }

finish() {
	echo "$((T_CHECKS - T_FAILS)) of $T_CHECKS checks passed"
	[ "$T_FAILS" -eq 0 ]
	exit $?
}
