"""Fault knobs and the request log of the test API server (tests/k8s/apiserver.py).

Faults are rules consumed by matching requests: {"kind": "error"|"conflict"|"stall"|"gone"|
"inject"|"flood",
"count": N, "method": "PUT"|None, "path": regex|None, ...}. See tests/k8s/README.md for the
control API that fills them.
"""
import json
import re
import threading
import time


class Rule:
    def __init__(self, kind, count=1, method=None, path=None, **extra):
        self.kind, self.count = kind, int(count)
        self.method = method.upper() if method else None
        self.path = re.compile(path) if path else None
        self.extra = extra

    def matches(self, method, path):
        return (self.count > 0 and (self.method is None or self.method == method)
                and (self.path is None or self.path.search(path) is not None))

    def describe(self):
        d = {"kind": self.kind, "count": self.count}
        if self.method:
            d["method"] = self.method
        if self.path:
            d["path"] = self.path.pattern
        d.update(self.extra)
        return d


# Which requests each kind applies to when the rule names no method.
DEFAULT_METHODS = {"conflict": ("PUT", "PATCH"), "gone": ("WATCH",), "error": None,
                   "stall": None, "inject": ("WATCH",), "flood": ("WATCH",)}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, kind, spec, **extra):
        """spec: a count (int/true) or {"count": N, "method": M, "path": RE, ...}."""
        if spec is True:
            spec = 1
        if isinstance(spec, (int, float)):
            spec = {"count": int(spec)}
        if not isinstance(spec, dict):
            raise ValueError("fault %s: expected a count or an object" % kind)
        spec = dict(spec)
        spec.update(extra)
        with self.lock:
            self.rules.append(Rule(kind, **spec))

    def take(self, kind, method, path):
        """Consume one matching rule of this kind; returns it or None. method 'WATCH' for
        watch requests (a rule naming GET matches them too)."""
        with self.lock:
            for r in self.rules:
                if r.kind != kind:
                    continue
                if r.method is None:
                    allowed = DEFAULT_METHODS.get(kind)
                    if allowed and method not in allowed:
                        continue
                    ok = r.matches(method, path) if r.path else r.count > 0
                else:
                    ok = r.matches(method, path) or (method == "WATCH" and r.method == "GET"
                                                     and r.matches("GET", path))
                if ok:
                    r.count -= 1
                    self.rules = [x for x in self.rules if x.count > 0]
                    return r
        return None

    def clear(self):
        with self.lock:
            self.rules = []

    def describe(self):
        with self.lock:
            return [r.describe() for r in self.rules]


class RequestLog:
    """Every API request (not /_test/ ones): one JSON object per line in the log file and in
    memory (the newest `keep`)."""

    def __init__(self, path=None, keep=20000):
        self.lock = threading.Lock()
        self.path, self.keep = path, keep
        self.entries = []
        self.seq = 0
        if path:
            open(path, "w").close()

    def add(self, **e):
        with self.lock:
            self.seq += 1
            e = dict(seq=self.seq, time=round(time.time(), 6), **e)
            self.entries.append(e)
            if len(self.entries) > self.keep:
                del self.entries[:len(self.entries) - self.keep]
            if self.path:
                with open(self.path, "a") as f:
                    f.write(json.dumps(e, separators=(",", ":")) + "\n")
            return self.seq

    def since(self, seq):
        with self.lock:
            return [e for e in self.entries if e["seq"] > seq]

    def clear(self):
        with self.lock:
            self.entries = []
            if self.path:
                open(self.path, "w").close()
