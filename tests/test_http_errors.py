"""Every refusal a client can cause gets its status and an OperationOutcome; no 500."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import make_settings

SIGN = "/cds-services/toh-core-decompression-sign"
VIEW = "/cds-services/tmo-migration-patient-view"


def sign_request(**overrides: object) -> dict:
    body: dict = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/u1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle", "entry": []},
        },
    }
    body.update(overrides)
    return body


def assert_outcome(response, status: int, *phrases: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    text = " ".join(i.get("diagnostics", "") + " ".join(i.get("expression", [])) for i in body["issue"])
    for phrase in phrases:
        assert phrase in text, text


def context_with(**changes: object) -> dict:
    context = sign_request()["context"]
    context.update(changes)
    return {k: v for k, v in context.items() if v is not None}


@pytest.mark.parametrize(
    ("body", "phrases"),
    [
        (sign_request(hook="order-select"), ("does not match",)),
        (sign_request(hookInstance="not-a-uuid"), ("hookInstance", "UUID")),
        ({k: v for k, v in sign_request().items() if k != "context"}, ("context",)),
        ({k: v for k, v in sign_request().items() if k != "hook"}, ("hook",)),
        (sign_request(hook=7), ("hook",)),
        (sign_request(context=context_with(patientId=None)), ("context.patientId",)),
        (sign_request(context=context_with(patientId=["p1"])), ("context.patientId",)),
        (sign_request(context=context_with(userId="Device/x")), ("context.userId",)),
        (sign_request(context=context_with(draftOrders=None)), ("context.draftOrders",)),
        (sign_request(context=context_with(draftOrders={"resourceType": "Bundle", "entry": [{"x": 1}]})),
         ("draftOrders",)),
        (sign_request(fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 60,
                                         "scope": "s", "subject": "c"}), ("fhirServer is required",)),
        (sign_request(fhirServer="ftp://x"), ("fhirServer",)),
        (sign_request(prefetch={"patient": "Patient/1"}), ("prefetch.patient",)),
        (sign_request(prefetch=[1]), ("prefetch",)),
        ([1, 2, 3], ("JSON object",)),
    ],
)
def test_invalid_request_400(client, body, phrases) -> None:  # type: ignore[no-untyped-def]
    assert_outcome(client.post(SIGN, json=body), 400, *phrases)


def test_order_select_requires_selections(client) -> None:  # type: ignore[no-untyped-def]
    body = sign_request(hook="order-select")
    response = client.post("/cds-services/toh-core-decompression-select", json=body)
    assert_outcome(response, 400, "context.selections")


def test_patient_view_context_checked(client) -> None:  # type: ignore[no-untyped-def]
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"userId": "Practitioner/1"}}
    assert_outcome(client.post(VIEW, json=body), 400, "context.patientId")


def test_malformed_json_400(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(SIGN, data=b'{"hook": ', content_type="application/json")
    assert_outcome(response, 400, "malformed JSON")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_400(client, content_type) -> None:  # type: ignore[no-untyped-def]
    response = client.post(SIGN, data=b"{}", content_type=content_type)
    assert_outcome(response, 400, "Content-Type")


def test_unknown_service_404(client) -> None:  # type: ignore[no-untyped-def]
    assert_outcome(client.post("/cds-services/nope", json=sign_request()), 404, "nope")
    assert_outcome(client.get("/no-such-path"), 404)


@pytest.mark.parametrize(("method", "path"), [("put", SIGN), ("delete", SIGN), ("post", "/cds-services"),
                                              ("get", SIGN + "/feedback")])
def test_wrong_method_405(client, method, path) -> None:  # type: ignore[no-untyped-def]
    response = getattr(client, method)(path)
    assert_outcome(response, 405)
    assert "Allow" in response.headers


def test_body_over_limit_413(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cds_service.app import create_app

    app = create_app(make_settings(tmp_path, service={"max_body_bytes": 2048}))
    body = sign_request(prefetch={"patient": {"resourceType": "Patient", "id": "p1", "text": {"div": "x" * 4096, "status": "generated"}}})
    response = app.test_client().post(SIGN, json=body)
    assert_outcome(response, 413)


def test_fhir_server_not_on_allowlist_403(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(SIGN, json=sign_request(fhirServer="http://127.0.0.1:9/fhir"))
    assert_outcome(response, 403, "fhirServer", "not allowed")
