#!/usr/bin/python3
"""Verify a Kubernetes service-account JWT against a JWKS (fidelity checks).

usage: jwtcheck.py TOKEN JWKS_FILE ISS SUB AUD [TTL_SECONDS]
Prints the claims as JSON; exit 0 iff signature (RS256, kid from JWKS), iss,
sub, aud (contained), exp/iat/nbf sanity and optional exp-iat == TTL hold.
"""
import base64
import json
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    tok, jwks_file, iss, sub, aud = sys.argv[1:6]
    ttl = int(sys.argv[6]) if len(sys.argv) > 6 else None
    h, p, s = tok.strip().split(".")
    header, claims = json.loads(d(h)), json.loads(d(p))
    print(json.dumps({"header": header, "claims": claims}))
    with open(jwks_file) as f:
        keys = json.load(f)["keys"]
    errs = []
    if header.get("alg") != "RS256":
        errs.append("alg %r" % header.get("alg"))
    k = [k for k in keys if k.get("kid") == header.get("kid")]
    if not k:
        errs.append("kid %r not in JWKS" % header.get("kid"))
    else:
        k = k[0]
        pub = rsa.RSAPublicNumbers(int.from_bytes(d(k["e"]), "big"), int.from_bytes(d(k["n"]), "big")).public_key()
        try:
            pub.verify(d(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception as e:
            errs.append("signature: %r" % e)
    if claims.get("iss") != iss:
        errs.append("iss %r != %r" % (claims.get("iss"), iss))
    if claims.get("sub") != sub:
        errs.append("sub %r != %r" % (claims.get("sub"), sub))
    auds = claims.get("aud")
    auds = [auds] if isinstance(auds, str) else auds
    if aud not in (auds or []):
        errs.append("aud %r lacks %r" % (auds, aud))
    now = time.time()
    if not (claims["iat"] <= now + 5 and claims["nbf"] <= now + 5 and claims["exp"] > now):
        errs.append("time claims off")
    if ttl is not None and claims["exp"] - claims["iat"] != ttl:
        errs.append("ttl %d != %d" % (claims["exp"] - claims["iat"], ttl))
    ns, _, name = sub[len("system:serviceaccount:"):].partition(":")
    kio = claims.get("kubernetes.io", {})
    if kio.get("namespace") != ns or kio.get("serviceaccount", {}).get("name") != name:
        errs.append("kubernetes.io claim %r" % kio)
    for e in errs:
        print("jwtcheck: " + e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
