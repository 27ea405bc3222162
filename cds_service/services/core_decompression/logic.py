"""order-select / order-sign logic for a hip core decompression (handler "core-decompression").

The adapter between a hook call and the clinical core: per triggered order, the ordered
side (ServiceRequest.bodySite laterality, else the order text), the core's assessment,
and at most one card. No I/O: the pipeline supplies the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.clinical.anatomy import side_of_codings, side_of_text
from cds_service.clinical.assessment import assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import PatientRecord, RawResource, items
from cds_service.services.core_decompression.cards import assessment_card
from cds_service.services.logic import Invocation, IssuedCard
from cds_service.services.observations import has_lab_code, is_imaging_observation
from cds_service.services.triggers import order_text

_ALWAYS_KEPT = frozenset({"Patient", "Condition", "ImagingStudy", "DiagnosticReport",
                          "MedicationRequest", "MedicationStatement", "Medication", "Procedure"})


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
    """The hook context's patientId, else the id of the record's Patient."""
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
