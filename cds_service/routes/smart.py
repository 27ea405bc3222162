"""The evidence timeline SMART app: its pages, its bundle, and POST /timeline.

The pages hold no patient data: they run the SMART launch in the browser (fhirclient)
and then post the app's FHIR server and access token to /timeline, which reads the
patient's data with the hook services' queries and answers the same assessment as JSON.
Nothing is stored; the token is used for this request's FHIR calls only, never logged.
"""

from __future__ import annotations

import logging
import re
import time
from html import escape
from typing import Literal

from flask import Blueprint, Response, request, send_from_directory
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cds_service.clinical.assessment import assess
from cds_service.clinical.extract import collect_facts
from cds_service.clinical.migration import find_migration
from cds_service.errors import (
    BadRequest,
    Forbidden,
    Issue,
    NotFound,
    PreconditionFailed,
    Unauthorized,
)
from cds_service.fhir.caches import ModelCache
from cds_service.fhir.record import build_record
from cds_service.pipeline import validation_issues
from cds_service.resources import smart_static_dir
from cds_service.routes.cds import JSON_TYPES, json_response, pipeline
from cds_service.security import url_allowed
from cds_service.services.core_decompression import keep_for_order
from cds_service.timeline.build import timeline_json
from cds_service.timeline.fetch import fetch_patient
from cds_service.wire.request import FHIR_ID

log = logging.getLogger("cds_service.access")
blueprint = Blueprint("smart", __name__)
STATIC = smart_static_dir()  # package data, found through the package's resources
BEARER = re.compile(r"^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$", re.IGNORECASE)


class TimelineRequest(BaseModel):
    """What the app posts: its FHIR base (`iss`), the patient in context, and the side
    from the card's appContext when there was one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fhirServer: str = Field(min_length=1, max_length=2000)
    patient: str = Field(pattern=FHIR_ID.pattern)
    side: Literal["left", "right", "bilateral"] | None = None


def _page(name: str) -> Response:
    """An app page with the SMART client settings filled in and a CSP that lets the
    browser reach the EHR (its FHIR server and authorization server) and this service."""
    settings = pipeline().settings
    html = (STATIC / name).read_text(encoding="utf-8")
    html = html.replace("__CLIENT_ID__", escape(settings.smart.client_id)).replace(
        "__SCOPE__", escape(settings.smart.scope))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = content_policy(settings.service.profile)
    response.headers["X-Frame-Options"] = "DENY"
    return response


def content_policy(profile: str) -> str:
    """Scripts and styles from this service only; connections to https (the EHR's
    endpoints are known only at launch), plus loopback http outside production."""
    connect = "'self' https:" + ("" if profile == "production" else
                                 " http://127.0.0.1:* http://localhost:*")
    return ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data:; connect-src {connect}; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


@blueprint.get("/smart/launch")
def launch() -> Response:
    """The link the cards carry: the EHR opens it with `iss` and `launch`."""
    return _page("launch.html")


@blueprint.get("/smart/app")
def app_page() -> Response:
    """The redirect_uri: fhirclient completes the code exchange here, then draws."""
    return _page("app.html")


@blueprint.get("/smart/assets/<path:name>")
def asset(name: str) -> Response:
    """The bundled scripts and styles (built from web/, committed; no CDN)."""
    response = send_from_directory(STATIC / "assets", name, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


def bearer_token() -> str:
    match = BEARER.match(request.headers.get("Authorization", ""))
    if match is None:
        raise Unauthorized("an access token is required (Authorization: Bearer <token>)",
                           [Issue("login", "missing or malformed bearer token")])
    return match.group(1)


def parse_request() -> TimelineRequest:
    """The JSON body as a TimelineRequest, or 400 saying what is wrong."""
    if request.mimetype not in JSON_TYPES:
        raise BadRequest(f"Content-Type must be application/json, not {request.mimetype or 'none'}")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("malformed JSON")
    try:
        return TimelineRequest.model_validate(body)
    except ValidationError as exc:
        raise BadRequest("invalid timeline request", validation_issues(exc)) from exc


def check_server(url: str) -> None:
    """The fhirServer allowlist, as for hook calls: 403 before any connection."""
    settings = pipeline().settings
    if not url_allowed(url, settings.fhir.allowed_servers):
        raise Forbidden("fhirServer is not on this service's allowlist",
                        [Issue("forbidden", f"fhirServer {url} is not allowed", "fhirServer")])
    if settings.service.profile == "production" and not url.startswith("https://"):
        raise Forbidden("fhirServer must use https in production",
                        [Issue("forbidden", "fhirServer must use https", "fhirServer")])


@blueprint.post("/timeline")
def timeline() -> Response:
    """The patient's timeline and assessment, read now with the caller's token."""
    started = time.perf_counter()
    runner = pipeline()
    token = bearer_token()
    body = parse_request()
    check_server(body.fhirServer)
    settings = runner.settings
    data, optional = fetch_patient(
        runner.catalog, runner.client, runner.executor, body.fhirServer.rstrip("/"),
        body.patient, token, settings.fhir.budget_seconds, settings.fhir.page_size)
    if data.denied:
        raise Unauthorized("the FHIR server refused the access token",
                           [Issue("login", "the FHIR server refused the access token")])
    fatal = {k: why for k, why in data.failures.items() if k not in optional}
    if fatal:
        raise PreconditionFailed(
            "data the timeline needs could not be obtained: " + ", ".join(sorted(fatal)),
            [Issue("incomplete", f"{key}: {why}") for key, why in sorted(fatal.items())])
    # a private model cache: this request's parsed resources are not kept for others
    record = build_record((p for p in data.payloads.values() if p is not None),
                          keep_for_order, cache=ModelCache())
    if record.patient is None:
        raise NotFound("the FHIR server has no such Patient")
    thresholds = settings.clinical
    now = runner.clock()
    facts = collect_facts(record, now, thresholds, runner.reader)
    result = timeline_json(
        facts, record, assess(facts, thresholds, body.side),
        find_migration(facts.episodes, now, thresholds.migration_window_days), thresholds)
    log.info("timeline_built", extra={  # logs.SAFE_FIELDS only: counts, the outcome, time
        "count": len(result["marks"]), "topics": [result["assessment"]["outcome"]],
        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return json_response(result)
