#!/usr/bin/python3
"""Runs INSIDE the testbed container after fidelity_sdk.py (Debian python3 + python3-cryptography, the Azure SDKs
on PYTHONPATH). Checks the ARM emulator (management.azure.com) with Microsoft's azure-mgmt-hybridkubernetes and
azure-identity: the Arc cluster's GET with a managed identity that is a Reader, ARM's 401/403/404/400 answers as
the SDK raises them, and the admin overrides. TAP-like output."""
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, "/usr/local/lib/aios-testbed/azure")
import azemu  # noqa: E402
from fidelity_lib import admin, check, expect_raises, summary  # noqa: E402

from azure.core.credentials import AccessToken  # noqa: E402
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.identity import ClientSecretCredential, ManagedIdentityCredential  # noqa: E402
from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient  # noqa: E402
import azure.mgmt.hybridkubernetes  # noqa: E402
import logging  # noqa: E402

logging.getLogger("azure").setLevel(logging.CRITICAL)  # expected failures would log tracebacks

CFG = "/etc/aios-testbed/azure/config.json"
ARM_ADMIN = "http://127.0.0.1:8085"
ARM_SCOPE = "https://management.azure.com/.default"
ISSUER_API = "2024-07-15-preview"   # what aiosd's doctor asks for
cfg = json.load(open(CFG))
TENANT = cfg["defaultTenant"]
APP = cfg["tenants"][TENANT]["apps"][0]
CLUSTER = cfg["arm"]["connectedClusters"][0]
SUB, GROUP, NAME = CLUSTER["subscriptionId"], CLUSTER["resourceGroup"], CLUSTER["name"]
CLUSTER_ID = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Kubernetes/connectedClusters/%s" % (SUB, GROUP, NAME)
ARC_OID = cfg["managedIdentities"]["arc"]["systemAssigned"]["objectId"]
IMDS_OID = cfg["managedIdentities"]["imds"]["systemAssigned"]["objectId"]
OTHER_TENANT = "bbbbbbbb-0000-4000-8000-00000000000b"
assert any(r["principalId"] == ARC_OID for r in cfg["arm"]["roleAssignments"]), "config: the Arc identity is a Reader"
for v in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET", "AZURE_CLIENT_ID"):
    os.environ.pop(v, None)

print("# azure-mgmt-hybridkubernetes %s" % getattr(azure.mgmt.hybridkubernetes, "__version__", "?"))


def write_cfg(c):
    with open(CFG + ".tmp", "w") as f:
        json.dump(c, f, indent=1)
    os.replace(CFG + ".tmp", CFG)


def arc_credential():
    """The Arc machine's identity (HIMDS key-file challenge), as on an Arc-enabled server."""
    os.environ["IDENTITY_ENDPOINT"] = "http://localhost:40342/metadata/identity/oauth2/token"
    os.environ["IMDS_ENDPOINT"] = "http://localhost:40342"
    try:
        cred = ManagedIdentityCredential()
        tok = cred.get_token(ARM_SCOPE)
    finally:
        os.environ.pop("IDENTITY_ENDPOINT")
        os.environ.pop("IMDS_ENDPOINT")
    return StaticToken(tok.token)


class StaticToken:
    """A TokenCredential that hands out one token (a given or hand-made one)."""

    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo
        return AccessTokenInfo(self.token, int(time.time()) + 3600)


def client(cred, **kw):
    return ConnectedKubernetesClient(cred, SUB, **kw)


def raw(path, tok=None):
    req = urllib.request.Request("https://management.azure.com" + path,
                                 headers={"Authorization": "Bearer " + tok} if tok else {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ssl.create_default_context()) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


admin(ARM_ADMIN, "POST", "/_admin/stats/reset")
arc = arc_credential()


def t_get_default_api():
    c = client(arc).connected_cluster.get(GROUP, NAME)
    assert c.id == CLUSTER_ID and c.name == NAME and c.type == "Microsoft.Kubernetes/connectedClusters", (c.id, c.type)
    assert c.location == CLUSTER["location"], c.location
    p = c.properties
    assert p.oidc_issuer_profile.enabled is True and p.oidc_issuer_profile.issuer_url == CLUSTER["issuerUrl"], \
        p.oidc_issuer_profile
    assert p.security_profile.workload_identity.enabled is True
    assert p.provisioning_state == "Succeeded" and p.connectivity_status == "Connected", (p.provisioning_state,
                                                                                          p.connectivity_status)


check("ConnectedKubernetesClient (SDK default api-version) with the Arc machine's managed identity (Reader on the "
      "resource group): connected_cluster.get returns the cluster with oidcIssuerProfile.issuerUrl", t_get_default_api)
check("... and with api-version %s (what aiosd asks for)" % ISSUER_API,
      lambda: client(arc, api_version=ISSUER_API).connected_cluster.get(GROUP, NAME)
      .properties.oidc_issuer_profile.issuer_url == CLUSTER["issuerUrl"])


def t_raw_shape():
    st, h, body = raw("%s?api-version=%s" % (CLUSTER_ID, ISSUER_API), arc.token)
    assert st == 200, (st, body)
    assert body["properties"]["oidcIssuerProfile"] == {"enabled": True, "issuerUrl": CLUSTER["issuerUrl"]}, body
    assert h.get("Content-Type", "").startswith("application/json") and h.get("x-ms-request-id"), h


check("raw GET over TLS (system trust store): 200, properties.oidcIssuerProfile {enabled, issuerUrl}", t_raw_shape)


def t_imds_forbidden():
    imds = StaticToken(ManagedIdentityCredential().get_token(ARM_SCOPE).token)
    e = expect_raises(HttpResponseError, lambda: client(imds).connected_cluster.get(GROUP, NAME),
                      "Microsoft.Kubernetes/connectedClusters/read", CLUSTER_ID)
    assert e.status_code == 403 and e.error.code == "AuthorizationFailed", (e.status_code, e.error.code)
    assert "with object id '%s'" % IMDS_OID in e.message, e.message


check("an identity without a role on the cluster (IMDS system-assigned) -> HttpResponseError 403 AuthorizationFailed "
      "naming its object id, the action and the scope", t_imds_forbidden)
check("unknown cluster -> ResourceNotFoundError ResourceNotFound",
      lambda: expect_raises(ResourceNotFoundError, lambda: client(arc).connected_cluster.get(GROUP, "no-such-cluster"),
                            "ResourceNotFound", "Microsoft.Kubernetes/connectedClusters/no-such-cluster",
                            "under resource group '%s' was not found" % GROUP).error.code == "ResourceNotFound")
check("unknown resource group (Reader at subscription scope) -> ResourceNotFoundError ResourceGroupNotFound",
      lambda: (write_cfg(dict(cfg, arm=dict(cfg["arm"], roleAssignments=[
          {"principalId": ARC_OID, "role": "Reader", "scope": "/subscriptions/" + SUB}]))),
               expect_raises(ResourceNotFoundError, lambda: client(arc).connected_cluster.get("no-such-rg", NAME),
                             "Resource group 'no-such-rg' could not be found.").error.code == "ResourceGroupNotFound")[1])
write_cfg(cfg)
check("a Reader on another resource group -> 403 (role assignments apply to their scope and below only)",
      lambda: (write_cfg(dict(cfg, arm=dict(cfg["arm"], roleAssignments=[
          {"principalId": ARC_OID, "role": "Reader", "scope": "/subscriptions/%s/resourceGroups/other" % SUB}]))),
               expect_raises(HttpResponseError, lambda: client(arc).connected_cluster.get(GROUP, NAME),
                             "AuthorizationFailed").status_code == 403)[1])
write_cfg(cfg)


def t_app_secret():
    c = json.load(open(CFG))
    c["arm"]["roleAssignments"].append({"principalId": APP.get("objectId") or APP["clientId"], "role": "Contributor",
                                        "scope": "/subscriptions/" + SUB})
    write_cfg(c)
    try:
        cred = ClientSecretCredential(TENANT, APP["clientId"], APP["clientSecret"])
        return client(cred).connected_cluster.get(GROUP, NAME).name == NAME
    finally:
        write_cfg(cfg)


check("Entra issues tokens for https://management.azure.com: ClientSecretCredential (Contributor on the "
      "subscription) reads the cluster", t_app_secret)


def t_wrong_audience():
    vault_tok = ManagedIdentityCredential().get_token("https://vault.azure.net/.default").token
    e = expect_raises(ClientAuthenticationError, lambda: client(StaticToken(vault_tok)).connected_cluster.get(GROUP, NAME),
                      "wrong audience or resource 'https://vault.azure.net'")
    assert e.status_code == 401 and e.error.code == "InvalidAuthenticationTokenAudience", (e.status_code, e.error.code)


check("a Key Vault token -> ClientAuthenticationError 401 InvalidAuthenticationTokenAudience", t_wrong_audience)


def t_wrong_tenant():
    c = json.load(open(CFG))
    c["tenants"][OTHER_TENANT] = {"apps": [{"clientId": APP["clientId"], "clientSecret": "other-secret"}]}
    write_cfg(c)
    try:
        tok = ClientSecretCredential(OTHER_TENANT, APP["clientId"], "other-secret").get_token(ARM_SCOPE).token
        e = expect_raises(ClientAuthenticationError, lambda: client(StaticToken(tok)).connected_cluster.get(GROUP, NAME),
                          "wrong issuer 'https://sts.windows.net/%s/'" % OTHER_TENANT)
        assert e.error.code == "InvalidAuthenticationTokenTenant", e.error.code
    finally:
        write_cfg(cfg)


check("a token from another tenant -> 401 InvalidAuthenticationTokenTenant", t_wrong_tenant)

KEY = azemu.load_private_key("/etc/aios-testbed/azure/entra-signing.key")
KID = azemu.rsa_jwk(KEY.public_key())["kid"]


def t_expired():
    now = int(time.time())
    tok = azemu.jwt_sign_rs256(KEY, {"aud": "https://management.azure.com", "iss": "https://sts.windows.net/%s/" % TENANT,
                                     "oid": ARC_OID, "tid": TENANT, "iat": now - 7200, "nbf": now - 7200,
                                     "exp": now - 60}, KID)
    e = expect_raises(ClientAuthenticationError, lambda: client(StaticToken(tok)).connected_cluster.get(GROUP, NAME),
                      "is earlier than current UTC time")
    assert e.error.code == "ExpiredAuthenticationToken", e.error.code


check("an expired token -> 401 ExpiredAuthenticationToken", t_expired)


def t_no_auth():
    st, h, body = raw("%s?api-version=%s" % (CLUSTER_ID, ISSUER_API))
    assert st == 401 and body["error"]["code"] == "AuthenticationFailed", (st, body)
    assert h.get("WWW-Authenticate", "").startswith('Bearer authorization_uri="https://login.windows.net/"'), h
    st, _, body = raw("%s?api-version=%s" % (CLUSTER_ID, ISSUER_API), arc.token[:-4] + "AAAA")
    assert st == 401 and body["error"]["code"] == "InvalidAuthenticationToken", (st, body)


check("raw: no Authorization -> 401 AuthenticationFailed + WWW-Authenticate Bearer; a tampered token -> 401 "
      "InvalidAuthenticationToken", t_no_auth)


def t_api_versions():
    st, _, body = raw(CLUSTER_ID, arc.token)
    assert st == 400 and body["error"]["code"] == "MissingApiVersionParameter", (st, body)
    e = expect_raises(HttpResponseError, lambda: client(arc, api_version="1999-01-01").connected_cluster.get(GROUP, NAME),
                      "No registered resource provider found")
    assert e.status_code == 400 and e.error.code == "NoRegisteredProviderFound", (e.status_code, e.error.code)


check("no api-version -> 400 MissingApiVersionParameter; an unknown one -> 400 NoRegisteredProviderFound", t_api_versions)


def t_overrides():
    other = "https://westeurope.oic.prod-arc.azure.com/%s/0a1b2c3d-0000-4000-8000-000000000042/" % TENANT
    try:
        admin(ARM_ADMIN, "PATCH", "/_admin/connectedClusters/" + NAME, {"issuerUrl": other})
        assert client(arc).connected_cluster.get(GROUP, NAME).properties.oidc_issuer_profile.issuer_url == other
        admin(ARM_ADMIN, "PATCH", "/_admin/connectedClusters/" + NAME, {"oidcIssuerEnabled": False})
        p = client(arc).connected_cluster.get(GROUP, NAME).properties.oidc_issuer_profile
        assert p.enabled is False and p.issuer_url is None, p
    finally:
        admin(ARM_ADMIN, "DELETE", "/_admin/connectedClusters/" + NAME)
    return client(arc).connected_cluster.get(GROUP, NAME).properties.oidc_issuer_profile.issuer_url == CLUSTER["issuerUrl"]


check("admin PATCH /_admin/connectedClusters/NAME sets issuerUrl / disables the issuer; DELETE restores config.json",
      t_overrides)


def t_stats():
    st = admin(ARM_ADMIN, "GET", "/_admin/stats")
    assert st["byOp"]["getConnectedCluster"] >= 10 and st["byStatus"].get("403", 0) >= 2, st["byStatus"]
    assert st["byClient"].get(ARC_OID, 0) >= 5, st["byClient"]


check("ARM stats count GETs by status and by the caller's object id", t_stats)

sys.exit(summary())
