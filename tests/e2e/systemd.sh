#!/bin/bash
# The boot unit (deployments/systemd): the unit meson configured next to the
# binary is what systemd-analyze accepts, has the directives the README
# promises, installs into the unit directory, and the command it runs applies
# the label its environment file selects.
. "$(dirname "$0")/lib.sh"

UNIT="$(dirname "$VGPU_DM")/nvidia-vgpu-dm.service"
BUILDDIR="$(dirname "$(dirname "$VGPU_DM")")"

if [ ! -f "$UNIT" ]; then
	echo "FATAL: no configured unit at $UNIT" >&2
	exit 1
fi

# --- the configured unit ---
if grep -q '@' "$UNIT"; then fail "every @VAR@ substituted"; else pass "every @VAR@ substituted"; fi
unit_line() { grep -E "^$1=" "$UNIT" | tail -1 | cut -d= -f2-; }
expect_eq "$(unit_line Type)" "oneshot" "Type=oneshot"
expect_eq "$(unit_line RemainAfterExit)" "yes" "RemainAfterExit=yes"
expect_eq "$(unit_line TimeoutStartSec)" "480" "TimeoutStartSec=480"
expect_eq "$(unit_line EnvironmentFile)" "-/etc/nvidia-vgpu-dm/selected.env" "optional EnvironmentFile"
expect_eq "$(unit_line ConditionPathExists)" "/etc/nvidia-vgpu-dm/config.yaml" "runs only with a config file"
expect_eq "$(unit_line WantedBy)" "multi-user.target" "WantedBy=multi-user.target"
if unit_line After | grep -qw 'nvidia-vgpu-mgr.service'; then pass "ordered after nvidia-vgpu-mgr"
else fail "ordered after nvidia-vgpu-mgr: After=$(unit_line After)"; fi
for u in libvirtd.service libvirt-guests.service virtqemud.service; do
	if unit_line Before | grep -qw "$u"; then pass "ordered before $u"
	else fail "ordered before $u: Before=$(unit_line Before)"; fi
done
if grep -qx 'Environment=VGPU_DM_UUID_SEED=machine-id' "$UNIT"; then pass "stable UUIDs by default (--uuid-seed machine-id)"
else fail "no Environment=VGPU_DM_UUID_SEED=machine-id"; fi
if grep -Eq '^(Requires|Wants|BindsTo|Requisite)=' "$UNIT"; then fail "no hard dependency"
else pass "no hard dependency"; fi
exec_start=$(unit_line ExecStart)
bin=${exec_start%% *}
args=${exec_start#* }
expect_eq "$args" "apply -f /etc/nvidia-vgpu-dm/config.yaml" "ExecStart arguments"
case "$bin" in
/*/nvidia-vgpu-dm) pass "ExecStart names the installed binary ($bin)" ;;
*) fail "ExecStart binary '$bin' is not an absolute path to nvidia-vgpu-dm" ;;
esac

# --- what ExecStart does, against a simulated host ---
# The unit's command with the config path and the binary replaced, run with the
# environment file loaded the way systemd loads it (KEY=VALUE lines).
sim_start --gpu T4 --gpu T4
CFG="$T_TMP/config.yaml"
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  small:
    - devices: all
      vgpu-devices:
        T4-1Q: 4
  big:
    - devices: all
      vgpu-devices:
        T4-16Q: 1
YAML
ENVF="$T_TMP/selected.env"
printf '# written by the admin\nVGPU_DM_SELECTED_CONFIG=big\n' >"$ENVF"
run_unit() {
	local cmd=${exec_start//\/etc\/nvidia-vgpu-dm\/config.yaml/$CFG}
	cmd="$VGPU_DM ${cmd#* }"
	# Environment= lines first, then the file, which overrides them (systemd.exec).
	local envs
	envs=$(grep -E '^Environment=' "$UNIT" | cut -d= -f2-)
	# shellcheck disable=SC2086
	(set -a; eval "$envs"; [ -f "$ENVF" ] && . "$ENVF"; set +a; VGPU_DM_SYSFS_ROOT="$ROOT" exec $cmd) >"$OUT" 2>"$ERR"
	RC=$?
	check_sanitizers "the unit's ExecStart"
}
run_unit
expect_rc 0 "ExecStart with selected.env applies"
dm assert -f "$CFG" -c big
expect_rc 0 "the label from selected.env is applied"
rm -f "$ENVF"
run_unit
expect_rc 1 "without selected.env, a two-label config needs a label"
expect_err "selected-config" "the message names the missing label flag"
fusermount3 -u "$ROOT"

# --- after a reboot on an SR-IOV host: the VFs are off; the unit turns them
# on for the GPUs its layout needs, without the admin setting anything.
if grep -qx 'Environment=VGPU_DM_ENABLE_SRIOV=true' "$UNIT"; then pass "the unit enables SR-IOV VFs by default"
else fail "no Environment=VGPU_DM_ENABLE_SRIOV=true"; fi
sim_start --gpu A100 --vfs-disabled
a100=$(awk '$3 == "A100" {print $2}' "$ROOT/.vgpu-sim/info")
printf 'version: v1\nvgpu-configs:\n  c:\n    - devices: all\n      vgpu-devices:\n        A100-10C: 4\n' >"$CFG"
printf 'VGPU_DM_SELECTED_CONFIG=c\nVGPU_DM_ENABLE_SRIOV=false\n' >"$ENVF"
export VGPU_DM_SRIOV_MANAGE="$VGPU_SIM_SRIOV_MANAGE" VGPU_SIM_ROOT="$ROOT" # the real one's stand-in
run_unit
expect_rc 1 "selected.env can turn it off (then the VFs must be on already)"
expect_err "SR-IOV virtual functions are not enabled" "and the message says what is missing"
printf 'VGPU_DM_SELECTED_CONFIG=c\n' >"$ENVF"
run_unit
expect_rc 0 "after a reboot the unit brings the SR-IOV host back to its layout"
expect_eq "$(cat "$ROOT/sys/bus/pci/devices/$a100/sriov_numvfs")" 20 "VFs enabled"
dm assert -f "$CFG" -c c
expect_rc 0 "the layout is applied"
unset VGPU_DM_SRIOV_MANAGE VGPU_SIM_ROOT

# --- install ---
DEST="$T_TMP/dest"
if meson install -C "$BUILDDIR" --destdir "$DEST" --no-rebuild --quiet >"$OUT" 2>"$ERR"; then
	installed=$(find "$DEST" -name nvidia-vgpu-dm.service -type f | head -1)
	if [ -n "$installed" ]; then
		pass "meson install puts the unit in ${installed#"$DEST"}"
		case "${installed#"$DEST"}" in
		*/systemd/system/nvidia-vgpu-dm.service) pass "into a systemd system unit directory" ;;
		*) fail "unit installed outside a systemd/system directory: ${installed#"$DEST"}" ;;
		esac
		expect_eq "$(cmp -s "$installed" "$UNIT" && echo same)" "same" "installed unit is the configured one"
		if [ -x "$DEST$bin" ]; then pass "ExecStart's binary is installed ($bin)"
		else fail "ExecStart's binary $bin is not installed under the destdir"; fi
	else
		fail "meson install did not install nvidia-vgpu-dm.service"
	fi
else
	fail "meson install --destdir"
fi

# --- systemd-analyze verify ---
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze not found (Debian package 'systemd', see scripts/install-deps);"
	echo "      the unit was checked above but not verified by systemd"
	[ "$T_FAILS" -eq 0 ] && exit 77
	finish
fi
# verify needs ExecStart's binary to exist: a copy pointing at the build's binary.
COPY="$T_TMP/unit/nvidia-vgpu-dm.service"
mkdir -p "$(dirname "$COPY")"
sed "s#^ExecStart=[^ ]*#ExecStart=$VGPU_DM#" "$UNIT" >"$COPY"
SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$COPY" >"$OUT" 2>"$ERR"
RC=$?
expect_rc 0 "systemd-analyze verify"
if grep -q 'nvidia-vgpu-dm' "$OUT" "$ERR"; then fail "systemd-analyze verify reports nothing about the unit"
else pass "systemd-analyze verify reports nothing about the unit"; fi
# and it does catch a broken unit (so the check above means something)
sed 's/^Type=oneshot/Type=one-shot/' "$COPY" >"$T_TMP/unit/broken.service"
systemd-analyze verify --man=no "$T_TMP/unit/broken.service" >"$OUT" 2>&1
if grep -q 'broken.service' "$OUT"; then pass "verify flags a bad Type= (self-check)"
else fail "verify did not flag a bad Type="; fi
finish
