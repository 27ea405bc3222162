"""Labs, vital signs, pregnancy and demographics from Observations and Patient (alcohol:
alcohol.py).

Units are converted with the UCUM code of the quantity, never assumed: CRP arrives in
mg/L or mg/dL (x10); a value whose unit is not a known UCUM code is kept but marked
not usable, and the card says so. When a sender gives no `code` but its `unit` string is
exactly a known UCUM code, that string is used (it cannot mean anything else). The lab's
own reference range and interpretation flag travel with each value (lab_limits.py
judges them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical.facts import Demographics, LabValue, Pregnancy
from cds_service.clinical.fhir_values import age_years, codings, first_date, has_code, ref

# kind -> (LOINC codes, target unit, {UCUM code: factor to target unit})
_LABS: dict[str, tuple[tuple[str, ...], str, dict[str, float]]] = {
    "CRP": (c.CRP, "mg/L", {"mg/L": 1.0, "mg/l": 1.0, "mg/dL": 10.0, "mg/dl": 10.0,
                            "ug/mL": 1.0, "ug/ml": 1.0, "g/L": 1000.0}),
    "ESR": (c.ESR, "mm/h", {"mm/h": 1.0}),
    "WBC": (c.WBC, "10^9/L", {"10*9/L": 1.0, "10*9/l": 1.0, "10*3/uL": 1.0, "10*3/ul": 1.0,
                              "10*3/mm3": 1.0, "/uL": 0.001, "/ul": 0.001, "/mm3": 0.001}),
}
_INACTIVE = {"entered-in-error", "cancelled", "registered"}
_FLAGS = {"H", "HH", "HU", "L", "LL", "LU", "N", "A", "AA"}


def _date(obs: Any) -> datetime | None:
    period = obs.effectivePeriod.start if obs.effectivePeriod else None
    return first_date(obs.effectiveDateTime, period, obs.effectiveInstant, obs.issued)


def _unit_code(quantity: Any) -> str | None:
    if quantity.code and quantity.system in (c.UCUM, None):
        return quantity.code
    return None


def _as_reported(quantity: Any) -> str:
    comparator = quantity.comparator or ""
    unit = quantity.unit or quantity.code or "(no unit)"
    return f"{comparator}{_num(quantity.value)} {unit}"


def _num(value: Any) -> str:
    return f"{float(value):g}" if value is not None else "?"


def _factor(quantity: Any, factors: dict[str, float]) -> float | None:
    """Factor to the target unit, from the UCUM code (or a bare unit string that is one)."""
    unit = _unit_code(quantity)
    if quantity.code is None and quantity.unit in factors:
        unit = quantity.unit  # no code at all: a unit string that is a UCUM code is unambiguous
    return factors.get(unit) if unit else None


def _convert(kind: str, obs: Any, quantity: Any, holder: Any) -> LabValue:
    """One value in the target unit; `holder` (the Observation or its component) carries
    the lab's reference range and interpretation for it."""
    target, factors = _LABS[kind][1], _LABS[kind][2]
    factor = _factor(quantity, factors)
    if quantity.value is None:
        return LabValue(kind, None, target, "(no value)", ref(obs), _date(obs), "no value")
    if factor is None:
        problem = f"unit {quantity.code or quantity.unit or 'missing'!r} is not a known UCUM unit"
        return LabValue(kind, None, target, _as_reported(quantity), ref(obs), _date(obs), problem)
    low, high, text = _reference_range(holder, factors)
    return LabValue(kind, float(quantity.value) * factor, target, _as_reported(quantity),
                    ref(obs), _date(obs), converted=factor != 1.0, low=low, high=high,
                    range_text=text, interpretation=_interpretation(holder))


def _reference_range(holder: Any, factors: dict[str, float]
                     ) -> tuple[float | None, float | None, str]:
    """The lab's normal range for everyone (no `type` other than normal, no `appliesTo`,
    no `age`): (low, high, as reported), limits in the target unit. A limit whose unit is
    not a known UCUM code is not used (never assumed to be the value's unit)."""
    for rng in holder.referenceRange or ():
        kinds = {code for _, code, _ in codings(rng.type)}
        if (kinds and "normal" not in kinds) or rng.appliesTo or rng.age:
            continue
        limits = []
        for q in (rng.low, rng.high):
            factor = _factor(q, factors) if q is not None and q.value is not None else None
            limits.append(float(q.value) * factor if factor is not None else None)
        if limits == [None, None]:
            continue
        shown = [f"{_num(q.value)} {q.unit or q.code or ''}".strip() if lim is not None else ""
                 for q, lim in zip((rng.low, rng.high), limits)]
        text = (f"{shown[0]}-{shown[1]}" if all(shown) else
                f"<= {shown[1]}" if shown[1] else f">= {shown[0]}")
        return limits[0], limits[1], text
    return None, None, ""


def _interpretation(holder: Any) -> str | None:
    """The lab's flag (v3 ObservationInterpretation / v2 0078 codes)."""
    for _, code, _ in codings(holder.interpretation):
        if code and code.upper() in _FLAGS:
            return code.upper()
    return None


def _temperature(obs: Any, quantity: Any) -> LabValue:
    unit = _unit_code(quantity)
    if quantity.code is None and quantity.unit in ("Cel", "[degF]"):
        unit = quantity.unit
    reported = _as_reported(quantity)
    if quantity.value is None or unit not in ("Cel", "[degF]"):
        unit_sent = quantity.code or quantity.unit or "missing"
        return LabValue("Temperature", None, "°C", reported, ref(obs), _date(obs),
                        f"unit {unit_sent!r} is not Cel or [degF]")
    value = float(quantity.value)
    celsius = value if unit == "Cel" else (value - 32.0) * 5.0 / 9.0
    return LabValue("Temperature", celsius, "°C", reported, ref(obs), _date(obs),
                    converted=unit != "Cel")


def _quantities(obs: Any, loinc: tuple[str, ...]) -> list[Any]:
    """The Observation's own value and any component value with one of these codes."""
    return [q for q, _ in _held_quantities(obs, loinc)]


def _held_quantities(obs: Any, loinc: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """(value, the element holding it: the Observation or its component)."""
    out = []
    if has_code(obs.code, c.LOINC, loinc) and obs.valueQuantity is not None:
        out.append((obs.valueQuantity, obs))
    for comp in obs.component or ():
        if has_code(comp.code, c.LOINC, loinc) and comp.valueQuantity is not None:
            out.append((comp.valueQuantity, comp))
    return out


def lab_values(observations: list[Any]) -> list[LabValue]:
    """CRP, ESR, WBC and body temperature values, converted, newest first."""
    out: list[LabValue] = []
    for obs in observations:
        if obs.status in _INACTIVE:
            continue
        for kind, (loinc, _, _) in _LABS.items():
            out += [_convert(kind, obs, q, holder) for q, holder in _held_quantities(obs, loinc)]
        out += [_temperature(obs, q) for q in _quantities(obs, c.TEMPERATURE)]
    return sorted(out, key=lambda v: v.date.timestamp() if v.date else 0.0, reverse=True)


def demographics(patient: Any, now: datetime) -> Demographics | None:
    if patient is None:
        return None
    return Demographics(age_years(patient.birthDate, now), patient.gender, ref(patient))


def _weeks(quantity: Any) -> float | None:
    unit = _unit_code(quantity) or (quantity.unit if quantity.code is None else None)
    if quantity.value is None:
        return None
    if unit in ("wk", "week", "weeks"):
        return float(quantity.value)
    if unit in ("d", "day", "days"):
        return float(quantity.value) / 7.0
    return None


_Status = tuple[datetime | None, bool, str]
_Weeks = tuple[datetime | None, float, str]


def pregnancy_observations(observations: list[Any]) -> tuple[_Status | None, _Weeks | None]:
    """The latest pregnancy status and gestational age Observations (date, value, ref)."""
    status: _Status | None = None
    weeks: _Weeks | None = None
    for obs in observations:
        if obs.status in _INACTIVE:
            continue
        date = _date(obs)
        if has_code(obs.code, c.LOINC, c.PREGNANCY_STATUS) and obs.valueCodeableConcept:
            pregnant = bool(has_code(obs.valueCodeableConcept, c.SNOMED, (c.SNOMED_PREGNANT,)))
            if status is None or _later(date, status[0]):
                status = (date, pregnant, ref(obs))
        for q in _quantities(obs, c.GESTATIONAL_AGE):
            w = _weeks(q)
            if w is not None and (weeks is None or _later(date, weeks[0])):
                weeks = (date, w, ref(obs))
    return status, weeks


def pregnancy(observations: list[Any], postpartum_refs: list[tuple[str, datetime | None]],
              found: tuple[_Status | None, _Weeks | None] | None = None) -> Pregnancy | None:
    """Latest pregnancy status (82810-3 = SNOMED 77386006) and gestational age, or postpartum.
    `found`: pregnancy_observations(observations), when the caller already has it."""
    status, weeks = found if found is not None else pregnancy_observations(observations)
    pregnant = bool(status and status[1])
    if not pregnant and not postpartum_refs:
        return None
    refs = tuple(r for r in (status[2] if status else None,
                             weeks[2] if weeks and pregnant else None) if r)
    refs += tuple(r for r, _ in postpartum_refs)
    date = status[0] if status else postpartum_refs[0][1]
    return Pregnancy(pregnant, bool(postpartum_refs), weeks[1] if weeks and pregnant else None,
                     refs, date)


def _later(a: datetime | None, b: datetime | None) -> bool:
    return b is None or (a is not None and a > b)
