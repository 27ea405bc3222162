"""order-select / order-sign logic for a hip core decompression (handler "core-decompression").

The adapter between a hook call and the clinical core: per triggered order, the ordered
side (ServiceRequest.bodySite laterality, else the order text), the core's assessment,
and at most one card. No I/O: the pipeline supplies the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from pydantic import ValidationError

from cds_service.clinical.anatomy import side_of_codings, side_of_text
from cds_service.clinical.assessment import assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.fhir_values import codings
from cds_service.fhir.raw import RawResource, items
from cds_service.fhir.record import PatientRecord
from cds_service.services.core_decompression.cards import assessment_card
from cds_service.services.descriptors import CORE_DECOMPRESSION
from cds_service.services.logic import FactsLogic, Invocation, IssuedCard
from cds_service.services.triggers import order_text


def keep_for_order(raw: RawResource) -> bool:
    """Cheap JSON filter: what the handler's descriptor reads (services/descriptors.py)."""
    return CORE_DECOMPRESSION.keep(raw)


def _body_sites(order: Mapping[str, Any]) -> list[CodeableConcept]:
    """The draft order's bodySite concepts as models; one that is not valid FHIR is not read."""
    sites = []
    for site in items(order.get("bodySite")):
        try:
            sites.append(CodeableConcept.model_validate(site))
        except ValidationError:
            continue
    return sites


def order_side(order: Mapping[str, Any]) -> str | None:
    """Laterality of a draft order: its bodySite codes, text and laterality qualifier,
    read as every other resource's are (fhir_values.codings), then the order text."""
    return side_of_codings(codings(*_body_sites(order))) or side_of_text(order_text(order))


def patient_id(invocation: Invocation, record: PatientRecord) -> str | None:
    """The hook context's patientId, else the id of the record's Patient."""
    pid = invocation.context.get("patientId")
    if isinstance(pid, str) and pid:
        return pid
    return record.patient.id if record.patient is not None else None


class CoreDecompressionLogic(FactsLogic):
    """TOH vs AVN vs infection check for a draft hip core decompression."""

    def keep(self, raw: RawResource) -> bool:
        return keep_for_order(raw)

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        """One card per triggered order whose assessment has an outcome."""
        if not invocation.orders:
            return []
        facts = collect_facts(record, invocation.now, self.thresholds, self.reader,
                              self.derived)
        pid = patient_id(invocation, record)
        cards = []
        for order in invocation.orders:
            assessment = assess(facts, self.thresholds, order_side(order.resource))
            if assessment.outcome is not None:
                cards.append(assessment_card(assessment, order.reference, pid, invocation.now))
        return cards
