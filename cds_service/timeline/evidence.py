"""Evidence items: what a click on the timeline or on a reason shows (the sentence read).

Every mark and every reason points at evidence ids; one id per (resource, sentence), so
the same sentence cited by an exam mark and by a reason opens the same item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(date: datetime | None) -> str | None:
    """The calendar date as the page shows it (one format everywhere: YYYY-MM-DD)."""
    return date.date().isoformat() if date else None


def instant(date: datetime | None) -> str | None:
    """Full timestamp for placing a mark on the time axis, in UTC (so that the strings
    sort as the instants do)."""
    return date.astimezone(UTC).isoformat() if date else None


MAX_UNQUOTED = 6  # sentences shown for a reason that quotes none (e.g. "latest MRI ...")
_READ_TYPES = ("DiagnosticReport/", "Observation/", "Condition/", "MedicationRequest/",
               "MedicationStatement/", "Procedure/")


@dataclass
class EvidenceIndex:
    """Evidence items by id, deduplicated by (ref, quote)."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: dict[tuple[str, str], str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # ref -> what it is ("MRI left hip")

    def add(self, ref: str, date: datetime | None, quote: str | None = None,
            what: str = "", state: str | None = None) -> str:
        """The id of this (ref, quote); created on first use."""
        key = (ref, quote or "")
        found = self._ids.get(key)
        if found is not None:
            return found
        ident = f"ev{len(self.items) + 1}"
        self._ids[key] = ident
        self.items[ident] = {
            "id": ident, "ref": ref, "date": iso(date), "quote": quote or None,
            "what": what or None, "state": state,
            "source": self.sources.get(ref) or ref.split("/", 1)[0],
        }
        return ident

    def known(self, ref: str, quote: str | None) -> bool:
        return (ref, quote or "") in self._ids

    def for_refs(self, refs: tuple[str, ...], date: datetime | None,
                 quote: str | None) -> list[str]:
        """Evidence ids for a reason: its quote in its refs; else what was read from
        those resources (an exam's sentences, a lab value), else the first report-like
        resource as it is."""
        if not refs:
            return []
        if quote:
            quoted = [i for (r, q), i in self._ids.items() if q == quote and r in refs]
            return quoted[:1] or [self.add(refs[-1], date, quote)]
        read = [i for (r, _), i in self._ids.items() if r in refs]
        if read:
            return read[:MAX_UNQUOTED]
        first = next((r for r in refs if r.startswith(_READ_TYPES)), refs[0])
        return [self.add(first, date)]
