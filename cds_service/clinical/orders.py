"""Draft R4 ServiceRequests for the conservative plan (clinical.md "Management").

Repeat hip MRI in 6-8 weeks and protected weight bearing with physiotherapy until then.
Codes: LOINC 30687-8 "Hip MRI WO contrast" (clinical.md MR hip study codes), SNOMED
91251008 "Physical therapy procedure", SNOMED 363679005 "Imaging" (FHIR
servicerequest-category), SNOMED 24136001 hip joint (clinical.md). Laterality is given
in `bodySite.text`: no verified precoordinated left/right hip code is on record here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.codes import LOINC, SNOMED
from cds_service.clinical.reasons import day

REPEAT_MRI_WEEKS = (6, 8)


def _hip_site(side: str | None) -> list[dict[str, Any]]:
    label = f"{side.capitalize()} hip joint" if side in ("left", "right") else (
        "Both hip joints" if side == "bilateral" else "Hip joint")
    return [{"coding": [{"system": SNOMED, "code": "24136001"}], "text": label}]


def _side_words(side: str | None) -> str:
    return f"{side} " if side else ""


def _hip_mri(patient_id: str, side: str | None, text: str, reason: str) -> dict[str, Any]:
    """The draft hip MRI ServiceRequest both imaging suggestions start from."""
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "category": [{"coding": [{"system": SNOMED, "code": "363679005", "display": "Imaging"}]}],
        "code": {
            "coding": [{"system": LOINC, "code": "30687-8", "display": "Hip MRI WO contrast"}],
            "text": text,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "bodySite": _hip_site(side),
        "reasonCode": [{"text": reason}],
    }


def repeat_mri_request(patient_id: str, side: str | None, now: datetime,
                       reason_refs: tuple[str, ...]) -> dict[str, Any]:
    """A draft ServiceRequest: MRI of the hip 6-8 weeks from now."""
    start, end = (now + timedelta(weeks=w) for w in REPEAT_MRI_WEEKS)
    resource = _hip_mri(
        patient_id, side, f"Repeat MRI of the {_side_words(side)}hip without contrast",
        "Bone marrow edema of the femoral head and neck: suspected transient osteoporosis "
        "of the hip; check for resolution")
    resource["occurrencePeriod"] = {"start": start.date().isoformat(),
                                    "end": end.date().isoformat()}
    resource["note"] = [{"text": f"Repeat MRI 6-8 weeks from the day this was proposed "
                                 f"({day(start)} to {day(end)}), to "
                                 "follow the edema before any decision on core decompression."}]
    refs = [r for r in reason_refs if r.startswith(("DiagnosticReport/", "ImagingStudy/"))]
    if refs:
        resource["reasonReference"] = [{"reference": r} for r in refs]
    return resource


def physiotherapy_request(patient_id: str, side: str | None, now: datetime) -> dict[str, Any]:
    """A draft ServiceRequest: protected weight bearing and physiotherapy until the repeat MRI."""
    end = now + timedelta(weeks=REPEAT_MRI_WEEKS[1])
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {
            "coding": [{"system": SNOMED, "code": "91251008",
                        "display": "Physical therapy procedure"}],
            "text": "Physiotherapy: protected weight bearing with crutches or a walker, "
                    "hip range-of-motion and strengthening exercises",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "occurrencePeriod": {"start": now.date().isoformat(), "end": end.date().isoformat()},
        "bodySite": _hip_site(side),
        "reasonCode": [{"text": "Suspected transient osteoporosis of the hip: protect from "
                                "femoral neck fracture while the edema resolves"}],
        "patientInstruction": f"Use crutches or a walker and avoid full weight bearing on the "
                              f"{_side_words(side)}hip until the repeat MRI.",
    }


def mri_request(patient_id: str, side: str | None) -> dict[str, Any]:
    """A draft ServiceRequest: hip MRI now (for the imaging-needed card)."""
    return _hip_mri(
        patient_id, side,
        f"MRI of the {_side_words(side)}hip without contrast (T1, STIR or fat-suppressed T2)",
        "Hip core decompression ordered without a recent readable MRI")
