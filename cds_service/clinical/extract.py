"""Build ClinicalFacts from a PatientRecord: the one entry point of the facts layer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cds_service.clinical import text_rules as tr
from cds_service.clinical.alcohol import alcohol_factors, alcohol_records
from cds_service.clinical.anatomy import sides_overlap
from cds_service.clinical.blunting import blunting
from cds_service.clinical.episodes import joint_episodes
from cds_service.clinical.extract_history import (
    classify_conditions,
    prior_procedures,
    steroid_exposures,
    with_recent_fever,
)
from cds_service.clinical.extract_imaging import imaging_exams
from cds_service.clinical.extract_labs import (
    demographics,
    lab_values,
    pregnancy,
    pregnancy_observations,
)
from cds_service.clinical.facts import ABSENT, POSSIBLE, ClinicalFacts, LabValue, PriorProcedure
from cds_service.clinical.fhir_values import ref
from cds_service.clinical.infection_tests import infection_tests
from cds_service.clinical.text_reader import TextReader, default_reader
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.caches import DerivedCache, computed_afresh
from cds_service.fhir.record import PatientRecord

Derive = Callable[..., Any]  # derive(compute, *args) -> compute(*args), perhaps kept


def collect_facts(record: PatientRecord, now: datetime, thresholds: Thresholds,
                  reader: TextReader | None = None,
                  derived: DerivedCache | None = None) -> ClinicalFacts:
    """Every fact the assessment and the migration check read, with its source.

    `reader` reads report text (default: the package's vocabulary); `derived` keeps what
    is computed from the record's data alone, keyed by what it was computed from (see
    fhir/caches.py), so a repeated call with the same chart reads it once."""
    derive: Derive = derived.over(record) if derived is not None else computed_afresh(record)
    reader = reader or default_reader()
    demo = demographics(record.patient, now)
    observations = record.of("Observation")
    condition_list = record.of("Condition")
    exams, loose = derive(imaging_exams, record, reader)
    conditions = with_recent_fever(derive(classify_conditions, condition_list),
                                   now - timedelta(days=thresholds.lab_max_age_days))
    medications = {ref(m): m for m in record.of("Medication")}
    steroids, steroid_notes = steroid_exposures(
        record.of("MedicationRequest"), record.of("MedicationStatement"),
        now - timedelta(days=thresholds.steroid_lookback_days), medications)
    sex = demo.sex if demo else None
    alcohol, weak_alcohol = alcohol_factors(
        derive(alcohol_records, observations, thresholds), sex, now, thresholds)
    labs = derive(_lab_values, observations)
    procedures = list(derive(_prior_procedures, record.of("Procedure")))
    known = {p.ref for p in procedures}
    for exam in exams:  # "post core decompression" in a report is a procedure too
        for f in exam.findings:
            coded = any(sides_overlap(p.side, f.side) and (p.date is None or f.date is None
                                                            or p.date <= f.date)
                        for p in procedures if not p.ref.startswith("DiagnosticReport/"))
            if f.concept == tr.CORE_DECOMPRESSION and f.state not in (ABSENT, POSSIBLE) \
                    and f.ref not in known and not coded:
                procedures.append(PriorProcedure(f"core decompression (report: \"{f.phrase}\")",
                                                 f.ref, f.date, f.side))
                known.add(f.ref)
    tests = derive(infection_tests, observations, record.of("DiagnosticReport"),
                   condition_list, exams, thresholds)
    blunted = blunting(record.of("MedicationRequest"), record.of("MedicationStatement"),
                       medications, condition_list, labs,
                       now - timedelta(days=thresholds.blunting_lookback_days),
                       thresholds.high_dose_steroid_mg_per_day)
    notes = [f"{lab.kind} {lab.as_reported} ({lab.ref}) not used: {lab.problem}"
             for lab in labs if not lab.usable]
    notes += steroid_notes
    notes += [f"{label}: invalid FHIR resource skipped" for label in record.skipped_invalid]
    return ClinicalFacts(
        now=now,
        demographics=demo,
        exams=exams,
        loose_findings=loose,
        condition_findings=tuple(conditions.findings),
        doubts=tuple(conditions.doubts),
        labs=labs,
        risk_factors=tuple(conditions.risk_factors + steroids + alcohol),
        weak_risk_factors=tuple(weak_alcohol),
        immunosuppression=tuple(conditions.immunosuppression + steroids),
        pregnancy=pregnancy(observations, conditions.postpartum,
                            derive(pregnancy_observations, observations)),
        episodes=joint_episodes(exams, conditions.toh_conditions),
        procedures=tuple(procedures),
        osteoporosis_refs=tuple(conditions.osteoporosis_refs),
        infection_tests=tests,
        blunting=tuple(blunted),
        notes=tuple(notes),
    )


def _lab_values(observations: list[Any]) -> tuple[LabValue, ...]:
    return tuple(lab_values(observations))


def _prior_procedures(procedures: list[Any]) -> tuple[PriorProcedure, ...]:
    return tuple(prior_procedures(procedures))
