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
        self.hits: Counter[str] = Counter()
        self.auth_headers: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                outer.hits[path] += 1
                outer.auth_headers.append(self.headers.get("Authorization"))
                behaviour = outer.behaviours.get(path)
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
