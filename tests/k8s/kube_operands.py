"""The test API server's stand-in for the DaemonSet controller of the two GPU
Operator operands the vGPU agent pauses (sandbox device plugin and validator).

For every node and operand: while the node's deploy label reads "true" one pod
(label app=<app>, spec.nodeName=<node>) exists in the operand namespace. When
the label stops being "true" the pod is marked terminating (deletionTimestamp)
after `delete_delay` seconds and removed `grace` seconds later (delete_delay < 0:
never); when the label comes back a new pod (new name and uid) appears after
`create_delay` seconds. Pods deleted by a client are recreated the same way.

With node roots (`--node-root NODE=DIR`, a simulated node's /) the validator's
pods also do to the node's hostPath /run/nvidia/validations what the GPU
Operator's sandbox validator does (gpu-operator
assets/state-sandbox-validation/0500_daemonset.yaml, cmd/nvidia-validator):
its init containers write `vgpu-manager-ready` (the vGPU Manager is there)
and, when the node has a vGPU, `vgpu-devices-ready`, before the pod is
listed; its preStop hook, `rm -f /run/nvidia/validations/*`, runs when the
pod starts terminating (every regular file there goes, whoever wrote it).
"""
import glob
import os
import threading

from kube_store import find_res, now_rfc3339, rand_suffix, ApiError

OPERANDS = [
    ("nvidia.com/gpu.deploy.sandbox-device-plugin", "nvidia-sandbox-device-plugin-daemonset"),
    ("nvidia.com/gpu.deploy.sandbox-validator", "nvidia-sandbox-validator"),
]
NODES = find_res("", "v1", "nodes")
PODS = find_res("", "v1", "pods")


class Operands:
    def __init__(self, store, namespace, delete_delay=0.2, grace=0.3, create_delay=0.2,
                 node_roots=None):
        self.store = store
        self.node_roots = node_roots or {}
        self.ns = namespace
        self.delete_delay, self.grace, self.create_delay = delete_delay, grace, create_delay
        self.enabled = True
        self.pending = set()  # (node, app, action) with a timer running
        store.hooks.append(self.on_change)

    def on_change(self, key, typ, obj):
        if key in ("nodes", "pods") and self.enabled:
            self.reconcile()

    def pods_of(self, node, app):
        return [p for p in self.store.objs["pods"].values()
                if p["metadata"].get("namespace") == self.ns
                and (p["metadata"].get("labels") or {}).get("app") == app
                and (p.get("spec") or {}).get("nodeName") == node]

    def wanted(self, node, label):
        n = self.store.objs["nodes"].get(("", node))
        return n is not None and (n["metadata"].get("labels") or {}).get(label) == "true"

    def reconcile(self):
        with self.store.cond:
            for (_, node) in list(self.store.objs["nodes"].keys()):
                for label, app in OPERANDS:
                    self._one(node, label, app)

    def _later(self, delay, node, app, action, fn):
        if (node, app, action) in self.pending:
            return
        if delay == 0:
            fn()
            return
        self.pending.add((node, app, action))

        def fire():
            with self.store.cond:
                self.pending.discard((node, app, action))
                if self.enabled:
                    fn()
        t = threading.Timer(delay, fire)
        t.daemon = True
        t.start()

    def _one(self, node, label, app):
        pods = self.pods_of(node, app)
        if self.wanted(node, label):
            if not pods:
                self._later(self.create_delay, node, app, "create",
                            lambda: self._create(node, label, app))
            return
        for p in pods:
            if "deletionTimestamp" in p["metadata"]:
                continue
            if self.delete_delay < 0:
                continue
            self._later(self.delete_delay, node, app, "delete",
                        lambda: self._terminate(node, label, app))

    def validations(self, node):
        root = self.node_roots.get(node)
        return os.path.join(root, "run/nvidia/validations") if root else None

    def validator_init(self, node):
        """The validator's init containers: vgpu-manager-ready, and
        vgpu-devices-ready once a vGPU exists (mdev or vendor VFIO)."""
        d = self.validations(node)
        if not d:
            return
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "vgpu-manager-ready"), "w"):
            pass
        root = self.node_roots[node]
        vgpus = glob.glob(os.path.join(root, "sys/bus/mdev/devices/*"))
        for f in glob.glob(os.path.join(root, "sys/bus/pci/devices/*/nvidia/current_vgpu_type")):
            try:
                with open(f) as fh:
                    if fh.read().strip() not in ("", "0"):
                        vgpus.append(f)
            except OSError:
                pass
        if vgpus:
            with open(os.path.join(d, "vgpu-devices-ready"), "w"):
                pass

    def validator_prestop(self, node):
        """preStop: rm -f /run/nvidia/validations/* (regular files; no dotfiles)."""
        d = self.validations(node)
        if not d:
            return
        for f in glob.glob(os.path.join(d, "*")):
            if not os.path.isdir(f):
                try:
                    os.unlink(f)
                except OSError:
                    pass

    def _create(self, node, label, app):
        if not self.wanted(node, label) or self.pods_of(node, app):
            return
        if app == "nvidia-sandbox-validator":
            self.validator_init(node)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": app + "-" + rand_suffix(), "namespace": self.ns,
                            "labels": {"app": app},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                                                 "name": app, "controller": True,
                                                 "uid": "00000000-0000-4000-8000-0000000000"
                                                 + ("01" if "plugin" in app else "02")}]},
               "spec": {"nodeName": node, "nodeSelector": {label: "true"},
                        "containers": [{"name": app, "image": "fake/" + app}]},
               "status": {"phase": "Running", "startTime": now_rfc3339()}}
        try:
            self.store.create(PODS, self.ns, pod)
        except ApiError:
            pass

    def _terminate(self, node, label, app):
        if self.wanted(node, label):
            return
        for p in self.pods_of(node, app):
            name = p["metadata"]["name"]
            if "deletionTimestamp" in p["metadata"]:
                continue
            if app == "nvidia-sandbox-validator":
                self.validator_prestop(node)
            if self.grace <= 0:
                self.store.delete(PODS, self.ns, name)
                continue

            def mark(o):
                o["metadata"]["deletionTimestamp"] = now_rfc3339()
                o["metadata"]["deletionGracePeriodSeconds"] = max(1, int(self.grace))
                return o
            # The store keeps deletionTimestamp from the old object; set it directly.
            with self.store.cond:
                cur = self.store.objs["pods"][(self.ns, name)]
                new = mark(dict(cur, metadata=dict(cur["metadata"])))
                self.store.objs["pods"][(self.ns, name)] = new
                self.store._commit("pods", "MODIFIED", new, cur)

            def remove(name=name):
                with self.store.cond:
                    if (self.ns, name) in self.store.objs["pods"]:
                        self.store.delete(PODS, self.ns, name)
            t = threading.Timer(self.grace, remove)
            t.daemon = True
            t.start()
