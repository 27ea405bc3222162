"""JWT authentication over HTTP against the running service (gunicorn, 2 workers):
every forged token gets 401 with a body that says nothing about the failed check (the
log says which), valid ES384 and RS384 tokens get cards; jti replay is refused, also
across two service processes sharing Redis."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests

from cds_service.devtools.fixture_data import fixture_request
from cds_service.security.errors import AUTH_CHECKS
from tests.reliability.conftest import REDIS_URL
from tests.reliability.figures import count
from tests.reliability.live import LiveService, running, start_refused
from tests.reliability.tokens import FORGERIES, Keys, signed

pytestmark = pytest.mark.integration
SIGN = "/cds-services/toh-core-decompression-sign"
REFUSED = {"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": "login", "diagnostics": "authentication failed"}]}
TELLTALES = sorted(AUTH_CHECKS | {"expired", "signature", "audience", "issuer", "kid", "jti", "jku",
                                  "alg", "HS256", "none", "replay", "future"})


@pytest.fixture(scope="module")
def secured(tmp_path_factory, keys: Keys, redis_prefix: str):  # type: ignore[no-untyped-def]
    """Two workers sharing their jti memory through Redis."""
    workdir = tmp_path_factory.mktemp("auth")
    config = {"store": {"url": f"sqlite:///{workdir / 'store.sqlite3'}"},
              "auth": {"required": True, "issuers": [keys.issuer([])]},
              "cache": {"url": REDIS_URL, "key_prefix": redis_prefix + "secured:"}}
    with running(workdir / "service", config) as service:
        yield service


def post(service: LiveService, token: str | None, path: str = SIGN, body: dict | None = None,
         request_id: str | None = None) -> requests.Response:
    headers = {"X-Request-Id": request_id or uuid.uuid4().hex}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    # the live service reads the wall clock: dates moved to its today, at call time
    today = datetime.now(UTC).date()
    body = body if body is not None else fixture_request("crp-mgdl", "order-sign", today)
    return requests.post(service.url(path), json=body, headers=headers, timeout=30)


def logged_check(service: LiveService, request_id: str) -> str | None:
    """The `check` of the auth_refused log line for this request (waits briefly)."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for entry in service.log_entries():
            if entry.get("request_id") == request_id and entry.get("event") == "auth_refused":
                return entry.get("check")
        time.sleep(0.05)
    return None


def assert_refused(service: LiveService, response: requests.Response, check: str) -> None:
    assert response.status_code == 401, response.text[:300]
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == REFUSED  # the same body whatever failed
    leaked = [word for word in TELLTALES if re.search(rf"\b{word}\b", response.text, re.I)]
    assert not leaked, f"401 body tells the caller {leaked}"
    assert logged_check(service, response.headers["X-Request-Id"]) == check
    count("tokens refused")


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_token_refused(secured: LiveService, keys: Keys, name: str) -> None:
    make, check = FORGERIES[name]
    token = make(keys, secured.aud(SIGN))
    assert_refused(secured, post(secured, token), check)


@pytest.mark.parametrize("signer", ["es384", "rs384"])
def test_valid_token_accepted_once(secured: LiveService, keys: Keys, signer: str) -> None:
    token = signed(getattr(keys, signer), secured.aud(SIGN))
    first = post(secured, token)
    assert first.status_code == 200, first.text[:300]
    assert [c["source"]["topic"]["code"] for c in first.json()["cards"]] == ["toh-suspected"]
    # the same jti again, whichever worker answers: refused
    assert_refused(secured, post(secured, token), "replayed_jti")


def test_feedback_needs_a_token(secured: LiveService, keys: Keys) -> None:
    feedback = SIGN + "/feedback"
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "overridden",
                          "outcomeTimestamp": "2026-11-21T10:00:00Z"}]}
    assert_refused(secured, post(secured, None, feedback, body), "missing_token")
    # a token for the invoke URL is accepted on its feedback URL (aud: the service's endpoint)
    accepted = post(secured, signed(keys.es384, secured.aud(SIGN)), feedback, body)
    assert accepted.status_code == 400 and "was not issued by this service" in accepted.text


def test_replay_refused_across_replicas_sharing_redis(tmp_path, keys: Keys,
                                                      redis_prefix: str) -> None:
    """Two processes behind one public URL, one Redis: a token used on A is refused on B."""
    public = "https://cds.reliability.example"

    def config(name: str) -> dict:
        return {"service": {"public_base_url": public},
                "store": {"url": f"sqlite:///{tmp_path / name}.sqlite3"},
                "auth": {"required": True, "issuers": [keys.issuer([])]},
                "cache": {"url": REDIS_URL, "key_prefix": redis_prefix + "replicas:"}}

    with running(tmp_path / "a", config("a")) as a, running(tmp_path / "b", config("b")) as b:
        aud = public + SIGN
        used_on_a, used_on_b = signed(keys.es384, aud), signed(keys.rs384, aud)
        assert post(a, used_on_a).status_code == 200
        assert post(b, used_on_b).status_code == 200  # B accepts this audience
        assert_refused(b, post(b, used_on_a), "replayed_jti")
        assert_refused(a, post(a, used_on_b), "replayed_jti")


def test_unshared_replay_memory_needs_one_worker(tmp_path, keys: Keys) -> None:
    """Without [cache] url the jti memory is per process: two workers are refused at start,
    one worker remembers every jti it accepted."""
    config = {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"},
              "auth": {"required": True, "issuers": [keys.issuer([])]}}
    code, stderr = start_refused(tmp_path / "two", config, workers=2)
    assert code == 2 and "[cache] url" in stderr
    with running(tmp_path / "one", config, workers=1) as service:
        token = signed(keys.es384, service.aud(SIGN))
        assert post(service, token).status_code == 200
        assert_refused(service, post(service, token), "replayed_jti")
