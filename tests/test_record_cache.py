"""build_record's model cache: a resource sent again is not validated again, and the
record is the same as without the cache (invalid resources still reported each time)."""

from __future__ import annotations

import copy
from typing import Any

from cds_service.fhir.record import ModelCache, build_record


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
    from cds_service.fhir.record import RecordCache, cached_record

    cache = RecordCache()
    payload = _bundle(_obs("a", 1.0))
    first = cached_record([payload], cache=cache)
    again = cached_record([copy.deepcopy(payload)], cache=cache)
    other = cached_record([_bundle(_obs("a", 2.0))], cache=cache)
    assert again is first and other is not first
    assert first.derived("n", lambda: len(first.of("Observation"))) == 1
    assert again.derived("n", lambda: 99) == 1  # computed once per record


def test_cached_record_depends_on_the_filter() -> None:
    from cds_service.fhir.record import RecordCache, cached_record

    cache = RecordCache()
    payload = _bundle(_obs("a", 1.0), _obs("b", 2.0))
    everything = cached_record([payload], cache=cache)
    only_a = cached_record([payload], keep=lambda raw: raw.get("id") == "a", cache=cache)
    assert [m.id for m in everything.of("Observation")] == ["a", "b"]
    assert [m.id for m in only_a.of("Observation")] == ["a"]


def test_record_cache_bounded_by_resources_held() -> None:
    from cds_service.fhir.record import RecordCache, cached_record

    cache = RecordCache(size=10, max_resources=3)
    cached_record([_bundle(_obs("a", 1.0), _obs("b", 1.0))], cache=cache)
    cached_record([_bundle(_obs("c", 1.0), _obs("d", 1.0))], cache=cache)  # 4 > 3: drop one
    assert len(cache) == 1
    cached_record([_bundle(*(_obs(f"x{i}", 1.0) for i in range(4)))], cache=cache)  # too big
    assert len(cache) == 1


def _report(text: str) -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": "r", "status": "final",
            "code": {"text": "MRI hip"}, "conclusion": text}


def test_values_over_the_same_resources_are_shared_between_records() -> None:
    from cds_service.fhir.record import SharedDerived, shared_derived

    shared_derived.clear()
    cache = ModelCache()
    labs = [_obs("a", 1.0), _obs("b", 2.0)]
    first = build_record([_bundle(*labs, _report("Edema."))], cache=cache)
    second = build_record([_bundle(*copy.deepcopy(labs), _report("New report."))], cache=cache)
    changed = build_record([_bundle(_obs("a", 1.0), _obs("b", 7.0))], cache=cache)
    calls: list[str] = []

    def count(record: Any) -> int:
        return record.derived("n", lambda: calls.append("n") or len(record.of("Observation")),
                              over=record.of("Observation"))

    assert [count(first), count(second), count(changed)] == [2, 2, 2]
    assert calls == ["n", "n"]  # second holds first's models: not computed again
    assert isinstance(shared_derived, SharedDerived)


def test_shared_values_are_bounded_by_the_resources_they_hold() -> None:
    from cds_service.fhir.record import SharedDerived

    shared = SharedDerived(size=10, max_resources=3)
    models = [object() for _ in range(4)]
    shared.get_or_compute("k", models[:2], lambda: 1)
    shared.get_or_compute("k", models[2:], lambda: 2)  # 4 held > 3: the oldest goes
    assert len(shared) == 1
    assert shared.get_or_compute("k", models[2:], lambda: 99) == 2
    shared.get_or_compute("k", models, lambda: 3)  # more than the bound: not kept
    assert len(shared) == 1
