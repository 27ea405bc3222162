"""Fixture dates, moved to the day a test or a demo runs.

Fixture dates are written around each patient's index date (the day the decompression
is ordered); `rebase_dates` moves them all by the same number of days, so an MRI
"6 days old" stays 6 days old and never drifts out of the service's recency windows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

# A FHIR date/dateTime/instant with at least year and month (a bare year is only
# shifted under a date-like key: "1514" is an RxNorm code, not a year).
_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?(T.*)?$")
_YEAR = re.compile(r"^\d{4}$")
_NOT_DATES = {"id", "code", "system", "url", "fullUrl", "reference", "data", "value", "uid",
              "version", "div", "display", "text"}
_DATE_KEYS = {"birthDate", "start", "end", "issued", "authoredOn", "started", "recordedDate"}


def shift_date(value: str, days: int) -> str:
    """Shift one FHIR date/dateTime/instant string by whole days, keeping its precision,
    time of day and zone (partial dates move with their mid-point)."""
    match = _DATE.match(value)
    try:
        if match:
            year, month, day, rest = match.groups()
            if day is None:  # YYYY-MM
                moved = date(int(year), int(month), 15) + timedelta(days=days)
                return f"{moved.year:04d}-{moved.month:02d}"
            moved = date(int(year), int(month), int(day)) + timedelta(days=days)
            return moved.isoformat() + (rest or "")
        if _YEAR.match(value):
            return f"{(date(int(value), 7, 2) + timedelta(days=days)).year:04d}"
    except ValueError:  # looked like a date but is not one (e.g. "1234-56")
        pass
    return value


def _rebase(node: Any, days: int, key: str | None) -> Any:
    if isinstance(node, dict):
        return {k: _rebase(v, days, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v, days, key) for v in node]
    if isinstance(node, str) and key not in _NOT_DATES:
        date_key = key in _DATE_KEYS or (key or "").endswith(("Date", "DateTime", "Instant"))
        if _DATE.match(node) or (_YEAR.match(node) and date_key):
            return shift_date(node, days)
    return node


def rebase_dates(bundle: Mapping[str, Any], index_date: date, today: date) -> dict[str, Any]:
    """A copy of the bundle with every date moved by (today - index_date) days."""
    return _rebase(copy.deepcopy(dict(bundle)), (today - index_date).days, None)
