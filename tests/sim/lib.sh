# SPDX-License-Identifier: Apache-2.0
# Shared by the simulator tests: check helpers, mounting with cleanup, and the
# foreground/sanitizer check. The sourcing script sets SIM (the vgpu-sim
# binary) and FG (1: mount in the foreground) first.
if [[ ! -e /dev/fuse ]] || ! command -v fusermount3 >/dev/null; then
	echo "SKIP: /dev/fuse or fusermount3 not available"
	exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-sim-test.XXXXXX")
MOUNTS=()
PIDS=()
BG=()   # background processes a test starts; killed at exit
pass=0
fail=0

ok() { echo "ok   - $*"; pass=$((pass + 1)); }
not_ok() { echo "FAIL - $*"; fail=$((fail + 1)); }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi; }
match() { if [[ "$3" =~ $2 ]]; then ok "$1"; else not_ok "$1: '$3' does not match /$2/"; fi; }

# Writes data to file with one write(); prints "ok" or the errno text.
try_write() {
	local err
	if err=$({ printf %s "$2" >"$1"; } 2>&1); then echo ok; else echo "${err##*: }"; fi
}
# Reads a file; prints its contents or the errno text.
try_read() {
	local out
	if out=$(cat "$1" 2>&1); then echo "$out"; else echo "${out##*: }"; fi
}

is_mounted() { mountpoint -q "$1" 2>/dev/null; }

wait_mounted() {
	for _ in $(seq 100); do is_mounted "$1" && return 0; sleep 0.05; done
	return 1
}

# wait_until CMD...: polls up to 5 s (FUSE releases are asynchronous)
wait_until() {
	for _ in $(seq 100); do "$@" && return 0; sleep 0.05; done
	return 1
}

# mount_sim DIR ARGS...: mounts and records it for cleanup
mount_sim() {
	local dir=$1; shift
	mkdir -p "$dir"
	if [[ $FG == 1 ]]; then
		"$SIM" -f "$@" "$dir" 2>"$dir.log" &
		PIDS+=("$!")
		wait_mounted "$dir" || return 1
	else
		"$SIM" "$@" "$dir" || return 1
	fi
	MOUNTS+=("$dir")
}

unmount_all() {
	local m
	for m in "${MOUNTS[@]}"; do is_mounted "$m" && fusermount3 -u "$m"; done
	MOUNTS=()
}

check_foreground_exits() {
	local i log
	for i in "${!PIDS[@]}"; do
		wait "${PIDS[$i]}"
		eq "foreground simulator $i exited 0 after unmount" 0 "$?"
	done
	PIDS=()
	for log in "$WORK"/*.log; do
		[[ -e $log ]] || continue
		if grep -q "Sanitizer\|runtime error" "$log"; then
			not_ok "sanitizer report in $log"
			sed 's/^/    /' "$log" | head -40
		else
			ok "no sanitizer report in $(basename "$log")"
		fi
	done
}

cleanup() {
	local m p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
	for m in "${MOUNTS[@]}"; do fusermount3 -u "$m" 2>/dev/null; done
	for m in "$WORK"/*; do is_mounted "$m" || rm -rf "$m"; done
	rmdir "$WORK" 2>/dev/null
}
trap cleanup EXIT

counter() { awk -v n="$2" '$1 == n { print $2 }' "$1/.vgpu-sim/counters"; }
# BDF of the GPU with this index, from .vgpu-sim/info
gpu_bdf() { awk -v i="$2" '$1 == i { print $2 }' "$1/.vgpu-sim/info"; }
newuuid() { cat /proc/sys/kernel/random/uuid; }
