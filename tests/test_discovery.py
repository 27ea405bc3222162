"""GET /cds-services is generated from hooks/ and has the spec's shape."""

from __future__ import annotations


def test_discovery_lists_three_services_with_prefetch(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/cds-services")
    assert response.status_code == 200 and response.mimetype == "application/json"
    services = {s["id"]: s for s in response.get_json()["services"]}
    assert {s["hook"] for s in services.values()} == {"order-select", "order-sign", "patient-view"}
    for service in services.values():
        assert set(service) <= {"hook", "id", "title", "description", "prefetch", "usageRequirements"}
        assert service["description"] and service["title"]
        for key, template in service["prefetch"].items():
            assert key.isidentifier() and "{{context.patientId}}" in template
    sign = services["toh-core-decompression-sign"]
    assert sign["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert "http://loinc.org|1988-5" in sign["prefetch"]["labs"]


def test_health_and_ready(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_request_id_echoed(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/cds-services", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    generated = client.get("/cds-services", headers={"X-Request-Id": "bad id!"}).headers["X-Request-Id"]
    assert generated != "bad id!" and len(generated) == 32
