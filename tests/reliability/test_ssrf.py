"""SSRF through fhirServer (CDS Hooks 2.0 §Security): a fhirServer off the allowlist
(the deployment's, and the token issuer's) gets 403 with an OperationOutcome and no
connection is ever made; a redirect from an allowed server to another port is not
followed. Loopback listeners record every connection."""

from __future__ import annotations

import secrets

import pytest
import requests

from cds_service.devtools.fixture_data import fixture_request
from tests.reliability.conftest import REDIS_URL
from tests.reliability.listeners import RecordingServer, recording_server
from tests.reliability.live import LiveService, running
from tests.reliability.tokens import Keys, signed

pytestmark = pytest.mark.integration
SIGN = "/cds-services/toh-core-decompression-sign"
ACCESS_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def world(tmp_path_factory, keys: Keys, redis_prefix: str):  # type: ignore[no-untyped-def]
    """trap: on no list; global_only: on the deployment's list, not the issuer's;
    allowed: on both, answering every GET with a redirect to the trap."""
    workdir = tmp_path_factory.mktemp("ssrf")
    with recording_server() as trap, recording_server() as global_only, recording_server(
        302, {"Location": f"http://127.0.0.1:{trap.port}/fhir/Patient"}
    ) as allowed:
        config = {"store": {"url": f"sqlite:///{workdir / 'store.sqlite3'}"},
                  "fhir": {"allowed_servers": [allowed.base, global_only.base],
                           "budget_seconds": 2},
                  "auth": {"required": True, "issuers": [keys.issuer([allowed.base])]},
                  "cache": {"url": REDIS_URL, "key_prefix": redis_prefix + "ssrf:"}}
        with running(workdir / "service", config) as service:
            yield service, trap, global_only, allowed


def call(service: LiveService, keys: Keys, fhir_server: str) -> requests.Response:
    """order-sign without prefetch: the service would have to fetch from fhirServer."""
    body = fixture_request("crp-mgdl", "order-sign", with_prefetch=False, fhir_server=fhir_server)
    body["fhirAuthorization"] = {"access_token": ACCESS_TOKEN, "token_type": "Bearer",
                                 "expires_in": 300, "scope": "patient/*.read", "subject": "cds"}
    headers = {"Authorization": f"Bearer {signed(keys.es384, service.aud(SIGN))}"}
    return requests.post(service.url(SIGN), json=body, headers=headers, timeout=30)


def assert_forbidden(response: requests.Response, *silent: RecordingServer) -> None:
    assert response.status_code == 403, response.text[:300]
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issues = [(i["code"], i.get("expression")) for i in outcome["issue"]]
    assert issues == [("forbidden", ["fhirServer"])]
    assert ACCESS_TOKEN not in response.text
    assert [s.connections for s in silent] == [0] * len(silent)


@pytest.mark.parametrize(
    "target",
    [
        "https://fhir.evil.example/r4",
        "http://127.0.0.1:{trap}/fhir",
        "http://127.0.0.1:{trap}/",
        "http://localhost:{trap}/fhir",
        "http://127.0.0.2:{trap}/fhir",
        "http://[::1]:{trap}/fhir",
        "http://127.0.0.1:{allowed}@127.0.0.1:{trap}/fhir",
        "http://127.0.0.1:{trap}/fhir?next=http://127.0.0.1:{allowed}/fhir",
        "http://127.0.0.1:{allowed}/fhir/../../admin",
        "http://127.0.0.1:{allowed}/fhir2",
        "https://127.0.0.1:{allowed}/fhir",
    ],
)
def test_fhir_server_off_the_allowlist(world, keys: Keys, target: str) -> None:
    service, trap, global_only, allowed = world
    before = allowed.connections
    response = call(service, keys, target.format(trap=trap.port, allowed=allowed.port))
    assert_forbidden(response, trap, global_only)
    assert allowed.connections == before


def test_global_list_is_not_enough_with_auth(world, keys: Keys) -> None:
    """On the deployment's list but not on the token issuer's fhir_servers: refused."""
    service, trap, global_only, _ = world
    assert_forbidden(call(service, keys, global_only.base), trap, global_only)


def test_allowed_server_called_its_redirect_not_followed(world, keys: Keys) -> None:
    """The control: the allowed listener is reached (so the probes above can see
    connections); its 302 to the trap port ends in a 412, the trap stays silent."""
    service, trap, global_only, allowed = world
    response = call(service, keys, allowed.base)
    assert response.status_code == 412, response.text[:300]
    assert response.json()["resourceType"] == "OperationOutcome"
    assert allowed.connections >= 1 and allowed.paths
    assert all(p.startswith("/fhir/") for p in allowed.paths)
    assert trap.connections == 0 and global_only.connections == 0
    assert ACCESS_TOKEN not in response.text
