"""Reasons: the statements an assessment makes, each with the resources and date it rests on.

A reason has two wordings: `text`, the full statement with ISO dates (the evidence
timeline and the feedback review show it), and `short`, the few words a card bullet
uses. `kind` says which bullet of the card it belongs to (card_text.py groups by it), so
the card is arranged from what a reason is, never from parsing its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.clinical.facts import Finding

# What a reason is (the card groups reasons by these).
EDEMA, TOH_NAMED, EFFUSION, AVN_ABSENT, AVN_SIGN = (
    "edema", "toh-named", "effusion", "avn-absent", "avn-sign")
EDEMA_ON_RISK, LESION, CAUTION = "edema-on-risk", "lesion", "caution"
CONTEXT, PREGNANCY, MIGRATION, NO_RISK, RISK = (
    "context", "pregnancy", "migration", "no-risk", "risk")
LAB_NORMAL, LAB_RAISED, FEVER, LAB_MISSING, LAB_UNUSABLE, LAB_BLUNTED = (
    "lab-normal", "lab-raised", "fever", "lab-missing", "lab-unusable", "lab-blunted")
INFECTION_SEEN, INFECTION_CONDITION, IMMUNOSUPPRESSION, BLUNTED = (
    "infection-seen", "infection-condition", "immunosuppression", "blunted")
TEST_EXCLUDES, TEST_POSITIVE, TEST_NOT_COUNTED, NO_TEST = (
    "test-excludes", "test-positive", "test-not-counted", "no-test")
MRI_NONE, MRI_OLD, MRI_UNREADABLE, OTHER_IMAGING, NO_SIDE, NO_EDEMA = (
    "mri-none", "mri-old", "mri-unreadable", "other-imaging", "no-side", "no-edema")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Reason:
    """One statement about the patient."""

    text: str
    refs: tuple[str, ...] = ()
    date: datetime | None = None
    quote: str | None = None  # the exact phrase read in a report or Condition
    label: str = ""  # a few words for the summary line ("CRP 186 mg/L", "double-line sign")
    kind: str = ""  # one of the kinds above
    short: str = ""  # the card's words for it, without the date ("CRP 3.2 mg/L (lab limit 5)")
    side: str | None = None  # laterality of the finding, when it has one


def when(date: datetime | None) -> str:
    """ISO date for the full texts."""
    return date.date().isoformat() if date else "undated"


def day(date: datetime | None) -> str:
    """The card's one date format: "12 Oct 2026" (never ambiguous between locales)."""
    if date is None:
        return "undated"
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def unique(reasons: list[Reason]) -> list[Reason]:
    """Drop repeated reasons (two mentions in one sentence give the same line)."""
    return list(dict.fromkeys(reasons))


def finding_reason(f: Finding, what: str, label: str | None = None, kind: str = "",
                   short: str = "") -> Reason:
    """A finding as a dated, quoted reason: "what (left femoral head), 2025-01-02"."""
    place = " ".join(p for p in (f.side, f.site) if p)
    return Reason(f"{what}{' (' + place + ')' if place else ''}, {when(f.date)}", (f.ref,),
                  f.date, f.phrase, f.term if label is None else label, kind,
                  short or (f.term if label is None else label), f.side)
