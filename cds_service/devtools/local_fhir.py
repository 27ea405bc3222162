"""Answer prefetch queries from a fixture bundle the way a FHIR server would: enough
FHIR search (`patient`, `code`, `category`, `modality`, `status`, `_id`) for the
service's own templates, so a hook request can carry its prefetch without a server.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from cds_service.prefetch.templates import TemplateError, render

LOCAL_BASE = "https://ehr.example.org/fhir"  # fullUrl base when no fhirServer is given


def resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The resources of a Bundle's entries."""
    return [e["resource"] for e in bundle.get("entry") or () if isinstance(e.get("resource"), dict)]


def draft_orders(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Unsigned orders (status draft): they go in context.draftOrders, not in the record."""
    return [r for r in resources(bundle) if r.get("status") == "draft"]


def _token_match(codings: Iterable[Mapping[str, Any]], wanted: str) -> bool:
    """FHIR token search: `system|code`, `|code` (no system), `system|`, or `code`."""
    for value in wanted.split(","):
        system, sep, code = value.rpartition("|") if "|" in value else ("", "", value)
        for coding in codings:
            if sep and system and coding.get("system") != system:
                continue
            if sep and not system and coding.get("system"):
                continue
            if not code or coding.get("code") == code:
                return True
    return False


def _codings(concepts: Any) -> list[Mapping[str, Any]]:
    concepts = concepts if isinstance(concepts, list) else [concepts] if concepts else []
    return [c for cc in concepts if isinstance(cc, Mapping) for c in cc.get("coding") or ()]


def _matches(resource: Mapping[str, Any], param: str, value: str) -> bool:
    if param in ("patient", "subject"):
        ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        return ref in (value, f"Patient/{value}")
    if param == "code":
        code = resource.get("code") or resource.get("medicationCodeableConcept")
        return _token_match(_codings(code), value)
    if param == "category":
        return _token_match(_codings(resource.get("category")), value)
    if param == "modality":
        mods = list(resource.get("modality") or ())
        mods += [s["modality"] for s in resource.get("series") or () if s.get("modality")]
        return _token_match(mods, value)
    if param == "status":
        return resource.get("status") in value.split(",")
    if param == "_id":
        return resource.get("id") in value.split(",")
    raise ValueError(f"local search does not support parameter {param!r}")


def local_search(bundle: Mapping[str, Any], query: str, base: str = LOCAL_BASE) -> Any:
    """Answer a rendered prefetch query from the bundle, as a FHIR server would:
    `Type/id` gives the resource (None when absent), `Type?params` a searchset Bundle.
    Draft orders are invisible: an EHR prefetches stored data, not the open session."""
    stored = [r for r in resources(bundle) if r.get("status") != "draft"]
    path, _, qs = query.partition("?")
    rtype, _, rid = unquote(path).strip("/").partition("/")
    if rid:
        return next((copy.deepcopy(r) for r in stored
                     if r["resourceType"] == rtype and r.get("id") == rid), None)
    params = [(k, v) for k, v in parse_qsl(qs, keep_blank_values=True)
              if k not in ("_count", "_sort", "_total")]
    hits = [r for r in stored if r["resourceType"] == rtype
            and all(_matches(r, k, v) for k, v in params)]
    result: dict[str, Any] = {
        "resourceType": "Bundle", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, query)),
        "type": "searchset", "total": len(hits),
        "link": [{"relation": "self", "url": f"{base}/{query}"}]}
    if hits:
        result["entry"] = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                            "resource": copy.deepcopy(r), "search": {"mode": "match"}}
                           for r in hits]
    return result


def render_template(template: str, context: Mapping[str, Any]) -> str | None:
    """The service's own renderer; None when a token has no value (key left unfilled)."""
    try:
        return render(template, context)
    except TemplateError:
        return None
