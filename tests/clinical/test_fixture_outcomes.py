"""Every fixture patient through the logic alone (no HTTP): the manifest's expectations.

The requests carry full prefetch; `now` is the patient's index date, the day the fixture's
dates were written around, so recency windows hold as the manifest intends.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timezone

import pytest

from cds_service.clinical.thresholds import Thresholds
from cds_service.devtools.fixture_data import FIXTURES_DIR, load_manifest
from cds_service.fhir.record import build_record
from cds_service.resources import hooks_dir
from cds_service.services.core_decompression import CoreDecompressionLogic
from cds_service.services.definitions import load_catalog
from cds_service.services.logic import Invocation
from cds_service.services.migration import MigrationLogic
from cds_service.services.triggers import triggered_orders
from tests.card_checks import check_card

SERVICES = {"order-select": "toh-core-decompression-select",
            "order-sign": "toh-core-decompression-sign",
            "patient-view": "tmo-migration-patient-view"}
CASES = [(name, hook) for name, case in load_manifest().items() for hook in case.expect]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(hooks_dir())


@pytest.mark.parametrize(("name", "hook"), CASES)
def test_fixture_outcome(catalog, name: str, hook: str) -> None:
    case = load_manifest()[name]
    expect = case.expect[hook]
    request = json.loads((FIXTURES_DIR / "requests" / f"{name}-{hook}.json").read_text())
    service = catalog.services[SERVICES[hook]]
    trigger_list = catalog.trigger_list(service)
    orders = triggered_orders(hook, request["context"], trigger_list) if trigger_list else []
    now = datetime.combine(case.index_date, time(12), tzinfo=timezone.utc)
    logic_class = MigrationLogic if hook == "patient-view" else CoreDecompressionLogic
    logic = logic_class(Thresholds())
    record = build_record((request.get("prefetch") or {}).values(), logic.keep)
    results = logic.decide(Invocation(service.id, hook, request["context"], orders, now), record)
    if expect.topic is None:
        assert results == []
        return
    assert len(results) == 1
    card = results[0].card
    check_card(card.to_json())
    assert card.source.topic.code == expect.topic
    assert card.indicator == expect.indicator
    for phrase in expect.key_phrases:
        assert phrase.lower() in card.detail.lower(), phrase
    assert set(expect.evidence) <= set(results[0].evidence)
