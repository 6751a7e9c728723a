#!/usr/bin/python3
"""Writes the default AIO scenario (runs inside the container, from aio/setup):
  /etc/aios-testbed/azure/config.json  Entra tenant + federated credential, vault seed, managed identities
  /etc/aios-testbed/aio/certs/          generated root/intermediate/leaf + key, PEM chain, PFX
  /etc/aios-testbed/fixture.json        the facts (what `testbed fixture NAME` prints)
Usage: gen-fixture.py K3S_JWKS_FILE
Python 3 stdlib + python3-cryptography (Debian's 38.0.4)."""
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TENANT = "7e57bed0-a105-4000-8000-000000000001"
CLIENT_ID = "a1051d00-55c0-4000-8000-000000000002"       # user-assigned identity federated to aio-ssc-sa
OBJECT_ID = "a1051d00-55c0-4000-8000-0000000000b2"
SECRET_APP_ID = "a1051d00-5ec7-4000-8000-000000000003"   # an app registration with a client secret
SECRET_APP_SECRET = "PLANTED-client-secret-9d41"
ISSUER = "https://oidc.testbed.aios.example/%s/3f1c2a9e-5b7d-4e8a-9c6f-0d2e4b1a7c35/" % TENANT
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
NAMESPACE, SA = "azure-iot-operations", "aio-ssc-sa"
SUBJECT = "system:serviceaccount:%s:%s" % (NAMESPACE, SA)
AUDIENCE = "api://AzureADTokenExchange"
VAULT = "aios-testbed-kv"
VAULT_URL = "https://%s.vault.azure.net" % VAULT
SUB = "/subscriptions/7e57bed0-0000-4000-8000-00000000005b/resourceGroups/aios-testbed/providers"
MI = {
    "imds": {"systemAssigned": {"clientId": "1d5a0000-0000-4000-8000-000000000011",
                                "objectId": "1d5a0000-0000-4000-8000-0000000000a1",
                                "resourceId": SUB + "/Microsoft.Compute/virtualMachines/aios-testbed-vm"},
             "userAssigned": [{"clientId": "1d5b0000-0000-4000-8000-000000000012",
                               "objectId": "1d5b0000-0000-4000-8000-0000000000b2",
                               "resourceId": SUB + "/Microsoft.ManagedIdentity/userAssignedIdentities/aios-testbed-uami"}]},
    "arc": {"systemAssigned": {"clientId": "a5c00000-0000-4000-8000-000000000013",
                               "objectId": "a5c00000-0000-4000-8000-0000000000c3",
                               "resourceId": SUB + "/Microsoft.HybridCompute/machines/aios-testbed-arc"}},
}
# The Azure Arc resource of the cluster (the ARM emulator serves it; Arc's agents would name it in the ConfigMap
# azure-arc/azure-clusterconfig). Its OIDC issuer is the fixture's issuer. The Arc machine's identity may read it
# (Reader on the resource group); the IMDS identities may not.
ARC_SUBSCRIPTION = "7e57bed0-0000-4000-8000-00000000005b"
ARC_GROUP = "aios-testbed"
ARC_CLUSTER = "aios-testbed-k3s"
ARC_CLUSTER_ID = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Kubernetes/connectedClusters/%s" % (
    ARC_SUBSCRIPTION, ARC_GROUP, ARC_CLUSTER)
ARM = {
    "subscriptions": {ARC_SUBSCRIPTION: {"tenant": TENANT}},
    "connectedClusters": [{"subscriptionId": ARC_SUBSCRIPTION, "resourceGroup": ARC_GROUP, "name": ARC_CLUSTER,
                           "location": "westeurope", "issuerUrl": ISSUER}],
    "roleAssignments": [{"principalId": MI["arc"]["systemAssigned"]["objectId"], "role": "Reader",
                         "scope": "/subscriptions/%s/resourceGroups/%s" % (ARC_SUBSCRIPTION, ARC_GROUP)}],
}
AZ = "/etc/aios-testbed/azure"
OUT = "/etc/aios-testbed/aio"
CERTS = OUT + "/certs"


def ver(tag):
    """Fixed, recognisable 32-hex version ids (facts can name them)."""
    return hashlib.sha256(("aios-testbed/" + tag).encode()).hexdigest()[:32]


def sha(b):
    return hashlib.sha256(b if isinstance(b, bytes) else b.encode()).hexdigest()


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aios testbed"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)


def cert(subject, issuer_name, pub, issuer_key, ca, days, san=None, path_len=None):
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer_name)
         .public_key(pub).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
    if not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
    if issuer_key is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def main():
    jwks_file = sys.argv[1]
    os.makedirs(CERTS, exist_ok=True)
    # --- certificate chain: root -> intermediate -> leaf (RSA 2048 leaf, like KV's default policy)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = cert("PLANTED-aios-testbed-root-ca", name("PLANTED-aios-testbed-root-ca"), root_key.public_key(),
                root_key, True, 3650, path_len=1)
    int_key = ec.generate_private_key(ec.SECP256R1())
    inter = cert("PLANTED-aios-testbed-intermediate-ca", root.subject, int_key.public_key(), root_key, True,
                 1825, path_len=0)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = cert("PLANTED-leaf.testbed.aios.example", inter.subject, leaf_key.public_key(), int_key, False,
                365, san=["leaf.testbed.aios.example"])
    key_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
    pem_value = key_pem + pem(leaf) + pem(inter) + pem(root)
    pfx = pkcs12.serialize_key_and_certificates(b"tls-pfx", leaf_key, leaf, [inter, root],
                                                serialization.NoEncryption())
    pfx_value = base64.b64encode(pfx).decode()
    # OPC UA style: a DER certificate stored hex-encoded, tagged file-encoding: hex
    opc_key = ec.generate_private_key(ec.SECP256R1())
    opc = cert("PLANTED-opcua-trust", name("PLANTED-opcua-trust"), opc_key.public_key(), opc_key, False, 365,
               san=["opcua.testbed.aios.example"])
    opc_der = opc.public_bytes(serialization.Encoding.DER)
    blob = b"PLANTED-base64-blob\x00\x01\x02\xfe\xff binary payload \xc3\x28"
    files = {"root.crt": pem(root), "intermediate.crt": pem(inter), "leaf.crt": pem(leaf), "leaf.key": key_pem,
             "chain.pem": pem_value, "opcua-trust.der": opc_der, "tls-pfx.pfx": pfx, "blob.bin": blob}
    for fn, data in files.items():
        p = os.path.join(CERTS, fn)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    v = {k: ver(k) for k in ("plain-utf8", "opcua-trust-hex", "blob-base64", "rotated-1", "rotated-2",
                             "rotated-3", "tls-pem", "tls-pfx")}
    plain = "PLANTED-plain-utf8-value-Zq8v \u00e4\u00f6\u00fc \u2713"
    rotated = ["PLANTED-rotated-v1", "PLANTED-rotated-v2", "PLANTED-rotated-v3"]
    seed = {
        "plain-utf8": {"version": v["plain-utf8"], "value": plain, "contentType": "text/plain"},
        "opcua-trust-hex": {"version": v["opcua-trust-hex"], "value": opc_der.hex(),
                            "tags": {"file-encoding": "hex"}},
        "blob-base64": {"version": v["blob-base64"], "value": base64.b64encode(blob).decode(),
                        "tags": {"file-encoding": "base64"}},
        "rotated": {"versions": [{"version": v["rotated-%d" % (i + 1)], "value": rotated[i]} for i in range(3)]},
        "tls-pem": {"version": v["tls-pem"], "value": pem_value, "contentType": "application/x-pem-file",
                    "managed": True, "kid": "%s/keys/tls-pem/%s" % (VAULT_URL, v["tls-pem"])},
        "tls-pfx": {"version": v["tls-pfx"], "value": pfx_value, "contentType": "application/x-pkcs12",
                    "managed": True, "kid": "%s/keys/tls-pfx/%s" % (VAULT_URL, v["tls-pfx"])},
    }
    config = {
        "defaultTenant": TENANT,
        "accessTokenLifetime": 86399,
        "tenants": {TENANT: {
            "displayName": "aios testbed (AIO)", "domains": ["aiostestbed.onmicrosoft.com"],
            "apps": [
                {"clientId": CLIENT_ID, "objectId": OBJECT_ID,
                 "federatedCredentials": [{"name": "aio-ssc", "issuer": ISSUER, "subject": SUBJECT,
                                           "audiences": [AUDIENCE]}]},
                {"clientId": SECRET_APP_ID, "clientSecret": SECRET_APP_SECRET},
            ]}},
        # Entra verifies the stand-in's service-account tokens with a JWKS exported from it at
        # setup (the stand-in persists its SA key, so this survives k3s restarts)
        "issuers": {ISSUER: {"jwksFile": jwks_file}, DEFAULT_ISSUER: {"jwksFile": jwks_file}},
        "vaults": {VAULT: {"tenant": TENANT, "secrets": seed}},
        "managedIdentities": MI,
        "arm": ARM,
    }
    with open(AZ + "/config.json", "w") as f:
        json.dump(config, f, indent=1)

    facts = {
        "fixture": "aio",
        "tenantId": TENANT,
        "clientId": CLIENT_ID,
        "objectId": OBJECT_ID,
        "issuer": ISSUER,
        "defaultIssuer": DEFAULT_ISSUER,
        "serviceAccount": "%s/%s" % (NAMESPACE, SA),
        "subject": SUBJECT,
        "audience": AUDIENCE,
        "federatedCredential": "aio-ssc",
        "vault": VAULT,
        "vaultUrl": VAULT_URL,
        "authorityHost": "https://login.microsoftonline.com",
        "kubeconfig": "/etc/rancher/k3s/k3s.yaml",
        "clientSecretApp": {"clientId": SECRET_APP_ID, "clientSecret": SECRET_APP_SECRET},
        "secrets": {
            "plain-utf8": {"encoding": "utf-8", "contentType": "text/plain", "versions": 1,
                           "version": v["plain-utf8"], "value": plain, "sha256": sha(plain)},
            "opcua-trust-hex": {"encoding": "hex", "tags": {"file-encoding": "hex"}, "versions": 1,
                                "version": v["opcua-trust-hex"], "decoded": "DER certificate CN=PLANTED-opcua-trust",
                                "decodedSha256": sha(opc_der), "file": CERTS + "/opcua-trust.der"},
            "blob-base64": {"encoding": "base64", "tags": {"file-encoding": "base64"}, "versions": 1,
                            "version": v["blob-base64"], "decodedSha256": sha(blob), "file": CERTS + "/blob.bin"},
            "rotated": {"encoding": "utf-8", "versions": 3,
                        "versionIds": [v["rotated-1"], v["rotated-2"], v["rotated-3"]],
                        "values": rotated, "version": v["rotated-3"], "value": rotated[2]},
            "tls-pem": {"certificate": "pem", "contentType": "application/x-pem-file", "managed": True,
                        "versions": 1, "version": v["tls-pem"], "kid": seed["tls-pem"]["kid"],
                        "order": ["PKCS#8 key", "leaf", "intermediate", "root"], "sha256": sha(pem_value),
                        "leafSubject": "CN=PLANTED-leaf.testbed.aios.example",
                        "files": {"key": CERTS + "/leaf.key", "leaf": CERTS + "/leaf.crt",
                                  "intermediate": CERTS + "/intermediate.crt", "root": CERTS + "/root.crt",
                                  "value": CERTS + "/chain.pem"}},
            "tls-pfx": {"certificate": "pfx", "contentType": "application/x-pkcs12", "managed": True,
                        "versions": 1, "version": v["tls-pfx"], "kid": seed["tls-pfx"]["kid"],
                        "encoding": "base64 of PKCS#12, empty password", "contains": ["key", "leaf",
                                                                                     "intermediate", "root"],
                        "decodedSha256": sha(pfx), "file": CERTS + "/tls-pfx.pfx"},
        },
        "plantedMarker": "PLANTED-",
        "managedIdentities": {
            "imds": {"endpoint": "http://169.254.169.254/metadata/identity/oauth2/token",
                     "systemAssigned": MI["imds"]["systemAssigned"]["clientId"],
                     "userAssigned": [u["clientId"] for u in MI["imds"]["userAssigned"]],
                     "identities": MI["imds"]},
            "arc": {"identityEndpoint": "http://localhost:40342/metadata/identity/oauth2/token",
                    "imdsEndpoint": "http://localhost:40342", "tokenDir": "/var/opt/azcmagent/tokens",
                    "systemAssigned": MI["arc"]["systemAssigned"]["clientId"], "identities": MI["arc"]},
        },
        "arcCluster": {"subscriptionId": ARC_SUBSCRIPTION, "resourceGroup": ARC_GROUP, "name": ARC_CLUSTER,
                       "id": ARC_CLUSTER_ID, "issuerUrl": ISSUER,
                       "readers": [r["principalId"] for r in ARM["roleAssignments"]]},
        "admin": {"keyvault": "http://127.0.0.1:8081", "entra": "http://127.0.0.1:8082",
                  "imds": "http://127.0.0.1:8083", "arc": "http://127.0.0.1:8084", "arm": "http://127.0.0.1:8085",
                  "k3s": "http://127.0.0.1:6440"},
        "files": {"caCert": AZ + "/ca.crt", "azureConfig": AZ + "/config.json", "k3sJwks": jwks_file,
                  "certs": CERTS},
        "workloadIdentityDropIn": "/etc/rancher/k3s/config.yaml.d/90-aios.yaml",
    }
    with open("/etc/aios-testbed/fixture.json", "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
