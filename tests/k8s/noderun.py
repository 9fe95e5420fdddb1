#!/usr/bin/env python3
"""noderun: the kubelet (and the DaemonSet controller) for one DaemonSet pod on
one simulated node, for tests. Python 3 standard library only; run as root.

It reads a DaemonSet from the test API server (tests/k8s/apiserver.py, after
`kubectl apply` put it there), and while the node's labels match its
nodeSelector keeps one pod of it on the node: a Pod object in the API server
(status kept up to date: Init, Running, restarts), its init containers one
after the other, then its main container, each in private mount and PID
namespaces (the container's process is PID 1 there) with its root from the
image and the pod's volumes:

  hostPath      the simulated node's root (a vgpu-sim mount: sys, proc, run,
                var/cache, dev...) + path; DirectoryOrCreate is created
  configMap     read from the API server, written the kubelet's way (keys are
                symlinks through ..data to a timestamped directory, swapped in
                one rename) and refreshed every second
  the service account (automounted at /var/run/secrets/kubernetes.io/
                serviceaccount): token, ca.crt, namespace, same layout
  /proc         the container's own (its PID namespace): the host's processes
                are only visible through a hostPath of / (its proc/)
  /sys          tmpfs unless a volume is mounted there: never the real /sys
  /dev, /run, /tmp  the container's own (tmpfs; /run is lost at a restart)

Env: the image's, KUBERNETES_SERVICE_HOST/PORT (the test API server), the
container's values and fieldRefs (spec.nodeName, metadata.namespace, ...),
$(VAR) references expanded. command/args as Kubernetes combines them with the
image's entrypoint/cmd.

Images (--image REF=KIND:DIR, or --image '*=KIND:DIR' for any reference):
  rootfs:DIR   DIR is an image's root filesystem (with DIR/config.json,
               DIR/../image.json or DIR/../config.json as its OCI image config,
               for Entrypoint/Env/Cmd, when present; scripts/build-image
               writes rootfs/ and image.json); the container's root is an
               overlay on it
  install:DIR  DIR is a `meson install --destdir` tree: its top directories are
               laid over the runner's own system (read-only), the rest of the
               root is the runner's system dirs (bin, lib, usr, etc); with
               --containerfile F the ENTRYPOINT/CMD/ENV of F's last stage; the
               tree's bin directories are put on PATH
An unknown image keeps the container waiting (ErrImagePull), like a kubelet.

Restarts: a container that exits is started again (init containers until
they succeed; the main container always, restartPolicy Always) after a
backoff of --backoff seconds doubling to 5 min (the first restart is
immediate). Init containers run once per pod, again only for a new pod.

Control:
  SIGUSR1          kill -9 the running container (it is restarted)
  SIGUSR2          the pod dies at once (as at a force delete, or when the node
                   loses it): SIGKILL, no preStop, and a new pod (init again)
  kubectl delete pod ...   the pod goes: preStop exec hooks, SIGTERM, after
                   terminationGracePeriodSeconds SIGKILL; then a new pod
  node labels      the pod is deleted when the nodeSelector stops matching,
                   created when it matches again
  SIGTERM/SIGINT   kill every container and exit
State for tests in --state-dir: `status` (key=value lines: pod, uid, phase,
container, pid, restarts, pods), logs/<container>.log (every run of a
container appended, after a "=== ..." line), runner.log. While a file `hold`
exists there no container is started (a slow node: tests change the host
between a kill and the restart).
"""
import argparse
import ctypes
import errno
import json
import os
import random
import shutil
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request

CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = 155  # x86_64
PR_SET_PDEATHSIG = 1
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_BACKOFF = 300.0

libc = ctypes.CDLL(None, use_errno=True)


def sys_check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def mount(src, dst, fstype, flags=0, data=None):
    sys_check(libc.mount(src.encode() if src else None, dst.encode(),
                         fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                         data.encode() if data else None), "mount %s on %s" % (src or fstype, dst))


def log(msg):
    sys.stderr.write("%s noderun: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def rand_suffix(n=5):
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


# ---- the API server ---------------------------------------------------------------------------

class Api:
    def __init__(self, server, ca, token_file):
        self.server, self.token_file = server.rstrip("/"), token_file
        self.ctx = ssl.create_default_context(cafile=ca) if server.startswith("https") else None
        self.ca = ca

    def token(self):
        with open(self.token_file) as f:
            return f.readline().strip()

    def call(self, method, path, body=None, ctype="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", "noderun (the tests' kubelet)")
        if data is not None:
            req.add_header("Content-Type", ctype)
        if self.ctx:
            req.add_header("Authorization", "Bearer " + self.token())
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read() or b"null")
            except ValueError:
                return e.code, None
        except (urllib.error.URLError, OSError, ValueError) as e:
            return 0, {"message": str(e)}


# ---- images -----------------------------------------------------------------------------------

def containerfile_config(path):
    """ENTRYPOINT, CMD and ENV of a Containerfile's last stage (JSON forms)."""
    cfg = {"Entrypoint": None, "Cmd": None, "Env": []}
    with open(path) as f:
        lines = f.read().replace("\\\n", " ").splitlines()
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "FROM":
            cfg = {"Entrypoint": None, "Cmd": None, "Env": []}
        elif word in ("ENTRYPOINT", "CMD") and rest.startswith("["):
            cfg["Entrypoint" if word == "ENTRYPOINT" else "Cmd"] = json.loads(rest)
        elif word == "ENV":
            k, sep, v = rest.partition("=")
            if not sep:
                k, _, v = rest.partition(" ")
            cfg["Env"].append("%s=%s" % (k.strip(), v.strip().strip('"')))
    return cfg


class Image:
    def __init__(self, spec, containerfile):
        kind, _, d = spec.partition(":")
        if kind not in ("rootfs", "install") or not os.path.isdir(d):
            raise SystemExit("noderun: --image wants KIND:DIR with KIND rootfs or install "
                             "and DIR a directory: %r" % spec)
        self.kind, self.dir = kind, os.path.abspath(d)
        self.config = {"Entrypoint": None, "Cmd": None, "Env": []}
        for c in (os.path.join(self.dir, "config.json"),
                  os.path.join(os.path.dirname(self.dir), "image.json"),
                  os.path.join(os.path.dirname(self.dir), "config.json")):
            if kind == "rootfs" and os.path.isfile(c):
                with open(c) as f:
                    j = json.load(f)
                j = j.get("config", j.get("Config", j))
                self.config.update({k: j.get(k) for k in ("Entrypoint", "Cmd", "Env")})
                break
        else:
            if containerfile:
                self.config = containerfile_config(containerfile)
        self.config["Env"] = self.config.get("Env") or []
        if kind == "install":
            # The tree's bin directories (meson's prefix may be /usr/local) on PATH.
            env = dict(e.partition("=")[::2] for e in self.config["Env"])
            path = env.get("PATH", DEFAULT_PATH).split(":")
            for b in ("usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin"):
                if os.path.isdir(os.path.join(self.dir, b)) and "/" + b not in path:
                    path.insert(0, "/" + b)
            env["PATH"] = ":".join(path)
            self.config["Env"] = ["%s=%s" % kv for kv in env.items()]


# ---- one container: what to mount and run, then the fork ---------------------------------------

def expand(s, env):
    """Kubernetes' $(VAR) expansion; $$(VAR) is a literal $(VAR)."""
    out, i = [], 0
    while i < len(s):
        if s.startswith("$$", i):
            out.append("$")
            i += 2
        elif s.startswith("$(", i) and ")" in s[i:]:
            j = s.index(")", i)
            name = s[i + 2:j]
            out.append(env[name] if name in env else s[i:j + 1])
            i = j + 1
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def setup_root(plan):
    """In the new namespaces (this process is PID 1): build the root, pivot into it."""
    r = plan["root"]
    img = plan["image"]
    if img.kind == "rootfs":
        mount("overlay", r, "overlay", 0, "lowerdir=%s,upperdir=%s,workdir=%s"
              % (img.dir, plan["upper"], plan["work"]))
    else:
        mount("tmpfs", r, "tmpfs", 0, "mode=755")
        tops = set(os.listdir(img.dir))
        for name in sorted(set(["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc"]) | tops):
            host, mine, t = "/" + name, os.path.join(img.dir, name), os.path.join(r, name)
            if not os.path.lexists(host) and name not in tops:
                continue
            if os.path.islink(host) and name not in tops:
                os.symlink(os.readlink(host), t)
                continue
            os.mkdir(t)
            if name in tops and os.path.isdir(host) and not os.path.islink(host):
                mount("overlay", t, "overlay", 0, "lowerdir=%s:%s" % (mine, host))
            elif name in tops:
                mount(mine, t, None, MS_BIND | MS_REC)
            else:
                mount(host, t, None, MS_BIND | MS_REC)
                mount(None, t, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    for d in ("proc", "dev", "sys", "tmp", "run", "var"):
        os.makedirs(os.path.join(r, d), exist_ok=True)
    mount("proc", os.path.join(r, "proc"), "proc", MS_NOSUID | MS_NODEV)
    dev = os.path.join(r, "dev")
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755")
    for n in ("null", "zero", "full", "random", "urandom", "tty"):
        open(os.path.join(dev, n), "w").close()
        mount("/dev/" + n, os.path.join(dev, n), None, MS_BIND)
    for n, t in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                 ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(t, os.path.join(dev, n))
    os.mkdir(os.path.join(dev, "shm"))
    mount("tmpfs", os.path.join(dev, "shm"), "tmpfs", MS_NOSUID | MS_NODEV)
    if plan["privileged"] and os.path.isdir(plan["node_dev_vfio"]):
        os.mkdir(os.path.join(dev, "vfio"))
        mount(plan["node_dev_vfio"], os.path.join(dev, "vfio"), None, MS_BIND)
    for d in ("tmp", "run"):
        mount("tmpfs", os.path.join(r, d), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" if d == "tmp" else "mode=755")
    if not any(v["path"] == "/sys" for v in plan["mounts"]):
        mount("tmpfs", os.path.join(r, "sys"), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV)
    for v in sorted(plan["mounts"], key=lambda v: v["path"].count("/")):
        t = r + v["path"]
        if os.path.isdir(v["src"]):
            os.makedirs(t, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(t), exist_ok=True)
            if not os.path.exists(t):
                open(t, "w").close()
        mount(v["src"], t, None, MS_BIND | MS_REC)
        if v["ro"]:
            mount(None, t, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
    os.chdir(r)
    sys_check(libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    sys_check(libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir(plan["workdir"] or "/")


def start_container(plan, logpath):
    """Fork: a child unshares mount+PID namespaces and forks PID 1 of the new
    namespace, which builds the root and execs; the child waits for it and
    exits with its status (128+signal when killed). Returns (child pid, PID 1's
    host pid)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            fd = os.open(logpath, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            nul = os.open("/dev/null", os.O_RDONLY)
            os.dup2(nul, 0)
            sys_check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            p2 = os.fork()
            if p2 == 0:
                try:
                    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                    os.close(w)
                    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGCHLD):
                        signal.signal(s, signal.SIG_DFL)
                    signal.pthread_sigmask(signal.SIG_SETMASK, [])
                    setup_root(plan)
                    os.execvpe(plan["argv"][0], plan["argv"], plan["env"])
                except BaseException as e:  # noqa: B902 - PID 1 of the container reports and dies
                    os.write(2, ("noderun: container %s: %s\n" % (plan["name"], e)).encode())
                    os._exit(128 if isinstance(e, FileNotFoundError) else 127)
            os.write(w, str(p2).encode())
            os.close(w)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                try:
                    _, st = os.waitpid(p2, 0)
                    break
                except InterruptedError:
                    continue
            os._exit(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
        except BaseException as e:  # noqa: B902
            os.write(2, ("noderun: cannot start container %s: %s\n" % (plan["name"], e)).encode())
            os._exit(126)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 32)
        if not chunk:
            break
        data += chunk
    os.close(r)
    return pid, int(data) if data else 0


# ---- the pod ----------------------------------------------------------------------------------

def atomic_dir(path, files):
    """Write files ({name: bytes}) into path the way the kubelet's AtomicWriter does."""
    os.makedirs(path, exist_ok=True)
    link = os.path.join(path, "..data")
    old = os.readlink(link) if os.path.islink(link) else None
    if old:
        cur = {}
        for n in os.listdir(os.path.join(path, old)):
            with open(os.path.join(path, old, n), "rb") as f:
                cur[n] = f.read()
        if cur == files:
            return False
    ts = time.strftime("..%Y_%m_%d_%H_%M_%S.") + str(random.randrange(10 ** 9))
    os.mkdir(os.path.join(path, ts))
    for n, b in files.items():
        with open(os.path.join(path, ts, n), "wb") as f:
            f.write(b)
    os.symlink(ts, os.path.join(path, "..data_tmp"))
    os.rename(os.path.join(path, "..data_tmp"), link)
    for n in files:
        if not os.path.islink(os.path.join(path, n)):
            os.symlink(os.path.join("..data", n), os.path.join(path, n))
    for n in os.listdir(path):
        p = os.path.join(path, n)
        if os.path.islink(p) and not n.startswith("..") and n not in files:
            os.unlink(p)
    if old:
        shutil.rmtree(os.path.join(path, old), ignore_errors=True)
    return True


class Pod:
    def __init__(self, ds, node, obj, poddir):
        self.ds, self.node, self.obj, self.dir = ds, node, obj, poddir
        self.name, self.ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
        self.spec = obj["spec"]
        self.inits = list(self.spec.get("initContainers") or [])
        self.main = list(self.spec.get("containers") or [])
        self.step = 0                 # index into inits + main
        self.pid = self.pid1 = 0      # the running container: forked child, PID 1's host pid
        self.restarts = {}            # container name -> restarts
        self.fails = 0                # consecutive failures (backoff)
        self.next_start = 0.0
        self.terminating = False
        self.kill_at = 0.0
        self.waiting = ""             # why the current container does not run

    def current(self):
        allc = self.inits + self.main
        return allc[min(self.step, len(allc) - 1)]

    def in_init(self):
        return self.step < len(self.inits)

    def phase(self):
        if self.terminating:
            return "Terminating"
        if self.in_init():
            return "Init:%d/%d" % (self.step, len(self.inits))
        return "Running" if self.pid else ("CrashLoopBackOff" if self.fails else "Pending")


class Runner:
    def __init__(self, a):
        self.a = a
        self.api = Api(a.server, a.ca, a.token_file)
        self.node_root = os.path.abspath(a.node_root)
        self.state = os.path.abspath(a.state_dir)
        os.makedirs(os.path.join(self.state, "logs"), exist_ok=True)
        os.makedirs(os.path.join(self.state, "pods"), exist_ok=True)
        self.images = {}
        for spec in a.image:
            ref, sep, what = spec.partition("=")
            if not sep:
                raise SystemExit("noderun: --image wants REF=KIND:DIR: %r" % spec)
            self.images[ref] = Image(what, a.containerfile)
        self.ds_ns, _, self.ds_name = a.daemonset.partition("/")
        self.pod = None
        self.pods_made = 0
        self.stop = False
        self.kill_now = False
        self.kill_pod = False
        self.last_poll = 0.0

    # -- status for tests
    def write_status(self):
        p = self.pod
        c = p.current()["name"] if p else ""
        st = {"pod": p.name if p else "", "uid": p.obj["metadata"]["uid"] if p else "",
              "phase": p.phase() if p else "None", "container": c,
              "pid": p.pid1 if p and p.pid else 0,
              "restarts": p.restarts.get(c, 0) if p else 0, "pods": self.pods_made,
              "waiting": p.waiting if p else ""}
        tmp = os.path.join(self.state, "status.tmp")
        with open(tmp, "w") as f:
            for k, v in st.items():
                f.write("%s=%s\n" % (k, v))
        os.rename(tmp, os.path.join(self.state, "status"))

    def api_status(self):
        p = self.pod
        if not p:
            return

        def cs(c, i, init):
            running = p.pid and p.current() is c
            done = init and i < p.step
            state = ({"running": {}} if running else
                     {"terminated": {"exitCode": 0, "reason": "Completed"}} if done else
                     {"waiting": {"reason": p.waiting or "PodInitializing"}})
            return {"name": c["name"], "image": c.get("image", ""), "ready": bool(running and not init),
                    "restartCount": p.restarts.get(c["name"], 0), "state": state}
        status = {"phase": "Running" if not p.in_init() else "Pending",
                  "hostIP": "127.0.0.1",
                  "initContainerStatuses": [cs(c, i, True) for i, c in enumerate(p.inits)],
                  "containerStatuses": [cs(c, 0, False) for c in p.main]}
        self.api.call("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (p.ns, p.name),
                      {"status": status}, "application/merge-patch+json")

    # -- the DaemonSet controller's part
    def node_matches(self, ds):
        code, node = self.api.call("GET", "/api/v1/nodes/" + self.a.node)
        if code != 200:
            return False
        labels = node["metadata"].get("labels") or {}
        sel = ds["spec"]["template"]["spec"].get("nodeSelector") or {}
        return all(labels.get(k) == v for k, v in sel.items())

    def get_ds(self):
        code, ds = self.api.call("GET", "/apis/apps/v1/namespaces/%s/daemonsets/%s" % (self.ds_ns, self.ds_name))
        return ds if code == 200 else None

    def create_pod(self, ds):
        tmpl = ds["spec"]["template"]
        name = "%s-%s" % (ds["metadata"]["name"], rand_suffix())
        spec = json.loads(json.dumps(tmpl["spec"]))
        spec["nodeName"] = self.a.node
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        obj = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": self.ds_ns,
                            "labels": dict(tmpl.get("metadata", {}).get("labels") or {}),
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                                                 "name": ds["metadata"]["name"],
                                                 "uid": ds["metadata"].get("uid", ""), "controller": True}]},
               "spec": spec, "status": {"phase": "Pending"}}
        code, made = self.api.call("POST", "/api/v1/namespaces/%s/pods" % self.ds_ns, obj)
        if code != 201:
            log("cannot create pod %s: HTTP %d %s" % (name, code, (made or {}).get("message")))
            return
        self.pods_made += 1
        self.pod = Pod(ds, self.a.node, made, os.path.join(self.state, "pods", name))
        log("pod %s created (uid %s)" % (name, made["metadata"]["uid"]))
        self.sync_volumes()
        self.api_status()

    # -- volumes
    def sync_volumes(self):
        """configMap and service-account volumes, written the kubelet's way. False
        while a configMap the pod needs is missing."""
        p = self.pod
        ok = True
        for v in p.spec.get("volumes") or []:
            if "configMap" in v:
                cm = v["configMap"]
                code, obj = self.api.call("GET", "/api/v1/namespaces/%s/configmaps/%s" % (p.ns, cm.get("name")))
                if code != 200:
                    if not cm.get("optional"):
                        p.waiting = "ContainerCreating: configmap %s/%s not found" % (p.ns, cm.get("name"))
                        ok = False
                    obj = {"data": {}}
                data = obj.get("data") or {}
                files = {}
                if cm.get("items"):
                    for it in cm["items"]:
                        if it["key"] in data:
                            files[it["path"]] = data[it["key"]].encode()
                else:
                    files = {k: s.encode() for k, s in data.items()}
                if atomic_dir(os.path.join(p.dir, "volumes", v["name"]), files):
                    log("configMap volume %s: %s written" % (v["name"], ",".join(sorted(files))))
        if p.spec.get("automountServiceAccountToken", True):
            with open(self.api.ca, "rb") as f:
                ca = f.read()
            atomic_dir(os.path.join(p.dir, "volumes", "kube-api-access"),
                       {"token": self.api.token().encode(), "ca.crt": ca, "namespace": p.ns.encode()})
        return ok

    def host_path(self, hp):
        path = hp.get("path", "/")
        src = os.path.normpath(self.node_root + "/" + path)
        typ = hp.get("type", "")
        if typ == "DirectoryOrCreate":
            os.makedirs(src, exist_ok=True)
        elif typ == "Directory" and not os.path.isdir(src):
            raise OSError(errno.ENOENT, "hostPath type check failed: %s is not a directory" % path)
        elif typ == "FileOrCreate" and not os.path.exists(src):
            open(src, "a").close()
        return src

    def plan(self, c):
        p = self.pod
        ref = c.get("image", "")
        img = self.images.get(ref) or self.images.get("*")
        if not img:
            raise LookupError("ErrImagePull: image %s is not on this node" % ref)
        vols = {v["name"]: v for v in p.spec.get("volumes") or []}
        mounts = []
        for m in c.get("volumeMounts") or []:
            v = vols.get(m["name"])
            if v is None:
                raise LookupError("CreateContainerConfigError: volume %s not in the pod" % m["name"])
            if "hostPath" in v:
                src = self.host_path(v["hostPath"])
            elif "configMap" in v:
                src = os.path.join(p.dir, "volumes", v["name"])
            elif "emptyDir" in v:
                src = os.path.join(p.dir, "volumes", v["name"])
                os.makedirs(src, exist_ok=True)
            else:
                raise LookupError("CreateContainerConfigError: volume %s: kind not simulated" % m["name"])
            if m.get("subPath"):
                src = os.path.join(src, m["subPath"])
            mounts.append({"path": m["mountPath"], "src": src, "ro": bool(m.get("readOnly"))})
        if p.spec.get("automountServiceAccountToken", True) and \
                not any(m["path"] == SA_DIR for m in mounts):
            mounts.append({"path": SA_DIR, "src": os.path.join(p.dir, "volumes", "kube-api-access"), "ro": True})
        env = {}
        for e in img.config["Env"]:
            k, _, v = e.partition("=")
            env[k] = v
        env.setdefault("PATH", DEFAULT_PATH)
        env["HOSTNAME"] = p.name
        host, port = self.a.service_host, str(self.a.service_port)
        env.update({"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port,
                    "KUBERNETES_SERVICE_PORT_HTTPS": port, "KUBERNETES_PORT": "tcp://%s:%s" % (host, port)})
        fields = {"spec.nodeName": self.a.node, "metadata.namespace": p.ns, "metadata.name": p.name,
                  "metadata.uid": p.obj["metadata"]["uid"], "spec.serviceAccountName":
                  p.spec.get("serviceAccountName", "default"), "status.hostIP": "127.0.0.1",
                  "status.podIP": "127.0.0.1"}
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = expand(e["value"], env)
            elif "fieldRef" in (e.get("valueFrom") or {}):
                fp = e["valueFrom"]["fieldRef"]["fieldPath"]
                if fp not in fields:
                    raise LookupError("CreateContainerConfigError: fieldRef %s not simulated" % fp)
                env[e["name"]] = fields[fp]
            else:
                env[e["name"]] = ""
        cmd = c.get("command") or img.config.get("Entrypoint") or []
        args = c.get("args") if c.get("args") is not None else \
            ([] if c.get("command") else img.config.get("Cmd") or [])
        argv = [expand(s, env) for s in list(cmd) + list(args)]
        if not argv:
            raise LookupError("CreateContainerConfigError: no command in the pod or the image")
        cdir = os.path.join(p.dir, "containers", "%s-%d" % (c["name"], p.restarts.get(c["name"], 0)))
        for d in ("root", "upper", "work"):
            os.makedirs(os.path.join(cdir, d), exist_ok=True)
        priv = bool((c.get("securityContext") or {}).get("privileged"))
        return {"name": c["name"], "image": img, "root": os.path.join(cdir, "root"),
                "upper": os.path.join(cdir, "upper"), "work": os.path.join(cdir, "work"),
                "mounts": mounts, "env": env, "argv": argv, "workdir": c.get("workingDir"),
                "privileged": priv, "node_dev_vfio": os.path.join(self.node_root, "dev", "vfio")}

    def start(self):
        p = self.pod
        c = p.current()
        try:
            plan = self.plan(c)
        except (LookupError, OSError) as e:
            p.waiting = str(e)
            p.next_start = time.time() + max(1.0, self.a.backoff)
            log("pod %s container %s: %s" % (p.name, c["name"], e))
            return
        logpath = os.path.join(self.state, "logs", c["name"] + ".log")
        with open(logpath, "a") as f:
            f.write("=== %s pod %s container %s run %d: %s\n" % (time.strftime("%H:%M:%S"), p.name, c["name"],
                                                              p.restarts.get(c["name"], 0) + 1,
                                                              " ".join(plan["argv"])))
        p.pid, p.pid1 = start_container(plan, logpath)
        p.waiting = ""
        p.started = time.time()
        log("pod %s container %s started: PID 1 is %d" % (p.name, c["name"], p.pid1))
        self.api_status()

    def exited(self, code):
        p = self.pod
        c = p.current()
        p.pid = p.pid1 = 0
        log("pod %s container %s exited: %d" % (p.name, c["name"], code))
        if p.terminating:
            return
        if p.in_init() and code == 0:
            p.step += 1
            p.fails = 0
            p.next_start = 0
        else:
            if time.time() - getattr(p, "started", 0) > 600:
                p.fails = 0
            p.restarts[c["name"]] = p.restarts.get(c["name"], 0) + 1
            delay = 0 if p.fails == 0 else min(MAX_BACKOFF, self.a.backoff * 2 ** (p.fails - 1))
            p.fails += 1
            p.next_start = time.time() + delay
            p.waiting = "CrashLoopBackOff" if delay else "Restarting"
        self.api_status()

    def terminate(self, why, grace=None):
        p = self.pod
        if p.terminating:
            return
        p.terminating = True
        if grace is None:
            grace = p.spec.get("terminationGracePeriodSeconds", 30)
        log("pod %s: %s; stopping (grace %ss)" % (p.name, why, grace))
        if p.pid and grace == 0:
            os.kill(p.pid1, signal.SIGKILL)
        elif p.pid:
            hook = ((p.current().get("lifecycle") or {}).get("preStop") or {}).get("exec")
            if hook and not p.in_init():
                os.spawnvp(os.P_WAIT, "nsenter", ["nsenter", "-t", str(p.pid1), "-m", "-p", "--"]
                           + hook["command"])
            try:
                os.kill(p.pid1, signal.SIGTERM)
            except ProcessLookupError:
                pass
        p.kill_at = time.time() + grace

    def reap(self):
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.pod and pid == self.pod.pid:
                self.exited(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))

    def poll(self):
        p = self.pod
        if p and not p.terminating:
            code, _ = self.api.call("GET", "/api/v1/namespaces/%s/pods/%s" % (p.ns, p.name))
            if code == 404:
                self.terminate("deleted")
                return
            ds = self.get_ds()
            if ds is None or not self.node_matches(ds):
                self.api.call("DELETE", "/api/v1/namespaces/%s/pods/%s" % (p.ns, p.name))
                self.terminate("the DaemonSet no longer selects node %s" % self.a.node)
                return
            self.sync_volumes()
        elif not p:
            ds = self.get_ds()
            if ds and self.node_matches(ds):
                self.create_pod(ds)

    def shutdown(self):
        p = self.pod
        if p and p.pid:
            try:
                os.kill(p.pid1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(p.pid, 0)
            except ChildProcessError:
                pass
        if p:
            self.api.call("DELETE", "/api/v1/namespaces/%s/pods/%s" % (p.ns, p.name))

    def run(self):
        signal.signal(signal.SIGUSR1, lambda *_: setattr(self, "kill_now", True))
        signal.signal(signal.SIGUSR2, lambda *_: setattr(self, "kill_pod", True))
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stop", True))
        signal.signal(signal.SIGCHLD, lambda *_: None)
        while not self.stop:
            self.reap()
            p = self.pod
            if self.kill_now:
                self.kill_now = False
                if p and p.pid:
                    log("pod %s container %s: kill -9 (asked)" % (p.name, p.current()["name"]))
                    os.kill(p.pid1, signal.SIGKILL)
            if self.kill_pod:
                self.kill_pod = False
                if p and not p.terminating:
                    self.api.call("DELETE", "/api/v1/namespaces/%s/pods/%s" % (p.ns, p.name))
                    self.terminate("killed with its node's view of it (asked)", 0)
            now = time.time()
            if now - self.last_poll >= self.a.poll:
                self.last_poll = now
                self.poll()
            p = self.pod
            if p and p.terminating:
                if p.pid and now >= p.kill_at:
                    log("pod %s: grace period over: SIGKILL" % p.name)
                    os.kill(p.pid1, signal.SIGKILL)
                    p.kill_at = now + 3600
                elif not p.pid:
                    log("pod %s gone" % p.name)
                    shutil.rmtree(p.dir, ignore_errors=True)
                    self.pod = None
                    self.last_poll = 0
            elif p and not p.pid and now >= p.next_start and \
                    not os.path.exists(os.path.join(self.state, "hold")):
                if self.sync_volumes():
                    self.start()
                else:
                    p.next_start = now + 1
            self.write_status()
            time.sleep(0.05)
        self.shutdown()
        self.write_status()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True, help="the API server, https://127.0.0.1:PORT")
    ap.add_argument("--ca", required=True, help="its CA (PEM), also the pods' ca.crt")
    ap.add_argument("--token-file", required=True, help="the service account's token (first line)")
    ap.add_argument("--node", required=True, help="the node's name")
    ap.add_argument("--node-root", required=True, help="the simulated node's / (a vgpu-sim mount)")
    ap.add_argument("--daemonset", required=True, help="NAMESPACE/NAME in the API server")
    ap.add_argument("--image", action="append", default=[], help="REF=rootfs:DIR or REF=install:DIR (REF * for any)")
    ap.add_argument("--containerfile", help="ENTRYPOINT/CMD/ENV for install: images")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--backoff", type=float, default=10.0, help="first restart backoff, seconds (kubelet: 10)")
    ap.add_argument("--poll", type=float, default=0.5, help="API poll period, seconds")
    ap.add_argument("--service-host", default="127.0.0.1")
    ap.add_argument("--service-port", type=int, help="default: the --server port")
    a = ap.parse_args()
    if a.service_port is None:
        a.service_port = int(a.server.rsplit(":", 1)[1].strip("/"))
    if os.geteuid() != 0:
        raise SystemExit("noderun: must run as root (namespaces and mounts)")
    Runner(a).run()


if __name__ == "__main__":
    main()
