#!/bin/bash
# doctor inside a VM: fixture trees (PCI function with the vGPU signature,
# module, gridd.conf, token, daemon.json, containerd config) and stand-ins
# printing captured nvidia-smi, docker info and journal output (tests/data/doctor).
# A healthy guest, then one scenario per guest check and common error of the
# operator's guide, each asserting the check id, result and remedy in --json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor/lib.sh"
G="$T_TMP/guest"
BDF=0000:00:10.0
listen_port
[ -n "$PORT" ] || { echo "FATAL: no listener" >&2; exit 1; }

# The captured A6000-24Q guest (535.183.06), licensed.
smi_q() { sed "s/License Status                    : Unlicensed/License Status                    : ${1:-Licensed (Expiry: 2026-7-7 16:1:44 GMT)}/" \
	"$DATA/guest-smi-q-a6000-unlicensed.txt"; }

make_guest() {
	rm -rf "$G" "$DOCTOR_FIXTURE"
	mkdir -p "$DOCTOR_FIXTURE/journal"
	local d="$G/sys/bus/pci/devices/$BDF"
	mkdir -p "$d" "$G/sys/module/nvidia" "$G/etc/nvidia/ClientConfigToken" "$G/etc/docker" "$G/proc"
	printf '0x10de\n' >"$d/vendor"; printf '0x2230\n' >"$d/device"; printf '0x030000\n' >"$d/class"
	printf '0x10de\n' >"$d/subsystem_vendor"; printf '0x1459\n' >"$d/subsystem_device"
	# The GFD mock's vGPU config space, its host record set to a 535 host.
	python3 - "$DATA/pci-config-vgpu.bin" "$d/config" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
cap = b[0x34]
assert b[cap] == 9 and b[cap + 3:cap + 5] == b"VF"
b[cap + 7:cap + 17] = b"535.183.01"
b[cap + 17:cap + 27] = b"r535_00".ljust(10, b"\0")
open(sys.argv[2], "wb").write(b)
PY
	echo 535.183.06 >"$G/sys/module/nvidia/version"
	printf 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm\n' >"$G/proc/cpuinfo"
	sed -e "s/^ServerAddress=/ServerAddress=127.0.0.1/" -e "s/^ServerPort=/ServerPort=$PORT/" \
		"$DATA/gridd.conf.template" >"$G/etc/nvidia/gridd.conf"
	cp "$DATA/daemon.json" "$G/etc/docker/daemon.json"
	smi_q >"$DOCTOR_FIXTURE/nvidia-smi-q.txt"
	cp "$DATA/docker-info.txt" "$DOCTOR_FIXTURE/docker-info.txt"
	cp "$DATA/gridd.log" "$DOCTOR_FIXTURE/journal/nvidia-gridd.log"
	tools nvidia-smi systemctl journalctl docker
	export DOCTOR_ACTIVE="nvidia-gridd docker"
}
gdoc() { dm_at "$G" doctor --json "$@"; }
set_key() { sed -i "s|^$1=.*|$1=$2|" "$G/etc/nvidia/gridd.conf"; }

# ---- a healthy guest ----
make_guest
gdoc --cuda 12
expect_rc 0 "healthy guest"
all_ok
check guest.gpu.present ok
check guest.gpu.vgpu ok
check guest.driver.loaded ok
check guest.driver.branch ok
check guest.profile.cuda ok
check guest.driver.cuda ok
check guest.license.conf ok
check guest.license.feature-type ok
check guest.license.server ok
check guest.license.reachable ok
check guest.license.status ok
check guest.license.service ok
check guest.license.log ok
check guest.docker.installed ok
check guest.docker.runtime ok
check guest.docker.default ok
check guest.containerd.runtime skip
summary_has guest.gpu.vgpu "a host running driver 535.183.01"
summary_has guest.license.status "Licensed for NVIDIA RTX Virtual Workstation, expires 2026-07-07 16:01:44 GMT"
summary_has guest.driver.cuda "CUDA 12 needs driver >= 525.60.13; this is 535.183.06"
evidence_has guest.license.log "License acquired successfully"
evidence_has guest.docker.default "docker info: line 22: Default Runtime: nvidia"
dm_at "$G" doctor --cuda 12
expect_rc 0 "text form"
sed "s/port $PORT /port PORT /" "$OUT" >"$T_TMP/text"
[ "${VGPUDM_UPDATE_GOLDEN:-}" = 1 ] && cp "$T_TMP/text" "$VGPUDM_SRCDIR/tests/golden/doctor-guest.txt"
if diff -u "$VGPUDM_SRCDIR/tests/golden/doctor-guest.txt" "$T_TMP/text" >"$T_TMP/diff"; then pass "text form matches the golden file"
else fail "text differs from tests/golden/doctor-guest.txt: $(head -40 "$T_TMP/diff")"; fi

# ---- unlicensed guest (the capture as it is) ----
cp "$DATA/guest-smi-q-a6000-unlicensed.txt" "$DOCTOR_FIXTURE/nvidia-smi-q.txt"
gdoc
expect_rc 1 "unlicensed"
check guest.license.status fail "systemctl restart nvidia-gridd"
evidence_has guest.license.status "nvidia-smi -q: line 20: License Status : Unlicensed"
smi_q "Unlicensed (Unrestricted)" >"$DOCTOR_FIXTURE/nvidia-smi-q.txt"
gdoc
check guest.license.status warn "journalctl -u nvidia-gridd"
printf '%s\n' "Jun 10 09:30:00 vm nvidia-gridd[10354]: Failed to acquire license from 127.0.0.1 (Info: NVIDIA RTX Virtual Workstation - Error: The allowed time to process response has expired)" \
	>>"$DOCTOR_FIXTURE/journal/nvidia-gridd.log"
gdoc
check guest.license.log fail "license server"
DOCTOR_ACTIVE=docker gdoc
check guest.license.service fail "systemctl enable --now nvidia-gridd"
rm "$TOOLS/journalctl"
printf 'Jun 10 09:20:02 vm nvidia-gridd[10354]: License acquired successfully. (Info: 127.0.0.1; NVIDIA RTX Virtual Workstation)\n' >"$T_TMP/messages"
mkdir -p "$G/var/log"; cp "$T_TMP/messages" "$G/var/log/messages"
gdoc
check guest.license.log ok
evidence_has guest.license.log "^/var/log/messages: .*License acquired"

# ---- license server down: a closed loopback port ----
make_guest
set_key ServerPort "$(closed_port)"
gdoc
expect_rc 1 "license server down"
check guest.license.reachable fail "start the license server"
summary_has guest.license.reachable "Connection refused"
set_key ServerAddress ""
gdoc
check guest.license.server fail "ClientConfigToken"
check guest.license.reachable skip
touch "$G/etc/nvidia/ClientConfigToken/client_configuration_token_12-01-2026-10-00-00.tok"
gdoc
check guest.license.server ok
summary_has guest.license.server "client_configuration_token_12-01-2026-10-00-00.tok"
rm "$G/etc/nvidia/gridd.conf"
gdoc
check guest.license.conf fail "gridd.conf.template"

# ---- wrong FeatureType ----
make_guest
set_key FeatureType 0
gdoc
expect_rc 1 "FeatureType=0"
check guest.license.feature-type fail "FeatureType=1 in /etc/nvidia/gridd.conf"
evidence_has guest.license.feature-type "gridd.conf: line 12: FeatureType=0"
set_key FeatureType 4
gdoc
check guest.license.feature-type fail "FeatureType=1"
summary_has guest.license.feature-type "cannot license a Q-series vGPU"
set_key FeatureType 3
gdoc
check guest.license.feature-type fail "FeatureType=1"

# ---- an A-series profile with CUDA wanted ----
make_guest
sed -i 's/NVIDIA RTXA6000-24Q/NVIDIA RTXA6000-24A/' "$DOCTOR_FIXTURE/nvidia-smi-q.txt"
gdoc --cuda 12
expect_rc 1 "A-series profile, CUDA wanted"
check guest.profile.cuda fail "C-series \(compute\) or Q-series"
summary_has guest.profile.cuda "RTXA6000-24A is a A-series profile: it cannot run CUDA"
gdoc
check guest.profile.cuda warn "C-series"

# ---- a driver too old for the CUDA asked ----
make_guest
gdoc --cuda 13
expect_rc 1 "CUDA 13 on a 535 driver"
check guest.driver.cuda fail "guest driver >= 580 \(vGPU 19.x or later\)"
gdoc --cuda 11
check guest.driver.cuda ok

# ---- no Docker runtime; runtime not the default; no Docker; containerd ----
make_guest
sed -i -e 's/ Runtimes: io.containerd.runc.v2 nvidia runc/ Runtimes: io.containerd.runc.v2 runc/' \
	-e 's/ Default Runtime: nvidia/ Default Runtime: runc/' "$DOCTOR_FIXTURE/docker-info.txt"
echo '{ "log-driver": "json-file" }' >"$G/etc/docker/daemon.json"
gdoc
expect_rc 1 "no Docker GPU runtime"
check guest.docker.runtime fail "nvidia-ctk runtime configure --runtime=docker --set-as-default"
check guest.docker.default skip
make_guest
sed -i 's/ Default Runtime: nvidia/ Default Runtime: runc/' "$DOCTOR_FIXTURE/docker-info.txt"
echo '{ "runtimes": { "nvidia": { "path": "nvidia-container-runtime", "args": [] } } }' >"$G/etc/docker/daemon.json"
gdoc
expect_rc 1 "runtime not the default"
check guest.docker.runtime ok
check guest.docker.default fail '"default-runtime": "nvidia"'
summary_has guest.docker.default "the default runtime is runc, not nvidia"
rm "$DOCTOR_FIXTURE/docker-info.txt"   # the daemon is down: daemon.json decides
gdoc
check guest.docker.installed warn "systemctl start docker"
check guest.docker.default fail "default-runtime"
echo '{ "default-runtime": "nvidia",' >"$G/etc/docker/daemon.json"
gdoc
check guest.docker.runtime fail "fix /etc/docker/daemon.json"
rm "$TOOLS/docker"
gdoc
check guest.docker.installed warn "install Docker Engine"
check guest.docker.runtime skip
mkdir -p "$G/etc/containerd"
sed 's/default_runtime_name = "nvidia"/default_runtime_name = "runc"/' "$DATA/containerd-config.toml" >"$G/etc/containerd/config.toml"
gdoc
check guest.containerd.runtime warn "nvidia-ctk runtime configure --runtime=containerd"
cp "$DATA/containerd-config.toml" "$G/etc/containerd/config.toml"
gdoc
check guest.containerd.runtime ok

# ---- no GPU driver: no module, no nvidia-smi; found to be a guest by the PCI signature ----
make_guest
rm -r "$G/sys/module/nvidia" "$G/proc/cpuinfo"
rm "$TOOLS/nvidia-smi"
gdoc
expect_rc 1 "no GPU driver"
check guest.driver.loaded fail "install the NVIDIA vGPU guest driver .* \(535.183.01\)"
check guest.gpu.vgpu ok
check guest.driver.cuda skip
check guest.license.status skip
dm_at "$G" doctor
expect_out "^vGPU guest \(/sys/bus/pci/devices carries the vGPU signature\)" "guest detected by the PCI signature"

# ---- passthrough GPU, a newer guest than the host, no GPU at all ----
make_guest
cp "$DATA/pci-config-passthrough.bin" "$G/sys/bus/pci/devices/$BDF/config"
sed -i 's/Virtualization Mode               : VGPU/Virtualization Mode               : Pass-Through/' "$DOCTOR_FIXTURE/nvidia-smi-q.txt"
gdoc
check guest.gpu.vgpu warn "FeatureType=2"
check guest.driver.branch skip
check guest.license.feature-type fail "FeatureType=2"
# One source decides what the deployment needs: without gridd.conf the remedy
# asks for the FeatureType the feature-type check will accept (2, not 1).
rm "$G/etc/nvidia/gridd.conf"
gdoc
check guest.license.conf fail "set FeatureType=2;"
# Passed through whole with the datacenter driver (no "vGPU Software Licensed
# Product" in nvidia-smi -q, an A100 with 535.129.03): no licence is needed.
sed -i '/vGPU Software Licensed Product/,/License Status/d' "$DOCTOR_FIXTURE/nvidia-smi-q.txt"
DOCTOR_ACTIVE="docker" gdoc
for id in guest.license.conf guest.license.feature-type guest.license.server guest.license.reachable \
	guest.license.service guest.license.log guest.license.status; do
	check $id skip
done
summary_has guest.license.conf "passed through whole with the datacenter driver needs no licence"
# ... and guest.gpu.vgpu, judged from the same source, says so too: no
# remedy sending the user to gridd.conf's FeatureType.
check guest.gpu.vgpu ok
summary_has guest.gpu.vgpu "not a vGPU \\(Pass-Through\\): it is passed through whole, with the datacenter driver, and needs no licence"
evidence_has guest.gpu.vgpu 'no "vGPU Software Licensed Product" section'
if python3 -c 'import json,sys; sys.exit(any(c["result"] == "fail" and c["id"].startswith("guest.license") for c in json.load(open(sys.argv[1]))))' "$OUT"; then
	pass "no licence failure for a passed-through GPU"; else fail "a licence check fails a passed-through GPU"; fi
# In a VM with nested KVM (/sys/module/kvm, an empty mdev_bus), no nvidia-smi:
# plain doctor decides guest from the hypervisor flag, and says so.
make_guest
cp "$DATA/pci-config-passthrough.bin" "$G/sys/bus/pci/devices/$BDF/config"
mkdir -p "$G/sys/module/kvm" "$G/sys/class/mdev_bus"
tools systemctl journalctl docker
dm_at "$G" doctor
expect_out "^vGPU guest \(/proc/cpuinfo: flags include hypervisor, and no vGPU Manager module\)" "nested KVM: a guest, from the hypervisor flag"
# ... and without the flag, QEMU's virtual PCI devices tell it
sed -i 's/ hypervisor//' "$G/proc/cpuinfo"
mkdir -p "$G/sys/bus/pci/devices/0000:00:00.0"
printf '0x8086\n' >"$G/sys/bus/pci/devices/0000:00:00.0/vendor"; printf '0x29c0\n' >"$G/sys/bus/pci/devices/0000:00:00.0/device"
dm_at "$G" doctor
expect_out "^vGPU guest \(/sys/bus/pci/devices/0000:00:00.0 is 8086:29c0 \(QEMU's Q35 host bridge\), a device only a VM has\)" "a guest, from QEMU's host bridge"
# nvidia-gridd not running and not installed: the remedy says to install it
make_guest
DOCTOR_ACTIVE="docker" gdoc
check guest.license.service fail "nvidia-gridd.service is not installed: reinstall the vGPU guest driver"
mkdir -p "$G/usr/lib/systemd/system"; touch "$G/usr/lib/systemd/system/nvidia-gridd.service"
DOCTOR_ACTIVE="docker" gdoc
check guest.license.service fail "^systemctl enable --now nvidia-gridd"
make_guest
echo 550.54.14 >"$G/sys/module/nvidia/version"
sed -i 's/535.183.06/550.54.14/' "$DOCTOR_FIXTURE/nvidia-smi-q.txt"
gdoc
check guest.driver.branch fail "install the guest driver from the host's vGPU release \(535.183.01\)"
rm -r "$G/sys/bus/pci/devices/$BDF"
gdoc --guest
check guest.gpu.present fail "add it to this VM"

# ---- hostile input: bytes where text is expected, very long lines ----
make_guest
python3 - "$G" "$DOCTOR_FIXTURE" <<'PY'
import random, sys
g, fx = sys.argv[1:3]
r = random.Random(9)
junk = lambda n: bytes(r.randrange(256) for _ in range(n))
open(fx + "/nvidia-smi-q.txt", "wb").write(junk(20000) + b"\nGPU 00000000:00:10.0\n    Product Name : " + b"-" * 600 +
    b"\n    " + b"K" * 9000 + b" : " + junk(9000) + b"\n")
open(g + "/etc/nvidia/gridd.conf", "wb").write(b"ServerAddress=" + b"x" * 3000 + b"\nFeatureType=" + b"9" * 400 + b"\n" + junk(5000))
open(g + "/etc/docker/daemon.json", "wb").write(junk(3000))
open(fx + "/docker-info.txt", "wb").write(junk(4000) + b"\n Runtimes: " + b"x " * 2000 + b"\n")
open(fx + "/journal/nvidia-gridd.log", "wb").write(junk(30000))
open(g + "/sys/module/nvidia/version", "wb").write(junk(5000))
PY
gdoc --cuda 12
expect_rc 1 "hostile input: findings, no crash"
if python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))' "$OUT"; then
	pass "hostile input: the JSON is valid UTF-8 JSON"; else fail "hostile input: invalid JSON"; fi
long=$(python3 -c 'import json, sys; print(max(len(e["line"]) for c in json.load(open(sys.argv[1])) for e in c["evidence"]))' "$OUT")
[ "$long" -le 300 ] && pass "hostile input: evidence lines at most 300 bytes" || fail "evidence line of $long bytes"
check guest.driver.cuda skip
check guest.docker.runtime fail "fix /etc/docker/daemon.json"
check guest.license.feature-type fail "FeatureType=1"

# Escape bytes from gridd.conf reach a remedy line (the port), escaped like
# summaries; never the terminal.
make_guest
set_key ServerPort "$(printf '1\033]0;pwn\007\033[2J')"
dm_at "$G" doctor
grep -q "open TCP 1?]0;pwn??\[2J in the firewall" "$OUT" && pass "remedy: escape bytes from gridd.conf shown as ?" ||
	fail "remedy not sanitized: $(grep -a 'open TCP' "$OUT" | cat -v)"
grep -q $'\e' "$OUT" && fail "an escape byte reached the output" || pass "no escape byte in doctor's output"
# A huge gridd.conf (100 MiB, sparse): only 4 MiB read, and the cut said.
make_guest
truncate -s 100M "$G/etc/nvidia/gridd.conf"
dm_at "$G" doctor --json
expect_err "/etc/nvidia/gridd.conf is over 4 MiB: only its first 4 MiB were read \(the file was cut\)" \
	"a gridd.conf over 4 MiB: cut at 4 MiB, said"
check guest.license.conf ok
finish
