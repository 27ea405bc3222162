"""A small FHIR R4 client around one pooled `requests.Session`.

Every call has connect/read timeouts and runs inside a deadline (the hook call's
budget), enforced inside every read: past it the sockets still in use are shut down
(`fhir/deadline.py`), so a server trickling bytes cannot keep the call, or the fetch
thread, past the budget. 429/502/503/504 are retried with backoff, honouring Retry-After
only when it fits the budget; responses over a size limit, with more entries than
`max_entries` or nesting deeper than `max_depth` are refused; redirects and `next` links
are only followed inside the server's base, so the bearer token never leaves it
(as fhir-py refuses absolute URLs outside the base).
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import orjson
import requests
import urllib3.exceptions

from cds_service.fhir.deadline import WatchedAdapter, reaper
from cds_service.fhir.errors import (
    FhirAccessDenied,
    FhirBadResponse,
    FhirBudgetExceeded,
    FhirError,
    FhirNotFound,
    FhirUnavailable,
)
from cds_service.fhir.raw import items
from cds_service.limits import nesting_exceeds
from cds_service.security.urls import same_base

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_REDIRECTS = 3
# What a read can raise once its socket fails or is shut down at the deadline.
TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError,
                    http.client.HTTPException, OSError)


@dataclass(frozen=True)
class ClientLimits:
    """The client's limits. These defaults are the configuration's ([fhir] in config.py
    reads them from here): each is written once."""

    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    retries: int = 2
    backoff_seconds: float = 0.2
    max_response_bytes: int = 20 * 1024 * 1024
    page_cap: int = 10
    max_entries: int = 5000  # per search, all pages ([service] max_bundle_entries)
    max_depth: int | None = 64  # JSON nesting ([service] max_json_depth)


def make_session(pool_size: int) -> requests.Session:
    """One session per worker: connection pooling across hook calls."""
    session = requests.Session()
    adapter = WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # no proxies from the environment: calls go where we say
    return session


class FhirClient:
    """Reads and searches against one FHIR server, within a deadline."""

    def __init__(self, session: requests.Session, limits: ClientLimits) -> None:
        self.session = session
        self.limits = limits

    def get(self, base: str, query: str, token: str | None, deadline: float) -> dict[str, Any]:
        """A read (`Type/id`) or a search; searchset pages are merged into one Bundle.
        Nothing of it outlives `deadline` (time.monotonic()): FhirBudgetExceeded then."""
        if time.monotonic() >= deadline:  # e.g. queued behind other calls' fetches
            raise FhirBudgetExceeded("time budget for FHIR calls exhausted")
        with reaper.watching(deadline):
            return self._get(base, query, token, deadline)

    def _get(self, base: str, query: str, token: str | None, deadline: float) -> dict[str, Any]:
        base = base.rstrip("/")
        url = f"{base}/{query.lstrip('/')}"
        first = self._get_json(url, base, token, deadline)
        if first.get("resourceType") != "Bundle" or first.get("type") != "searchset":
            return first
        entries = list(items(first.get("entry")))
        self._check_entries(entries)
        seen = {url}
        next_url = _next_link(first)
        pages = 1
        while next_url and pages < self.limits.page_cap:
            if not same_base(next_url, base):
                raise FhirBadResponse("next link points outside the FHIR server's base")
            if next_url in seen:
                raise FhirBadResponse("paging loop: next link repeats an earlier page")
            seen.add(next_url)
            page = self._get_json(next_url, base, token, deadline)
            if page.get("resourceType") != "Bundle":
                raise FhirBadResponse("paging returned something other than a Bundle")
            entries.extend(items(page.get("entry")))
            self._check_entries(entries)
            next_url = _next_link(page)
            pages += 1
        merged = {k: v for k, v in first.items() if k not in ("entry", "link")}
        merged["entry"] = entries
        merged["total"] = len(entries)
        if next_url:
            merged["meta"] = {"tag": [{"code": "SUBSETTED", "display": "page cap reached"}]}
        return merged

    def _check_entries(self, entries: list[Any]) -> None:
        if len(entries) > self.limits.max_entries:
            raise FhirBadResponse(f"the search returned more than {self.limits.max_entries} "
                                  "entries ([service] max_bundle_entries)")

    def _get_json(self, url: str, base: str, token: str | None, deadline: float) -> dict[str, Any]:
        headers = {"Accept": "application/fhir+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self._send(url, base, headers, deadline)
        body = self._read_limited(response, deadline)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if _past(deadline):  # headers or body cut short by the reaper at the deadline
                raise FhirBudgetExceeded("time budget for FHIR calls exhausted while "
                                         "reading the response") from exc
            raise FhirBadResponse(f"malformed JSON from FHIR server (HTTP {response.status_code})") from exc
        if not isinstance(data, Mapping) or not isinstance(data.get("resourceType"), str):
            raise FhirBadResponse("FHIR server answered with something that is not a resource")
        depth = self.limits.max_depth
        if depth is not None and nesting_exceeds(data, depth):
            raise FhirBadResponse(f"FHIR response nests deeper than {depth} levels "
                                  "([service] max_json_depth)")
        if data["resourceType"] == "OperationOutcome":
            raise FhirBadResponse(f"FHIR server answered with an OperationOutcome: {_diagnostics(data)}")
        return dict(data)

    def _send(
        self, url: str, base: str, headers: dict[str, str], deadline: float
    ) -> requests.Response:
        for attempt in range(self.limits.retries + 1):
            response = self._send_once(url, base, headers, deadline)
            status = response.status_code
            if status < 400:
                return response
            if status in RETRY_STATUSES and attempt < self.limits.retries:
                wait = _retry_after(response) or self.limits.backoff_seconds * (2**attempt)
                response.close()
                if time.monotonic() + wait >= deadline:
                    raise FhirBudgetExceeded(f"HTTP {status}: retry would exceed the time budget")
                time.sleep(wait)
                continue
            self._raise_for_status(response)
        raise FhirUnavailable("FHIR server unavailable after retries")  # pragma: no cover

    def _send_once(
        self, url: str, base: str, headers: dict[str, str], deadline: float
    ) -> requests.Response:
        for _ in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FhirBudgetExceeded("time budget for FHIR calls exhausted")
            timeout = (
                min(self.limits.connect_timeout, remaining),
                min(self.limits.read_timeout, remaining),
            )
            try:
                response = self.session.get(
                    url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
                )
            except TRANSPORT_ERRORS as exc:
                if _past(deadline):  # timed out, or cut by the reaper, at the deadline
                    raise FhirBudgetExceeded("time budget for FHIR calls exhausted "
                                             "while waiting for the server") from exc
                if isinstance(exc, requests.Timeout):
                    raise FhirUnavailable("FHIR server timed out") from exc
                raise FhirUnavailable(f"FHIR server unreachable: {type(exc).__name__}") from exc
            if response.is_redirect:
                location = urljoin(url, response.headers.get("Location", ""))
                response.close()
                if not same_base(location, base):
                    raise FhirBadResponse("redirect outside the FHIR server's base refused")
                url = location
                continue
            return response
        raise FhirBadResponse("too many redirects")

    def _read_limited(self, response: requests.Response, deadline: float) -> bytes:
        """The body, within max_response_bytes and the deadline (checked per chunk; a
        read blocked past it is cut by the reaper)."""
        limit = self.limits.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            response.close()
            raise FhirBadResponse(f"FHIR response larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                if time.monotonic() >= deadline:
                    raise FhirBudgetExceeded("time budget for FHIR calls exhausted while "
                                             "reading the response")
                size += len(chunk)
                if size > limit:
                    raise FhirBadResponse(f"FHIR response larger than {limit} bytes")
                chunks.append(chunk)
        except TRANSPORT_ERRORS as exc:
            if _past(deadline):
                raise FhirBudgetExceeded("time budget for FHIR calls exhausted while "
                                         "reading the response") from exc
            raise FhirUnavailable(f"FHIR response interrupted: {type(exc).__name__}") from exc
        finally:
            response.close()
        return b"".join(chunks)

    @staticmethod
    def _raise_for_status(response: requests.Response) -> None:
        status = response.status_code
        response.close()
        if status in (401, 403):
            raise FhirAccessDenied(f"FHIR server refused access (HTTP {status})")
        if status in (404, 410):
            raise FhirNotFound(f"FHIR resource not found (HTTP {status})")
        if status >= 500 or status in RETRY_STATUSES:
            raise FhirUnavailable(f"FHIR server error (HTTP {status})")
        raise FhirError(f"FHIR server refused the query (HTTP {status})")


def _past(deadline: float) -> bool:
    """At (or within 50 ms of) the deadline: a timeout there is the budget's doing."""
    return deadline - time.monotonic() <= 0.05


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in items(bundle.get("link")):
        if isinstance(link, Mapping) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _diagnostics(outcome: Mapping[str, Any]) -> str:
    texts = [
        str(issue.get("diagnostics") or issue.get("code") or "")
        for issue in items(outcome.get("issue"))
        if isinstance(issue, Mapping)
    ]
    return "; ".join(t for t in texts if t)[:300] or "no diagnostics"
