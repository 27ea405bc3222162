"""A real HTTP server on loopback that misbehaves on purpose, for FHIR-client fault
tests. Behaviour is chosen by path; every request is counted per path."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Behaviour = Callable[[BaseHTTPRequestHandler, int], None]


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes | dict,
         headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    handler.send_response(status)
    handler.send_header("Content-Type", "application/fhir+json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


class FaultyServer:
    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        self.default: Behaviour | None = None  # for paths without a behaviour (else 404)
        self.hits: Counter[str] = Counter()
        self.auth_headers: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                outer.hits[path] += 1
                outer.auth_headers.append(self.headers.get("Authorization"))
                behaviour = outer.behaviours.get(path) or outer.default
                if behaviour is None:
                    send(self, 404, {"resourceType": "OperationOutcome", "issue": []})
                else:
                    behaviour(self, outer.hits[path])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/fhir"

    def total_hits(self) -> int:
        return sum(self.hits.values())


@contextmanager
def faulty_server() -> Iterator[FaultyServer]:
    server = FaultyServer()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def sleeper(seconds: float) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler, _hit: int) -> None:
        time.sleep(seconds)
        try:
            send(handler, 200, {"resourceType": "Patient", "id": "late"})
        except OSError:
            pass
    return behave


class Trickle:
    """A FHIR server that sends one byte every `interval` seconds, for up to `seconds`:
    in its headers (`in_headers=True`) or in a body announced with a large Content-Length.
    Records, per connection, whether the client hung up before the trickle ended (a
    client with a real deadline does; a thread stuck in a read does not)."""

    def __init__(self, interval: float = 0.5, seconds: float = 60.0,
                 in_headers: bool = False) -> None:
        self.interval, self.seconds, self.in_headers = interval, seconds, in_headers
        self.started = 0
        self.hung_up = 0
        self.finished = 0  # trickles that ran to their end: the client never let go
        self._lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler, _hit: int) -> None:
        with self._lock:
            self.started += 1
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
        if self.in_headers:
            payload = b"X-Slow: " + b"a" * 100_000
        else:
            handler.wfile.write(head + b"Content-Length: 100000\r\n\r\n")
            handler.wfile.flush()
            payload = b" " * 100_000
        if self.in_headers:
            handler.wfile.write(head)
            handler.wfile.flush()
        deadline = time.monotonic() + self.seconds
        try:
            for byte in payload:
                if time.monotonic() > deadline:
                    with self._lock:
                        self.finished += 1
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(self.interval)
        except OSError:
            with self._lock:
                self.hung_up += 1
        finally:
            handler.close_connection = True

    def open(self) -> int:
        with self._lock:
            return self.started - self.hung_up - self.finished


def serving(resources: list[dict]) -> Behaviour:
    """Answers reads and searches from `resources` (fixture_data.local_search)."""
    from cds_service.devtools.fixture_data import local_search

    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}

    def behave(handler: BaseHTTPRequestHandler, _hit: int) -> None:
        query = handler.path.split("/fhir/", 1)[1]
        found = local_search(bundle, query)
        if found is None:
            send(handler, 404, {"resourceType": "OperationOutcome", "issue": []})
        else:
            send(handler, 200, found)
    return behave
