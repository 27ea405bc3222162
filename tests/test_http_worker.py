"""The gunicorn worker's client sockets (cds_service/http_worker.py, issue 13 §2): one
read deadline per request, however the bytes trickle in; and the gunicorn log filter
that keeps the client's request line out of the log (§6). The live versions are in
tests/reliability/test_slow_clients.py and test_hostile_inputs.py."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from cds_service.http_worker import DeadlineSocket
from cds_service.serve import _NoClientText


def test_gunicorns_invalid_request_line_is_not_logged() -> None:
    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1,
                               "Invalid request from ip=127.0.0.1: Invalid HTTP request line: "
                               "'GET /Jane-Sample HTTP/1.1 x'", None, None)
    assert _NoClientText().filter(record) and record.getMessage() == "invalid_request"


def test_a_client_socket_read_ends_at_its_deadline() -> None:
    """The worker's client sockets (http_worker.DeadlineSocket): bytes trickling in, one
    every 0.1 s, do not keep a request's read alive past its deadline."""
    ours, theirs = socket.socketpair()
    sock = DeadlineSocket.adopt(ours)
    sock.read_seconds = 0.5
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.1):
            try:
                theirs.send(b"a")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        sock.setblocking(True)  # gthread does this as it starts on a request: arms the deadline
        received = b""
        with pytest.raises(TimeoutError):
            for _ in range(10_000):
                received += sock.recv(1)
        assert received  # it did read while the deadline lasted
        sock.setblocking(False)  # back to the poller: disarmed
        sock.setblocking(True)  # the next request gets a fresh deadline
        assert sock.recv(1) == b"a"
    finally:
        stop.set()
        sender.join(5)
        sock.close()
        theirs.close()


def test_closing_drains_what_has_arrived_without_waiting() -> None:
    """gunicorn's graceful close (half-close, then drain) runs in the worker's main thread:
    with a peer that keeps the connection open, the drain must not wait for more bytes."""
    from gunicorn.util import close_graceful

    ours, theirs = socket.socketpair()
    sock = DeadlineSocket.adopt(ours)
    theirs.sendall(b"left over")
    sock.setblocking(True)
    read = []
    original = DeadlineSocket.recv

    def recording(self, bufsize, flags=0):  # type: ignore[no-untyped-def]
        try:
            data = original(self, bufsize, flags)
        except OSError as exc:
            read.append(type(exc))
            raise
        read.append(data)
        return data

    DeadlineSocket.recv = recording  # type: ignore[method-assign]
    try:
        close_graceful(sock, timeout=60.0)  # returns without waiting for the silent peer
    finally:
        DeadlineSocket.recv = original  # type: ignore[method-assign]
        theirs.close()
    # the left-over bytes, then "nothing more now" at once (a wait would be a TimeoutError)
    assert read == [b"left over", BlockingIOError] and sock.fileno() == -1
