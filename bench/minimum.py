#!/usr/bin/env python3
"""The least sysfs work a scan of a host needs, for bench/run's scale table.

    bench/minimum.py ROOT list|assert

ROOT is a mounted vgpu-sim host (read here with ordinary file calls; run it
before the simulator's counters are reset). Prints "lookup open read
readlink": the FUSE requests an ideal scan makes, one that

- looks up every directory it uses once (a directory handle reached from a
  handle it already holds costs one lookup, and is kept);
- for each file it reads: one lookup, one open, one read (sysfs attributes
  come whole in one read); for each link it reads: one lookup, one readlink;
  a file it only checks the absence of: one lookup.

What it must read, per host: the PCI device list and the driver version;
per PCI function: its bus link and vendor (VFs named by their PF's virtfnN
links need nothing more); per NVIDIA function also physfn (absent), class;
per GPU: device, subsystem ids, sriov_totalvfs and _numvfs, one virtfnN link
per VF; per mdev GPU: the types of one parent, a free one if there is one (the
directory of each type, its name and description and, for list, its
available_instances); per vGPU (mdev): its link in sys/bus/mdev/devices,
its directory and its mdev_type link; per vendor-VFIO VF: its
nvidia/current_vgpu_type, and for one free VF (list: every free VF) its
creatable_vgpu_types.
"""
import os
import sys

root, case = sys.argv[1], sys.argv[2]
c = {"lookup": 0, "open": 0, "read": 0, "readlink": 0}
seen = set()


def path(rel):
    return os.path.join(root, rel)


def real(rel):
    return os.path.relpath(os.path.realpath(path(rel)), root)


def lookdir(d):
    parts = d.split("/")
    for i in range(1, len(parts) + 1):
        p = "/".join(parts[:i])
        if p not in seen:
            seen.add(p)
            c["lookup"] += 1


def readfile(d, name):
    lookdir(d)
    c["lookup"] += 1
    c["open"] += 1
    c["read"] += 1
    with open(path(f"{d}/{name}")) as f:
        return f.read().strip()


def readlink(d, name):
    lookdir(d)
    c["lookup"] += 1
    c["readlink"] += 1
    return os.readlink(path(f"{d}/{name}"))


def absent(d, name):
    lookdir(d)
    c["lookup"] += 1


bus = "sys/bus/pci/devices"
lookdir(bus)
readfile("sys/module/nvidia", "version")
named_vfs = {}   # VF address -> (PF address, VF dir)
gpus = {}        # PF address -> dir
for f in sorted(os.listdir(path(bus))):
    if f in named_vfs:
        continue
    readlink(bus, f)
    d = real(f"{bus}/{f}")
    if readfile(d, "vendor") != "0x10de":
        continue
    if os.path.islink(path(f"{d}/physfn")):
        readlink(d, "physfn")
        continue
    absent(d, "physfn")
    klass = int(readfile(d, "class"), 16)
    if klass >> 8 not in (0x0300, 0x0302):
        continue
    for a in ("device", "subsystem_vendor", "subsystem_device"):
        readfile(d, a)
    gpus[f] = d
    if not os.path.exists(path(f"{d}/sriov_totalvfs")):
        absent(d, "sriov_totalvfs")
        continue
    readfile(d, "sriov_totalvfs")
    for i in range(int(readfile(d, "sriov_numvfs"))):
        t = readlink(d, f"virtfn{i}")
        vf = os.path.basename(t)
        named_vfs[vf] = (f, os.path.normpath(os.path.join(d, t)))


def parent_dir(addr):
    return gpus[addr] if addr in gpus else named_vfs[addr][1]


def gpu_of(addr):
    return addr if addr in gpus else named_vfs[addr][0]


# mdev: parents, types of one parent per GPU, vGPUs
vgpus = {}  # parent address -> count
mdev_gpus = {}
if os.path.isdir(path("sys/class/mdev_bus")):
    lookdir("sys/class/mdev_bus")
    for p in sorted(os.listdir(path("sys/class/mdev_bus"))):
        mdev_gpus.setdefault(gpu_of(p), []).append(p)
else:
    absent("sys/class", "mdev_bus")
if os.path.isdir(path("sys/bus/mdev/devices")):
    lookdir("sys/bus/mdev/devices")
    for u in sorted(os.listdir(path("sys/bus/mdev/devices"))):
        readlink("sys/bus/mdev/devices", u)
        d = real(f"sys/bus/mdev/devices/{u}")
        readlink(d, "mdev_type")
        p = os.path.basename(os.path.dirname(d))
        vgpus[p] = vgpus.get(p, 0) + 1
else:
    absent("sys/bus", "mdev")
for g, parents in mdev_gpus.items():
    # one parent answers for all: a free one if there is one
    free = [p for p in parents if p in gpus or not vgpus.get(p)]
    td = parent_dir((free or parents)[0]) + "/mdev_supported_types"
    lookdir(td)
    types = sorted(os.listdir(path(td)))
    for t in types:
        readfile(f"{td}/{t}", "name")
        readfile(f"{td}/{t}", "description")
        if case == "list" and free:
            readfile(f"{td}/{t}", "available_instances")

# vendor VFIO
for g in gpus:
    if g in mdev_gpus:
        continue
    vfs = sorted(v for v, (pf, _) in named_vfs.items() if pf == g)
    free = []
    for v in vfs:
        nd = named_vfs[v][1] + "/nvidia"
        if not os.path.exists(path(nd)):
            break
        if readfile(nd, "current_vgpu_type") == "0":
            free.append(nd)
    for i, nd in enumerate(free if case == "list" else free[:1]):
        readfile(nd, "creatable_vgpu_types")

print(c["lookup"], c["open"], c["read"], c["readlink"])
