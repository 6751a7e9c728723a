#!/usr/bin/python3
"""Runs INSIDE the testbed container (Debian python3 + python3-cryptography, the
Azure SDKs on PYTHONPATH). Checks the Entra and Key Vault emulators with
Microsoft's azure-identity and azure-keyvault-secrets. TAP-like output."""
import http.server
import json
import os
import shutil
import sys
import threading
import time
import urllib.request

from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, "/usr/local/lib/aios-testbed/azure")
import azemu  # noqa: E402
from fidelity_lib import admin, check, expect_raises, summary  # noqa: E402

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.identity import (ClientAssertionCredential, ClientSecretCredential,  # noqa: E402
                            WorkloadIdentityCredential)
from azure.keyvault.secrets import SecretClient  # noqa: E402
import azure.identity  # noqa: E402
import azure.keyvault.secrets  # noqa: E402
import logging  # noqa: E402

logging.getLogger("azure").setLevel(logging.CRITICAL)  # expected failures would log tracebacks

TENANT = "72f988bf-0000-4000-8000-00000000a105"
CLIENT = "11111111-2222-3333-4444-555555555555"
SECRET = "testbed-client-secret"
K3S_ISS = "https://kubernetes.default.svc.cluster.local"
HTTP_ISS = "http://127.0.0.1:8099"
SUBJECT = "system:serviceaccount:kv-agent:kv-agent"
VAULT = "https://demo-kv.vault.azure.net"
KV_ADMIN = "http://127.0.0.1:8081"
ENTRA_ADMIN = "http://127.0.0.1:8082"
SCOPE = "https://vault.azure.net/.default"

# ---- a tiny OIDC issuer (the stand-in for a cluster's service-account issuer)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = azemu.rsa_jwk(KEY.public_key())
ROOT = "/tmp/issuer"
shutil.rmtree(ROOT, ignore_errors=True)
os.makedirs(ROOT + "/.well-known")
with open(ROOT + "/.well-known/openid-configuration", "w") as f:
    json.dump({"issuer": HTTP_ISS, "jwks_uri": HTTP_ISS + "/openid/v1/jwks",
               "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
               "id_token_signing_alg_values_supported": ["RS256"]}, f)
os.makedirs(ROOT + "/openid/v1")
with open(ROOT + "/openid/v1/jwks", "w") as f:
    json.dump({"keys": [JWK]}, f)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=ROOT, **k)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 8099), Quiet)
threading.Thread(target=srv.serve_forever, daemon=True).start()


def sa_token(iss=K3S_ISS, sub=SUBJECT, aud="api://AzureADTokenExchange", life=3600, key=KEY):
    now = int(time.time())
    return azemu.jwt_sign_rs256(key, {"iss": iss, "sub": sub, "aud": [aud], "iat": now, "nbf": now,
                                      "exp": now + life,
                                      "kubernetes.io": {"namespace": "kv-agent",
                                                        "serviceaccount": {"name": "kv-agent", "uid": "x"}}},
                                JWK["kid"])


# ---- emulator config (re-read live by both emulators)
CFG = "/etc/aios-testbed/azure/config.json"
cfg = json.load(open(CFG))
app = cfg["tenants"][TENANT]["apps"][0]
app["federatedCredentials"] = [
    {"name": "k3s", "issuer": K3S_ISS, "subject": SUBJECT, "audiences": ["api://AzureADTokenExchange"]},
    {"name": "discovered", "issuer": HTTP_ISS, "subject": SUBJECT, "audiences": ["api://AzureADTokenExchange"]},
]
cfg["issuers"] = {K3S_ISS: {"jwksFile": ROOT + "/openid/v1/jwks"}}
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
cfg["tenants"][TENANT_B] = {"apps": [{"clientId": CLIENT, "clientSecret": SECRET}]}
tmp = CFG + ".tmp"
with open(tmp, "w") as f:
    json.dump(cfg, f, indent=1)
os.replace(tmp, CFG)
admin(KV_ADMIN, "POST", "/_admin/reset")
admin(ENTRA_ADMIN, "POST", "/_admin/stats/reset")

print("# azure-identity %s, azure-keyvault-secrets %s, python %s" % (
    azure.identity.__version__ if hasattr(azure.identity, "__version__") else "?",
    azure.keyvault.secrets.__version__ if hasattr(azure.keyvault.secrets, "__version__") else "?",
    sys.version.split()[0]))

# ---------------------------------------------------------------- Entra
secret_cred = ClientSecretCredential(TENANT, CLIENT, SECRET)
check("ClientSecretCredential gets a token from the Entra emulator (MSAL, real authority host)",
      lambda: secret_cred.get_token(SCOPE).token.count(".") == 2)
check("token expires in ~24h (expires_in 86399)",
      lambda: 86000 < secret_cred.get_token(SCOPE).expires_on - time.time() <= 86400)

assert_cred = ClientAssertionCredential(TENANT, CLIENT, lambda: sa_token())
check("ClientAssertionCredential (FIC, issuer JWKS from a configured file)",
      lambda: assert_cred.get_token(SCOPE).token)
check("ClientAssertionCredential (FIC, issuer JWKS discovered via {iss}/.well-known/openid-configuration)",
      lambda: ClientAssertionCredential(TENANT, CLIENT, lambda: sa_token(iss=HTTP_ISS)).get_token(SCOPE).token)

with open("/tmp/azure-identity-token", "w") as f:
    f.write(sa_token())
wi_cred = WorkloadIdentityCredential(tenant_id=TENANT, client_id=CLIENT, token_file_path="/tmp/azure-identity-token")
check("WorkloadIdentityCredential with a token file", lambda: wi_cred.get_token(SCOPE).token)

check("wrong federated subject -> ClientAuthenticationError AADSTS700213 naming the subject",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          TENANT, CLIENT, lambda: sa_token(sub="system:serviceaccount:other:sa")).get_token(SCOPE),
          "AADSTS700213", "assertion subject 'system:serviceaccount:other:sa'"))
check("wrong issuer -> AADSTS700211 naming the issuer",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          TENANT, CLIENT, lambda: sa_token(iss="https://oidc.example.invalid/other")).get_token(SCOPE),
          "AADSTS700211", "assertion issuer 'https://oidc.example.invalid/other'"))
check("wrong audience -> AADSTS7002121",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          TENANT, CLIENT, lambda: sa_token(aud="k3s")).get_token(SCOPE), "AADSTS7002121", "assertion audience 'k3s'"))
check("expired assertion -> AADSTS700024",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          TENANT, CLIENT, lambda: sa_token(life=-120)).get_token(SCOPE), "AADSTS700024"))
check("assertion signed by a key not in the issuer's JWKS -> AADSTS700027",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          TENANT, CLIENT, lambda: sa_token(key=OTHER_KEY)).get_token(SCOPE), "AADSTS700027"))
check("unknown client id -> AADSTS700016",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          TENANT, "99999999-2222-3333-4444-555555555555", lambda: sa_token()).get_token(SCOPE), "AADSTS700016"))
check("unknown tenant -> AADSTS90002",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientAssertionCredential(
          "00000000-dead-beef-0000-000000000000", CLIENT, lambda: sa_token()).get_token(SCOPE), "AADSTS90002"))
check("wrong client secret -> AADSTS7000215",
      lambda: expect_raises(ClientAuthenticationError, lambda: ClientSecretCredential(
          TENANT, CLIENT, "nope").get_token(SCOPE), "7000215"))
check("Entra stats count token requests by client",
      lambda: admin(ENTRA_ADMIN, "GET", "/_admin/stats")["byOp"]["token"] >= 10)

# ---------------------------------------------------------------- Key Vault
kv = SecretClient(vault_url=VAULT, credential=wi_cred, api_version="7.4")
kv2 = SecretClient(vault_url=VAULT, credential=secret_cred)  # SDK default api-version
state = {}


def t_set():
    a = kv.set_secret("app-pw", "v1", content_type="text/plain", tags={"k": "v"})
    b = kv.set_secret("app-pw", "v2")
    state["v1"], state["v2"] = a.properties.version, b.properties.version
    assert len(a.properties.version) == 32 and a.properties.version != b.properties.version
    assert a.properties.tags == {"k": "v"} and a.properties.content_type == "text/plain"
    assert a.properties.recovery_level == "Recoverable+Purgeable"


check("SecretClient (api 7.4, workload identity) set_secret through the 401 challenge (verify_challenge_resource on)",
      t_set)
check("get_secret latest", lambda: kv.get_secret("app-pw").value == "v2")
check("get_secret by version", lambda: kv.get_secret("app-pw", state["v1"]).value == "v1")
check("seeded secret readable with the SDK's default api-version (client secret credential)",
      lambda: kv2.get_secret("db-password").value == "s3cr3t-example")
check("first request was answered with the recorded challenge (401 counted)",
      lambda: admin(KV_ADMIN, "GET", "/_admin/stats")["byStatus"].get("401", 0) >= 1)
check("get_secret of an unknown name -> ResourceNotFoundError (SecretNotFound)",
      lambda: expect_raises(ResourceNotFoundError, lambda: kv.get_secret("no-such-secret"), "SecretNotFound",
                            "no-such-secret was not found"))
check("get_secret of an unknown version -> ResourceNotFoundError",
      lambda: expect_raises(ResourceNotFoundError, lambda: kv.get_secret("app-pw", "0" * 32), "SecretNotFound"))


def t_disabled():
    kv.update_secret_properties("app-pw", state["v1"], enabled=False)
    e = expect_raises(HttpResponseError, lambda: kv.get_secret("app-pw", state["v1"]),
                      "Operation get is not allowed on a disabled secret")
    assert e.status_code == 403, e.status_code
    assert e.error.code == "Forbidden", e.error.code
    assert e.error.innererror.get("code") == "SecretDisabled", e.error.innererror
    assert kv.get_secret("app-pw").value == "v2"


check("disabled version -> 403 Forbidden/SecretDisabled (HttpResponseError), latest still readable", t_disabled)

for i in range(12):
    kv.set_secret("bulk-%02d" % i, "x%d" % i)
for i in range(6):
    kv.set_secret("many-versions", "mv%d" % i)
admin(KV_ADMIN, "POST", "/_admin/paging", {"sizes": [5, 0, 3, 1]})


def t_list():
    before = admin(KV_ADMIN, "GET", "/_admin/stats")["byOp"].get("listSecrets", 0)
    pages = [list(p) for p in kv.list_properties_of_secrets().by_page()]
    names = [s.name for p in pages for s in p]
    after = admin(KV_ADMIN, "GET", "/_admin/stats")["byOp"].get("listSecrets", 0)
    assert len(names) == 15 and len(set(names)) == 15, names
    assert all("bulk-%02d" % i in names for i in range(12))
    assert after - before == len(pages) >= 5, (after - before, [len(p) for p in pages])
    assert any(len(p) == 0 for p in pages), [len(p) for p in pages]


check("list_properties_of_secrets pages across short and empty pages (sizes 5,0,3,1)", t_list)


def t_list_max():
    admin(KV_ADMIN, "DELETE", "/_admin/paging")
    pages = [list(p) for p in kv.list_properties_of_secrets(max_page_size=4).by_page()]
    assert [len(p) for p in pages] == [4, 4, 4, 3], [len(p) for p in pages]


check("maxresults=4 -> pages 4,4,4,3 (nextLink carries maxresults)", t_list_max)


def t_versions():
    vs = list(kv.list_properties_of_secret_versions("many-versions", max_page_size=2))
    assert len(vs) == 6 and all(v.version for v in vs), len(vs)


check("list_properties_of_secret_versions pages (maxresults=2, 6 versions)", t_versions)


def t_429():
    admin(KV_ADMIN, "POST", "/_admin/faults", {"status": 429, "retryAfter": 1, "count": 2, "match": "bulk-00"})
    t0 = time.time()
    v = kv.get_secret("bulk-00").value
    dt = time.time() - t0
    st = admin(KV_ADMIN, "GET", "/_admin/stats")
    assert v == "x0" and dt >= 1.8, dt
    assert st["byStatus"].get("429", 0) == 2


check("two injected 429s with Retry-After: 1 -> SDK waits, retries, succeeds", t_429)


def t_503():
    admin(KV_ADMIN, "POST", "/_admin/faults", {"status": 503, "count": 1, "match": "bulk-01"})
    assert kv.get_secret("bulk-01").value == "x1"
    assert admin(KV_ADMIN, "GET", "/_admin/stats")["byStatus"].get("503", 0) == 1


check("injected 503 -> SDK retries and succeeds", t_503)


def t_latency():
    admin(KV_ADMIN, "POST", "/_admin/faults", {"latencyMs": 700, "count": 1, "match": "bulk-02"})
    t0 = time.time()
    kv.get_secret("bulk-02")
    assert time.time() - t0 >= 0.7


check("injected latency delays the response", t_latency)


def t_outage():
    admin(KV_ADMIN, "POST", "/_admin/faults", {"outage": "reset", "count": -1})
    c = SecretClient(vault_url=VAULT, credential=wi_cred, api_version="7.4", retry_total=1,
                     retry_backoff_factor=0.1)
    try:
        expect_raises(Exception, lambda: c.get_secret("bulk-03"))
    finally:
        admin(KV_ADMIN, "DELETE", "/_admin/faults")
    assert kv.get_secret("bulk-03").value == "x3"


check("full outage (connections reset) -> SDK error; cleared -> works again", t_outage)


def t_delete():
    kv.begin_delete_secret("bulk-11").wait()
    d = kv.get_deleted_secret("bulk-11")
    assert d.recovery_id.endswith("/deletedsecrets/bulk-11") and d.scheduled_purge_date
    expect_raises(ResourceNotFoundError, lambda: kv.get_secret("bulk-11"))
    expect_raises(HttpResponseError, lambda: kv.set_secret("bulk-11", "again"), "ObjectIsDeletedButRecoverable")
    kv.purge_deleted_secret("bulk-11")
    expect_raises(ResourceNotFoundError, lambda: kv.get_deleted_secret("bulk-11"))


check("soft delete, get deleted, 409 on name reuse, purge", t_delete)


def t_bad_api():
    import ssl
    import urllib.error
    tok = wi_cred.get_token(SCOPE).token
    req = urllib.request.Request(VAULT + "/secrets/bulk-04?api-version=1999-01-01",
                                 headers={"Authorization": "Bearer " + tok})
    try:
        urllib.request.urlopen(req, timeout=10, context=ssl.create_default_context())
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        assert e.code == 400 and body["error"]["code"] == "BadParameter", (e.code, body)
        return
    raise AssertionError("accepted")


check("unknown api-version rejected (400 BadParameter)", t_bad_api)



def raw(path, tok, method="GET"):
    import ssl
    import urllib.error
    url = path if path.startswith("https://") else VAULT + path
    req = urllib.request.Request(url, method=method, headers={"Authorization": "Bearer " + tok} if tok else {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ssl.create_default_context()) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def t_nextlink():
    tok = wi_cred.get_token(SCOPE).token
    st, _, body = raw("/secrets?api-version=7.4&maxresults=2", tok)
    nl = body["nextLink"]
    assert st == 200 and len(body["value"]) == 2, (st, body)
    assert nl.startswith("https://demo-kv.vault.azure.net:443/secrets?api-version=7.4&$skiptoken="), nl
    assert nl.endswith("&maxresults=2"), nl
    assert "value" not in body["value"][0] and body["value"][0]["id"].count("/") == 4, body["value"][0]
    seen = len(body["value"])
    while nl:
        st, _, body = raw(nl, tok)
        assert st == 200, (st, body)
        seen += len(body["value"])
        nl = body["nextLink"]
    assert seen == 14 and "nextLink" in body and body["nextLink"] is None, (seen, body)


check("raw: nextLink absolute with :443, api-version, $skiptoken, echoes maxresults; last page nextLink null",
      t_nextlink)


def t_wrong_tenant():
    tok = ClientSecretCredential(TENANT_B, CLIENT, SECRET).get_token(SCOPE).token
    st, h, body = raw("/secrets/bulk-05?api-version=7.4", tok)
    assert st == 401 and "AKV10032" in body["error"]["message"], (st, body)
    assert TENANT in h.get("WWW-Authenticate", ""), h


check("raw: token from another tenant -> 401 AKV10032 + challenge naming the vault's tenant", t_wrong_tenant)


def t_tampered_token():
    tok = wi_cred.get_token(SCOPE).token
    st, _, body = raw("/secrets/bulk-05?api-version=7.4", tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB"))
    assert st == 401 and body["error"]["code"] == "Unauthorized", (st, body)


check("raw: tampered token -> 401 Unauthorized", t_tampered_token)


def t_rbac():
    c = json.load(open(CFG))
    c["vaults"]["demo-kv"]["access"] = {CLIENT: ["get", "list"]}
    with open(tmp, "w") as f:
        json.dump(c, f)
    os.replace(tmp, CFG)
    try:
        assert kv.get_secret("bulk-05").value == "x5"
        e = expect_raises(HttpResponseError, lambda: kv.set_secret("bulk-05", "nope"),
                          "Caller is not authorized to perform action on resource",
                          "Microsoft.KeyVault/vaults/secrets/setSecret/action")
        assert e.status_code == 403 and e.error.innererror.get("code") == "ForbiddenByRbac", e.error.innererror
    finally:
        c["vaults"]["demo-kv"].pop("access")
        with open(tmp, "w") as f:
            json.dump(c, f)
        os.replace(tmp, CFG)


check("vault access list: get allowed, set -> 403 Forbidden/ForbiddenByRbac", t_rbac)


def t_disabled_latest():
    kv.set_secret("off", "v", enabled=False)
    e = expect_raises(HttpResponseError, lambda: kv.get_secret("off"), "disabled secret")
    assert e.status_code == 403
    props = [p for p in kv.list_properties_of_secrets() if p.name == "off"]
    assert props and props[0].enabled is False


check("secret created disabled: get latest -> 403, listed with enabled=false", t_disabled_latest)


# ---------------------------------------------------------------- managed identity (IMDS, Arc HIMDS)
from azure.identity import ManagedIdentityCredential  # noqa: E402

MI = cfg["managedIdentities"]
IMDS_ADMIN = "http://127.0.0.1:8083"
ARC_ADMIN = "http://127.0.0.1:8084"
for v in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
          "AZURE_CLIENT_ID", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
    os.environ.pop(v, None)


def appid(tok):
    return azemu.jwt_split(tok)[1]["appid"]


def t_imds_system():
    tok = ManagedIdentityCredential().get_token(SCOPE)
    assert appid(tok.token) == MI["imds"]["systemAssigned"]["clientId"], appid(tok.token)
    assert tok.expires_on > time.time() + 3600, tok.expires_on


check("ManagedIdentityCredential (no env) -> IMDS, system-assigned identity", t_imds_system)


def t_imds_user():
    uid = MI["imds"]["userAssigned"][0]["clientId"]
    assert appid(ManagedIdentityCredential(client_id=uid).get_token(SCOPE).token) == uid


check("ManagedIdentityCredential(client_id=...) -> IMDS user-assigned identity", t_imds_user)
check("SecretClient with the IMDS credential reads a secret",
      lambda: SecretClient(vault_url=VAULT, credential=ManagedIdentityCredential(),
                           api_version="7.4").get_secret("app-pw").value == "v2")


def t_imds_raw():
    import urllib.error
    u = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"
    try:
        urllib.request.urlopen(u, timeout=5)
    except urllib.error.HTTPError as e:
        assert e.code == 400 and json.loads(e.read())["error"] == "bad_request_102"
    else:
        raise AssertionError("no 400 without Metadata: true")
    with urllib.request.urlopen(urllib.request.Request(u, headers={"Metadata": "true"}), timeout=5) as r:
        body = json.loads(r.read())
    assert all(isinstance(body[k], str) for k in ("expires_in", "expires_on", "ext_expires_in", "not_before")), body
    assert body["resource"] == "https://vault.azure.net" and body["token_type"] == "Bearer", body


check("raw IMDS: 400 bad_request_102 without Metadata header; string-valued JSON", t_imds_raw)


def t_imds_503():
    admin(IMDS_ADMIN, "POST", "/_admin/faults", {"status": 503, "count": 1})
    admin(IMDS_ADMIN, "POST", "/_admin/stats/reset")
    ManagedIdentityCredential().get_token(SCOPE)
    st = admin(IMDS_ADMIN, "GET", "/_admin/stats")
    assert st["byStatus"].get("503") == 1 and st["byStatus"].get("200") == 1, st["byStatus"]


check("injected IMDS 503 -> the credential retries and succeeds", t_imds_503)


def t_arc():
    os.environ["IDENTITY_ENDPOINT"] = "http://localhost:40342/metadata/identity/oauth2/token"
    os.environ["IMDS_ENDPOINT"] = "http://localhost:40342"
    try:
        admin(ARC_ADMIN, "POST", "/_admin/stats/reset")
        cred = ManagedIdentityCredential()
        assert appid(cred.get_token(SCOPE).token) == MI["arc"]["systemAssigned"]["clientId"]
        st = admin(ARC_ADMIN, "GET", "/_admin/stats")
        assert st["byStatus"] == {"401": 1, "200": 1}, st["byStatus"]
        assert SecretClient(vault_url=VAULT, credential=ManagedIdentityCredential(),
                            api_version="7.4").get_secret("app-pw").value == "v2"
    finally:
        os.environ.pop("IDENTITY_ENDPOINT")
        os.environ.pop("IMDS_ENDPOINT")


check("ManagedIdentityCredential with IDENTITY_ENDPOINT + IMDS_ENDPOINT -> Arc (401 key-file challenge, "
      "then token); SecretClient reads a secret", t_arc)


def t_arc_raw():
    import urllib.error
    u = "http://localhost:40342/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net"
    try:
        urllib.request.urlopen(urllib.request.Request(u, headers={"Metadata": "true"}), timeout=5)
    except urllib.error.HTTPError as e:
        realm = e.headers["WWW-Authenticate"]
    assert realm.startswith("Basic realm=/var/opt/azcmagent/tokens/") and realm.endswith(".key"), realm
    path = realm.split("=", 1)[1]
    st = os.stat(path)
    import grp
    import pwd
    assert st.st_mode & 0o777 == 0o640, oct(st.st_mode)
    assert pwd.getpwuid(st.st_uid).pw_name == "himds" and grp.getgrgid(st.st_gid).gr_name == "himds", (st.st_uid, st.st_gid)
    d = os.stat(os.path.dirname(path))
    assert d.st_mode & 0o777 == 0o750 and grp.getgrgid(d.st_gid).gr_name == "himds", oct(d.st_mode)
    for key, want in (("wrong", 401), (open(path).read(), 200)):
        try:
            with urllib.request.urlopen(urllib.request.Request(
                    u, headers={"Metadata": "true", "Authorization": "Basic " + key}), timeout=5) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        assert code == want, (key, code)


check("raw Arc: challenge realm names a himds:himds 0640 key file (dir 0750); wrong key 401, exact contents 200", t_arc_raw)

sys.exit(summary())
