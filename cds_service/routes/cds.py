"""CDS Hooks endpoints: discovery, invocation, feedback (CDS Hooks 2.0 §Discovery,
§Calling a CDS Service, §Feedback)."""

from __future__ import annotations

import logging
import time

import orjson
from flask import Blueprint, Response, current_app, g, request
from gunicorn.http.errors import ParseException
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from cds_service.errors import BadRequest, Issue, RequestTimeout
from cds_service.limits import Deadline, deadline_scope
from cds_service.pipeline import Pipeline, validation_issues
from cds_service.store.errors import FeedbackRefused, Unknown, UnstorableFeedback
from cds_service.store.records import record_feedback
from cds_service.wire.feedback import FeedbackRequest

log = logging.getLogger("cds_service.access")
blueprint = Blueprint("cds", __name__)
JSON_TYPES = ("application/json", "application/fhir+json")


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def pipeline() -> Pipeline:
    return current_app.extensions["cds_pipeline"]


def read_body() -> bytes:
    """The request body, or 400 for a wrong content type or a body that cannot be read.

    The body arrives through gunicorn: a malformed chunked encoding (chunk size `zz`)
    raises gunicorn's parse errors here, and a client that stops sending before its
    Content-Length hits the worker's read deadline (`[service] read_timeout`, a socket
    timeout): 400 and 408, not a 500. 413 (over max_body_bytes) comes from Flask."""
    if request.mimetype not in JSON_TYPES:
        raise BadRequest(f"Content-Type must be application/json, not {request.mimetype or 'none'}")
    try:
        return request.get_data(cache=False)
    except HTTPException as exc:
        # werkzeug turns a failed read into ClientDisconnected (400); a timeout is a 408
        if isinstance(exc.__context__, TimeoutError):
            raise RequestTimeout("the request body did not arrive within the read timeout "
                                 "([service] read_timeout)") from None
        raise  # 413, or 400 for a client gone before the end of its body
    except ParseException as exc:
        raise BadRequest(f"malformed request body framing ({type(exc).__name__})") from None
    except TimeoutError:
        raise RequestTimeout("the request body did not arrive within the read timeout "
                             "([service] read_timeout)") from None
    except OSError as exc:
        raise BadRequest(f"the request body could not be read ({type(exc).__name__})") from None


def parse_json(data: bytes) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at position {exc.pos}") from exc


@blueprint.get("/cds-services")
def discovery() -> Response:
    services = [s.discovery() for s in pipeline().catalog.services.values()]
    return json_response({"services": services})


def request_deadline() -> Deadline:
    return Deadline(pipeline().settings.service.request_deadline_seconds)


@blueprint.post("/cds-services/<service_id>")
def invoke(service_id: str) -> Response:
    """Read the body (I/O, bounded by the read timeout), then parse, decide and store
    inside a compute slot and the request deadline (cds_service.limits)."""
    started = time.perf_counter()
    runner = pipeline()
    runner.service(service_id)  # 404 before reading the body
    g.service_id = service_id
    data = read_body()
    deadline = request_deadline()
    with deadline_scope(deadline), runner.slots.held(deadline) as slot:
        outcome = runner.invoke(service_id, parse_json(data),
                                getattr(g, "allowed_fhir_servers", None), slot=slot)
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
    data = read_body()
    deadline = request_deadline()
    with deadline_scope(deadline), runner.slots.held(deadline):
        body = parse_json(data)
        try:
            parsed = FeedbackRequest.model_validate(body)
        except ValidationError as exc:
            raise BadRequest("invalid feedback", validation_issues(exc)) from exc
        new = _store_feedback(runner, service_id, parsed)
    log.info("feedback_stored", extra={"service": service_id, "count": len(parsed.feedback), "new": new})
    return json_response({"received": len(parsed.feedback), "stored": new})


def _store_feedback(runner: Pipeline, service_id: str, parsed: FeedbackRequest) -> int:
    """Store the batch; a refusal of the store is a 400 listing every bad entry."""
    try:
        return record_feedback(runner.engine, service_id, parsed.feedback, runner.clock())
    except FeedbackRefused as exc:
        raise BadRequest(str(exc), [
            Issue("not-found" if p.unknown is Unknown.CARD else "invalid", p.message, p.where)
            for p in exc.problems]) from None
    except UnstorableFeedback as exc:
        raise BadRequest(str(exc), [Issue("invalid", "a feedback value is not storable (length "
                                          "or characters); nothing was stored", "feedback")]
                         ) from None


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
