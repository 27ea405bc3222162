"""Feedback models (CDS Hooks 2.0 §Feedback).

Everything stored is checked here, before the store sees it, so that a value the database
would refuse is a 400 naming the field, never a 500 with half a batch written: lengths up
to the columns' (`store/models.py`: card 64, override code 128, system and display 256),
no NUL character (PostgreSQL text cannot hold one), timestamps that stay within years
1-9999 once converted to UTC (they are stored in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    field_validator,
    model_validator,
)

NO_NUL = r"^[^\x00]*$"


def text(max_length: int, min_length: int = 0) -> object:
    return Field(min_length=min_length, max_length=max_length, pattern=NO_NUL)


Code = Annotated[StrictStr, text(128, 1)]
Long = Annotated[StrictStr, text(256)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class FeedbackCoding(_Lenient):
    system: Long | None = None
    code: Code
    display: Long | None = None


class OverrideReasonFeedback(_Lenient):
    reason: FeedbackCoding | None = None
    userComment: Annotated[StrictStr, text(4000)] | None = None


class AcceptedSuggestion(_Lenient):
    id: Code


class FeedbackItem(_Lenient):
    card: Annotated[StrictStr, text(64, 1)]
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=100)
    overrideReason: OverrideReasonFeedback | None = None
    outcomeTimestamp: AwareDatetime

    @field_validator("outcomeTimestamp")
    @classmethod
    def _storable(cls, value: datetime) -> datetime:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("must stay within the years 1-9999 in UTC") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is accepted")
        if self.outcome == "overridden" and self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is not allowed when outcome is overridden")
        return self

    @property
    def timestamp(self) -> datetime:
        return self.outcomeTimestamp


class FeedbackRequest(_Lenient):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)
