"""The five outcomes, in safety order, each with a positive and a negative case."""

from __future__ import annotations

import pytest

from cds_service.clinical.assessment import (
    AVN, IMAGING, INFECTION, OTHER, TOH, assess, sif_population)
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.thresholds import Thresholds
from tests.clinical.builders import (
    ICD10, NOW, SNOMED, coded_obs, condition, lab, med_request, mri_study, patient, procedure,
    record, report)

TOH_TEXT = ("Diffuse bone marrow edema of the left femoral head and neck extending to the "
            "intertrochanteric region, with joint effusion. No double line sign, no collapse.")
NORMAL_LABS = (lab("crp", "1988-5", 3, "mg/L", "2025-02-25"),
               lab("esr", "4537-7", 8, "mm/h", "2025-02-25"),
               lab("wbc", "6690-2", 7.0, "10*3/uL", "2025-02-25"))


def case(*extra: dict, text: str | None = TOH_TEXT, mri_date: str = "2025-02-20",
         labs: tuple = NORMAL_LABS, who: dict | None = None, side: str | None = "left",
         thresholds: Thresholds | None = None):
    resources = [who or patient(birth="1980-01-01"), *labs, *extra]
    if mri_date:
        resources.append(mri_study("mri", mri_date, "left"))
        if text is not None:
            resources.append(report("rep", mri_date, text, study="mri"))
    t = thresholds or Thresholds()
    return assess(collect_facts(record(*resources), NOW, t), t, side)


def test_typical_toh_picture() -> None:
    a = case()
    assert a.outcome == TOH
    assert "DiagnosticReport/rep" in a.evidence and "Observation/crp" in a.evidence
    assert any("Diffuse bone marrow edema" in r.text for r in a.found)


# 1. Infection not excluded
@pytest.mark.parametrize(
    ("extra", "labs", "outcome"),
    [
        ((), (lab("crp", "1988-5", 140.5, "mg/L", "2025-02-25"),), INFECTION),
        ((), (lab("crp", "1988-5", 14.05, "mg/dL", "2025-02-25"),), INFECTION),  # 140.5 mg/L
        ((), (lab("crp", "1988-5", 0.4, "mg/dL", "2025-02-25"),), TOH),  # 4 mg/L
        # raised and never rechecked
        ((), (lab("crp", "1988-5", 60, "mg/L", "2025-01-01"),), INFECTION),
        ((), (lab("crp", "1988-5", 60, "mg/L", "2024-10-01"),), TOH),  # beyond 90 days
        ((), (lab("crp", "1988-5", 60, "mg/L", "2025-02-01"),
              lab("crp2", "1988-5", 4, "mg/L", "2025-02-26")), TOH),  # latest is normal
        ((), NORMAL_LABS + (lab("esr2", "4537-7", 55, "mm/h", "2025-02-26"),), INFECTION),
        ((), NORMAL_LABS + (lab("wbc2", "26464-8", 15.2, "10*9/L", "2025-02-26"),), INFECTION),
        ((), NORMAL_LABS + (lab("t", "8310-5", 101.3, "[degF]", "2025-02-27"),), INFECTION),
        ((), NORMAL_LABS + (lab("t", "8310-5", 99.0, "[degF]", "2025-02-27"),), TOH),
        ((condition("c", "Septic arthritis of left hip"),), NORMAL_LABS, INFECTION),
        ((condition("c", "Fever", code=(SNOMED, "386661006"), onset="2025-02-27"),),
         NORMAL_LABS, INFECTION),
        ((condition("c", "Septic arthritis of left hip", clinical="resolved"),), NORMAL_LABS,
         TOH),
    ],
)
def test_infection_red_flags(extra: tuple, labs: tuple, outcome: str) -> None:
    assert case(*extra, labs=labs).outcome == outcome


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        (TOH_TEXT + " Possible septic arthritis.", INFECTION),
        (TOH_TEXT + " Septic arthritis cannot be excluded.", INFECTION),
        (TOH_TEXT + " Subchondral erosions and a periarticular collection.", INFECTION),
        (TOH_TEXT + " No erosions, no collection, no features of septic arthritis.", TOH),
    ],
)
def test_infection_words_in_report(text: str, outcome: str) -> None:
    assert case(text=text).outcome == outcome


def test_infection_card_lists_immunosuppression_and_converted_crp() -> None:
    a = case(med_request("pred", "Prednisone 20 mg tablet", rxnorm="8640", route="oral"),
             labs=(lab("crp", "1988-5", 14.05, "mg/dL", "2025-02-25"),))
    assert a.outcome == INFECTION
    texts = " ".join(r.text for r in a.found)
    assert "140.5 mg/L" in texts and "14.05 mg/dL" in texts
    assert "Immunosuppression: systemic corticosteroid" in texts


# 2. Imaging needed
@pytest.mark.parametrize(
    ("kwargs", "outcome"),
    [
        ({"mri_date": None}, IMAGING),  # no MRI
        ({"mri_date": "2024-12-01"}, IMAGING),  # older than 42 days
        ({"text": None}, IMAGING),  # MRI without a report
        ({"side": "right"}, IMAGING),  # MRI of the other hip
        ({"mri_date": "2025-02-01"}, TOH),  # 28 days: recent
        ({"side": None}, TOH),  # an order without a side accepts either hip
    ],
)
def test_imaging_needed(kwargs: dict, outcome: str) -> None:
    assert case(**kwargs).outcome == outcome


def test_imaging_needed_says_what_is_missing() -> None:
    a = case(text=None)
    assert a.outcome == IMAGING
    assert "no readable report" in a.missing[0].text
    assert "ImagingStudy/mri" in a.missing[0].refs


def test_configurable_mri_window() -> None:
    assert case(mri_date="2025-01-01").outcome == IMAGING
    assert case(mri_date="2025-01-01",
                thresholds=Thresholds(mri_max_age_days=90)).outcome == TOH


# 3. AVN features or risk factors
@pytest.mark.parametrize(
    ("text", "extra", "outcome"),
    [
        (TOH_TEXT + " Double line sign in the left femoral head.", (), AVN),
        (TOH_TEXT + " Crescent sign with subchondral collapse.", (), AVN),
        ("Bone marrow edema. No evidence of AVN.", (), TOH),
        (TOH_TEXT + " AVN cannot be excluded.", (), TOH),  # doubt, not AVN
        (TOH_TEXT + " Thin subchondral line.", (), TOH),  # a thin line alone is not AVN
        (TOH_TEXT, (med_request("p", "Prednisone 40 mg", rxnorm="8640"),), AVN),
        (TOH_TEXT, (med_request("p", "Hydrocortisone cream", route="topical"),), TOH),
        (TOH_TEXT, (condition("c", "Sickle cell disease", code=(SNOMED, "417357006")),), AVN),
        (TOH_TEXT, (coded_obs("a", "75626-2", "2025-01-10", integer=9),), AVN),  # high risk
        (TOH_TEXT, (coded_obs("a", "75626-2", "2025-01-10", integer=6),), TOH),  # only positive
        (TOH_TEXT, (coded_obs("a", "75626-2", "2025-01-10", integer=2),), TOH),
        (TOH_TEXT, (condition("c", "Suspected AVN left hip", verification="provisional"),),
         TOH),
    ],
)
def test_avn_features_and_risk_factors(text: str, extra: tuple, outcome: str) -> None:
    assert case(*extra, text=text).outcome == outcome


def test_uncertain_avn_argues_against_toh() -> None:
    a = case(text=TOH_TEXT + " AVN cannot be excluded.")
    assert a.outcome == TOH
    assert any("does not exclude AVN" in r.text and "cannot be excluded" in (r.quote or "")
               for r in a.against)


def test_steroids_make_edema_not_reassuring() -> None:
    a = case(med_request("p", "Prednisone 40 mg", rxnorm="8640"))
    assert a.outcome == AVN
    assert any("systemic corticosteroid" in r.text for r in a.found)
    assert any("does not exclude early AVN" in r.text for r in a.against)


# 4. Another structural lesion (rule for a bare "subchondral fracture": see sif_population)
OLD_WOMAN = patient(gender="female", birth="1950-01-01")


@pytest.mark.parametrize(
    ("text", "who", "extra", "outcome"),
    [
        (TOH_TEXT + " Subchondral insufficiency fracture of the femoral head.", None, (), OTHER),
        (TOH_TEXT + " No insufficiency fracture.", None, (), TOH),
        (TOH_TEXT + " Stress fracture of the femoral neck.", None, (), OTHER),
        (TOH_TEXT + " Findings suspicious for metastasis.", None, (), OTHER),
        (TOH_TEXT + " Small subchondral fracture of the femoral head.", None, (), TOH),
        (TOH_TEXT + " Small subchondral fracture of the femoral head.", OLD_WOMAN, (), OTHER),
        (TOH_TEXT + " Small subchondral fracture of the femoral head.", None,
         (condition("o", "Osteoporosis", code=(SNOMED, "64859006")),), OTHER),
        ("Subchondral fracture of the left femoral head.", None, (), OTHER),  # no diffuse edema
    ],
)
def test_other_lesion(text: str, who: dict | None, extra: tuple, outcome: str) -> None:
    assert case(*extra, text=text, who=who).outcome == outcome


def test_subchondral_fracture_with_toh_in_a_younger_man_is_named_against() -> None:
    a = case(text=TOH_TEXT + " Small subchondral fracture of the femoral head.")
    assert any("Subchondral fracture line" in r.text for r in a.against)


@pytest.mark.parametrize(
    ("age_birth", "osteoporosis", "expected"),
    [("1950-01-01", False, True), ("1980-01-01", False, False), ("1980-01-01", True, True)],
)
def test_sif_population(age_birth: str, osteoporosis: bool, expected: bool) -> None:
    extra = [condition("o", "Osteoporosis", code=(ICD10, "M81.0"))] if osteoporosis else []
    facts = collect_facts(record(patient(birth=age_birth), *extra), NOW, Thresholds())
    assert bool(sif_population(facts, Thresholds())) is expected


# 5. TOH suspected, or no card
@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        (TOH_TEXT, TOH),
        ("Appearances in keeping with transient osteoporosis of the left hip.", TOH),
        ("No bone marrow edema. Labral tear.", None),
        ("Bone marrow edema of the left acetabulum only.", None),  # not femoral head/neck
        ("Possible subtle marrow edema.", None),  # not affirmed
        ("Bone marrow edema of the right femoral head; left hip normal.", None),  # other side
    ],
)
def test_toh_or_nothing(text: str, outcome: str | None) -> None:
    assert case(text=text).outcome == outcome


def test_no_card_only_with_recent_readable_mri() -> None:
    assert case(text="No bone marrow edema.").outcome is None
    assert case(text="No bone marrow edema.", mri_date="2024-11-01").outcome == IMAGING


def test_missing_recent_crp_is_reported_not_critical() -> None:
    a = case(labs=(lab("crp", "1988-5", 3, "mg/L", "2024-12-01"),))
    assert a.outcome == TOH
    assert any("No CRP or ESR in the last 14 days" in r.text and "infection could not be "
               "excluded" in r.text for r in a.missing)


def test_unusable_crp_unit_is_reported() -> None:
    a = case(labs=(lab("crp", "1988-5", 3, "mg", "2025-02-25"),))
    assert a.outcome == TOH
    assert any("not used" in r.text and "unit" in r.text for r in a.missing)


def test_supportive_context_for_toh() -> None:
    preg = [coded_obs("ps", "82810-3", "2025-02-20", value_code=(SNOMED, "77386006")),
            coded_obs("ga", "11884-4", "2025-02-20", quantity=(34, "wk"))]
    woman = patient(gender="female", birth="1994-01-01")
    a = case(*preg, who=woman)
    assert a.outcome == TOH
    assert any("third trimester" in r.text for r in a.found)
    assert any("Man aged 45" in r.text for r in case().found)


def test_prior_decompression_is_named() -> None:
    a = case(procedure("cd", "Core decompression of left hip", "2024-06-01", side="left"))
    assert a.outcome == TOH
    assert any("Prior core decompression" in r.text and r.refs == ("Procedure/cd",)
               for r in a.against)


def test_migratory_history_supports_toh() -> None:
    ankle = [mri_study("ank", "2024-06-01", "left", site="70258002", description="MRI ankle"),
             report("ank-r", "2024-06-01", "Bone marrow edema of the left talus.", study="ank",
                    code_text="MRI left ankle"),
             report("ank-r2", "2024-09-01", "Complete resolution of bone marrow edema of the "
                    "left talus.", code_text="MRI left ankle")]
    a = case(*ankle)
    assert a.outcome == TOH
    assert any("migratory pattern" in r.text for r in a.found)
