#!/usr/bin/python3
"""Key Vault secrets data-plane emulator for the aios-agent testbed.

Serves https://<vault>.vault.azure.net (vault chosen by the Host header) on 443:
PUT/GET/PATCH/DELETE secrets, versions, lists with nextLink paging, deleted
secrets (get/list/purge/recover), the 401 challenge, bearer-token validation
against the Entra emulator's signing key, RBAC-style access lists, fault
injection and request counters. See README.md."""
import argparse
import base64
import collections
import json
import os
import re
import secrets as pysecrets
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azemu  # noqa: E402

API_VERSIONS = ["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6-preview.1", "7.6-preview.2", "7.6",
                "2025-06-01-preview", "2025-07-01", "2026-01-01-preview", "2026-03-01-preview",
                "2026-04-01", "2026-05-01-preview", "2026-07-01-preview"]
KV_AUDIENCES = ("https://vault.azure.net", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093")
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
ACTIONS = {"get": "getSecret/action", "list": "readMetadata/action", "set": "setSecret/action",
           "delete": "delete", "purge": "purge/action", "recover": "recover/action",
           "update": "writeMetadata/action"}

ARGS = None
CONFIG = None
STATS = azemu.Stats()
FAULTS = azemu.Faults()
LOCK = threading.RLock()
STATE = {"vaults": {}}
PAGING = {}  # vault or "*" -> list of page sizes
ENTRA_KEYS = []


class KVError(Exception):
    def __init__(self, status, code, message, inner=None, challenge=False):
        super().__init__(message)
        self.status, self.code, self.message, self.inner, self.challenge = \
            status, code, message, inner, challenge

    def body(self):
        e = {"code": self.code, "message": self.message}
        if self.inner:
            e["innererror"] = {"code": self.inner}
        return {"error": e}


# ---------------------------------------------------------------- service limit

class Throttle:
    """Key Vault's per-vault service limit for secrets: at most `transactions` requests in any `windowSeconds`
    (4,000 per 10 s, every operation alike); a request beyond it is answered 429 Throttled without Retry-After
    and is not counted (learn.microsoft.com/azure/key-vault/general/service-limits and overview-throttling).
    Set by config.json's "throttle" ({"transactions": N, "windowSeconds": S}, or false = off; default on) or
    at run time through PUT /_admin/throttle (the same object; {} = back to the config)."""
    DEFAULT = {"transactions": 4000, "windowSeconds": 10}

    def __init__(self):
        self.lock = threading.Lock()
        self.override = None
        self.admitted = {}  # vault -> deque of arrival times (monotonic) of the counted requests
        self.throttled = {}  # vault -> 429s sent

    def limits(self):
        cfg = self.override if self.override is not None else CONFIG.get().get("throttle", self.DEFAULT)
        if not cfg:
            return None
        return int(cfg.get("transactions", 4000)), float(cfg.get("windowSeconds", 10))

    def admit(self, vault):
        """True if the request counts within the window; False = answer 429 (not counted)."""
        limits = self.limits()
        if limits is None:
            return True
        transactions, window = limits
        now = time.monotonic()
        with self.lock:
            q = self.admitted.setdefault(vault, collections.deque())
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= transactions:
                self.throttled[vault] = self.throttled.get(vault, 0) + 1
                return False
            q.append(now)
            return True

    def snapshot(self):
        limits = self.limits()
        now = time.monotonic()
        with self.lock:
            return {"limit": None if limits is None else {"transactions": limits[0], "windowSeconds": limits[1]},
                    "override": self.override is not None, "throttled": dict(self.throttled),
                    "inWindow": {v: sum(1 for t in q if t > now - limits[1]) if limits else 0
                                 for v, q in self.admitted.items()}}

    def set(self, cfg):
        with self.lock:
            self.override = None if cfg == {} else cfg
            self.admitted.clear()
            self.throttled.clear()


THROTTLE = Throttle()


# ---------------------------------------------------------------- state

def vault_cfg(vault):
    return CONFIG.get().get("vaults", {}).get(vault, {})


def vault_tenant(vault):
    cfg = CONFIG.get()
    t = vault_cfg(vault).get("tenant") or cfg.get("defaultTenant")
    if not t:
        t = next(iter(cfg.get("tenants", {})), "00000000-0000-0000-0000-000000000000")
    return t


SAVE_DEFERRED = threading.local()


def save_state():
    if not ARGS.state or getattr(SAVE_DEFERRED, "on", False):
        return
    tmp = ARGS.state + ".tmp"
    with open(tmp, "w") as f:
        json.dump(STATE, f)
    os.replace(tmp, ARGS.state)


def new_version():
    return pysecrets.token_hex(16)


def make_version(spec, now=None):
    now = int(now or time.time())
    if isinstance(spec, str):
        spec = {"value": spec}
    attrs = {"enabled": spec.get("enabled", spec.get("attributes", {}).get("enabled", True))}
    for k in ("nbf", "exp"):
        v = spec.get(k, spec.get("attributes", {}).get(k))
        if v is not None:
            attrs[k] = int(v)
    attrs.update({"created": now, "updated": now})
    v = {"version": spec.get("version") or new_version(), "value": spec.get("value", ""),
         "attributes": attrs}
    for k in ("contentType", "tags", "managed", "kid"):
        if spec.get(k) is not None:
            v[k] = spec[k]
    return v


def get_vault(vault, create=True):
    with LOCK:
        v = STATE["vaults"].get(vault)
        if v is None and create:
            v = {"secrets": {}, "deleted": {}}
            for name, spec in vault_cfg(vault).get("secrets", {}).items():
                vers = spec.get("versions") if isinstance(spec, dict) and "versions" in spec else [spec]
                ent = {"name": name, "versions": []}
                base = int(time.time()) - len(vers)
                for i, vs in enumerate(vers):
                    ent["versions"].append(make_version(vs, base + i))
                v["secrets"][name.upper()] = ent
            STATE["vaults"][vault] = v
        return v


def recovery(vault):
    c = vault_cfg(vault)
    days = int(c.get("recoverableDays", 90))
    lvl = c.get("recoveryLevel", "Recoverable+Purgeable" if days == 90 else "CustomizedRecoverable+Purgeable")
    return lvl, days


# ---------------------------------------------------------------- bundles

def base_url(vault):
    return "https://%s.vault.azure.net" % vault + ("" if ARGS.public_port == 443 else ":%d" % ARGS.public_port)


def attrs_of(vault, ver):
    a = dict(ver["attributes"])
    lvl, days = recovery(vault)
    a["recoveryLevel"] = lvl
    a["recoverableDays"] = days
    return a


def bundle(vault, ent, ver, with_value=True, with_version=True):
    b = {}
    if with_value:
        b["value"] = ver["value"]
    if "contentType" in ver:
        b["contentType"] = ver["contentType"]
    b["id"] = base_url(vault) + "/secrets/" + ent["name"] + ("/" + ver["version"] if with_version else "")
    if ver.get("managed"):
        b["managed"] = True
    b["attributes"] = attrs_of(vault, ver)
    if ver.get("tags"):
        b["tags"] = ver["tags"]
    if ver.get("kid"):
        b["kid"] = ver["kid"]
    return b


def deleted_bundle(vault, ent, with_value=False):
    ver = ent["versions"][-1]
    b = bundle(vault, ent, ver, with_value=with_value)
    b["recoveryId"] = base_url(vault) + "/deletedsecrets/" + ent["name"]
    b["deletedDate"] = ent["deletedDate"]
    b["scheduledPurgeDate"] = ent["deletedDate"] + recovery(vault)[1] * 86400
    return b


def not_found(name):
    return KVError(404, "SecretNotFound",
                   "A secret with (name/id) %s was not found in this key vault. If you recently deleted "
                   "this secret you may be able to recover it using the correct recovery command. For help "
                   "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182" % name)


def find(vault, name, version=None):
    v = get_vault(vault)
    ent = v["secrets"].get(name.upper())
    if ent is None:
        raise not_found(name if version is None else "%s/%s" % (name, version))
    if version is None:
        return ent, ent["versions"][-1]
    for ver in ent["versions"]:
        if ver["version"] == version.lower():
            return ent, ver
    raise not_found("%s/%s" % (name, version))


# ---------------------------------------------------------------- paging

def encode_token(kind, key, offset, page):
    inner = base64.b64encode(("%s/%s/%d/%d" % (kind, key.upper(), offset, page)).encode()).decode()
    marker = json.dumps({"NextMarker": "2!%d!%s" % (len(inner), inner), "TargetLocation": 0},
                        separators=(",", ":"))
    return base64.urlsafe_b64encode(marker.encode()).decode().rstrip("=")


def decode_token(tok):
    try:
        m = json.loads(azemu.b64u_dec(tok))["NextMarker"]
        inner = base64.b64decode(m.split("!", 2)[2]).decode()
        kind, key, off, page = inner.rsplit("/", 3)
        return kind, key, int(off), int(page)
    except Exception:  # noqa: BLE001
        raise KVError(400, "BadParameter", "Invalid skip token.")


def page(vault, items, kind, key, path, q, api, render=None):
    """One page of `items`; `render` (if given) turns only the page's items into list items (a page of a big
    vault must not cost the whole vault)."""
    mr = q.get("maxresults")
    if mr is not None:
        try:
            n = int(mr)
        except ValueError:
            n = 0
        if not 1 <= n <= 25:
            raise KVError(400, "BadParameter",
                          "Invalid value for parameter maxresults: %s. The value must be between 1 and 25." % mr)
    limit = int(mr) if mr is not None else 25
    offset, pageno = 0, 0
    if q.get("$skiptoken"):
        k2, key2, offset, pageno = decode_token(q["$skiptoken"])
        if (k2, key2) != (kind, key.upper()):
            raise KVError(400, "BadParameter", "Invalid skip token.")
    sizes = PAGING.get(vault) or PAGING.get("*") or vault_cfg(vault).get("pageSizes") \
        or CONFIG.get().get("pageSizes")
    size = limit
    if sizes and any(s > 0 for s in sizes):
        size = min(limit, sizes[pageno % len(sizes)])
    chunk = items[offset:offset + size]
    if render is not None:
        chunk = [render(x) for x in chunk]
    nxt = None
    if offset + size < len(items):
        tok = encode_token(kind, key, offset + size, pageno + 1)
        host = "%s.vault.azure.net:%d" % (vault, ARGS.public_port)
        nxt = "https://%s%s?api-version=%s&$skiptoken=%s" % (host, path, api, tok)
        if mr is not None:
            nxt += "&maxresults=%s" % mr
    return {"value": chunk, "nextLink": nxt}


# ---------------------------------------------------------------- auth

def entra_keys():
    global ENTRA_KEYS
    if not ENTRA_KEYS:
        if ARGS.entra_jwks:
            with open(ARGS.entra_jwks) as f:
                ENTRA_KEYS = json.load(f)["keys"]
        else:
            ENTRA_KEYS = [azemu.rsa_jwk(azemu.load_private_key(ARGS.entra_key).public_key())]
    return ENTRA_KEYS


def authenticate(vault, headers):
    auth = headers.get("Authorization")
    if not auth:
        raise KVError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                      challenge=True)
    scheme, _, tok = auth.partition(" ")
    if scheme.lower() != "bearer" or not tok.strip():
        raise KVError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                      challenge=True)
    try:
        h, c, si, sig = azemu.jwt_split(tok.strip())
    except azemu.JWTError:
        raise KVError(401, "Unauthorized", "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'.",
                      challenge=True)
    try:
        azemu.jws_verify(h, si, sig, entra_keys())
    except azemu.JWTError:
        raise KVError(401, "Unauthorized", "[SignatureValidationFailed] Error validating token: 'S2S12015'.",
                      challenge=True)
    if c.get("aud") not in KV_AUDIENCES and (c.get("aud") or "").rstrip("/") not in KV_AUDIENCES:
        raise KVError(401, "Unauthorized", "AKV10022: Invalid audience. Expected https://vault.azure.net, "
                      "found: %s." % c.get("aud"), challenge=True)
    vt = vault_tenant(vault)
    good = ("https://sts.windows.net/%s/" % vt, "https://login.microsoftonline.com/%s/v2.0" % vt)
    if c.get("iss") not in good:
        raise KVError(401, "Unauthorized", "AKV10032: Invalid issuer. Expected one of %s, %s, found %s."
                      % (good[0], good[1], c.get("iss")), challenge=True)
    if not isinstance(c.get("exp"), (int, float)) or c["exp"] <= time.time():
        raise KVError(401, "Unauthorized", "[TokenExpired] Error validating token: 'S2S12086'.",
                      challenge=True)
    return c


def authorize(vault, claims, op, name):
    acl = vault_cfg(vault).get("access")
    if acl is None or claims is None:
        return
    perms = set(acl.get(claims.get("appid"), [])) | set(acl.get(claims.get("oid"), []))
    if op in perms or "*" in perms:
        return
    raise KVError(403, "Forbidden",
                  "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny "
                  "assignments or role definitions were changed recently, please observe propagation time.\r\n"
                  "Caller: appid=%s;oid=%s;iss=%s\r\nAction: 'Microsoft.KeyVault/vaults/secrets/%s'\r\n"
                  "Resource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/testbed/"
                  "providers/microsoft.keyvault/vaults/%s/secrets/%s'\r\nAssignment: (not found)\r\n"
                  "DenyAssignmentId: null\r\nDecisionReason: null \r\nVault: %s;location=westus2\r\n"
                  % (claims.get("appid"), claims.get("oid"), claims.get("iss"), ACTIONS.get(op, op),
                     vault, name or "", vault), inner="ForbiddenByRbac")


# ---------------------------------------------------------------- operations

def parse_json(raw):
    try:
        b = json.loads(raw or b"{}")
        if not isinstance(b, dict):
            raise ValueError
        return b
    except ValueError:
        raise KVError(400, "BadParameter", "Request body is not valid JSON.")


def check_name(name):
    if not NAME_RE.match(name):
        raise KVError(400, "BadParameter",
                      "The request URI contains an invalid name: %s" % name)


def op_set(vault, name, body):
    check_name(name)
    b = parse_json(body)
    if "value" not in b or not isinstance(b["value"], str):
        raise KVError(400, "BadParameter", "Property 'value' is required.")
    if len(b["value"].encode()) > 25 * 1024:
        raise KVError(400, "BadParameter", "Secret value is too large.")
    with LOCK:
        v = get_vault(vault)
        if name.upper() in v["deleted"]:
            raise KVError(409, "Conflict", "Secret %s is currently in a deleted but recoverable state, and its "
                          "name cannot be reused; in this state, the secret can only be recovered or purged."
                          % name, inner="ObjectIsDeletedButRecoverable")
        ent = v["secrets"].setdefault(name.upper(), {"name": name, "versions": []})
        ver = make_version({"value": b["value"], "contentType": b.get("contentType"),
                            "tags": b.get("tags"), "attributes": b.get("attributes") or {}})
        ent["versions"].append(ver)
        save_state()
        return 200, bundle(vault, ent, ver)


def op_get(vault, name, version):
    with LOCK:
        ent, ver = find(vault, name, version)
        if not ver["attributes"].get("enabled", True):
            raise KVError(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                          inner="SecretDisabled")
        return 200, bundle(vault, ent, ver)


def op_update(vault, name, version, body):
    b = parse_json(body)
    with LOCK:
        ent, ver = find(vault, name, version or None)
        a = b.get("attributes") or {}
        for k in ("enabled", "nbf", "exp"):
            if k in a:
                if a[k] is None:
                    ver["attributes"].pop(k, None)
                else:
                    ver["attributes"][k] = a[k] if k == "enabled" else int(a[k])
        if "contentType" in b:
            ver["contentType"] = b["contentType"]
        if "tags" in b:
            ver["tags"] = b["tags"]
        ver["attributes"]["updated"] = int(time.time())
        save_state()
        return 200, bundle(vault, ent, ver, with_value=False)


def list_item(vault, ent, ver, with_version):
    return bundle(vault, ent, ver, with_value=False, with_version=with_version)


def op_list(vault, q, api):
    with LOCK:
        v = get_vault(vault)
        ents = sorted(v["secrets"].values(), key=lambda e: e["name"].upper())
        return 200, page(vault, ents, "secret", "LIST", "/secrets", q, api,
                         render=lambda e: list_item(vault, e, e["versions"][-1], False))


def op_versions(vault, name, q, api):
    with LOCK:
        v = get_vault(vault)
        ent = v["secrets"].get(name.upper())
        items = [] if ent is None else [list_item(vault, ent, x, True)
                                        for x in sorted(ent["versions"], key=lambda x: x["version"])]
        return 200, page(vault, items, "secret", "LISTVERSIONS" + name, "/secrets/%s/versions" % name, q, api)


def op_delete(vault, name):
    with LOCK:
        v = get_vault(vault)
        ent = v["secrets"].pop(name.upper(), None)
        if ent is None:
            raise not_found(name)
        ent["deletedDate"] = int(time.time())
        v["deleted"][name.upper()] = ent
        save_state()
        return 200, deleted_bundle(vault, ent)


def op_deleted_get(vault, name):
    with LOCK:
        ent = get_vault(vault)["deleted"].get(name.upper())
        if ent is None:
            raise KVError(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
        return 200, deleted_bundle(vault, ent)


def op_deleted_list(vault, q, api):
    with LOCK:
        ents = sorted(get_vault(vault)["deleted"].values(), key=lambda e: e["name"].upper())
        items = []
        for e in ents:
            b = deleted_bundle(vault, e)
            b["id"] = base_url(vault) + "/secrets/" + e["name"]
            items.append(b)
        return 200, page(vault, items, "deletedsecret", "LIST", "/deletedsecrets", q, api)


def op_purge(vault, name):
    with LOCK:
        if get_vault(vault)["deleted"].pop(name.upper(), None) is None:
            raise KVError(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
        save_state()
        return 204, None


def op_recover(vault, name):
    with LOCK:
        v = get_vault(vault)
        ent = v["deleted"].pop(name.upper(), None)
        if ent is None:
            raise KVError(404, "SecretNotFound", "Deleted Secret not found: %s" % name)
        ent.pop("deletedDate", None)
        v["secrets"][name.upper()] = ent
        save_state()
        return 200, bundle(vault, ent, ent["versions"][-1])


def dispatch(vault, method, parts, q, body, claims, api):
    """parts = path segments after the host. Returns (op, name, fn)."""
    n = len(parts)
    if parts[:1] == ["secrets"]:
        if n == 1 and method == "GET":
            return "list", None, lambda: op_list(vault, q, api)
        if n == 2 and method == "PUT":
            return "set", parts[1], lambda: op_set(vault, parts[1], body)
        if n == 2 and method == "DELETE":
            return "delete", parts[1], lambda: op_delete(vault, parts[1])
        if n == 2 and method == "GET":
            return "get", parts[1], lambda: op_get(vault, parts[1], None)
        if n == 3 and method == "GET" and parts[2] == "versions":
            return "list", parts[1], lambda: op_versions(vault, parts[1], q, api)
        if n == 3 and method == "GET":
            return "get", parts[1], lambda: op_get(vault, parts[1], parts[2] or None)
        if n == 3 and method == "PATCH":
            return "update", parts[1], lambda: op_update(vault, parts[1], parts[2], body)
    if parts[:1] == ["deletedsecrets"]:
        if n == 1 and method == "GET":
            return "list", None, lambda: op_deleted_list(vault, q, api)
        if n == 2 and method == "GET":
            return "get", parts[1], lambda: op_deleted_get(vault, parts[1])
        if n == 2 and method == "DELETE":
            return "purge", parts[1], lambda: op_purge(vault, parts[1])
        if n == 3 and method == "POST" and parts[2] == "recover":
            return "recover", parts[1], lambda: op_recover(vault, parts[1])
    return None, None, None


def op_label(method, parts):
    if not parts:
        return "other"
    if parts[0] == "secrets":
        if len(parts) == 1:
            return "listSecrets"
        if len(parts) == 3 and parts[2] == "versions" and method == "GET":
            return "listVersions"
        if method == "GET":
            return "getSecret" if len(parts) == 2 or not parts[2] else "getSecretVersion"
        return {"PUT": "setSecret", "DELETE": "deleteSecret", "PATCH": "updateSecret"}.get(method, "other")
    if parts[0] == "deletedsecrets":
        return {"GET": "getDeletedSecret" if len(parts) == 2 else "listDeletedSecrets",
                "DELETE": "purgeDeletedSecret", "POST": "recoverDeletedSecret"}.get(method, "other")
    return "other"


# ---------------------------------------------------------------- HTTP

class Handler(azemu.BaseHandler):
    def send_oversized(self, size, op, vault, path):
        """A 200 whose body is SIZE bytes (a JSON string that never ends), sent until the client stops reading:
        what a broken or hostile middlebox could answer. Not a Key Vault behaviour; the client must cap it."""
        self.read_body()
        self.send_response(200)
        for k, v in self.kv_headers().items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"A" * (1 << 20)
        sent = 0
        try:
            self.wfile.write(b'{"value":"')
            sent = 10
            while sent < size:
                part = chunk[:min(len(chunk), size - sent)]
                self.wfile.write(part)
                sent += len(part)
        except OSError:
            pass
        self.close_connection = True
        STATS.add(op, 200, vault, vault=vault, path=path, fault=True, bytesSent=sent)

    def kv_headers(self, vault=None):
        h = {"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "-1",
             "Strict-Transport-Security": "max-age=31536000;includeSubDomains",
             "X-Content-Type-Options": "nosniff", "x-ms-keyvault-region": "westus2",
             "x-ms-keyvault-service-version": "1.9.3347.1", "x-ms-request-id": azemu.new_guid(),
             "x-ms-keyvault-network-info": "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;"}
        if self.headers.get("x-ms-client-request-id") and \
                (self.headers.get("x-ms-return-client-request-id") or "").lower() == "true":
            h["x-ms-client-request-id"] = self.headers["x-ms-client-request-id"]
        return h

    def admin(self, method, u):
        path = u.path
        body = self.read_body()
        if self.stats_faults_admin(method, path, body, STATS, FAULTS, "byVault"):
            return
        if path == "/_admin/throttle":
            if method in ("POST", "PUT"):
                b = json.loads(body or b"{}")
                if b is not False and not (isinstance(b, dict) and all(
                        isinstance(b.get(k, 1), (int, float)) and b.get(k, 1) > 0 for k in ("transactions", "windowSeconds"))):
                    return self.send_json(400, {"error": {"code": "BadParameter",
                                                          "message": "want {\"transactions\": N, \"windowSeconds\": S}, {} or false"}})
                THROTTLE.set(b)
            return self.send_json(200, THROTTLE.snapshot())
        m = re.fullmatch(r"/_admin/vaults/([^/]+)/bulk", path)
        if m and method == "POST":
            # stand-in only: many secrets at once, the state file written once (seeding 10,000 secrets one PUT at
            # a time rewrites the whole file each time)
            vault = urllib.parse.unquote(m.group(1)).lower()
            b = json.loads(body or b"{}")
            with LOCK:
                SAVE_DEFERRED.on = True
                try:
                    for name, value in (b.get("secrets") or {}).items():
                        op_set(vault, name, json.dumps({"value": value}).encode())
                except KVError as e:
                    return self.send_json(e.status, e.body())
                finally:
                    SAVE_DEFERRED.on = False
                save_state()
            return self.send_json(200, {"set": len(b.get("secrets") or {})})
        if path == "/_admin/paging":
            if method == "DELETE":
                PAGING.clear()
            elif method in ("POST", "PUT"):
                b = json.loads(body or b"{}")
                PAGING[b.get("vault") or "*"] = [int(x) for x in b.get("sizes") or []]
            return self.send_json(200, {"paging": PAGING})
        if path == "/_admin/state" and method == "GET":
            with LOCK:
                return self.send_json(200, STATE)
        if path == "/_admin/reset" and method == "POST":
            with LOCK:
                STATE["vaults"] = {}
                save_state()
            STATS.reset()
            FAULTS.clear()
            PAGING.clear()
            THROTTLE.set({})
            return self.send_json(200, {"ok": True})
        parts = [urllib.parse.unquote(p) for p in path.split("/")[2:]]
        if method == "GET" and parts[:1] == ["vaults"] and (len(parts) == 2 or
                                                           (len(parts) == 4 and parts[2] == "raw")):
            # admin views: GET /_admin/vaults/{vault} = every secret (latest version, no value,
            # disabled ones included, "versions" count, "deleted" flag);
            # GET /_admin/vaults/{vault}/raw/{name} = every version with its value
            vault = parts[1].lower()
            with LOCK:
                v = get_vault(vault)
                if len(parts) == 2:
                    out = []
                    for deleted, src in ((False, v["secrets"]), (True, v["deleted"])):
                        for e in sorted(src.values(), key=lambda e: e["name"].upper()):
                            b = bundle(vault, e, e["versions"][-1], with_value=False)
                            b["name"], b["versions"], b["deleted"] = e["name"], len(e["versions"]), deleted
                            out.append(b)
                    return self.send_json(200, {"value": out})
                ent = v["secrets"].get(parts[3].upper()) or v["deleted"].get(parts[3].upper())
                if ent is None:
                    return self.send_json(404, not_found(parts[3]).body())
                return self.send_json(200, {"name": ent["name"], "deleted": parts[3].upper() in v["deleted"],
                                            "versions": [bundle(vault, ent, x) for x in ent["versions"]]})
        if len(parts) >= 3 and parts[0] == "vaults":
            vault = parts[1].lower()
            q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
            rest = parts[2:]
            if path.endswith("/") and len(rest) == 2:
                rest.append("")
            _, _, fn = dispatch(vault, method, rest, q, body, None, q.get("api-version", "7.4"))
            if fn is None:
                return self.send_json(404, {"error": {"code": "NotFound", "message": "unknown admin path"}})
            try:
                status, obj = fn()
            except KVError as e:
                return self.send_json(e.status, e.body())
            return self.send_json(status, obj)
        return self.send_json(404, {"error": {"code": "NotFound", "message": "unknown admin path %s" % path}})

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_admin/"):
            return self.admin(method, u)
        if getattr(self.server, "admin_only", False):
            return self.send_json(404, {"error": {"code": "NotFound", "message": "admin listener"}})
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        parts_raw = u.path.split("/")[1:]
        parts = [urllib.parse.unquote(p) for p in parts_raw]
        if len(parts) == 3 and parts[2] == "" and parts[0] == "secrets":
            parts = parts[:2]  # GET /secrets/{name}/ = latest
        if parts and parts[-1] == "" and len(parts) == 2:
            parts = parts[:1]
        op = op_label(method, parts)
        suffix = ".vault.azure.net"
        if not host.endswith(suffix) or host == suffix[1:]:
            STATS.add(op, 404, host=host, path=u.path)
            return self.send_json(404, {"error": {"code": "NotFound",
                                                  "message": "Unknown host %s (expected <vault>%s)" % (host, suffix)}})
        vault = host[:-len(suffix)]
        rule = FAULTS.take("%s %s" % (method, self.path), host)
        if rule:
            if rule.get("latencyMs"):
                time.sleep(rule["latencyMs"] / 1000.0)
            if rule.get("outage") == "reset" or rule.get("status") == 0:
                STATS.add(op, 0, vault, vault=vault, path=u.path, fault=True)
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            if rule.get("bodyBytes"):
                return self.send_oversized(int(rule["bodyBytes"]), op, vault, u.path)
            st = rule.get("status")
            if st:
                self.read_body()
                h = self.kv_headers()
                if rule.get("retryAfter") is not None:
                    h["Retry-After"] = str(rule["retryAfter"])
                if rule.get("retryAfterMs") is not None:
                    h["retry-after-ms"] = str(rule["retryAfterMs"])
                if rule.get("body") is not None:
                    b = rule["body"]
                elif st == 429:
                    b = {"error": {"code": "Throttled", "message": "Request was not processed because too many "
                                   "requests were received. Reason: VaultRequestTypeLimitReached"}}
                else:
                    b = {"error": {"code": rule.get("code", "InternalServerError" if st == 500 else
                                                    "ServiceUnavailable"),
                                   "message": rule.get("message", "Injected fault (testbed).")}}
                STATS.add(op, st, vault, vault=vault, path=u.path, fault=True)
                return self.send_json(st, b, h)
        if not THROTTLE.admit(vault):
            self.read_body()
            STATS.add(op, 429, vault, vault=vault, path=u.path, error="VaultRequestTypeLimitReached")
            return self.send_json(429, {"error": {"code": "Throttled", "message": "Request was not processed because too "
                                                  "many requests were received. Reason: VaultRequestTypeLimitReached"}},
                                  self.kv_headers())
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        try:
            claims = authenticate(vault, self.headers)
            body = self.read_body()
            api = q.get("api-version")
            if api is None:
                raise KVError(400, "BadParameter", "The request URI contains an invalid API version.")
            allowed = CONFIG.get().get("apiVersions") or API_VERSIONS
            if api not in allowed:
                raise KVError(400, "BadParameter",
                              "The specified version (%s) is not recognized. Consider using the latest supported "
                              "version (%s)." % (api, allowed[-1] if allowed != API_VERSIONS else "2025-07-01"))
            kind, name, fn = dispatch(vault, method, parts, q, body, claims, api)
            if fn is None:
                raise KVError(404, "NotFound", "The requested resource was not found: %s %s" % (method, u.path))
            authorize(vault, claims, kind, name)
            status, obj = fn()
        except KVError as e:
            h = self.kv_headers()
            if e.challenge:
                h["WWW-Authenticate"] = 'Bearer authorization="https://%s/%s", resource="https://vault.azure.net"' \
                    % (ARGS.authority_host, vault_tenant(vault))
                # the first (token-less) request may carry a body we have not read
                if self.headers.get("Content-Length") and not getattr(self, "_body_read", False):
                    try:
                        self.read_body()
                    except OSError:
                        pass
            STATS.add(op, e.status, vault, vault=vault, path=u.path, error=e.inner or e.code)
            return self.send_json(e.status, e.body(), h)
        STATS.add(op, status, vault, vault=vault, path=u.path, appid=claims.get("appid"))
        return self.send_json(status, obj, self.kv_headers())

    def read_body(self):
        if getattr(self, "_body_read", False):
            return self._body
        self._body = super().read_body()
        self._body_read = True
        return self._body

    def do_GET(self):
        self._body_read = False
        self.route("GET")

    def do_PUT(self):
        self._body_read = False
        self.route("PUT")

    def do_POST(self):
        self._body_read = False
        self.route("POST")

    def do_PATCH(self):
        self._body_read = False
        self.route("PATCH")

    def do_DELETE(self):
        self._body_read = False
        self.route("DELETE")


def main():
    global ARGS, CONFIG, STATE
    d = "/etc/aios-testbed/azure"
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", default=d + "/config.json")
    p.add_argument("--listen", default="127.0.0.1:443")
    p.add_argument("--public-port", type=int, default=443, help="port used in ids and nextLinks")
    p.add_argument("--admin-listen", default="127.0.0.1:8081", help="plain HTTP admin ('' = off)")
    p.add_argument("--cert", default=d + "/tls/vault.azure.net.crt")
    p.add_argument("--key", default=d + "/tls/vault.azure.net.key")
    p.add_argument("--plain", action="store_true", help="serve plain HTTP (debugging only)")
    p.add_argument("--entra-key", default=d + "/entra-signing.key", help="Entra emulator's signing key")
    p.add_argument("--entra-jwks", default="", help="JWKS file with the token signing keys instead")
    p.add_argument("--authority-host", default="login.microsoftonline.com")
    p.add_argument("--state", default="/var/lib/aios-testbed/azure/keyvault-state.json",
                   help="persisted secrets ('' = memory only)")
    ARGS = p.parse_args()
    CONFIG = azemu.ConfigFile(ARGS.config)
    CONFIG.get()
    entra_keys()
    if ARGS.state:
        os.makedirs(os.path.dirname(ARGS.state), exist_ok=True)
        if os.path.exists(ARGS.state):
            with open(ARGS.state) as f:
                STATE = json.load(f)
    host, port = ARGS.listen.rsplit(":", 1)
    ctx = None if ARGS.plain else azemu.ssl_context(ARGS.cert, ARGS.key)
    srv = azemu.TLSServer((host, int(port)), Handler, ctx, FAULTS)
    azemu.serve_admin(ARGS.admin_listen, Handler)
    print("keyvault emulator listening on %s (admin %s)" % (ARGS.listen, ARGS.admin_listen), flush=True)
    azemu.sd_notify_ready()
    srv.serve_forever()


if __name__ == "__main__":
    main()
