#!/usr/bin/python3
"""Managed identity endpoint emulators for the aios-agent testbed.

--mode imds: Azure IMDS, http://169.254.169.254/metadata/identity/oauth2/token
--mode arc:  Azure Arc Connected Machine agent (HIMDS),
             http://localhost:40342/metadata/identity/oauth2/token with the
             Basic-realm key-file challenge (/var/opt/azcmagent/tokens/<guid>.key).

Tokens are signed with the Entra emulator's key, exactly like Entra's access
tokens, so the Key Vault emulator accepts them. Identities come from
config.json "managedIdentities". Admin API (plain HTTP, --admin-listen):
GET /_admin/stats, POST /_admin/stats/reset, GET|POST|PUT|DELETE /_admin/faults.
See README.md."""
import argparse
import json
import os
import secrets as pysecrets
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azemu  # noqa: E402

ARGS = None
CONFIG = None
STATS = azemu.Stats()
FAULTS = azemu.Faults()
SIGNING_KEY = None
SIGNING_JWK = None
ARC_KEYS = {}  # key file contents -> expiry (unix time)
ARC_LOCK = threading.Lock()
ARC_API_VERSIONS = ("2019-08-15", "2019-11-01", "2020-06-01")
TOKEN_PATH = "/metadata/identity/oauth2/token"


class MIError(Exception):
    def __init__(self, status, error, desc, headers=None):
        super().__init__(desc)
        self.status, self.error, self.desc, self.headers = status, error, desc, headers or {}


def mi_config():
    return CONFIG.get().get("managedIdentities", {}).get(ARGS.mode, {})


def default_tenant():
    cfg = CONFIG.get()
    return cfg.get("defaultTenant") or next(iter(cfg.get("tenants", {})), "00000000-0000-0000-0000-000000000000")


def select_identity(q):
    """IMDS: client_id | object_id | msi_res_id select a user-assigned identity;
    none = the system-assigned one, or the only user-assigned one."""
    mc = mi_config()
    system = mc.get("systemAssigned")
    users = mc.get("userAssigned", [])
    sel = [(k, q[k]) for k in ("client_id", "object_id", "msi_res_id") if q.get(k)]
    if len(sel) > 1:
        raise MIError(400, "invalid_request", "Only one of client_id, object_id or msi_res_id may be specified")
    if sel:
        k, v = sel[0]
        field = {"client_id": "clientId", "object_id": "objectId", "msi_res_id": "resourceId"}[k]
        cands = users + ([system] if system and ARGS.mode == "arc" else [])
        for ident in cands:
            if (ident.get(field) or "").lower() == v.lower():
                return ident
        if ARGS.mode == "arc":
            raise MIError(400, "invalid_request", "identity_not_found")
        raise MIError(400, "invalid_request", "Identity not found")
    if system:
        return system
    if len(users) == 1:
        return users[0]
    if not users:
        raise MIError(400, "invalid_request", "Identity not found")
    raise MIError(400, "invalid_request", "Multiple user assigned identities exist, please specify the "
                  "clientId / resourceId of the identity in the token request")


def issue(ident, resource):
    cfg = CONFIG.get()
    known = cfg.get("resources", ["https://vault.azure.net", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
                                  "https://management.azure.com"])
    res = resource.rstrip("/")
    if res.endswith("/.default"):
        res = res[:-len("/.default")]
    if res not in [r.rstrip("/") for r in known]:
        raise MIError(400, "invalid_resource",
                      "AADSTS500011: The resource principal named %s was not found in the tenant named %s. "
                      "This can happen if the application has not been installed by the administrator of the "
                      "tenant or consented to by any user in the tenant. You might have sent your authentication "
                      "request to the wrong tenant." % (resource, ident.get("tenant") or default_tenant()))
    tid = ident.get("tenant") or default_tenant()
    life = int(ident.get("accessTokenLifetime", mi_config().get("accessTokenLifetime", 86399)))
    now = int(time.time())
    oid = ident.get("objectId") or ident["clientId"]
    claims = {"aud": resource, "iss": "https://sts.windows.net/%s/" % tid,
              "iat": now - 300, "nbf": now - 300, "exp": now + life,
              "aio": "testbed", "appid": ident["clientId"], "appidacr": "2",
              "idp": "https://sts.windows.net/%s/" % tid, "idtyp": "app", "oid": oid,
              "rh": "0.testbed", "sub": oid, "tid": tid, "uti": azemu.new_guid()[:22], "ver": "1.0",
              "xms_azemu_auth": ARGS.mode}
    if ident.get("resourceId"):
        claims["xms_mirid"] = ident["resourceId"]
    tok = azemu.jwt_sign_rs256(SIGNING_KEY, claims, SIGNING_JWK["kid"])
    # IMDS and HIMDS answer with string values (unlike Entra)
    return {"access_token": tok, "client_id": ident["clientId"], "expires_in": str(life),
            "expires_on": str(now + life), "ext_expires_in": str(life), "not_before": str(now - 300),
            "resource": resource, "token_type": "Bearer"}


def arc_challenge():
    """New key file; returns the WWW-Authenticate header value."""
    # HIMDS runs as user himds and leaves its keys readable by root and group himds only (Microsoft Learn,
    # "Authenticate against Azure resources with Azure Arc-enabled servers": "On Linux, you must be a member
    # of the himds group"); the directory is set up (himds:himds 0750) by setup, as azcmagent's package does.
    d = ARGS.token_dir
    os.makedirs(d, mode=0o750, exist_ok=True)
    name = os.path.join(d, azemu.new_guid() + ".key")
    secret = pysecrets.token_hex(32)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.fchmod(fd, 0o640)    # whatever the umask
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    with ARC_LOCK:
        now = time.time()
        for k in [k for k, (exp, _) in ARC_KEYS.items() if exp < now]:
            _, path = ARC_KEYS.pop(k)
            try:
                os.unlink(path)
            except OSError:
                pass
        ARC_KEYS[secret] = (now + ARGS.key_lifetime, name)
    return "Basic realm=%s" % name


def arc_key_ok(auth):
    if not auth.startswith("Basic "):
        return False
    key = auth[6:].strip()
    with ARC_LOCK:
        ent = ARC_KEYS.get(key)
        return ent is not None and ent[0] >= time.time() and os.path.exists(ent[1])


def token(q, headers):
    if (headers.get("Metadata") or "").lower() != "true":
        raise MIError(400, "bad_request_102", "Required metadata header not specified")
    api = q.get("api-version")
    if not api:
        raise MIError(400, "invalid_request", "Required query variable 'api-version' is missing")
    if ARGS.mode == "arc" and api not in ARC_API_VERSIONS:
        raise MIError(400, "invalid_request", "Invalid api-version '%s'. Supported versions: %s"
                      % (api, ", ".join(ARC_API_VERSIONS)))
    resource = q.get("resource")
    if not resource:
        raise MIError(400, "invalid_request", "Required query variable 'resource' is missing")
    if ARGS.mode == "arc" and not arc_key_ok(headers.get("Authorization") or ""):
        raise MIError(401, "unauthorized", "Authorization header missing or invalid",
                      {"WWW-Authenticate": arc_challenge()})
    return issue(select_identity(q), resource)


class Handler(azemu.BaseHandler):
    server_version = "IMDS/150.870.65.1475"

    def admin(self, method, path):
        if self.stats_faults_admin(method, path, self.read_body(), STATS, FAULTS, "byClient"):
            return
        return self.send_json(404, {"error": "not_found"})

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_admin/"):
            return self.admin(method, u.path)
        if getattr(self.server, "admin_only", False):
            return self.send_json(404, {"error": "not_found"})
        rule = self.take_fault(FAULTS, lambda: STATS.add("fault", 0, path=u.path, fault=True))
        if rule:
            st, hdr = rule["status"], {}
            if rule.get("retryAfter") is not None:
                hdr["Retry-After"] = str(rule["retryAfter"])
            body = rule.get("body") or {
                "error": rule.get("code") or ("too_many_requests" if st == 429 else "service_unavailable"),
                "error_description": rule.get("message") or "Injected fault (testbed)."}
            STATS.add("token" if u.path == TOKEN_PATH else "other", st, path=u.path, fault=True)
            return self.send_json(st, body, hdr)
        if u.path != TOKEN_PATH or method != "GET":
            STATS.add("other", 404, path=u.path)
            return self.send_json(404, {"error": "not_found", "error_description": "Unknown path %s" % u.path})
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        try:
            resp = token(q, self.headers)
        except MIError as e:
            op = "challenge" if e.status == 401 else "token"
            STATS.add(op, e.status, path=u.path, error=e.error)
            return self.send_json(e.status, {"error": e.error, "error_description": e.desc}, e.headers)
        STATS.add("token", 200, resp["client_id"], client=resp["client_id"], resource=resp["resource"])
        return self.send_json(200, resp)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")


def main():
    global ARGS, CONFIG, SIGNING_KEY, SIGNING_JWK
    d = "/etc/aios-testbed/azure"
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mode", choices=("imds", "arc"), required=True)
    p.add_argument("--config", default=d + "/config.json")
    p.add_argument("--listen", action="append", help="HOST:PORT (repeatable; IPv6 as [::1]:PORT)")
    p.add_argument("--admin-listen", default=None, help="plain HTTP admin ('' = off)")
    p.add_argument("--signing-key", default=d + "/entra-signing.key")
    p.add_argument("--token-dir", default="/var/opt/azcmagent/tokens")
    p.add_argument("--key-lifetime", type=float, default=60.0,
                   help="seconds an Arc key file stays valid (the real one: about a minute)")
    ARGS = p.parse_args()
    if not ARGS.listen:
        ARGS.listen = ["169.254.169.254:80"] if ARGS.mode == "imds" else ["127.0.0.1:40342", "[::1]:40342"]
    if ARGS.admin_listen is None:
        ARGS.admin_listen = "127.0.0.1:8083" if ARGS.mode == "imds" else "127.0.0.1:8084"
    CONFIG = azemu.ConfigFile(ARGS.config)
    CONFIG.get()
    SIGNING_KEY = azemu.load_private_key(ARGS.signing_key)
    SIGNING_JWK = azemu.rsa_jwk(SIGNING_KEY.public_key())
    servers = []
    for i, addr in enumerate(ARGS.listen):
        host, port = addr.rsplit(":", 1)
        v6 = host.startswith("[")
        cls = azemu.TLSServer
        if v6:
            import socket

            class V6(azemu.TLSServer):
                address_family = socket.AF_INET6
            cls = V6
        try:
            servers.append(cls((host.strip("[]"), int(port)), Handler, None, FAULTS))
        except OSError as e:
            if i == 0:
                raise
            print("%s: cannot listen on %s: %s" % (ARGS.mode, addr, e), flush=True)
    azemu.serve_admin(ARGS.admin_listen, Handler)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("%s emulator listening on %s (admin %s)" % (ARGS.mode, ", ".join(ARGS.listen), ARGS.admin_listen),
          flush=True)
    azemu.sd_notify_ready()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
