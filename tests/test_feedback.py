"""Feedback round trip: stored durably, visible in feedback-report; unknown cards refused."""

from __future__ import annotations

import io
import uuid

import pytest

from cds_service.devtools import fixture_data
from cds_service.report import print_feedback_report
from tests.clock import TODAY  # the app's clock in tests: fixtures are rebased to it

SIGN = "/cds-services/toh-core-decompression-sign"


def issue_card(client, name: str = "crp-mgdl") -> dict:  # type: ignore[no-untyped-def]
    response = client.post(SIGN, json=fixture_data.fixture_request(name, "order-sign", today=TODAY))
    assert response.status_code == 200
    return response.get_json()["cards"][0]


def overridden(card_uuid: str, display: str = "Surgeon reviewed imaging") -> dict:
    return {"card": card_uuid, "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:00:00Z",
            "overrideReason": {"reason": {"code": "surgeon-reviewed", "system": "urn:x", "display": display},
                               "userComment": "free text"}}


def test_round_trip_and_report(client, settings) -> None:  # type: ignore[no-untyped-def]
    toh = issue_card(client)
    accepted = {"card": toh["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-21T10:00:00+01:00",
                "acceptedSuggestions": [{"id": toh["suggestions"][0]["uuid"]}]}
    response = client.post(SIGN + "/feedback", json={"feedback": [accepted]})
    assert response.status_code == 200 and response.get_json() == {"received": 1, "stored": 1}
    second = issue_card(client)
    assert client.post(SIGN + "/feedback", json={"feedback": [overridden(second["uuid"])]}).status_code == 200
    # an EHR retry of the same event is accepted without a second row
    assert client.post(SIGN + "/feedback", json={"feedback": [overridden(second["uuid"])]}).get_json() == {
        "received": 1, "stored": 0}
    infection = issue_card(client, "seed2-toh-crp")
    assert infection["source"]["topic"]["code"] == "infection-not-excluded"

    out = io.StringIO()
    print_feedback_report(settings, out)
    report = out.getvalue()
    toh_line = next(line for line in report.splitlines() if line.startswith("toh-suspected"))
    assert toh_line.split()[1:4] == ["2", "1", "1"] and "50%" in toh_line
    assert next(line for line in report.splitlines() if line.startswith("infection-not-excluded")).split()[1:4] == ["1", "0", "0"]
    assert "Surgeon reviewed imaging" in report and "free text" not in report


@pytest.mark.parametrize(
    ("item", "status", "phrase"),
    [
        (lambda c: overridden(str(uuid.uuid4())), 400, "was not issued by this service"),
        (lambda c: {**overridden(c["uuid"]), "outcome": "ignored"}, 400, "outcome"),
        (lambda c: {"card": c["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-21T10:00:00Z"}, 400,
         "acceptedSuggestions is required"),
        (lambda c: {"card": c["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-21T10:00:00Z",
                    "acceptedSuggestions": [{"id": "not-on-card"}]}, 400, "not on card"),
        (lambda c: {**overridden(c["uuid"]), "outcomeTimestamp": "yesterday"}, 400, "outcomeTimestamp"),
        (lambda c: {**overridden(c["uuid"]), "outcomeTimestamp": "2026-11-21T10:00:00"}, 400, "timezone"),
    ],
)
def test_bad_feedback_refused(client, item, status, phrase) -> None:  # type: ignore[no-untyped-def]
    card = issue_card(client)
    response = client.post(SIGN + "/feedback", json={"feedback": [item(card)]})
    assert response.status_code == status
    text = str(response.get_json())
    assert phrase in text


def test_feedback_for_another_services_card_refused(client) -> None:  # type: ignore[no-untyped-def]
    card = issue_card(client)
    response = client.post("/cds-services/toh-core-decompression-select/feedback",
                           json={"feedback": [overridden(card["uuid"])]})
    assert response.status_code == 400 and "not issued by this service" in str(response.get_json())


def test_batch_with_one_unknown_card_stores_nothing(client, settings) -> None:  # type: ignore[no-untyped-def]
    card = issue_card(client)
    batch = {"feedback": [overridden(card["uuid"]), overridden(str(uuid.uuid4()))]}
    assert client.post(SIGN + "/feedback", json=batch).status_code == 400
    out = io.StringIO()
    print_feedback_report(settings, out)
    assert next(line for line in out.getvalue().splitlines() if line.startswith("toh-suspected")).split()[1:4] == ["1", "0", "0"]
