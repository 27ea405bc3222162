"""Liveness and readiness for orchestrators and the Docker HEALTHCHECK.

`/healthz` says the process answers. `/readyz` says a replica can do its work: the store
answers a query (feedback would otherwise be lost) and, when `[cache] url` is set, Redis
answers PING (JWT replay memory fails closed without it: every authenticated call would
get 503). A 503 carries an OperationOutcome with one issue per dependency that is down.
"""

from __future__ import annotations

import threading

import redis
from flask import Blueprint, Flask, Response, current_app

from cds_service.errors import Issue, operation_outcome
from cds_service.routes.cds import json_response
from cds_service.security.replay import redis_client
from cds_service.store.db import reachable

blueprint = Blueprint("health", __name__)
_client_lock = threading.Lock()


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process answers: nothing else is checked."""
    return json_response({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """200 when every configured dependency answers, else 503 naming those that do not."""
    down = []
    if not reachable(current_app.extensions["cds_pipeline"].engine):
        down.append(Issue("transient", "store unreachable ([store] url)"))
    if not _cache_reachable(current_app):
        down.append(Issue("transient", "cache unreachable: Redis ([cache] url)"))
    if down:
        return json_response(operation_outcome(down), status=503)
    return json_response({"status": "ready"})


def _cache_reachable(app: Flask) -> bool:
    """True without `[cache] url`; else whether Redis answers PING (0.5 s timeouts)."""
    cache = app.config["CDS_SETTINGS"].cache
    if cache.url is None:
        return True
    client = app.extensions.get("cds_readyz_redis")
    if client is None:
        with _client_lock:
            client = app.extensions.setdefault("cds_readyz_redis", redis_client(cache))
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
