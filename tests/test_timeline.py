"""POST /timeline and the smart link on cards, without a browser: the allowlist, the
token, what is logged, and the JSON built from the fixture patients (pure parts)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time

import pytest

from cds_service.devtools import fixture_data
from cds_service.clinical.assessment import assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.migration import find_migration
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.record import build_record
from cds_service.timeline.build import timeline_json
from cds_service.timeline.lanes import LANES
from tests.test_hooks_fixtures import MANIFEST, SERVICES

BASE = "https://ehr.example.org/fhir"


def local_timeline(name: str, side: str | None = None) -> dict:
    """The timeline JSON for a fixture patient, its data answered from the bundle."""
    case = MANIFEST[name]
    bundle = fixture_data.load_bundle(name)
    templates = fixture_data.service_for_hook("order-sign").prefetch.values()
    payloads = [fixture_data.local_search(bundle, fixture_data.render_template(
        t, {"patientId": case.patient_id})) for t in templates]
    record = build_record(payloads)
    now = datetime.combine(case.index_date, time(12), UTC)
    t = Thresholds()
    facts = collect_facts(record, now, t)
    return timeline_json(facts, record, assess(facts, t, side),
                         find_migration(facts.episodes, now, t.migration_window_days), t)


def test_seed1_ankle_shows_the_migration() -> None:
    data = local_timeline("seed1-tmo-ankle")
    assert data["lanes"][:8] == list(LANES)
    by_lane = [(m["lane"], m["result"], m["modality"]) for m in data["marks"] if not m["mention"]]
    assert by_lane[:2] == [("left hip", "edema", "MRI"), ("left hip", "improving", "MRI")]
    assert ("left ankle", "edema", "MRI") in by_lane
    assert [s["joint"] for s in data["migration"]["steps"]] == ["left hip", "left ankle"]
    assert data["migration"]["steps"][0]["outcome"] == "resolved"
    for mark in data["marks"]:  # every mark opens evidence, and the evidence exists
        assert mark["evidence"] and all(e in data["evidence"] for e in mark["evidence"])


def test_reasons_point_at_their_sentences() -> None:
    data = local_timeline("seed1-tmo-hip", "left")
    assert data["assessment"]["outcome"] == "toh-suspected"
    reasons = [r for s in data["assessment"]["sections"] for r in s["reasons"]]
    quoted = [r for r in reasons if r["quote"]]
    assert quoted
    for reason in quoted:
        sentences = [data["evidence"][e]["quote"] for e in reason["evidence"]]
        assert reason["quote"] in sentences
    labs = {p["kind"]: p for p in data["labs"]}
    assert set(labs) == {"CRP", "ESR", "WBC"} and labs["CRP"]["limit"] == 5.0


def test_steroid_periods_and_pregnancy() -> None:
    steroids = local_timeline("steroid-avn", "left")["steroids"]
    assert len(steroids) == 3 and all(p["start"] <= p["end"] for p in steroids)
    assert any(p["high_dose"] for p in steroids)
    pregnancy = local_timeline("pregnancy-toh", "right")["pregnancy"]
    assert pregnancy[0]["label"].startswith("Pregnant, 34 weeks")
    assert pregnancy[0]["start"] < pregnancy[0]["end"] < pregnancy[0]["due"]


@pytest.mark.parametrize("name", list(MANIFEST))
def test_every_card_links_the_app(client, name: str) -> None:  # type: ignore[no-untyped-def]
    """CDS Hooks 2.0 Link type "smart" to {public_base_url}/smart/launch on every card."""
    for hook, service in SERVICES.items():
        body = client.post(f"/cds-services/{service}",
                           json=fixture_data.fixture_request(name, hook)).get_json()
        for card in body["cards"]:
            smart = [link for link in card["links"] if link["type"] == "smart"]
            assert [link["url"] for link in smart] == ["http://127.0.0.1:8080/smart/launch"]
            if "appContext" in smart[0]:
                assert json.loads(smart[0]["appContext"])["side"] in ("left", "right",
                                                                      "bilateral")


def test_pages_carry_the_client_settings_and_a_strict_policy(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/smart/launch", "/smart/app"):
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'data-client-id="cds-evidence-timeline"' in html and "patient/*.rs" in html
        assert "http" not in html.replace('"http://', "").split("<body>")[1]  # no CDN
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    asset = client.get("/smart/assets/app.js")
    assert asset.status_code == 200 and asset.mimetype == "text/javascript"
    asset.close()


def test_timeline_refuses_a_server_not_on_the_allowlist(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/timeline", json={"fhirServer": "https://elsewhere.example/fhir",
                                              "patient": "p1"},
                           headers={"Authorization": "Bearer abc"})
    assert response.status_code == 403
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "forbidden"


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer"])
def test_timeline_needs_a_bearer_token(client, header: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header else {}
    response = client.post("/timeline", json={"fhirServer": BASE, "patient": "p1"},
                           headers=headers)
    assert response.status_code == 401
    assert response.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("body", [{"fhirServer": BASE}, {"fhirServer": BASE, "patient": "../x"},
                                  {"fhirServer": BASE, "patient": "p", "side": "up"}, [1]])
def test_timeline_refuses_malformed_requests(client, body: object) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/timeline", json=body, headers={"Authorization": "Bearer abc"})
    assert response.status_code == 400


def test_no_token_in_the_log(client, caplog) -> None:  # type: ignore[no-untyped-def]
    """A refused server and an unreachable one: the token appears in no log record."""
    token = "secret-token-0123456789"
    caplog.set_level(logging.DEBUG)
    client.post("/timeline", json={"fhirServer": "https://elsewhere.example/fhir",
                                   "patient": "p1"}, headers={"Authorization": f"Bearer {token}"})
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records and token not in logged


def test_unreachable_server_gives_412_and_logs_no_token(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    """A FHIR server on the allowlist that refuses connections (a closed loopback port)."""
    from cds_service.app import create_app
    from tests.clock import fixed_clock
    from tests.conftest import make_settings

    base = "http://127.0.0.1:9/fhir"
    app = create_app(make_settings(tmp_path, fhir={"allowed_servers": [base], "retries": 0}),
                     clock=fixed_clock)
    token = "secret-token-9876543210"
    logging.getLogger().addHandler(caplog.handler)  # create_app replaced the root handlers
    response = app.test_client().post("/timeline", json={"fhirServer": base, "patient": "p1"},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 412
    assert response.get_json()["issue"][0]["code"] == "incomplete"
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "timeline_fetch_failed" in logged and token not in logged
    assert token not in response.get_data(as_text=True)
