"""Build ClinicalFacts from a PatientRecord: the one entry point of the facts layer."""

from __future__ import annotations

from datetime import datetime, timedelta

from cds_service.clinical import text_rules as tr
from cds_service.clinical.alcohol import alcohol_factors, alcohol_records
from cds_service.clinical.anatomy import sides_overlap
from cds_service.clinical.blunting import blunting
from cds_service.clinical.episodes import joint_episodes
from cds_service.clinical.extract_history import (
    classify_conditions, prior_procedures, steroid_exposures, with_recent_fever)
from cds_service.clinical.extract_imaging import imaging_exams
from cds_service.clinical.extract_labs import (
    demographics, lab_values, pregnancy, pregnancy_observations)
from cds_service.clinical.facts import ABSENT, POSSIBLE, ClinicalFacts, PriorProcedure
from cds_service.clinical.infection_tests import infection_tests
from cds_service.clinical.fhir_values import ref
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import PatientRecord


def collect_facts(record: PatientRecord, now: datetime, thresholds: Thresholds) -> ClinicalFacts:
    """Every fact the assessment and the migration check read, with its source."""
    demo = demographics(record.patient, now)
    observations = record.of("Observation")
    # What depends on the record alone is kept on it: a repeated order-select sends the
    # same chart (the pipeline then hands over the same record), so it is read once.
    # What depends on one resource type alone (`over=`) is also shared with records that
    # hold the same resources: a new report does not make the labs be read again.
    exams, loose = record.derived("imaging_exams", lambda: imaging_exams(record))
    condition_list = record.of("Condition")
    conditions = with_recent_fever(
        record.derived("conditions", lambda: classify_conditions(condition_list),
                       over=condition_list),
        now - timedelta(days=thresholds.lab_max_age_days))
    medications = {ref(m): m for m in record.of("Medication")}
    steroids, steroid_notes = steroid_exposures(
        record.of("MedicationRequest"), record.of("MedicationStatement"),
        now - timedelta(days=thresholds.steroid_lookback_days), medications)
    sex = demo.sex if demo else None
    drink_g = thresholds.standard_drink_g
    alcohol, weak_alcohol = alcohol_factors(record.derived(
        f"alcohol_records:{drink_g}", lambda: alcohol_records(observations, thresholds),
        over=observations), sex, now, thresholds)
    labs = record.derived("lab_values", lambda: tuple(lab_values(observations)),
                          over=observations)
    procedure_list = record.of("Procedure")
    procedures = list(record.derived("prior_procedures",
                                     lambda: tuple(prior_procedures(procedure_list)),
                                     over=procedure_list))
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
    limits = (thresholds.synovial_wbc_exclusion_per_ul, thresholds.synovial_wbc_septic_per_ul)
    tests = record.derived(f"infection_tests:{limits}", lambda: infection_tests(
        observations, record.of("DiagnosticReport"), condition_list, exams, thresholds))
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
        labs=tuple(labs),
        risk_factors=tuple(conditions.risk_factors + steroids + alcohol),
        weak_risk_factors=tuple(weak_alcohol),
        immunosuppression=tuple(conditions.immunosuppression + steroids),
        pregnancy=pregnancy(observations, conditions.postpartum, record.derived(
            "pregnancy_observations", lambda: pregnancy_observations(observations),
            over=observations)),
        episodes=joint_episodes(exams, conditions.toh_conditions),
        procedures=tuple(procedures),
        osteoporosis_refs=tuple(conditions.osteoporosis_refs),
        infection_tests=tests,
        blunting=tuple(blunted),
        notes=tuple(notes),
    )
