"""What each handler reads, declared once per handler, keyed by the handler name that
hooks/services/*.toml gives. Discovery's `prefetch`, the keys that may fail without a
412, and the handler's pre-parse `keep` filter all come from here, so every service of
one handler (order-select and order-sign) shares one prefetch block.
"""

from __future__ import annotations

from cds_service.clinical import codes as c
from cds_service.prefetch.reads import HandlerReads, Query

PATIENT = Query("patient", "Patient", by_id=True)
CONDITIONS = Query("conditions", "Condition")
# Findings of a study often carry no category but point at the study or its report.
IMAGING_FINDINGS = Query("imagingFindings", "Observation", category="imaging",
                         linked_types=("ImagingStudy", "DiagnosticReport"))
IMAGING_STUDIES = Query("imagingStudies", "ImagingStudy")
REPORTS = Query("reports", "DiagnosticReport")

# The TOH vs AVN vs infection check: imaging, labs, risk factors, prior operations.
CORE_DECOMPRESSION = HandlerReads(
    queries=(
        PATIENT,
        CONDITIONS,
        Query("labs", "Observation", codes=c.LAB_CODINGS),
        IMAGING_FINDINGS,
        IMAGING_STUDIES,
        REPORTS,
        Query("medicationRequests", "MedicationRequest"),
        Query("medicationStatements", "MedicationStatement"),
        # A prior core decompression is also read from reports: the check can do without.
        Query("procedures", "Procedure", optional=True),
    ),
    also_reads=("Medication",),  # referenced by a MedicationRequest/Statement
)

# The migratory pattern: joint episodes from imaging, reports and conditions. The facts
# are collected by the same code as the order check, so a medication or procedure a
# client sends within these keys is read too.
TMO_MIGRATION = HandlerReads(
    queries=(PATIENT, CONDITIONS, IMAGING_FINDINGS, IMAGING_STUDIES, REPORTS),
    also_reads=("MedicationRequest", "MedicationStatement", "Medication", "Procedure"),
)

DESCRIPTORS: dict[str, HandlerReads] = {
    "core-decompression": CORE_DECOMPRESSION,
    "tmo-migration": TMO_MIGRATION,
}
