"""Structured JSON logs. Only fields named here are written: a log call cannot leak a
patient name, report text or token by passing it in `extra` by mistake.

Each line carries ``event`` (the call's template, stable for searching and counting) and
``message`` (the template with its arguments filled, e.g. gunicorn's listening address or
the reason a JWKS fetch failed). Arguments must therefore be safe to log: addresses,
counts, configured URLs, error kinds, never patient data, tokens or a client's raw
strings (cds_service's own calls pass only such values; their data goes in `extra`).
An exception is written as its type only: exception messages may hold data."""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

MAX_MESSAGE_CHARS = 2000  # a filled message is cut here (a line stays a line)

# Fields allowed in `extra`: ids, counts, names of checks and timings only.
SAFE_FIELDS = (
    "service", "hook", "hook_instance", "status", "method", "path", "duration_ms",
    "fhir_ms", "cards", "topics", "key", "keys", "error", "check", "resource", "errors",
    "fetched", "resources", "skipped", "new", "count", "iss", "kid", "port", "workers",
)


def filled_message(record: logging.LogRecord) -> str:
    """The record's message with its arguments, or the template when they do not fit it."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = f"{record.msg} (arguments did not match the template)"
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "..."
    return message


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, message, request id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": str(record.msg),
            "message": filled_message(record),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # type only: messages may hold data
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    """JSON to stderr; third-party chatter kept at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Third-party libraries (PyRuSH logs rule chatter to the root logger) stay at
    # WARNING; our own loggers, all under "cds_service", follow the configured level.
    root.setLevel(logging.WARNING)
    logging.getLogger("cds_service").setLevel(level)
    logging.getLogger("gunicorn.error").setLevel(level)
