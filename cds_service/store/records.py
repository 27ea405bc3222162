"""Write issued cards and feedback; read them back for the feedback report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cds_service.errors import BadRequest, Issue
from cds_service.services.logic import IssuedCard
from cds_service.store.db import commit_without_flush
from cds_service.store.models import FeedbackRow, IssuedCardRow
from cds_service.wire.feedback import FeedbackItem


def record_issued(
    engine: Engine,
    service_id: str,
    hook: str,
    hook_instance: str,
    issued: Sequence[IssuedCard],
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
        connection.execute(insert(IssuedCardRow.__table__), rows)


def record_feedback(engine: Engine, service_id: str, items: Sequence[FeedbackItem]) -> int:
    """Store a feedback batch atomically; returns how many entries were new.

    Every entry must name a card this service issued, and accepted suggestions must be
    that card's; otherwise the whole batch is refused (400) and nothing is stored.
    A repeat of an entry already stored (same card, outcome, timestamp) is accepted
    without a second row: EHRs retry.
    """
    received = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        wanted = {item.card for item in items}
        cards = {
            row.uuid: row
            for row in session.scalars(
                select(IssuedCardRow).where(IssuedCardRow.uuid.in_(wanted))
            )
        }
        issues: list[Issue] = []
        for index, item in enumerate(items):
            card = cards.get(item.card)
            where = f"feedback[{index}].card"
            if card is None or card.service_id != service_id:
                issues.append(Issue("not-found", f"card {item.card} was not issued by this service", where))
                continue
            unknown = {s.id for s in item.acceptedSuggestions or ()} - set(card.suggestion_ids)
            if unknown:
                issues.append(
                    Issue("invalid", f"suggestions {sorted(unknown)} are not on card {item.card}",
                          f"feedback[{index}].acceptedSuggestions")
                )
        if issues:
            raise BadRequest("feedback refers to unknown cards or suggestions", issues)

    new = 0
    for item in items:
        try:
            with Session(engine) as session, session.begin():
                session.add(_feedback_row(service_id, item, received))
            new += 1
        except IntegrityError:
            continue  # the same event again: already stored and committed
    return new


def _feedback_row(service_id: str, item: FeedbackItem, received: datetime) -> FeedbackRow:
    reason = item.overrideReason.reason if item.overrideReason else None
    return FeedbackRow(
        card_uuid=item.card,
        service_id=service_id,
        outcome=item.outcome,
        accepted_suggestions=[s.id for s in item.acceptedSuggestions or ()],
        override_system=reason.system if reason else None,
        override_code=reason.code if reason else None,
        override_display=reason.display if reason else None,
        user_comment=item.overrideReason.userComment if item.overrideReason else None,
        outcome_timestamp=item.outcomeTimestamp.astimezone(UTC),  # SQLite drops the offset
        received_at=received,
    )


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
