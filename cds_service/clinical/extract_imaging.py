"""Imaging exams from ImagingStudy, DiagnosticReport and imaging-finding Observations.

A report belongs to a study through `DiagnosticReport.imagingStudy`, else by date (within
3 days) and a compatible site and side; a finding Observation through
`DiagnosticReport.result`, `derivedFrom`/`partOf` the study, else by date and site. A
report with no study is an exam of its own (many EHRs send reports only). The modality
comes from codes, or from the report's own technique (modality.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical import modality as mod
from cds_service.clinical.anatomy import (
    joint_of,
    nearest_site,
    same_region,
    side_of_codings,
    side_of_text,
    sides_overlap,
    site_of_codings,
)
from cds_service.clinical.coded import coded_concepts
from cds_service.clinical.facts import ABSENT, PRESENT, Finding, ImagingExam, state_of
from cds_service.clinical.fhir_values import (
    attachment_text,
    codings,
    first_date,
    has_code,
    label_of,
    ref,
    reference_id,
    text_of,
)
from cds_service.clinical.normal_exam import normal_statement
from cds_service.clinical.text_reader import Reading, TextReader, default_reader

LINK_WINDOW = timedelta(days=3)
_INACTIVE = {"entered-in-error", "cancelled"}
# Imaging words: enough to read a report as imaging (its findings count, an infection
# among them), never to call it an MRI (modality.py decides that).
_MR_WORDS = re.compile(r"\b(mri?|magnetic resonance|stir|t1|t2|fat[- ]?sat\w*)\b",
                       re.IGNORECASE)
_IMAGING = re.compile(
    r"\b(mri?|magnetic resonance|x-?ray|radiograph\w*|ct|computed tomography|scan|"
    r"scintigra\w*|ultrasound|sonograph\w*|imaging|radiology|pet)\b", re.IGNORECASE)
_IMAGING_CATEGORY = {"RAD", "IMG", "LP29684-5", "imaging", "18748-4"}


@dataclass
class _Draft:
    description: str
    date: datetime | None
    modality: str | None  # DICOM code (modality.py); None: not known
    site: str | None
    side: str | None
    study_ref: str | None = None
    report_refs: list[str] = field(default_factory=list)
    observation_refs: list[str] = field(default_factory=list)
    texts: list[tuple[str, datetime | None, str]] = field(default_factory=list)
    coded: list[Finding] = field(default_factory=list)


def imaging_exams(record: Any, reader: TextReader | None = None
                  ) -> tuple[tuple[ImagingExam, ...], tuple[Finding, ...]]:
    """All imaging exams of the record, and finding Observations that fit no exam; report
    text is read by `reader` (default: the package's vocabulary)."""
    read = (reader or default_reader()).read
    drafts = [_from_study(s) for s in record.of("ImagingStudy") if s.status not in _INACTIVE]
    by_study = {d.study_ref: d for d in drafts}
    by_report: dict[str, _Draft] = {}
    for report in record.of("DiagnosticReport"):
        if report.status in _INACTIVE:
            continue
        linked = [by_study[r] for r in map(reference_id, report.imagingStudy or ())
                  if r in by_study]
        parts = _report_parts(report)
        text = "\n".join(parts)
        modality = _report_modality(report, parts)
        if not linked and not _is_imaging_report(report, text, modality):
            continue
        draft = linked[0] if linked else _match(
            [d for d in drafts if d.study_ref and not d.report_refs],
            *_report_place(report, text), modality=modality)
        if draft is None:
            draft = _Draft(text_of(report.code) or "Imaging report", _report_date(report),
                           modality, *_report_place(report, text)[1:])
            drafts.append(draft)
        _add_report(draft, report, text, modality)
        by_report[ref(report)] = draft
        for result in report.result or ():
            if reference_id(result):
                by_report[reference_id(result)] = draft
    loose: list[Finding] = []
    for obs in record.of("Observation"):
        if obs.status in _INACTIVE or not _is_imaging_obs(obs, by_report):
            continue
        findings = observation_findings(obs, read)
        draft = by_report.get(ref(obs)) or _linked(obs, {**by_study, **by_report}) or _match(
            drafts, _obs_date(obs), *_obs_place(obs))
        if draft is None:
            loose.extend(findings)
        else:
            draft.observation_refs.append(ref(obs))
            draft.coded.extend(findings)
    return tuple(_finish(d, read) for d in drafts), tuple(loose)


def _from_study(study: Any) -> _Draft:
    modalities = {code for _, code, _ in codings(study.modality)}
    site_codes, side_codes, texts = [], [], [study.description or ""]
    for series in study.series or ():
        if series.modality and series.modality.code:
            modalities.add(series.modality.code)
        site_codes += codings(series.bodySite)
        side_codes += codings(series.laterality, series.bodySite)
        texts.append(series.description or "")
    texts.append(text_of(study.procedureCode))
    joined = " ".join(t for t in texts if t)
    title = study.description or label_of(next(iter(study.procedureCode or ()), None))
    site = site_of_codings(site_codes) or nearest_site(joined)
    side = side_of_codings(side_codes) or side_of_text(joined)
    started = first_date(study.started, *(s.started for s in study.series or ()))
    return _Draft(title or "Imaging study", started, mod.first_modality(modalities), site,
                  side, study_ref=ref(study))


def _report_parts(report: Any) -> list[str]:
    """Conclusion and attached reports, the conclusion left out when a report already
    holds it word for word (its impression section): the same sentences need not be read
    twice."""
    attached = [t for t in (attachment_text(a) for a in report.presentedForm or ()) if t]
    conclusion = report.conclusion or ""
    if conclusion.strip() and attached:
        words = " ".join(conclusion.split())
        if any(words in " ".join(t.split()) for t in attached):
            conclusion = ""
    return [p for p in [conclusion, *attached] if p.strip()]


def _report_modality(report: Any, parts: list[str]) -> str | None:
    """Codes first (LOINC code, code words, category), then the report's own technique."""
    return (mod.of_codes(codings(report.code), codings(report.category))
            or mod.of_text(parts))


def _report_date(report: Any) -> datetime | None:
    period = report.effectivePeriod.start if report.effectivePeriod else None
    return first_date(report.effectiveDateTime, period, report.issued)


def _report_place(report: Any, text: str) -> tuple[datetime | None, str | None, str | None]:
    label = text_of(report.code)
    site = nearest_site(label) or (nearest_site(text) if text else None)
    return _report_date(report), site, side_of_text(label)


def _is_imaging_report(report: Any, text: str, modality: str | None) -> bool:
    """Imaging by category, code or stated technique; a laboratory report (microbiology,
    pathology...) is not, whatever its text mentions."""
    category = {code for _, code, _ in codings(report.category)} | {
        t for _, _, t in codings(report.category) if t}
    if category & _IMAGING_CATEGORY or modality:
        return True
    if category & set(c.LAB_CATEGORIES):
        return False
    return bool(_IMAGING.search(text_of(report.code)) or _MR_WORDS.search(text[:400]))


def _add_report(draft: _Draft, report: Any, text: str, modality: str | None) -> None:
    draft.report_refs.append(ref(report))
    date = _report_date(report) or draft.date
    draft.date = draft.date or date
    label = text_of(report.code)
    draft.modality = draft.modality or modality  # a study's DICOM code comes first
    if draft.site is None:
        draft.site = nearest_site(label) or (nearest_site(text) if text else None)
    if draft.side is None:
        draft.side = side_of_text(label)
    if text:
        draft.texts.append((ref(report), date, text))
    for concept, display in coded_concepts(codings(report.conclusionCode)):
        draft.coded.append(Finding(concept, PRESENT, display, ref(report), date, term=display))
    if report.conclusionCode and not text:
        draft.texts.append((ref(report), date, ""))  # codes alone make a report readable


def _match(drafts: list[_Draft], date: datetime | None, site: str | None,
           side: str | None, modality: str | None = None) -> _Draft | None:
    """The exam closest in time (within 3 days) at a compatible site, side and modality
    (a radiograph's report does not belong to the MRI of the same day)."""
    if date is None:
        return None
    best: tuple[timedelta, _Draft] | None = None
    for d in drafts:
        if d.date is None or abs(d.date - date) > LINK_WINDOW:
            continue
        if not mod.same_kind(modality, d.modality):
            continue
        if site and d.site and joint_of(site) != joint_of(d.site) and "pelvis" not in (
                joint_of(site), joint_of(d.site)):
            continue
        if not sides_overlap(side, d.side):
            continue
        gap = abs(d.date - date)
        if best is None or gap < best[0]:
            best = (gap, d)
    return best[1] if best else None


def _is_imaging_obs(obs: Any, by_report: dict[str, _Draft]) -> bool:
    category = {code for _, code, _ in codings(obs.category)}
    return "imaging" in category or ref(obs) in by_report or any(
        (reference_id(r) or "").startswith(("ImagingStudy/", "DiagnosticReport/"))
        for r in (obs.derivedFrom or []) + (obs.partOf or []))


def _linked(obs: Any, drafts: dict[str, _Draft]) -> _Draft | None:
    """The exam of the study or report this Observation is derived from or part of."""
    for r in (obs.derivedFrom or []) + (obs.partOf or []):
        if reference_id(r) in drafts:
            return drafts[reference_id(r)]
    return None


def _obs_date(obs: Any) -> datetime | None:
    period = obs.effectivePeriod.start if obs.effectivePeriod else None
    return first_date(obs.effectiveDateTime, period, obs.effectiveInstant, obs.issued)


def _obs_place(obs: Any) -> tuple[str | None, str | None]:
    return site_of_codings(codings(obs.bodySite)), side_of_codings(codings(obs.bodySite))


def observation_findings(obs: Any, read: Callable[[str], Reading]) -> list[Finding]:
    """Findings of one imaging Observation: its codes, then its text read in context."""
    date, (site, side) = _obs_date(obs), _obs_place(obs)
    denied = obs.valueBoolean is False or bool(has_code(obs.valueCodeableConcept, c.SNOMED,
                                                        c.SNOMED_ABSENT))
    state = ABSENT if denied else PRESENT
    out = [Finding(concept, state, display, ref(obs), date, site, side, term=display)
           for concept, display in coded_concepts(codings(obs.code, obs.valueCodeableConcept))]
    text = ". ".join(t for t in (text_of(obs.code), obs.valueString,
                                 text_of(obs.valueCodeableConcept),
                                 *(n.text for n in obs.note or ())) if t)
    for m in read(text).mentions:
        out.append(Finding(m.concept, ABSENT if denied else state_of(m), m.sentence, ref(obs),
                           date, m.site or site, m.side or side, m.diffuse, m.focal, m.phrase))
    return out


def _finish(d: _Draft, read: Callable[[str], Reading]) -> ImagingExam:
    mentions = [(r, date, m) for r, date, text in d.texts
                for m in read(text).mentions]
    side = d.side
    if side is None:
        sides = {m.side for _, _, m in mentions if m.side and m.concept != "CORE_DECOMPRESSION"}
        side = "bilateral" if "bilateral" in sides or len(sides) > 1 else next(iter(sides), None)
    site = d.site or next((m.site for _, _, m in mentions if m.site), None)
    findings = [
        Finding(m.concept, state_of(m), m.sentence, r, date or d.date, m.site or site,
                m.side or (side if m.site is None or same_region(joint_of(m.site), joint_of(site))
                           else None),
                m.diffuse, m.focal, m.phrase)
        for r, date, m in mentions
    ]
    findings += [replace(f, site=f.site or site, side=f.side or side) for f in d.coded]
    return ImagingExam(
        description=d.description, date=d.date, modality=d.modality, site=site, side=side,
        study_ref=d.study_ref, report_refs=tuple(d.report_refs),
        observation_refs=tuple(d.observation_refs),
        readable=bool(d.texts or d.coded), findings=tuple(findings),
        normal=next((n for _, _, text in d.texts if (n := normal_statement(text))), ""))
