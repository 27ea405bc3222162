"""The bounds on one request's work (cds_service/limits.py, issue 13), in process: nesting,
resources per Bundle and per request, draft orders, the order text read, the request
deadline, compute slots, and the labels that reach the log. The live-service versions
are in tests/reliability/test_hostile_inputs.py."""

from __future__ import annotations


import pytest

from cds_service.devtools import fixture_data as fx
from cds_service.app import create_app
from cds_service.limits import nesting_exceeds
from cds_service.prefetch.fetch import is_read
from cds_service.redact import resource_label, safe_id
from cds_service.services.triggers import MAX_ORDER_TEXT, order_text
from tests.clock import TODAY, fixed_clock
from tests.conftest import make_settings

SIGN = "/cds-services/toh-core-decompression-sign"


def nested(levels: int) -> dict:
    value: dict = {"url": "http://x", "valueString": "v"}
    for _ in range(levels):
        value = {"url": "http://x", "extension": [value]}
    return value


def body() -> dict:
    return fx.fixture_request("seed1-tmo-hip", "order-sign", today=TODAY)


def client_for(tmp_path, **service):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(tmp_path, service=service), clock=fixed_clock)
    return app, app.test_client()


def test_nesting_is_measured_without_recursion() -> None:
    assert not nesting_exceeds({"a": [{"b": 1}]}, 3)
    assert nesting_exceeds({"a": [{"b": {}}]}, 3)
    assert not nesting_exceeds("text", 1) and not nesting_exceeds([], 1)
    deep: list = []
    for _ in range(100_000):  # far past Python's recursion limit: no RecursionError
        deep = [deep]
    assert nesting_exceeds(deep, 64)


@pytest.mark.parametrize(("where", "levels", "status"), [
    ("resource", 20, 200), ("resource", 40, 400), ("resource", 300, 400),
    ("context", 20, 200), ("context", 40, 400), ("context", 300, 400)])
def test_deep_nesting_gets_400_naming_the_limit(tmp_path, where: str, levels: int,
                                                 status: int) -> None:
    _, client = client_for(tmp_path)
    request = body()
    if where == "resource":
        request["prefetch"]["patient"]["extension"] = [nested(levels)]
    else:
        request["context"]["deep"] = nested(levels)
    response = client.post(SIGN, json=request)
    assert response.status_code == status, response.get_data()[:300]
    if status == 400:
        assert "max_json_depth" in response.get_data(as_text=True)


def test_resource_caps_get_413_naming_the_limit(tmp_path) -> None:
    _, client = client_for(tmp_path, max_bundle_entries=30, max_resources=60, max_draft_orders=3)
    request = body()
    lab = request["prefetch"]["labs"]["entry"][0]
    request["prefetch"]["labs"]["entry"] = [lab] * 31
    response = client.post(SIGN, json=request)
    assert response.status_code == 413
    assert response.get_json()["issue"][0]["expression"] == ["prefetch.labs"]
    assert "max_bundle_entries" in response.get_data(as_text=True)

    request = body()
    for key in ("labs", "conditions", "imagingFindings"):
        request["prefetch"][key]["entry"] = [lab] * 25
    response = client.post(SIGN, json=request)
    assert response.status_code == 413 and "max_resources" in response.get_data(as_text=True)

    request = body()
    order = request["context"]["draftOrders"]["entry"][0]
    request["context"]["draftOrders"]["entry"] = [order] * 4
    response = client.post(SIGN, json=request)
    assert response.status_code == 413 and "max_draft_orders" in response.get_data(as_text=True)


def test_past_the_deadline_the_answer_is_422_naming_the_limit(tmp_path) -> None:
    _, client = client_for(tmp_path, request_deadline_seconds=1e-6)
    response = client.post(SIGN, json=body())
    assert response.status_code == 422
    assert "request_deadline_seconds" in response.get_data(as_text=True)


def test_no_compute_slot_within_the_deadline_is_503_with_retry_after(tmp_path) -> None:
    app, client = client_for(tmp_path, concurrent_hook_calls=1, request_deadline_seconds=0.2)
    slots = app.extensions["cds_pipeline"].slots
    slots._slots.acquire()  # another call holds the worker's only slot
    try:
        response = client.post(SIGN, json=body())
    finally:
        slots._slots.release()
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "concurrent_hook_calls" in response.get_data(as_text=True)
    assert client.post(SIGN, json=body()).status_code == 200  # the slot was given back


def test_order_text_is_capped_and_still_matched() -> None:
    long_note = {"resourceType": "ServiceRequest", "code": {"text": "Core decompression, left hip"},
                 "note": [{"text": "hip " * 50_000}]}
    assert len(order_text(long_note)) == MAX_ORDER_TEXT
    assert order_text(long_note).startswith("core decompression, left hip")


def test_reads_and_searches_are_told_apart() -> None:
    assert is_read("Patient/123") and is_read("/Patient/123")
    assert not is_read("Observation?patient=123") and not is_read("Condition")


def test_log_labels_keep_valid_ids_and_hash_the_rest() -> None:
    assert safe_id("seed1-tmo-hip") == "seed1-tmo-hip"
    hashed = safe_id("Jane Q Sample 1970-03-04")
    assert hashed.startswith("#") and len(hashed) == 13 and "Jane" not in hashed
    assert len(safe_id("x" * 4_000_000)) == 13 and safe_id(None) == "?"
    assert resource_label({"resourceType": "Jane Doe", "id": "ok"}).endswith("/ok")
    assert "Jane" not in resource_label({"resourceType": "Jane Doe", "id": "ok"})
