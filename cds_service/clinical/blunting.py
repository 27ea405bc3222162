"""What blunts CRP, ESR and fever, so that normal markers cannot exclude infection.

Why: IL-6 blockade (tocilizumab, sarilumab) keeps CRP normal and suppresses fever even
in severe infection; other biologics, JAK inhibitors, high-dose systemic corticosteroids,
chemotherapy and neutropenia blunt the inflammatory response too. Then a normal CRP is
no reassurance, and the card must say so (it never raises the critical card by itself).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical.extract_history import (
    _medication_concepts,
    _non_systemic,
    _request_dates,
    _statement_dates,
    _steroid_name,
)
from cds_service.clinical.facts import LabValue, RiskFactor
from cds_service.clinical.fhir_values import (
    codings,
    first_date,
    has_code_prefix,
    label_of,
    ref,
    text_of,
)

_DAILY_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*mg\b[^.;]*?\b(daily|a day|per day|/day|od|qd|"
                         r"once daily|every morning|mane)\b", re.IGNORECASE)
_CONDITION = re.compile(r"neutropeni\w*|agranulocytos\w*|chemotherap\w*", re.IGNORECASE)
_INACTIVE_CLINICAL = {"inactive", "remission", "resolved"}


def _drug(concepts: list[Any], text: str) -> tuple[str, str] | None:
    """(kind, name) of a marker-blunting drug, by ATC code or name."""
    for kind, atc, names in c.BLUNTING_DRUGS:
        if has_code_prefix(concepts, c.ATC, atc):
            return kind, text or kind
        m = re.search(r"\b(" + "|".join(names) + r")\b", text, re.IGNORECASE) if names else None
        if m:
            return kind, m.group(1).lower()
    return None


def daily_prednisone_mg(steroid: str, dosages: list[Any]) -> float | None:
    """Prednisone-equivalent mg per day from doseQuantity and timing (or 'N mg daily'
    text), or None when the dose is not stated in mg."""
    factor = c.PREDNISONE_EQUIVALENT.get(steroid.lower())
    if factor is None:
        return None
    best = None
    for d in dosages:
        per_day = None
        for dr in d.doseAndRate or ():
            q = dr.doseQuantity
            if q is not None and q.value is not None and (q.code or q.unit) == "mg":
                per_day = float(q.value) * _per_day(d.timing)
        if per_day is None and d.text:
            m = _DAILY_TEXT.search(d.text)
            per_day = float(m.group(1)) if m else None
        if per_day is not None:
            best = max(best or 0.0, per_day * factor)
    return best


def _per_day(timing: Any) -> float:
    repeat = timing.repeat if timing is not None else None
    if repeat is None:
        return 1.0
    frequency = float(repeat.frequency or 1)
    period = float(repeat.period or 1)
    unit = {"h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 30.0}.get(repeat.periodUnit or "d", 1.0)
    return frequency / (period * unit)


def blunting(requests: list[Any], statements: list[Any], medications: dict[str, Any],
             conditions: list[Any], labs: tuple[LabValue, ...], since: datetime,
             steroid_mg: float) -> list[RiskFactor]:
    """Drugs taken since `since`, active neutropenia or chemotherapy Conditions, and a low
    latest WBC: each a reason why normal markers cannot exclude infection."""
    out: list[RiskFactor] = []
    items = [(m, m.dosageInstruction or [], _request_dates(m)) for m in requests
             if m.status not in ("entered-in-error", "cancelled", "draft")]
    items += [(m, m.dosage or [], _statement_dates(m)) for m in statements
              if m.status not in ("entered-in-error", "not-taken")]
    for med, dosages, dates in items:
        last = max(dates, default=None)
        if last is not None and last < since:
            continue
        concepts = _medication_concepts(med, medications)
        text = text_of(*concepts)
        label = label_of(concepts[0]) if concepts else ""
        drug = _drug(concepts, text)
        if drug:
            out.append(RiskFactor(drug[0], label or drug[1], ref(med), last, "blunting"))
            continue
        steroid = _steroid_name(concepts, text)
        if steroid and not _non_systemic(concepts, dosages, text):
            mg = daily_prednisone_mg(steroid, dosages)
            if mg is not None and mg >= steroid_mg:
                out.append(RiskFactor("high-dose systemic corticosteroid",
                                      f"{label or steroid}, about {mg:g} mg/day prednisone "
                                      f"equivalent (>= {steroid_mg:g})", ref(med), last,
                                      "blunting"))
    for cond in conditions:
        status = {code for _, code, _ in codings(cond.clinicalStatus)}
        verification = {code for _, code, _ in codings(cond.verificationStatus)}
        if status & _INACTIVE_CLINICAL or cond.abatementDateTime or \
                verification & {"refuted", "entered-in-error"}:
            continue
        m = _CONDITION.search(text_of(cond.code))
        if m:
            kind = "chemotherapy" if m.group(0).lower().startswith("chemo") else "neutropenia"
            out.append(RiskFactor(kind, label_of(cond.code), ref(cond),
                                  first_date(cond.onsetDateTime, cond.recordedDate),
                                  "blunting"))
    wbc = next((v for v in labs if v.kind == "WBC" and v.usable), None)
    if wbc is not None and wbc.date is not None and wbc.date >= since and (
            wbc.interpretation in ("L", "LL", "LU")
            or (wbc.low is not None and wbc.value is not None and wbc.value < wbc.low)):
        out.append(RiskFactor("low white cell count", f"WBC {wbc.as_reported}", wbc.ref,
                              wbc.date, "blunting"))
    return out
