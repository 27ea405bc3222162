"""Which infection red flags a test on record has answered (infection is excluded first).

Why: raised markers with no explanation must stop an irreversible operation, but once a
hip aspirate, a PET-CT or a labelled scan has excluded infection, the same markers no
longer speak against transient osteoporosis (third seed case: CRP 140.5, PET-CT free of
infection, TOH). A test answers a raised marker or a fever when it is final, of the hip
(a joint aspirate must name it), of a compatible side, within raised_lab_lookback_days,
and dated no more than lab_max_age_days before the flag (a later rise is a new question).
It answers an imaging "infection cannot be excluded" only when done on or after it. It
never answers infection described on imaging, an active infection Condition, or a test
that found infection: those stay red flags.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cds_service.clinical import reasons as k
from cds_service.clinical.anatomy import sides_overlap
from cds_service.clinical.facts import InfectionTest
from cds_service.clinical.reasons import Reason, day, unique, when
from cds_service.clinical.thresholds import Thresholds

_HIP = ("hip", "pelvis")
NO_TEST = ("No test on record excludes infection (hip aspirate with culture and cell count, "
           "PET-CT, labelled leucocyte or marrow scan, infectious-diseases review)")
NO_TEST_SHORT = "no test on record excludes infection (hip aspirate, PET-CT, labelled scan)"


@dataclass(frozen=True)
class Flag:
    """A red flag, and whether a test could answer it."""

    reason: Reason
    answerable: bool  # a raised marker, a fever, an imaging doubt
    after_only: bool = False  # an imaging doubt: only a test done on or after it answers it


@dataclass(frozen=True)
class Weighed:
    unanswered: tuple[Reason, ...]  # red flags still standing (with tests that found infection)
    answered: tuple[Reason, ...]  # the tests that excluded infection, then the flags they answer
    notes: tuple[Reason, ...]  # tests not counted, and why; or that no test was found


def _what(x: InfectionTest) -> str:
    place = " ".join(p for p in (x.side, x.joint) if p)
    return f"{x.test}{' (' + place + ')' if place else ''} on {when(x.date)}: {x.detail}"


def test_reason(x: InfectionTest, verb: str = "Infection excluded",
                kind: str = k.TEST_EXCLUDES) -> Reason:
    return Reason(f"{verb}: {_what(x)}", (x.ref,), x.date, x.quote, label=x.test, kind=kind,
                  short=f"{x.test} {day(x.date)}: {x.detail}", side=x.side)


def _why_not(x: InfectionTest, side: str | None, now: datetime, t: Thresholds) -> str | None:
    """Why this exclusion cannot count at all, or None."""
    if not x.final:
        return "preliminary result"
    if x.joint is None:
        return "the joint is not named (only a test of the hip excludes hip infection)"
    if x.joint not in _HIP:
        return f"a test of the {x.joint}, not the hip"
    if not sides_overlap(x.side, side):
        return f"the {x.side} side, not the {side}"
    if x.date is None:
        return "undated"
    if now - x.date > timedelta(days=t.raised_lab_lookback_days):
        return f"older than {t.raised_lab_lookback_days} days"
    return None


def _answers(x: InfectionTest, flag: Flag, t: Thresholds) -> bool:
    if flag.reason.date is None or x.date is None:
        return True
    slack = timedelta(0) if flag.after_only else timedelta(days=t.lab_max_age_days)
    return x.date >= flag.reason.date - slack


def weigh(flags: list[Flag], tests: tuple[InfectionTest, ...], side: str | None,
          now: datetime, t: Thresholds) -> Weighed:
    """Split the red flags into those a test on record answers and those still standing."""
    lookback = timedelta(days=t.raised_lab_lookback_days)
    positives = [test_reason(x, "Test found infection", k.TEST_POSITIVE) for x in tests
                 if not x.excludes and x.joint in (*_HIP, None) and sides_overlap(x.side, side)
                 and (x.date is None or now - x.date <= lookback)]
    counted, notes = [], []
    for x in tests:
        if not x.excludes:
            continue
        why = _why_not(x, side, now, t)
        if why:
            notes.append(Reason(f"Not counted as excluding infection ({why}): {_what(x)}",
                                (x.ref,), x.date, x.quote, kind=k.TEST_NOT_COUNTED,
                                short=f"{x.test} {day(x.date)} not counted ({why})"))
        else:
            counted.append(x)
    standing, answered_by = [], []
    for flag in flags:
        by = [x for x in counted if flag.answerable and _answers(x, flag, t)]
        if by:
            answered_by += [x for x in by if x not in answered_by]
        else:
            standing.append(flag.reason)
    if standing or positives:
        if not counted and not notes and not positives:
            notes.append(Reason(NO_TEST, kind=k.NO_TEST, short=NO_TEST_SHORT))
        reasons = unique(positives + [f.reason for f in flags])
        return Weighed(tuple(reasons), tuple(test_reason(x) for x in counted), tuple(notes))
    answered = [test_reason(x) for x in answered_by]
    answered += [replace(f.reason, text=f"{f.reason.text} — answered by the test above")
                 for f in flags]
    return Weighed((), tuple(unique(answered)), tuple(notes))
