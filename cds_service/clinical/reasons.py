"""Reasons: the statements a card makes, each with the resources and date it rests on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.clinical.facts import Finding


@dataclass(frozen=True)
class Reason:
    """One statement on a card."""

    text: str
    refs: tuple[str, ...] = ()
    date: datetime | None = None
    quote: str | None = None  # the exact phrase read in a report or Condition
    label: str = ""  # a few words for the summary line ("CRP 186 mg/L", "double-line sign")


def when(date: datetime | None) -> str:
    return date.date().isoformat() if date else "undated"


def unique(reasons: list[Reason]) -> list[Reason]:
    """Drop repeated reasons (two mentions in one sentence give the same line)."""
    return list(dict.fromkeys(reasons))


def finding_reason(f: Finding, what: str, label: str | None = None) -> Reason:
    """A finding as a dated, quoted reason: "what (left femoral head), 2025-01-02"."""
    place = " ".join(p for p in (f.side, f.site) if p)
    return Reason(f"{what}{' (' + place + ')' if place else ''}, {when(f.date)}", (f.ref,),
                  f.date, f.phrase, f.term if label is None else label)
