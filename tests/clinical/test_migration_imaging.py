"""Migration from imaging alone (issue 12, item 6): episodes of marrow edema in different
weight-bearing joints, the first resolved on a later report or a normal follow-up MRI, make
the migratory pattern without any Condition; talus and navicular together are one episode."""

from __future__ import annotations

import pytest

from cds_service.clinical.assessment import TOH
from cds_service.clinical.episodes import joint_episodes
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.migration import find_migration
from cds_service.clinical.normal_exam import normal_statement
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.migration import MigrationLogic
from tests.clinical.builders import NOW, invocation, mri_study, patient, record, report
from tests.clinical.test_assessment import case

KNEE, ANKLE = "72696002", "70258002"


def exam(sid: str, date: str, text: str, site: str = KNEE, side: str | None = "right",
         what: str = "knee", modality: str = "MR") -> list[dict]:
    return [mri_study(sid, date, side, site=site, description=f"MRI {what}", modality=modality),
            report(f"{sid}-r", date, text, study=sid, code_text=f"MRI {side or ''} {what}")]


def knee_then_normal(follow_up: str = "Normal MRI of the right knee.", side: str = "right",
                     modality: str = "MR") -> list[dict]:
    return (exam("k1", "2024-05-01", "Diffuse bone marrow edema of the lateral femoral condyle.")
            + exam("k2", "2024-09-01", follow_up, side=side, modality=modality))


def hip_now(date: str = "2025-02-20") -> list[dict]:
    return exam("h", date, "Diffuse bone marrow edema of the left femoral head and neck.",
                site="24136001", side="left", what="hip")


def migration(*resources: dict):
    return MigrationLogic(Thresholds()).decide(invocation(hook="patient-view"),
                                               record(patient(), *resources))


def episodes(*resources: dict):
    return collect_facts(record(patient(), *resources), NOW, Thresholds()).episodes


def pattern(*resources: dict) -> tuple[str, list[str]] | None:
    """("side joint" now, ["side joint" earlier]) of the migratory pattern, or None (the
    card's wording is cards.py's; this checks what it rests on)."""
    found = find_migration(episodes(*resources), NOW, Thresholds().migration_window_days)
    if found is None:
        return None
    new, earlier = found
    return f"{new.side} {new.joint}", [f"{e.side} {e.joint}" for e in earlier]


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Normal MRI of the right knee.", True),
        ("MRI of the left ankle is normal.", True),
        ("No significant abnormality.", True),
        ("The bone marrow signal is now normal.", True),
        ("Unremarkable study.", True),
        ("Normal alignment. Small joint effusion.", False),  # a normal part, not the exam
        ("The study is not normal.", False),
        ("Compared with the normal MRI of 2020, new edema of the talus.", False),
        ("Abnormal marrow signal of the talus.", False),
    ],
)
def test_normal_statement(text: str, normal: bool) -> None:
    assert bool(normal_statement(text)) is normal


def test_normal_follow_up_mri_closes_the_episode_and_makes_the_pattern() -> None:
    assert pattern(*knee_then_normal(), *hip_now()) == ("left hip", ["right knee"])
    (result,) = migration(*knee_then_normal(), *hip_now())
    assert {"DiagnosticReport/k1-r", "DiagnosticReport/k2-r"} <= set(result.evidence)
    (knee, _) = episodes(*knee_then_normal(), *hip_now())
    assert knee.closed and knee.resolved_on.date().isoformat() == "2024-09-01"
    assert knee.resolution_phrase == "Normal MRI of the right knee."


@pytest.mark.parametrize(
    "follow_up",
    [
        ("Normal MRI of the right knee.", "left", "MR"),  # the other knee
        ("Normal radiograph of the right knee.", "right", "DX"),  # TOH radiographs are normal
        ("Persistent bone marrow edema of the lateral femoral condyle; otherwise normal "
         "study.", "right", "MR"),  # edema still there
        ("Meniscal tear. No effusion.", "right", "MR"),  # says nothing about the marrow
    ],
)
def test_no_resolution_no_pattern(follow_up: tuple[str, str, str]) -> None:
    text, side, modality = follow_up
    assert migration(*knee_then_normal(text, side, modality), *hip_now()) == []


def test_normal_mri_of_no_side_closes_no_sided_episode() -> None:
    resources = (exam("k1", "2024-05-01", "Bone marrow edema of the right lateral femoral "
                      "condyle.") + exam("k2", "2024-09-01", "Normal MRI of the knee.", side=None))
    assert migration(*resources, *hip_now()) == []


def test_resolution_read_from_a_later_report_is_enough() -> None:
    resources = (exam("k1", "2024-05-01", "Bone marrow edema of the lateral femoral condyle.")
                 + exam("k2", "2024-09-01", "The bone marrow edema of the lateral femoral "
                        "condyle has resolved."))
    assert migration(*resources, *hip_now())


def test_normal_mri_before_the_edema_closes_nothing() -> None:
    resources = (exam("k0", "2024-01-01", "Normal MRI of the right knee.")
                 + exam("k1", "2024-05-01", "Bone marrow edema of the lateral femoral condyle."))
    assert migration(*resources, *hip_now()) == []


def test_talus_and_navicular_together_are_one_ankle_foot_episode() -> None:
    both = exam("a1", "2024-05-01", "Bone marrow edema of the talus and navicular.",
                site=ANKLE, side="left", what="ankle")
    later = exam("a2", "2024-06-15", "Talar edema is decreasing. Navicular bone marrow edema "
                 "persists.", site=ANKLE, side="left", what="ankle")
    (episode,) = episodes(*both, *later)
    assert episode.joint == "ankle/foot" and not episode.transient
    assert migration(*both, *later) == []  # not a migration from the ankle to the foot
    # the same region, closed by a normal follow-up ankle MRI, then the hip: a migration
    normal = exam("a3", "2024-10-01", "Normal MRI of the left ankle.", site=ANKLE,
                  side="left", what="ankle")
    assert pattern(*both, *later, *normal, *hip_now()) == ("left hip", ["left ankle/foot"])
    assert migration(*both, *later, *normal, *hip_now())


def test_ankle_then_foot_after_resolution_is_still_a_migration() -> None:
    ankle = (exam("a1", "2024-05-01", "Bone marrow edema of the left talus.", site=ANKLE,
                  side="left", what="ankle")
             + exam("a2", "2024-08-01", "Normal MRI of the left ankle.", site=ANKLE,
                    side="left", what="ankle"))
    foot = exam("f1", "2025-02-10", "Bone marrow edema of the left navicular.", site="56459004",
                side="left", what="foot")
    joints = [e.joint for e in joint_episodes(
        collect_facts(record(patient(), *ankle, *foot), NOW, Thresholds()).exams, [])]
    assert joints == ["ankle", "foot"]
    assert pattern(*ankle, *foot) == ("left foot", ["left ankle"])


def test_core_decompression_card_names_the_imaging_only_migration() -> None:
    a = case(*knee_then_normal())
    assert a.outcome == TOH
    assert any("right knee" in r.text and "migratory pattern" in r.text for r in a.found)
    b = case(*exam("k1", "2024-05-01", "Diffuse bone marrow edema of the lateral femoral "
                   "condyle."))
    assert not any("migratory pattern" in r.text for r in b.found)
