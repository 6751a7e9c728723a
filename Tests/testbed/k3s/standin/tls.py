"""TLS material as K3s generates it in server/tls, and the admin kubeconfig."""

import base64
import datetime
import ipaddress
import os
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .logs import log
from .storage import _write



def _key_pem(key):
    fmt = serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def _load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def _load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _make_cert(subject_cn, org, issuer_cert, issuer_key, key, ca=False, server=False, client=False,
               sans=None, days=365):
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, subject_cn))
    name = x509.Name(attrs)
    b = (x509.CertificateBuilder().subject_name(name)
         .issuer_name(issuer_cert.subject if issuer_cert else name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days)))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, False, False, False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        b = b.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        ekus = []
        if server:
            ekus.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            ekus.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    if sans:
        names = []
        for s in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def ensure_tls(tls_dir, sans):
    os.makedirs(tls_dir, mode=0o700, exist_ok=True)
    p = lambda n: os.path.join(tls_dir, n)  # noqa: E731
    ts = int(time.time())
    cas = {}
    for ca in ("server-ca", "client-ca", "request-header-ca"):
        if not (os.path.exists(p(ca + ".crt")) and os.path.exists(p(ca + ".key"))):
            k = ec.generate_private_key(ec.SECP256R1())
            c = _make_cert("k3s-%s@%d" % (ca, ts), None, None, None, k, ca=True, days=3650)
            _write(p(ca + ".key"), _key_pem(k))
            _write(p(ca + ".crt"), _pem(c), 0o644)
            log("info", "Generated %s certificate authority" % ca)
        cas[ca] = (_load_cert(p(ca + ".crt")), _load_key(p(ca + ".key")))

    def leaf(name, cn, org, ca, **kw):
        if os.path.exists(p(name + ".crt")) and os.path.exists(p(name + ".key")):
            c = _load_cert(p(name + ".crt"))
            if kw.get("sans"):
                try:
                    have = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                    have_s = {str(v.value) for v in have}
                    if set(kw["sans"]) <= have_s:
                        return
                except x509.ExtensionNotFound:
                    pass
            else:
                return
        k = ec.generate_private_key(ec.SECP256R1())
        c = _make_cert(cn, org, cas[ca][0], cas[ca][1], k, **kw)
        _write(p(name + ".key"), _key_pem(k))
        _write(p(name + ".crt"), _pem(c) + _pem(cas[ca][0]), 0o644)
        log("info", "Generated certificate %s (CN=%s)" % (name, cn))

    leaf("client-admin", "system:admin", "system:masters", "client-ca", client=True)
    leaf("client-kube-apiserver", "system:kube-apiserver", "system:masters", "client-ca", client=True)
    leaf("client-auth-proxy", "system:auth-proxy", None, "request-header-ca", client=True)
    leaf("serving-kube-apiserver", "kube-apiserver", None, "server-ca", server=True, sans=sans)
    if not os.path.exists(p("service.key")):
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(p("service.key"), _key_pem(k))
        log("info", "Generated service account signing key")
    if not os.path.exists(p("service.current.key")):
        with open(p("service.key"), "rb") as f:
            _write(p("service.current.key"), f.read())


def write_kubeconfig(path, mode, tls_dir, port):
    def b64(n):
        with open(os.path.join(tls_dir, n), "rb") as f:
            return base64.b64encode(f.read()).decode()
    text = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: %s
    server: https://127.0.0.1:%d
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: %s
    client-key-data: %s
""" % (b64("server-ca.crt"), port, b64("client-admin.crt"), b64("client-admin.key"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _write(path, text.encode(), mode)
    log("info", "Wrote kubeconfig %s" % path)
