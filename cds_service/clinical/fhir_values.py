"""Small readers for R4B model values: references, dates, codings, text, attachments.

Dates in FHIR may be partial ("2024", "2024-03") or dates without time; the decision
compares them with `now`, so every date becomes a timezone-aware datetime (UTC when
the source gave no zone; partial dates take their first day).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

Coding3 = tuple[str | None, str | None, str | None]  # (system, code, display or text)

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def ref(resource: Any) -> str:
    """"Type/id" of a parsed resource ("Type/?" when the resource has no id)."""
    return f"{resource.get_resource_type()}/{resource.id or '?'}"


def to_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant as an aware datetime, or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        m = _PARTIAL.match(value)
        if m:
            return datetime(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1),
                            tzinfo=UTC)
    return None


def known_date(when: datetime | None) -> datetime:
    """A date the caller has already made sure is there (the sort key of dated items):
    a missing one is a bug, and raises as one."""
    if when is None:
        raise ValueError("a date was expected here")
    return when


def first_date(*values: Any) -> datetime | None:
    """The first of several candidate dates that is present."""
    for value in values:
        parsed = to_datetime(value)
        if parsed is not None:
            return parsed
    return None


def period_start(period: Any) -> datetime | None:
    return to_datetime(getattr(period, "start", None)) if period is not None else None


def period_end(period: Any) -> datetime | None:
    return to_datetime(getattr(period, "end", None)) if period is not None else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def codings(*concepts: Any) -> list[Coding3]:
    """(system, code, display) of every Coding in CodeableConcepts or Codings, plus
    (None, None, text) for each CodeableConcept.text."""
    out: list[Coding3] = []
    for concept in concepts:
        for cc in _as_list(concept):
            if cc is None:
                continue
            if hasattr(cc, "coding"):
                for c in cc.coding or ():
                    out.append((c.system, c.code, c.display))
                if getattr(cc, "text", None):
                    out.append((None, None, cc.text))
                for ext in getattr(cc, "extension", None) or ():  # mCODE laterality qualifier
                    if "laterality" in (ext.url or "").lower() and ext.valueCodeableConcept:
                        out.extend(codings(ext.valueCodeableConcept))
            elif hasattr(cc, "code"):  # a bare Coding
                out.append((cc.system, cc.code, cc.display))
    return out


def text_of(*concepts: Any) -> str:
    """Texts and displays of CodeableConcepts, joined (for text matching)."""
    return " ".join(t for _, _, t in codings(*concepts) if t)


def label_of(concept: Any) -> str:
    """What a person would call a CodeableConcept: its text, else its first display or code."""
    if concept is None:
        return ""
    if getattr(concept, "text", None):
        return concept.text
    for c in getattr(concept, "coding", None) or ():
        if c.display or c.code:
            return c.display or c.code
    return ""


def has_code(concepts: Any, system: str, codes: Iterable[str]) -> str | None:
    """The first code of `system` in `codes` found in the concepts, or None."""
    wanted = set(codes)
    for s, c, _ in codings(concepts):
        if s == system and c in wanted:
            return c
    return None


def has_code_prefix(concepts: Any, system: str, prefixes: Iterable[str]) -> str | None:
    """The first code of `system` starting with one of `prefixes` (ICD-10, ATC), or None."""
    prefixes = tuple(p.upper() for p in prefixes)
    for s, c, _ in codings(concepts):
        if s == system and c and c.upper().startswith(prefixes):
            return c
    return None


TEXT_CHARSETS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "ascii",
                           "iso8859-1", "iso8859-15", "cp1252", "latin-1"})
MAX_ATTACHMENT_CHARS = 50_000  # text_reader.MAX_TEXT_CHARS: no more is ever read


def attachment_text(attachment: Any) -> str | None:
    """Text of an Attachment whose contentType is text/plain (base64 `data`), else None."""
    content_type = (getattr(attachment, "contentType", None) or "").lower()
    data = getattr(attachment, "data", None)
    if not content_type.startswith("text/plain") or not data:
        return None
    if isinstance(data, bytes):
        decoded = data  # fhir.resources validates base64Binary into the decoded bytes
    else:
        try:
            decoded = base64.b64decode(str(data), validate=False)
        except (binascii.Error, ValueError):
            return None
    m = re.search(r"charset=([\w-]+)", content_type)
    try:
        charset = codecs.lookup(m.group(1)).name if m else "utf-8"
    except LookupError:
        charset = "utf-8"
    # Only the charsets reports are written in: other codecs are no text encoding
    # ("idna", "punycode", "undefined" raise whatever errors= says; punycode decodes in
    # quadratic time). Anything else reads as UTF-8, so that one mislabelled attachment
    # neither fails the call nor hides the rest of the chart. The bytes read are capped
    # at what the reader reads of one text (4 bytes a character at most).
    if charset not in TEXT_CHARSETS:
        charset = "utf-8"
    return decoded[:4 * MAX_ATTACHMENT_CHARS].decode(charset, errors="replace")


def reference_id(reference: Any) -> str | None:
    """"Type/id" of a Reference (relative or absolute URL), or None."""
    value = getattr(reference, "reference", None)
    if not value:
        return None
    parts = value.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def age_years(birth: Any, now: datetime) -> int | None:
    born = to_datetime(birth)
    if born is None:
        return None
    years = now.year - born.year - ((now.month, now.day) < (born.month, born.day))
    return years if years >= 0 else None
