"""Structured JSON logs. Only fields named here are written: a log call cannot leak a
patient name, report text or token by passing it in `extra` by mistake."""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Fields allowed in `extra`: ids, counts, names of checks and timings only.
SAFE_FIELDS = (
    "service", "hook", "hook_instance", "status", "method", "path", "duration_ms",
    "fhir_ms", "cards", "topics", "key", "keys", "error", "check", "resource", "errors",
    "fetched", "resources", "skipped", "new", "count", "iss", "kid", "port", "workers",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, request id, safe fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # The template only, never the interpolated args (they may carry data).
            "event": str(record.msg),
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
