"""Service-account token helpers: base64url, the key id Kubernetes derives, the JWK of a public key."""

import base64
import hashlib

from cryptography.hazmat.primitives import serialization



def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def key_id(pub):
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64u(hashlib.sha256(der).digest())


def jwk(pub):
    nums = pub.public_numbers()

    def ib(i):
        return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))
    return {"use": "sig", "kty": "RSA", "kid": key_id(pub), "alg": "RS256", "n": ib(nums.n), "e": ib(nums.e)}
