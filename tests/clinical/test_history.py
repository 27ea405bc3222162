"""Conditions, systemic corticosteroids and prior procedures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cds_service.clinical import text_rules as tr
from cds_service.clinical.coded import FEVER
from cds_service.clinical.extract_history import (
    classify_conditions, prior_procedures, steroid_exposures, with_recent_fever)
from cds_service.clinical.facts import POSSIBLE, PRESENT, RESOLVED
from tests.clinical.builders import (
    ICD10, NOW, SNOMED, condition, med_request, procedure, record)

SINCE = NOW - timedelta(days=365)


def steroids(*resources: dict):
    rec = record(*resources)
    return steroid_exposures(rec.of("MedicationRequest"), rec.of("MedicationStatement"), SINCE,
                             {})


@pytest.mark.parametrize(
    ("resource", "counted"),
    [
        (med_request("m", "Prednisone 20 mg tablet", rxnorm="8640", route="oral"), True),
        (med_request("m", "predniSONE 5 MG Oral Tablet", rxnorm="312617"), True),  # product
        (med_request("m", "Dexamethasone 4 mg tablet"), True),  # text only
        (med_request("m", "Medrol dose pack", atc="H02AB04"), True),  # ATC systemic
        (med_request("m", "Hydrocortisone 1% cream", route="topical"), False),
        (med_request("m", "Hydrocortisone", rxnorm="5492", route_code="6064005"), False),
        (med_request("m", "Dexamethasone", rxnorm="3264", route="Inhalation"), False),
        (med_request("m", "Betamethasone nasal spray"), False),  # dose form
        (med_request("m", "Dexamethasone", rxnorm="3264", route_code="46713006"), False),  # nasal
        (med_request("m", "Fluticasone 50 mcg"), False),  # not a systemic ingredient listed
        (med_request("m", "Dexamethasone 0.1% eye drops"), False),  # dose form
        (med_request("m", "Prednisolone acetate ophthalmic suspension"), False),
        (med_request("m", "Triamcinolone 0.1% ointment", atc="D07AB09"), False),
        (med_request("m", "Prednisone 20 mg", authored="2023-01-01"), False),  # too old
        (med_request("m", "Prednisone 20 mg", status="cancelled"), False),
        (med_request("m", "Ibuprofen 400 mg tablet"), False),
    ],
)
def test_systemic_corticosteroids(resource: dict, counted: bool) -> None:
    found, _notes = steroids(resource)
    assert bool(found) is counted
    if counted:
        assert found[0].kind == "steroid" and found[0].ref == "MedicationRequest/m"


def test_excluded_steroid_is_noted_with_reason() -> None:
    _found, notes = steroids(med_request("m", "Hydrocortisone 1% cream", route="topical"))
    assert notes and "not counted" in notes[0] and "topical" in notes[0]


def test_medication_statement_and_contained_medication() -> None:
    statement = {
        "resourceType": "MedicationStatement", "id": "ms", "status": "active",
        "contained": [{"resourceType": "Medication", "id": "med",
                       "code": {"text": "Methylprednisolone 4 mg tablet"}}],
        "medicationReference": {"reference": "#med"},
        "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2025-01-10"}
    found, _ = steroids(statement)
    assert [f.ref for f in found] == ["MedicationStatement/ms"]
    statement["status"] = "not-taken"
    assert steroids(statement)[0] == []


def facts_of(*conds: dict):
    return with_recent_fever(classify_conditions(record(*conds).of("Condition")),
                             NOW - timedelta(days=14))


@pytest.mark.parametrize(
    ("cond", "risk"),
    [
        (condition("c", "Sickle cell anemia", code=(SNOMED, "417357006")),
         "sickle cell disease or trait"),
        (condition("c", "Hb-SS disease", code=(ICD10, "D57.1")), "sickle cell disease or trait"),
        (condition("c", "Systemic lupus erythematosus", code=(SNOMED, "55464009")),
         "systemic lupus erythematosus"),
        (condition("c", "Osteonecrosis of right femur due to drugs", code=(ICD10, "M87.151")),
         "prior avascular necrosis"),
        (condition("c", "Alcohol dependence"), "alcohol use disorder"),
        (condition("c", "Kidney transplant recipient"), "organ transplant"),
        (condition("c", "HIV infection", code=(SNOMED, "86406008")), "HIV infection"),
        (condition("c", "Gaucher disease"), "Gaucher disease"),
    ],
)
def test_risk_factor_conditions(cond: dict, risk: str) -> None:
    assert [r.label for r in facts_of(cond).risk_factors] == [risk]


@pytest.mark.parametrize(
    "cond",
    [
        condition("c", "Hip pain", code=(SNOMED, "49218002")),
        condition("c", "Avascular necrosis of left femoral head", verification="refuted"),
        condition("c", "Sickle cell anemia", verification="entered-in-error"),
    ],
)
def test_non_risk_conditions(cond: dict) -> None:
    assert facts_of(cond).risk_factors == []


@pytest.mark.parametrize(
    "cond",
    [
        condition("c", "Avascular necrosis of left femoral head", verification="provisional"),
        condition("c", "Suspected avascular necrosis of the left hip"),
    ],
)
def test_suspected_avn_is_a_doubt_not_a_risk_factor(cond: dict) -> None:
    facts = facts_of(cond)
    assert facts.risk_factors == []
    assert [(d.concept, d.state) for d in facts.doubts] == [(tr.AVN, POSSIBLE)]


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (condition("c", "Septic arthritis of right hip"), [(tr.INFECTION, PRESENT)]),
        (condition("c", "Infective arthritis of hip", code=(SNOMED, "324481000119107")),
         [(tr.INFECTION, PRESENT)]),
        (condition("c", "Suspected septic arthritis"), [(tr.INFECTION, POSSIBLE)]),
        (condition("c", "Septic arthritis of right hip", clinical="resolved"), []),
        (condition("c", "Fever", code=(SNOMED, "386661006"), onset="2025-02-27"),
         [(FEVER, PRESENT)]),
        (condition("c", "Fever", onset="2024-06-01"), []),  # not a current fever
        (condition("c", "Stress fracture of femoral neck", code=(SNOMED, "240197007")),
         [(tr.STRESS_FRACTURE, PRESENT)]),
        (condition("c", "Transient osteoporosis of the left hip", code=(ICD10, "M81.6"),
                   clinical="resolved"), [(tr.TOH, RESOLVED)]),
    ],
)
def test_condition_findings(cond: dict, expected: list) -> None:
    assert [(f.concept, f.state) for f in facts_of(cond).findings] == expected


@pytest.mark.parametrize(
    ("cond", "osteoporosis"),
    [
        (condition("c", "Postmenopausal osteoporosis", code=(SNOMED, "64859006")), True),
        (condition("c", "Transient osteoporosis of hip"), False),  # TOH is not osteoporosis
    ],
)
def test_osteoporosis(cond: dict, osteoporosis: bool) -> None:
    assert bool(facts_of(cond).osteoporosis_refs) is osteoporosis


@pytest.mark.parametrize(
    ("cond", "postpartum"),
    [(condition("c", "Postpartum state"), True), (condition("c", "Hip pain"), False)],
)
def test_postpartum(cond: dict, postpartum: bool) -> None:
    assert bool(facts_of(cond).postpartum) is postpartum


@pytest.mark.parametrize(
    ("proc", "found"),
    [
        (procedure("p", "Core decompression of left femoral head", "2024-06-01", side="left"),
         True),
        ({**procedure("p", "", "2024-06-01"),
          "code": {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/"
                               "HCPCSReleaseCodeSets", "code": "S2325"}]}}, True),
        (procedure("p", "Core decompression of left hip", "2024-06-01", status="not-done"),
         False),
        (procedure("p", "Total hip arthroplasty", "2024-06-01"), False),
    ],
)
def test_prior_core_decompression(proc: dict, found: bool) -> None:
    procs = prior_procedures(record(proc).of("Procedure"))
    assert bool(procs) is found
    if found:
        assert procs[0].ref == "Procedure/p"
