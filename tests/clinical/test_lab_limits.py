"""Raised or not: the lab's range and flag first, then age/sex-adjusted ESR, then config."""

from __future__ import annotations

import pytest

from cds_service.clinical.assessment import INFECTION, TOH, assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.extract_labs import lab_values
from cds_service.clinical.facts import Demographics
from cds_service.clinical.lab_limits import esr_limit, judge
from cds_service.clinical.thresholds import Thresholds
from tests.clinical.builders import NOW, UCUM, lab, mri_study, patient, record, report

V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
TOH_TEXT = "Diffuse bone marrow edema of the left femoral head and neck with effusion."


def quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def flagged(obs: dict, flag: str | None = None, high: tuple[float, str] | None = None,
            low: tuple[float, str] | None = None, **range_extra) -> dict:
    if flag:
        obs["interpretation"] = [{"coding": [{"system": V3, "code": flag}]}]
    if high or low:
        rng = {**({"high": quantity(*high)} if high else {}),
               **({"low": quantity(*low)} if low else {}), **range_extra}
        obs["referenceRange"] = [rng]
    return obs


def verdict(obs: dict, demo: Demographics | None = None):
    (value,) = lab_values(record(obs).of("Observation"))
    return judge(value, demo, Thresholds())


WOMAN_72 = Demographics(72, "female", "Patient/p1")
MAN_72 = Demographics(72, "male", "Patient/p1")
MAN_50 = Demographics(50, "male", "Patient/p1")
WOMAN_40 = Demographics(40, "female", "Patient/p1")


@pytest.mark.parametrize(
    ("demo", "raised", "limit"),
    [
        (WOMAN_72, False, 41.0),  # (72 + 10) / 2
        (MAN_72, False, 36.0),  # 72 / 2
        (MAN_50, True, 25.0),
        (WOMAN_40, True, 25.0),
        (Demographics(60, None, "Patient/p1"), True, 30.0),  # unknown sex: men's limit
        (Demographics(12, "female", "Patient/p1"), True, 20.0),  # a child: configured
        (None, True, 20.0),  # no Patient: configured
    ],
)
def test_esr_age_and_sex_adjusted(demo, raised: bool, limit: float) -> None:
    v = verdict(lab("esr", "4537-7", 32, "mm/h", "2025-02-25"), demo)
    assert (v.raised, v.limit) == (raised, limit)


def test_the_card_names_the_adjusted_limit() -> None:
    v = verdict(lab("esr", "4537-7", 32, "mm/h", "2025-02-25"), WOMAN_72)
    assert v.text == ("within 41 mm/h (the age- and sex-adjusted limit for a woman of 72, "
                      "Miller 1983)")


def test_esr_limit_formula() -> None:
    assert esr_limit(WOMAN_72) == (41.0, "woman of 72") and esr_limit(None) is None


@pytest.mark.parametrize(
    ("obs", "raised", "words"),
    [
        # the lab's range: stricter than the configured 10 mg/L, or looser
        (flagged(lab("c", "1988-5", 7, "mg/L", "2025-02-25"), high=(5, "mg/L")), True,
         "above 5 mg/L (the lab's reference range <= 5 mg/L)"),
        (lab("c", "1988-5", 7, "mg/L", "2025-02-25"), False, "within 10 mg/L (the configured"),
        (flagged(lab("c", "1988-5", 12, "mg/L", "2025-02-25"), high=(15, "mg/L")), False,
         "within 15 mg/L"),
        (flagged(lab("c", "1988-5", 12, "mg/L", "2025-02-25"), high=(0.5, "mg/dL")), True,
         "above 5 mg/L"),  # range converted like the value
        # a range whose unit is not UCUM is not used; nor one for a subgroup
        (flagged(lab("c", "1988-5", 12, "mg/L", "2025-02-25"), high=(15, "milligrams")), True,
         "configured"),
        (flagged(lab("c", "1988-5", 12, "mg/L", "2025-02-25"), high=(15, "mg/L"),
                 appliesTo=[{"text": "pregnant women"}]), True, "configured"),
        # the lab's flag
        (flagged(lab("c", "1988-5", 8, "mg/L", "2025-02-25"), "H"), True, "flagged H (high)"),
        (flagged(lab("c", "1988-5", 12, "mg/L", "2025-02-25"), "N"), False, "flagged N"),
        # flag and range disagree: the value above the range stays raised
        (flagged(lab("c", "1988-5", 12, "mg/L", "2025-02-25"), "N", high=(10, "mg/L")), True,
         "above 10 mg/L"),
        # "abnormal" below the lower limit is a low value, not a raised one
        (flagged(lab("w", "6690-2", 2.0, "10*3/uL", "2025-02-25"), "A", high=(11, "10*3/uL"),
                 low=(4, "10*3/uL")), False, "within 11"),
        (flagged(lab("w", "6690-2", 2.0, "10*3/uL", "2025-02-25"), "A"), True, "flagged A"),
    ],
)
def test_lab_range_and_flag(obs: dict, raised: bool, words: str) -> None:
    v = verdict(obs)
    assert v.raised is raised and words in v.text


def test_component_range_is_read() -> None:
    obs = lab("panel", "24356-8", 0, None, "2025-02-25")
    del obs["valueQuantity"]
    obs["component"] = [flagged({"code": {"coding": [{"system": "http://loinc.org",
                                                      "code": "1988-5"}]},
                                 "valueQuantity": quantity(7, "mg/L")}, high=(5, "mg/L"))]
    assert verdict(obs).raised


def _case(age_birth: str, gender: str, esr: float):
    t = Thresholds()
    resources = [patient(gender=gender, birth=age_birth),
                 lab("crp", "1988-5", 3, "mg/L", "2025-02-25"),
                 lab("esr", "4537-7", esr, "mm/h", "2025-02-25"),
                 mri_study("mri", "2025-02-20"), report("rep", "2025-02-20", TOH_TEXT, study="mri")]
    return assess(collect_facts(record(*resources), NOW, t), t, "left")


def test_a_72_year_old_woman_with_esr_32_gets_the_toh_card() -> None:
    a = _case("1952-06-01", "female", 32)
    assert a.outcome == TOH
    assert any("ESR 32 mm/h" in r.text and "within 41 mm/h" in r.text for r in a.found)


def test_a_40_year_old_woman_with_esr_32_is_not_cleared() -> None:
    a = _case("1984-06-01", "female", 32)
    assert a.outcome == INFECTION
    assert any("above 25 mm/h" in r.text for r in a.found)
