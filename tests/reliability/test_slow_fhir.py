"""Misbehaving FHIR servers against the live service (issue 13 §3, §7): one that
trickles bytes (in its headers or its body), one answering 404 to every search, one
nesting its JSON without end. Each is a real local server (tests/faulty_server.py).

No timing is asserted. What is checked: the answer (412, then 200 from a healthy server
on the same worker), and that the service hung up on every trickling connection itself
(its fetch threads were freed, not left reading). Elapsed times go to the figures printed
at the end of the run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cds_service.devtools import fixture_data as fx
from tests.faulty_server import FaultyServer, Trickle, faulty_server, send, serving
from tests.reliability.figures import FIGURES
from tests.reliability.live import LiveService, running

pytestmark = pytest.mark.integration
NAME, HOOK = "seed1-tmo-hip", "order-sign"
SERVICE = fx.service_for_hook(HOOK).id
BUDGET = 2.0
WAIT_S = 30.0  # an upper bound on any wait below (a hang fails the test, it is not timed)


def today():  # type: ignore[no-untyped-def]
    return datetime.now(UTC).date()  # the live service reads the wall clock


def rebased_resources() -> list[dict]:
    case = fx.load_manifest()[NAME]
    return fx.resources(fx.rebase_dates(fx.load_bundle(NAME), case.index_date, today()))


def fallback_body(base: str) -> dict:
    """The hook call with no prefetch: the service must read everything from `base`."""
    return fx.fixture_request(NAME, HOOK, today(), with_prefetch=False, fhir_server=base)


def config(tmp: Path, fhir_base: str, **service: object) -> dict:
    return {"store": {"url": f"sqlite:///{tmp / 'store.sqlite3'}"},
            "fhir": {"allowed_servers": [fhir_base], "budget_seconds": BUDGET},
            "service": {"read_timeout": 2.0, **service}}


def call(service: LiveService, body: dict) -> requests.Response:
    return requests.post(service.url(f"/cds-services/{SERVICE}"), json=body, timeout=WAIT_S)


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def fhir() -> Iterator[FaultyServer]:
    with faulty_server() as server:
        yield server


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_trickling_fhir_server_ends_the_call_at_the_budget(
        tmp_path: Path, fhir: FaultyServer, in_headers: bool) -> None:
    trickle = Trickle(interval=0.5, seconds=60.0, in_headers=in_headers)
    fhir.default = trickle
    with running(tmp_path / "svc", config(tmp_path, fhir.base), workers=1) as service:
        for attempt in range(2):  # two such calls once took every fetch thread of a worker
            started = time.monotonic()
            response = call(service, fallback_body(fhir.base))
            elapsed = time.monotonic() - started
            assert response.status_code == 412, response.text[:300]
            outcome = response.json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert "time budget" in json.dumps(outcome)
            FIGURES[f"trickling FHIR ({'headers' if in_headers else 'body'}) call {attempt + 1}: "
                    f"412 after (s, budget {BUDGET:g})"] = round(elapsed, 2)  # type: ignore[assignment]
        # The service hung up on every trickle itself: no fetch thread is left reading.
        assert trickle.started >= 8
        assert wait_for(lambda: trickle.open() == 0), (trickle.started, trickle.hung_up)
        assert trickle.finished == 0

        fhir.default = serving(rebased_resources())  # the same worker, a healthy server now
        for _ in range(3):
            response = call(service, fallback_body(fhir.base))
            assert response.status_code == 200, response.text[:300]
            assert response.json()["cards"]


def test_a_server_answering_404_to_every_search_gets_412(tmp_path: Path, fhir: FaultyServer) -> None:
    # no behaviours: every path answers 404 with an OperationOutcome
    with running(tmp_path / "svc", config(tmp_path, fhir.base), workers=1) as service:
        response = call(service, fallback_body(fhir.base))
    assert response.status_code == 412, response.text[:300]
    text = json.dumps(response.json())
    assert "did not answer the search" in text and "prefetch.labs" in text


def _deep(levels: int) -> dict:
    value: dict = {"url": "http://example.org/x", "valueString": "v"}
    for _ in range(levels):
        value = {"url": "http://example.org/x", "extension": [value]}
    return value


def test_a_fhir_server_nesting_without_end_gets_412(tmp_path: Path, fhir: FaultyServer) -> None:
    healthy = serving(rebased_resources())

    def deep_conditions(handler, hit):  # type: ignore[no-untyped-def]
        send(handler, 200, {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "Condition", "id": "deep",
                          "subject": {"reference": "Patient/x"}, "extension": [_deep(300)]}}]})

    fhir.default = healthy
    fhir.behaviours["/fhir/Condition"] = deep_conditions
    with running(tmp_path / "svc", config(tmp_path, fhir.base), workers=1) as service:
        response = call(service, fallback_body(fhir.base))
        assert response.status_code == 412, response.text[:300]
        assert "max_json_depth" in json.dumps(response.json())
        fhir.behaviours.clear()
        assert call(service, fallback_body(fhir.base)).status_code == 200
