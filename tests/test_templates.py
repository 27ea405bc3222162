"""Prefetch template rendering (2.0 tokens, 3.0 FHIRPath tokens) and key resolution."""

from __future__ import annotations

from datetime import datetime

import pytest
from fhirpathpy.engine.invocations import constants as fhirpath_clock

from cds_service.errors import BadRequest
from cds_service.prefetch.resolve import check_prefetch_shape, keys_to_fetch
from cds_service.prefetch.templates import TemplateError, render

CONTEXT = {
    "patientId": "p1",
    "userId": "PractitionerRole/r9",
    "draftOrders": {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "ServiceRequest", "id": "sr1"}},
            {"resource": {"resourceType": "MedicationRequest", "id": "mr1"}},
            {"resource": {"resourceType": "ServiceRequest", "id": "sr2"}},
        ],
    },
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Patient/{{context.patientId}}", "Patient/p1"),
        ("Condition?patient={{ context.patientId }}", "Condition?patient=p1"),
        ("PractitionerRole/{{userPractitionerRoleId}}", "PractitionerRole/r9"),
        ("ServiceRequest?_id={{context.draftOrders.entry.resource.ofType(ServiceRequest).id}}",
         "ServiceRequest?_id=sr1,sr2"),
        ("ServiceRequest?_id={{context.draftOrders.ServiceRequest.id}}", "ServiceRequest?_id=sr1,sr2"),
        ("Observation?patient={{context.patientId}}&code=http://loinc.org|1988-5",
         "Observation?patient=p1&code=http://loinc.org|1988-5"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert render(template, CONTEXT) == expected


class _FrozenDatetime(datetime):
    """fhirpathpy's today() reads datetime.now(); this one is always 2026-03-01 23:59:59."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return cls(2026, 3, 1, 23, 59, 59, tzinfo=tz)


def test_render_today_arithmetic(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fhirpath_clock, "datetime", _FrozenDatetime)
    expected = "2025-12-01"  # 90 days before 2026-03-01
    assert render("Observation?date=ge{{today() - 90 days}}", CONTEXT) == f"Observation?date=ge{expected}"


def test_values_are_url_encoded() -> None:
    assert render("Patient/{{context.patientId}}", {"patientId": "a&b=c"}) == "Patient/a%26b%3Dc"


@pytest.mark.parametrize(
    "template",
    ["Encounter/{{context.encounterId}}", "Practitioner/{{userPractitionerId}}", "X?y={{context..bad((}}"],
)
def test_unrenderable(template: str) -> None:
    with pytest.raises(TemplateError):
        render(template, CONTEXT)


def test_keys_to_fetch_absent_null_and_operation_outcome() -> None:
    provided = {
        "patient": {"resourceType": "Patient", "id": "p1"},
        "labs": None,
        "reports": {"resourceType": "OperationOutcome", "issue": []},
    }
    assert keys_to_fetch(["patient", "labs", "reports", "conditions"], provided) == [
        "labs", "reports", "conditions"]
    assert keys_to_fetch(["patient"], None) == ["patient"]


def test_malformed_prefetch_value_is_400() -> None:
    with pytest.raises(BadRequest) as caught:
        check_prefetch_shape({"patient": "Patient/1", "labs": None, "x": {"no": "type"}})
    where = [i.expression for i in caught.value.issues]
    assert where == ["prefetch.patient", "prefetch.x"]
