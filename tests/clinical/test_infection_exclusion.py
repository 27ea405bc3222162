"""Infection excluded on record: which tests answer which red flags (exclusion.py)."""

from __future__ import annotations

import base64

import pytest

from cds_service.clinical.assessment import INFECTION, TOH, assess
from cds_service.clinical.exclusion import NO_TEST
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.core_decompression.cards import assessment_card
from tests.clinical.builders import (
    LOINC, NOW, SNOMED, UCUM, condition, lab, mri_study, patient, record, report)

TOH_TEXT = ("Diffuse bone marrow edema of the left femoral head and neck extending to the "
            "intertrochanteric region, with joint effusion. No double line sign.")
CRP = lab("crp", "1988-5", 140.5, "mg/L", "2025-02-22")
PET_FREE = ("Diffuse increased FDG uptake in the left femoral head and neck (SUVmax 1.6), "
            "without features to suggest infection.")
LEFT_HIP = [{"coding": [{"system": SNOMED, "code": "24136001"},
                        {"system": SNOMED, "code": "7771000"}], "text": "left hip"}]


def scan(rid: str, date: str, text: str, title: str = "PET-CT WHOLE BODY") -> dict:
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "code": {"text": title}, "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": date, "conclusion": text}


def culture(oid: str, date: str, value: tuple[str, str] | None = None, text: str | None = None,
            status: str = "final", body_site: list | None = LEFT_HIP) -> dict:
    res = {"resourceType": "Observation", "id": oid, "status": status,
           "code": {"coding": [{"system": LOINC, "code": "621-3"}]},
           "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date}
    if value:
        res["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": value[0],
                                                   "display": value[1]}]}
    if text:
        res["valueString"] = text
    if body_site:
        res["bodySite"] = body_site[0]
    return res


def synovial_wbc(oid: str, date: str, count: float) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "26469-7"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date,
            "bodySite": LEFT_HIP[0],
            "valueQuantity": {"value": count, "unit": "/uL", "system": UCUM, "code": "/uL"}}


def micro_report(rid: str, date: str, text: str) -> dict:
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                                      "code": "MB"}]}],
            "code": {"text": "Joint fluid culture and Gram stain"},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date,
            "presentedForm": [{"contentType": "text/plain",
                               "data": base64.b64encode(text.encode()).decode()}]}


NO_GROWTH = ("264868006", "No growth")


def case(*extra: dict, text: str = TOH_TEXT, labs: tuple = (CRP,)):
    t = Thresholds()
    resources = [patient(birth="1975-01-01"), *labs, mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", text, study="mri"), *extra]
    return assess(collect_facts(record(*resources), NOW, t), t, "left")


def test_raised_crp_and_no_test_is_the_critical_card() -> None:
    a = case()
    assert a.outcome == INFECTION
    assert any(r.text == NO_TEST for r in a.missing)


def test_raised_crp_and_pet_free_of_infection_is_the_toh_card() -> None:
    a = case(scan("pet", "2025-02-26", PET_FREE))
    assert a.outcome == TOH
    assert any("PET" in r.text and r.text.startswith("Infection excluded") for r in a.excluded)
    assert any("140.5" in r.text and "answered" in r.text for r in a.excluded)
    assert "DiagnosticReport/pet" in a.evidence and "Observation/crp" in a.evidence


def test_the_toh_card_names_the_crp_and_the_test() -> None:
    a = case(scan("pet", "2025-02-26", PET_FREE))
    detail = assessment_card(a, "ServiceRequest/sr", "p1", NOW).card.detail
    assert "Infection excluded on record" in detail and "140.5" in detail and "PET" in detail


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [
        # joint aspirate, coded
        ((culture("cx", "2025-02-24", NO_GROWTH),), TOH),
        ((culture("cx", "2025-02-24", text="No growth after 5 days"),), TOH),
        ((culture("cx", "2025-02-24", NO_GROWTH, status="preliminary"),), INFECTION),
        ((culture("cx", "2025-02-24", NO_GROWTH, body_site=None),), INFECTION),  # joint?
        ((culture("cx", "2025-02-24", ("3092008", "Staphylococcus aureus")),), INFECTION),
        # a test that found infection outweighs one that did not
        ((culture("cx", "2025-02-24", ("3092008", "Staphylococcus aureus")),
          scan("pet", "2025-02-26", PET_FREE)), INFECTION),
        # synovial white count
        ((synovial_wbc("sw", "2025-02-24", 800),), TOH),
        ((synovial_wbc("sw", "2025-02-24", 12000),), INFECTION),  # inflammatory: not excluded
        ((synovial_wbc("sw", "2025-02-24", 80000),), INFECTION),
        # microbiology report text
        ((micro_report("mb", "2025-02-24", "Left hip aspirate. Gram stain: no organisms seen. "
                       "Culture: no growth after 5 days."),), TOH),
        ((micro_report("mb", "2025-02-24", "Left hip aspirate. Culture: Staphylococcus aureus "
                       "isolated."),), INFECTION),
        ((micro_report("mb", "2025-02-24", "Left knee aspirate: no growth."),), INFECTION),
        # scans
        ((scan("pet", "2025-02-01", PET_FREE),), INFECTION),  # > 14 days before the CRP
        ((scan("pet", "2025-02-26", "FDG uptake in the left femoral head; infection cannot "
               "be excluded."),), INFECTION),
        ((scan("nm", "2025-02-26", "Increased uptake in the left femoral head; this does not "
               "rule out infection.", title="NM Bone scan"),), INFECTION),
        ((scan("wbc", "2025-02-26", "No scintigraphic features of infection of the left hip.",
               title="Labelled leucocyte scan"),), TOH),
        # the problem list
        ((condition("c", "Septic arthritis of left hip", verification="refuted",
                    body_site="left hip") | {"recordedDate": "2025-02-27"},), TOH),
        ((condition("c", "Septic arthritis of left hip", body_site="left hip"),
          scan("pet", "2025-02-26", PET_FREE)), INFECTION),
    ],
)
def test_which_tests_exclude_infection(extra: tuple, outcome: str) -> None:
    assert case(*extra).outcome == outcome


def test_a_test_of_another_joint_is_named_as_not_counted() -> None:
    a = case(micro_report("mb", "2025-02-24", "Left knee aspirate: no growth."))
    assert any("Not counted" in r.text and "knee" in r.text for r in a.missing)


@pytest.mark.parametrize(("pet_date", "outcome"), [("2025-02-26", TOH), ("2025-02-18", INFECTION)])
def test_an_imaging_doubt_is_answered_only_by_a_later_test(pet_date: str, outcome: str) -> None:
    doubt = TOH_TEXT + " Septic arthritis cannot be excluded."
    a = case(scan("pet", pet_date, PET_FREE), text=doubt,
             labs=(lab("crp", "1988-5", 3, "mg/L", "2025-02-22"),))
    assert a.outcome == outcome


def test_infection_described_on_imaging_is_never_answered() -> None:
    text = TOH_TEXT + " Subchondral erosions and a periarticular collection."
    assert case(scan("pet", "2025-02-26", PET_FREE), text=text).outcome == INFECTION


def test_fever_is_answered_too() -> None:
    fever = lab("t", "8310-5", 38.4, "Cel", "2025-02-23")
    assert case(scan("pet", "2025-02-26", PET_FREE), labs=(CRP, fever)).outcome == TOH
    assert case(labs=(fever,)).outcome == INFECTION
