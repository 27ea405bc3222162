"""Workers are replaced after `[service] worker_max_requests` (docs/limits.md "Memory":
spaCy keeps every word it meets): the service answers every call across the
replacements, and a new worker takes over (it logs its boot)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from cds_service.serve import recycling
from tests.reliability.live import running

pytestmark = pytest.mark.integration
WAIT_S = 30.0  # an upper bound on any wait (a hang fails the test, it is not timed)


def test_recycling_options() -> None:
    assert recycling(20_000) == {"max_requests": 20_000, "max_requests_jitter": 2_000}
    assert recycling(0) == {"max_requests": 0, "max_requests_jitter": 0}  # gunicorn: never


def test_every_call_answered_while_workers_are_replaced(tmp_path: Path) -> None:
    with running(tmp_path, {"service": {"worker_max_requests": 4}}, workers=1) as service:
        statuses = []
        for _ in range(16):
            with requests.Session() as session:  # a new connection each time
                statuses.append(session.get(service.url("/cds-services"), timeout=WAIT_S)
                                .status_code)
        log = service.log()
    assert statuses == [200] * 16
    assert log.count("Autorestarting worker") >= 2
    assert log.count("Booting worker") >= 3
