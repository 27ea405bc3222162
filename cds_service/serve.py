"""Run the service under gunicorn (never Flask's development server)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from cds_service import http_worker
from cds_service.config import Settings
from cds_service.logs import JsonFormatter, configure_logging
from cds_service.migrate_cli import schema_problem
from cds_service.preload import freeze_before_fork, preload
from cds_service.security.urls import is_loopback_host
from cds_service.store.db import make_engine, migrate

log = logging.getLogger(__name__)


class _NoClientText(logging.Filter):
    """gunicorn writes the client's invalid request line into its message ("Invalid request
    from ip=...: Invalid HTTP request line: '...'"), formatted before logging: that line
    becomes a fixed event. The JSON formatter writes only a message's template, never its
    arguments; the few messages gunicorn formats itself are capped in length."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        if not isinstance(msg, str):  # an exception object as the message: its type only
            record.msg, record.args = type(msg).__name__, ()
        elif msg.startswith("Invalid request from ip="):
            record.msg, record.args = "invalid_request", ()
        elif len(msg) > 200:
            record.msg = msg[:200]
        return True


class _JsonGunicornLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own lines (boot, worker exit, timeout) as JSON, like the service's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        self.error_log.addFilter(_NoClientText())


# The production gunicorn settings (bench/floor_server.py runs its floor with these too).
# gthread: `threads` threads per worker read requests (each within the read deadline of
# cds_service.http_worker) and keep-alive connections wait in the worker's poller, so slow
# clients do not stop the others; `[service] concurrent_hook_calls` bounds the CPU work.
GUNICORN_OPTIONS: dict[str, Any] = {
    "worker_class": "cds_service.http_worker.DeadlineThreadWorker",
    "threads": 32,
    "worker_connections": 1000,  # open connections per worker, kept-alive ones included
    "timeout": 30,  # the worker's heartbeat (its main loop), not a request's
    "graceful_timeout": 10,
    "keepalive": 5,  # idle keep-alive seconds; a proxy in front must close first (4 s)
    "accesslog": None,
    # The master preloads what never changes (cds_service.preload: NLP, FHIR model
    # classes), shared copy-on-write; each worker builds its app (engine, FHIR session,
    # thread pools) after the fork, so no connection or thread crosses it.
    "preload_app": False,
    "pre_fork": freeze_before_fork,
    # gunicorn 27 shares ~/.gunicorn/gunicorn.ctl between instances: not wanted.
    "control_socket_disable": True,
}


def recycling(max_requests: int) -> dict[str, int]:
    """gunicorn's worker recycling: after about `max_requests` requests a worker finishes
    the one in hand and is replaced by a fresh fork of the preloaded master (instant:
    nothing to load). The jitter (a tenth) keeps the workers from leaving together."""
    return {"max_requests": max_requests, "max_requests_jitter": max_requests // 10}


class GunicornApp(BaseApplication):  # type: ignore[misc]
    """gunicorn with the given options, running the WSGI app that `load_app` builds."""

    def __init__(self, options: dict[str, Any], load_app: Callable[[], Any]) -> None:
        self.options = options
        self.load_app = load_app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.load_app()


def _worker_app() -> Any:
    from cds_service.app import create_app

    app = create_app(run_migrations=False)
    app.extensions["cds_pipeline"].reader.warm()  # the NLP pipeline now, not on a request
    return app


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
    """Migrate and preload (cds_service.preload) once in the master, then fork the workers.

    Listening beyond loopback exposes patient data to the network: refuse to start
    without JWT authentication there (CDS Hooks 2.0 §Trusting CDS Clients). Refuse, too,
    several workers whose jti replay memory would not be shared (no [cache] url).
    """
    configure_logging(settings.log.level)
    if not is_loopback_host(host) and not settings.auth.required:
        log.error("auth_required_beyond_loopback", extra={"port": port})
        print(f"cds-service: refusing to listen on {host} without [auth] required = true "
              "and at least one [[auth.issuers]]", file=sys.stderr)
        return 2
    if settings.auth.issuers and settings.cache.url is None and workers > 1:
        # In-process jti memory is per worker: a token replayed to another worker passes.
        log.error("replay_memory_not_shared", extra={"workers": workers})
        print("cds-service: JWT replay protection needs one memory for all workers: set "
              "[cache] url (Redis) or use --workers 1", file=sys.stderr)
        return 2
    engine = make_engine(settings.store.url)
    if settings.store.migrate_on_start:
        migrate(engine)
    elif (problem := schema_problem(engine)) is not None:  # `cds-service migrate` not run
        log.error("schema_not_current")
        print(f"cds-service: {problem}", file=sys.stderr)
        return 2
    engine.dispose()  # the workers make their own after the fork
    preload(settings)  # NLP and model classes, once, shared by the workers
    log.info("serving", extra={"port": port, "workers": workers})
    http_worker.configure(settings.service.read_timeout)
    options = {"bind": f"{host}:{port}", "workers": workers,
               "logger_class": _JsonGunicornLogger, **GUNICORN_OPTIONS,
               "threads": settings.service.threads, **recycling(settings.service.worker_max_requests)}
    GunicornApp(options, _worker_app).run()
    return 0
