"""A patient's FHIR data, parsed selectively into R4B models.

Prefetch results and FHIR search pages arrive as raw JSON. Building pydantic models is
the expensive part, so raw resources are first filtered by a cheap predicate on the
JSON (resource type, code) supplied by the service logic, and only what the decision
reads is validated into fhir.resources R4B models (R4 is what EHRs send).

Parsed models may come from a worker's model cache (fhir/caches.py) and be shared
between requests: they must be treated as read-only (the clinical layer only reads).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from cds_service.fhir.raw import RawResource, ResourceFilter, accept_all, iter_raw_resources
from cds_service.limits import checked, nesting_exceeds
from cds_service.redact import resource_label

log = logging.getLogger(__name__)

# A parsed Observation of ~1 KB of JSON takes ~8 KB; a 4 MB string takes its 4 MB: a
# resource weighs its JSON size plus this, wherever parsed data is bounded by bytes.
ENTRY_OVERHEAD = 8192
LOGGED_LABELS = 5  # skipped resources named in the log line; the rest are counted


@dataclass
class PatientRecord:
    """Parsed resources of one patient, by resource type, deduplicated by type/id.

    Read-only once built: the record cache may hand the same record to every request
    that sends the same data."""

    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    skipped_invalid: list[str] = field(default_factory=list)  # loggable labels (redact)
    weight: int = 0  # bytes, as the caches count them
    _invalid_errors: list[int] = field(default_factory=list, repr=False, compare=False)
    _weights: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def of(self, resource_type: str) -> list[Any]:
        """All parsed resources of a type (empty list when none)."""
        return self.by_type.get(resource_type, [])

    @property
    def patient(self) -> Any | None:
        patients = self.of("Patient")
        return patients[0] if patients else None

    def count(self) -> int:
        return sum(len(v) for v in self.by_type.values())

    def weight_of(self, models: Sequence[Any]) -> int:
        """Bytes these parsed resources of the record weigh (JSON size + ENTRY_OVERHEAD)."""
        return sum(self._weights.get(id(m), ENTRY_OVERHEAD) for m in models)


@dataclass(frozen=True)
class Invalid:
    """A resource that failed validation (a cache keeps this too: it fails the same way)."""

    errors: int


class ResourceTooDeep(ValueError):
    """A resource nests deeper than the limit: refused before validation (which recurses
    once per level and would fail with RecursionError near 250 levels)."""


class Parser(Protocol):
    """Turns raw JSON into a model (or Invalid) and its weight in bytes."""

    def parse(self, raw: RawResource, max_depth: int | None = None
              ) -> tuple[Resource | Invalid, int]: ...


class Validator:
    """Parses every resource afresh (no cache)."""

    def parse(self, raw: RawResource, max_depth: int | None = None
              ) -> tuple[Resource | Invalid, int]:
        check_depth(raw, max_depth)
        try:
            weight = len(orjson.dumps(raw)) + ENTRY_OVERHEAD
        except TypeError:  # not plain JSON (a caller's Python object, or nested past 254)
            weight = ENTRY_OVERHEAD
        return validate(raw), weight


def check_depth(raw: RawResource, max_depth: int | None) -> None:
    """With `max_depth`, a resource nesting deeper raises ResourceTooDeep."""
    if max_depth is not None and nesting_exceeds(raw, max_depth):
        raise ResourceTooDeep(f"{resource_label(raw)} nests deeper than {max_depth} levels "
                              "([service] max_json_depth)")


def validate(raw: RawResource) -> Resource | Invalid:
    """The R4B model of a raw resource, or Invalid with its error count."""
    try:
        return get_fhir_model_class(raw["resourceType"]).model_validate(raw)  # type: ignore[return-value]
    except (KeyError, ValueError) as exc:  # pydantic ValidationError is a ValueError
        return Invalid(_error_count(exc))
    except RecursionError:  # only without max_depth (unit tests, the CLI): still invalid
        return Invalid(1)


def build_record(
    payloads: Iterable[Any], keep: ResourceFilter = accept_all,
    cache: Parser | None = None, max_depth: int | None = None,
) -> PatientRecord:
    """Parse the kept resources of every payload (Bundle or resource) into R4B models,
    through `cache` (a ModelCache) when given.

    A resource that fails validation is skipped: one malformed Observation must not hide
    the rest of the record. The skipped ones are logged in one line per record (a count
    and the first few labels: valid ids as they are, anything else hashed; never
    content). The request deadline is checked as resources are parsed; with `max_depth`,
    a resource nesting deeper raises ResourceTooDeep.
    """
    parser: Parser = cache if cache is not None else Validator()
    record = PatientRecord()
    seen: set[tuple[str, str]] = set()
    for payload in payloads:
        for raw in checked(iter_raw_resources(payload), stage="reading the record"):
            resource_type = raw["resourceType"]
            rid = raw.get("id")
            if isinstance(rid, str) and (resource_type, rid) in seen:
                continue
            if not keep(raw):
                continue
            model, weight = parser.parse(raw, max_depth)
            if isinstance(model, Invalid):
                record.skipped_invalid.append(resource_label(raw))
                record._invalid_errors.append(model.errors)
                continue
            if isinstance(rid, str):
                seen.add((resource_type, rid))
            record.by_type.setdefault(resource_type, []).append(model)
            record.weight += weight
            record._weights[id(model)] = weight
    log_skipped(record)
    return record


def log_skipped(record: PatientRecord) -> None:
    """One warning for all the invalid resources of a record (never one per resource: a
    request of 40,000 invalid Conditions once wrote 40,002 lines)."""
    if record.skipped_invalid:
        log.warning("fhir_resource_invalid", extra={
            "count": len(record.skipped_invalid),
            "resources": record.skipped_invalid[:LOGGED_LABELS],
            "errors": sum(record._invalid_errors)})


# Data types nearly every clinical resource holds; fhir.resources imports them lazily.
COMMON_DATATYPES = ("CodeableConcept", "Coding", "Reference", "Extension", "Identifier",
                    "Quantity", "Annotation", "Period", "Attachment", "Meta", "Narrative",
                    "Dosage", "Range", "Ratio", "HumanName")


def preload_models(resource_types: Iterable[str]) -> None:
    """Import the model classes of these resource types (and the common data types) and
    build their validators now (at worker start), not during the first request."""
    for resource_type in (*sorted(set(resource_types)), *COMMON_DATATYPES):
        try:
            model_class = get_fhir_model_class(resource_type)
        except KeyError:
            continue
        try:
            model_class.model_validate(
                {} if resource_type in COMMON_DATATYPES else {"resourceType": resource_type})
        except ValueError:
            pass  # a bare instance may miss required fields: the validators are built now


def _error_count(exc: Exception) -> int:
    errors = getattr(exc, "errors", None)
    return len(errors()) if callable(errors) else 1
