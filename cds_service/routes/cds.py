"""CDS Hooks endpoints: discovery, invocation, feedback (CDS Hooks 2.0 §Discovery,
§Calling a CDS Service, §Feedback)."""

from __future__ import annotations

import logging
import time

import orjson
from flask import Blueprint, Response, current_app, g, request
from pydantic import ValidationError

from cds_service.errors import BadRequest
from cds_service.pipeline import Pipeline, validation_issues
from cds_service.store.records import record_feedback
from cds_service.wire.feedback import FeedbackRequest

log = logging.getLogger("cds_service.access")
blueprint = Blueprint("cds", __name__)
JSON_TYPES = ("application/json", "application/fhir+json")


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def pipeline() -> Pipeline:
    return current_app.extensions["cds_pipeline"]


def read_json_body() -> object:
    """The request body as JSON, or 400 for a wrong content type or malformed JSON."""
    if request.mimetype not in JSON_TYPES:
        raise BadRequest(f"Content-Type must be application/json, not {request.mimetype or 'none'}")
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at position {exc.pos}") from exc


@blueprint.get("/cds-services")
def discovery() -> Response:
    services = [s.discovery() for s in pipeline().catalog.services.values()]
    return json_response({"services": services})


@blueprint.post("/cds-services/<service_id>")
def invoke(service_id: str) -> Response:
    started = time.perf_counter()
    runner = pipeline()
    runner.service(service_id)  # 404 before reading the body
    g.service_id = service_id
    outcome = runner.invoke(service_id, read_json_body(), getattr(g, "allowed_fhir_servers", None))
    log.info(
        "hook_invoked",
        extra={
            "service": service_id,
            "hook": outcome.hook,
            "cards": len(outcome.cards),
            "topics": [c.card.topic_code for c in outcome.cards],
            "fhir_ms": round(outcome.fhir_seconds * 1000, 1),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return json_response(outcome.body)


@blueprint.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    runner = pipeline()
    runner.service(service_id)
    g.service_id = service_id
    body = read_json_body()
    try:
        parsed = FeedbackRequest.model_validate(body)
    except ValidationError as exc:
        raise BadRequest("invalid feedback", validation_issues(exc)) from exc
    new = record_feedback(runner.engine, service_id, parsed.feedback)
    log.info("feedback_stored", extra={"service": service_id, "count": len(parsed.feedback), "new": new})
    return json_response({"received": len(parsed.feedback), "stored": new})


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """OpenAPI description of this service (built once per worker)."""
    from cds_service.openapi import build_openapi

    cached = current_app.extensions.get("cds_openapi")
    if cached is None:
        runner = pipeline()
        cached = build_openapi(runner.catalog, runner.settings.service.public_base_url)
        current_app.extensions["cds_openapi"] = cached
    return json_response(cached)
