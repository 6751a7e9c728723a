"""Shared helpers of the Azure emulators (Entra ID, Key Vault): JWT (RS256),
JWKS, config loading, a threaded TLS HTTP server with outage hooks.
Python 3 stdlib + python3-cryptography only."""
import base64
import hashlib
import json
import os
import socket
import socketserver
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8 or 1, "big"))


class JWTError(Exception):
    pass


def jwt_split(token):
    """Returns (header, claims, signing_input, signature) or raises JWTError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("not a JWS compact token")
    try:
        header = json.loads(b64u_dec(parts[0]))
        claims = json.loads(b64u_dec(parts[1]))
        sig = b64u_dec(parts[2])
    except Exception as e:  # noqa: BLE001
        raise JWTError("malformed token: %s" % e)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JWTError("malformed token")
    return header, claims, (parts[0] + "." + parts[1]).encode(), sig


def jwk_public_key(jwk):
    kty = jwk.get("kty")
    if kty == "RSA":
        n = int.from_bytes(b64u_dec(jwk["n"]), "big")
        e = int.from_bytes(b64u_dec(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if kty == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
        x = int.from_bytes(b64u_dec(jwk["x"]), "big")
        y = int.from_bytes(b64u_dec(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    raise JWTError("unsupported kty %r" % kty)


def jws_verify(header, signing_input, sig, keys):
    """Verifies against a list of JWKs (dicts). Honours kid if present."""
    alg = header.get("alg")
    if alg not in ("RS256", "RS384", "RS512", "ES256", "ES384"):
        raise JWTError("unsupported alg %r" % alg)
    kid = header.get("kid")
    cands = [k for k in keys if kid is None or k.get("kid") in (None, kid)]
    if not cands:
        raise JWTError("no key with kid %r" % kid)
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    for jwk in cands:
        try:
            pub = jwk_public_key(jwk)
            if alg.startswith("RS"):
                pub.verify(sig, signing_input, padding.PKCS1v15(), h)
            else:
                half = len(sig) // 2
                der = encode_dss_signature(int.from_bytes(sig[:half], "big"),
                                           int.from_bytes(sig[half:], "big"))
                pub.verify(der, signing_input, ec.ECDSA(h))
            return jwk
        except (InvalidSignature, ValueError, KeyError, JWTError):
            continue
    raise JWTError("signature verification failed")


def load_private_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def rsa_jwk(pub, kid=None):
    nums = pub.public_numbers()
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": kid or b64u(hashlib.sha256(der).digest()),
            "n": int_b64u(nums.n), "e": int_b64u(nums.e)}


def jwt_sign_rs256(key, claims, kid):
    header = {"typ": "JWT", "alg": "RS256", "kid": kid}
    si = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = key.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
    return si + "." + b64u(sig)


class ConfigFile:
    """JSON config re-read whenever the file's mtime/size changes."""

    def __init__(self, path):
        self.path = path
        self._stamp = None
        self._data = {}
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                return self._data
            if stamp != self._stamp:
                with open(self.path) as f:
                    self._data = json.load(f)
                self._stamp = stamp
            return self._data


class Stats:
    def __init__(self, keep=200):
        self.lock = threading.Lock()
        self.keep = keep
        self.reset()

    def reset(self):
        with self.lock:
            self.total = 0
            self.by_status = {}
            self.by_op = {}
            self.by_key = {}
            self.log = []
            self.started = time.time()

    def add(self, op, status, key=None, **extra):
        with self.lock:
            self.total += 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            self.by_op[op] = self.by_op.get(op, 0) + 1
            if key:
                self.by_key[key] = self.by_key.get(key, 0) + 1
            entry = {"t": round(time.time(), 3), "op": op, "status": status}
            entry.update(extra)
            self.log.append(entry)
            del self.log[:-self.keep]

    def snapshot(self, keyname="by_key"):
        with self.lock:
            return {"requests": self.total, "byStatus": dict(self.by_status),
                    "byOp": dict(self.by_op), keyname: dict(self.by_key),
                    "recent": list(self.log), "since": self.started}


class Faults:
    """Fault rules set through the admin API.

    rule = {"status": 429|5xx|..., "retryAfter": secs or null, "retryAfterMs": ms,
            "count": N (-1 = until cleared), "latencyMs": N, "outage": "reset"|"hang"|null,
            "match": substring of "METHOD /path?query", "host": substring of Host,
            "body": optional JSON body, "code"/"message": error code/message}
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def set(self, rules):
        with self.lock:
            self.rules = [dict(r) for r in rules]
            for r in self.rules:
                r.setdefault("count", -1)
                r.setdefault("hits", 0)

    def add(self, rule):
        with self.lock:
            r = dict(rule)
            r.setdefault("count", -1)
            r.setdefault("hits", 0)
            self.rules.append(r)

    def clear(self):
        with self.lock:
            self.rules = []

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def outage(self, consume=False):
        """Connection-level outage mode ('reset'/'hang') if any rule asks for it.
        consume=True (once per new connection): a 'reset' rule with a count uses one up."""
        with self.lock:
            for r in self.rules:
                if r.get("outage") in ("reset", "hang") and r["count"] != 0 \
                        and not r.get("match") and not r.get("host"):
                    if consume and r["outage"] == "reset":
                        if r["count"] > 0:
                            r["count"] -= 1
                        r["hits"] += 1
                    return r["outage"]
        return None

    def take(self, line, host):
        """Returns the first matching rule (consuming one count) or None."""
        with self.lock:
            for r in self.rules:
                if r["count"] == 0:
                    continue
                if r.get("match") and r["match"] not in line:
                    continue
                if r.get("host") and r["host"] not in (host or ""):
                    continue
                if r["count"] > 0:
                    r["count"] -= 1
                r["hits"] += 1
                return dict(r)
        return None


class TLSServer(socketserver.ThreadingMixIn, HTTPServer):
    """Threaded HTTP(S) server. The TLS handshake happens in the worker
    thread (a slow client cannot block accept). faults.outage() 'reset' closes
    the TCP connection before the handshake; 'hang' holds it silently."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, sslctx=None, faults=None):
        self.sslctx = sslctx
        self.faults = faults
        HTTPServer.__init__(self, addr, handler)

    def verify_request(self, request, client_address):
        if self.faults is not None and self.faults.outage(consume=True) == "reset":
            try:
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            return False
        return True

    def finish_request(self, request, client_address):
        while self.faults is not None and self.faults.outage() == "hang":
            time.sleep(0.1)
        # Answer without Nagle's delay: http.server writes headers and body separately, and the second small
        # segment would wait for the client's delayed ACK (~40 ms per request), as real servers (Go, IIS) do not.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if self.sslctx is not None:
            request.settimeout(30)
            try:
                request = self.sslctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            request.settimeout(None)
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        pass


def ssl_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):  # journald gets one line per request
        if os.environ.get("AZEMU_QUIET"):
            return
        super().log_message(fmt, *args)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status, obj, headers=None, reason=None):
        body = b"" if obj is None else json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status, reason)
        if obj is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


    def take_fault(self, faults, on_drop):
        """The first fault rule matching this request, after its latency. A connection-level one (status 0 or outage
        "reset") drops the connection here, calls on_drop() and returns None; so does no rule. Else the rule when it
        sets a status to answer with."""
        rule = faults.take("%s %s" % (self.command, self.path), self.headers.get("Host"))
        if not rule:
            return None
        if rule.get("latencyMs"):
            time.sleep(rule["latencyMs"] / 1000.0)
        if rule.get("outage") == "reset" or rule.get("status") == 0:
            on_drop()
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return None
        return rule if rule.get("status") else None

    def stats_faults_admin(self, method, path, body, stats, faults, group):
        """The admin endpoints every emulator has: /_admin/stats[/reset] and /_admin/faults. True if answered."""
        if path == "/_admin/stats" and method == "GET":
            self.send_json(200, stats.snapshot(group))
        elif path == "/_admin/stats/reset" and method == "POST":
            stats.reset()
            self.send_json(200, {"ok": True})
        elif path == "/_admin/faults" and method == "GET":
            self.send_json(200, {"faults": faults.list()})
        elif path == "/_admin/faults" and method == "DELETE":
            faults.clear()
            self.send_json(200, {"ok": True})
        elif path == "/_admin/faults" and method in ("POST", "PUT"):
            b = json.loads(body or b"{}")
            rules = b if isinstance(b, list) else b.get("faults", [b])
            if method == "PUT":
                faults.set(rules)
            else:
                for r in rules:
                    faults.add(r)
            self.send_json(200, {"faults": faults.list()})
        else:
            return False
        return True


def serve_forever(label, listen, admin_listen, handler, sslctx, faults):
    """An emulator's main loop: its (TLS) listener HOST:PORT, the plain-HTTP admin listener, then systemd READY=1."""
    host, port = listen.rsplit(":", 1)
    srv = TLSServer((host, int(port)), handler, sslctx, faults)
    serve_admin(admin_listen, handler)
    print("%s emulator listening on %s (admin %s)" % (label, listen, admin_listen), flush=True)
    sd_notify_ready()
    srv.serve_forever()


def serve_admin(admin_listen, handler):
    """Starts the plain-HTTP admin listener (HOST:PORT; '' = none) on a thread of its own."""
    if not admin_listen:
        return
    ah, ap = admin_listen.rsplit(":", 1)
    adm = TLSServer((ah, int(ap)), handler, None, None)
    adm.admin_only = True
    threading.Thread(target=adm.serve_forever, daemon=True).start()


def new_guid():
    return str(uuid.uuid4())


def sd_notify_ready():
    ns = os.environ.get("NOTIFY_SOCKET")
    if not ns:
        return
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.connect("\0" + ns[1:] if ns.startswith("@") else ns)
        s.sendall(b"READY=1")
        s.close()
    except OSError:
        pass
