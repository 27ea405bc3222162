"""Why the store refused a write. Store errors say what was wrong with the data, not
how to answer it: the route turns them into HTTP responses (`routes/cds.py`).

    StoreError
    ├── FeedbackRefused     entries naming cards or suggestions this service never issued
    └── UnstorableFeedback  a value the database cannot keep (length, characters)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class StoreError(Exception):
    """A write the store refused; nothing of it was stored."""


class Unknown(StrEnum):
    """What a feedback entry names that the store holds no record of."""

    CARD = "card"
    SUGGESTION = "suggestion"


@dataclass(frozen=True)
class FeedbackProblem:
    """One refused entry: what is unknown, a sentence saying so, and where (a path into
    the feedback request, e.g. `feedback[2].card`)."""

    unknown: Unknown
    message: str
    where: str


class FeedbackRefused(StoreError):
    """The batch names cards this service did not issue, or suggestions not on them."""

    def __init__(self, problems: Sequence[FeedbackProblem]) -> None:
        super().__init__("feedback refers to unknown cards or suggestions; nothing was stored")
        self.problems = tuple(problems)


class UnstorableFeedback(StoreError):
    """A value the models let through that the database refuses (length or characters)."""

    def __init__(self) -> None:
        super().__init__("feedback holds a value the store cannot keep")
