#!/bin/bash
# make install honours PREFIX and DESTDIR on every run, also when the build
# directory was configured before with another prefix, and puts the boot unit
# under the prefix. Uses its own build directory (no tests built there).
. "$(dirname "$0")/lib.sh"
SRC=$(realpath "$VGPUDM_SRCDIR")
B="$T_TMP/build"
inst() { # inst PREFIX DESTDIR
	make -C "$SRC" install BUILD="$B" PREFIX="$1" DESTDIR="$2" MESON_OPTS=-Dtests=false \
		>"$OUT" 2>"$ERR"
	RC=$?
}
check_tree() { # check_tree PREFIX DESTDIR what
	local p=$1 d=$2
	[ -x "$d$p/bin/nvidia-vgpu-dm" ] && pass "$3: nvidia-vgpu-dm in DESTDIR/PREFIX/bin" || fail "$3: no $d$p/bin/nvidia-vgpu-dm"
	[ -x "$d$p/bin/vgpu-sim" ] && pass "$3: vgpu-sim in DESTDIR/PREFIX/bin" || fail "$3: no $d$p/bin/vgpu-sim"
	local unit="$d$p/lib/systemd/system/nvidia-vgpu-dm.service"
	[ -f "$unit" ] && pass "$3: the unit under the prefix" || fail "$3: no $unit"
	expect_eq "$(grep '^ExecStart=' "$unit" 2>/dev/null | cut -d' ' -f1)" "ExecStart=$p/bin/nvidia-vgpu-dm" "$3: ExecStart names PREFIX/bin"
	local s
	[ -f "$d$p/libexec/vgpu-sim/libnvidia-ml.so.1" ] && pass "$3: the simulator's NVML in PREFIX/libexec/vgpu-sim" ||
		fail "$3: no $d$p/libexec/vgpu-sim/libnvidia-ml.so.1"
	for s in nvidia-smi sriov-manage systemctl; do
		[ -x "$d$p/libexec/vgpu-sim/$s" ] && pass "$3: the simulator's $s in PREFIX/libexec/vgpu-sim" ||
			fail "$3: no $d$p/libexec/vgpu-sim/$s"
	done
	# vgpu-sim --env names the stand-ins where they are installed (PREFIX, not DESTDIR)
	mkdir -p "$ROOT"
	if "$d$p/bin/vgpu-sim" "$ROOT"; then
		expect_eq "$("$d$p/bin/vgpu-sim" --env "$ROOT" 2>/dev/null | grep TOOLS_DIR)" \
			"export VGPU_DM_TOOLS_DIR='$p/libexec/vgpu-sim'" "$3: installed vgpu-sim --env names PREFIX/libexec/vgpu-sim"
		fusermount3 -u "$ROOT"
	else
		fail "$3: the installed vgpu-sim does not mount"
	fi
	local outside
	outside=$(find "$d" -type f | grep -v "^$d$p/" | head -3)
	expect_eq "$outside" "" "$3: nothing installed outside DESTDIR/PREFIX"
}
inst /opt/vdm1 "$T_TMP/d1"
expect_rc 0 "make install PREFIX=/opt/vdm1 DESTDIR=d1"
check_tree /opt/vdm1 "$T_TMP/d1" "first install"
# The same build directory, another prefix: not ignored.
inst /opt/vdm2 "$T_TMP/d2"
expect_rc 0 "make install PREFIX=/opt/vdm2 DESTDIR=d2 on the configured build"
check_tree /opt/vdm2 "$T_TMP/d2" "second install"
finish
