"""patient-view: edema in a new joint after a transient episode in another joint."""

from __future__ import annotations

import pytest

from cds_service.clinical.thresholds import Thresholds
from cds_service.services.migration import MigrationLogic
from tests.card_checks import check_card
from tests.clinical.builders import ICD10, condition, invocation, mri_study, patient, record, report

LOGIC = MigrationLogic(Thresholds())


def hip_episode(start: str = "2024-06-01", resolved: str | None = "2024-09-01",
                side: str = "left", wording: str = "Complete resolution of bone marrow edema."):
    out = [mri_study("hip", start, side),
           report("hip-r", start, f"Diffuse bone marrow edema of the {side} femoral head and "
                  "neck.", study="hip")]
    if resolved:
        out.append(report("hip-r2", resolved, wording, code_text=f"MRI {side} hip"))
    return out


def ankle_now(date: str = "2025-02-20", side: str = "left") -> list[dict]:
    return [mri_study("ank", date, side, site="70258002", description="MRI ankle"),
            report("ank-r", date, f"Bone marrow edema of the {side} talus with a mild joint "
                   "effusion.", study="ank", code_text=f"MRI {side} ankle")]


def cards(*resources: dict):
    return LOGIC.decide(invocation(hook="patient-view"), record(patient(), *resources))


def test_migration_card_with_timeline() -> None:
    (result,) = cards(*hip_episode(), *ankle_now())
    card = result.card
    check_card(card.to_json())
    assert card.source.topic.code == "tmo-migration" and card.indicator == "info"
    assert "left hip (1 Jun 2024) to the left ankle (20 Feb 2025)" in card.summary
    assert "resolved by 1 Sep 2024" in card.detail
    assert {"DiagnosticReport/hip-r", "DiagnosticReport/hip-r2", "DiagnosticReport/ank-r",
            "ImagingStudy/ank"} <= set(result.evidence)
    assert card.suggestions is None and card.links[0].type == "absolute"


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ((*hip_episode(), *ankle_now()), True),
        ((*hip_episode(wording="Significant improvement in bone marrow edema."), *ankle_now()),
         True),  # improving counts as transient
        ((*hip_episode(resolved=None), *ankle_now()), False),  # earlier episode never resolved
        (tuple(ankle_now()), False),  # a single joint
        (tuple(hip_episode()), False),  # nothing new
        ((*hip_episode(start="2021-01-01", resolved="2021-05-01"), *ankle_now()), False),
        # the other hip is another joint
        ((*hip_episode(), mri_study("rh", "2025-02-20", "right"),
          report("rh-r", "2025-02-20", "Bone marrow edema of the right femoral head.",
                 study="rh")), True),
        # the same hip again is recurrence, not migration
        ((*hip_episode(), mri_study("lh", "2025-02-20", "left"),
          report("lh-r", "2025-02-20", "Bone marrow edema of the left femoral head.",
                 study="lh")), False),
    ],
)
def test_migration_rules(resources: tuple, expected: bool) -> None:
    assert bool(cards(*resources)) is expected


def test_resolved_toh_condition_counts_as_earlier_episode() -> None:
    toh = condition("toh", "Transient osteoporosis of the left hip", code=(ICD10, "M81.6"),
                    clinical="resolved", onset="2024-06-01", abated="2024-10-01",
                    body_site="left hip")
    (result,) = cards(toh, *ankle_now())
    assert "Condition/toh" in result.evidence


def test_configurable_window() -> None:
    resources = (*hip_episode(start="2022-06-01", resolved="2022-09-01"), *ankle_now())
    assert cards(*resources)
    narrow = MigrationLogic(Thresholds(migration_window_days=365))
    assert narrow.decide(invocation(hook="patient-view"), record(patient(), *resources)) == []


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ({"resourceType": "DiagnosticReport"}, True),
        ({"resourceType": "Observation", "category": [{"coding": [{"code": "imaging"}]}]}, True),
        ({"resourceType": "Observation", "category": [{"coding": [{"code": "vital-signs"}]}]},
         False),
        ({"resourceType": "Encounter"}, False),
    ],
)
def test_keep(raw: dict, kept: bool) -> None:
    assert LOGIC.keep(raw) is kept
