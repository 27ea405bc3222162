"""The FHIR client's one deadline, enforced inside every read (cds_service/fhir/
deadline.py, issue 13 §3), against a real local server trickling bytes; and its refusal
of searches with too many entries or JSON nested too deep."""

from __future__ import annotations

import time

import pytest

from cds_service.fhir.client import ClientLimits, FhirClient, make_session
from cds_service.fhir.deadline import reaper
from cds_service.fhir.errors import FhirBadResponse, FhirBudgetExceeded
from tests.faulty_server import Trickle, faulty_server, send


def nested(levels: int) -> dict:
    value: dict = {"url": "http://x", "valueString": "v"}
    for _ in range(levels):
        value = {"url": "http://x", "extension": [value]}
    return value


def client(limits: ClientLimits | None = None) -> FhirClient:
    return FhirClient(make_session(2), limits or ClientLimits())


def test_a_trickling_fhir_read_ends_at_the_deadline_and_frees_its_thread() -> None:
    trickle = Trickle(interval=0.2, seconds=30.0)
    with faulty_server() as server:
        server.default = trickle
        cut_before = reaper.cut
        with pytest.raises(FhirBudgetExceeded):
            client().get(server.base, "Observation?patient=p", None, time.monotonic() + 0.8)
        assert reaper.cut > cut_before
        deadline = time.monotonic() + 10
        while trickle.open() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert trickle.open() == 0 and trickle.finished == 0


def test_the_fhir_client_refuses_too_many_entries_and_deep_json() -> None:
    with faulty_server() as server:
        server.behaviours["/fhir/Observation"] = lambda h, _: send(h, 200, {
            "resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": {"resourceType": "Observation", "id": str(i)}} for i in range(11)]})
        server.behaviours["/fhir/Condition"] = lambda h, _: send(h, 200, {
            "resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": {"resourceType": "Condition", "extension": [nested(40)]}}]})
        limited = client(ClientLimits(max_entries=10, max_depth=64))
        with pytest.raises(FhirBadResponse, match="max_bundle_entries"):
            limited.get(server.base, "Observation?patient=p", None, time.monotonic() + 5)
        with pytest.raises(FhirBadResponse, match="max_json_depth"):
            limited.get(server.base, "Condition?patient=p", None, time.monotonic() + 5)
