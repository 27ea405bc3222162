"""Several replicas for real (issue 17 §2): three `cds-service serve` processes on loopback
behind nginx, sharing one PostgreSQL database (migrated once, by `cds-service migrate`,
before they start with `migrate_on_start = false`) and one Redis (jti replay memory).

A stream of authenticated hook calls, each followed by feedback on its card, runs
through nginx; one replica's whole process group gets SIGKILL mid-stream and is started
again on its port. Then: every feedback item answered 200 is a row in PostgreSQL; every
card answered 200 accepts feedback on each replica; a token used on one replica is
refused by the others; while the replica was down the survivors answered everything but
the requests that were in flight to it."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text

from cds_service.devtools.fixture_data import fixture_request
from tests.deploy.cluster import Nginx, migrate_once, nginx, start_all
from tests.deploy.conftest import REDIS_URL
from tests.reliability.live import LiveService, free_port
from tests.reliability.tokens import Keys, signed

pytestmark = pytest.mark.integration
SIGN = "/cds-services/toh-core-decompression-sign"
FEEDBACK = SIGN + "/feedback"
REPLICAS = 3
THREADS = 3
PER_PHASE = 25  # feedback items acknowledged before the kill, while down, after the restart
MAX_ROUNDS = 400  # per thread: the stream stops by itself
PHASE_TIMEOUT_S = 120.0
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def feedback_body(card: str, at: datetime) -> dict:
    return {"feedback": [{"card": card, "outcome": "overridden",
                          "outcomeTimestamp": at.isoformat().replace("+00:00", "Z"),
                          "overrideReason": {"reason": {"system": "urn:deploy", "code": "seen",
                                                        "display": "Seen"}}}]}


def answered_by(response: requests.Response) -> str:
    """The replica that answered: the last address nginx tried."""
    return response.headers.get("X-Upstream", "").split(",")[-1].strip()


@dataclass
class Outcome:
    cards: list[str] = field(default_factory=list)  # answered 200, in order
    acknowledged: list[tuple[str, datetime, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "phase: status or error"


class Stream:
    """Threads that call order-sign through nginx and send feedback on each card, a new
    token for every request, until told to stop (or MAX_ROUNDS each)."""

    def __init__(self, balancer: Nginx, keys: Keys, public_url: str) -> None:
        self.balancer, self.keys, self.public_url = balancer, keys, public_url
        self.outcome = Outcome()
        self.phase = "before kill"
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(THREADS)]
        self._body = fixture_request("crp-mgdl", "order-sign", datetime.now(UTC).date())

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _post(self, session: requests.Session, path: str, body: dict) -> requests.Response:
        token = signed(self.keys.es384, self.public_url + path)
        return session.post(self.balancer.url(path), json=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})

    def _fail(self, what: str) -> None:
        with self._lock:
            self.outcome.failures.append(f"{self.phase}: {what}")

    def _run(self) -> None:
        session = requests.Session()
        for _ in range(MAX_ROUNDS):
            if self._stop.is_set():
                return
            n = next(self._seq)
            body = {**self._body, "hookInstance": f"d3f1c0de-0000-4000-8000-{n:012d}"}
            try:
                hook = self._post(session, SIGN, body)
            except requests.RequestException as exc:
                self._fail(f"hook {type(exc).__name__}")
                continue
            if hook.status_code != 200:
                self._fail(f"hook {hook.status_code}")
                continue
            card = hook.json()["cards"][0]["uuid"]
            with self._lock:
                self.outcome.cards.append(card)
            at = EPOCH + timedelta(milliseconds=n)
            try:
                sent = self._post(session, FEEDBACK, feedback_body(card, at))
            except requests.RequestException as exc:
                self._fail(f"feedback {type(exc).__name__}")
                continue
            if sent.status_code == 200 and sent.json() == {"received": 1, "stored": 1}:
                with self._lock:
                    self.outcome.acknowledged.append((card, at, answered_by(sent)))
            else:
                self._fail(f"feedback {sent.status_code}")

    def wait_for(self, n: int) -> None:
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while len(self.outcome.acknowledged) < n:
            alive = any(t.is_alive() for t in self._threads)
            assert alive and time.monotonic() < deadline, (
                f"only {len(self.outcome.acknowledged)} of {n} acknowledged; "
                f"failures {self.outcome.failures[:5]}")
            time.sleep(0.02)


def stored_feedback(store_url: str) -> set[tuple[str, datetime]]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT card_uuid, outcome_timestamp FROM feedback")).all()
    finally:
        engine.dispose()
    return {(card, at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC))
            for card, at in rows}


def post_direct(replica: LiveService, keys: Keys, path: str, body: dict,
                token: str | None = None) -> requests.Response:
    token = token or signed(keys.es384, replica.aud(path))
    return requests.post(replica.url(path), json=body, timeout=30,
                         headers={"Authorization": f"Bearer {token}"})


def test_replicas_behind_nginx_survive_a_sigkill(tmp_path, keys: Keys, pg_url: str,
                                                 redis_prefix: str, nginx_binary) -> None:
    ports = [free_port() for _ in range(REPLICAS)]
    public_url = "https://cds.deploy.example"  # what EHRs call: the balancer's name

    def config() -> dict:
        return {"service": {"public_base_url": public_url},
                "store": {"url": pg_url, "migrate_on_start": False},
                "auth": {"required": True, "issuers": [keys.issuer([])]},
                "cache": {"url": REDIS_URL, "key_prefix": redis_prefix}}

    migrate_once(tmp_path / "migrate", config())
    replicas = [LiveService(tmp_path / f"replica-{i}", config(), port=port, workers=1)
                for i, port in enumerate(ports)]
    try:
        start_all(replicas)
        with nginx(tmp_path / "nginx", ports) as balancer:
            victim = replicas[1]
            victim_addr = f"127.0.0.1:{victim.port}"
            with Stream(balancer, keys, public_url) as stream:
                stream.wait_for(PER_PHASE)
                stream.phase = "kill"
                victim.kill()  # SIGKILL to its gunicorn master and worker at once
                killed_at = len(stream.outcome.acknowledged)
                stream.phase = "down"
                stream.wait_for(killed_at + PER_PHASE)
                restarted = LiveService(tmp_path / "replica-1-again", config(),
                                        port=victim.port, workers=1)
                replicas[1] = restarted
                down = stream.outcome.acknowledged[killed_at:]
                restarted.start()
                stream.phase = "restarted"
                stream.wait_for(len(stream.outcome.acknowledged) + PER_PHASE)
            outcome = stream.outcome

            # before the kill nothing failed; afterwards only what was in flight to it
            # (one request per thread at most): nginx sends new requests to the survivors
            assert not [f for f in outcome.failures if f.startswith("before kill")], \
                outcome.failures
            assert len(outcome.failures) <= THREADS, outcome.failures
            assert all(f.endswith(" 502") for f in outcome.failures), outcome.failures
            assert down and victim_addr not in {who for _, _, who in down[THREADS:]}

            # no acknowledged feedback lost: every 200 is a row in the shared database
            acknowledged = {(card, at) for card, at, _ in outcome.acknowledged}
            stored = stored_feedback(pg_url)
            assert acknowledged <= stored, f"lost {sorted(acknowledged - stored)[:3]}"
            assert len(stored) >= len(acknowledged) >= 3 * PER_PHASE

            # every card answered 200 accepts feedback on any replica, the restarted one too
            for i, card in enumerate(outcome.cards):
                for j, replica in enumerate([replicas[i % REPLICAS]] if i >= REPLICAS
                                            else replicas):
                    at = EPOCH - timedelta(days=1 + i, minutes=j)
                    late = post_direct(replica, keys, FEEDBACK, feedback_body(card, at))
                    assert late.status_code == 200, (card, replica.port, late.text[:200])
                    assert late.json() == {"received": 1, "stored": 1}

            # a token used on one replica is refused by every other (shared jti memory)
            body = fixture_request("crp-mgdl", "order-sign", datetime.now(UTC).date())
            token = signed(keys.rs384, public_url + SIGN)
            assert post_direct(replicas[0], keys, SIGN, body, token).status_code == 200
            for replica in replicas[1:]:
                assert post_direct(replica, keys, SIGN, body, token).status_code == 401
            replayed = requests.post(balancer.url(SIGN), json=body, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"})
            assert replayed.status_code == 401
    finally:
        for replica in replicas:
            replica.stop()
