"""Security exceptions.

    Exception
     +-- AuthError            the caller's token is refused: answer 401, no detail in the body
     +-- SecurityUnavailable  our side cannot decide (JWKS or replay store down): answer 503

Both carry ``check``, a short machine name for the log line. Neither ever holds the token
(CDS Hooks 2.0 §Security: "never log JWTs or access tokens").
"""

from __future__ import annotations

AUTH_CHECKS = frozenset(
    {
        "missing_token",
        "malformed_token",
        "alg_not_allowed",
        "typ",
        "missing_kid",
        "unknown_issuer",
        "unknown_kid",
        "jku_not_allowed",
        "bad_signature",
        "expired",
        "iat_in_future",
        "not_yet_valid",
        "token_too_long_lived",
        "aud_mismatch",
        "missing_jti",
        "replayed_jti",
        "tenant_mismatch",
        "missing_claim",
    }
)
UNAVAILABLE_CHECKS = frozenset({"jwks_unavailable", "replay_store_unavailable"})


class AuthError(Exception):
    """A refused token; ``check`` names the failed check (one of AUTH_CHECKS)."""

    def __init__(self, check: str) -> None:
        if check not in AUTH_CHECKS:
            raise ValueError(f"unknown auth check {check!r}")
        super().__init__(check)
        self.check = check


class SecurityUnavailable(Exception):
    """A dependency needed to verify a token is unreachable (fail closed, 503)."""

    def __init__(self, check: str) -> None:
        if check not in UNAVAILABLE_CHECKS:
            raise ValueError(f"unknown unavailability check {check!r}")
        super().__init__(check)
        self.check = check
