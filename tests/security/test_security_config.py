"""Security settings validation: issuers, algorithms, bounds, CORS origins, cache URL."""

from __future__ import annotations

import json

import pytest
from security_support import ISS
from pydantic import ValidationError

from cds_service.security import (
    AuthConfig,
    CacheConfig,
    CorsConfig,
    IssuerConfig,
    KeyResolver,
    check_cors_with_auth,
)

JWKS_URL = "https://ehr.example.org/jwks"


def test_issuer_needs_exactly_one_key_source(es384):
    with pytest.raises(ValidationError, match="exactly one"):
        IssuerConfig(iss=ISS)
    with pytest.raises(ValidationError, match="exactly one"):
        IssuerConfig(iss=ISS, jwks_url=JWKS_URL, jwks={"keys": [es384.jwk]})
    assert IssuerConfig(iss=ISS, jwks_file="/etc/jwks.json").jwks_file == "/etc/jwks.json"


@pytest.mark.parametrize(
    "fields",
    [
        {"jwks_url": "http://ehr.example.org/jwks"},
        {"jwks_url": "ftp://ehr.example.org/jwks"},
        {"jwks_url": JWKS_URL, "allowed_jku": ["http://evil.example/jwks"]},
        {"jwks_url": JWKS_URL, "fhir_servers": ["not a url"]},
        {"jwks_url": JWKS_URL, "fhir_servers": ["https://user:pw@fhir.example.org"]},
        {"jwks_url": JWKS_URL, "tenant": ""},
        {"jwks_url": JWKS_URL, "unknown": 1},
        {"jwks": {"keys": []}},
        {"jwks": {"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}},
    ],
    ids=["http-jwks", "ftp-jwks", "http-jku", "bad-fhir", "userinfo-fhir", "empty-tenant",
         "extra-field", "empty-jwks", "symmetric-jwk"],
)
def test_issuer_refuses(fields):
    with pytest.raises(ValidationError):
        IssuerConfig(iss=ISS, **fields)


def test_private_jwk_in_config_refused(es384):
    with pytest.raises(ValidationError, match="private"):
        IssuerConfig(iss=ISS, jwks={"keys": [{**es384.jwk, "d": "AAAA"}]})


def test_loopback_http_allowed_for_testing():
    issuer = IssuerConfig(iss=ISS, jwks_url="http://127.0.0.1:8080/jwks",
                          allowed_jku=["http://localhost:9/jwks"])
    assert issuer.jwks_url.startswith("http://127.0.0.1")


@pytest.mark.parametrize(
    "fields",
    [
        {"algorithms": ["HS256"]},
        {"algorithms": ["none"]},
        {"algorithms": []},
        {"clock_skew_seconds": 301},
        {"clock_skew_seconds": -1},
        {"max_token_lifetime_seconds": 0},
        {"required": True},
    ],
    ids=["hs256", "none", "no-alg", "skew-too-big", "negative-skew", "zero-lifetime",
         "required-without-issuers"],
)
def test_auth_refuses(fields):
    with pytest.raises(ValidationError):
        AuthConfig(**fields)


def test_duplicate_issuer_refused(es384):
    issuer = IssuerConfig(iss=ISS, jwks={"keys": [es384.jwk]})
    with pytest.raises(ValidationError, match="once"):
        AuthConfig(issuers=[issuer, issuer])


def test_auth_defaults_are_asymmetric_and_frozen():
    config = AuthConfig()
    assert not config.required and config.clock_skew_seconds == 60
    assert set(config.algorithms) == {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512",
                                      "PS256", "PS384", "PS512", "EdDSA"}
    with pytest.raises(ValidationError):
        config.required = True


def test_auth_from_toml_shaped_dict(es384):
    config = AuthConfig.model_validate({
        "required": True,
        "issuers": [{"iss": ISS, "jwks": {"keys": [es384.jwk]}, "tenant": "a",
                     "fhir_servers": ["https://fhir.example.org/r4"]}],
    })
    assert config.issuer(ISS).tenant == "a" and config.issuer("other") is None


def test_bad_jwks_file_fails_at_startup(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "EC", "kid": "x", "crv": "P-384"}]}))
    config = AuthConfig(issuers=[IssuerConfig(iss=ISS, jwks_file=str(path))])
    with pytest.raises(ValueError, match="not a valid key"):
        KeyResolver(config)
    missing = AuthConfig(issuers=[IssuerConfig(iss=ISS, jwks_file=str(tmp_path / "none"))])
    with pytest.raises(ValueError, match="jwks_file"):
        KeyResolver(missing)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (["https://sandbox.cds-hooks.org"], ["https://sandbox.cds-hooks.org"]),
        (["HTTPS://Sandbox.CDS-Hooks.org:443"], ["https://sandbox.cds-hooks.org"]),
        (["http://localhost:8080"], ["http://localhost:8080"]),
        (["*"], ["*"]),
    ],
)
def test_cors_origins_normalised(given, stored):
    assert CorsConfig(allowed_origins=given).allowed_origins == stored


@pytest.mark.parametrize(
    "origins",
    [["https://sandbox.cds-hooks.org/"], ["https://a.example/path"], ["http://sandbox.example"],
     ["*", "https://a.example"], ["null"], ["sandbox.cds-hooks.org"]],
)
def test_cors_origins_refused(origins):
    with pytest.raises(ValidationError):
        CorsConfig(allowed_origins=origins)


def test_cors_wildcard_only_with_required_auth(es384):
    wildcard = CorsConfig(allowed_origins=["*"])
    with pytest.raises(ValueError, match="auth.required"):
        check_cors_with_auth(wildcard, AuthConfig())
    issuer = IssuerConfig(iss=ISS, jwks={"keys": [es384.jwk]})
    required = AuthConfig(required=True, issuers=[issuer])
    check_cors_with_auth(wildcard, required)
    check_cors_with_auth(CorsConfig(allowed_origins=["https://a.example"]), AuthConfig())


def test_cache_url_scheme():
    assert CacheConfig().url is None
    assert CacheConfig(url="redis://127.0.0.1:6379/0").key_prefix == "cds:"
    with pytest.raises(ValidationError):
        CacheConfig(url="http://127.0.0.1:6379")
