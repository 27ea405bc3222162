"""A hard deadline for FHIR reads: when it passes, the sockets still in use are shut down.

Socket timeouts bound each wait for a byte, not a read: a FHIR server that sends one byte
every 0.5 s, in its headers or its body, never trips a 10 s read timeout, and the fetch
thread stays stuck for as long as the server likes (issue 13 §3: a call ended after 13 s
with a 4 s budget, and after two such calls the worker's fetch threads were all taken).

Here every FHIR query runs inside `reaper.watching(deadline)`. The urllib3 connections of
the session made by `make_session` register with the query's watch as they send a request
and leave it when they go back to the pool; one daemon thread per process wakes at the
earliest deadline and shuts down (`shutdown(SHUT_RDWR)`) the sockets of every watch past
it. The blocked read then fails at once, the fetch thread raises FhirBudgetExceeded and
is free, and urllib3 discards the broken connection: the next call opens a fresh one.
A connection is only ever in the watch of the thread using it (it joins when it sends
and leaves before it is pooled again), so a deadline never cuts another call's socket.

Not covered: DNS resolution (getaddrinfo cannot be interrupted; only allowlisted hosts are
resolved) and the TLS handshake, which the connect timeout bounds.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Watch:
    """The connections one FHIR query is using, and its deadline."""

    __slots__ = ("active", "conns", "deadline", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conns: set[Any] = set()
        self.active = True
        self.expired = False


class Reaper:
    """Shuts down the sockets of watches whose deadline has passed (one thread)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._seq = itertools.count()
        self._local = threading.local()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.cut = 0  # sockets shut down so far (for tests and figures)

    @contextmanager
    def watching(self, deadline: float) -> Iterator[Watch]:
        """Connections this thread sends on inside the block are cut at `deadline`."""
        watch = Watch(deadline)
        with self._cond:
            self._ensure_thread()
            heapq.heappush(self._heap, (deadline, next(self._seq), watch))
            if self._heap[0][2] is watch:
                self._cond.notify()
        previous = getattr(self._local, "watch", None)
        self._local.watch = watch
        try:
            yield watch
        finally:
            self._local.watch = previous
            with self._cond:
                watch.active = False
                for conn in watch.conns:
                    if getattr(conn, "_cds_watch", None) is watch:
                        conn._cds_watch = None
                watch.conns.clear()

    def attach(self, conn: Any) -> None:
        """`conn` is about to send a request for this thread's current query."""
        watch = getattr(self._local, "watch", None)
        if watch is None:
            return
        with self._cond:
            if not watch.active:
                return
            watch.conns.add(conn)
            conn._cds_watch = watch
            if watch.expired:
                self._shut(conn)

    def detach(self, conn: Any) -> None:
        """`conn` goes back to the pool: no deadline may touch it any more."""
        if getattr(conn, "_cds_watch", None) is None:
            return
        with self._cond:
            watch = conn._cds_watch
            if watch is not None:
                watch.conns.discard(conn)
                conn._cds_watch = None

    def _ensure_thread(self) -> None:
        # Lazily, and again after a fork: gunicorn workers start without the master's threads.
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="fhir-deadline", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, _, watch = heapq.heappop(self._heap)
                    if watch.active:
                        watch.expired = True
                        for conn in list(watch.conns):
                            self._shut(conn)
                timeout = self._heap[0][0] - now if self._heap else None
                self._cond.wait(timeout)

    def _shut(self, conn: Any) -> None:
        sock = getattr(conn, "sock", None)
        if sock is None:
            return
        try:
            # socket.socket's own shutdown, also for an SSLSocket: its override would drop
            # the SSL object under the thread that is reading with it.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
            self.cut += 1
        except OSError:
            pass


reaper = Reaper()


class _WatchedConnection:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        reaper.attach(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]


class WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool:
    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            reaper.detach(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class WatchedHTTPConnectionPool(_WatchedPool, HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """requests' adapter with connection pools whose sockets a deadline can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}
