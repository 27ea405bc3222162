"""The order-hook entry point: cheap filter, ordered side, one card per order."""

from __future__ import annotations

import pytest

from cds_service.clinical.thresholds import Thresholds
from cds_service.services.core_decompression import CoreDecompressionLogic, order_side
from tests.clinical.builders import (
    LOINC, draft_order, invocation, mri_study, patient, record, report)
from tests.clinical.test_assessment import NORMAL_LABS, TOH_TEXT

LOGIC = CoreDecompressionLogic(Thresholds())


def vital(i: int) -> dict:
    return {"resourceType": "Observation", "id": f"v{i}", "status": "final",
            "category": [{"coding": [{"code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}]}}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ({"resourceType": "Patient"}, True),
        ({"resourceType": "Condition"}, True),
        ({"resourceType": "ImagingStudy"}, True),
        ({"resourceType": "DiagnosticReport"}, True),
        ({"resourceType": "MedicationRequest"}, True),
        ({"resourceType": "MedicationStatement"}, True),
        ({"resourceType": "Procedure"}, True),
        ({"resourceType": "Observation", "code": {"coding": [{"system": LOINC,
                                                              "code": "1988-5"}]}}, True),
        ({"resourceType": "Observation", "code": {"coding": [{"system": LOINC,
                                                              "code": "8310-5"}]}}, True),
        ({"resourceType": "Observation", "category": [{"coding": [{"code": "imaging"}]}]}, True),
        ({"resourceType": "Observation", "derivedFrom": [{"reference": "ImagingStudy/1"}]}, True),
        (vital(1), False),  # heart rate
        ({"resourceType": "Observation", "code": {"coding": [{"system": "urn:local",
                                                              "code": "1988-5"}]}}, False),
        ({"resourceType": "Observation", "code": "not-a-dict"}, False),
        ({"resourceType": "Encounter"}, False),
        ({"resourceType": "Practitioner"}, False),
    ],
)
def test_keep_filter(raw: dict, kept: bool) -> None:
    assert LOGIC.keep(raw) is kept


def test_keep_drops_thousands_of_vitals() -> None:
    """Speed is measured in bench/, not here: this checks the behaviour only."""
    vitals = [vital(i) for i in range(5000)]
    assert not any(LOGIC.keep(v) for v in vitals)


@pytest.mark.parametrize(
    ("order", "side"),
    [
        (draft_order(side="left"), "left"),
        (draft_order(side=None, text="Core decompression right femoral head"), "right"),
        ({**draft_order(side=None), "bodySite": [{"coding": [
            {"system": "http://snomed.info/sct", "code": "24136001"}],
            "extension": [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                                  "mcode-laterality-qualifier",
                           "valueCodeableConcept": {"coding": [
                               {"system": "http://snomed.info/sct", "code": "24028007"}]}}]}]},
         "right"),
        (draft_order(side=None, text="Core decompression of femoral head"), None),
    ],
)
def test_order_side(order: dict, side: str | None) -> None:
    assert order_side(order) == side


def test_one_card_per_order_and_side() -> None:
    rec = record(patient(), *NORMAL_LABS, mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", TOH_TEXT, study="mri"))
    left, right = draft_order("l", "left"), draft_order("r", "right")
    results = LOGIC.decide(invocation(left, right), rec)
    assert [r.card.source.topic.code for r in results] == ["toh-suspected", "imaging-needed"]


def test_no_orders_no_cards() -> None:
    assert LOGIC.decide(invocation(), record(patient())) == []


def test_no_outcome_no_card() -> None:
    rec = record(patient(), *NORMAL_LABS, mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", "No bone marrow edema.", study="mri"))
    assert LOGIC.decide(invocation(draft_order()), rec) == []


def test_patient_id_falls_back_to_the_record() -> None:
    rec = record(patient("p9"), *NORMAL_LABS, mri_study("mri", "2025-02-20"),
                 report("rep", "2025-02-20", TOH_TEXT, study="mri"))
    inv = invocation(draft_order(), patient_id="")
    (result,) = LOGIC.decide(inv, rec)
    created = [a.resource for a in result.card.suggestions[0].actions if a.type == "create"]
    assert created and all(r["subject"]["reference"] == "Patient/p9" for r in created)
