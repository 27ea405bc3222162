"""Slow clients against the live service (issue 13 §2): connections trickling header
bytes, connections announcing more body than they send, from raw sockets, while health
checks and hook calls are sent as usual. No timing is asserted: every probe must be
answered, the trickling connections must have been cut by the service and the short
bodies answered 408. The answered rate goes to the figures printed at the end."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cds_service.devtools import fixture_data as fx
from tests.reliability.figures import count
from tests.reliability.live import running

pytestmark = pytest.mark.integration
NAME, HOOK = "seed1-tmo-hip", "order-sign"
SERVICE = fx.service_for_hook(HOOK).id
WAIT_S = 30.0  # an upper bound on any wait below (a hang fails the test, it is not timed)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)
    sock.settimeout(WAIT_S)
    return sock


class SlowClients:
    """`trickling` connections sending a header byte every 0.5 s, reconnecting when cut
    (as an attacker would), and `short` connections announcing 100 bytes more body than
    they send; all run until `stop()`."""

    def __init__(self, port: int, trickling: int, short: int, body: bytes) -> None:
        self.port, self.body = port, body
        self.cut = 0  # trickling connections the service closed
        self.short_statuses: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._trickle, daemon=True) for _ in range(trickling)]
        self._threads += [threading.Thread(target=self._short, daemon=True) for _ in range(short)]
        self._lock = threading.Lock()

    def start(self) -> SlowClients:
        for thread in self._threads:
            thread.start()
        return self

    def pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT_S)

    def _trickle(self) -> None:
        while not self._stop.is_set():
            sock = _connect(self.port)
            try:
                sock.sendall(f"POST /cds-services/{SERVICE} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())
                while not self._stop.is_set():
                    sock.sendall(b"a")
                    if self._stop.wait(0.5):
                        break
            except OSError:
                with self._lock:
                    self.cut += 1
            finally:
                sock.close()

    def _short(self) -> None:
        while not self._stop.is_set():
            sock = _connect(self.port)
            try:
                head = (f"POST /cds-services/{SERVICE} HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/json\r\n"
                        f"Content-Length: {len(self.body) + 100}\r\n\r\n").encode()
                sock.sendall(head + self.body)
                answer = sock.recv(65536)  # the service answers once its read deadline passes
                with self._lock:
                    self.short_statuses.append(answer.split(b"\r\n", 1)[0].decode(errors="replace"))
                self._stop.wait(0.2)
            except OSError:
                pass
            finally:
                sock.close()


@contextmanager
def slow_clients(port: int, trickling: int, short: int, body: bytes) -> Iterator[SlowClients]:
    clients = SlowClients(port, trickling, short, body).start()
    try:
        yield clients
    finally:
        clients.stop()


def test_slow_clients_do_not_stop_the_others(tmp_path: Path) -> None:
    cfg = {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite3'}"},
           "service": {"read_timeout": 2.0}}
    body = fx.fixture_request(NAME, HOOK, datetime.now(UTC).date())  # the service's clock
    with running(tmp_path / "svc", cfg, workers=2) as service:
        with slow_clients(service.port, trickling=20, short=2,
                          body=json.dumps(body).encode()) as clients:
            answered = total = 0
            statuses: list[int] = []
            # probe until the service has cut slow connections several times over
            rounds = 0
            while rounds < 12 or not (clients.cut >= 20 and len(clients.short_statuses) >= 4):
                rounds += 1
                assert rounds < 400, (clients.cut, clients.short_statuses)
                for method, path, payload in (("get", "/healthz", None),
                                              ("post", f"/cds-services/{SERVICE}", body)):
                    total += 1
                    try:
                        response = requests.request(method, service.url(path), json=payload,
                                                    timeout=WAIT_S)
                        statuses.append(response.status_code)
                        answered += response.status_code == 200
                    except requests.RequestException:
                        statuses.append(0)
                clients.pause(0.25)
        count("slow-client probes sent", total)
        count("slow-client probes answered", answered)
        assert answered == total, statuses
        # the slow connections were cut by the service, not left to hold a thread
        assert clients.cut > 0
        assert clients.short_statuses and all(
            s.startswith("HTTP/1.1 408") for s in clients.short_statuses), clients.short_statuses
        log = service.log()
    assert "unhandled_error" not in log
