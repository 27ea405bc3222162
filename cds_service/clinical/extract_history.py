"""Conditions, corticosteroids and prior procedures: AVN risk factors and red flags.

Refuted or entered-in-error Conditions are ignored; provisional, differential or
"suspected" ones are doubts, never risk factors (the draft order itself is often placed
"for suspected AVN", and that suspicion is what the service checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import nearest_site, side_of_codings, site_of_codings
from cds_service.clinical.coded import FEVER, coded_concepts
from cds_service.clinical.facts import (
    POSSIBLE,
    PRESENT,
    RESOLVED,
    Finding,
    PriorProcedure,
    RiskFactor,
)
from cds_service.clinical.fhir_values import (
    codings,
    first_date,
    has_code,
    has_code_prefix,
    label_of,
    ref,
    reference_id,
    text_of,
)

_UNCERTAIN = re.compile(r"\b(suspected|suspect|possible|probable|likely|rule out|r/o|query|"
                        r"questionable)\b|\?", re.IGNORECASE)
_INFECTION = re.compile(r"septic|osteomyelitis|infect\w* arthritis|pyogenic|joint infection|"
                        r"tubercul\w* (arthritis|of the hip)", re.IGNORECASE)
_FEVER = re.compile(r"\bfever|pyrexi|febrile", re.IGNORECASE)
_FRACTURE = re.compile(r"(stress|fatigue|insufficiency)\s+fracture", re.IGNORECASE)
_TOH = re.compile(r"transient\s+(regional\s+|migratory\s+)?osteop\w+|bone\s+marrow\s+o?edema|"
                  r"\b(toh|bmes|tmo|rmo|tbme)\b|migratory\s+osteoporosis|algodystrophy|"
                  r"localized\s+osteoporosis", re.IGNORECASE)
_OSTEOPOROSIS = re.compile(r"\bosteoporo", re.IGNORECASE)
_POSTPARTUM = re.compile(r"post[- ]?partum|puerper|postnatal", re.IGNORECASE)
_IMMUNOSUPPRESSION = re.compile(r"immuno(suppress|deficien|compromis)\w*|neutropeni|"
                                r"chemotherap", re.IGNORECASE)
_INACTIVE_CLINICAL = {"inactive", "remission", "resolved"}
_IGNORED_VERIFICATION = {"refuted", "entered-in-error"}
_DOUBTFUL_VERIFICATION = {"provisional", "differential", "unconfirmed"}


@dataclass
class ConditionFacts:
    risk_factors: list[RiskFactor] = field(default_factory=list)
    immunosuppression: list[RiskFactor] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    doubts: list[Finding] = field(default_factory=list)
    toh_conditions: list[tuple[Finding, datetime | None]] = field(default_factory=list)
    osteoporosis_refs: list[str] = field(default_factory=list)
    postpartum: list[tuple[str, datetime | None]] = field(default_factory=list)


def _code(concept: Any) -> str | None:
    return next((code for _, code, _ in codings(concept) if code), None)


def with_recent_fever(facts: ConditionFacts, fever_since: datetime) -> ConditionFacts:
    """The facts without fevers recorded before `fever_since` (an old fever is no red
    flag). Kept apart so the rest, which depends on the Conditions alone, can be reused."""
    recent = [f for f in facts.findings
              if f.concept != FEVER or f.date is None or f.date >= fever_since]
    return replace(facts, findings=recent)


def _condition_finding(concept: str, state: str, *, label: str | None, rid: str,
                       date: datetime | None, site: str | None, side: str | None) -> Finding:
    """What one Condition states, named by its code display (else by the concept)."""
    return Finding(concept, state, label or concept, rid, date, site, side,
                   term=label or concept)


def classify_conditions(conditions: list[Any]) -> ConditionFacts:
    """Sort each Condition into risk factor, red flag, doubt, TOH episode or context
    (every active fever kept, whatever its date: `with_recent_fever` drops old ones)."""
    out = ConditionFacts()
    for cond in conditions:
        if _code(cond.verificationStatus) in _IGNORED_VERIFICATION:
            continue
        text = text_of(cond.code)
        label = label_of(cond.code)
        codes = codings(cond.code)
        doubtful = (_code(cond.verificationStatus) in _DOUBTFUL_VERIFICATION
                    or bool(_UNCERTAIN.search(text)))
        active = _code(cond.clinicalStatus) not in _INACTIVE_CLINICAL and not cond.abatementDateTime
        onset = cond.onsetPeriod.start if cond.onsetPeriod else None
        date = first_date(cond.onsetDateTime, onset, cond.recordedDate)
        ended = first_date(cond.abatementDateTime,
                           cond.abatementPeriod.end if cond.abatementPeriod else None)
        site = site_of_codings(codings(cond.bodySite)) or nearest_site(text)
        side = side_of_codings(codings(cond.bodySite) + [(None, None, text)])
        concepts = {concept for concept, _ in coded_concepts(codes)}
        rid = ref(cond)

        finding = partial(_condition_finding, label=label, rid=rid, date=date, site=site,
                          side=side)

        for risk, snomed, icd, pattern in c.RISK_CONDITIONS:
            if (has_code(cond.code, c.SNOMED, snomed) or has_code_prefix(cond.code, c.ICD10, icd)
                    or has_code_prefix(cond.code, c.ICD10_WHO, icd)
                    or re.search(pattern, text, re.IGNORECASE)):
                if doubtful:
                    out.doubts.append(finding(tr.AVN if "necrosis" in risk else risk, POSSIBLE))
                    continue
                factor = RiskFactor(risk, label or risk, rid, date, "condition", site, side)
                out.risk_factors.append(factor)
                if risk in ("HIV infection", "organ transplant"):
                    out.immunosuppression.append(factor)
        if _IMMUNOSUPPRESSION.search(text) and active:
            out.immunosuppression.append(RiskFactor("immunosuppression", label, rid, date))
        if (tr.INFECTION in concepts or _INFECTION.search(text)) and active:
            out.findings.append(finding(tr.INFECTION, POSSIBLE if doubtful else PRESENT))
        if (FEVER in concepts or _FEVER.search(text)) and active:
            out.findings.append(finding(FEVER, PRESENT))
        if (concepts & {tr.SIF, tr.STRESS_FRACTURE} or _FRACTURE.search(text)) and active:
            concept = tr.SIF if (tr.SIF in concepts or "insufficiency" in text.lower()) \
                else tr.STRESS_FRACTURE
            out.findings.append(finding(concept, POSSIBLE if doubtful else PRESENT))
        if tr.TOH in concepts or _TOH.search(text):
            toh = finding(tr.TOH, PRESENT if active else RESOLVED)
            out.findings.append(toh)
            out.toh_conditions.append((toh, ended))
        elif (has_code(cond.code, c.SNOMED, c.OSTEOPOROSIS_SNOMED)
              or has_code_prefix(cond.code, c.ICD10, c.OSTEOPOROSIS_ICD)
              or _OSTEOPOROSIS.search(text)):
            out.osteoporosis_refs.append(rid)
        if (has_code(cond.code, c.SNOMED, c.SNOMED_POSTPARTUM) or _POSTPARTUM.search(text)) \
                and active:
            out.postpartum.append((rid, date))
    return out


def _medication_concepts(med: Any, medications: dict[str, Any]) -> list[Any]:
    """The medication's CodeableConcept, or the referenced (contained) Medication's code."""
    if med.medicationCodeableConcept is not None:
        return [med.medicationCodeableConcept]
    target = reference_id(med.medicationReference) if med.medicationReference else None
    raw = med.medicationReference.reference if med.medicationReference else None
    for contained in med.contained or ():
        if raw == f"#{contained.id}" and contained.get_resource_type() == "Medication":
            return [contained.code, contained.form]
    found = medications.get(target or "")
    return [found.code, found.form] if found is not None else []


def _steroid_name(concepts: list[Any], text: str) -> str | None:
    rx = has_code(concepts, c.RXNORM, c.STEROID_RXNORM)
    if rx:
        return c.STEROID_RXNORM[rx]
    if has_code_prefix(concepts, c.ATC, c.STEROID_ATC_PREFIX):
        return text or "systemic corticosteroid (ATC H02AB)"
    m = re.search(r"\b(" + "|".join(c.STEROID_NAMES) + r")\b", text, re.IGNORECASE)
    return m.group(1).lower() if m else None


def _non_systemic(concepts: list[Any], dosages: list[Any], text: str) -> str | None:
    """Why this corticosteroid is not systemic (route, dose form or ATC), or None."""
    for d in dosages:
        route_codes = codings(d.route)
        if has_code(d.route, c.SNOMED, c.NON_SYSTEMIC_ROUTE_SNOMED) or any(
                t and re.search(c.NON_SYSTEMIC_ROUTE_TEXT, t, re.IGNORECASE)
                for _, _, t in route_codes):
            return f"route {text_of(d.route) or 'non-systemic'}"
    dose_text = " ".join([text] + [d.text or "" for d in dosages])
    form = re.search(c.NON_SYSTEMIC_FORM_TEXT, dose_text, re.IGNORECASE)
    if form:
        return f"dose form '{form.group(0)}'"
    atc = [code for system, code, _ in codings(concepts) if system == c.ATC and code]
    if atc and not any(code.upper().startswith("H02") for code in atc):
        return f"ATC {atc[0]} (not systemic)"
    return None


def steroid_exposures(requests: list[Any], statements: list[Any], since: datetime,
                      medications: dict[str, Any]) -> tuple[list[RiskFactor], list[str]]:
    """Systemic corticosteroids active or taken since `since`; notes for excluded ones."""
    found: list[RiskFactor] = []
    notes: list[str] = []
    items = [(m, m.dosageInstruction or [], _request_dates(m)) for m in requests
             if m.status not in ("entered-in-error", "cancelled", "draft")]
    items += [(m, m.dosage or [], _statement_dates(m)) for m in statements
              if m.status not in ("entered-in-error", "not-taken")]
    for med, dosages, dates in items:
        concepts = _medication_concepts(med, medications)
        text = text_of(*concepts)
        label = label_of(concepts[0]) if concepts else ""
        name = _steroid_name(concepts, text)
        if name is None:
            continue
        excluded = _non_systemic(concepts, dosages, text)
        if excluded:
            notes.append(f"{ref(med)} {label or name}: not counted ({excluded})")
            continue
        last = max(dates, default=None)
        if last is not None and last < since:
            continue
        dose = "; ".join(d.text for d in dosages if d.text)
        detail = f"{label or name}" + (f", {dose}" if dose else "") + (
            "" if last else " (date not recorded)")
        found.append(RiskFactor("systemic corticosteroid", detail, ref(med), last, "steroid"))
    return found, notes


def _request_dates(m: Any) -> list[datetime]:
    dates = [first_date(m.authoredOn)]
    for d in m.dosageInstruction or ():
        bounds = d.timing.repeat.boundsPeriod if d.timing and d.timing.repeat else None
        if bounds:
            dates += [first_date(bounds.start), first_date(bounds.end)]
    if m.dispenseRequest and m.dispenseRequest.validityPeriod:
        dates.append(first_date(m.dispenseRequest.validityPeriod.end))
    return [d for d in dates if d]


def _statement_dates(m: Any) -> list[datetime]:
    period = m.effectivePeriod
    dates = [first_date(m.effectiveDateTime), first_date(m.dateAsserted)]
    if period:
        dates += [first_date(period.start), first_date(period.end)]
    return [d for d in dates if d]


def prior_procedures(procedures: list[Any]) -> list[PriorProcedure]:
    """Completed or ongoing core decompressions (HCPCS S2325 or the words)."""
    out = []
    for proc in procedures:
        if proc.status in ("not-done", "entered-in-error", "preparation"):
            continue
        text = text_of(proc.code)
        if not (re.search(c.PROCEDURE_CORE_DECOMPRESSION_TEXT, text, re.IGNORECASE)
                or any(code == "S2325" for _, code, _ in codings(proc.code))):
            continue
        period = proc.performedPeriod.start if proc.performedPeriod else None
        side = side_of_codings(codings(proc.bodySite) + [(None, None, text)])
        out.append(PriorProcedure(label_of(proc.code) or "core decompression", ref(proc),
                                  first_date(proc.performedDateTime, period), side))
    return out
