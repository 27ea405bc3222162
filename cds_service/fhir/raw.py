"""Raw FHIR JSON as it arrives, read before any model is built.

Prefetch values and search pages are plain JSON from a client or a server: nothing about
their shape can be assumed, so these helpers never raise on junk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

RawResource = dict[str, Any]
ResourceFilter = Callable[[RawResource], bool]


def items(value: Any) -> list[Any]:
    """A JSON array as a list, and anything else (a client's junk) as an empty one:
    raw resources are read before validation, so no field's shape can be assumed."""
    return value if isinstance(value, list) else []


def accept_all(raw: RawResource) -> bool:
    """Default filter: keep every resource."""
    return True


def iter_raw_resources(payload: Any) -> Iterable[RawResource]:
    """Yield the resources of a prefetch value: a Bundle's entries, or a single resource.

    OperationOutcomes and malformed entries yield nothing: callers treat a key whose
    value is an OperationOutcome as "not provided" before getting here.
    """
    if not isinstance(payload, Mapping):
        return
    resource_type = payload.get("resourceType")
    if resource_type == "Bundle":
        for entry in items(payload.get("entry")):
            if isinstance(entry, Mapping):
                resource = entry.get("resource")
                if isinstance(resource, Mapping) and isinstance(
                        resource.get("resourceType"), str) \
                        and resource["resourceType"] != "OperationOutcome":
                    yield resource  # type: ignore[misc]
    elif isinstance(resource_type, str) and resource_type != "OperationOutcome":
        yield payload  # type: ignore[misc]
