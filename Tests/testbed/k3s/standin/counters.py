"""Request counters (stand-in only), served by the plain-HTTP admin listener."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler


class Counters:
    """Request counters (stand-in only), served by the plain-HTTP admin listener
    (K3S_STANDIN_ADMIN_LISTEN, default 127.0.0.1:6440): GET /counts, POST /counts/reset.
    In memory: a restart of k3s.service starts again from zero."""
    WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")

    def __init__(self):
        self.lock = threading.Lock()
        self.server = ""        # this server's node name, set at start
        self.reset()

    def reset(self):
        with self.lock:
            self.total = 0
            self.by_verb = {}
            self.by_resource = {}
            self.by_verb_resource = {}
            self.writes = 0
            self.writes_by_object = {}
            self.bytes_sent = 0
            self.since = time.time()

    def sent(self, n):
        """Response body bytes of the API (what clients receive, headers aside)."""
        with self.lock:
            self.bytes_sent += n

    @staticmethod
    def resource(path):
        """secrets, serviceaccounts, serviceaccounts/token, namespaces, tokenreviews, ...;
        non-resource URLs (health, discovery, OIDC) count under their path."""
        m = re.fullmatch(r"/api/v1(?:/namespaces/[^/]+)?/([^/]+)(?:/[^/]+(?:/([^/]+))?)?", path) or \
            re.fullmatch(r"/apis/[^/]+/[^/]+(?:/namespaces/[^/]+)?/([^/]+)(?:/[^/]+(?:/([^/]+))?)?", path)
        if m:
            res, sub = m.groups()
            if path.startswith("/api/v1/namespaces/") and path.count("/") == 4:
                return "namespaces"
            return res + ("/" + sub if sub else "")
        if path == "/api/v1/namespaces":
            return "namespaces"
        return path

    @staticmethod
    def object_of(verb, path, body):
        """"NS/NAME" (or NAME) of a write, from the URL or, for a POST, the body's metadata.name"""
        m = re.fullmatch(r"/api(?:s/[^/]+)?/[^/]+(?:/namespaces/([^/]+))?/[^/]+(?:/([^/]+))?(?:/[^/]+)?", path)
        if not m:
            return None
        ns, name = m.groups()
        if name is None and verb == "POST":
            try:
                name = (json.loads(body or b"{}").get("metadata") or {}).get("name")
            except (ValueError, AttributeError):
                name = None
        return (ns + "/" if ns else "") + (name or "?")

    def add(self, verb, path, body=b""):
        res = self.resource(path)
        obj = self.object_of(verb, path, body) if verb in self.WRITE_VERBS else None
        with self.lock:
            if obj is not None:
                k = "%s %s %s" % (verb, res, obj)
                self.writes_by_object[k] = self.writes_by_object.get(k, 0) + 1
            self.total += 1
            self.by_verb[verb] = self.by_verb.get(verb, 0) + 1
            self.by_resource[res] = self.by_resource.get(res, 0) + 1
            vr = verb + " " + res
            self.by_verb_resource[vr] = self.by_verb_resource.get(vr, 0) + 1
            if res == "secrets" and verb in self.WRITE_VERBS:
                self.writes += 1

    def snapshot(self):
        with self.lock:
            return {"total": self.total, "byVerb": dict(self.by_verb), "byResource": dict(self.by_resource),
                    "byVerbResource": dict(self.by_verb_resource), "writes": self.writes, "bytesSent": self.bytes_sent,
                    "writesByObject": dict(self.writes_by_object), "server": self.server, "since": self.since}


COUNTERS = Counters()


class AdminHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k3s-standin-admin"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/counts":
            return self.reply(200, COUNTERS.snapshot())
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path.split("?")[0] == "/counts/reset":
            COUNTERS.reset()
            return self.reply(200, {"ok": True})
        return self.reply(404, {"error": "not found"})
