"""Alcohol (issue 12, item 5): heavy use is an AVN risk factor, a positive screen only a
weak one the card names (clinical.md; thresholds and sources in thresholds.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.clinical.alcohol import alcohol_factors, alcohol_records
from cds_service.clinical.assessment import AVN, TOH
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.core_decompression import keep_for_order
from tests.clinical.builders import LOINC, NOW, SNOMED, UCUM, coded_obs, patient, record
from tests.clinical.test_assessment import TOH_TEXT, case


def factors(*resources: dict, sex: str | None = "male", t: Thresholds | None = None):
    t = t or Thresholds()
    return alcohol_factors(alcohol_records(record(*resources).of("Observation"), t), sex,
                           NOW, t)


def audit(score: int, date: str = "2025-02-01", oid: str = "audit") -> dict:
    return coded_obs(oid, "75626-2", date, integer=score)


def intake(value: float, unit: str, code: tuple[str, str] = (LOINC, "74013-4"),
           date: str = "2025-02-01", ucum: bool = True) -> dict[str, Any]:
    res = {"resourceType": "Observation", "id": "drinks", "status": "final",
           "code": {"coding": [{"system": code[0], "code": code[1]}]},
           "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date,
           "valueQuantity": {"value": value, "unit": unit}}
    if ucum:
        res["valueQuantity"] |= {"system": UCUM, "code": unit}
    return res


@pytest.mark.parametrize(
    ("score", "sex", "strong", "weak"),
    [
        (8, "male", True, False),  # high risk from 8 (Rubinsky 2013)
        (12, "female", True, False),
        (7, "male", False, True),  # positive (>= 4 men, Bush 1998), not high risk
        (4, "male", False, True),
        (3, "male", False, False),  # negative screen for a man
        (3, "female", False, True),  # >= 3 for women (Bradley 2007)
        (3, None, False, True),  # unknown sex: the women's cut-off
        (2, "female", False, False),
    ],
)
def test_audit_c_high_risk_is_a_risk_factor_positive_only_weak(score, sex, strong, weak):
    found, named = factors(audit(score), sex=sex)
    assert bool(found) is strong and bool(named) is weak
    for r in found + named:
        assert r.kind == "alcohol" and r.ref == "Observation/audit"


def test_audit_c_panel_component_and_range() -> None:
    panel = coded_obs("panel", "72109-2", "2025-02-20")
    panel["component"] = [{"code": {"coding": [{"system": LOINC, "code": "75626-2"}]},
                           "valueInteger": 9}]
    assert factors(panel)[0]
    (named,) = factors(audit(15))[1]  # a full AUDIT sent as AUDIT-C: not a score of 0-12
    assert "not usable" in named.label and "0-12" in named.detail
    assert factors(audit(15))[0] == []


def test_old_heavy_use_is_named_not_a_risk_factor() -> None:
    found, named = factors(audit(10, date="2023-06-01"))  # beyond alcohol_lookback_days
    assert found == [] and "more than 365 days ago" in named[0].detail
    found, _ = factors(audit(10, date="2023-06-01"), t=Thresholds(alcohol_lookback_days=1000))
    assert found


@pytest.mark.parametrize(
    ("resource", "heavy"),
    [
        # 5 drinks a day = 35 x 14 g = 490 g = ~621 mL ethanol a week
        (intake(5, "{drinks}/d"), True),
        (intake(2, "/d"), False),  # 14 drinks = 196 g = ~248 mL
        (intake(4, "{wine glasses}/d"), True),  # 28 x 14 g = 392 g = ~497 mL
        (intake(350, "g/wk", (SNOMED, "160573003")), True),  # ~444 mL
        (intake(300, "g/wk", (SNOMED, "160573003")), False),  # ~380 mL
        (intake(50, "{units}/wk", (SNOMED, "160573003")), True),  # UK units: 400 g
        (intake(35, "{units}/wk", (SNOMED, "160573003")), False),  # 280 g = ~355 mL
        (intake(30, "{drink}/wk", (SNOMED, "160573003")), True),  # 420 g
        (intake(5, "/d", ucum=False), True),  # no UCUM code, but the unit string is one
        (intake(6, "/d", date="2022-01-01"), False),  # recorded over a year ago
    ],
)
def test_recorded_intake_at_or_above_400_ml_a_week(resource: dict, heavy: bool) -> None:
    found, _ = factors(resource)
    assert bool(found) is heavy
    if heavy:
        assert "mL ethanol a week" in found[0].detail


def test_intake_range_and_unusable_unit() -> None:
    ranged = intake(5, "/d")
    ranged["valueRange"] = {"low": ranged.pop("valueQuantity")}  # "5 or more a day"
    (found,) = factors(ranged)[0]
    assert "at least 5" in found.detail
    found, (named,) = factors(intake(20, "{bottles}/mo"))
    assert found == [] and "not usable" in named.label and "bottles" in named.detail


def test_standard_drink_size_is_configurable() -> None:
    assert factors(intake(3, "{drinks}/d"))[0] == []  # 21 x 14 g = ~373 mL
    assert factors(intake(3, "{drinks}/d"), t=Thresholds(standard_drink_g=20))[0]
    assert factors(intake(3, "{drinks}/d"), t=Thresholds(heavy_alcohol_ml_per_week=300))[0]


def test_keep_filter_reads_the_snomed_intake_observation() -> None:
    assert keep_for_order(intake(300, "g/wk", (SNOMED, "160573003")))
    assert keep_for_order(intake(3, "/d"))
    assert not keep_for_order(intake(3, "/d", (SNOMED, "229819007")))  # tobacco use


# The decision: heavy use sets the TOH warning aside; a positive screen does not.
def test_positive_screen_keeps_the_toh_warning_and_names_it() -> None:
    a = case(audit(5))
    assert a.outcome == TOH
    assert any("AUDIT-C 5" in r.text and "weak AVN risk factor" in r.text
               and r.refs == ("Observation/audit",) for r in a.against)
    assert not any("No AVN risk factor found" in r.text for r in a.found)


def test_no_alcohol_record_says_no_risk_factor() -> None:
    a = case(audit(1))
    assert a.outcome == TOH and not any("AUDIT-C" in r.text for r in a.against)
    assert any("No AVN risk factor found" in r.text for r in a.found)


@pytest.mark.parametrize(
    "extra",
    [(audit(9),), (intake(5, "{drinks}/d"),)],
)
def test_heavy_use_is_an_avn_risk_factor(extra: tuple) -> None:
    a = case(*extra)
    assert a.outcome == AVN
    assert any("heavy alcohol use" in r.text for r in a.found)


def test_weak_factor_is_listed_on_the_avn_card_too() -> None:
    a = case(audit(4, oid="screen"), text=TOH_TEXT + " Double line sign in the left femoral head.")
    assert a.outcome == AVN
    assert any("AUDIT-C 4" in r.text for r in a.found)


def test_high_risk_cut_off_is_configurable() -> None:
    assert case(audit(6)).outcome == TOH
    assert case(audit(6), thresholds=Thresholds(audit_c_high_risk=6)).outcome == AVN


def test_woman_positive_at_three() -> None:
    who = patient(gender="female", birth="1980-01-01")
    a = case(audit(3), who=who)
    assert a.outcome == TOH and any("AUDIT-C 3" in r.text for r in a.against)
