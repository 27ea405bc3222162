"""What the decision about a hip core decompression answers: one outcome and its evidence.

The clinical core's result, free of CDS Hooks: services/core_decompression/ turns it into
a card, the evidence timeline into sections of reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cds_service.clinical.facts import ImagingExam
from cds_service.clinical.reasons import Reason


class Outcome(StrEnum):
    """The outcomes, in safety order (clinical.md "Decisions"); each is its card's topic."""

    INFECTION = "infection-not-excluded"
    IMAGING = "imaging-needed"
    AVN = "avn-features"
    OTHER = "other-lesion"
    TOH = "toh-suspected"


@dataclass(frozen=True)
class Assessment:
    """The outcome (None: no card), the reasons for and against, and what was missing."""

    outcome: Outcome | None
    side: str | None
    found: tuple[Reason, ...] = ()
    against: tuple[Reason, ...] = ()
    missing: tuple[Reason, ...] = ()
    exam: ImagingExam | None = None
    excluded: tuple[Reason, ...] = ()  # tests that excluded infection, the flags they answer

    @property
    def evidence(self) -> tuple[str, ...]:
        """The `Type/id` of every resource the assessment rests on, the exam's first."""
        refs: list[str] = list(self.exam.refs) if self.exam else []
        for reason in self.found + self.excluded + self.against + self.missing:
            refs += [r for r in reason.refs if r not in refs]
        return tuple(dict.fromkeys(refs))
