"""Feedback values the store would refuse, and partial batches (issue 13 §5), in process
on SQLite; the same on PostgreSQL against the live service is in
tests/reliability/test_hostile_inputs.py. Each bad value is a 400 naming the field, and a
batch is stored whole or not at all."""

from __future__ import annotations

import pytest

from cds_service.devtools import fixture_data
from tests.clock import TODAY
from tests.reliability.hostile import BAD_FEEDBACK, overridden

SIGN = "/cds-services/toh-core-decompression-sign"


def issue_cards(client, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    cards = []
    for _ in range(n):
        response = client.post(SIGN, json=fixture_data.fixture_request("crp-mgdl", "order-sign",
                                                                       today=TODAY))
        assert response.status_code == 200
        cards.append(response.get_json()["cards"][0]["uuid"])
    return cards


@pytest.mark.parametrize(("case", "change"), BAD_FEEDBACK, ids=[c for c, _ in BAD_FEEDBACK])
def test_values_the_store_cannot_keep_get_400(client, case: str, change: dict) -> None:  # type: ignore[no-untyped-def]
    (card,) = issue_cards(client, 1)
    response = client.post(SIGN + "/feedback", json={"feedback": [overridden(card, change)]})
    assert response.status_code == 400, case
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_batch_with_one_bad_entry_stores_nothing(client) -> None:  # type: ignore[no-untyped-def]
    cards = issue_cards(client, 5)
    batch = [overridden(c, stamp=f"2026-11-21T10:0{i}:00Z") for i, c in enumerate(cards)]
    bad = [*batch[:2], overridden(cards[2], {"reason": {"code": "x" * 129}}), *batch[3:]]
    response = client.post(SIGN + "/feedback", json={"feedback": bad})
    assert response.status_code == 400
    assert "feedback.2" in response.get_data(as_text=True)
    stored = client.post(SIGN + "/feedback", json={"feedback": batch}).get_json()
    assert stored == {"received": 5, "stored": 5}  # none of the first attempt had been kept
    again = client.post(SIGN + "/feedback", json={"feedback": batch}).get_json()
    assert again == {"received": 5, "stored": 0}
