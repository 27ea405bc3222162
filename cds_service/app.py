"""The Flask application factory: settings, then resources, then blueprints."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from cds_service.caching import Caches
from cds_service.clinical.text_reader import TextReader
from cds_service.config import Settings, ensure_store_dir, load_settings
from cds_service.errors import CdsError, Issue, ServiceBusy, operation_outcome
from cds_service.fhir.client import ClientLimits, FhirClient, make_session
from cds_service.limits import check_deadline
from cds_service.logs import configure_logging, request_id
from cds_service.pipeline import Pipeline
from cds_service.resources import vocabulary_dir
from cds_service.routes import cds, guard, health, smart
from cds_service.routes import rules as rules_page
from cds_service.routes.cds import json_response
from cds_service.security import build_authenticator
from cds_service.services.card_source import issued_by
from cds_service.services.definitions import load_catalog
from cds_service.services.handlers import HANDLERS
from cds_service.store.db import make_engine, migrate
from cds_service.timeline.links import with_app_links

log = logging.getLogger("cds_service.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HTTP_ISSUE_CODES = {404: "not-found", 405: "not-supported", 408: "timeout", 413: "too-costly"}


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
    run_migrations: bool = True,
    caches: Caches | None = None,
) -> Flask:
    """Build the app. `clock` is injectable for tests; migrations run unless the
    caller (the `serve` command) already ran them once before forking workers; `caches`
    (default: sized by `[service] cache_mb`) is every cache of the hook path."""
    settings = settings or load_settings()
    configure_logging(settings.log.level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.service.max_body_bytes
    app.config["CDS_SETTINGS"] = settings

    catalog = load_catalog(settings.service.hooks_dir, known_handlers=set(HANDLERS),
                           extra_triggers=settings.service.extra_triggers)
    caches = caches or Caches.sized(settings.service.cache_mb)
    # Reading report text checks the hook call's deadline before each piece of text (a
    # long report is read in pieces): past it, the call ends with 422, not later.
    reader = TextReader.from_folder(vocabulary_dir(settings.service.hooks_dir),
                                    cache=caches.readings, checkpoint=check_deadline)
    logics = {name: factory(settings.clinical, reader, caches.derived)
              for name, factory in HANDLERS.items()}
    logics = issued_by(logics, catalog, settings.service.public_base_url,  # source, rules page
                       settings.cards.informational)
    logics = with_app_links(logics, settings.service.public_base_url)  # cards link the app
    ensure_store_dir(settings.store.url)
    engine = make_engine(settings.store.url)
    if run_migrations:
        migrate(engine)
    fhir = settings.fhir
    limits = ClientLimits(
        connect_timeout=fhir.connect_timeout,
        read_timeout=fhir.read_timeout,
        retries=fhir.retries,
        backoff_seconds=fhir.backoff_seconds,
        max_response_bytes=fhir.max_response_bytes,
        page_cap=fhir.page_cap,
        max_entries=settings.service.max_bundle_entries,
        max_depth=settings.service.max_json_depth,
    )
    client = FhirClient(make_session(fhir.parallel_queries), limits)
    executor = ThreadPoolExecutor(max_workers=fhir.parallel_queries, thread_name_prefix="fhir")
    app.extensions["cds_pipeline"] = Pipeline(
        settings, catalog, logics, client, executor, engine, clock or (lambda: datetime.now(UTC)),
        caches, reader,
    )

    app.before_request(_start_request)
    guard.init_app(app, settings, build_authenticator(settings.auth, settings.cache))
    app.after_request(_finish_request)
    app.register_error_handler(CdsError, _cds_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.register_blueprint(cds.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(rules_page.blueprint)
    app.register_blueprint(smart.blueprint)
    return app


def _start_request() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()
    request_id.set(g.request_id)


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if request.path not in ("/healthz", "/readyz"):
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url_rule.rule if request.url_rule else "(unmatched)",
                "service": _service_id(),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
            },
        )
    return response


def _cds_error(error: CdsError) -> Response:
    response = json_response(error.operation_outcome(), status=error.status)
    if isinstance(error, ServiceBusy):
        response.headers["Retry-After"] = "1"
    return response


def _service_id() -> str | None:
    """The service a request addressed: the view's, else the URL's when it names a known
    service (a refused request never reaches the view). Never a client-made string."""
    known = g.get("service_id")
    if known is not None:
        return known
    named = (request.view_args or {}).get("service_id")
    services = current_app.extensions["cds_pipeline"].catalog.services
    return named if isinstance(named, str) and named in services else None


def _http_error(error: HTTPException) -> Response:
    """Flask's own 404/405/413 as OperationOutcomes, keeping headers such as Allow."""
    status = error.code or 500
    text = error.description or error.name
    response = json_response(
        operation_outcome([Issue(HTTP_ISSUE_CODES.get(status, "processing"), text)]), status
    )
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unexpected_error(error: Exception) -> Response:
    """A bug: log the type (not the message, which may hold data) and answer 500."""
    log.error("unhandled_error", exc_info=error)
    issue = Issue("exception", "internal error; see the service log for request id "
                  + g.get("request_id", "?"))
    return json_response(operation_outcome([issue]), status=500)
