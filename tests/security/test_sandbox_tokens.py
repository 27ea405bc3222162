"""Tokens as the HL7 CDS Hooks sandbox signs them (ES384, `jku` naming its key set, `iat`
a second ahead): with the set pinned in config (`jwks` or `jwks_file`) and the `jku` on
the issuer's list they are accepted without any fetch; a `jku` off the list is refused;
a `kid` the pinned set lacks is fetched from the listed `jku` only."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from security_support import JwksServer, Signer, bearer

from cds_service.config import load_settings
from cds_service.security import AuthConfig, Authenticator, AuthError, IssuerConfig, KeyResolver
from cds_service.security.replay import MemoryReplayGuard

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"  # the kid the sandbox sends
AUD = "http://127.0.0.1:8080/cds-services/toh-core-decompression-select"
NOW = 1_795_000_000
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hl7-sandbox.toml"


def sandbox_token(signer: Signer, now: int, jku: str = SANDBOX_JKU, kid: str | None = None) -> str:
    """Header and claims as the sandbox's jwt-generator builds them, iat one second ahead."""
    claims = {"iss": SANDBOX_ISS, "aud": AUD, "exp": now + 300, "iat": now + 1,
              "jti": str(uuid.uuid4())}
    headers = {"alg": "ES384", "typ": "JWT", "kid": kid or signer.kid, "jku": jku}
    return jwt.encode(claims, signer.private_key, algorithm="ES384", headers=headers)


@pytest.fixture(scope="module")
def sandbox_key() -> Signer:
    """A key of ours in the sandbox's place (its real private key is public: not reused)."""
    return Signer(ec.generate_private_key(ec.SECP384R1()), SANDBOX_KID, "ES384")


class Fetches(list):
    """A JWKS fetcher that records each URL asked for."""

    def __call__(self, url: str) -> dict:
        self.append(url)
        return {"keys": []}


def authenticator(issuer: IssuerConfig, fetcher=None) -> Authenticator:  # type: ignore[no-untyped-def]
    config = AuthConfig(required=True, issuers=[issuer])
    return Authenticator(config, MemoryReplayGuard(clock=lambda: NOW),
                         KeyResolver(config, fetcher=fetcher))


@pytest.fixture(params=["jwks", "jwks_file"])
def pinned(request, sandbox_key: Signer, tmp_path: Path) -> IssuerConfig:  # type: ignore[no-untyped-def]
    jwks = {"keys": [{**sandbox_key.jwk, "use": "sig", "alg": "ES384"}]}
    if request.param == "jwks":
        return IssuerConfig(iss=SANDBOX_ISS, jwks=jwks, allowed_jku=[SANDBOX_JKU])
    path = tmp_path / "sandbox-jwks.json"
    path.write_text(json.dumps(jwks), encoding="utf-8")
    return IssuerConfig(iss=SANDBOX_ISS, jwks_file=str(path), allowed_jku=[SANDBOX_JKU])


def test_sandbox_token_accepted_from_the_pinned_set_without_a_fetch(
        pinned: IssuerConfig, sandbox_key: Signer) -> None:
    fetches = Fetches()
    auth = authenticator(pinned, fetches)
    principal = auth.verify(bearer(sandbox_token(sandbox_key, NOW)), AUD, now=NOW)
    assert principal.iss == SANDBOX_ISS
    # and on the wall clock, PyJWT's own checks included (iat a second ahead is fine)
    wall = int(time.time())
    assert auth.verify(bearer(sandbox_token(sandbox_key, wall)), AUD).iss == SANDBOX_ISS
    assert fetches == []


def test_unlisted_jku_refused_without_a_fetch(pinned: IssuerConfig, sandbox_key: Signer) -> None:
    fetches = Fetches()
    token = sandbox_token(sandbox_key, NOW, jku="https://evil.example/.well-known/jwks.json")
    with pytest.raises(AuthError) as caught:
        authenticator(pinned, fetches).verify(bearer(token), AUD, now=NOW)
    assert caught.value.check == "jku_not_allowed"
    assert fetches == []


def test_a_kid_the_pinned_set_lacks_is_fetched_from_the_listed_jku(
        jwks_server: JwksServer, sandbox_key: Signer) -> None:
    rotated = Signer(ec.generate_private_key(ec.SECP384R1()), "rotated-1", "ES384")
    jku = jwks_server.serve_jwks("/.well-known/jwks.json", sandbox_key.jwk, rotated.jwk)
    issuer = IssuerConfig(iss=SANDBOX_ISS, jwks={"keys": [sandbox_key.jwk]}, allowed_jku=[jku])
    auth = authenticator(issuer)  # the real HTTP fetcher, against the local server
    assert auth.verify(bearer(sandbox_token(sandbox_key, NOW, jku=jku)), AUD, now=NOW)
    assert jwks_server.hits == {}  # pinned kid: no fetch
    assert auth.verify(bearer(sandbox_token(rotated, NOW, jku=jku)), AUD, now=NOW)
    assert jwks_server.hits == {"/.well-known/jwks.json": 1}


def test_the_example_config_pins_the_sandbox_key() -> None:
    settings = load_settings(EXAMPLE)
    issuer = settings.auth.issuer(SANDBOX_ISS)
    assert issuer is not None and issuer.jwks is not None
    assert issuer.allowed_jku == [SANDBOX_JKU]
    [key] = issuer.jwks["keys"]
    assert (key["kid"], key["kty"], key["crv"], key["alg"]) == (SANDBOX_KID, "EC", "P-384", "ES384")
    assert KeyResolver(settings.auth).key_for(issuer, SANDBOX_KID, SANDBOX_JKU).algorithms == {
        "ES384"}  # a valid P-384 point, found without a fetch
    assert settings.cors.allowed_origins == [SANDBOX_ISS]
    assert set(issuer.fhir_servers) <= set(settings.fhir.allowed_servers)
    assert settings.service.extra_triggers == ()  # the imaging trigger list stays off
    assert "public_base_url" not in settings.service.model_fields_set  # from serve's --port
