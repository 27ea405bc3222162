"""Labs and vitals: UCUM conversion (never assumed), pregnancy, demographics (AUDIT-C:
test_alcohol.py)."""

from __future__ import annotations

import pytest

from cds_service.clinical.extract_labs import lab_values, pregnancy
from tests.clinical.builders import SNOMED, coded_obs, lab, record


def one_lab(resource: dict):
    values = lab_values(record(resource).of("Observation"))
    assert len(values) == 1
    return values[0]


@pytest.mark.parametrize(
    ("loinc", "value", "unit", "kind", "expected"),
    [
        ("1988-5", 1.4, "mg/dL", "CRP", 14.0),  # mg/dL x10
        ("1988-5", 14.0, "mg/L", "CRP", 14.0),
        ("30522-7", 0.3, "mg/dL", "CRP", 3.0),  # hs-CRP
        ("76486-0", 2.0, "mg/L", "CRP", 2.0),
        ("4537-7", 35, "mm/h", "ESR", 35.0),
        ("30341-2", 12, "mm/h", "ESR", 12.0),
        ("6690-2", 12.5, "10*3/uL", "WBC", 12.5),  # 10*3/uL == 10*9/L
        ("26464-8", 17.8, "10*9/L", "WBC", 17.8),
        ("6690-2", 9800, "/uL", "WBC", 9.8),
        ("8310-5", 38.4, "Cel", "Temperature", 38.4),
        ("8310-5", 101.3, "[degF]", "Temperature", 38.5),
    ],
)
def test_units_are_converted_by_ucum_code(loinc, value, unit, kind, expected) -> None:
    v = one_lab(lab("o1", loinc, value, unit, "2025-02-20"))
    assert v.kind == kind and v.usable
    assert v.value == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize(
    ("unit", "system"),
    [
        ("mg", "http://unitsofmeasure.org"),  # not a concentration
        ("mg/dL", "http://example.org/local-units"),  # a code from another system
        (None, None),  # no unit at all
    ],
)
def test_unknown_crp_unit_is_kept_but_not_usable(unit, system) -> None:
    v = one_lab(lab("o1", "1988-5", 14, unit, "2025-02-20", system=system))
    assert not v.usable and v.value is None
    assert "unit" in v.problem


def test_unit_string_without_code_is_used_only_when_it_is_a_ucum_code() -> None:
    res = lab("o1", "1988-5", 2.1, None, "2025-02-20")
    res["valueQuantity"]["unit"] = "mg/dL"
    assert one_lab(res).value == pytest.approx(21.0)
    res["valueQuantity"]["unit"] = "milligrams per decilitre"
    assert not one_lab(res).usable


def test_converted_values_are_flagged_for_display() -> None:
    assert one_lab(lab("o1", "1988-5", 0.4, "mg/dL", "2025-02-20")).converted
    assert not one_lab(lab("o1", "1988-5", 4, "mg/L", "2025-02-20")).converted


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_voided_lab_is_ignored(status: str) -> None:
    res = lab("o1", "1988-5", 140, "mg/L", "2025-02-20")
    res["status"] = status
    assert lab_values(record(res).of("Observation")) == []


def test_labs_sorted_newest_first() -> None:
    values = lab_values(record(lab("old", "1988-5", 100, "mg/L", "2025-01-01"),
                               lab("new", "1988-5", 3, "mg/L", "2025-02-25")).of("Observation"))
    assert [v.ref for v in values] == ["Observation/new", "Observation/old"]


@pytest.mark.parametrize(
    ("resources", "pregnant", "weeks"),
    [
        ([coded_obs("ps", "82810-3", "2025-02-20", value_code=(SNOMED, "77386006")),
          coded_obs("ga", "11884-4", "2025-02-20", quantity=(34, "wk"))], True, 34.0),
        ([coded_obs("ps", "82810-3", "2025-02-20", value_code=(SNOMED, "77386006")),
          coded_obs("ga", "49051-6", "2025-02-20", quantity=(210, "d"))], True, 30.0),
        ([coded_obs("ps", "82810-3", "2025-02-20", value_code=(SNOMED, "60001007"))],
         False, None),
    ],
)
def test_pregnancy_status_and_gestational_age(resources, pregnant, weeks) -> None:
    state = pregnancy(record(*resources).of("Observation"), [])
    if not pregnant:
        assert state is None
    else:
        assert state.pregnant and state.gestational_weeks == pytest.approx(weeks)
        assert "Observation/ps" in state.refs


def test_postpartum_without_pregnancy_observation() -> None:
    state = pregnancy([], [("Condition/pp", None)])
    assert state is not None and state.postpartum and not state.pregnant
