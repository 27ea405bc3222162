"""A repeated hook call (order-select on every edit) reuses the decision, never a card
uuid: each answer's cards and suggestions are new, and each is recorded for feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cds_service.devtools import fixture_data
from cds_service.fhir.record import PatientRecord
from cds_service.services.decisions import DecisionCache
from cds_service.services.logic import Invocation, IssuedCard
from cds_service.store.models import IssuedCardRow
from cds_service.wire.cards import Card, Source, Suggestion
from tests.clock import TODAY

NOW = datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC)
SELECT = "/cds-services/toh-core-decompression-select"


class CountingLogic:
    """A service logic that answers one card with one suggestion and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def keep(self, raw: dict) -> bool:
        return True

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        self.calls += 1
        card = Card(summary="Consider conservative care", indicator="warning",
                    source=Source(label="test"), selectionBehavior="at-most-one",
                    suggestions=[Suggestion(label="Order hip MRI")])
        return [IssuedCard(card, ("DiagnosticReport/r1",))]


def invocation(now: datetime = NOW, draft: str = "sr-1") -> Invocation:
    return Invocation("svc", "order-select", {"patientId": "p1", "draftOrders": draft}, (), now)


def test_same_call_in_the_same_minute_is_decided_once_with_new_uuids() -> None:
    cache, logic, record = DecisionCache(), CountingLogic(), PatientRecord()
    first = cache.decide(logic, invocation(), record)
    again = cache.decide(logic, invocation(NOW + timedelta(seconds=40)), record)
    assert logic.calls == 1
    assert again[0].card.uuid != first[0].card.uuid
    assert again[0].card.suggestions[0].uuid != first[0].card.suggestions[0].uuid
    assert again[0].card.model_dump(exclude={"uuid", "suggestions"}) == first[0].card.model_dump(
        exclude={"uuid", "suggestions"})
    assert again[0].evidence == first[0].evidence


def test_another_minute_order_or_record_is_decided_afresh() -> None:
    cache, logic, record = DecisionCache(), CountingLogic(), PatientRecord()
    cache.decide(logic, invocation(), record)
    cache.decide(logic, invocation(NOW + timedelta(seconds=55)), record)  # next minute
    cache.decide(logic, invocation(draft="sr-2"), record)
    cache.decide(logic, invocation(), PatientRecord())
    assert logic.calls == 4


def test_a_decision_does_not_outlive_its_record() -> None:
    cache, logic = DecisionCache(), CountingLogic()
    record = PatientRecord()
    cache.decide(logic, invocation(), record)
    del record  # the record cache let it go: the next record may get its id
    cache.decide(logic, invocation(), PatientRecord())
    assert logic.calls == 2


def test_bounded() -> None:
    cache, logic, record = DecisionCache(size=2), CountingLogic(), PatientRecord()
    for draft in ("a", "b", "c"):
        cache.decide(logic, invocation(draft=draft), record)
    assert len(cache) == 2


def test_repeated_order_select_answers_new_recorded_cards(client, app) -> None:  # type: ignore[no-untyped-def]
    body = fixture_data.fixture_request("seed1-tmo-hip", "order-select", today=TODAY)
    answers = []
    for n in range(3):
        body["hookInstance"] = f"d3f1c0de-0000-4000-8000-00000000000{n}"
        response = client.post(SELECT, json=body)
        assert response.status_code == 200
        answers.append(response.get_json()["cards"])
    uuids = [cards[0]["uuid"] for cards in answers]
    suggestion_uuids = [s["uuid"] for cards in answers for s in cards[0]["suggestions"]]
    assert len(set(uuids)) == 3 and len(set(suggestion_uuids)) == len(suggestion_uuids)
    details = {cards[0]["detail"] for cards in answers}
    assert len(details) == 1  # the same decision
    with Session(app.extensions["cds_pipeline"].engine) as session:
        stored = set(session.scalars(select(IssuedCardRow.uuid)))
    assert set(uuids) <= stored
