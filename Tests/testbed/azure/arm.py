#!/usr/bin/python3
"""Azure Resource Manager emulator (https://management.azure.com) for the aios-agent testbed.

Exactly one operation: GET of an Azure Arc-enabled Kubernetes cluster,
  GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Kubernetes/connectedClusters/{name}?api-version=V
answered like ARM: the bearer token checked (signature against the Entra emulator's key, audience, tenant,
expiry; 401 with ARM's codes), the caller's role assignments checked (403 AuthorizationFailed unless a role
with Microsoft.Kubernetes/connectedClusters/read is assigned at the resource or a parent scope), then 404
ResourceGroupNotFound / ResourceNotFound, else the resource in the shape of the REST API's GetClusterExample
(properties.oidcIssuerProfile.issuerUrl among them).
Clusters and role assignments come from config.json "arm" (re-read live). Admin API (plain HTTP, --admin-listen):
GET /_admin/stats, POST /_admin/stats/reset, GET|POST|PUT|DELETE /_admin/faults,
GET|PATCH /_admin/connectedClusters/{name} (run-time overrides: issuerUrl, oidcIssuerEnabled, ...).
See README.md ("ARM emulator")."""
import argparse
import datetime
import json
import os
import re
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
ENTRA_KEYS = None
OVERRIDES = {}  # lower-cased cluster name -> dict of run-time overrides (admin PATCH)
OVERRIDES_LOCK = threading.Lock()

# ARM's accepted audiences (the list its InvalidAuthenticationTokenAudience message names)
AUDIENCES = ("https://management.core.windows.net/", "https://management.core.windows.net",
             "https://management.azure.com/", "https://management.azure.com")
# Built-in roles whose actions include Microsoft.Kubernetes/connectedClusters/read ("*/read" or "*")
READ_ROLES = ("reader", "contributor", "owner")
ACTION = "Microsoft.Kubernetes/connectedClusters/read"
# api-version folders of azure-rest-api-specs specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes
API_VERSIONS = ("2021-03-01", "2021-10-01", "2024-01-01", "2026-03-01", "2026-05-01",
                "2024-07-15-preview", "2024-12-01-preview")
CLUSTER_PATH = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Kubernetes/"
                          r"connectedClusters/([^/]+)/?", re.IGNORECASE)


class ARMError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def arm_cfg():
    return CONFIG.get().get("arm", {})


def default_tenant():
    cfg = CONFIG.get()
    return cfg.get("defaultTenant") or next(iter(cfg.get("tenants", {})), "00000000-0000-0000-0000-000000000000")


def clusters():
    return arm_cfg().get("connectedClusters", [])


def subscription_tenant(sub):
    for s, spec in arm_cfg().get("subscriptions", {}).items():
        if s.lower() == sub.lower():
            return spec.get("tenant") or default_tenant()
    return default_tenant()


def entra_keys():
    global ENTRA_KEYS
    if not ENTRA_KEYS:
        ENTRA_KEYS = [azemu.rsa_jwk(azemu.load_private_key(ARGS.entra_key).public_key())]
    return ENTRA_KEYS


def arm_time(ts):
    """ARM's rendering in the ExpiredAuthenticationToken message (en-US, e.g. '11/30/2026 9:00:00 PM')."""
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return "%d/%d/%d %d:%02d:%02d %s" % (d.month, d.day, d.year, (d.hour % 12) or 12, d.minute, d.second,
                                         "AM" if d.hour < 12 else "PM")


def challenge(desc):
    # what ARM sends with every 401 (error="invalid_token" + a description of the failure)
    return {"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
                                'error_description="%s"' % desc}


def authenticate(headers, sub):
    auth = headers.get("Authorization")
    if not auth:
        raise ARMError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                       challenge("The authentication failed because of missing 'Authorization' header."))
    scheme, _, tok = auth.partition(" ")
    if scheme.lower() != "bearer" or not tok.strip():
        raise ARMError(401, "AuthenticationFailedInvalidHeader",
                       "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                       challenge("The authentication failed because of invalid 'Authorization' header."))
    try:
        h, c, si, sig = azemu.jwt_split(tok.strip())
        azemu.jws_verify(h, si, sig, entra_keys())
    except azemu.JWTError:
        raise ARMError(401, "InvalidAuthenticationToken", "The access token is invalid.",
                       challenge("The access token is invalid."))
    aud = c.get("aud")
    if aud not in AUDIENCES:
        raise ARMError(401, "InvalidAuthenticationTokenAudience",
                       "The access token has been obtained for wrong audience or resource '%s'. It should exactly "
                       "match with one of the allowed audiences %s." % (aud, ",".join("'%s'" % a for a in AUDIENCES)),
                       challenge("The access token has been obtained for wrong audience or resource '%s'." % aud))
    tid = subscription_tenant(sub)
    good = ("https://sts.windows.net/%s/" % tid, "https://login.microsoftonline.com/%s/v2.0" % tid)
    if c.get("iss") not in good:
        raise ARMError(401, "InvalidAuthenticationTokenTenant",
                       "The access token is from the wrong issuer '%s'. It must match the tenant '%s' associated "
                       "with this subscription. Please use the authority (URL) 'https://login.windows.net/%s' to get "
                       "the token. Note, if the subscription is transferred to another tenant there is no impact to "
                       "the services, but information about new tenant could take time to propagate (up to an hour). "
                       "If you just transferred your subscription and see this error message, please try back later."
                       % (c.get("iss"), good[0], tid),
                       challenge("The access token is from the wrong issuer."))
    exp = c.get("exp")
    now = time.time()
    if not isinstance(exp, (int, float)) or exp <= now:
        raise ARMError(401, "ExpiredAuthenticationToken",
                       "The access token expiry UTC time '%s' is earlier than current UTC time '%s'."
                       % (arm_time(exp if isinstance(exp, (int, float)) else 0), arm_time(now)),
                       challenge("The access token expiry UTC time '%s' is earlier than current UTC time '%s'."
                                 % (arm_time(exp if isinstance(exp, (int, float)) else 0), arm_time(now))))
    return c


def within(scope, resource_id):
    """A role assignment at scope applies to resource_id when scope is it or one of its parents (case-insensitive)."""
    s = scope.rstrip("/").lower()
    r = resource_id.rstrip("/").lower()
    return s == "" or r == s or r.startswith(s + "/")


def authorize(claims, resource_id):
    oid = (claims.get("oid") or "").lower()
    for ra in arm_cfg().get("roleAssignments", []):
        if (ra.get("principalId") or "").lower() == oid and (ra.get("role") or "").lower() in READ_ROLES \
                and within(ra.get("scope") or "/", resource_id):
            return ra
    raise ARMError(403, "AuthorizationFailed",
                   "The client '%s' with object id '%s' does not have authorization to perform action '%s' over "
                   "scope '%s' or the scope is invalid. If access was recently granted, please refresh your "
                   "credentials." % (claims.get("oid"), claims.get("oid"), ACTION, resource_id))


def find_cluster(sub, rg, name):
    """The configured cluster, or ARM's 404 for its resource group or for it."""
    same_sub = [c for c in clusters() if c["subscriptionId"].lower() == sub.lower()]
    groups = {g.lower() for g in arm_cfg().get("resourceGroups", [])} | {c["resourceGroup"].lower() for c in same_sub}
    if rg.lower() not in groups:
        raise ARMError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg,
                       {"x-ms-failure-cause": "gateway"})
    for c in same_sub:
        if c["resourceGroup"].lower() == rg.lower() and c["name"].lower() == name.lower():
            return c
    raise ARMError(404, "ResourceNotFound",
                   "The Resource 'Microsoft.Kubernetes/connectedClusters/%s' under resource group '%s' was not found. "
                   "For more details please go to https://aka.ms/ARMResourceNotFoundFix" % (name, rg),
                   {"x-ms-failure-cause": "gateway"})


def resource_id(c):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Kubernetes/connectedClusters/%s" % (
        c["subscriptionId"], c["resourceGroup"], c["name"])


def render(c):
    """The resource as GET returns it (GetClusterExample of the 2024-07-15-preview spec)."""
    with OVERRIDES_LOCK:
        c = dict(c, **OVERRIDES.get(c["name"].lower(), {}))
    enabled = c.get("oidcIssuerEnabled", True)
    oidc = {"enabled": bool(enabled)}
    if enabled and c.get("issuerUrl"):
        oidc["issuerUrl"] = c["issuerUrl"]
    created = c.get("createdAt", "2026-11-02T08:14:31.5560374Z")
    props = {
        "agentPublicKeyCertificate": c.get("agentPublicKeyCertificate", ""),
        "kubernetesVersion": c.get("kubernetesVersion", "1.31.5+k3s1"),
        "totalNodeCount": c.get("totalNodeCount", 1),
        "totalCoreCount": c.get("totalCoreCount", 2),
        "agentVersion": c.get("agentVersion", "1.24.4"),
        "provisioningState": "Succeeded",
        "connectivityStatus": c.get("connectivityStatus", "Connected"),
        "lastConnectivityTime": c.get("lastConnectivityTime",
                                      datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
        "distribution": c.get("distribution", "k3s"),
        "distributionVersion": c.get("distributionVersion", ""),
        "infrastructure": c.get("infrastructure", "generic"),
        "offering": "",
        "privateLinkState": "Disabled",
        "azureHybridBenefit": "NotApplicable",
        "miscellaneousProperties": {},
        "securityProfile": {"workloadIdentity": {"enabled": bool(c.get("workloadIdentityEnabled", enabled))}},
        "oidcIssuerProfile": oidc,
        "arcAgentProfile": {"desiredAgentVersion": c.get("agentVersion", "1.24.4"), "agentAutoUpgrade": "Enabled",
                            "agentState": "Succeeded"},
    }
    props.update(c.get("properties", {}))
    body = {
        "id": resource_id(c), "name": c["name"], "type": "Microsoft.Kubernetes/connectedClusters",
        "location": c.get("location", "westeurope"), "tags": c.get("tags", {}),
        "systemData": {"createdBy": "operator@aiostestbed.onmicrosoft.com", "createdByType": "User",
                       "createdAt": created, "lastModifiedBy": "operator@aiostestbed.onmicrosoft.com",
                       "lastModifiedByType": "User", "lastModifiedAt": created},
        "identity": {"principalId": c.get("principalId", "c1a55e00-0000-4000-8000-0000000000d4"),
                     "tenantId": subscription_tenant(c["subscriptionId"]), "type": "SystemAssigned"},
        "properties": props,
    }
    if c.get("kind"):
        body["kind"] = c["kind"]
    return body


def get_cluster(path, q, headers):
    m = CLUSTER_PATH.fullmatch(path)
    sub, rg, name = (urllib.parse.unquote(g) for g in m.groups())
    claims = authenticate(headers, sub)
    api = q.get("api-version")
    if not api:
        raise ARMError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    requested = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Kubernetes/connectedClusters/%s" % (sub, rg, name)
    authorize(claims, requested)
    versions = arm_cfg().get("apiVersions", API_VERSIONS)
    if api not in versions:
        raise ARMError(400, "NoRegisteredProviderFound",
                       "No registered resource provider found for location 'westeurope' and API version '%s' for type "
                       "'connectedClusters'. The supported api-versions are '%s'. The supported locations are "
                       "'eastus, westeurope'." % (api, ", ".join(versions)))
    return render(find_cluster(sub, rg, name)), claims


class Handler(azemu.BaseHandler):
    def arm_headers(self):
        rid = azemu.new_guid()
        return {"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "-1",
                "x-ms-ratelimit-remaining-subscription-reads": "249", "x-ms-request-id": rid,
                "x-ms-correlation-request-id": rid,
                "x-ms-routing-request-id": "WESTEUROPE:%s:%s" % (
                    datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"), rid),
                "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
                "X-Content-Type-Options": "nosniff", "X-Cache": "CONFIG_NOCACHE"}

    def admin(self, method, path):
        body = self.read_body()
        if self.stats_faults_admin(method, path, body, STATS, FAULTS, "byClient"):
            return
        m = re.fullmatch(r"/_admin/connectedClusters/([^/]+)", path)
        if m:
            name = urllib.parse.unquote(m.group(1))
            found = [c for c in clusters() if c["name"].lower() == name.lower()]
            if not found:
                return self.send_json(404, {"error": "no connected cluster %s in config.json" % name})
            with OVERRIDES_LOCK:
                if method == "PATCH":
                    OVERRIDES.setdefault(name.lower(), {}).update(json.loads(body or b"{}"))
                elif method == "DELETE":
                    OVERRIDES.pop(name.lower(), None)
                elif method != "GET":
                    return self.send_json(405, {"error": "GET, PATCH or DELETE"})
            return self.send_json(200, render(found[0]))
        return self.send_json(404, {"error": "not_found"})

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_admin/"):
            return self.admin(method, u.path)
        if getattr(self.server, "admin_only", False):
            return self.send_json(404, {"error": "not_found"})
        self.read_body()
        rule = self.take_fault(FAULTS, lambda: STATS.add("fault", 0, path=u.path, fault=True))
        if rule:
            st, hdr = rule["status"], self.arm_headers()
            if rule.get("retryAfter") is not None:
                hdr["Retry-After"] = str(rule["retryAfter"])
            body = rule.get("body") or {"error": {
                "code": rule.get("code") or ("TooManyRequests" if st == 429 else "InternalServerError"),
                "message": rule.get("message") or "Injected fault (testbed)."}}
            STATS.add("fault", st, path=u.path, fault=True)
            return self.send_json(st, body, hdr)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        if method != "GET" or not CLUSTER_PATH.fullmatch(u.path):
            STATS.add("other", 404, path=u.path)
            return self.send_json(404, {"error": {"code": "NotFound", "message": "The testbed's ARM emulator serves "
                                                  "only GET of Microsoft.Kubernetes/connectedClusters (%s %s)."
                                                  % (method, u.path)}}, self.arm_headers())
        try:
            body, claims = get_cluster(u.path, q, self.headers)
        except ARMError as e:
            STATS.add("getConnectedCluster", e.status, path=u.path, error=e.code)
            return self.send_json(e.status, {"error": {"code": e.code, "message": e.message}},
                                  dict(self.arm_headers(), **e.headers))
        STATS.add("getConnectedCluster", 200, claims.get("oid"), client=claims.get("oid"), path=u.path)
        return self.send_json(200, body, self.arm_headers())

    def do_GET(self):
        self.route("GET")

    def do_PUT(self):
        self.route("PUT")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")

    def do_DELETE(self):
        self.route("DELETE")


def main():
    global ARGS, CONFIG
    d = "/etc/aios-testbed/azure"
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--config", default=d + "/config.json")
    p.add_argument("--listen", default="127.0.0.3:443")
    p.add_argument("--admin-listen", default="127.0.0.1:8085", help="plain HTTP admin ('' = off)")
    p.add_argument("--cert", default=d + "/tls/management.azure.com.crt")
    p.add_argument("--key", default=d + "/tls/management.azure.com.key")
    p.add_argument("--entra-key", default=d + "/entra-signing.key", help="Entra emulator's signing key")
    ARGS = p.parse_args()
    CONFIG = azemu.ConfigFile(ARGS.config)
    CONFIG.get()
    entra_keys()
    azemu.serve_forever("arm", ARGS.listen, ARGS.admin_listen, Handler, azemu.ssl_context(ARGS.cert, ARGS.key), FAULTS)


if __name__ == "__main__":
    main()
