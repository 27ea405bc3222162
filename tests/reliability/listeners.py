"""Loopback HTTP listeners that record every accepted connection (SSRF probes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingServer(ThreadingHTTPServer):
    """Counts accepted connections and requested paths; answers every GET with a fixed
    status and headers (e.g. a 302 to somewhere else)."""

    daemon_threads = True

    def __init__(self, status: int = 404, headers: dict[str, str] | None = None) -> None:
        self.status, self.extra_headers = status, headers or {}
        self.connections = 0
        self.paths: list[str] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}/fhir"

    @property
    def port(self) -> int:
        return self.server_address[1]

    def verify_request(self, request, client_address) -> bool:  # type: ignore[no-untyped-def]
        with self._lock:
            self.connections += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    server: RecordingServer

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.server.paths.append(self.path)
        body = b'{"resourceType": "OperationOutcome", "issue": []}'
        self.send_response(self.server.status)
        headers = {"Content-Type": "application/fhir+json", **self.server.extra_headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass


@contextmanager
def recording_server(status: int = 404,
                     headers: dict[str, str] | None = None) -> Iterator[RecordingServer]:
    server = RecordingServer(status, headers)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
