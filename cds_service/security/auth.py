"""Bearer JWT verification for CDS Hooks 2.0 §Trusting CDS Clients.

Header: ``alg`` (asymmetric only), ``kid``, ``typ`` = JWT required; ``jku`` optional and
only from the issuer's list. Claims: ``iss`` (on the list), ``aud`` (this endpoint's URL,
string or array), ``exp``, ``iat`` (not in the future beyond the skew), ``jti`` (once),
``tenant`` when configured. PyJWT verifies signature and claims; failures raise
AuthError(check). The token never appears in an exception or a log line.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.types import Options

from .config import AuthConfig, IssuerConfig
from .errors import AuthError
from .jwks import KeyResolver
from .replay import ReplayGuard
from .urls import url_allowed

__all__ = ["AuthError", "Authenticator", "Principal", "fhir_server_allowed"]

MAX_TOKEN_BYTES = 16 * 1024
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti"]


@dataclass(frozen=True)
class Principal:
    """The verified caller: its issuer, subject, tenant and issuer configuration."""

    iss: str
    sub: str | None
    tenant: str | None
    issuer: IssuerConfig
    expires_at: int


def _bearer(authorization_header: str | None) -> str:
    if not authorization_header or not authorization_header.strip():
        raise AuthError("missing_token")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("missing_token")
    if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise AuthError("malformed_token")
    return token


def _number(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AuthError("malformed_token")
    try:
        return int(value)
    except (ValueError, OverflowError):  # NaN / Infinity parse from JSON
        raise AuthError("malformed_token") from None


class Authenticator:
    """Verifies ``Authorization: Bearer <JWT>`` against the configured issuers."""

    def __init__(self, config: AuthConfig, replay: ReplayGuard, jwks: KeyResolver) -> None:
        self.config = config
        self._replay = replay
        self._keys = jwks
        self._allowed = frozenset(config.algorithms)

    def verify(
        self,
        authorization_header: str | None,
        audience: str | Sequence[str],
        now: float | None = None,
    ) -> Principal:
        """The Principal, or AuthError(check) / SecurityUnavailable(check)."""
        token = _bearer(authorization_header)
        header, unverified = self._unverified(token)
        issuer = self._issuer(unverified)
        vkey = self._keys.key_for(issuer, header["kid"], header.get("jku"))
        if header["alg"] not in vkey.algorithms:
            raise AuthError("alg_not_allowed")
        claims = self._decode(token, vkey, issuer, audience, unverified, now)
        skew = self.config.clock_skew_seconds
        exp, iat = _number(claims, "exp"), _number(claims, "iat")
        clock = time.time() if now is None else now
        if exp <= clock - skew:
            raise AuthError("expired")
        if iat > clock + skew:
            raise AuthError("iat_in_future")
        if "nbf" in claims and _number(claims, "nbf") > clock + skew:
            raise AuthError("not_yet_valid")
        if exp - iat > self.config.max_token_lifetime_seconds:
            raise AuthError("token_too_long_lived")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 512:
            raise AuthError("missing_jti")
        tenant = claims.get("tenant")
        if issuer.tenant is not None and tenant != issuer.tenant:
            raise AuthError("tenant_mismatch")
        if tenant is not None and not isinstance(tenant, str):
            raise AuthError("malformed_token")
        # Accepted until exp + skew, so remembered as long (§Trusting CDS Clients: jti).
        if not self._replay.first_seen(jti, issuer.iss, exp + skew):
            raise AuthError("replayed_jti")
        return Principal(issuer.iss, claims.get("sub"), tenant, issuer, exp)

    def _unverified(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Header checks and the unverified claims (used only to pick the issuer's keys)."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed_token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._allowed:
            raise AuthError("alg_not_allowed")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.upper() != "JWT":
            raise AuthError("typ")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise AuthError("missing_kid")
        if "jku" in header and not isinstance(header["jku"], str):
            raise AuthError("malformed_token")
        if not isinstance(claims, dict):
            raise AuthError("malformed_token")
        return header, claims

    def _issuer(self, claims: dict[str, Any]) -> IssuerConfig:
        iss = claims.get("iss")
        if iss is None:
            raise AuthError("missing_claim")
        issuer = self.config.issuer(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError("unknown_issuer")
        return issuer

    def _decode(
        self,
        token: str,
        vkey: Any,
        issuer: IssuerConfig,
        audience: str | Sequence[str],
        unverified: dict[str, Any],
        now: float | None,
    ) -> dict[str, Any]:
        """PyJWT: signature with the key's own algorithm family, then the claims.

        PyJWT reads the wall clock itself, so with an injected ``now`` its time checks
        are off and ours (in ``verify``) decide alone; otherwise both run.
        """
        timed = now is None
        options: Options = {
            "require": REQUIRED_CLAIMS,
            "verify_exp": timed,
            "verify_iat": timed,
            "verify_nbf": timed,
            "enforce_minimum_key_length": True,
        }
        try:
            return jwt.decode(
                token,
                vkey.key,
                algorithms=sorted(vkey.algorithms),
                options=options,
                audience=audience if isinstance(audience, str) else list(audience),
                issuer=issuer.iss,
                leeway=self.config.clock_skew_seconds,
            )
        except jwt.InvalidSignatureError:
            raise AuthError("bad_signature") from None
        except jwt.ExpiredSignatureError:
            raise AuthError("expired") from None
        except jwt.ImmatureSignatureError:
            iat = unverified.get("iat")  # signature verified: the unverified claims are these
            limit = time.time() + self.config.clock_skew_seconds
            future = isinstance(iat, (int, float)) and iat > limit
            raise AuthError("iat_in_future" if future else "not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise AuthError("aud_mismatch") from None
        except jwt.InvalidIssuerError:
            raise AuthError("unknown_issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError("missing_jti" if exc.claim == "jti" else "missing_claim") from None
        except jwt.InvalidAlgorithmError:
            raise AuthError("alg_not_allowed") from None
        except jwt.PyJWTError:
            raise AuthError("malformed_token") from None


def fhir_server_allowed(principal: Principal, fhir_server: str) -> bool:
    """True when ``fhir_server`` is on the caller's issuer allowlist (§Security: SSRF).

    Compared as scheme + host + port + path without trailing slash; an issuer with an
    empty ``fhir_servers`` list allows none.
    """
    return url_allowed(fhir_server, principal.issuer.fhir_servers)
