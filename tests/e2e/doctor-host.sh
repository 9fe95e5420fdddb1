#!/bin/bash
# doctor on simulated hypervisors (vgpu-sim + stand-ins for nvidia-smi and
# systemctl): a healthy host, one scenario per host check and common error,
# each asserting the check id, result and remedy in --json; exit codes; the
# text table against a golden file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor/lib.sh"
export DOCTOR_ACTIVE="nvidia-vgpu-mgr"
CFG="$T_TMP/c.yaml"
restart() { fusermount3 -u "$ROOT"; sim_start "$@"; }

# ---- a healthy host: two vendor-VFIO GPUs on kernel 6.8 ----
sim_start --gpu L40S:vfio --gpu A10:vfio
tools systemctl journalctl; host_smi
doctor_json
expect_rc 0 "healthy host"
all_ok
check host.driver.loaded ok
check host.vgpu.module ok
check host.vgpu.manager ok
check host.driver.version ok
check host.driver.mode ok
check host.iommu ok
check host.sriov.vfs ok "" "GPU 0"
check host.gpu.framework ok "" "GPU 1"
check host.gpu.types ok "" "GPU 0"
check host.gpu.mixed-size ok "" "GPU 0"
check host.journal ok
check host.vgpus ok
summary_has host.driver.version "550.90.05, branch R550 \(vGPU 17.x\)"
evidence_has host.iommu "/proc/cmdline: .*intel_iommu=on"
evidence_has host.driver.mode "nvidia-smi -q: line [0-9]+: Virtualization Mode : Host VGPU"
dm doctor
expect_rc 0 "text form"
expect_out "^vGPU host \(nvidia-smi -q line [0-9]+: Virtualization Mode : Host VGPU\)" "text: host detected by nvidia-smi"
[ "${VGPUDM_UPDATE_GOLDEN:-}" = 1 ] && cp "$OUT" "$VGPUDM_SRCDIR/tests/golden/doctor-host.txt"
if diff -u "$VGPUDM_SRCDIR/tests/golden/doctor-host.txt" "$OUT" >"$T_TMP/diff"; then pass "text form matches the golden file"
else fail "text form differs from tests/golden/doctor-host.txt: $(head -40 "$T_TMP/diff")"; fi
if grep -q $'\033' "$OUT"; then fail "colour codes when stdout is not a terminal"; else pass "no colour off a terminal"; fi
# On a terminal (script(1) gives it a pty) the result words are coloured, unless NO_COLOR.
tty_run() { script -qec "env $1 VGPU_DM_SYSFS_ROOT='$ROOT' '$VGPU_DM' doctor" /dev/null >"$OUT" 2>"$ERR" </dev/null; }
tty_run ""
if grep -q $'\033\\[32mok' "$OUT"; then pass "colour on a terminal"; else fail "no colour on a terminal"; fi
tty_run NO_COLOR=1
if grep -q $'\033' "$OUT"; then fail "colour despite NO_COLOR"; else pass "NO_COLOR: no colour"; fi
# ... and wrapped to the terminal's width
script -qec "stty cols 80; NO_COLOR=1 VGPU_DM_SYSFS_ROOT='$ROOT' '$VGPU_DM' doctor" /dev/null >"$OUT" 2>"$ERR" </dev/null
long=$(tr -d '\r' <"$OUT" | awk 'length > 80' | wc -l)
expect_eq "$long" 0 "80 columns: no line longer"
if tr -d '\r' <"$OUT" | grep -q "^ \{35\}"; then pass "80 columns: continuation lines"; else fail "80 columns: nothing wrapped"; fi

# a layout: planned as apply --dry-run, then applied
cat >"$CFG" <<'YAML'
version: v1
vgpu-configs:
  q4:
    - devices: [0]
      vgpu-devices:
        L40S-4Q: 4
    - devices: [1]
      vgpu-devices:
        A10-4Q: 2
  big:
    - devices: [0]
      vgpu-devices:
        L40S-5Q: 1
  mixed:
    - devices: [0]
      vgpu-devices:
        L40S-4Q: 2
        L40S-8Q: 1
YAML
doctor_json -f "$CFG" -c q4
expect_rc 0 "layout not applied yet: a warning, no failure"
check host.config.plan ok
summary_has host.config.plan "6 to create, 0 to remove"
# remedies name the tool as it was run: with --sysfs-root when there was one
check host.config.applied warn "^nvidia-vgpu-dm --sysfs-root $ROOT apply -f .* -c q4"
dm apply -f "$CFG" -c q4
doctor_json -f "$CFG" -c q4
check host.config.applied ok
check host.vgpus ok
summary_has host.vgpus "^6 vGPUs on 2 GPUs"
doctor_json -f "$CFG" -c big
expect_rc 1 "a layout apply would refuse"
check host.config.plan fail "apply --dry-run -f .* -c big"
summary_has host.config.plan "apply would refuse: .*L40S-5Q is not (supported on|offered by) GPU 0"
check host.config.applied skip
# too many vGPUs: the remedy names the GPU, the type and the count that fits
printf 'version: v1\nvgpu-configs:\n  two48:\n    - devices: [0]\n      vgpu-devices:\n        L40S-48Q: 2\n' >"$T_TMP/two48.yaml"
doctor_json -f "$T_TMP/two48.yaml" -c two48
check host.config.plan fail "^GPU 0 \(0000:[0-9a-f:.]+\) holds at most 1 x L40S-48Q: set L40S-48Q to 1 or fewer for it in .*two48.yaml \(label two48\)"

# a vGPU held by a VM, and a layout that removes it
vf=$(grep -lv '^0$' "$ROOT"/sys/bus/pci/devices/*/nvidia/current_vgpu_type | head -1 | xargs dirname | xargs dirname)
grp=$(basename "$(readlink "$vf/iommu_group")")
sleep 60 3<>"$ROOT/dev/vfio/$grp" &
HOLDER=$!
for i in $(seq 100); do ls "$ROOT/proc" | grep -qx "$HOLDER" && break; sleep 0.05; done
printf 'version: v1\nvgpu-configs:\n  none:\n    - devices: all\n      vgpu-devices: {}\n' >"$T_TMP/none.yaml"
doctor_json -f "$T_TMP/none.yaml" -c none
check host.config.plan fail "stop the VM that holds the vGPU \(pid $HOLDER\)"
summary_has host.vgpus "1 held by a process"
evidence_has host.vgpus "/proc/$HOLDER/fd: sleep"
kill $HOLDER; wait $HOLDER 2>/dev/null

# guest drivers the VMs report, against the host's branch R550
VGPU_SIM_GUEST_DRIVER=550.90.07 doctor_json
check host.vgpus.guest-driver ok
VGPU_SIM_GUEST_DRIVER=560.35.03 doctor_json
check host.vgpus.guest-driver fail "install the guest driver of the host's vGPU release"
VGPU_SIM_GUEST_DRIVER=535.183.06 doctor_json
check host.vgpus.guest-driver warn "previous branch"

# mixed sizes against equal-size mode, then in mixed-size mode
dm apply -f "$T_TMP/none.yaml" -c none
doctor_json -f "$CFG" -c mixed
check host.gpu.mixed-size fail "nvidia-smi vgpu -i 0000:[0-9a-f:.]+ -shm 1" "GPU 0"
evidence_has host.gpu.mixed-size "vGPU Heterogeneous Mode : Disabled"
l40s=$(awk '$3 == "L40S" {print $2}' "$ROOT/.vgpu-sim/info")
echo 1 >"$ROOT/.vgpu-sim/gpus/$l40s/mixed_size"
doctor_json -f "$CFG" -c mixed
check host.gpu.mixed-size ok "" "GPU 0"
summary_has host.gpu.mixed-size "mixed-size mode, as the layout needs"

# an apply that died midway left its journal
echo "pid 1" >"$ROOT/run/nvidia-vgpu-dm.journal"
doctor_json
expect_rc 1 "journal left: a failure"
check host.journal fail "nvidia-vgpu-dm --sysfs-root $ROOT apply"
rm -f "$ROOT/run/nvidia-vgpu-dm.journal"

# nvidia-smi from another driver than the loaded module; a datacenter driver
VGPU_SIM_SMI_DRIVER=550.127.05 doctor_json
check host.driver.version warn "reboot the host"
summary_has host.driver.version "nvidia-smi is 550.127.05 but the loaded module is 550.90.05"
VGPU_SIM_SMI_VIRT_MODE=None doctor_json
expect_rc 1 "not the vGPU Manager driver"
check host.driver.mode fail "install the vGPU Manager \(-vgpu-kvm\) driver"
summary_has host.driver.mode "^2 of 2 GPUs are not in Host VGPU mode"

# the vGPU Manager daemon is not running; no nvidia-smi
# (a remedy names only the units installed under the root)
DOCTOR_ACTIVE= doctor_json
check host.vgpu.manager fail "no nvidia-vgpu-mgr.service is installed.*install the vGPU Manager"
mkdir -p "$ROOT/run/systemd/system"
touch "$ROOT/run/systemd/system/nvidia-vgpu-mgr.service" "$ROOT/run/systemd/system/nvidia-vgpud.service"
DOCTOR_ACTIVE= doctor_json
check host.vgpu.manager fail "^systemctl restart nvidia-vgpud nvidia-vgpu-mgr"
evidence_has host.vgpu.manager "/run/systemd/system/nvidia-vgpu-mgr.service: installed"
rm -r "$ROOT/run/systemd"
# without stand-ins, the machine's own systemctl and nvidia-smi are not asked about a simulated root
(unset VGPU_DM_TOOLS_DIR; dm doctor --json)
check host.vgpu.manager skip
summary_has host.vgpu.manager "systemctl not asked"
tools systemctl
doctor_json
check host.driver.mode warn "VGPU_DM_NVIDIA_SMI"
check host.vgpus.guest-driver skip
tools systemctl journalctl; host_smi

# ---- a GPU bound to vfio-pci (passed through whole) ----
restart --gpu L40S:vfio --gpu A10:vfio --vfio-pci 1
doctor_json
check host.gpu.framework fail "echo 0000:[0-9a-f:.]+ > /sys/bus/pci/drivers/vfio-pci/unbind; echo .* > /sys/bus/pci/drivers/nvidia/bind" "GPU 1"
expect_out "no vGPU framework: bound to vfio-pci, not to nvidia: it is passed through whole" "GPU 1: its binding and what it means"
expect_out '"line": "-> vfio-pci"' "GPU 1: the driver link as evidence"
check host.sriov.vfs skip "" "GPU 1"
check host.vgpu.module ok
if grep -q "modprobe nvidia_vgpu_vfio" "$OUT"; then fail "doctor still says modprobe for a vfio-pci GPU"; else pass "no modprobe remedy for a vfio-pci GPU"; fi
restart --gpu L40S:vfio --gpu A10:vfio

# ---- VFs not enabled ----
restart --gpu L40S:vfio --vfs-disabled
doctor_json -f "$CFG" -c q4
expect_rc 1 "VFs not enabled"
check host.sriov.vfs fail "/usr/lib/nvidia/sriov-manage -e 0000:[0-9a-f]{2}:00.0" "GPU 0"
summary_has host.sriov.vfs "^0 of 32 SR-IOV VFs enabled"
check host.gpu.framework skip
check host.gpu.types skip
check host.config.plan fail "apply --dry-run"
summary_has host.config.plan "SR-IOV virtual functions are not enabled"

# ---- an L40S in display mode lists no vGPU types ----
restart --gpu L40S:vfio --display-mode
doctor_json
expect_rc 1 "display mode"
check host.gpu.types fail "displaymodeselector" "GPU 0"
summary_has host.gpu.types "L40S lists no vGPU types: it is in display mode"
evidence_has host.gpu.types "nvidia-smi -q: line [0-9]+: Display Mode : Enabled"

# ---- a full vendor-VFIO GPU: no VF lists a type; without the type cache nothing names them ----
restart --gpu L40S:vfio
printf 'version: v1\nvgpu-configs:\n  full:\n    - devices: all\n      vgpu-devices:\n        L40S-48Q: 1\n' >"$T_TMP/full.yaml"
dm apply -f "$T_TMP/full.yaml"
doctor_json -f "$T_TMP/full.yaml"
check host.gpu.types ok "" "GPU 0"
check host.config.applied ok
rm -rf "$ROOT/var/cache/nvidia-vgpu-dm"
doctor_json
check host.gpu.types warn "install NVML" "GPU 0"

# ---- MIG mode against MIG-backed and time-sliced types (A100, mdev on 5.15) ----
restart --gpu A100
printf 'version: v1\nvgpu-configs:\n  mig:\n    - devices: all\n      vgpu-devices:\n        A100-1-5C: 7\n  ts:\n    - devices: all\n      vgpu-devices:\n        A100-4C: 10\n' >"$T_TMP/mig.yaml"
doctor_json -f "$T_TMP/mig.yaml" -c mig
check host.gpu.mig fail "nvidia-smi -i 0000:[0-9a-f:.]+ -mig 1" "GPU 0"
check host.gpu.framework ok "" "GPU 0"
summary_has host.gpu.framework "mdev on kernel 5.15"
a100=$(awk '$3 == "A100" {print $2}' "$ROOT/.vgpu-sim/info")
VGPU_SIM_SMI_MIG="$a100" doctor_json -f "$T_TMP/mig.yaml" -c ts
check host.gpu.mig fail "-mig 0" "GPU 0"
VGPU_SIM_SMI_MIG="$a100" doctor_json -f "$T_TMP/mig.yaml" -c mig
check host.gpu.mig ok "" "GPU 0"
doctor_json -f "$T_TMP/mig.yaml" -c ts
check host.gpu.mig ok "" "GPU 0"
check host.config.plan ok
# with NVML the host scan knows MIG mode, and apply switches it for the layout
export VGPU_DM_NVML_LIBRARY="$VGPU_SIM_NVML"
ln -sf "$VGPUDM_SRCDIR/sim/sriov-manage" "$TOOLS/sriov-manage"  # apply disables the VFs around the mode change
doctor_json -f "$T_TMP/mig.yaml" -c mig
check host.gpu.mig warn "apply switches MIG mode on" "GPU 0"
evidence_has host.gpu.mig "^NVML: MIG mode current 0"
check host.config.plan ok
dm apply -f "$T_TMP/mig.yaml" -c mig
expect_rc 0 "apply turns MIG mode on and makes the vGPUs"
doctor_json -f "$T_TMP/mig.yaml" -c mig
check host.gpu.mig ok "" "GPU 0"
evidence_has host.gpu.mig "^NVML: MIG mode current 1"
check host.config.applied ok
unset VGPU_DM_NVML_LIBRARY
fusermount3 -u "$ROOT"

# ---- no driver: a host tree with the GPU's PCI function and nothing of NVIDIA's ----
NODRV="$T_TMP/nodriver"
d="$NODRV/sys/bus/pci/devices/0000:3b:00.0"
mkdir -p "$d" "$NODRV/sys/kernel/iommu_groups/0" "$NODRV/proc"
printf '0x10de\n' >"$d/vendor"; printf '0x26b9\n' >"$d/device"; printf '0x030200\n' >"$d/class"
printf '0x10de\n' >"$d/subsystem_vendor"; printf '0x1851\n' >"$d/subsystem_device"
printf '32\n' >"$d/sriov_totalvfs"; printf '0\n' >"$d/sriov_numvfs"
rm -f "$TOOLS/nvidia-smi"; ln -s "$DOCTOR_DIR/standin" "$TOOLS/nvidia-smi"  # fails: no fixture output
mkdir -p "$NODRV/sys/module/kvm"  # no evidence: a VM with nested KVM has it too
printf 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae vmx lahf_lm\n' >"$NODRV/proc/cpuinfo"
dm_at "$NODRV" doctor --json
expect_rc 1 "no driver: a failure"
check host.driver.loaded fail "modprobe nvidia"
check host.vgpu.module skip
check host.vgpu.manager skip
check host.driver.mode skip
check host.gpus ok
check host.sriov.vfs fail "sriov-manage -e 0000:3b:00.0"
check host.gpu.framework skip
dm_at "$NODRV" doctor
expect_out "^vGPU host \(/proc/cpuinfo: no hypervisor flag, and no PCI device only a VM has: not a VM\)" "host detected: not a VM (the CPU's flags), whatever /sys/module/kvm says"
expect_out "^FAIL +host.driver.loaded +the NVIDIA driver is not loaded" "text: the failure's line"
expect_out "^ +fix: install the NVIDIA vGPU Manager" "text: its remedy line"
rmdir "$NODRV/sys/kernel/iommu_groups/0"
dm_at "$NODRV" doctor --json
check host.iommu fail "intel_iommu=on iommu=pt"
summary_has host.iommu "the IOMMU is off"
rm "$NODRV/proc/cpuinfo"
dm_at "$NODRV" doctor
expect_rc 2 "nothing tells host from guest (/sys/module/kvm alone does not)"
expect_err "cannot tell a vGPU host from a guest here .*--host or --guest" "says to choose"
dm_at "$NODRV" doctor --host --json
expect_rc 1 "--host forces the host checks"
check host.driver.loaded fail "modprobe nvidia"

# ---- doctor itself cannot run: exit 2 ----
dm_at "$T_TMP/nowhere" doctor --host
expect_rc 2 "no such root"
expect_err "cannot read .*/nowhere/sys" "names the root"
dm_at "$NODRV" doctor --host --guest
expect_rc 2 "--host with --guest"
dm_at "$NODRV" doctor --cuda 9
expect_rc 2 "bad --cuda"
expect_err 'invalid value "9" for --cuda' "names the value"
dm_at "$NODRV" doctor --host -f "$T_TMP/missing.yaml"
expect_rc 2 "unreadable config"
dm_at "$NODRV" doctor --guest -f "$CFG"
expect_rc 2 "-f with --guest"
finish
