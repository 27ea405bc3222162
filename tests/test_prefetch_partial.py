"""Partial prefetch: a key that is missing, null or an OperationOutcome is fetched from
fhirServer; when that is impossible the answer is 412 naming the keys."""

from __future__ import annotations

import pytest

from cds_service.devtools import fixture_data
from tests.clock import TODAY  # the app's clock in tests: fixtures are rebased to it

SIGN = "/cds-services/toh-core-decompression-sign"


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.pop("reports"),
        lambda p: p.update(reports=None),
        lambda p: p.update(reports={"resourceType": "OperationOutcome",
                                    "issue": [{"severity": "error", "code": "timeout"}]}),
    ],
    ids=["missing", "null", "operation-outcome"],
)
def test_unusable_key_without_fhir_server_is_412(client, damage) -> None:  # type: ignore[no-untyped-def]
    body = fixture_data.fixture_request("seed1-tmo-hip", "order-sign", today=TODAY)
    damage(body["prefetch"])
    response = client.post(SIGN, json=body)
    assert response.status_code == 412
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["expression"] for i in outcome["issue"]] == [["prefetch.reports"]]
    assert "no fhirServer" in outcome["issue"][0]["diagnostics"]


def test_optional_key_missing_still_decides(client) -> None:  # type: ignore[no-untyped-def]
    body = fixture_data.fixture_request("seed2-toh-crp", "order-sign", today=TODAY)
    body["prefetch"].pop("procedures")
    response = client.post(SIGN, json=body)
    assert response.status_code == 200
    assert response.get_json()["cards"][0]["source"]["topic"]["code"] == "infection-not-excluded"
