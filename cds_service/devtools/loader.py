"""Load fixture Bundles into a FHIR R4 server (pure I/O).

Each fixture is a transaction Bundle whose entries are idempotent: ``PUT Type/id`` with
stable ids (or conditional forms: ``PUT Type?search``, ``POST`` with ``ifNoneExist``), so
loading the same fixtures twice leaves one copy of each resource. Bundles are POSTed to
the server base as transactions; a server that does not take transactions there (404,
405 or 501, or an OperationOutcome with code ``not-supported``) gets the entries as
individual PUTs in entry order instead, which needs every entry to be ``PUT Type/id``.

Errors raise :class:`FixtureLoadError` with the HTTP status and the OperationOutcome
diagnostics. The bearer token never appears in a message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import requests

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
#: (connect, read) seconds for every request.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 120.0)
_NO_TRANSACTION_STATUSES = frozenset({404, 405, 501})
_TYPE_ID = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
# "Patient/123", "Patient/123/_history/4", or the same after an absolute base.
_LOCATION = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?/?$")


class FixtureLoadError(RuntimeError):
    """The FHIR server refused or failed a fixture load."""

    def __init__(self, message: str, *, status: int | None = None, diagnostics: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.diagnostics = diagnostics


def load_bundles(
    fhir_base: str,
    bundles: Iterable[Mapping[str, Any]],
    token: str | None,
    session: requests.Session | None = None,
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> list[str]:
    """Load each transaction Bundle into the server at ``fhir_base``; return the Patient ids.

    Patient ids come back in the order first seen, without duplicates. Raises
    ``ValueError`` for a Bundle that is not an idempotent transaction and
    :class:`FixtureLoadError` when the server refuses it.
    """
    base = fhir_base.rstrip("/")
    headers = {"Accept": FHIR_JSON, "Content-Type": FHIR_JSON}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    own_session = session is None
    http = session if session is not None else requests.Session()
    patient_ids: list[str] = []
    use_puts = False
    try:
        for number, bundle in enumerate(bundles, start=1):
            label = f"bundle {number}" + (f" (id {bundle['id']})" if bundle.get("id") else "")
            entries = _checked_entries(bundle, label)
            ids: list[str] = []
            if not use_puts:
                posted = _post_transaction(
                    http, base, bundle, entries, headers, timeout, label, token
                )
                if posted is None:
                    log.info("%s does not take transactions at its base; loading with PUTs", base)
                    use_puts = True
                else:
                    ids = posted
            if use_puts:
                ids = _put_entries(http, base, entries, headers, timeout, label, token)
            patient_ids.extend(i for i in ids if i not in patient_ids)
    finally:
        if own_session:
            http.close()
    return patient_ids


def _checked_entries(bundle: Mapping[str, Any], label: str) -> list[Mapping[str, Any]]:
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        raise ValueError(f"{label}: expected a Bundle of type transaction")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{label}: a transaction Bundle needs entries")
    for index, entry in enumerate(entries):
        request = entry.get("request") or {}
        method, url = request.get("method"), request.get("url") or ""
        resource = entry.get("resource") or {}
        where = f"{label} entry {index} ({method} {url})"
        if method == "PUT" and "?" not in url:
            match = _TYPE_ID.match(url)
            if not match or (resource.get("resourceType"), resource.get("id")) != match.groups():
                raise ValueError(f"{where}: PUT url must be Type/id matching the resource")
        elif not (method == "PUT" or (method == "POST" and request.get("ifNoneExist"))):
            raise ValueError(f"{where}: not idempotent; use PUT Type/id or a conditional create")
    return entries


def _post_transaction(
    http: requests.Session,
    base: str,
    bundle: Mapping[str, Any],
    entries: list[Mapping[str, Any]],
    headers: dict[str, str],
    timeout: tuple[float, float],
    label: str,
    token: str | None,
) -> list[str] | None:
    """POST the transaction; Patient ids, or None when the server takes no transactions."""
    response = _send(http, "POST", base, bundle, headers, timeout, label, token)
    if response.status_code in _NO_TRANSACTION_STATUSES or (
        response.status_code in (400, 422) and _outcome_code(response) == "not-supported"
    ):
        return None
    if not response.ok:
        _raise_for(response, f"POST {base} ({label})", token)
    body = _json(response)
    result_entries = body.get("entry") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("type") != "transaction-response"
        or not isinstance(result_entries, list)
        or len(result_entries) != len(entries)
    ):
        raise FixtureLoadError(
            f"POST {base} ({label}): HTTP {response.status_code} but not a transaction-response "
            f"Bundle with {len(entries)} entries",
            status=response.status_code,
        )
    ids = []
    for index, (entry, result) in enumerate(zip(entries, result_entries)):
        status = str((result or {}).get("response", {}).get("status", ""))
        if not status.startswith("2"):
            diagnostics = _redact(_describe(result.get("response", {}).get("outcome")), token)
            raise FixtureLoadError(
                f"POST {base} ({label}): entry {index} failed with status {status}: {diagnostics}",
                status=response.status_code,
                diagnostics=diagnostics,
            )
        location = str(result.get("response", {}).get("location") or "")
        ids.append(_patient_id(entry, location))
    return [i for i in ids if i]


def _put_entries(
    http: requests.Session,
    base: str,
    entries: list[Mapping[str, Any]],
    headers: dict[str, str],
    timeout: tuple[float, float],
    label: str,
    token: str | None,
) -> list[str]:
    ids = []
    for index, entry in enumerate(entries):
        request = entry["request"]
        if request["method"] != "PUT" or "?" in request["url"]:
            raise FixtureLoadError(
                f"{base} takes no transactions and {label} entry {index} "
                f"({request['method']} {request['url']}) is not PUT Type/id"
            )
        url = f"{base}/{request['url']}"
        response = _send(http, "PUT", url, entry["resource"], headers, timeout, label, token)
        if not response.ok:
            _raise_for(response, f"PUT {url} ({label} entry {index})", token)
        ids.append(_patient_id(entry, ""))
    return [i for i in ids if i]


def _send(
    http: requests.Session,
    method: str,
    url: str,
    body: Any,
    headers: dict[str, str],
    timeout: tuple[float, float],
    label: str,
    token: str | None,
) -> requests.Response:
    try:
        return http.request(method, url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        message = _redact(f"{method} {url} ({label}) failed: {type(exc).__name__}: {exc}", token)
        raise FixtureLoadError(message) from None


def _patient_id(entry: Mapping[str, Any], location: str) -> str | None:
    resource = entry.get("resource") or {}
    if resource.get("resourceType") != "Patient":
        return None
    match = _LOCATION.search(location.split("?")[0]) if location else None
    if match and match.group(1) == "Patient":
        return match.group(2)
    match = _TYPE_ID.match(entry["request"]["url"])
    return match.group(2) if match else resource.get("id")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _outcome_code(response: requests.Response) -> str | None:
    body = _json(response)
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        issues = body.get("issue") or [{}]
        return issues[0].get("code")
    return None


def _describe(outcome: Any) -> str:
    """One line from an OperationOutcome's issues."""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return ""
    parts = []
    for issue in outcome.get("issue") or []:
        text = (issue.get("details") or {}).get("text") or ""
        detail = "; ".join(p for p in (text, issue.get("diagnostics") or "") if p)
        where = ", ".join(issue.get("expression") or [])
        parts.append(f"{issue.get('code', 'error')}: {detail}" + (f" at {where}" if where else ""))
    return " | ".join(parts)


def _raise_for(response: requests.Response, what: str, token: str | None) -> None:
    diagnostics = _describe(_json(response)) or response.text[:500]
    diagnostics = _redact(diagnostics, token)
    raise FixtureLoadError(
        f"{what}: HTTP {response.status_code}: {diagnostics}",
        status=response.status_code,
        diagnostics=diagnostics,
    )


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, "[token]") if token else text
