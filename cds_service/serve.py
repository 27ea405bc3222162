"""Run the service under gunicorn (never Flask's development server)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from cds_service.config import Settings
from cds_service.logs import JsonFormatter, configure_logging
from cds_service.security.urls import is_loopback_host
from cds_service.store.db import make_engine, migrate

log = logging.getLogger(__name__)


class _JsonGunicornLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own lines (boot, worker exit, timeout) as JSON, like the service's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn with our options; each worker builds its own app after the fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cds_service.app import create_app
        from cds_service.clinical.text_reader import warm

        app = create_app(run_migrations=False)
        warm()  # load the NLP pipeline now, not on the first request
        return app


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
    """Migrate once in the master, then fork the workers.

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
    migrate(make_engine(settings.store.url))
    log.info("serving", extra={"port": port, "workers": workers})
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,
            "logger_class": _JsonGunicornLogger,
            "preload_app": False,
            # gunicorn 27 shares ~/.gunicorn/gunicorn.ctl between instances: not wanted.
            "control_socket_disable": True,
        }
    ).run()
    return 0
