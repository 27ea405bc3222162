"""The worker's caches of parsed FHIR data: models, whole records, values derived from them.

Validation costs about 150 us per Observation, and order-select fires on every edit of
an order with the same prefetch (prefetch and fallback overlap too): a resource sent
again is not validated twice, the same payloads give the same record object, and what
the clinical layer computed from the same resources is not computed twice. Each cache is
bounded by entries and by bytes (see lru.py); caching.py builds them, a share of
`[service] cache_mb` each, and hands them to the code that uses them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import orjson
from fhir.resources.R4B.resource import Resource

from cds_service.fhir.raw import RawResource, ResourceFilter, accept_all
from cds_service.fhir.record import (
    ENTRY_OVERHEAD,
    Invalid,
    PatientRecord,
    build_record,
    check_depth,
    log_skipped,
    validate,
)
from cds_service.lru import BoundedLru

T = TypeVar("T")
MODEL_CACHE_SIZE = 4096  # parsed resources
RECORD_CACHE_SIZE = 16  # whole records
DERIVED_CACHE_SIZE = 256  # derived values (a record gives about eight)
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024  # per cache


class _LruBacked:
    """What every cache here says of itself: emptied, counted and weighed as its LRU."""

    _lru: BoundedLru[Any]

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)

    @property
    def weight(self) -> int:
        return self._lru.weight


class ModelCache(_LruBacked):
    """Parsed models by a BLAKE2b digest of the resource's JSON, least recently used out,
    bounded by entries and by bytes (JSON size + ENTRY_OVERHEAD each)."""

    def __init__(self, size: int = MODEL_CACHE_SIZE, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._lru: BoundedLru[Resource | Invalid] = BoundedLru(size, max_bytes)

    @property
    def size(self) -> int:
        return self._lru.size

    def parse(self, raw: RawResource, max_depth: int | None = None
              ) -> tuple[Resource | Invalid, int]:
        """The model (or Invalid) and its weight in bytes. With `max_depth`, a resource
        not seen before that nests deeper raises ResourceTooDeep."""
        try:
            data = orjson.dumps(raw)
        except TypeError:  # not plain JSON (a caller's Python object, or nested past 254)
            check_depth(raw, max_depth)
            return validate(raw), ENTRY_OVERHEAD
        key = hashlib.blake2b(data, digest_size=16).digest()
        weight = len(data) + ENTRY_OVERHEAD
        found = self._lru.get(key)
        if found is not None:
            return found, weight
        check_depth(raw, max_depth)
        parsed = validate(raw)
        self._lru.put(key, parsed, weight)
        return parsed, weight


class RecordCache(_LruBacked):
    """Whole records by a BLAKE2b digest of all their payloads' JSON and the filter,
    bounded by count and by the bytes their resources weigh (a heavier record is not kept)."""

    def __init__(self, size: int = RECORD_CACHE_SIZE,
                 max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._lru: BoundedLru[PatientRecord] = BoundedLru(size, max_bytes)

    def get(self, key: tuple[Any, ...]) -> PatientRecord | None:
        return self._lru.get(key)

    def put(self, key: tuple[Any, ...], record: PatientRecord) -> None:
        self._lru.put(key, record, record.weight + ENTRY_OVERHEAD)


def cached_record(
    payloads: Iterable[Any], keep: ResourceFilter = accept_all,
    cache: RecordCache | None = None, models: ModelCache | None = None,
    max_depth: int | None = None,
) -> PatientRecord:
    """build_record through `models`, but the same data (and filter) gives the same record
    object from `cache`: the digest of the payloads (~0.1 ms for a typical chart) replaces
    filtering and model lookups, and what was derived from the record is found again."""
    payloads = list(payloads)
    if cache is None:
        return build_record(payloads, keep, models, max_depth)
    try:
        key = (hashlib.blake2b(orjson.dumps(payloads), digest_size=16).digest(),
               *_filter_key(keep))
        hash(key)
    except TypeError:  # not plain JSON, or an unhashable filter: no reuse
        return build_record(payloads, keep, models, max_depth)
    record = cache.get(key)
    if record is None:
        record = build_record(payloads, keep, models, max_depth)
        cache.put(key, record)
        return record
    log_skipped(record)
    return record


def _filter_key(keep: ResourceFilter) -> tuple[Any, ...]:
    """The filter by identity (a bound method: its object and function; the key holds
    them, so an id is never reused for another filter while cached)."""
    owner = getattr(keep, "__self__", None)
    return (owner, getattr(keep, "__func__", keep))


class DerivedCache(_LruBacked):
    """Values computed from a record's data, keyed by the function and its arguments.

    The key is made here, not by the caller: an argument that is the record, or a list of
    its parsed models, counts by identity (parsed models are shared between requests, so
    the same identities mean the same resources, and a new report does not make a year
    of labs be read again); any other argument (settings, a reader) counts by value, so
    it must be hashable. An entry holds what it was keyed by, so no id is reused while
    it lives; it weighs the bytes of the resources it holds."""

    def __init__(self, size: int = DERIVED_CACHE_SIZE,
                 max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._lru: BoundedLru[tuple[tuple[Any, ...], Any]] = BoundedLru(size, max_bytes)

    def over(self, record: PatientRecord) -> Callable[..., Any]:
        """`derive(compute, *args)`: compute(*args), once for the same arguments."""
        def derive(compute: Callable[..., T], *args: Any) -> T:
            return self.get_or_compute(record, compute, args)
        return derive

    def get_or_compute(self, record: PatientRecord, compute: Callable[..., T],
                       args: Sequence[Any]) -> T:
        key: list[Any] = [compute]
        held: list[Any] = []
        weight = ENTRY_OVERHEAD
        for arg in args:
            if arg is record:
                key.append(("record", id(arg)))
                held.append(arg)
                weight += record.weight
            elif isinstance(arg, list | tuple) and all(isinstance(m, Resource) for m in arg):
                key.append(("models", *map(id, arg)))
                held += arg
                weight += record.weight_of(arg)
            else:
                key.append(arg)
        try:
            found = self._lru.get(tuple(key))
        except TypeError:  # an argument that cannot be a key: computed every time
            return compute(*args)
        if found is not None and all(a is b for a, b in zip(found[0], held)):
            return found[1]
        value = compute(*args)
        self._lru.put(tuple(key), (tuple(held), value), weight)
        return value


def computed_afresh(record: PatientRecord) -> Callable[..., Any]:
    """`derive(compute, *args)` without a cache (caches off, unit tests)."""
    def derive(compute: Callable[..., T], *args: Any) -> T:
        return compute(*args)
    return derive
