"""Keys made at test time and the forged-token matrix (CDS Hooks 2.0 §Trusting CDS Clients).

Each forgery names the check the service must log when it refuses the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.security.security_support import Signer

ISS = "https://ehr.reliability.example"
JKU = "https://ehr.reliability.example/jwks"


@dataclass(frozen=True)
class Keys:
    es384: Signer
    rs384: Signer
    stranger: Signer  # an untrusted key published under the trusted EC kid

    def issuer(self, fhir_servers: list[str], **extra: object) -> dict:
        """An [[auth.issuers]] table trusting es384 and rs384 through an inline JWKS."""
        return {"iss": ISS, "jwks": {"keys": [self.es384.jwk, self.rs384.jwk]},
                "allowed_jku": [JKU], "fhir_servers": fhir_servers, **extra}


def make_keys() -> Keys:
    return Keys(
        es384=Signer(ec.generate_private_key(ec.SECP384R1()), "rel-ec-1", "ES384"),
        rs384=Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                     "rel-rsa-1", "RS384"),
        stranger=Signer(ec.generate_private_key(ec.SECP384R1()), "rel-ec-1", "ES384"),
    )


def signed(signer: Signer, aud: str, claims: dict | None = None, **kwargs) -> str:
    return signer.token({"iss": ISS, "aud": aud, **(claims or {})}, **kwargs)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned_parts(header: dict, aud: str) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def alg_none(keys: Keys, aud: str) -> str:
    return _unsigned_parts({"alg": "none", "typ": "JWT", "kid": keys.es384.kid}, aud) + "."


def hs256_with_public_pem(keys: Keys, aud: str) -> str:
    """The classic key-confusion forgery: HMAC keyed with the issuer's public key PEM."""
    signing_input = _unsigned_parts({"alg": "HS256", "typ": "JWT", "kid": keys.es384.kid}, aud)
    mac = hmac.new(keys.es384.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(mac)


def _now() -> int:
    return int(time.time())


# name -> (token factory (keys, aud) -> token or None for no header, the check logged)
FORGERIES: dict[str, tuple[Callable[[Keys, str], str | None], str]] = {
    "no token": (lambda k, aud: None, "missing_token"),
    "alg none": (alg_none, "alg_not_allowed"),
    "HS256 with public key": (hs256_with_public_pem, "alg_not_allowed"),
    "wrong signature": (lambda k, aud: signed(k.stranger, aud), "bad_signature"),
    "expired": (lambda k, aud: signed(k.es384, aud, {"iat": _now() - 900, "exp": _now() - 600}),
                "expired"),
    "iat in future": (lambda k, aud: signed(k.es384, aud,
                                            {"iat": _now() + 600, "exp": _now() + 900}),
                      "iat_in_future"),
    "wrong aud": (lambda k, aud: signed(k.es384, aud + "-other"), "aud_mismatch"),
    "unknown iss": (lambda k, aud: signed(k.es384, aud, {"iss": "https://evil.example"}),
                    "unknown_issuer"),
    "unknown kid": (lambda k, aud: signed(k.es384, aud, headers={"kid": "rel-ec-unknown"}),
                    "unknown_kid"),
    "jku not on list": (lambda k, aud: signed(k.es384, aud,
                                              headers={"jku": "https://evil.example/jwks"}),
                        "jku_not_allowed"),
    "missing jti": (lambda k, aud: signed(k.rs384, aud, drop=("jti",)), "missing_jti"),
}
