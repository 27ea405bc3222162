"""Issued cards and feedback on PostgreSQL work as on SQLite (issue 4 §5): the same
feedback round trip and feedback report through the app on both, the same idea of "the
same event again", and the migrations build the schema in an empty database."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from cds_service.app import create_app
from cds_service.devtools.fixture_data import fixture_request
from cds_service.store.db import make_engine, migrate
from tests.conftest import make_settings
from tests.reliability.live import CDS_SERVICE, to_toml

pytestmark = pytest.mark.integration
SIGN = "/cds-services/toh-core-decompression-sign"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def app_and_settings(tmp_path, store_url: str):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, store={"url": store_url})
    app = create_app(settings)
    yield app, settings
    app.extensions["cds_pipeline"].engine.dispose()


def item(card: str, at: str, outcome: str = "overridden", **extra: object) -> dict:
    return {"card": card, "outcome": outcome, "outcomeTimestamp": at, **extra}


def reason(display: str) -> dict:
    coding = {"system": "urn:rel", "code": display.lower()[:8], "display": display}
    return {"overrideReason": {"reason": coding}}


def utc(value: datetime | str) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite gives text, PostgreSQL aware)."""
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def feedback_report(workdir: Path, store_url: str) -> str:
    """`cds-service feedback-report`, run as the informaticist runs it."""
    config = workdir / "report.toml"
    config.write_text(to_toml({"store": {"url": store_url}}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    result = subprocess.run([str(CDS_SERVICE), "--config", str(config), "feedback-report"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_feedback_round_trip_and_report(tmp_path, app_and_settings) -> None:
    app, settings = app_and_settings
    client = app.test_client()
    cards = []
    for name in ("crp-mgdl", "crp-mgdl", "seed2-toh-crp"):
        response = client.post(SIGN, json=fixture_request(name, "order-sign"))
        assert response.status_code == 200
        cards.append(response.get_json()["cards"][0])
    toh, toh2, infection = cards

    def send(*items: dict) -> tuple[int, dict]:
        response = client.post(SIGN + "/feedback", json={"feedback": list(items)})
        return response.status_code, response.get_json()

    accepted = item(toh["uuid"], "2026-11-21T10:00:00+01:00", "accepted",
                    acceptedSuggestions=[{"id": toh["suggestions"][0]["uuid"]}])
    assert send(accepted) == (200, {"received": 1, "stored": 1})
    assert send(item(toh2["uuid"], "2026-11-21T10:00:00Z", **reason("Surgeon reviewed imaging")),
                item(infection["uuid"], "2026-11-21T10:05:00Z", **reason("Aspiration planned"))) == (
        200, {"received": 2, "stored": 2})
    # an EHR retry of the same event, in another zone: the same instant, not stored again
    assert send(item(toh2["uuid"], "2026-11-21T11:00:00+01:00", **reason("Surgeon reviewed imaging"))) == (
        200, {"received": 1, "stored": 0})
    # the same wall time in another zone is another instant: a new event
    assert send(item(toh2["uuid"], "2026-11-21T10:00:00+01:00", **reason("Second look"))) == (
        200, {"received": 1, "stored": 1})
    # one unknown card refuses the whole batch
    status, outcome = send(item(toh["uuid"], "2026-11-22T08:00:00Z"),
                           item("00000000-0000-4000-8000-000000000000", "2026-11-22T08:00:00Z"))
    assert status == 400 and "was not issued by this service" in str(outcome)

    engine = create_engine(settings.store.url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT card_uuid, outcome_timestamp FROM feedback ORDER BY id")).all()
    engine.dispose()
    instants = [(card, utc(at)) for card, at in rows]
    assert instants == [
        (toh["uuid"], datetime(2026, 11, 21, 9, 0, tzinfo=UTC)),
        (toh2["uuid"], datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
        (infection["uuid"], datetime(2026, 11, 21, 10, 5, tzinfo=UTC)),
        (toh2["uuid"], datetime(2026, 11, 21, 9, 0, tzinfo=UTC)),
    ]

    lines = feedback_report(tmp_path, settings.store.url).splitlines()
    assert next(line for line in lines if line.startswith("toh-suspected")).split() == [
        "toh-suspected", "2", "1", "1", "50%", "50%"]
    assert next(line for line in lines if line.startswith("infection-not-excluded")).split() == [
        "infection-not-excluded", "1", "0", "1", "0%", "100%"]
    reasons = [line.split(None, 2) for line in lines[lines.index("Override reasons:") + 1:]]
    assert sorted(reasons) == [["infection-not-excluded", "1", "Aspiration planned"],
                               ["toh-suspected", "1", "Second look"],
                               ["toh-suspected", "1", "Surgeon reviewed imaging"]]


def test_migrations_build_an_empty_postgresql_database(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []
        migrate(engine)
        migrate(engine)  # idempotent: a second start changes nothing
        tables = inspect(engine)
        assert set(tables.get_table_names()) == {"alembic_version", "issued_card", "feedback"}
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert versions.scalars().all() == ["0001"]
        columns = {c["name"]: c for c in tables.get_columns("feedback")}
        assert columns["outcome_timestamp"]["type"].timezone is True
        assert [u["column_names"] for u in tables.get_unique_constraints("feedback")] == [
            ["card_uuid", "outcome", "outcome_timestamp"]]
    finally:
        engine.dispose()


def _durability_setting(connection) -> str:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "sqlite":
        return {0: "off", 1: "normal", 2: "full", 3: "extra"}[
            connection.exec_driver_sql("PRAGMA synchronous").scalar()]
    return str(connection.exec_driver_sql("SHOW synchronous_commit").scalar())


def test_issued_cards_skip_the_flush_and_feedback_keeps_it(store_url: str) -> None:
    from cds_service.store.db import commit_without_flush

    engine = make_engine(store_url)
    migrate(engine)
    try:
        with commit_without_flush(engine) as connection:
            during = _durability_setting(connection)
        with engine.connect() as connection:  # the pool hands back the same connection
            after = _durability_setting(connection)
    finally:
        engine.dispose()
    assert (during, after) == (("normal", "full") if store_url.startswith("sqlite")
                               else ("off", "on"))
