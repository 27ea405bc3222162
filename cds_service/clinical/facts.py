"""Clinical facts drawn from a patient's FHIR record.

Every fact keeps the "Type/id" of the resource it came from and its date, because every
card must say what it rests on. The extract_* modules build these; assessment.py reads
only these (never FHIR models), so rules are testable with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cds_service.clinical.anatomy import joint_of
from cds_service.clinical.text_reader import Mention

PRESENT, IMPROVING, POSSIBLE, ABSENT, RESOLVED, HISTORICAL, INDICATION = (
    "present", "improving", "possible", "absent", "resolved", "historical", "indication")


def state_of(mention: Mention) -> str:
    """One state per mention; the order decides which qualifier wins."""
    if mention.in_indication:
        return INDICATION
    if mention.negated:
        return ABSENT
    if mention.resolved:
        return RESOLVED
    if mention.uncertain:
        return POSSIBLE
    if mention.historical or mention.hypothetical:
        return HISTORICAL
    if mention.improving:
        return IMPROVING
    return PRESENT


@dataclass(frozen=True)
class Finding:
    """A finding stated in one source: report text, coded Observation or Condition."""

    concept: str  # a text_rules concept (BME, TOH, AVN, SIF, INFECTION...) or FEVER
    state: str  # PRESENT, IMPROVING, POSSIBLE, ABSENT, RESOLVED, HISTORICAL, INDICATION
    phrase: str  # the sentence or code display that was read
    ref: str
    date: datetime | None
    site: str | None = None
    side: str | None = None
    diffuse: bool = False
    focal: bool = False
    term: str = ""  # the words matched ("double-line sign") or the code display

    @property
    def present(self) -> bool:
        return self.state in (PRESENT, IMPROVING)

    @property
    def joint(self) -> str | None:
        return joint_of(self.site)


@dataclass(frozen=True)
class ImagingExam:
    """One imaging examination: the study, its report(s) and linked finding Observations."""

    description: str
    date: datetime | None
    modality: str | None  # DICOM code: MR, CT, CR/DX, NM, PT, US, BMD; None when not known
    site: str | None
    side: str | None
    study_ref: str | None = None
    report_refs: tuple[str, ...] = ()
    observation_refs: tuple[str, ...] = ()
    readable: bool = False  # a report with text or codes, or coded findings
    findings: tuple[Finding, ...] = ()
    normal: str = ""  # the sentence calling the exam normal ("Normal MRI of the left knee")

    @property
    def is_mri(self) -> bool:
        return self.modality == "MR"

    @property
    def refs(self) -> tuple[str, ...]:
        head = (self.study_ref,) if self.study_ref else ()
        return head + self.report_refs + self.observation_refs

    @property
    def joint(self) -> str | None:
        return joint_of(self.site)


@dataclass(frozen=True)
class LabValue:
    """A lab or vital sign converted to one unit; `problem` says why it is not usable."""

    kind: str  # "CRP", "ESR", "WBC", "Temperature"
    value: float | None
    unit: str  # the unit `value` is expressed in
    as_reported: str  # value and unit as sent ("1.4 mg/dL")
    ref: str
    date: datetime | None
    problem: str | None = None
    converted: bool = False  # value is not in the unit it was reported in
    # The lab's own judgement, when sent: reference range limits (in `unit`), the range as
    # reported ("<= 5 mg/L"), and its interpretation flag (H, HH, HU, L, LL, LU, N, A, AA).
    low: float | None = None
    high: float | None = None
    range_text: str = ""
    interpretation: str | None = None

    @property
    def usable(self) -> bool:
        return self.value is not None and self.problem is None


@dataclass(frozen=True)
class InfectionTest:
    """A test that looked for joint or bone infection, and what it found.

    `excludes` True: reported free of infection (no growth, a low synovial count, a PET or
    labelled scan without infection, infection refuted on the problem list); False: it
    found infection (organisms grown or seen, a septic-range synovial count)."""

    test: str  # what a clinician calls it: "synovial fluid culture", "PET \"PET-CT\""
    excludes: bool
    detail: str  # the result in a few words ("no growth", "1200 /uL")
    ref: str
    date: datetime | None
    joint: str | None = None  # joint the test looked at ("hip"); None: not named
    side: str | None = None
    quote: str | None = None  # the sentence read, when from text
    final: bool = True  # a preliminary result does not exclude anything yet


@dataclass(frozen=True)
class RiskFactor:
    """An AVN risk factor (clinical.md), e.g. systemic corticosteroids or sickle cell."""

    label: str
    detail: str
    ref: str
    date: datetime | None
    kind: str = "condition"  # "condition" | "steroid" | "alcohol" | "blunting"
    site: str | None = None
    side: str | None = None


@dataclass(frozen=True)
class Pregnancy:
    """Pregnancy or postpartum state: supports TOH, and raises the fracture risk."""

    pregnant: bool
    postpartum: bool
    gestational_weeks: float | None
    refs: tuple[str, ...]
    date: datetime | None


@dataclass(frozen=True)
class Demographics:
    age: int | None
    sex: str | None
    ref: str


@dataclass(frozen=True)
class JointEpisode:
    """Bone marrow edema in one joint over time, and whether it went away."""

    joint: str
    side: str | None
    start: datetime | None
    refs: tuple[str, ...]
    phrase: str
    transient: bool = False  # resolved or improving on later evidence
    closed: bool = False  # resolved (not merely improving)
    resolved_on: datetime | None = None  # date of the resolution or improvement evidence
    resolution_phrase: str = ""


@dataclass(frozen=True)
class PriorProcedure:
    label: str
    ref: str
    date: datetime | None
    side: str | None = None


@dataclass(frozen=True)
class ClinicalFacts:
    """Everything the assessment reads about one patient."""

    now: datetime
    demographics: Demographics | None = None
    exams: tuple[ImagingExam, ...] = ()
    loose_findings: tuple[Finding, ...] = ()  # imaging Observations not linked to an exam
    condition_findings: tuple[Finding, ...] = ()  # infection, fever, fracture, TOH Conditions
    doubts: tuple[Finding, ...] = ()  # suspected/provisional diagnoses (e.g. "suspected AVN")
    labs: tuple[LabValue, ...] = ()
    risk_factors: tuple[RiskFactor, ...] = ()
    # named on the card, never enough alone to set TOH aside (a positive alcohol screen)
    weak_risk_factors: tuple[RiskFactor, ...] = ()
    immunosuppression: tuple[RiskFactor, ...] = ()
    pregnancy: Pregnancy | None = None
    episodes: tuple[JointEpisode, ...] = ()
    procedures: tuple[PriorProcedure, ...] = ()
    osteoporosis_refs: tuple[str, ...] = ()
    infection_tests: tuple[InfectionTest, ...] = ()  # aspirates, PET/labelled scans...
    blunting: tuple[RiskFactor, ...] = ()  # why normal CRP/ESR/fever cannot reassure
    notes: tuple[str, ...] = field(default=())  # data that could not be used, and why
