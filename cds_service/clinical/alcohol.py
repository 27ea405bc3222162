"""Alcohol as an AVN risk factor (clinical.md: heavy alcohol use): AUDIT-C and intake.

Heavy use moves the decision to the AVN branch: a high-risk AUDIT-C, or a recorded intake
at or above `heavy_alcohol_ml_per_week` of ethanol (the ARCO criterion for
alcohol-associated osteonecrosis), within `alcohol_lookback_days`. A merely positive
screen, or heavy use recorded longer ago, is a *weak* factor: named on the card, never
enough to silence the TOH warning (a screen is not a measure of intake). Alcohol use
disorder on the problem list is read with the other Conditions (extract_history.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical.facts import RiskFactor
from cds_service.clinical.fhir_values import first_date, has_code, ref
from cds_service.clinical.reasons import Reason
from cds_service.clinical.thresholds import Thresholds

ETHANOL_G_PER_ML = 0.789  # density of ethanol at 20 C
UK_UNIT_G = 8.0  # a UK unit is 10 mL (8 g) of ethanol (NHS)
AUDIT_C_MAX = 12  # three questions scored 0-4
_INACTIVE = {"entered-in-error", "cancelled", "registered"}
# UCUM: "/d", "{drink}/wk", "{wine glasses}/d", "{units}/wk", "g/d", "g/wk"
_UNIT = re.compile(r"^(?:\{(?P<what>[^}]*)\})?(?P<grams>g)?/(?P<per>d|wk)$")
_PER_WEEK = {"d": 7.0, "wk": 1.0}
_WHO: dict[str | None, str] = {"male": "men", "female": "women"}


@dataclass(frozen=True)
class AlcoholRecord:
    """One AUDIT-C score or one recorded intake (as grams of ethanol a week)."""

    kind: str  # "AUDIT-C" | "intake"
    value: float | None  # the score, or grams of ethanol a week; None: not usable
    as_reported: str
    ref: str
    date: datetime | None
    problem: str | None = None


def _date(obs: Any) -> datetime | None:
    period = obs.effectivePeriod.start if obs.effectivePeriod else None
    return first_date(obs.effectiveDateTime, period, obs.effectiveInstant, obs.issued)


def _audit_c(obs: Any) -> AlcoholRecord | None:
    holders = [obs] if has_code(obs.code, c.LOINC, c.AUDIT_C) else []
    holders += [comp for comp in obs.component or () if has_code(comp.code, c.LOINC, c.AUDIT_C)]
    raw = [h.valueInteger if h.valueInteger is not None else
           (h.valueQuantity.value if h.valueQuantity is not None else None) for h in holders]
    scores = [float(s) for s in raw if s is not None]
    if not scores:
        return None
    score = max(scores)
    problem = None if 0 <= score <= AUDIT_C_MAX else f"outside the AUDIT-C range 0-{AUDIT_C_MAX}"
    return AlcoholRecord("AUDIT-C", None if problem else score, f"{score:g}", ref(obs),
                         _date(obs), problem)


def _grams_per_week(quantity: Any, code: str | None, t: Thresholds) -> float | None:
    match = _UNIT.match(code or "")
    if quantity.value is None or not match:
        return None
    what = (match["what"] or "").lower()
    per_item = 1.0 if match["grams"] else UK_UNIT_G if "unit" in what else t.standard_drink_g
    return float(quantity.value) * per_item * _PER_WEEK[match["per"]]


def _intake(obs: Any, t: Thresholds) -> AlcoholRecord | None:
    holders = [obs] if _is_intake(obs.code) else []
    holders += [comp for comp in obs.component or () if _is_intake(comp.code)]
    for h in holders:
        per_day = has_code(h.code, c.LOINC, c.ALCOHOL_DRINKS_PER_DAY)
        ranged = h.valueQuantity is None and h.valueRange is not None  # "5 or more a day"
        quantity = h.valueQuantity or (h.valueRange.low if ranged else None)
        if quantity is None and h.valueInteger is not None and per_day:
            return AlcoholRecord("intake", h.valueInteger * t.standard_drink_g * 7,
                                 f"{h.valueInteger} drinks/d", ref(obs), _date(obs))
        if quantity is None:
            continue
        code = quantity.code if quantity.system in (c.UCUM, None) else None
        if quantity.code is None and quantity.unit and _UNIT.match(quantity.unit):
            code = quantity.unit  # no code at all: a unit string that is a UCUM code
        if code is None and per_day and quantity.unit is None:
            code = "/d"  # "drinks per day" needs no unit
        shown = (f"{'at least ' if ranged else ''}{float(quantity.value or 0):g} "
                 f"{quantity.unit or code or '(no unit)'}")
        grams = _grams_per_week(quantity, code, t)
        problem = None if grams is not None else (
            f"unit {quantity.code or quantity.unit or 'missing'!r} is not drinks, units or "
            "grams per day or week")
        return AlcoholRecord("intake", grams, shown, ref(obs), _date(obs), problem)
    return None


def _is_intake(code: Any) -> bool:
    return bool(has_code(code, c.LOINC, c.ALCOHOL_DRINKS_PER_DAY)
                or has_code(code, c.SNOMED, c.ALCOHOL_INTAKE_SNOMED))


def alcohol_records(observations: list[Any], t: Thresholds) -> tuple[AlcoholRecord, ...]:
    """Every AUDIT-C score and recorded intake, newest first."""
    out = []
    for obs in observations:
        if obs.status in _INACTIVE:
            continue
        out += [r for r in (_audit_c(obs), _intake(obs, t)) if r is not None]
    return tuple(sorted(out, key=lambda r: r.date.timestamp() if r.date else 0.0, reverse=True))


def alcohol_factors(records: tuple[AlcoholRecord, ...], sex: str | None, now: datetime,
                    t: Thresholds) -> tuple[list[RiskFactor], list[RiskFactor]]:
    """(AVN risk factors, weak factors the card names without changing its outcome)."""
    strong: list[RiskFactor] = []
    weak: list[RiskFactor] = []
    positive = t.audit_c_positive_men if sex == "male" else t.audit_c_positive_women
    heavy_g = t.heavy_alcohol_ml_per_week * ETHANOL_G_PER_ML
    since = now - timedelta(days=t.alcohol_lookback_days)
    for r in records:
        recent = r.date is None or r.date >= since
        when = r.date.date().isoformat() if r.date else "date not recorded"
        old = "" if recent else f", more than {t.alcohol_lookback_days} days ago"
        if r.value is None:
            weak.append(RiskFactor(f"alcohol {r.kind} not usable", f"{r.kind} {r.as_reported} "
                                   f"({when}): {r.problem}", r.ref, r.date, kind="alcohol"))
        elif r.kind == "AUDIT-C" and r.value >= min(positive, t.audit_c_high_risk):
            high = r.value >= t.audit_c_high_risk
            detail = (f"AUDIT-C {r.value:g} on {when}{old} ("
                      + (f"high risk at >= {t.audit_c_high_risk}" if high else
                         f"positive screen at >= {positive} for {_WHO.get(sex, 'unknown sex')}, "
                         f"high risk from {t.audit_c_high_risk}") + ")")
            label = ("heavy alcohol use" if high and recent else "heavy alcohol use in the "
                     "past" if high else "positive alcohol screen")
            (strong if high and recent else weak).append(
                RiskFactor(label, detail, r.ref, r.date, kind="alcohol"))
        elif r.kind == "intake" and r.value >= heavy_g:
            ml = r.value / ETHANOL_G_PER_ML
            detail = (f"about {ml:.0f} mL ethanol a week (intake {r.as_reported} on {when}"
                      f"{old}; heavy use from {t.heavy_alcohol_ml_per_week:g} mL)")
            (strong if recent else weak).append(RiskFactor(
                "heavy alcohol use" if recent else "heavy alcohol use in the past", detail,
                r.ref, r.date, kind="alcohol"))
    return strong, weak


def weak_factor_reasons(weak: tuple[RiskFactor, ...]) -> list[Reason]:
    """The lines for weak factors: named, never an outcome of their own. No `kind`: the
    card shows them with the risk factors ("shown, never dropped", card_bullets.others)."""
    return [Reason(f"{r.label[:1].upper()}{r.label[1:]}: {r.detail} (a weak AVN risk factor: "
                   "not enough alone to set transient osteoporosis aside; ask about current "
                   "drinking)", (r.ref,), r.date, label=r.label,
                   short=f"{r.label} ({_gist(r.detail)}): a weak factor, not enough alone")
            for r in weak]


def _gist(detail: str) -> str:
    """"AUDIT-C 5 on 2026-11-12 (positive...)" -> "AUDIT-C 5"."""
    return detail.split(" (")[0].split(" on ")[0]
