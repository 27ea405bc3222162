"""Exam marks and edema episodes on the joint lanes, each pointing at its evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cds_service.clinical.facts import ClinicalFacts, Finding, ImagingExam, JointEpisode
from cds_service.clinical.fhir_values import known_date
from cds_service.clinical.modality import label as modality_label
from cds_service.timeline.evidence import EvidenceIndex, instant, iso
from cds_service.timeline.lanes import (
    RESULT_LABELS,
    decisive,
    finding_lanes,
    lanes_of,
    mention_counts,
    result_of,
)

SHORT_MODALITY = {"MR": "MRI", "CT": "CT", "CR": "XR", "DX": "XR", "NM": "NM", "PT": "PET",
                  "US": "US", "BMD": "DXA"}


def exam_source(exam: ImagingExam) -> str:
    """How the page names an exam: "MRI, MRI left hip without contrast"."""
    kind = modality_label(exam.modality)
    kind = kind[:1].upper() + kind[1:]
    if not exam.description:
        return kind
    named = SHORT_MODALITY.get(exam.modality or "", ""), kind
    said = any(n and n.lower() in exam.description.lower() for n in named)
    return exam.description if said else f"{kind}: {exam.description}"


def _finding_evidence(index: EvidenceIndex, f: Finding, exam: ImagingExam) -> str:
    return index.add(f.ref, f.date or exam.date, f.phrase, f.term or f.concept, f.state)


def exam_marks(facts: ClinicalFacts, index: EvidenceIndex) -> list[dict[str, Any]]:
    """One mark per exam and lane it covers, plus marks where a report of another joint
    says a lane's edema resolved. Sorted by date."""
    marks: list[dict[str, Any]] = []
    edema_seen: set[str] = set()
    exams = sorted((e for e in facts.exams if e.date), key=lambda e: known_date(e.date))
    for exam in exams:
        source = exam_source(exam)
        for ref in exam.refs:
            index.sources.setdefault(ref, source)
        own = lanes_of(exam.joint, exam.side)
        by_lane: dict[str, list[Finding]] = {lane: [] for lane in own}
        for f in exam.findings:
            lanes = finding_lanes(f, exam)
            shared = [lane for lane in lanes if lane in by_lane]
            for lane in shared:
                by_lane[lane].append(f)
            if not shared and mention_counts(f):
                for lane in lanes:
                    marks.append(_mark(exam, lane, "resolved", [f], index, mention=True))
        for lane, found in by_lane.items():
            result = result_of(found, exam.readable, lane in edema_seen)
            if result == "edema":
                edema_seen.add(lane)
            marks.append(_mark(exam, lane, result, decisive(found, result), index))
    marks.sort(key=lambda m: (m["date"], m["lane"]))
    for number, mark in enumerate(marks, 1):
        mark["id"] = f"mark{number}"
    return marks


def _mark(exam: ImagingExam, lane: str, result: str, findings: list[Finding],
          index: EvidenceIndex, mention: bool = False) -> dict[str, Any]:
    evidence = [_finding_evidence(index, f, exam) for f in findings]
    if not evidence:  # nothing read (normal or unread): the exam itself is the evidence
        ref = (exam.report_refs or exam.refs or ("",))[0]
        evidence = [index.add(ref, exam.date)] if ref else []
    return {
        "id": "",
        "lane": lane,
        "date": instant(exam.date),
        "day": iso(exam.date),
        "modality": SHORT_MODALITY.get(exam.modality or "", exam.modality or "?"),
        "modality_label": modality_label(exam.modality),
        "result": result,
        "result_label": RESULT_LABELS[result],
        "description": exam.description,
        "mention": mention,  # stated in a report of another joint, not an exam of this one
        "refs": list(exam.refs),
        "evidence": list(dict.fromkeys(evidence)),
    }


def episode_bars(episodes: tuple[JointEpisode, ...], marks: list[dict[str, Any]],
                 now: datetime) -> list[dict[str, Any]]:
    """Edema episodes as bars: from onset to the first later mark of the lane that shows
    it improving or resolved (the repeat MRI), else to its resolution date, else today."""
    bars: list[dict[str, Any]] = []
    for e in episodes:
        if e.start is None:
            continue
        for lane in lanes_of(e.joint, e.side):
            later = [m for m in marks if m["lane"] == lane and m["date"] > instant(e.start)
                     and m["result"] in ("improving", "resolved")]
            end = later[0]["date"] if later else instant(e.resolved_on or now)
            status = "resolved" if e.closed else "improving" if e.transient else "ongoing"
            bar = {"lane": lane, "start": instant(e.start), "end": end, "status": status,
                   "refs": list(e.refs)}
            if not any(b["lane"] == lane and b["start"] == bar["start"] for b in bars):
                bars.append(bar)  # a bilateral and a one-sided episode of the same exam
    return bars
