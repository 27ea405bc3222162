"""Generate the benchmark's patients and hook requests (deterministic: fixed seeds).

S1 typical: the fixture patient `seed1-tmo-hip` (a real `toh-suspected` case: left hip MRI
with diffuse edema, normal labs) plus a year of outpatient history: monthly visits with
vitals and labs, a chest radiograph, a couple of benign problems: about 200 resources,
three radiology reports. The request carries what an EHR returns for the service's
prefetch queries (a conforming server answers `Observation?code=...` with those codes only).

S2 heavy: S1 plus six years of monitoring that the `labs` query does return (hourly
temperatures in twelve inpatient stays, CRP/ESR/WBC daily there and at fortnightly clinic
visits): about 5,000 Observations in the request, and 40 radiology reports in all.

S4 fallback: S1's bundle, loaded into the test FHIR server; the request has no prefetch.

Every generated lab and report is at least 30 days older than the index date and normal,
so S1 and S2 answer the same card as the fixture (checked by bench.py before measuring).

S0 not a trigger: S1's request with only its pre-operative labs order drafted, the full
prefetch attached (the call an EHR makes most): no cards, nothing read.

Placeholders the load script (bench/request.lua) replaces per request:
  @@HOOK_INSTANCE@@  a fresh UUID v4 (every scenario, as order-select does while editing)
  BENCHNONCE         S1: a unique token at the end of every report text, so each
                     request carries three reports the service has never read (in an
                     attached report's base64 `data`, NONCE_B64 holds its place);
                     S1cold (informational): also in every resource's meta.source

Usage: make_data.py OUTDIR [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cds_service.devtools.fixture_data import (
    build_hook_request, load_bundle, load_manifest, rebase_dates, service_for_hook)

BASE = "seed1-tmo-hip"
HOOK = "order-sign"
HOOK_PLACEHOLDER = "@@HOOK_INSTANCE@@"
NONCE = "BENCHNONCE"
# The per-request token is NONCE_WIDTH characters (bench/request.lua, bench.py fill()); in a
# base64 attachment its place is held by NONCE_FIELD, whose base64 is NONCE_B64.
NONCE_WIDTH = 24
NONCE_FIELD = NONCE + "_" * (NONCE_WIDTH - len(NONCE))
NONCE_B64 = base64.b64encode(NONCE_FIELD.encode()).decode()
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
TZ = "+05:30"

# code -> (display, text, unit, low, high, category)
LABS = {
    "1988-5": ("C reactive protein [Mass/volume] in Serum or Plasma", "CRP", "mg/L", 0.3, 4.5,
               "laboratory"),
    "4537-7": ("Erythrocyte sedimentation rate by Westergren method", "ESR", "mm/h", 2, 14,
               "laboratory"),
    "6690-2": ("Leukocytes [#/volume] in Blood by Automated count", "WBC", "10*3/uL", 4.6, 9.4,
               "laboratory"),
    "8310-5": ("Body temperature", "Temperature", "Cel", 36.2, 37.3, "vital-signs"),
    # not asked for by the service's `labs` query: in the patient's record only
    "718-7": ("Hemoglobin [Mass/volume] in Blood", "Hemoglobin", "g/dL", 13.6, 16.2,
              "laboratory"),
    "777-3": ("Platelets [#/volume] in Blood by Automated count", "Platelets", "10*3/uL", 170,
              380, "laboratory"),
    "2160-0": ("Creatinine [Mass/volume] in Serum or Plasma", "Creatinine", "mg/dL", 0.7, 1.1,
               "laboratory"),
    "2951-2": ("Sodium [Moles/volume] in Serum or Plasma", "Sodium", "mmol/L", 136, 144,
               "laboratory"),
    "2823-3": ("Potassium [Moles/volume] in Serum or Plasma", "Potassium", "mmol/L", 3.6, 4.9,
               "laboratory"),
    "1742-6": ("Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "ALT",
               "U/L", 12, 38, "laboratory"),
    "2345-7": ("Glucose [Mass/volume] in Serum or Plasma", "Glucose", "mg/dL", 72, 99,
               "laboratory"),
    "17861-6": ("Calcium [Mass/volume] in Serum or Plasma", "Calcium", "mg/dL", 8.8, 10.1,
                "laboratory"),
    "8867-4": ("Heart rate", "Heart rate", "/min", 58, 84, "vital-signs"),
    "29463-7": ("Body weight", "Weight", "kg", 71, 74, "vital-signs"),
}
MONTHLY_S1 = ("1988-5", "4537-7", "6690-2", "718-7", "777-3", "2160-0", "2951-2", "2823-3",
              "1742-6", "2345-7", "17861-6")
VISIT_VITALS = ("8310-5", "8867-4", "29463-7")

# Extra radiology for S2: (code text, modality, site words, normal findings sentences)
EXTRA_EXAMS = [
    ("XR CHEST PA AND LATERAL", "CR", "chest", [
        "The lungs are clear.", "No pleural effusion or pneumothorax.",
        "Cardiomediastinal silhouette is within normal limits.",
        "No focal consolidation.", "Osseous structures of the thorax are unremarkable."]),
    ("CT ABDOMEN AND PELVIS WITH CONTRAST", "CT", "abdomen", [
        "The liver, spleen, pancreas and adrenal glands are unremarkable.",
        "No bowel obstruction.", "No free fluid or free air.",
        "The appendix is normal.", "Kidneys enhance symmetrically without hydronephrosis.",
        "No enlarged abdominal or pelvic lymph nodes."]),
    ("US ABDOMEN COMPLETE", "US", "abdomen", [
        "The liver is normal in size and echotexture.", "No gallstones.",
        "Common bile duct measures 3 mm.", "Both kidneys are normal in size.",
        "The spleen is not enlarged."]),
    ("MRI LUMBAR SPINE WITHOUT CONTRAST", "MR", "lumbar spine", [
        "Vertebral body heights and alignment are maintained.",
        "Mild disc desiccation at L4-L5 with a small central disc bulge.",
        "No spinal canal or foraminal stenosis.", "The conus terminates normally at L1.",
        "Facet joints are unremarkable."]),
    ("XR RIGHT KNEE 3 VIEWS", "CR", "right knee", [
        "Joint spaces are preserved.", "No joint effusion.", "Alignment is normal.",
        "No acute osseous abnormality."]),
    ("MRI BRAIN WITHOUT CONTRAST", "MR", "brain", [
        "No acute infarct, hemorrhage or mass.", "Ventricles are normal in size.",
        "No abnormal extra-axial collection.", "Paranasal sinuses are clear."]),
    ("XR LEFT HAND 3 VIEWS", "CR", "left hand", [
        "No acute fracture or dislocation.", "Joint spaces are preserved.",
        "Soft tissues are unremarkable."]),
    ("CT HEAD WITHOUT CONTRAST", "CT", "head", [
        "No intracranial hemorrhage.", "Gray-white differentiation is preserved.",
        "No midline shift.", "Mastoid air cells are clear."]),
]


def _dt(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{TZ}"


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource,
            "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}}


class Maker:
    def __init__(self, pid: str, seed: int) -> None:
        self.pid = pid
        self.rng = random.Random(seed)

    def obs(self, rid: str, code: str, when: str) -> dict[str, Any]:
        display, text, unit, low, high, category = LABS[code]
        value = self.rng.uniform(low, high)
        value = round(value, 1) if high < 100 else round(value)
        resource: dict[str, Any] = {
            "resourceType": "Observation", "id": rid, "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}],
                     "text": text},
            "subject": {"reference": f"Patient/{self.pid}"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }
        if category == "laboratory":
            resource["issued"] = when[:11] + "14:05:00.000" + TZ
        return resource

    def encounter(self, rid: str, when: str, kind: str, end: str | None = None) -> dict[str, Any]:
        period = {"start": when, **({"end": end} if end else {})}
        return {"resourceType": "Encounter", "id": rid, "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                          "code": "IMP" if end else "AMB"},
                "type": [{"text": kind}], "subject": {"reference": f"Patient/{self.pid}"},
                "period": period}

    def report(self, rid: str, title: str, modality: str, site: str, sentences: list[str],
               when: str, study: str | None, nonce: bool) -> dict[str, Any]:
        picked = self.rng.sample(sentences, k=max(2, len(sentences) - self.rng.randint(0, 2)))
        findings = " ".join(picked)
        impression = (f"No acute abnormality of the {site}." if self.rng.random() < 0.7
                      else f"Stable appearance of the {site} compared with the prior study.")
        text = (f"{title}\n\nCLINICAL HISTORY: Routine follow-up.\n\n"
                f"TECHNIQUE: Standard {modality} protocol of the {site}.\n\n"
                f"FINDINGS:\n{findings}\n\nIMPRESSION:\n{impression}")
        resource: dict[str, Any] = {
            "resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                                      "code": "RAD", "display": "Radiology"}]}],
            "code": {"text": title}, "subject": {"reference": f"Patient/{self.pid}"},
            "effectiveDateTime": when, "issued": when,
            "conclusion": text + (f"\nAccession {NONCE}." if nonce else ""),
        }
        if study:
            resource["imagingStudy"] = [{"reference": f"ImagingStudy/{study}"}]
        return resource

    def study(self, rid: str, title: str, modality: str, when: str) -> dict[str, Any]:
        dcm = "http://dicom.nema.org/resources/ontology/DCM"
        return {"resourceType": "ImagingStudy", "id": rid, "status": "available",
                "modality": [{"system": dcm, "code": modality}],
                "subject": {"reference": f"Patient/{self.pid}"}, "started": when,
                "description": title.capitalize(),
                "series": [{"uid": f"2.25.{self.rng.getrandbits(100)}", "number": 1,
                            "modality": {"system": dcm, "code": modality},
                            "description": title, "numberOfInstances": 40}]}


def s1_bundle(today: date) -> dict[str, Any]:
    """The fixture patient, rebased to today, plus a year of ordinary history."""
    case = load_manifest()[BASE]
    bundle = rebase_dates(load_bundle(BASE), case.index_date, today)
    pid = case.patient_id
    m = Maker(pid, seed=1)
    extra: list[dict[str, Any]] = []
    for month in range(12):  # monthly visits, 365 .. 35 days before the index date
        day = today - timedelta(days=365 - 30 * month)
        visit = f"bench-visit-{month:02d}"
        extra.append(m.encounter(visit, _dt(day, 9), "General practice review"))
        for code in VISIT_VITALS:
            extra.append(m.obs(f"bench-{month:02d}-{code}", code, _dt(day, 9, 10)))
        for code in MONTHLY_S1:
            extra.append(m.obs(f"bench-{month:02d}-{code}", code, _dt(day, 8, 30)))
    chest_day = today - timedelta(days=270)
    extra.append(m.report("bench-cxr-report", "XR CHEST PA AND LATERAL", "CR", "chest",
                          EXTRA_EXAMS[0][3], _dt(chest_day, 10), None, nonce=False))
    for rid, text, code in (("bench-rhinitis", "Seasonal allergic rhinitis", "367498001"),
                            ("bench-myopia", "Myopia", "57190000")):
        extra.append({
            "resourceType": "Condition", "id": rid,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code,
                                 "display": text}], "text": text},
            "subject": {"reference": f"Patient/{pid}"},
            "onsetDateTime": (today - timedelta(days=2000)).isoformat()})
    bundle["id"] = "bench-s1"
    bundle["entry"] = list(bundle["entry"]) + [_entry(r) for r in extra]
    return bundle


def s2_bundle(s1: dict[str, Any], today: date) -> dict[str, Any]:
    """S1 plus six years of heavy monitoring and 37 more radiology reports (40 in all)."""
    bundle = copy.deepcopy(s1)
    pid = next(e["resource"]["id"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Patient")
    m = Maker(pid, seed=2)
    extra: list[dict[str, Any]] = []
    start = today - timedelta(days=6 * 365)
    for stay in range(12):  # two-week inpatient stays: hourly temperature, daily labs
        first = start + timedelta(days=150 * stay + 20)
        last = first + timedelta(days=13)
        extra.append(m.encounter(f"bench-stay-{stay:02d}", _dt(first, 8), "Inpatient stay",
                                 _dt(last, 18)))
        for d in range(14):
            day = first + timedelta(days=d)
            for hour in range(24):
                extra.append(m.obs(f"bench-s{stay:02d}-d{d:02d}-h{hour:02d}-temp", "8310-5",
                                   _dt(day, hour, 5)))
            for code in ("1988-5", "6690-2"):
                extra.append(m.obs(f"bench-s{stay:02d}-d{d:02d}-{code}", code, _dt(day, 6)))
    clinic = start
    n = 0
    while clinic < today - timedelta(days=400):  # fortnightly clinic labs (S1 has the last year)
        for code in ("8310-5", "1988-5", "4537-7", "6690-2"):
            extra.append(m.obs(f"bench-clinic-{n:03d}-{code}", code, _dt(clinic, 10)))
        clinic += timedelta(days=14)
        n += 1
    for i in range(37):  # 37 more reports: 3 in S1 make 40
        title, modality, site, sentences = EXTRA_EXAMS[i % len(EXTRA_EXAMS)]
        day = start + timedelta(days=55 * i + 7)
        study = None
        if modality == "MR":
            study = f"bench-study-{i:02d}"
            extra.append(m.study(study, title, modality, _dt(day, 11)))
        extra.append(m.report(f"bench-report-{i:02d}", title, modality, site, sentences,
                              _dt(day, 11), study, nonce=False))
    bundle["id"] = "bench-s2"
    bundle["entry"] = list(bundle["entry"]) + [_entry(r) for r in extra]
    return bundle


def add_nonce(bundle: dict[str, Any]) -> dict[str, Any]:
    """Mark every radiology report with the S1 nonce: the text the service reads must be
    new on every request. A report with an attached text (presentedForm) gets it there,
    aligned so that its base64 holds NONCE_B64 (the load script puts the token's base64
    in its place); its conclusion, repeated word for word in the attachment's impression,
    is then not read apart. A report with a conclusion only gets NONCE at its end."""
    out = copy.deepcopy(bundle)
    for entry in out["entry"]:
        r = entry["resource"]
        if r["resourceType"] != "DiagnosticReport":
            continue
        attached = [a for a in r.get("presentedForm", []) if a.get("data")]
        for attachment in attached:
            attachment["data"] = _with_b64_nonce(base64.b64decode(attachment["data"]))
        if not attached and NONCE not in r.get("conclusion", ""):
            r["conclusion"] = r.get("conclusion", "") + f"\nAccession {NONCE}."
    return out


def _with_b64_nonce(text: bytes) -> str:
    """`text` + "Accession <field>." in base64, the field starting on a 3-byte boundary so
    that its base64 is NONCE_B64 whatever precedes it."""
    head = text.rstrip() + b"\nAccession "
    head += b" " * (-len(head) % 3)
    encoded = base64.b64encode(head + NONCE_FIELD.encode() + b".\n").decode()
    assert NONCE_B64 in encoded
    return encoded


def put_nonce(text: str, token: str) -> str:
    """A request body with `token` (ASCII, cut or padded to NONCE_WIDTH) in the nonce's
    places, plain and base64; bench/request.lua does the same per request."""
    token = token[:NONCE_WIDTH].ljust(NONCE_WIDTH, "0")
    return text.replace(NONCE, token).replace(NONCE_B64, base64.b64encode(token.encode()).decode())


def cold(request: dict[str, Any]) -> dict[str, Any]:
    """S1 cold: every prefetched resource also carries the nonce (in meta.source), so no
    resource of the request has been seen before: a patient the worker never met."""
    out = copy.deepcopy(request)
    for value in out["prefetch"].values():
        if not isinstance(value, dict):
            continue
        items = [e["resource"] for e in value.get("entry", [])] if value.get(
            "resourceType") == "Bundle" else [value]
        for resource in items:
            resource.setdefault("meta", {})["source"] = f"#{NONCE}"
    return out


def not_a_trigger(request: dict[str, Any]) -> dict[str, Any]:
    """S0: the same call with only the pre-operative labs order drafted (no core
    decompression): the service must answer no cards without reading the prefetch."""
    out = copy.deepcopy(request)
    orders = out["context"]["draftOrders"]
    orders["entry"] = [e for e in orders["entry"]
                       if "decompression" not in json.dumps(e["resource"]).lower()]
    if not orders["entry"]:
        raise ValueError("S0: the fixture has no order besides the trigger")
    return out


def request_for(bundle: dict[str, Any], today: date, **kw: Any) -> dict[str, Any]:
    request = build_hook_request(bundle, HOOK, service_for_hook(HOOK), today,
                                 hook_instance=HOOK_PLACEHOLDER, **kw)
    return request


def count_request(request: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in (request.get("prefetch") or {}).values():
        if not isinstance(value, dict):
            continue
        rs = [e["resource"] for e in value.get("entry", [])] if value.get(
            "resourceType") == "Bundle" else [value]
        for r in rs:
            counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1
    return counts


def write(outdir: Path, today: date) -> dict[str, Any]:
    outdir.mkdir(parents=True, exist_ok=True)
    s1 = s1_bundle(today)
    s2 = s2_bundle(s1, today)
    s1_request = request_for(add_nonce(s1), today)
    s2_request = request_for(s2, today)
    files = {
        "s1-bundle.json": s1, "s2-bundle.json": s2,
        "s1-request.json": s1_request, "s2-request.json": s2_request,
        "s1-cold-request.json": cold(s1_request),
        "s0-request.json": not_a_trigger(s1_request),
    }
    for name, data in files.items():
        (outdir / name).write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    summary = {
        "today": today.isoformat(),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "s1_record_resources": len(s1["entry"]),
        "s2_record_resources": len(s2["entry"]),
        "s1_request": count_request(s1_request),
        "s2_request": count_request(s2_request),
        "s1_request_bytes": (outdir / "s1-request.json").stat().st_size,
        "s2_request_bytes": (outdir / "s2-request.json").stat().st_size,
    }
    (outdir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def s4_request(bundle: dict[str, Any], today: date, fhir_base: str, token: str) -> dict[str, Any]:
    """S1 without prefetch: the service fetches from `fhir_base` with the bearer token."""
    request = request_for(bundle, today, fhir_server=fhir_base, with_prefetch=False)
    pid = request["context"]["patientId"]
    request["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer",
                                    "expires_in": 3600, "scope": "patient/*.read",
                                    "subject": "cds-service-bench", "patient": pid}
    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    args = parser.parse_args()
    print(json.dumps(write(args.outdir, args.today), indent=2))


if __name__ == "__main__":
    main()
