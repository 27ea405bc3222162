"""Write issued cards and feedback; read them back for the feedback report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from cds_service.store.db import commit_without_flush
from cds_service.store.errors import (
    FeedbackProblem,
    FeedbackRefused,
    Unknown,
    UnstorableFeedback,
)
from cds_service.store.models import FeedbackRow, IssuedCardRow
from cds_service.wire.cards import Card
from cds_service.wire.feedback import FeedbackItem

# Declarative classes type `__table__` as any FromClause; these are plain Tables.
ISSUED_CARDS = cast(Table, IssuedCardRow.__table__)
FEEDBACK = cast(Table, FeedbackRow.__table__)


class CardWithEvidence(Protocol):
    """What the store reads of an issued card (the service layer's IssuedCard is one):
    the card, and the `Type/id` references of the resources it rests on."""

    @property
    def card(self) -> Card: ...

    @property
    def evidence(self) -> Sequence[str]: ...


def record_issued(
    engine: Engine,
    service_id: str,
    hook: str,
    hook_instance: str,
    issued: Sequence[CardWithEvidence],
    now: datetime,
) -> None:
    """Persist the cards before they are returned, so feedback on them is accepted.

    A plain INSERT, not the ORM's unit of work, committed without waiting for the disk
    (`commit_without_flush`): it runs on every answered hook call (order-select fires on
    each edit), and the ORM's bookkeeping and an fsync each cost more than the row."""
    if not issued:
        return
    rows = [
        {
            "uuid": item.card.uuid,
            "service_id": service_id,
            "hook": hook,
            "hook_instance": hook_instance,
            "topic": item.card.topic_code,
            "indicator": item.card.indicator,
            "issued_at": now,
            "evidence": list(item.evidence),
            "suggestion_ids": [s.uuid for s in item.card.suggestions or ()],
        }
        for item in issued
    ]
    with commit_without_flush(engine) as connection:
        connection.execute(insert(ISSUED_CARDS), rows)


EVENT_COLUMNS = ("card_uuid", "outcome", "outcome_timestamp")  # uq_feedback_event


def record_feedback(
    engine: Engine, service_id: str, items: Sequence[FeedbackItem], received: datetime
) -> int:
    """Store a feedback batch atomically; returns how many entries were new.

    All or nothing: every entry is checked first (the models bound what the columns
    hold; here: every entry must name a card this service issued, and accepted
    suggestions must be that card's), then all rows go in one transaction. One bad
    entry refuses the whole batch (`FeedbackRefused`, every bad entry listed) and
    nothing is stored, so the EHR's retry of a corrected batch stores all of it. A
    repeat of an entry already stored (same card, outcome, timestamp) is accepted
    without a second row: EHRs retry (INSERT ... ON CONFLICT DO NOTHING on the event's
    unique constraint). `received` is the caller's clock (the app's injected one).
    """
    rows = [_feedback_row(service_id, item, received) for item in items]
    try:
        with Session(engine) as session, session.begin():
            _check_cards(session, service_id, items)
            new = 0
            for row in rows:
                new += _insert_new(session, row)
            return new
    except DataError:  # a value the database refuses that the models let through
        raise UnstorableFeedback() from None


def _check_cards(session: Session, service_id: str, items: Sequence[FeedbackItem]) -> None:
    wanted = {item.card for item in items}
    cards = {
        row.uuid: row
        for row in session.scalars(select(IssuedCardRow).where(IssuedCardRow.uuid.in_(wanted)))
    }
    problems: list[FeedbackProblem] = []
    for index, item in enumerate(items):
        card = cards.get(item.card)
        if card is None or card.service_id != service_id:
            problems.append(FeedbackProblem(
                Unknown.CARD, f"card {item.card} was not issued by this service",
                f"feedback[{index}].card"))
            continue
        unknown = {s.id for s in item.acceptedSuggestions or ()} - set(card.suggestion_ids)
        if unknown:
            problems.append(FeedbackProblem(
                Unknown.SUGGESTION, f"suggestions {sorted(unknown)} are not on card {item.card}",
                f"feedback[{index}].acceptedSuggestions"))
    if problems:
        raise FeedbackRefused(problems)


def _insert_new(session: Session, row: dict[str, Any]) -> int:
    """1 when the row was inserted, 0 when the same event is already stored."""
    dialect = session.get_bind().dialect.name
    table = FEEDBACK
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(table).values(**row).on_conflict_do_nothing(
            index_elements=list(EVENT_COLUMNS)).returning(table.c.id)
        return len(session.execute(statement).all())
    exists = session.scalar(select(FeedbackRow.id).where(
        *(getattr(FeedbackRow, c) == row[c] for c in EVENT_COLUMNS)))
    if exists is not None:
        return 0
    session.execute(insert(table).values(**row))
    return 1


def _feedback_row(service_id: str, item: FeedbackItem, received: datetime) -> dict[str, Any]:
    reason = item.overrideReason.reason if item.overrideReason else None
    return {
        "card_uuid": item.card,
        "service_id": service_id,
        "outcome": item.outcome,
        "accepted_suggestions": [s.id for s in item.acceptedSuggestions or ()],
        "override_system": reason.system if reason else None,
        "override_code": reason.code if reason else None,
        "override_display": reason.display if reason else None,
        "user_comment": item.overrideReason.userComment if item.overrideReason else None,
        # in range: FeedbackItem checks it; SQLite drops the offset, so UTC
        "outcome_timestamp": item.outcomeTimestamp.astimezone(UTC),
        "received_at": received,
    }


@dataclass(frozen=True)
class TopicSummary:
    topic: str
    issued: int
    accepted: int
    overridden: int
    override_reasons: dict[str, int]

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.issued if self.issued else 0.0

    @property
    def override_rate(self) -> float:
        return self.overridden / self.issued if self.issued else 0.0


def feedback_summary(engine: Engine) -> list[TopicSummary]:
    """Per card topic: cards issued, accepted and overridden, and the reasons chosen."""
    with Session(engine) as session:
        cards = session.execute(select(IssuedCardRow.uuid, IssuedCardRow.topic)).all()
        feedback = session.execute(
            select(FeedbackRow.card_uuid, FeedbackRow.outcome, FeedbackRow.override_display,
                   FeedbackRow.override_code)
        ).all()
    topic_of = {uuid: topic or "(no topic)" for uuid, topic in cards}
    issued: dict[str, int] = {}
    for topic in topic_of.values():
        issued[topic] = issued.get(topic, 0) + 1
    outcomes: dict[str, dict[str, set[str]]] = {}
    reasons: dict[str, dict[str, int]] = {}
    for card_uuid, outcome, display, code in feedback:
        topic = topic_of.get(card_uuid, "(no topic)")
        outcomes.setdefault(topic, {}).setdefault(outcome, set()).add(card_uuid)
        if outcome == "overridden":
            label = display or code or "(no reason given)"
            reasons.setdefault(topic, {})[label] = reasons.get(topic, {}).get(label, 0) + 1
    return [
        TopicSummary(
            topic=topic,
            issued=count,
            accepted=len(outcomes.get(topic, {}).get("accepted", ())),
            overridden=len(outcomes.get(topic, {}).get("overridden", ())),
            override_reasons=reasons.get(topic, {}),
        )
        for topic, count in sorted(issued.items())
    ]
