"""The timeline JSON the app draws: lanes, marks, labs, exposures and the assessment.

Pure: the same ClinicalFacts, Assessment and migration finding the hook services build,
turned into plain values; every reason and mark carries the ids of its evidence.
"""

from __future__ import annotations

import re
from typing import Any

from cds_service.clinical.assessment import AVN, IMAGING, INFECTION, OTHER, TOH, Assessment
from cds_service.clinical.episodes import joint_label
from cds_service.clinical.facts import ClinicalFacts, JointEpisode
from cds_service.clinical.reasons import Reason
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import PatientRecord
from cds_service.services.card_topics import TOPICS
from cds_service.timeline.evidence import EvidenceIndex, instant, iso
from cds_service.timeline.lanes import LANES, RESULT_LABELS, RESULTS, lanes_of
from cds_service.timeline.marks import episode_bars, exam_marks
from cds_service.timeline.series import lab_points, pregnancy_periods, steroid_periods

HEADINGS = {  # outcome -> (found, against)
    TOH: ("What fits transient osteoporosis", "What argues against it"),
    INFECTION: ("Red flags for infection", "What fits transient osteoporosis instead"),
    IMAGING: ("What was found", "What argues against it"),
    AVN: ("AVN features and risk factors", "What fits transient osteoporosis"),
    OTHER: ("Other lesion", "What fits transient osteoporosis"),
    None: ("What was found", "What the MRI showed instead"),
}
NO_OUTCOME = "No warning: the recent hip MRI shows no edema, AVN sign, fracture or infection"


_PLACE = re.compile(r" \(([^()]*)\)$")  # finding_reason's "(left femoral head)"


def _text(r: Reason) -> str:
    """The reason without its trailing date (the page shows the date beside it)."""
    suffix = f", {iso(r.date)}"
    return r.text.removesuffix(suffix) if r.date else r.text


def _reasons(reasons: tuple[Reason, ...], index: EvidenceIndex) -> list[dict[str, Any]]:
    """One entry per statement: the same statement read in several sentences or places
    ("AVN features are absent" in three sentences) is one entry listing its places and
    opening all its sentences."""
    groups: dict[str, list[tuple[str | None, Reason]]] = {}
    for r in dict.fromkeys(reasons):
        text = _text(r)
        place = _PLACE.search(text) if r.quote else None
        base = text[:place.start()] if place else text
        groups.setdefault(base, []).append((place.group(1) if place else None, r))
    out = []
    for base, group in groups.items():
        places = list(dict.fromkeys(p for p, _ in group if p))
        evidence = [e for _, r in group for e in index.for_refs(r.refs, r.date, r.quote)]
        first = group[0][1]
        out.append({"text": base + (f" ({', '.join(places)})" if places else ""),
                    "day": iso(first.date), "quote": first.quote,
                    "evidence": list(dict.fromkeys(evidence))})
    return out


def assessment_json(a: Assessment, index: EvidenceIndex) -> dict[str, Any]:
    """The assessment as sections of clickable reasons, in the card's order."""
    found, against = HEADINGS[a.outcome]
    sections = [(found, a.found), ("Infection excluded on record", a.excluded),
                (against, a.against), ("Missing or unusable data", a.missing)]
    title, indicator = TOPICS.get(a.outcome, (NO_OUTCOME, "info")) if a.outcome else (
        NO_OUTCOME, "info")
    exam = None
    if a.exam is not None:
        exam = {"day": iso(a.exam.date), "description": a.exam.description,
                "refs": list(a.exam.refs)}
    return {
        "outcome": a.outcome or "none", "title": title, "indicator": indicator,
        "side": a.side, "exam": exam,
        "sections": [{"title": t, "reasons": _reasons(rs, index)} for t, rs in sections if rs],
    }


def migration_json(found: tuple[JointEpisode, list[JointEpisode]] | None,
                   index: EvidenceIndex) -> dict[str, Any] | None:
    """The migratory pattern (patient-view's finding): earlier episodes, then the new one."""
    if found is None:
        return None
    new, earlier = found
    steps = []
    for e in [*earlier, new]:
        outcome = "resolved" if e.closed else "improving" if e.transient else "current"
        phrase = e.resolution_phrase if e.transient and e.resolution_phrase else e.phrase
        reports = [r for r in e.refs if r.startswith("DiagnosticReport/")] or list(e.refs)
        ref = next((r for r in reports if index.known(r, phrase)), reports[-1] if reports
                   else "")
        onset = next((r for r in reports if index.known(r, e.phrase)), None)
        evidence = [index.add(onset, e.start, e.phrase)] if onset else []
        if ref and phrase != e.phrase:
            evidence.append(index.add(ref, e.resolved_on or e.start, phrase))
        steps.append({"joint": joint_label(e), "lanes": list(lanes_of(e.joint, e.side)),
                      "start": instant(e.start), "day": iso(e.start), "outcome": outcome,
                      "resolved_day": iso(e.resolved_on), "evidence": evidence})
    joints = " then ".join(f"{s['joint']} ({s['day']})" for s in steps)
    return {"text": f"Migratory bone marrow edema: {joints}", "steps": steps}


def timeline_json(facts: ClinicalFacts, record: PatientRecord, assessment: Assessment,
                  migration: tuple[JointEpisode, list[JointEpisode]] | None,
                  t: Thresholds) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready values."""
    index = EvidenceIndex()
    marks = exam_marks(facts, index)
    labs = lab_points(facts, t, index)
    demo = facts.demographics
    extra_lanes = sorted({m["lane"] for m in marks} - set(LANES))
    return {
        "now": instant(facts.now), "today": iso(facts.now),
        "patient": {"age": demo.age if demo else None, "sex": demo.sex if demo else None},
        "lanes": list(LANES) + extra_lanes,
        "results": [{"result": r, "label": RESULT_LABELS[r]} for r in RESULTS],
        "marks": marks,
        "episodes": episode_bars(facts.episodes, marks, facts.now),
        "labs": labs,
        "steroids": steroid_periods(facts, record, index),
        "pregnancy": pregnancy_periods(facts, index),
        "migration": migration_json(migration, index),
        "assessment": assessment_json(assessment, index),
        "evidence": index.items,
        "notes": list(facts.notes),
    }
