"""The trigger check comes before any costly work (issue 16 §5): an order-sign or
order-select whose orders are not the procedure answers no cards without parsing
a prefetched resource into a model, reading a report or asking the FHIR server, however
large or invalid the prefetch. The request envelope is still checked first: a malformed
call is a 400 with an OperationOutcome whatever its orders (docs/limits.md, "What a call
that is not a trigger costs")."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds_service import pipeline as pipeline_module
from cds_service.clinical import text_reader
from cds_service.devtools import fixture_data as fx

NAME = "seed1-tmo-hip"
TODAY = fx.load_manifest()[NAME].index_date
NOT_THE_PROCEDURE = {"resourceType": "ServiceRequest", "id": "preop-labs", "status": "draft",
                     "intent": "order", "code": {"text": "Pre-operative CBC"}}


def not_a_trigger(hook: str) -> dict[str, Any]:
    """The fixture's call with the decompression order swapped for pre-operative labs,
    and a prefetch no FHIR model would accept (every Observation's status a number)."""
    request = fx.fixture_request(NAME, hook, TODAY)
    request["context"]["draftOrders"]["entry"] = [{"resource": NOT_THE_PROCEDURE}]
    if hook == "order-select":
        request["context"]["selections"] = ["ServiceRequest/preop-labs"]
    for value in request["prefetch"].values():
        for entry in (value or {}).get("entry", []):
            if entry["resource"]["resourceType"] == "Observation":
                entry["resource"]["status"] = 12345
    return request


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Calls of the costly stages: parsing the record, fetching, reading text."""
    calls = {"record": 0, "fetch": 0, "read": 0}

    def counting(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pipeline_module, "cached_record",
                        counting("record", pipeline_module.cached_record))
    monkeypatch.setattr(pipeline_module, "resolve_prefetch",
                        counting("fetch", pipeline_module.resolve_prefetch))
    monkeypatch.setattr(text_reader.TextReader, "read",
                        counting("read", text_reader.TextReader.read))
    return calls


@pytest.mark.parametrize("hook", ["order-sign", "order-select"])
def test_no_trigger_answers_without_parsing_the_prefetch(client, counted, hook) -> None:  # type: ignore[no-untyped-def]
    request = not_a_trigger(hook)
    response = client.post(f"/cds-services/{fx.service_for_hook(hook).id}", json=request)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cards"] == []
    assert counted == {"record": 0, "fetch": 0, "read": 0}


def test_the_same_prefetch_is_parsed_for_a_trigger(client, counted) -> None:  # type: ignore[no-untyped-def]
    """The counters do count: with the decompression order, the prefetch is parsed."""
    request = fx.fixture_request(NAME, "order-sign", TODAY)
    response = client.post(f"/cds-services/{fx.service_for_hook('order-sign').id}",
                           json=request)
    assert response.status_code == 200
    assert counted["record"] == 1 and counted["read"] > 0


@pytest.mark.parametrize("break_it", [
    lambda r: r.pop("hookInstance"),
    lambda r: r.update(hookInstance="not-a-uuid"),
    lambda r: r["context"].pop("patientId"),
    lambda r: r["context"]["draftOrders"].update(resourceType="List"),
    lambda r: r["prefetch"].update(labs=["not", "a", "resource"]),
    lambda r: r.update(fhirServer="ftp://ehr.example.org"),
])
def test_a_malformed_envelope_is_refused_whatever_the_orders(client, counted, break_it) -> None:  # type: ignore[no-untyped-def]
    request = copy.deepcopy(not_a_trigger("order-sign"))
    break_it(request)
    response = client.post(f"/cds-services/{fx.service_for_hook('order-sign').id}",
                           json=request)
    assert response.status_code == 400
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert counted == {"record": 0, "fetch": 0, "read": 0}
