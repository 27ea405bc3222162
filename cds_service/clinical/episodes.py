"""Episodes of bone marrow edema per joint, for the migratory pattern (TMO / RMO).

An episode starts with edema (or a TOH diagnosis) in a joint and is transient when later
evidence says it resolved or is improving: a later report ("complete resolution of bone
marrow edema", "no bone marrow edema"), a report describing improvement, or a Condition
that is resolved/inactive or has an abatement date. Joints: hip (per side), knee, ankle
(talus included), foot; a pelvis MRI finding without a named bone counts as hip.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from cds_service.clinical import text_rules as tr
from cds_service.clinical.facts import (
    ABSENT, IMPROVING, RESOLVED, Finding, ImagingExam, JointEpisode)

_EDEMA = (tr.BME, tr.TOH)
_MERGE_WINDOW = timedelta(days=90)


def _joint(finding: Finding, exam: ImagingExam | None) -> str | None:
    joint = finding.joint or (exam.joint if exam else None)
    return "hip" if joint == "pelvis" else joint


def _events(exams: tuple[ImagingExam, ...]):
    """(joint, side) -> dated events: ("onset" | "improving" | "resolved", finding)."""
    events: dict[tuple[str, str | None], list[tuple[datetime, str, Finding, ImagingExam]]] = {}
    for exam in exams:
        for f in exam.findings:
            joint = _joint(f, exam)
            date = f.date or exam.date
            if f.concept not in _EDEMA or joint is None or date is None:
                continue
            kind = ("onset" if f.present else "resolved" if f.state in (RESOLVED, ABSENT)
                    else None)
            if kind:
                events.setdefault((joint, f.side), []).append((date, kind, f, exam))
            if f.state == IMPROVING:
                events.setdefault((joint, f.side), []).append((date, "improving", f, exam))
    return events


def joint_episodes(exams: tuple[ImagingExam, ...],
                   toh_conditions: list[tuple[Finding, datetime | None]]
                   ) -> tuple[JointEpisode, ...]:
    """Episodes from imaging, merged with TOH Conditions of the same joint and side."""
    episodes: list[JointEpisode] = []
    for (joint, side), events in _events(exams).items():
        current: JointEpisode | None = None
        closed = False  # resolved (not merely improving): later edema is a new episode
        # onset before resolution on the same day: a report can say both
        order = {"onset": 0, "improving": 1, "resolved": 2}
        for date, kind, f, exam in sorted(events, key=lambda e: (e[0], order[e[1]])):
            refs = tuple(r for r in (exam.study_ref, f.ref) if r)
            if kind == "onset":
                if current is None or (closed and not _same_report(current, f)):
                    if current is not None:
                        episodes.append(current)
                    current, closed = JointEpisode(joint, side, date, refs, f.phrase), False
                else:
                    current = replace(current, refs=_merge(current.refs, refs))
            elif current is not None and date >= current.start:
                closed = closed or kind == "resolved"
                current = replace(current, transient=True, closed=closed, resolved_on=date,
                                  resolution_phrase=f.phrase, refs=_merge(current.refs, refs))
        if current is not None:
            episodes.append(current)
    for finding, ended in toh_conditions:
        joint = finding.joint
        if joint is None:
            continue
        joint = "hip" if joint == "pelvis" else joint
        transient = finding.state == RESOLVED or ended is not None
        match = next((i for i, e in enumerate(episodes) if e.joint == joint
                      and e.side == finding.side and _close(e.start, finding.date)), None)
        if match is None:
            episodes.append(JointEpisode(joint, finding.side, finding.date, (finding.ref,),
                                         finding.phrase, transient, transient, ended))
        else:
            e = episodes[match]
            episodes[match] = replace(e, refs=_merge(e.refs, (finding.ref,)),
                                      transient=e.transient or transient,
                                      closed=e.closed or transient,
                                      resolved_on=e.resolved_on or ended)
    return tuple(sorted(episodes, key=lambda e: e.start.timestamp() if e.start else 0.0))


def _merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


def _same_report(episode: JointEpisode, finding: Finding) -> bool:
    return finding.ref in episode.refs


def _close(a: datetime | None, b: datetime | None) -> bool:
    return a is None or b is None or abs(a - b) <= _MERGE_WINDOW


def joint_label(episode: JointEpisode) -> str:
    return f"{episode.side + ' ' if episode.side else ''}{episode.joint}"

