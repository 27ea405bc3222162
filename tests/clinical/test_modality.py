"""Imaging modality from codes and from a report's own technique, never from advice."""

from __future__ import annotations

import pytest

from cds_service.clinical import modality as mod
from cds_service.clinical.assessment import IMAGING, TOH, assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.extract_imaging import imaging_exams
from cds_service.clinical.thresholds import Thresholds
from tests.clinical.builders import LOINC, NOW, lab, mri_study, patient, record

EDEMA = "Diffuse bone marrow edema of the left femoral head and neck, in keeping with TOH."
V2 = "http://terminology.hl7.org/CodeSystem/v2-0074"


def plain_report(rid: str, date: str, text: str, code: dict | None = None,
                 category: str | None = None, study: str | None = None) -> dict:
    res = {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
           "code": code or {"text": "Radiology report"}, "subject": {"reference": "Patient/p1"},
           "effectiveDateTime": date, "conclusion": text}
    if category:
        res["category"] = [{"coding": [{"system": V2, "code": category}]}]
    if study:
        res["imagingStudy"] = [{"reference": f"ImagingStudy/{study}"}]
    return res


@pytest.mark.parametrize(
    ("code", "category", "expected"),
    [
        ([(LOINC, "24762-7", None)], [], "DX"),  # XR Hip Views, by the table
        ([(LOINC, "30687-8", None)], [], "MR"),
        ([(LOINC, "99999-9", "NM Bone Views W Tc-99m")], [], "NM"),  # display words
        ([(None, None, "PET-CT whole body")], [], "PT"),  # a PET-CT is a PET
        ([(None, None, "USG LEFT HIP")], [], "US"),
        ([(None, None, "X-RAY PELVIS WITH BOTH HIPS")], [], "DX"),
        ([(None, None, "Radiology report")], [(V2, "NMS", None)], "NM"),  # category
        ([(None, None, "Radiology report")], [(V2, "RAD", None)], None),
    ],
)
def test_modality_from_codes(code, category, expected) -> None:
    assert mod.of_codes(code, category) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MRI of the left hip:\nDiffuse edema.", "MR"),
        ("Findings first.\nMRI OF LEFT HIP (PLAIN)\nEdema.", "MR"),
        ("EXAM: MR hip without contrast\nFINDINGS: edema.", "MR"),
        ("TECHNIQUE: Coronal T1 and STIR sequences of the left hip.", "MR"),
        ("Sequences: T1W and STIR coronal, PD FS sagittal.", "MR"),
        ("Technique: AP pelvis and frog-leg lateral views.", "DX"),
        ("Technique: Tc-99m MDP three-phase study of the pelvis.", "NM"),
        ("Technique: FDG PET with low-dose CT.", "PT"),
        # a technique line that then compares with an MRI is still a radiograph
        ("Technique: AP and lateral views. Compared with MRI of the left hip.", "DX"),
        # never a recommendation, a comparison or a sentence about another exam
        ("No fracture. MRI recommended.", None),
        ("MRI is the investigation of choice.", None),
        ("MRI recommended if pain persists.", None),
        ("COMPARISON: MRI LEFT HIP", None),
        ("Compared with MRI of the left hip, the edema is smaller.", None),
        ("MRI showed bone marrow edema last year.", None),
        ("Normal radiographs. Follow-up MRI in 6-8 weeks suggested.", None),
    ],
)
def test_modality_from_own_technique_only(text: str, expected: str | None) -> None:
    assert mod.of_text([text]) == expected


def test_a_report_that_only_recommends_mri_is_not_an_mri() -> None:
    exams, _ = imaging_exams(record(plain_report(
        "r1", "2025-02-20", "Normal radiographs of the left hip. MRI recommended.")))
    assert len(exams) == 1 and not exams[0].is_mri


def test_a_report_stating_its_own_sequences_is_an_mri() -> None:
    exams, _ = imaging_exams(record(plain_report(
        "r1", "2025-02-20", "TECHNIQUE: Coronal STIR and T1 of the left hip.\n" + EDEMA)))
    assert exams[0].is_mri and exams[0].modality == "MR"


def test_the_study_modality_wins_over_report_words() -> None:
    exams, _ = imaging_exams(record(
        mri_study("xr", "2025-02-20", modality="DX", description="Pelvis AP"),
        plain_report("r1", "2025-02-20", "MRI OF THE LEFT HIP:\nNo fracture.", study="xr")))
    assert exams[0].modality == "DX" and not exams[0].is_mri


def test_a_pet_ct_study_is_a_pet() -> None:
    study = mri_study("pet", "2025-02-20", modality="CT", description="PET-CT")
    study["modality"].append({"system": "http://dicom.nema.org/resources/ontology/DCM",
                              "code": "PT"})
    exams, _ = imaging_exams(record(study))
    assert exams[0].modality == "PT"


def test_a_radiograph_report_does_not_join_the_mri_of_the_same_day() -> None:
    exams, _ = imaging_exams(record(
        mri_study("mri", "2025-02-20"),
        plain_report("xr", "2025-02-20", "No fracture.", code={"text": "XR LEFT HIP"})))
    assert {e.modality for e in exams} == {"MR", "DX"}
    assert next(e for e in exams if e.is_mri).report_refs == ()


def test_a_microbiology_report_is_not_imaging() -> None:
    exams, _ = imaging_exams(record(plain_report(
        "mb", "2025-02-20", "Hip aspirate: no organisms seen; T1 sample.", category="MB",
        code={"text": "Synovial fluid culture"})))
    assert exams == ()


def _assess(*resources: dict):
    t = Thresholds()
    labs = (lab("crp", "1988-5", 3, "mg/L", "2025-02-25"),
            lab("esr", "4537-7", 8, "mm/h", "2025-02-25"))
    return assess(collect_facts(record(patient(birth="1980-01-01"), *labs, *resources), NOW, t),
                  t, "left")


def test_imaging_needed_when_the_only_hip_report_recommends_mri() -> None:
    a = _assess(plain_report("xr", "2025-02-20",
                             "Left hip: no fracture, joint space preserved. MRI is the "
                             "investigation of choice for suspected AVN.",
                             code={"text": "XR LEFT HIP 2 VIEWS"}))
    assert a.outcome == IMAGING
    assert any("radiograph" in r.text for r in a.found)


def test_a_bone_scan_alone_does_not_make_the_toh_warning() -> None:
    a = _assess(plain_report("nm", "2025-02-20",
                             "Increased uptake in the left femoral head and neck, in keeping "
                             "with transient osteoporosis of the left hip.",
                             code={"text": "NM Bone scan pelvis"}))
    assert a.outcome == IMAGING
    assert any("nuclear medicine" in r.text for r in a.found)


def test_an_mri_report_without_codes_still_makes_the_toh_warning() -> None:
    a = _assess(plain_report("mr", "2025-02-20", "MRI LEFT HIP\n" + EDEMA))
    assert a.outcome == TOH


def test_same_kind() -> None:
    assert mod.same_kind("CR", "DX") and mod.same_kind(None, "MR")
    assert not mod.same_kind("MR", "DX")


def test_labels_name_the_modality() -> None:
    assert mod.label("NM") == "nuclear medicine scan" and mod.label(None).startswith("imaging")

