"""Episodes of bone marrow edema per joint, for the migratory pattern (TMO / RMO).

An episode starts with edema (or a TOH diagnosis) in a joint and is transient when later
evidence says it resolved or is improving: a later report ("complete resolution of bone
marrow edema", "no bone marrow edema"), a later MRI of that joint and side that calls
itself normal and describes no edema there (normal_exam.py), a report describing
improvement, or a Condition that is resolved/inactive or has an abatement date. Imaging
alone is enough: no Condition is needed. Joints: hip (per side), knee, ankle (talus
included), foot; a pelvis MRI finding without a named bone counts as hip. Ankle and foot
edema at the same time (talus and navicular) is one ankle/foot episode, not a migration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from cds_service.clinical import text_rules as tr
from cds_service.clinical.facts import (
    ABSENT,
    IMPROVING,
    POSSIBLE,
    RESOLVED,
    Finding,
    ImagingExam,
    JointEpisode,
)
from cds_service.clinical.fhir_values import known_date

_EDEMA = (tr.BME, tr.TOH)
_MERGE_WINDOW = timedelta(days=90)
_REGION = ("ankle", "foot")  # adjacent bones (talus, navicular): one episode when concurrent


def _joint(finding: Finding, exam: ImagingExam | None) -> str | None:
    joint = finding.joint or (exam.joint if exam else None)
    return "hip" if joint == "pelvis" else joint


def _events(exams: tuple[ImagingExam, ...]):
    """(joint, side) -> dated events: ("onset" | "improving" | "resolved" | "normal",
    finding)."""
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
    seen_on = {key: {_joint_of_exam(e) for _, kind, _, e in evs if kind == "onset"}
               for key, evs in events.items()}
    for exam in exams:
        if exam.date is None:  # closes nothing (_normal_for says so too)
            continue
        for key in _normal_for(exam, seen_on):
            said = Finding(tr.BME, RESOLVED, exam.normal, exam.report_refs[0], exam.date)
            events[key].append((exam.date, "normal", said, exam))
    return events


def _joint_of_exam(exam: ImagingExam) -> str | None:
    return "hip" if exam.joint == "pelvis" else exam.joint


def _normal_for(exam: ImagingExam, seen_on: dict[tuple[str, str | None], set[str | None]]
                ) -> list[tuple[str, str | None]]:
    """The (joint, side) keys a normal MRI closes: the joint it images (or one whose edema
    was seen on an MRI of that joint: navicular edema on an ankle MRI), the same side (a
    pelvis MRI, or a bilateral one, covers both), and no edema of it described in that
    report. An MRI of no stated side closes nothing sided: it may be the other knee."""
    joint = _joint_of_exam(exam)
    if not (exam.is_mri and exam.normal and exam.date and exam.report_refs and joint):
        return []
    both = exam.side == "bilateral" or (exam.side is None and exam.joint == "pelvis")
    edema = {(_joint(f, exam), f.side or exam.side) for f in exam.findings
             if f.concept in _EDEMA and (f.present or f.state == POSSIBLE)}
    return [(j, side) for (j, side), joints in seen_on.items()
            if (j == joint or joint in joints) and (both or side == exam.side)
            and not any(j == ej and es in (None, "bilateral", side) for ej, es in edema)]


def joint_episodes(exams: tuple[ImagingExam, ...],
                   toh_conditions: list[tuple[Finding, datetime | None]]
                   ) -> tuple[JointEpisode, ...]:
    """Episodes from imaging, merged with TOH Conditions of the same joint and side."""
    episodes: list[JointEpisode] = []
    for (joint, side), events in _events(exams).items():
        current: JointEpisode | None = None
        closed = False  # resolved (not merely improving): later edema is a new episode
        # onset before resolution on the same day: a report can say both
        order = {"onset": 0, "improving": 1, "resolved": 2, "normal": 2}
        for date, kind, f, exam in sorted(events, key=lambda e: (e[0], order[e[1]])):
            refs = tuple(r for r in (exam.study_ref, f.ref) if r)
            if kind == "onset":
                if current is None or (closed and not _same_report(current, f)):
                    if current is not None:
                        episodes.append(current)
                    current, closed = JointEpisode(joint, side, date, refs, f.phrase), False
                else:
                    current = replace(current, refs=_merge(current.refs, refs))
            elif kind == "normal" and (current is None or date <= current.start):
                continue  # a normal MRI closes only an episode that began before it
            elif current is not None and date >= current.start:
                closed = closed or kind in ("resolved", "normal")
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
    return tuple(sorted(_merge_region(episodes),
                        key=lambda e: e.start.timestamp() if e.start else 0.0))


def _merge_region(episodes: list[JointEpisode]) -> list[JointEpisode]:
    """Ankle and foot episodes of one side that overlap in time become one ankle/foot
    episode: edema of the talus and the navicular together is one episode, while edema
    that moves to the foot after the ankle's resolved stays two (a migration)."""
    out = [e for e in episodes if e.joint not in _REGION or e.start is None]
    by_side: dict[str | None, list[tuple[datetime, JointEpisode]]] = {}
    for e in episodes:
        if e.joint in _REGION and e.start is not None:
            by_side.setdefault(e.side, []).append((e.start, e))
    for group in by_side.values():
        group.sort(key=lambda dated: dated[0])
        cluster = [group[0][1]]
        for start, e in group[1:]:
            ends = [c.resolved_on for c in cluster if c.closed and c.resolved_on is not None]
            if len(ends) < len(cluster) or any(start < end for end in ends):  # one still open
                cluster.append(e)
            else:
                out.append(_joined(cluster))
                cluster = [e]
        out.append(_joined(cluster))
    return out


def _joined(cluster: list[JointEpisode]) -> JointEpisode:
    if len(cluster) == 1:
        return cluster[0]
    first, last = cluster[0], max(cluster, key=lambda e: known_date(e.resolved_on or e.start))
    joints = sorted({e.joint for e in cluster}, key=_REGION.index)
    refs: tuple[str, ...] = ()
    for e in cluster:
        refs = _merge(refs, e.refs)
    transient = all(e.transient for e in cluster)
    return JointEpisode("/".join(joints), first.side, first.start, refs, first.phrase,
                        transient, all(e.closed for e in cluster),
                        last.resolved_on if transient else None,
                        last.resolution_phrase if transient else "")


def _merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


def _same_report(episode: JointEpisode, finding: Finding) -> bool:
    return finding.ref in episode.refs


def _close(a: datetime | None, b: datetime | None) -> bool:
    return a is None or b is None or abs(a - b) <= _MERGE_WINDOW


def same_joint(a: JointEpisode, b: JointEpisode) -> bool:
    """Whether two episodes share a joint ("ankle/foot" shares the ankle)."""
    return bool(set(a.joint.split("/")) & set(b.joint.split("/")))


def joint_label(episode: JointEpisode) -> str:
    return f"{episode.side + ' ' if episode.side else ''}{episode.joint}"

