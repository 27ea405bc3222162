"""Decide what to say about a hip core decompression order (clinical.md "Decisions").

Safety first, in this order: infection not excluded (unless a test on record answered
every red flag, exclusion.py) > imaging needed > AVN features or risk factors > another
structural lesion > TOH suspected. No outcome (no card) only when a
recent, readable MRI of the ordered hip shows none of these (e.g. "no bone marrow edema").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cds_service.clinical import text_rules as tr
from cds_service.clinical.alcohol import weak_factor_reasons
from cds_service.clinical.anatomy import HEAD_NECK, covers_hip, sides_overlap
from cds_service.clinical.coded import FEVER
from cds_service.clinical.exclusion import Flag, weigh
from cds_service.clinical.facts import ABSENT, POSSIBLE, ClinicalFacts, Finding, ImagingExam
from cds_service.clinical.modality import label as modality_label
from cds_service.clinical import reasons as k
from cds_service.clinical.reasons import Reason, day, finding_reason, unique, when
from cds_service.clinical.red_flags import lab_findings
from cds_service.clinical.support import against_toh, for_toh
from cds_service.clinical.thresholds import Thresholds

INFECTION, IMAGING, AVN, OTHER, TOH = (
    "infection-not-excluded", "imaging-needed", "avn-features", "other-lesion", "toh-suspected")
OUTCOMES = (INFECTION, IMAGING, AVN, OTHER, TOH)


@dataclass(frozen=True)
class Assessment:
    """The outcome (None: no card), the reasons for and against, and what was missing."""

    outcome: str | None
    side: str | None
    found: tuple[Reason, ...] = ()
    against: tuple[Reason, ...] = ()
    missing: tuple[Reason, ...] = ()
    exam: ImagingExam | None = None
    excluded: tuple[Reason, ...] = ()  # tests that excluded infection, the flags they answer

    @property
    def evidence(self) -> tuple[str, ...]:
        refs: list[str] = list(self.exam.refs) if self.exam else []
        for reason in self.found + self.excluded + self.against + self.missing:
            refs += [r for r in reason.refs if r not in refs]
        return tuple(dict.fromkeys(refs))


def _hip_side(f: Finding, side: str | None) -> bool:
    return f.joint in ("hip", "pelvis", None) and sides_overlap(f.side, side)


def assess(facts: ClinicalFacts, t: Thresholds, side: str | None) -> Assessment:
    """The single outcome for this patient and ordered side, with its reasons."""
    now = facts.now
    window = timedelta(days=t.mri_max_age_days)
    hip_exams = [e for e in facts.exams if covers_hip(e.site) and sides_overlap(e.side, side)]
    recent = [e for e in hip_exams if e.date and -timedelta(days=1) <= now - e.date <= window]
    mris = sorted((e for e in recent if e.is_mri), key=lambda e: e.date, reverse=True)
    readable = [e for e in mris if e.readable]
    exam = readable[0] if readable else (mris[0] if mris else None)
    loose = [f for f in facts.loose_findings
             if _hip_side(f, side) and f.date and abs(now - f.date) <= window]
    # Any modality can show infection, AVN or a fracture; only an MRI shows the marrow
    # edema the transient-osteoporosis reading rests on (a bone scan is non-specific).
    current = [f for e in recent if e.readable for f in e.findings if _hip_side(f, side)]
    current += loose
    mri_current = [f for e in readable for f in e.findings if _hip_side(f, side)] + loose

    lab_flags, normal, missing = lab_findings(facts.labs, now, t, facts.demographics)
    missing_list = list(missing)
    blunted = [Reason(f"Markers may be blunted: {r.label} ({r.detail}): a normal CRP, ESR or "
                      "temperature cannot exclude infection", (r.ref,), r.date, label=r.label,
                      kind=k.BLUNTED, short=f"{r.label} ({r.detail})")
               for r in facts.blunting]
    if side is None:
        missing_list.append(Reason("The order names no side: MRI of either hip was accepted",
                                   kind=k.NO_SIDE, short="the order names no side"))

    # 1. Infection not excluded, unless a test on record answered the red flags
    flags = [Flag(r, answerable=True) for r in lab_flags]
    for f in current:
        if f.concept == tr.INFECTION and (f.present or f.state == POSSIBLE):
            doubt = f.state == POSSIBLE
            what = "Report raises possible" if doubt else "Report describes"
            flags.append(Flag(finding_reason(f, f"{what} {f.term or 'infection'}",
                                             kind=k.INFECTION_SEEN),
                              answerable=doubt, after_only=True))
    for f in facts.condition_findings:
        if (f.concept == tr.INFECTION and _hip_side(f, side)) or f.concept == FEVER:
            flags.append(Flag(finding_reason(f, f"Condition on record: {f.term}",
                                             kind=k.INFECTION_CONDITION,
                                             short=f"{f.term} on the problem list"),
                              answerable=f.concept == FEVER))
    weighed = weigh(list(dict.fromkeys(flags)), facts.infection_tests, side, now, t)
    answered = weighed.answered if not weighed.unanswered else ()
    if flags:
        missing_list += weighed.notes
    if weighed.unanswered:
        found = list(weighed.unanswered) + [
            Reason(f"Immunosuppression: {r.label} ({r.detail})", (r.ref,), r.date, label=r.label,
                   kind=k.IMMUNOSUPPRESSION, short=f"{r.label} ({r.detail})")
            for r in facts.immunosuppression] + blunted
        against = for_toh(facts, mri_current, side, t) + [
            replace(r, text=f"{r.text} (does not answer every red flag)")
            for r in weighed.answered]
        return Assessment(INFECTION, side, tuple(found), tuple(against), tuple(missing_list),
                          exam)
    if blunted:  # normal markers are then no reassurance
        missing_list += blunted + [replace(r, text=f"{r.text}, but not reassuring while markers "
                                           "may be blunted", kind=k.LAB_BLUNTED)
                                   for r in normal]
        normal = []

    # 2. Imaging needed
    if not readable:
        other = [Reason(f"Other hip imaging: {modality_label(e.modality)} \"{e.description}\" "
                        f"on {when(e.date)} (not an MRI: radiographs stay normal for weeks in "
                        "TOH and AVN, a bone scan is not specific)", e.refs, e.date,
                        kind=k.OTHER_IMAGING,
                        short=f"{modality_label(e.modality)} {day(e.date)} (\"{e.description}\")")
                 for e in recent if not e.is_mri]
        return Assessment(IMAGING, side, tuple(other), (),
                          (_no_mri(mris, hip_exams, side, now, t),) + tuple(missing_list), exam,
                          answered)

    # 3. AVN features or risk factors
    avn_signs = [f for f in current if f.concept == tr.AVN and f.present]
    risks = facts.risk_factors
    if avn_signs or risks:
        found = [finding_reason(f, f"AVN feature on imaging: {f.term or 'AVN'}",
                                kind=k.AVN_SIGN) for f in avn_signs]
        found += [Reason(f"AVN risk factor: {r.label} ({r.detail})", (r.ref,), r.date,
                         label=r.label, kind=k.RISK, short=f"{r.label}: {r.detail}")
                  for r in risks] + weak_factor_reasons(facts.weak_risk_factors)
        against = [finding_reason(f, "Bone marrow edema also reported (fits TOH), but edema "
                                   "alone does not exclude early AVN", kind=k.EDEMA_ON_RISK)
                   for f in mri_current if f.concept in (tr.BME, tr.TOH) and f.present][:2]
        return Assessment(AVN, side, tuple(unique(found)), tuple(unique(against)),
                          tuple(missing_list), exam, answered)

    # 4. Another structural lesion
    lesions = _other_lesions(facts, current, side, t)
    if lesions:
        return Assessment(OTHER, side, tuple(unique(lesions)),
                          tuple(for_toh(facts, mri_current, side, t)), tuple(missing_list), exam,
                          answered)

    # 5. TOH suspected: edema of the femoral head/neck (or a TOH diagnosis) on a recent MRI
    edema = [f for f in mri_current if (f.concept == tr.BME and f.present and f.site in
                                    HEAD_NECK | {None})
             or (f.concept == tr.TOH and (f.present or f.state == POSSIBLE))]
    if not edema:
        return Assessment(None, side, (), tuple(_absent(mri_current)), tuple(missing_list),
                          exam, answered)
    return Assessment(TOH, side, tuple(for_toh(facts, mri_current, side, t) + normal),
                      tuple(against_toh(facts, current, side)
                            + weak_factor_reasons(facts.weak_risk_factors)),
                      tuple(missing_list), exam, answered)


def sif_population(facts: ClinicalFacts, t: Thresholds) -> str | None:
    """Why a bare subchondral fracture reads as insufficiency fracture here, or None."""
    age = facts.demographics.age if facts.demographics else None
    if age is not None and age >= t.insufficiency_fracture_age_years:
        return f"age {age}, at least {t.insufficiency_fracture_age_years}"
    if facts.osteoporosis_refs:
        return "osteoporosis on the problem list"
    return None


def _other_lesions(facts: ClinicalFacts, current: list[Finding], side: str | None,
                   t: Thresholds) -> list[Reason]:
    out = []
    for f in current:
        if f.concept in (tr.SIF, tr.STRESS_FRACTURE) and f.present:
            out.append(finding_reason(f, f"Fracture on imaging: {f.term}", kind=k.LESION))
        elif f.concept == tr.TUMOUR and (f.present or f.state == POSSIBLE):
            doubt = "possible" if f.state == POSSIBLE else "reported"
            out.append(finding_reason(f, f"Tumour or marrow infiltration {doubt}: {f.term}",
                                      kind=k.LESION, short=f"{f.term} ({doubt})"))
    for f in facts.condition_findings:
        if f.concept in (tr.SIF, tr.STRESS_FRACTURE) and f.present and _hip_side(f, side):
            out.append(finding_reason(f, f"Condition on record: {f.term}", kind=k.LESION,
                                      short=f"{f.term} on the problem list"))
    diffuse_edema = any(f.concept == tr.BME and f.present and f.diffuse for f in current)
    why = sif_population(facts, t)
    for f in current:
        if f.concept == tr.SUBCHONDRAL_FRACTURE and f.present and (why or not diffuse_edema):
            reason = why or "no diffuse edema around it"
            out.append(finding_reason(f, f"Subchondral fracture read as insufficiency fracture "
                                      f"({reason})", label="subchondral fracture",
                                      kind=k.LESION, short="subchondral fracture, read as "
                                      f"insufficiency fracture ({reason})"))
    return out


def _absent(current: list[Finding]) -> list[Reason]:
    return [finding_reason(f, "Report states no bone marrow edema", kind=k.NO_EDEMA)
            for f in current if f.concept in (tr.BME, tr.TOH) and f.state == ABSENT]


def _no_mri(mris: list[ImagingExam], hip_exams: list[ImagingExam], side: str | None,
            now: datetime, t: Thresholds) -> Reason:
    """Why no MRI could be read, told apart: unreadable, too old (its age and the limit),
    or none on record; the card says which."""
    hip = {"left": "left hip", "right": "right hip", "bilateral": "hips"}.get(side or "", "hip")
    if mris:
        e = mris[0]
        return Reason(f"MRI of the hip on {when(e.date)} has no readable report (no conclusion, "
                      "plain-text report or coded findings)", e.refs, e.date, kind=k.MRI_UNREADABLE,
                      short=f"\"{e.description}\" has no readable report (no conclusion, "
                      "report text or coded findings)")
    older = sorted((e for e in hip_exams if e.is_mri and e.date), key=lambda e: e.date)
    if older:
        e = older[-1]
        age = (now - e.date).days
        old = f"{age} days old" if age >= 0 else "dated in the future"
        return Reason(f"No MRI of the {hip} in the last {t.mri_max_age_days} days; latest hip "
                      f"MRI {when(e.date)}", e.refs, e.date, kind=k.MRI_OLD,
                      label=f"{old}, over the {t.mri_max_age_days}-day limit",
                      short=f"\"{e.description}\" is {old}; the limit is "
                      f"{t.mri_max_age_days} days (edema changes within weeks)")
    undated = [e for e in hip_exams if e.is_mri and not e.date]
    if undated:
        return Reason(f"No dated MRI of the {hip}: its recency cannot be judged", undated[0].refs,
                      label="undated, its age unknown", kind=k.MRI_OLD, short=f"\"{undated[0].description}\" "
                      "has no date, so its age cannot be judged")
    return Reason(f"No MRI of the {hip} in the last {t.mri_max_age_days} days; no hip MRI on "
                  "record", kind=k.MRI_NONE, short=f"no MRI of the {hip} on record")
