#!/bin/bash
# The boot unit, booted: systemd-nspawn boots a container (this machine's /usr,
# an empty /etc, so none of the host's services) whose systemd finds the unit
# where `meson install` put it, enabled, beside stand-ins for libvirtd and
# libvirt-guests that know nothing of it (as the real ones). The container's
# /sim is a vgpu-sim host; the environment file points the unit at it
# (VGPU_DM_SYSFS_ROOT=/sim) and selects the label, as an admin's would.
# Checked: the stand-ins start after the layout is applied and see its vGPUs;
# the UUIDs are the same after a reboot (stable by default, --uuid-seed
# machine-id); an empty VGPU_DM_UUID_SEED= in the environment file opts out;
# a failed apply leaves the unit failed and libvirt still starts.
. "$(dirname "$0")/lib.sh"

UNIT="$(dirname "$VGPU_DM")/nvidia-vgpu-dm.service"
BUILDDIR="$(dirname "$(dirname "$VGPU_DM")")"
if ! command -v systemd-nspawn >/dev/null; then
	echo "SKIP: systemd-nspawn not found (Debian package 'systemd-container', see scripts/install-deps)"
	exit 77
fi
unit_line() { grep -E "^$1=" "$UNIT" | tail -1 | cut -d= -f2-; }
exec_start=$(unit_line ExecStart)
bin=${exec_start%% *}
prefix=$(dirname "$(dirname "$bin")")
envfile=$(unit_line EnvironmentFile)
envfile=${envfile#-}
case $prefix in
/usr | /) echo "FATAL: configure the build with a prefix other than $prefix (the container's /usr is the machine's)" >&2; exit 1 ;;
esac

# The installed tree (what `make install` installs), bound at PREFIX.
DEST=$T_TMP/dest
meson install -C "$BUILDDIR" --destdir "$DEST" --no-rebuild --quiet >"$OUT" 2>"$ERR" || {
	cat "$ERR" >&2
	echo "FATAL: meson install --destdir" >&2
	exit 1
}
installed=$(cd "$DEST" && find . -name nvidia-vgpu-dm.service | head -1)
installed=${installed#.}

# /etc/systemd/system: the unit enabled (systemctl enable's symlink), and the
# stand-ins. Each stand-in records when it started, what vGPUs it saw and the
# unit's state then; the last one powers the container off.
SYS=$T_TMP/system
mkdir -p "$SYS/multi-user.target.wants" "$SYS/graphical.target.wants" "$T_TMP/results" "$T_TMP/etc-vgpu"
case $installed in
/usr/local/lib/systemd/system/*) ;; # on systemd's unit path already
*) ln -s "$installed" "$SYS/nvidia-vgpu-dm.service" ;; # systemctl link
esac
ln -s "$installed" "$SYS/multi-user.target.wants/nvidia-vgpu-dm.service"
standin() { # standin NAME [After=...]
	cat >"$SYS/$1.service" <<EOF
[Unit]
Description=stand-in for $1 (tests/e2e/systemd-boot.sh)
${2:-}
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ls /sim/sys/bus/mdev/devices | sort | xargs > /results/$1.saw; \\
  systemctl show -p ActiveState --value nvidia-vgpu-dm.service > /results/$1.state'
[Install]
WantedBy=multi-user.target
EOF
	ln -s "../$1.service" "$SYS/multi-user.target.wants/$1.service"
}
standin libvirtd
standin libvirt-guests After=libvirtd.service # as the real one
cat >"$SYS/vgpudm-report.service" <<'EOF'
[Unit]
Description=report and power off (tests/e2e/systemd-boot.sh)
DefaultDependencies=no
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for u in nvidia-vgpu-dm libvirtd libvirt-guests; do \
  systemctl show -p ActiveState,Result,ExecMainStatus,ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic $u.service > /results/$u.show; done; \
  journalctl -b -o cat -u nvidia-vgpu-dm.service > /results/journal; journalctl -b -o short-monotonic > /results/boot.journal; systemctl --no-block poweroff'
EOF
ln -s ../vgpudm-report.service "$SYS/graphical.target.wants/vgpudm-report.service"

cat >"$T_TMP/etc-vgpu/config.yaml" <<'YAML'
version: v1
vgpu-configs:
  small:
    - devices: all
      vgpu-devices:
        T4-4Q: 4
  big:
    - devices: all
      vgpu-devices:
        T4-16Q: 1
YAML
ENVDIR=$T_TMP/envdir
mkdir -p "$ENVDIR"
write_env() { # the admin's environment file, plus where the simulated host is
	{ echo "# written by the admin"; printf '%s\n' "$@"; echo "VGPU_DM_SYSFS_ROOT=/sim"; } >"$ENVDIR/$(basename "$envfile")"
}

boot() { # boot NAME: boot the container once; results in $T_TMP/results
	rm -f "$T_TMP/results"/*
	local binds=(--bind="$ROOT:/sim" --bind="$T_TMP/results:/results"
		--bind-ro="$SYS:/etc/systemd/system" --bind-ro="$DEST$prefix:$prefix")
	if [ "$(dirname "$envfile")" = /etc/nvidia-vgpu-dm ]; then
		cp "$ENVDIR"/* "$T_TMP/etc-vgpu/"
	else
		binds+=(--bind-ro="$ENVDIR:$(dirname "$envfile")")
	fi
	binds+=(--bind-ro="$T_TMP/etc-vgpu:/etc/nvidia-vgpu-dm")
	timeout -k 10 180 systemd-nspawn --quiet --register=no --keep-unit --volatile=yes \
		--console=pipe --machine="vgpudm-boot-$$" -D / "${binds[@]}" \
		--boot systemd.firstboot=off >"$T_TMP/boot-$1.log" 2>&1
	RC=$?
	if [ "$RC" -eq 0 ] && [ -s "$T_TMP/results/nvidia-vgpu-dm.show" ]; then
		pass "$1: the container booted and powered off"
	else
		fail "$1: systemd-nspawn --boot (exit $RC)"
		tail -20 "$T_TMP/boot-$1.log" | sed 's/^/    /'
		tail -40 "$T_TMP/results/boot.journal" 2>/dev/null | sed 's/^/    /'
	fi
}
show() { awk -F= -v k="$2" '$1 == k {print $2}' "$T_TMP/results/$1.show"; }
ids() { vgpus | awk '{print $1}' | xargs; }

# --- boot 1: the layout is applied before libvirt starts ---
sim_start --gpu T4 --gpu T4
write_env VGPU_DM_SELECTED_CONFIG=small
boot "first boot"
expect_eq "$(show nvidia-vgpu-dm ActiveState)/$(show nvidia-vgpu-dm Result)" "active/success" \
	"the unit ran at boot and succeeded"
dm assert -f "$T_TMP/etc-vgpu/config.yaml" -c small
expect_rc 0 "the host has the selected layout"
first=$(ids)
expect_eq "$(wc -w <<<"$first")" 8 "8 vGPUs"
for s in libvirtd libvirt-guests; do
	expect_eq "$(cat "$T_TMP/results/$s.saw" 2>/dev/null)" "$first" "$s started with every vGPU there"
	expect_eq "$(cat "$T_TMP/results/$s.state" 2>/dev/null)" "active" "$s started after the unit was done"
	if [ "$(show nvidia-vgpu-dm ExecMainExitTimestampMonotonic)" -le "$(show $s ExecMainStartTimestampMonotonic)" ] 2>/dev/null; then
		pass "$s started after the apply exited (systemd's own timestamps)"
	else fail "$s started at $(show $s ExecMainStartTimestampMonotonic), the apply exited at $(show nvidia-vgpu-dm ExecMainExitTimestampMonotonic)"; fi
done

# --- boot 2: a reboot (a new host with no vGPUs, same machine-id) ---
fusermount3 -u "$ROOT"
sim_start --gpu T4 --gpu T4
boot "reboot"
expect_eq "$(ids)" "$first" "after a reboot the vGPUs have the same UUIDs (stable by default)"
expect_eq "$(cat "$T_TMP/results/libvirtd.saw" 2>/dev/null)" "$first" "and libvirtd finds them at start"

# --- boot 3: the admin opts out of stable UUIDs ---
fusermount3 -u "$ROOT"
sim_start --gpu T4 --gpu T4
write_env VGPU_DM_SELECTED_CONFIG=small VGPU_DM_UUID_SEED=
boot "opt-out boot"
expect_eq "$(show nvidia-vgpu-dm Result)" "success" "VGPU_DM_UUID_SEED= applies too"
third=$(ids)
expect_eq "$(wc -w <<<"$third")" 8 "8 vGPUs"
common=$(comm -12 <(tr ' ' '\n' <<<"$first" | sort) <(tr ' ' '\n' <<<"$third" | sort) | wc -l)
expect_eq "$common" 0 "with VGPU_DM_UUID_SEED= the UUIDs are random, none as before"

# --- boot 4: a failed apply (a label the file does not have) ---
fusermount3 -u "$ROOT"
sim_start --gpu T4 --gpu T4
write_env VGPU_DM_SELECTED_CONFIG=huge
boot "failing boot"
expect_eq "$(show nvidia-vgpu-dm ActiveState)/$(show nvidia-vgpu-dm Result)" "failed/exit-code" \
	"a failed apply leaves the unit failed"
if grep -q 'huge' "$T_TMP/results/journal"; then pass "journalctl -u nvidia-vgpu-dm says why"
else fail "journal: $(head -3 "$T_TMP/results/journal")"; fi
expect_eq "$(show libvirtd ActiveState)" "active" "libvirtd still starts (ordering only, no hard dependency)"
expect_eq "$(ids)" "" "and the host is untouched"
finish
