"""Which prefetch keys the service must fetch itself (pure).

CDS Hooks 2.0 §Prefetch: a key the client chose not to fill is absent; a key with no
data is `null`; a value may be an OperationOutcome when the client's query failed. In
all three cases the service fetches that data from fhirServer itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cds_service.errors import BadRequest, Issue


def usable(value: Any) -> bool:
    """A prefetch value the service can use as it is."""
    return isinstance(value, Mapping) and value.get("resourceType") not in (None, "OperationOutcome")


def keys_to_fetch(expected: Iterable[str], provided: Mapping[str, Any] | None) -> list[str]:
    """Expected keys that are absent, null or an OperationOutcome, in template order."""
    provided = provided or {}
    return [key for key in expected if not usable(provided.get(key))]


def check_prefetch_shape(provided: Mapping[str, Any] | None) -> None:
    """Refuse prefetch values that are neither null nor a FHIR resource (400)."""
    issues = [
        Issue("invalid", f"prefetch.{key} must be a FHIR resource or null", f"prefetch.{key}")
        for key, value in (provided or {}).items()
        if value is not None
        and not (isinstance(value, Mapping) and isinstance(value.get("resourceType"), str))
    ]
    if issues:
        raise BadRequest("malformed prefetch", issues)
