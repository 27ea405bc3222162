"""A reading as plain data: the stable JSON schema of `cds-service read` (docs/reading.md).

Why a schema of its own: it is how an informaticist sees why a report was read as it
was, and what the reading corpus is scored against, so it must not follow every change
of the internal Mention.
"""

from __future__ import annotations

from cds_service.clinical.anatomy import region_of
from cds_service.clinical.facts import (
    ABSENT,
    HISTORICAL,
    IMPROVING,
    INDICATION,
    POSSIBLE,
    PRESENT,
    RESOLVED,
    state_of,
)
from cds_service.clinical.text_reader import Mention, Reading

STATUSES = ("present", "possible", "absent", "resolved", "historical", "question")
_STATUS = {PRESENT: "present", IMPROVING: "present", POSSIBLE: "possible", ABSENT: "absent",
           RESOLVED: "resolved", HISTORICAL: "historical", INDICATION: "question"}


def status_of(mention: Mention) -> str:
    """One of STATUSES ("improving" is present: the finding is still there)."""
    return _STATUS[state_of(mention)]


def finding(mention: Mention) -> dict:
    return {
        "concept": mention.concept,
        "status": status_of(mention),
        "improving": mention.improving and status_of(mention) == "present",
        "joint": region_of(mention.site),
        "site": mention.site,
        "side": mention.side,
        "section": mention.section,
        "sign": mention.sign,
        "phrase": mention.phrase,
        "sentence": mention.sentence,
    }


def describe(reading: Reading) -> dict:
    """{"findings": [...], "truncated": bool} for one text."""
    return {"findings": [finding(m) for m in reading.mentions], "truncated": reading.truncated}
