"""Which draft orders count as hip core decompression."""

from __future__ import annotations

import pytest

from cds_service.resources import hooks_dir
from cds_service.services.definitions import load_catalog
from cds_service.services.triggers import match_order, triggered_orders

TRIGGERS = load_catalog(hooks_dir()).triggers["hip-core-decompression"]
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"


def order(system: str | None = None, code: str | None = None, text: str | None = None,
          rid: str | None = "o1", resource_type: str = "ServiceRequest") -> dict:
    concept: dict = {}
    if system:
        concept["coding"] = [{"system": system, "code": code}]
    if text:
        concept["text"] = text
    resource = {"resourceType": resource_type, "status": "draft", "intent": "order", "code": concept}
    if rid:
        resource["id"] = rid
    return resource


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (order(HCPCS, "S2325"), f"{HCPCS}|S2325"),
        (order(CPT, "27299", "Core decompression, left femoral head"), f"{CPT}|27299"),
        (order(CPT, "27299", "Excision of pelvic bone lesion"), None),  # generic code, other text
        (order(text="Core decompression of the right hip"), "text"),
        (order(text="Left hip core decompression with bone graft"), "text"),
        (order(text="Core decompression of the knee"), None),
        (order("urn:local:orders", "ORTHO-HIP-CD"), "urn:local:orders|ORTHO-HIP-CD"),
        (order(HCPCS, "S2325", resource_type="MedicationRequest"), None),
        (order("http://loinc.org", "30687-8", "MR hip"), None),
    ],
)
def test_match_order(resource: dict, expected: str | None) -> None:
    assert match_order(resource, TRIGGERS) == expected


def draft_bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}


def test_order_select_reacts_only_to_selections() -> None:
    context = {
        "draftOrders": draft_bundle(order(HCPCS, "S2325", rid="cd"), order(text="MRI hip", rid="mri")),
        "selections": ["ServiceRequest/mri"],
    }
    assert triggered_orders("order-select", context, TRIGGERS) == []
    context["selections"] = ["ServiceRequest/cd"]
    [found] = triggered_orders("order-select", context, TRIGGERS)
    assert found.reference == "ServiceRequest/cd"


def test_order_sign_reacts_to_every_draft_even_without_ids() -> None:
    context = {"draftOrders": draft_bundle(order(HCPCS, "S2325", rid=None))}
    [found] = triggered_orders("order-sign", context, TRIGGERS)
    assert found.reference is None and found.matched_by.endswith("S2325")
