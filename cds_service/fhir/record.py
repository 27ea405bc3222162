"""A patient's FHIR data, parsed selectively into R4B models.

Prefetch results and FHIR search pages arrive as raw JSON. Building pydantic models is
the expensive part, so raw resources are first filtered by a cheap predicate on the
JSON (resource type, code) supplied by the service logic, and only what the decision
reads is validated into fhir.resources R4B models (R4 is what EHRs send).

Validation costs about 150 us per Observation, so parsed models are also kept per worker,
keyed by a hash of the resource's JSON: a resource sent again (order-select fires on
every edit of an order; prefetch and fallback overlap) is not validated twice. Models are
shared between requests and must be treated as read-only (the clinical layer only reads).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from cds_service.limits import checked, nesting_exceeds
from cds_service.redact import resource_label

log = logging.getLogger(__name__)

# Per-process caches, least recently used dropped, each bounded by entries and by bytes.
# An entry weighs its resources' JSON size plus ENTRY_OVERHEAD per resource (a parsed
# Observation of ~1 KB of JSON takes ~8 KB; a 4 MB string takes its 4 MB), so the bytes
# bound holds whatever the resources' sizes (issue 13: 400 calls of one distinct 4 MB
# Observation each had grown a worker by 1.5 GB under a count bound). The three caches
# share `[service] cache_mb` (192 MB: 64 MB each; they share models, so together they
# pin at most that much). The benchmark's 300 MB per worker includes ~175 MB of libraries.
MODEL_CACHE_SIZE = 4096  # parsed resources
RECORD_CACHE_SIZE = 16  # whole records
ENTRY_OVERHEAD = 8192  # bytes per parsed resource beyond its JSON
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024  # per cache
T = TypeVar("T")
V = TypeVar("V")

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
                if isinstance(resource, Mapping) and isinstance(resource.get("resourceType"), str):
                    if resource["resourceType"] != "OperationOutcome":
                        yield resource  # type: ignore[misc]
    elif isinstance(resource_type, str) and resource_type != "OperationOutcome":
        yield payload  # type: ignore[misc]


@dataclass
class PatientRecord:
    """Parsed resources of one patient, by resource type, deduplicated by type/id.

    Read-only once built: `cached_record` hands the same record to every request that
    sends the same data, so values computed from the record alone can be kept on it
    (`derived`) and are not computed twice.
    """

    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    skipped_invalid: list[str] = field(default_factory=list)  # loggable labels (redact)
    weight: int = 0  # bytes, as the caches count them
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _invalid_errors: list[int] = field(default_factory=list, repr=False, compare=False)
    _weights: dict[int, int] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: str, compute: Callable[[], T],
                over: Sequence[Any] | None = None) -> T:
        """`compute()` once per record. Only for values that depend on this record and
        nothing else (not the clock, not settings): the record outlives the request.

        With `over`, the value depends on those parsed resources alone and is shared with
        other records holding the very same ones: a new report must not make the worker
        redo a year of labs it has just read (`shared_derived`)."""
        try:
            return self._derived[key]  # type: ignore[no-any-return]
        except KeyError:
            if over is None:
                value = compute()
            else:
                value = shared_derived.get_or_compute(
                    key, over, compute,
                    lambda held: sum(self._weights.get(id(m), ENTRY_OVERHEAD) for m in held))
            self._derived[key] = value
            return value

    def of(self, resource_type: str) -> list[Any]:
        """All parsed resources of a type (empty list when none)."""
        return self.by_type.get(resource_type, [])

    @property
    def patient(self) -> Any | None:
        patients = self.of("Patient")
        return patients[0] if patients else None

    def count(self) -> int:
        return sum(len(v) for v in self.by_type.values())


class BoundedLru(Generic[V]):
    """Least recently used out, bounded by entries and by the weight they hold in all
    (bytes, for the caches here); an entry heavier than the whole bound is not kept."""

    def __init__(self, size: int, max_weight: int) -> None:
        self.size = size
        self.max_weight = max_weight
        self._items: OrderedDict[Any, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: V, weight: int) -> None:
        if weight > self.max_weight:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._items[key] = (value, weight)
            self._weight += weight
            while len(self._items) > self.size or self._weight > self.max_weight:
                _, (_, dropped) = self._items.popitem(last=False)
                self._weight -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def weight(self) -> int:
        return self._weight


@dataclass(frozen=True)
class _Invalid:
    """A resource that failed validation (cached too: it fails the same way again)."""

    errors: int


class ResourceTooDeep(ValueError):
    """A resource nests deeper than the limit: refused before validation (which recurses
    once per level and would fail with RecursionError near 250 levels)."""


class ModelCache:
    """Parsed models by a BLAKE2b digest of the resource's JSON, least recently used out,
    bounded by entries and by bytes (JSON size + ENTRY_OVERHEAD each)."""

    def __init__(self, size: int = MODEL_CACHE_SIZE, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._lru: BoundedLru[Resource | _Invalid] = BoundedLru(size, max_bytes)

    @property
    def size(self) -> int:
        return self._lru.size

    def parse(self, raw: RawResource, max_depth: int | None = None) -> tuple[Resource | _Invalid, int]:
        """The model (or _Invalid) and its weight in bytes. With `max_depth`, a resource
        not seen before that nests deeper raises ResourceTooDeep."""
        try:
            data = orjson.dumps(raw)
        except TypeError:  # not plain JSON (a caller's Python object, or nested past 254)
            self._check_depth(raw, max_depth)
            return _validate(raw), ENTRY_OVERHEAD
        key = hashlib.blake2b(data, digest_size=16).digest()
        weight = len(data) + ENTRY_OVERHEAD
        found = self._lru.get(key)
        if found is not None:
            return found, weight
        self._check_depth(raw, max_depth)
        parsed = _validate(raw)
        self._lru.put(key, parsed, weight)
        return parsed, weight

    @staticmethod
    def _check_depth(raw: RawResource, max_depth: int | None) -> None:
        if max_depth is not None and nesting_exceeds(raw, max_depth):
            raise ResourceTooDeep(f"{resource_label(raw)} nests deeper than {max_depth} levels "
                                  "([service] max_json_depth)")

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def weight(self) -> int:
        return self._lru.weight


def _validate(raw: RawResource) -> Resource | _Invalid:
    try:
        return get_fhir_model_class(raw["resourceType"]).model_validate(raw)
    except (KeyError, ValueError) as exc:  # pydantic ValidationError is a ValueError
        return _Invalid(_error_count(exc))
    except RecursionError:  # only without max_depth (unit tests, the CLI): still invalid
        return _Invalid(1)


models = ModelCache()


def build_record(
    payloads: Iterable[Any], keep: ResourceFilter = accept_all,
    cache: ModelCache | None = None, max_depth: int | None = None,
) -> PatientRecord:
    """Parse the kept resources of every payload (Bundle or resource) into R4B models.

    A resource that fails validation is skipped: one malformed Observation must not hide
    the rest of the record. The skipped ones are logged in one line per record (a count
    and the first few labels: valid ids as they are, anything else hashed; never
    content). The request deadline is checked as resources are parsed; with `max_depth`,
    a resource nesting deeper raises ResourceTooDeep.
    """
    cache = cache if cache is not None else models
    record = PatientRecord()
    seen: set[tuple[str, str]] = set()
    for payload in payloads:
        for raw in checked(iter_raw_resources(payload), stage="reading the record"):
            resource_type = raw["resourceType"]
            rid = raw.get("id")
            if isinstance(rid, str):
                if (resource_type, rid) in seen:
                    continue
            if not keep(raw):
                continue
            model, weight = cache.parse(raw, max_depth)
            if isinstance(model, _Invalid):
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


LOGGED_LABELS = 5  # skipped resources named in the log line; the rest are counted


def log_skipped(record: PatientRecord) -> None:
    """One warning for all the invalid resources of a record (never one per resource: a
    request of 40,000 invalid Conditions once wrote 40,002 lines)."""
    if record.skipped_invalid:
        log.warning("fhir_resource_invalid", extra={
            "count": len(record.skipped_invalid),
            "resources": record.skipped_invalid[:LOGGED_LABELS],
            "errors": sum(record._invalid_errors)})


class RecordCache:
    """Whole records by a BLAKE2b digest of all their payloads' JSON and the filter,
    bounded by count and by the bytes their resources weigh (a heavier record is not kept)."""

    def __init__(self, size: int = RECORD_CACHE_SIZE,
                 max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._lru: BoundedLru[PatientRecord] = BoundedLru(size, max_bytes)

    def get(self, key: tuple[Any, ...]) -> PatientRecord | None:
        return self._lru.get(key)

    def put(self, key: tuple[Any, ...], record: PatientRecord) -> None:
        self._lru.put(key, record, record.weight + ENTRY_OVERHEAD)

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def weight(self) -> int:
        return self._lru.weight


records = RecordCache()


class SharedDerived:
    """Values computed from a list of parsed models, by the models' identities.

    Parsed models are shared between requests (ModelCache), so the same identities mean
    the same resources. An entry holds its models, so their ids cannot be reused while
    it lives; bounded like RecordCache, by entries and by the bytes of the models held."""

    def __init__(self, size: int = RECORD_CACHE_SIZE,
                 max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._lru: BoundedLru[tuple[tuple[Any, ...], Any]] = BoundedLru(size, max_bytes)

    def get_or_compute(self, key: str, over: Sequence[Any], compute: Callable[[], T],
                       weigh: Callable[[Sequence[Any]], int] | None = None) -> T:
        held = tuple(over)
        ident = (key, *map(id, held))
        found = self._lru.get(ident)
        if found is not None and all(a is b for a, b in zip(found[0], held)):
            return found[1]  # type: ignore[no-any-return]
        value = compute()
        weight = weigh(held) if weigh is not None else ENTRY_OVERHEAD * len(held)
        self._lru.put(ident, (held, value), weight + ENTRY_OVERHEAD)
        return value

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def weight(self) -> int:
        return self._lru.weight


shared_derived = SharedDerived()


def _filter_key(keep: ResourceFilter) -> tuple[Any, ...]:
    """The filter by identity (a bound method: its object and function; the key holds
    them, so an id is never reused for another filter while cached)."""
    owner = getattr(keep, "__self__", None)
    return (owner, getattr(keep, "__func__", keep))


def configure_caches(total_bytes: int) -> None:
    """Bound the worker's three caches of parsed FHIR data to `total_bytes` in all
    (`[service] cache_mb`), a third each; emptied."""
    global models, records, shared_derived
    each = max(1, total_bytes // 3)
    models = ModelCache(MODEL_CACHE_SIZE, each)
    records = RecordCache(RECORD_CACHE_SIZE, each)
    shared_derived = SharedDerived(RECORD_CACHE_SIZE, each)


def cached_record(
    payloads: Iterable[Any], keep: ResourceFilter = accept_all,
    cache: RecordCache | None = None, max_depth: int | None = None,
) -> PatientRecord:
    """build_record, but the same data (and filter) gives the same record object.

    order-select fires on every edit of an order with the same prefetch: the digest of
    the payloads (~0.1 ms for a typical chart) replaces filtering and model lookups, and
    what the service logic derived from the record last time is still on it.
    """
    cache = cache if cache is not None else records
    payloads = list(payloads)
    try:
        key = (hashlib.blake2b(orjson.dumps(payloads), digest_size=16).digest(),
               *_filter_key(keep))
        hash(key)
    except TypeError:  # not plain JSON, or an unhashable filter: no reuse
        return build_record(payloads, keep, max_depth=max_depth)
    record = cache.get(key)
    if record is None:
        record = build_record(payloads, keep, max_depth=max_depth)
        cache.put(key, record)
        return record
    log_skipped(record)
    return record


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
