"""Feedback models (CDS Hooks 2.0 §Feedback)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, model_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class FeedbackCoding(_Lenient):
    system: StrictStr | None = None
    code: StrictStr = Field(min_length=1)
    display: StrictStr | None = None


class OverrideReasonFeedback(_Lenient):
    reason: FeedbackCoding | None = None
    userComment: StrictStr | None = Field(default=None, max_length=4000)


class AcceptedSuggestion(_Lenient):
    id: StrictStr = Field(min_length=1)


class FeedbackItem(_Lenient):
    card: StrictStr = Field(min_length=1, max_length=128)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReasonFeedback | None = None
    outcomeTimestamp: AwareDatetime

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
