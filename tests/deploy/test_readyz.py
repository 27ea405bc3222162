"""`/readyz` reflects the replica's dependencies (issue 17 §3), against real ones: a Redis
URL on a closed loopback port, and a PostgreSQL database dropped under a running service.
A 503 carries an OperationOutcome naming each dependency that is down; `/healthz` (the
liveness probe) stays 200, so the orchestrator stops routing to the pod but keeps it."""

from __future__ import annotations

import psycopg
import pytest
import requests

from tests.deploy.conftest import PG_ADMIN, REDIS_URL
from tests.reliability.live import free_port, running

pytestmark = pytest.mark.integration


def issues(response: requests.Response) -> list[str]:
    assert response.status_code == 503, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert {i["severity"] for i in body["issue"]} == {"error"}
    assert {i["code"] for i in body["issue"]} == {"transient"}
    return [i["diagnostics"] for i in body["issue"]]


def test_readyz_names_an_unreachable_redis(tmp_path, pg_url: str) -> None:
    closed = free_port()  # nothing listens there: connection refused
    config = {"store": {"url": pg_url},
              "cache": {"url": f"redis://127.0.0.1:{closed}/0", "key_prefix": "cds-deploy:"}}
    with running(tmp_path / "service", config, workers=1) as service:
        assert requests.get(service.url("/healthz"), timeout=10).status_code == 200
        down = issues(requests.get(service.url("/readyz"), timeout=10))
    assert len(down) == 1 and "Redis" in down[0] and "cache" in down[0], down
    assert str(closed) not in down[0]  # names the setting, not the address


def test_readyz_follows_the_store(tmp_path, pg_url: str, redis_prefix: str) -> None:
    config = {"store": {"url": pg_url}, "cache": {"url": REDIS_URL, "key_prefix": redis_prefix}}
    with running(tmp_path / "service", config, workers=1) as service:
        ready = requests.get(service.url("/readyz"), timeout=10)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        database = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:  # the database goes away
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        down = issues(requests.get(service.url("/readyz"), timeout=10))
        assert len(down) == 1 and "store" in down[0], down
        assert requests.get(service.url("/healthz"), timeout=10).status_code == 200
