#!/bin/bash
# Host paths a variable names take one meaning (a path on the host, formed
# under the host root once), and a write the tool relies on later fails
# loudly: VGPU_DM_CACHE_DIR (the vendor-VFIO type-name cache) written plainly
# or with the host root in front, an unwritable one, a relative one; a
# HOST_ROOT_MOUNT that is not a directory.
. "$(dirname "$0")/lib.sh"
sim_start --gpu L40S:vfio
caches() { find "$ROOT/$1" -name 'vgpu-types-*' 2>/dev/null | wc -l; }

VGPU_DM_CACHE_DIR=/var/cache/vgpu-dm-a dm list
expect_rc 0 "list with VGPU_DM_CACHE_DIR=/var/cache/vgpu-dm-a"
expect_eq "$(caches var/cache/vgpu-dm-a)" 1 "the cache is the host's /var/cache/vgpu-dm-a"
VGPU_DM_CACHE_DIR="$ROOT/var/cache/vgpu-dm-b" dm list
expect_rc 0 "list with the root in front of VGPU_DM_CACHE_DIR"
expect_eq "$(caches var/cache/vgpu-dm-b)" 1 "the same host path: the host's /var/cache/vgpu-dm-b"
[ ! -e "$ROOT/${ROOT#/}" ] && pass "not joined under the root twice" || fail "$ROOT/${ROOT#/} exists"

# Unwritable: a warning at the default log level, naming the file and why.
touch "$ROOT/var/cache/blocked"
VGPU_DM_CACHE_DIR=/var/cache/blocked/sub dm list
expect_rc 0 "list still works without a cache"
expect_err "cannot write the vGPU type cache $ROOT/var/cache/blocked/sub/vgpu-types-.*: Not a directory; a later change away from a full GPU may not find its type names" \
	"an unwritable cache is a warning, not a debug line"
VGPU_DM_CACHE_DIR=var/cache/relative dm list
expect_err "VGPU_DM_CACHE_DIR var/cache/relative: not an absolute path on the host: no vGPU type cache" \
	"a relative VGPU_DM_CACHE_DIR is named"

# The host root: a HOST_ROOT_MOUNT that is not a directory is one line, exit 1.
HOST_ROOT_MOUNT="$T_TMP/nowhere" dm list
expect_rc 1 "HOST_ROOT_MOUNT not a directory: exit 1"
expect_err "^FATA\[0000\] HOST_ROOT_MOUNT $T_TMP/nowhere: not a directory" "...one line naming it"
expect_eq "$(wc -l <"$ERR")" 1 "...and only that line"
# Given, it holds the host paths: the lock of an apply is there.
mkdir -p "$T_TMP/hostroot"
HOST_ROOT_MOUNT="$T_TMP/hostroot" dm apply -f "$EXAMPLES/config-mixed.yaml" -c default
expect_rc 0 "apply with a separate host root"
[ -e "$T_TMP/hostroot/run/nvidia-vgpu-dm.lock" ] && [ ! -e "$ROOT/run/nvidia-vgpu-dm.lock" ] &&
	pass "the lock is under HOST_ROOT_MOUNT, not the sysfs root" || fail "lock: $(ls "$T_TMP/hostroot/run" "$ROOT/run" 2>&1)"
finish
