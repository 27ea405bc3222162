"""Labs against the limits applied, steroid exposure periods and pregnancy, over time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical.facts import ClinicalFacts
from cds_service.clinical.fhir_values import first_date, period_end, period_start, ref
from cds_service.clinical.lab_limits import judge
from cds_service.clinical.red_flags import MARKERS
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import PatientRecord
from cds_service.timeline.evidence import EvidenceIndex, instant, iso

FULL_TERM = timedelta(weeks=40)
HIGH_DOSE = "high-dose systemic corticosteroid"  # blunting.py's label for CRP-blunting doses


def lab_points(facts: ClinicalFacts, t: Thresholds, index: EvidenceIndex) -> list[dict[str, Any]]:
    """Each usable CRP, ESR and WBC value with the upper limit the assessment applied to
    it (the lab's flag or range, else the age/sex-adjusted or configured limit)."""
    points = []
    for lab in facts.labs:
        if lab.kind not in MARKERS or not lab.usable or lab.date is None:
            continue
        verdict = judge(lab, facts.demographics, t)
        what = f"{lab.kind} {lab.as_reported}: {verdict.text}"
        index.sources.setdefault(lab.ref, f"{lab.kind} result")
        points.append({
            "kind": lab.kind, "date": instant(lab.date), "day": iso(lab.date),
            "value": lab.value, "unit": lab.unit, "as_reported": lab.as_reported,
            "limit": verdict.limit, "limit_text": verdict.text, "raised": verdict.raised,
            "evidence": [index.add(lab.ref, lab.date, None, what)],
        })
    return sorted(points, key=lambda p: (p["kind"], p["date"]))


def _medication_period(resource: Any, now: datetime) -> tuple[datetime | None, datetime | None]:
    """Start and end of a steroid order or statement; an active one without an end runs
    to today."""
    starts, ends = [], []
    if ref(resource).startswith("MedicationStatement/"):
        starts += [period_start(resource.effectivePeriod),
                   first_date(resource.effectiveDateTime)]
        ends += [period_end(resource.effectivePeriod)]
    else:
        for dosage in resource.dosageInstruction or ():
            bounds = dosage.timing.repeat.boundsPeriod if dosage.timing and \
                dosage.timing.repeat else None
            starts.append(period_start(bounds))
            ends.append(period_end(bounds))
        validity = resource.dispenseRequest.validityPeriod if resource.dispenseRequest else None
        starts += [period_start(validity), first_date(resource.authoredOn)]
        ends.append(period_end(validity))
    start = min((d for d in starts if d), default=None)
    end = max((d for d in ends if d), default=None)
    if end is None and resource.status == "active":
        end = now
    return start, end or start


def steroid_periods(facts: ClinicalFacts, record: PatientRecord,
                    index: EvidenceIndex) -> list[dict[str, Any]]:
    """The systemic corticosteroids the assessment counted (AVN risk, marker blunting),
    as periods on the steroid lane."""
    high_dose = {r.ref: r for r in facts.blunting if r.label == HIGH_DOSE}
    counted = {r.ref: r for r in facts.risk_factors if r.kind == "steroid"}
    counted.update({k: v for k, v in high_dose.items() if k not in counted})
    resources = {ref(m): m for kind in ("MedicationRequest", "MedicationStatement")
                 for m in record.of(kind)}
    periods = []
    for rid, factor in counted.items():
        resource = resources.get(rid)
        start, end = _medication_period(resource, facts.now) if resource else (factor.date,) * 2
        start = start or factor.date
        if start is None:
            continue
        index.sources.setdefault(rid, "Medication record")
        label = f"{factor.label}: {factor.detail}"
        periods.append({"lane": "steroids", "start": instant(start), "end": instant(end or start),
                        "from": iso(start), "to": iso(end or start), "label": label,
                        "name": factor.detail.split(",")[0][:40],
                        "high_dose": rid in high_dose,
                        "evidence": [index.add(rid, start, None, label)]})
    return sorted(periods, key=lambda p: p["start"])


def pregnancy_periods(facts: ClinicalFacts, index: EvidenceIndex) -> list[dict[str, Any]]:
    """Pregnancy from the estimated conception (gestational age back from the record's
    date) to that date, with the due date; postpartum as a dated mark."""
    p = facts.pregnancy
    if p is None or p.date is None:
        return []
    if p.pregnant:
        weeks = p.gestational_weeks
        start = p.date - timedelta(weeks=weeks) if weeks else p.date
        label = f"Pregnant{f', {weeks:g} weeks' if weeks else ''} on {iso(p.date)}"
        due = instant(start + FULL_TERM) if weeks else None
    else:
        start, label, due = p.date, f"Postpartum (recorded {iso(p.date)})", None
    for rid in p.refs:
        index.sources.setdefault(rid, "Pregnancy record")
    evidence = [index.add(rid, p.date, None, label) for rid in p.refs]
    return [{"lane": "pregnancy", "start": instant(start), "end": instant(p.date), "due": due,
             "label": label, "postpartum": not p.pregnant, "evidence": evidence}]
