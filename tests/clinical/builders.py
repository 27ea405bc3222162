"""Tiny builders for R4B-shaped resources used by the clinical tests."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from cds_service.fhir.record import PatientRecord, build_record
from cds_service.services.logic import Invocation
from cds_service.services.triggers import TriggeredOrder

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
SIDE_CODES = {"left": "7771000", "right": "24028007", "bilateral": "51440002"}


def patient(pid: str = "p1", gender: str = "male", birth: str = "1975-01-01") -> dict:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}


def mri_study(sid: str, started: str, side: str | None = "left", site: str = "24136001",
              modality: str = "MR", description: str = "MRI hip") -> dict:
    series: dict[str, Any] = {"uid": f"1.2.{len(sid)}", "modality": {
        "system": "http://dicom.nema.org/resources/ontology/DCM", "code": modality},
        "bodySite": {"system": SNOMED, "code": site}}
    if side:
        series["laterality"] = {"system": SNOMED, "code": SIDE_CODES[side]}
    return {"resourceType": "ImagingStudy", "id": sid, "status": "available",
            "subject": {"reference": "Patient/p1"}, "started": started,
            "modality": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                          "code": modality}],
            "description": description, "series": [series]}


def report(rid: str, date: str, text: str | None = None, study: str | None = None,
           code_text: str = "MR Hip", presented: str | None = None,
           conclusion_codes: list[tuple[str, str, str]] | None = None,
           status: str = "final") -> dict:
    res: dict[str, Any] = {
        "resourceType": "DiagnosticReport", "id": rid, "status": status,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                                  "code": "RAD"}]}],
        "code": {"coding": [{"system": LOINC, "code": "30687-8"}], "text": code_text},
        "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date}
    if text:
        res["conclusion"] = text
    if study:
        res["imagingStudy"] = [{"reference": f"ImagingStudy/{study}"}]
    if presented:
        res["presentedForm"] = [{"contentType": "text/plain",
                                 "data": base64.b64encode(presented.encode()).decode()}]
    if conclusion_codes:
        res["conclusionCode"] = [{"coding": [{"system": s, "code": c, "display": d}]}
                                 for s, c, d in conclusion_codes]
    return res


def lab(oid: str, loinc: str, value: float, unit: str | None, date: str,
        system: str | None = UCUM) -> dict:
    q: dict[str, Any] = {"value": value}
    if unit:
        q["unit"] = unit
        q["code"] = unit
    if system and unit:
        q["system"] = system
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "observation-category", "code": "laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": loinc}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date,
            "valueQuantity": q}


def coded_obs(oid: str, loinc: str, date: str, value_code: tuple[str, str] | None = None,
              quantity: tuple[float, str] | None = None, integer: int | None = None) -> dict:
    res: dict[str, Any] = {"resourceType": "Observation", "id": oid, "status": "final",
                           "code": {"coding": [{"system": LOINC, "code": loinc}]},
                           "subject": {"reference": "Patient/p1"}, "effectiveDateTime": date}
    if value_code:
        res["valueCodeableConcept"] = {"coding": [{"system": value_code[0],
                                                   "code": value_code[1]}]}
    if quantity:
        res["valueQuantity"] = {"value": quantity[0], "unit": quantity[1], "system": UCUM,
                                "code": quantity[1]}
    if integer is not None:
        res["valueInteger"] = integer
    return res


def condition(cid: str, text: str, code: tuple[str, str] | None = None,
              clinical: str = "active", verification: str = "confirmed",
              onset: str | None = None, abated: str | None = None,
              body_site: str | None = None) -> dict:
    cc: dict[str, Any] = {"text": text}
    if code:
        cc["coding"] = [{"system": code[0], "code": code[1]}]
    res: dict[str, Any] = {
        "resourceType": "Condition", "id": cid, "code": cc, "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                       "condition-clinical", "code": clinical}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "condition-ver-status", "code": verification}]}}
    if onset:
        res["onsetDateTime"] = onset
    if abated:
        res["abatementDateTime"] = abated
    if body_site:
        res["bodySite"] = [{"text": body_site}]
    return res


def med_request(mid: str, text: str, rxnorm: str | None = None, route: str | None = None,
                authored: str = "2025-02-01", status: str = "active",
                route_code: str | None = None, atc: str | None = None) -> dict:
    cc: dict[str, Any] = {"text": text}
    codings = []
    if rxnorm:
        codings.append({"system": RXNORM, "code": rxnorm})
    if atc:
        codings.append({"system": "http://www.whocc.no/atc", "code": atc})
    if codings:
        cc["coding"] = codings
    res: dict[str, Any] = {"resourceType": "MedicationRequest", "id": mid, "status": status,
                           "intent": "order", "medicationCodeableConcept": cc,
                           "subject": {"reference": "Patient/p1"}, "authoredOn": authored}
    if route or route_code:
        r: dict[str, Any] = {"text": route} if route else {}
        if route_code:
            r["coding"] = [{"system": SNOMED, "code": route_code}]
        res["dosageInstruction"] = [{"text": f"{text} daily", "route": r}]
    return res


def procedure(pid: str, text: str, date: str, status: str = "completed",
              side: str | None = None) -> dict:
    res: dict[str, Any] = {"resourceType": "Procedure", "id": pid, "status": status,
                           "code": {"text": text}, "subject": {"reference": "Patient/p1"},
                           "performedDateTime": date}
    if side:
        res["bodySite"] = [{"text": f"{side} hip"}]
    return res


def draft_order(oid: str | None = "sr-cd", side: str | None = "left",
                text: str = "Core decompression of femoral head") -> dict:
    res: dict[str, Any] = {"resourceType": "ServiceRequest", "status": "draft",
                           "intent": "order", "code": {"text": text},
                           "subject": {"reference": "Patient/p1"}}
    if oid:
        res["id"] = oid
    if side:
        res["bodySite"] = [{"coding": [{"system": SNOMED, "code": "24136001"},
                                       ], "text": f"{side} hip"}]
    return res


def record(*resources: dict) -> PatientRecord:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}
    return build_record([bundle])


def invocation(*orders: dict, now: datetime = NOW, hook: str = "order-select",
               patient_id: str = "p1") -> Invocation:
    triggered = [TriggeredOrder(resource=o, reference=f"ServiceRequest/{o['id']}"
                                if o.get("id") else None, matched_by="text") for o in orders]
    return Invocation(service_id="toh-core-decompression-select", hook=hook,
                      context={"patientId": patient_id, "userId": "Practitioner/1"},
                      orders=triggered, now=now)
