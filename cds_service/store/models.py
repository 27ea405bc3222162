"""Tables. No PHI beyond FHIR resource ids: the informaticist reviews topics, outcomes
and override reasons, not patients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class IssuedCardRow(Base):
    """A card this service returned; feedback is accepted only for these."""

    __tablename__ = "issued_card"

    uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    hook: Mapped[str] = mapped_column(String(32))
    hook_instance: Mapped[str] = mapped_column(String(64), index=True)
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    indicator: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    evidence: Mapped[list[str]] = mapped_column(JSON)
    suggestion_ids: Mapped[list[str]] = mapped_column(JSON)


class FeedbackRow(Base):
    """One feedback entry as received (CDS Hooks 2.0 §Feedback)."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("card_uuid", "outcome", "outcome_timestamp", name="uq_feedback_event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    card_uuid: Mapped[str] = mapped_column(ForeignKey("issued_card.uuid"), index=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSON)
    override_system: Mapped[str | None] = mapped_column(String(256))
    override_code: Mapped[str | None] = mapped_column(String(128))
    override_display: Mapped[str | None] = mapped_column(String(256))
    user_comment: Mapped[str | None] = mapped_column(Text)
    outcome_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
