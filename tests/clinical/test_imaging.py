"""Imaging exams: linking reports and findings to studies, modality, site, side, text."""

from __future__ import annotations

import pytest

from cds_service.clinical import text_rules as tr
from cds_service.clinical.extract_imaging import imaging_exams
from cds_service.clinical.facts import ABSENT, POSSIBLE, PRESENT
from tests.clinical.builders import ICD10, SNOMED, mri_study, record, report

EDEMA = "Diffuse bone marrow edema of the left femoral head and neck."


def exams_of(*resources: dict):
    exams, loose = imaging_exams(record(*resources))
    return exams, loose


def test_report_linked_by_imaging_study_reference() -> None:
    exams, _ = exams_of(mri_study("s1", "2025-02-10"),
                        report("r1", "2025-02-12", EDEMA, study="s1"))
    assert len(exams) == 1
    exam = exams[0]
    assert exam.refs == ("ImagingStudy/s1", "DiagnosticReport/r1")
    assert exam.is_mri and exam.readable and (exam.site, exam.side) == ("hip", "left")


@pytest.mark.parametrize(
    ("report_date", "report_side", "linked"),
    [
        ("2025-02-11", "left", True),  # within 3 days, same side
        ("2025-02-20", "left", False),  # too far apart
        ("2025-02-10", "right", False),  # other side
    ],
)
def test_report_linked_by_date_and_site(report_date: str, report_side: str, linked: bool) -> None:
    rep = report("r1", report_date, EDEMA.replace("left", report_side),
                 code_text=f"MR hip {report_side}")
    exams, _ = exams_of(mri_study("s1", "2025-02-10", "left"), rep)
    assert (len(exams) == 1) is linked
    if linked:
        assert exams[0].report_refs == ("DiagnosticReport/r1",)


def test_report_without_study_is_its_own_mri_exam() -> None:
    exams, _ = exams_of(report("r1", "2025-02-10", EDEMA, code_text="MRI LEFT HIP"))
    assert len(exams) == 1 and exams[0].is_mri and exams[0].study_ref is None
    assert exams[0].side == "left"


def test_study_without_report_is_unreadable() -> None:
    exams, _ = exams_of(mri_study("s1", "2025-02-10"))
    assert not exams[0].readable and exams[0].findings == ()


@pytest.mark.parametrize(("modality", "is_mri"), [("MR", True), ("CR", False), ("DX", False)])
def test_modality(modality: str, is_mri: bool) -> None:
    exams, _ = exams_of(mri_study("s1", "2025-02-10", modality=modality, description="Hip"))
    assert exams[0].is_mri is is_mri


def test_presented_form_plain_text_is_read() -> None:
    exams, _ = exams_of(mri_study("s1", "2025-02-10"),
                        report("r1", "2025-02-10", study="s1", presented=EDEMA))
    assert [(f.concept, f.state) for f in exams[0].findings] == [(tr.BME, PRESENT)]


def test_a_conclusion_the_attached_report_repeats_is_read_once() -> None:
    wrapped = EDEMA.replace(" of the", "\nof the")  # line breaks differ, words do not
    full = f"FINDINGS:\nNo fracture.\n\nIMPRESSION:\n{wrapped}"
    exams, _ = exams_of(mri_study("s1", "2025-02-10"),
                        report("r1", "2025-02-10", text=EDEMA, study="s1", presented=full))
    assert [(f.concept, f.state) for f in exams[0].findings] == [
        (tr.STRESS_FRACTURE, ABSENT), (tr.BME, PRESENT)]


def test_a_conclusion_the_attached_report_lacks_is_read_too() -> None:
    exams, _ = exams_of(mri_study("s1", "2025-02-10"),
                        report("r1", "2025-02-10", text="Possible early AVN.", study="s1",
                               presented=EDEMA))
    assert sorted((f.concept, f.state) for f in exams[0].findings) == [
        (tr.AVN, POSSIBLE), (tr.BME, PRESENT)]


def test_non_text_presented_form_is_not_read() -> None:
    rep = report("r1", "2025-02-10", study="s1", presented=EDEMA)
    rep["presentedForm"][0]["contentType"] = "application/pdf"
    exams, _ = exams_of(mri_study("s1", "2025-02-10"), rep)
    assert not exams[0].readable


def test_conclusion_code_alone_makes_the_report_readable() -> None:
    rep = report("r1", "2025-02-10", study="s1",
                 conclusion_codes=[(ICD10, "M81.6", "Localized osteoporosis")])
    exams, _ = exams_of(mri_study("s1", "2025-02-10"), rep)
    assert exams[0].readable
    assert [(f.concept, f.state) for f in exams[0].findings] == [(tr.TOH, PRESENT)]


def test_mention_without_site_takes_the_exam_site_and_side() -> None:
    exams, _ = exams_of(mri_study("s1", "2025-02-10", "right"),
                        report("r1", "2025-02-10", "No bone marrow edema.", study="s1"))
    f = exams[0].findings[0]
    assert (f.site, f.side, f.state) == ("hip", "right", ABSENT)


def imaging_obs(oid: str, code: tuple[str, str], **extra) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "observation-category", "code": "imaging"}]}],
            "code": {"coding": [{"system": code[0], "code": code[1]}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2025-02-10", **extra}


@pytest.mark.parametrize(
    ("extra", "state"),
    [({}, PRESENT), ({"valueBoolean": False}, ABSENT),
     ({"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000"}]}}, ABSENT)],
)
def test_coded_imaging_finding_observation(extra: dict, state: str) -> None:
    obs = imaging_obs("o1", (SNOMED, "444849002"),
                      derivedFrom=[{"reference": "ImagingStudy/s1"}], **extra)
    exams, loose = exams_of(mri_study("s1", "2025-02-10"), obs)
    assert loose == ()
    assert "Observation/o1" in exams[0].refs
    assert [(f.concept, f.state) for f in exams[0].findings] == [(tr.AVN, state)]


def test_unlinked_finding_far_from_any_exam_is_loose() -> None:
    obs = imaging_obs("o1", (SNOMED, "444849002"))
    obs["effectiveDateTime"] = "2024-01-01"
    exams, loose = exams_of(mri_study("s1", "2025-02-10"), obs)
    assert [f.ref for f in loose] == ["Observation/o1"]


def test_entered_in_error_report_is_ignored() -> None:
    exams, _ = exams_of(report("r1", "2025-02-10", EDEMA, status="entered-in-error"))
    assert exams == ()


def test_lab_report_is_not_an_imaging_exam() -> None:
    rep = report("r1", "2025-02-10", "Haemoglobin normal.", code_text="Complete blood count")
    rep["category"] = [{"coding": [{"code": "LAB"}]}]
    rep["code"] = {"text": "Complete blood count"}
    assert exams_of(rep)[0] == ()
