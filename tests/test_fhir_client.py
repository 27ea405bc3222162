"""FHIR client faults, each against a real misbehaving HTTP server on loopback:
every one ends in a FhirError subclass within the budget, never a hang."""

from __future__ import annotations

import time

import pytest

from cds_service.fhir.client import ClientLimits, FhirClient, make_session
from cds_service.fhir.errors import (
    FhirAccessDenied,
    FhirBadResponse,
    FhirBudgetExceeded,
    FhirNotFound,
    FhirUnavailable,
)
from cds_service.security.urls import same_base, url_allowed
from tests.faulty_server import faulty_server, send, sleeper

PATIENT = {"resourceType": "Patient", "id": "p1"}
BUDGET = 1.5


def client(**limits: float) -> FhirClient:
    return FhirClient(make_session(4), ClientLimits(**{"read_timeout": 1.0, "backoff_seconds": 0.05, **limits}))


def page(base: str, ids: list[str], next_url: str | None) -> dict:
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": {"resourceType": "Observation", "id": i}} for i in ids]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def get(fhir: FhirClient, base: str, query: str, budget: float = BUDGET) -> tuple[dict | Exception, float]:
    started = time.monotonic()
    try:
        result: dict | Exception = fhir.get(base, query, "secret-token", time.monotonic() + budget)
    except Exception as exc:  # noqa: BLE001 - the test inspects the type
        result = exc
    return result, time.monotonic() - started


def test_read_sends_bearer_token() -> None:
    with faulty_server() as server:
        server.behaviours["/fhir/Patient/p1"] = lambda h, _: send(h, 200, PATIENT)
        result, _ = get(client(), server.base, "Patient/p1")
        assert result == PATIENT
        assert server.auth_headers == ["Bearer secret-token"]


def test_paging_merges_pages() -> None:
    with faulty_server() as server:
        base = server.base
        server.behaviours["/fhir/Observation"] = lambda h, _: send(h, 200, page(base, ["a", "b"], f"{base}/p2"))
        server.behaviours["/fhir/p2"] = lambda h, _: send(h, 200, page(base, ["c"], f"{base}/p3"))
        server.behaviours["/fhir/p3"] = lambda h, _: send(h, 200, page(base, ["d"], None))
        result, _ = get(client(), base, "Observation?patient=p1")
        assert [e["resource"]["id"] for e in result["entry"]] == ["a", "b", "c", "d"]


def test_paging_cap_marks_subset() -> None:
    with faulty_server() as server:
        base = server.base
        server.behaviours["/fhir/Observation"] = lambda h, _: send(h, 200, page(base, ["a"], f"{base}/p2"))
        server.behaviours["/fhir/p2"] = lambda h, _: send(h, 200, page(base, ["b"], f"{base}/p3"))
        result, _ = get(client(page_cap=2), base, "Observation")
        assert len(result["entry"]) == 2 and result["meta"]["tag"][0]["code"] == "SUBSETTED"
        assert server.hits["/fhir/p3"] == 0


@pytest.mark.parametrize(
    ("behaviour", "error", "expected_hits"),
    [
        (lambda h, _: send(h, 401, {"resourceType": "OperationOutcome", "issue": []}), FhirAccessDenied, 1),
        (lambda h, _: send(h, 403, {"resourceType": "OperationOutcome", "issue": []}), FhirAccessDenied, 1),
        (lambda h, _: send(h, 404, {"resourceType": "OperationOutcome", "issue": []}), FhirNotFound, 1),
        (lambda h, _: send(h, 200, b"{not json"), FhirBadResponse, 1),
        (lambda h, _: send(h, 200, b"[1, 2]"), FhirBadResponse, 1),
        (lambda h, _: send(h, 200, {"resourceType": "OperationOutcome",
                                     "issue": [{"severity": "error", "code": "processing"}]}), FhirBadResponse, 1),
        (lambda h, _: send(h, 503, b"down"), FhirUnavailable, 3),
        (lambda h, _: send(h, 500, b"boom"), FhirUnavailable, 1),
        (lambda h, _: send(h, 200, b" " * 5000), FhirBadResponse, 1),  # over the size limit
        (lambda h, _: send(h, 302, b"", {"Location": "http://169.254.169.254/latest"}), FhirBadResponse, 1),
    ],
)
def test_faults_end_in_clear_errors(behaviour, error, expected_hits) -> None:  # type: ignore[no-untyped-def]
    with faulty_server() as server:
        server.behaviours["/fhir/Patient/p1"] = behaviour
        result, elapsed = get(client(max_response_bytes=4096), server.base, "Patient/p1")
        assert isinstance(result, error), result
        assert "secret-token" not in str(result)
        assert server.hits["/fhir/Patient/p1"] == expected_hits
        assert elapsed < BUDGET


def test_retry_after_honoured_then_success() -> None:
    with faulty_server() as server:
        server.behaviours["/fhir/Patient/p1"] = lambda h, hit: (
            send(h, 429, b"slow down", {"Retry-After": "0"}) if hit == 1 else send(h, 200, PATIENT))
        result, _ = get(client(), server.base, "Patient/p1")
        assert result == PATIENT and server.hits["/fhir/Patient/p1"] == 2


def test_retry_after_beyond_budget_gives_up_at_once() -> None:
    with faulty_server() as server:
        server.behaviours["/fhir/Patient/p1"] = lambda h, _: send(h, 503, b"", {"Retry-After": "30"})
        result, elapsed = get(client(), server.base, "Patient/p1")
        assert isinstance(result, FhirBudgetExceeded) and elapsed < 0.5


def test_slow_server_stops_at_the_budget() -> None:
    with faulty_server() as server:
        server.behaviours["/fhir/Patient/p1"] = sleeper(3)
        result, elapsed = get(client(read_timeout=10), server.base, "Patient/p1", budget=0.5)
        assert isinstance(result, (FhirBudgetExceeded, FhirUnavailable))
        assert elapsed < 1.0


@pytest.mark.parametrize("next_url", ["http://127.0.0.1:9/elsewhere", "https://evil.example/fhir/p2"])
def test_next_link_outside_base_refused(next_url: str) -> None:
    with faulty_server() as server:
        server.behaviours["/fhir/Observation"] = lambda h, _: send(h, 200, page(server.base, ["a"], next_url))
        result, _ = get(client(), server.base, "Observation")
        assert isinstance(result, FhirBadResponse) and "outside" in str(result)


def test_paging_loop_detected() -> None:
    with faulty_server() as server:
        base = server.base
        server.behaviours["/fhir/Observation"] = lambda h, _: send(h, 200, page(base, ["a"], f"{base}/p2"))
        server.behaviours["/fhir/p2"] = lambda h, _: send(h, 200, page(base, ["b"], f"{base}/p2"))
        result, _ = get(client(), base, "Observation")
        assert isinstance(result, FhirBadResponse) and "loop" in str(result)


def test_connection_refused() -> None:
    with faulty_server() as server:
        base = server.base
    result, _ = get(client(), base, "Patient/p1")
    assert isinstance(result, FhirUnavailable)


@pytest.mark.parametrize(
    ("url", "base", "inside"),
    [
        ("https://a/fhir/Patient?page=2", "https://a/fhir", True),
        ("https://a/fhirx/Patient", "https://a/fhir", False),
        ("http://a/fhir/Patient", "https://a/fhir", False),
        ("https://a:8443/fhir/x", "https://a/fhir", False),
        # a port left out is the scheme's default, as for the allowlist (url_allowed)
        ("https://a:443/fhir/Patient?page=2", "https://a/fhir", True),
        ("http://a/fhir/x", "http://a:80/fhir", True),
        ("https://a:80/fhir/x", "https://a/fhir", False),
        ("http://a:443/fhir/x", "https://a/fhir", False),
        ("https://user@a/fhir/x", "https://a/fhir", False),
    ],
)
def test_same_base(url: str, base: str, inside: bool) -> None:
    assert same_base(url, base) is inside


@pytest.mark.parametrize(
    ("written", "allowed", "agree"),
    [("https://a:443/fhir", "https://a/fhir", True), ("http://a/fhir", "http://a:80/fhir", True),
     ("https://a:80/fhir", "https://a/fhir", False), ("http://a:443/fhir", "http://a/fhir", False)],
)
def test_same_base_and_allowlist_agree_on_default_ports(written: str, allowed: str, agree: bool) -> None:
    assert url_allowed(written, [allowed]) is agree
    assert same_base(f"{written}/Patient", allowed) is agree
