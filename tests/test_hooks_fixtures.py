"""Every fixture patient through the real HTTP endpoint with full prefetch: the card's
topic, indicator, key phrases of the detail, and the evidence ids it cites (stored with
the issued card, kept out of the detail's prose)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cds_service.devtools import fixture_data
from cds_service.store.models import IssuedCardRow
from tests.clock import TODAY  # the app's clock in tests: fixtures are rebased to it

SERVICES = {
    "order-select": "toh-core-decompression-select",
    "order-sign": "toh-core-decompression-sign",
    "patient-view": "tmo-migration-patient-view",
}
MANIFEST = fixture_data.load_manifest()
CASES = [(name, hook) for name in MANIFEST for hook in SERVICES]


def assert_matches_expectation(body: dict, name: str, hook: str) -> dict | None:
    """Check a 200 answer against the manifest; returns the card (None when none expected)."""
    expected = MANIFEST[name].expect[hook]
    cards = body["cards"]
    if expected.topic is None:
        assert cards == [], [c["summary"] for c in cards]
        return None
    assert [c["source"]["topic"]["code"] for c in cards] == [expected.topic]
    card = cards[0]
    assert card["indicator"] == expected.indicator
    detail = card["detail"].lower()
    for phrase in expected.key_phrases:
        assert phrase.lower() in detail, f"{phrase!r} missing from the detail of {name}/{hook}"
    for reference in expected.evidence:  # cited beside the prose (stored), never in it
        assert reference not in card["detail"], f"{reference} in the prose of {name}/{hook}"
    return card


@pytest.mark.parametrize(("name", "hook"), CASES)
def test_fixture_outcome_with_full_prefetch(client, app, name: str, hook: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/cds-services/{SERVICES[hook]}", json=fixture_data.fixture_request(name, hook, today=TODAY))
    assert response.status_code == 200, response.get_data(as_text=True)
    card = assert_matches_expectation(response.get_json(), name, hook)
    if card is None:
        return
    engine = app.extensions["cds_pipeline"].engine
    with Session(engine) as session:
        row = session.scalars(select(IssuedCardRow).where(IssuedCardRow.uuid == card["uuid"])).one()
    assert row.topic == MANIFEST[name].expect[hook].topic
    assert set(MANIFEST[name].expect[hook].evidence) <= set(row.evidence)


def test_toh_card_offers_the_conservative_plan(client) -> None:  # type: ignore[no-untyped-def]
    body = fixture_data.fixture_request("seed1-tmo-hip", "order-sign", today=TODAY)
    card = client.post("/cds-services/toh-core-decompression-sign", json=body).get_json()["cards"][0]
    actions = [a for s in card["suggestions"] for a in s.get("actions", [])]
    deletes = [a for a in actions if a["type"] == "delete"]
    assert [a["resourceId"] for a in deletes] == ["ServiceRequest/seed1-tmo-hip-order"]
    created = [a["resource"] for a in actions if a["type"] == "create"]
    assert {r["resourceType"] for r in created} == {"ServiceRequest"}
    texts = " ".join(r["code"].get("text", "") for r in created).lower()
    assert "mri" in texts and ("weight bearing" in texts or "physiotherapy" in texts or "physical therapy" in texts)
    assert {r["subject"]["reference"] for r in created} == {"Patient/seed1-tmo-hip"}
    reasons = {r["display"] for r in card["overrideReasons"]}
    assert {"AVN confirmed on imaging", "Failed conservative treatment", "Surgeon reviewed imaging"} <= reasons
    assert card["links"][0]["type"] == "absolute"


def test_no_trigger_no_fetch_no_card(client) -> None:  # type: ignore[no-untyped-def]
    body = fixture_data.fixture_request("seed1-tmo-hip", "order-sign", today=TODAY)
    body["context"]["draftOrders"]["entry"] = [{"resource": {
        "resourceType": "ServiceRequest", "id": "tha", "status": "draft", "intent": "order",
        "code": {"text": "Total hip arthroplasty"}, "subject": {"reference": "Patient/seed1-tmo-hip"}}}]
    body.pop("prefetch")
    response = client.post("/cds-services/toh-core-decompression-sign", json=body)
    assert response.status_code == 200 and response.get_json() == {"cards": [], "systemActions": []}


def test_draft_orders_without_type_or_ids_are_tolerated(client) -> None:  # type: ignore[no-untyped-def]
    """Real clients send draftOrders with no Bundle.type and orders with no id."""
    body = fixture_data.fixture_request("seed1-tmo-hip", "order-sign", today=TODAY)
    drafts = body["context"]["draftOrders"]
    drafts.pop("type", None)
    for entry in drafts["entry"]:
        entry["resource"].pop("id", None)
        entry.pop("fullUrl", None)
    response = client.post("/cds-services/toh-core-decompression-sign", json=body)
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert card["source"]["topic"]["code"] == "toh-suspected"
    actions = [a["type"] for s in card["suggestions"] for a in s["actions"]]
    assert "delete" not in actions and "create" in actions  # nothing to point a delete at
    assert "no id" in card["detail"]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].update(bodySite=-2286),
        lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].update(note=7),
        lambda b: b["context"]["draftOrders"]["entry"][0]["resource"]["code"].update(coding="S2325"),
        lambda b: b["prefetch"]["labs"]["entry"][0]["resource"].update(category=3),
        lambda b: b["prefetch"]["imagingFindings"].update(entry={"not": "a list"}),
        lambda b: b["prefetch"]["reports"]["entry"][0]["resource"].update(status={"coding": [{"code": 7}]}),
    ],
    ids=["bodySite-int", "note-int", "coding-str", "category-int", "entry-object", "status-object"],
)
def test_junk_shapes_in_raw_json_never_500(client, break_it) -> None:  # type: ignore[no-untyped-def]
    """Found by the fuzz run: raw draft orders and prefetch are read before validation."""
    body = fixture_data.fixture_request("crp-mgdl", "order-sign", today=TODAY)
    break_it(body)
    response = client.post("/cds-services/toh-core-decompression-sign", json=body)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 200:
        assert len(response.get_json()["cards"]) <= 1
