"""Durability (issue 4 §6): feedback acknowledged with 200 is committed. A stream of
feedback posts runs against the live service; the whole gunicorn process group gets
SIGKILL mid-stream; after a restart every acknowledged item is in the store, read
directly with SQLAlchemy. Once on SQLite, once on PostgreSQL. Cards are committed
without an fsync (store/db.py commit_without_flush): a process crash must not lose
them either, so the same is done to a stream of hook calls."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from cds_service.devtools.fixture_data import fixture_request
from tests.reliability.figures import count
from tests.reliability.live import LiveService

pytestmark = pytest.mark.integration
SIGN = "/cds-services/toh-core-decompression-sign"
KILL_AFTER = 100  # acknowledged posts before the kill
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def issue_cards(service: LiveService, n: int) -> list[str]:
    uuids = []
    for _ in range(n):
        # the live service reads the wall clock: dates moved to its today, at call time
        body = fixture_request("crp-mgdl", "order-sign", datetime.now(UTC).date())
        response = requests.post(service.url(SIGN), json=body, timeout=30)
        assert response.status_code == 200, response.text[:300]
        cards = response.json()["cards"]
        assert [c["source"]["topic"]["code"] for c in cards] == ["toh-suspected"]
        uuids.append(cards[0]["uuid"])
    return uuids


def feedback(card: str, at: datetime) -> dict:
    return {"feedback": [{"card": card, "outcome": "overridden",
                          "outcomeTimestamp": at.isoformat().replace("+00:00", "Z"),
                          "overrideReason": {"reason": {"system": "urn:rel", "code": "reviewed",
                                                        "display": "Reviewed"}}}]}


class Stream:
    """Threads posting feedback, each item with its own outcomeTimestamp, until the
    service stops answering; `acknowledged` holds the items answered with 200."""

    def __init__(self, service: LiveService, cards: list[str], threads: int = 2) -> None:
        self.url, self.cards = service.url(SIGN + "/feedback"), cards
        self.acknowledged: set[tuple[str, datetime]] = set()
        self.failures = 0
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        session = requests.Session()
        while True:
            n = next(self._seq)
            item = (self.cards[n % len(self.cards)], EPOCH + timedelta(milliseconds=n))
            try:
                response = session.post(self.url, json=feedback(*item), timeout=10)
            except requests.RequestException:
                with self._lock:
                    self.failures += 1
                return  # the service is gone
            if response.status_code == 200 and response.json() == {"received": 1, "stored": 1}:
                with self._lock:
                    self.acknowledged.add(item)

    def wait_for(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < n:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} acknowledged"
            time.sleep(0.01)


def stored_items(store_url: str) -> set[tuple[str, datetime]]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            query = text("SELECT card_uuid, outcome_timestamp FROM feedback")
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    def utc(value: datetime | str) -> datetime:
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return {(card, utc(at)) for card, at in rows}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_feedback_survives_sigkill(request, tmp_path, live_service,
                                                backend: str) -> None:
    store_url = (f"sqlite:///{tmp_path / 'store.sqlite3'}" if backend == "sqlite"
                 else request.getfixturevalue("pg_url"))
    config = {"store": {"url": store_url}}
    first = live_service(dict(config), name="first")
    cards = issue_cards(first, 3)

    with Stream(first, cards) as stream:
        stream.wait_for(KILL_AFTER)
        first.kill()  # SIGKILL to master and workers at once, posts in flight
    acknowledged = set(stream.acknowledged)
    assert stream.failures >= 1, "the kill did not interrupt the stream"
    count("faults: SIGKILL under load")

    second = live_service(dict(config), name="second")  # same store, recovered
    found = acknowledged & stored_items(store_url)
    lost = acknowledged - found
    count("feedback acknowledged", len(acknowledged))
    count("feedback found after restart", len(found))
    count("feedback lost", len(lost))
    assert not lost, f"{len(lost)} acknowledged items missing, e.g. {sorted(lost)[:3]}"
    # the restarted service still knows the cards issued before the kill
    late = requests.post(second.url(SIGN + "/feedback"),
                         json=feedback(cards[0], EPOCH - timedelta(days=1)), timeout=30)
    assert late.status_code == 200 and late.json() == {"received": 1, "stored": 1}


class CardStream(Stream):
    """Threads calling order-select until the service stops answering; `acknowledged`
    holds the uuids of the cards answered with 200."""

    def __init__(self, service: LiveService, threads: int = 2) -> None:
        super().__init__(service, [], threads)
        self.url = service.url("/cds-services/toh-core-decompression-select")
        self.body = fixture_request("crp-mgdl", "order-select")

    def _run(self) -> None:
        session = requests.Session()
        while True:
            n = next(self._seq)
            body = {**self.body, "hookInstance": f"d3f1c0de-0000-4000-8000-{n:012d}"}
            try:
                response = session.post(self.url, json=body, timeout=10)
            except requests.RequestException:
                with self._lock:
                    self.failures += 1
                return
            if response.status_code == 200:
                with self._lock:
                    self.acknowledged.update(c["uuid"] for c in response.json()["cards"])


def stored_cards(store_url: str) -> set[str]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT uuid FROM issued_card")).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_issued_cards_survive_sigkill(request, tmp_path, live_service, backend: str) -> None:
    store_url = (f"sqlite:///{tmp_path / 'store.sqlite3'}" if backend == "sqlite"
                 else request.getfixturevalue("pg_url"))
    config = {"store": {"url": store_url}}
    first = live_service(dict(config), name="first")
    with CardStream(first) as stream:
        stream.wait_for(KILL_AFTER)
        first.kill()
    acknowledged = set(stream.acknowledged)
    assert stream.failures >= 1, "the kill did not interrupt the stream"

    second = live_service(dict(config), name="second")
    lost = acknowledged - stored_cards(store_url)
    count("cards acknowledged before SIGKILL", len(acknowledged))
    count("cards lost", len(lost))
    assert not lost, f"{len(lost)} answered cards missing, e.g. {sorted(lost)[:3]}"
    late = requests.post(second.url("/cds-services/toh-core-decompression-select/feedback"),
                         json=feedback(sorted(acknowledged)[0], EPOCH), timeout=30)
    assert late.status_code == 200 and late.json() == {"received": 1, "stored": 1}
