"""docs/data-contract.md names every code, unit and threshold the code reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.clinical import codes as c
from cds_service.clinical.anatomy import LATERALITY_CODES, SITE_CODES
from cds_service.clinical.extract_labs import _LABS
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.card_topics import OVERRIDE_SYSTEM, SOURCE_LABEL, TOPIC_SYSTEM

DOC = (Path(__file__).resolve().parents[2] / "docs" / "data-contract.md").read_text(
    encoding="utf-8")

CODES = sorted(
    set(c.LAB_CODES) | set(c.MR_HIP_STUDY) | set(c.STEROID_RXNORM) | set(c.AVN_SNOMED)
    | set(c.INFECTION_SNOMED) | set(c.STRESS_FRACTURE_SNOMED)
    | set(c.INSUFFICIENCY_FRACTURE_SNOMED) | set(c.FEVER_SNOMED) | set(c.OSTEOPOROSIS_SNOMED)
    | set(c.SNOMED_POSTPARTUM) | set(c.SNOMED_ABSENT) | set(c.NON_SYSTEMIC_ROUTE_SNOMED)
    | set(c.AVN_ICD) | set(c.INFECTION_ICD) | set(c.STRESS_FRACTURE_ICD) | set(c.TOH_ICD)
    | set(c.OSTEOPOROSIS_ICD) | set(SITE_CODES) | set(LATERALITY_CODES)
    | {code for _, snomed, icd, _ in c.RISK_CONDITIONS for code in (*snomed, *icd)}
    | {c.SNOMED_PREGNANT} | set(c.RADIOLOGY_LOINC) | set(c.CATEGORY_MODALITY)
    | set(c.LAB_CATEGORIES) | set(c.MODALITY_PRIORITY)
    | {atc for _, prefixes, _ in c.BLUNTING_DRUGS for atc in prefixes}
    | {name for _, _, names in c.BLUNTING_DRUGS for name in names}
)
UNITS = sorted({unit for _, _, factors in _LABS.values() for unit in factors})


@pytest.mark.parametrize("code", CODES)
def test_every_code_is_documented(code: str) -> None:
    assert code in DOC


@pytest.mark.parametrize("unit", UNITS)
def test_every_unit_is_documented(unit: str) -> None:
    assert f"`{unit}`" in DOC


@pytest.mark.parametrize("name", sorted(Thresholds.model_fields))
def test_every_threshold_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("text", [TOPIC_SYSTEM, OVERRIDE_SYSTEM, SOURCE_LABEL])
def test_card_identifiers_are_documented(text: str) -> None:
    assert text in DOC


@pytest.mark.parametrize(("name", "field"), sorted(Thresholds.model_fields.items()))
def test_threshold_defaults_match(name: str, field) -> None:
    assert f"`{name}` {field.default:g}" in DOC
