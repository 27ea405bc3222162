"""What every rule of the decision reads about the ordered hip, worked out once.

The exams of that hip and side, the recent ones, the MRI read (the latest readable one),
the current findings, the lab flags and the infection red flags weighed against the tests
on record. Pure: from the facts, the thresholds and the ordered side only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from cds_service.clinical import reasons as k
from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import covers_hip, sides_overlap
from cds_service.clinical.coded import FEVER
from cds_service.clinical.exclusion import Flag, Weighed, weigh
from cds_service.clinical.facts import POSSIBLE, ClinicalFacts, Finding, ImagingExam
from cds_service.clinical.reasons import Reason, finding_reason
from cds_service.clinical.red_flags import lab_findings
from cds_service.clinical.thresholds import Thresholds


@dataclass(frozen=True)
class DecisionContext:
    """The ordered side and what the facts show of that hip (the rules never change it)."""

    t: Thresholds
    side: str | None
    hip_exams: list[ImagingExam]  # any date, any modality, of the ordered hip and side
    recent: list[ImagingExam]  # of those, within mri_max_age_days
    mris: list[ImagingExam]  # the recent MRIs, latest first
    readable: list[ImagingExam]  # the recent MRIs with a report or coded findings
    exam: ImagingExam | None  # the MRI the decision reads
    current: list[Finding]  # on any recent readable exam (infection, AVN, fracture), and loose
    mri_current: list[Finding]  # on a readable MRI only (marrow edema), and loose
    weighed: Weighed  # the infection red flags against the tests on record
    blunted: list[Reason]  # what may blunt CRP, ESR and fever
    normal: list[Reason]  # the normal labs that reassure (none while markers may be blunted)
    infection_missing: tuple[Reason, ...]  # what the infection outcome names as missing
    missing: tuple[Reason, ...]  # what the others name: also normal labs that cannot reassure

    @property
    def answered(self) -> tuple[Reason, ...]:
        """The tests that excluded infection, once no red flag is left standing."""
        return () if self.weighed.unanswered else self.weighed.answered


def latest_first(exams: list[ImagingExam]) -> list[ImagingExam]:
    """The dated exams, the latest first (the sort is stable: equal dates keep their order)."""
    dated = [(e.date, e) for e in exams if e.date is not None]
    return [e for _, e in sorted(dated, key=lambda pair: pair[0], reverse=True)]


def on_hip_side(f: Finding, side: str | None) -> bool:
    """A finding of the hip or pelvis (or of no stated joint) on the ordered side."""
    return f.joint in ("hip", "pelvis", None) and sides_overlap(f.side, side)


def _red_flags(facts: ClinicalFacts, current: list[Finding], lab_flags: list[Reason],
               side: str | None) -> list[Flag]:
    """Raised markers, infection seen or doubted on imaging, infection or fever on record."""
    flags = [Flag(r, answerable=True) for r in lab_flags]
    for f in current:
        if f.concept == tr.INFECTION and (f.present or f.state == POSSIBLE):
            doubt = f.state == POSSIBLE
            what = "Report raises possible" if doubt else "Report describes"
            flags.append(Flag(finding_reason(f, f"{what} {f.term or 'infection'}",
                                             kind=k.INFECTION_SEEN),
                              answerable=doubt, after_only=True))
    for f in facts.condition_findings:
        if (f.concept == tr.INFECTION and on_hip_side(f, side)) or f.concept == FEVER:
            flags.append(Flag(finding_reason(f, f"Condition on record: {f.term}",
                                             kind=k.INFECTION_CONDITION,
                                             short=f"{f.term} on the problem list"),
                              answerable=f.concept == FEVER))
    return list(dict.fromkeys(flags))


def context_for(facts: ClinicalFacts, t: Thresholds, side: str | None) -> DecisionContext:
    """Everything the rules share, for this patient and ordered side."""
    now = facts.now
    window = timedelta(days=t.mri_max_age_days)
    hip_exams = [e for e in facts.exams if covers_hip(e.site) and sides_overlap(e.side, side)]
    recent = [e for e in hip_exams if e.date and -timedelta(days=1) <= now - e.date <= window]
    mris = latest_first([e for e in recent if e.is_mri])
    readable = [e for e in mris if e.readable]
    loose = [f for f in facts.loose_findings
             if on_hip_side(f, side) and f.date and abs(now - f.date) <= window]
    # Any modality can show infection, AVN or a fracture; only an MRI shows the marrow
    # edema the transient-osteoporosis reading rests on (a bone scan is non-specific).
    current = [f for e in recent if e.readable for f in e.findings if on_hip_side(f, side)]
    current += loose
    mri_current = [f for e in readable for f in e.findings if on_hip_side(f, side)] + loose

    lab_flags, normal, lab_missing = lab_findings(facts.labs, now, t, facts.demographics)
    missing = list(lab_missing)
    if side is None:
        missing.append(Reason("The order names no side: MRI of either hip was accepted",
                              kind=k.NO_SIDE, short="the order names no side"))
    flags = _red_flags(facts, current, lab_flags, side)
    weighed = weigh(flags, facts.infection_tests, side, now, t)
    if flags:
        missing += weighed.notes
    blunted = [Reason(f"Markers may be blunted: {r.label} ({r.detail}): a normal CRP, ESR or "
                      "temperature cannot exclude infection", (r.ref,), r.date, label=r.label,
                      kind=k.BLUNTED, short=f"{r.label} ({r.detail})")
               for r in facts.blunting]
    unreassuring = blunted + [replace(r, text=f"{r.text}, but not reassuring while markers "
                                      "may be blunted", kind=k.LAB_BLUNTED)
                              for r in normal] if blunted else []
    return DecisionContext(
        t=t, side=side, hip_exams=hip_exams, recent=recent, mris=mris, readable=readable,
        exam=readable[0] if readable else (mris[0] if mris else None),
        current=current, mri_current=mri_current, weighed=weighed, blunted=blunted,
        normal=[] if blunted else normal, infection_missing=tuple(missing),
        missing=tuple(missing + unreassuring))
