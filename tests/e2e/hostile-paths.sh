#!/bin/bash
# Paths and files on a hostile host: every path the tool writes is formed
# under the root; links inside the tree are resolved within the root; the
# lock, the journal and the type cache never follow a planted symlink and get
# their modes whatever the umask; a journal is believed only when it fits the
# host and nobody else could have written it; a FIFO config and an empty root
# are refused.
. "$(dirname "$0")/lib.sh"
umask 077

# ---- a host made of plain files (symlinks can be planted in it) ----
R="$T_TMP/plain"
DEV="$R/sys/devices/pci0000:00"
OUTSIDE="$T_TMP/elsewhere"
mkdir -p "$R/sys/bus/pci/devices" "$R/sys/class/mdev_bus" "$R/sys/bus/mdev/devices" "$R/run" \
	"$R/sys/module/nvidia" "$R/proc" "$OUTSIDE"
pcifn() { # pcifn BDF DEVICE: an NVIDIA 3D controller
	mkdir -p "$DEV/$1"
	printf '0x10de\n' >"$DEV/$1/vendor"; printf '%s\n' "$2" >"$DEV/$1/device"
	printf '0x030200\n' >"$DEV/$1/class"; printf '0x10de\n' >"$DEV/$1/subsystem_vendor"
	printf '0x12a2\n' >"$DEV/$1/subsystem_device"
	ln -s "../../../devices/pci0000:00/$1" "$R/sys/bus/pci/devices/$1"
}
# A T4 (mdev) with one type, T4-4Q.
pcifn 0000:3b:00.0 0x1eb8
T="$DEV/0000:3b:00.0/mdev_supported_types/nvidia-232"
mkdir -p "$T"
printf 'GRID T4-4Q\n' >"$T/name"
printf 'num_heads=4, frl_config=60, framebuffer=4096M, max_resolution=5120x2880, max_instance=4\n' >"$T/description"
printf '4\n' >"$T/available_instances"
: >"$T/create"
ln -s "../../devices/pci0000:00/0000:3b:00.0" "$R/sys/class/mdev_bus/0000:3b:00.0"
CFG="$T_TMP/c.yaml"
printf 'version: v1\nvgpu-configs:\n  none:\n    - devices: all\n      vgpu-devices: {}\n  one:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 1\n' >"$CFG"

# An absolute link in the tree pointing outside the root: a vGPU "elsewhere".
U=6e4c2b3a-1111-4c4c-9d9d-0123456789ab
mkdir -p "$OUTSIDE/0000:3b:00.0/$U"
: >"$OUTSIDE/0000:3b:00.0/$U/remove"
ln -s "../mdev_supported_types/nvidia-232" "$OUTSIDE/0000:3b:00.0/$U/mdev_type"
ln -s "$OUTSIDE/0000:3b:00.0/$U" "$R/sys/bus/mdev/devices/$U"
ln -s "$OUTSIDE/0000:3b:00.0/mdev_supported_types" "$OUTSIDE/mdev_supported_types" 2>/dev/null
dm_at "$R" list
expect_rc 0 "list with an absolute link leading out of the root"
dm_at "$R" apply -f "$CFG" -c none
expect_eq "$(stat -c %s "$OUTSIDE/0000:3b:00.0/$U/remove")" 0 \
	"apply writes nothing through an absolute link outside the root"
expect_eq "$(stat -c %s "$T/create")" 0 "and nothing else"
# The same on kernels without openat2 (the component walk of lib/base/rootfs.c).
VGPU_DM_ROOTFS_WALK=1 dm_at "$R" list --json
expect_rc 0 "walk: list"
expect_out '"address": "0000:3b:00.0"' "walk: the GPU is found through the bus link"
VGPU_DM_ROOTFS_WALK=1 dm_at "$R" apply -f "$CFG" -c none
expect_eq "$(stat -c %s "$OUTSIDE/0000:3b:00.0/$U/remove")" 0 \
	"walk: nothing written through an absolute link outside the root"
rm "$R/sys/bus/mdev/devices/$U"

# The lock: a planted symlink is refused, its target untouched.
printf 'precious\n' >"$T_TMP/victim"
rm -f "$R/run/nvidia-vgpu-dm.lock"
ln -s "$T_TMP/victim" "$R/run/nvidia-vgpu-dm.lock"
dm_at "$R" apply -f "$CFG" -c one
expect_rc 1 "lock file that is a symlink: refused"
expect_err "cannot open the lock file .*nvidia-vgpu-dm.lock: it is a symbolic link" "says why"
expect_eq "$(cat "$T_TMP/victim")" precious "the link's target is not overwritten"
expect_eq "$(stat -c %s "$T/create")" 0 "nothing written"
rm "$R/run/nvidia-vgpu-dm.lock"

# journal.new: a planted symlink is replaced, never followed.
ln -s "$T_TMP/victim" "$R/run/nvidia-vgpu-dm.journal.new"
dm_at "$R" apply -f "$CFG" -c one
expect_eq "$(cat "$T_TMP/victim")" precious "journal.new symlink: its target is not overwritten"
expect_eq "$(stat -c %a "$R/run/nvidia-vgpu-dm.lock")" 644 "lock file mode 0644 under umask 077"
rm -f "$R/run/nvidia-vgpu-dm.journal" "$R/run/nvidia-vgpu-dm.journal.new"
: >"$T/create"

# A journal nobody but root may have written.
printf 'nvidia-vgpu-dm journal v2\npid 4242\ngpu 0000:3b:00.0\nend\n' >"$R/run/nvidia-vgpu-dm.journal"
chown nobody "$R/run/nvidia-vgpu-dm.journal"
dm_at "$R" apply -f "$CFG" -c one
expect_rc 1 "journal owned by another user: refused"
expect_err "refusing the journal: not owned by root" "says so"
chown 0 "$R/run/nvidia-vgpu-dm.journal"; chmod 0666 "$R/run/nvidia-vgpu-dm.journal"
dm_at "$R" apply -f "$CFG" -c one
expect_rc 1 "journal writable by others: refused"
expect_err "refusing the journal: writable by others" "says so"
printf 'nvidia-vgpu-dm journal v2\npid 4242\ngpu 0000:99:00.0\nend\n' >"$R/run/nvidia-vgpu-dm.journal"
chmod 0600 "$R/run/nvidia-vgpu-dm.journal"
dm_at "$R" apply -f "$CFG" -c one
expect_rc 1 "journal naming a GPU the host does not have: refused"
expect_err "names GPU 0000:99:00.0, which this host does not have" "says which"
printf 'nvidia-vgpu-dm journal v2\npid 99999999999999999999\ngpu 0000:3b:00.0\nend\n' >"$R/run/nvidia-vgpu-dm.journal"
dm_at "$R" apply -f "$CFG" -c one
expect_rc 1 "journal with an out-of-range pid: refused"
expect_err "not a complete journal \(line 2\)" "names the line"
# MIG lines are read as strictly: no trailing junk, no sign, modes 0 and 1.
for bad in "mig 0000:3b:00.0 1 0x|a number is not a decimal in range" \
	"gi 0000:3b:00.0 -1 0 1|a number is not a decimal in range" \
	"mig 0000:3b:00.0 7 0|a number is not a decimal in range" \
	"mig 0000:3b:00.0 1 0 9|too many fields" "gi 0000:3b:00.0 9 0|a field is missing" \
	"mig nvidia0 1 0|the GPU is not a PCI address"; do
	printf 'nvidia-vgpu-dm journal v2\npid 4242\ngpu 0000:3b:00.0\n%s\nend\n' "${bad%|*}" >"$R/run/nvidia-vgpu-dm.journal"
	dm_at "$R" apply -f "$CFG" -c one
	expect_rc 1 "journal line '${bad%|*}': refused"
	expect_err "not a complete journal \(line 4: ${bad#*|}\)" "says why"
done
expect_eq "$(stat -c %s "$T/create")" 0 "no journal refusal wrote anything"
[ -e "$R/run/nvidia-vgpu-dm.journal" ] && pass "the refused journal is kept" || fail "journal removed"
rm -f "$R/run/nvidia-vgpu-dm.journal"

# ---- the type-name cache (vendor VFIO) ----
pcifn 0000:26:00.0 0x26b9
printf '1\n' >"$DEV/0000:26:00.0/sriov_totalvfs"; printf '1\n' >"$DEV/0000:26:00.0/sriov_numvfs"
mkdir -p "$DEV/0000:26:00.4/nvidia"
printf '0x10de\n' >"$DEV/0000:26:00.4/vendor"; printf '0x26b9\n' >"$DEV/0000:26:00.4/device"
printf '0x030200\n' >"$DEV/0000:26:00.4/class"
ln -s ../0000:26:00.4 "$DEV/0000:26:00.0/virtfn0"
ln -s ../0000:26:00.0 "$DEV/0000:26:00.4/physfn"
ln -s ../../../devices/pci0000:00/0000:26:00.4 "$R/sys/bus/pci/devices/0000:26:00.4"
printf '0\n' >"$DEV/0000:26:00.4/nvidia/current_vgpu_type"
printf 'ID    : vGPU Name\n1155  : NVIDIA L40S-4Q\n1156  : NVIDIA L40S-6Q\n' >"$DEV/0000:26:00.4/nvidia/creatable_vgpu_types"

printf 'x/../../escaped\n' >"$R/sys/module/nvidia/version"
mkdir -p "$R/var/cache/nvidia-vgpu-dm/vgpu-types-x" # so that the path would open
dm_at "$R" list
expect_rc 0 "list with a driver version that is a path"
expect_eq "$(find "$T_TMP" -name '*escaped*' | wc -l)" 0 "a name read from the host does not become a path"

VER="550.54.$$$RANDOM"
printf '%s\n' "$VER" >"$R/sys/module/nvidia/version"
dm_at "$R" list
CACHE="$R/var/cache/nvidia-vgpu-dm/vgpu-types-$VER-26b9"
[ -f "$CACHE" ] && pass "the type cache is under the root" || fail "no cache at $CACHE"
[ ! -e "/var/cache/nvidia-vgpu-dm/vgpu-types-$VER-26b9" ] && pass "list writes nothing outside the root" ||
	fail "list wrote the real /var/cache"
expect_eq "$(stat -c %a "$CACHE" 2>/dev/null)" 644 "cache file mode 0644 under umask 077"
VGPU_DM_CACHE_DIR=/custom/cache dm_at "$R" list
[ -f "$R/custom/cache/vgpu-types-$VER-26b9" ] && pass "VGPU_DM_CACHE_DIR is under the root too" ||
	fail "no cache under $R/custom/cache"
rm -f "$CACHE"
ln -s "$T_TMP/victim" "$CACHE"
dm_at "$R" list
expect_eq "$(cat "$T_TMP/victim")" precious "a cache file that is a symlink: its target is not overwritten"

# ---- the journal is checked against the host (simulator) ----
sim_start --gpu T4
SCFG="$T_TMP/s.yaml"
printf 'version: v1\nvgpu-configs:\n  four:\n    - devices: all\n      vgpu-devices:\n        T4-4Q: 4\n  two:\n    - devices: all\n      vgpu-devices:\n        T4-8Q: 2\n' >"$SCFG"
dm apply -f "$SCFG" -c four
expect_rc 0 "4 x T4-4Q"
before=$(vgpus)
printf 'nvidia-vgpu-dm journal v2\npid 4242\ngpu 0000:03:00.0\nend\n' >"$ROOT/run/nvidia-vgpu-dm.journal"
dm apply -f "$SCFG" -c two
expect_rc 1 "a journal naming a GPU with no vGPU lines, whose vGPUs are there: refused"
expect_err "does not describe this host: vGPU .* on GPU 0 \(0000:03:00.0\) is neither in the state it records" "names the vGPU"
expect_eq "$(vgpus)" "$before" "no vGPU removed"
printf 'nvidia-vgpu-dm journal v1\npid 4242\ngpu 0000:03:00.0\nend\n' >"$ROOT/run/nvidia-vgpu-dm.journal"
dm apply -f "$SCFG" -c two
expect_rc 1 "a journal of another format: refused"
expect_err "not a complete journal of this version" "says so"
rm -f "$ROOT/run/nvidia-vgpu-dm.journal"
# A rollback that fails leaves the journal: mode 0600 whatever the umask.
printf 'create 1 EIO\ncreate 2 EIO\n' >"$ROOT/.vgpu-sim/faults"
dm apply -f "$SCFG" -c two
expect_rc 5 "rollback failed"
expect_eq "$(stat -c %a "$ROOT/run/nvidia-vgpu-dm.journal" 2>/dev/null)" 600 "journal mode 0600 under umask 077"
echo clear >"$ROOT/.vgpu-sim/faults"
dm apply -f "$SCFG" -c four
expect_rc 0 "the journal this tool wrote is believed and restored from"
expect_eq "$(vgpus)" "$before" "host as before"

# ---- a config that is a FIFO, an empty root ----
mkfifo "$T_TMP/fifo"
VGPU_DM_SYSFS_ROOT="$ROOT" timeout 20 "$VGPU_DM" apply -f "$T_TMP/fifo" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 1 "a FIFO as config file: refused at once"
expect_err "fifo: not a regular file" "says why"
dm assert -f "$T_TMP" -c four
expect_rc 1 "a directory as config file: refused"
dm --sysfs-root "" list
expect_rc 1 "--sysfs-root \"\": refused"
expect_err "sysfs-root is empty" "says why"
finish
