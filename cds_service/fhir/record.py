"""A patient's FHIR data, parsed selectively into R4B models.

Prefetch results and FHIR search pages arrive as raw JSON. Building pydantic models is
the expensive part, so raw resources are first filtered by a cheap predicate on the
JSON (resource type, code) supplied by the service logic, and only what the decision
reads is validated into fhir.resources R4B models (R4 is what EHRs send).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

log = logging.getLogger(__name__)

RawResource = dict[str, Any]
ResourceFilter = Callable[[RawResource], bool]


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
        for entry in payload.get("entry") or ():
            if isinstance(entry, Mapping):
                resource = entry.get("resource")
                if isinstance(resource, Mapping) and isinstance(resource.get("resourceType"), str):
                    if resource["resourceType"] != "OperationOutcome":
                        yield resource  # type: ignore[misc]
    elif isinstance(resource_type, str) and resource_type != "OperationOutcome":
        yield payload  # type: ignore[misc]


@dataclass
class PatientRecord:
    """Parsed resources of one patient, by resource type, deduplicated by type/id."""

    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    skipped_invalid: list[str] = field(default_factory=list)

    def of(self, resource_type: str) -> list[Any]:
        """All parsed resources of a type (empty list when none)."""
        return self.by_type.get(resource_type, [])

    @property
    def patient(self) -> Any | None:
        patients = self.of("Patient")
        return patients[0] if patients else None

    def count(self) -> int:
        return sum(len(v) for v in self.by_type.values())


def build_record(
    payloads: Iterable[Any], keep: ResourceFilter = accept_all
) -> PatientRecord:
    """Parse the kept resources of every payload (Bundle or resource) into R4B models.

    A resource that fails validation is skipped and its type/id logged (never its
    content): one malformed Observation must not hide the rest of the record.
    """
    record = PatientRecord()
    seen: set[tuple[str, str]] = set()
    for payload in payloads:
        for raw in iter_raw_resources(payload):
            resource_type = raw["resourceType"]
            rid = raw.get("id")
            if isinstance(rid, str):
                if (resource_type, rid) in seen:
                    continue
            if not keep(raw):
                continue
            try:
                model = get_fhir_model_class(resource_type).model_validate(raw)
            except (KeyError, ValueError) as exc:  # pydantic ValidationError is a ValueError
                label = f"{resource_type}/{rid if isinstance(rid, str) else '?'}"
                record.skipped_invalid.append(label)
                log.warning(
                    "fhir_resource_invalid",
                    extra={"resource": label, "errors": _error_count(exc)},
                )
                continue
            if isinstance(rid, str):
                seen.add((resource_type, rid))
            record.by_type.setdefault(resource_type, []).append(model)
    return record


def _error_count(exc: Exception) -> int:
    errors = getattr(exc, "errors", None)
    return len(errors()) if callable(errors) else 1
