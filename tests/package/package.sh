#!/bin/bash
# The Debian packages: scripts/build-deb (what `make deb` runs) builds them from
# the tracked files in a temporary copy with dpkg-buildpackage and checks them
# with lintian; then each package's file list (dpkg -c), control data and
# maintainer scripts are checked, and the packages are unpacked into a scratch
# root (dpkg -x) where the programs, man pages and completions are run.
# Slow (a whole build): its own suite, 'package'.
set -uo pipefail
export LC_ALL=C
SRC=$(realpath "${VGPUDM_SRCDIR:-.}")
T=$(mktemp -d "${TMPDIR:-/tmp}/vgpudm-pkg.XXXXXX")
trap 'fusermount3 -u "$T/sim" 2>/dev/null; rm -rf "$T"' EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok - $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok - $*"; }
eq() { # eq ACTUAL EXPECTED what
	if [ "$1" == "$2" ]; then ok "$3"; else bad "$3"; diff <(echo "$2") <(echo "$1") | sed 's/^/    /'; fi
}
has() { # has TEXT REGEX what
	if grep -Eq -- "$2" <<<"$1"; then ok "$3"; else bad "$3: no /$2/ in: $(head -c 600 <<<"$1")"; fi
}

OUT=$T/out
if "$SRC/scripts/build-deb" "$OUT" >"$T/build-deb.log" 2>&1; then
	ok "scripts/build-deb: dpkg-buildpackage -us -uc -b and lintian pass"
else
	bad "scripts/build-deb failed"
	sed 's/^/    /' "$T/build-deb.log" | tail -60
	echo "$checks checks, $fails failed"
	exit 1
fi
# lintian's output, for the log; an I: tag is allowed, W: and E: fail build-deb
grep -E '^[EWIP]: ' "$T/build-deb.log" | sed 's/^/    lintian: /'
if grep -qE '^[EW]: ' "$T/build-deb.log"; then bad "lintian: no error or warning"; else ok "lintian: no error or warning"; fi

VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
MESON_VERSION=$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
eq "$VERSION" "$MESON_VERSION" "debian/changelog's version is meson.build's"

# --- each package: its files ------------------------------------------------------------------
# files (not directories), without /usr/share/doc
files() { dpkg -c "$1" | awk '$1 !~ /^d/ { print $6 }' | sed 's#^\./#/#' | grep -v '^/usr/share/doc/' | sort; }
deb() { echo "$OUT/${1}_${VERSION}_${ARCH}.deb"; }

for p in nvidia-vgpu-dm nvidia-k8s-vgpu-dm vgpu-sim; do
	if [ -f "$(deb $p)" ]; then ok "$p: package built"; else bad "$p: no $(deb $p)"; fi
done
eq "$(files "$(deb nvidia-vgpu-dm)")" "/etc/default/nvidia-vgpu-dm
/lib/systemd/system/nvidia-vgpu-dm.service
/usr/bin/nvidia-vgpu-dm
/usr/share/bash-completion/completions/nvidia-vgpu-dm
/usr/share/lintian/overrides/nvidia-vgpu-dm
/usr/share/man/man5/nvidia-vgpu-dm-config.5.gz
/usr/share/man/man8/nvidia-vgpu-dm.8.gz" "nvidia-vgpu-dm: its files (dpkg -c)"
eq "$(files "$(deb vgpu-sim)")" "/usr/bin/vgpu-sim
/usr/libexec/vgpu-sim/libnvidia-ml.so.1
/usr/libexec/vgpu-sim/nvidia-smi
/usr/libexec/vgpu-sim/sriov-manage
/usr/libexec/vgpu-sim/systemctl
/usr/share/bash-completion/completions/vgpu-sim
/usr/share/man/man1/vgpu-sim.1.gz" "vgpu-sim: its files (dpkg -c)"
eq "$(files "$(deb nvidia-k8s-vgpu-dm)")" "/usr/bin/nvidia-k8s-vgpu-dm
/usr/share/bash-completion/completions/nvidia-k8s-vgpu-dm
/usr/share/man/man8/nvidia-k8s-vgpu-dm.8.gz" "nvidia-k8s-vgpu-dm: its files (dpkg -c)"
if dpkg-deb -f "$(deb nvidia-k8s-vgpu-dm)" Depends | grep -q libcurl; then ok "nvidia-k8s-vgpu-dm depends on libcurl"
else bad "nvidia-k8s-vgpu-dm: no libcurl in Depends"; fi
has "$(dpkg -c "$(deb nvidia-vgpu-dm)")" "usr/share/doc/nvidia-vgpu-dm/copyright" "nvidia-vgpu-dm: copyright"
has "$(dpkg -c "$(deb nvidia-vgpu-dm)")" "^d.* \./etc/nvidia-vgpu-dm/$" \
	"nvidia-vgpu-dm: /etc/nvidia-vgpu-dm/, where the config the boot unit applies goes"
has "$(dpkg -c "$(deb nvidia-vgpu-dm)")" "usr/share/doc/nvidia-vgpu-dm/examples/config-t4.yaml" \
	"nvidia-vgpu-dm: the example configs"

# --- control data and maintainer scripts -----------------------------------------------------
has "$(dpkg-deb -f "$(deb vgpu-sim)" Depends)" "(^|, )fuse3(,|$)" "vgpu-sim depends on fuse3 (fusermount3)"
if dpkg-deb -f "$(deb nvidia-vgpu-dm)" Depends | grep -q fuse; then bad "nvidia-vgpu-dm needs no FUSE"
else ok "nvidia-vgpu-dm needs no FUSE"; fi
CTL=$T/ctl
dpkg-deb -e "$(deb nvidia-vgpu-dm)" "$CTL"
eq "$(cat "$CTL/conffiles" 2>/dev/null)" "/etc/default/nvidia-vgpu-dm" "the environment file is the one conffile"
has "$(cat "$CTL/postinst" 2>/dev/null)" "deb-systemd-helper enable 'nvidia-vgpu-dm.service'" \
	"postinst enables the unit (dh_installsystemd)"
if grep -qs 'deb-systemd-invoke .*start' "$CTL/postinst"; then
	bad "postinst does not start the unit (that would change vGPUs during an upgrade)"
else
	ok "postinst does not start the unit (that would change vGPUs during an upgrade)"
fi
has "$(cat "$CTL/postrm" 2>/dev/null)" "deb-systemd-helper purge 'nvidia-vgpu-dm.service'" "postrm forgets the unit on purge"

# --- unpacked into a scratch root ------------------------------------------------------------
R=$T/root
for p in nvidia-vgpu-dm nvidia-k8s-vgpu-dm vgpu-sim; do dpkg -x "$(deb $p)" "$R"; done
eq "$("$R/usr/bin/nvidia-vgpu-dm" --version 2>&1)" "nvidia-vgpu-dm version $VERSION" "installed nvidia-vgpu-dm --version"
eq "$("$R/usr/bin/vgpu-sim" --version 2>&1)" "vgpu-sim $VERSION" "installed vgpu-sim --version"
# --env names the packaged stand-ins (the scratch root is not /: they are named, not found there)
mkdir -p "$T/sim"
if "$R/usr/bin/vgpu-sim" "$T/sim"; then
	has "$("$R/usr/bin/vgpu-sim" --env "$T/sim" 2>/dev/null)" "^export VGPU_DM_TOOLS_DIR='/usr/libexec/vgpu-sim'$" \
		"installed vgpu-sim --env names the packaged stand-ins"
	fusermount3 -u "$T/sim"
else
	bad "installed vgpu-sim does not mount"
fi
has "$("$R/usr/bin/nvidia-k8s-vgpu-dm" --version 2>&1)" "$VERSION" "installed nvidia-k8s-vgpu-dm --version"

UNIT=$R/lib/systemd/system/nvidia-vgpu-dm.service
unit_line() { grep -E "^$1=" "$UNIT" | tail -1 | cut -d= -f2-; }
eq "$(unit_line ExecStart)" "/usr/bin/nvidia-vgpu-dm apply -f /etc/nvidia-vgpu-dm/config.yaml" "the unit runs the packaged binary"
eq "$(unit_line EnvironmentFile)" "-/etc/default/nvidia-vgpu-dm" "the unit reads /etc/default/nvidia-vgpu-dm"
if command -v systemd-analyze >/dev/null; then
	sed "s#^ExecStart=/usr/bin/#ExecStart=$R/usr/bin/#" "$UNIT" >"$T/nvidia-vgpu-dm.service"
	if SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$T/nvidia-vgpu-dm.service" >"$T/verify" 2>&1 &&
		! grep -q nvidia-vgpu-dm "$T/verify"; then
		ok "systemd-analyze verify: the packaged unit"
	else
		bad "systemd-analyze verify: $(cat "$T/verify")"
	fi
fi
# the environment file: comments, and commented KEY=VALUE lines naming the tool's variables
DEF=$R/etc/default/nvidia-vgpu-dm
eq "$(grep -cvE '^(#.*)?$' "$DEF")" "0" "/etc/default/nvidia-vgpu-dm sets nothing until the admin does"
has "$(cat "$DEF")" "^#VGPU_DM_SELECTED_CONFIG=" "/etc/default/nvidia-vgpu-dm shows VGPU_DM_SELECTED_CONFIG"

# man -l on every installed page: it renders, names the program, no warning
for page in man8/nvidia-vgpu-dm.8 man8/nvidia-k8s-vgpu-dm.8 man5/nvidia-vgpu-dm-config.5 man1/vgpu-sim.1; do
	f=$R/usr/share/man/$page.gz
	name=$(basename "$page" | sed 's/\.[0-9]$//')
	text=$(MANWIDTH=80 man -l -P cat "$f" 2>"$T/man.err")
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$T/man.err" ]; then ok "man -l $page"; else bad "man -l $page: exit $rc, $(cat "$T/man.err")"; fi
	has "$text" "^NAME" "$page: has NAME"
	has "$text" "^ +$name - " "$page: names $name"
done
has "$(MANWIDTH=80 man -l -P cat "$R/usr/share/man/man8/nvidia-vgpu-dm.8.gz" 2>/dev/null)" \
	"^ +--selected-config|-c, --selected-config" "nvidia-vgpu-dm(8) documents --selected-config"

# the installed completions, with the installed programs
cat >"$T/comp.sh" <<'SH'
. /usr/share/bash-completion/bash_completion
. "$R/usr/share/bash-completion/completions/nvidia-vgpu-dm"
. "$R/usr/share/bash-completion/completions/vgpu-sim"
. "$R/usr/share/bash-completion/completions/nvidia-k8s-vgpu-dm"
COMP_WORDS=(nvidia-vgpu-dm "") COMP_CWORD=1 COMP_LINE="nvidia-vgpu-dm " COMP_POINT=15
_nvidia_vgpu_dm nvidia-vgpu-dm "" nvidia-vgpu-dm
echo "dm: ${COMPREPLY[*]}"
COMP_WORDS=(vgpu-sim --gpu L40) COMP_CWORD=2 COMP_LINE="vgpu-sim --gpu L40" COMP_POINT=18
_vgpu_sim vgpu-sim L40 --gpu
echo "sim: ${COMPREPLY[*]}"
COMP_WORDS=(nvidia-k8s-vgpu-dm --node) COMP_CWORD=1 COMP_LINE="nvidia-k8s-vgpu-dm --node" COMP_POINT=25
_nvidia_k8s_vgpu_dm nvidia-k8s-vgpu-dm --node nvidia-k8s-vgpu-dm
echo "agent: ${COMPREPLY[*]}"
SH
comp=$(R=$R PATH="$R/usr/bin:$PATH" bash "$T/comp.sh" 2>&1)
has "$comp" "^dm: .*apply" "installed completion: nvidia-vgpu-dm commands"
has "$comp" "^sim: L40S$" "installed completion: vgpu-sim models"
has "$comp" "^agent: --node-name$" "installed completion: nvidia-k8s-vgpu-dm options"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
