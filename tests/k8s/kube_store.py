"""In-memory object store of the test API server (tests/k8s/apiserver.py).

One global resourceVersion counter (like etcd's revision) shared by every
resource; every create/update/delete bumps it by one and appends a watch event
to a bounded history. A watch from a resourceVersion older than the oldest kept
event is "too old" (410 Gone / Expired). Selectors, JSON/merge patches and the
events.k8s.io <-> core/v1 Event conversion live here too. Standard library only.
"""
import collections
import copy
import datetime
import json
import random
import re
import threading
import uuid

# (group, version, plural, singular, kind, namespaced, shortNames, store key)
RESOURCES = [
    ("", "v1", "nodes", "node", "Node", False, ["no"], "nodes"),
    ("", "v1", "pods", "pod", "Pod", True, ["po"], "pods"),
    ("", "v1", "namespaces", "namespace", "Namespace", False, ["ns"], "namespaces"),
    ("", "v1", "events", "event", "Event", True, ["ev"], "events"),
    ("", "v1", "configmaps", "configmap", "ConfigMap", True, ["cm"], "configmaps"),
    ("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ["sa"],
     "serviceaccounts"),
    ("events.k8s.io", "v1", "events", "event", "Event", True, ["ev"], "events"),
    ("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ["ds"], "daemonsets"),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole",
     False, [], "clusterroles"),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
     "ClusterRoleBinding", False, [], "clusterrolebindings"),
    ("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True, [], "roles"),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding",
     True, [], "rolebindings"),
]
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


class Res:
    def __init__(self, t):
        (self.group, self.version, self.plural, self.singular, self.kind,
         self.namespaced, self.short, self.key) = t

    @property
    def api_version(self):
        return self.version if not self.group else self.group + "/" + self.version

    @property
    def qualified(self):  # "nodes", "events.events.k8s.io"
        return self.plural if not self.group else self.plural + "." + self.group


RES = [Res(t) for t in RESOURCES]


def find_res(group, version, plural):
    for r in RES:
        if r.group == group and r.version == version and r.plural == plural:
            return r
    return None


class ApiError(Exception):
    """An error answered as a Status object: code, reason, message."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            st["details"] = self.details
        return st


def not_found(r, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (r.qualified, name),
                    {"name": name, "kind": r.plural, **({"group": r.group} if r.group else {})})


def conflict(r, name):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object '
                    'has been modified; please apply your changes to the latest version and '
                    'try again' % (r.qualified, name),
                    {"name": name, "kind": r.plural, **({"group": r.group} if r.group else {})})


def invalid(r, name, causes):
    msg = '%s "%s" is invalid: %s' % (r.kind + ("." + r.group if r.group else ""), name,
                                      ", ".join("%s: %s" % (f, m) for f, m in causes))
    return ApiError(422, "Invalid", msg, {
        "name": name, "kind": r.kind,
        "causes": [{"reason": "FieldValueInvalid", "field": f, "message": m}
                   for f, m in causes]})


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand_suffix(n=5):
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


# ---------------------------------------------------------------- selectors

def _split_top(s):
    """Split on commas that are not inside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p.strip() for p in out if p.strip()]


def parse_label_selector(s):
    """'a=b,c!=d,e,!f,g in (x,y),h notin (z)' -> list of (op, key, values)."""
    reqs = []
    for p in _split_top(s or ""):
        m = re.match(r"^(\S+)\s+(in|notin)\s+\((.*)\)$", p)
        if m:
            vals = {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((m.group(2), m.group(1), vals))
        elif p.startswith("!"):
            reqs.append(("!", p[1:].strip(), None))
        elif "!=" in p:
            k, v = p.split("!=", 1)
            reqs.append(("!=", k.strip(), {v.strip()}))
        elif "==" in p:
            k, v = p.split("==", 1)
            reqs.append(("in", k.strip(), {v.strip()}))
        elif "=" in p:
            k, v = p.split("=", 1)
            reqs.append(("in", k.strip(), {v.strip()}))
        elif re.match(r"^[A-Za-z0-9./_-]+$", p):
            reqs.append(("exists", p, None))
        else:
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % p)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for op, k, vals in reqs:
        has = k in labels
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
        if op == "in" and (not has or labels[k] not in vals):
            return False
        if op in ("!=", "notin") and has and labels[k] in vals:
            return False
    return True


FIELDS = {
    "*": ["metadata.name", "metadata.namespace"],
    "pods": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"],
    "nodes": ["spec.unschedulable"],
    "events": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
               "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
               "regarding.apiVersion", "reportingController"],
}


def parse_field_selector(s, r):
    reqs = []
    for p in [x.strip() for x in (s or "").split(",") if x.strip()]:
        m = re.match(r"^([A-Za-z0-9.]+)\s*(==|!=|=)\s*(.*)$", p)
        if not m:
            raise ApiError(400, "BadRequest", "invalid selector: '%s'; can't understand '%s'"
                           % (s, p))
        f = m.group(1)
        if f not in FIELDS["*"] + FIELDS.get(r.key, []):
            raise ApiError(400, "BadRequest", 'field label not supported: %s' % f)
        reqs.append((f, m.group(2) != "!=", m.group(3)))
    return reqs


def field_value(obj, f):
    if f == "source":
        return (obj.get("source") or {}).get("component", "")
    cur = obj
    for part in f.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if f == "spec.unschedulable":
        return "true" if cur else "false"
    if cur is None:
        return ""
    return str(cur).lower() if isinstance(cur, bool) else str(cur)


def fields_match(reqs, obj):
    return all((field_value(obj, f) == v) == eq for f, eq, v in reqs)


# ---------------------------------------------------------------- patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strip_directives(p):
    """Strategic-merge patch approximated as a merge patch: drop $-directives."""
    if isinstance(p, dict):
        return {k: strip_directives(v) for k, v in p.items() if not k.startswith("$")}
    return p


def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", "json patch: bad path %r" % path)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def json_patch(doc, ops):
    """RFC 6902 add/remove/replace/test/copy/move."""
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "json patch must be a list")

    def walk(toks):
        cur = doc
        for t in toks[:-1]:
            cur = cur[int(t)] if isinstance(cur, list) else cur[t]
        return cur, toks[-1]

    for op in ops:
        try:
            kind, toks = op["op"], _ptr(op["path"])
            if kind == "test":
                cur = doc
                for t in toks:
                    cur = cur[int(t)] if isinstance(cur, list) else cur[t]
                if cur != op.get("value"):
                    raise ApiError(422, "Invalid", "the server rejected our request due to an "
                                   "error in our request: test operation failed at %s"
                                   % op["path"])
                continue
            if kind in ("copy", "move"):
                src = _ptr(op["from"])
                cur = doc
                for t in src:
                    cur = cur[int(t)] if isinstance(cur, list) else cur[t]
                val = copy.deepcopy(cur)
                if kind == "move":
                    par, last = walk(src)
                    del par[int(last) if isinstance(par, list) else last]
                kind, op = "add", {"value": val}
            par, last = walk(toks)
            if kind == "add":
                if isinstance(par, list):
                    par.insert(len(par) if last == "-" else int(last), op["value"])
                else:
                    par[last] = op["value"]
            elif kind == "remove":
                del par[int(last) if isinstance(par, list) else last]
            elif kind == "replace":
                idx = int(last) if isinstance(par, list) else last
                if not isinstance(par, list) and last not in par:
                    raise KeyError(last)
                par[idx] = op["value"]
            else:
                raise ApiError(400, "BadRequest", "json patch: unknown op %r" % kind)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            if isinstance(e, ApiError):
                raise
            raise ApiError(422, "Invalid", "json patch %s failed: %r" % (op, e))
    return doc


# ---------------------------------------------------------------- events

MICROTIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")
CORE_FROM_NEW = [("regarding", "involvedObject"), ("note", "message"),
                 ("reportingController", "reportingComponent"), ("deprecatedCount", "count"),
                 ("deprecatedFirstTimestamp", "firstTimestamp"),
                 ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedSource", "source")]
SAME = ["metadata", "reason", "type", "eventTime", "action", "reportingInstance", "related",
        "series"]


def event_to_core(ev):
    out = {"apiVersion": "v1", "kind": "Event"}
    for k in SAME:
        if k in ev:
            out[k] = copy.deepcopy(ev[k])
    for new, old in CORE_FROM_NEW:
        if new in ev:
            out[old] = copy.deepcopy(ev[new])
    out.setdefault("involvedObject", {})
    if "source" not in out and ev.get("reportingController"):
        out["source"] = {"component": ev["reportingController"]}
    if ev.get("series"):
        out["series"] = {"count": ev["series"].get("count"),
                         "lastObservedTime": ev["series"].get("lastObservedTime")}
    return out


def event_from_core(ev):
    out = {"apiVersion": "events.k8s.io/v1", "kind": "Event"}
    for k in SAME:
        if k in ev:
            out[k] = copy.deepcopy(ev[k])
    for new, old in CORE_FROM_NEW:
        if old in ev:
            out[new] = copy.deepcopy(ev[old])
    if "reportingController" not in out and (ev.get("source") or {}).get("component"):
        out["reportingController"] = ev["source"]["component"]
    return out


def validate_event(r, ev, ns, new_style):
    """kube-apiserver's event rules that a reporting client can get wrong."""
    name = ev["metadata"].get("name", "")
    causes = []
    reg = ev.get("regarding") or {}
    reg_ns = reg.get("namespace", "")
    if reg_ns == "" and ns not in ("default", "kube-system", ""):
        causes.append(("regarding.namespace" if r.group else "involvedObject.namespace",
                       "does not match event.namespace (an Event about a cluster-scoped object "
                       "belongs in namespace default or kube-system, not %s)" % ns))
    if reg_ns and reg_ns != ns:
        causes.append(("regarding.namespace" if r.group else "involvedObject.namespace",
                       "does not match event.namespace"))
    if new_style:
        et = ev.get("eventTime")
        if not et:
            causes.append(("eventTime", "Required value"))
        elif not MICROTIME.match(str(et)):
            causes.append(("eventTime", "Invalid value: %r: not a MicroTime (RFC 3339 with six "
                           "fractional digits)" % et))
        for f in ("reportingController", "reportingInstance", "action", "reason"):
            v = ev.get(f) if (f != "reportingController" or r.group) else \
                ev.get("reportingController")
            if not v:
                causes.append((f if r.group or f != "reportingController"
                               else "reportingComponent", "Required value"))
            elif len(str(v)) > 128:
                causes.append((f, "Too long: may not be more than 128 bytes"))
        if ev.get("type") not in ("Normal", "Warning"):
            causes.append(("type", "Unsupported value: %r: supported values: \"Normal\", "
                           "\"Warning\"" % ev.get("type")))
        if len((ev.get("note") or "").encode()) > 1024:
            causes.append(("note" if r.group else "message",
                           "Too long: may not be more than 1024 bytes"))
    if causes:
        raise invalid(r, name, causes)


# ---------------------------------------------------------------- the store

class Store:
    def __init__(self, history=1000):
        self.cond = threading.Condition(threading.RLock())
        self.rv = 1
        self.objs = collections.defaultdict(dict)  # key -> {(ns, name): obj}
        self.history = collections.deque()  # (rv, key, type, obj, old)
        self.history_max = history
        self.compacted = 0  # events with rv <= this are gone
        self.hooks = []  # fn(key, type, obj) called under the lock after each commit
        self.gen = {"drop": 0, "expire": 0, "bookmark": 0, "close": 0}

    def signal(self, what):
        with self.cond:
            self.gen[what] += 1
            self.cond.notify_all()

    def compact(self):
        with self.cond:
            self.history.clear()
            self.compacted = self.rv

    def _commit(self, key, typ, obj, old):
        self.rv += 1
        if typ != "DELETED":
            obj["metadata"]["resourceVersion"] = str(self.rv)
        else:
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
        self.history.append((self.rv, key, typ, copy.deepcopy(obj), old))
        while len(self.history) > self.history_max:
            self.compacted = self.history.popleft()[0]
        self.cond.notify_all()
        for h in self.hooks:
            h(key, typ, obj)
        return obj

    def list(self, key, ns=None):
        with self.cond:
            return [copy.deepcopy(o) for (n, _), o in sorted(self.objs[key].items())
                    if ns is None or n == ns]

    def get(self, r, ns, name):
        with self.cond:
            o = self.objs[r.key].get((ns, name))
            if o is None:
                raise not_found(r, name)
            return copy.deepcopy(o)

    def create(self, r, ns, obj, dry_run=False):
        with self.cond:
            obj.setdefault("apiVersion", r.api_version)
            obj.setdefault("kind", r.kind)
            md = obj.setdefault("metadata", {})
            if not md.get("name") and md.get("generateName"):
                md["name"] = md["generateName"] + rand_suffix()
            name = md.get("name")
            if not name:
                raise invalid(r, "", [("metadata.name", "Required value: name or generateName "
                                       "is required")])
            if r.namespaced:
                if md.get("namespace") and md["namespace"] != ns:
                    raise ApiError(400, "BadRequest", "the namespace of the provided object "
                                   "does not match the namespace sent on the request")
                md["namespace"] = ns
            else:
                md.pop("namespace", None)
            if (ns, name) in self.objs[r.key]:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists'
                               % (r.qualified, name), {"name": name, "kind": r.plural})
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            md.pop("resourceVersion", None)
            if r.key == "namespaces":
                obj.setdefault("status", {"phase": "Active"})
            if dry_run:
                md["resourceVersion"] = str(self.rv)
                return copy.deepcopy(obj)
            self.objs[r.key][(ns, name)] = obj
            return copy.deepcopy(self._commit(r.key, "ADDED", obj, None))

    def update(self, r, ns, name, fn, precondition_rv=None, dry_run=False):
        """fn(old copy) -> new object. 409 if precondition_rv differs from the stored rv."""
        with self.cond:
            old = self.objs[r.key].get((ns, name))
            if old is None:
                raise not_found(r, name)
            if precondition_rv not in (None, "") and \
                    str(precondition_rv) != old["metadata"]["resourceVersion"]:
                raise conflict(r, name)
            new = fn(copy.deepcopy(old))
            md = new.setdefault("metadata", {})
            if md.get("name", name) != name:
                raise ApiError(400, "BadRequest", "the name of the object (%s) does not match "
                               "the name on the URL (%s)" % (md.get("name"), name))
            for k in ("name", "uid", "creationTimestamp", "namespace", "deletionTimestamp"):
                if k in old["metadata"]:
                    md[k] = old["metadata"][k]
                else:
                    md.pop(k, None)
            md["resourceVersion"] = old["metadata"]["resourceVersion"]
            new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
            if labels_bad(md.get("labels")):
                raise invalid(r, name, [("metadata.labels", labels_bad(md.get("labels")))])
            if new == old or dry_run:  # a no-op write does not bump the resourceVersion
                return copy.deepcopy(new)
            self.objs[r.key][(ns, name)] = new
            return copy.deepcopy(self._commit(r.key, "MODIFIED", new, copy.deepcopy(old)))

    def delete(self, r, ns, name, dry_run=False):
        with self.cond:
            old = self.objs[r.key].get((ns, name))
            if old is None:
                raise not_found(r, name)
            if dry_run:
                return copy.deepcopy(old)
            del self.objs[r.key][(ns, name)]
            return copy.deepcopy(self._commit(r.key, "DELETED", old, None))

    def events_since(self, rv):
        """History entries with rv > given rv, oldest first (caller holds the lock)."""
        out = []
        for e in reversed(self.history):
            if e[0] <= rv:
                break
            out.append(e)
        out.reverse()
        return out


def labels_bad(labels):
    for k, v in (labels or {}).items():
        if not isinstance(v, str):
            return "Invalid value: %r: label values must be strings" % (v,)
        if len(v) > 63 or (v and not re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", v)):
            return "Invalid value: %r: a valid label must be an empty string or consist of " \
                   "alphanumeric characters, '-', '_' or '.'" % v
        name = k.split("/")[-1]
        if not re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", name) or len(name) > 63:
            return "Invalid value: %r: name part must consist of alphanumeric characters" % k
    return None


def dumps(o):
    return json.dumps(o, separators=(",", ":")).encode()
