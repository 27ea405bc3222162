"""The gunicorn worker: gthread, with a deadline on reading each request.

gthread (gunicorn's threaded worker) keeps idle keep-alive connections in its poller and
hands a connection to one of `threads` threads when bytes arrive. The thread then reads
the request with blocking reads and no timeout: a client that trickles header bytes, or
announces a longer body than it sends, holds that thread for as long as it likes (issue
13 §2: twenty such connections left a sync-worker service answering nobody).

`DeadlineThreadWorker` changes one thing: each client socket is a `DeadlineSocket`,
whose reads of one request share a deadline (`read_seconds`, `[service] read_timeout`)
armed when gthread starts on the request (it switches the socket to blocking then). Each
recv() waits at most what is left; past it, recv() raises TimeoutError: while the headers
are read gthread closes the connection, while the application reads the body the route
answers 408 (routes/cds.py). A send waits at most `send_seconds`. The rest of gthread
(keep-alive, the poller, graceful shutdown, worker_connections) is unchanged.

Closing a connection, gthread drains it for up to 2 s in the worker's main thread (the
one that accepts and dispatches); a DeadlineSocket drains only what has already arrived,
so a client trickling bytes as it is closed cannot stall the worker.

A slow client thus holds one thread for at most `read_seconds`; with `threads` threads
per worker, other clients keep being answered unless more than `threads x workers` slow
connections arrive at once. Against that, and for TLS, run the service behind a
buffering reverse proxy (docs/deployment.md): it reads whole requests before passing
them on, so slow clients never reach gunicorn.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class DeadlineSocket(socket.socket):
    """A client connection whose reads of one request share one deadline."""

    read_seconds = 10.0
    send_seconds = 10.0
    _deadline: float | None = None
    _asked: float | None = None  # a timeout gunicorn set itself (drains, graceful close)
    _closing = False

    @classmethod
    def adopt(cls, sock: socket.socket) -> DeadlineSocket:
        """The same connection (file descriptor) as a DeadlineSocket; `sock` is detached."""
        blocking = sock.getblocking()
        new = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        socket.socket.setblocking(new, blocking)
        return new

    def setblocking(self, flag: bool) -> None:
        # gthread makes the socket blocking as a thread starts on a request and
        # non-blocking when it goes back to the poller: arm and disarm the deadline there.
        super().setblocking(flag)
        self._deadline = time.monotonic() + self.read_seconds if flag else None
        self._asked = None

    def settimeout(self, value: float | None) -> None:
        super().settimeout(value)
        self._asked = value

    def shutdown(self, how: int) -> None:
        super().shutdown(how)
        if how == socket.SHUT_WR:
            self._closing = True

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self._closing:
            # gunicorn's graceful close (util.close_graceful) half-closes, then drains for up
            # to 2 s in the worker's main thread, the one that accepts and dispatches: a
            # client trickling bytes after its answer stalled every other connection of the
            # worker. Drain what has arrived, never wait (BlockingIOError ends the drain).
            super().settimeout(0.0)
            return super().recv(bufsize, flags)
        if self._deadline is not None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("request not received within the read timeout")
            if self._asked is not None:
                remaining = min(remaining, self._asked)
            super().settimeout(remaining)
        return super().recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self._deadline is not None:
            super().settimeout(self.send_seconds)
        super().sendall(data, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        if self._deadline is not None:
            super().settimeout(self.send_seconds)
        return super().send(data, flags)


class DeadlineThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread whose client sockets are DeadlineSockets."""

    def enqueue_req(self, conn: Any) -> None:
        if not isinstance(conn.sock, DeadlineSocket) and conn.parser is None:
            conn.sock = DeadlineSocket.adopt(conn.sock)
        super().enqueue_req(conn)


def configure(read_seconds: float, send_seconds: float | None = None) -> None:
    """Set the deadlines (in the gunicorn master: the workers it forks inherit them)."""
    DeadlineSocket.read_seconds = read_seconds
    DeadlineSocket.send_seconds = send_seconds if send_seconds is not None else read_seconds
