"""build_record's model cache: a resource sent again is not validated again, and the
record is the same as without the cache (invalid resources still reported each time)."""

from __future__ import annotations

import copy
from typing import Any

from cds_service.fhir.caches import DerivedCache, ModelCache, RecordCache, cached_record
from cds_service.fhir.record import ENTRY_OVERHEAD, PatientRecord, build_record


def _obs(rid: str, value: float) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
            "subject": {"reference": "Patient/p"},
            "valueQuantity": {"value": value, "unit": "mg/L"}}


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources]}


def test_same_content_is_parsed_once() -> None:
    cache = ModelCache()
    first = build_record([_bundle(_obs("a", 1.0), _obs("b", 2.0))], cache=cache)
    again = build_record([copy.deepcopy(_bundle(_obs("a", 1.0), _obs("b", 2.0)))], cache=cache)
    assert len(cache) == 2
    assert [id(m) for m in first.of("Observation")] == [id(m) for m in again.of("Observation")]


def test_changed_content_is_parsed_anew() -> None:
    cache = ModelCache()
    build_record([_bundle(_obs("a", 1.0))], cache=cache)
    changed = build_record([_bundle(_obs("a", 9.5))], cache=cache)
    assert len(cache) == 2
    assert float(changed.of("Observation")[0].valueQuantity.value) == 9.5


def test_invalid_resource_reported_every_time() -> None:
    cache = ModelCache()
    bad = {"resourceType": "Observation", "id": "bad", "status": "not-a-status"}
    for _ in range(2):
        record = build_record([_bundle(bad, _obs("ok", 1.0))], cache=cache)
        assert record.skipped_invalid == ["Observation/bad"]
        assert [m.id for m in record.of("Observation")] == ["ok"]


def test_least_recently_used_dropped() -> None:
    cache = ModelCache(size=2)
    for i in range(3):
        build_record([_bundle(_obs(f"o{i}", float(i)))], cache=cache)
    assert len(cache) == 2


def test_keep_filter_and_dedupe_unchanged() -> None:
    cache = ModelCache()
    record = build_record(
        [_bundle(_obs("a", 1.0), _obs("a", 1.0), _obs("b", 2.0))],
        keep=lambda raw: raw.get("id") != "b", cache=cache)
    assert [m.id for m in record.of("Observation")] == ["a"]


def test_cached_record_reused_for_same_data() -> None:
    cache = RecordCache()
    payload = _bundle(_obs("a", 1.0))
    first = cached_record([payload], cache=cache)
    again = cached_record([copy.deepcopy(payload)], cache=cache)
    other = cached_record([_bundle(_obs("a", 2.0))], cache=cache)
    assert again is first and other is not first
    derived = DerivedCache()

    def n(record: PatientRecord) -> int:
        calls.append("n")
        return len(record.of("Observation"))

    calls: list[str] = []
    assert derived.over(first)(n, first) == 1
    assert derived.over(again)(n, again) == 1
    assert calls == ["n"]  # computed once per record


def test_cached_record_depends_on_the_filter() -> None:
    cache = RecordCache()
    payload = _bundle(_obs("a", 1.0), _obs("b", 2.0))
    everything = cached_record([payload], cache=cache)
    only_a = cached_record([payload], keep=lambda raw: raw.get("id") == "a", cache=cache)
    assert [m.id for m in everything.of("Observation")] == ["a", "b"]
    assert [m.id for m in only_a.of("Observation")] == ["a"]


def _big(rid: str, size: int) -> dict[str, Any]:
    """An Observation carrying a string of `size` characters."""
    return {**_obs(rid, 1.0), "note": [{"text": rid + "x" * size}]}


MB = 1024 * 1024


def test_record_cache_bounded_by_bytes_held() -> None:
    cache = RecordCache(size=10, max_bytes=3 * MB)
    cached_record([_bundle(_big("a", MB))], cache=cache)
    cached_record([_bundle(_big("b", MB))], cache=cache)
    assert len(cache) == 2
    cached_record([_bundle(_big("c", MB))], cache=cache)  # 3 MB and overheads > 3 MB
    assert len(cache) == 2 and cache.weight <= 3 * MB
    cached_record([_bundle(_big("d", 4 * MB))], cache=cache)  # heavier than the bound
    assert len(cache) == 2


def test_model_cache_bounded_by_bytes_whatever_the_count() -> None:
    cache = ModelCache(size=4096, max_bytes=5 * MB)
    for i in range(20):
        build_record([_bundle(_big(f"o{i}", MB))], cache=cache)
    assert len(cache) <= 4 and cache.weight <= 5 * MB
    for i in range(200):  # small ones: the count bound and the bytes bound both hold
        build_record([_bundle(_obs(f"s{i}", float(i)))], cache=cache)
    assert cache.weight <= 5 * MB


def _report(text: str) -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": "r", "status": "final",
            "code": {"text": "MRI hip"}, "conclusion": text}


def test_values_over_the_same_resources_are_shared_between_records() -> None:
    derived = DerivedCache()
    cache = ModelCache()
    labs = [_obs("a", 1.0), _obs("b", 2.0)]
    first = build_record([_bundle(*labs, _report("Edema."))], cache=cache)
    second = build_record([_bundle(*copy.deepcopy(labs), _report("New report."))], cache=cache)
    changed = build_record([_bundle(_obs("a", 1.0), _obs("b", 7.0))], cache=cache)
    calls: list[str] = []

    def n(observations: list[Any]) -> int:
        calls.append("n")
        return len(observations)

    def count(record: Any) -> int:
        return derived.over(record)(n, record.of("Observation"))  # type: ignore[no-any-return]

    assert [count(first), count(second), count(changed)] == [2, 2, 2]
    assert calls == ["n", "n"]  # second holds first's models: not computed again


def test_derived_values_are_keyed_by_every_argument() -> None:
    derived = DerivedCache()
    record = build_record([_bundle(_obs("a", 1.0))])
    derive = derived.over(record)

    def scaled(observations: list[Any], factor: int) -> int:
        return len(observations) * factor

    assert derive(scaled, record.of("Observation"), 2) == 2
    assert derive(scaled, record.of("Observation"), 3) == 3  # another value: computed anew
    assert len(derived) == 2


def test_derived_values_are_bounded_by_the_bytes_they_hold() -> None:
    shared = DerivedCache(size=10, max_bytes=6 * ENTRY_OVERHEAD)
    models = build_record([_bundle(*(_obs(f"m{i}", 1.0) for i in range(4)))]).of("Observation")
    derive = shared.over(PatientRecord())  # models it does not hold weigh ENTRY_OVERHEAD

    calls: list[int] = []

    def first(held: list[Any]) -> str:
        calls.append(len(held))
        return held[0].id  # type: ignore[no-any-return]

    derive(first, models[:2])
    derive(first, models[2:])  # 2 x 3 overheads: both fit
    assert len(shared) == 2
    derive(first, models[1:3])  # the oldest goes
    assert len(shared) == 2
    assert derive(first, models[2:]) == "m2" and calls == [2, 2, 2]  # kept: not computed
    derive(first, models * 2)  # more than the bound: not kept
    assert len(shared) == 2


def test_a_record_weighs_its_resources_json() -> None:
    record = build_record([_bundle(_big("a", MB), _obs("b", 1.0))], cache=ModelCache())
    assert MB < record.weight < MB + 64 * 1024
