"""order-select / order-sign logic for a hip core decompression (handler "core-decompression").

Per triggered order: the ordered side (ServiceRequest.bodySite laterality, else the order
text), one assessment, and at most one card. No I/O: the pipeline supplies the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.clinical import codes as c
from cds_service.clinical.anatomy import side_of_codings, side_of_text
from cds_service.clinical.assessment import assess
from cds_service.clinical.cards import assessment_card
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import PatientRecord, RawResource, items
from cds_service.services.logic import Invocation, IssuedCard
from cds_service.services.triggers import order_text

_ALWAYS_KEPT = frozenset({"Patient", "Condition", "ImagingStudy", "DiagnosticReport",
                          "MedicationRequest", "MedicationStatement", "Medication", "Procedure"})
_LAB_CODES = frozenset(c.LAB_CODES)
_SNOMED_CODES = frozenset(c.ALCOHOL_INTAKE_SNOMED)  # Observations coded in SNOMED only


def is_imaging_observation(raw: Mapping[str, Any]) -> bool:
    """Observation with category `imaging`, or derived from / part of an ImagingStudy."""
    for category in items(raw.get("category")):
        if isinstance(category, Mapping):
            for coding in items(category.get("coding")):
                if isinstance(coding, Mapping) and coding.get("code") == "imaging":
                    return True
    for link in items(raw.get("derivedFrom")) + items(raw.get("partOf")):
        if isinstance(link, Mapping) and str(link.get("reference", "")).startswith(
                ("ImagingStudy/", "DiagnosticReport/")):
            return True
    return False


def has_lab_code(raw: Mapping[str, Any]) -> bool:
    code = raw.get("code")
    if not isinstance(code, Mapping):
        return False
    return any(isinstance(coding, Mapping) and (
        (coding.get("system") == c.LOINC and coding.get("code") in _LAB_CODES)
        or (coding.get("system") == c.SNOMED and coding.get("code") in _SNOMED_CODES))
        for coding in items(code.get("coding")))


def keep_for_order(raw: RawResource) -> bool:
    """Cheap JSON filter: the resource types read, and only the Observations the rules read."""
    kind = raw.get("resourceType")
    if kind in _ALWAYS_KEPT:
        return True
    return kind == "Observation" and (has_lab_code(raw) or is_imaging_observation(raw))


def order_side(order: Mapping[str, Any]) -> str | None:
    """Laterality of a draft order: bodySite codes/text first, then the order text."""
    codes = []
    for site in items(order.get("bodySite")):
        if isinstance(site, Mapping):
            codes += [(cd.get("system"), cd.get("code"), cd.get("display"))
                      for cd in items(site.get("coding")) if isinstance(cd, Mapping)]
            codes.append((None, None, site.get("text")))
            for ext in items(site.get("extension")):  # mCODE laterality-qualifier
                value = ext.get("valueCodeableConcept") if isinstance(ext, Mapping) else None
                if "laterality" in str(ext.get("url", "")).lower() and isinstance(value, Mapping):
                    codes += [(cd.get("system"), cd.get("code"), cd.get("display"))
                              for cd in items(value.get("coding")) if isinstance(cd, Mapping)]
    return side_of_codings(codes) or side_of_text(order_text(order))


def patient_id(invocation: Invocation, record: PatientRecord) -> str | None:
    pid = invocation.context.get("patientId")
    if isinstance(pid, str) and pid:
        return pid
    return record.patient.id if record.patient is not None else None


class CoreDecompressionLogic:
    """TOH vs AVN vs infection check for a draft hip core decompression."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds

    def keep(self, raw: RawResource) -> bool:
        return keep_for_order(raw)

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        """One card per triggered order whose assessment has an outcome."""
        if not invocation.orders:
            return []
        facts = collect_facts(record, invocation.now, self.thresholds)
        pid = patient_id(invocation, record)
        cards = []
        for order in invocation.orders:
            assessment = assess(facts, self.thresholds, order_side(order.resource))
            if assessment.outcome is not None:
                cards.append(assessment_card(assessment, order.reference, pid, invocation.now))
        return cards
