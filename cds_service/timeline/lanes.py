"""Imaging on joint lanes: which lane an exam or a finding belongs to, and what an exam
showed there (edema, AVN sign, fracture, infection, resolved, normal).

Why lanes per joint and side: the migratory pattern (clinical.md) is edema moving from one
weight-bearing joint to another; it must be seen as marks changing lane over time.
"""

from __future__ import annotations

from collections.abc import Iterable

from cds_service.clinical import text_rules as tr
from cds_service.clinical.facts import ABSENT, IMPROVING, POSSIBLE, RESOLVED, Finding, ImagingExam

JOINTS = ("hip", "knee", "ankle", "foot")
SIDES = ("left", "right")
LANES = tuple(f"{side} {joint}" for joint in JOINTS for side in SIDES)
# What a mark says, most decisive first: one result per exam and lane.
RESULTS = ("infection", "avn", "fracture", "edema", "improving", "resolved", "normal", "unread")
RESULT_LABELS = {
    "infection": "infection", "avn": "AVN sign", "fracture": "fracture", "edema": "edema",
    "improving": "edema improving", "resolved": "resolved", "normal": "normal",
    "unread": "no readable report",
}
_EDEMA = (tr.BME, tr.TOH)
_FRACTURES = (tr.SIF, tr.STRESS_FRACTURE, tr.SUBCHONDRAL_FRACTURE)


def _joint(joint: str | None) -> str | None:
    return "hip" if joint == "pelvis" else joint if joint in JOINTS else None


def lanes_of(joint: str | None, side: str | None) -> tuple[str, ...]:
    """The lanes a joint and side cover: both sides when bilateral, and for a hip or
    pelvis exam that names no side (a pelvis MRI shows both hips)."""
    joint = _joint(joint)
    if joint is None:
        return ()
    if side in SIDES:
        return (f"{side} {joint}",)
    if side == "bilateral" or joint == "hip":
        return tuple(f"{s} {joint}" for s in SIDES)
    return (f"{joint} (side not stated)",)


def finding_lanes(f: Finding, exam: ImagingExam) -> tuple[str, ...]:
    """A finding's lanes: its own joint and side, else the exam's."""
    joint = _joint(f.joint) or _joint(exam.joint)
    if joint is None:
        return ()
    side = f.side or exam.side
    if f.side is None and _joint(f.joint) in (None, _joint(exam.joint)):
        return lanes_of(exam.joint, exam.side)
    return lanes_of(joint, side)


def result_of(findings: Iterable[Finding], readable: bool, after_edema: bool) -> str:
    """What the exam showed in one lane. "resolved": edema resolved, improving evidence
    aside, or no edema where an earlier exam of the lane showed it."""
    found = list(findings)
    if not readable:
        return "unread"

    def has(concepts: tuple[str, ...], *states: str) -> bool:
        return any(f.concept in concepts and (f.state in states or (not states and f.present))
                   for f in found)

    if has((tr.INFECTION,)):
        return "infection"
    if has((tr.AVN,)):
        return "avn"
    if has(_FRACTURES):
        return "fracture"
    if any(f.concept in _EDEMA and f.present and f.state != IMPROVING for f in found):
        return "edema"
    if has(_EDEMA, IMPROVING):
        return "improving"
    if has(_EDEMA, RESOLVED) or (after_edema and has(_EDEMA, ABSENT)):
        return "resolved"
    return "normal"


def decisive(findings: Iterable[Finding], result: str) -> list[Finding]:
    """The findings a mark's result rests on, first; the rest of the lane's after."""
    wanted = {
        "infection": lambda f: f.concept == tr.INFECTION and f.present,
        "avn": lambda f: f.concept == tr.AVN and f.present,
        "fracture": lambda f: f.concept in _FRACTURES and f.present,
        "edema": lambda f: f.concept in _EDEMA and f.present,
        "improving": lambda f: f.concept in _EDEMA and f.state == IMPROVING,
        "resolved": lambda f: f.concept in _EDEMA and f.state in (RESOLVED, ABSENT),
    }.get(result, lambda f: f.state in (ABSENT, POSSIBLE))
    found = list(findings)
    return [f for f in found if wanted(f)] + [f for f in found if not wanted(f)]


def mention_counts(f: Finding) -> bool:
    """A finding about another joint than the exam's (a report's history) gets a mark of
    its own only when it says that joint's edema resolved: the rest is old news that the
    earlier exam of that joint already shows."""
    return f.concept in _EDEMA and f.state == RESOLVED
