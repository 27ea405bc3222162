"""Security layer: JWT authentication (CDS Hooks 2.0 §Trusting CDS Clients), jti replay
memory, JWKS lookup, FHIR server allowlist, CORS and response headers.

``build_authenticator(auth, cache)`` assembles the pieces: Redis-backed replay memory and
JWKS cache when ``cache.url`` is set, process memory otherwise.
"""

from __future__ import annotations

from .auth import Authenticator, Principal, fhir_server_allowed
from .config import (
    AuthConfig,
    CacheConfig,
    CorsConfig,
    IssuerConfig,
    check_cors_with_auth,
)
from .errors import AuthError, SecurityUnavailable
from .headers import cors_headers, is_preflight, security_headers
from .jwks import KeyResolver
from .jwks_store import RedisJwksStore
from .replay import ReplayGuard, make_replay_guard, redis_client
from .urls import normalize_url, url_allowed

__all__ = [
    "AuthConfig",
    "AuthError",
    "Authenticator",
    "CacheConfig",
    "CorsConfig",
    "IssuerConfig",
    "KeyResolver",
    "Principal",
    "ReplayGuard",
    "SecurityUnavailable",
    "build_authenticator",
    "check_cors_with_auth",
    "cors_headers",
    "fhir_server_allowed",
    "is_preflight",
    "make_replay_guard",
    "normalize_url",
    "security_headers",
    "url_allowed",
]


def build_authenticator(auth: AuthConfig, cache: CacheConfig) -> Authenticator:
    """An Authenticator whose jti memory and JWKS cache follow ``cache`` (Redis or memory).

    Raises ValueError at startup for an unreadable or invalid inline/file JWKS.
    """
    if cache.url is None:
        return Authenticator(auth, make_replay_guard(cache), KeyResolver(auth))
    client = redis_client(cache)
    store = RedisJwksStore(client, prefix=cache.key_prefix)
    return Authenticator(auth, make_replay_guard(cache, client), KeyResolver(auth, store))
