"""A recording HTTP proxy with added latency, for the S4 parallelism probe.

The test FHIR server answers one request at a time and sits on the same machine, so
whether the service sends its independent prefetch queries together cannot be seen in
wall time. Through this proxy every FHIR request waits `delay` seconds (a network hop
to an EHR) and is recorded with its start and end: the probe then reads how many were
in flight at once, and compares the service's FHIR wait with the serial sum.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class LatencyProxy:
    def __init__(self, upstream_base: str, delay: float) -> None:
        self.upstream = urlsplit(upstream_base)
        self.delay = delay
        self.records: list[tuple[float, float, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                started = time.monotonic()
                time.sleep(proxy.delay)
                conn = http.client.HTTPConnection(proxy.upstream.hostname,
                                                  proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "accept")}
                conn.request("GET", self.path, headers=headers)
                response = conn.getresponse()
                body = response.read().replace(proxy.upstream_base.encode(),
                                               proxy.base_url.encode())
                conn.close()
                self.send_response(response.status)
                self.send_header("Content-Type", response.getheader("Content-Type") or
                                 "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with proxy._lock:
                    proxy.records.append((started, time.monotonic(), self.path))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.upstream_base = upstream_base.rstrip("/")
        self.base_url = f"http://127.0.0.1:{self.port}{self.upstream.path.rstrip('/')}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def take(self) -> list[tuple[float, float, str]]:
        with self._lock:
            out, self.records = self.records, []
        return out


def max_in_flight(records: list[tuple[float, float, str]]) -> int:
    events = sorted([(s, 1) for s, _, _ in records] + [(e, -1) for _, e, _ in records])
    best = now = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best
