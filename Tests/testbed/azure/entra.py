#!/usr/bin/python3
"""Entra ID (v2) token endpoint emulator for the aios-agent testbed.

POST /{tenant}/oauth2/v2.0/token   client_credentials with client_secret (form or
     HTTP Basic) or a JWT client assertion validated like Entra validates a
     federated identity credential (FIC).
GET  /{tenant}/v2.0/.well-known/openid-configuration, /{tenant}/discovery/v2.0/keys,
     /common/discovery/instance (MSAL instance discovery)
Admin (also on --admin-listen, plain HTTP): GET /_admin/stats, POST /_admin/stats/reset,
     GET|POST|DELETE /_admin/faults, POST /_admin/clock {"offsetSeconds": N} (skews the Date header).
See README.md for the config format."""
import argparse
import base64
import datetime
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import azemu  # noqa: E402

FIC_AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KV_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"

ARGS = None
CONFIG = None
STATS = azemu.Stats()
FAULTS = azemu.Faults()
SIGNING_KEY = None
SIGNING_JWK = None


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def iso7(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.0000000Z")


class AADError(Exception):
    def __init__(self, status, error, code, text):
        super().__init__(text)
        self.status, self.error, self.code, self.text = status, error, code, text

    def body(self):
        trace, corr, ts = azemu.new_guid(), azemu.new_guid(), iso_now()
        return {"error": self.error,
                "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
                                     % (self.code, self.text, trace, corr, ts),
                "error_codes": [self.code], "timestamp": ts, "trace_id": trace,
                "correlation_id": corr,
                "error_uri": "https://%s/error?code=%d" % (ARGS.authority_host, self.code)}


def tenants():
    return CONFIG.get().get("tenants", {})


def find_tenant(tid):
    t = tenants()
    if tid in t:
        return tid, t[tid]
    for k, v in t.items():  # domain names as aliases
        if tid.lower() in [d.lower() for d in v.get("domains", [])]:
            return k, v
    raise AADError(400, "invalid_request", 90002,
                   "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are "
                   "signing into the correct cloud. Check with your subscription administrator, this may "
                   "happen if there are no active subscriptions for the tenant." % tid)


def fetch_json(url, spec):
    ctx = ssl.create_default_context(cafile=spec.get("caFile"))
    if spec.get("certFile"):
        ctx.load_cert_chain(spec["certFile"], spec.get("keyFile"))
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
        return json.loads(r.read())


def issuer_keys(iss):
    """JWKS of an external issuer: configured (issuers[iss].jwks/jwksFile/jwksUri/
    discoveryUrl) or discovered like Entra: {iss}/.well-known/openid-configuration."""
    spec = CONFIG.get().get("issuers", {}).get(iss, {})
    try:
        if "jwks" in spec:
            return spec["jwks"]["keys"]
        if "jwksFile" in spec:
            with open(spec["jwksFile"]) as f:
                return json.load(f)["keys"]
        jwks_uri = spec.get("jwksUri")
        if not jwks_uri:
            disc = spec.get("discoveryUrl") or iss.rstrip("/") + "/.well-known/openid-configuration"
            jwks_uri = fetch_json(disc, spec)["jwks_uri"]
        return fetch_json(jwks_uri, spec)["keys"]
    except Exception as e:  # noqa: BLE001
        raise AADError(400, "invalid_request", 90061,
                       "Request to External OIDC endpoint failed. Issuer: '%s'. (%s)" % (iss, e))


def validate_assertion(tid, app, assertion):
    try:
        header, claims, si, sig = azemu.jwt_split(assertion)
    except azemu.JWTError:
        raise AADError(400, "invalid_request", 50027,
                       "JWT token is invalid or malformed.")
    iss, sub, aud = claims.get("iss"), claims.get("sub"), claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    fics = app.get("federatedCredentials", [])
    # Entra names the claim that matched no credential (case-sensitive comparisons): the issuer first
    # (AADSTS700211), then the subject (AADSTS700213), then the audience (AADSTS7002121); 70021 remains the
    # generic code (learn.microsoft.com/entra/identity-platform/reference-error-codes).
    def mismatch(code, claim, value):
        return AADError(400, "invalid_request", code,
                        "No matching federated identity record found for presented assertion %s '%s'. Please "
                        "note that the matching is done using a case-sensitive comparison. Check your federated "
                        "identity credential Subject, Audience and Issuer against the presented assertion. "
                        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation" % (claim, value))
    same_issuer = [f for f in fics if f.get("issuer") == iss]
    if not same_issuer:
        raise mismatch(700211, "issuer", iss)
    same_subject = [f for f in same_issuer if f.get("subject") == sub]
    if not same_subject:
        raise mismatch(700213, "subject", sub)
    match = next((f for f in same_subject if any(a in f.get("audiences", [FIC_AUDIENCE]) for a in auds)), None)
    if match is None:
        raise mismatch(7002121, "audience", ",".join(str(a) for a in auds))
    keys = issuer_keys(iss)
    try:
        azemu.jws_verify(header, si, sig, keys)
    except azemu.JWTError:
        raise AADError(401, "invalid_client", 700027,
                       "Client assertion failed signature validation. Trace: no key in the issuer's "
                       "JWKS ('%s') validates the signature (kid '%s')." % (iss, header.get("kid")))
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if not isinstance(exp, (int, float)) or exp <= now or \
            (isinstance(nbf, (int, float)) and nbf > now + 300):
        raise AADError(401, "invalid_client", 700024,
                       "Client assertion is not within its valid time range. Current time: %s, "
                       "assertion valid from %s, expiry time of assertion %s. Review the documentation "
                       "at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
                       % (iso7(now), iso7(nbf if isinstance(nbf, (int, float)) else 0),
                          iso7(exp if isinstance(exp, (int, float)) else 0)))
    return match


def issue_token(tid, tenant, app, scope, path, auth_kind):
    resource = scope[:-len("/.default")]
    cfg = CONFIG.get()
    life = int(app.get("accessTokenLifetime", tenant.get("accessTokenLifetime",
                                                         cfg.get("accessTokenLifetime", 86399))))
    now = int(time.time())
    oid = app.get("objectId") or app["clientId"]
    claims = {"aud": resource, "iss": "https://sts.windows.net/%s/" % tid,
              "iat": now - 300, "nbf": now - 300, "exp": now + life,
              "aio": "testbed", "appid": app["clientId"], "appidacr": "2" if auth_kind == "assertion" else "1",
              "idp": "https://sts.windows.net/%s/" % tid, "idtyp": "app", "oid": oid,
              "rh": "0.testbed", "sub": oid, "tid": tid, "uti": azemu.new_guid()[:22], "ver": "1.0",
              "xms_azemu_auth": auth_kind}
    tok = azemu.jwt_sign_rs256(SIGNING_KEY, claims, SIGNING_JWK["kid"])
    return {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok}


def token_request(tid_in, form, headers):
    tid, tenant = find_tenant(tid_in)
    grant = form.get("grant_type")
    if not grant:
        raise AADError(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'grant_type'.")
    if grant != "client_credentials":
        raise AADError(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type '%s'." % grant)
    client_id = form.get("client_id")
    secret = form.get("client_secret")
    auth = headers.get("Authorization") or ""
    if auth.startswith("Basic "):
        try:
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            client_id, secret = urllib.parse.unquote(u), urllib.parse.unquote(p)
        except Exception:  # noqa: BLE001
            pass
    if not client_id:
        raise AADError(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'client_id'.")
    scope = form.get("scope")
    if not scope:
        raise AADError(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'scope'.")
    app = next((a for a in tenant.get("apps", []) if a.get("clientId", "").lower() == client_id.lower()), None)
    if app is None:
        raise AADError(400, "unauthorized_client", 700016,
                       "Application with identifier '%s' was not found in the directory '%s'. This can "
                       "happen if the application has not been installed by the administrator of the tenant "
                       "or consented to by any user in the tenant. You may have sent your authentication "
                       "request to the wrong tenant." % (client_id, tenant.get("displayName", tid)))
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise AADError(400, "invalid_scope", 1002012,
                       "The provided value for scope %s is not valid. Client credential flows must have a "
                       "scope value with /.default suffixed to the resource identifier "
                       "(application ID URI)." % scope)
    known = tenant.get("resources", cfg_resources())
    if scopes[0][:-len("/.default")].rstrip("/") not in [r.rstrip("/") for r in known]:
        raise AADError(400, "invalid_resource", 500011,
                       "The resource principal named %s was not found in the tenant named %s. This can "
                       "happen if the application has not been installed by the administrator of the tenant "
                       "or consented to by any user in the tenant. You might have sent your authentication "
                       "request to the wrong tenant." % (scopes[0][:-len("/.default")], tid))
    assertion = form.get("client_assertion")
    if assertion is not None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise AADError(400, "invalid_request", 700010,
                           "Invalid client assertion type '%s'." % form.get("client_assertion_type"))
        fic = validate_assertion(tid, app, assertion)
        return issue_token(tid, tenant, app, scopes[0], None, "assertion"), fic.get("name")
    if secret is not None:
        secrets = app.get("clientSecrets") or ([app["clientSecret"]] if app.get("clientSecret") else [])
        if secret not in [s if isinstance(s, str) else s.get("value") for s in secrets]:
            raise AADError(401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being sent in the request is "
                           "the client secret value, not the client secret ID, for a secret added to app "
                           "'%s'." % app["clientId"])
        for s in secrets:
            if isinstance(s, dict) and s.get("value") == secret and s.get("expired"):
                raise AADError(401, "invalid_client", 7000222,
                               "The provided client secret keys for app '%s' are expired. Visit the Azure "
                               "portal to create new keys for your app: https://aka.ms/NewClientSecret, or "
                               "consider using certificate credentials for added security: "
                               "https://aka.ms/certCreds." % app["clientId"])
        return issue_token(tid, tenant, app, scopes[0], None, "secret"), "secret"
    raise AADError(401, "invalid_client", 7000218,
                   "The request body must contain the following parameter: 'client_assertion' or "
                   "'client_secret'.")


def cfg_resources():
    return CONFIG.get().get("resources", ["https://vault.azure.net", KV_APP_ID,
                                          "https://management.azure.com"])


def oidc_config(tid):
    base = "https://%s/%s" % (ARGS.authority_host, tid)
    return {"token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": "https://%s/%s/discovery/v2.0/keys" % (ARGS.authority_host, tid),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "https://%s/%s/v2.0" % (ARGS.authority_host, tid),
            "request_uri_parameter_supported": False,
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com"}


# Seconds added to the Date header of every answer: a host whose clock is off by -N seconds, seen from aiosd
# (`aiosctl doctor` compares its clock with this header). Set by POST /_admin/clock {"offsetSeconds": N}.
CLOCK_OFFSET = [0.0]


class Handler(azemu.BaseHandler):
    def date_time_string(self, timestamp=None):
        return super().date_time_string((time.time() if timestamp is None else timestamp) + CLOCK_OFFSET[0])

    def admin(self, method, path):
        body = self.read_body()
        if path == "/_admin/clock" and method in ("POST", "PUT"):
            try:
                CLOCK_OFFSET[0] = float(json.loads(body or b"{}").get("offsetSeconds", 0))
            except (ValueError, TypeError, AttributeError) as e:
                return self.send_json(400, {"error": "bad clock body: %s" % e})
            return self.send_json(200, {"offsetSeconds": CLOCK_OFFSET[0]})
        if self.stats_faults_admin(method, path, body, STATS, FAULTS, "byClient"):
            return
        return self.send_json(404, {"error": "not_found"})

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        path = u.path
        if path.startswith("/_admin/"):
            return self.admin(method, path)
        if getattr(self.server, "admin_only", False):
            return self.send_json(404, {"error": "not_found"})
        rule = FAULTS.take("%s %s" % (method, self.path), self.headers.get("Host"))
        if rule:
            if rule.get("latencyMs"):
                time.sleep(rule["latencyMs"] / 1000.0)
            if rule.get("outage") == "reset" or rule.get("status") == 0:
                self.close_connection = True
                self.connection.shutdown(2)
                STATS.add("fault", 0)
                return
            if rule.get("status"):
                hdr = {}
                if rule.get("retryAfter") is not None:
                    hdr["Retry-After"] = str(rule["retryAfter"])
                body = rule.get("body") or {"error": "temporarily_unavailable",
                                            "error_description": "AADSTS50196: The server terminated an "
                                                                 "operation because it encountered a client "
                                                                 "request loop.",
                                            "error_codes": [50196]}
                STATS.add("fault", rule["status"])
                return self.send_json(rule["status"], body, hdr)
        parts = [p for p in path.split("/") if p]
        nocache = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
                   "x-ms-request-id": azemu.new_guid(), "x-ms-ests-server": "2.1.testbed"}
        try:
            if method == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
                form = dict(urllib.parse.parse_qsl(self.read_body().decode("utf-8", "replace"),
                                                   keep_blank_values=True))
                cid = form.get("client_id", "")
                try:
                    resp, how = token_request(parts[0], form, self.headers)
                except AADError as e:
                    STATS.add("token", e.status, cid, tenant=parts[0], client=cid, aadsts=e.code)
                    return self.send_json(e.status, e.body(), nocache)
                STATS.add("token", 200, cid, tenant=parts[0], client=cid, via=how)
                return self.send_json(200, resp, nocache)
            if method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                tid, _ = find_tenant(parts[0])
                STATS.add("openid-configuration", 200)
                return self.send_json(200, oidc_config(tid))
            if method == "GET" and parts[1:] == ["discovery", "v2.0", "keys"]:
                STATS.add("keys", 200)
                return self.send_json(200, {"keys": [SIGNING_JWK]})
            if method == "GET" and parts == ["common", "discovery", "instance"]:
                q = dict(urllib.parse.parse_qsl(u.query))
                ae = q.get("authorization_endpoint", "")
                tid = (urllib.parse.urlsplit(ae).path.split("/") + ["common"])[1] or "common"
                STATS.add("instance-discovery", 200)
                h = ARGS.authority_host
                return self.send_json(200, {
                    "tenant_discovery_endpoint": "https://%s/%s/v2.0/.well-known/openid-configuration" % (h, tid),
                    "api-version": "1.1",
                    "metadata": [{"preferred_network": h, "preferred_cache": h, "aliases": [h]}]})
        except AADError as e:
            return self.send_json(e.status, e.body(), nocache)
        STATS.add("unknown", 404)
        return self.send_json(404, {"error": "invalid_request",
                                    "error_description": "AADSTS900561: The endpoint only accepts POST "
                                                         "requests. (emulator: unknown path %s)" % path})

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
    p.add_argument("--config", default=d + "/config.json")
    p.add_argument("--listen", default="127.0.0.2:443")
    p.add_argument("--admin-listen", default="127.0.0.1:8082", help="plain HTTP admin ('' = off)")
    p.add_argument("--cert", default=d + "/tls/login.microsoftonline.com.crt")
    p.add_argument("--key", default=d + "/tls/login.microsoftonline.com.key")
    p.add_argument("--plain", action="store_true", help="serve plain HTTP (debugging only)")
    p.add_argument("--signing-key", default=d + "/entra-signing.key")
    p.add_argument("--authority-host", default="login.microsoftonline.com")
    ARGS = p.parse_args()
    CONFIG = azemu.ConfigFile(ARGS.config)
    CONFIG.get()
    SIGNING_KEY = azemu.load_private_key(ARGS.signing_key)
    SIGNING_JWK = azemu.rsa_jwk(SIGNING_KEY.public_key())
    azemu.serve_forever("entra", ARGS.listen, ARGS.admin_listen, Handler,
                        None if ARGS.plain else azemu.ssl_context(ARGS.cert, ARGS.key), FAULTS)


if __name__ == "__main__":
    main()
