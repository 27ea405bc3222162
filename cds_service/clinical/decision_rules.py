"""The rules of the decision, one per outcome: each answers with an Assessment or passes.

Each rule is `(facts, context) -> Assessment | None` and pure; assessment.RULES lists them
in safety order and the first that answers wins, so a rule may take for granted that
every rule before it passed (no standing red flag once past infection, a readable MRI
once past imaging).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cds_service.clinical import reasons as k
from cds_service.clinical import text_rules as tr
from cds_service.clinical.alcohol import weak_factor_reasons
from cds_service.clinical.anatomy import HEAD_NECK
from cds_service.clinical.decision_context import DecisionContext, on_hip_side
from cds_service.clinical.facts import ABSENT, POSSIBLE, ClinicalFacts, Finding, ImagingExam
from cds_service.clinical.modality import label as modality_label
from cds_service.clinical.outcome import Assessment, Outcome
from cds_service.clinical.reasons import Reason, day, finding_reason, unique, when
from cds_service.clinical.support import against_toh, for_toh
from cds_service.clinical.thresholds import Thresholds


def infection_not_excluded(facts: ClinicalFacts, c: DecisionContext) -> Assessment | None:
    """A red flag no test on record answered (exclusion.py): raised markers, fever,
    infection seen or doubted on imaging, infection on the problem list."""
    if not c.weighed.unanswered:
        return None
    found = list(c.weighed.unanswered) + [
        Reason(f"Immunosuppression: {r.label} ({r.detail})", (r.ref,), r.date, label=r.label,
               kind=k.IMMUNOSUPPRESSION, short=f"{r.label} ({r.detail})")
        for r in facts.immunosuppression] + c.blunted
    against = for_toh(facts, c.mri_current, c.side, c.t) + [
        replace(r, text=f"{r.text} (does not answer every red flag)") for r in c.weighed.answered]
    return Assessment(Outcome.INFECTION, c.side, tuple(found), tuple(against),
                      c.infection_missing, c.exam)


def imaging_needed(facts: ClinicalFacts, c: DecisionContext) -> Assessment | None:
    """No recent MRI of the ordered hip with a readable report."""
    if c.readable:
        return None
    other = [Reason(f"Other hip imaging: {modality_label(e.modality)} \"{e.description}\" "
                    f"on {when(e.date)} (not an MRI: radiographs stay normal for weeks in "
                    "TOH and AVN, a bone scan is not specific)", e.refs, e.date,
                    kind=k.OTHER_IMAGING,
                    short=f"{modality_label(e.modality)} {day(e.date)} (\"{e.description}\")")
             for e in c.recent if not e.is_mri]
    return Assessment(Outcome.IMAGING, c.side, tuple(other), (),
                      (_no_mri(c.mris, c.hip_exams, c.side, facts.now, c.t),) + c.missing,
                      c.exam, c.answered)


def avn_features(facts: ClinicalFacts, c: DecisionContext) -> Assessment | None:
    """AVN features on imaging, or an AVN risk factor on record."""
    avn_signs = [f for f in c.current if f.concept == tr.AVN and f.present]
    risks = facts.risk_factors
    if not (avn_signs or risks):
        return None
    found = [finding_reason(f, f"AVN feature on imaging: {f.term or 'AVN'}", kind=k.AVN_SIGN)
             for f in avn_signs]
    found += [Reason(f"AVN risk factor: {r.label} ({r.detail})", (r.ref,), r.date,
                     label=r.label, kind=k.RISK, short=f"{r.label}: {r.detail}")
              for r in risks] + weak_factor_reasons(facts.weak_risk_factors)
    against = [finding_reason(f, "Bone marrow edema also reported (fits TOH), but edema "
                              "alone does not exclude early AVN", kind=k.EDEMA_ON_RISK)
               for f in c.mri_current if f.concept in (tr.BME, tr.TOH) and f.present][:2]
    return Assessment(Outcome.AVN, c.side, tuple(unique(found)), tuple(unique(against)),
                      c.missing, c.exam, c.answered)


def other_lesion(facts: ClinicalFacts, c: DecisionContext) -> Assessment | None:
    """Another structural lesion: a fracture, a tumour or marrow infiltration."""
    lesions = _other_lesions(facts, c.current, c.side, c.t)
    if not lesions:
        return None
    return Assessment(Outcome.OTHER, c.side, tuple(unique(lesions)),
                      tuple(for_toh(facts, c.mri_current, c.side, c.t)), c.missing, c.exam,
                      c.answered)


def toh_suspected(facts: ClinicalFacts, c: DecisionContext) -> Assessment | None:
    """Edema of the femoral head or neck (or a TOH diagnosis) on a recent MRI."""
    edema = [f for f in c.mri_current
             if (f.concept == tr.BME and f.present and f.site in HEAD_NECK | {None})
             or (f.concept == tr.TOH and (f.present or f.state == POSSIBLE))]
    if not edema:
        return None
    return Assessment(Outcome.TOH, c.side, tuple(for_toh(facts, c.mri_current, c.side, c.t)
                                                 + c.normal),
                      tuple(against_toh(facts, c.current, c.side)
                            + weak_factor_reasons(facts.weak_risk_factors)),
                      c.missing, c.exam, c.answered)


def no_outcome(c: DecisionContext) -> Assessment:
    """A recent, readable MRI of the ordered hip shows none of the above: no card."""
    absent = [finding_reason(f, "Report states no bone marrow edema", kind=k.NO_EDEMA)
              for f in c.mri_current if f.concept in (tr.BME, tr.TOH) and f.state == ABSENT]
    return Assessment(None, c.side, (), tuple(absent), c.missing, c.exam, c.answered)


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
        if f.concept in (tr.SIF, tr.STRESS_FRACTURE) and f.present and on_hip_side(f, side):
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
    older = sorted(((e.date, e) for e in hip_exams if e.is_mri and e.date is not None),
                   key=lambda pair: pair[0])
    if older:
        taken, e = older[-1]
        age = (now - taken).days
        old = f"{age} days old" if age >= 0 else "dated in the future"
        return Reason(f"No MRI of the {hip} in the last {t.mri_max_age_days} days; latest hip "
                      f"MRI {when(e.date)}", e.refs, e.date, kind=k.MRI_OLD,
                      label=f"{old}, over the {t.mri_max_age_days}-day limit",
                      short=f"\"{e.description}\" is {old}; the limit is "
                      f"{t.mri_max_age_days} days (edema changes within weeks)")
    undated = [e for e in hip_exams if e.is_mri and not e.date]
    if undated:
        return Reason(f"No dated MRI of the {hip}: its recency cannot be judged", undated[0].refs,
                      label="undated, its age unknown", kind=k.MRI_OLD,
                      short=f"\"{undated[0].description}\" has no date, so its age cannot be "
                      "judged")
    return Reason(f"No MRI of the {hip} in the last {t.mri_max_age_days} days; no hip MRI on "
                  "record", kind=k.MRI_NONE, short=f"no MRI of the {hip} on record")
