"""Liveness and readiness for orchestrators and the Docker HEALTHCHECK."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from cds_service.routes.cds import json_response
from cds_service.store.db import reachable

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process answers: nothing else is checked."""
    return json_response({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    """Ready when the store answers a query (feedback would otherwise be lost)."""
    if reachable(current_app.extensions["cds_pipeline"].engine):
        return json_response({"status": "ready"})
    return json_response({"status": "store unreachable"}, status=503)
