"""Security settings, nested in the service Settings as ``auth``, ``cors`` and ``cache``.

TOML shape::

    [auth]
    required = true
    [[auth.issuers]]
    iss = "https://ehr.example.org"
    jwks_url = "https://ehr.example.org/.well-known/jwks.json"   # or jwks = {...} or jwks_file
    allowed_jku = ["https://ehr.example.org/jwks"]
    fhir_servers = ["https://ehr.example.org/fhir"]
    tenant = "hospital-a"                                          # optional
    [cors]
    allowed_origins = ["https://sandbox.cds-hooks.org"]
    [cache]
    url = "redis://127.0.0.1:6379/0"
"""

from __future__ import annotations

from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .urls import is_loopback_host, is_secure_fetch_url, normalize_origin, normalize_url

# CDS Hooks 2.0 §Trusting CDS Clients: asymmetric only; `none` and HS* SHALL NOT be accepted.
Algorithm = Literal[
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"
]
ASYMMETRIC_ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
# JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_public_jwks(jwks: Any) -> None:
    """Raise ValueError unless ``jwks`` is a JWK Set of public, non-symmetric keys."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('a JWKS must be an object with a non-empty "keys" array')
    for key in jwks["keys"]:
        if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
            raise ValueError('every JWK needs a string "kid" (CDS Hooks: kid is required)')
        if key.get("kty") == "oct" or PRIVATE_JWK_MEMBERS & key.keys():
            raise ValueError(f"JWK {key['kid']!r} is private or symmetric; give public keys only")


class IssuerConfig(_Frozen):
    """One trusted CDS Client (``iss``) with its keys, jku list, FHIR servers and tenant."""

    iss: str = Field(min_length=1)
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_file: str | None = None
    allowed_jku: list[str] = []
    fhir_servers: list[str] = []
    tenant: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_key_source(self) -> IssuerConfig:
        given = [s for s in (self.jwks_url, self.jwks, self.jwks_file) if s is not None]
        if len(given) != 1:
            raise ValueError(f"issuer {self.iss!r}: give exactly one of jwks_url, jwks, jwks_file")
        return self

    @field_validator("jwks_url")
    @classmethod
    def _fetchable(cls, value: str | None) -> str | None:
        if value is not None and not is_secure_fetch_url(value):
            raise ValueError("jwks_url must be https (http only to a loopback host)")
        return value

    @field_validator("allowed_jku")
    @classmethod
    def _jku_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not is_secure_fetch_url(url):
                raise ValueError(f"allowed_jku entry {url!r} must be https (http only to loopback)")
        return value

    @field_validator("fhir_servers")
    @classmethod
    def _fhir_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if normalize_url(url) is None:
                raise ValueError(f"fhir_servers entry {url!r} is not an absolute http(s) base URL")
        return value

    @field_validator("jwks")
    @classmethod
    def _public_jwks(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            check_public_jwks(value)
        return value


class AuthConfig(_Frozen):
    """JWT verification policy (CDS Hooks 2.0 §Trusting CDS Clients)."""

    required: bool = False
    issuers: list[IssuerConfig] = []
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    max_token_lifetime_seconds: int = Field(default=3600, ge=1, le=86400)
    algorithms: list[Algorithm] = Field(default=list(ASYMMETRIC_ALGORITHMS), min_length=1)
    jwks_cache_seconds: int = Field(default=300, ge=1, le=86400)
    jwks_refresh_interval_seconds: int = Field(default=30, ge=1, le=3600)

    @model_validator(mode="after")
    def _coherent(self) -> AuthConfig:
        names = [issuer.iss for issuer in self.issuers]
        if len(names) != len(set(names)):
            raise ValueError("each iss may be configured once")
        if self.required and not self.issuers:
            raise ValueError("auth.required needs at least one [[auth.issuers]] entry")
        return self

    def issuer(self, iss: str) -> IssuerConfig | None:
        """The configured issuer with exactly this ``iss``, if any."""
        return next((issuer for issuer in self.issuers if issuer.iss == iss), None)


class CorsConfig(_Frozen):
    """Origins allowed to call from a browser (the sandbox is https://sandbox.cds-hooks.org).

    ``"*"`` is accepted only alone and only with ``auth.required`` (see
    ``check_cors_with_auth``): the token travels in the Authorization header, which browsers
    never attach on their own, so a wildcard exposes nothing a token holder could not do.
    Without auth it would let any web page drive the service from a user's browser.
    Plain-http origins are accepted only for loopback hosts (local sandbox).
    """

    allowed_origins: list[str] = []
    max_age_seconds: int = Field(default=600, ge=0, le=86400)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        if "*" in value:
            if len(value) != 1:
                raise ValueError('"*" must be the only allowed origin')
            return value
        normalized = []
        for origin in value:
            canonical = normalize_origin(origin)
            if canonical is None:
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
            if canonical.startswith("http://") and not is_loopback_host(
                urlsplit(canonical).hostname
            ):
                raise ValueError(f"{origin!r}: plain-http origins only for loopback hosts")
            normalized.append(canonical)
        return normalized

    @property
    def wildcard(self) -> bool:
        """True when any origin is allowed."""
        return self.allowed_origins == ["*"]


def check_cors_with_auth(cors: CorsConfig, auth: AuthConfig) -> None:
    """Raise ValueError for ``allowed_origins = ["*"]`` without ``auth.required``.

    Call from the Settings model validator (it sees both sections).
    """
    if cors.wildcard and not auth.required:
        raise ValueError('cors.allowed_origins = ["*"] requires auth.required = true')


class CacheConfig(_Frozen):
    """Shared state for several replicas (jti memory, JWKS cache); None: in-process."""

    url: str | None = None
    key_prefix: str = Field(default="cds:", min_length=1, max_length=64)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("cache.url must be a redis://, rediss:// or unix:// URL")
        return value
