#!/usr/bin/env python3
"""A small Kubernetes API server for tests (Python 3 standard library only).

Serves what the real kubectl (v1.27-v1.33) and the vGPU agent use: /version, legacy
discovery, nodes/pods/namespaces/events (core and events.k8s.io) and a few more kinds
(configmaps, serviceaccounts, daemonsets, RBAC) with LIST/GET/POST/PUT/PATCH/DELETE/WATCH,
a real resourceVersion, 409/410 semantics, bearer tokens re-read from a file per request,
HTTPS, a DaemonSet imitation for the two GPU Operator operands, fault knobs and a request
log under /_test/. Usage and the control API: tests/k8s/README.md.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube_store import (RES, ApiError, Store, find_res, merge_patch, strip_directives,  # noqa
                        json_patch, event_to_core, event_from_core, validate_event,
                        parse_label_selector, labels_match, parse_field_selector,
                        fields_match, not_found, conflict, dumps, VERBS, now_rfc3339)
from kube_faults import Faults, RequestLog  # noqa: E402
from kube_operands import Operands  # noqa: E402

NS_RES = find_res("", "v1", "namespaces")
HAS_STATUS = ("nodes", "pods", "namespaces", "daemonsets")
ERROR_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                 409: "Conflict", 410: "Expired", 429: "TooManyRequests",
                 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


class State:
    """Everything that outlives one listening socket (the server can go "down")."""

    def __init__(self, args):
        self.args = args
        self.store = Store(history=args.history)
        self.faults = Faults()
        self.log = RequestLog(args.request_log)
        self.conns = set()
        self.conns_lock = threading.Lock()
        self.server = None
        self.tls = None
        if args.tls_cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.tls_cert, args.tls_key)
            self.tls.set_alpn_protocols(["http/1.1"])
        self.operands = None
        self.port = None

    def tokens(self):
        try:
            with open(self.args.token_file) as f:
                return {ln.strip() for ln in f if ln.strip()}
        except OSError:
            return set()


def status_error(code, message, reason=None):
    return ApiError(code, reason or ERROR_REASONS.get(code, "Unknown"), message)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as kube-apiserver (Go) has it: headers and body are separate
    # writes, and Nagle plus the client's delayed ACK would add ~40 ms to each
    # response.
    disable_nagle_algorithm = True
    server_version = "vgpudm-test-apiserver/1"

    def log_message(self, fmt, *a):  # quiet; the request log is the record
        if self.server.state.args.verbose:
            sys.stderr.write("apiserver: " + (fmt % a) + "\n")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # ------------------------------------------------------------ plumbing
    def send_json(self, code, obj, log=True):
        data = dumps(obj) if not isinstance(obj, bytes) else obj
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if code >= 500:
            self.send_header("Retry-After", "1") if code == 503 else None
        self.end_headers()
        self.wfile.write(data)
        if log:
            self.logreq(code)

    def logreq(self, code, watch=False):
        self.state.log.add(method=self.command, path=self.urlpath, query=self.rawquery,
                           code=code, watch=watch, ua=self.headers.get("User-Agent", ""),
                           auth="bearer" if self.headers.get("Authorization", "").startswith(
                               "Bearer ") else "none",
                           content_type=self.headers.get("Content-Type", ""),
                           body=self.jbody if self.command in ("POST", "PUT", "PATCH") else None)

    def authorized(self):
        if not self.state.args.token_file:
            return True
        h = self.headers.get("Authorization", "")
        return h.startswith("Bearer ") and h[7:].strip() in self.state.tokens()

    def dispatch(self, method):
        self.state = self.server.state
        u = urllib.parse.urlsplit(self.path)
        self.urlpath, self.rawquery = u.path, u.query
        self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query,
                                                            keep_blank_values=True).items()}
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n) if n else b""
        try:
            self.jbody = json.loads(self.body) if self.body else None
        except ValueError:
            self.jbody = None
        is_watch = method == "GET" and self.q.get("watch") in ("1", "true", "True")
        try:
            if self.urlpath.startswith("/_test/"):
                if not self.authorized():
                    raise status_error(401, "Unauthorized")
                return self.control(method)
            fmethod = "WATCH" if is_watch else method
            stall = self.state.faults.take("stall", fmethod, self.urlpath)
            if stall:
                time.sleep(float(stall.extra.get("seconds", 5)))
            if not self.authorized():
                raise status_error(401, "Unauthorized")
            err = self.state.faults.take("error", fmethod, self.urlpath)
            if err:
                code = int(err.extra.get("code", 500))
                raise status_error(code, err.extra.get("message",
                                                       "fault injected by the test (%d)" % code))
            self.route(method, is_watch)
        except ApiError as e:
            self.send_json(e.code, e.status())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug here must show as a 500, not a hung client
            import traceback
            traceback.print_exc()
            self.send_json(500, status_error(500, "test apiserver bug: %r" % e).status())

    # ------------------------------------------------------------ discovery
    def route(self, method, is_watch):
        segs = [s for s in self.urlpath.split("/") if s]
        st = self.state
        if method == "GET" and self.urlpath in ("/healthz", "/readyz", "/livez"):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(data)
            return self.logreq(200)
        if method == "GET" and self.urlpath == "/version":
            m = st.args.minor
            return self.send_json(200, {"major": "1", "minor": m, "gitVersion": "v1.%s.0" % m,
                                        "gitCommit": "0" * 40, "gitTreeState": "clean",
                                        "buildDate": "2026-01-01T00:00:00Z",
                                        "goVersion": "go1.23.0", "compiler": "gc",
                                        "platform": "linux/amd64"})
        if method == "GET" and segs == ["api"]:
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [{
                                            "clientCIDR": "0.0.0.0/0",
                                            "serverAddress": "127.0.0.1:%d" % st.port}]})
        groups = sorted({(r.group, r.version) for r in RES if r.group})
        if method == "GET" and segs == ["apis"]:
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                        "groups": [self.group_obj(g, v) for g, v in groups]})
        if method == "GET" and len(segs) == 2 and segs[0] == "apis":
            for g, v in groups:
                if g == segs[1]:
                    return self.send_json(200, dict(self.group_obj(g, v), kind="APIGroup",
                                                    apiVersion="v1"))
        if method == "GET" and ((len(segs) == 2 and segs[0] == "api") or
                                (len(segs) == 3 and segs[0] == "apis")):
            g, v = ("", segs[1]) if segs[0] == "api" else (segs[1], segs[2])
            rl = [r for r in RES if r.group == g and r.version == v]
            if rl:
                return self.send_json(200, {
                    "kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": rl[0].api_version,
                    "resources": [{"name": r.plural, "singularName": r.singular,
                                   "namespaced": r.namespaced, "kind": r.kind, "verbs": VERBS,
                                   **({"shortNames": r.short} if r.short else {})}
                                  for r in rl]})
        if len(segs) >= 3 and segs[0] == "api":
            return self.resource(method, is_watch, "", segs[1], segs[2:])
        if len(segs) >= 4 and segs[0] == "apis":
            return self.resource(method, is_watch, segs[1], segs[2], segs[3:])
        raise status_error(404, "the server could not find the requested resource", "NotFound")

    @staticmethod
    def group_obj(g, v):
        gv = {"groupVersion": g + "/" + v, "version": v}
        return {"name": g, "versions": [gv], "preferredVersion": gv}

    # ------------------------------------------------------------ resources
    def resource(self, method, is_watch, group, version, rest):
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        r = find_res(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if r is None or len(rest) > 3 or (ns is not None and not r.namespaced) or \
                (r.namespaced and ns is None and name is not None) or \
                (sub is not None and (sub != "status" or r.key not in HAS_STATUS)):
            raise status_error(404, "the server could not find the requested resource",
                               "NotFound")
        store = self.state.store
        dry = self.q.get("dryRun") == "All"
        if method == "GET" and name is None:
            if is_watch:
                return self.watch(r, ns)
            return self.send_json(200, self.list(r, ns))
        if method == "GET":
            return self.send_json(200, self.out(r, store.get(r, ns or "", name)))
        if method == "POST" and name is None:
            if r.namespaced and ns is None:
                raise status_error(405, "the server does not allow this method on the "
                                   "requested resource", "MethodNotAllowed")
            obj = self.body_obj(r)
            if r.namespaced:
                store.get(NS_RES, "", ns)  # 404 for an unknown namespace
            if r.key == "events":
                obj = event_from_core(obj) if not r.group else obj
                obj.setdefault("metadata", {})
                validate_event(r, obj, ns, bool(r.group) or bool(obj.get("eventTime")))
            return self.send_json(201, self.out(r, store.create(r, ns or "", obj, dry)))
        if method in ("PUT", "PATCH") and name is not None:
            if self.state.faults.take("conflict", method, self.urlpath):
                raise conflict(r, name)
            return self.write(r, ns or "", name, sub, method, dry)
        if method == "DELETE" and name is not None:
            return self.send_json(200, self.out(r, store.delete(r, ns or "", name, dry)))
        raise status_error(405, "the server does not allow this method on the requested "
                           "resource", "MethodNotAllowed")

    def body_obj(self, r):
        if not isinstance(self.jbody, dict):
            raise status_error(400, "the request body is not a JSON object (only "
                               "application/json is understood here)")
        obj = self.jbody
        obj.setdefault("apiVersion", r.api_version)
        obj.setdefault("kind", r.kind)
        if obj.get("kind") != r.kind:
            raise status_error(400, "the API version in the data (%s) does not match the "
                               "expected API version (%s)" % (obj.get("kind"), r.kind))
        return obj

    def out(self, r, obj):
        if r.key == "events" and not r.group:
            return event_to_core(obj)
        return obj

    def selectors(self, r):
        return (parse_label_selector(self.q.get("labelSelector", "")),
                parse_field_selector(self.q.get("fieldSelector", ""), r))

    def list(self, r, ns):
        lsel, fsel = self.selectors(r)
        store = self.state.store
        with store.cond:
            items = [self.out(r, o) for o in store.list(r.key, ns)]
            rv = store.rv
        items = [o for o in items if labels_match(lsel, o["metadata"].get("labels"))
                 and fields_match(fsel, o)]
        return {"kind": r.kind + "List", "apiVersion": r.api_version,
                "metadata": {"resourceVersion": str(rv)}, "items": items}

    def write(self, r, ns, name, sub, method, dry):
        store = self.state.store
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if method == "PUT":
            new = self.body_obj(r)
            if r.key == "events" and not r.group:
                new = event_from_core(new)
            pre = (new.get("metadata") or {}).get("resourceVersion")

            def fn(old):
                if r.key in HAS_STATUS:  # the status subresource decides which part counts
                    if sub == "status":
                        return dict(old, status=new.get("status", {}))
                    new["status"] = old.get("status", {})
                return new
            return self.send_json(200, self.out(r, store.update(r, ns, name, fn, pre, dry)))
        if self.jbody is None:
            raise status_error(400, "the patch body is not JSON")
        if ctype == "application/merge-patch+json":
            apply = lambda old: merge_patch(old, self.jbody)  # noqa: E731
        elif ctype == "application/strategic-merge-patch+json":
            apply = lambda old: merge_patch(old, strip_directives(self.jbody))  # noqa: E731
        elif ctype == "application/json-patch+json":
            apply = lambda old: json_patch(old, self.jbody)  # noqa: E731
        else:
            raise status_error(415, "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, "
                               "application/strategic-merge-patch+json", "UnsupportedMediaType")

        def fn(old):
            base = event_to_core(old) if r.key == "events" and not r.group else old
            new = apply(base)
            if not isinstance(new, dict):
                raise status_error(422, "the patch does not produce an object", "Invalid")
            if r.key == "events" and not r.group:
                new = event_from_core(new)
            if str((new.get("metadata") or {}).get("resourceVersion")) != \
                    old["metadata"]["resourceVersion"]:
                raise conflict(r, name)  # a resourceVersion precondition in the patch
            if r.key in HAS_STATUS:
                if sub == "status":
                    return dict(old, status=new.get("status", {}))
                new["status"] = old.get("status", {})
            return new
        return self.send_json(200, self.out(r, store.update(r, ns, name, fn, None, dry)))

    # ------------------------------------------------------------ watch
    def chunk(self, obj):
        data = dumps(obj) + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def client_gone(self):
        import select
        try:
            rd, _, _ = select.select([self.connection], [], [], 0)
            if not rd:
                return False
            return self.connection.recv(1) == b""
        except (OSError, ssl.SSLError, ValueError):
            return True

    def watch(self, r, ns):
        st, store, args = self.state, self.state.store, self.state.args
        lsel, fsel = self.selectors(r)
        q = self.q
        rv = q.get("resourceVersion", "")
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true", "True")
        initial_events = q.get("sendInitialEvents") in ("1", "true", "True")
        timeout = float(q.get("timeoutSeconds") or args.watch_timeout)
        gone = st.faults.take("gone", "WATCH", self.urlpath)

        def match(o):
            o = self.out(r, o)
            return (ns is None or o["metadata"].get("namespace") == ns) and \
                labels_match(lsel, o["metadata"].get("labels")) and fields_match(fsel, o)

        with store.cond:
            if rv not in ("", "0"):
                try:
                    rvi = int(rv)
                except ValueError:
                    raise status_error(400, "invalid resource version %r" % rv)
                if rvi > store.rv:
                    raise status_error(504, "Too large resource version: %d, current: %d"
                                       % (rvi, store.rv), "Timeout")
                if rvi < store.compacted and not gone:
                    gone = "natural"
            else:
                rvi = None
            if gone:
                mode = getattr(gone, "extra", {}).get("mode", args.gone_mode)
                msg = "too old resource version: %s (%d)" % (rv or "0", store.compacted + 1)
                if mode == "status":
                    raise ApiError(410, "Expired", msg)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.logreq(200, watch=True)
                self.chunk({"type": "ERROR", "object": ApiError(410, "Expired", msg).status()})
                self.wfile.write(b"0\r\n\r\n")
                return
            initial = []
            if rvi is None or initial_events:
                initial = [self.out(r, o) for o in store.list(r.key) if match(o)]
            last = store.rv if rvi is None else rvi
            gens = dict(store.gen)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.logreq(200, watch=True)
        for o in initial:
            self.chunk({"type": "ADDED", "object": o})
        inject = st.faults.take("inject", "WATCH", self.urlpath)
        for line in (inject.extra.get("lines", []) if inject else []):
            data = (line if isinstance(line, str) else dumps(line).decode()).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        flood = st.faults.take("flood", "WATCH", self.urlpath)
        if flood:  # one line that never ends: bytes of it (0: until the client goes)
            left = int(flood.extra.get("bytes", 0)) or None
            block = b'{"type":"MODIFIED","object":{"x":"' + b"x" * 65500
            try:
                while left is None or left > 0:
                    data = block if left is None else block[:left]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    if left is not None:
                        left -= len(data)
                    block = b"x" * 65536
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                self.close_connection = True
                return
        if initial_events:
            self.chunk({"type": "BOOKMARK", "object": {
                "kind": r.kind, "apiVersion": r.api_version,
                "metadata": {"resourceVersion": str(last),
                             "annotations": {"k8s.io/initial-events-end": "true"}}}})
        end = time.monotonic() + timeout
        next_bm = time.monotonic() + args.bookmark_interval
        while True:
            with store.cond:
                now = time.monotonic()
                wait = min(end, next_bm if bookmarks else end, now + 1.0) - now
                evs = store.events_since(last)
                if not evs and wait > 0 and store.gen == gens:
                    store.cond.wait(wait)
                    evs = store.events_since(last)
                if last < store.compacted:
                    evs, gens["expire"] = [], -1  # our position fell out of the history
                g = dict(store.gen)
                cur_rv = store.rv
            if g["drop"] != gens["drop"]:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if g["close"] != gens["close"]:
                break
            if g["expire"] != gens["expire"]:
                self.chunk({"type": "ERROR", "object": ApiError(
                    410, "Expired", "too old resource version: %d (%d)"
                    % (last, cur_rv)).status()})
                break
            for (erv, key, typ, obj, old) in evs:
                last = erv
                if key != r.key:
                    continue
                now_m = typ != "DELETED" and match(obj)
                was = old is not None and match(old)
                if typ == "DELETED":
                    if match(obj):
                        self.chunk({"type": "DELETED", "object": self.out(r, obj)})
                elif now_m and (typ == "ADDED" or was):
                    self.chunk({"type": typ, "object": self.out(r, obj)})
                elif now_m:
                    self.chunk({"type": "ADDED", "object": self.out(r, obj)})
                elif was:
                    self.chunk({"type": "DELETED", "object": self.out(r, obj)})
            forced = g["bookmark"] != gens["bookmark"]
            now = time.monotonic()
            if bookmarks and (now >= next_bm or forced):
                self.chunk({"type": "BOOKMARK", "object": {
                    "kind": r.kind, "apiVersion": r.api_version,
                    "metadata": {"resourceVersion": str(max(last, cur_rv))}}})
                last = max(last, cur_rv)
                next_bm = now + args.bookmark_interval
            gens["bookmark"] = g["bookmark"]
            if now >= end:
                break
            if self.client_gone():
                self.close_connection = True
                return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ------------------------------------------------------------ control
    def control(self, method):
        st = self.state
        p = self.urlpath
        if p == "/_test/requests" and method == "GET":
            since = int(self.q.get("since") or 0)
            items = st.log.since(since)
            return self.send_json(200, {"items": items, "last": st.log.seq}, log=False)
        if p == "/_test/requests" and method == "DELETE":
            st.log.clear()
            return self.send_json(200, {"cleared": True}, log=False)
        if p == "/_test/objects" and method == "GET":
            with st.store.cond:
                return self.send_json(200, {"resourceVersion": str(st.store.rv),
                                            "compacted": st.store.compacted,
                                            "objects": {k: list(v.values()) for k, v in
                                                        st.store.objs.items()}}, log=False)
        if p == "/_test/faults" and method == "GET":
            o = st.operands
            return self.send_json(200, {"rules": st.faults.describe(), "operands": None if not o
                                        else {"enabled": o.enabled,
                                              "delete_delay": o.delete_delay,
                                              "grace": o.grace,
                                              "create_delay": o.create_delay}}, log=False)
        if p == "/_test/faults" and method == "POST":
            return self.apply_faults()
        raise status_error(404, "unknown control endpoint %s %s" % (method, p))

    def apply_faults(self):
        st, b = self.state, self.jbody
        if not isinstance(b, dict):
            raise status_error(400, "POST /_test/faults wants a JSON object")
        known = {"drop_watches", "close_watches", "expire_watches", "bookmark_now", "compact",
                 "gone_next_watch", "conflict_next_writes", "error_next_requests",
                 "stall_next", "down_for", "rotate_token", "operands", "clear",
                 "watch_lines", "flood_next_watch"}
        bad = set(b) - known
        if bad:
            raise status_error(400, "unknown fault(s): %s; known: %s"
                               % (", ".join(sorted(bad)), ", ".join(sorted(known))))
        try:
            if b.get("clear"):
                st.faults.clear()
            for key, kind in (("gone_next_watch", "gone"), ("conflict_next_writes", "conflict"),
                              ("error_next_requests", "error")):
                if key in b:
                    st.faults.add(kind, b[key])
            if "watch_lines" in b:  # raw lines into the next watch, then as usual
                w = b["watch_lines"]
                st.faults.add("inject", w if isinstance(w, dict) else {"count": 1, "lines": w})
            if "flood_next_watch" in b:
                st.faults.add("flood", b["flood_next_watch"])
            if "stall_next" in b:
                s = b["stall_next"]
                st.faults.add("stall", s if isinstance(s, dict) else {"count": 1,
                                                                      "seconds": float(s)})
        except (ValueError, TypeError) as e:
            raise status_error(400, "bad fault: %s" % e)
        if "operands" in b:
            o = st.operands
            if o is None:
                raise status_error(400, "the operand controller is off (--no-operands)")
            with st.store.cond:
                for k in ("delete_delay", "grace", "create_delay"):
                    if k in b["operands"]:
                        setattr(o, k, float(b["operands"][k]))
                if "enabled" in b["operands"]:
                    o.enabled = bool(b["operands"]["enabled"])
                o.reconcile() if o.enabled else None
        if "rotate_token" in b:
            if not st.args.token_file:
                raise status_error(400, "no --token-file to rotate")
            tmp = st.args.token_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(b["rotate_token"]) + "\n")
            os.replace(tmp, st.args.token_file)
        if b.get("compact"):
            st.store.compact()
        if b.get("bookmark_now"):
            st.store.signal("bookmark")
        if b.get("expire_watches"):
            st.store.signal("expire")
        if b.get("close_watches"):
            st.store.signal("close")
        if b.get("drop_watches"):
            st.store.signal("drop")
        if b.get("down_for"):
            # Stop listening before answering, so that the caller's next
            # request is refused; this connection is still open for the answer.
            self.close_connection = True
            stop_listening(st)
        self.send_json(200, {"ok": True, "rules": st.faults.describe()}, log=False)
        if b.get("down_for"):
            threading.Thread(target=go_down, args=(st, float(b["down_for"])),
                             daemon=True).start()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, state):
        self.state = state
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        st = self.state
        if st.tls:
            request.settimeout(10)
            try:
                request = st.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
            request.settimeout(None)
        with st.conns_lock:
            st.conns.add(request)
        try:
            super().finish_request(request, client_address)
        except (ssl.SSLError, OSError):
            pass
        finally:
            with st.conns_lock:
                st.conns.discard(request)
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.state.args.verbose:
            super().handle_error(request, client_address)


def serve(state):
    srv = Server((state.args.bind, state.port or 0), state)
    state.port = srv.server_address[1]
    state.server = srv
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                     daemon=True).start()
    return srv


def stop_listening(state):
    """Close the listening socket (connections already open stay)."""
    srv = state.server
    srv.shutdown()
    srv.server_close()


def go_down(state, seconds):
    """After stop_listening: close every connection; listen again after `seconds`."""
    time.sleep(0.05)  # let the control response leave first
    state.store.signal("drop")
    with state.conns_lock:
        conns = list(state.conns)
    for c in conns:
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    time.sleep(seconds)
    for _ in range(100):
        try:
            serve(state)
            return
        except OSError:
            time.sleep(0.1)
    sys.stderr.write("apiserver: could not listen again on port %d\n" % state.port)
    os._exit(1)


def load_fixture(state, path):
    with open(path) as f:
        data = json.load(f)
    items = data if isinstance(data, list) else data.get("items") or (
        data.get("namespaces", []) + data.get("nodes", []) + data.get("pods", [])
        + data.get("objects", []))
    for o in sorted(items, key=lambda o: o.get("kind") != "Namespace"):
        ensure(state, o)


def ensure(state, o):
    av, kind = o.get("apiVersion", "v1"), o.get("kind")
    g, v = av.split("/") if "/" in av else ("", av)
    for r in RES:
        if r.group == g and r.version == v and r.kind == kind:
            ns = (o.get("metadata") or {}).get("namespace", "default") if r.namespaced else ""
            if r.namespaced:
                try:
                    state.store.get(NS_RES, "", ns)
                except ApiError:
                    state.store.create(NS_RES, "", {"metadata": {"name": ns}})
            try:
                state.store.create(r, ns, o)
            except ApiError as e:
                sys.exit("apiserver: fixture: %s" % e.message)
            return
    sys.exit("apiserver: fixture: unknown kind %s/%s" % (av, kind))


def make_node(name, labels):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": dict({"kubernetes.io/hostname": name,
                                                       "kubernetes.io/os": "linux"}, **labels)},
            "spec": {},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason":
                                       "KubeletReady", "lastHeartbeatTime": now_rfc3339(),
                                       "lastTransitionTime": now_rfc3339()}],
                       "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                                     {"type": "Hostname", "address": name}],
                       "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian 12",
                                    "architecture": "amd64", "operatingSystem": "linux"}}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--tls-cert", help="PEM certificate: serve HTTPS (else plain HTTP)")
    ap.add_argument("--tls-key", help="PEM key of --tls-cert")
    ap.add_argument("--token-file", help="valid bearer tokens, one a line, re-read per "
                    "request (without it: no authentication)")
    ap.add_argument("--node", action="append", default=[], help="create this Node")
    ap.add_argument("--label", action="append", default=[], metavar="K=V",
                    help="label every --node with K=V")
    ap.add_argument("--fixture", help="JSON: a list of objects or {items|nodes|pods|...}")
    ap.add_argument("--namespace", action="append", default=[], help="create this Namespace")
    ap.add_argument("--operand-namespace", default="gpu-operator")
    ap.add_argument("--no-operands", action="store_true",
                    help="do not imitate the operands' DaemonSets")
    ap.add_argument("--operand-delete-delay", type=float, default=0.2,
                    help="seconds before an unwanted operand pod starts terminating "
                    "(negative: never)")
    ap.add_argument("--operand-grace", type=float, default=0.3,
                    help="seconds a terminating operand pod stays listed")
    ap.add_argument("--operand-create-delay", type=float, default=0.2)
    ap.add_argument("--node-root", action="append", default=[], metavar="NODE=DIR",
                    help="the simulated node's / (repeatable): the validator's init "
                         "containers and preStop act on DIR/run/nvidia/validations")
    ap.add_argument("--history", type=int, default=1000, help="watch events kept")
    ap.add_argument("--bookmark-interval", type=float, default=10.0)
    ap.add_argument("--watch-timeout", type=float, default=1800.0,
                    help="watch length when the client gives no timeoutSeconds")
    ap.add_argument("--gone-mode", choices=["event", "status"], default="event",
                    help="too-old watches: 200 + ERROR event (like kube-apiserver) or a 410")
    ap.add_argument("--request-log", help="append one JSON line per API request")
    ap.add_argument("--minor", default="32", help="/version minor (the kubectl dispatcher "
                    "picks kubectl.1.<minor>)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    state = State(args)
    for ns in ["default", "kube-system", args.operand_namespace] + args.namespace:
        try:
            state.store.create(NS_RES, "", {"metadata": {"name": ns}})
        except ApiError:
            pass
    labels = {}
    for kv in args.label:
        if "=" not in kv:
            ap.error("--label wants K=V, not %r" % kv)
        k, v = kv.split("=", 1)
        labels[k] = v
    for n in args.node:
        ensure(state, make_node(n, labels))
    if args.fixture:
        load_fixture(state, args.fixture)
    if not args.no_operands:
        state.operands = Operands(state.store, args.operand_namespace,
                                  args.operand_delete_delay, args.operand_grace,
                                  args.operand_create_delay,
                                  dict(r.split("=", 1) for r in args.node_root))
        state.operands.reconcile()
    serve(state)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % state.port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("apiserver: listening on %s://%s:%d\n" % (
        "https" if state.tls else "http", args.bind, state.port))
    sys.stderr.flush()
    stop = threading.Event()
    import signal
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
