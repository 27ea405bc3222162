"""Fixtures for the security tests: keys, authenticators, a real local JWKS server and a
per-run Redis key prefix (cleaned up afterwards). Helpers live in security_support.py."""

from __future__ import annotations


import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from security_support import ISS, REDIS_URL, JwksServer, Signer

from tests.redis_support import unique_redis_prefix
from cds_service.security import AuthConfig, Authenticator, IssuerConfig, KeyResolver
from cds_service.security.replay import MemoryReplayGuard


@pytest.fixture(scope="session")
def es384() -> Signer:
    return Signer(ec.generate_private_key(ec.SECP384R1()), "ec-1", "ES384")


@pytest.fixture(scope="session")
def rs384() -> Signer:
    return Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa-1", "RS384")


@pytest.fixture(scope="session")
def stranger() -> Signer:
    """A key nobody trusts, published under the trusted kid: a forged signature."""
    return Signer(ec.generate_private_key(ec.SECP384R1()), "ec-1", "ES384")


@pytest.fixture
def auth_config(es384: Signer, rs384: Signer) -> AuthConfig:
    issuer = IssuerConfig(iss=ISS, jwks={"keys": [es384.jwk, rs384.jwk]},
                          fhir_servers=["https://fhir.example.org/r4/"])
    return AuthConfig(required=True, issuers=[issuer])


@pytest.fixture
def authenticator(auth_config: AuthConfig) -> Authenticator:
    return Authenticator(auth_config, MemoryReplayGuard(), KeyResolver(auth_config))


@pytest.fixture
def jwks_server():
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture
def redis_prefix():
    """A unique key prefix on the real Redis; every key under it is deleted afterwards."""
    with unique_redis_prefix(REDIS_URL, "cds-test") as prefix:
        yield prefix
