"""Real loopback HTTP servers for the browser tests: a WSGI app served by werkzeug in a
thread, started on a free port and stopped at the end of the block."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server

WsgiApp = Callable[..., Any]


@contextmanager
def serving(make_app: Callable[[str], WsgiApp]) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) of `make_app(base)`, served threaded.
    The app is made once the port is known, so it can name its own public URL."""
    holder: dict[str, WsgiApp] = {}

    def dispatch(environ: dict, start_response: Callable) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = make_app(base)
    thread = threading.Thread(target=server.serve_forever, name=f"serve-{server.server_port}",
                              daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
