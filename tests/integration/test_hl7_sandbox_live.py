"""examples/hl7-sandbox.toml on the real service (gunicorn), its pinned key swapped for one
of ours: a token signed as the sandbox signs it, for the URL the service listens on
(no public_base_url: taken from --host/--port), is accepted from the browser origin of
the sandbox, with no JWKS fetch; a jku off the list is refused."""

from __future__ import annotations

import time
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from cds_service.devtools.fixture_data import fixture_request
from tests.reliability.live import LiveService

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hl7-sandbox.toml"
ORIGIN = "https://sandbox.cds-hooks.org"
SIGN = "/cds-services/toh-core-decompression-sign"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def sandbox_service(tmp_path_factory, key):  # type: ignore[no-untyped-def]
    config = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    [issuer] = config["auth"]["issuers"]
    pinned = issuer["jwks"]["keys"][0]
    issuer["jwks"] = {"keys": [{**ECAlgorithm.to_jwk(key.public_key(), as_dict=True),
                                "kid": pinned["kid"], "use": "sig", "alg": "ES384"}]}
    workdir = tmp_path_factory.mktemp("hl7-sandbox")
    config["store"] = {"url": f"sqlite:///{workdir / 'store.sqlite3'}"}
    service = LiveService(workdir / "service", config, workers=1)
    del config["service"]  # LiveService sets public_base_url; the example leaves it to serve
    service.start()
    yield service, pinned["kid"], issuer["allowed_jku"][0]
    service.stop()


def sandbox_token(key, kid: str, jku: str, aud: str) -> str:  # type: ignore[no-untyped-def]
    now = int(time.time())
    claims = {"iss": ORIGIN, "aud": aud, "exp": now + 300, "iat": now + 1, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm="ES384",
                      headers={"alg": "ES384", "typ": "JWT", "kid": kid, "jku": jku})


def post(service: LiveService, token: str) -> requests.Response:
    body = fixture_request("seed1-tmo-hip", "order-sign", datetime.now(UTC).date())
    return requests.post(service.url(SIGN), json=body, timeout=30, headers={
        "Origin": ORIGIN, "Authorization": f"Bearer {token}"})


def test_the_sandbox_calls_the_service(sandbox_service, key) -> None:  # type: ignore[no-untyped-def]
    service, kid, jku = sandbox_service
    preflight = requests.options(service.url(SIGN), timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN

    # aud: the URL the sandbox calls, http://127.0.0.1:<port>/cds-services/<id>
    response = post(service, sandbox_token(key, kid, jku, service.url(SIGN)))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert [c["source"]["topic"]["code"] for c in response.json()["cards"]] == ["toh-suspected"]

    refused = post(service, sandbox_token(key, kid, "https://evil.example/jwks.json",
                                          service.url(SIGN)))
    assert refused.status_code == 401
    events = [e.get("event", "") for e in service.log_entries()]
    assert not [e for e in events if e.startswith("jwks")], events  # nothing was fetched
    checks = [e.get("check") for e in service.log_entries() if e.get("event") == "auth_refused"]
    assert checks == ["jku_not_allowed"]
