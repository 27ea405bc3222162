"""Fill the prefetch keys the client did not: render, fetch in parallel, within budget.

The pipeline gets back every key's payload, or the reason it could not be had. Whether
a failure is fatal (412) depends on the service: keys its handler's descriptor marks
optional (`optional_prefetch`, services/descriptors.py) may fail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

from cds_service.fhir.client import FhirClient
from cds_service.fhir.errors import FhirError, FhirNotFound
from cds_service.prefetch.resolve import keys_to_fetch
from cds_service.prefetch.templates import TemplateError, render
from cds_service.services.definitions import ServiceDefinition
from cds_service.wire.request import HookRequest

log = logging.getLogger(__name__)


@dataclass
class PrefetchResult:
    """Payload per key (Bundle or resource, None = no data) and why keys failed."""

    payloads: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    fhir_seconds: float = 0.0


def with_page_size(query: str, page_size: int | None) -> str:
    """A search asks for `page_size` entries per page (`_count`) unless it says otherwise.

    Servers page at 10-50 entries by default and each `next` page is one more round trip
    after the first (and, on many servers, the search run again): a year of labs would
    cost several sequential requests. Reads (`Type/id`) are left as they are.
    """
    if not page_size:
        return query
    path, _, params = query.partition("?")
    if is_read(query):
        return query
    if any(p.split("=", 1)[0] == "_count" for p in params.split("&") if p):
        return query
    return f"{path}?{params}&_count={page_size}" if params else f"{path}?_count={page_size}"


# How long past the budget the pipeline waits for fetch threads to report: the reaper
# (fhir/deadline.py) cuts their sockets at the deadline and they then raise at once.
GRACE_SECONDS = 0.5


def is_read(query: str) -> bool:
    """`Type/id` (a read), as opposed to a search (`Type?...`)."""
    return "/" in query.partition("?")[0].strip("/")


def resolve_prefetch(
    service: ServiceDefinition,
    request: HookRequest,
    client: FhirClient,
    executor: Executor,
    budget_seconds: float,
    page_size: int | None = None,
) -> PrefetchResult:
    """Use what the client prefetched; fetch the rest from fhirServer in parallel."""
    provided: Mapping[str, Any] = request.prefetch or {}
    result = PrefetchResult()
    missing = keys_to_fetch(service.prefetch, provided)
    for key in service.prefetch:
        if key not in missing:
            result.payloads[key] = provided[key]
    if not missing:
        return result
    if request.fhirServer is None:
        for key in missing:
            result.failures[key] = "not prefetched and no fhirServer to fetch it from"
        return result

    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    deadline = time.monotonic() + budget_seconds
    started = time.monotonic()
    futures: dict[str, Future[dict[str, Any]]] = {}
    queries: dict[str, str] = {}
    for key in missing:
        try:
            query = with_page_size(render(service.prefetch[key], request.context), page_size)
        except TemplateError as exc:
            result.failures[key] = str(exc)
            continue
        queries[key] = query
        futures[key] = executor.submit(client.get, request.fhirServer, query, token, deadline)
    # One wait for all keys, bounded by the one budget (not a wait per key).
    wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + GRACE_SECONDS)
    for key, future in futures.items():
        if not future.done():
            future.cancel()
            result.failures[key] = "time budget for FHIR calls exhausted"
            log.warning("prefetch_fetch_failed", extra={"key": key, "error": "TimeoutError"})
            continue
        try:
            result.payloads[key] = future.result()
            result.fetched.append(key)
        except FhirNotFound as exc:
            if is_read(queries[key]):
                result.payloads[key] = None  # a read of a resource that does not exist: no data
                result.fetched.append(key)
            else:  # a search has no "not found": the server did not answer it
                result.failures[key] = f"{exc}: the FHIR server did not answer the search"
                log.warning("prefetch_fetch_failed", extra={"key": key, "error": type(exc).__name__})
        except FhirError as exc:
            result.failures[key] = str(exc)
            log.warning("prefetch_fetch_failed", extra={"key": key, "error": type(exc).__name__})
        # A bug in the client: this key failed, the call goes on.
        except Exception as exc:  # noqa: BLE001
            result.failures[key] = f"FHIR fetch failed ({type(exc).__name__})"
            log.error("prefetch_fetch_error", extra={"key": key, "error": type(exc).__name__})
    result.fhir_seconds = time.monotonic() - started
    return result
