"""What argues for and against transient osteoporosis of the hip (clinical.md).

For: diffuse femoral head/neck edema, a named TOH/BMES, AVN signs explicitly absent,
effusion, a middle-aged man or late pregnancy/postpartum, a resolved episode in another
joint. Against: AVN raised as a possibility, focal edema, a fracture line, a thin
subchondral line (not AVN by itself), doubts on the problem list, a prior decompression.
"""

from __future__ import annotations

from cds_service.clinical import reasons as k
from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import HEAD_NECK, sides_overlap
from cds_service.clinical.episodes import joint_label
from cds_service.clinical.facts import ABSENT, POSSIBLE, ClinicalFacts, Finding
from cds_service.clinical.reasons import Reason, day, finding_reason, unique, when
from cds_service.clinical.thresholds import Thresholds

TYPICAL_MALE_AGE = (30, 55)  # clinical.md: often a man of 30-55
THIRD_TRIMESTER_WEEKS = 28


def for_toh(facts: ClinicalFacts, current: list[Finding], side: str | None,
            t: Thresholds) -> list[Reason]:
    """Findings and context that fit transient osteoporosis."""
    out: list[Reason] = []
    for f in current:
        if f.concept == tr.BME and f.present and f.site in HEAD_NECK | {None}:
            kind = "Diffuse bone marrow edema" if f.diffuse else "Bone marrow edema"
            out.append(finding_reason(f, f"{kind} on MRI", kind=k.EDEMA, short=kind.lower()))
        elif f.concept == tr.TOH and (f.present or f.state == POSSIBLE):
            doubt = f.state == POSSIBLE
            out.append(finding_reason(
                f, "Report names transient osteoporosis / bone marrow edema syndrome"
                + (" as a possibility" if doubt else ""), kind=k.TOH_NAMED,
                short="transient osteoporosis raised as a possibility" if doubt else
                "read as transient osteoporosis"))
        elif f.concept == tr.AVN and f.state == ABSENT:
            out.append(finding_reason(f, "Report states AVN features are absent",
                                      kind=k.AVN_ABSENT))
        elif f.concept == tr.EFFUSION and f.present:
            out.append(finding_reason(f, "Joint effusion (often seen with TOH)",
                                      kind=k.EFFUSION, short="effusion"))
    demo = facts.demographics
    if demo and demo.sex == "male" and demo.age is not None and \
            TYPICAL_MALE_AGE[0] <= demo.age <= TYPICAL_MALE_AGE[1]:
        out.append(Reason(f"Man aged {demo.age}: the group most often affected "
                          "(male:female about 3:1)", (demo.ref,), kind=k.CONTEXT,
                          short=f"man of {demo.age}, typical for TOH"))
    preg = facts.pregnancy
    if preg and preg.pregnant:
        weeks = f" at {preg.gestational_weeks:g} weeks" if preg.gestational_weeks else ""
        late = preg.gestational_weeks and preg.gestational_weeks >= THIRD_TRIMESTER_WEEKS
        out.append(Reason(f"Pregnant{weeks}{' (third trimester)' if late else ''}: TOH occurs "
                          "late in pregnancy; unprotected loading risks a femoral neck fracture",
                          preg.refs, preg.date, label=f"pregnant{weeks}", kind=k.PREGNANCY,
                          short=f"pregnant{weeks}: loading risks a femoral neck fracture"))
    elif preg and preg.postpartum:
        out.append(Reason("Postpartum: TOH occurs late in pregnancy and just after delivery",
                          preg.refs, preg.date, label="postpartum", kind=k.PREGNANCY,
                          short="postpartum, when TOH occurs"))
    for e in facts.episodes:
        other = e.joint != "hip" or (e.side and side and not sides_overlap(e.side, side))
        recent = e.start and (facts.now - e.start).days <= t.migration_window_days
        if other and e.transient and recent:
            out.append(Reason(f"Earlier bone marrow edema in the {joint_label(e)} "
                              f"({when(e.start)}) that {'resolved' if e.closed else 'improved'}"
                              f" by {when(e.resolved_on)}: migratory pattern (TMO/RMO)",
                              e.refs, e.start, e.phrase, kind=k.MIGRATION,
                              short=f"earlier {joint_label(e)} edema ({day(e.start)}), "
                                    f"{'resolved' if e.closed else 'improved'}: "
                                    "migratory pattern"))
    if not facts.risk_factors and not facts.weak_risk_factors:
        out.append(Reason("No AVN risk factor found (problem list, systemic corticosteroids, "
                          "AUDIT-C)", kind=k.NO_RISK,
                          short="none on record (problem list, steroids, AUDIT-C)"))
    return unique(out)


def against_toh(facts: ClinicalFacts, current: list[Finding], side: str | None
                ) -> list[Reason]:
    """What argues against certainty, even when TOH is the best reading."""
    out: list[Reason] = []
    for f in current:
        if f.concept == tr.AVN and f.state == POSSIBLE:
            out.append(finding_reason(f, "Report does not exclude AVN", kind=k.CAUTION,
                                      short="the report does not exclude AVN"))
        elif f.concept == tr.BME and f.present and f.focal and not f.diffuse:
            out.append(finding_reason(f, "Edema described as focal or demarcated (TOH edema "
                                      "is diffuse)", kind=k.CAUTION,
                                      short="focal edema (TOH edema is diffuse)"))
        elif f.concept == tr.SUBCHONDRAL_FRACTURE and f.present:
            out.append(finding_reason(f, "Subchondral fracture line: reported with TOH in a "
                                      "middle-aged man (seed case 2), follow it on the repeat "
                                      "MRI", kind=k.CAUTION, short="a subchondral fracture "
                                      "line: follow it on the repeat MRI"))
        elif f.concept == tr.THIN_LINE and f.present:
            out.append(finding_reason(f, "Thin subchondral line: seen in about half of TOH cases "
                                      "and not AVN by itself; follow it on the repeat MRI",
                                      kind=k.CAUTION, short="a thin subchondral line (not AVN "
                                      "by itself): follow it on the repeat MRI"))
        elif f.concept in (tr.SIF, tr.STRESS_FRACTURE) and f.state == POSSIBLE:
            out.append(finding_reason(f, "Report raises a possible fracture", kind=k.CAUTION,
                                      short="a possible fracture"))
    for d in facts.doubts:
        out.append(finding_reason(d, f"Suspected diagnosis on record: {d.concept}",
                                  kind=k.CAUTION, short=f"{d.term or d.concept} suspected on "
                                  f"the problem list ({day(d.date)})"))
    for p in facts.procedures:
        if sides_overlap(p.side, side):
            out.append(Reason(f"Prior core decompression: {p.label}, {when(p.date)}", (p.ref,),
                              p.date, kind=k.CAUTION,
                              short=f"a prior core decompression ({day(p.date)})"))
    return unique(out)
