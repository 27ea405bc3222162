"""Hostile input against the live service, on SQLite and on PostgreSQL (issue 13 §1, §5,
§6): each case once gave a 500, wrote client text to the log, or stored half a feedback
batch. Every answer here must be a 4xx with an OperationOutcome naming what was wrong
(and, for a limit, the setting), nothing partial stored, and the log free of the
client's strings. The same cases run in the fuzz suite (test_fuzz.py)."""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from pathlib import Path

import pytest
import requests

from tests.reliability.hostile import (
    BAD_CHARSETS,
    BAD_FEEDBACK,
    CHUNK_SIZE_ZZ,
    HOOK_CASES,
    SIGN,
    hook_body,
    overridden,
    report_with_charset,
)
from tests.reliability.conftest import throwaway_database
from tests.reliability.live import LiveService, running
from tests.reliability.tokens import Keys

pytestmark = pytest.mark.integration


def assert_outcome(response: requests.Response, status: int, phrase: str = "") -> None:
    assert response.status_code == status, (response.status_code, response.text[:400])
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"]
    assert phrase in json.dumps(outcome), outcome


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One live service per store for the module (its cases do not interfere)."""
    workdir = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{workdir / 'store.sqlite3'}"
        else:
            url = stack.enter_context(throwaway_database())
        yield stack.enter_context(running(workdir / "svc", {"store": {"url": url}}, workers=1))


def issue_cards(service: LiveService, n: int) -> list[str]:
    cards = []
    for _ in range(n):
        response = requests.post(service.url(SIGN), json=hook_body("crp-mgdl"), timeout=30)
        assert response.status_code == 200
        cards.append(response.json()["cards"][0]["uuid"])
    return cards


def feedback(service: LiveService, items: list[dict]) -> requests.Response:
    return requests.post(service.url(SIGN + "/feedback"), json={"feedback": items}, timeout=30)


def test_hostile_hook_calls_get_4xx(service: LiveService) -> None:
    for case, build, status, phrase in HOOK_CASES:
        response = requests.post(service.url(SIGN), json=build(), timeout=30)
        assert_outcome(response, status, phrase), case
    assert "unhandled_error" not in service.log()


def test_bad_feedback_values_get_400_and_store_nothing(service: LiveService) -> None:
    (card,) = issue_cards(service, 1)
    for case, change in BAD_FEEDBACK:
        response = feedback(service, [overridden(card, change)])
        assert_outcome(response, 400), case
    good = feedback(service, [overridden(card)])
    assert good.status_code == 200 and good.json() == {"received": 1, "stored": 1}
    assert "unhandled_error" not in service.log()


def test_a_feedback_batch_is_all_or_nothing(service: LiveService) -> None:
    cards = issue_cards(service, 5)
    batch = [overridden(c, stamp=f"2026-11-21T10:0{i}:00Z") for i, c in enumerate(cards)]
    bad = [*batch[:2], overridden(cards[2], {"reason": {"code": "x" * 129}}), *batch[3:]]
    assert_outcome(feedback(service, bad), 400, "feedback.2")
    # nothing of it was stored: the corrected batch stores all five, its retry none
    assert feedback(service, batch).json() == {"received": 5, "stored": 5}
    assert feedback(service, batch).json() == {"received": 5, "stored": 0}
    # a batch whose third entry names an unknown card: refused whole, too
    unknown = [overridden(c, stamp="2026-11-22T10:00:00Z") for c in cards]
    unknown[2]["card"] = str(uuid.uuid4())
    assert_outcome(feedback(service, unknown), 400, "feedback[2].card")
    unknown[2]["card"] = cards[2]
    assert feedback(service, unknown).json() == {"received": 5, "stored": 5}


def raw_exchange(service: LiveService, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def test_a_malformed_chunk_size_gets_400(service: LiveService) -> None:
    answer = raw_exchange(service, CHUNK_SIZE_ZZ)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert json.loads(body)["resourceType"] == "OperationOutcome"
    assert "unhandled_error" not in service.log()


def test_report_charsets_that_cannot_decode_give_no_500(service: LiveService) -> None:
    for charset in BAD_CHARSETS:
        response = requests.post(service.url(SIGN), json=report_with_charset(charset), timeout=30)
        assert response.status_code < 500, (charset, response.text[:300])


def test_client_strings_stay_out_of_the_log(tmp_path: Path) -> None:
    """Invalid resources: ids logged only when valid FHIR ids (else hashed), in one line
    per request with a count; a 4 MB id makes no 4 MB line; gunicorn's invalid request
    line is not written out."""
    secret = "Jane Q Sample 1970-03-04"
    body = hook_body()
    invalid = [{"resource": {"resourceType": "Condition", "id": f"{secret} {i}", "code": 7}}
               for i in range(2000)]
    invalid.append({"resource": {"resourceType": "Condition", "id": "x" * 4_000_000, "code": 7}})
    invalid.append({"resource": {"resourceType": "Condition", "id": "valid-id.7", "code": 7}})
    body["prefetch"]["conditions"]["entry"] = invalid
    with running(tmp_path / "svc", {"store": {"url": f"sqlite:///{tmp_path / 's.sqlite3'}"}},
                 workers=1) as service:
        for _ in range(2):  # the second time from the record cache: summarised again
            assert requests.post(service.url(SIGN), json=body, timeout=60).status_code == 200
        raw_exchange(service, f"GET /{secret} HTTP/1.1 garbage\r\nHost: x\r\n\r\n".encode())
        log = service.log()
        entries = service.log_entries()
    assert secret not in log and "Jane" not in log
    assert max(len(line) for line in log.splitlines()) < 2000
    summaries = [e for e in entries if e.get("event") == "fhir_resource_invalid"]
    assert len(summaries) == 2 and all(e["count"] == 2002 for e in summaries)
    assert all(len(e["resources"]) == 5 for e in summaries)
    assert all(r.startswith("Condition/#") for e in summaries for r in e["resources"])
    assert any(e.get("event") == "invalid_request" for e in entries)


def test_auth_refused_logs_the_route_not_the_path(tmp_path: Path, keys: Keys) -> None:
    secret = "Jane-Q-Sample-1970-03-04"
    config = {"store": {"url": f"sqlite:///{tmp_path / 's.sqlite3'}"},
              "auth": {"required": True, "issuers": [keys.issuer([])]}}
    with running(tmp_path / "svc", config, workers=1) as service:
        response = requests.post(service.url(f"/cds-services/{secret}"), json={},
                                 headers={"Authorization": "Bearer not-a-token"}, timeout=30)
        assert response.status_code == 401
        entries = service.log_entries()
        log = service.log()
    refused = [e for e in entries if e.get("event") == "auth_refused"]
    assert refused and refused[0]["path"] == "/cds-services/<service_id>"
    assert secret not in log
