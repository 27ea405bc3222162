"""Caches change speed, never answers: every fixture through the real endpoint with the
worker's caches on (a first call and a repeated, warm one) and with them all off
(`Caches.disabled()`) gives the same cards, card and suggestion uuids aside."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask

from cds_service.app import create_app
from cds_service.caching import Caches
from cds_service.devtools import fixture_data
from tests.clock import TODAY, fixed_clock
from tests.conftest import make_settings
from tests.test_hooks_fixtures import CASES, SERVICES


def _without_uuids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_uuids(v) for k, v in value.items() if k != "uuid"}
    if isinstance(value, list):
        return [_without_uuids(v) for v in value]
    return value


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Flask]:
    return {kind: create_app(make_settings(tmp_path_factory.mktemp(kind)), clock=fixed_clock,
                             caches=caches)
            for kind, caches in (("on", Caches.sized(192)), ("off", Caches.disabled()))}


def _cards(app: Flask, name: str, hook: str, second_order: bool = False
           ) -> list[dict[str, Any]]:
    body = fixture_data.fixture_request(name, hook, today=TODAY)
    if second_order:  # the same chart, the context changed: the order drafted twice
        entries = body["context"]["draftOrders"]["entry"]
        twin = copy.deepcopy(entries[0])
        twin["resource"]["id"] = twin["resource"]["id"] + "-twin"
        entries.append(twin)
    response = app.test_client().post(f"/cds-services/{SERVICES[hook]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return _without_uuids(response.get_json()["cards"])  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "hook"), CASES)
def test_cards_are_the_same_with_caches_on_off_and_warm(apps: dict[str, Flask], name: str,
                                                         hook: str) -> None:
    off = _cards(apps["off"], name, hook)
    cold = _cards(apps["on"], name, hook)
    warm = _cards(apps["on"], name, hook)
    assert cold == off
    assert warm == off


@pytest.mark.parametrize(("name", "hook"), [case for case in CASES if case[1] != "patient-view"])
def test_a_changed_context_is_decided_anew(apps: dict[str, Flask], name: str, hook: str) -> None:
    """A decision kept for one context is not handed out for another on the same chart."""
    _cards(apps["on"], name, hook)
    assert _cards(apps["on"], name, hook, second_order=True) == _cards(
        apps["off"], name, hook, second_order=True)


def test_the_caches_were_used_and_the_disabled_ones_kept_nothing(
        apps: dict[str, Flask]) -> None:
    """Caching on held data after a call, caching off held none."""
    for app in apps.values():
        _cards(app, "seed1-tmo-hip", "order-sign")
    on = apps["on"].extensions["cds_pipeline"].caches
    off = apps["off"].extensions["cds_pipeline"].caches
    assert len(on.records) and len(on.models) and len(on.derived) and len(on.readings)
    assert len(on.decisions)
    assert not any(map(len, (off.records, off.models, off.derived, off.readings,
                             off.decisions)))
