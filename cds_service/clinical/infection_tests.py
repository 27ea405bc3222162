"""Tests on record that looked for joint or bone infection, and what they found.

Why: infection must be excluded first (clinical.md), and the record can show that it was:
the third seed case had CRP 140.5 and went on to surgery-free care only after a PET-CT
ruled infection out. Read here: a joint aspirate's culture and Gram stain (coded
Observations, or a microbiology report's text), the synovial white count, a PET or
nuclear-medicine scan (labelled leucocyte, bone or marrow scan) whose report finds no
infection, and an infection Condition a clinician marked refuted. assessment.py decides
which of them count against which red flag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical import text_rules as tr
from cds_service.clinical.anatomy import (
    joint_of,
    nearest_site,
    side_of_codings,
    side_of_text,
    site_of_codings,
)
from cds_service.clinical.coded import coded_concepts
from cds_service.clinical.extract_history import _INFECTION as INFECTION_TEXT
from cds_service.clinical.facts import ABSENT, POSSIBLE, ImagingExam, InfectionTest
from cds_service.clinical.fhir_values import (
    attachment_text,
    codings,
    first_date,
    has_code,
    label_of,
    ref,
    text_of,
)
from cds_service.clinical.modality import label as modality_label
from cds_service.clinical.thresholds import Thresholds

_FINAL = {"final", "amended", "corrected", "appended"}
_INACTIVE = {"entered-in-error", "cancelled", "registered"}
_NEGATIVE = re.compile(
    r"\b(no\s+growth|no\s+(organisms?|bacteria|micro-?organisms?)(\s+(were|was))?\s+"
    r"(seen|identified|isolated|detected|grown|cultured)|culture\s+(is\s+)?negative|"
    r"negative\s+culture|sterile|not\s+isolated|not\s+detected)\b", re.IGNORECASE)
_POSITIVE = re.compile(
    r"\b(growth\s+of|grew|isolated|cultured|organisms?\s+(seen|identified)|"
    r"gram[- ](positive|negative|variable)\s+\w+|(cocci|bacilli|rods)\b|staphylococc\w*|"
    r"streptococc\w*|mrsa|mssa|e\.?\s?coli|escherichia|pseudomonas|klebsiella|"
    r"enterococc\w*|kingella|neisseria|gonococc\w*|mycobacteri\w*|acid[- ]fast\s+bacilli|"
    r"candida)\b", re.IGNORECASE)
_JOINT_FLUID = re.compile(r"\b(synovial|joint\s+fluid|aspirat\w*|arthrocentesis)\b",
                          re.IGNORECASE)
_MICRO = re.compile(r"\b(culture|gram|microbiolog\w*|fluid\s+analysis|cell\s+count)\b",
                    re.IGNORECASE)
# "does not rule out infection" must never read as an exclusion, whatever the reader says.
_DOUBT = re.compile(r"\b(not|n't|cannot|unable\s+to|without)\b[^.;]*\b(rul\w*\s+out|"
                    r"exclud\w*)\b", re.IGNORECASE)
_SCANS = ("PT", "NM")  # PET and nuclear-medicine (labelled leucocyte, bone, marrow) scans
_WBC_FACTORS = {"/uL": 1.0, "/ul": 1.0, "/mm3": 1.0, "{cells}/uL": 1.0, "{cells}/ul": 1.0,
                "10*6/L": 1.0, "10*3/uL": 1000.0, "10*3/ul": 1000.0, "10*9/L": 1000.0}
_NO_GROWTH_SNOMED = ("264868006", "260415000", "264887000")  # no growth, not detected, not isolated


def infection_tests(observations: Iterable[Any], reports: Iterable[Any],
                    conditions: Iterable[Any], exams: Iterable[ImagingExam],
                    t: Thresholds) -> tuple[InfectionTest, ...]:
    """Every infection test on record, newest first."""
    out: list[InfectionTest] = []
    for obs in observations:
        if obs.status in _INACTIVE:
            continue
        if has_code(obs.code, c.LOINC, c.SYNOVIAL_CULTURE):
            out += _culture(obs)
        if has_code(obs.code, c.LOINC, c.SYNOVIAL_WBC):
            out += _synovial_count(obs, t)
    for report in reports:
        if report.status not in _INACTIVE:
            out += _fluid_report(report)
    for cond in conditions:
        out += _refuted(cond)
    for exam in exams:
        out += _scan(exam)
    return tuple(sorted(out, key=lambda x: x.date.timestamp() if x.date else 0.0, reverse=True))


def _obs_date(obs: Any):
    period = obs.effectivePeriod.start if obs.effectivePeriod else None
    return first_date(obs.effectiveDateTime, period, obs.effectiveInstant, obs.issued)


def _place(concepts: list, text: str) -> tuple[str | None, str | None]:
    """(joint, side) from bodySite codings, else the words."""
    site = site_of_codings(concepts) or nearest_site(text)
    joint = joint_of(site)
    return ("hip" if joint == "pelvis" else joint), side_of_codings(concepts) or side_of_text(text)


def _result_of_text(text: str) -> bool | None:
    """True: no infection found; False: organisms found; None: the text does not say."""
    positive = _POSITIVE.search(_NEGATIVE.sub(" ", text))
    if positive:
        return False
    return True if _NEGATIVE.search(text) else None


def _culture(obs: Any) -> list[InfectionTest]:
    value = obs.valueCodeableConcept
    words = " ".join(p for p in (obs.valueString, text_of(value),
                                 *(n.text for n in obs.note or ())) if p)
    if has_code(value, c.SNOMED, _NO_GROWTH_SNOMED):
        result: bool | None = True
    elif value is not None and any(s == c.SNOMED for s, _, _ in codings(value)):
        result = False  # a coded organism
    else:
        result = _result_of_text(words)
    if result is None:
        return []
    joint, side = _place(codings(obs.bodySite), f"{text_of(obs.code)} {words}")
    detail = words or ("no growth" if result else "organisms grown")
    return [InfectionTest("synovial fluid culture", result, detail, ref(obs), _obs_date(obs),
                          joint, side, final=obs.status in _FINAL)]


def _synovial_count(obs: Any, t: Thresholds) -> list[InfectionTest]:
    q = obs.valueQuantity
    unit = q.code if q is not None and q.system in (c.UCUM, None) else None
    if q is None or q.value is None or unit not in _WBC_FACTORS:
        return []
    count = float(q.value) * _WBC_FACTORS[unit]
    if t.synovial_wbc_exclusion_per_ul <= count < t.synovial_wbc_septic_per_ul:
        return []  # inflammatory range: neither excludes nor proves infection
    excludes = count < t.synovial_wbc_exclusion_per_ul
    joint, side = _place(codings(obs.bodySite), " ".join(
        [text_of(obs.code), *(n.text for n in obs.note or ())]))
    limit = (f"below {t.synovial_wbc_exclusion_per_ul:g} /uL, non-inflammatory" if excludes
             else f"at or above {t.synovial_wbc_septic_per_ul:g} /uL, septic range")
    return [InfectionTest("synovial white cell count", excludes,
                          f"{count:g} /uL ({limit})", ref(obs), _obs_date(obs), joint, side,
                          final=obs.status in _FINAL)]


def _fluid_report(report: Any) -> list[InfectionTest]:
    """A microbiology or fluid report of a joint aspirate, read by its words."""
    title = text_of(report.code)
    parts = [report.conclusion or ""] + [t for t in (attachment_text(a) for a in
                                                     report.presentedForm or ()) if t]
    text = "\n".join(p for p in parts if p.strip())
    category = {code for _, code, _ in codings(report.category)}
    culture = has_code(report.code, c.LOINC, c.SYNOVIAL_CULTURE)
    micro = culture or category & {"MB", "MCB", "LAB"} or _MICRO.search(title)
    if not (micro and (culture or _JOINT_FLUID.search(f"{title} {text}"))):
        return []
    result = _result_of_text(text)
    if result is None:
        return []
    period = report.effectivePeriod.start if report.effectivePeriod else None
    joint, side = _place([], f"{title} {text}")
    sentence = next((s.strip() for s in re.split(r"(?<=[.;\n])", text)
                     if (_NEGATIVE if result else _POSITIVE).search(s)), text[:200])
    return [InfectionTest(f"joint aspirate ({label_of(report.code) or 'microbiology'})", result,
                          "no organisms, no growth" if result else "organisms found",
                          ref(report), first_date(report.effectiveDateTime, period,
                                                  report.issued),
                          joint, side, quote=sentence, final=report.status in _FINAL)]


def _refuted(cond: Any) -> list[InfectionTest]:
    """An infection Condition marked refuted: a clinician's record that it was excluded."""
    status = {code for _, code, _ in codings(cond.verificationStatus)}
    if "refuted" not in status:
        return []
    concepts = {concept for concept, _ in coded_concepts(codings(cond.code))}
    if tr.INFECTION not in concepts and not INFECTION_TEXT.search(text_of(cond.code)):
        return []
    joint, side = _place(codings(cond.bodySite), text_of(cond.code))
    date = first_date(cond.recordedDate, cond.onsetDateTime)
    return [InfectionTest("infection refuted on the problem list", True,
                          f"{label_of(cond.code)} (verification status refuted)", ref(cond),
                          date, joint, side)]


def _scan(exam: ImagingExam) -> list[InfectionTest]:
    """A PET or nuclear-medicine scan whose report finds no infection at the hip (and
    raises none anywhere it looked)."""
    if exam.modality not in _SCANS or not exam.readable:
        return []
    infection = [f for f in exam.findings if f.concept == tr.INFECTION]
    if any(f.present or f.state == POSSIBLE for f in infection):
        return []
    exam_joint = joint_of(exam.site)
    if exam_joint not in ("hip", "pelvis", None):
        return []
    denied = [f for f in infection if f.state == ABSENT and f.joint in ("hip", "pelvis", None)
              and not _DOUBT.search(f.phrase)]
    if not denied:
        return []
    f = denied[0]
    return [InfectionTest(f"{modality_label(exam.modality)} \"{exam.description}\"", True,
                          "reported free of infection", f.ref, f.date or exam.date, "hip",
                          f.side or exam.side, quote=f.phrase)]
