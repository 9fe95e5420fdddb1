#!/usr/bin/env python3
"""Measure nvidia-k8s-vgpu-dm (run by bench/agent): reaction time from a label
write to the agent's first sysfs write, idle CPU time and wake-ups, peak RSS.

  agent-measure.py SERVER CA TOKEN NODE ROOT PID RUNS IDLE_SECONDS

The label is written with a merge PATCH (as kubectl label does); the first
write is seen with inotify (IN_MODIFY) on the simulated host's create and
remove files: the kernel reports writes through the FUSE mount like any other.
"""
import ctypes
import json
import os
import select
import ssl
import statistics
import struct
import sys
import time
import urllib.request

server, ca, token, node, root, pid, runs, idle = sys.argv[1:9]
pid, runs, idle = int(pid), int(runs), float(idle)
ctx = ssl.create_default_context(cafile=ca)
libc = ctypes.CDLL(None, use_errno=True)
IN_MODIFY, IN_NONBLOCK = 0x2, 0o4000


def api(method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(server + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": ctype, "Accept": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        return json.loads(r.read())


def labels():
    return api("GET", "/api/v1/nodes/" + node)["metadata"].get("labels", {})


def wait_success(layout, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        lb = labels()
        if lb.get("nvidia.com/vgpu.config.state") == "success" and \
                lb.get("nvidia.com/vgpu.config") == layout and \
                lb.get("nvidia.com/gpu.deploy.sandbox-device-plugin") == "true":
            return
        time.sleep(0.05)
    sys.exit("agent-measure: %s not applied within %ds" % (layout, timeout))


def watch_writes():
    """An inotify fd on every create and remove file of the host's vGPU framework."""
    fd = libc.inotify_init1(IN_NONBLOCK)
    paths = []
    mb = os.path.join(root, "sys/class/mdev_bus")
    for gpu in os.listdir(mb):
        st = os.path.join(mb, gpu, "mdev_supported_types")
        for t in os.listdir(st):
            paths.append(os.path.join(st, t, "create"))
    md = os.path.join(root, "sys/bus/mdev/devices")
    for u in os.listdir(md):
        paths.append(os.path.join(md, u, "remove"))
    for p in paths:
        if libc.inotify_add_watch(fd, p.encode(), IN_MODIFY) < 0:
            sys.exit("agent-measure: inotify_add_watch %s failed" % p)
    return fd


def proc(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, v = line.split(":", 1)
            st[k] = (v.split() or [""])[0]
    return cpu, int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"]), \
        int(st["VmHWM"]), int(st["VmRSS"])


layouts = ["T4-4Q", "T4-8Q"]
react = []
for i in range(runs):
    layout = layouts[i % 2]
    fd = watch_writes()
    t0 = time.time()
    api("PATCH", "/api/v1/nodes/" + node, {"metadata": {"labels": {"nvidia.com/vgpu.config": layout}}},
        "application/merge-patch+json")
    r, _, _ = select.select([fd], [], [], 60)
    t1 = time.time()
    if not r:
        sys.exit("agent-measure: no sysfs write within 60 s of the label write")
    react.append((t1 - t0) * 1000)
    os.close(fd)
    wait_success(layout)

# Idle: no label change, the watch open.
time.sleep(2)
cpu0, sw0, _, _ = proc(pid)
time.sleep(idle)
cpu1, sw1, hwm, rss = proc(pid)
print("reaction_ms_median %.1f" % statistics.median(react))
print("reaction_ms_min %.1f" % min(react))
print("reaction_ms_max %.1f" % max(react))
print("idle_cpu_s %.2f" % (cpu1 - cpu0))
print("idle_wakeups %d" % (sw1 - sw0))
print("peak_rss_kib %d" % hwm)
print("rss_kib %d" % rss)
