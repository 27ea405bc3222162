"""GET /rules explains the rules in use, every card links it as its source, and
`[cards] informational` turns the cards that change nothing off (and only those)."""

from __future__ import annotations

import pytest

from cds_service.devtools import fixture_data
from cds_service.app import create_app
from cds_service.clinical.thresholds import Thresholds
from cds_service.services.card_topics import INFORMATIONAL, TOPICS
from tests.clock import TODAY, fixed_clock
from tests.conftest import CardCheckingClient, make_settings


def client_with(tmp_path, **sections):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(tmp_path, **sections), clock=fixed_clock)
    app.test_client_class = CardCheckingClient
    return app.test_client()


def test_rules_page_is_plain_html_with_every_rule_and_threshold(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/rules")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<script" not in html.lower()
    assert "script-src" not in response.headers["Content-Security-Policy"]
    for topic in TOPICS:
        assert f'id="{topic}"' in html
    for name, field in Thresholds.model_fields.items():
        assert f"<code>{name}</code></td><td>{field.default:g}</td>" in html
    assert "S2325" in html and "core\\s+decompress" in html  # the trigger codes in use


def test_rules_page_shows_the_configured_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    html = client_with(tmp_path, clinical={"mri_max_age_days": 30},
                       cards={"informational": False}).get("/rules").get_data(as_text=True)
    assert "No readable MRI of the ordered hip within 30 days" in html
    assert "<code>mri_max_age_days</code></td><td>30</td>" in html
    assert "Informational cards: not shown" in html


@pytest.mark.parametrize(("informational", "expected"), [(True, ["avn-features"]), (False, [])])
def test_informational_cards_can_be_turned_off(tmp_path, informational, expected) -> None:  # type: ignore[no-untyped-def]
    client = client_with(tmp_path, cards={"informational": informational})
    body = fixture_data.fixture_request("steroid-avn", "order-sign", today=TODAY)
    cards = client.post("/cds-services/toh-core-decompression-sign", json=body).get_json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == expected


@pytest.mark.parametrize(("name", "hook", "service", "topic"), [
    ("seed1-tmo-hip", "order-sign", "toh-core-decompression-sign", "toh-suspected"),
    ("septic-hip", "order-select", "toh-core-decompression-select", "infection-not-excluded"),
    ("seed1-tmo-ankle", "patient-view", "tmo-migration-patient-view", "tmo-migration"),
])
def test_warnings_and_the_migration_card_stay_when_informational_is_off(
        tmp_path, name, hook, service, topic) -> None:  # type: ignore[no-untyped-def]
    client = client_with(tmp_path, cards={"informational": False})
    body = fixture_data.fixture_request(name, hook, today=TODAY)
    cards = client.post(f"/cds-services/{service}", json=body).get_json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == [topic]
    assert topic not in INFORMATIONAL


def test_migration_card_names_the_patient_view_service(client, app) -> None:  # type: ignore[no-untyped-def]
    body = fixture_data.fixture_request("seed1-tmo-ankle", "patient-view", today=TODAY)
    (card,) = client.post("/cds-services/tmo-migration-patient-view", json=body).get_json()["cards"]
    title = app.extensions["cds_pipeline"].catalog.services["tmo-migration-patient-view"].title
    assert card["source"]["label"] == title != "Hip core decompression check"
    assert card["source"]["url"].endswith("/rules#tmo-migration")
