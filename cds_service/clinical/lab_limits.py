"""Is an inflammatory marker raised? The lab's own judgement first, then the literature.

Why: a fixed cut-off misreads patients the lab has already judged (its reference range
and H/L flag), and ESR rises with age, more in women: a 72-year-old woman with an ESR of
32 mm/h is within her limit. In order:
1. the lab's interpretation flag (H, HH, HU, A, AA = raised, but A/AA below the lab's
   lower limit is a low value; N, L, LL, LU = not raised), except that a value above the
   lab's own upper limit is raised whatever the flag (when the two disagree, the reading
   that keeps the infection check wins);
2. the lab's reference range (`high`);
3. ESR only: the age- and sex-adjusted Westergren upper limit, age/2 for men and
   (age+10)/2 for women (Miller, Green, Robinson 1983, BMJ 286:266), for adults; unknown
   sex takes the lower (men's) limit;
4. the configured threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.clinical.facts import Demographics, LabValue
from cds_service.clinical.thresholds import Thresholds

RAISED_FLAGS = {"H": "high", "HH": "critically high", "HU": "significantly high",
                "A": "abnormal", "AA": "critically abnormal"}
NOT_RAISED_FLAGS = {"N": "normal", "L": "low", "LL": "critically low",
                    "LU": "significantly low"}
_CONFIGURED = {"CRP": "crp_mg_per_l", "ESR": "esr_mm_per_h", "WBC": "wbc_10e9_per_l"}
ADULT_AGE = 18  # Miller's formula was derived in adults


@dataclass(frozen=True)
class Judgement:
    """Raised or not, the upper limit applied (None: the lab's flag alone), and the words
    for the card: "above 10 mg/L (the configured limit)", "flagged H (high) by the lab";
    `short` names the limit in a few words ("lab limit 5", "limit 41 for a woman of 72")."""

    raised: bool
    limit: float | None
    text: str
    short: str = ""


def esr_limit(demo: Demographics | None) -> tuple[float, str] | None:
    """Age- and sex-adjusted ESR upper limit in mm/h (Miller 1983), or None (age unknown
    or a child)."""
    if demo is None or demo.age is None or demo.age < ADULT_AGE:
        return None
    if demo.sex == "female":
        return (demo.age + 10) / 2, f"woman of {demo.age}"
    who = "man" if demo.sex == "male" else "patient of unrecorded sex (men's limit)"
    return demo.age / 2, f"{who} of {demo.age}"


def _by_limit(value: float, limit: float, unit: str, source: str, short: str) -> Judgement:
    raised = value > limit
    return Judgement(raised, limit, f"{'above' if raised else 'within'} {limit:g} {unit} "
                                    f"({source})", short.format(limit=f"{limit:g}"))


def judge(lab: LabValue, demo: Demographics | None, t: Thresholds) -> Judgement:
    """Whether this usable CRP, ESR or WBC value is raised, and by which limit."""
    value = lab.value if lab.value is not None else 0.0
    source = f"the lab's reference range {lab.range_text}".strip()
    flag = lab.interpretation
    if lab.high is not None and value > lab.high:
        return _by_limit(value, lab.high, lab.unit, source, "lab limit {limit}")
    below = lab.low is not None and value < lab.low
    if flag in RAISED_FLAGS and not (flag in ("A", "AA") and below):  # "abnormal" and low
        return Judgement(True, lab.high, f"flagged {flag} ({RAISED_FLAGS[flag]}) by the lab",
                         f"flagged {flag} by the lab")
    if lab.high is not None:
        return _by_limit(value, lab.high, lab.unit, source, "lab limit {limit}")
    if flag in NOT_RAISED_FLAGS:
        return Judgement(False, None, f"flagged {flag} ({NOT_RAISED_FLAGS[flag]}) by the lab",
                         f"flagged {flag} by the lab")
    if lab.kind == "ESR":
        adjusted = esr_limit(demo)
        if adjusted is not None:
            limit, who = adjusted
            return _by_limit(value, limit, lab.unit,
                             f"the age- and sex-adjusted limit for a {who}, Miller 1983",
                             f"limit {{limit}} for a {who}")
    return _by_limit(value, getattr(t, _CONFIGURED[lab.kind]), lab.unit, "the configured limit",
                     "limit {limit}")
