"""Red flags for infection (clinical.md: infection must be excluded first).

Labs: the latest usable value of each test decides, judged by the lab's own range and
flag, else an age- and sex-adjusted limit, else the configured one (lab_limits.py); the
card names the limit applied. Raised within lab_max_age_days, or raised and never
rechecked within raised_lab_lookback_days, is a red flag; normal counts as reassurance
only when recent (normal labs weeks earlier do not exclude infection now). Any
temperature at or above the fever threshold in the lab window is a red flag.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cds_service.clinical import reasons as k
from cds_service.clinical.facts import Demographics, LabValue
from cds_service.clinical.lab_limits import judge
from cds_service.clinical.reasons import Reason, when
from cds_service.clinical.thresholds import Thresholds

MARKERS = ("CRP", "ESR", "WBC")


def _describe(lab: LabValue) -> str:
    converted = f" (= {round(lab.value, 2):g} {lab.unit})" if lab.converted and \
        lab.value is not None else ""
    return f"{lab.kind} {lab.as_reported}{converted} on {when(lab.date)}"


def readable(lab: LabValue) -> str:
    """The value in the unit people read: "WBC 7.4 10^9/L", not "10*3/uL"."""
    if lab.value is None:
        return f"{lab.kind} {lab.as_reported}"
    return f"{lab.kind} {round(lab.value, 2):g} {lab.unit}"


def _short(lab: LabValue, limit: str) -> str:
    """ "CRP 4 mg/L (lab limit 5, sent as 0.4 mg/dL)": the limit applied, and what was sent
    when the value was converted (the chart shows that)."""
    sent = f", sent as {lab.as_reported}" if lab.converted else ""
    return f"{readable(lab)} ({limit}{sent})"


def lab_findings(labs: tuple[LabValue, ...], now: datetime, t: Thresholds,
                 demo: Demographics | None = None
                 ) -> tuple[list[Reason], list[Reason], list[Reason]]:
    """(red flags, reassuring recent normal values, missing or unusable data)."""
    flags: list[Reason] = []
    normal: list[Reason] = []
    missing: list[Reason] = []
    recent = timedelta(days=t.lab_max_age_days)
    lookback = timedelta(days=t.raised_lab_lookback_days)
    recent_markers = []
    for kind in MARKERS:
        usable = [v for v in labs if v.kind == kind and v.usable]
        if not usable:
            continue
        latest = usable[0]
        age = now - latest.date if latest.date else None
        fresh = age is not None and age <= recent
        verdict = judge(latest, demo, t)
        if verdict.raised and age is not None and age <= lookback:
            tail = "" if fresh else f", not rechecked since (older than {t.lab_max_age_days} days)"
            flags.append(Reason(f"{_describe(latest)}: {verdict.text}{tail}",
                                (latest.ref,), latest.date,
                                label=readable(latest),
                                kind=k.LAB_RAISED, short=_short(latest, verdict.short) + (
                                    ", not rechecked since" if tail else "")))
        elif fresh and not verdict.raised:
            normal.append(Reason(f"{_describe(latest)}: {verdict.text}",
                                 (latest.ref,), latest.date, kind=k.LAB_NORMAL,
                                 short=_short(latest, verdict.short)))
        if fresh and kind in ("CRP", "ESR"):
            recent_markers.append(kind)
    fevers = [(v, v.value) for v in labs if v.kind == "Temperature" and v.usable and v.date
              and now - v.date <= recent and v.value is not None and v.value >= t.temperature_c]
    if fevers:
        v, celsius = fevers[0]
        flags.append(Reason(f"Fever: temperature {_describe(v)[len('Temperature '):]}, "
                            f"at or above {t.temperature_c:g} °C",
                            (v.ref,), v.date, label=f"fever {round(celsius, 1):g} °C",
                            kind=k.FEVER, short=f"temperature {round(celsius, 1):g} °C "
                                                f"(fever from {t.temperature_c:g})"))
    if not recent_markers:
        older = [v for v in labs if v.kind in ("CRP", "ESR") and v.usable]
        last = f" (last: {_describe(older[0])})" if older else ""
        missing.append(Reason(
            f"No CRP or ESR in the last {t.lab_max_age_days} days{last}: infection could not "
            "be excluded by labs", (older[0].ref,) if older else (),
            older[0].date if older else None, kind=k.LAB_MISSING,
            short=f"no CRP or ESR in the last {t.lab_max_age_days} days"))
    for v in labs:
        if not v.usable:
            missing.append(Reason(f"{v.kind} {v.as_reported} on {when(v.date)} not used: "
                                  f"{v.problem}", (v.ref,), v.date, kind=k.LAB_UNUSABLE,
                                  short=f"{v.kind} {v.as_reported} not used ({v.problem})"))
    return flags, normal, missing
