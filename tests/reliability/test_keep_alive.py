"""HTTP/1.1 keep-alive end to end (issue 16 §3): `cds-service serve` (gunicorn gthread)
answers several requests on one TCP connection, a refused one included, each with a
Content-Length and without `Connection: close`, so an EHR pays one handshake (and, behind
a TLS proxy, one TLS session) per connection rather than per hook call."""

from __future__ import annotations

import http.client
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cds_service.devtools import fixture_data as fx
from tests.reliability.live import running

pytestmark = pytest.mark.integration
NAME, HOOK = "seed1-tmo-hip", "order-sign"
SERVICE = fx.service_for_hook(HOOK).id
WAIT_S = 30.0  # an upper bound on any wait (a hang fails the test, it is not timed)


def _hook_body() -> bytes:
    request = fx.fixture_request(NAME, HOOK, datetime.now(UTC).date())
    request["hookInstance"] = str(uuid.uuid4())
    return json.dumps(request).encode()


def test_one_connection_serves_several_requests(tmp_path: Path) -> None:
    calls = [
        ("POST", f"/cds-services/{SERVICE}", _hook_body(), 200),
        ("POST", f"/cds-services/{SERVICE}", b'{"hook": ', 400),  # malformed JSON
        ("GET", "/cds-services", None, 200),
        ("POST", f"/cds-services/{SERVICE}", _hook_body(), 200),
    ]
    with running(tmp_path, {"service": {}}, workers=2) as service:
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=WAIT_S)
        conn.auto_open = 0  # a connection the server closed is not silently reopened
        conn.connect()
        local = conn.sock.getsockname()
        try:
            for method, path, body, status in calls:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                assert response.status == status, payload[:300]
                assert response.getheader("Content-Length") == str(len(payload))
                assert (response.getheader("Connection") or "").lower() != "close"
                assert not response.will_close
                # the same TCP connection: never closed, never replaced
                assert conn.sock is not None and conn.sock.getsockname() == local
        finally:
            conn.close()
        # the master forked its workers with no thread of its own (cds_service/preload.py)
        assert not [e for e in service.log_entries() if e.get("event") == "threads_before_fork"]
