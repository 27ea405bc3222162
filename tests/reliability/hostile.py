"""Hostile inputs that once gave the service a 500, a hang or client text in its log
(issue 13), shared by test_hostile_inputs.py (live service, SQLite and PostgreSQL) and
the fuzz run (test_fuzz.py)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

from cds_service.devtools import fixture_data as fx

HOOK = "order-sign"
SERVICE = fx.service_for_hook(HOOK).id
SIGN = f"/cds-services/{SERVICE}"


def today():  # type: ignore[no-untyped-def]
    return datetime.now(UTC).date()  # the live service reads the wall clock


def hook_body(name: str = "seed1-tmo-hip") -> dict:
    return fx.fixture_request(name, HOOK, today())


def nested(levels: int) -> dict:
    """An extension holding an extension, `levels` deep (2 JSON levels each)."""
    value: dict = {"url": "http://example.org/x", "valueString": "v"}
    for _ in range(levels):
        value = {"url": "http://example.org/x", "extension": [value]}
    return value


def deep_in_resource(levels: int = 300) -> dict:
    body = hook_body()
    body["prefetch"]["patient"]["extension"] = [nested(levels)]
    return body


def deep_in_context(levels: int = 300) -> dict:
    body = hook_body()
    body["context"]["deep"] = nested(levels)
    return body


def too_many_entries() -> dict:
    body = hook_body()
    lab = body["prefetch"]["labs"]["entry"][0]
    body["prefetch"]["labs"]["entry"] = [lab] * 5001
    return body


def too_many_orders() -> dict:
    body = hook_body()
    order = body["context"]["draftOrders"]["entry"][0]
    body["context"]["draftOrders"]["entry"] = [order] * 201
    return body


def report_with_charset(charset: str) -> dict:
    body = hook_body()
    report = body["prefetch"]["reports"]["entry"][0]["resource"]
    text = b"Bone marrow edema of the left femoral head. \xff"
    report["presentedForm"] = [{"contentType": f"text/plain; charset={charset}",
                                "data": base64.b64encode(text).decode()}]
    return body


# (case, body builder, status, a phrase the OperationOutcome must hold)
HOOK_CASES: list[tuple[str, Callable[[], dict], int, str]] = [
    ("extensions nested 300 deep in a resource", deep_in_resource, 400, "max_json_depth"),
    ("extensions nested 300 deep under context", deep_in_context, 400, "max_json_depth"),
    ("5,001 entries in one prefetch Bundle", too_many_entries, 413, "max_bundle_entries"),
    ("201 draft orders", too_many_orders, 413, "max_draft_orders"),
]

# presentedForm charsets whose decoder raises UnicodeError (cds_service/clinical/
# fhir_values.py attachment_text): reported to the clinical reader's owner, not fixed here.
BAD_CHARSETS = ("idna", "undefined", "punycode")

# (case, change to an overridden feedback item): each a 400, nothing stored
BAD_FEEDBACK = [
    ("outcomeTimestamp 0001-01-01T00:00:00+14:00", {"outcomeTimestamp": "0001-01-01T00:00:00+14:00"}),
    ("outcomeTimestamp 9999-12-31T23:59:59-14:00", {"outcomeTimestamp": "9999-12-31T23:59:59-14:00"}),
    ("override code of 129 characters", {"reason": {"code": "c" * 129}}),
    ("override display of 257 characters", {"reason": {"code": "c", "display": "d" * 257}}),
    ("override system of 257 characters", {"reason": {"code": "c", "system": "s" * 257}}),
    ("a NUL in userComment", {"userComment": "before\x00after"}),
    ("a NUL in the override code", {"reason": {"code": "c\x00"}}),
]

CHUNK_SIZE_ZZ = (f"POST {SIGN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n").encode()


def overridden(card: str, change: dict | None = None, stamp: str = "2026-11-21T10:00:00Z") -> dict:
    change = dict(change or {})
    item = {"card": card, "outcome": "overridden",
            "outcomeTimestamp": change.pop("outcomeTimestamp", stamp),
            "overrideReason": {"reason": {"code": "surgeon-reviewed", "system": "urn:x",
                                          "display": "Surgeon reviewed imaging"},
                               "userComment": "free text"}}
    item["overrideReason"].update(change)
    return item
